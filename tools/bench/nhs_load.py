#!/usr/bin/env python3
"""NHS-scale load (issue 14): organisations, people and a year of payslips
loaded through the bulk routes, on either store backend, with load time,
store size and the employee dashboard's throughput afterwards.

  nhs_load.py --build DIR [--store lmdb|postgres] [--orgs N] [--people N]
              [--months M] [--secs S] [--conns C]

Starts its own porticod (Release build in DIR) on loopback in a temporary
directory; with --store postgres also a throwaway PostgreSQL
(tests/integration/pg_fixture.py).  People come in through
POST /api/v1/orgs/{org}/people/import (CSV, 10,000 rows a request),
payslips through POST /api/v1/portlets/leavers/documents/bulk (5,000 a
request, signed in as each organisation's payroll admin).  Prints progress
on stderr and one JSON line at the end.  It never judges speed.
"""

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import seed  # noqa: E402  (people rows, payslip bodies, the HTTP client)

ADMIN_PASSWORD = "nhs-load-admin-password"
DOCS_PER_REQUEST = 5000
ROWS_PER_REQUEST = 10000


def log(msg):
    print(f"nhs_load: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def months_back(n):
    """The n pay periods ending with this month, oldest first."""
    t = time.gmtime()
    y, m = t.tm_year, t.tm_mon
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def store_bytes(store, data_dir, pg):
    if store == "lmdb":
        st = os.stat(os.path.join(data_dir, "data.mdb"))
        return st.st_blocks * 512
    r = pg.psql("select pg_database_size(current_database())", pg.last_db)
    return int(r.strip())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--store", choices=("lmdb", "postgres"), default="lmdb")
    p.add_argument("--orgs", type=int, default=300)
    p.add_argument("--people", type=int, default=1500000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--secs", type=int, default=10)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--workers", type=int, default=2, help="parallel load requests")
    a = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="portico-nhs-")
    data = os.path.join(tmp, "data")
    pg = None
    procs = []
    try:
        args = ["--data", data]
        if a.store == "postgres":
            import pg_fixture
            pg = pg_fixture.PgServer(durable=True).start()  # fsync on, like LMDB
            url = pg.create_db()
            pg.last_db = url.rsplit("/", 1)[1].split("?")[0]
            args += ["--store", url]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, PORTICO_ADMIN_PASSWORD=ADMIN_PASSWORD)
        cfg = os.path.join(tmp, "config.json")
        with open(cfg, "w") as f:
            json.dump({"access_ttl": 86400}, f)
        srv = subprocess.Popen([os.path.join(a.build, "porticod"), "--listen", f"127.0.0.1:{port}",
                                "--plugins", os.path.join(a.build, "plugins"), "--config", cfg,
                                "--threads", str(a.conns + 8), "--log-level", "warn"] + args,
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(tmp, "porticod.err"), "w"))
        procs.append(srv)
        cl = seed.Client(base)
        for _ in range(200):
            try:
                if cl.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        admin = seed.must(cl.call("POST", "/api/v1/auth/login",
                                  {"username": "admin", "password": ADMIN_PASSWORD}), (200,), "admin login")
        admin = admin["access_token"]
        orgs = [seed.org_id(i) for i in range(a.orgs)]
        per_org = [a.people // a.orgs + (1 if i < a.people % a.orgs else 0) for i in range(a.orgs)]
        today = time.time()
        catalogue = seed.must(cl.call("GET", "/api/v1/portlets", None, admin), (200,), "catalogue")["items"]
        leavers = next((c for c in catalogue if c["id"] == "leavers"), None)
        if not leavers:
            raise SystemExit("nhs_load: the leavers portlet is not loaded")
        placements = [{"dashboard": d, "position": k + 1} for k, d in enumerate(leavers.get("dashboards", []))]

        # People: person 0 of each organisation (every role) signs in to load
        # its payslips; nobody else has a password (hashing is a login's cost).
        t0 = time.time()

        def load_people(oi):
            o, n = orgs[oi], per_org[oi]
            seed.must(cl.call("POST", "/api/v1/orgs", {"id": o, "name": f"NHS Trust {oi:04d}"}, admin),
                      (201,), f"create {o}")
            seed.must(cl.call("PUT", f"/api/v1/orgs/{o}/portlets/leavers",
                              {"enabled": True, "placements": placements, "config": {}}, admin),
                      (200, 201), f"enable leavers in {o}")
            for start in range(0, n, ROWS_PER_REQUEST):
                rows = [seed.HEADER]
                for i in range(start, min(n, start + ROWS_PER_REQUEST)):
                    rows.append(seed.person_row(o, i, today, seed.PASSWORD if i == 0 else "")[0])
                seed.must(cl.call("POST", f"/api/v1/orgs/{o}/people/import", "\n".join(rows) + "\n",
                                  admin, "text/csv"), (201,), f"import into {o}")
            return n

        done = 0
        with cf.ThreadPoolExecutor(a.workers) as ex:
            for k, n in enumerate(ex.map(load_people, range(a.orgs))):
                done += n
                if (k + 1) % max(1, a.orgs // 10) == 0:
                    log(f"{done} people ({k + 1}/{a.orgs} orgs, {time.time() - t0:.0f} s)")
        people_secs = time.time() - t0
        size_people = store_bytes(a.store, data, pg)

        # Payslips: every employee and leaver, one per month.
        periods = months_back(a.months)
        t0 = time.time()

        def load_payslips(oi):
            o, n = orgs[oi], per_org[oi]
            tok = seed.must(cl.call("POST", "/api/v1/auth/login",
                                    {"username": seed.uname(o, 0), "password": seed.PASSWORD, "org": o}),
                            (200,), f"login in {o}")["access_token"]
            docs, count = [], 0

            def flush():
                seed.must(cl.call("POST", "/api/v1/portlets/leavers/documents/bulk", {"documents": docs},
                                  tok), (200, 201), f"payslips for {o}")

            for i in range(1, n):
                if seed.kind_of(i) in ("employee", "leaver"):
                    for period in periods:
                        docs.append(seed.payslip(seed.uname(o, i), period))
                        if len(docs) == DOCS_PER_REQUEST:
                            flush()
                            count += len(docs)
                            docs = []
            if docs:
                flush()
                count += len(docs)
            return count

        payslips = 0
        if a.months:
            with cf.ThreadPoolExecutor(a.workers) as ex:
                for k, n in enumerate(ex.map(load_payslips, range(a.orgs))):
                    payslips += n
                    if (k + 1) % max(1, a.orgs // 10) == 0:
                        log(f"{payslips} payslips ({k + 1}/{a.orgs} orgs, {time.time() - t0:.0f} s)")
        payslip_secs = time.time() - t0
        size_all = store_bytes(a.store, data, pg)

        # The employee dashboard afterwards, with a few signed-in employees.
        toks = []
        for oi in range(min(8, a.orgs)):
            o = orgs[oi]
            tok = seed.must(cl.call("POST", "/api/v1/auth/login",
                                    {"username": seed.uname(o, 0), "password": seed.PASSWORD, "org": o}),
                            (200,), "login")["access_token"]
            toks.append(tok)
        tf = os.path.join(tmp, "tokens.txt")
        with open(tf, "w") as f:
            f.write("\n".join(toks) + "\n")
        wenv = dict(os.environ, BENCH_TOKENS=tf, BENCH_THREADS="2")
        r = subprocess.run(["wrk", "-t2", f"-c{a.conns}", f"-d{a.secs}s", "-s", os.path.join(HERE, "rotate.lua"),
                            base + "/api/v1/dashboards/employee"], env=wenv, capture_output=True, text=True)
        line = next((x for x in r.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
        wrk = json.loads(line[len("BENCHJSON "):]) if line else {"error": r.stdout + r.stderr}
        dash = None
        if line:
            dash = {"req_s": round(wrk["requests"] / (wrk["duration_us"] / 1e6), 1),
                    "p99_ms": wrk["p99_us"] / 1000, "non_2xx": wrk["err_status"]}
        print(json.dumps({"store": a.store, "orgs": a.orgs, "people": sum(per_org), "months": a.months,
                          "payslips": payslips, "people_secs": round(people_secs, 1),
                          "payslip_secs": round(payslip_secs, 1),
                          "payslips_per_s": round(payslips / payslip_secs, 1) if payslip_secs else None,
                          "store_bytes_people": size_people, "store_bytes_all": size_all,
                          "dashboard_employee": dash, "conns": a.conns, "secs": a.secs,
                          "load_average": os.getloadavg()}))
    finally:
        for pr in procs:
            pr.terminate()
            try:
                pr.wait(30)
            except subprocess.TimeoutExpired:
                pr.kill()
        if pg:
            pg.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
