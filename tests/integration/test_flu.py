"""flu-countdown portlet: countdown arithmetic, uptake percentages and
headcounts, sections, roles, organisation isolation, sites and bad input.

Runs the real porticod with --plugins $PORTICO_PLUGINS and the test clock.
Each test builds its own organisations so counts never leak between tests.
"""

import datetime
import itertools
import os
import sys
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portico_harness import API, PorticoTestCase, iso, main, parse_iso  # noqa: E402

PORTLET = API + "/portlets/flu-countdown"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
STARTS = "2026-10-01T00:00:00Z"
ENDS = "2026-12-01T00:00:00Z"
END_DT = parse_iso(ENDS)
PASSWORD = "Flu-pass-2026!"
GROUPS = ["doctors", "qualified_nurses", "other_clinical", "support_to_clinical"]

_ids = itertools.count(1)


def campaign(**extra):
    cfg = {"campaign": "Flu 2026", "starts_at": STARTS, "ends_at": ENDS}
    cfg.update(extra)
    return cfg


class FluTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    def setUp(self):
        self._tokens = {}
        self.set_clock(NOW)

    # ------------------------------------------------------------ helpers

    def set_clock(self, when):
        super().set_clock(when)
        self._tokens = {}  # tokens are issued at the clock's time

    def tok(self, username):
        if username not in self._tokens:
            self._tokens[username] = self.token(username, PASSWORD)
        return self._tokens[username]

    def person(self, org, name, **fields):
        fields.setdefault("staff_group", "admin_clerical")
        self.create_person(org, name, password=PASSWORD, **fields)
        return name

    def new_org(self, enable=True, config=None):
        """An organisation with a portal admin, an oh_admin and an employee
        outside the campaign's groups; the portlet enabled when asked."""
        n = next(_ids)
        org = "flu%d" % n
        self.create_org(org)
        o = {
            "id": org,
            "pa": self.person(org, "pa%d" % n, roles=["portal_admin"]),
            "oh": self.person(org, "oh%d" % n, roles=["oh_admin"]),
            "emp": self.person(org, "emp%d" % n),
        }
        if enable:
            self.enable(o, config if config is not None else campaign())
        return o

    def enable(self, o, config, expect=200):
        body = {"enabled": True, "placements": [{"dashboard": "employee", "position": 1}]}
        if config is not Ellipsis:
            body["config"] = config
        r = self.api.put(API + "/orgs/%s/portlets/flu-countdown" % o["id"], body,
                         token=self.tok(o["pa"]))
        if expect is not None:
            self.assertIn(r.status, (200, 201) if expect == 200 else (expect,), repr(r))
        return r

    def status(self, o, user=None):
        """The status as the campaign's oh_admin sees it (every count exact);
        other callers see counts of 1 to 4 suppressed."""
        r = self.api.get(PORTLET, token=self.tok(user or o["oh"]))
        self.assertEqual(r.status, 200, repr(r))
        return r.body

    def put_site(self, o, site, name="Main hall", location="Level 1", sessions=None,
                 expect=None):
        body = {"name": name, "location": location, "sessions": sessions or []}
        r = self.api.put(PORTLET + "/sites/" + site, body, token=self.tok(o["oh"]))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def vaccinate(self, o, group, site="main", at=None, user=None, expect=201):
        body = {"staff_group": group, "site": site, "vaccinated_at": at or iso(NOW)}
        r = self.api.post(PORTLET + "/vaccinations", body, token=self.tok(user or o["oh"]))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def group(self, body, name):
        for g in body["uptake"]["groups"]:
            if g["staff_group"] == name:
                return g
        self.fail("no group %s in %r" % (name, body["uptake"]["groups"]))

    def card(self, o):
        r = self.api.get(API + "/dashboards/employee", token=self.tok(o["emp"]))
        self.assertEqual(r.status, 200, repr(r))
        for c in r.body["portlets"]:
            if c["id"] == "flu-countdown":
                return c, r
        return None, r

    # --------------------------------------------------------------- tests

    def test_catalogue_lists_portlet(self):
        r = self.api.get(API + "/portlets", token=self.as_admin())
        self.assertEqual(r.status, 200, repr(r))
        ids = {p["id"]: p for p in r.body["items"]}
        self.assertIn("flu-countdown", ids)
        p = ids["flu-countdown"]
        self.assertEqual(p["dashboards"], ["employee"])
        self.assertEqual(p["config_schema"]["required"], ["campaign", "starts_at", "ends_at"])

    def test_not_enabled(self):
        o = self.new_org(enable=False)
        self.assert_problem(self.api.get(PORTLET, token=self.tok(o["emp"])), 404,
                            "portlet_not_enabled")
        self.assert_problem(self.api.get(PORTLET + "/sites", token=self.tok(o["emp"])), 404,
                            "portlet_not_enabled")
        r = self.vaccinate(o, "doctors", expect=None)
        self.assert_problem(r, 404, "portlet_not_enabled")
        self.assert_problem(self.put_site(o, "main"), 404, "portlet_not_enabled")
        card, _ = self.card(o)
        self.assertIsNone(card)

    def test_enabling_needs_a_campaign(self):
        # switching the portlet on with no config would store {}: refused
        o = self.new_org(enable=False)
        r = self.enable(o, Ellipsis, expect=None)
        self.assert_problem(r, 422, "validation_failed")
        for e in r.body["errors"]:
            self.assertTrue(e["pointer"].startswith("/config"), r.body)
        text = " ".join(e["pointer"] + " " + e["message"] for e in r.body["errors"])
        for field in ("campaign", "starts_at", "ends_at"):
            self.assertIn(field, text, r.body)
        self.assert_problem(self.api.get(PORTLET, token=self.tok(o["emp"])), 404,
                            "portlet_not_enabled")
        card, _ = self.card(o)
        self.assertIsNone(card)

    def test_sites_before_campaign_configured(self):
        # a disabled setting with no campaign: nothing is served yet
        o = self.new_org(enable=False)
        r = self.api.put(API + "/orgs/%s/portlets/flu-countdown" % o["id"], {"enabled": False},
                         token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assert_problem(self.put_site(o, "main"), 404, "portlet_not_enabled")
        # switching it on later, still without a campaign, is refused too
        r = self.enable(o, Ellipsis, expect=None)
        self.assert_problem(r, 422, "validation_failed")
        self.assert_problem(self.put_site(o, "main"), 404, "portlet_not_enabled")

    def test_campaign_ending_before_start_is_refused(self):
        o = self.new_org(enable=False)
        r = self.enable(o, campaign(starts_at=ENDS, ends_at=STARTS), expect=None)
        self.assert_problem(r, 422, "validation_failed")
        self.assertEqual([e["pointer"] for e in r.body["errors"]], ["/config/ends_at"], r.body)
        r = self.enable(o, campaign(starts_at=ENDS, ends_at=ENDS), expect=None)
        self.assert_problem(r, 422, "validation_failed")
        # nothing was stored: the portlet is still off
        self.assert_problem(self.api.get(PORTLET, token=self.tok(o["emp"])), 404,
                            "portlet_not_enabled")

    def test_countdown_arithmetic(self):
        o = self.new_org()
        cases = [
            (END_DT - datetime.timedelta(days=1, seconds=1), (1, 0, 0, 1), 86401),
            (END_DT - datetime.timedelta(days=1), (1, 0, 0, 0), 86400),
            (END_DT - datetime.timedelta(seconds=86399), (0, 23, 59, 59), 86399),
            (END_DT - datetime.timedelta(days=2, hours=3, minutes=4, seconds=5), (2, 3, 4, 5),
             2 * 86400 + 3 * 3600 + 4 * 60 + 5),
            (END_DT - datetime.timedelta(seconds=1), (0, 0, 0, 1), 1),
            (parse_iso(STARTS), (61, 0, 0, 0), 61 * 86400),
        ]
        for when, (d, h, m, s), total in cases:
            self.set_clock(when)
            b = self.status(o)
            self.assertEqual(b["server_time"], iso(when))
            self.assertEqual(b["ends_at"], ENDS)
            self.assertEqual(b["starts_at"], STARTS)
            self.assertFalse(b["ended"], iso(when))
            self.assertEqual(b["remaining"], {"days": d, "hours": h, "minutes": m, "seconds": s,
                                              "total_seconds": total}, iso(when))
        zero = {"days": 0, "hours": 0, "minutes": 0, "seconds": 0, "total_seconds": 0}
        for when in (END_DT, END_DT + datetime.timedelta(seconds=1),
                     END_DT + datetime.timedelta(days=40)):
            self.set_clock(when)
            b = self.status(o)
            self.assertTrue(b["ended"], iso(when))
            self.assertEqual(b["remaining"], zero, iso(when))

    def test_card_leaves_dashboard_after_end(self):
        o = self.new_org()
        self.set_clock(END_DT - datetime.timedelta(seconds=1))
        card, r = self.card(o)
        self.assertIsNotNone(card, repr(r))
        self.assertEqual(card["summary"]["campaign"], "Flu 2026")
        self.assertEqual(card["summary"]["ends_at"], ENDS)
        self.assertIs(card["summary"]["ended"], False)
        self.assertEqual(card["summary"]["target_percent"], 80)
        self.assertNotIn("remaining", card["summary"])
        self.set_clock(END_DT)
        card, r = self.card(o)
        self.assertIsNone(card, repr(r))
        self.set_clock(END_DT + datetime.timedelta(days=1))
        card, r = self.card(o)
        self.assertIsNone(card, repr(r))

    def test_dashboard_etag_stable_while_counting_down(self):
        o = self.new_org()
        card1, r1 = self.card(o)
        self.assertIsNotNone(card1)
        self.set_clock(NOW + datetime.timedelta(seconds=7))
        card2, r2 = self.card(o)
        self.assertEqual(card1, card2)
        if r1.headers.get("ETag"):
            self.assertEqual(r1.headers.get("ETag"), r2.headers.get("ETag"))

    def test_percent_rounding(self):
        groups = GROUPS + ["estates", "porters"]
        o = self.new_org(config=campaign(
            staff_groups=groups,
            headcount_override={"doctors": 3, "qualified_nurses": 3, "other_clinical": 8,
                                "support_to_clinical": 6, "estates": 16}))
        self.put_site(o, "main", expect=201)
        self.put_site(o, "clinic", name="Clinic", expect=201)
        for g, n in (("doctors", 1), ("qualified_nurses", 2), ("other_clinical", 1),
                     ("support_to_clinical", 1), ("estates", 1)):
            for _ in range(n):
                self.vaccinate(o, g, site="clinic" if g == "qualified_nurses" else "main")
        b = self.status(o)
        want = {"doctors": 33.3, "qualified_nurses": 66.7, "other_clinical": 12.5,
                "support_to_clinical": 16.7, "estates": 6.3, "porters": None}
        self.assertEqual([g["staff_group"] for g in b["uptake"]["groups"]], groups)
        for g, pct in want.items():
            self.assertEqual(self.group(b, g)["percent"], pct, g)
        self.assertEqual(self.group(b, "porters")["headcount"], 0)
        overall = b["uptake"]["overall"]
        self.assertEqual(overall["vaccinated"], 6)
        self.assertEqual(overall["headcount"], 36)
        self.assertEqual(overall["percent"], 16.7)
        self.assertEqual(overall["target_percent"], 80)
        self.assertIs(overall["target_met"], False)
        sites = {s["site"]: s for s in b["uptake"]["sites"]}
        self.assertEqual(sites["main"]["vaccinated"], 4)
        self.assertEqual(sites["main"]["share_percent"], 66.7)
        self.assertEqual(sites["clinic"]["share_percent"], 33.3)
        self.assertEqual(sites["clinic"]["name"], "Clinic")
        card, _ = self.card(o)
        self.assertEqual(card["summary"]["uptake_percent"], 16.7)

    def test_target_met(self):
        o = self.new_org(config=campaign(staff_groups=["doctors"], target_percent=50,
                                         headcount_override={"doctors": 4}))
        self.put_site(o, "main", expect=201)
        self.vaccinate(o, "doctors")
        self.assertIs(self.status(o)["uptake"]["overall"]["target_met"], False)
        self.vaccinate(o, "doctors")
        up = self.status(o)["uptake"]
        self.assertEqual(up["overall"]["percent"], 50.0)
        self.assertEqual(up["target_percent"], 50)
        self.assertIs(up["overall"]["target_met"], True)

    def test_sections_switched_off(self):
        o = self.new_org(config=campaign(sections={"countdown": False, "uptake": False}))
        b = self.status(o)
        self.assertNotIn("remaining", b)
        self.assertNotIn("uptake", b)
        self.assertIn("signposting", b)
        self.assertIn("ended", b)
        card, _ = self.card(o)
        # the card leaves out the same sections: nothing to tick, no uptake
        self.assertEqual(card["summary"], {"campaign": "Flu 2026"})
        self.enable(o, campaign(sections={"signposting": False}))
        card, _ = self.card(o)
        for k in ("ends_at", "ended", "uptake_percent", "target_percent"):
            self.assertIn(k, card["summary"])
        b = self.status(o)
        self.assertIn("remaining", b)
        self.assertIn("uptake", b)
        self.assertNotIn("signposting", b)
        self.enable(o, campaign(sections={"countdown": False, "uptake": False,
                                          "signposting": False}))
        b = self.status(o)
        for k in ("remaining", "uptake", "signposting"):
            self.assertNotIn(k, b)
        self.assertEqual(b["campaign"], "Flu 2026")

    def test_roles(self):
        o = self.new_org()
        self.put_site(o, "main", expect=201)
        for user in (o["emp"], o["pa"]):
            r = self.vaccinate(o, "doctors", user=user, expect=None)
            self.assert_problem(r, 403, "forbidden")
            r = self.api.put(PORTLET + "/sites/other", {"name": "x"}, token=self.tok(user))
            self.assert_problem(r, 403, "forbidden")
            r = self.api.delete(PORTLET + "/sites/main", token=self.tok(user))
            self.assert_problem(r, 403, "forbidden")
        r = self.vaccinate(o, "doctors", at="2026-11-14T09:30:00+01:00")
        v = r.body
        self.assertEqual(v["staff_group"], "doctors")
        self.assertEqual(v["site"], "main")
        self.assertEqual(v["vaccinated_at"], "2026-11-14T08:30:00Z")
        self.assertEqual(v["recorded_by"], o["oh"])
        self.assertEqual(v["recorded_at"], iso(NOW))
        self.assertIsInstance(v["id"], str)
        # every member reads
        self.assertEqual(self.status(o, o["pa"])["uptake"]["overall"]["vaccinated"], 1)
        r = self.api.get(PORTLET + "/sites", token=self.tok(o["emp"]))
        self.assertEqual(r.status, 200, repr(r))
        # no token at all
        self.assert_problem(self.api.get(PORTLET, token=""), 401)
        # audited
        r = self.api.get(API + "/orgs/%s/audit" % o["id"], token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, repr(r))
        actions = [e["action"] for e in r.body["items"]]
        self.assertIn("flu-countdown.vaccination.record", actions)
        self.assertIn("flu-countdown.site.create", actions)

    def test_other_organisation_never_counted(self):
        a = self.new_org()
        b = self.new_org()
        for i in range(3):
            self.person(a["id"], "doc%da%s" % (i, a["id"]), staff_group="doctors")
        for i in range(2):
            self.person(b["id"], "doc%db%s" % (i, b["id"]), staff_group="doctors")
        # an account with a membership in both organisations counts in A only
        shared = "shared" + a["id"]
        self.person(a["id"], shared, staff_group="doctors")
        self.add_member(b["id"], shared, PASSWORD, staff_group="estates")
        self.put_site(a, "main", expect=201)
        self.vaccinate(a, "doctors")
        self.vaccinate(a, "doctors")
        ua, ub = self.status(a), self.status(b)
        self.assertEqual(self.group(ua, "doctors")["vaccinated"], 2)
        self.assertEqual(self.group(ua, "doctors")["headcount"], 4)
        self.assertEqual(self.group(ub, "doctors")["vaccinated"], 0)
        self.assertEqual(self.group(ub, "doctors")["headcount"], 2)
        self.assertEqual(ub["uptake"]["overall"]["vaccinated"], 0)
        self.assertEqual(ub["uptake"]["sites"], [])
        self.assertEqual(ub["signposting"]["sites"], [])
        # B cannot name A's site, nor see or delete it
        r = self.vaccinate(b, "doctors", site="main", expect=None)
        self.assert_validation(r, ["/site"])
        r = self.api.get(PORTLET + "/sites", token=self.tok(b["emp"]))
        self.assertEqual(r.body["items"], [])
        r = self.api.delete(PORTLET + "/sites/main", token=self.tok(b["oh"]))
        self.assert_problem(r, 404, "not_found")
        self.assertEqual(len(self.status(a)["signposting"]["sites"]), 1)

    def test_headcount_override_given_as_whole_real(self):
        # JSON Schema's integer admits 5.0: it must count as 5, not be ignored
        o = self.new_org(config=campaign(headcount_override={"doctors": 5.0}))
        self.assertEqual(self.group(self.status(o), "doctors")["headcount"], 5)

    def test_small_counts_suppressed_for_non_admins(self):
        """A group of one doctor would show an employee (or an applicant)
        whether that doctor had the jab: counts of 1 to 4 are null with
        suppressed true for everyone but oh_admin and portal_admin."""
        o = self.new_org(config=campaign())
        org = o["id"]
        self.person(org, "d1" + org, staff_group="doctors")
        for i in range(6):
            self.person(org, "n%d%s" % (i, org), staff_group="qualified_nurses")
        self.person(org, "app" + org, staff_group="doctors", status="applicant",
                    start_date="2027-01-04")
        self.put_site(o, "main", expect=201)
        self.vaccinate(o, "doctors")
        for _ in range(5):
            self.vaccinate(o, "qualified_nurses")
        for viewer in (o["emp"], "app" + org):
            b = self.status(o, viewer)
            d = self.group(b, "doctors")
            self.assertEqual((d["vaccinated"], d["headcount"], d["percent"], d.get("suppressed")),
                             (None, None, None, True), viewer)
            n = self.group(b, "qualified_nurses")
            self.assertEqual((n["vaccinated"], n["headcount"]), (5, 6), viewer)
            self.assertNotIn("suppressed", n)
            self.assertEqual(b["uptake"]["overall"]["vaccinated"], 6)
        for admin in (o["oh"], o["pa"]):
            d = self.group(self.status(o, admin), "doctors")
            self.assertEqual((d["vaccinated"], d["headcount"]), (1, 1), admin)
            self.assertNotIn("suppressed", d)

    def test_headcount_from_people(self):
        o = self.new_org(config=campaign())
        org = o["id"]
        self.person(org, "d1" + org, staff_group="doctors")
        self.person(org, "d2" + org, staff_group="doctors")
        self.person(org, "leaver" + org, staff_group="doctors", start_date="2020-01-01",
                    termination_date="2026-10-31")
        self.person(org, "applicant" + org, staff_group="doctors", status="applicant",
                    start_date="2027-01-04")
        self.person(org, "n1" + org, staff_group="qualified_nurses")
        self.person(org, "porter" + org, staff_group="porters")
        b = self.status(o)
        self.assertEqual(self.group(b, "doctors")["headcount"], 2)
        self.assertEqual(self.group(b, "qualified_nurses")["headcount"], 1)
        self.assertEqual(self.group(b, "other_clinical")["headcount"], 0)
        self.assertIsNone(self.group(b, "other_clinical")["percent"])
        self.assertEqual(b["uptake"]["overall"]["headcount"], 3)
        # a termination date today still counts; from tomorrow it does not
        r = self.api.patch(API + "/orgs/%s/people/%s" % (org, "d2" + org),
                           {"termination_date": "2026-11-15"}, token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(self.group(self.status(o), "doctors")["headcount"], 2)
        self.set_clock(NOW + datetime.timedelta(days=1))
        self.assertEqual(self.group(self.status(o), "doctors")["headcount"], 1)
        # the override replaces the count for its group only
        self.enable(o, campaign(headcount_override={"qualified_nurses": 10, "unknown": 5}))
        b = self.status(o)
        self.assertEqual(self.group(b, "qualified_nurses")["headcount"], 10)
        self.assertEqual(self.group(b, "doctors")["headcount"], 1)
        self.assertEqual(b["uptake"]["overall"]["headcount"], 11)

    def test_headcount_follows_staff_group_patch(self):
        # the host caches headcounts; a PATCH must move them on the next read
        o = self.new_org(config=campaign())
        org = o["id"]
        self.person(org, "m1" + org, staff_group="doctors")
        self.person(org, "m2" + org, staff_group="doctors")
        b = self.status(o)
        self.assertEqual(self.group(b, "doctors")["headcount"], 2)
        self.assertEqual(self.group(b, "qualified_nurses")["headcount"], 0)
        self.assertEqual(self.group(self.status(o), "doctors")["headcount"], 2)  # cached
        r = self.api.patch(API + "/orgs/%s/people/%s" % (org, "m2" + org),
                           {"staff_group": "qualified_nurses"}, token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, repr(r))
        b = self.status(o)
        self.assertEqual(self.group(b, "doctors")["headcount"], 1)
        self.assertEqual(self.group(b, "qualified_nurses")["headcount"], 1)
        card, _ = self.card(o)
        self.assertIsNotNone(card)

    def test_vaccination_bad_input(self):
        o = self.new_org()
        self.put_site(o, "main", expect=201)
        ok = {"staff_group": "doctors", "site": "main", "vaccinated_at": iso(NOW)}
        cases = [
            ({"staff_group": "porters"}, "/staff_group"),
            ({"staff_group": 5}, "/staff_group"),
            ({"staff_group": None}, "/staff_group"),
            ({"site": "elsewhere"}, "/site"),
            ({"site": "Not A Slug"}, "/site"),
            ({"site": ["main"]}, "/site"),
            ({"vaccinated_at": "2026-09-30T23:59:59Z"}, "/vaccinated_at"),
            ({"vaccinated_at": "2026-12-01T00:00:01Z"}, "/vaccinated_at"),
            ({"vaccinated_at": iso(NOW + datetime.timedelta(seconds=1))}, "/vaccinated_at"),
            ({"vaccinated_at": "2026-11-31T10:00:00Z"}, "/vaccinated_at"),
            ({"vaccinated_at": "15/11/2026 10:00"}, "/vaccinated_at"),
            ({"vaccinated_at": "2026-11-14"}, "/vaccinated_at"),
            ({"vaccinated_at": 1763208000}, "/vaccinated_at"),
            ({"colour": "red"}, "/colour"),
        ]
        for change, pointer in cases:
            body = dict(ok)
            body.update(change)
            r = self.api.post(PORTLET + "/vaccinations", body, token=self.tok(o["oh"]))
            self.assert_validation(r, [pointer], repr(change))
        for missing in ("staff_group", "site", "vaccinated_at"):
            body = {k: v for k, v in ok.items() if k != missing}
            r = self.api.post(PORTLET + "/vaccinations", body, token=self.tok(o["oh"]))
            self.assert_validation(r, ["/" + missing], missing)
        # every mistake at once, the unknown site included
        r = self.api.post(PORTLET + "/vaccinations",
                          {"staff_group": "porters", "site": "elsewhere",
                           "vaccinated_at": "2026-09-30T23:59:59Z"}, token=self.tok(o["oh"]))
        self.assert_validation(r, ["/staff_group", "/site", "/vaccinated_at"], "all at once")
        r = self.api.post(PORTLET + "/vaccinations", raw="{not json", token=self.tok(o["oh"]))
        self.assert_problem(r, 400)
        r = self.api.post(PORTLET + "/vaccinations", [ok], token=self.tok(o["oh"]))
        self.assertIn(r.status, (400, 422), repr(r))
        # the campaign's first second and the clock's own second are fine
        self.vaccinate(o, "doctors", at=STARTS)
        self.vaccinate(o, "doctors", at=iso(NOW))
        self.assertEqual(self.status(o)["uptake"]["overall"]["vaccinated"], 2)

    def test_config_bad_input(self):
        o = self.new_org(enable=False)
        bad = [
            ({"starts_at": STARTS, "ends_at": ENDS}, "/config/campaign"),
            (campaign(ends_at="1 December"), "/config/ends_at"),
            (campaign(campaign=""), "/config/campaign"),
            (campaign(staff_groups=[]), "/config/staff_groups"),
            (campaign(staff_groups=["Doctors"]), "/config/staff_groups/0"),
            (campaign(staff_groups=["doctors", "doctors"]), "/config/staff_groups*"),
            (campaign(target_percent=101), "/config/target_percent"),
            (campaign(target_percent="80"), "/config/target_percent"),
            (campaign(sections={"countdown": "yes"}), "/config/sections/countdown"),
            (campaign(sections={"weather": True}), "/config/sections/weather"),
            (campaign(headcount_override={"doctors": -1}), "/config/headcount_override/doctors"),
            (campaign(colour="red"), "/config/colour"),
        ]
        for cfg, pointer in bad:
            r = self.enable(o, cfg, expect=None)
            self.assert_validation(r, [pointer], repr(cfg))

    def test_sites(self):
        o = self.new_org()
        sessions = [
            {"starts_at": "2026-11-20T13:00:00Z", "ends_at": "2026-11-20T15:00:00Z",
             "notes": "Ward 4"},
            {"starts_at": "2026-11-18T09:00:00+01:00", "ends_at": "2026-11-18T10:00:00Z",
             "notes": "Theatres"},
            {"starts_at": "2026-11-19T09:00:00Z", "ends_at": "2026-11-19T12:00:00Z"},
        ]
        r = self.put_site(o, "roving", name="Roving team", location="Wards", sessions=sessions,
                          expect=201)
        site = r.body
        self.assertEqual(site["id"], "roving")
        self.assertEqual([s["starts_at"] for s in site["sessions"]],
                         ["2026-11-18T08:00:00Z", "2026-11-19T09:00:00Z",
                          "2026-11-20T13:00:00Z"])
        self.assertEqual(site["sessions"][1]["notes"], "")
        created = site["created_at"]
        self.put_site(o, "atrium", name="Atrium", expect=201)

        sp = self.status(o)["signposting"]["sites"]
        self.assertEqual([s["id"] for s in sp], ["atrium", "roving"])
        self.assertEqual(sp[1]["name"], "Roving team")
        self.assertEqual(sp[1]["location"], "Wards")
        self.assertEqual([s["notes"] for s in sp[1]["sessions"]], ["Theatres", "", "Ward 4"])

        self.set_clock(NOW + datetime.timedelta(hours=1))
        r = self.put_site(o, "roving", name="Roving team 2", sessions=sessions[:1], expect=200)
        self.assertEqual(r.body["created_at"], created)
        self.assertEqual(r.body["updated_at"], iso(NOW + datetime.timedelta(hours=1)))

        r = self.api.get(PORTLET + "/sites", token=self.tok(o["emp"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual([s["id"] for s in r.body["items"]], ["atrium", "roving"])
        self.assertIsNone(r.body["next_cursor"])
        r = self.api.get(PORTLET + "/sites?limit=1", token=self.tok(o["emp"]))
        self.assertEqual([s["id"] for s in r.body["items"]], ["atrium"])
        cursor = r.body["next_cursor"]
        self.assertIsInstance(cursor, str)  # opaque: signed by the host
        r = self.api.get(PORTLET + "/sites?limit=1&cursor=" + quote(cursor),
                         token=self.tok(o["emp"]))
        self.assertEqual([s["id"] for s in r.body["items"]], ["roving"])
        self.assertIsNone(r.body["next_cursor"])
        # a cursor names a place in this organisation's list only
        other = self.new_org()
        r = self.api.get(PORTLET + "/sites?cursor=" + quote(cursor), token=self.tok(other["emp"]))
        self.assert_problem(r, 400, "bad_request")
        for q in ("limit=0", "limit=501", "limit=x", "cursor=%20bad"):
            r = self.api.get(PORTLET + "/sites?" + q, token=self.tok(o["emp"]))
            self.assert_problem(r, 400, "bad_request", q)

        r = self.api.delete(PORTLET + "/sites/atrium", token=self.tok(o["oh"]))
        self.assertEqual(r.status, 204, repr(r))
        r = self.api.delete(PORTLET + "/sites/atrium", token=self.tok(o["oh"]))
        self.assert_problem(r, 404, "not_found")
        self.assertEqual([s["id"] for s in self.status(o)["signposting"]["sites"]], ["roving"])
        # a site with vaccinations stays
        self.vaccinate(o, "doctors", site="roving", at=iso(NOW))
        r = self.api.delete(PORTLET + "/sites/roving", token=self.tok(o["oh"]))
        self.assert_problem(r, 409, "conflict")

    def test_site_bad_input(self):
        o = self.new_org()
        good = {"starts_at": "2026-11-20T13:00:00Z", "ends_at": "2026-11-20T15:00:00Z"}
        cases = [
            ("Bad_Id", {"name": "x"}, "/site"),
            ("-lead", {"name": "x"}, "/site"),
            ("a" * 65, {"name": "x"}, "/site"),
            ("ok", {}, "/name"),
            ("ok", {"name": ""}, "/name"),
            ("ok", {"name": "x" * 121}, "/name"),
            ("ok", {"name": 7}, "/name"),
            ("ok", {"name": "x", "location": "y" * 201}, "/location"),
            ("ok", {"name": "x", "sessions": {}}, "/sessions"),
            ("ok", {"name": "x", "sessions": [good] * 101}, "/sessions"),
            ("ok", {"name": "x", "sessions": [dict(good, ends_at=good["starts_at"])]},
             "/sessions/0/ends_at"),
            ("ok", {"name": "x", "sessions": [good, dict(good, starts_at="noon")]},
             "/sessions/1/starts_at"),
            ("ok", {"name": "x", "sessions": [dict(good, notes="n" * 501)]},
             "/sessions/0/notes"),
            ("ok", {"name": "x", "sessions": [dict(good, room=1)]}, "/sessions/0/room"),
            ("ok", {"name": "x", "sessions": [5]}, "/sessions/0"),
            ("ok", {"name": "x", "opening": "9-5"}, "/opening"),
        ]
        for site, body, pointer in cases:
            r = self.api.put(PORTLET + "/sites/" + site, body, token=self.tok(o["oh"]))
            self.assert_validation(r, [pointer], "%s %r" % (site, body))
        r = self.api.get(PORTLET + "/sites", token=self.tok(o["emp"]))
        self.assertEqual(r.body["items"], [])
        r = self.api.delete(PORTLET + "/sites/Bad_Id", token=self.tok(o["oh"]))
        self.assert_problem(r, 404, "not_found")
        # at the limits
        self.put_site(o, "z" * 64, name="x" * 120, location="y" * 200,
                      sessions=[dict(good, notes="n" * 500)] * 100, expect=201)


class FluDemoTest(PorticoTestCase):
    """porticod --demo sets the campaign up in demo-trust: config, two
    sites with sessions, and vaccinations that show in uptake."""
    plugins = os.environ.get("PORTICO_PLUGINS")
    server_args = ["--demo"]

    def test_demo_campaign(self):
        tok = self.token("emp.eddie", "portico-demo")
        r = self.api.get(PORTLET, token=tok)
        self.assertEqual(r.status, 200, repr(r))
        self.assertFalse(r.body["ended"])
        self.assertGreater(r.body["remaining"]["total_seconds"], 0)
        self.assertEqual({s["id"] for s in r.body["signposting"]["sites"]},
                         {"main-atrium", "roving-team"})
        # four vaccinations: too few to show an employee, exact for oh.admin
        self.assertIsNone(r.body["uptake"]["overall"]["vaccinated"])
        self.assertIs(r.body["uptake"]["overall"]["suppressed"], True)
        admin = self.api.get(PORTLET, token=self.token("oh.admin", "portico-demo"))
        self.assertEqual(admin.body["uptake"]["overall"]["vaccinated"], 4)
        self.assertGreater(admin.body["uptake"]["overall"]["headcount"], 0)
        d = self.api.get(API + "/dashboards/employee", token=tok)
        self.assertEqual(d.status, 200, repr(d))
        self.assertIn("flu-countdown", [c["id"] for c in d.body["portlets"]])


if __name__ == "__main__":
    main()
