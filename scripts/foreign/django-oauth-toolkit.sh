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
# The initial-access-token configuration's bearer: a test value, which profile-iat.yaml sends.
IAT=dot-test-initial-access-token-not-a-secret

die() { echo "django-oauth-toolkit.sh: $*" >&2; exit 1; }

install() {
    venv_install "$VENV" "$DIR/requirements.txt"
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
    state=$(state_dir "$state") || exit 1
    export DOT_STATE_DIR=$state DOT_CONFIG=$config DJANGO_SETTINGS_MODULE=dcrsite.settings
    export PYTHONPATH=$PWD/$DIR PYTHONDONTWRITEBYTECODE=1
    : > "$state/server.log"
    "$VENV/bin/python" "$DIR/manage.py" migrate --noinput >> "$state/server.log" 2>&1 \
        || { cat "$state/server.log" >&2; die "migrate failed"; }
    if [[ $config == initial-access-token ]]; then
        "$VENV/bin/python" -m dcrsite.seed "$IAT" >> "$state/server.log" 2>&1 \
            || { cat "$state/server.log" >&2; die "seeding the initial access token failed"; }
    fi
    launch "$state" "$VENV/bin/waitress-serve" --host=127.0.0.1 --port="$port" --threads=8 dcrsite.wsgi:application
    await_url django-oauth-toolkit "$state" "http://127.0.0.1:$port" /.well-known/oauth-authorization-server
}

stop() {
    stop_group "$@"
}

version() {
    local v
    v=$(sed -n 's/^django-oauth-toolkit==\([^ ]*\).*/\1/p' "$DIR/requirements.txt")
    echo "django-oauth-toolkit $v"
}

dispatch "$@"
