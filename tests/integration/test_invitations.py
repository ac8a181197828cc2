#!/usr/bin/env python3
"""Issue 11, finding 1: an organisation cannot take over an account by
naming it.  An existing username is 409 everywhere (API, CSV import, CLI);
an existing account joins another organisation only by an invitation its
holder accepts; login without org uses the account's default organisation."""

import os
import subprocess

import portico_harness as h
from portico_harness import API

PW_A = "org-a-password-1"
PW_B = "org-b-password-2"


def cli_path():
    return os.path.join(h._env_path("PORTICO_BUILD_DIR", "../../build"), "portico")


class InvitationTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("inv-a")
        self.create_org("inv-b", "Invite B")
        self.create_person("inv-a", "j.smith", PW_A)
        self.create_person("inv-b", "b-admin", PW_B, roles=["portal_admin"])

    def b_admin(self):
        return self.token("b-admin", PW_B)

    def test_create_existing_username_is_conflict_and_password_unchanged(self):
        # the report: org B creates its own j.smith with password Q and
        # hr_admin; before, 201 and P logged into B as hr_admin
        body = dict(self.person_body("j.smith"), password=PW_B, roles=["hr_admin"])
        r = self.api.post(API + "/orgs/inv-b/people", body, token=self.b_admin())
        b = self.assert_problem(r, 409, "conflict")
        self.assertIn("invit", b["detail"])
        self.assert_problem(self.login_raw("j.smith", PW_A, org="inv-b"), 403, "forbidden")
        self.assert_problem(self.login_raw("j.smith", PW_B), 401, "invalid_credentials")
        r = self.api.get(API + "/orgs/inv-b/people/j.smith", token=self.b_admin())
        self.assert_problem(r, 404, "not_found")
        # the system admin gets the same answer
        r = self.api.post(API + "/orgs/inv-b/people", body, token=self.as_admin())
        self.assert_problem(r, 409, "conflict")

    def test_import_existing_username_is_row_error(self):
        csv = ("username,display_name,email,status,roles\n"
               "fresh.one,Fresh One,f1@example.org,employee,\n"
               "j.smith,Jo Smith,jo@example.org,employee,hr_admin\n")
        r = self.api.post(API + "/orgs/inv-b/people/import", raw=csv.encode(),
                          content_type="text/csv", token=self.b_admin())
        errs = self.assert_validation(r, ["/rows/2/username"])
        self.assertTrue(all(e["row"] == 2 for e in errs), errs)
        # all or nothing: fresh.one was not imported either
        r = self.api.get(API + "/orgs/inv-b/people/fresh.one", token=self.b_admin())
        self.assert_problem(r, 404, "not_found")

    def test_cli_create_existing_username_fails(self):
        r = subprocess.run([cli_path()] + self.server.store_args() +
                           ["--config", self.server.config_path, "person", "create", "inv-b",
                            "j.smith",
                            "--name", "Jo", "--email", "jo@example.org", "--status", "employee",
                            "--roles", "hr_admin", "--password-stdin"],
                           input=(PW_B + "\n").encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"already taken", r.stderr)
        self.assert_problem(self.login_raw("j.smith", PW_B), 401, "invalid_credentials")

    def test_invitation_flow(self):
        self.create_person("inv-a", "multi", PW_A)
        adm = self.b_admin()
        body = self.person_body("multi", display_name="Multi in B", roles=["hr_admin"])
        # a password is refused in an invitation
        r = self.api.post(API + "/orgs/inv-b/invitations", dict(body, password=PW_B), token=adm)
        self.assert_validation(r, ["/password"])
        # unknown username: 404 (the admin needs to know)
        r = self.api.post(API + "/orgs/inv-b/invitations", self.person_body("no-such-account"),
                          token=adm)
        self.assert_problem(r, 404, "not_found")
        r = self.api.post(API + "/orgs/inv-b/invitations", body, token=adm)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["membership"], "invited")
        self.assertEqual(r.body["org"], "inv-b")
        self.assertEqual(r.body["invited_by"], "b-admin")
        # twice: 409
        self.assert_problem(self.api.post(API + "/orgs/inv-b/invitations", body, token=adm),
                            409, "conflict")
        # invited is no membership: no login, no data, not listed
        self.assert_problem(self.login_raw("multi", PW_A, org="inv-b"), 403, "forbidden")
        _, c, _ = h.jwt_parts(self.token("multi", PW_A))
        self.assertEqual(c["org"], "inv-a")
        r = self.api.get(API + "/orgs/inv-b/people?limit=500", token=adm)
        self.assertNotIn("multi", [p["username"] for p in r.body["items"]])
        self.assert_problem(self.api.get(API + "/orgs/inv-b/people/multi", token=adm), 404)
        # /me lists the pending invitation
        tok = self.token("multi", PW_A)
        me = self.api.get(API + "/me", token=tok).body
        self.assertEqual([m["org"] for m in me["memberships"]], ["inv-a"])
        self.assertEqual(len(me["invitations"]), 1, me)
        inv = me["invitations"][0]
        self.assertEqual((inv["org"], inv["name"], inv["roles"], inv["invited_by"]),
                         ("inv-b", "Invite B", ["hr_admin"], "b-admin"))
        self.assertEqual(me["default_org"], "inv-a")
        # accept
        r = self.api.post(API + "/me/invitations/inv-b/accept", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["org"], "inv-b")
        self.assertEqual(r.body["roles"], ["hr_admin"])
        self.assert_problem(self.api.post(API + "/me/invitations/inv-b/accept", token=tok), 404,
                            "not_found")
        _, c, _ = h.jwt_parts(self.token("multi", PW_A, org="inv-b"))
        self.assertEqual((c["org"], c["roles"]), ("inv-b", ["hr_admin"]))
        # login without org still lands in the account's default (inv-a)
        _, c, _ = h.jwt_parts(self.token("multi", PW_A))
        self.assertEqual(c["org"], "inv-a")
        r = self.api.get(API + "/orgs/inv-b/people/multi", token=adm)
        self.assertEqual(r.body["display_name"], "Multi in B")
        # now a member: inviting again is 409
        self.assert_problem(self.api.post(API + "/orgs/inv-b/invitations", body, token=adm),
                            409, "conflict")
        # the whole story is in B's audit log
        r = self.api.get(API + "/orgs/inv-b/audit?limit=500", token=adm)
        acts = [(e["action"], e["actor"], e["target"]) for e in r.body["items"]
                if e["target"] == "multi"]
        self.assertEqual(acts, [("invitation.create", "b-admin", "multi"),
                                ("invitation.accept", "multi", "multi")])

    def test_decline(self):
        self.create_person("inv-a", "decliner", PW_A)
        adm = self.b_admin()
        r = self.api.post(API + "/orgs/inv-b/invitations", self.person_body("decliner"),
                          token=adm)
        self.assertEqual(r.status, 201, r)
        tok = self.token("decliner", PW_A)
        r = self.api.post(API + "/me/invitations/inv-b/decline", token=tok)
        self.assertEqual(r.status, 204, r)
        me = self.api.get(API + "/me", token=tok).body
        self.assertEqual(me["invitations"], [])
        self.assert_problem(self.api.post(API + "/me/invitations/inv-b/accept", token=tok), 404)
        self.assert_problem(self.login_raw("decliner", PW_A, org="inv-b"), 403, "forbidden")
        r = self.api.get(API + "/orgs/inv-b/audit?limit=500", token=adm)
        acts = [e["action"] for e in r.body["items"] if e["target"] == "decliner"]
        self.assertEqual(acts, ["invitation.create", "invitation.decline"])

    def test_invite_needs_portal_admin_of_that_org(self):
        self.create_person("inv-a", "target2", PW_A)
        self.create_person("inv-b", "b-hr", PW_B, roles=["hr_admin"])
        r = self.api.post(API + "/orgs/inv-b/invitations", self.person_body("target2"),
                          token=self.token("b-hr", PW_B))
        self.assert_problem(r, 403, "forbidden")
        r = self.api.post(API + "/orgs/inv-a/invitations", self.person_body("b-hr"),
                          token=self.b_admin())
        self.assert_problem(r, 403, "forbidden")

    def test_default_org(self):
        self.create_person("inv-b", "def-user", PW_B)
        self.add_member("inv-a", "def-user", PW_B)
        # the creating org is the default, though inv-a sorts first
        _, c, _ = h.jwt_parts(self.token("def-user", PW_B))
        self.assertEqual(c["org"], "inv-b")
        tok = self.token("def-user", PW_B)
        r = self.api.patch(API + "/me", {"default_org": "inv-a"}, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["default_org"], "inv-a")
        _, c, _ = h.jwt_parts(self.token("def-user", PW_B))
        self.assertEqual(c["org"], "inv-a")
        # not a membership / not invited-accepted: 422
        self.assert_validation(self.api.patch(API + "/me", {"default_org": "nope"}, token=tok),
                               ["/default_org"])
        self.assert_validation(self.api.patch(API + "/me", {"colour": "red"}, token=tok),
                               ["/colour"])
        # null: first usable membership in id order
        r = self.api.patch(API + "/me", {"default_org": None}, token=tok)
        self.assertEqual(r.status, 200, r)
        _, c, _ = h.jwt_parts(self.token("def-user", PW_B))
        self.assertEqual(c["org"], "inv-a")


if __name__ == "__main__":
    h.main()
