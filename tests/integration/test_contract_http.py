"""The contract as property-based API testing found it (issue 12):

- organisation branding is validated as the document says (colours
  `#RRGGBB`, `logo_url` an https URL, no other keys, `null` clears it), so a
  stored answer never breaks the document's own Branding schema;
- list cursors (organisations, people, audit) are opaque and sealed: a
  made-up, edited or borrowed cursor is 400, a real one still works after a
  restart;
- every GET route answers HEAD with the GET's status and headers and no body;
- the errors CivetWeb answers itself (TRACE and methods it does not know,
  control characters in a header, a bad HTTP version, a garbled request
  line) are problem+json like every other error: a method no route has
  (TRACE, BREW) is 501; a method the path does not have is 405 with Allow.
"""

import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portico_harness as h  # noqa: E402
from portico_harness import API  # noqa: E402

PW = "contract-http-password"
ORG = "ct"
OTHER = "ct-other"


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, reads until the server closes or the answer is
    complete; returns (status, headers dict, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            out += d
            hdr, sep, rest = out.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length:\s*(\d+)", hdr)
            if sep and m and len(rest) >= int(m.group(1)):
                break
    finally:
        s.close()
    hdr, _, rest = out.partition(b"\r\n\r\n")
    lines = hdr.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, out
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, rest


class ContractHttpTest(h.PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    def fixtures(self):
        self.create_org(ORG, "Contract HTTP")
        self.create_org(OTHER, "Other")
        self.create_person(ORG, "ct-admin", PW, roles=["portal_admin"])
        self.create_person(OTHER, "ot-admin", PW, roles=["portal_admin"])
        for i in range(5):
            self.create_person(ORG, "ct-p%d" % i, PW)
            self.create_person(OTHER, "ot-p%d" % i, PW)

    # ------------------------------------------------------------ branding

    def patch_branding(self, branding, token=None):
        return self.api.patch(API + "/orgs/" + ORG, {"settings": {"branding": branding}},
                              token=token or self.token("ct-admin", PW))

    def test_branding_refuses_what_the_schema_refuses(self):
        bad = [
            ({"primary_colour": "red; background:url(x)"}, "/settings/branding/primary_colour"),
            ({"primary_colour": "#12345"}, "/settings/branding/primary_colour"),
            ({"primary_colour": "#1234567"}, "/settings/branding/primary_colour"),
            ({"secondary_colour": 0x123456}, "/settings/branding/secondary_colour"),
            ({"logo_url": 42}, "/settings/branding/logo_url"),
            ({"logo_url": "http://demo.example/logo.svg"}, "/settings/branding/logo_url"),
            ({"logo_url": "javascript:alert(1)"}, "/settings/branding/logo_url"),
            ({"logo_url": "https://x/\"onerror=\"alert(1)"}, "/settings/branding/logo_url"),
            ({"logo_url": "https:///no-host"}, "/settings/branding/logo_url"),
            ({"logo_url": "https://x/" + "a" * 2100}, "/settings/branding/logo_url"),
            ({"font": "Comic Sans"}, "/settings/branding/font"),
            (0, "/settings/branding"),
            ("", "/settings/branding"),
            ([], "/settings/branding"),
        ]
        for branding, pointer in bad:
            self.assert_validation(self.patch_branding(branding), [pointer], repr(branding))
        r = self.api.post(API + "/orgs", {"id": "ct-bad", "name": "Bad", "settings": {
            "branding": {"primary_colour": "red; background:url(x)", "logo_url": 42}}},
            token=self.as_admin())
        self.assert_validation(r, ["/settings/branding/primary_colour",
                                   "/settings/branding/logo_url"])
        self.assert_problem(self.api.get(API + "/orgs/ct-bad", token=self.as_admin()), 404,
                            "not_found", "a refused org is not stored")

    def test_branding_good_values_and_null(self):
        good = {"primary_colour": "#005EB8", "secondary_colour": "#003087",
                "logo_url": "https://ct.example/brand/logo.svg?v=2"}
        r = self.patch_branding(good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["settings"]["branding"], good)
        r = self.patch_branding(None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["settings"]["branding"], {}, "null clears the branding")
        r = self.patch_branding({"primary_colour": "#abcdef"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["settings"]["branding"], {"primary_colour": "#abcdef"})

    # ------------------------------------------------------------- cursors

    def pages(self, path, token, limit=2):
        """Follows next_cursor to the end; returns (items, cursors seen)."""
        items, cursors, cursor = [], [], None
        for _ in range(50):
            q = "?limit=%d" % limit + ("&cursor=" + cursor if cursor else "")
            r = self.api.get(path + q, token=token)
            self.assertEqual(r.status, 200, r)
            items += r.body["items"]
            cursor = r.body["next_cursor"]
            if cursor is None:
                return items, cursors
            cursors.append(cursor)
        self.fail("no end of pages")

    def test_made_up_cursors_are_400_on_every_list(self):
        admin = self.token("ct-admin", PW)
        lists = [(API + "/orgs", self.as_admin()), (API + "/orgs", admin),
                 (API + "/orgs/%s/people" % ORG, admin), (API + "/orgs/%s/audit" % ORG, admin)]
        for path, token in lists:
            for cursor in ("null", "AAAA", "YWJj", "Y3Q", "-_-_", "A" * 40):
                r = self.api.get(path + "?cursor=" + cursor, token=token)
                self.assert_problem(r, 400, "bad_request", "%s cursor=%s" % (path, cursor))

    def test_real_cursors_page_and_cannot_be_edited_or_moved(self):
        admin = self.token("ct-admin", PW)
        other = self.token("ot-admin", PW)
        people = API + "/orgs/%s/people" % ORG
        items, cursors = self.pages(people, admin)
        self.assertEqual(len(items), 6)
        self.assertEqual(len({p["username"] for p in items}), 6, "no person twice")
        c = cursors[0]
        edited = c[:-2] + ("AA" if c[-2:] != "AA" else "BB")
        self.assert_problem(self.api.get(people + "?cursor=" + edited, token=admin), 400,
                            "bad_request", "an edited cursor")
        # the same cursor on another list or another organisation's list
        for path, token in ((API + "/orgs/%s/audit" % ORG, admin),
                            (API + "/orgs/%s/people" % OTHER, other)):
            self.assert_problem(self.api.get(path + "?cursor=" + c, token=token), 400,
                                "bad_request", path)
        orgs, org_cursors = self.pages(API + "/orgs", self.as_admin(), limit=1)
        self.assertGreaterEqual(len(orgs), 2)
        audit, _ = self.pages(API + "/orgs/%s/audit" % ORG, admin, limit=3)
        self.assertGreater(len(audit), 3)

    def test_cursor_survives_restart(self):
        admin = self.token("ct-admin", PW)
        people = API + "/orgs/%s/people" % ORG
        r = self.api.get(people + "?limit=2", token=admin)
        cursor = r.body["next_cursor"]
        self.assertIsInstance(cursor, str)
        self.api.close()
        self.server.restart()
        type(self).api = self.server.client()
        type(self)._admin_token = None
        admin = self.token("ct-admin", PW)
        r = self.api.get(people + "?limit=2&cursor=" + cursor, token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body["items"]), 2)

    # ---------------------------------------------------------------- HEAD

    def test_every_get_route_answers_head(self):
        spec = self.api.get(API + "/openapi.json").body
        admin = self.token("ct-admin", PW)
        values = {"org": ORG, "username": "ct-p1", "dashboard": "employee"}
        checked = 0
        for path, item in sorted(spec["paths"].items()):
            if "get" not in item:
                continue
            url = re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x1"), path)
            token = self.as_admin() if path == "/metrics" else admin
            g = self.api.get(url, token=token)
            hd = self.api.request("HEAD", url, token=token)
            self.assertEqual(hd.status, g.status, "HEAD %s: %r vs GET %r" % (url, hd, g))
            self.assertEqual(hd.raw, b"", "HEAD %s sent a body" % url)
            self.assertEqual(hd.headers.get("Content-Type"), g.headers.get("Content-Type"), url)
            if g.status != 200 or path not in ("/metrics", "/api/v1/orgs/{org}/audit"):
                # (metrics and the audit log change between the two calls)
                self.assertEqual(hd.headers.get("Content-Length"),
                                 g.headers.get("Content-Length"), url)
            checked += 1
        self.assertGreater(checked, 15)

    # ---------------------------------------------- errors from the HTTP layer

    def assert_raw_problem(self, answer, status, code, what):
        st, headers, body = answer
        self.assertEqual(st, status, "%s: %r %r" % (what, headers, body[:300]))
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        "%s: %r" % (what, headers))
        b = json.loads(body.decode("utf-8"))
        self.assertEqual((b["status"], b["code"]), (status, code), what)
        for f in ("type", "title", "detail"):
            self.assertIsInstance(b[f], str, what)
        return headers

    def test_trace_and_unknown_methods_are_501_and_405_has_allow(self):
        port = self.server.port
        for method in ("TRACE", "BREW", "FOO-BAR"):
            for target in (b"/healthz", b"/api/v1/orgs?limit=1", b"/no/such"):
                st, hd, body = raw_exchange(port, b"%s %s HTTP/1.1\r\nHost: x\r\n\r\n"
                                            % (method.encode(), target))
                self.assert_raw_problem((st, hd, body), 501, "not_implemented", method)
                self.assertIn(method, json.loads(body)["detail"])
        # methods CivetWeb hands on to Portico: 405 with the path's Allow
        for method in (b"CONNECT", b"PROPFIND", b"DELETE"):
            hd = self.assert_raw_problem(
                raw_exchange(port, b"%s /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
                             b"\r\n\r\n" % method), 405, "method_not_allowed", method)
            self.assertEqual({a.strip() for a in hd.get("allow", "").split(",")},
                             {"GET", "HEAD"})
        r = self.api.request("DELETE", "/healthz")
        self.assert_problem(r, 405, "method_not_allowed")
        self.assertEqual(r.headers.get("Allow"), "GET, HEAD")
        r = self.api.request("PUT", API + "/orgs")
        self.assert_problem(r, 405, "method_not_allowed")
        self.assertEqual({a.strip() for a in r.headers["Allow"].split(",")}, {"GET", "HEAD", "POST"})

    def test_unreadable_requests_are_problem_json(self):
        port = self.server.port
        cases = [
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", 400, "bad_request"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x7fb\r\n\r\n", 400, "bad_request"),
            (b"G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
            (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        ]
        for data, status, code in cases:
            self.assert_raw_problem(raw_exchange(port, data), status, code, repr(data[:40]))
        # the server still serves
        self.assertEqual(self.api.get("/healthz").status, 200)


if __name__ == "__main__":
    h.main()
