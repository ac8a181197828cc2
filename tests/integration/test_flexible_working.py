"""flexible-working portlet: every transition and every refusal of a
statutory flexible working request, deadlines on month ends and leap years,
extensions only with agreement, overdue lists, who may act, organisation
isolation, lists, the dashboard card, the compliance report on a known data
set, and the demo data.

Runs the real porticod with --plugins $PORTICO_PLUGINS and the test clock.
Every response is also checked against the served OpenAPI document with the
contract test's own checker (test_spec_contract.Contract and its check()),
so this file is where the portlet's routes are exercised for the contract.
"""

import datetime
import itertools
import os
import sys
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portico_harness import API, PorticoTestCase, iso, main  # noqa: E402
import test_spec_contract as spec  # noqa: E402  (the contract checker, reused)

PORTLET = API + "/portlets/flexible-working"
REQS = PORTLET + "/requests"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 16, 10, 0, 0, tzinfo=UTC)  # a Monday, GMT
PASSWORD = "Flex-pass-2026!"
REASONS = ["extra_costs", "customer_demand", "reorganise_work", "recruit_staff", "quality",
           "performance", "insufficient_work", "structural_changes"]

_ids = itertools.count(1)


def d(text):
    return datetime.date.fromisoformat(text)


class FlexibleWorkingTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.api.get(API + "/openapi.json", token="")
        if r.status != 200:
            raise AssertionError("openapi.json: %r" % r)
        cls.contract = spec.Contract(r.body)
        cls.mismatches = {}
        cls.seen = set()
        cls.statuses = set()
        cls.checked = 0

    # the contract test's checker, applied to every answer of this test
    check = spec.SpecContractTest.check
    mismatch = spec.SpecContractTest.mismatch

    def fixtures(self):
        self.set_clock(NOW)
        type(self).orgs = {}

    def setUp(self):
        super().setUp()
        self._tokens = getattr(type(self), "_tokens_cache", {})
        type(self)._tokens_cache = self._tokens
        self.set_clock(NOW)

    # ------------------------------------------------------------ helpers

    def set_clock(self, when):
        super().set_clock(when)
        type(self)._tokens_cache = self._tokens = {}
        self.now = when

    def today(self):
        return self.now.date()

    def tok(self, username, org=None):
        key = (username, org)
        if key not in self._tokens:
            self._tokens[key] = self.token(username, PASSWORD, org=org)
        return self._tokens[key]

    def req(self, method, path, user, body=None, expect=None, org=None, **kw):
        r = self.api.request(method, path, body, token=self.tok(user, org) if user else "", **kw)
        self.check(method, path, r)
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s as %s: %r" % (method, path, user, r))
        return r

    def person(self, org, name, **fields):
        fields.setdefault("staff_group", "qualified_nurses")
        self.create_person(org, name, password=PASSWORD, **fields)
        return name

    def new_org(self, policy=None, enable=True, time_zone=None):
        """An organisation with a portal admin, an hr_admin, two managers
        and a colleague, the portlet enabled with `policy`."""
        n = next(_ids)
        org = "fw%d" % n
        settings = {"time_zone": time_zone} if time_zone else None
        self.create_org(org, settings=settings)
        o = {"id": org, "n": n, "people": 0}
        o["pa"] = self.person(org, "pa%d" % n, roles=["portal_admin"])
        o["hr"] = self.person(org, "hr%d" % n, roles=["hr_admin"], staff_group="admin_clerical")
        o["mgr"] = self.person(org, "mgr%d" % n, staff_group="doctors")
        o["mgr2"] = self.person(org, "mgrb%d" % n, staff_group="doctors")
        o["peer"] = self.person(org, "peer%d" % n, manager=o["mgr2"])
        if enable:
            cfg = {"policy": policy} if policy else {}
            body = {"enabled": True, "placements": [{"dashboard": "employee", "position": 1}],
                    "config": cfg}
            r = self.api.put(API + "/orgs/%s/portlets/flexible-working" % org, body,
                             token=self.tok(o["pa"]))
            self.assertIn(r.status, (200, 201), repr(r))
        return o

    def emp(self, o, manager=True, **fields):
        o["people"] += 1
        name = "e%d-%d" % (o["n"], o["people"])
        if manager:
            fields.setdefault("manager", o["mgr"])
        return self.person(o["id"], name, **fields)

    def body(self, **kw):
        b = {"change_types": ["part_time"],
             "proposed_start": (self.today() + datetime.timedelta(days=30)).isoformat(),
             "current_pattern": "Full time, 37.5h", "requested_pattern": "0.8 WTE, Mon-Thu",
             "description": "Caring for a parent", "previous_request": False}
        b.update(kw)
        return b

    def create(self, user, expect=201, **kw):
        return self.req("POST", REQS, user, self.body(**kw), expect)

    def act(self, user, rid, what, body=None, expect=200):
        return self.req("POST", "%s/%s/%s" % (REQS, rid, what), user,
                        {} if body is None else body, expect)

    def meet(self, user, rid, attended=True, good_reason=None, when=None, expect=201):
        b = {"held_at": iso(when or self.now),
             "attended": attended, "notes": "Met to talk it through"}
        if good_reason is not None:
            b["good_reason"] = good_reason
        return self.act(user, rid, "meetings", b, expect)

    def reject(self, user, rid, expect=200, reasons=("recruit_staff",)):
        return self.act(user, rid, "decision",
                        {"outcome": "rejected", "business_reasons": list(reasons),
                         "explanation": "No cover for the Friday clinic"}, expect)

    def approve(self, user, rid, expect=200):
        return self.act(user, rid, "decision", {"outcome": "approved"}, expect)

    def get(self, user, rid, expect=200):
        return self.req("GET", "%s/%s" % (REQS, rid), user, expect=expect)

    def card(self, user):
        r = self.req("GET", API + "/dashboards/employee", user, expect=200)
        for c in r.body["portlets"]:
            if c["id"] == "flexible-working":
                return c["summary"]
        self.fail("no flexible-working card: %r" % r.body)

    def report(self, o, query="", expect=200):
        return self.req("GET", PORTLET + "/report" + query, o["hr"], expect=expect)

    # ------------------------------------------------------- catalogue, gates

    def test_catalogue_and_not_enabled(self):
        r = self.req("GET", API + "/portlets", None, expect=401)
        r = self.api.get(API + "/portlets", token=self.as_admin())
        ids = {p["id"]: p for p in r.body["items"]}
        self.assertIn("flexible-working", ids)
        p = ids["flexible-working"]
        self.assertEqual(p["dashboards"], ["employee"])
        self.assertEqual(p["config_schema"]["properties"]["policy"]["default"], "statutory")

        o = self.new_org(enable=False)
        e = self.emp(o)
        self.assert_problem(self.create(e, expect=404), 404, "portlet_not_enabled")
        self.assert_problem(self.req("GET", REQS, e), 404, "portlet_not_enabled")
        self.assert_problem(self.report(o, expect=404), 404, "portlet_not_enabled")

    def test_bad_config_refused(self):
        o = self.new_org()
        r = self.api.put(API + "/orgs/%s/portlets/flexible-working" % o["id"],
                         {"enabled": True, "config": {"policy": "lenient"}},
                         token=self.tok(o["pa"]))
        self.assert_validation(r, ["/config/policy"])

    # ------------------------------------------------------ the happy paths

    def test_walk_submitted_consultation_approved(self):
        o = self.new_org()
        e = self.emp(o)
        r = self.create(e)
        rec = r.body
        rid = rec["id"]
        self.assertRegex(rid, r"^[0-9]{10}$")
        self.assertEqual(r.headers.get("Location"), "%s/%s" % (REQS, rid))
        self.assertEqual(rec["status"], "submitted")
        self.assertEqual(rec["received"], "2026-11-16")
        self.assertEqual(rec["decision_due"], "2027-01-16")
        self.assertEqual(rec["manager"], o["mgr"])
        self.assertFalse(rec["overdue"])
        self.assertEqual([(h["event"], h["from"], h["to"], h["by"]) for h in rec["history"]],
                         [("submit", None, "submitted", e)])

        r = self.meet(o["mgr"], rid)
        self.assertEqual(r.body["status"], "in_consultation")
        r = self.meet(o["mgr"], rid)  # a second meeting keeps the state
        self.assertEqual(r.body["status"], "in_consultation")
        r = self.act(o["mgr"], rid, "decision",
                     {"outcome": "approved_with_changes", "explanation": "Mon-Wed and Fri"})
        self.assertEqual(r.body["status"], "decided")
        self.assertEqual(r.body["outcome"], "approved_with_changes")
        self.assertEqual(r.body["decision"]["decided_by"], o["mgr"])
        self.assertEqual(r.body["decision"]["decided_on"], "2026-11-16")
        self.assertIsNotNone(r.body["concluded_at"])

        full = self.get(e, rid).body
        self.assertEqual([(h["event"], h["from"], h["to"]) for h in full["history"]],
                         [("submit", None, "submitted"),
                          ("meeting", "submitted", "in_consultation"),
                          ("meeting", "in_consultation", "in_consultation"),
                          ("decide", "in_consultation", "decided")])
        for h in full["history"]:
            self.assertEqual(h["at"], iso(NOW))
        self.assertEqual(full["history"][3]["by"], o["mgr"])
        self.assertEqual(full["history"][3]["outcome"], "approved_with_changes")

        # concluded: every further event is refused, naming the state
        for what, who, body in (("withdraw", e, {}), ("decision", o["mgr"],
                                                       {"outcome": "approved"}),
                                ("meetings", o["mgr"], {"held_at": iso(NOW), "attended": True}),
                                ("appeal", e, {"grounds": "x"}),
                                ("appeal/decision", o["hr"],
                                 {"outcome": "upheld", "explanation": "x"}),
                                ("treated-as-withdrawn", o["mgr"], {}),
                                ("extension", o["mgr"], {"decision_due": "2027-03-01"}),
                                ("extension/agree", e, {})):
            r = self.act(who, rid, what, body, expect=409)
            b = self.assert_problem(r, 409, "conflict", what)
            self.assertIn("decided", b["detail"], what)

        # audited, with the state and never the text
        r = self.api.get(API + "/orgs/%s/audit?limit=500" % o["id"], token=self.tok(o["pa"]))
        mine = [a for a in r.body["items"] if a.get("target") == rid]
        self.assertEqual([a["action"] for a in mine],
                         ["flexible-working.request.submit", "flexible-working.request.meeting",
                          "flexible-working.request.meeting", "flexible-working.request.decide"])
        self.assertEqual(mine[0]["actor"], e)
        self.assertEqual(mine[3]["actor"], o["mgr"])
        self.assertEqual(mine[3]["after"]["status"], "decided")
        self.assertNotIn("Caring", str(mine))

    def test_walk_rejected_appealed_upheld(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        # no consultation: refused, nothing changes
        self.assert_problem(self.reject(o["mgr"], rid, expect=409), 409, "consultation_required")
        # a missed meeting is no consultation
        self.meet(o["mgr"], rid, attended=False)
        self.assert_problem(self.reject(o["mgr"], rid, expect=409), 409, "consultation_required")
        self.assertEqual(self.get(e, rid).body["status"], "in_consultation")
        self.meet(o["mgr"], rid, attended=True)
        # reasons: at least one of the eight, with an explanation
        r = self.act(o["mgr"], rid, "decision", {"outcome": "rejected", "explanation": "x"},
                     expect=422)
        self.assert_validation(r, ["/business_reasons"])
        r = self.act(o["mgr"], rid, "decision",
                     {"outcome": "rejected", "business_reasons": ["dislike"],
                      "explanation": "x"}, expect=422)
        self.assert_validation(r, ["/business_reasons/0"])
        r = self.act(o["mgr"], rid, "decision",
                     {"outcome": "rejected", "business_reasons": ["quality"]}, expect=422)
        self.assert_validation(r, ["/explanation"])
        r = self.act(o["mgr"], rid, "decision",
                     {"outcome": "rejected", "business_reasons": ["quality"],
                      "explanation": "   "}, expect=422)
        self.assert_validation(r, ["/explanation"])
        r = self.act(o["mgr"], rid, "decision",
                     {"outcome": "approved", "business_reasons": ["quality"]}, expect=422)
        self.assert_validation(r, ["/business_reasons"])
        self.assertEqual(self.get(e, rid).body["status"], "in_consultation")

        r = self.reject(o["mgr"], rid, reasons=REASONS)
        self.assertEqual((r.body["status"], r.body["outcome"]), ("decided", "rejected"))
        self.assertEqual(r.body["decision"]["business_reasons"], REASONS)

        # only the requester appeals
        self.assert_problem(self.act(o["mgr"], rid, "appeal", {"grounds": "x"}, expect=403),
                            403, "forbidden")
        self.assert_validation(self.act(e, rid, "appeal", {}, expect=422), ["/grounds"])
        r = self.act(e, rid, "appeal", {"grounds": "A locum covers Fridays"})
        self.assertEqual(r.body["status"], "appealed")
        self.assertIsNone(r.body["concluded_at"])
        # in progress again: no new request meanwhile
        self.assert_problem(self.create(e, expect=422), 422, "request_limit_reached")
        # the first decider may not decide the appeal, nor the requester
        b = self.assert_problem(self.act(o["mgr"], rid, "appeal/decision",
                                         {"outcome": "upheld", "explanation": "ok"},
                                         expect=403), 403, "forbidden")
        self.assertIn(o["mgr"], b["detail"])
        self.assert_problem(self.act(e, rid, "appeal/decision",
                                     {"outcome": "upheld", "explanation": "ok"}, expect=403),
                            403, "forbidden")
        r = self.act(o["hr"], rid, "appeal/decision",
                     {"outcome": "upheld", "explanation": "Locum funding confirmed"})
        self.assertEqual(r.body["status"], "appeal_decided")
        self.assertEqual(r.body["appeal"]["outcome"], "upheld")
        self.assertEqual(r.body["appeal"]["decided_by"], o["hr"])
        self.assertEqual([h["event"] for h in r.body["history"]],
                         ["submit", "meeting", "meeting", "decide", "appeal", "appeal_decide"])
        self.assert_problem(self.act(e, rid, "appeal", {"grounds": "again"}, expect=409), 409,
                            "conflict")

    def test_appeal_dismissed_and_only_rejections(self):
        o = self.new_org(policy="nhs")
        e = self.emp(o)
        rid = self.create(e).body["id"]
        self.approve(o["mgr"], rid)  # approving needs no consultation
        b = self.assert_problem(self.act(e, rid, "appeal", {"grounds": "x"}, expect=409), 409,
                                "conflict")
        self.assertIn("rejected", b["detail"])
        rid = self.create(e).body["id"]
        self.meet(o["hr"], rid)  # an hr_admin may consult and decide too
        self.reject(o["hr"], rid)
        self.act(e, rid, "appeal", {"grounds": "x"})
        r = self.act(o["mgr"], rid, "appeal/decision",
                     {"outcome": "dismissed", "explanation": "The clinic needs cover"})
        self.assertEqual((r.body["status"], r.body["appeal"]["outcome"]),
                         ("appeal_decided", "dismissed"))

    def test_withdraw_from_each_open_state(self):
        o = self.new_org(policy="nhs")
        e = self.emp(o)
        rid = self.create(e).body["id"]
        self.assert_problem(self.act(o["mgr"], rid, "withdraw", expect=403), 403, "forbidden")
        r = self.act(e, rid, "withdraw", {"reason": "Childcare sorted"})
        self.assertEqual(r.body["status"], "withdrawn")
        self.assertEqual(r.body["withdrawal"]["kind"], "withdrawn")
        self.assert_problem(self.act(e, rid, "withdraw", expect=409), 409, "conflict")
        rid = self.create(e).body["id"]
        self.meet(o["mgr"], rid)
        self.assertEqual(self.act(e, rid, "withdraw").body["status"], "withdrawn")
        rid = self.create(e).body["id"]
        self.meet(o["mgr"], rid)
        self.reject(o["mgr"], rid)
        self.act(e, rid, "appeal", {"grounds": "x"})
        r = self.act(e, rid, "withdraw")
        self.assertEqual(r.body["status"], "withdrawn")
        self.assertEqual(r.body["outcome"], "rejected")  # the rejection stands
        self.assert_validation(self.act(e, rid, "withdraw", {"why": 1}, expect=422), ["/why"])

    def test_treated_as_withdrawn_after_two_missed_meetings(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        b = self.assert_problem(self.act(o["mgr"], rid, "treated-as-withdrawn", expect=409), 409,
                                "conflict")
        self.assertIn("two", b["detail"])
        self.meet(o["mgr"], rid, attended=False)
        self.meet(o["mgr"], rid, attended=False, good_reason=True)  # does not count
        self.act(o["mgr"], rid, "treated-as-withdrawn", expect=409)
        self.assert_problem(self.act(e, rid, "treated-as-withdrawn", expect=403), 403,
                            "forbidden")
        self.meet(o["mgr"], rid, attended=False, good_reason=False)
        r = self.act(o["mgr"], rid, "treated-as-withdrawn", {"notes": "Letter sent"})
        self.assertEqual(r.body["status"], "treated_as_withdrawn")
        self.assertEqual(r.body["withdrawal"]["by"], o["mgr"])
        self.assertEqual(r.body["history"][-1]["from"], "in_consultation")

    # ------------------------------------------------------------- limits

    def test_statutory_two_in_twelve_months_withdrawn_counting(self):
        o = self.new_org()
        e = self.emp(o)
        first = self.create(e).body["id"]
        self.act(e, first, "withdraw")
        self.set_clock(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        second = self.create(e).body["id"]
        self.approve(o["mgr"], second)
        self.set_clock(datetime.datetime(2027, 11, 15, 9, 0, tzinfo=UTC))
        b = self.assert_problem(self.create(e, expect=422), 422, "request_limit_reached")
        self.assertIn("12 months", b["detail"])
        # 16 November 2026 leaves the window on 16 November 2027
        self.set_clock(datetime.datetime(2027, 11, 16, 9, 0, tzinfo=UTC))
        third = self.create(e).body["id"]
        self.assertNotIn(third, (first, second))

    def test_treated_as_withdrawn_counts_too(self):
        o = self.new_org()
        e = self.emp(o)
        for _ in range(2):
            rid = self.create(e).body["id"]
            self.meet(o["mgr"], rid, attended=False)
            self.meet(o["mgr"], rid, attended=False)
            self.act(o["mgr"], rid, "treated-as-withdrawn")
        self.assert_problem(self.create(e, expect=422), 422, "request_limit_reached")

    def test_one_in_progress_under_each_policy(self):
        for policy in ("statutory", "nhs"):
            o = self.new_org(policy=policy)
            e = self.emp(o)
            rid = self.create(e).body["id"]
            b = self.assert_problem(self.create(e, expect=422), 422, "request_limit_reached")
            self.assertIn(rid, b["detail"])
            self.meet(o["mgr"], rid)
            self.create(e, expect=422)
            self.approve(o["mgr"], rid)
            self.create(e)  # concluded: a second request is fine under both

    def test_nhs_has_no_yearly_limit(self):
        o = self.new_org(policy="nhs")
        e = self.emp(o)
        for _ in range(4):
            rid = self.create(e).body["id"]
            self.assertEqual(self.act(e, rid, "withdraw").body["policy"], "nhs")
        # the same under statutory stops at two; a policy change applies to new requests
        r = self.api.put(API + "/orgs/%s/portlets/flexible-working" % o["id"],
                         {"enabled": True, "config": {"policy": "statutory"}},
                         token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.create(e, expect=422), 422, "request_limit_reached")

    def test_limits_are_per_person(self):
        o = self.new_org()
        a, b = self.emp(o), self.emp(o)
        self.create(a)
        self.create(b)

    # ------------------------------------------------------------- validation

    def test_bad_bodies_are_refused_and_nothing_stored(self):
        o = self.new_org()
        e = self.emp(o)
        cases = [
            ({"change_types": []}, ["/change_types"]),
            ({"change_types": ["four_day_week"]}, ["/change_types/0"]),
            ({"change_types": ["part_time", "part_time"]}, ["/change_types*"]),
            ({"proposed_start": "2026-02-30"}, ["/proposed_start"]),
            ({"proposed_start": "2026-11-15"}, ["/proposed_start"]),  # yesterday
            ({"current_pattern": ""}, ["/current_pattern"]),
            ({"requested_pattern": 5}, ["/requested_pattern"]),
            ({"description": "x" * 4001}, ["/description"]),
            ({"previous_request_date": "2027-01-01", "previous_request": True},
             ["/previous_request_date"]),
            ({"previous_request_date": "2026-01-01", "previous_request": False},
             ["/previous_request_date"]),
            ({"colour": "blue"}, ["/colour"]),
        ]
        for fields, pointers in cases:
            r = self.req("POST", REQS, e, self.body(**fields))
            self.assert_validation(r, pointers, repr(fields))
        r = self.req("POST", REQS, e, {"change_types": ["part_time"]})
        self.assert_validation(r, ["/proposed_start", "/current_pattern", "/requested_pattern"])
        self.assert_problem(self.req("POST", REQS, e, raw=b'{"change_types": ['), 400,
                            "bad_request")
        self.assert_problem(self.req("POST", REQS, e, raw=b"x", content_type="text/plain"), 415)
        r = self.req("GET", REQS, e, expect=200)
        self.assertEqual(r.body["items"], [])
        # an earlier request given with its date is kept
        r = self.create(e, previous_request=True, previous_request_date="2025-06-01")
        self.assertEqual((r.body["previous_request"], r.body["previous_request_date"]),
                         (True, "2025-06-01"))
        rid = r.body["id"]
        for what, body, ptr in (
                ("meetings", {"held_at": "yesterday", "attended": True}, "/held_at"),
                ("meetings", {"held_at": iso(NOW + datetime.timedelta(hours=1)),
                              "attended": True}, "/held_at"),
                ("meetings", {"held_at": iso(NOW - datetime.timedelta(days=1)),
                              "attended": True}, "/held_at"),  # before receipt
                ("meetings", {"attended": True}, "/held_at"),
                ("decision", {"outcome": "maybe"}, "/outcome"),
                ("extension", {"decision_due": "2027-01-16"}, "/decision_due"),
                ("extension", {"decision_due": "2028-01-01"}, "/decision_due"),
                ("extension", {"decision_due": "soon"}, "/decision_due")):
            self.assert_validation(self.act(o["mgr"], rid, what, body, expect=422), [ptr], what)
        self.assertEqual(len(self.get(e, rid).body["history"]), 1)

    def test_applicants_may_not_ask(self):
        o = self.new_org()
        a = self.person(o["id"], "app%d" % o["n"], status="applicant",
                        start_date=(self.today() + datetime.timedelta(days=20)).isoformat())
        self.assert_problem(self.create(a, expect=403), 403, "forbidden")

    def test_unknown_request_is_not_found(self):
        o = self.new_org()
        e = self.emp(o)
        for rid in ("0000009999", "42", "abc", "..%2F"):
            self.assert_problem(self.get(e, rid, expect=404), 404, "not_found")
        self.assert_problem(self.act(o["mgr"], "0000009999", "decision", {"outcome": "approved"},
                                     expect=404), 404, "not_found")

    # ------------------------------------------------------------- who may act

    def test_manager_of_another_team_and_colleagues_refused(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        for who in (o["mgr2"], o["peer"], self.emp(o)):
            self.assert_problem(self.meet(who, rid, expect=403), 403, "forbidden")
            self.assert_problem(self.approve(who, rid, expect=403), 403, "forbidden")
            self.assert_problem(self.get(who, rid, expect=403), 403, "forbidden")
            self.assert_problem(self.act(who, rid, "extension", {"decision_due": "2027-02-01"},
                                         expect=403), 403, "forbidden")
        self.get(o["mgr"], rid)
        self.get(o["hr"], rid)
        self.assertEqual(self.get(e, rid).body["status"], "submitted")

    def test_nobody_decides_their_own_request(self):
        o = self.new_org()
        # an hr_admin with a manager asks: no role lets them decide it
        hr2 = self.person(o["id"], "hrself%d" % o["n"], roles=["hr_admin"], manager=o["mgr"])
        rid = self.create(hr2).body["id"]
        b = self.assert_problem(self.approve(hr2, rid, expect=403), 403, "forbidden")
        self.assertIn("own", b["detail"])
        self.assert_problem(self.meet(hr2, rid, expect=403), 403, "forbidden")
        self.approve(o["hr"], rid)

    def test_manager_follows_the_person_record(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        r = self.api.patch(API + "/orgs/%s/people/%s" % (o["id"], e), {"manager": o["mgr2"]},
                           token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, r)
        self.assert_problem(self.meet(o["mgr"], rid, expect=403), 403, "forbidden")
        r = self.meet(o["mgr2"], rid)
        self.assertEqual(r.body["manager"], o["mgr2"])
        items = self.req("GET", REQS + "?scope=team", o["mgr2"], expect=200).body["items"]
        self.assertEqual([i["id"] for i in items], [rid])
        self.assertEqual(self.req("GET", REQS + "?scope=team", o["mgr"],
                                  expect=200).body["items"], [])

    def test_another_organisation_sees_nothing(self):
        a, b = self.new_org(), self.new_org()
        e = self.emp(a)
        rid = self.create(e).body["id"]
        self.assert_problem(self.get(b["hr"], rid, expect=404), 404, "not_found")
        self.assert_problem(self.approve(b["hr"], rid, expect=404), 404, "not_found")
        self.assert_problem(self.act(b["hr"], rid, "withdraw", expect=404), 404, "not_found")
        r = self.req("GET", REQS + "?scope=org", b["hr"], expect=200)
        self.assertEqual(r.body["items"], [])
        self.assertEqual(self.report(b).body["total"], 0)
        self.assertEqual(self.report(a).body["total"], 1)

    # ------------------------------------------------------------- dates

    def due_for(self, when, tz=None):
        o = self.new_org(time_zone=tz)
        self.set_clock(when)
        r = self.create(self.emp(o))
        return r.body["received"], r.body["decision_due"]

    def test_decision_due_on_month_ends_and_leap_years(self):
        cases = [
            (datetime.datetime(2026, 12, 31, 12, tzinfo=UTC), ("2026-12-31", "2027-02-28")),
            (datetime.datetime(2027, 12, 31, 12, tzinfo=UTC), ("2027-12-31", "2028-02-29")),
            (datetime.datetime(2026, 8, 30, 12, tzinfo=UTC), ("2026-08-30", "2026-10-30")),
            (datetime.datetime(2026, 12, 30, 12, tzinfo=UTC), ("2026-12-30", "2027-02-28")),
            (datetime.datetime(2028, 2, 29, 12, tzinfo=UTC), ("2028-02-29", "2028-04-29")),
        ]
        for when, want in cases:
            self.assertEqual(self.due_for(when), want, when)

    def tz_supported(self):
        r = self.api.post(API + "/orgs", {"id": "fwtz%d" % next(_ids), "name": "TZ",
                                          "settings": {"time_zone": "Europe/London"}},
                          token=self.as_admin())
        return r.status == 201

    def test_received_is_the_organisations_local_date(self):
        if not self.tz_supported():
            self.skipTest("this host has no organisation time_zone setting")
        # 23:30 UTC on 30 August is 31 August in London (BST)
        when = datetime.datetime(2026, 8, 30, 23, 30, tzinfo=UTC)
        self.assertEqual(self.due_for(when), ("2026-08-31", "2026-10-31"))
        when = datetime.datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # 1 Jan 09:00 in Auckland
        self.assertEqual(self.due_for(when, tz="Pacific/Auckland"), ("2027-01-01", "2027-03-01"))

    def test_extension_needs_the_employees_agreement(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        self.assert_problem(self.act(e, rid, "extension/agree", expect=409), 409, "conflict")
        self.assert_problem(self.act(e, rid, "extension", {"decision_due": "2027-02-16"},
                                     expect=403), 403, "forbidden")
        r = self.act(o["mgr"], rid, "extension", {"decision_due": "2027-02-16",
                                                  "reason": "Occupational health report"})
        self.assertEqual(r.body["decision_due"], "2027-01-16")  # not until agreed
        self.assertIsNone(r.body["extension"]["agreed_at"])
        self.assertEqual(r.body["extension"]["proposed_due"], "2027-02-16")
        self.assert_problem(self.act(o["mgr"], rid, "extension/agree", expect=403), 403,
                            "forbidden")
        # not agreed: overdue from the original date
        self.set_clock(datetime.datetime(2027, 1, 17, 9, 0, tzinfo=UTC))
        self.assertTrue(self.get(e, rid).body["overdue"])
        r = self.act(e, rid, "extension/agree")
        self.assertEqual(r.body["decision_due"], "2027-02-16")
        self.assertEqual(r.body["extension"]["previous_due"], "2027-01-16")
        self.assertIsNotNone(r.body["extension"]["agreed_at"])
        self.assertFalse(r.body["overdue"])
        self.assertEqual([h["event"] for h in r.body["history"]],
                         ["submit", "extension_propose", "extension_agree"])
        self.assert_problem(self.act(e, rid, "extension/agree", expect=409), 409, "conflict")
        self.assertEqual(self.report(o).body["overdue"]["count"], 0)

    def test_overdue_listing_and_cards(self):
        o = self.new_org()
        late, fresh = self.emp(o), self.emp(o)
        rid_late = self.create(late).body["id"]
        self.set_clock(datetime.datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
        rid_fresh = self.create(fresh).body["id"]
        # due 16 January: on that day not overdue yet, the day after it is
        self.set_clock(datetime.datetime(2027, 1, 16, 9, 0, tzinfo=UTC))
        self.assertFalse(self.get(late, rid_late).body["overdue"])
        self.assertEqual(self.report(o).body["overdue"]["count"], 0)
        self.set_clock(datetime.datetime(2027, 1, 17, 9, 0, tzinfo=UTC))
        self.assertTrue(self.get(late, rid_late).body["overdue"])
        rep = self.report(o, "?from=2026-11-01&to=2027-01-17").body
        self.assertEqual(rep["overdue"]["count"], 1)
        item = rep["overdue"]["items"][0]
        self.assertEqual((item["id"], item["days_overdue"], item["requester"]),
                         (rid_late, 1, late))
        # the range filters on the date received
        self.assertEqual(self.report(o, "?from=2026-12-01&to=2027-01-17").body["overdue"]
                         ["count"], 0)

        card = self.card(late)
        self.assertEqual(card["my_request"]["id"], rid_late)
        self.assertEqual(card["my_request"]["decision_due"], "2027-01-16")
        self.assertTrue(card["my_request"]["overdue"])
        self.assertEqual(card["awaiting_my_decision"]["count"], 0)
        mc = self.card(o["mgr"])
        self.assertIsNone(mc["my_request"])
        self.assertEqual(mc["awaiting_my_decision"]["count"], 2)
        self.assertEqual(mc["awaiting_my_decision"]["overdue"], 1)
        self.assertEqual([i["id"] for i in mc["awaiting_my_decision"]["items"]],
                         [rid_late, rid_fresh])
        self.assertEqual(self.card(o["mgr2"])["awaiting_my_decision"]["count"], 0)

        # a decision ends overdue, the card and the list
        self.approve(o["mgr"], rid_late)
        self.assertFalse(self.get(late, rid_late).body["overdue"])
        self.assertEqual(self.report(o, "?from=2026-11-01").body["overdue"]["count"], 0)
        self.assertIsNone(self.card(late)["my_request"])
        self.assertEqual(self.card(o["mgr"])["awaiting_my_decision"]["count"], 1)

    def test_dashboard_card_keeps_its_etag(self):
        o = self.new_org()
        e = self.emp(o)
        self.create(e)
        r = self.req("GET", API + "/dashboards/employee", e, expect=200)
        etag = r.headers.get("ETag")
        self.assertTrue(etag)
        self.req("GET", API + "/dashboards/employee", e, expect=304,
                 headers={"If-None-Match": etag})

    def test_get_has_etag(self):
        o = self.new_org()
        e = self.emp(o)
        rid = self.create(e).body["id"]
        r = self.get(e, rid)
        etag = r.headers.get("ETag")
        self.assertTrue(etag)
        self.req("GET", "%s/%s" % (REQS, rid), e, expect=304, headers={"If-None-Match": etag})
        self.meet(o["mgr"], rid)
        self.req("GET", "%s/%s" % (REQS, rid), e, expect=200, headers={"If-None-Match": etag})

    # ------------------------------------------------------------- lists

    def test_lists_by_scope_status_and_pages(self):
        o = self.new_org(policy="nhs")
        a, b = self.emp(o), self.emp(o)
        other = self.emp(o, manager=False)
        ra1 = self.create(a).body["id"]
        self.act(a, ra1, "withdraw")
        ra2 = self.create(a).body["id"]
        rb = self.create(b).body["id"]
        ro = self.create(other).body["id"]
        ids = lambda r: [i["id"] for i in r.body["items"]]  # noqa: E731
        self.assertEqual(ids(self.req("GET", REQS, a, expect=200)), [ra2, ra1])  # newest first
        self.assertEqual(ids(self.req("GET", REQS + "?scope=mine&status=withdrawn", a,
                                      expect=200)), [ra1])
        self.assertEqual(ids(self.req("GET", REQS + "?scope=team", o["mgr"], expect=200)),
                         [rb, ra2, ra1])
        self.assertEqual(ids(self.req("GET", REQS + "?scope=team&status=submitted", o["mgr"],
                                      expect=200)), [rb, ra2])
        self.assertEqual(ids(self.req("GET", REQS + "?scope=team", a, expect=200)), [])
        self.assertEqual(ids(self.req("GET", REQS + "?scope=org", o["hr"], expect=200)),
                         [ro, rb, ra2, ra1])
        self.assertEqual(ids(self.req("GET", REQS + "?scope=org&status=withdrawn", o["hr"],
                                      expect=200)), [ra1])
        item = self.req("GET", REQS + "?scope=org", o["hr"], expect=200).body["items"][0]
        self.assertNotIn("history", item)
        self.assertIn("decision_due", item)
        # pages
        seen, cursor = [], None
        while True:
            q = "?scope=org&limit=1" + ("&cursor=" + quote(cursor) if cursor else "")
            r = self.req("GET", REQS + q, o["hr"], expect=200)
            seen += ids(r)
            cursor = r.body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, [ro, rb, ra2, ra1])
        # refusals
        self.assert_problem(self.req("GET", REQS + "?scope=org", o["mgr"]), 403, "forbidden")
        self.assert_problem(self.req("GET", REQS + "?scope=everyone", a), 400, "bad_request")
        self.assert_problem(self.req("GET", REQS + "?status=approved", a), 400, "bad_request")
        self.assert_problem(self.req("GET", REQS + "?limit=0", a), 400, "bad_request")
        self.assert_problem(self.req("GET", REQS + "?cursor=forged", a), 400, "bad_request")
        self.assert_problem(self.req("GET", REQS, None), 401)

    # ------------------------------------------------------------- the report

    def test_report_on_a_known_data_set(self):
        o = self.new_org(policy="nhs")
        nurses = [self.emp(o, staff_group="qualified_nurses") for _ in range(5)]
        doctors = [self.emp(o, staff_group="doctors") for _ in range(2)]
        nogroup = self.emp(o, staff_group=...)
        # 16 Nov: five nurses ask
        r = [self.create(n, change_types=["part_time", "flexitime"]).body["id"]
             for n in nurses]
        # decided 10 days later: approved, approved, with changes; one rejected then upheld
        self.set_clock(datetime.datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
        self.approve(o["mgr"], r[0])
        self.approve(o["mgr"], r[1])
        self.act(o["mgr"], r[2], "decision", {"outcome": "approved_with_changes",
                                               "explanation": "Three days not four"})
        self.meet(o["mgr"], r[3])
        self.reject(o["mgr"], r[3])
        # 30 days after receipt: the last nurse is rejected; 20 days: the appeal is upheld
        self.set_clock(datetime.datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
        self.act(nurses[3], r[3], "appeal", {"grounds": "x"})
        self.act(o["hr"], r[3], "appeal/decision", {"outcome": "upheld", "explanation": "ok"})
        self.set_clock(datetime.datetime(2026, 12, 16, 9, 0, tzinfo=UTC))
        self.meet(o["mgr"], r[4])
        self.reject(o["mgr"], r[4])
        # 16 Dec: the doctors and the person with no staff group ask; one withdraws
        d = [self.create(x, change_types=["remote_or_hybrid"]).body["id"]
             for x in doctors + [nogroup]]
        self.act(doctors[1], d[1], "withdraw")

        rep = self.report(o, "?from=2026-11-01&to=2026-12-31").body
        self.assertEqual((rep["from"], rep["to"], rep["total"]), ("2026-11-01", "2026-12-31", 8))
        self.assertEqual(rep["by_status"], {"submitted": 2, "in_consultation": 0, "decided": 4,
                                            "appealed": 0, "appeal_decided": 1, "withdrawn": 1,
                                            "treated_as_withdrawn": 0})
        self.assertEqual(rep["by_outcome"], {"approved": 2, "approved_with_changes": 1,
                                             "rejected": 2})
        self.assertEqual(rep["appeals"], {"upheld": 1, "dismissed": 0})
        self.assertEqual(rep["final_outcomes"], {"approved": 4, "rejected": 1})
        self.assertEqual(rep["decided"], 5)
        self.assertEqual(rep["approval_rate_percent"], 80.0)
        self.assertEqual(rep["median_days_to_decision"], 10)  # 10 10 10 10 30
        ct = rep["by_change_type"]
        self.assertEqual((ct["part_time"], ct["flexitime"], ct["remote_or_hybrid"], ct["other"]),
                         (5, 5, 3, 0))
        self.assertEqual(rep["by_staff_group"], [
            {"staff_group": "doctors", "count": None, "suppressed": True},
            {"staff_group": "qualified_nurses", "count": 5, "suppressed": False},
            {"staff_group": "unassigned", "count": None, "suppressed": True}])
        self.assertEqual(rep["suppressed_below"], 5)
        self.assertEqual(rep["overdue"], {"count": 0, "items": []})

        # from/to filter on the date received
        rep = self.report(o, "?from=2026-12-01&to=2026-12-31").body
        self.assertEqual(rep["total"], 3)
        self.assertIsNone(rep["median_days_to_decision"])
        self.assertIsNone(rep["approval_rate_percent"])
        rep = self.report(o, "?from=2026-11-16&to=2026-11-16").body
        self.assertEqual(rep["total"], 5)
        self.assertEqual(rep["median_days_to_decision"], 10)
        # default range: the 12 months up to today
        self.assertEqual(self.report(o).body["total"], 8)
        self.assertEqual(self.report(o).body["to"], "2026-12-16")
        self.assertEqual(self.report(o).body["from"], "2025-12-17")

        # refusals
        for q in ("?from=2026-13-01", "?to=yesterday", "?from=2026-12-31&to=2026-12-01",
                  "?from=2000-01-01&to=2026-12-01"):
            self.assert_problem(self.report(o, q, expect=400), 400, "bad_request", q)
        for who in (o["mgr"], nurses[0], o["pa"]):
            self.assert_problem(self.req("GET", PORTLET + "/report", who), 403, "forbidden")

    # ------------------------------------------------------------- the contract

    def test_zz_every_answer_matches_the_spec(self):
        """Runs last: everything above was checked against the served
        document; every flexible-working operation answered 2xx."""
        problems = ["%s  %s  %s" % k for k in self.mismatches]
        ok_ops = {(t, m) for t, m, s in self.seen if 200 <= s < 300}
        missing = sorted("%s %s" % (m, t) for t, m in self.contract.operations()
                         if t.startswith(PORTLET) and (t, m) not in ok_ops)
        self.assertFalse(problems, "responses that do not match api_spec:\n  " +
                         "\n  ".join(problems))
        self.assertFalse(missing, "operations never answered 2xx: %s" % missing)


class FlexibleWorkingDemoTest(PorticoTestCase):
    """porticod --demo: requests in several states, one overdue, one appealed."""

    plugins = os.environ.get("PORTICO_PLUGINS")
    server_args = ["--demo"]

    def test_demo_requests(self):
        eddie = self.token("emp.eddie", "portico-demo")
        r = self.api.get(API + "/dashboards/employee", token=eddie)
        self.assertEqual(r.status, 200, r)
        card = [c for c in r.body["portlets"] if c["id"] == "flexible-working"][0]["summary"]
        self.assertEqual(card["my_request"]["status"], "in_consultation")
        self.assertTrue(card["my_request"]["overdue"])

        mary = self.token("manager.mary", "portico-demo")
        r = self.api.get(API + "/dashboards/employee", token=mary)
        card = [c for c in r.body["portlets"] if c["id"] == "flexible-working"][0]["summary"]
        waiting = card["awaiting_my_decision"]
        self.assertEqual(waiting["count"], 2)
        self.assertEqual(waiting["overdue"], 1)
        self.assertEqual(waiting["items"][0]["requester"], "emp.eddie")
        self.assertEqual(waiting["items"][1]["status"], "appealed")

        hr = self.token("hr.admin", "portico-demo")
        r = self.api.get(PORTLET + "/report?from=2000-01-01", token=hr)
        self.assertEqual(r.status, 400, r)  # more than 3660 days
        r = self.api.get(REQS + "?scope=org", token=hr)
        self.assertEqual(r.status, 200, r)
        states = sorted(i["status"] for i in r.body["items"])
        self.assertEqual(states, ["appealed", "decided", "in_consultation", "submitted",
                                  "withdrawn"])
        r = self.api.get(PORTLET + "/report", token=hr)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["total"], 5)
        self.assertEqual(r.body["overdue"]["count"], 1)
        self.assertEqual(r.body["by_status"]["appealed"], 1)
        # the appeal is decided by someone other than manager.mary
        appealed = [i for i in self.api.get(REQS + "?scope=org&status=appealed",
                                            token=hr).body["items"]][0]
        r = self.api.post("%s/%s/appeal/decision" % (REQS, appealed["id"]),
                          {"outcome": "dismissed", "explanation": "x"}, token=mary)
        self.assert_problem(r, 403, "forbidden")


if __name__ == "__main__":
    unittest.main(verbosity=2)
