"""Organisation time zones: calendar dates (today, a leaver's last day) are
the organisation's local dates, Europe/London by default, summer time
included; time_zone is validated as an IANA name."""

from portico_harness import API, PorticoTestCase, main

PW = "tz-test-password-1"


class TimeZoneTest(PorticoTestCase):
    def fixtures(self):
        self.set_clock("2026-06-01T12:00:00Z")
        self.create_org("tz-uk", settings={"leaver_access_days": 10})
        self.create_org("tz-utc", settings={"leaver_access_days": 10, "time_zone": "UTC"})
        for org in ("tz-uk", "tz-utc"):
            # last day of employment 28 June; access through 8 July
            self.create_person(org, "lea-" + org, password=PW, termination_date="2026-06-28")

    def tearDown(self):
        self.set_clock(None)

    def test_default_and_validation(self):
        r = self.api.get(API + "/orgs/tz-uk", token=self.as_admin())
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body["settings"]["time_zone"], "Europe/London")
        r = self.api.get(API + "/orgs/tz-utc", token=self.as_admin())
        self.assertEqual(r.body["settings"]["time_zone"], "UTC")
        for bad in ("../../etc/passwd", "/etc/passwd", "Europe/../UTC", "Europe//London",
                    "Nowhere/City", "Europe", "right/UTC", "Europe/London ", "", 5, None):
            r = self.api.patch(API + "/orgs/tz-uk", {"settings": {"time_zone": bad}},
                               token=self.as_admin())
            self.assert_validation(r, ["/settings/time_zone"], "time_zone %r" % (bad,))
        r = self.api.post(API + "/orgs", {"id": "tz-bad", "name": "Bad",
                                          "settings": {"time_zone": "Mars/Olympus"}},
                          token=self.as_admin())
        self.assert_validation(r, ["/settings/time_zone"])
        self.create_org("tz-in", settings={"time_zone": "Asia/Kolkata"})
        r = self.api.patch(API + "/orgs/tz-in", {"settings": {"time_zone": "America/New_York"}},
                           token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["settings"]["time_zone"], "America/New_York")
        r = self.api.patch(API + "/orgs/tz-in", {"settings": {"leaver_access_days": 5}},
                           token=self.as_admin())
        self.assertEqual(r.body["settings"]["time_zone"], "America/New_York", "merged, kept")

    def test_leaver_keeps_access_until_uk_midnight_in_summer_time(self):
        # 22:30Z is 23:30 BST on 8 July: still the last day
        self.set_clock("2026-07-08T22:30:00Z")
        tok = self.token("lea-tz-uk", PW, org="tz-uk")
        r = self.api.get(API + "/me", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body.get("status"), "leaver", r)
        # a token issued at 23:55 BST stops working at midnight
        self.set_clock("2026-07-08T22:55:00Z")
        tok = self.token("lea-tz-uk", PW, org="tz-uk")
        self.set_clock("2026-07-08T23:02:00Z")
        self.assert_problem(self.api.get(API + "/me", token=tok), 403, "leaver_access_expired")
        # 23:30Z is 00:30 BST on 9 July: access has ended (in UTC it is
        # still 8 July, which is what the server used to go by)
        self.set_clock("2026-07-08T23:30:00Z")
        self.assert_problem(self.login_raw("lea-tz-uk", PW, org="tz-uk"), 403,
                            "leaver_access_expired")
        # an organisation on UTC: still 8 July there
        self.assertEqual(self.login_raw("lea-tz-utc", PW, org="tz-utc").status, 200)
        self.set_clock("2026-07-09T00:00:00Z")
        self.assert_problem(self.login_raw("lea-tz-utc", PW, org="tz-utc"), 403,
                            "leaver_access_expired")

    def test_leaver_status_starts_at_local_midnight(self):
        # 28 June 23:30Z is 29 June 00:30 BST: the day after the last day
        self.set_clock("2026-06-28T23:30:00Z")
        r = self.api.get(API + "/orgs/tz-uk/people/lea-tz-uk", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "leaver", r)
        self.assertEqual(r.body.get("access_ends"), "2026-07-08", r)
        r = self.api.get(API + "/orgs/tz-utc/people/lea-tz-utc", token=self.as_admin())
        self.assertEqual(r.body["status"], "employee", r)
        r = self.api.get(API + "/orgs/tz-uk/people?status=leaver", token=self.as_admin())
        self.assertEqual([p["username"] for p in r.body["items"]], ["lea-tz-uk"], r)
        # in winter London is on UTC: 8 February 23:30Z is still 8 February
        self.set_clock("2027-02-08T23:30:00Z")
        r = self.api.get(API + "/orgs/tz-uk", token=self.as_admin())
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    main()
