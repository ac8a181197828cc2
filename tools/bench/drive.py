#!/usr/bin/env python3
"""drive.py - runs wrk for every scenario of seed.py's scenarios.json (and
the reference servers) and writes the tables and bench-results.json.

  drive.py --out DIR --porticod URL,PID [--ceiling URL,PID] [--fastify URL,PID]
           --secs S --conns "32 256" --results FILE [--writer-rows R]
           [--rss-before KB] [--rss-after-import KB]

Server CPU per request is the change of utime+stime in /proc/PID/stat over
a run divided by the requests wrk completed; anon RSS is RssAnon from
/proc/PID/status after the run.  Nothing here judges speed.
"""
import argparse
import json
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
LOGIN_CONNS = 4
HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def rss_anon_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return None


def wrk(url, pid, s, conns, secs, threads=2):
    if s.get("follow"):
        threads = conns  # one connection per thread: answers in order (rotate.lua)
    env = dict(os.environ, BENCH_TOKENS=s.get("tokens", ""), BENCH_BODIES=s.get("body", ""),
               BENCH_THREADS=str(threads), BENCH_PAIRED="1" if s.get("paired") else "",
               BENCH_FOLLOW=s.get("follow", ""), BENCH_FOLLOW_BODY=s.get("follow_body", "{}"),
               BENCH_METHOD=s.get("method", "GET"), BENCH_CTYPE=s.get("ctype", "application/json"))
    c0, t0 = cpu_ticks(pid), time.time()
    r = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--timeout", "10s",
                        "-s", os.path.join(HERE, "rotate.lua"), url + s["path"]],
                       env=env, capture_output=True, text=True)
    c1 = cpu_ticks(pid)
    line = next((l for l in r.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if r.returncode or not line:
        raise SystemExit(f"drive: wrk failed for {s['name']}: {r.stdout}{r.stderr}")
    m = json.loads(line[len("BENCHJSON "):])
    n = max(1, m["requests"])
    secs_real = m["duration_us"] / 1e6
    return {"req_s": round(m["requests"] / secs_real, 1), "p50_ms": round(m["p50_us"] / 1000, 3),
            "p99_ms": round(m["p99_us"] / 1000, 3),
            "cpu_us_per_req": round((c1 - c0) / TICK * 1e6 / n, 1),
            "rss_anon_kb": rss_anon_kb(pid), "requests": m["requests"],
            "errors": m["err_status"] + m["err_connect"] + m["err_read"] + m["err_write"] + m["err_timeout"],
            "non_2xx": m["err_status"], "wall_s": round(time.time() - t0, 2)}


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--porticod", required=True)
    p.add_argument("--ceiling")
    p.add_argument("--fastify")
    p.add_argument("--secs", type=float, default=10)
    p.add_argument("--conns", default="32 256")
    p.add_argument("--results", required=True)
    p.add_argument("--writer-rows", type=int, default=10000)
    p.add_argument("--rss-before", type=int)
    p.add_argument("--rss-after-import", type=int)
    p.add_argument("--meta", default="{}")
    a = p.parse_args()
    info = json.load(open(os.path.join(a.out, "scenarios.json")))
    conns = [int(c) for c in a.conns.split()]
    secs = a.secs if a.secs == int(a.secs) else a.secs
    secs = int(max(1, round(secs)))
    purl, ppid = a.porticod.split(",")
    refs = {}
    me = next(s for s in info["scenarios"] if s["name"] == "me")
    for name, arg in (("ceiling", a.ceiling), ("fastify", a.fastify)):
        if arg:
            url, pid = arg.split(",")
            refs[name] = {}
            for c in conns:
                print(f"bench: {name} /me-equivalent, {c} connections", file=sys.stderr, flush=True)
                refs[name][c] = wrk(url, pid, dict(me, name=f"{name} /me"), c, secs)

    results = []
    for s in info["scenarios"]:
        runs = conns
        if s["group"] == "login":
            # Each login is an Argon2id hash (64 MiB, ~0.4 s of a core here):
            # a few connections keep the CPUs busy without timeouts.
            runs = [LOGIN_CONNS]
        parts = None
        if s.get("fresh"):
            # Never-seen tokens: each connection count gets its own slice.
            toks = open(s["tokens"]).read().split()
            k = len(toks) // len(runs)
            parts = []
            for j in range(len(runs)):
                fn = f"{s['tokens']}.{j}"
                with open(fn, "w") as f:
                    f.write("\n".join(toks[j * k:(j + 1) * k]) + "\n")
                parts.append((fn, k))
        for j, c in enumerate(runs):
            print(f"bench: {s['name']}, {c} connections", file=sys.stderr, flush=True)
            writer = None
            if s.get("writer"):
                writer = subprocess.Popen([sys.executable, os.path.join(HERE, "seed.py"), "writer",
                                           "--base", purl, "--out", a.out, "--secs", str(secs),
                                           "--rows", str(a.writer_rows)],
                                          stdout=subprocess.PIPE, text=True)
            if parts:
                s = dict(s, tokens=parts[j][0])
            r = wrk(purl, ppid, s, c, secs)
            if parts:
                r["fresh_tokens"] = parts[j][1]
                r["tokens_reused"] = r["requests"] > parts[j][1]
            if writer:
                out, _ = writer.communicate()
                try:
                    r["writer"] = json.loads(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    r["writer"] = {"error": "no report"}
            ref = {k: v[c]["req_s"] for k, v in refs.items() if c in v}
            r.update(scenario=s["name"], group=s["group"], method=s["method"], path=s["path"],
                     conns=c,
                     vs_ceiling=round(r["req_s"] / ref["ceiling"], 3) if ref.get("ceiling") else None,
                     vs_fastify=round(r["req_s"] / ref["fastify"], 3) if ref.get("fastify") else None)
            results.append(r)

    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "secs": secs, "conns": conns,
           "data_set": {k: info[k] for k in ("orgs", "people", "import_secs", "portlets",
                                               "users_logged_in", "tokens")},
           "rss_after_import": {"people": info["people"], "rss_anon_kb_before": a.rss_before,
                                "rss_anon_kb_after": a.rss_after_import},
           "references": {k: {str(c): v for c, v in d.items()} for k, d in refs.items()},
           "expected_scenarios": [s["name"] for s in info["scenarios"]],
           "scenarios": results, "meta": json.loads(a.meta)}
    with open(a.results, "w") as f:
        json.dump(doc, f, indent=1)

    # Markdown: one table per scenario, rows per connection count.
    out = []
    ds = doc["data_set"]
    out.append(f"Data set: {ds['orgs']} organisations, {ds['people']} people "
               f"(imported in {ds['import_secs']} s), portlets: {', '.join(ds['portlets']) or 'none'}; "
               f"{secs} s per run. RSS (anon) after importing {info['people']} people: "
               f"{a.rss_after_import} KiB (empty server: {a.rss_before} KiB).\n")
    hdr = ("| conns | req/s | p50 ms | p99 ms | CPU µs/req | RSS anon MiB | non-2xx | ×ceiling | ×Fastify |\n"
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def row(c, r):
        return (f"| {c} | {r['req_s']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['cpu_us_per_req']} | "
                f"{(r['rss_anon_kb'] or 0) / 1024:.1f} | {r['non_2xx']} | "
                f"{fmt_ratio(r.get('vs_ceiling'))} | {fmt_ratio(r.get('vs_fastify'))} |")

    for name, d in refs.items():
        out.append(f"### reference: {name} (GET /me equivalent)\n\n{hdr}")
        out += [row(c, dict(r, vs_ceiling=None, vs_fastify=None)) for c, r in d.items()]
        out.append("")
    groups = [("read", "Reads"), ("write", "Writes (one per portlet)"), ("mixed", "Reads during writes"),
              ("login", "Login (Argon2id; reported separately)")]
    for g, title in groups:
        names = []
        for r in results:
            if r["group"] == g and r["scenario"] not in names:
                names.append(r["scenario"])
        if not names:
            continue
        out.append(f"## {title}\n")
        for n in names:
            rs = [r for r in results if r["scenario"] == n]
            out.append(f"### {n}: `{rs[0]['method']} {rs[0]['path']}`\n\n{hdr}")
            out += [row(r["conns"], r) for r in rs]
            for r in rs:
                if "writer" in r:
                    out.append(f"\n{r['conns']} conns, background writes: {json.dumps(r['writer'])}")
            out.append("")
    md = "\n".join(out)
    with open(os.path.splitext(a.results)[0] + ".md", "w") as f:
        f.write(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
