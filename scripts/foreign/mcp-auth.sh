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

install() {
    venv_install "$VENV" "$DIR/requirements.txt"
}

start() {
    local port=${1:?PORT}
    local state=${2:?STATE_DIR}
    local config=${3:-default}
    [[ $config == default ]] || { echo "mcp-auth: unknown configuration '$config' (only: default)" >&2; exit 2; }
    [[ -x $VENV/bin/python ]] || { echo "mcp-auth: not installed (run: $0 install)" >&2; exit 2; }
    launch "$state" "$VENV/bin/python" "$DIR/server.py" "$port"
    await_url mcp-auth "$state" "http://127.0.0.1:$port" /.well-known/oauth-authorization-server
}

stop() {
    stop_group "$@"
}

version() {
    echo "PyPI mcp $(sed -n 's/^mcp==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")"
}

dispatch "$@"
