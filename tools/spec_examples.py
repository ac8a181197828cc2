#!/usr/bin/env python3
"""Records real answers as the document's response examples.

    tools/spec_examples.py [BUILD_DIR]

Starts porticod --demo (BUILD_DIR/porticod, default build/) on a free
loopback port, signs in as the demo people, and for every documented GET
whose 200 answer is a `$ref` to a component schema, fetches it (path
parameters from the demo data) as the first demo person who may, and writes
the body to api_spec/examples/<Schema>.json.  tools/spec_embed.py puts each
file in its schema's `examples`, and test_spec_contract checks every
example against its schema, so an example that no longer fits fails CI.
Run it again after a change to an answer's shape and commit the files.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEOPLE = ["hr.admin", "portal.admin", "content.admin", "payroll.admin", "oh.admin",
          "emp.eddie", "manager.mary", "leaver.lucy", "app.alex"]
PARAMS = {"org": "demo-trust", "username": "emp.eddie", "dashboard": "employee"}


def trim(v):
    """Examples stay short: at most 2 items in every array."""
    if isinstance(v, list):
        return [trim(x) for x in v[:2]]
    if isinstance(v, dict):
        return {k: trim(x) for k, x in v.items()}
    return v


def call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    work = tempfile.mkdtemp()
    env = dict(os.environ, PORTICO_ADMIN_PASSWORD="portico-admin")
    proc = subprocess.Popen([os.path.join(build, "porticod"), "--listen", "127.0.0.1:%d" % port,
                             "--data", work, "--demo", "--plugins",
                             os.path.join(build, "plugins")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(200):
            try:
                if call(base, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        tokens = []
        for who in PEOPLE:
            st, b = call(base, "POST", "/api/v1/auth/login",
                         body={"username": who, "password": "portico-demo"})
            if st == 200:
                tokens.append(b["access_token"])
        st, b = call(base, "POST", "/api/v1/auth/login",
                     body={"username": "admin", "password": "portico-admin"})
        tokens.append(b["access_token"])
        st, doc = call(base, "GET", "/api/v1/openapi.json")
        out_dir = os.path.join(ROOT, "api_spec", "examples")
        os.makedirs(out_dir, exist_ok=True)
        written = {}
        for path, item in sorted(doc["paths"].items()):
            op = item.get("get")
            media = (((op or {}).get("responses", {}).get("200") or {}).get("content") or {}).get(
                "application/json") or {}
            ref = (media.get("schema") or {}).get("$ref", "")
            if not ref.startswith("#/components/schemas/") or path == "/api/v1/openapi.json":
                continue
            names = re.findall(r"\{([^}]+)\}", path)
            if any(n not in PARAMS for n in names):
                continue
            url = re.sub(r"\{([^}]+)\}", lambda m: PARAMS[m.group(1)], path)
            name = ref.rsplit("/", 1)[1]
            if name in written:
                continue
            for tok in tokens:
                st, body = call(base, "GET", url, tok)
                if st == 200:
                    with open(os.path.join(out_dir, name + ".json"), "w") as f:
                        json.dump(trim(body), f, indent=2, ensure_ascii=False)
                        f.write("\n")
                    written[name] = "GET " + url
                    break
        # answers of writes (the demo data lives in a scratch directory)
        who = dict(zip(PEOPLE, tokens))
        writes = [
            ("PortletOrgSettings", "portal.admin", "PUT",
             "/api/v1/orgs/demo-trust/portlets/flu-countdown", {"enabled": True}),
            ("FluSite", "oh.admin", "PUT", "/api/v1/portlets/flu-countdown/sites/ward-7",
             {"name": "Ward 7 roving team", "location": "Ward 7",
              "sessions": [{"starts_at": "2026-12-03T09:00:00Z",
                            "ends_at": "2026-12-03T11:00:00Z", "notes": "Bring your ID"}]}),
            ("FluVaccination", "oh.admin", "POST", "/api/v1/portlets/flu-countdown/vaccinations",
             {"staff_group": "doctors", "site": "ward-7",
              "vaccinated_at": "2026-11-20T10:15:00Z"}),
            ("FwRequest", "physio.pete", "POST", "/api/v1/portlets/flexible-working/requests",
             {"change_types": ["compressed_hours"], "proposed_start": "2027-03-01",
              "current_pattern": "5 x 7.5h, Mon-Fri", "requested_pattern": "4 x 9.4h, Mon-Thu",
              "description": "School run on Fridays"}),
            ("AwInteraction", "app.alex", "POST", "/api/v1/portlets/applicant-welcome/interactions",
             {"target": "welcome_video", "action": "play"}),
            ("LeaversDocument", "payroll.admin", "POST", "/api/v1/portlets/leavers/documents",
             {"username": "hca.holly", "kind": "payslip", "period": "2031-01",
              "data": {"pay_date": "2031-01-25", "tax_code": "1257L", "ni_number": "AB123456C",
                       "gross": 200000, "net": 160000,
                       "payments": [{"description": "Basic pay", "amount": 200000}],
                       "deductions": [{"description": "Income tax", "amount": 40000}]}}),
        ]
        for name, person, method, url, body in writes:
            if person not in who:
                st, b = call(base, "POST", "/api/v1/auth/login",
                             body={"username": person, "password": "portico-demo"})
                who[person] = b["access_token"] if st == 200 else None
            st, b = call(base, method, url, who[person], body)
            if st in (200, 201) and name not in written:
                with open(os.path.join(out_dir, name + ".json"), "w") as f:
                    json.dump(trim(b), f, indent=2, ensure_ascii=False)
                    f.write("\n")
                written[name] = "%s %s" % (method, url)
            elif st not in (200, 201):
                print("%s: %s %s answered %s" % (name, method, url, st), file=sys.stderr)
        for name, url in sorted(written.items()):
            print("%-28s from %s" % (name, url))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


main()
