"""pyauth's http-message-signatures (RFC 9421) against a dcr-harness test PKI, both ways.

    python message_signatures.py verify PKI_DIR < {name: {method, url, headers, body, tag}}
        Verifies each request's RFC 9421 signature as a server would: the key of TPP A's QSEAL
        certificate (qseal.pem), the algorithm the request's `alg` names (rsa-pss-sha512 when it
        names none), created within five minutes, the tag when one is given, @method and
        @target-uri covered, and the body's Content-Digest. `headers` is a list of [name, value]
        field lines, `body` base64. Prints name -> "ok <covered components>" or
        "refused: <exception class>".
    python message_signatures.py sign PKI_DIR URL KEYID < body
        Signs a POST of the body to URL with TPP A's QSEAL key: rsa-pss-sha512, label sig1,
        @method, @target-uri and a Content-Digest the library computes, tag fapi-2-request,
        keyid KEYID. Prints the field lines it added as JSON [[name, value], ...].
"""
import base64
import datetime
import json
import pathlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, InvalidSignature
from http_message_signatures import HTTPMessageSignaturesException
from http_message_signatures.algorithms import RSA_PSS_SHA512, RSA_V1_5_SHA256


class Headers:
    """Field lines in order, as the library's resolver reads and the signer writes them."""

    def __init__(self, lines):
        self.lines = [(n, v) for n, v in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(n for n, _ in self.lines))

    def __contains__(self, name):
        return any(n.lower() == name.lower() for n, _ in self.lines)

    def __getitem__(self, name):
        values = [v for n, v in self.lines if n.lower() == name.lower()]
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name, value):
        del self[name]
        self.lines.append((name, value))

    def __delitem__(self, name):
        self.lines = [(n, v) for n, v in self.lines if n.lower() != name.lower()]


class Request:
    def __init__(self, method, url, lines):
        self.method = method
        self.url = url
        self.headers = Headers(lines)


class Keys:
    def __init__(self, pki):
        self.public = x509.load_pem_x509_certificate((pki / "qseal.pem").read_bytes()).public_key()
        self.private = load_pem_private_key((pki / "qseal.key").read_bytes(), password=None)

    def resolve_public_key(self, key_id):
        return self.public

    def resolve_private_key(self, key_id):
        return self.private


def verify(pki):
    keys = Keys(pki)
    verdicts = {}
    for name, r in json.loads(sys.stdin.read()).items():
        request = Request(r["method"], r["url"], r["headers"])
        named = " ".join(v for n, v in request.headers.items() if n.lower() == "signature-input")
        algorithm = RSA_V1_5_SHA256 if 'alg="rsa-v1_5-sha256"' in named else RSA_PSS_SHA512
        verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=keys)
        verifier.allow_label_only_selection = r.get("tag") is None
        try:
            results = verifier.verify(
                request,
                max_age=datetime.timedelta(minutes=5),
                expect_tag=r.get("tag"),
                expect_label=None if r.get("tag") else "sig1",
                require_components=("@method", "@target-uri"),
                body=base64.b64decode(r["body"]),
            )
            covered = " ".join(str(c) for c in results[0].covered_components if str(c) != '"@signature-params"')
            verdicts[name] = f"ok {covered}"
        except (InvalidSignature, HTTPMessageSignaturesException) as e:
            verdicts[name] = f"refused: {type(e).__name__}"
    print(json.dumps(verdicts))


def sign(pki, url, key_id):
    body = sys.stdin.buffer.read()
    request = Request("POST", url, [("Content-Type", "application/json")])
    signer = HTTPMessageSigner(signature_algorithm=RSA_PSS_SHA512, key_resolver=Keys(pki))
    signer.sign(
        request,
        key_id=key_id,
        label="sig1",
        tag="fapi-2-request",
        covered_component_ids=("@method", "@target-uri"),
        body=body,
    )
    print(json.dumps(request.headers.items()))


if __name__ == "__main__":
    command, pki = sys.argv[1], pathlib.Path(sys.argv[2])
    if command == "verify":
        verify(pki)
    elif command == "sign":
        sign(pki, sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {command}")
