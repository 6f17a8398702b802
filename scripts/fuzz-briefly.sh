#!/usr/bin/env bash
# Runs each fuzz target for a short, bounded time on stable Rust, without cargo-fuzz: the
# target is built with libFuzzer's coverage instrumentation and run on the committed seeds.
# A crash (panic, hang past -timeout, memory past -rss_limit_mb) fails the script and leaves
# its input in fuzz/artifacts/.
#
# Usage: scripts/fuzz-briefly.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-30}
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# With an explicit --target, RUSTFLAGS reach the fuzzed code but not build scripts and proc
# macros, which must not be instrumented (as cargo-fuzz does it).
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo build --locked --release --bins --target "$HOST" --target-dir target
mkdir -p artifacts
for target in parsers loaders; do
    mkdir -p "corpus/$target"
    "target/$HOST/release/$target" "corpus/$target" corpus/seeds \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix=artifacts/ -print_final_stats=1 2>&1 | tail -4
done
