#!/usr/bin/env bash
# tools/bench.sh - the benchmark (issue 13): builds a Release porticod, seeds
# a data set through the API, and drives porticod on loopback with wrk
# (keep-alive, tools/bench/rotate.lua rotating over many real tokens); in the
# same run it measures two reference servers it builds itself: the minimal
# CivetWeb server (tools/bench/ceiling.c, the ceiling) and Fastify + jose
# (tools/bench/fastify, what a user might pick instead).  Prints a markdown
# table per scenario and writes bench-results.json (+ .md).  It never
# judges speed.
#
# Usage: tools/bench.sh [--short] [--people N] [--orgs N] [--users N]
#                       [--secs N] [--conns "32 256"] [--no-ref]
#                       [--build-dir DIR] [--out DIR]
#   --short      2 s per run, 3 organisations x 300 people (what CI runs)
#   --people N   people in all (default 100000; 1500000 for NHS scale)
#   --orgs N     organisations (default 300)
#   --users N    employees who log in (tokens: each login + 7 refreshes)
#   --secs N     seconds per wrk run (default 10)
#   --conns L    connection counts (default "32 256")
#   --no-ref     skip the ceiling and Fastify servers
#   --build-dir  use this build's porticod, portico and plugins instead of
#                building build-bench/ (also $PORTICO_BUILD_DIR)
#   --out DIR    where results go (default bench-out/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

people= orgs= users= secs= conns= ref=1 short=0
build_dir=${PORTICO_BUILD_DIR:-} out=bench-out
while [ $# -gt 0 ]; do
    case $1 in
    --short) short=1 ;;
    --people) people=$2; shift ;;
    --orgs) orgs=$2; shift ;;
    --users) users=$2; shift ;;
    --secs) secs=$2; shift ;;
    --conns) conns=$2; shift ;;
    --no-ref) ref=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
# Explicit flags win over the mode's defaults.
if [ "$short" = 1 ]; then
    : "${people:=900}" "${orgs:=3}" "${users:=8}" "${secs:=2}"
    writer_rows=1000
else
    : "${people:=100000}" "${orgs:=300}" "${users:=64}" "${secs:=10}"
    writer_rows=10000
fi
: "${conns:=32 256}"
log() { echo "bench: $*" >&2; }

# --- tools: installed only when absent (Debian packages) ------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v cc >/dev/null || need+=(gcc)
[ -e /usr/include/civetweb.h ] || need+=(libcivetweb-dev)
[ -e /usr/include/openssl/evp.h ] || need+=(libssl-dev)
if [ "$ref" = 1 ]; then
    command -v node >/dev/null || need+=(nodejs)
    command -v npm >/dev/null || need+=(npm)
fi
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- build -------------------------------------------------------------------
if [ -z "$build_dir" ]; then
    build_dir=build-bench
    log "building a Release porticod in $build_dir/"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build_dir" -j"$(nproc)" --target porticod portico >/dev/null
    for d in plugins/*/; do
        [ -f "$d/CMakeLists.txt" ] && cmake --build "$build_dir" -j"$(nproc)" --target "$(basename "$d")" >/dev/null 2>&1 || true
    done
fi
build_dir=$(cd "$build_dir" && pwd)
[ -x "$build_dir/porticod" ] || { log "no porticod in $build_dir"; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/portico-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/mint" tools/bench/mint.c -lcrypto

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; log "$1 did not come up"; return 1; }
rss() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }

# One worker thread per connection (CivetWeb keeps a keep-alive connection
# on its thread), as for the reference servers.
max_conns=$(echo $conns | tr ' ' '\n' | sort -n | tail -1)
threads=$((max_conns + 8))

# --- porticod ------------------------------------------------------------------
port=$(free_port)
echo '{"access_ttl": 86400}' >"$work/config.json"  # tokens outlive a long run
export PORTICO_ADMIN_PASSWORD=bench-admin-password
# The signing key starts as a file that porticod imports into its new store
# (README, "Signing keys and rotation"), so mint and the fastify reference
# server can use it; nothing here rotates.
mkdir -p -m 700 "$work/data"
[ -e "$work/data/jwt-private.pem" ] ||
    python3 -c 'import sys; sys.path.insert(0, "tests/integration"); import portico_harness as h; h.write_key_pair(sys.argv[1])' "$work/data"
"$build_dir/porticod" --listen "127.0.0.1:$port" --data "$work/data" --plugins "$build_dir/plugins" \
    --config "$work/config.json" --threads "$threads" --max-body $((16 * 1024 * 1024)) \
    --log-level warn --demo >"$work/porticod.out" 2>"$work/porticod.err" &
ppid=$!
pids+=("$ppid")
wait_up "http://127.0.0.1:$port/healthz"
rss_before=$(rss "$ppid")

log "seeding $orgs organisations, $people people"
fresh=$((secs * 20000 * $(echo $conns | wc -w)))
python3 tools/bench/seed.py seed --base "http://127.0.0.1:$port" --out "$work/set" \
    --orgs "$orgs" --people "$people" --users "$users" --requesters "$max_conns" --cli "$build_dir/portico" \
    --data "$work/data" --mint "$work/mint" --fresh "$fresh"
rss_after=$(rss "$ppid")

# --- reference servers -----------------------------------------------------------
refargs=()
if [ "$ref" = 1 ]; then
    cc -O2 -o "$work/ceiling" tools/bench/ceiling.c -lcivetweb
    cport=$(free_port)
    "$work/ceiling" "$cport" "$threads" &
    pids+=("$!")
    refargs+=(--ceiling "http://127.0.0.1:$cport,$!")
    (cd tools/bench/fastify && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fport=$(free_port)
    node tools/bench/fastify/server.mjs "$fport" "$work/data/jwt-public.pem" &
    pids+=("$!")
    refargs+=(--fastify "http://127.0.0.1:$fport,$!")
    wait_up "http://127.0.0.1:$cport/"
    wait_up "http://127.0.0.1:$fport/healthz"
fi

meta=$(printf '{"nproc": %s, "cpu": "%s", "porticod_threads": %s, "build_dir": "%s", "wrk_threads": 2}' \
    "$(nproc)" "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$threads" "$build_dir")
python3 tools/bench/drive.py --out "$work/set" --porticod "http://127.0.0.1:$port,$ppid" \
    "${refargs[@]}" --secs "$secs" --conns "$conns" --results "$out/bench-results.json" \
    --writer-rows "$writer_rows" --rss-before "$rss_before" --rss-after-import "$rss_after" \
    --meta "$meta"
kill -0 "$ppid" 2>/dev/null || { log "porticod died during the run"; cat "$work/porticod.err" >&2; exit 1; }
log "results: $out/bench-results.json and $out/bench-results.md"
