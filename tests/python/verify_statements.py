"""PyJWT against a dcr-harness test PKI's directory, both ways.

    python verify_statements.py verify PKI_DIR
        Verifies every software statement as a server that trusts the test directory would:
        the directory's JWKS, PS256 or ES256 only, its issuer, exp/nbf/iat. Prints one JSON
        object: statement name -> "ok [redirect URIs]" or "refused: <PyJWT error class>".
    python verify_statements.py sign PKI_DIR
        Prints a software statement PyJWT signs with the directory's PS256 key.
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


if __name__ == "__main__":
    {"verify": verify, "sign": sign}[sys.argv[1]](pathlib.Path(sys.argv[2]))
