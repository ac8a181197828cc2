#!/usr/bin/env bash
# The leavers portlet's own speed figures (issue 8), next to GET /api/v1/me
# in the same run: the payslip list (p99 against /me's), one payslip as a
# PDF, and a 10,000-payslip pay run in one request.  tools/bench.sh covers
# every portlet's main GET and one write; this adds what only leavers has.
# Usage: plugins/leavers/bench.sh [seconds] [connections] [build dir]
#   (build first: tools/test.sh, or cmake --build build)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-32}
build=${3:-build}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
bin=$build/porticod
[ -x "$bin" ] || { echo "bench: build first (tools/test.sh)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTICO_ADMIN_PASSWORD=bench-admin "$bin" --listen 127.0.0.1:$port --data "$dir/data" \
    --plugins "$build/plugins" --demo --threads $((conns + 8)) >"$dir/out.log" 2>"$dir/err.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
login() {
    curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"portico-demo\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
token=$(login emp.eddie)
period=$(curl -sf "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips?limit=1" \
    -H "Authorization: Bearer $token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["period"])')
run() {
    echo "== $1 =="
    shift
    wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$@" |
        grep -E 'Requests/sec|  99%|Non-2xx'
}
run "GET /api/v1/me" "http://127.0.0.1:$port/api/v1/me"
run "GET /api/v1/portlets/leavers/payslips (12 payslips, newest first)" \
    "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips"
run "GET /api/v1/portlets/leavers/payslips/$period as application/pdf" \
    -H "Accept: application/pdf" "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips/$period"
echo "== POST /api/v1/portlets/leavers/documents/bulk: a 10,000-payslip pay run =="
PA=$(login portal.admin) PAY=$(login payroll.admin) python3 - "$port" <<'PY'
import http.client, json, os, sys, time
port = int(sys.argv[1])
def call(method, path, body, token, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=body, headers={"Content-Type": ctype,
                                                "Authorization": "Bearer " + token})
    r = c.getresponse()
    return r.status, r.read()
n = 10000
rows = ["username,display_name,email,staff_group,status,start_date,termination_date,manager,roles"]
rows += ["bench%05d,Bench %d,bench%05d@example.org,qualified_nurses,employee,2020-01-01,,," %
         (i, i, i) for i in range(n)]
s, b = call("POST", "/api/v1/orgs/demo-trust/people/import", "\n".join(rows) + "\n",
            os.environ["PA"], "text/csv")
assert s in (200, 201), (s, b[:300])
def slip(i):
    pay = [{"description": "Basic pay", "amount": 250000 + i},
           {"description": "Unsocial hours enhancement", "amount": 20000}]
    ded = [{"description": "Income tax", "amount": 33175},
           {"description": "National Insurance", "amount": 15612},
           {"description": "NHS Pension", "amount": 29400}]
    gross = sum(p["amount"] for p in pay)
    return {"username": "bench%05d" % i, "kind": "payslip", "period": "2030-04",
            "data": {"pay_date": "2030-04-25", "tax_code": "1257L", "ni_number": "AB123456C",
                     "pension_ref": "NHSPS-%06d" % i, "gross": gross,
                     "net": gross - sum(d["amount"] for d in ded), "payments": pay,
                     "deductions": ded, "ytd": {"gross": gross, "tax": 33175, "ni": 15612}}}
body = json.dumps({"documents": [slip(i) for i in range(n)]})
t = time.time()
s, b = call("POST", "/api/v1/portlets/leavers/documents/bulk", body, os.environ["PAY"])
dt = time.time() - t
print("status %d, %s; %d documents, %.1f MB in %.2f s (%.0f documents/s)" %
      (s, b[:120].decode(), n, len(body) / 1e6, dt, n / dt))
PY
