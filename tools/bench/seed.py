#!/usr/bin/env python3
"""seed.py - the benchmark's data set and scenario list (Python 3 stdlib only).

  seed.py seed   --base URL --out DIR --orgs N --people N --users N
                 --cli PORTICO --data DATA_DIR [--mint MINT --fresh N]
  seed.py writer --base URL --out DIR --secs S --rows R

`seed` creates organisations through POST /api/v1/orgs as the system
administrator (PORTICO_ADMIN_PASSWORD), loads people through the CSV import
(at most 10,000 rows per request), enables every loaded portlet in every
organisation (the demo organisation's config and placements when the
portlet has a demo, else a minimal valid config), writes realistic portlet
data, logs users in (and refreshes their sessions for more real tokens) and
writes DIR/scenarios.json plus the token and body files rotate.lua reads.
Portlets that are not loaded get no scenarios, so new ones are picked up
as they land.  `writer` is the background load of the "dashboard while
people are written" scenario: a PATCH every 100 ms and one import of R rows.
"""
import argparse
import base64
import concurrent.futures as cf
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

PASSWORD = "bench-password-1"
GROUPS = ["doctors", "qualified_nurses", "other_clinical", "support_to_clinical",
          "admin_and_clerical", "estates"]
ALL_ROLES = "portal_admin;content_admin;payroll_admin;oh_admin;hr_admin"
HEADER = ("username,display_name,email,staff_group,status,start_date,termination_date,"
          "manager,roles,password")
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hamza", "Isla", "Jack",
         "Kiran", "Leah", "Mo", "Niamh", "Owen", "Priya", "Rhys", "Sian", "Tom", "Zara"]
LAST = ["Smith", "Jones", "Patel", "Williams", "Khan", "Brown", "Evans", "Taylor", "Davies",
        "Hughes", "Okafor", "Nowak", "Murphy", "Roberts", "Ali", "Wilson"]


def log(msg):
    print(f"seed: {msg}", file=sys.stderr, flush=True)


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=600)
        return c

    def call(self, method, path, body=None, token=None, ctype="application/json"):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            headers["Content-Type"] = ctype
        for attempt in range(2):
            try:
                c = self.conn()
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.local.c = None
                if attempt:
                    raise
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return r.status, doc


class Checked:
    """A Client whose answers are checked: the first failure of a portlet's
    data is logged once (its data is best effort; its scenarios still run)."""

    def __init__(self, cl, pid, warned):
        self.cl, self.pid, self.warned = cl, pid, warned

    def call(self, method, path, body=None, token=None, ctype="application/json"):
        st, doc = self.cl.call(method, path, body, token, ctype)
        if st >= 300 and self.pid not in self.warned:
            self.warned.add(self.pid)
            log(f"warning: {self.pid} data: {method} {path}: HTTP {st}: {json.dumps(doc)[:300]}")
        return st, doc


def must(status_doc, ok, what):
    status, doc = status_doc
    if status not in ok:
        raise SystemExit(f"seed: {what}: HTTP {status}: {json.dumps(doc)[:400]}")
    return doc


def b64url_json(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def org_id(i):
    return f"bench-{i:04d}"


def uname(org, i):
    return f"{org}.p{i:07d}"


def person_row(org, i, today, password=""):
    """Person i of an organisation: 0 is the admin (every role); about 6%
    applicants (start date ahead), 4% recent leavers, the rest employees;
    every 10th person manages the next nine."""
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    status, start, term, roles = "employee", "2019-04-01", "", ""
    kind = "employee"
    if i == 0:
        roles = ALL_ROLES
    elif i % 50 in (7, 23, 41):
        status, start, kind = "applicant", time.strftime("%Y-%m-%d", time.gmtime(today + 30 * 86400)), "applicant"
    elif i % 25 == 13:
        term, kind = time.strftime("%Y-%m-%d", time.gmtime(today - 10 * 86400)), "leaver"
    manager = uname(org, i - i % 10) if i % 10 else ""
    row = ",".join([uname(org, i), f"{first} {last}", f"{first.lower()}.{last.lower()}.{i}@{org}.nhs.example",
                    GROUPS[i % len(GROUPS)], status, start, term, manager, roles, password])
    return row, kind


def kind_of(i):
    if i == 0:
        return "admin"
    if i % 50 in (7, 23, 41):
        return "applicant"
    if i % 25 == 13:
        return "leaver"
    return "employee"


def minimal_config(item):
    if item["id"] == "flu-countdown":
        now = time.time()
        return {"campaign": "Flu vaccination (bench)",
                "starts_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30 * 86400)),
                "ends_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60 * 86400))}
    return {}


# ---- realistic per-portlet data and the write each portlet is measured with ----

def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def payslip(user, period):
    return {"username": user, "kind": "payslip", "period": period,
            "data": {"pay_date": period + "-25", "tax_code": "1257L", "ni_number": "AB123456C",
                     "pension_ref": "NHSPS-123456", "gross": 300000, "net": 221813,
                     "payments": [{"description": "Basic pay", "amount": 276000},
                                  {"description": "Unsocial hours enhancement", "amount": 24000}],
                     "deductions": [{"description": "Income tax", "amount": 33175},
                                    {"description": "National Insurance", "amount": 15612},
                                    {"description": "NHS Pension", "amount": 29400}],
                     "ytd": {"gross": 2100000, "tax": 232225, "ni": 109284, "pension": 205800}}}


def seed_flu(cl, org, tok, people, now):
    for s, name in (("main-hub", "Main atrium hub"), ("roving", "Roving vaccinators")):
        cl.call("PUT", f"/api/v1/portlets/flu-countdown/sites/{s}",
                {"name": name, "location": "Ground floor",
                 "sessions": [{"starts_at": iso(now + 86400), "ends_at": iso(now + 86400 + 8 * 3600),
                               "notes": "Walk-in"}]}, tok)
    for k in range(min(8, max(1, people // 40))):
        cl.call("POST", "/api/v1/portlets/flu-countdown/vaccinations",
                {"staff_group": GROUPS[k % 4], "site": "main-hub" if k % 2 else "roving",
                 "vaccinated_at": iso(now - 3600 * (k + 1))}, tok)


def seed_leavers(cl, org, tok, people, now):
    docs = []
    for i in range(1, min(people, 40)):
        if kind_of(i) in ("employee", "leaver"):
            for m in ("2026-08", "2026-09", "2026-10"):
                docs.append(payslip(uname(org, i), m))
    cl.call("POST", "/api/v1/portlets/leavers/documents/bulk", {"documents": docs}, tok)


def seed_welcome(cl, org, tok, people, now):
    cl.call("PUT", "/api/v1/portlets/applicant-welcome/content",
            {"headline": "Welcome to the trust",
             "welcome_video": {"url": "https://example.org/welcome.mp4",
                               "title": "A welcome from our chief executive",
                               "captions_url": "https://example.org/welcome.vtt"},
             "services": [{"name": "Occupational health", "description": "Before you start",
                           "url": "https://example.org/oh"}],
             "checklist": [{"id": "id-check", "title": "Bring your ID", "kind": "document",
                            "url": "https://example.org/id"},
                           {"id": "mandatory-training", "title": "Mandatory training",
                            "kind": "training", "url": "https://example.org/training"}]}, tok)
    cl.call("POST", "/api/v1/portlets/applicant-welcome/content/publish", {}, tok)


def seed_flex(cl, org, tok, people, now):
    pass  # requests are made by employees in the write scenario


SEEDERS = {"flu-countdown": seed_flu, "leavers": seed_leavers,
           "applicant-welcome": seed_welcome, "flexible-working": seed_flex}


def write_plan(pid, org, now):
    """(method, path, token kind, body) of the one write measured per portlet."""
    if pid == "flu-countdown":
        return ("POST", "/api/v1/portlets/flu-countdown/vaccinations", "admin",
                {"staff_group": "doctors", "site": "main-hub", "vaccinated_at": iso(now - 60)})
    if pid == "leavers":
        return ("POST", "/api/v1/portlets/leavers/documents", "admin", payslip(uname(org, 1), "2026-10"))
    if pid == "applicant-welcome":
        return ("POST", "/api/v1/portlets/applicant-welcome/interactions", "applicant",
                {"target": "welcome_video", "action": "open"})
    if pid == "flexible-working":
        return ("POST", "/api/v1/portlets/flexible-working/requests", "employee",
                {"change_types": ["part_time"], "proposed_start": time.strftime("%Y-%m-%d", time.gmtime(now + 90 * 86400)),
                 "current_pattern": "37.5 hours, Monday to Friday",
                 "requested_pattern": "30 hours, Monday to Thursday", "description": "Caring responsibilities"})
    return None


def token_kind_for_route(route):
    """Which of our users may call a portlet route (the catalogue's gates)."""
    statuses = route.get("statuses") or []
    if route.get("roles"):
        return "admin"
    if statuses and "employee" not in statuses:
        return statuses[0]
    return "employee"


# ---------------------------------------------------------------------------

def seed(a):
    cl = Client(a.base)
    out = a.out
    os.makedirs(out, exist_ok=True)
    now = time.time()
    today = int(now) - int(now) % 86400
    admin = must(cl.call("POST", "/api/v1/auth/login",
                         {"username": "admin", "password": os.environ["PORTICO_ADMIN_PASSWORD"]}),
                 (200,), "admin login")["access_token"]

    orgs = [org_id(i) for i in range(1, a.orgs + 1)]
    per_org = [a.people // a.orgs + (1 if i < a.people % a.orgs else 0) for i in range(a.orgs)]
    # Who logs in: employees spread over the organisations, plus a few
    # leavers and applicants; everyone else has no password (hashing is the
    # cost of a login, so only those who log in pay it at import).
    wanted = {"employee": a.users, "leaver": max(2, a.users // 8), "applicant": max(2, a.users // 8)}
    logins = {k: [] for k in wanted}
    for kind, n in wanted.items():
        for j in range(n):
            oi, rank = j % a.orgs, j // a.orgs  # the rank-th person of that kind in org oi
            for i in range(1, per_org[oi]):
                if kind_of(i) == kind:
                    if rank == 0:
                        logins[kind].append((orgs[oi], i))
                        break
                    rank -= 1
    pw = {(o, i) for v in logins.values() for (o, i) in v}

    t0 = time.time()
    for o in orgs:
        must(cl.call("POST", "/api/v1/orgs", {"id": o, "name": f"Bench NHS Trust {o[6:]}",
                                               "settings": {"leaver_access_days": 90}}, admin),
             (201, 409), f"create {o}")
    log(f"{len(orgs)} organisations in {time.time() - t0:.1f}s")

    def import_org(oi):
        o, n = orgs[oi], per_org[oi]
        done = 0
        for start in range(0, n, 10000):
            rows = [HEADER]
            for i in range(start, min(n, start + 10000)):
                rows.append(person_row(o, i, today, PASSWORD if (o, i) in pw else "")[0])
            must(cl.call("POST", f"/api/v1/orgs/{o}/people/import", "\n".join(rows) + "\n", admin,
                         "text/csv"), (201,), f"import into {o}")
            done += len(rows) - 1
        return done

    t0 = time.time()
    total = 0
    with cf.ThreadPoolExecutor(2) as ex:
        for k, n in enumerate(ex.map(import_org, range(len(orgs)))):
            total += n
            if (k + 1) % max(1, len(orgs) // 10) == 0:
                log(f"imported {total} people ({k + 1}/{len(orgs)} orgs, {time.time() - t0:.0f}s)")
    import_secs = time.time() - t0
    log(f"{total} people imported in {import_secs:.1f}s")

    # Portlets: what is loaded, and the demo organisation's settings for it.
    catalogue = must(cl.call("GET", "/api/v1/portlets", None, admin), (200,), "catalogue")["items"]
    demo = {}
    st, doc = cl.call("GET", "/api/v1/orgs/demo-trust/portlets", None, admin)
    if st == 200:
        demo = {p["id"]: p for p in doc["items"] if p.get("enabled")}
    settings = {}
    for item in catalogue:
        d = demo.get(item["id"])
        placements = (d or {}).get("placements") or [
            {"dashboard": db, "position": k + 1} for k, db in enumerate(item.get("dashboards", []))]
        settings[item["id"]] = {"enabled": True, "placements": placements,
                                "config": d["config"] if d else minimal_config(item)}
    if "flexible-working" in settings:
        # The write scenario creates and withdraws requests over and over for
        # the same people; the statutory policy allows two a year each.
        settings["flexible-working"]["config"] = dict(settings["flexible-working"]["config"] or {},
                                                      policy="nhs")
    log("portlets loaded: " + (", ".join(settings) or "none"))

    # Org admin tokens for the portlets' data (portlet routes need a member
    # of the organisation): issued with the CLI, no password hashing.
    def cli_token(user, o):
        r = subprocess.run([a.cli, "--data", a.data, "token", "issue", "--user", user,
                            "--org", o, "--ttl", "86400"], capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"seed: token issue for {user} in {o}: {r.stderr}")
        return r.stdout.strip()

    def org_admin_token(o):
        return cli_token(uname(o, 0), o)

    warned = set()

    def setup_org(oi):
        o = orgs[oi]
        for pid, s in settings.items():
            must(cl.call("PUT", f"/api/v1/orgs/{o}/portlets/{pid}", s, admin), (200, 201),
                 f"enable {pid} in {o}")
        tok = org_admin_token(o)
        for pid in settings:
            if pid in SEEDERS:
                try:
                    SEEDERS[pid](Checked(cl, pid, warned), o, tok, per_org[oi], now)
                except Exception as e:  # data for a portlet is best effort
                    if pid not in warned:
                        warned.add(pid)
                        log(f"warning: {pid} data in {o}: {e}")
        return tok

    t0 = time.time()
    with cf.ThreadPoolExecutor(4) as ex:
        admin_tokens = list(ex.map(setup_org, range(len(orgs))))
    log(f"portlets enabled and their data written in {time.time() - t0:.1f}s")

    # Logins (Argon2id each), then refreshes: every refresh is another real
    # access token of the same session, without another password check.
    def login(pair):
        o, i = pair
        doc = must(cl.call("POST", "/api/v1/auth/login",
                           {"username": uname(o, i), "password": PASSWORD, "org": o}), (200,),
                   f"login {uname(o, i)}")
        toks, rt = [doc["access_token"]], doc["refresh_token"]
        for _ in range(a.refreshes):
            d = must(cl.call("POST", "/api/v1/auth/refresh", {"refresh_token": rt}), (200,), "refresh")
            toks.append(d["access_token"])
            rt = d["refresh_token"]
        return toks

    t0 = time.time()
    tokens = {}
    with cf.ThreadPoolExecutor(2) as ex:
        for kind, pairs in logins.items():
            tokens[kind] = [t for ts in ex.map(login, pairs) for t in ts]
    tokens["admin"] = admin_tokens[: max(1, min(len(admin_tokens), 64))]
    log(f"{sum(len(v) for v in logins.values())} logins in {time.time() - t0:.1f}s; tokens: "
        + ", ".join(f"{k} {len(v)}" for k, v in tokens.items()))

    def tokfile(kind):
        path = os.path.join(out, f"tokens-{kind}.txt")
        with open(path, "w") as f:
            f.write("\n".join(tokens[kind]) + "\n")
        return path

    # Requesters for the flexible-working cycle: one person per connection
    # (each may have one request in progress), tokens issued with the CLI.
    req_people = []
    for i in range(1, max(per_org)):
        for oi, o in enumerate(orgs):
            if i < per_org[oi] and kind_of(i) == "employee" and len(req_people) < a.requesters:
                req_people.append((o, i))
    tokens["requester"] = [cli_token(uname(o, i), o) for o, i in req_people]

    files = {k: tokfile(k) for k in tokens if tokens[k]}
    with open(os.path.join(out, "login-bodies.txt"), "w") as f:
        for o, i in logins["employee"]:
            f.write(json.dumps({"username": uname(o, i), "password": PASSWORD, "org": o}) + "\n")

    # Never-seen tokens: the claims of real tokens (a live session) with a
    # new jti each, signed with the server's key by tools/bench/mint.
    if a.mint and a.fresh:
        base = tokens["employee"]
        inputs = []
        for n in range(a.fresh):
            h, p, _ = base[n % len(base)].split(".")
            claims = json.loads(b64url_decode(p))
            claims["jti"] = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
            inputs.append(h + "." + b64url_json(claims))
        with open(os.path.join(out, "tokens-fresh.txt"), "w") as f:
            r = subprocess.run([a.mint, os.path.join(a.data, "jwt-private.pem")],
                               input="\n".join(inputs) + "\n", stdout=f, text=True)
        if r.returncode:
            raise SystemExit("seed: mint failed")
        files["fresh"] = os.path.join(out, "tokens-fresh.txt")

    # Scenarios.
    sc = []

    def add(name, path, kind, method="GET", body=None, group="read", ctype=None, extra=None):
        if kind not in files:
            log(f"skipping {name}: no {kind} tokens")
            return
        s = {"name": name, "method": method, "path": path, "tokens": files[kind], "group": group}
        if kind == "fresh":
            s["fresh"] = True
        if body is not None:
            # A list is one body per token line (rotate.lua's BENCH_PAIRED).
            bodies = body if isinstance(body, list) else [body]
            bf = os.path.join(out, "body-" + name.replace("/", "_").replace(" ", "_") + ".txt")
            with open(bf, "w") as f:
                f.write("\n".join(json.dumps(b) for b in bodies) + "\n")
            s["body"], s["ctype"] = bf, ctype or "application/json"
            s["paired"] = isinstance(body, list)
        s.update(extra or {})
        sc.append(s)

    add("healthz (token header)", "/healthz", "employee")
    add("me", "/api/v1/me", "employee")
    for db in ("employee", "leaver", "applicant"):
        on = [pid for pid, s in settings.items() if any(p["dashboard"] == db for p in s["placements"])]
        add(f"dashboard {db} [{', '.join(on) or 'no portlets'}]", f"/api/v1/dashboards/{db}", db)
    for item in catalogue:
        pid = item["id"]
        gets = [r for r in item["routes"] if r["method"] == "GET" and "{" not in r["path"]]
        main = next((r for r in gets if r["path"] == f"/api/v1/portlets/{pid}"), gets[0] if gets else None)
        if main:
            add(f"{pid} GET {main['path'][len('/api/v1/portlets/'):]}", main["path"], token_kind_for_route(main))
    add("never-seen token (/me)", "/api/v1/me", "fresh")
    for item in catalogue:
        plan = write_plan(item["id"], orgs[0], now)
        if plan and any(r["method"] == plan[0] and r["path"] == plan[1] for r in item["routes"]):
            body, extra = plan[3], None
            if item["id"] == "leavers":
                # Admin token i is orgs[i]'s: each document names one of its own people.
                body = [payslip(uname(orgs[i], 1), "2026-10") for i in range(len(tokens["admin"]))]
            kind = plan[2]
            if item["id"] == "flexible-working":
                # One request in progress per person: each connection is one
                # requester who creates, withdraws, creates...
                extra, kind = {"follow": "/withdraw", "follow_body": "{}"}, "requester"
            name = f"{item['id']} write {plan[0]} {plan[1][len('/api/v1/portlets/'):]}"
            add(name + (" then withdraw" if extra else ""), plan[1], kind, plan[0], body, "write",
                extra=extra)
    sc.append({"name": "dashboard employee while people are written", "method": "GET",
               "path": "/api/v1/dashboards/employee", "tokens": files["employee"], "group": "mixed",
               "writer": True})
    sc.append({"name": "login", "method": "POST", "path": "/api/v1/auth/login", "tokens": "",
               "body": os.path.join(out, "login-bodies.txt"), "ctype": "application/json",
               "group": "login"})
    info = {"orgs": a.orgs, "people": total, "import_secs": round(import_secs, 1),
            "portlets": list(settings), "users_logged_in": {k: len(v) for k, v in logins.items()},
            "tokens": {k: len(v) for k, v in tokens.items()}, "scenarios": sc,
            "admin_token": admin, "writer_org": orgs[-1], "writer_people": per_org[-1]}
    with open(os.path.join(out, "scenarios.json"), "w") as f:
        json.dump(info, f, indent=1)
    log(f"{len(sc)} scenarios written to {out}/scenarios.json")


def writer(a):
    """A PATCH every 100 ms, and one import of --rows people after 1 s."""
    info = json.load(open(os.path.join(a.out, "scenarios.json")))
    cl = Client(a.base)
    tok, org, n = info["admin_token"], info["writer_org"], max(1, info["writer_people"])
    stop = time.time() + a.secs
    stats = {"patches": 0, "patch_errors": 0, "import_rows": 0, "import_secs": None}

    def do_import():
        time.sleep(min(1.0, a.secs / 4))
        tag = f"w{int(time.time() * 1000) % 10**9}"
        rows = [HEADER] + [
            f"{org}.{tag}.{i},Writer Person,{tag}.{i}@example.org,{GROUPS[i % 4]},employee,2024-01-01,,,,"
            for i in range(a.rows)]
        t0 = time.time()
        st, doc = Client(a.base).call("POST", f"/api/v1/orgs/{org}/people/import",
                                      "\n".join(rows) + "\n", tok, "text/csv")
        stats["import_secs"] = round(time.time() - t0, 3)
        stats["import_rows"] = a.rows if st == 201 else 0
        if st != 201:
            stats["import_error"] = f"HTTP {st}: {json.dumps(doc)[:200]}"

    th = threading.Thread(target=do_import)
    th.start()
    k = 0
    while time.time() < stop:
        t = time.time()
        st, _ = cl.call("PATCH", f"/api/v1/orgs/{org}/people/{uname(org, 1 + k % max(1, n - 1))}",
                        {"display_name": f"Patched {k}"}, tok)
        stats["patches" if st == 200 else "patch_errors"] += 1
        k += 1
        time.sleep(max(0.0, 0.1 - (time.time() - t)))
    th.join()
    print(json.dumps(stats))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--base", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--orgs", type=int, default=300)
    s.add_argument("--people", type=int, default=100000)
    s.add_argument("--users", type=int, default=64)
    s.add_argument("--refreshes", type=int, default=7)
    s.add_argument("--requesters", type=int, default=256,
                   help="flexible-working requesters (one per connection)")
    s.add_argument("--cli", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--mint")
    s.add_argument("--fresh", type=int, default=0)
    w = sub.add_parser("writer")
    w.add_argument("--base", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--secs", type=float, required=True)
    w.add_argument("--rows", type=int, default=10000)
    a = p.parse_args()
    seed(a) if a.cmd == "seed" else writer(a)


if __name__ == "__main__":
    main()
