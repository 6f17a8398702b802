#!/usr/bin/env bash
# The MCP Python SDK's authorization server routes (PyPI `mcp`, pinned with hashes by
# foreign/mcp-auth/requirements.txt) on 127.0.0.1, for dcr-harness's interop matrix. RFC 7591
# registration only: the SDK has no RFC 7592 management.
#
# Usage: scripts/foreign/mcp-auth.sh install
#        scripts/foreign/mcp-auth.sh start PORT STATE_DIR [CONFIG]   (CONFIG: default)
#        scripts/foreign/mcp-auth.sh stop STATE_DIR
#        scripts/foreign/mcp-auth.sh version
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/mcp-auth
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
    [[ $config == default ]] || { echo "mcp-auth: unknown configuration '$config' (only: default)" >&2; exit 2; }
    [[ -x $VENV/bin/python ]] || { echo "mcp-auth: not installed (run: $0 install)" >&2; exit 2; }
    mkdir -p "$state"
    # Its own process group (setsid), so that stop ends all of it.
    setsid "$VENV/bin/python" "$DIR/server.py" "$port" > "$state/server.log" 2>&1 < /dev/null &
    echo $! > "$state/pid"
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 200); do
        if curl -fsS -o /dev/null "$url/.well-known/oauth-authorization-server" 2>/dev/null; then
            echo "$url"
            return
        fi
        kill -0 "$(cat "$state/pid")" 2>/dev/null || break
        sleep 0.1
    done
    cat "$state/server.log" >&2
    stop "$state"
    echo "mcp-auth did not start" >&2
    exit 1
}

stop() {
    stop_group "$@"
}

version() {
    echo "PyPI mcp $(sed -n 's/^mcp==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")"
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
