#!/usr/bin/env python3
"""The JSON access log: one line per request with the request id that the
answer carries as X-Request-Id, the client, method, path without its query,
status, duration, body bytes and the verified user; never a token or a query
string.  On stderr by default, in a file with `access_log`, none with
"off" or below log level info."""
import json
import os
import time

import portico_harness as h

API = "/api/v1"


def access_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # every such line is one JSON object
    return out


class AccessLogOnStderr(h.PorticoTestCase):
    def wait_for(self, pred, text_fn):
        deadline = time.time() + 5
        while time.time() < deadline:
            lines = access_lines(text_fn())
            found = [l for l in lines if pred(l)]
            if found:
                return found
            time.sleep(0.05)
        self.fail("no access log line found:\n" + text_fn()[-3000:])

    def test_one_line_per_request_with_its_id(self):
        org = "al-one"
        self.create_org(org)
        self.create_person(org, "al.user", password="Passw0rd-al-1")
        tok = self.token("al.user", "Passw0rd-al-1")
        r = self.api.get(API + "/me?cursor=secret-in-query", token=tok)
        self.assertEqual(r.status, 200)
        rid = r.headers.get("X-Request-Id")
        self.assertTrue(rid)
        found = self.wait_for(lambda l: l.get("id") == rid, self.server.log_text)
        self.assertEqual(len(found), 1, found)
        line = found[0]
        self.assertEqual(list(line)[:8], ["ts", "id", "remote", "method", "path", "status", "ms",
                                          "bytes"])
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], API + "/me")
        self.assertEqual(line["status"], 200)
        self.assertEqual(line["user"], "al.user")
        self.assertEqual(line["remote"], "127.0.0.1")
        self.assertEqual(line["bytes"], len(r.raw))
        self.assertIsInstance(line["ms"], (int, float))
        self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        log = self.server.log_text()
        self.assertNotIn("secret-in-query", log)
        self.assertNotIn(tok, log)
        self.assertNotIn(tok.rsplit(".", 1)[-1], log)
        self.assertNotIn("Passw0rd-al-1", log)

    def test_unauthenticated_and_hostile_paths_stay_one_line(self):
        r = self.api.get("/no/such%0Apath%FF%22x")
        self.assertEqual(r.status, 404)
        rid = r.headers.get("X-Request-Id")
        line = self.wait_for(lambda l: l.get("id") == rid, self.server.log_text)[0]
        self.assertEqual(line["status"], 404)
        self.assertNotIn("user", line)
        # a failed login names no user and logs no password
        r = self.api.post(API + "/auth/login", {"username": "nobody", "password": "zz-wrong-zz"},
                          token="")
        self.assertEqual(r.status, 401)
        rid = r.headers.get("X-Request-Id")
        line = self.wait_for(lambda l: l.get("id") == rid, self.server.log_text)[0]
        self.assertEqual((line["path"], line["status"]), (API + "/auth/login", 401))
        self.assertNotIn("user", line)
        self.assertNotIn("zz-wrong-zz", self.server.log_text())


class AccessLogInAFile(h.PorticoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(__import__("tempfile").mkdtemp(prefix="portico-al-"), "access.log")
        cls.server_config = {"access_log": cls.path}
        super().setUpClass()

    def test_lines_go_to_the_file_not_stderr(self):
        r = self.api.get("/healthz")
        self.assertEqual(r.status, 200)
        rid = r.headers.get("X-Request-Id")

        def text():
            try:
                with open(self.path) as f:
                    return f.read()
            except FileNotFoundError:
                return ""
        line = AccessLogOnStderr.wait_for(self, lambda l: l.get("id") == rid, text)[0]
        self.assertEqual(line["path"], "/healthz")
        self.assertEqual(access_lines(self.server.log_text()), [])
        self.assertEqual(oct(os.stat(self.path).st_mode & 0o777), "0o640")


class AccessLogOff(h.PorticoTestCase):
    server_config = {"access_log": "off"}

    def test_off_writes_nothing(self):
        self.assertEqual(self.api.get("/healthz").status, 200)
        time.sleep(0.2)
        self.assertEqual(access_lines(self.server.log_text()), [])


class AccessLogBelowInfo(h.PorticoTestCase):
    server_config = {"log_level": "warn"}

    def test_warn_level_writes_nothing(self):
        self.assertEqual(self.api.get("/healthz").status, 200)
        time.sleep(0.2)
        self.assertEqual(access_lines(self.server.log_text()), [])


class AccessLogConfigRefused(h.PorticoTestCase):
    server_config = None

    def test_unwritable_file_refuses_to_start(self):
        srv = h.Server(config={"access_log": "/nonexistent-dir/x/access.log"})
        try:
            with self.assertRaises(RuntimeError) as cm:
                srv.start(timeout=10)
            self.assertIn("access log", str(cm.exception))
        finally:
            srv.cleanup()


if __name__ == "__main__":
    h.main()
