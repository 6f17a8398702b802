#!/usr/bin/env bash
# The OTLP trace receiver `tests/traces.rs` exports a run's spans to, on 127.0.0.1 only: Arize
# Phoenix from PyPI (arize-phoenix 20.26.1, Elastic License 2.0), every dependency pinned in
# scripts/traces-receiver.lock. It takes OTLP/HTTP protobuf (POST URL/v1/traces), keeps the spans
# in SQLite, and answers GET URL/v1/projects/default/spans?trace_id=HEX. No Jaeger, Tempo or
# OpenTelemetry Collector is packaged in Debian, PyPI or npm (the registries CI reaches).
#   scripts/traces-receiver.sh install [DIR]      once: a venv in DIR (default target/receivers/phoenix)
#   scripts/traces-receiver.sh start DIR PORT     start on 127.0.0.1:PORT, wait until ready (60 s at
#                                                 most), print the base URL; a fresh database each time
#   scripts/traces-receiver.sh stop DIR           stop it (TERM, then KILL after 10 s)
# Phoenix also opens OTLP gRPC on PORT+1, hard-coded to "[::]": the launcher binds it to 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lock=$root/scripts/traces-receiver.lock
say() { echo "[traces-receiver] $*" >&2; }

install() {
    local dir=$1
    # The lock file's digest marks what the venv was made from: a changed lock makes it again.
    local stamp
    stamp=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ -x "$dir/venv/bin/python" ] && [ "$(cat "$dir/venv/.lock" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    say "installing Phoenix into $dir/venv"
    rm -rf "$dir/venv"
    mkdir -p "$dir"
    python3 -m venv "$dir/venv"
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/venv/bin/pip" install -q -r "$lock"
    echo "$stamp" >"$dir/venv/.lock"
    say "installed: $(du -sh "$dir/venv" | cut -f1)"
}

start() {
    local dir=$1 port=$2
    local grpc_port=$((port + 1)) run=$dir/run url=http://127.0.0.1:$2
    [ -x "$dir/venv/bin/python" ] || { say "not installed in $dir: run $0 install $dir"; return 1; }
    for p in "$port" "$grpc_port"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            say "something already listens on 127.0.0.1:$p"
            return 1
        fi
    done
    rm -rf "$run"
    mkdir -p "$run/wd"
    cat >"$run/launch.py" <<'EOF'
import sys
import grpc.aio._server as s
_add = s.Server.add_insecure_port
s.Server.add_insecure_port = lambda self, addr: _add(self, addr.replace("[::]:", "127.0.0.1:"))
from phoenix.server.main import main
sys.argv = ["phoenix", "serve"]
main()
EOF
    PHOENIX_WORKING_DIR=$run/wd PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$port \
        PHOENIX_GRPC_PORT=$grpc_port PHOENIX_TELEMETRY_ENABLED=false \
        setsid "$dir/venv/bin/python" "$run/launch.py" >"$run/phoenix.log" 2>&1 &
    echo $! >"$run/pid"
    local i
    for i in $(seq 600); do
        kill -0 "$(cat "$run/pid")" 2>/dev/null || {
            say "Phoenix stopped; its log:"
            tail -5 "$run/phoenix.log" >&2
            return 1
        }
        if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
            echo "$url"
            return 0
        fi
        sleep 0.1
    done
    say "not ready after 60 s"
    stop "$dir"
    return 1
}

stop() {
    local pidf=$1/run/pid pid i
    [ -f "$pidf" ] || return 0
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
        kill -- "-$pid" 2>/dev/null || kill "$pid"
        for i in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null
    fi
    rm -f "$pidf"
}

case "${1:-}" in
    install) install "${2:-$root/target/receivers/phoenix}" ;;
    start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
    *) echo "usage: $0 install [DIR] | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
