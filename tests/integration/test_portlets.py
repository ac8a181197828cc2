"""The portlet platform (ABI 2.0): the version rule both ways, loader
refusals, the catalogue, per-organisation enablement and config
validation, storage isolation, route gates (who, MFA, body, in order),
body schemas and sizes, raw bodies, paging and cursors, binary values,
response headers, conditional requests, respond_error, counters, key
escaping, notices and one-call dashboards (ordering, visibility, ETag/304).

Runs porticod with --plugins $PORTICO_TEST_PLUGINS (tests/plugins/): the
good portlets test-notes, test-notes-two, test-notes-old (built before
check_config and body_max) and test-notes-new (built for a newer minor,
zero past the host's sizes), and one refused .so per refusal case.
"""

import datetime
import json
import os
import shutil
import subprocess
import time
import unittest
from urllib.parse import quote

import portico_harness as h
from portico_harness import API

PW = "portlet-test-password"
NOTES = API + "/portlets/test-notes"
TWO = API + "/portlets/test-notes-two"
OLD = API + "/portlets/test-notes-old"
NEW = API + "/portlets/test-notes-new"
LOADED = ["test-notes", "test-notes-new", "test-notes-old", "test-notes-two"]

# file -> pieces of the reason the loader must give
REFUSED = {
    "x-abi-1x.so": ["ABI 1.1", "ABI 2"],  # "built for ABI 1.1; this host serves ABI 2.x"
    "x-abi-major.so": ["ABI 3"],
    "x-newer-portlet.so": ["portico_portlet"],  # names the struct with newer fields
    "x-newer-route.so": ["portico_route"],
    "x-bad-magic.so": ["magic"],
    "x-short-struct.so": ["struct_size"],
    "x-short-route.so": ["route_size"],
    "x-no-symbol.so": ["symbol"],
    "x-duplicate-id.so": ["duplicate"],
    "x-bad-route.so": ["prefix"],
    "x-init-fails.so": ["init"],
    "x-bad-schema.so": ["JSON"],
    "x-bad-body-schema.so": ["body_schema"],
    "x-bad-method.so": ["method"],
    "x-bad-id.so": ["id"],
}

# PORTICO_E* results (include/portico/portlet.h)
ERR, ENOTFOUND, EEXISTS, EINVAL, ENOMEM, EIO, ECONFLICT, EFORBIDDEN, EBADREQUEST = (
    -1, -2, -3, -4, -5, -6, -7, -8, -11)


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


class PortletsTest(h.PorticoTestCase):
    plugins = os.environ.get("PORTICO_TEST_PLUGINS")
    made = set()
    tokens = {}

    # -- fixtures (made once per org, on first use)

    def org(self, org_id, settings=None):
        """An org with a portal admin, two employees (one hr_admin), a
        leaver and an applicant: <org>-admin, -emp, -hr, -leaver, -app."""
        if org_id in type(self).made:
            return org_id
        self.create_org(org_id, "Org " + org_id, settings=settings)
        self.create_person(org_id, org_id + "-admin", PW, roles=["portal_admin"])
        self.create_person(org_id, org_id + "-emp", PW, staff_group="doctors")
        self.create_person(org_id, org_id + "-hr", PW, roles=["hr_admin"])
        term = (today() - datetime.timedelta(days=10)).isoformat()
        start = (today() - datetime.timedelta(days=400)).isoformat()
        self.create_person(org_id, org_id + "-leaver", PW, start_date=start,
                           termination_date=term)
        self.create_person(org_id, org_id + "-app", PW, status="applicant")
        type(self).made.add(org_id)
        return org_id

    def tok(self, username, org=None):
        key = (username, org)
        if key not in type(self).tokens:
            type(self).tokens[key] = self.token(username, PW, org)
        return type(self).tokens[key]

    def mfa_tok(self, org, name, leaver=False):
        """A token with amr ["pwd", "otp"] for <org>-<name>, an employee (or,
        with leaver, a leaver since 10 days) who enrolled TOTP."""
        username = "%s-%s" % (org, name)
        key = (username, org, "mfa")
        if key in type(self).tokens:
            return type(self).tokens[key]
        self.create_person(org, username, PW)
        t = self.token(username, PW, org)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=t)
        self.assertEqual(r.status, 200, r)
        secret = r.body["secret"]
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": h.totp(secret)}, token=t)
        self.assertEqual(r.status, 200, r)
        if leaver:
            r = self.api.patch(API + "/orgs/%s/people/%s" % (org, username),
                               {"start_date": (today() - datetime.timedelta(days=400)).isoformat(),
                                "termination_date": (today() - datetime.timedelta(days=10))
                                .isoformat()}, token=self.admin_of(org))
            self.assertEqual(r.status, 200, r)
        # the confirming code is spent: the next step's code logs in
        login = self.login(username, PW, org, otp=h.totp(secret, time.time() + 30))
        self.assertIn("otp", h.jwt_parts(login["access_token"])[1]["amr"])
        type(self).tokens[key] = login["access_token"]
        return login["access_token"]

    def admin_of(self, org):
        return self.tok(org + "-admin", org)

    def configure(self, org, portlet, body, token=None, expect=200):
        r = self.api.put(API + "/orgs/%s/portlets/%s" % (org, portlet), body,
                         token=token or self.admin_of(org))
        if expect is not None:
            self.assertEqual(r.status, expect, r)
        return r

    def enable(self, org, portlet, placements=None, config=None):
        body = {"enabled": True}
        if placements is not None:
            body["placements"] = placements
        if config is not None:
            body["config"] = config
        return self.configure(org, portlet, body).body

    # ---------------------------------------------------------- catalogue

    # HOST BUG: GET /api/v1/portlets crashes porticod (SIGSEGV) once a loaded
    # portlet's route_size differs from the host's: catalogue_item() in
    # server/host/portlet_routes.c indexes d->routes[i] with the host's
    # stride instead of reading the bindings' copies.
    def test_catalogue_lists_loaded_portlets(self):
        self.org("cat")
        r = self.api.get(API + "/portlets", token=self.tok("cat-emp", "cat"))
        self.assertEqual(r.status, 200, r)
        items = {i["id"]: i for i in r.body["items"]}
        self.assertEqual(sorted(items), LOADED)
        self.assertNotIn("refused", r.body, "refusals are for system admins only")
        it = items["test-notes"]
        self.assertEqual(it["version"], "2.0.0")
        self.assertIsInstance(it["name"], str)
        self.assertIsInstance(it["description"], str)
        self.assertEqual(it["dashboards"], ["employee", "leaver", "applicant"])
        self.assertEqual(it["config_schema"]["type"], "object")
        self.assertIn("greeting", it["config_schema"]["properties"])
        routes = {(x["method"], x["path"]) for x in it["routes"]}
        self.assertIn(("PUT", "/api/v1/portlets/test-notes/notes/{key}"), routes)
        self.assertIn(("GET", "/api/v1/portlets/test-notes"), routes)
        # the shorter and longer route strides are listed right
        for pid in ("test-notes-old", "test-notes-new"):
            self.assertEqual({(x["method"], x["path"].replace(pid, "test-notes"))
                              for x in items[pid]["routes"]}, routes, pid)
        # abi_minor is informative: logged and shown in the catalogue
        self.assertIn("2.1", json.dumps(items["test-notes-new"]), items["test-notes-new"])

    def test_catalogue_needs_a_token(self):
        self.assert_problem(self.api.get(API + "/portlets", token=""), 401, "unauthorized")

    def test_refusal_reasons_logged(self):
        log = self.server.log_text()
        for f, words in REFUSED.items():
            line = [x for x in log.splitlines() if "refused " + f in x]
            self.assertTrue(line, "refusal of %s not logged" % f)
            for word in words:
                self.assertIn(word.lower(), line[0].lower(), line[0])
        self.assertIn("built for ABI 1.1; this host serves ABI 2.x", log)
        # the newer build loads, its minor in the log
        self.assertRegex(log, r"loaded test-notes-new .*\(ABI 2\.1\)")

    # HOST BUG: the catalogue crashes porticod (see above).
    def test_refusals_visible_to_system_admin(self):
        r = self.api.get(API + "/portlets", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        refused = {x["file"]: x for x in r.body["refused"]}
        self.assertEqual(sorted(refused), sorted(REFUSED), r.body["refused"])
        for f, words in REFUSED.items():
            for word in words:
                self.assertIn(word.lower(), refused[f]["reason"].lower(), refused[f])
        self.assertEqual(refused["x-duplicate-id.so"]["id"], "test-notes")
        self.assertEqual(refused["x-init-fails.so"]["id"], "init-fails")
        ids = [i["id"] for i in r.body["items"]]
        self.assertEqual(sorted(ids), LOADED)
        log = self.server.log_text()
        for f in REFUSED:
            self.assertIn(f, log, "refusal of %s not logged" % f)

    def test_refused_portlets_serve_nothing(self):
        self.org("ref")
        t = self.tok("ref-admin", "ref")
        for pid in ("bad-route", "init-fails", "abi-1x", "abi-major", "newer-portlet",
                    "newer-route", "short-route", "bad-schema", "bad-body-schema", "bad-method"):
            self.assert_problem(self.api.get(API + "/portlets/%s/notes" % pid, token=t),
                                404, "not_found", pid)
            self.assert_problem(
                self.configure("ref", pid, {"enabled": True}, expect=None), 404, "not_found")
        # The refused portlet's stray route was never registered, and the
        # core route it tried to claim still works.
        r = self.api.get(API + "/orgs/ref/people", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertIn("items", r.body)

    # ---------------------------------------------------------- enablement

    def test_routes_404_until_enabled_per_org(self):
        a, b = self.org("ena"), self.org("enb")
        ta, tb = self.tok("ena-emp", a), self.tok("enb-emp", b)
        for t in (ta, tb):
            self.assert_problem(self.api.get(NOTES + "/notes", token=t), 404,
                                "portlet_not_enabled")
            self.assert_problem(self.api.put(NOTES + "/notes/x", {"value": 1}, token=t), 404,
                                "portlet_not_enabled")
        self.assert_problem(self.api.get(NOTES + "/notes", token=""), 401, "unauthorized")

        self.enable(a, "test-notes")
        r = self.api.get(NOTES + "/notes", token=ta)
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.api.get(NOTES + "/notes", token=tb), 404,
                            "portlet_not_enabled", "enabling in A must leave B off")
        # disabling switches every route off again (config kept)
        self.configure(a, "test-notes", {"enabled": True, "config": {"greeting": "Hi there"}})
        r = self.configure(a, "test-notes", {"enabled": False})
        self.assertEqual(r.body["config"], {"greeting": "Hi there"})
        self.assertFalse(r.body["enabled"])
        self.assert_problem(self.api.get(NOTES + "/notes", token=ta), 404,
                            "portlet_not_enabled")

    def test_system_admin_without_org_gets_not_enabled(self):
        self.assert_problem(self.api.get(NOTES + "/notes", token=self.as_admin()), 404,
                            "portlet_not_enabled")

    def test_org_portlet_listing(self):
        o = self.org("lst")
        self.enable(o, "test-notes-two", [{"dashboard": "employee", "position": 3}],
                    {"mode": "loud"})
        for t in (self.admin_of(o), self.as_admin()):
            r = self.api.get(API + "/orgs/%s/portlets" % o, token=t)
            self.assertEqual(r.status, 200, r)
            items = {i["id"]: i for i in r.body["items"]}
            self.assertEqual(sorted(items), LOADED)
            self.assertFalse(items["test-notes"]["enabled"])
            self.assertEqual(items["test-notes"]["placements"], [])
            self.assertEqual(items["test-notes"]["config"], {})
            two = items["test-notes-two"]
            self.assertTrue(two["enabled"])
            self.assertEqual(two["placements"], [{"dashboard": "employee", "position": 3}])
            self.assertEqual(two["config"], {"mode": "loud"})
            self.assertIsInstance(two["name"], str)
        self.assert_problem(self.api.get(API + "/orgs/%s/portlets" % o,
                                         token=self.tok("lst-emp", o)), 403, "forbidden")
        other = self.org("lst2")
        r = self.api.get(API + "/orgs/%s/portlets" % o, token=self.admin_of(other))
        self.assertIn(r.status, (403, 404), r)
        r = self.api.get(API + "/orgs/no-such-org/portlets", token=self.as_admin())
        self.assert_problem(r, 404, "not_found")

    def test_put_guards(self):
        o, other = self.org("pg"), self.org("pg2")
        body = {"enabled": True}
        self.assert_problem(self.configure(o, "test-notes", body, self.tok("pg-emp", o), None),
                            403, "forbidden")
        self.assert_problem(self.configure(o, "test-notes", body, self.tok("pg-hr", o), None),
                            403, "forbidden")
        r = self.configure(o, "test-notes", body, self.admin_of(other), None)
        self.assertIn(r.status, (403, 404), r)
        self.assertEqual(r.status, 403, r)
        self.assert_problem(self.configure(o, "no-such-portlet", body, expect=None), 404,
                            "not_found")
        self.configure(o, "test-notes", body, self.as_admin())  # system admin may
        r = self.api.put(API + "/orgs/%s/portlets/test-notes" % o, raw="{bad json",
                         token=self.admin_of(o))
        self.assert_problem(r, 400, "bad_request")

    # ---------------------------------------------------------- validation

    def bad_config(self, org, config, pointers, msg=None):
        r = self.configure(org, "test-notes", {"enabled": True, "config": config}, expect=None)
        return self.assert_validation(r, pointers, msg or repr(config))

    def test_config_validation_each_keyword(self):
        o = self.org("val")
        cases = [
            ({"greeting": 5}, "/config/greeting", "type"),
            ({"greeting": "x"}, "/config/greeting", "minLength"),
            ({"greeting": "abcdefghijklm"}, "/config/greeting", "maxLength"),
            ({"greeting": "Hello 123"}, "/config/greeting", "pattern"),
            ({"mode": "medium"}, "/config/mode", "enum"),
            ({"limit": 0}, "/config/limit", "minimum"),
            ({"limit": 11}, "/config/limit", "maximum"),
            ({"limit": 2.5}, "/config/limit", "integer"),
            ({"ratio": 0}, "/config/ratio", "exclusiveMinimum"),
            ({"starts_on": "2026-02-30"}, "/config/starts_on", "format date"),
            ({"ends_at": "next tuesday"}, "/config/ends_at", "format date-time"),
            ({"tags": []}, "/config/tags", "minItems"),
            ({"tags": ["a", "b", "c", "d"]}, "/config/tags", "maxItems"),
            ({"tags": ["a", "a"]}, "/config/tags/1", "uniqueItems"),
            ({"tags": ["a", 7]}, "/config/tags/1", "items"),
            ({"label": 5}, "/config/label", "type list"),
            ({"kind": "diary"}, "/config/kind", "const"),
            ({"hidden": "yes"}, "/config/hidden", "boolean"),
            ({"window": {}}, "/config/window/from", "required"),
            ({"window": {"from": "2026-01-01", "x": 1}}, "/config/window/x",
             "additionalProperties schema"),
            ({"nope": 1}, "/config/nope", "additionalProperties false"),
            ({"a/b~c": 1}, "/config/a~1b~0c", "pointer escaping"),
        ]
        for config, pointer, what in cases:
            with self.subTest(what=what):
                self.bad_config(o, config, [pointer], what)

    def test_config_validation_reports_all_errors(self):
        o = self.org("val2")
        errs = self.bad_config(o, {"greeting": "x", "limit": 99, "mode": 1,
                                   "starts_on": "yesterday", "window": {}},
                               ["/config/greeting", "/config/limit", "/config/mode",
                                "/config/starts_on", "/config/window/from"])
        self.assertGreaterEqual(len(errs), 5)
        # Unicode length counts code points, not bytes.
        r = self.configure(o, "test-notes", {"enabled": True,
                                             "config": {"label": "\u00e9t\u00e9",
                                                        "greeting": "Ab"}})
        self.assertEqual(r.body["config"]["label"], "\u00e9t\u00e9")

    def test_request_body_validation(self):
        o = self.org("val3")
        put = lambda body: self.configure(o, "test-notes", body, expect=None)
        self.assert_validation(put({}), ["/enabled"])
        self.assert_validation(put({"enabled": "yes"}), ["/enabled"])
        self.assert_validation(put({"enabled": True, "extra": 1}), ["/extra"])
        self.assert_validation(put({"enabled": True, "config": [1]}), ["/config"])
        self.assert_validation(put({"enabled": True, "placements": {}}), ["/placements"])
        self.assert_validation(
            put({"enabled": True, "placements": [{"dashboard": "boss", "position": 1}]}),
            ["/placements/0/dashboard"])
        self.assert_validation(
            put({"enabled": True, "placements": [{"dashboard": "employee", "position": 0}]}),
            ["/placements/0/position"])
        self.assert_validation(
            put({"enabled": True, "placements": [{"dashboard": "employee"}]}),
            ["/placements/0/position"])
        self.assert_validation(
            put({"enabled": True, "placements": [{"dashboard": "employee", "position": 1},
                                                 {"dashboard": "employee", "position": 2}]}),
            ["/placements/1/dashboard"])
        self.assert_validation(
            put({"enabled": True, "placements": [7, {"dashboard": "leaver", "position": "1"}],
                 "config": {"limit": 0}}),
            ["/placements/0", "/placements/1/position", "/config/limit"])
        # nothing was stored by the failed attempts
        r = self.api.get(API + "/orgs/%s/portlets" % o, token=self.admin_of(o))
        item = [i for i in r.body["items"] if i["id"] == "test-notes"][0]
        self.assertFalse(item["enabled"])

    def test_valid_config_stored_and_visible_to_portlet(self):
        o = self.org("valok")
        cfg = {"greeting": "Good day", "mode": "quiet", "limit": 10, "ratio": 0.5,
               "starts_on": "2026-10-01", "ends_at": "2026-12-01T17:00:00Z",
               "tags": ["a", "b"], "label": None, "kind": "notes",
               "window": {"from": "2026-01-01", "note": "x"}}
        r = self.configure(o, "test-notes", {"enabled": True, "config": cfg,
                                             "placements": [{"dashboard": "employee",
                                                             "position": 2}]})
        self.assertEqual(r.body["config"], cfg)
        self.assertEqual(r.body["id"], "test-notes")
        self.assertTrue(r.body["enabled"])
        w = self.api.get(NOTES + "/whoami", token=self.tok("valok-emp", o))
        self.assertEqual(w.status, 200, w)
        self.assertEqual(w.body["config"], cfg)
        self.assertEqual(w.body["org"], o)
        self.assertEqual(w.body["username"], "valok-emp")
        self.assertEqual(w.body["status"], 2)  # PORTICO_STATUS_EMPLOYEE
        self.assertEqual(w.body["person"]["username"], "valok-emp")
        self.assertEqual(w.body["person"]["status"], "employee")
        self.assertNotIn("password_hash", w.body["person"])
        self.assertEqual(w.body["portlet_id"], "test-notes")
        self.assertEqual(w.body["method"], "GET")
        self.assertRegex(w.body["today"], r"^\d{4}-\d{2}-\d{2}$")
        self.assertIsNone(w.body["access_ends"])
        # defaults in the schema are filled in by the host, not by the portlet
        self.configure(o, "test-notes", {"enabled": True, "config": {"mode": "loud"}})
        w = self.api.get(NOTES + "/whoami", token=self.tok("valok-emp", o))
        self.assertEqual(w.body["config"], {"mode": "loud", "greeting": "hello"})

    def test_check_config(self):
        o = self.org("chk")
        self.bad_config(o, {"starts_on": "2026-10-02", "ends_at": "2026-10-01T23:59:59Z"},
                        ["/config/ends_at"])
        self.configure(o, "test-notes", {"enabled": True, "config": {
            "starts_on": "2026-10-01", "ends_at": "2026-10-01T00:00:00Z"}})

    # ---------------------------------------------------------- isolation

    def test_storage_isolated_between_orgs(self):
        a, b = self.org("isa"), self.org("isb")
        # one account with a membership in both organisations
        self.create_person(a, "isx", PW)
        self.add_member(b, "isx", PW)
        self.enable(a, "test-notes")
        self.enable(b, "test-notes")
        ta, tb = self.tok("isx", a), self.tok("isx", b)
        r = self.api.put(NOTES + "/notes/secret", {"value": {"org": "a"}}, token=ta)
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.api.get(NOTES + "/notes/secret", token=tb), 404, "not_found")
        self.assertEqual(self.api.get(NOTES + "/notes", token=tb).body["items"], [])
        self.api.put(NOTES + "/notes/secret", {"value": {"org": "b"}}, token=tb)
        self.assertEqual(self.api.get(NOTES + "/notes/secret", token=ta).body["value"],
                         {"org": "a"})
        self.assertEqual(self.api.get(NOTES + "/notes/secret", token=tb).body["value"],
                         {"org": "b"})
        # people lookups are confined to the caller's org too
        self.assertEqual(self.api.get(NOTES + "/people/isa-emp", token=ta).status, 200)
        self.assert_problem(self.api.get(NOTES + "/people/isa-emp", token=tb), 404,
                            "not_found")

    def test_storage_isolated_between_portlets(self):
        o = self.org("isp")
        self.enable(o, "test-notes")
        self.enable(o, "test-notes-two")
        t = self.tok("isp-emp", o)
        r = self.api.put(NOTES + "/notes/shared", {"value": "from notes"}, token=t)
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.api.get(TWO + "/notes/shared", token=t), 404, "not_found")
        self.assertEqual(self.api.get(TWO + "/notes", token=t).body["items"], [])
        self.api.put(TWO + "/notes/shared", {"value": "from two"}, token=t)
        self.assertEqual(self.api.get(NOTES + "/notes/shared", token=t).body["value"],
                         "from notes")
        self.assertEqual([i["key"] for i in self.api.get(NOTES + "/notes", token=t)
                          .body["items"]], ["shared"])
        # a key with a NUL or one that is too long never reaches the store
        r = self.api.put(NOTES + "/notes/" + "k" * 300, {"value": 1}, token=t)
        self.assertEqual(r.status, 400, r)
        r = self.api.put(NOTES + "/notes/a%00b", {"value": 1}, token=t)
        self.assertLess(r.status, 500, r)

    # ---------------------------------------------------------- route guards

    def test_route_roles(self):
        o = self.org("rol")
        self.enable(o, "test-notes")
        self.assert_problem(self.api.get(NOTES + "/admin", token=self.tok("rol-emp", o)), 403,
                            "forbidden")
        self.assertEqual(self.api.get(NOTES + "/admin", token=self.admin_of(o)).status, 200)
        self.assertEqual(self.api.get(NOTES + "/admin", token=self.tok("rol-hr", o)).status,
                         200)
        # roles are checked after enablement: off looks the same to everybody
        o2 = self.org("rol2")
        self.assert_problem(self.api.get(NOTES + "/admin", token=self.tok("rol2-emp", o2)),
                            404, "portlet_not_enabled")

    def test_handler_contract(self):
        o = self.org("hc")
        self.enable(o, "test-notes")
        t = self.tok("hc-emp", o)
        self.assert_problem(self.api.get(NOTES + "/fail", token=t), 500, "internal_error")
        r = self.api.get(NOTES, token=t)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"), r)
        self.assertEqual(r.raw, b"plain text from test-notes")
        r = self.api.get(NOTES + "/text-injected", token=t)
        self.assert_problem(r, 500, "internal_error")
        self.assertNotIn("X-Injected", r.headers)
        self.assert_problem(self.api.put(NOTES + "/notes/x", raw="{nope", token=t), 400,
                            "bad_request")
        self.assert_validation(self.api.put(NOTES + "/notes/x", {"other": 1}, token=t),
                               ["/value"])
        self.assert_validation(self.api.post(NOTES + "/validate", {"n": 0}, token=t), ["/n"])
        self.assertEqual(self.api.post(NOTES + "/validate", {"n": 3}, token=t).status, 204)
        self.assertEqual(self.api.delete(NOTES + "/notes/x", token=t).status, 405)

    def test_sequences_audit_and_people(self):
        o = self.org("seq")
        self.enable(o, "test-notes")
        t = self.tok("seq-emp", o)
        r1 = self.api.post(NOTES + "/events", {}, token=t)
        r2 = self.api.post(NOTES + "/events", {}, token=t)
        self.assertEqual((r1.status, r2.status), (201, 201), (r1, r2))
        self.assertEqual(r2.body["seq"], r1.body["seq"] + 1)
        self.assertEqual(r1.body["people"], 5)
        self.assertEqual(r1.body["employees"], 3)  # admin, emp, hr (people_count)
        r = self.api.get(NOTES + "/events", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([e["seq"] for e in r.body["items"]], [r1.body["seq"], r2.body["seq"]])
        audit = self.api.get(API + "/orgs/%s/audit" % o, token=self.admin_of(o)).body["items"]
        ev = [e for e in audit if e["action"] == "test-notes.event.record"]
        self.assertEqual(len(ev), 2, audit)
        self.assertEqual(ev[0]["actor"], "seq-emp")
        self.assertEqual(ev[1]["after"], {"seq": r2.body["seq"]})

    # ---------------------------------------------------------- audit

    def test_configure_is_audited(self):
        o = self.org("aud")
        self.enable(o, "test-notes", [{"dashboard": "employee", "position": 1}],
                    {"greeting": "Hello"})
        self.configure(o, "test-notes", {"enabled": False})
        r = self.api.get(API + "/orgs/%s/audit" % o, token=self.admin_of(o))
        self.assertEqual(r.status, 200, r)
        entries = [e for e in r.body["items"] if e["action"] == "portlet.configure"]
        self.assertEqual(len(entries), 2, r.body)
        first, second = entries
        self.assertEqual(first["actor"], "aud-admin")
        self.assertEqual(first["target"], "test-notes")
        self.assertIsNone(first["before"])
        self.assertTrue(first["after"]["enabled"])
        self.assertEqual(first["after"]["config"], {"greeting": "Hello"})
        self.assertTrue(second["before"]["enabled"])
        self.assertFalse(second["after"]["enabled"])
        self.assertEqual(second["after"]["placements"],
                         [{"dashboard": "employee", "position": 1}])

    # ---------------------------------------------------------- dashboards

    def test_dashboard_order_and_content(self):
        o = self.org("dsh", settings={"branding": {"primary_colour": "#123456"},
                                      "notices": ["Flu clinics open Monday"]})
        self.enable(o, "test-notes", [{"dashboard": "employee", "position": 2}],
                    {"greeting": "Morning"})
        self.enable(o, "test-notes-two", [{"dashboard": "employee", "position": 1}])
        t = self.tok("dsh-emp", o)
        r = self.api.get(API + "/dashboards/employee", token=t)
        self.assertEqual(r.status, 200, r)
        b = r.body
        self.assertEqual(b["dashboard"], "employee")
        self.assertEqual(b["org"], {"id": o, "name": "Org " + o})
        self.assertEqual(b["branding"], {"primary_colour": "#123456"})
        self.assertEqual(b["notices"], [{"text": "Flu clinics open Monday"}])
        self.assertEqual([(p["id"], p["position"]) for p in b["portlets"]],
                         [("test-notes-two", 1), ("test-notes", 2)])
        card = b["portlets"][1]
        self.assertIsInstance(card["title"], str)
        self.assertEqual(card["summary"], {"greeting": "Morning", "dashboard": "employee",
                                           "notes": 0})
        # equal positions: by id
        self.configure(o, "test-notes-two", {"enabled": True, "placements": [
            {"dashboard": "employee", "position": 2}]})
        ids = [p["id"] for p in self.api.get(API + "/dashboards/employee", token=t)
               .body["portlets"]]
        self.assertEqual(ids, ["test-notes", "test-notes-two"])
        # not placed on the applicant dashboard, and disabled ones vanish
        self.configure(o, "test-notes-two", {"enabled": False})
        ids = [p["id"] for p in self.api.get(API + "/dashboards/employee", token=t)
               .body["portlets"]]
        self.assertEqual(ids, ["test-notes"])

    def test_dashboard_hidden_and_failing_summaries(self):
        o = self.org("dhf")
        place = [{"dashboard": "employee", "position": 1}]
        self.enable(o, "test-notes", place, {"hidden": True})
        self.enable(o, "test-notes-two", place, {"fail_summary": True})
        r = self.api.get(API + "/dashboards/employee", token=self.tok("dhf-emp", o))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(p["id"], p["summary"]) for p in r.body["portlets"]],
                         [("test-notes-two", {"error": "unavailable"})])

    def test_dashboard_visibility_by_status(self):
        o = self.org("dvs")
        self.enable(o, "test-notes", [{"dashboard": "employee", "position": 1},
                                      {"dashboard": "leaver", "position": 1},
                                      {"dashboard": "applicant", "position": 5}])
        who = {"employee": "dvs-emp", "leaver": "dvs-leaver", "applicant": "dvs-app"}
        for dash, user in who.items():
            t = self.tok(user, o)
            for other in who:
                r = self.api.get(API + "/dashboards/" + other, token=t)
                if other == dash:
                    self.assertEqual(r.status, 200, (user, other, r))
                    self.assertEqual([p["id"] for p in r.body["portlets"]], ["test-notes"])
                    self.assertEqual(r.body["portlets"][0]["summary"]["dashboard"], dash)
                else:
                    self.assert_problem(r, 403, "forbidden", "%s on %s" % (user, other))
        t = self.tok("dvs-emp", o)
        self.assert_problem(self.api.get(API + "/dashboards/manager", token=t), 404,
                            "not_found")
        self.assert_problem(self.api.get(API + "/dashboards/employee", token=""), 401,
                            "unauthorized")
        self.assert_problem(self.api.get(API + "/dashboards/employee", token=self.as_admin()),
                            403, "forbidden")

    def test_leaver_access_and_org_notices(self):
        # The core shows the organisation's notices; what a portlet knows (a
        # leaver's pay documents) it says through notices(), from the
        # caller's access_ends, which the portlet is given.
        o = self.org("lvn", settings={"leaver_access_days": 30, "notices": ["Hello"]})
        t = self.tok("lvn-leaver", o)
        me = self.api.get(API + "/me", token=t).body
        ends = (today() - datetime.timedelta(days=10) + datetime.timedelta(days=30)).isoformat()
        self.assertEqual(me.get("access_ends"), ends)
        r = self.api.get(API + "/dashboards/leaver", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["portlets"], [])
        self.assertEqual(r.body["notices"], [{"text": "Hello"}])
        self.enable(o, "test-notes")
        w = self.api.get(NOTES + "/whoami", token=t)
        self.assertEqual(w.status, 200, w)
        self.assertEqual((w.body["status"], w.body["access_ends"]), (3, ends))
        r = self.api.get(API + "/dashboards/employee", token=self.tok("lvn-emp", o))
        self.assertEqual(r.body["notices"], [{"text": "Hello"}])

    def test_dashboard_etag(self):
        o = self.org("etg")
        self.enable(o, "test-notes", [{"dashboard": "employee", "position": 1}],
                    {"greeting": "Hello"})
        t = self.tok("etg-emp", o)
        url = API + "/dashboards/employee"

        def etag():
            r = self.api.get(url, token=t)
            self.assertEqual(r.status, 200, r)
            e = r.headers.get("ETag")
            self.assertTrue(e, r)
            return e

        e1 = etag()
        self.assertEqual(etag(), e1, "unchanged dashboard keeps its ETag")
        r = self.api.get(url, token=t, headers={"If-None-Match": e1})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(r.headers.get("ETag"), e1)
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": '"other"'})
                         .status, 200)

        self.configure(o, "test-notes", {"enabled": True, "config": {"greeting": "Bye"}})
        e2 = etag()
        self.assertNotEqual(e2, e1, "config change")
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": e1}).status, 200)

        self.configure(o, "test-notes", {"enabled": True, "placements": [
            {"dashboard": "employee", "position": 4}]})
        e3 = etag()
        self.assertNotEqual(e3, e2, "placement change")

        self.api.put(NOTES + "/notes/n1", {"value": 1}, token=t)
        e4 = etag()
        self.assertNotEqual(e4, e3, "shown data change")
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": e4}).status, 304)

    # ---------------------------------------------------------- the version rule

    def test_older_portlet_loads_and_is_read_only_to_its_sizes(self):
        o = self.org("old")
        # test-notes-old sets check_config past its struct_size to a callback
        # that refuses every config: the host must not have read it
        r = self.configure(o, "test-notes-old", {"enabled": True,
                                                 "config": {"greeting": "Hi there"}})
        self.assertEqual(r.body["config"]["greeting"], "Hi there")
        t = self.tok("old-emp", o)
        # routes[] has the shorter stride: every route is where it should be
        r = self.api.put(OLD + "/notes/a", {"value": 1}, token=t)
        self.assertEqual(r.status, 200, r)
        self.assert_validation(self.api.put(OLD + "/notes/a", {"other": 1}, token=t), ["/value"])
        self.assertEqual(self.api.get(OLD + "/notes", token=t).body["items"],
                         [{"key": "a", "value": 1}])
        self.assertEqual(self.api.get(OLD + "/gate/employees", token=t).status, 200)
        self.assert_problem(self.api.get(OLD + "/gate/employees",
                                         token=self.tok("old-leaver", o)), 403, "forbidden")
        r = self.api.get(OLD + "/text-injected", token=t)  # the last route
        self.assert_problem(r, 500, "internal_error")
        # no body_max in its routes: the server's limit, not a zero
        body = {"title": "t", "items": [{"n": 1}]}
        raw = json.dumps(body) + " " * 600
        r = self.api.post(OLD + "/shaped", raw=raw, token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["got"], body)

    def test_newer_portlet_with_zero_tail_loads(self):
        o = self.org("new")
        self.enable(o, "test-notes-new")
        t = self.tok("new-emp", o)
        r = self.api.put(NEW + "/notes/b", {"value": 2}, token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.get(NEW + "/notes/b", token=t).body["value"], 2)
        self.assert_problem(self.api.get(NEW + "/gate/employees",
                                         token=self.tok("new-leaver", o)), 403, "forbidden")
        # the longer stride, and body_max within the host's part of a route
        raw = json.dumps({"title": "t", "items": []}) + " " * 600
        self.assert_problem(self.api.post(NEW + "/shaped", raw=raw, token=t), 413,
                            "payload_too_large")

    # ---------------------------------------------------------- gates

    def test_gate_statuses(self):
        o = self.org("gst")
        self.enable(o, "test-notes")
        for who in ("emp", "hr", "admin"):
            r = self.api.get(NOTES + "/gate/employees", token=self.tok("gst-" + who, o))
            self.assertEqual(r.status, 200, (who, r))
        for who in ("leaver", "app"):
            self.assert_problem(self.api.get(NOTES + "/gate/employees",
                                             token=self.tok("gst-" + who, o)), 403, "forbidden",
                                who)

    def test_gate_roles_or_statuses(self):
        o = self.org("gro")
        self.enable(o, "test-notes")
        for who in ("hr", "app"):
            r = self.api.get(NOTES + "/gate/hr-or-applicants", token=self.tok("gro-" + who, o))
            self.assertEqual(r.status, 200, (who, r))
        for who in ("emp", "leaver", "admin"):
            self.assert_problem(self.api.get(NOTES + "/gate/hr-or-applicants",
                                             token=self.tok("gro-" + who, o)), 403, "forbidden",
                                who)

    def test_gate_mfa(self):
        o = self.org("gmf")
        self.enable(o, "test-notes")
        for who in ("emp", "admin", "leaver"):
            self.assert_problem(self.api.get(NOTES + "/gate/mfa", token=self.tok("gmf-" + who, o)),
                                403, "mfa_required", who)
        r = self.api.get(NOTES + "/gate/mfa", token=self.mfa_tok(o, "mfa"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.body["mfa"])

    def test_gate_mfa_statuses(self):
        o = self.org("gml")
        self.enable(o, "test-notes")
        url = NOTES + "/gate/leavers-mfa"
        self.assertEqual(self.api.get(url, token=self.tok("gml-emp", o)).status, 200)
        self.assert_problem(self.api.get(url, token=self.tok("gml-leaver", o)), 403,
                            "mfa_required")
        r = self.api.get(url, token=self.mfa_tok(o, "lmfa", leaver=True))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], 3)  # PORTICO_STATUS_LEAVER

    def test_gates_in_order(self):
        # enabled -> who -> MFA -> body: each check wins over the ones after
        o = self.org("gor")
        url = NOTES + "/gate/ordered"
        bad = {"n": "not a number"}
        self.assert_problem(self.api.post(url, bad, token=self.tok("gor-leaver", o)), 404,
                            "portlet_not_enabled")
        self.enable(o, "test-notes")
        self.assert_problem(self.api.post(url, bad, token=self.tok("gor-leaver", o)), 403,
                            "forbidden")
        self.assert_problem(self.api.post(url, bad, token=self.tok("gor-emp", o)), 403,
                            "mfa_required")
        t = self.mfa_tok(o, "mfa")
        self.assert_validation(self.api.post(url, bad, token=t), ["/n"])
        self.assert_problem(self.api.post(url, raw="{nope", token=t), 400, "bad_request")
        r = self.api.post(url, {"n": 3}, token=t)
        self.assertEqual(r.status, 200, r)

    # ---------------------------------------------------------- bodies

    def test_body_schema(self):
        o = self.org("bsc")
        self.enable(o, "test-notes")
        t = self.tok("bsc-emp", o)
        url = NOTES + "/shaped"
        errs = self.assert_validation(
            self.api.post(url, {"title": "", "items": [{"n": 1}, {"n": 0}, {}], "extra": 1},
                          token=t),
            ["/title", "/items/1/n", "/items/2/n", "/extra"])
        self.assertGreaterEqual(len(errs), 4)
        self.assert_validation(self.api.post(url, {"items": [{"n": 1}] * 4}, token=t),
                               ["/title", "/items"])
        self.assert_validation(self.api.post(url, [1], token=t), [""])
        self.assert_problem(self.api.post(url, raw="{nope", token=t), 400, "bad_request")
        r = self.api.post(url, raw="title=x", content_type="text/plain", token=t)
        self.assert_problem(r, 415)
        body = {"title": "Hello", "items": [{"n": 1}, {"n": 2, "note": "any"}]}
        r = self.api.post(url, body, token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["got"], body)

    def test_body_max(self):
        o = self.org("bmx")
        self.enable(o, "test-notes")
        t = self.tok("bmx-emp", o)
        body = json.dumps({"title": "t", "items": []})
        r = self.api.post(NOTES + "/shaped", raw=body + " " * (512 - len(body)), token=t)
        self.assertEqual(r.status, 200, r)
        r = self.api.post(NOTES + "/shaped", raw=body + " " * (513 - len(body)), token=t)
        self.assert_problem(r, 413, "payload_too_large")

    def test_raw_body(self):
        o = self.org("raw")
        self.enable(o, "test-notes")
        t = self.tok("raw-emp", o)
        url = NOTES + "/import"
        r = self.api.post(url, raw="a,b\n1,2\n", content_type="text/csv", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"bytes": 8, "lines": 2, "json_body": False})
        r = self.api.post(url, raw="a\n", content_type="text/csv; charset=utf-8", token=t)
        self.assertEqual(r.status, 200, r)
        r = self.api.post(url, raw="x" * 64, content_type="text/csv", token=t)
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.api.post(url, raw="x" * 65, content_type="text/csv", token=t),
                            413, "payload_too_large")
        self.assert_problem(self.api.post(url, {"a": 1}, token=t), 415)
        self.assert_problem(self.api.post(url, raw="a,b\n", content_type="text/plain", token=t),
                            415)

    def test_schema_validate_with_base(self):
        o = self.org("svb")
        self.enable(o, "test-notes")
        t = self.tok("svb-emp", o)
        r = self.api.post(NOTES + "/validate?base=/documents/3", {"n": 0}, token=t)
        self.assert_validation(r, ["/documents/3/n"])

    # ---------------------------------------------------------- paging

    def put_notes(self, url, token, names):
        for n in names:
            r = self.api.put(url + "/notes/" + n, {"value": n.upper()}, token=token)
            self.assertEqual(r.status, 200, r)

    def page(self, url, token, query=""):
        r = self.api.get(url + "/notes" + query, token=token)
        self.assertEqual(r.status, 200, r)
        return [i["key"] for i in r.body["items"]], r.body["next_cursor"]

    def test_paged_list(self):
        o = self.org("pag")
        self.enable(o, "test-notes")
        t = self.tok("pag-emp", o)
        self.put_notes(NOTES, t, ["n01", "n02", "n03", "n04", "n05"])
        seen, cursor, pages = [], None, 0
        while True:
            q = "?limit=2" + ("&cursor=" + quote(cursor) if cursor else "")
            keys, cursor = self.page(NOTES, t, q)
            seen += keys
            pages += 1
            self.assertLessEqual(len(keys), 2)
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
        self.assertEqual(seen, ["n01", "n02", "n03", "n04", "n05"])
        self.assertEqual(pages, 3)
        keys, cursor = self.page(NOTES, t, "?limit=2&order=desc")
        self.assertEqual(keys, ["n05", "n04"])
        keys, _ = self.page(NOTES, t, "?limit=2&order=desc&cursor=" + quote(cursor))
        self.assertEqual(keys, ["n03", "n02"])
        # PORTICO_SKIP leaves a value out without counting it
        keys, _ = self.page(NOTES, t, "?limit=2&except=n02")
        self.assertEqual(keys, ["n01", "n03"])
        self.assertEqual(self.page(NOTES, t)[0], ["n01", "n02", "n03", "n04", "n05"])
        for q in ("limit=0", "limit=501", "limit=x", "limit=-1", "cursor=%20bad", "cursor=abc"):
            self.assert_problem(self.api.get(NOTES + "/notes?" + q, token=t), 400,
                                "bad_request", q)

    def test_cursor_tampering(self):
        a, b = self.org("cta"), self.org("ctb")
        for o in (a, b):
            self.enable(o, "test-notes")
            self.enable(o, "test-notes-two")
            self.put_notes(NOTES, self.tok(o + "-emp", o), ["a", "b", "c"])
            self.put_notes(TWO, self.tok(o + "-emp", o), ["a", "b", "c"])
        ta = self.tok("cta-emp", a)
        self.api.post(NOTES + "/events", {}, token=ta)
        self.api.post(NOTES + "/events", {}, token=ta)
        keys, cursor = self.page(NOTES, ta, "?limit=1")
        self.assertEqual(keys, ["a"])
        self.assertTrue(cursor)

        def refused(url, c, token=ta, msg=None):
            r = self.api.get(url + ("&" if "?" in url else "?") + "cursor=" + quote(c),
                             token=token)
            self.assert_problem(r, 400, "bad_request", msg)

        # a byte flipped anywhere
        for i in (0, len(cursor) // 2, len(cursor) - 2):
            flipped = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
            refused(NOTES + "/notes", flipped, msg="byte %d" % i)
        refused(NOTES + "/notes", cursor[:-3], msg="truncated")
        refused(NOTES + "/notes", cursor + "AAAA", msg="extended")
        # made for another list: another prefix, the other direction
        refused(NOTES + "/events", cursor, msg="another prefix")
        refused(NOTES + "/notes?order=desc", cursor, msg="another direction")
        # made in another organisation, or by another portlet
        refused(NOTES + "/notes", cursor, token=self.tok("ctb-emp", b), msg="another org")
        refused(TWO + "/notes", cursor, msg="another portlet")
        # and the real one still works
        keys, _ = self.page(NOTES, ta, "?limit=1&cursor=" + quote(cursor))
        self.assertEqual(keys, ["b"])

    # ---------------------------------------------------------- binary values

    def test_binary_values_round_trip(self):
        o = self.org("bin")
        self.enable(o, "test-notes")
        t = self.tok("bin-emp", o)
        data = bytes(range(256)) * 16 + b"\x00\r\n\xff%PDF"
        r = self.api.put(NOTES + "/files/report.pdf", raw=data, content_type="application/pdf",
                         token=t)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body, {"name": "report.pdf", "bytes": len(data),
                                  "content_type": "application/pdf"})
        r = self.api.get(NOTES + "/files/report.pdf", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.raw, data)
        self.assertEqual(r.headers["Content-Type"], "application/pdf")
        self.assertEqual(r.headers["Content-Disposition"], 'attachment; filename="report.pdf"')
        r = self.api.request("HEAD", NOTES + "/files/report.pdf", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(r.headers["Content-Type"], "application/pdf")
        # bytes are not JSON: get() on the key is PORTICO_EINVAL
        r = self.api.get(NOTES + "/files/report.pdf?as=json", token=t)
        self.assertEqual(r.body, {"rc": EINVAL})
        # an empty file, and a replaced one
        r = self.api.put(NOTES + "/files/empty", raw=b"", content_type="text/plain", token=t)
        self.assertEqual(r.status, 201, r)
        r = self.api.get(NOTES + "/files/empty", token=t)
        self.assertEqual((r.status, r.raw), (200, b""), r)
        self.api.put(NOTES + "/files/report.pdf", raw=b"v2", content_type="application/pdf",
                     token=t)
        self.assertEqual(self.api.get(NOTES + "/files/report.pdf", token=t).raw, b"v2")
        self.assert_problem(self.api.get(NOTES + "/files/nothing", token=t), 404, "not_found")
        # another organisation sees none of it
        other = self.org("bin2")
        self.enable(other, "test-notes")
        self.assert_problem(self.api.get(NOTES + "/files/report.pdf",
                                         token=self.tok("bin2-emp", other)), 404, "not_found")

    # ---------------------------------------------------------- answers

    def test_response_headers(self):
        o = self.org("hdr")
        self.enable(o, "test-notes")
        t = self.tok("hdr-emp", o)

        def set_header(name, value):
            r = self.api.get(NOTES + "/headers?name=%s&value=%s" % (quote(name), quote(value)),
                             token=t)
            self.assertEqual(r.status, 200, r)
            return r

        for name, value in (("Cache-Control", "no-cache"), ("Location", "/api/v1/x"),
                            ("Retry-After", "120"), ("Last-Modified",
                                                     "Wed, 21 Oct 2026 07:28:00 GMT"),
                            ("ETag", '"abc"'), ("Content-Disposition", "inline")):
            r = set_header(name, value)
            self.assertEqual(r.body, {"rc": 0}, name)
            self.assertEqual(r.headers.get(name), value, name)
        for name, value in (("Set-Cookie", "a=b"), ("X-Custom", "1"), ("Content-Type", "x/y"),
                            ("Content-Length", "0"), ("Access-Control-Allow-Origin", "*"),
                            ("Location", "/a\r\nSet-Cookie: a=b"), ("Cache-Control", "a\nb"),
                            ("", "x")):
            r = set_header(name, value)
            self.assertEqual(r.body, {"rc": EINVAL}, (name, value))
            self.assertIsNone(r.headers.get("Set-Cookie"), (name, value))
            self.assertIsNone(r.headers.get("X-Custom"), (name, value))
        self.assertEqual(set_header("Content-Type", "x/y").headers["Content-Type"].split(";")[0],
                         "application/json")

    # HOST BUG: portlet answers carry the core's "Cache-Control: no-store",
    # not the header's documented default "private, no-store".
    def test_default_cache_control(self):
        o = self.org("dcc")
        self.enable(o, "test-notes")
        r = self.api.get(NOTES + "/whoami", token=self.tok("dcc-emp", o))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")

    def test_conditional_requests(self):
        o = self.org("cnd")
        self.enable(o, "test-notes")
        t = self.tok("cnd-emp", o)
        url = NOTES + "/notes/doc"
        self.assert_problem(self.api.put(url, {"value": 1}, token=t,
                                         headers={"If-Match": '"1"'}), 412,
                            "precondition_failed", "If-Match on a note that is not there")
        r = self.api.put(url, {"value": 1}, token=t)
        self.assertEqual(r.status, 200, r)
        e1 = r.headers.get("ETag")
        self.assertEqual(e1, '"1"')
        r = self.api.get(url, token=t)
        self.assertEqual((r.status, r.headers.get("ETag")), (200, e1), r)
        r = self.api.get(url, token=t, headers={"If-None-Match": e1})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(r.headers.get("ETag"), e1)
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": '"9"'}).status, 200)
        self.assert_problem(self.api.put(url, {"value": 2}, token=t, headers={"If-Match": '"9"'}),
                            412, "precondition_failed")
        self.assertEqual(self.api.get(url, token=t).body["value"], 1, "412 stored nothing")
        r = self.api.put(url, {"value": 2}, token=t, headers={"If-Match": e1})
        self.assertEqual(r.status, 200, r)
        e2 = r.headers.get("ETag")
        self.assertEqual(e2, '"2"')
        self.assert_problem(self.api.put(url, {"value": 3}, token=t, headers={"If-Match": e1}),
                            412, "precondition_failed", "a stale ETag")
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": e1}).status, 200)
        self.assertEqual(self.api.get(url, token=t, headers={"If-None-Match": e2}).status, 304)

    def test_respond_json_etag(self):
        o = self.org("jet")
        self.enable(o, "test-notes")
        t = self.tok("jet-emp", o)
        r = self.api.get(NOTES + "/stats", token=t)
        self.assertEqual((r.status, r.body), (200, {"notes": 0}), r)
        e1 = r.headers.get("ETag")
        self.assertTrue(e1, r)
        self.assertEqual(self.api.get(NOTES + "/stats", token=t).headers.get("ETag"), e1)
        r = self.api.get(NOTES + "/stats", token=t, headers={"If-None-Match": e1})
        self.assertEqual((r.status, r.raw), (304, b""), r)
        self.put_notes(NOTES, t, ["x"])
        r = self.api.get(NOTES + "/stats", token=t, headers={"If-None-Match": e1})
        self.assertEqual((r.status, r.body), (200, {"notes": 1}), r)
        self.assertNotEqual(r.headers.get("ETag"), e1)

    def test_respond_error_mapping(self):
        o = self.org("rer")
        self.enable(o, "test-notes")
        t = self.tok("rer-emp", o)
        cases = [(ENOTFOUND, 404, "not_found"), (EEXISTS, 409, "conflict"),
                 (ECONFLICT, 409, "conflict"), (EBADREQUEST, 400, "bad_request"),
                 (EFORBIDDEN, 403, "forbidden"), (EIO, 503, None), (ERR, 500, "internal_error"),
                 (EINVAL, 500, "internal_error"), (ENOMEM, 500, "internal_error")]
        for result, status, code in cases:
            r = self.api.get(NOTES + "/errors/%d" % result, token=t)
            b = self.assert_problem(r, status, code, "result %d" % result)
            if status < 500:
                self.assertEqual(b["detail"], "answered by respond_error", r)
        # after an answer respond_error does nothing
        r = self.api.get(NOTES + "/errors/%d?twice=1" % ENOTFOUND, token=t)
        self.assertEqual((r.status, r.body), (200, {"first": True}), r)

    def test_accepts(self):
        o = self.org("acc")
        self.enable(o, "test-notes")
        t = self.tok("acc-emp", o)

        def accepts(accept, media):
            r = self.api.get(NOTES + "/accepts?type=" + quote(media), token=t,
                             headers={"Accept": accept})
            self.assertEqual(r.status, 200, r)
            return r.body["accepts"]

        self.assertTrue(accepts("text/csv", "text/csv"))
        self.assertFalse(accepts("text/csv", "application/pdf"))
        self.assertTrue(accepts("application/*", "application/pdf"))
        self.assertTrue(accepts("text/html, application/*;q=0.1", "application/pdf"))
        # a bare */* does not count: such clients get the route's JSON default
        self.assertFalse(accepts("*/*", "application/pdf"))
        self.assertTrue(accepts("application/pdf;q=0.5, text/csv", "application/pdf"))
        self.assertFalse(accepts("application/pdf;q=0", "application/pdf"))

    def test_head_on_get_route(self):
        o = self.org("hed")
        self.enable(o, "test-notes")
        t = self.tok("hed-emp", o)
        self.put_notes(NOTES, t, ["h"])
        g = self.api.get(NOTES + "/notes/h", token=t)
        r = self.api.request("HEAD", NOTES + "/notes/h", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(r.headers.get("ETag"), g.headers.get("ETag"))
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"), r)
        r = self.api.request("HEAD", NOTES + "/notes/none", token=t)
        self.assertEqual((r.status, r.raw), (404, b""), r)
        # only GET routes answer HEAD
        self.assertEqual(self.api.request("HEAD", NOTES + "/events", token=t).status, 200)
        self.assertEqual(self.api.request("HEAD", NOTES + "/shaped", token=t).status, 405)

    # ---------------------------------------------------------- counters, keys

    def test_counters(self):
        a, b = self.org("cnt"), self.org("cnt2")
        for o in (a, b):
            self.enable(o, "test-notes")
        self.enable(a, "test-notes-two")
        t = self.tok("cnt-emp", a)
        url = NOTES + "/counters/visits"
        self.assertEqual(self.api.get(url, token=t).body, {"name": "visits", "value": 0})
        self.assertEqual(self.api.post(url, {"delta": 5}, token=t).body["value"], 5)
        self.assertEqual(self.api.post(url, {"delta": -2}, token=t).body["value"], 3)
        self.assertEqual(self.api.get(url, token=t).body["value"], 3)
        self.assertEqual(self.api.get(NOTES + "/counters/other", token=t).body["value"], 0)
        self.assertEqual(self.api.get(url, token=self.tok("cnt2-emp", b)).body["value"], 0)
        self.assertEqual(self.api.get(TWO + "/counters/visits", token=t).body["value"], 0)
        self.assert_validation(self.api.post(url, {"delta": 5000}, token=t), ["/delta"])
        self.assert_validation(self.api.post(url, {"delta": "1"}, token=t), ["/delta"])
        self.assert_validation(self.api.post(url, {}, token=t), ["/delta"])
        self.assertEqual(self.api.get(url, token=t).body["value"], 3)

    def test_key_escaping(self):
        o = self.org("key")
        self.enable(o, "test-notes")
        t = self.tok("key-emp", o)

        def key(a, b):
            r = self.api.get(NOTES + "/key?a=%s&b=%s" % (quote(a, safe=""), quote(b, safe="")),
                             token=t)
            self.assertEqual(r.status, 200, r)
            return r.body

        plain = key("x", "y")
        self.assertEqual(plain, {"rc": 0, "key": "k/x/y"})
        built = [key("x/y", "z"), key("x", "y/z"), key("x%2Fy", "z"), key("x%", "2Fy/z")]
        for k in built:
            self.assertEqual(k["rc"], 0, k)
            self.assertEqual(k["key"].count("/"), 2, k)  # a part never adds a level
            self.assertTrue(k["key"].startswith("k/"), k)
        self.assertEqual(len({k["key"] for k in built}), len(built), built)
        self.assertEqual(key("x" * 300, "y")["rc"], EINVAL)
        self.assertEqual(key("x" * 240, "y" * 20)["rc"], EINVAL)  # over PORTICO_KEY_MAX

    # ---------------------------------------------------------- notices

    def test_notices(self):
        o = self.org("ntc")
        # enabled, placed on no dashboard: notices still show
        self.enable(o, "test-notes")
        t = self.tok("ntc-emp", o)

        def notices(user="ntc-emp", dashboard="employee"):
            r = self.api.get(API + "/dashboards/" + dashboard, token=self.tok(user, o))
            self.assertEqual(r.status, 200, r)
            return [n for n in r.body["notices"] if n.get("code") == "test_notice"]

        self.assertEqual(notices(), [])
        self.put_notes(NOTES, t, ["other"])
        self.assertEqual(notices(), [])
        r = self.api.put(NOTES + "/notes/notice", {"value": "Read me"}, token=t)
        self.assertEqual(r.status, 200, r)
        n = notices()
        self.assertEqual(len(n), 1, n)
        self.assertEqual(n[0]["text"], "Read me")
        self.assertEqual(notices("ntc-leaver", "leaver"), [])
        self.configure(o, "test-notes", {"enabled": False})
        self.assertEqual(notices(), [])


class DemoPortletsTest(h.PorticoTestCase):
    """porticod --demo: each portlet with a demo() callback sets up its own
    data in demo-trust, the older and newer builds of ABI 2.x included."""
    plugins = os.environ.get("PORTICO_TEST_PLUGINS")
    server_args = ["--demo"]

    def test_demo_enables_portlets_with_their_data(self):
        tok = self.token("portal.admin", "portico-demo")
        r = self.api.get(API + "/orgs/demo-trust/portlets", token=tok)
        self.assertEqual(r.status, 200, r)
        items = {i["id"]: i for i in r.body["items"]}
        notes = items["test-notes"]
        self.assertTrue(notes["enabled"], notes)
        self.assertEqual(notes["config"], {"greeting": "Hello demo"})
        self.assertEqual({p["dashboard"] for p in notes["placements"]},
                         {"employee", "leaver", "applicant"})
        for pid in LOADED:
            self.assertTrue(items[pid]["enabled"], items[pid])
        emp = self.token("emp.eddie", "portico-demo")
        r = self.api.get(API + "/portlets/test-notes/notes/welcome", token=emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["value"], "hello from the demo")
        r = self.api.get(API + "/dashboards/employee", token=emp)
        self.assertEqual(r.status, 200, r)
        self.assertIn("test-notes", [p["id"] for p in r.body["portlets"]])

    def test_demo_setting_is_audited_and_loaded_once(self):
        tok = self.token("portal.admin", "portico-demo")
        self.server.restart()
        type(self).api = self.server.client()
        r = self.api.get(API + "/orgs/demo-trust/audit?limit=500", token=tok)
        self.assertEqual(r.status, 200, r)
        configured = [e for e in r.body["items"]
                      if e["action"] == "portlet.configure" and e["target"] == "test-notes"]
        self.assertEqual(len(configured), 1, configured)
        self.assertEqual(configured[0]["actor"], "system")


class HostSymbolsTest(unittest.TestCase):
    """porticod exports nothing of its own: a portlet reaches the host only
    through the table, never by linking to pt_* symbols."""

    def test_no_pt_symbols_exported(self):
        nm = shutil.which("nm")
        if nm is None:
            self.skipTest("nm is not installed")
        out = subprocess.run([nm, "-D", "--defined-only", h.porticod_path()], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        leaked = [line.split()[-1] for line in out.splitlines()
                  if line.split() and line.split()[-1].startswith("pt_")]
        self.assertEqual(leaked, [])


if __name__ == "__main__":
    h.main()
