"""PyJWT against a dcr-harness test PKI's directory, both ways.

    python verify_statements.py verify PKI_DIR
        Verifies every software statement as a server that trusts the test directory would:
        the directory's JWKS, PS256 or ES256 only, its issuer, exp/nbf/iat. Prints one JSON
        object: statement name -> "ok [redirect URIs]" or "refused: <PyJWT error class>".
    python verify_statements.py sign PKI_DIR
        Prints a software statement PyJWT signs with the directory's PS256 key.
    python verify_statements.py verify-requests PKI_DIR AUDIENCE < {name: request object}
        Verifies each request object (Open Banking UK DCR) as a server would: its statement
        verified with the directory's keys, its signature with the key the statement publishes
        (PS256 or ES256 only), iss the statement's software_id, aud AUDIENCE, exp/iat. Prints
        name -> "ok <software_id> [redirect URIs]" or "refused: <error class>".
    python verify_statements.py sign-request PKI_DIR AUDIENCE
        Prints a request object PyJWT signs with TPP A's QSEAL key (kid `qseal`), carrying the
        directory's statement `ssa`.
"""
import time
import json
import pathlib
import sys

import jwt


def verify(pki: pathlib.Path) -> None:
    jwks = json.loads((pki / "directory-jwks.json").read_text())
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    issuer = "https://directory.dcr-harness.test"
    verdicts = {}
    for path in sorted(pki.glob("ssa*.jwt")):
        token = path.read_text().strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = keys.get(kid)
            if key is None:
                raise LookupError(f"no key {kid} in the directory's JWKS")
            claims = jwt.decode(
                token,
                key,
                algorithms=["PS256", "ES256"],
                issuer=issuer,
                options={"require": ["iss", "iat", "exp"], "verify_aud": False},
            )
            verdicts[path.stem] = "ok " + json.dumps(claims["software_redirect_uris"])
        except Exception as error:  # the class is the verdict
            verdicts[path.stem] = f"refused: {type(error).__name__}"
    print(json.dumps(verdicts, sort_keys=True))


def sign(pki: pathlib.Path) -> None:
    key = (pki / "directory-ps256.key").read_text()
    now = int(time.time())
    claims = {
        "iss": "https://directory.dcr-harness.test",
        "iat": now,
        "exp": now + 3600,
        "jti": "signed-by-pyjwt",
        "software_id": "pyjwt-app",
        "software_redirect_uris": ["https://tpp.example/cb"],
    }
    print(jwt.encode(claims, key, algorithm="PS256", headers={"kid": "directory-ps256"}))


def statement_claims(pki: pathlib.Path, token: str) -> dict:
    jwks = json.loads((pki / "directory-jwks.json").read_text())
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    key = keys[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(
        token,
        key,
        algorithms=["PS256", "ES256"],
        issuer="https://directory.dcr-harness.test",
        options={"verify_aud": False},
    )


def verify_requests(pki: pathlib.Path, audience: str) -> None:
    verdicts = {}
    for name, token in json.load(sys.stdin).items():
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            statement = statement_claims(pki, unverified["software_statement"])
            keys = {k["kid"]: jwt.PyJWK(k) for k in statement["jwks"]["keys"]}
            kid = jwt.get_unverified_header(token).get("kid")
            if kid not in keys:
                raise LookupError(f"the statement publishes no key {kid}")
            claims = jwt.decode(
                token,
                keys[kid],
                algorithms=["PS256", "ES256"],
                audience=audience,
                issuer=statement["software_id"],
                options={"require": ["iss", "aud", "iat", "exp", "jti"]},
            )
            verdicts[name] = f"ok {claims['iss']} " + json.dumps(claims["redirect_uris"])
        except Exception as error:  # the class is the verdict
            verdicts[name] = f"refused: {type(error).__name__}"
    print(json.dumps(verdicts, sort_keys=True))


def sign_request(pki: pathlib.Path, audience: str) -> None:
    ssa = (pki / "ssa.jwt").read_text().strip()
    statement = statement_claims(pki, ssa)
    now = int(time.time())
    claims = {
        "iss": statement["software_id"],
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": "signed-by-pyjwt",
        "redirect_uris": ["https://tpp.example/cb"],
        "grant_types": ["authorization_code", "client_credentials"],
        "software_statement": ssa,
    }
    key = (pki / "qseal.key").read_text()
    print(jwt.encode(claims, key, algorithm="PS256", headers={"kid": "qseal"}))


if __name__ == "__main__":
    command, pki = sys.argv[1], pathlib.Path(sys.argv[2])
    if command in ("verify-requests", "sign-request"):
        {"verify-requests": verify_requests, "sign-request": sign_request}[command](pki, sys.argv[3])
    else:
        {"verify": verify, "sign": sign}[command](pki)
