#!/usr/bin/env bash
# canaille (PyPI, pinned with hashes by foreign/canaille/requirements.txt): a Flask identity
# server whose OIDC provider is Authlib's, with RFC 7591 registration at /oauth/register and
# RFC 7592 management at /oauth/register/<client_id> (registration access tokens are JWTs the
# server signs). Configured by foreign/canaille/canaille.toml, SQL backend (sqlite in STATE_DIR),
# served by hypercorn through `canaille run` (the server canaille's `server` extra ships) on
# 127.0.0.1, plain HTTP.
#
# Usage:
#   scripts/foreign/canaille.sh install
#   scripts/foreign/canaille.sh start PORT STATE_DIR [CONFIG]   prints the base URL
#   scripts/foreign/canaille.sh stop STATE_DIR
#   scripts/foreign/canaille.sh version
#
# CONFIG:
#   default               open registration (CANAILLE_OIDC.DYNAMIC_CLIENT_REGISTRATION_OPEN):
#                         anyone may register; management needs the client's registration
#                         access token.
#   initial-access-token  canaille's own default: registration needs an initial access token
#                         made by `canaille jwt registration`. canaille binds each such token to
#                         one client_id (its `sub`), so it registers ONE client. start writes
#                         one, valid 1 h, to STATE_DIR/initial-access-token.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/canaille
VENV=$DIR/.venv
LOCK=$DIR/requirements.txt
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" > /dev/null || PYTHON=python3

die() { echo "canaille.sh: $*" >&2; exit 1; }


install() {
    venv_install "$VENV" "$LOCK"
}

# The environment canaille reads besides canaille.toml (which wins over it, so these keys are
# not in the file): the issuer's host and port, the database, open or closed registration.
canaille_env() {
    local port=$1 state=$2 open=$3
    export CANAILLE_CONFIG="$PWD/$DIR/canaille.toml"
    export SERVER_NAME="127.0.0.1:$port"
    export CANAILLE_SQL__DATABASE_URI="sqlite:///$state/canaille.sqlite"
    export CANAILLE_OIDC__DYNAMIC_CLIENT_REGISTRATION_OPEN=$open
}

start() {
    local port=${1:?PORT} state=${2:?STATE_DIR} config=${3:-default} open
    case $config in
        default) open=true ;;
        initial-access-token) open=false ;;
        *) die "unknown configuration '$config' (default, initial-access-token)" ;;
    esac
    [[ -x $VENV/bin/canaille ]] || die "not installed: run '$0 install' first"
    state=$(state_dir "$state") || exit 1
    canaille_env "$port" "$state" "$open"
    # setsid: the server leads its own process group, which stop ends whole.
    setsid "$VENV/bin/canaille" run --bind "127.0.0.1:$port" > "$state/server.log" 2>&1 < /dev/null &
    local pid=$!
    echo "$pid" > "$state/pid"
    local base="http://127.0.0.1:$port"
    for _ in $(seq 1 80); do
        if curl -sf --max-time 1 -o /dev/null "$base/.well-known/openid-configuration"; then
            if [[ $config == initial-access-token ]]; then
                "$VENV/bin/canaille" jwt registration --lifetime 3600 2>> "$state/server.log" \
                    > "$state/initial-access-token" \
                    || { stop "$state"; die "canaille jwt registration failed (see $state/server.log)"; }
            fi
            echo "$base"
            return 0
        fi
        kill -0 "$pid" 2> /dev/null || { cat "$state/server.log" >&2; die "canaille exited while starting"; }
        sleep 0.25
    done
    cat "$state/server.log" >&2
    stop "$state"
    die "canaille did not answer on $base within 20 s"
}

stop() {
    stop_group "$@"
}

version() {
    if [[ -x $VENV/bin/python ]]; then
        "$VENV/bin/python" -c 'import importlib.metadata as m; print("PyPI canaille", m.version("canaille"))'
    else
        sed -n 's/^canaille==\([^ ]*\).*/PyPI canaille \1 (lock file; not installed)/p' "$LOCK"
    fi
}

dispatch "$@"
