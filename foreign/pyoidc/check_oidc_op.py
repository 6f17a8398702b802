"""In-process check: what oic.oic.provider.Provider (pyoidc's OpenID Connect OP, not the server
this folder runs) does with software statements and with RFC 7592 management. docs/interop/findings/pyoidc.md quotes
its output. Run: foreign/pyoidc/.venv/bin/python foreign/pyoidc/check_oidc_op.py [PKI_DIR]
(default PKI_DIR: fixtures/pki, after `dcr-harness pki init --root .`)."""
import json
import sys
from oic.oic.provider import Provider
from oic.utils.authn.authn_context import AuthnBroker
from oic.utils.authn.client import verify_client
from oic.utils.authz import AuthzHandling
from oic.utils.sdb import create_session_db
from oic.utils.authn.user import UserAuthnMethod
class U(UserAuthnMethod):
    def authenticated_as(self, cookie=None, **kw): return None, 0
broker = AuthnBroker(); broker.add("UNDEFINED", U(None))
pki = (sys.argv[1] if len(sys.argv) > 1 else "fixtures/pki").rstrip("/") + "/"
op = Provider("http://127.0.0.1:1/", create_session_db("http://127.0.0.1:1/", "secret", "password"), {}, broker, None, AuthzHandling(), verify_client, "1234567890123456")
for name in ["ssa", "ssa-unknown-issuer", "ssa-alg-none", "ssa-expired", "ssa-bad-signature"]:
    ss = open(pki + name + ".jwt").read().strip()
    resp = op.registration_endpoint(request=json.dumps({"redirect_uris": ["https://tpp.example/cb"], "response_types": ["code"], "software_statement": ss}))
    body = json.loads(resp.message)
    print(name, resp.status_code, "software_statement echoed:", "software_statement" in body, "client_id:", body.get("client_id"))
cid, rat = body["client_id"], body["registration_access_token"]
print("registration_client_uri", body["registration_client_uri"])
r = op.registration_endpoint(request="client_id=" + cid, authn="Bearer wrong", method="GET"); print("GET wrong token", r.status_code)
r = op.registration_endpoint(request="client_id=" + cid, authn="Bearer " + rat, method="GET"); print("GET right token", r.status_code)
r = op.registration_endpoint(request="client_id=" + cid, authn="Bearer " + rat, method="PUT"); print("PUT", r.status_code, r.message)
r = op.registration_endpoint(request="client_id=" + cid, authn="Bearer " + rat, method="DELETE"); print("DELETE", r.status_code, r.message)
