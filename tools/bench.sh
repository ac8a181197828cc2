#!/usr/bin/env bash
# Benchmarks porticod on loopback with wrk (installed here if missing):
# authenticated reads (GET /api/v1/me: token verify + session + membership
# lookups in LMDB; the employee dashboard; the flu portlet's status) and an
# unauthenticated one (GET /healthz), on the demo organisation; then the
# leavers portlet: payslip list, one payslip PDF, and a 10,000-payslip pay run.
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
# ---- leavers portlet: the payslip list, one payslip as a PDF, a pay run
period=$(curl -sf "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips?limit=1" \
    -H "Authorization: Bearer $token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["period"])')
echo "== GET /api/v1/portlets/leavers/payslips (list, newest first) =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips"
echo "== GET /api/v1/portlets/leavers/payslips/$period as application/pdf =="
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    -H "Accept: application/pdf" "http://127.0.0.1:$port/api/v1/portlets/leavers/payslips/$period"
echo "== POST /api/v1/portlets/leavers/documents/bulk: a 10,000-payslip pay run =="
python3 - "$port" <<'PY'
import http.client, json, sys, time
port = int(sys.argv[1])
def call(method, path, body=None, token=None, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    h = {"Content-Type": ctype}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, r.read()
def login(user):
    s, b = call("POST", "/api/v1/auth/login",
                json.dumps({"username": user, "password": "portico-demo"}))
    return json.loads(b)["access_token"]
n = 10000
rows = ["username,display_name,email,staff_group,status,start_date,termination_date,manager,roles"]
rows += ["bench%05d,Bench %d,bench%05d@example.org,qualified_nurses,employee,2020-01-01,,," %
         (i, i, i) for i in range(n)]
s, b = call("POST", "/api/v1/orgs/demo-trust/people/import", "\n".join(rows) + "\n",
            login("portal.admin"), "text/csv")
assert s in (200, 201), (s, b[:300])
def slip(i):
    pay = [{"description": "Basic pay", "amount": 250000 + i},
           {"description": "Unsocial hours enhancement", "amount": 20000}]
    ded = [{"description": "Income tax", "amount": 33175}, {"description": "National Insurance",
           "amount": 15612}, {"description": "NHS Pension", "amount": 29400}]
    gross = sum(p["amount"] for p in pay)
    return {"username": "bench%05d" % i, "kind": "payslip", "period": "2030-04",
            "data": {"pay_date": "2030-04-25", "tax_code": "1257L", "ni_number": "AB123456C",
                     "pension_ref": "NHSPS-%06d" % i, "gross": gross,
                     "net": gross - sum(d["amount"] for d in ded), "payments": pay,
                     "deductions": ded, "ytd": {"gross": gross, "tax": 33175, "ni": 15612}}}
body = json.dumps({"documents": [slip(i) for i in range(n)]})
tok = login("payroll.admin")
t = time.time()
s, b = call("POST", "/api/v1/portlets/leavers/documents/bulk", body, tok)
dt = time.time() - t
print("status %d, %s; %d documents, %.1f MB in %.2f s (%.0f documents/s)" %
      (s, b[:120].decode(), n, len(body) / 1e6, dt, n / dt))
PY
