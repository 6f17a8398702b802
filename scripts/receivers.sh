#!/usr/bin/env bash
# The metrics receivers `tests/streams.rs` streams a load's figures to, on 127.0.0.1 only:
#   Prometheus 2.42 from Debian 12 (remote write, native histograms), and
#   VictoriaMetrics 1.112 from Debian 13 (OTLP/HTTP metrics, protobuf): no Debian Prometheus has
#   an OTLP receiver (bookworm's predates it; trixie's is built without it, Debian bug #1080354).
# Both are Debian packages, fetched with apt-get download and unpacked with dpkg -x into
# target/receivers (no service started, /etc/apt untouched). Run as root, with the network:
#   scripts/receivers.sh install
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
home=${DCR_HARNESS_RECEIVERS:-$root/target/receivers}
prometheus_version=2.42.0+ds-5+deb12u1
vm_version=1.112.0+ds1-2

say() { echo "[receivers] $*" >&2; }

# apt-get against Debian 13 (trixie) with lists of its own, leaving the machine's apt alone.
trixie_apt() {
    local d=$home/apt-trixie
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$d/sources.list"
    apt-get -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Acquire::Languages=none "$@"
}

# fetch PACKAGE VERSION DEST [trixie]
fetch() {
    local package=$1 version=$2 dest=$3 apt=(apt-get) tmp
    [ -n "${4:-}" ] && apt=(trixie_apt)
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    (cd "$tmp" && "${apt[@]}" download "$package=$version" >/dev/null 2>&1) || {
        say "$package=$version is no longer downloadable: taking the current one"
        (cd "$tmp" && "${apt[@]}" download "$package" >/dev/null)
    }
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg -x "$tmp"/"${package}"_*.deb "$dest"
    ls "$tmp" >"$dest/.deb"
    rm -rf "$tmp"
}

install() {
    mkdir -p "$home"
    if [ ! -x "$home/prometheus/usr/bin/prometheus" ]; then
        apt-get update -qq
        fetch prometheus "$prometheus_version" "$home/prometheus"
        rm -f "$home/prometheus/usr/bin/promtool"
    fi
    if [ ! -x "$home/vm/usr/bin/victoria-metrics" ]; then
        trixie_apt update -qq
        fetch victoria-metrics "$vm_version" "$home/vm" trixie
        find "$home/vm/usr/bin" -type f ! -name victoria-metrics -delete
        rm -rf "$home/apt-trixie"
    fi
    say "installed in $home: $(cat "$home/prometheus/.deb") $(cat "$home/vm/.deb")"
}

case "${1:-}" in
    install) install ;;
    *) echo "usage: scripts/receivers.sh install" >&2; exit 2 ;;
esac
