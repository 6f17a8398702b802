#!/usr/bin/env bash
# node's oidc-provider (npm `oidc-provider`, pinned by foreign/oidc-provider/package-lock.json) on
# 127.0.0.1, for dcr-harness's interop matrix: RFC 7591 registration and RFC 7592 management with
# registration access tokens. Configurations (foreign/oidc-provider/server.mjs): `default`,
# the library's defaults with the two RFCs on; `rotation`, the token issued at registration and
# rotated on every update, with the provider's own keys; `no-rotation`, the same without rotation;
# `fapi`, as rotation over HTTPS (https://127.0.0.1:PORT) with client certificates requested, RFC 8705
# mTLS, introspection, encryption, JARM and request objects, its certificates from the test PKI in
# DCR_PKI_DIR (default target/test-pki: server.pem, server.key, issuing-ca.pem, root-ca.pem).
#
# Usage: scripts/foreign/oidc-provider.sh install
#        scripts/foreign/oidc-provider.sh start PORT STATE_DIR [CONFIG]
#        scripts/foreign/oidc-provider.sh stop STATE_DIR
#        scripts/foreign/oidc-provider.sh version
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/oidc-provider
STAMP=$DIR/node_modules/.dcr-harness-installed

install() {
    local want
    want=$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)
    if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]]; then return; fi
    npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error
    echo "$want" > "$STAMP"
}

start() {
    local port=${1:?PORT}
    local state=${2:?STATE_DIR}
    local config=${3:-default}
    case $config in
        default | rotation | no-rotation | fapi) ;;
        *) echo "oidc-provider: unknown configuration '$config' (default, rotation, no-rotation, fapi)" >&2; exit 2 ;;
    esac
    [[ -d $DIR/node_modules/oidc-provider ]] || { echo "oidc-provider: not installed (run: $0 install)" >&2; exit 2; }
    if [[ $config == fapi ]]; then
        local pki
        pki=$(cd "${DCR_PKI_DIR:-target/test-pki}" && pwd) || { echo "oidc-provider: no PKI directory ${DCR_PKI_DIR:-target/test-pki}" >&2; exit 2; }
        for f in server.pem server.key issuing-ca.pem root-ca.pem; do
            [[ -f $pki/$f ]] || { echo "oidc-provider: $pki/$f missing (generate the test PKI first)" >&2; exit 2; }
        done
        # Its store is in memory.
        DCR_PKI_DIR=$pki launch "$state" node "$DIR/server.mjs" "$port" "$config"
        # await_url's curl trusts the test PKI's CAs through CURL_CA_BUNDLE.
        CURL_CA_BUNDLE=$pki/root-ca.pem await_url oidc-provider "$state" "https://127.0.0.1:$port" /.well-known/openid-configuration
        return
    fi
    # Its store is in memory.
    launch "$state" node "$DIR/server.mjs" "$port" "$config"
    await_url oidc-provider "$state" "http://127.0.0.1:$port" /.well-known/openid-configuration
}

stop() {
    stop_group "$@"
}

version() {
    python3 -c 'import json, sys; print("npm oidc-provider " + json.load(open(sys.argv[1]))["packages"]["node_modules/oidc-provider"]["version"])' "$DIR/package-lock.json"
}

dispatch "$@"
