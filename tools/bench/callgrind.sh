#!/bin/bash
# tools/bench/callgrind.sh - instructions per request, counted by callgrind
# (repeatable on a busy machine, unlike req/s).  Starts porticod --demo
# under valgrind, signs USER in, sends N GETs of PATH on one keep-alive
# connection with callgrind collecting only inside on_request, and prints
# callgrind's PROGRAM TOTALS.  Per request = (total at 400 - total at 100) / 300.
#
#   tools/bench/callgrind.sh BUILD_DIR PATH [N] [USER]
#   e.g. tools/bench/callgrind.sh build /api/v1/me 400
set -euo pipefail
build=$1 path=$2 n=${3:-300} user=${4:-emp.eddie}
command -v valgrind >/dev/null || { echo "callgrind: apt-get install valgrind" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
PORTICO_ADMIN_PASSWORD=x valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    --collect-atstart=no --toggle-collect='on_request*' "$build/porticod" --listen "127.0.0.1:$port" \
    --data "$dir/data" --plugins "$build/plugins" --demo --threads 4 >"$dir/out" 2>"$dir/err" &
vpid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
tok=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"portico-demo\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 - "$port" "$path" "$tok" "$n" <<'PY'
import http.client, sys
port, path, tok, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path, headers={"Authorization": "Bearer " + tok})
    r = c.getresponse()
    r.read()
PY
kill -INT "$vpid"
wait "$vpid" 2>/dev/null || true
callgrind_annotate "$dir/cg.out" 2>/dev/null | grep -m1 "PROGRAM TOTALS"
