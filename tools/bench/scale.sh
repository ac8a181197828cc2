#!/usr/bin/env bash
# Scale scenarios (issue 15): the employee dashboard while people are
# written, and anon RSS after importing N people.  Build first
# (tools/test.sh).  Each scenario ends with one JSON line.
#
#   tools/bench/scale.sh              100,000 people: both scenarios
#   tools/bench/scale.sh --large      also 1,500,000 people (slow: ~1 GiB store)
#   SCALE_SECONDS=10 SCALE_CONNS=32   wrk duration and connections
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ -x build/porticod ] || { echo "scale: build first (tools/test.sh)" >&2; exit 2; }
secs=${SCALE_SECONDS:-10}
conns=${SCALE_CONNS:-32}
py=tools/bench/scale.py
python3 "$py" dashboard --people 100000 --seconds "$secs" --connections "$conns"
python3 "$py" rss --people 100000 --seconds "$secs" --connections "$conns" --also-dashboard
if [ "${1:-}" = "--large" ]; then
    python3 "$py" dashboard --people 1500000 --seconds "$secs" --connections "$conns"
    python3 "$py" rss --people 1500000 --seconds "$secs" --connections "$conns" --also-dashboard
fi
