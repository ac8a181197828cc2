"""HTTP layer: limits, content types, errors, health, metrics, spec, keep-alive,
logs without secrets, and the route table against the OpenAPI document."""

import http.client
import json
import os
import re
import socket
import subprocess
import time

import portico_harness as h
from portico_harness import API

PW = "http-test-password"
MIB = 1024 * 1024


def raw_exchange(port, head, body_chunks=(), timeout=10):
    """Sends a raw request (headers, then body chunks, tolerating the server
    closing early) and returns (status, headers dict, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        for c in body_chunks:
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
                if b"\r\n\r\n" in data:
                    hdr, _, rest = data.partition(b"\r\n\r\n")
                    m = re.search(rb"(?i)content-length:\s*(\d+)", hdr)
                    if m and len(rest) >= int(m.group(1)):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        s.close()
    hdr, _, rest = data.partition(b"\r\n\r\n")
    lines = hdr.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, data
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


class HttpTest(h.PorticoTestCase):

    def fixtures(self):
        self.create_org("web")
        self.create_person("web", "webby", PW, roles=["portal_admin"])

    # ---------------------------------------------------------- body limits

    def big_head(self, path, length=None, chunked=False, token=None):
        lines = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", "Content-Type: application/json"]
        if token:
            lines.append("Authorization: Bearer " + token)
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append("Content-Length: %d" % length)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def check_413(self, status, headers, body, ctx):
        self.assertEqual(status, 413, "%s: %r %r" % (ctx, status, body[:300]))
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        ctx)
        b = json.loads(body)
        self.assertEqual(b["code"], "payload_too_large", ctx)
        self.assertEqual(b["status"], 413)

    def test_body_too_large_content_length(self):
        tok = self.as_admin()
        n = MIB + 1
        payload = b'{"id":"big","name":"' + b"x" * (n - 22) + b'"}'
        self.assertEqual(len(payload), n)
        for path, t in ((API + "/orgs", tok), (API + "/auth/login", None)):
            chunks = [payload[i:i + 65536] for i in range(0, n, 65536)]
            st, hd, body = raw_exchange(self.server.port, self.big_head(path, n, token=t), chunks)
            self.check_413(st, hd, body, "Content-Length " + path)
            # declared length only, no body sent: answered without waiting
            t0 = time.time()
            st, hd, body = raw_exchange(self.server.port,
                                        self.big_head(path, 50 * MIB, token=t), timeout=5)
            self.check_413(st, hd, body, "declared 50 MiB " + path)
            self.assertLess(time.time() - t0, 4)
        # a small body is not refused for size
        r = self.api.post(API + "/orgs", raw=b'{"id":"at-cap","name":"' + b"y" * 100 + b'"}',
                          token=tok)
        self.assertNotEqual(r.status, 413)
        self.assertEqual(self.api.get("/healthz").status, 200)

    def test_body_too_large_chunked(self):
        tok = self.as_admin()
        piece = b"x" * 65536
        chunks = []
        first = b'{"id":"big","name":"'
        chunks.append(b"%x\r\n%s\r\n" % (len(first), first))
        for _ in range(20):  # 1.25 MiB
            chunks.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        chunks.append(b'2\r\n"}\r\n0\r\n\r\n')
        st, hd, body = raw_exchange(self.server.port,
                                    self.big_head(API + "/orgs", chunked=True, token=tok), chunks)
        self.check_413(st, hd, body, "chunked")
        r = self.api.get(API + "/orgs/big", token=tok)
        self.assert_problem(r, 404, "not_found")
        # a small chunked body is fine
        body = json.dumps({"id": "chunky", "name": "Chunky"}).encode()
        st, hd, rb = raw_exchange(self.server.port,
                                  self.big_head(API + "/orgs", chunked=True, token=tok),
                                  [b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)])
        self.assertEqual(st, 201, rb)

    # ---------------------------------------------------------- bad bodies

    def test_malformed_bodies(self):
        tok = self.as_admin()
        for raw in (b"{", b'{"id": "x",}', b"nul", b'{"id": "x" "name": "y"}', b"\x00\x01",
                    b'{"a":1}{"b":2}', b"{'id': 'x'}"):
            r = self.api.post(API + "/orgs", raw=raw, token=tok)
            self.assert_problem(r, 400, "bad_request", repr(raw))
        for raw in (b'{"id":"bad-utf8","name":"\xff\xfe"}',
                    b'{"id":"bad-utf8","name":"\xc3\x28"}',
                    b'{"id":"bad-utf8","name":"\xed\xa0\x80"}'):
            r = self.api.post(API + "/orgs", raw=raw, token=tok)
            self.assert_problem(r, 400, "bad_request", repr(raw))
        r = self.api.post(API + "/auth/login", raw=b'{"username":"\xff","password":"x"}', token="")
        self.assert_problem(r, 400, "bad_request", "bad utf-8 at login")
        for raw in (b"[]", b'[{"id":"x","name":"y"}]'):
            r = self.api.post(API + "/orgs", raw=raw, token=tok)
            self.assert_problem(r, 422, "validation_failed", repr(raw))
        r = self.api.post(API + "/orgs", raw=json.dumps({"id": "ct", "name": "x"}),
                          content_type="text/plain", token=tok)
        self.assert_problem(r, 415, "unsupported_media_type")
        r = self.api.post(API + "/auth/login", raw=json.dumps({"username": "webby",
                                                               "password": PW}),
                          content_type="application/x-www-form-urlencoded", token="")
        self.assert_problem(r, 415, "unsupported_media_type")
        r = self.api.get(API + "/orgs/ct", token=tok)
        self.assert_problem(r, 404, "not_found")
        # missing Content-Type is accepted; charset parameter is accepted
        r = self.api.post(API + "/auth/login", raw=json.dumps({"username": "webby",
                                                               "password": PW}),
                          content_type=None, token="")
        self.assertEqual(r.status, 200, r)
        r = self.api.post(API + "/auth/login", raw=json.dumps({"username": "webby",
                                                               "password": PW}),
                          content_type="application/json; charset=utf-8", token="")
        self.assertEqual(r.status, 200, r)

    def test_scalar_json_body_is_422(self):
        # valid JSON that is not an object: 422 (decisions.md), not 400
        for raw in (b"42", b'"str"', b"null", b"true"):
            r = self.api.post(API + "/orgs", raw=raw, token=self.as_admin())
            self.assert_problem(r, 422, "validation_failed", repr(raw))

    def test_deeply_nested_json(self):
        tok = self.as_admin()
        for raw in (b"[" * 100000 + b"]" * 100000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
                    b'{"a":' * 5000):
            r = self.api.post(API + "/orgs", raw=raw, token=tok)
            self.assertIn(r.status, (400, 413, 422), r)
            self.assert_problem(r, r.status, None, "nested %d bytes" % len(raw))
        self.assertEqual(self.api.get("/healthz").status, 200)

    # ------------------------------------------------------ routing errors

    def test_unknown_route_and_method(self):
        r = self.api.get(API + "/no-such-thing", token=self.as_admin())
        self.assert_problem(r, 404, "not_found")
        r = self.api.get("/nothing-here", token="")
        self.assert_problem(r, 404, "not_found")
        r = self.api.request("DELETE", API + "/auth/login", token="")
        self.assert_problem(r, 405, "method_not_allowed")
        allow = r.headers.get("Allow") or ""
        self.assertIn("POST", allow)
        r = self.api.request("PUT", "/healthz", body={}, token="")
        self.assert_problem(r, 405, "method_not_allowed")
        self.assertIn("GET", r.headers.get("Allow") or "")
        r = self.api.request("DELETE", API + "/orgs/web", token=self.as_admin())
        self.assert_problem(r, 405, "method_not_allowed")
        allow = {a.strip() for a in (r.headers.get("Allow") or "").split(",")}
        self.assertTrue({"GET", "PATCH"} <= allow, allow)

    # ---------------------------------------------------- health & metrics

    def test_demo_page(self):
        # GET / is the embedded browser page, with a strict CSP; nothing
        # else is served from files (no document_root)
        r = self.api.get("/", token="")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"), r.headers)
        csp = r.headers["Content-Security-Policy"]
        self.assertIn("default-src 'none'", csp)
        # the page's own inline blocks are allowed by hash, nothing else inline
        self.assertNotIn("unsafe-inline", csp)
        self.assertRegex(csp, r"script-src 'sha256-[A-Za-z0-9+/]{43}='")
        self.assertRegex(csp, r"style-src 'sha256-[A-Za-z0-9+/]{43}='")
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        page = r.raw.decode("utf-8")
        self.assertIn("/api/v1/auth/login", page)
        self.assertIn("/api/v1/dashboards/", page)
        self.assertNotIn("innerHTML", page)
        for path in ("/index.html", "/www/index.html", "/server/www/index.html", "/%2e%2e/",
                     "/../CMakeLists.txt", "//etc/passwd"):
            r = self.api.get(path, token="")
            self.assert_problem(r, 404, "not_found", path)
        self.assert_problem(self.api.post("/", {}, token=""), 405, "method_not_allowed")

    def test_health_ready_metrics(self):
        r = self.api.get("/healthz", token="")
        self.assertEqual((r.status, r.body), (200, {"status": "ok"}))
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        r = self.api.get("/readyz", token="")
        self.assertEqual((r.status, r.body), (200, {"status": "ready"}))
        self.api.get(API + "/me", token=self.as_admin())
        r = self.api.get("/metrics", token=self.as_admin())
        self.assertEqual(r.status, 200)
        ct = r.headers["Content-Type"].replace(" ", "").lower()
        self.assertTrue(ct.startswith("text/plain") and "version=0.0.4" in ct, ct)
        text = r.raw.decode()
        hits = [l for l in text.splitlines()
                if l.startswith("portico_http_requests_total{") and 'route="/api/v1/me"' in l
                and 'method="GET"' in l and 'status="200"' in l]
        self.assertEqual(len(hits), 1, text[:3000])
        self.assertGreaterEqual(float(hits[0].rsplit(" ", 1)[1]), 1)
        for name in ("portico_http_request_duration_seconds_bucket",
                     "portico_http_request_duration_seconds_count",
                     "portico_lmdb_map_size_bytes", "portico_lmdb_used_bytes",
                     "portico_lmdb_readers_used"):
            self.assertIn(name, text)
        ms = re.search(r"^portico_lmdb_map_size_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)", text, re.M)
        self.assertIsNotNone(ms)
        self.assertGreater(float(ms.group(1)), 0)
        # unmatched paths do not create a label per path
        self.api.get("/zz-random-%d" % os.getpid(), token="")
        text = self.api.get("/metrics", token=self.as_admin()).raw.decode()
        self.assertNotIn("zz-random", text)
        self.assertIn("# TYPE portico_http_requests_total counter", text)

    def test_openapi(self):
        r = self.api.get(API + "/openapi.json", token="")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        doc = r.body
        self.assertIsInstance(doc, dict)
        self.assertRegex(doc["openapi"], r"^3\.1\.\d+$")
        self.assertIn("paths", doc)

    def test_routes_match_spec(self):
        argv = [h.porticod_path(), "--routes"]
        plugins = os.environ.get("PORTICO_PLUGINS")
        if plugins and os.path.isdir(plugins):
            argv += ["--plugins", plugins]
        out = subprocess.run(argv, capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode()[-2000:])
        routes = set()
        for line in out.stdout.decode().splitlines():
            line = line.strip()
            if not line:
                continue
            parts = line.split()
            self.assertEqual(len(parts), 2, "bad --routes line %r" % line)
            routes.add((parts[0].upper(), parts[1]))
        self.assertGreater(len(routes), 10, "too few routes: %r" % routes)
        doc = self.api.get(API + "/openapi.json", token="").body
        spec = set()
        for path, item in doc.get("paths", {}).items():
            for m in item:
                if m.lower() in ("get", "put", "post", "delete", "patch", "head", "options"):
                    spec.add((m.upper(), path))

        def norm(p):
            return re.sub(r"\{[^}]+\}", "{}", p)

        def core(s):
            return {(m, norm(p)) for m, p in s if not p.startswith(API + "/_test/")}

        served = core(routes)
        described = core(spec)
        # portlet routes in the spec only count when that portlet is loaded
        loaded = {p.split("/")[4] for _, p in served
                  if p.startswith(API + "/portlets/") and len(p.split("/")) > 4}
        described = {(m, p) for m, p in described
                     if not (p.startswith(API + "/portlets/") and len(p.split("/")) > 4 and
                             p.split("/")[4] != "{}" and p.split("/")[4] not in loaded)}
        self.assertEqual(sorted(served - described), [],
                         "routes registered but not in api_spec/openapi.yaml")
        self.assertEqual(sorted(described - served), [],
                         "routes in the spec that the server does not register")
        for needed in [("POST", API + "/auth/login"), ("POST", API + "/auth/refresh"),
                       ("POST", API + "/auth/logout"), ("GET", "/.well-known/jwks.json"),
                       ("GET", API + "/me"), ("POST", API + "/me/mfa/totp"),
                       ("POST", API + "/me/mfa/totp/confirm"), ("GET", API + "/orgs"),
                       ("POST", API + "/orgs"), ("GET", API + "/orgs/{}"),
                       ("PATCH", API + "/orgs/{}"), ("GET", API + "/orgs/{}/people"),
                       ("POST", API + "/orgs/{}/people"), ("GET", API + "/orgs/{}/people/{}"),
                       ("PATCH", API + "/orgs/{}/people/{}"),
                       ("POST", API + "/orgs/{}/people/import"),
                       ("GET", API + "/orgs/{}/audit"), ("GET", "/healthz"), ("GET", "/readyz"),
                       ("GET", "/metrics"), ("GET", API + "/openapi.json")]:
            self.assertIn(needed, served)

    def test_test_clock_route(self):
        r = self.api.put(API + "/_test/clock", {"now": "not a time"}, token=self.as_admin())
        self.assertIn(r.status, (400, 422), r)
        r = self.api.put(API + "/_test/clock", {"now": "2030-01-01T00:00:00Z"},
                         token=self.as_admin())
        self.assertEqual(r.status, 204, r)
        try:
            tok = self.token("webby", PW)
            _, c, _ = h.jwt_parts(tok)
            self.assertEqual(c["iat"], 1893456000)
        finally:
            self.set_clock(None)

    # ----------------------------------------------------------- keep-alive

    def test_keep_alive(self):
        tok = self.as_admin()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.connect()
        sock = conn.sock
        for i in range(50):
            kind = i % 5
            if kind == 0:
                conn.request("GET", "/healthz")
            elif kind == 1:
                conn.request("GET", API + "/me", headers={"Authorization": "Bearer " + tok})
            elif kind == 2:
                conn.request("POST", API + "/orgs", body=b"{}",
                             headers={"Authorization": "Bearer " + tok,
                                      "Content-Type": "application/json"})
            elif kind == 3:
                conn.request("GET", API + "/nope")
            else:
                conn.request("GET", API + "/me")
            r = conn.getresponse()
            body = r.read()
            want = {0: 200, 1: 200, 2: 422, 3: 404, 4: 401}[kind]
            self.assertEqual(r.status, want, "request %d: %r" % (i, body[:200]))
            self.assertIsNotNone(r.getheader("Content-Length"), "request %d" % i)
            self.assertEqual(int(r.getheader("Content-Length")), len(body))
            self.assertNotEqual((r.getheader("Connection") or "").lower(), "close",
                                "server closed keep-alive at request %d" % i)
            self.assertIs(conn.sock, sock, "connection was re-opened at request %d" % i)
        conn.close()

    def test_zy_every_response_has_content_length(self):
        # (every request this class makes through the harness client is checked)
        self.api.get("/healthz")
        self.api.get(API + "/openapi.json")
        self.api.get("/metrics", token=self.as_admin())
        self.api.get("/.well-known/jwks.json")
        self.api.get(API + "/nope")
        self.assertEqual(self.api.responses_without_length, [])

    # ------------------------------------------------ every route, no token

    PUBLIC = {("GET", "/"), ("GET", "/healthz"), ("GET", "/readyz"),
              ("GET", API + "/openapi.json"), ("POST", API + "/auth/login"),
              ("POST", API + "/auth/refresh"), ("GET", "/.well-known/jwks.json")}

    def registered_routes(self):
        out = subprocess.run([h.porticod_path(), "--routes"], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        return [tuple(l.split()) for l in out.stdout.decode().splitlines() if l.strip()]

    def concrete(self, pattern):
        return re.sub(r"\{[^}]+\}", lambda m: {"{org}": "web", "{username}": "webby"}.get(
            m.group(0), "x"), pattern)

    def test_every_protected_route_needs_a_token(self):
        for method, pattern in self.registered_routes():
            if (method, pattern) in self.PUBLIC or pattern.startswith(API + "/_test/"):
                continue
            path = self.concrete(pattern)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            for tok in ("", "not-a-jwt", self.forge_token("none", {"sub": "admin"})):
                r = self.api.request(method, path, body=body, token=tok)
                self.assert_problem(r, 401, "unauthorized", "%s %s token=%r" % (method, path,
                                                                               tok[:12]))

    def test_every_route_survives_bad_bodies(self):
        for method, pattern in self.registered_routes():
            if method not in ("POST", "PUT", "PATCH") or pattern.startswith(API + "/_test/"):
                continue
            path = self.concrete(pattern)
            for raw, ctype in ((b"{", "application/json"), (b"\xff\xfe{}", "application/json"),
                               (b'{"a":' * 5000, "application/json"), (b"[1,2]", None),
                               (b"\x00" * 100, "text/csv"), (b"a,b\n\"", "text/csv")):
                tok = self.token("webby", PW)
                r = self.api.request(method, path, raw=raw, content_type=ctype, token=tok)
                self.assert_not_5xx(r, "%s %s %r" % (method, path, raw[:10]))
                if r.status >= 400:
                    self.assert_problem(r, r.status, None, "%s %s" % (method, path))
        self.assertEqual(self.api.get("/healthz").status, 200)

    # ----------------------------------------------------------------- logs

    def test_zz_log_has_no_secrets(self):
        # runs last (alphabetical order): everything above has been logged
        self.login("webby", PW)
        b = self.login("webby", PW)
        self.api.post(API + "/auth/refresh", {"refresh_token": b["refresh_token"]}, token="")
        self.login_raw("webby", "wrong-password-zz")
        self.api.get(API + "/me", token="not.a.token")
        tok = self.token("webby", PW)
        self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        time.sleep(0.3)
        log = self.server.log_text()
        self.assertNotIn(self.server.admin_password, log, "admin password in the log")
        self.assertNotIn(PW, log, "a password in the log")
        self.assertNotIn("wrong-password-zz", log, "a wrong password in the log")
        self.assertGreater(len(self.server.seen_secrets), 3)
        for s in self.server.seen_secrets:
            self.assertNotIn(s, log, "a token/secret issued during the test is in the log")
            # also no recognisable part of it (JWT signature, refresh secret)
            tail = s.rsplit(".", 1)[-1]
            if len(tail) >= 16:
                self.assertNotIn(tail, log, "part of a token in the log")
        self.assertNotIn("BEGIN EC PRIVATE", log)
        self.assertNotIn("BEGIN PRIVATE", log)


if __name__ == "__main__":
    h.main()
