#!/usr/bin/env python3
"""check_results.py FILE - ctest bench.short: the benchmark ran and every
scenario it planned is in bench-results.json with requests counted at
every connection count.  Speed is never judged."""
import json
import sys

doc = json.load(open(sys.argv[1]))
names = {r["scenario"] for r in doc["scenarios"]}
missing = [n for n in doc["expected_scenarios"] if n not in names]
base = ["healthz (token header)", "me", "never-seen token (/me)", "login",
        "dashboard employee while people are written"]
missing += [n for n in base if n not in names]
missing += [f"dashboard {d}" for d in ("employee", "leaver", "applicant")
            if not any(n.startswith(f"dashboard {d} [") for n in names)]
# A login costs ~0.4 s of Argon2id, so a 2 s run on a busy machine may
# finish none: that is speed, which this check never judges.
empty = [f"{r['scenario']} @{r['conns']}" for r in doc["scenarios"]
         if r["requests"] <= 0 and r["scenario"] != "login"]
if missing or empty or doc["rss_after_import"]["rss_anon_kb_after"] is None:
    print(f"missing: {missing}; no requests: {empty}")
    sys.exit(1)
print(f"{len(names)} scenarios, {len(doc['scenarios'])} runs")
