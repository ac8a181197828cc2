"""The portlet platform: loader refusals, the catalogue, per-organisation
enablement and config validation, storage isolation, route guards and
one-call dashboards (ordering, visibility, notices, ETag/304).

Runs porticod with --plugins $PORTICO_TEST_PLUGINS (tests/plugins/): the
good portlets test-notes and test-notes-two, and one broken .so per
refusal case.
"""

import datetime
import os
import unittest

import portico_harness as h
from portico_harness import API

PW = "portlet-test-password"
NOTES = API + "/portlets/test-notes"
TWO = API + "/portlets/test-notes-two"

# file -> a piece of the reason the loader must give
REFUSED = {
    "x-bad-magic.so": "magic",
    "x-abi-major.so": "major",
    "x-abi-minor.so": "newer",
    "x-short-struct.so": "struct_size",
    "x-no-symbol.so": "symbol",
    "x-duplicate-id.so": "duplicate",
    "x-bad-route.so": "prefix",
    "x-init-fails.so": "init",
    "x-bad-schema.so": "JSON",
    "x-bad-method.so": "method",
    "x-bad-id.so": "id",
}


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

    def test_catalogue_lists_loaded_portlets(self):
        self.org("cat")
        r = self.api.get(API + "/portlets", token=self.tok("cat-emp", "cat"))
        self.assertEqual(r.status, 200, r)
        items = {i["id"]: i for i in r.body["items"]}
        self.assertEqual(sorted(items), ["test-notes", "test-notes-two", "test-notes-v10"])
        # built against ABI 1.0 (shorter descriptor): still loaded
        self.assertEqual(items["test-notes-v10"]["version"], "1.0.0")
        self.assertNotIn("refused", r.body, "refusals are for system admins only")
        it = items["test-notes"]
        self.assertEqual(it["version"], "1.0.0")
        self.assertIsInstance(it["name"], str)
        self.assertIsInstance(it["description"], str)
        self.assertEqual(it["dashboards"], ["employee", "leaver", "applicant"])
        self.assertEqual(it["config_schema"]["type"], "object")
        self.assertIn("greeting", it["config_schema"]["properties"])
        routes = {(x["method"], x["path"]) for x in it["routes"]}
        self.assertIn(("PUT", "/api/v1/portlets/test-notes/notes/{key}"), routes)
        self.assertIn(("GET", "/api/v1/portlets/test-notes"), routes)

    def test_catalogue_needs_a_token(self):
        self.assert_problem(self.api.get(API + "/portlets", token=""), 401, "unauthorized")

    def test_refusals_visible_to_system_admin(self):
        r = self.api.get(API + "/portlets", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        refused = {x["file"]: x for x in r.body["refused"]}
        self.assertEqual(sorted(refused), sorted(REFUSED), r.body["refused"])
        for f, word in REFUSED.items():
            self.assertIn(word.lower(), refused[f]["reason"].lower(), refused[f])
        self.assertEqual(refused["x-duplicate-id.so"]["id"], "test-notes")
        self.assertEqual(refused["x-init-fails.so"]["id"], "init-fails")
        ids = [i["id"] for i in r.body["items"]]
        self.assertEqual(sorted(ids), ["test-notes", "test-notes-two", "test-notes-v10"])
        log = self.server.log_text()
        for f in REFUSED:
            self.assertIn(f, log, "refusal of %s not logged" % f)

    def test_refused_portlets_serve_nothing(self):
        self.org("ref")
        t = self.tok("ref-admin", "ref")
        for pid in ("bad-route", "init-fails", "abi-minor", "bad-schema", "bad-method"):
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
            self.assertEqual(sorted(items), ["test-notes", "test-notes-two", "test-notes-v10"])
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

    def test_leaver_notice(self):
        o = self.org("lvn", settings={"leaver_access_days": 30, "notices": ["Hello"]})
        t = self.tok("lvn-leaver", o)
        me = self.api.get(API + "/me", token=t).body
        ends = (today() - datetime.timedelta(days=10) + datetime.timedelta(days=30)).isoformat()
        self.assertEqual(me.get("access_ends"), ends)
        r = self.api.get(API + "/dashboards/leaver", token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["portlets"], [])
        self.assertEqual(r.body["notices"][0], {"text": "Hello"})
        n = [x for x in r.body["notices"] if x.get("code") == "save_documents"]
        self.assertEqual(len(n), 1, r.body["notices"])
        # access lasts through `ends`: the deadline is the day after
        first_day_without = (datetime.date.fromisoformat(ends)
                             + datetime.timedelta(days=1)).isoformat()
        self.assertEqual(n[0]["text"], "Save your pay documents before " + first_day_without)
        self.assertEqual(n[0]["date"], first_day_without)
        self.assertEqual(n[0]["access_ends"], ends)
        # employees get no such notice
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


class DemoPortletsTest(h.PorticoTestCase):
    """porticod --demo: each portlet with a demo() callback (ABI 1.1) sets
    up its own data in demo-trust; a 1.0 portlet's descriptor is never read
    past its struct_size, so it is left unconfigured."""
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
        self.assertFalse(items["test-notes-v10"]["enabled"], items["test-notes-v10"])
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


if __name__ == "__main__":
    h.main()
