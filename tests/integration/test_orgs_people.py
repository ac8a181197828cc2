"""Organisations, people, /me, leaver rules, CSV import and the audit log."""

import json
import unittest
from urllib.parse import quote

import portico_harness as h
from portico_harness import API

PW = "people-password-1"
PERSON_KEYS = {"username", "display_name", "email", "staff_group", "status", "start_date",
               "termination_date", "manager", "roles", "created_at", "updated_at"}
ADMIN_ROLES = ["portal_admin", "content_admin", "payroll_admin", "oh_admin", "hr_admin"]


def no_secrets(testcase, obj, ctx=""):
    text = json.dumps(obj)
    for bad in ("password", "argon2", "$argon", "totp", "secret"):
        testcase.assertNotIn(bad, text.lower(), "%s leaks %r: %s" % (ctx, bad, text[:400]))


class OrgsTest(h.PorticoTestCase):

    def test_create_org(self):
        r = self.api.post(API + "/orgs", {"id": "north-trust", "name": "North Trust"},
                          token=self.as_admin())
        self.assertEqual(r.status, 201, r)
        b = r.body
        self.assertEqual(b["id"], "north-trust")
        self.assertEqual(b["name"], "North Trust")
        self.assertEqual(b["settings"]["leaver_access_days"], 90)
        h.parse_iso(b["created_at"])
        h.parse_iso(b["updated_at"])
        r = self.api.post(API + "/orgs", {"id": "north-trust", "name": "Again"},
                          token=self.as_admin())
        self.assert_problem(r, 409, "conflict")
        r = self.api.get(API + "/orgs/north-trust", token=self.as_admin())
        self.assertEqual(r.body["name"], "North Trust", "duplicate create changed the org")
        b = self.create_org("south-trust", settings={
            "leaver_access_days": 0, "branding": {"primary_colour": "#005EB8"},
            "notices": ["Welcome"]})
        self.assertEqual(b["settings"]["leaver_access_days"], 0)
        self.assertEqual(b["settings"]["branding"]["primary_colour"], "#005EB8")

    def test_create_org_validation(self):
        bad = [
            ({"id": "Bad Slug", "name": "x"}, ["/id"]),
            ({"id": "-leading", "name": "x"}, ["/id"]),
            ({"id": "", "name": "x"}, ["/id"]),
            ({"id": "a" * 65, "name": "x"}, ["/id"]),
            ({"id": "has@at", "name": "x"}, ["/id"]),
            ({"id": 12, "name": "x"}, ["/id"]),
            ({"name": "x"}, ["/id"]),
            ({"id": "ok-slug-1"}, ["/name"]),
            ({"id": "ok-slug-2", "name": 5}, ["/name"]),
            ({"id": "ok-slug-3", "name": "x", "settings": {"leaver_access_days": 91}},
             ["/settings/leaver_access_days"]),
            ({"id": "ok-slug-4", "name": "x", "settings": {"leaver_access_days": -1}},
             ["/settings/leaver_access_days"]),
            ({"id": "ok-slug-5", "name": "x", "settings": {"leaver_access_days": "10"}},
             ["/settings/leaver_access_days"]),
            ({"id": "ok-slug-6", "name": "x", "settings": {"leaver_access_days": 1.5}},
             ["/settings/leaver_access_days"]),
            ({"id": "ok-slug-7", "name": "x", "settings": "none"}, ["/settings"]),
            ({"id": "Bad Slug", "name": 5, "settings": {"leaver_access_days": 100}},
             ["/id", "/name", "/settings/leaver_access_days"]),
        ]
        for body, pointers in bad:
            with self.subTest(body=json.dumps(body)[:120]):
                r = self.api.post(API + "/orgs", body, token=self.as_admin())
                self.assert_validation(r, pointers, json.dumps(body))
        ids = self.all_org_ids()
        for i in range(1, 8):
            self.assertNotIn("ok-slug-%d" % i, ids, "invalid org was created")

    def all_org_ids(self, limit=None):
        ids, cursor = [], None
        for _ in range(1000):
            q = "?limit=%d" % limit if limit else "?"
            if cursor:
                q += "&cursor=" + quote(cursor)
            r = self.api.get(API + "/orgs" + q, token=self.as_admin())
            self.assertEqual(r.status, 200, r)
            ids += [o["id"] for o in r.body["items"]]
            if limit:
                self.assertLessEqual(len(r.body["items"]), limit)
            cursor = r.body["next_cursor"]
            if cursor is None:
                return ids
        self.fail("org pagination never ended")

    def test_list_orgs(self):
        made = ["list-%d" % i for i in range(5)]
        for o in made:
            self.create_org(o)
        full = self.all_org_ids()
        paged = self.all_org_ids(limit=2)
        self.assertEqual(full, paged)
        self.assertEqual(len(paged), len(set(paged)), "duplicate orgs across pages")
        for o in made:
            self.assertIn(o, paged)
        # a member sees only the active org
        self.create_person("list-1", "lister", PW)
        self.add_member("list-2", "lister", PW)
        tok = self.token("lister", PW, org="list-1")
        r = self.api.get(API + "/orgs", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([o["id"] for o in r.body["items"]], ["list-1"])
        for bad in ("limit=0", "limit=501", "limit=abc", "cursor=%21%21%21"):
            r = self.api.get(API + "/orgs?" + bad, token=self.as_admin())
            self.assert_problem(r, 400, "bad_request", bad)

    def test_non_system_admin_cannot_create_org(self):
        self.create_org("pa-org")
        self.create_person("pa-org", "pa-admin", PW, roles=ADMIN_ROLES)
        tok = self.token("pa-admin", PW)
        r = self.api.post(API + "/orgs", {"id": "pa-new", "name": "x"}, token=tok)
        self.assert_problem(r, 403, "forbidden")
        r = self.api.get(API + "/orgs/pa-new", token=self.as_admin())
        self.assert_problem(r, 404, "not_found")
        r = self.api.post(API + "/orgs", {"id": "pa-new2", "name": "x"}, token="")
        self.assert_problem(r, 401, "unauthorized")

    def test_get_and_patch_org(self):
        self.create_org("patchy", "Patchy", settings={
            "leaver_access_days": 60, "branding": {"primary_colour": "#112233",
                                                   "logo_url": "https://x/logo.png"}})
        self.create_person("patchy", "patchy-admin", PW, roles=["portal_admin"])
        self.create_person("patchy", "patchy-emp", PW)
        admin = self.token("patchy-admin", PW)
        emp = self.token("patchy-emp", PW)
        r = self.api.get(API + "/orgs/patchy", token=emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["name"], "Patchy")
        self.assert_problem(self.api.get(API + "/orgs/no-such", token=self.as_admin()), 404,
                            "not_found")
        r = self.api.patch(API + "/orgs/patchy", {"name": "Hacked"}, token=emp)
        self.assert_problem(r, 403, "forbidden")
        r = self.api.patch(API + "/orgs/patchy",
                           {"name": "Patchy Trust", "settings": {"leaver_access_days": 30}},
                           token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["name"], "Patchy Trust")
        s = r.body["settings"]
        self.assertEqual(s["leaver_access_days"], 30)
        self.assertEqual(s["branding"], {"primary_colour": "#112233",
                                         "logo_url": "https://x/logo.png"},
                         "settings must be merged key by key")
        r = self.api.get(API + "/orgs/patchy", token=emp)
        self.assertEqual(r.body["name"], "Patchy Trust")
        self.assertEqual(r.body["settings"]["leaver_access_days"], 30)
        for body, ptr in (({"settings": {"leaver_access_days": 91}},
                           "/settings/leaver_access_days"),
                          ({"name": ""}, "/name"), ({"name": 3}, "/name")):
            r = self.api.patch(API + "/orgs/patchy", body, token=admin)
            self.assert_validation(r, [ptr], json.dumps(body))
        r = self.api.patch(API + "/orgs/no-such", {"name": "x"}, token=self.as_admin())
        self.assert_problem(r, 404, "not_found")
        # audited with before/after and the actor
        items = self.audit("patchy", admin)
        upd = [e for e in items if e["action"] == "org.update"]
        self.assertEqual(len(upd), 1, items)
        e = upd[0]
        self.assertEqual(e["actor"], "patchy-admin")
        self.assertEqual(e["before"]["name"], "Patchy")
        self.assertEqual(e["after"]["name"], "Patchy Trust")
        self.assertEqual(e["before"]["settings"]["leaver_access_days"], 60)
        self.assertEqual(e["after"]["settings"]["leaver_access_days"], 30)

    def audit(self, org, token, limit=None):
        items, cursor = [], None
        while True:
            q = "?limit=%d" % limit if limit else "?"
            if cursor:
                q += "&cursor=" + quote(cursor)
            r = self.api.get(API + "/orgs/%s/audit%s" % (org, q), token=token)
            self.assertEqual(r.status, 200, r)
            items += r.body["items"]
            cursor = r.body["next_cursor"]
            if cursor is None:
                return items


class PeopleTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("ppl")
        self.create_person("ppl", "boss", PW, roles=["portal_admin"])
        self.create_person("ppl", "hr", PW, roles=["hr_admin"])
        self.create_person("ppl", "worker", PW, manager="boss")
        self.create_person("ppl", "content", PW, roles=["content_admin"])

    def setUp(self):
        super().setUp()
        self.boss = self.token("boss", PW)

    def test_create_person_shape(self):
        body = {"username": "nia.jones@trust", "password": PW, "display_name": "Nia Jones",
                "email": "nia@example.org", "staff_group": "qualified_nurses",
                "status": "employee", "start_date": "2024-04-01",
                "termination_date": "2099-12-31", "manager": "boss",
                "roles": ["hr_admin", "oh_admin"]}
        r = self.api.post(API + "/orgs/ppl/people", body, token=self.boss)
        self.assertEqual(r.status, 201, r)
        p = r.body
        self.assertTrue(PERSON_KEYS <= set(p), "missing %s" % (PERSON_KEYS - set(p)))
        no_secrets(self, p, "person")
        for k in ("username", "display_name", "email", "staff_group", "status", "start_date",
                  "termination_date", "manager"):
            self.assertEqual(p[k], body[k], k)
        self.assertEqual(sorted(p["roles"]), ["hr_admin", "oh_admin"])
        self.assertIn(p.get("access_ends"), (None,), "access_ends only for leavers")
        h.parse_iso(p["created_at"])
        r = self.api.get(API + "/orgs/ppl/people/" + quote(body["username"]), token=self.boss)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["display_name"], "Nia Jones")
        no_secrets(self, r.body, "person get")
        # the password works
        self.assertEqual(self.login_raw("nia.jones@trust", PW).status, 200)
        # duplicate
        r = self.api.post(API + "/orgs/ppl/people", dict(body, display_name="Other"),
                          token=self.boss)
        self.assert_problem(r, 409, "conflict")
        r = self.api.get(API + "/orgs/ppl/people/nia.jones@trust", token=self.boss)
        self.assertEqual(r.body["display_name"], "Nia Jones")
        # minimal person: optional fields absent
        p = self.create_person("ppl", "minimal", status="applicant")
        self.assertEqual(p["status"], "applicant")
        self.assertEqual(p["roles"], [])
        self.assertIn(p.get("manager"), (None,))

    def test_create_person_validation(self):
        good = self.person_body("val-ok")
        cases = [
            (dict(good, roles=["wizard"]), ["/roles*"]),
            (dict(good, roles=["system_admin"]), ["/roles*"]),
            (dict(good, roles="portal_admin"), ["/roles"]),
            (dict(good, roles=[5]), ["/roles*"]),
            (dict(good, email="not-an-email"), ["/email"]),
            (dict(good, email="a@" + "b" * 260), ["/email"]),
            (dict(good, email=7), ["/email"]),
            (dict(good, start_date="2026-02-30"), ["/start_date"]),
            (dict(good, start_date="2026-13-01"), ["/start_date"]),
            (dict(good, start_date="01/02/2026"), ["/start_date"]),
            (dict(good, start_date=20260101), ["/start_date"]),
            (dict(good, termination_date="2025-02-29"), ["/termination_date"]),
            (dict(good, start_date="2021-06-01", termination_date="2021-05-31"),
             ["/termination_date"]),
            (dict(good, manager="nobody-here"), ["/manager"]),
            (dict(good, manager="val-ok"), ["/manager"]),
            (dict(good, manager=3), ["/manager"]),
            (dict(good, shoe_size=9), ["/shoe_size"]),
            (dict(good, display_name=5), ["/display_name"]),
            (dict(good, display_name=""), ["/display_name"]),
            (dict(good, display_name="x" * 201), ["/display_name"]),
            (dict(good, status="leaver"), ["/status"]),
            (dict(good, status=1), ["/status"]),
            (dict(good, staff_group="Bad Group!"), ["/staff_group"]),
            (dict(good, password="short"), ["/password"]),
            (dict(good, password=12345678), ["/password"]),
            (dict(good, username="Bad User"), ["/username"]),
            (dict(good, username="-dash"), ["/username"]),
            (dict(good, username="u" * 65), ["/username"]),
            (dict(good, username=None), ["/username"]),
            ({k: v for k, v in good.items() if k != "display_name"}, ["/display_name"]),
            ({k: v for k, v in good.items() if k != "email"}, ["/email"]),
            ({k: v for k, v in good.items() if k != "status"}, ["/status"]),
            ({k: v for k, v in good.items() if k != "username"}, ["/username"]),
            (dict(good, email="bad", roles=["wizard"], start_date="2026-02-30", extra=1),
             ["/email", "/roles*", "/start_date", "/extra"]),
        ]
        for body, pointers in cases:
            with self.subTest(body=json.dumps(body)[:120]):
                r = self.api.post(API + "/orgs/ppl/people", body, token=self.boss)
                errs = self.assert_validation(r, pointers, json.dumps(body)[:200])
                if len(pointers) > 1:
                    self.assertGreaterEqual(len(errs), len(pointers))
        r = self.api.post(API + "/orgs/ppl/people", [good], token=self.boss)
        self.assert_problem(r, 422, "validation_failed", "array body")
        r = self.api.get(API + "/orgs/ppl/people/val-ok", token=self.boss)
        self.assert_problem(r, 404, "not_found", "an invalid person was created")

    def test_permissions(self):
        worker = self.token("worker", PW)
        hr = self.token("hr", PW)
        content = self.token("content", PW)
        r = self.api.post(API + "/orgs/ppl/people", self.person_body("perm-x"), token=worker)
        self.assert_problem(r, 403, "forbidden")
        r = self.api.post(API + "/orgs/ppl/people", self.person_body("perm-x"), token=hr)
        self.assert_problem(r, 403, "forbidden")
        self.assert_problem(self.api.get(API + "/orgs/ppl/people", token=worker), 403,
                            "forbidden")
        self.assert_problem(self.api.get(API + "/orgs/ppl/people", token=content), 403,
                            "forbidden")
        self.assertEqual(self.api.get(API + "/orgs/ppl/people", token=hr).status, 200)
        self.assertEqual(self.api.get(API + "/orgs/ppl/people", token=self.as_admin()).status,
                         200)
        # self, hr, portal_admin may read a person; a colleague may not
        self.assertEqual(self.api.get(API + "/orgs/ppl/people/worker", token=worker).status, 200)
        self.assert_problem(self.api.get(API + "/orgs/ppl/people/hr", token=worker), 403,
                            "forbidden")
        self.assertEqual(self.api.get(API + "/orgs/ppl/people/worker", token=hr).status, 200)
        self.assert_problem(self.api.get(API + "/orgs/ppl/people/ghost", token=self.boss), 404,
                            "not_found")
        # only portal_admin / system_admin patch
        for tok in (worker, hr):
            r = self.api.patch(API + "/orgs/ppl/people/worker", {"display_name": "Me"},
                               token=tok)
            self.assert_problem(r, 403, "forbidden")
        self.assert_problem(self.api.get(API + "/orgs/ppl/people", token=""), 401,
                            "unauthorized")

    def test_patch_person(self):
        self.create_person("ppl", "patchme", PW, manager="boss", staff_group="doctors",
                           start_date="2020-01-01")
        r = self.api.patch(API + "/orgs/ppl/people/patchme",
                           {"display_name": "Patched Name", "roles": ["oh_admin"]},
                           token=self.boss)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["display_name"], "Patched Name")
        self.assertEqual(r.body["roles"], ["oh_admin"])
        self.assertEqual(r.body["manager"], "boss", "untouched fields stay")
        r = self.api.patch(API + "/orgs/ppl/people/patchme",
                           {"manager": None, "staff_group": None}, token=self.boss)
        self.assertEqual(r.status, 200, r)
        self.assertIn(r.body.get("manager"), (None,), "null clears manager")
        self.assertIn(r.body.get("staff_group"), (None,))
        r = self.api.get(API + "/orgs/ppl/people/patchme", token=self.boss)
        self.assertIn(r.body.get("manager"), (None,))
        self.assertEqual(r.body["display_name"], "Patched Name")
        # roles from the store apply at once to existing tokens
        tok = self.token("patchme", PW)
        self.assertEqual(self.api.get(API + "/me", token=tok).body["roles"], ["oh_admin"])
        r = self.api.patch(API + "/orgs/ppl/people/patchme", {"roles": ["hr_admin"]},
                           token=self.boss)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.get(API + "/me", token=tok).body["roles"], ["hr_admin"])
        self.assertEqual(self.api.get(API + "/orgs/ppl/people", token=tok).status, 200)
        r = self.api.patch(API + "/orgs/ppl/people/patchme", {"roles": []}, token=self.boss)
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.api.get(API + "/orgs/ppl/people", token=tok), 403, "forbidden",
                            "a removed role still works with an old token")
        r = self.api.patch(API + "/orgs/ppl/people/patchme", {"roles": ["hr_admin"]},
                           token=self.boss)
        bad = [({"status": "leaver"}, "/status"), ({"username": "renamed"}, "/username"),
               ({"password": "new-password-99"}, "/password"),
               ({"roles": ["system_admin"]}, "/roles*"), ({"email": "x"}, "/email"),
               ({"manager": "patchme"}, "/manager"), ({"manager": "ghost"}, "/manager"),
               ({"termination_date": "2019-12-31"}, "/termination_date"),
               ({"display_name": None}, "/display_name"), ({"nope": 1}, "/nope")]
        for body, ptr in bad:
            with self.subTest(body=json.dumps(body)):
                r = self.api.patch(API + "/orgs/ppl/people/patchme", body, token=self.boss)
                self.assert_validation(r, [ptr], json.dumps(body))
        self.assertEqual(self.login_raw("patchme", PW).status, 200, "password unchanged")
        r = self.api.patch(API + "/orgs/ppl/people/ghost", {"display_name": "x"},
                           token=self.boss)
        self.assert_problem(r, 404, "not_found")
        r = self.api.patch(API + "/orgs/ppl/people/patchme", {"status": "applicant"},
                           token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "applicant")
        # audit: person.update with before/after, actor
        r = self.api.get(API + "/orgs/ppl/audit?limit=500", token=self.boss)
        self.assertEqual(r.status, 200, r)
        upd = [e for e in r.body["items"]
               if e["action"] == "person.update" and e["target"] and "patchme" in e["target"]]
        self.assertGreaterEqual(len(upd), 6, upd)
        first = upd[0]
        self.assertEqual(first["actor"], "boss")
        self.assertEqual(first["before"]["display_name"], "Person patchme")
        self.assertEqual(first["after"]["display_name"], "Patched Name")
        self.assertEqual(upd[-1]["actor"], "admin")
        no_secrets(self, r.body["items"], "audit")

    def test_second_org_membership(self):
        self.create_org("ppl-two", "People Two")
        self.create_person("ppl", "sam", PW, roles=["content_admin"])
        # naming an existing username is a conflict (no silent linking) ...
        r = self.api.post(API + "/orgs/ppl-two/people",
                          dict(self.person_body("sam", display_name="Sam in Two"),
                               password="a-different-password", roles=["hr_admin"]),
                          token=self.as_admin())
        self.assert_problem(r, 409, "conflict")
        self.assert_problem(self.login_raw("sam", "a-different-password"), 401,
                            "invalid_credentials")
        # ... the account joins by invitation, accepted by its holder
        m = self.add_member("ppl-two", "sam", PW, display_name="Sam in Two", roles=["hr_admin"])
        self.assertEqual(m["roles"], ["hr_admin"])
        b = self.login("sam", PW, org="ppl-two")
        _, claims, _ = h.jwt_parts(b["access_token"])
        self.assertEqual(claims["org"], "ppl-two")
        self.assertEqual(claims["roles"], ["hr_admin"])
        me = self.api.get(API + "/me", token=b["access_token"])
        self.assertEqual(me.status, 200, me)
        m = me.body
        self.assertEqual(m["active_org"], "ppl-two")
        self.assertEqual(m["org"]["id"], "ppl-two")
        self.assertEqual(m["org"]["name"], "People Two")
        self.assertEqual(m["roles"], ["hr_admin"])
        mem = {x["org"]: x for x in m["memberships"]}
        self.assertEqual(set(mem), {"ppl", "ppl-two"})
        self.assertEqual(mem["ppl"]["roles"], ["content_admin"])
        self.assertEqual(mem["ppl-two"]["roles"], ["hr_admin"])
        self.assertEqual(mem["ppl-two"]["name"], "People Two")
        self.assertEqual(mem["ppl"]["status"], "employee")
        # the org-A person is unchanged by org B's request
        r = self.api.get(API + "/orgs/ppl/people/sam", token=self.boss)
        self.assertEqual(r.body["display_name"], "Person sam")

    def test_concurrent_duplicate_create(self):
        import threading
        statuses = []
        lock = threading.Lock()
        tok = self.as_admin()

        def worker(i):
            c = self.server.client(tok)
            try:
                r = c.post(API + "/orgs/ppl/people",
                           self.person_body("racer", display_name="Racer %d" % i,
                                            password="racer-password-%d" % i))
                with lock:
                    statuses.append(r.status)
            finally:
                c.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(statuses), [201] + [409] * 11, statuses)
        r = self.api.get(API + "/orgs/ppl/people?limit=500", token=tok)
        self.assertEqual([p["username"] for p in r.body["items"]].count("racer"), 1)

    def test_me(self):
        tok = self.token("worker", PW)
        r = self.api.get(API + "/me", token=tok)
        self.assertEqual(r.status, 200, r)
        m = r.body
        self.assertEqual(m["username"], "worker")
        self.assertEqual(m["display_name"], "Person worker")
        self.assertEqual(m["email"], "worker@example.org")
        self.assertIs(m["system_admin"], False)
        self.assertEqual(m["active_org"], "ppl")
        self.assertEqual(m["org"]["id"], "ppl")
        self.assertEqual(m["roles"], [])
        self.assertEqual(m["status"], "employee")
        self.assertIs(m["mfa_enabled"], False)
        self.assertIn(m.get("access_ends"), (None,))
        self.assertEqual([x["org"] for x in m["memberships"]], ["ppl"])
        no_secrets(self, m, "/me")
        r = self.api.get(API + "/me", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.body["system_admin"], True)
        self.assertEqual(r.body["username"], "admin")

    def test_list_pagination(self):
        self.create_org("pages")
        names = ["pg-%02d" % i for i in (7, 3, 5, 1, 6, 2, 4)]
        for i, n in enumerate(names):
            self.create_person("pages", n, status="applicant" if i % 2 else "employee")
        admin = self.as_admin()
        seen, cursor, pages = [], None, 0
        while True:
            q = "?limit=3" + ("&cursor=" + quote(cursor) if cursor else "")
            r = self.api.get(API + "/orgs/pages/people" + q, token=admin)
            self.assertEqual(r.status, 200, r)
            pages += 1
            seen += [p["username"] for p in r.body["items"]]
            self.assertIn("next_cursor", r.body)
            cursor = r.body["next_cursor"]
            if cursor is None:
                break
            self.assertLess(pages, 10, "pagination does not end")
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(names), "username order, no duplicates or gaps")
        r = self.api.get(API + "/orgs/pages/people", token=admin)
        self.assertEqual([p["username"] for p in r.body["items"]], sorted(names))
        self.assertIsNone(r.body["next_cursor"])
        r = self.api.get(API + "/orgs/pages/people?status=applicant&limit=500", token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["username"] for p in r.body["items"]],
                         sorted(names[1::2]))
        for bad in ("limit=0", "limit=501", "limit=abc", "limit=-1",
                    "cursor=%21%21%21", "cursor=" + "A" * 2000):
            r = self.api.get(API + "/orgs/pages/people?" + bad, token=admin)
            self.assert_problem(r, 400, "bad_request", bad)
        r = self.api.get(API + "/orgs/pages/people?status=bogus", token=admin)
        self.assertIn(r.status, (400, 422), r)

    def test_leaver_rules(self):
        self.create_org("leavers-org", settings={"leaver_access_days": 10})
        self.create_person("leavers-org", "leo", PW, start_date="2020-01-01",
                           termination_date="2027-03-10")
        org = API + "/orgs/leavers-org/people/leo"
        try:
            self.set_clock("2027-03-10T12:00:00Z")
            p = self.api.get(org, token=self.as_admin()).body
            self.assertEqual(p["status"], "employee", "termination day itself")
            self.assertIn(p.get("access_ends"), (None,))
            tok = self.token("leo", PW)
            self.assertEqual(self.api.get(API + "/me", token=tok).body["status"], "employee")

            self.set_clock("2027-03-11T12:00:00Z")
            p = self.api.get(org, token=self.as_admin()).body
            self.assertEqual(p["status"], "leaver")
            self.assertEqual(p["access_ends"], "2027-03-20")
            tok = self.token("leo", PW)
            me = self.api.get(API + "/me", token=tok).body
            self.assertEqual(me["status"], "leaver")
            self.assertEqual(me["access_ends"], "2027-03-20")
            self.assertEqual(me["memberships"][0]["status"], "leaver")
            r = self.api.get(API + "/orgs/leavers-org/people?status=leaver",
                             token=self.as_admin())
            self.assertEqual([x["username"] for x in r.body["items"]], ["leo"])

            self.set_clock("2027-03-20T23:55:00Z")  # last day of access, inclusive
            tok = self.token("leo", PW)
            self.assertEqual(self.api.get(API + "/me", token=tok).status, 200)

            self.set_clock("2027-03-21T00:05:00Z")  # token still within its 15 minutes
            self.assert_problem(self.api.get(API + "/me", token=tok), 403,
                                "leaver_access_expired")
            self.assert_problem(self.login_raw("leo", PW), 403, "leaver_access_expired")
            p = self.api.get(org, token=self.as_admin()).body
            self.assertEqual(p["status"], "leaver")
        finally:
            self.set_clock(None)

    def test_leaver_days_zero(self):
        self.create_org("zero-days", settings={"leaver_access_days": 0})
        self.create_person("zero-days", "zed", PW, termination_date="2027-06-01")
        try:
            self.set_clock("2027-06-02T08:00:00Z")
            self.assert_problem(self.login_raw("zed", PW), 403, "leaver_access_expired")
            p = self.api.get(API + "/orgs/zero-days/people/zed", token=self.as_admin()).body
            self.assertEqual(p["status"], "leaver")
            self.assertEqual(p["access_ends"], "2027-06-01")
        finally:
            self.set_clock(None)


CSV_HEADER = "username,display_name,email,staff_group,status,start_date,termination_date,manager,roles\n"


class ImportAuditTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("imp")
        self.create_person("imp", "imp-admin", PW, roles=["portal_admin"])
        self.create_person("imp", "imp-emp", PW)

    def setUp(self):
        super().setUp()
        self.adm = self.token("imp-admin", PW)

    def import_csv(self, text, token=None, org="imp"):
        return self.api.post(API + "/orgs/%s/people/import" % org, raw=text.encode("utf-8"),
                             content_type="text/csv", token=token or self.adm)

    def people(self, org="imp"):
        r = self.api.get(API + "/orgs/%s/people?limit=500" % org, token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        return {p["username"]: p for p in r.body["items"]}

    def test_import_success(self):
        csv = CSV_HEADER + (
            "csv-a,\"Able, A\",a@example.org,doctors,employee,2024-01-01,,csv-c,portal_admin;hr_admin\n"
            "csv-b,Baker B,b@example.org,,applicant,2027-01-01,,,\n"
            "csv-c,Carter C,c@example.org,qualified_nurses,employee,,,,\n")
        before = self.people()
        r = self.import_csv(csv)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["imported"], 3)
        after = self.people()
        self.assertEqual(set(after) - set(before), {"csv-a", "csv-b", "csv-c"})
        a = after["csv-a"]
        self.assertEqual(a["display_name"], "Able, A")
        self.assertEqual(sorted(a["roles"]), ["hr_admin", "portal_admin"])
        self.assertEqual(a["manager"], "csv-c")
        self.assertEqual(a["staff_group"], "doctors")
        self.assertEqual(a["start_date"], "2024-01-01")
        self.assertEqual(after["csv-b"]["status"], "applicant")
        self.assertEqual(after["csv-b"]["roles"], [])
        # password column
        csv = ("username,display_name,email,status,password\n"
               "csv-pw,Pat W,p@example.org,employee,csv-password-1\n")
        r = self.import_csv(csv)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.login_raw("csv-pw", "csv-password-1").status, 200)
        # audited
        r = self.api.get(API + "/orgs/imp/audit?limit=500", token=self.adm)
        acts = [e for e in r.body["items"] if e["action"] == "people.import"]
        self.assertEqual(len(acts), 2, r.body)
        self.assertEqual(acts[0]["actor"], "imp-admin")
        no_secrets(self, r.body["items"], "audit")

    def test_import_all_or_nothing(self):
        before = self.people()
        csv = CSV_HEADER + (
            "bad-a,Good Row,a@example.org,,employee,,,,\n"
            "bad-b,Bad Email,not-an-email,,employee,,,,\n"
            "bad-c,Good Row,c@example.org,,employee,,,,\n"
            "bad-d,Bad Status,d@example.org,,leaver,2026-02-30,,,wizard\n")
        r = self.import_csv(csv)
        errs = self.assert_validation(r, ["/rows/2/email", "/rows/4/status",
                                          "/rows/4/start_date", "/rows/4/roles*"])
        rows = {e.get("row") for e in errs}
        self.assertEqual(rows, {2, 4}, errs)
        for e in errs:
            self.assertTrue(e["pointer"].startswith("/rows/%d/" % e["row"]), e)
        self.assertEqual(self.people(), before, "nothing may be written")
        # duplicate usernames within the file
        csv = CSV_HEADER + ("dup-a,One,a@example.org,,employee,,,,\n"
                            "dup-b,Two,b@example.org,,employee,,,,\n"
                            "dup-a,Three,c@example.org,,employee,,,,\n")
        errs = self.assert_validation(self.import_csv(csv), ["/rows/3/username"])
        self.assertNotIn(2, {e["row"] for e in errs}, errs)
        self.assertEqual(self.people(), before)
        # manager not in org nor file
        csv = CSV_HEADER + "mgr-a,One,a@example.org,,employee,,,ghost,\n"
        self.assert_validation(self.import_csv(csv), ["/rows/1/manager"])
        # already a person of this org
        csv = CSV_HEADER + ("new-x,One,a@example.org,,employee,,,,\n"
                            "imp-emp,Dup,d@example.org,,employee,,,,\n")
        r = self.import_csv(csv)
        self.assertIn(r.status, (409, 422), r)
        self.assertEqual(self.people(), before)
        # unknown column
        r = self.import_csv("username,display_name,email,status,shoe_size\n"
                            "col-a,One,a@example.org,employee,9\n")
        self.assertIn(r.status, (400, 422), r)
        self.assertEqual(self.people(), before)
        # malformed CSV
        for bad in (CSV_HEADER + 'q-a,"Unterminated,a@example.org,,employee,,,,\n',
                    CSV_HEADER + "x,y\n", "\xff\xfe\x00garbage\n", "", "\n\n\n"):
            r = self.import_csv(bad)
            self.assert_not_5xx(r, repr(bad))
            self.assertIn(r.status, (400, 422), repr(bad))
            if r.status == 400:
                self.assert_problem(r, 400, "bad_request")
            else:
                self.assert_problem(r, 422, "validation_failed")
        self.assertEqual(self.people(), before)

    def test_import_permissions(self):
        emp = self.token("imp-emp", PW)
        csv = CSV_HEADER + "perm-a,One,a@example.org,,employee,,,,\n"
        self.assert_problem(self.import_csv(csv, token=emp), 403, "forbidden")
        self.assertNotIn("perm-a", self.people())

    def test_audit_log(self):
        self.create_org("aud", "Audited")
        self.create_person("aud", "aud-admin", "audit-password-1", roles=["portal_admin"])
        adm = self.token("aud-admin", "audit-password-1")
        self.create_person("aud", "aud-p1", token=adm)
        self.assertEqual(self.api.patch(API + "/orgs/aud", {"name": "Audited Trust"},
                                        token=self.as_admin()).status, 200)
        self.assertEqual(self.api.patch(API + "/orgs/aud/people/aud-p1",
                                        {"display_name": "P One"}, token=adm).status, 200)
        r = self.import_csv(CSV_HEADER + "aud-p2,Two,t@example.org,,employee,,,,\n",
                            token=adm, org="aud")
        self.assertEqual(r.status, 201, r)
        r = self.api.get(API + "/orgs/aud/audit?limit=500", token=adm)
        self.assertEqual(r.status, 200, r)
        full = r.body["items"]
        self.assertIsNone(r.body["next_cursor"])
        for e in full:
            for k in ("seq", "at", "actor", "action", "target", "before", "after"):
                self.assertIn(k, e, e)
            h.parse_iso(e["at"])
        seqs = [e["seq"] for e in full]
        self.assertEqual(seqs, sorted(seqs), "oldest first")
        self.assertEqual(len(seqs), len(set(seqs)))
        got = [(e["action"], e["actor"]) for e in full]
        for want in [("org.create", "admin"), ("person.create", "admin"),
                     ("person.create", "aud-admin"), ("org.update", "admin"),
                     ("person.update", "aud-admin"), ("people.import", "aud-admin")]:
            self.assertIn(want, got)
        self.assertEqual(got[0], ("org.create", "admin"))
        no_secrets(self, full, "audit")
        self.assertNotIn("audit-password-1", json.dumps(full))
        # pagination: limit 2 walks the same list
        paged, cursor = [], None
        while True:
            q = "?limit=2" + ("&cursor=" + quote(cursor) if cursor else "")
            r = self.api.get(API + "/orgs/aud/audit" + q, token=adm)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.body["items"]), 2)
            paged += r.body["items"]
            cursor = r.body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(paged, full)
        for bad in ("limit=0", "limit=501", "cursor=%21%21"):
            self.assert_problem(self.api.get(API + "/orgs/aud/audit?" + bad, token=adm), 400,
                                "bad_request", bad)
        # other orgs' audit is not in here, and employees may not read it
        self.assertFalse(any("imp" == e.get("target") for e in full))
        self.create_person("aud", "aud-emp", "audit-password-2")
        emp = self.token("aud-emp", "audit-password-2")
        self.assert_problem(self.api.get(API + "/orgs/aud/audit", token=emp), 403, "forbidden")
        # append-only: no route changes or deletes it
        for m in ("DELETE", "PUT", "PATCH", "POST"):
            r = self.api.request(m, API + "/orgs/aud/audit", body={} if m != "DELETE" else None,
                                 token=self.as_admin())
            self.assertIn(r.status, (404, 405), "%s audit: %r" % (m, r))
            r = self.api.request(m, API + "/orgs/aud/audit/1",
                                 body={} if m != "DELETE" else None, token=self.as_admin())
            self.assertIn(r.status, (404, 405), "%s audit/1: %r" % (m, r))
        r = self.api.get(API + "/orgs/aud/audit?limit=500", token=adm)
        self.assertEqual(r.body["items"][:len(full)], full)


if __name__ == "__main__":
    h.main()
