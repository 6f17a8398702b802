#!/usr/bin/env bash
# oidc-provider-mock (PyPI `oidc-provider-mock`, pinned with hashes by
# foreign/oidc-provider-mock/requirements.txt), an OpenID provider for tests, on 127.0.0.1 for
# dcr-harness's interop matrix, started by its own command line with --require-registration (only
# clients registered at its RFC 7591 endpoint, /oauth2/clients, are known; without it any client id
# and secret are accepted). Registration only: it has no RFC 7592 management.
#
# Usage: scripts/foreign/oidc-provider-mock.sh install
#        scripts/foreign/oidc-provider-mock.sh start PORT STATE_DIR [CONFIG]   (CONFIG: default)
#        scripts/foreign/oidc-provider-mock.sh stop STATE_DIR
#        scripts/foreign/oidc-provider-mock.sh version
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/oidc-provider-mock
VENV=$DIR/.venv

install() {
    venv_install "$VENV" "$DIR/requirements.txt"
}

start() {
    local port=${1:?PORT}
    local state=${2:?STATE_DIR}
    local config=${3:-default}
    [[ $config == default ]] || { echo "oidc-provider-mock: unknown configuration '$config' (only: default)" >&2; exit 2; }
    [[ -x $VENV/bin/python ]] || { echo "oidc-provider-mock: not installed (run: $0 install)" >&2; exit 2; }
    launch "$state" "$VENV/bin/python" -m oidc_provider_mock --host 127.0.0.1 --port "$port" --require-registration
    await_url oidc-provider-mock "$state" "http://127.0.0.1:$port" /.well-known/openid-configuration
}

stop() {
    stop_group "$@"
}

version() {
    echo "PyPI oidc-provider-mock $(sed -n 's/^oidc-provider-mock==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")"
}

dispatch "$@"
