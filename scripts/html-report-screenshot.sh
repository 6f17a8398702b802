#!/usr/bin/env bash
# Renders the HTML report of a run in headless Chromium and takes a screenshot, to check by eye
# that it displays as an auditor would see it. Installs Debian's chromium if it is missing.
#   scripts/html-report-screenshot.sh [REPORT.html] [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-reports/report.html}
out=${2:-reports/report.png}
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -q && apt-get install -y -q chromium
fi
if [ ! -f "$report" ]; then
  cargo run -q --release -- run --report "html=$report" || true   # a failing run still writes it
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The background-networking flags keep Chromium from reaching out on a closed network.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1280,1400 --screenshot="$out" "file://$(realpath "$report")"
test -s "$out"
echo "screenshot: $out"
