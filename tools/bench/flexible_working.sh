#!/usr/bin/env bash
# tools/bench/flexible_working.sh - how fast flexible working requests are
# made, and the compliance report over all of them.  tools/bench.sh's
# write scenario cannot show it: the law allows one request in progress per
# employee, so with a token rotation every employee's second request is a
# 422.  Here each of N employees runs create -> withdraw -> create ... on
# its own connection (policy nhs: no yearly limit); every create and every
# withdraw is a durable write, and "creates/s" counts the 201s only.  Then
# the report is fetched over every request made.
#
# Usage: tools/bench/flexible_working.sh [SECONDS] [EMPLOYEES]
#   (after a build: build/porticod and build/plugins; PORTICO_BUILD_DIR to
#   use another build; TMPDIR=/dev/shm puts the store on tmpfs)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-32}
build=${PORTICO_BUILD_DIR:-build}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ -x "$build/porticod" ] || { echo "flexible_working.sh: build first (tools/test.sh)" >&2; exit 2; }
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTICO_ADMIN_PASSWORD=bench-admin "$build/porticod" --listen "127.0.0.1:$port" --data "$dir/data" \
    --plugins "$build/plugins" --demo --threads $((conns + 8)) --log-level warn \
    >"$dir/out.log" 2>"$dir/err.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
api="http://127.0.0.1:$port/api/v1"
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
login() {
    curl -sf -X POST "$api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" | jget access_token
}
pa=$(login portal.admin portico-demo)
curl -sf -X PUT "$api/orgs/demo-trust/portlets/flexible-working" -H "Authorization: Bearer $pa" \
    -H 'Content-Type: application/json' -d '{"enabled":true,"config":{"policy":"nhs"}}' >/dev/null
: >"$dir/tokens"
for i in $(seq "$conns"); do
    curl -sf -X POST "$api/orgs/demo-trust/people" -H "Authorization: Bearer $pa" \
        -H 'Content-Type: application/json' \
        -d "{\"username\":\"bench.fw$i\",\"password\":\"bench-fw-pass\",\"display_name\":\"Bench $i\",\"email\":\"bench.fw$i@example.org\",\"staff_group\":\"qualified_nurses\",\"status\":\"employee\",\"manager\":\"manager.mary\"}" >/dev/null
    login "bench.fw$i" bench-fw-pass >>"$dir/tokens"
done
start=$(date -d '+30 days' +%F)
cat >"$dir/fw.lua" <<LUA
local threads, n = {}, 0
function setup(thread)
  n = n + 1
  thread:set("idx", n)
  table.insert(threads, thread)
end
function init(args)
  local i = 0
  for line in io.lines("$dir/tokens") do
    i = i + 1
    if i == idx then token = line end
  end
  creates, withdraws, errors, pending = 0, 0, 0, nil
  hdr = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  body = '{"change_types":["part_time"],"proposed_start":"$start",' ..
         '"current_pattern":"Full time","requested_pattern":"0.8 WTE"}'
end
function request()
  if pending then
    return wrk.format("POST", "/api/v1/portlets/flexible-working/requests/" .. pending ..
                      "/withdraw", hdr, "{}")
  end
  return wrk.format("POST", "/api/v1/portlets/flexible-working/requests", hdr, body)
end
function response(status, headers, resp)
  if status == 201 then
    creates = creates + 1
    pending = resp:match('"id":%s*"(%d+)"')
  elseif status == 200 then
    withdraws = withdraws + 1
    pending = nil
  else
    errors = errors + 1
    pending = nil
  end
end
function done(summary, latency, requests)
  local c, w, e = 0, 0, 0
  for _, t in ipairs(threads) do
    c, w, e = c + t:get("creates"), w + t:get("withdraws"), e + t:get("errors")
  end
  local s = summary.duration / 1e6
  io.write(string.format("creates: %d (%.0f/s), withdraws: %d (%.0f/s), errors: %d\n",
                         c, c / s, w, w / s, e))
end
LUA
echo "== POST flexible-working requests (create + withdraw, $conns employees, ${secs}s) =="
wrk -t"$conns" -c"$conns" -d"${secs}s" --latency -s "$dir/fw.lua" "http://127.0.0.1:$port"
hr=$(login hr.admin portico-demo)
echo "== GET flexible-working report (hr_admin) over every request =="
curl -sf "$api/portlets/flexible-working/report" -H "Authorization: Bearer $hr" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("requests in the report:", r["total"])'
wrk -t2 -c4 -d5s --latency -H "Authorization: Bearer $hr" "$api/portlets/flexible-working/report"
