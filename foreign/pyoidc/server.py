#!/usr/bin/env python
"""pyoidc's OAuth 2.0 authorization server (oic.extension.provider.Provider) behind CherryPy.

Wired as pyoidc's own example AS (oauth_example/as/as.py in the pyoidc repository) is: the
Provider, a JWT token factory over the server's own keys, CherryPy grafting a small WSGI
dispatcher, and TRUSTED_REGISTRATION_ENTITIES: the software-statement issuers whose JWKS the
server's key jar holds under their `iss`. Differences from the example:
- the `clientinfo` endpoint (the `registration_client_uri` the Provider issues) is routed to
  `Provider.client_info_endpoint`, and `client_authn_methods` is given (that endpoint checks
  the bearer token through it): what a deployment that offers RFC 7592 management must do;
- the client database is a dict, as in pyoidc's own tests, not the example's `shelve`: without
  gdbm (this Python has none) shelve falls back to dbm.dumb, whose commit on delete is not
  thread-safe, and concurrent deletes under CherryPy's thread pool failed with 500s
  (FileNotFoundError on client_db.dir) that are no behaviour of pyoidc's.
Every decision about a request is pyoidc's; this file only carries HTTP to and from the
Provider's endpoint methods.

Inputs: --port, --state-dir (server keys, their public JWKS), DCR_DIRECTORY_JWKS (the JWKS of
the trusted directory), DCR_DIRECTORY_ISSUER (its `iss`, default the test directory's).
"""

import argparse
import json
import logging
import os
import re
import sys
import traceback

import cherrypy

from oic import rndstr
from oic.extension.provider import Provider
from oic.extension.token import JWTToken
from oic.utils.authn.authn_context import AuthnBroker
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.authn.client import verify_client
from oic.utils.authn.user import UserAuthnMethod
from oic.utils.authz import Implicit
from oic.utils.http_util import NotFound
from oic.utils.http_util import ServiceError
from oic.utils.http_util import get_post
from oic.utils.http_util import wsgi_wrapper
from oic.utils.keyio import KeyBundle
from oic.utils.keyio import keyjar_init
from oic.utils.sdb import DefaultToken
from oic.utils.sdb import SessionDB

LOGGER = logging.getLogger("")

DEFAULT_ISSUER = "https://directory.dcr-harness.test"

# The server's own keys (tokens are JWTs it signs), as the example configures them.
KEYS = [
    {"type": "RSA", "key": "keys/key.pem", "use": ["enc", "sig"]},
    {"type": "EC", "crv": "P-256", "use": ["sig"]},
]

# What the server offers (RFC 8414 metadata and the registration checks of
# Provider.match_client_request): pyoidc's token endpoint authentication methods and grants.
CAPABILITIES = {
    "token_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
    ],
    "grant_types_supported": ["authorization_code", "implicit", "client_credentials"],
    "response_types_supported": ["code", "token"],
    "scopes_supported": ["offline_access"],
}


class NoUser(UserAuthnMethod):
    """No end-user login: the suite exercises registration and the token endpoint only."""

    def __call__(self, *args, **kwargs):
        return NotFound("no end-user authentication in this deployment")

    def authenticated_as(self, cookie=None, **kwargs):
        return None, 0


class Application(object):
    def __init__(self, oas):
        self.oas = oas
        self.urls = [
            (r"^\.well-known/openid-configuration$", self.config),
            (r"^\.well-known/oauth-authorization-server$", self.config),
            (r"^registration$", self.registration),
            (r"^clientinfo$", self.clientinfo),
            (r"^token$", self.token),
            (r"^introspection$", self.introspection),
            (r"^revocation$", self.revocation),
        ]

    def config(self, environ, start_response):
        return wsgi_wrapper(environ, start_response, self.oas.providerinfo_endpoint)

    def registration(self, environ, start_response):
        return wsgi_wrapper(environ, start_response, self.oas.registration_endpoint)

    def clientinfo(self, environ, start_response):
        # RFC 7592: GET, PUT and DELETE on registration_client_uri, called as pyoidc's own tests
        # call Provider.client_info_endpoint (method, query, the body as request, environ).
        body = get_post(environ) if environ.get("REQUEST_METHOD") == "PUT" else ""
        resp = self.oas.client_info_endpoint(
            method=environ.get("REQUEST_METHOD", "GET"),
            query=environ.get("QUERY_STRING", ""),
            request=body,
            environ=environ,
        )
        if resp is None:  # a method the Provider does not handle
            resp = ServiceError("Unsupported method")
            resp.status_code = 405
        return resp(environ, start_response)

    def token(self, environ, start_response):
        return wsgi_wrapper(environ, start_response, self.oas.token_endpoint)

    def introspection(self, environ, start_response):
        return wsgi_wrapper(environ, start_response, self.oas.introspection_endpoint)

    def revocation(self, environ, start_response):
        return wsgi_wrapper(environ, start_response, self.oas.revocation_endpoint)

    def application(self, environ, start_response):
        path = environ.get("PATH_INFO", "").lstrip("/")
        method, query = environ.get("REQUEST_METHOD"), environ.get("QUERY_STRING", "")

        def logged(status, headers, exc_info=None):  # an access log line per answer
            LOGGER.info("access: %s /%s%s -> %s", method, path, "?" + query if query else "", status)
            return start_response(status, headers, exc_info)

        return self.dispatch(environ, logged, path)

    def dispatch(self, environ, start_response, path):
        for regex, callback in self.urls:
            if re.search(regex, path):
                try:
                    return callback(environ, start_response)
                except Exception as err:  # as the example does: a 500 with the error
                    LOGGER.error("%s", "".join(traceback.format_exception(*sys.exc_info())))
                    resp = ServiceError("%s" % err)
                    return resp(environ, start_response)
        resp = NotFound("Couldn't find the side you asked for!")
        return resp(environ, start_response)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--config", default="default")
    args = parser.parse_args()

    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s:%(levelname)s %(message)s"
    )
    state = os.path.abspath(args.state_dir)
    os.makedirs(os.path.join(state, "keys"), exist_ok=True)
    os.chdir(state)  # keys/key.pem lives in the state directory

    issuer = "http://127.0.0.1:%d/" % args.port
    cdb = {}  # the client database (see the module's docstring)

    broker = AuthnBroker()
    broker.add("UNDEFINED", NoUser(None))

    oas = Provider(
        issuer,
        None,
        cdb,
        broker,
        Implicit(),
        baseurl=issuer,
        client_authn=verify_client,
        symkey=rndstr(16),
        hostname="127.0.0.1",
        capabilities=CAPABILITIES,
        client_authn_methods=CLIENT_AUTHN_METHOD,
    )
    jwks = keyjar_init(oas, KEYS, kid_template="op%d")
    with open(os.path.join(state, "jwks.json"), "w") as f:
        json.dump(jwks, f)

    code = DefaultToken(rndstr(32), rndstr(32), typ="A", lifetime=600)
    token = JWTToken("T", oas.keyjar, {"code": 3600, "token": 900}, iss=issuer, sign_alg="RS256")
    refresh = JWTToken("R", oas.keyjar, {"": 86400}, iss=issuer, sign_alg="RS256", token_storage={})
    oas.sdb = SessionDB(issuer, db={}, code_factory=code, token_factory=token, refresh_token_factory=refresh)

    # TRUSTED_REGISTRATION_ENTITIES, loaded exactly as the example loads them.
    trusted = []
    jwks_path = os.environ.get("DCR_DIRECTORY_JWKS")
    if jwks_path:
        trusted.append({"iss": os.environ.get("DCR_DIRECTORY_ISSUER", DEFAULT_ISSUER), "jwks": jwks_path})
    for ent in trusted:
        kb = KeyBundle()
        with open(ent["jwks"]) as f:
            kb.imp_jwks = json.load(f)
        kb.do_keys(kb.imp_jwks["keys"])
        oas.keyjar.add_kb(ent["iss"], kb)
        LOGGER.info("trusting software statements of %s (%d keys)", ent["iss"], len(kb.keys()))

    cherrypy.config.update(
        {
            "server.socket_host": "127.0.0.1",
            "server.socket_port": args.port,
            "engine.autoreload.on": False,
            "log.screen": True,
        }
    )
    cherrypy.tree.graft(Application(oas).application, "/")
    print("OAuth2 server starting listening on port:%d at 127.0.0.1" % args.port, flush=True)
    cherrypy.engine.start()
    cherrypy.engine.block()


if __name__ == "__main__":
    main()
