#!/usr/bin/env bash
# Glewlwyd (Debian bookworm's `glewlwyd` package, pinned in foreign/glewlwyd/debian.lock) for the
# interop matrix: an SSO server in C whose OpenID Connect plugin does dynamic client registration
# (RFC 7591) and its management (RFC 7592).
#
#   scripts/foreign/glewlwyd.sh install                      apt-get install of the pinned versions (root)
#   scripts/foreign/glewlwyd.sh start PORT STATE_DIR [CONFIG] prints the base URL
#   scripts/foreign/glewlwyd.sh stop STATE_DIR
#   scripts/foreign/glewlwyd.sh version
#
# start builds STATE_DIR/glewlwyd.sqlite3 from the schema the package ships
# (/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz), writes STATE_DIR/glewlwyd.conf (the
# package's /etc/glewlwyd/glewlwyd.conf, bound to 127.0.0.1:PORT), starts the server and adds the
# OpenID Connect plugin instance `oidc` through the admin REST API (foreign/glewlwyd/bootstrap.py).
# CONFIG: `default` (open registration, management on) or `initial-access-token` (registration
# needs an access token with scope dcr-register; the token is written to
# STATE_DIR/initial-access-token: export GLEWLWYD_IAT="$(cat STATE_DIR/initial-access-token)"
# before running the harness with foreign/glewlwyd/profile-iat.yaml).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source scripts/foreign/lib.sh
DIR=foreign/glewlwyd
LOCK=$DIR/debian.lock
SCHEMA=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz

die() { echo "glewlwyd.sh: $*" >&2; exit 1; }

installed_matches_lock() {
    local pkg ver have
    while read -r pkg ver; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        have=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
        [[ "$have" == "install ok installed $ver" ]] || return 1
    done < "$LOCK"
}

cmd_install() {
    if installed_matches_lock; then
        echo "glewlwyd: already installed as pinned in $LOCK"
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "install needs root (apt-get)"
    local pins=()
    while read -r pkg ver; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        pins+=("$pkg=$ver")
    done < "$LOCK"
    export DEBIAN_FRONTEND=noninteractive
    # The package's own configuration (a system database through dbconfig-common, a service) is
    # not the one used here: start builds its own in STATE_DIR. "No configuration" makes the
    # postinst only copy the sample /etc/glewlwyd/glewlwyd.conf.
    echo "glewlwyd glewlwyd/config_type select No configuration" | debconf-set-selections
    apt-get install -y --no-install-recommends "${pins[@]}" \
        || { apt-get update && apt-get install -y --no-install-recommends "${pins[@]}"; }
    installed_matches_lock || die "installed versions do not match $LOCK"
    # The package enables and starts a system service (on 4593, from /etc/glewlwyd); only the
    # instances start makes are wanted.
    if [[ -d /run/systemd/system ]]; then
        systemctl disable --now glewlwyd.service >/dev/null 2>&1 || true
    fi
}

cmd_version() {
    dpkg-query -W -f='Debian glewlwyd ${Version}\n' glewlwyd
}

cmd_start() {
    local port=${1:?start PORT STATE_DIR [CONFIG]} state=${2:?start PORT STATE_DIR [CONFIG]} config=${3:-default}
    case "$config" in default|initial-access-token) ;; *) die "unknown configuration $config" ;; esac
    command -v glewlwyd >/dev/null || die "glewlwyd is not installed (run: $0 install)"
    state=$(state_dir "$state") || exit 1
    rm -f "$state/glewlwyd.sqlite3" "$state/initial-access-token"
    zcat "$SCHEMA" | sqlite3 "$state/glewlwyd.sqlite3"
    # The plugin's signing key (RS256), made for this state directory.
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$state/oidc-key.pem" 2>/dev/null
    openssl pkey -in "$state/oidc-key.pem" -pubout -out "$state/oidc-pub.pem" 2>/dev/null
    local base="http://127.0.0.1:$port"
    # The package's /etc/glewlwyd/glewlwyd.conf, with this port, address, database and log file.
    # use_secure_connection is left out: 2.7.5 asks for key files whenever the key is present,
    # even set to false.
    cat > "$state/glewlwyd.conf" <<EOF
port=$port
bind_address="127.0.0.1"
external_url="$base"
login_url="login.html"
api_prefix="api"
allow_origin="*"
allow_methods="GET, POST, PUT, DELETE, OPTIONS"
allow_headers="Origin, X-Requested-With, Content-Type, Accept, Bearer, Authorization, DPoP"
expose_headers="Content-Encoding, Authorization"
log_mode="file"
log_level="INFO"
log_file="$state/server.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=2419200
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
plugin_api_run_enabled=""
add_x_frame_option_header_deny=true
max_post_size=16778240
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "$state/glewlwyd.sqlite3"; };
EOF
    : > "$state/server.log"
    setsid glewlwyd --config-file="$state/glewlwyd.conf" >> "$state/server.log" 2>&1 < /dev/null &
    echo $! > "$state/pid"
    local ok=
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$base/api/"; then ok=1; break; fi
        kill -0 "$(cat "$state/pid")" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$ok" ]]; then
        tail -n 20 "$state/server.log" >&2
        cmd_stop "$state"
        die "glewlwyd did not answer on $base"
    fi
    if ! python3 "$DIR/bootstrap.py" "$base" "$state" "$config" >> "$state/server.log" 2>&1; then
        tail -n 20 "$state/server.log" >&2
        cmd_stop "$state"
        die "bootstrap failed (see $state/server.log)"
    fi
    curl -sf -o /dev/null --max-time 2 "$base/api/oidc/.well-known/openid-configuration" \
        || { cmd_stop "$state"; die "the oidc plugin does not answer"; }
    echo "$base"
}

cmd_stop() {
    stop_group "$@"
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    version) cmd_version ;;
    *) echo "usage: $0 install | start PORT STATE_DIR [CONFIG] | stop STATE_DIR | version" >&2; exit 2 ;;
esac
