#!/usr/bin/env python3
"""Issue 11, finding 4 (the smaller ones): sessions bound to the token's
subject, low-S signatures only, nosniff and Cache-Control on every answer,
CORS from the organisations' allow-lists (never CivetWeb's "*"), /metrics
for system admins only, and a bound on passwords per CSV import."""

import time

import portico_harness as h
from portico_harness import API

PW = "hardening-password-1"
N = h._N


class HardeningTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("hard", settings={"cors_origins": ["https://portal.example.org",
                                                           "https://app.example.org:8443"]})
        self.create_person("hard", "hard-admin", PW, roles=["portal_admin"])
        self.create_person("hard", "sess-a", PW)
        self.create_person("hard", "sess-b", PW, roles=["hr_admin"])

    # ------------------------------------------------ session bound to sub

    def test_session_of_another_account_is_refused(self):
        ta = self.token("sess-a", PW)
        _, ca, _ = h.jwt_parts(ta)
        now = int(time.time())
        # a validly signed token for sess-b carrying sess-a's session id
        claims = {"iss": "portico", "aud": "portico-api", "sub": "sess-b", "org": "hard",
                  "sid": ca["sid"], "jti": "j-bind", "iat": now, "nbf": now, "exp": now + 300,
                  "roles": [], "amr": ["pwd"]}
        r = self.api.get(API + "/me", token=self.forge_token("ES256", claims))
        self.assert_problem(r, 401, "unauthorized")
        # the same claims with sess-a as subject are fine (the key is right)
        r = self.api.get(API + "/me", token=self.forge_token("ES256", dict(claims, sub="sess-a")))
        self.assertEqual(r.status, 200, r)
        # and another org than the session's is refused too
        r = self.api.get(API + "/me", token=self.forge_token("ES256", dict(claims, sub="sess-a",
                                                                           org="other")))
        self.assert_problem(r, 401, "unauthorized")

    # ------------------------------------------------------------ low S

    def test_only_low_s_signatures(self):
        for _ in range(8):
            tok = self.token("sess-a", PW)
            head, _, sig = tok.rpartition(".")
            raw = h.b64url_decode(sig)
            s = int.from_bytes(raw[32:], "big")
            self.assertLessEqual(s, N // 2, "server issued a high-S signature")
            twin = head + "." + h.b64url(raw[:32] + (N - s).to_bytes(32, "big"))
            self.assertEqual(self.api.get(API + "/me", token=tok).status, 200)
            self.assert_problem(self.api.get(API + "/me", token=twin), 401, "unauthorized")

    # ------------------------------------- nosniff and Cache-Control everywhere

    def test_nosniff_and_no_store_on_every_answer(self):
        adm = self.as_admin()
        answers = [
            self.api.get("/healthz", token=""),
            self.api.get("/readyz", token=""),
            self.api.get("/metrics", token=adm),
            self.api.get("/metrics", token=""),
            self.api.get("/no-such-path", token=""),
            self.api.get(API + "/no-such-path", token=""),
            self.api.request("DELETE", API + "/orgs", token=adm),
            self.api.get(API + "/me", token=""),
            self.api.get(API + "/me", token=adm),
            self.api.get(API + "/openapi.json", token=""),
            self.api.post(API + "/auth/login", {"username": "x"}, token=""),
            self.api.post(API + "/orgs", raw=b"{", token=adm),
        ]
        for r in answers:
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", r)
            self.assertEqual(r.headers.get("Cache-Control"), "no-store", r)
        # a handler's own Cache-Control wins (JWKS is public, cacheable)
        r = self.api.get("/.well-known/jwks.json", token="")
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertIn("max-age", r.headers.get("Cache-Control"))

    # -------------------------------------------------------------- CORS

    def preflight(self, origin, path=API + "/me"):
        return self.api.request("OPTIONS", path, token="", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})

    def test_cors_from_the_allow_list(self):
        r = self.preflight("https://portal.example.org")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                         "https://portal.example.org")
        self.assertIn("Origin", r.headers.get("Vary", ""))
        self.assertIn("Authorization", r.headers.get("Access-Control-Allow-Headers", ""))
        self.assertIn("Content-Type", r.headers.get("Access-Control-Allow-Headers", ""))
        self.assertIn("PATCH", r.headers.get("Access-Control-Allow-Methods", ""))
        self.assertIsNone(r.headers.get("Access-Control-Allow-Credentials"))
        # an origin nobody listed: no CORS grant at all (CivetWeb said "*")
        r = self.preflight("https://evil.example")
        self.assertNotEqual(r.status, 204, r)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"), r)
        self.assertIsNone(self.preflight("http://portal.example.org").headers.get(
            "Access-Control-Allow-Origin"))
        # actual answers carry ACAO only for allowed origins
        tok = self.token("sess-a", PW)
        r = self.api.get(API + "/me", token=tok, headers={"Origin": "https://app.example.org:8443"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                         "https://app.example.org:8443")
        self.assertIn("Origin", r.headers.get("Vary", ""))
        r = self.api.get(API + "/me", token=tok, headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        self.assertIsNone(self.api.get("/healthz", token="").headers.get(
            "Access-Control-Allow-Origin"))

    def test_cors_list_follows_org_writes_and_is_validated(self):
        self.assertNotEqual(self.preflight("https://new.example.org").status, 204)
        adm = self.token("hard-admin", PW)
        r = self.api.patch(API + "/orgs/hard", {"settings": {"cors_origins": [
            "https://portal.example.org", "https://new.example.org"]}}, token=adm)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.preflight("https://new.example.org").status, 204)
        self.assertNotEqual(self.preflight("https://app.example.org:8443").status, 204)
        for bad in (["http://plain.example.org"], ["https://x.example.org/path"],
                    ["https://X.example.org"], ["*"], ["https://x.example.org:0"],
                    "https://x.example.org", [7], ["https://a.example.org"] * 21):
            r = self.api.patch(API + "/orgs/hard", {"settings": {"cors_origins": bad}},
                               token=adm)
            self.assert_validation(r, ["/settings/cors_origins"], repr(bad)[:60])
        # an origin listed by a new organisation is allowed as well (union)
        self.create_org("hard-two", settings={"cors_origins": ["https://two.example.org"]})
        self.assertEqual(self.preflight("https://two.example.org").status, 204)

    # ----------------------------------------------------------- /metrics

    def test_metrics_need_a_system_admin(self):
        self.assert_problem(self.api.get("/metrics", token=""), 401, "unauthorized")
        r = self.api.get("/metrics", token=self.token("hard-admin", PW))
        self.assert_problem(r, 403, "forbidden")
        r = self.api.get("/metrics", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertIn("portico_http_requests_total", r.raw.decode())

    # ------------------------------------------- passwords per CSV import

    def test_import_bounds_rows_with_passwords(self):
        adm = self.token("hard-admin", PW)

        def csv(n_pw, n_plain, prefix):
            rows = ["username,display_name,email,status,password"]
            rows += ["%s-p%03d,P %d,p%d@example.org,employee,%s" % (prefix, i, i, i, PW)
                     for i in range(n_pw)]
            rows += ["%s-n%03d,N %d,n%d@example.org,employee," % (prefix, i, i, i)
                     for i in range(n_plain)]
            return ("\n".join(rows) + "\n").encode()

        r = self.api.post(API + "/orgs/hard/people/import", raw=csv(101, 0, "big"),
                          content_type="text/csv", token=adm)
        errs = self.assert_validation(r, ["/rows"])
        self.assertIn("at most 100", [e for e in errs if e["pointer"] == "/rows"][0]["message"])
        r = self.api.get(API + "/orgs/hard/people/big-p000", token=adm)
        self.assert_problem(r, 404, "not_found")
        # 100 with passwords and any number without are fine
        r = self.api.post(API + "/orgs/hard/people/import", raw=csv(100, 150, "ok"),
                          content_type="text/csv", token=adm)
        self.assertEqual((r.status, r.body), (201, {"imported": 250}), r)
        self.assertEqual(self.login_raw("ok-p099", PW).status, 200)


if __name__ == "__main__":
    h.main()
