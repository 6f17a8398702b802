#!/usr/bin/env python3
"""Configures a freshly started Glewlwyd through its admin REST API (standard library only).

Usage: bootstrap.py BASE_URL STATE_DIR CONFIG

It logs in as the administrator the shipped init.sqlite3.sql creates (admin / password, a test
value on 127.0.0.1 only), then adds one OpenID Connect plugin instance named `oidc` (prefix
/api/oidc) with the parameters the admin web app gives a new instance (GlwdOIDCParams.js
defaultParam of 2.7.5), an RSA signing key made for this state directory, and client
registration (RFC 7591) with its management (RFC 7592) turned on.

CONFIG:
  default              registration open to anyone (no access token asked for: the admin app's
                       "open" setting), management on.
  initial-access-token registration needs an access token with the scope `dcr-register` (RFC 7591
                       §3 initial access token), reusable for the token's lifetime; the script
                       adds a confidential provisioning client, fetches such a token with the
                       client_credentials grant and writes it to STATE_DIR/initial-access-token.
"""
import base64
import http.cookiejar
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

PLUGIN = "oidc"
IAT_SCOPE = "dcr-register"
CLIENT_SCOPE = "dcr-client"
PROVISIONER_ID = "dcr-provisioner"
PROVISIONER_SECRET = "dcr-provisioner-test-secret"


def main():
    base, state, config = sys.argv[1], sys.argv[2], sys.argv[3]
    if config not in ("default", "initial-access-token"):
        sys.exit(f"unknown configuration {config!r} (default, initial-access-token)")
    api = base.rstrip("/") + "/api"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(method, path, body=None, form=None, headers=None, expect=(200,)):
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(api + path, data=data, method=method, headers=hdrs)
        try:
            with opener.open(req, timeout=10) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status not in expect:
            sys.exit(f"bootstrap: {method} {path} answered {status}: {text}")
        return json.loads(text) if text.strip() else None

    # The administrator's session (cookie), as the admin web app gets it.
    call("POST", "/auth/", {"username": "admin", "password": "password"})

    with open(os.path.join(state, "oidc-key.pem")) as f:
        key = f.read()
    with open(os.path.join(state, "oidc-pub.pem")) as f:
        pub = f.read()

    # Scopes: the one registered clients receive for client_credentials, and (for the
    # initial-access-token configuration) the one the registration endpoint asks for.
    call("POST", "/scope/", {"name": CLIENT_SCOPE, "display_name": "DCR client",
                             "description": "scope given to dynamically registered clients",
                             "password_required": False, "scheme": {}})
    if config == "initial-access-token":
        call("POST", "/scope/", {"name": IAT_SCOPE, "display_name": "DCR registration",
                                 "description": "may register clients (RFC 7591 initial access token)",
                                 "password_required": False, "scheme": {}})

    params = {
        # GlwdOIDCParams.js defaultParam (2.7.5), the values a new instance starts with.
        "iss": base.rstrip("/") + "/api/" + PLUGIN,
        "oauth-as-iss-id": False,
        "jwt-type": "rsa",
        "jwt-key-size": "256",
        "key": key,
        "cert": pub,
        "access-token-duration": 3600,
        "refresh-token-duration": 1209600,
        "code-duration": 600,
        "refresh-token-rolling": True,
        "refresh-token-one-use": "never",
        "client-refresh-token-one-use-parameter": "refresh-token-one-use",
        # On (the admin app's default is off): the client_credentials grant, with which a
        # registered client proves its secret and the provisioning client gets its token, is an
        # OAuth 2.0 (non-OIDC) grant that 2.7.5 serves only with this.
        "allow-non-oidc": True,
        "auth-type-code-enabled": True,
        "auth-type-code-revoke-replayed": False,
        "auth-type-token-enabled": True,
        "auth-type-id-token-enabled": True,
        "auth-type-none-enabled": True,
        "auth-type-password-enabled": False,
        "auth-type-client-enabled": True,
        "auth-type-device-enabled": False,
        "auth-type-refresh-enabled": True,
        "scope": [],
        "additional-parameters": [],
        "claims": [],
        "service-documentation": "https://github.com/babelouest/glewlwyd/tree/master/docs",
        "jwks-show": True,
        "jwks-x5c": [],
        "request-parameter-allow": True,
        "request-uri-allow-https-non-secure": False,
        "request-parameter-allow-encrypted": True,
        "request-parameter-ietf-strict": False,
        "subject-type": "public",
        "address-claim": {"type": "no", "formatted": "", "street_address": "", "locality": "",
                          "region": "", "postal_code": "", "country": "", "mandatory": False},
        "name-claim": "on-demand",
        "name-claim-scope": [],
        "email-claim": "no",
        "email-claim-scope": [],
        "scope-claim": "no",
        "scope-claim-scope": [],
        "allowed-scope": ["openid", CLIENT_SCOPE],
        "pkce-allowed": False,
        "pkce-method-plain-allowed": False,
        "introspection-revocation-allowed": False,
        "introspection-revocation-auth-scope": [],
        "introspection-revocation-allow-target-client": True,
        "session-management-allowed": False,
        "session-cookie-name": "GLEWLWYD2_OIDC_SID",
        "session-cookie-expiration": 2419200,
        "client-jwks-parameter": "jwks",
        "client-jwks_uri-parameter": "jwks_uri",
        "request-maximum-exp": 3600,
        "encrypt-out-token-allow": False,
        "client-enc-parameter": "enc",
        "client-alg-parameter": "alg",
        "client-alg_kid-parameter": "alg_kid",
        "client-encrypt_code-parameter": "encrypt_code",
        "client-encrypt_at-parameter": "encrypt_at",
        "client-encrypt_userinfo-parameter": "encrypt_userinfo",
        "client-encrypt_id_token-parameter": "encrypt_id_token",
        "client-encrypt_refresh_token-parameter": "encrypt_refresh_token",
        "client-encrypt_introspection-parameter": "encrypt_introspection",
        "device-authorization-expiration": 600,
        "device-authorization-interval": 5,
        "client-cert-self-signed-allowed": False,
        "oauth-dpop-allowed": False,
        "oauth-dpop-iat-duration": 10,
        "oauth-dpop-nonce-counter": 10,
        "resource-allowed": False,
        "oauth-rar-allowed": False,
        "rar-types-client-property": "authorization_details_types",
        "oauth-par-allowed": False,
        "oauth-ciba-allowed": False,
        # Client registration (RFC 7591) and its management (RFC 7592).
        "register-client-allowed": True,
        "register-client-auth-scope": [IAT_SCOPE] if config == "initial-access-token" else [],
        "register-client-credentials-scope": [CLIENT_SCOPE],
        # The admin app's default is one use; the harness registers many clients with the one
        # initial access token it is given, so a token here lasts its lifetime instead.
        "register-client-token-one-use": False,
        "register-client-management-allowed": True,
        "register-resource-specify-allowed": False,
        "register-resource-default": [],
        "register-default-properties": {},
    }
    call("POST", "/mod/plugin/", {"module": "oidc", "name": PLUGIN,
                                  "display_name": "OpenID Connect", "enabled": True,
                                  "parameters": params})

    if config == "initial-access-token":
        call("POST", "/client/", {"client_id": PROVISIONER_ID, "name": "DCR provisioning client",
                                  "confidential": True, "client_secret": PROVISIONER_SECRET,
                                  "enabled": True, "redirect_uri": [],
                                  "authorization_type": ["client_credentials"],
                                  "token_endpoint_auth_method": ["client_secret_basic"],
                                  "scope": [IAT_SCOPE]})
        basic = base64.b64encode(f"{PROVISIONER_ID}:{PROVISIONER_SECRET}".encode()).decode()
        token = call("POST", f"/{PLUGIN}/token",
                     form={"grant_type": "client_credentials", "scope": IAT_SCOPE},
                     headers={"Authorization": f"Basic {basic}"})
        path = os.path.join(state, "initial-access-token")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(token["access_token"] + "\n")


if __name__ == "__main__":
    main()
