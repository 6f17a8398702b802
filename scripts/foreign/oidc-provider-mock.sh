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
PY=${PYTHON:-python3}

install() {
    local want
    want=$(sha256sum "$DIR/requirements.txt" | cut -d' ' -f1)
    if [[ -f $VENV/.installed && $(cat "$VENV/.installed") == "$want" ]]; then return; fi
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$DIR/requirements.txt"
    echo "$want" > "$VENV/.installed"
}

start() {
    local port=${1:?PORT}
    local state=${2:?STATE_DIR}
    local config=${3:-default}
    [[ $config == default ]] || { echo "oidc-provider-mock: unknown configuration '$config' (only: default)" >&2; exit 2; }
    [[ -x $VENV/bin/python ]] || { echo "oidc-provider-mock: not installed (run: $0 install)" >&2; exit 2; }
    mkdir -p "$state"
    # Its own process group (setsid), so that stop ends all of it.
    setsid "$VENV/bin/python" -m oidc_provider_mock --host 127.0.0.1 --port "$port" --require-registration > "$state/server.log" 2>&1 < /dev/null &
    echo $! > "$state/pid"
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 200); do
        if curl -fsS -o /dev/null "$url/.well-known/openid-configuration" 2>/dev/null; then
            echo "$url"
            return
        fi
        kill -0 "$(cat "$state/pid")" 2>/dev/null || break
        sleep 0.1
    done
    cat "$state/server.log" >&2
    stop "$state"
    echo "oidc-provider-mock did not start" >&2
    exit 1
}

stop() {
    stop_group "$@"
}

version() {
    echo "PyPI oidc-provider-mock $(sed -n 's/^oidc-provider-mock==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")"
}

cmd=${1:-}
shift || true
case $cmd in
    install) install ;;
    start) start "$@" ;;
    stop) stop "$@" ;;
    version) version ;;
    *) echo "usage: $0 install | start PORT STATE_DIR [CONFIG] | stop STATE_DIR | version" >&2; exit 2 ;;
esac
