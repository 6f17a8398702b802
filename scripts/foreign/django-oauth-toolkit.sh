#!/usr/bin/env bash
# django-oauth-toolkit (PyPI, pinned by foreign/django-oauth-toolkit/requirements.txt) with its
# Dynamic Client Registration (RFC 7591) and management (RFC 7592) turned on (DCR_ENABLED), in a
# minimal Django project (foreign/django-oauth-toolkit/dcrsite) served by waitress on 127.0.0.1,
# its sqlite database in STATE_DIR.
#
# Usage:
#   scripts/foreign/django-oauth-toolkit.sh install
#   scripts/foreign/django-oauth-toolkit.sh start PORT STATE_DIR [CONFIG]   # prints the base URL
#   scripts/foreign/django-oauth-toolkit.sh stop STATE_DIR
#   scripts/foreign/django-oauth-toolkit.sh version
#
# CONFIG: `default` (open registration: DOT's AllowAllDCRPermission) or `initial-access-token`
# (DOT's default IsAuthenticatedDCRPermission with its OAuth2TokenMiddleware: a user's bearer
# access token, seeded at start with the test value IAT below, which
# foreign/django-oauth-toolkit/profile-iat.yaml sends).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/django-oauth-toolkit
VENV=$DIR/.venv
PY=${PYTHON:-python3}
STAMP=$VENV/.requirements.sha256
# The initial-access-token configuration's bearer: a test value, which profile-iat.yaml sends.
IAT=dot-test-initial-access-token-not-a-secret

die() { echo "django-oauth-toolkit.sh: $*" >&2; exit 1; }

install() {
    local want
    want=$(sha256sum "$DIR/requirements.txt" | cut -d' ' -f1)
    if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
        return 0
    fi
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-hashes --no-deps -r "$DIR/requirements.txt"
    echo "$want" > "$STAMP"
}

start() {
    [[ $# -ge 2 ]] || die "usage: start PORT STATE_DIR [CONFIG]"
    local port=$1 state=$2 config=${3:-default}
    [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
    case $config in
        default | initial-access-token) ;;
        *) die "unknown CONFIG $config (default, initial-access-token)" ;;
    esac
    [[ -x $VENV/bin/python ]] || die "not installed: run '$0 install' first"
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
        die "already running in $state (pid $(cat "$state/pid"))"
    fi
    export DOT_STATE_DIR=$state DOT_CONFIG=$config DJANGO_SETTINGS_MODULE=dcrsite.settings
    export PYTHONPATH=$PWD/$DIR PYTHONDONTWRITEBYTECODE=1
    : > "$state/server.log"
    "$VENV/bin/python" "$DIR/manage.py" migrate --noinput >> "$state/server.log" 2>&1 \
        || { cat "$state/server.log" >&2; die "migrate failed"; }
    if [[ $config == initial-access-token ]]; then
        "$VENV/bin/python" -m dcrsite.seed "$IAT" >> "$state/server.log" 2>&1 \
            || { cat "$state/server.log" >&2; die "seeding the initial access token failed"; }
    fi
    # setsid: the server leads its own process group, which stop kills whole.
    setsid "$VENV/bin/waitress-serve" --host=127.0.0.1 --port="$port" --threads=8 \
        dcrsite.wsgi:application >> "$state/server.log" 2>&1 < /dev/null &
    local pid=$!
    echo "$pid" > "$state/pid"
    local url=http://127.0.0.1:$port
    for _ in $(seq 1 200); do
        if curl -fsS --max-time 1 -o /dev/null "$url/.well-known/oauth-authorization-server" 2>/dev/null; then
            echo "$url"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$state/server.log" >&2; die "the server exited"; }
        sleep 0.1
    done
    kill -- "-$pid" 2>/dev/null || true
    cat "$state/server.log" >&2
    die "the server did not answer on $url within 20 s"
}

stop() {
    stop_group "$@"
}

version() {
    local v
    v=$(sed -n 's/^django-oauth-toolkit==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")
    echo "django-oauth-toolkit $v"
}

cmd=${1:-}
shift || true
case $cmd in
    install) install "$@" ;;
    start) start "$@" ;;
    stop) stop "$@" ;;
    version) version "$@" ;;
    *) die "usage: $0 install | start PORT STATE_DIR [CONFIG] | stop STATE_DIR | version" ;;
esac
