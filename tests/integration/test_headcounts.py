"""Headcounts kept on write (issue 15): the flu-countdown uptake headcounts
(the host's people_count) always equal a full recount of the people list,
across imports, edits of group, status and termination date, concurrent
writers, and a termination taking effect at the organisation's local
midnight (test clock; Sydney, UTC+11 in November); and `portico check`
finds the kept counts exact.

Runs the real porticod with --plugins $PORTICO_PLUGINS and the test clock.
"""

import datetime
import os
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portico_harness import API, PorticoTestCase, main  # noqa: E402

UTC = datetime.timezone.utc
# 23:00 on 2026-11-15 in Sydney; its midnight is 13:00Z.
NOW = datetime.datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
AFTER_MIDNIGHT = datetime.datetime(2026, 11, 15, 13, 0, 1, tzinfo=UTC)
PASSWORD = "Headcount-pass-2026!"
GROUPS = ["doctors", "qualified_nurses", "other_clinical", "support_to_clinical"]
ORG = "hc-syd"


def portico_path():
    build = os.environ.get("PORTICO_BUILD_DIR") or os.path.join("..", "..", "build")
    return os.path.join(build, "portico")


class HeadcountTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    def tok(self, user):
        return self.token(user, PASSWORD)

    def recount(self, token):
        """Employees per campaign group from the people list (effective
        status as of the org's today): the full recount."""
        counts = {g: 0 for g in GROUPS}
        cursor = None
        while True:
            q = "?limit=500" + ("&cursor=" + cursor if cursor else "")
            r = self.api.get(API + "/orgs/%s/people%s" % (ORG, q), token=token)
            self.assertEqual(r.status, 200, repr(r))
            for p in r.body["items"]:
                if p["status"] == "employee" and p.get("staff_group") in counts:
                    counts[p["staff_group"]] += 1
            cursor = r.body.get("next_cursor")
            if not cursor:
                return counts

    def kept(self, token):
        r = self.api.get(API + "/portlets/flu-countdown", token=token)
        self.assertEqual(r.status, 200, repr(r))
        return {g["staff_group"]: g["headcount"] for g in r.body["uptake"]["groups"]}

    def assert_exact(self, token, msg):
        kept, full = self.kept(token), self.recount(token)
        self.assertEqual(kept, full, msg)
        return kept

    def import_csv(self, token, rows):
        text = "username,display_name,email,staff_group,status,termination_date\n" + \
            "".join("%s,Person %s,%s@example.org,%s,%s,%s\n" % r for r in rows)
        r = self.api.post(API + "/orgs/%s/people/import" % ORG, raw=text.encode(),
                          content_type="text/csv", token=token)
        self.assertEqual(r.status, 201, repr(r))

    def test_counts_stay_exact(self):
        self.set_clock(NOW)
        self.create_org(ORG, settings={"time_zone": "Australia/Sydney"})
        self.create_person(ORG, "hc.pa", password=PASSWORD, roles=["portal_admin"],
                           staff_group="doctors")
        pa = self.tok("hc.pa")
        r = self.api.put(API + "/orgs/%s/portlets/flu-countdown" % ORG,
                         {"enabled": True,
                          "placements": [{"dashboard": "employee", "position": 1}],
                          "config": {"campaign": "Flu 2026", "starts_at": "2026-10-01T00:00:00Z",
                                     "ends_at": "2026-12-01T00:00:00Z", "staff_groups": GROUPS}},
                         token=pa)
        self.assertIn(r.status, (200, 201), repr(r))

        # An import: every group, applicants, leavers already gone, and
        # people whose last day is today in Sydney.
        rows = []
        for i in range(400):
            term = ["", "", "", "2026-11-15", "2026-10-01", "2026-12-31"][i % 6]
            status = "applicant" if i % 7 == 0 else "employee"
            rows.append(("u%03d" % i, i, "u%03d" % i, GROUPS[i % 4], status, term))
        self.import_csv(pa, rows)
        before = self.assert_exact(pa, "after the import")
        self.assertGreater(sum(before.values()), 200)

        # Edits of group, status and termination date, one at a time.
        edits = [("u001", {"staff_group": "doctors"}), ("u002", {"status": "applicant"}),
                 ("u007", {"status": "employee"}), ("u003", {"termination_date": None}),
                 ("u005", {"termination_date": "2026-11-15"}), ("u010", {"staff_group": None}),
                 ("u004", {"termination_date": "2026-11-20", "staff_group": "other_clinical"})]
        for user, body in edits:
            r = self.api.patch(API + "/orgs/%s/people/%s" % (ORG, user), body, token=pa)
            self.assertEqual(r.status, 200, repr(r))
            self.assert_exact(pa, "after PATCH %s %r" % (user, body))

        # Concurrent writers: four threads editing, one importing.
        errors = []

        def writer(k):
            c = self.server.client(pa)
            try:
                for j in range(30):
                    user = "u%03d" % ((k * 97 + j * 13) % 400)
                    body = [{"staff_group": GROUPS[(j + k) % 4]}, {"status": "applicant"},
                            {"status": "employee"}, {"termination_date": "2026-11-15"},
                            {"termination_date": None}][j % 5]
                    r = c.patch(API + "/orgs/%s/people/%s" % (ORG, user), body)
                    if r.status != 200:
                        errors.append(repr(r))
            finally:
                c.close()

        def importer():
            c = self.server.client(pa)
            try:
                more = [("v%03d" % i, i, "v%03d" % i, GROUPS[i % 4], "employee",
                         "2026-11-15" if i % 3 == 0 else "") for i in range(300)]
                text = "username,display_name,email,staff_group,status,termination_date\n" + \
                    "".join("%s,Person %s,%s@example.org,%s,%s,%s\n" % r for r in more)
                r = c.post(API + "/orgs/%s/people/import" % ORG, raw=text.encode(),
                           content_type="text/csv")
                if r.status != 201:
                    errors.append(repr(r))
            finally:
                c.close()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        threads.append(threading.Thread(target=importer))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        at_23h = self.assert_exact(pa, "after concurrent writers")

        # Midnight in Sydney with no write: today's last-day people leave.
        self.set_clock(AFTER_MIDNIGHT)
        pa = self.tok("hc.pa")
        after = self.assert_exact(pa, "after local midnight")
        self.assertLess(sum(after.values()), sum(at_23h.values()))

        # A write after midnight persists the advance; still exact.
        r = self.api.patch(API + "/orgs/%s/people/u020" % ORG, {"staff_group": "doctors"},
                           token=pa)
        self.assertEqual(r.status, 200, repr(r))
        self.assert_exact(pa, "after a write past midnight")

        # The command line's recount agrees (read-only, server running).
        p = subprocess.run([portico_path()] + self.server.store_args() +
                           ["--config", self.server.config_path, "check"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertNotIn("headcounts", p.stderr.decode())


if __name__ == "__main__":
    main()
