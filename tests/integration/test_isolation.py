"""Organisation isolation: nothing of org B is reachable with a token for org A."""

import json

import portico_harness as h
from portico_harness import API

PW = "isolation-password"
CSV = ("username,display_name,email,status\n"
       "intruder-csv,Intruder,i@example.org,employee\n")


class IsolationTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("org-a", "Org A")
        self.create_org("org-b", "Org B", settings={"leaver_access_days": 45})
        self.create_person("org-a", "admin-a", PW, roles=["portal_admin", "hr_admin",
                                                          "content_admin", "payroll_admin",
                                                          "oh_admin"])
        self.create_person("org-a", "staff-a", PW)
        self.create_person("org-b", "admin-b", PW, roles=["portal_admin"])
        self.create_person("org-b", "staff-b", PW, manager="admin-b")
        # both orgs: portal_admin in B, plain employee in A
        self.create_person("org-a", "both", PW)
        self.add_member("org-b", "both", PW, roles=["portal_admin", "hr_admin"])

    def snapshot_b(self):
        adm = self.as_admin()
        org = self.api.get(API + "/orgs/org-b", token=adm)
        people = self.api.get(API + "/orgs/org-b/people?limit=500", token=adm)
        audit = self.api.get(API + "/orgs/org-b/audit?limit=500", token=adm)
        for r in (org, people, audit):
            self.assertEqual(r.status, 200, r)
        return org.body, people.body, audit.body

    def attack_b(self, tok, who):
        """Every org-B route with a token whose active org is not B."""
        calls = [
            ("GET", "/orgs/org-b", None, None),
            ("PATCH", "/orgs/org-b", {"name": "Owned", "settings": {"leaver_access_days": 1}},
             None),
            ("GET", "/orgs/org-b/people", None, None),
            ("GET", "/orgs/org-b/people?limit=1", None, None),
            ("POST", "/orgs/org-b/people",
             {"username": "intruder", "display_name": "I", "email": "i@example.org",
              "status": "employee", "roles": ["portal_admin"], "password": "intruder-pw-1"},
             None),
            ("POST", "/orgs/org-b/people",
             {"username": "staff-a", "display_name": "I", "email": "i@example.org",
              "status": "employee", "roles": ["portal_admin"]}, None),
            ("GET", "/orgs/org-b/people/staff-b", None, None),
            ("GET", "/orgs/org-b/people/admin-b", None, None),
            ("GET", "/orgs/org-b/people/nobody", None, None),
            ("PATCH", "/orgs/org-b/people/staff-b", {"display_name": "Owned"}, None),
            ("PATCH", "/orgs/org-b/people/admin-b", {"roles": []}, None),
            ("POST", "/orgs/org-b/people/import", CSV, "text/csv"),
            ("GET", "/orgs/org-b/audit", None, None),
        ]
        for method, path, body, ctype in calls:
            if ctype:
                r = self.api.request(method, API + path, raw=body, content_type=ctype, token=tok)
            else:
                r = self.api.request(method, API + path, body=body, token=tok)
            ctx = "%s %s %s as %s" % (method, path, json.dumps(body)[:60], who)
            with self.subTest(call=ctx):
                self.assertIn(r.status, (403, 404), ctx + ": %r" % r)
                self.assert_problem(r, r.status,
                                    "forbidden" if r.status == 403 else "not_found", ctx)

    def test_admin_of_a_cannot_reach_b(self):
        before = self.snapshot_b()
        tok = self.token("admin-a", PW)
        self.attack_b(tok, "admin-a")
        self.attack_b(self.token("staff-a", PW), "staff-a")
        self.assertEqual(self.snapshot_b(), before, "org B changed")
        # and the A token still works for A
        self.assertEqual(self.api.get(API + "/orgs/org-a/people", token=tok).status, 200)
        # listing orgs shows only A
        r = self.api.get(API + "/orgs", token=tok)
        self.assertEqual([o["id"] for o in r.body["items"]], ["org-a"])
        # login as intruder never became possible
        self.assert_problem(self.login_raw("intruder", "intruder-pw-1"), 401,
                            "invalid_credentials")

    def test_member_of_both_with_token_for_a(self):
        before = self.snapshot_b()
        tok = self.token("both", PW, org="org-a")
        _, claims, _ = h.jwt_parts(tok)
        self.assertEqual(claims["org"], "org-a")
        self.attack_b(tok, "both (token for A)")
        self.assertEqual(self.snapshot_b(), before, "org B changed")
        # with a token for B the same person may read B
        tok_b = self.token("both", PW, org="org-b")
        r = self.api.get(API + "/orgs/org-b/people", token=tok_b)
        self.assertEqual(r.status, 200, r)
        # ... but not A's people (employee in A, token for B)
        r = self.api.get(API + "/orgs/org-a/people", token=tok_b)
        self.assertIn(r.status, (403, 404), r)
        r = self.api.get(API + "/orgs/org-a/people/staff-a", token=tok_b)
        self.assertIn(r.status, (403, 404), r)

    def test_forged_org_claim_does_not_switch_org(self):
        # a token re-signed with org B in its claims (what a stolen key
        # could do) still only grants what the store says for that membership;
        # a person who is not a member of B gets 401/403.
        tok = self.token("admin-a", PW)
        hdr, claims, _ = h.jwt_parts(tok)
        forged = self.forge_token("ES256", dict(claims, org="org-b"),
                                  {"alg": "ES256", "typ": "JWT", "kid": hdr["kid"]})
        r = self.api.get(API + "/orgs/org-b/people", token=forged)
        self.assertIn(r.status, (401, 403, 404), r)

    def test_path_tricks(self):
        tok = self.token("admin-a", PW)
        for path in ["/orgs/org-a/../org-b/people", "/orgs/org-a/%2e%2e/org-b/people",
                     "/orgs/org-b%00/people", "/orgs/ORG-B/people", "/orgs/org-b/people/",
                     "/orgs//org-b/people", "/orgs/org-a%2forg-b/people",
                     "/orgs/org-b/people/staff-b/../admin-b"]:
            r = self.api.get(API + path, token=tok)
            self.assertLess(r.status, 500, path)
            if r.status == 200:
                text = json.dumps(r.body)
                self.assertNotIn("staff-b", text, path)
                self.assertNotIn("admin-b", text, path)
            else:
                self.assertIn(r.status, (400, 403, 404), "%s: %r" % (path, r))

    def test_b_admin_sees_own(self):
        tok = self.token("admin-b", PW)
        r = self.api.get(API + "/orgs/org-b/people", token=tok)
        self.assertEqual(r.status, 200, r)
        names = {p["username"] for p in r.body["items"]}
        self.assertEqual(names, {"admin-b", "staff-b", "both"})
        r = self.api.get(API + "/orgs/org-b/audit?limit=500", token=tok)
        for e in r.body["items"]:
            self.assertNotIn("staff-a", json.dumps(e), "org A data in org B's audit")
        self.attack_a(tok)

    def attack_a(self, tok):
        for method, path in [("GET", "/orgs/org-a"), ("GET", "/orgs/org-a/people"),
                             ("GET", "/orgs/org-a/people/staff-a"), ("GET", "/orgs/org-a/audit")]:
            r = self.api.request(method, API + path, token=tok)
            self.assertIn(r.status, (403, 404), "%s %s: %r" % (method, path, r))


if __name__ == "__main__":
    h.main()
