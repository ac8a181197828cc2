"""Authentication: login, tokens, refresh, logout, JWKS, TOTP, token attacks."""

import datetime
import json
import re
import threading
import time
import unittest
from urllib.parse import parse_qs, urlparse

import portico_harness as h
from portico_harness import API

PW = "correct-horse-battery"


class AuthTest(h.PorticoTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.orgs_made = False

    def setUp(self):
        if not type(self).orgs_made:
            self.create_org("auth-a", "Auth A")
            self.create_org("auth-b", "Auth B")
            self.create_org("auth-c", "Auth C")
            self.create_person("auth-a", "alice", PW, roles=["hr_admin"])
            self.add_member("auth-b", "alice", PW)
            type(self).orgs_made = True

    def me(self, token):
        return self.api.get(API + "/me", token=token)

    # ------------------------------------------------------------- login

    def test_login_shape_and_claims(self):
        t0 = int(time.time())
        r = self.login_raw("alice", PW, org="auth-a")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"), r)
        b = r.body
        self.assertEqual(b["token_type"], "Bearer")
        self.assertEqual(b["expires_in"], 900)
        self.assertIsInstance(b["refresh_token"], str)
        self.assertEqual(len(b["refresh_token"].split(".")), 3, "refresh <sid>.<gen>.<secret>")
        hdr, claims, sig = h.jwt_parts(b["access_token"])
        self.assertEqual(hdr["alg"], "ES256")
        self.assertEqual(hdr["typ"], "JWT")
        self.assertIsInstance(hdr.get("kid"), str)
        self.assertEqual(len(sig), 64, "ES256 signature is r||s, 64 bytes")
        self.assertEqual(claims["iss"], "portico")
        self.assertEqual(claims["aud"], "portico-api")
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(claims["org"], "auth-a")
        self.assertEqual(claims["roles"], ["hr_admin"])
        self.assertEqual(claims["amr"], ["pwd"])
        for k in ("iat", "nbf", "exp"):
            self.assertIsInstance(claims[k], int, k)
        self.assertEqual(claims["exp"] - claims["iat"], 900)
        self.assertEqual(claims["nbf"], claims["iat"])
        self.assertLessEqual(abs(claims["iat"] - t0), 60)
        self.assertTrue(claims["jti"])
        self.assertTrue(claims["sid"])
        self.assertEqual(b["refresh_token"].split(".")[0], claims["sid"])
        # two logins: distinct jti and sid
        _, c2, _ = h.jwt_parts(self.token("alice", PW, org="auth-a"))
        self.assertNotEqual(c2["jti"], claims["jti"])
        self.assertNotEqual(c2["sid"], claims["sid"])
        self.assertEqual(self.me(b["access_token"]).status, 200)

    def test_login_default_org_is_first_membership(self):
        _, c, _ = h.jwt_parts(self.token("alice", PW))
        self.assertEqual(c["org"], "auth-a")
        _, c, _ = h.jwt_parts(self.token("alice", PW, org="auth-b"))
        self.assertEqual(c["org"], "auth-b")
        self.assertEqual(c["roles"], [])
        # without a default_org, "first" is by org id, not by when the
        # membership was added
        self.create_person("auth-c", "order-p", PW)
        self.add_member("auth-b", "order-p", PW)
        tok = self.token("order-p", PW)
        r = self.api.patch(API + "/me", {"default_org": None}, token=tok)
        self.assertEqual(r.status, 200, r)
        _, c, _ = h.jwt_parts(self.token("order-p", PW))
        self.assertEqual(c["org"], "auth-b")

    def test_login_without_org_skips_expired_leaver_membership(self):
        # A membership of auth-a with a past termination date must not
        # lock the person out of a login without org (auth-a sorts first
        # and is the default).
        self.create_person("auth-a", "a-portal-admin", PW, roles=["portal_admin"])
        a_admin = self.token("a-portal-admin", PW, org="auth-a")
        self.create_person("auth-b", "lock-victim", PW)
        self.add_member("auth-a", "lock-victim", PW, token=a_admin, start_date="2000-01-01",
                        termination_date="2000-01-31")
        tok = self.token("lock-victim", PW)
        self.api.patch(API + "/me", {"default_org": "auth-a"}, token=tok)
        _, c, _ = h.jwt_parts(self.token("lock-victim", PW))
        self.assertEqual(c["org"], "auth-b")
        # naming the expired org is still refused
        r = self.login_raw("lock-victim", PW, org="auth-a")
        self.assert_problem(r, 403, "leaver_access_expired")
        # nothing usable at all: leaver_access_expired
        self.create_person("auth-a", "only-gone", PW)
        self.add_member("auth-b", "only-gone", PW)
        for org, end in (("auth-a", "2000-01-31"), ("auth-b", "2000-02-28")):
            r = self.api.patch(API + "/orgs/%s/people/only-gone" % org,
                               {"start_date": "2000-01-01", "termination_date": end},
                               token=self.as_admin())
            self.assertEqual(r.status, 200, r)
        self.assert_problem(self.login_raw("only-gone", PW), 403, "leaver_access_expired")
        # a leaver still within the access period is usable and chosen
        # (first in id order)
        recent = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
        self.create_person("auth-b", "recent-leaver", PW)
        self.add_member("auth-a", "recent-leaver", PW, termination_date=recent)
        self.api.patch(API + "/me", {"default_org": None},
                       token=self.token("recent-leaver", PW))
        _, c, _ = h.jwt_parts(self.token("recent-leaver", PW))
        self.assertEqual(c["org"], "auth-a")

    def test_admin_token_has_system_admin_and_no_org(self):
        _, c, _ = h.jwt_parts(self.as_admin(fresh=True))
        self.assertIn("system_admin", c["roles"])
        self.assertNotIn("org", c)

    def test_invalid_credentials_same_for_unknown_user(self):
        self.create_person("auth-c", "wrongpw", PW)
        r1 = self.login_raw("wrongpw", "not-the-password")
        r2 = self.login_raw("nobody-at-all", "not-the-password")
        b1 = self.assert_problem(r1, 401, "invalid_credentials")
        b2 = self.assert_problem(r2, 401, "invalid_credentials")
        self.assertEqual(b1, b2, "unknown user and wrong password must answer alike")
        self.assertEqual(r1.raw, r2.raw)

    def test_login_validation(self):
        cases = [
            ({"password": PW}, ["/username"]),
            ({"username": "alice"}, ["/password"]),
            ({}, ["/username", "/password"]),
            ({"username": 5, "password": PW}, ["/username"]),
            ({"username": "alice", "password": ["x"]}, ["/password"]),
            ({"username": "alice", "password": PW, "org": 7}, ["/org"]),
            ({"username": "alice", "password": PW, "otp": 123456}, ["/otp"]),
        ]
        for body, pointers in cases:
            r = self.api.post(API + "/auth/login", body, token="")
            self.assert_validation(r, pointers, msg=json.dumps(body))

    def test_login_org_not_member_is_403(self):
        r = self.login_raw("alice", PW, org="auth-c")
        self.assert_problem(r, 403, "forbidden")
        r = self.login_raw("alice", PW, org="no-such-org")
        self.assertIn(r.status, (403, 404), r)
        self.assertLess(r.status, 500)

    # ---------------------------------------------------------- throttling

    def test_throttling(self):
        self.create_person("auth-c", "throttled", PW)
        try:
            for i in range(5):
                r = self.login_raw("throttled", "bad-password-%d" % i)
                self.assert_problem(r, 401, "invalid_credentials", "failure %d" % i)
            r = self.login_raw("throttled", PW)
            self.assert_problem(r, 429, "too_many_attempts", "right password while locked")
            ra = r.headers.get("Retry-After")
            self.assertIsNotNone(ra, "429 needs Retry-After")
            self.assertTrue(ra.isdigit() and 0 < int(ra) <= 900, "Retry-After %r" % ra)
            # another username is unaffected
            self.assertEqual(self.login_raw("alice", PW).status, 200)
            # after the window passes the right password works again
            self.set_clock(datetime.datetime.now(datetime.timezone.utc) +
                           datetime.timedelta(seconds=960))
            r = self.login_raw("throttled", PW)
            self.assertEqual(r.status, 200, r)
        finally:
            self.set_clock(None)

    def test_success_resets_failure_count(self):
        self.create_person("auth-c", "resetter", PW)
        for _ in range(2):
            for i in range(4):
                self.assert_problem(self.login_raw("resetter", "nope-%d" % i), 401,
                                    "invalid_credentials")
            self.assertEqual(self.login_raw("resetter", PW).status, 200)

    def test_correct_password_needing_code_is_not_a_failure(self):
        # the "code needed" step and a refused org give the reserved
        # attempt back: they are not guesses
        self.create_person("auth-c", "not-failures", PW)
        for _ in range(8):
            self.assert_problem(self.login_raw("not-failures", PW, org="auth-a"), 403,
                                "forbidden")
        self.assertEqual(self.login_raw("not-failures", PW).status, 200)

    # ------------------------------------------------------------- refresh

    def test_refresh_rotates_and_reuse_revokes_session(self):
        b1 = self.login("alice", PW, org="auth-a")
        r = self.api.post(API + "/auth/refresh", {"refresh_token": b1["refresh_token"]}, token="")
        self.assertEqual(r.status, 200, r)
        b2 = r.body
        self.assertEqual(b2["token_type"], "Bearer")
        self.assertEqual(b2["expires_in"], 900)
        self.assertNotEqual(b2["refresh_token"], b1["refresh_token"])
        self.assertNotEqual(b2["access_token"], b1["access_token"])
        _, c1, _ = h.jwt_parts(b1["access_token"])
        _, c2, _ = h.jwt_parts(b2["access_token"])
        self.assertEqual(c2["sid"], c1["sid"])
        self.assertEqual(c2["org"], "auth-a")
        self.assertEqual(self.me(b2["access_token"]).status, 200)
        # reuse of the spent token: 401, and the whole session dies
        r = self.api.post(API + "/auth/refresh", {"refresh_token": b1["refresh_token"]}, token="")
        self.assert_problem(r, 401, "unauthorized")
        r = self.api.post(API + "/auth/refresh", {"refresh_token": b2["refresh_token"]}, token="")
        self.assert_problem(r, 401, "unauthorized", "new refresh token after reuse")
        self.assert_problem(self.me(b2["access_token"]), 401, "unauthorized")
        self.assert_problem(self.me(b1["access_token"]), 401, "unauthorized")
        # other sessions of the same user are untouched
        self.assertEqual(self.me(self.token("alice", PW)).status, 200)

    def test_refresh_garbage(self):
        b = self.login("alice", PW)
        sid, gen, secret = b["refresh_token"].split(".")
        for bad in ("", "x" * 5000):
            r = self.api.post(API + "/auth/refresh", {"refresh_token": bad}, token="")
            self.assertIn(r.status, (401, 422), r)
        for bad in ["garbage", "a.b.c", "%s.%s.%s" % (sid, gen, "A" * len(secret)),
                    "%s.%d.%s" % (sid, int(gen) + 5, secret) if gen.isdigit() else "x.1.y"]:
            r = self.api.post(API + "/auth/refresh", {"refresh_token": bad}, token="")
            self.assert_problem(r, 401, "unauthorized", "refresh %r" % bad[:40])
        r = self.api.post(API + "/auth/refresh", {"refresh_token": 5}, token="")
        self.assert_not_5xx(r)
        self.assertIn(r.status, (401, 422), r)
        r = self.api.post(API + "/auth/refresh", {}, token="")
        self.assertIn(r.status, (401, 422), r)

    # -------------------------------------------------------------- logout

    def test_logout(self):
        b = self.login("alice", PW)
        other = self.token("alice", PW)
        r = self.api.post(API + "/auth/logout", token=b["access_token"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assert_problem(self.me(b["access_token"]), 401, "unauthorized")
        r = self.api.post(API + "/auth/refresh", {"refresh_token": b["refresh_token"]}, token="")
        self.assert_problem(r, 401, "unauthorized")
        self.assertEqual(self.me(other).status, 200, "logout ends only its own session")
        r = self.api.post(API + "/auth/logout", token="")
        self.assert_problem(r, 401, "unauthorized")

    # ---------------------------------------------------------------- JWKS

    def test_jwks(self):
        r = self.api.get("/.well-known/jwks.json", token="")
        self.assertEqual(r.status, 200, r)
        keys = r.body["keys"]
        # the key that signs and the next one, published before it signs
        self.assertEqual(len(keys), 2)
        self.assertEqual(len({k["kid"] for k in keys}), 2)
        for k in keys:
            self.assertEqual(k["kty"], "EC")
            self.assertEqual(k["crv"], "P-256")
            self.assertEqual(k["alg"], "ES256")
            self.assertEqual(k["use"], "sig")
            self.assertNotIn("d", k, "private key part published")
            self.assertEqual(len(h.b64url_decode(k["x"])), 32)
            self.assertEqual(len(h.b64url_decode(k["y"])), 32)
            self.assertNotIn("=", k["x"] + k["y"])
        tok = self.token("alice", PW)
        hdr, _, sig = h.jwt_parts(tok)
        k = next(k for k in keys if k["kid"] == hdr["kid"])
        x, y = h.b64url_decode(k["x"]), h.b64url_decode(k["y"])
        # the published key verifies the server's token
        pub = (int.from_bytes(x, "big"), int.from_bytes(y, "big"))
        signing_input = tok.rsplit(".", 1)[0].encode()
        self.assertTrue(h.ecdsa_verify(pub, signing_input, sig),
                        "token signature does not verify with the JWKS key")

    # ---------------------------------------------------------------- TOTP

    def test_totp_enrol_and_login(self):
        self.create_person("auth-c", "mfa-user", PW)
        tok = self.token("mfa-user", PW)
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": "123456"}, token=tok)
        self.assert_problem(r, 409, "conflict", "confirm with nothing pending")
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        self.assertEqual(r.status, 200, r)
        secret, uri = r.body["secret"], r.body["otpauth_uri"]
        self.assertTrue(uri.startswith("otpauth://totp/"), uri)
        q = parse_qs(urlparse(uri).query)
        self.assertEqual(q["secret"], [secret])
        self.assertIn("mfa-user", uri)
        good = h.totp(secret)
        wrong = "%06d" % ((int(good) + 500000) % 1000000)
        # pending enrolment does not yet require an otp
        self.assertEqual(self.login_raw("mfa-user", PW).status, 200)
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": wrong}, token=tok)
        self.assert_validation(r, ["/otp"])
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": h.totp(secret)}, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body.get("mfa_enabled"), True)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        self.assert_problem(r, 409, "conflict", "enrol again after confirmation")
        self.assertEqual(self.me(tok).body.get("mfa_enabled"), True)
        # login now needs the otp (the confirming code is spent: use the
        # next step's code, which the +-1 step window accepts)
        self.assert_problem(self.login_raw("mfa-user", PW), 401, "mfa_required")
        self.assert_problem(self.login_raw("mfa-user", PW, otp=wrong), 401, "mfa_required")
        r = self.login_raw("mfa-user", PW, otp=h.totp(secret, time.time() + 30))
        self.assertEqual(r.status, 200, r)
        _, c, _ = h.jwt_parts(r.body["access_token"])
        self.assertIn("otp", c["amr"])
        self.assertIn("pwd", c["amr"])
        # a wrong password with a right otp is still invalid_credentials
        r = self.login_raw("mfa-user", "wrong-password", otp=h.totp(secret))
        self.assert_problem(r, 401, "invalid_credentials")
        # the secret is never shown again
        self.assertNotIn(secret, json.dumps(self.me(tok).body))
        # audited in the active org, without the secret
        r = self.api.get(API + "/orgs/auth-c/audit?limit=500", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        ev = [e for e in r.body["items"] if e["action"] == "mfa.enable"]
        self.assertEqual(len(ev), 1, r.body)
        self.assertEqual(ev[0]["actor"], "mfa-user")
        self.assertNotIn(secret, json.dumps(r.body))

    def test_totp_code_is_single_use(self):
        self.create_person("auth-b", "replay-user", PW)
        tok = self.token("replay-user", PW)
        secret = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok).body["secret"]
        confirm_code = h.totp(secret)
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": confirm_code}, token=tok)
        self.assertEqual(r.status, 200, r)
        # the code used to confirm cannot log in
        r = self.login_raw("replay-user", PW, otp=confirm_code)
        self.assert_problem(r, 401, "mfa_required", "confirming code reused")
        code = h.totp(secret, time.time() + 30)
        r = self.login_raw("replay-user", PW, otp=code)
        self.assertEqual(r.status, 200, r)
        # the same code again: refused (RFC 6238 section 5.2)
        r = self.login_raw("replay-user", PW, otp=code)
        self.assert_problem(r, 401, "mfa_required", "code reused")
        # and an earlier step's code too
        r = self.login_raw("replay-user", PW, otp=confirm_code)
        self.assert_problem(r, 401, "mfa_required", "older code")

    # ------------------------------------------------------- token attacks

    def base_claims(self):
        tok = self.token("alice", PW, org="auth-a")
        hdr, claims, _ = h.jwt_parts(tok)
        return tok, hdr, claims

    def test_forged_with_server_key_is_accepted(self):
        # control: the forger signs exactly like the server, so the attack
        # tests below fail because of the attack and not the forger
        _, hdr, claims = self.base_claims()
        tok = self.forge_token("ES256", claims, {"alg": "ES256", "typ": "JWT", "kid": hdr["kid"]})
        self.assertEqual(self.me(tok).status, 200)

    def test_token_attacks(self):
        tok, hdr, claims = self.base_claims()
        now = int(time.time())
        es_hdr = {"alg": "ES256", "typ": "JWT", "kid": hdr["kid"]}

        def es(**change):
            c = dict(claims)
            for k, v in change.items():
                if v is None:
                    c.pop(k, None)
                else:
                    c[k] = v
            return self.forge_token("ES256", c, es_hdr)

        h_, p_, s_ = tok.split(".")
        flipped = dict(claims, roles=["portal_admin", "hr_admin"], sub="admin")
        tampered_payload = h_ + "." + h.b64url(json.dumps(flipped).encode()) + "." + s_
        sig = bytearray(h.b64url_decode(s_))
        sig[10] ^= 0x01
        tampered_sig = h_ + "." + p_ + "." + h.b64url(bytes(sig))
        attacks = {
            "alg none": self.forge_token("none", claims, {"alg": "none", "typ": "JWT"}),
            "alg None": self.forge_token("none", claims, {"alg": "None", "typ": "JWT"}),
            "alg none no sig dot": self.forge_token("none", claims, {"alg": "none"})[:-1],
            "HS256 with public key": self.forge_token(
                "HS256", claims, {"alg": "HS256", "typ": "JWT", "kid": hdr["kid"]}),
            "tampered payload": tampered_payload,
            "tampered signature": tampered_sig,
            "truncated signature": h_ + "." + p_ + "." + s_[:20],
            "future nbf": es(nbf=now + 3600, iat=now + 3600, exp=now + 4500),
            "wrong iss": es(iss="evil"),
            "wrong aud": es(aud="other-api"),
            "no exp": es(exp=None),
            "unknown sid": es(sid="nosuchsession"),
            "unknown sub": es(sub="ghost"),
            "oversized": es(pad="A" * 20000),
            "ES384 header": self.forge_token("ES256", claims, dict(es_hdr, alg="ES384")),
        }
        for name, t in attacks.items():
            with self.subTest(attack=name):
                r = self.me(t)
                self.assert_problem(r, 401, None, name)
                self.assertIn(r.body["code"], ("unauthorized", "token_expired"), name)
        with self.subTest(attack="expired"):
            r = self.me(es(exp=now - 60, iat=now - 960, nbf=now - 960))
            self.assert_problem(r, 401, "token_expired", "exp in the past")

    def test_expired_by_clock(self):
        tok = self.token("alice", PW)
        try:
            self.set_clock(datetime.datetime.now(datetime.timezone.utc) +
                           datetime.timedelta(seconds=901 + 30))
            self.assert_problem(self.me(tok), 401, "token_expired")
        finally:
            self.set_clock(None)
        self.assertEqual(self.me(tok).status, 200)

    def test_garbage_authorization(self):
        values = ["Bearer", "Bearer ", "Bearer a.b", "Bearer a.b.c", "Bearer ...",
                  "Basic xyz", "Basic YWRtaW46cGFzc3dvcmQ=", "bearer", "Token abc",
                  "Bearer " + "A" * 20000, "Bearer \u00e9\u00e8.\u00fc.\u00f6",
                  "Bearer eyJ\u2603.eyJ.x", "Bearer  two  spaces"]
        for v in values:
            raw_hdr = v.encode("utf-8")
            with self.subTest(authorization=v[:40]):
                r = self.api.request("GET", API + "/me", token="",
                                     headers={"Authorization": raw_hdr.decode("latin-1")})
                self.assert_problem(r, 401, "unauthorized", "Authorization %r" % v[:40])
        r = self.api.get(API + "/me", token="")
        self.assert_problem(r, 401, "unauthorized", "no Authorization")
        # the server is still fine
        self.assertEqual(self.api.get("/healthz").status, 200)

    def test_session_of_removed_token_kinds(self):
        # a refresh token is not an access token and vice versa
        b = self.login("alice", PW)
        self.assert_problem(self.me(b["refresh_token"]), 401, "unauthorized")
        r = self.api.post(API + "/auth/refresh", {"refresh_token": b["access_token"]}, token="")
        self.assert_problem(r, 401, "unauthorized")


class ParallelThrottleTest(h.PorticoTestCase):
    """Guesses sent at once for one username.  A realistic Argon2 cost
    keeps many requests in flight together, as in an attack."""

    server_config = {"pwhash_ops": 2, "pwhash_mem": 4 * 1024 * 1024}

    def test_throttle_holds_against_parallel_guesses(self):
        # The attempt is counted before the password is checked, so guesses
        # already in flight cannot all get past the limit of 5.
        self.create_org("par-org")
        self.create_person("par-org", "parallel-t", PW)
        n = 20
        go = threading.Barrier(n)
        answers = [None] * n

        def guess(i):
            c = self.server.client()
            try:
                go.wait(10)
                answers[i] = self.login_raw("parallel-t", "wrong-guess-%d" % i, client=c)
            finally:
                c.close()

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status for r in answers if r is not None)
        self.assertEqual(len(statuses), n, statuses)
        self.assertLessEqual(statuses.count(401), 5, statuses)
        self.assertEqual(statuses.count(401) + statuses.count(429), n, statuses)
        for r in answers:
            if r.status == 401:
                self.assert_problem(r, 401, "invalid_credentials")
            else:
                self.assert_problem(r, 429, "too_many_attempts")
                self.assertTrue(r.headers.get("Retry-After", "").isdigit(), r)
        r = self.login_raw("parallel-t", PW)
        self.assert_problem(r, 429, "too_many_attempts", "right password after the burst")


class AdminLeaverMembershipTest(h.PorticoTestCase):
    """The system admin may be a member of an organisation too; an expired
    leaver membership must not lock the admin out."""

    def test_admin_with_only_expired_membership_logs_in_without_org(self):
        self.create_org("sa-org")
        self.add_member("sa-org", "admin", self.server.admin_password)
        self.api.patch(API + "/orgs/sa-org/people/admin",
                       {"start_date": "2000-01-01", "termination_date": "2000-01-31"},
                       token=self.as_admin())
        r = self.login_raw("admin", self.server.admin_password)
        self.assertEqual(r.status, 200, r)
        _, c, _ = h.jwt_parts(r.body["access_token"])
        self.assertNotIn("org", c)
        self.assertIn("system_admin", c["roles"])
        r = self.login_raw("admin", self.server.admin_password, org="sa-org")
        self.assert_problem(r, 403, "leaver_access_expired")


class SessionPruneTest(h.PorticoTestCase):
    """Expired sessions are deleted at start-up and, a few at a time, by
    logins."""

    server_config = {"refresh_ttl": 2}

    def pruned_counts(self):
        return [int(n) for n in re.findall(r"pruned (\d+) expired session",
                                             self.server.log_text())]

    def test_expired_sessions_pruned(self):
        self.create_org("prune-org")
        self.create_person("prune-org", "pruner", PW)
        for _ in range(3):
            self.login("pruner", PW)
        time.sleep(2.5)
        self.api.close()
        self.server.restart()
        type(self).api = self.server.client()
        counts = self.pruned_counts()
        self.assertEqual(len(counts), 2, self.server.log_text()[-3000:])
        self.assertEqual(counts[0], 0, "nothing expired at the first start")
        self.assertGreaterEqual(counts[1], 3, "start-up prunes the expired sessions")

        # logins prune too: three sessions, then a login at a clock far
        # enough ahead to see them expired (its own session outlives the
        # restart below)
        for _ in range(3):
            self.login("pruner", PW)
        try:
            self.set_clock(datetime.datetime.now(datetime.timezone.utc) +
                           datetime.timedelta(seconds=100))
            self.login("pruner", PW)
        finally:
            self.set_clock(None)
        time.sleep(2.5)
        self.api.close()
        self.server.restart()
        type(self).api = self.server.client()
        counts = self.pruned_counts()
        self.assertEqual(len(counts), 3, self.server.log_text()[-3000:])
        self.assertEqual(counts[2], 0, "the login had already pruned them")


if __name__ == "__main__":
    h.main()
