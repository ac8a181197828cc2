#!/usr/bin/env python3
"""Issue 11, finding 3: MFA.  Enrolling or removing TOTP needs the current
password (a stolen access token alone cannot lock the owner out); a leaver
cannot enrol; a portal_admin can reset a member's MFA (audited), from the
API and the CLI."""

import datetime
import os
import subprocess
import time

import portico_harness as h
from portico_harness import API

PW = "mfa-password-1"


class MfaHardeningTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("mfa-a")
        self.create_org("mfa-b")
        self.create_person("mfa-a", "mfa-admin", PW, roles=["portal_admin"])
        self.create_person("mfa-a", "mfa-hr", PW, roles=["hr_admin"])
        self.create_person("mfa-b", "b-admin", PW, roles=["portal_admin"])

    def enrol(self, user, tok=None):
        tok = tok or self.token(user, PW)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        self.assertEqual(r.status, 200, r)
        secret = r.body["secret"]
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": h.totp(secret)}, token=tok)
        self.assertEqual(r.status, 200, r)
        return secret

    def audit(self, org, target):
        r = self.api.get(API + "/orgs/%s/audit?limit=500" % org, token=self.as_admin())
        return [e for e in r.body["items"] if e["target"] == target]

    def test_stolen_token_alone_cannot_enrol(self):
        self.create_person("mfa-a", "stolen", PW)
        tok = self.token("stolen", PW)
        # the report: a token alone started enrolment
        r = self.api.post(API + "/me/mfa/totp", token=tok)
        self.assert_validation(r, ["/password"])
        r = self.api.post(API + "/me/mfa/totp", {"password": "not-the-password"}, token=tok)
        self.assert_problem(r, 401, "invalid_credentials")
        self.assert_validation(self.api.post(API + "/me/mfa/totp", {"password": PW, "x": 1},
                                             token=tok), ["/x"])
        # nothing was enrolled: the owner still signs in without a code
        self.assertEqual(self.login_raw("stolen", PW).status, 200)
        self.enrol("stolen", tok)
        self.assert_problem(self.login_raw("stolen", PW), 401, "mfa_required")

    def test_leaver_cannot_enrol(self):
        ended = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
        self.create_person("mfa-a", "left", PW, termination_date=ended)
        tok = self.token("left", PW)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        b = self.assert_problem(r, 403, "forbidden")
        self.assertIn("employed", b["detail"])
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": "123456"}, token=tok)
        self.assert_problem(r, 403, "forbidden")

    def test_remove_needs_password_and_code(self):
        self.create_person("mfa-a", "remover", PW)
        tok = self.token("remover", PW)
        path = API + "/me/mfa/totp"
        self.assert_problem(self.api.delete(path, body={"password": PW, "otp": "123456"},
                                            token=tok), 409, "conflict")
        secret = self.enrol("remover", tok)
        self.assert_validation(self.api.delete(path, token=tok), ["/password", "/otp"])
        later = h.totp(secret, time.time() + 30)  # a step after the confirming code
        r = self.api.delete(path, body={"password": "wrong-password", "otp": later}, token=tok)
        self.assert_problem(r, 401, "invalid_credentials")
        bad = "000000" if later != "000000" else "111111"
        r = self.api.delete(path, body={"password": PW, "otp": bad}, token=tok)
        self.assert_problem(r, 401, "mfa_required")
        r = self.api.delete(path, body={"password": PW, "otp": later}, token=tok)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.login_raw("remover", PW).status, 200)
        self.assertEqual([e["action"] for e in self.audit("mfa-a", "remover")],
                         ["person.create", "mfa.enable", "mfa.disable"])

    def test_admin_reset(self):
        self.create_person("mfa-a", "lost-phone", PW)
        self.enrol("lost-phone")
        self.assert_problem(self.login_raw("lost-phone", PW), 401, "mfa_required")
        path = API + "/orgs/mfa-a/people/lost-phone/mfa"
        # not a portal_admin; not that org's admin
        self.assert_problem(self.api.delete(path, token=self.token("mfa-hr", PW)), 403)
        self.assert_problem(self.api.delete(path, token=self.token("b-admin", PW)), 403)
        # org B cannot reset by naming the account, nor by inviting it
        r = self.api.delete(API + "/orgs/mfa-b/people/lost-phone/mfa",
                            token=self.token("b-admin", PW))
        self.assert_problem(r, 404, "not_found")
        r = self.api.post(API + "/orgs/mfa-b/invitations", self.person_body("lost-phone"),
                          token=self.token("b-admin", PW))
        self.assertEqual(r.status, 201, r)
        r = self.api.delete(API + "/orgs/mfa-b/people/lost-phone/mfa",
                            token=self.token("b-admin", PW))
        self.assert_problem(r, 404, "not_found")
        self.assert_problem(self.login_raw("lost-phone", PW), 401, "mfa_required")
        # the person's own org admin can
        r = self.api.delete(path, token=self.token("mfa-admin", PW))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.login_raw("lost-phone", PW).status, 200)
        e = self.audit("mfa-a", "lost-phone")[-1]
        self.assertEqual((e["action"], e["actor"]), ("mfa.reset", "mfa-admin"))
        self.assertEqual((e["before"], e["after"]), ({"mfa_enabled": True},
                                                     {"mfa_enabled": False}))
        self.assert_problem(self.api.delete(API + "/orgs/mfa-a/people/nobody/mfa",
                                            token=self.token("mfa-admin", PW)), 404)

    def test_cli_reset(self):
        self.create_person("mfa-a", "cli-phone", PW)
        self.enrol("cli-phone")
        cli = os.path.join(h._env_path("PORTICO_BUILD_DIR", "../../build"), "portico")
        base = [cli] + self.server.store_args() + ["--config", self.server.config_path,
                                                    "person", "mfa-reset"]
        r = subprocess.run(base + ["mfa-b", "cli-phone"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r)
        r = subprocess.run(base + ["mfa-a", "cli-phone"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.login_raw("cli-phone", PW).status, 200)
        e = self.audit("mfa-a", "cli-phone")[-1]
        self.assertEqual(e["action"], "mfa.reset")
        self.assertTrue(e["actor"].startswith("cli:"), e)


if __name__ == "__main__":
    h.main()
