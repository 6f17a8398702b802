#!/usr/bin/env bash
# The load figures of the README, measured in one run on this machine (127.0.0.1 only), each
# beside its reference from the same run, as a ratio:
#  1. fresh-signed mTLS POSTs through `load` vs a hand-written tokio+reqwest loop (same server,
#     keys and connections), with client CPU per request for both;
#  2. per-second signature reuse vs unsigned mTLS GETs through `load` (five turns each way, as
#     in 1), and vs fresh signing;
#  3. `load` wall time vs the profile's run time, cleanup included (smoke and register-and-delete
#     with the default rolling cleanup; signed-post keeping every client to the end);
#  4. unsigned GETs through `load` vs wrk (installed from Debian if missing);
#  5. RSS of a 60 s load at 5 s and at 59 s;
#  6. three shards merged vs one process with the same users.
# The server runs in its own process (`serve`), so every CPU figure is the client's alone.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q wrk; }
cargo build --release -q
cargo bench --bench server_throughput --no-run -q 2>/dev/null
bin=target/release/dcr-harness
pki=target/test-pki
out=target/bench-load
mkdir -p "$out"
$bin pki init --pki "$pki" >/dev/null 2>&1
$bin serve --pki "$pki" --listen 127.0.0.1:18443 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
url=https://127.0.0.1:18443

# Requests per second and client CPU microseconds per request of a `load` run.
load_figures() { # profile name [load flags...]
    local profile=$1 name=$2
    shift 2
    /usr/bin/time -f "%e %U %S" -o "$out/$name.time" $bin load "$profile" --pki "$pki" --target "$url" --report "json=$out/$name.json" "$@" >/dev/null 2>"$out/$name.err"
    set -- "$profile" "$name"
    python3 - "$out/$2.json" "$out/$2.time" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); wall, user, sys_ = map(float, open(sys.argv[2]).read().split()[-3:])
cpu = r.get('cpu_us_per_request') or (user + sys_) * 1e6 / max(r['requests'], 1)
print(f"{r['throughput']:.0f} {cpu:.0f} {wall:.2f} {r['duration_s']:.2f} {r['requests']} {r['latency']['p99_us']}")
PY
}
ratio() { python3 -c "print(f'{($1) / ($2):.2f}')"; }

# The server's CPU microseconds per request while a 10 s load runs: its process's CPU from the
# 2nd to the 8th second (past the preflight and the ramp, before the cleanup) over the requests
# the load's own rate puts in those 6 s. With the client's figure it bounds a ratio: two cores
# shared, no client can push more than 2 s / (client + server CPU per request) a second.
server_ticks() { awk '{print $14 + $15}' /proc/$server/stat; }
server_cpu_figures() { # profile name
    local before after
    ( sleep 2; server_ticks > "$out/$2.server-before"; sleep 6; server_ticks > "$out/$2.server-after" ) &
    read -r rate cpu _ < <(load_figures "$1" "$2")
    wait
    before=$(cat "$out/$2.server-before"); after=$(cat "$out/$2.server-after")
    python3 -c "print(f'{$rate} {$cpu} {($after - $before) * 1e6 / $(getconf CLK_TCK) / max($rate * 6, 1):.0f}')"
}

# Fresh-signed load and the hand loop take turns five times (the machine is noisy: a ratio of
# two runs minutes apart says little, and a neighbour can halve one run); the figures are the
# medians, the ratio the median of each turn's own ratio (its two runs seconds apart).
hand_figures() { # name
    local line requests
    line=$( { /usr/bin/time -f "%U %S" -o "$out/$1.time" env SECONDS=10 CONNECTIONS=8 TARGET=$url cargo bench -q --bench server_throughput 2>/dev/null; } | tail -1)
    requests=$(echo "$line" | grep -oE '[0-9]+ ok' | grep -oE '[0-9]+' || echo 1)
    python3 -c "u,s=map(float,open('$out/$1.time').read().split()[-2:]); print(f\"$(echo "$line" | grep -oE '[0-9]+ requests/s' | grep -oE '[0-9]+' || echo 0) {(u+s)*1e6/max($requests,1):.0f}\")"
}
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.0f}')" "$@"; }
# The median of the turns' own ratios, each turn given as A/B.
median_ratio() { python3 -c 'import statistics,sys; print("%.2f" % statistics.median(float(a) / max(float(b), 1) for a, b in (t.split("/") for t in sys.argv[1:])))' "$@"; }
fresh_all=(); fresh_cpu_all=(); hand_all=(); hand_cpu_all=(); turns=""
for turn in 1 2 3 4 5; do
    read -r f fc fw _ _ _ < <(load_figures load/signed-post.yaml "fresh-$turn")
    read -r h hc < <(hand_figures "hand-$turn")
    fresh_all+=("$f"); fresh_cpu_all+=("$fc"); hand_all+=("$h"); hand_cpu_all+=("$hc")
    fresh_wall=$fw; turns="$turns $f/$h"
done
fresh=$(median "${fresh_all[@]}"); fresh_cpu=$(median "${fresh_cpu_all[@]}")
hand=$(median "${hand_all[@]}"); hand_cpu=$(median "${hand_cpu_all[@]}")
fresh_ratio=$(median_ratio $turns)
# Per-second reuse and unsigned GETs take turns the same way: the figures are the medians, the
# ratio the median of each turn's own.
reuse_all=(); reuse_cpu_all=(); reuse_server_all=(); get_all=(); get_cpu_all=(); get_server_all=()
reuse_turns=""
for turn in 1 2 3 4 5; do
    read -r r rc rs < <(server_cpu_figures load/signed-post-per-second.yaml "reuse-$turn")
    read -r g gc gs < <(server_cpu_figures load/unsigned-get.yaml "get-$turn")
    reuse_all+=("$r"); reuse_cpu_all+=("$rc"); reuse_server_all+=("$rs")
    get_all+=("$g"); get_cpu_all+=("$gc"); get_server_all+=("$gs")
    reuse_turns="$reuse_turns $r/$g"
done
reuse=$(median "${reuse_all[@]}"); reuse_cpu=$(median "${reuse_cpu_all[@]}"); reuse_server=$(median "${reuse_server_all[@]}")
get=$(median "${get_all[@]}"); get_cpu=$(median "${get_cpu_all[@]}"); get_server=$(median "${get_server_all[@]}")
reuse_ratio=$(median_ratio $reuse_turns)
# Both engines on the same closed-model profiles, one after the other, in this run.
read -r h_smoke h_smoke_cpu _ _ _ _ < <(load_figures load/smoke.yaml engine-harness-smoke)
read -r g_smoke g_smoke_cpu _ _ _ _ < <(load_figures load/smoke.yaml engine-goose-smoke --engine goose)
read -r g_post g_post_cpu _ _ _ _ < <(load_figures load/signed-post.yaml engine-goose-post --engine goose)
wrk_rate=$(wrk -t2 -c8 -d10s "$url/.well-known/oauth-authorization-server" | awk '/Requests\/sec/ {print int($2)}')

echo "| figure | measured | reference (same run) | ratio |"
echo "| --- | ---: | ---: | ---: |"
echo "| fresh-signed POSTs through load (median of 5 turns, the ratio the median of theirs: load/hand$turns) | $fresh/s | hand loop $hand/s | ${fresh_ratio}x |"
echo "| client CPU per fresh-signed POST | $fresh_cpu us | hand loop $hand_cpu us | $(ratio "$fresh_cpu" "$hand_cpu")x |"
echo "| per-second signature reuse (median of 5 turns, the ratio the median of theirs: reuse/GET$reuse_turns) | $reuse/s | unsigned mTLS GETs through load $get/s | ${reuse_ratio}x |"
echo "| per-second signature reuse | $reuse/s | fresh-signed through load $fresh/s | $(ratio "$reuse" "$fresh")x |"
echo "| CPU per request, client + server: reuse (a registration: RSA verify, a client stored) | $reuse_cpu + $reuse_server us | unsigned GET $get_cpu + $get_server us | $(ratio "$reuse_cpu + $reuse_server" "$get_cpu + $get_server")x |"
echo "| the most reuse could reach against GETs with a client that cost nothing, this server | $(ratio "$get_cpu + $get_server" "$reuse_server")x | | |"
echo "| load wall time of signed-post (every request a registration, keep_clients: all), cleanup included | $fresh_wall s | profile run time 10 s | $(ratio "$fresh_wall" 10)x |"
echo "| unsigned mTLS GETs through load | $get/s | wrk -t2 -c8 (no client certificate) $wrk_rate/s | $(ratio "$get" "$wrk_rate")x |"
echo "| client CPU per unsigned GET | $get_cpu us | | |"
echo "| goose engine, smoke (mixed, accept and reject paths) | $g_smoke/s | harness engine $h_smoke/s | $(ratio "$g_smoke" "$h_smoke")x |"
echo "| client CPU per request, goose engine, smoke | $g_smoke_cpu us | harness engine $h_smoke_cpu us | $(ratio "$g_smoke_cpu" "$h_smoke_cpu")x |"
echo "| goose engine, fresh-signed POSTs (signed-post) | $g_post/s | harness engine $fresh/s | $(ratio "$g_post" "$fresh")x |"
echo "| client CPU per fresh-signed POST, goose engine | $g_post_cpu us | harness engine $fresh_cpu us | $(ratio "$g_post_cpu" "$fresh_cpu")x |"

# Three shards as processes against the same server, started together, merged; then one
# process with all the users.
start=$(( $(date +%s) + 3 ))
for i in 0 1 2; do
    $bin load load/signed-post.yaml --pki "$pki" --target "$url" --shard "$i/3" --start-at "$start" --out "$out/shard-$i.json" >/dev/null 2>&1 &
done
wait %2 %3 %4 2>/dev/null || wait
$bin load merge "$out"/shard-{0,1,2}.json --report "json=$out/merged.json" >/dev/null
merged=$(python3 -c "import json; print(f\"{json.load(open('$out/merged.json'))['throughput']:.0f}\")")
echo "| 3 shards of signed-post, merged | $merged/s | one process, same users $fresh/s | $(ratio "$merged" "$fresh")x |"

read -r _ _ smoke_wall _ _ _ < <(load_figures load/smoke.yaml smoke)
echo "| load wall time of smoke (2 in 13 requests a registration, rolling cleanup), cleanup included | $smoke_wall s | profile run time 5 s | $(ratio "$smoke_wall" 5)x |"
read -r _ _ paired_wall _ _ _ < <(load_figures load/register-and-delete.yaml paired)
echo "| load wall time of register-and-delete, cleanup included | $paired_wall s | profile run time 10 s | $(ratio "$paired_wall" 10)x |"

kill $server 2>/dev/null || true
/usr/bin/time -f "%e" -o "$out/steady.time" $bin load load/steady.yaml > "$out/steady.txt" 2>/dev/null &
timed=$!
sleep 5; load=$(pgrep -n -f 'dcr-harness load load/steady.yaml'); rss_start=$(ps -o rss= -p $load)
sleep 54; rss_end=$(ps -o rss= -p $load)
wait $timed || true
echo "| load wall time of steady (no registrations), cleanup and the embedded server's start included | $(tail -1 "$out/steady.time") s | profile run time 60 s | $(ratio "$(tail -1 "$out/steady.time")" 60)x |"
echo "| RSS of a 60 s load (embedded server in the process) | $rss_end KiB at 59 s | $rss_start KiB at 5 s | $(ratio "$rss_end" "$rss_start")x |"
