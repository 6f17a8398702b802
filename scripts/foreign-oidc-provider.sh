#!/usr/bin/env bash
# The plain profile against an independent RFC 7591/7592 server nobody here wrote: node's
# oidc-provider (pinned by foreign/oidc-provider/package-lock.json), in its default configuration
# with dynamic registration, its management and the client-credentials grant turned on, over
# plain HTTP on 127.0.0.1. Every scenario must pass or be a known failure that quotes the clause
# the server breaks, and every client the run registered must be deleted, except those the server
# strands by revoking a token used for another client (RFC 7592 §2.1: SHOULD be revoked), which
# are counted and named.
#
# Usage: scripts/foreign-oidc-provider.sh [OUT_DIR]   (DCR_HARNESS_BIN: the binary to use)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DCR_HARNESS_BIN:-target/debug/dcr-harness}
OUT=${1:-target/foreign/oidc-provider}
DIR=foreign/oidc-provider
mkdir -p "$OUT"

npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$DIR/server.mjs" "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if grep -q ready "$OUT/server.log"; then break; fi
    sleep 0.1
done
grep -q ready "$OUT/server.log" || { cat "$OUT/server.log"; echo "oidc-provider did not start" >&2; exit 1; }

"$BIN" run --root . --profile rfc7591-plain --target "http://127.0.0.1:$PORT" --no-snapshots \
    --known-failures "$DIR/known-failures.yaml" \
    --report "json=$OUT/report.json,junit=$OUT/junit.xml,md=$OUT/summary.md"

python3 - "$OUT/report.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["run"]
cleanups = [c for s in run["scenarios"] for c in s["cleanup"]]
left = [c for c in cleanups if not c["ok"] and not c.get("stranded")]
stranded = [c["client"] for c in cleanups if c.get("stranded")]
verdicts = {}
for s in run["scenarios"]:
    verdicts[s["verdict"]] = verdicts.get(s["verdict"], 0) + 1
print(f"oidc-provider: {len(run['scenarios'])} scenarios: {verdicts}; clients not deleted: {len(left)}; stranded by the server's revocation: {len(stranded)}")
if left:
    sys.exit(f"clients left behind: {left}")
PY
