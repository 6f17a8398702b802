"""pyca/cryptography against the test QTSP's OCSP responder and CRL, served by dcr-harness.

    python revocation.py check PKI_DIR QTSP_URL NAME...
        For each identity NAME: reads the OCSP URL and CRL distribution point its certificate
        names; asks the responder at QTSP_URL with a request cryptography builds (SHA-1 CertID);
        checks the response is successful and signed by the issuing CA's key; reads the CRL at
        QTSP_URL/issuing-ca.crl, checks its signature with that key and whether it lists NAME.
        Prints one JSON object: NAME -> "<ocsp url> <crl url or none>: ocsp <STATUS>, crl <listed
        or not listed>".
"""
import json
import pathlib
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID


def leaf(path):
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


def urls(cert):
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ocsp_url = next(d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP)
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl_url = points[0].full_name[0].value
    except x509.ExtensionNotFound:
        crl_url = "none"
    return ocsp_url, crl_url


def check(pki, qtsp, names):
    issuer = leaf(pki / "issuing-ca.pem")
    key = issuer.public_key()
    with urllib.request.urlopen(f"{qtsp}/issuing-ca.crl", timeout=5) as reply:
        crl = x509.load_der_x509_crl(reply.read())
    if not crl.is_signature_valid(key):
        sys.exit("the CRL's signature is not the issuing CA's")
    verdicts = {}
    for name in names:
        cert = leaf(pki / f"{name}.pem")
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
        post = urllib.request.Request(
            f"{qtsp}/",
            data=request.public_bytes(Encoding.DER),
            headers={"Content-Type": "application/ocsp-request"},
        )
        with urllib.request.urlopen(post, timeout=5) as reply:
            response = ocsp.load_der_ocsp_response(reply.read())
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            sys.exit(f"{name}: {response.response_status}")
        key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), response.signature_hash_algorithm)
        if response.serial_number != cert.serial_number:
            sys.exit(f"{name}: the response is about another certificate")
        listed = crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
        ocsp_url, crl_url = urls(cert)
        verdicts[name] = f"{ocsp_url} {crl_url}: ocsp {response.certificate_status.name}, crl {'listed' if listed else 'not listed'}"
    print(json.dumps(verdicts))


if __name__ == "__main__":
    command, pki, qtsp = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    if command == "check":
        check(pki, qtsp, sys.argv[4:])
    else:
        sys.exit(f"unknown command {command}")
