#!/usr/bin/env bash
# The explorer's proof at length: against the embedded server, clean and with every variant, in
# each profile whose lifecycle the model follows, at least REQUESTS generated requests each must
# give no finding; then each scored flaw must be found. Prints a table; exits 1 on a false
# finding. Usage: scripts/explore-proof.sh [REQUESTS] [SEED]
set -euo pipefail
requests="${1:-5000}"
seed="${2:-2026}"
harness="${DCR_HARNESS:-target/release/dcr-harness}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
false_findings=0
printf '%-22s %-36s %9s %9s %8s %s\n' profile server sequences requests req/s findings
for profile in reference rfc7591-plain fapi-dcr obuk berlin-group fapi-message-signing; do
  for server in clean $("$harness" serve --list-variants | awk '{print $1}'); do
    flag=()
    [ "$server" != clean ] && flag=(--variant "$server")
    line="$("$harness" explore --profile "$profile" --seed "$seed" --requests "$requests" --out "$out" "${flag[@]}" 2>/dev/null | head -2 | tr '\n' ' ' || true)"
    sequences="$(sed -E 's/.*: ([0-9]+) sequences.*/\1/' <<<"$line")"
    sent="$(sed -E 's/.* ([0-9]+) requests in.*/\1/' <<<"$line")"
    rate="$(sed -E 's/.*\(([0-9]+) requests\/s.*/\1/' <<<"$line")"
    found="$(sed -E 's/.*findings: ([0-9]+).*/\1/' <<<"$line")"
    printf '%-22s %-36s %9s %9s %8s %s\n' "$profile" "$server" "$sequences" "$sent" "$rate" "$found"
    [ "$found" = 0 ] || false_findings=$((false_findings + 1))
  done
done
echo "configurations with a false finding: $false_findings"
[ "$false_findings" = 0 ]
