"""An attestation `dcr-harness run --attest` wrote, checked by code nobody on the project wrote:
securesystemslib's DSSE envelope (the pre-authentication encoding and the signature, through
pyca/cryptography) with the key of the certificate beside it, and in-toto-attestation's
Statement v1 (its schema and validate()). The certificate chain is openssl's to check.

usage: attest_verify.py ENVELOPE.json LEAF_OUT.pem INTERMEDIATES_OUT.pem
prints the Statement's predicateType and subject names, one per line; exits non-zero with the
library's error when the envelope does not verify.
"""
import base64
import copy
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

envelope_path, leaf_out, intermediates_out = sys.argv[1:4]
document = json.load(open(envelope_path))
chain = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"])) for c in document["x509CertificateChain"]["certificates"]]
pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)
open(leaf_out, "wb").write(pem(chain[0]))
open(intermediates_out, "wb").write(b"".join(pem(c) for c in chain[1:]))

public = chain[0].public_key()
if isinstance(public, rsa.RSAPublicKey):
    scheme = "rsa-pkcs1v15-sha256"
elif isinstance(public, ec.EllipticCurvePublicKey):
    scheme = "ecdsa-sha2-nistp256"
else:
    sys.exit(f"unsupported key {public!r}")
envelope = Envelope.from_dict(copy.deepcopy(document))
assert envelope.payload_type == "application/vnd.in-toto+json", envelope.payload_type
keys = [SSlibKey.from_crypto(public, keyid=keyid, scheme=scheme) for keyid in envelope.signatures]
envelope.verify(keys, 1)
statement = Statement.copy_from_pb(json_format.ParseDict(json.loads(envelope.payload), statement_pb2.Statement()))
statement.validate()
body = json.loads(envelope.payload)
print(body["predicateType"])
for subject in body["subject"]:
    print(subject["name"])
