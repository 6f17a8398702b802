#!/usr/bin/env bash
# The load figures of the README, measured in one run on this machine (127.0.0.1 only):
#  1. the harness's goose load of signed mTLS POSTs vs a hand-written tokio+reqwest loop, same
#     server and keys;
#  2. goose on an unsigned GET vs wrk (installed from Debian if missing), same server;
#  3. peak RSS of a 60 s load run, at its start and its end.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q wrk; }
cargo build --release -q
cargo bench --bench server_throughput --no-run -q 2>/dev/null
bin=target/release/dcr-harness
pki=target/test-pki
$bin pki init --dir "$pki" >/dev/null 2>&1
$bin serve --pki "$pki" --listen 127.0.0.1:18443 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
url=https://127.0.0.1:18443

echo "== signed mTLS POSTs, 8 connections, 10 s"
$bin load load/signed-post.yaml --pki "$pki" --target "$url" | grep '^load'
SECONDS=10 CONNECTIONS=8 TARGET=$url cargo bench -q --bench server_throughput 2>/dev/null | tail -1

echo "== unsigned GET, 8 connections, 10 s"
$bin load load/unsigned-get.yaml --pki "$pki" --target "$url" | grep '^load'
wrk -t2 -c8 -d10s "$url/.well-known/oauth-authorization-server" | grep -E 'Requests/sec|Latency'

echo "== memory of a 60 s load run (embedded server in the same process)"
kill $server 2>/dev/null || true
$bin load load/steady.yaml > /tmp/steady.txt &
load=$!
sleep 5; start=$(ps -o rss= -p $load)
sleep 54; end=$(ps -o rss= -p $load)
wait $load || true
grep '^load' /tmp/steady.txt
echo "RSS at 5 s: ${start} KiB; at 59 s: ${end} KiB"
