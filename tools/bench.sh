#!/usr/bin/env bash
# Benchmarks porticod on loopback with wrk (installed here if missing):
# authenticated reads (GET /api/v1/me: token verify + session + membership
# lookups in LMDB; the employee dashboard; the flu portlet's status) and an
# unauthenticated one (GET /healthz), on the demo organisation; then the
# applicant-welcome view and interaction writes as the demo applicant.
# Usage: tools/bench.sh [seconds] [connections]   (build first: tools/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
bin=build/porticod
[ -x "$bin" ] || { echo "bench: build first (tools/test.sh)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTICO_ADMIN_PASSWORD=bench-admin "$bin" --listen 127.0.0.1:$port --data "$dir/data" \
    --plugins build/plugins --demo --threads $((conns + 8)) >"$dir/out.log" 2>"$dir/err.log" &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
    -H 'Content-Type: application/json' \
    -d '{"username":"emp.eddie","password":"portico-demo"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
echo "== GET /api/v1/me (authenticated) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/me"
echo "== GET /api/v1/dashboards/employee (portlet summaries, ETag) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/dashboards/employee"
echo "== GET /api/v1/portlets/flu-countdown (people scan + counters) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/portlets/flu-countdown"
echo "== GET /healthz =="
wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port/healthz"
# applicant-welcome: the applicant view (the published version and the
# caller's own progress) and recording interactions (each a durable write:
# a counter and a per-person-per-day marker), as the demo applicant.
app_token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
    -H 'Content-Type: application/json' \
    -d '{"username":"app.alex","password":"portico-demo"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
echo "== GET /api/v1/portlets/applicant-welcome (applicant view) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $app_token" \
    "http://127.0.0.1:$port/api/v1/portlets/applicant-welcome"
cat >"$dir/interaction.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"target":"welcome_video","action":"play"}'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== POST /api/v1/portlets/applicant-welcome/interactions (durable writes) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$dir/interaction.lua" \
    -H "Authorization: Bearer $app_token" \
    "http://127.0.0.1:$port/api/v1/portlets/applicant-welcome/interactions"
