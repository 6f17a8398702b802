#!/usr/bin/env bash
# The suite's own mutation score: cargo-mutants over the reference server's lifecycle and
# metadata code, the fixed suite and the explorer each run against every mutant
# (tests/mutants.rs). Runs in a clone (cargo-mutants mutates in place), and prints each tool's
# kill rate. A measurement, hours long on two cores: not run in CI.
# Usage: scripts/mutants.sh [SHARD]   (e.g. 0/2 for half of the mutants)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# DCR_MUTANTS_WORK reuses an earlier run's clone (and its build) at this commit.
work="${DCR_MUTANTS_WORK:-$(mktemp -d)}"
if [ -d "$work/main/.git" ]; then
  git -C "$work/main" fetch -q "$here" HEAD && git -C "$work/main" reset -q --hard FETCH_HEAD
  rm -rf "$work/main/mutants.out" "$work/kills.jsonl"
else
  git clone -q "$here" "$work/main"
fi
[ -e "$here/../shared" ] && [ ! -e "$work/shared" ] && ln -s "$(cd "$here/../shared" && pwd)" "$work/shared"
log="$work/kills.jsonl"
shard=()
[ -n "${1:-}" ] && shard=(--shard "$1")
cd "$work/main"
CARGO_PROFILE_DEV_DEBUG=0 DCR_MUTANTS_LOG="$log" cargo mutants --in-place --no-shuffle \
  --file src/server/handlers/lifecycle.rs --file src/server/metadata.rs "${shard[@]}" \
  --timeout 300 -- --test mutants -- --ignored || true
touch "$log"
python3 - "$log" "$work/main/mutants.out/outcomes.json" <<'PY'
import json, sys
kills = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    kills.setdefault(row["mutant"], {})[row["tool"]] = row["killed"]
outcomes = json.load(open(sys.argv[2]))
counts = {}
for o in outcomes.get("outcomes", []):
    summary = o.get("summary")
    counts[summary] = counts.get(summary, 0) + 1
viable = [m for m in kills if m]
suite = sum(1 for m in viable if kills[m].get("suite"))
explore = sum(1 for m in viable if kills[m].get("explore"))
either = sum(1 for m in viable if kills[m].get("suite") or kills[m].get("explore"))
print(f"cargo-mutants outcomes: {counts}")
print(f"mutants judged by both tools: {len(viable)}")
print(f"fixed suite killed {suite} ({100*suite/max(len(viable),1):.0f}%), explorer {explore} ({100*explore/max(len(viable),1):.0f}%), either {either}")
for m in viable:
    if not kills[m].get("suite") and not kills[m].get("explore"):
        print("survived:", m[:300])
PY
echo "log: $log"
