"""applicant-welcome portlet: draft and published content, versions and
restore, accessibility checks (contrast, alt text), safe text and URLs,
review dates, the applicant view and checklist progress, interactions,
analytics with small-number suppression, roles, and organisation isolation.

Runs the real porticod with --plugins $PORTICO_PLUGINS and the test clock.
Tests that count build their own organisation so counts never leak.
"""

import copy
import datetime
import itertools
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portico_harness import API, PorticoTestCase, iso, main  # noqa: E402

PORTLET = API + "/portlets/applicant-welcome"
CONTENT = PORTLET + "/content"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
TODAY = "2026-11-15"
PASSWORD = "Welcome-pass-2026!"
START = "2027-01-04"

_ids = itertools.count(1)

GOOD = {
    "headline": "Welcome to the trust",
    "welcome_video": {"url": "https://media.example.org/ceo.mp4",
                      "title": "A welcome from our chief executive",
                      "captions_url": "https://media.example.org/ceo.vtt"},
    "services": [
        {"name": "Royal Infirmary", "description": "Our acute hospital.\nOpen 24 hours.",
         "url": "https://example.org/ri"},
        {"name": "Occupational health", "description": "Health checks and support."},
    ],
    "area_map": {"image_url": "https://example.org/map.png",
                 "alt_text": "Map of the area with the hospital in the centre"},
    "branding": {"primary_colour": "#005EB8", "secondary_colour": "#003087",
                 "text_colour": "#FFFFFF", "logo_url": "https://example.org/logo.svg",
                 "logo_alt_text": "Trust logo"},
    "checklist": [
        {"id": "personal-information", "title": "Complete your personal information",
         "kind": "personal_info"},
        {"id": "right-to-work", "title": "Upload your right-to-work documents",
         "kind": "document"},
        {"id": "fire-safety", "title": "Fire Safety", "kind": "training",
         "url": "https://example.org/fire"},
    ],
}


def content(**changes):
    c = copy.deepcopy(GOOD)
    for k, v in changes.items():
        if v is Ellipsis:
            c.pop(k, None)
        else:
            c[k] = v
    return c


class WelcomeTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    def setUp(self):
        super().setUp()
        self._tokens = getattr(self, "_tokens", {})
        if getattr(type(self), "_clock", None) != NOW:
            self.set_clock(NOW)

    # ------------------------------------------------------------ helpers

    def set_clock(self, when):
        super().set_clock(when)
        type(self)._clock = when
        self._tokens = {}

    def tok(self, username):
        if username not in self._tokens:
            self._tokens[username] = self.token(username, PASSWORD)
        return self._tokens[username]

    def person(self, org, name, **fields):
        fields.setdefault("staff_group", "admin_clerical")
        self.create_person(org, name, password=PASSWORD, **fields)
        return name

    def new_org(self, applicants=2, enable=True, config=None):
        """An organisation with a portal admin, a content admin, an
        employee, a leaver and some applicants; the portlet enabled."""
        n = next(_ids)
        org = "aw%d" % n
        self.create_org(org)
        o = {
            "id": org,
            "pa": self.person(org, "awpa%d" % n, roles=["portal_admin"]),
            "ca": self.person(org, "awca%d" % n, roles=["content_admin"]),
            "emp": self.person(org, "awemp%d" % n),
            "leaver": self.person(org, "awlv%d" % n, start_date="2020-01-01",
                                  termination_date="2026-11-10"),
            "apps": [self.person(org, "awapp%d_%d" % (n, i), status="applicant",
                                 start_date=START) for i in range(applicants)],
        }
        if enable:
            self.enable(o, config)
        return o

    def enable(self, o, config=None, expect=200):
        body = {"enabled": True, "placements": [{"dashboard": "applicant", "position": 1},
                                                {"dashboard": "employee", "position": 1}]}
        if config is not None:
            body["config"] = config
        r = self.api.put(API + "/orgs/%s/portlets/applicant-welcome" % o["id"], body,
                         token=self.tok(o["pa"]))
        self.assertIn(r.status, (200, 201) if expect == 200 else (expect,), repr(r))
        return r

    def put_content(self, o, body, user=None, expect=200, headers=None):
        r = self.api.put(CONTENT, body, token=self.tok(user or o["ca"]), headers=headers)
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def publish(self, o, user=None, expect=201, headers=None):
        r = self.api.post(CONTENT + "/publish", token=self.tok(user or o["ca"]), headers=headers)
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def view(self, o, user, expect=200):
        r = self.api.get(PORTLET, token=self.tok(user))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def interact(self, user, target, action, expect=201):
        r = self.api.post(PORTLET + "/interactions", {"target": target, "action": action},
                          token=self.tok(user))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def complete(self, user, item, expect=200, undo=False):
        path = PORTLET + "/checklist/%s/complete" % item
        r = (self.api.delete(path, token=self.tok(user)) if undo
             else self.api.post(path, token=self.tok(user)))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def analytics(self, o, query="", user=None, expect=200):
        r = self.api.get(PORTLET + "/analytics" + query, token=self.tok(user or o["ca"]))
        if expect is not None:
            self.assertEqual(r.status, expect, repr(r))
        return r

    def card(self, user, dashboard):
        r = self.api.get(API + "/dashboards/" + dashboard, token=self.tok(user))
        self.assertEqual(r.status, 200, repr(r))
        for c in r.body["portlets"]:
            if c["id"] == "applicant-welcome":
                return c
        return None

    # --------------------------------------------------------------- tests

    def test_catalogue_lists_portlet(self):
        r = self.api.get(API + "/portlets", token=self.as_admin())
        self.assertEqual(r.status, 200, repr(r))
        ids = {p["id"]: p for p in r.body["items"]}
        self.assertIn("applicant-welcome", ids)
        self.assertEqual(sorted(ids["applicant-welcome"]["dashboards"]),
                         ["applicant", "employee"])

    def test_new_organisation_starts_with_default_checklist(self):
        o = self.new_org(applicants=0)
        r = self.api.get(CONTENT, token=self.tok(o["ca"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertIsNone(r.body["published"])
        d = r.body["draft"]
        self.assertTrue(d["is_default"])
        items = d["content"]["checklist"]
        titles = [i["title"] for i in items]
        self.assertEqual(len(items), 13)
        self.assertEqual(titles[0], "Complete your personal information")
        self.assertEqual(titles[1], "Upload your right-to-work documents")
        self.assertEqual(sum(1 for i in items if i["kind"] == "training"), 11)
        for subject in ("Fire Safety", "Resuscitation", "Safeguarding Children",
                        "Information Governance and Data Security"):
            self.assertIn(subject, titles)
        # a portal admin may edit too; publishing the default publishes it
        r = self.publish(o, user=o["pa"])
        self.assertEqual(r.body["version"], 1)
        self.assertEqual(len(r.body["content"]["checklist"]), 13)

    def test_draft_invisible_until_published(self):
        o = self.new_org()
        app = o["apps"][0]
        self.put_content(o, content(headline="First headline"))
        r = self.view(o, app, expect=404)
        self.assert_problem(r, 404, "not_found")
        self.assertNotIn("First headline", r.raw.decode())
        # the applicant dashboard has no card yet
        self.assertIsNone(self.card(app, "applicant"))
        r = self.publish(o)
        self.assertEqual(r.body["version"], 1)
        self.assertEqual(r.headers["Location"], CONTENT + "/versions/1")
        self.assertEqual(r.body["published_by"], o["ca"])
        self.assertEqual(self.view(o, app).body["content"]["headline"], "First headline")
        # a second draft does not hide (or change) the published version
        self.put_content(o, content(headline="Second draft"))
        v = self.view(o, app).body
        self.assertEqual(v["content"]["headline"], "First headline")
        self.assertEqual(v["version"], 1)
        self.assertNotIn("Second draft", str(v))
        both = self.api.get(CONTENT, token=self.tok(o["ca"])).body
        self.assertEqual(both["draft"]["content"]["headline"], "Second draft")
        self.assertEqual(both["published"]["content"]["headline"], "First headline")
        self.assertTrue(both["draft"]["unpublished_changes"])
        self.publish(o)
        self.assertEqual(self.view(o, app).body["content"]["headline"], "Second draft")

    def test_versions_list_and_restore(self):
        o = self.new_org(applicants=1)
        for i in range(1, 4):
            self.put_content(o, content(headline="Headline %d" % i))
            self.publish(o)
        r = self.api.get(CONTENT + "/versions?limit=2", token=self.tok(o["ca"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual([v["version"] for v in r.body["items"]], [3, 2])
        self.assertEqual(r.body["items"][0]["headline"], "Headline 3")
        self.assertEqual(r.body["items"][0]["published_by"], o["ca"])
        self.assertIsInstance(r.body["next_cursor"], str)
        r2 = self.api.get(CONTENT + "/versions?limit=2&cursor=" + r.body["next_cursor"],
                          token=self.tok(o["ca"]))
        self.assertEqual([v["version"] for v in r2.body["items"]], [1])
        self.assertIsNone(r2.body["next_cursor"])
        self.assert_problem(self.api.get(CONTENT + "/versions?cursor=garbage",
                                         token=self.tok(o["ca"])), 400)
        r = self.api.get(CONTENT + "/versions/2", token=self.tok(o["ca"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["content"]["headline"], "Headline 2")
        # restore makes version 1 the draft; the published version stays
        r = self.api.post(CONTENT + "/versions/1/restore", token=self.tok(o["ca"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["content"]["headline"], "Headline 1")
        self.assertEqual(r.body["restored_from"], 1)
        self.assertEqual(self.view(o, o["apps"][0]).body["content"]["headline"], "Headline 3")
        r = self.publish(o)
        self.assertEqual(r.body["version"], 4)
        self.assertEqual(r.body["restored_from"], 1)
        self.assertEqual(self.view(o, o["apps"][0]).body["content"]["headline"], "Headline 1")
        for bad in ("99", "0", "abc", "01"):
            self.assert_problem(self.api.post(CONTENT + "/versions/%s/restore" % bad,
                                              token=self.tok(o["ca"])), 404, "not_found")
            self.assert_problem(self.api.get(CONTENT + "/versions/" + bad,
                                             token=self.tok(o["ca"])), 404, "not_found")
        # publish and restore are audited
        r = self.api.get(API + "/orgs/%s/audit" % o["id"], token=self.tok(o["pa"]))
        self.assertEqual(r.status, 200, repr(r))
        actions = [e["action"] for e in r.body["items"]]
        self.assertIn("applicant-welcome.content.publish", actions)
        self.assertIn("applicant-welcome.content.restore", actions)

    def test_contrast_refused_and_accepted(self):
        o = self.new_org(applicants=1)
        bad = content(branding={"primary_colour": "#FFFF00", "secondary_colour": "#003087",
                                "text_colour": "#FFFFFF"})
        r = self.put_content(o, bad, expect=422)
        errs = self.assert_validation(r, ["/branding/primary_colour", "/branding/text_colour"])
        self.assertTrue(any("1.07" in e["message"] for e in errs), errs)
        bad["branding"]["primary_colour"] = "#005EB8"
        bad["branding"]["secondary_colour"] = "#41B6E6"
        self.assert_validation(self.put_content(o, bad, expect=422),
                               ["/branding/secondary_colour"])
        # nothing was stored
        d = self.api.get(CONTENT, token=self.tok(o["ca"])).body["draft"]
        self.assertTrue(d["is_default"])
        # white on NHS blue passes, and the view says what was checked
        ok = content(branding={"primary_colour": "#005EB8", "secondary_colour": "#003087",
                               "text_colour": "#FFFFFF"})
        r = self.put_content(o, ok)
        self.assertEqual(r.body["contrast"]["text_on_primary"], 6.37)
        self.publish(o)
        c = self.view(o, o["apps"][0]).body["contrast"]
        self.assertEqual(c["minimum"], 4.5)
        self.assertEqual(c["text_on_primary"], 6.37)
        self.assertEqual(c["text_on_secondary"], 11.84)
        self.assertEqual(c["standard"], "WCAG 2.1 AA")
        # colours are #RRGGBB only
        for colour in ("#FFF", "white", "#GGGGGG", "rgb(0,0,0)"):
            b = content()
            b["branding"]["text_colour"] = colour
            self.assert_validation(self.put_content(o, b, expect=422), ["/branding/text_colour"])

    def test_images_need_alt_text(self):
        o = self.new_org(applicants=0)
        self.assert_validation(
            self.put_content(o, content(area_map={"image_url": "https://example.org/m.png"}),
                             expect=422), ["/area_map/alt_text"])
        self.assert_validation(
            self.put_content(o, content(area_map={"image_url": "https://example.org/m.png",
                                                  "alt_text": "   "}), expect=422),
            ["/area_map/alt_text"])
        b = content()
        del b["branding"]["logo_alt_text"]
        self.assert_validation(self.put_content(o, b, expect=422), ["/branding/logo_alt_text"])

    def test_unsafe_urls_and_markup_refused(self):
        o = self.new_org(applicants=0)
        self.put_content(o, content())
        before = self.api.get(CONTENT, token=self.tok(o["ca"])).body["draft"]["revision"]
        for url in ("javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                    "http://example.org/ceo.mp4", "JavaScript:alert(1)", "https://",
                    "https://user@evil.example/", "https://example.org/a b", "ftp://x.org/f"):
            b = content()
            b["welcome_video"]["url"] = url
            self.assert_validation(self.put_content(o, b, expect=422), ["/welcome_video/url"],
                                   url)
            b = content()
            b["services"][0]["url"] = url
            self.assert_validation(self.put_content(o, b, expect=422), ["/services/0/url"], url)
            b = content()
            b["area_map"]["image_url"] = url
            self.assert_validation(self.put_content(o, b, expect=422),
                                   ["/area_map/image_url"], url)
        for text in ("<b>Welcome</b>", "Hi <script>alert(1)</script>", "<!-- x -->",
                     "bell\u0007", "two\nlines", "rlo\u202egnp.exe"):
            self.assert_validation(self.put_content(o, content(headline=text), expect=422),
                                   ["/headline"], repr(text))
        b = content()
        b["checklist"][1]["title"] = "<img src=x onerror=alert(1)>"
        self.assert_validation(self.put_content(o, b, expect=422), ["/checklist/1/title"])
        # plain text that merely mentions '<' is fine; descriptions may hold line feeds
        self.put_content(o, content(headline="Parking: 2 < 3 spaces & more"))
        # unknown fields, wrong kinds, bad ids, duplicates, oversized lists
        self.assert_validation(self.put_content(o, content(extra=1), expect=422), ["/extra"])
        b = content()
        b["checklist"][0]["kind"] = "quiz"
        self.assert_validation(self.put_content(o, b, expect=422), ["/checklist/0/kind"])
        b = content()
        b["checklist"][2]["id"] = "right-to-work"
        self.assert_validation(self.put_content(o, b, expect=422), ["/checklist/2/id"])
        b = content()
        b["checklist"][0]["id"] = "Bad Id"
        self.assert_validation(self.put_content(o, b, expect=422), ["/checklist/0/id"])
        self.assert_validation(self.put_content(o, content(headline="x" * 201), expect=422),
                               ["/headline"])
        self.assert_validation(
            self.put_content(o, content(services=[{"name": "s%d" % i} for i in range(51)]),
                             expect=422), ["/services"])
        # bad JSON is a 400, never a 5xx
        r = self.api.put(CONTENT, raw="{not json", token=self.tok(o["ca"]))
        self.assert_problem(r, 400)
        after = self.api.get(CONTENT, token=self.tok(o["ca"])).body["draft"]["revision"]
        self.assertEqual(after, before + 1)  # only the plain-text headline was saved

    def test_review_due_and_listing(self):
        o = self.new_org(applicants=0)
        self.put_content(o, content())
        r = self.publish(o)
        self.assertEqual(r.body["review_due"], "2027-02-13")  # 90 days after 2026-11-15
        r = self.api.get(CONTENT + "/review", token=self.tok(o["ca"]))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["items"], [])
        card = self.card(o["ca"], "employee")
        self.assertEqual(card["summary"]["review_due"], "2027-02-13")
        self.assertIs(card["summary"]["review_overdue"], False)
        # other employees get no card
        self.assertIsNone(self.card(o["emp"], "employee"))
        try:
            self.set_clock(NOW + datetime.timedelta(days=91))
            r = self.api.get(CONTENT + "/review", token=self.tok(o["ca"]))
            self.assertEqual(r.status, 200, repr(r))
            self.assertEqual(len(r.body["items"]), 1)
            item = r.body["items"][0]
            self.assertEqual(item["version"], 1)
            self.assertEqual(item["review_due"], "2027-02-13")
            self.assertEqual(item["days_overdue"], 1)
            card = self.card(o["ca"], "employee")
            self.assertIs(card["summary"]["review_overdue"], True)
            # republishing is the review: a shorter configured period applies
            self.enable(o, {"review_days": 30})
            r = self.publish(o)
            self.assertEqual(r.body["review_due"], "2027-03-16")
            r = self.api.get(CONTENT + "/review", token=self.tok(o["ca"]))
            self.assertEqual(r.body["items"], [])
        finally:
            self.set_clock(NOW)
        self.enable(o, {"review_days": 0}, expect=422)

    def test_roles_and_statuses(self):
        o = self.new_org(applicants=1)
        app = o["apps"][0]
        self.put_content(o, content())
        self.publish(o)
        # applicants cannot edit, read drafts or analytics
        for method, path in (("GET", CONTENT), ("PUT", CONTENT), ("POST", CONTENT + "/publish"),
                             ("GET", CONTENT + "/versions"), ("GET", CONTENT + "/review"),
                             ("POST", CONTENT + "/versions/1/restore"),
                             ("GET", PORTLET + "/analytics")):
            body = content() if method == "PUT" else None
            r = self.api.request(method, path, body, token=self.tok(app))
            self.assert_problem(r, 403, "forbidden", "%s %s" % (method, path))
        # employees and leavers get 403 on the view and everything else
        for who in (o["emp"], o["leaver"]):
            self.assert_problem(self.view(o, who, expect=None), 403, "forbidden")
            self.assert_problem(self.interact(who, "welcome_video", "play", expect=None), 403)
            self.assert_problem(self.complete(who, "fire-safety", expect=None), 403)
            self.assert_problem(self.api.get(CONTENT, token=self.tok(who)), 403)
        # admins preview the published view, without progress of their own
        for admin in (o["ca"], o["pa"]):
            v = self.view(o, admin).body
            self.assertIs(v["preview"], True)
            self.assertIsNone(v["start_date"])
            self.assert_problem(self.complete(admin, "fire-safety", expect=None), 403)
            self.assert_problem(self.interact(admin, "welcome_video", "play", expect=None), 403)
        v = self.view(o, app).body
        self.assertIs(v["preview"], False)
        self.assertEqual(v["start_date"], START)
        self.assert_problem(self.api.get(PORTLET, token=""), 401)

    def test_checklist_complete_and_undo(self):
        o = self.new_org(applicants=2)
        a, b = o["apps"]
        self.put_content(o, content())
        self.publish(o)
        v = self.view(o, a).body
        self.assertEqual(v["progress"], {"done": 0, "total": 3, "text": "0 of 3 done"})
        r = self.complete(a, "fire-safety")
        self.assertIs(r.body["done"], True)
        self.assertEqual(r.body["completed_at"], iso(NOW))
        self.assertEqual(r.body["progress"]["text"], "1 of 3 done")
        # completing again changes nothing
        r = self.complete(a, "fire-safety")
        self.assertEqual(r.body["completed_at"], iso(NOW))
        self.assertEqual(r.body["progress"]["done"], 1)
        self.complete(a, "right-to-work")
        v = self.view(o, a).body
        self.assertEqual(v["progress"]["text"], "2 of 3 done")
        rows = {i["id"]: i for i in v["checklist"]}
        self.assertIs(rows["fire-safety"]["done"], True)
        self.assertIs(rows["personal-information"]["done"], False)
        # another applicant sees only their own progress
        vb = self.view(o, b).body
        self.assertEqual(vb["progress"]["done"], 0)
        self.assertTrue(all(not i["done"] for i in vb["checklist"]))
        # undo
        r = self.complete(a, "fire-safety", undo=True)
        self.assertIs(r.body["done"], False)
        self.assertIsNone(r.body["completed_at"])
        self.assertEqual(r.body["progress"]["text"], "1 of 3 done")
        r = self.complete(a, "fire-safety", undo=True)
        self.assertEqual(r.body["progress"]["done"], 1)
        self.assert_problem(self.complete(a, "no-such-item", expect=None), 404, "not_found")
        # the dashboard card: headline, video, progress and start date
        card = self.card(a, "applicant")
        self.assertIsNotNone(card)
        s = card["summary"]
        self.assertEqual(s["headline"], GOOD["headline"])
        self.assertEqual(s["welcome_video"]["url"], GOOD["welcome_video"]["url"])
        self.assertEqual(s["progress"]["text"], "1 of 3 done")
        self.assertEqual(s["start_date"], START)

    def test_view_etag(self):
        o = self.new_org(applicants=1)
        app = o["apps"][0]
        self.put_content(o, content())
        self.publish(o)
        r = self.view(o, app)
        etag = r.headers["ETag"]
        self.assertTrue(etag)
        r = self.api.get(PORTLET, token=self.tok(app), headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, repr(r))
        self.complete(app, "fire-safety")
        r = self.api.get(PORTLET, token=self.tok(app), headers={"If-None-Match": etag})
        self.assertEqual(r.status, 200, repr(r))
        # the content's own tag guards concurrent edits
        r = self.api.get(CONTENT, token=self.tok(o["ca"]))
        tag = r.headers["ETag"]
        r = self.api.get(CONTENT, token=self.tok(o["ca"]), headers={"If-None-Match": tag})
        self.assertEqual(r.status, 304, repr(r))
        self.put_content(o, content(headline="Edited"), headers={"If-Match": tag})
        r = self.put_content(o, content(headline="Stale"), headers={"If-Match": tag}, expect=412)
        self.assert_problem(r, 412, "precondition_failed")
        self.assert_problem(self.publish(o, headers={"If-Match": tag}, expect=None), 412)
        both = self.api.get(CONTENT, token=self.tok(o["ca"])).body
        self.assertEqual(both["draft"]["content"]["headline"], "Edited")
        self.assertEqual(both["published"]["version"], 1)

    def test_interactions_recorded_and_validated(self):
        o = self.new_org(applicants=1)
        app = o["apps"][0]
        # nothing published: no target exists
        self.assert_validation(self.interact(app, "welcome_video", "play", expect=422),
                               ["/target"])
        self.put_content(o, content())
        self.publish(o)
        r = self.interact(app, "welcome_video", "play")
        self.assertEqual(r.body["target"], "welcome_video")
        self.assertEqual(r.body["date"], TODAY)
        self.interact(app, "service:Royal Infirmary", "click")
        self.interact(app, "checklist:fire-safety", "open")
        self.interact(app, "area_map", "expand")
        self.assert_validation(self.interact(app, "service:Nowhere", "click", expect=422),
                               ["/target"])
        self.assert_validation(self.interact(app, "welcome_video", "hack", expect=422),
                               ["/action"])
        self.assert_validation(self.interact(app, "<script>", "play", expect=422), ["/target"])
        r = self.api.post(PORTLET + "/interactions", {"target": "welcome_video"},
                          token=self.tok(app))
        self.assert_validation(r, ["/action"])
        r = self.api.post(PORTLET + "/interactions",
                          {"target": "welcome_video", "action": "play", "who": "x"},
                          token=self.tok(app))
        self.assert_validation(r, ["/who"])
        r = self.api.post(PORTLET + "/interactions",
                          {"target": "x" * 300, "action": "play"}, token=self.tok(app))
        self.assert_validation(r, ["/target"])
        # the view lists the vocabulary
        v = self.view(o, app).body
        self.assertIn("welcome_video", v["interactions"]["targets"])
        self.assertIn("play", v["interactions"]["actions"])

    def test_analytics_counts_and_suppression(self):
        o = self.new_org(applicants=7)
        apps = o["apps"]
        self.put_content(o, content())
        self.publish(o)
        day = "?from=%s&to=%s" % (TODAY, TODAY)
        # nobody yet: everything under five is suppressed (zero too)
        r = self.analytics(o, day)
        self.assertEqual(r.body["opened"], {"count": None, "suppressed": True})
        self.assertEqual(r.body["suppressed_below"], 5)
        # three open: still suppressed
        for a in apps[:3]:
            self.view(o, a)
            self.view(o, a)  # a second view is not a second opening
        r = self.analytics(o, day)
        self.assertIsNone(r.body["opened"]["count"])
        self.assertIs(r.body["opened"]["suppressed"], True)
        # six open: shown
        for a in apps[3:6]:
            self.view(o, a)
        r = self.analytics(o, day)
        self.assertEqual(r.body["opened"], {"count": 6, "suppressed": False})
        self.assertEqual(r.body["days"][0]["opened"]["count"], 6)
        # five people play the video (one of them three times); two click a service
        for a in apps[:5]:
            self.interact(a, "welcome_video", "play")
        for _ in range(2):
            self.interact(apps[0], "welcome_video", "play")
        for a in apps[:2]:
            for _ in range(4):
                self.interact(a, "service:Royal Infirmary", "click")
        r = self.analytics(o, day)
        pairs = {(i["target"], i["action"]): i for i in r.body["interactions"]}
        play = pairs[("welcome_video", "play")]
        self.assertEqual((play["count"], play["people"], play["suppressed"]), (7, 5, False))
        click = pairs[("service:Royal Infirmary", "click")]
        self.assertEqual((click["count"], click["people"], click["suppressed"]),
                         (None, None, True))
        self.assertEqual(r.body["interactions_total"], {"count": 15, "people": 5,
                                                        "suppressed": False})
        # checklist completion per item: five done, one undone again
        for a in apps[:6]:
            self.complete(a, "fire-safety")
        self.complete(apps[5], "fire-safety", undo=True)
        self.complete(apps[0], "right-to-work")
        r = self.analytics(o, day)
        items = {i["item"]: i for i in r.body["checklist"]}
        self.assertEqual(items["fire-safety"]["count"], 5)
        self.assertEqual(items["fire-safety"]["title"], "Fire Safety")
        self.assertIs(items["right-to-work"]["suppressed"], True)
        self.assertIsNone(items["right-to-work"]["count"])
        self.assertIs(items["personal-information"]["suppressed"], True)
        # a range around the day: per-day rows, the day's counts unchanged
        r = self.analytics(o, "?from=2026-11-14&to=2026-11-16")
        self.assertEqual([d["date"] for d in r.body["days"]],
                         ["2026-11-14", "2026-11-15", "2026-11-16"])
        self.assertEqual(r.body["opened"]["count"], 6)
        # the next day: one person on two days is still one person
        try:
            self.set_clock(NOW + datetime.timedelta(days=1))
            self.interact(apps[0], "welcome_video", "play")
            r = self.analytics(o, "?from=2026-11-15&to=2026-11-16")
            play = {(i["target"], i["action"]): i for i in r.body["interactions"]}[
                ("welcome_video", "play")]
            self.assertEqual((play["count"], play["people"]), (8, 5))
            # the second day alone is one person: hidden, and the first day
            # too, or it could be worked out from the total
            for d in r.body["days"]:
                cell = [i for i in d["interactions"]
                        if (i["target"], i["action"]) == ("welcome_video", "play")][0]
                self.assertIs(cell["suppressed"], True, d)
            # the default range is the 30 days to today
            r = self.analytics(o)
            self.assertEqual((r.body["from"], r.body["to"]), ("2026-10-18", "2026-11-16"))
            self.assertEqual(len(r.body["days"]), 30)
        finally:
            self.set_clock(NOW)
        # bad ranges
        for q in ("?from=2026-13-01", "?to=yesterday", "?from=2026-11-16&to=2026-11-15",
                  "?from=2025-01-01&to=2026-11-15"):
            self.assert_problem(self.analytics(o, q, expect=None), 400, "bad_request", q)
        # who may read analytics
        self.analytics(o, day, user=o["pa"])
        for who in (o["emp"], apps[0], o["leaver"]):
            self.assert_problem(self.analytics(o, day, user=who, expect=None), 403, "forbidden")

    def test_concurrent_interactions_all_counted(self):
        """Writes from many connections at once (committed together in
        batches) are each counted exactly once, in the right organisation."""
        a = self.new_org(applicants=5)
        b = self.new_org(applicants=5)
        for o in (a, b):
            self.put_content(o, content())
            self.publish(o)
        tokens = [(self.tok(u), o) for o in (a, b) for u in o["apps"]]
        errors = []

        def post(tok, n):
            client = self.server.client(tok)
            try:
                for _ in range(n):
                    r = client.post(PORTLET + "/interactions",
                                    {"target": "welcome_video", "action": "play"})
                    if r.status != 201:
                        errors.append(r)
            finally:
                client.close()

        threads = [threading.Thread(target=post, args=(tok, 20 if o is a else 10))
                   for tok, o in tokens for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        for o, n in ((a, 200), (b, 100)):
            r = self.analytics(o, "?from=%s&to=%s" % (TODAY, TODAY))
            play = r.body["interactions"][0]
            self.assertEqual((play["target"], play["count"], play["people"]),
                             ("welcome_video", n, 5))

    def test_other_organisation_never_shown(self):
        a = self.new_org(applicants=1)
        b = self.new_org(applicants=1)
        self.put_content(a, content(headline="Trust A welcomes you"))
        self.publish(a)
        self.complete(a["apps"][0], "fire-safety")
        # B has published nothing: its applicant sees nothing of A's
        r = self.view(b, b["apps"][0], expect=404)
        self.assertNotIn("Trust A", r.raw.decode())
        rb = self.api.get(CONTENT, token=self.tok(b["ca"])).body
        self.assertIsNone(rb["published"])
        self.assertTrue(rb["draft"]["is_default"])
        self.assertEqual(self.api.get(CONTENT + "/versions", token=self.tok(b["ca"])).body["items"],
                         [])
        # A's targets are not B's
        self.assert_validation(self.interact(b["apps"][0], "welcome_video", "play", expect=422),
                               ["/target"])
        self.assert_problem(self.complete(b["apps"][0], "fire-safety", expect=None), 404)
        # B publishes its own; A's applicant still sees A's
        self.put_content(b, content(headline="Trust B welcomes you"))
        self.publish(b)
        self.assertEqual(self.view(b, b["apps"][0]).body["progress"]["done"], 0)
        self.assertEqual(self.view(a, a["apps"][0]).body["content"]["headline"],
                         "Trust A welcomes you")
        self.assertEqual(self.api.get(CONTENT + "/versions", token=self.tok(b["ca"]))
                         .body["items"][0]["version"], 1)

    def test_not_enabled(self):
        o = self.new_org(applicants=1, enable=False)
        self.assert_problem(self.view(o, o["apps"][0], expect=None), 404, "portlet_not_enabled")
        self.assert_problem(self.api.get(CONTENT, token=self.tok(o["ca"])), 404,
                            "portlet_not_enabled")


if __name__ == "__main__":
    main()
