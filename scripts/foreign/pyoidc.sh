#!/usr/bin/env bash
# pyoidc (PyPI `oic`, pinned by foreign/pyoidc/requirements.txt): its OAuth 2.0 authorization
# server oic.extension.provider.Provider, the one of pyoidc's providers that implements RFC 7591
# registration, RFC 7592 management (GET/PUT/DELETE on registration_client_uri) and software
# statements, served by CherryPy on 127.0.0.1 as pyoidc's own example AS does
# (foreign/pyoidc/server.py); its keys in STATE_DIR, its client database in memory (see
# server.py: the example's shelve is not safe under concurrent requests here).
#
# Usage:
#   scripts/foreign/pyoidc.sh install
#   scripts/foreign/pyoidc.sh start PORT STATE_DIR [CONFIG]   # prints the base URL
#   scripts/foreign/pyoidc.sh stop STATE_DIR
#   scripts/foreign/pyoidc.sh version
#
# CONFIG: `default` only. Software statements: DCR_DIRECTORY_JWKS names the JWKS of the
# directory to trust (the test PKI's <pki dir>/directory-jwks.json), DCR_DIRECTORY_ISSUER its
# `iss` (default https://directory.dcr-harness.test, the test directory's). Without
# DCR_DIRECTORY_JWKS the server trusts no issuer, and any statement sent fails to verify.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/pyoidc
VENV=$DIR/.venv

die() { echo "pyoidc.sh: $*" >&2; exit 1; }

install() {
    venv_install "$VENV" "$DIR/requirements.txt"
}

start() {
    [[ $# -ge 2 ]] || die "usage: start PORT STATE_DIR [CONFIG]"
    local port=$1 state=$2 config=${3:-default}
    [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
    case $config in
        default) ;;
        *) die "unknown CONFIG $config (default)" ;;
    esac
    [[ -x $VENV/bin/python ]] || die "not installed: run '$0 install' first"
    if [[ -n ${DCR_DIRECTORY_JWKS:-} && ! -f $DCR_DIRECTORY_JWKS ]]; then
        die "DCR_DIRECTORY_JWKS is no file: $DCR_DIRECTORY_JWKS"
    fi
    state=$(state_dir "$state") || exit 1
    local jwks=""
    [[ -n ${DCR_DIRECTORY_JWKS:-} ]] && jwks=$(cd "$(dirname "$DCR_DIRECTORY_JWKS")" && pwd)/$(basename "$DCR_DIRECTORY_JWKS")
    : > "$state/server.log"
    DCR_DIRECTORY_JWKS=$jwks PYTHONDONTWRITEBYTECODE=1 \
        launch "$state" "$VENV/bin/python" "$PWD/$DIR/server.py" --port "$port" --state-dir "$state" --config "$config"
    await_url pyoidc "$state" "http://127.0.0.1:$port" /.well-known/openid-configuration
}

stop() {
    stop_group "$@"
}

version() {
    local v
    v=$(sed -n 's/^oic==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")
    echo "oic $v"
}

dispatch "$@"
