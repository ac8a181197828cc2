#!/usr/bin/env python3
"""Scale scenarios for porticod (issue 15), Python standard library + wrk.

  scale.py dashboard --people N      employee dashboard quiet, then while a
                                     person is PATCHed every 100 ms and a
                                     10,000-row import runs; prints both
                                     throughputs and their ratio
  scale.py rss --people N            anon RSS (RssAnon) at start and after
                                     importing N people in 10,000-row requests

Starts porticod itself (build/porticod, --demo, the flu-countdown portlet on
the employee dashboard) on loopback in a temporary directory.  The last line
of each scenario is one JSON object the harness can read.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUPS = ["qualified_nurses", "doctors", "support_to_clinical", "other_clinical"]
BATCH = 10000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, bin_path, plugins, threads, extra):
        self.dir = tempfile.mkdtemp(prefix="portico-scale-")
        self.port = free_port()
        env = dict(os.environ, PORTICO_ADMIN_PASSWORD="bench-admin")
        argv = [bin_path, "--listen", "127.0.0.1:%d" % self.port, "--data",
                os.path.join(self.dir, "data"), "--plugins", plugins, "--demo",
                "--threads", str(threads), "--log-level", "warn"] + extra
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("porticod did not start; log in " + self.dir)

    def request(self, method, path, body=None, token=None, ctype="application/json"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = ctype
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def login(self, user, password="portico-demo"):
        st, data = self.request("POST", "/api/v1/auth/login",
                                {"username": user, "password": password})
        if st != 200:
            raise SystemExit("login %s: %d %s" % (user, st, data[:200]))
        return json.loads(data)["access_token"]

    def rss_anon_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            m = re.search(r"RssAnon:\s+(\d+) kB", f.read())
        return int(m.group(1))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def csv_batch(start, n, termination=None):
    rows = ["username,display_name,email,staff_group,status,termination_date"]
    for i in range(start, start + n):
        g = GROUPS[i % len(GROUPS)]
        st = "applicant" if i % 50 == 0 else "employee"
        td = termination or ""
        rows.append("p%07d,Person %d,p%d@bench.example,%s,%s,%s" % (i, i, i, g, st, td))
    return ("\n".join(rows) + "\n").encode()


class Importer:
    """Imports people in 10,000-row requests, logging in again as needed."""

    def __init__(self, srv):
        self.srv = srv
        self.token = srv.login("portal.admin")
        self.at = time.time()
        self.next = 0

    def batch(self, n=BATCH):
        if time.time() - self.at > 600:
            self.token, self.at = self.srv.login("portal.admin"), time.time()
        st, data = self.srv.request("POST", "/api/v1/orgs/demo-trust/people/import",
                                    csv_batch(self.next, n), self.token, "text/csv")
        if st != 201:
            raise SystemExit("import: %d %s" % (st, data[:300]))
        self.next += n

    def up_to(self, total, say=True):
        t0 = time.time()
        while self.next < total:
            self.batch(min(BATCH, total - self.next))
            if say and (self.next % 100000 == 0 or self.next == total):
                print("  imported %d people (%.0f s)" % (self.next, time.time() - t0),
                      flush=True)


def wrk(srv, token, secs, conns):
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % secs, "--latency",
                          "-H", "Authorization: Bearer " + token,
                          "http://127.0.0.1:%d/api/v1/dashboards/employee" % srv.port],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if os.environ.get("SCALE_VERBOSE"):
        print(out, flush=True)
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99, "non2xx": int(non2xx.group(1)) if non2xx else 0}


def dashboard(srv, args):
    imp = Importer(srv)
    imp.up_to(args.people)
    tok = srv.login("emp.eddie")
    srv.request("GET", "/api/v1/dashboards/employee", token=tok)  # one request fills caches
    wrk(srv, tok, 2, args.connections)  # warm up
    quiet = wrk(srv, tok, args.seconds, args.connections)
    print("  quiet: %.0f req/s, p99 %.2f ms" % (quiet["rps"], quiet["p99_ms"]), flush=True)

    stop = threading.Event()
    writes = {"patches": 0, "patch_errors": 0, "imports": 0}
    admin = srv.login("portal.admin")

    def patcher():
        i = 0
        while not stop.is_set():
            t = time.time()
            user = "p%07d" % ((i * 7919) % args.people)
            body = {"staff_group": GROUPS[i % len(GROUPS)]}
            st, _ = srv.request("PATCH", "/api/v1/orgs/demo-trust/people/" + user, body, admin)
            writes["patches" if st == 200 else "patch_errors"] += 1
            i += 1
            stop.wait(max(0.0, 0.1 - (time.time() - t)))

    def importer():
        stop.wait(1.0)
        imp.batch()
        writes["imports"] += 1

    threads = [threading.Thread(target=patcher), threading.Thread(target=importer)]
    for t in threads:
        t.start()
    busy = wrk(srv, tok, args.seconds, args.connections)
    stop.set()
    for t in threads:
        t.join()
    print("  while written: %.0f req/s, p99 %.2f ms (%d PATCHes, %d failed, %d import)"
          % (busy["rps"], busy["p99_ms"], writes["patches"], writes["patch_errors"],
             writes["imports"]), flush=True)
    return {"scenario": "dashboard_while_written", "people": args.people, "quiet": quiet,
            "written": busy, "writes": writes, "ratio": round(busy["rps"] / max(quiet["rps"], 1e-9), 3)}


def rss(srv, args):
    start = srv.rss_anon_kb()
    imp = Importer(srv)
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], srv.rss_anon_kb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.time()
    try:
        imp.up_to(args.people)
    finally:
        done.set()
        sampler.join()
    secs = time.time() - t0
    time.sleep(0.5)
    after = srv.rss_anon_kb()
    print("  RssAnon: %.1f MiB at start, %.1f MiB after %d people (%.0f s), peak %.1f MiB"
          % (start / 1024, after / 1024, args.people, secs, peak[0] / 1024), flush=True)
    res = {"scenario": "rss_after_import", "people": args.people,
           "rss_anon_start_mib": round(start / 1024, 1),
           "rss_anon_peak_mib": round(peak[0] / 1024, 1),
           "rss_anon_after_mib": round(after / 1024, 1), "import_seconds": round(secs, 1)}
    if args.also_dashboard:
        tok = srv.login("emp.eddie")
        srv.request("GET", "/api/v1/dashboards/employee", token=tok)
        wrk(srv, tok, 2, args.connections)
        res["dashboard_quiet"] = wrk(srv, tok, args.seconds, args.connections)
        print("  dashboard quiet: %.0f req/s" % res["dashboard_quiet"]["rps"], flush=True)
        res["rss_anon_after_reads_mib"] = round(srv.rss_anon_kb() / 1024, 1)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", choices=["dashboard", "rss"])
    ap.add_argument("--people", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--also-dashboard", action="store_true",
                    help="rss: also measure the quiet dashboard afterwards")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "porticod"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build", "plugins"))
    ap.add_argument("--extra", default="", help="more porticod arguments")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("scale: wrk is not installed (apt-get install wrk)")
    srv = Server(args.bin, args.plugins, args.threads, args.extra.split())
    try:
        print("== %s, %d people ==" % (args.scenario, args.people), flush=True)
        res = dashboard(srv, args) if args.scenario == "dashboard" else rss(srv, args)
        print(json.dumps(res))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
