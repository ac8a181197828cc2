"""`portico migrate`: an LMDB store moved into PostgreSQL serves the same.

A demo store (porticod --demo on LMDB) gets writes through several
portlets (a flu vaccination, a leaver's-pack document, a flexible-working
request, applicant-welcome content), is stopped and migrated into a fresh
database.  porticod started on that database with the same signing keys
must give the same answers to the same access tokens (/me, dashboards,
documents, the audit log), accept the refresh token issued before the
move, and `portico check` must agree on both sides.  A migration into a
database that already holds records is refused and writes nothing.

Runs under run_on_postgres.py (PORTICO_TEST_STORE names the server).
"""

import datetime
import os
import shutil
import subprocess
import tempfile
import unittest

import pg_fixture
import portico_harness as h
from portico_harness import API, Server, main
from test_leavers import payslip

DEMO_PW = "portico-demo"
PLUGINS = os.environ.get("PORTICO_PLUGINS")


def portico_path():
    return os.path.join(h._env_path("PORTICO_BUILD_DIR", "../../build"), "portico")


def cli(*args, timeout=300):
    p = subprocess.run([portico_path()] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def table_counts(out):
    """{table: count} from `portico check`'s first lines."""
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


@unittest.skipUnless(os.environ.get("PORTICO_TEST_STORE"),
                     "needs a PostgreSQL server: run under run_on_postgres.py")
class MigrateTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="portico-migrate-")
        # One fixed time on both servers, so time-dependent answers (the
        # flu countdown) compare equal.
        cls.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        cls.lmdb = Server(plugins=PLUGINS, extra_args=["--demo"], lmdb=True)
        cls.pg = None
        cls.lmdb.start()
        try:
            cls.api = cls.lmdb.client()
            cls.set_clock(cls.api)
            cls.tokens = {u: cls.login(u) for u in
                          ("emp.eddie", "oh.admin", "payroll.admin", "content.admin",
                           "doc.dev", "physio.pete", "app.alex", "portal.admin")}
            cls.write_through_portlets()
            # A refresh token never used before the move.
            cls.refresh = cls.login("nurse.nia", body=True)["refresh_token"]
            cls.before = cls.answers(cls.api)
            assert "moved to PostgreSQL" in str(cls.before[("app.alex", API +
                                                           "/portlets/applicant-welcome")])
            cls.api.close()
            assert cls.lmdb.stop() == 0
        except Exception:
            cls.lmdb.cleanup()
            raise
        cls.url = pg_fixture.create_db_at(os.environ["PORTICO_TEST_STORE"])

    @classmethod
    def tearDownClass(cls):
        if cls.pg:
            cls.pg.cleanup()
        cls.lmdb.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---------------------------------------------------------------- helpers

    @classmethod
    def set_clock(cls, api):
        r = api.put(API + "/_test/clock", {"now": h.iso(cls.now)}, token="")
        assert r.status in (200, 204), repr(r)

    @classmethod
    def login(cls, user, body=False):
        r = cls.api.post(API + "/auth/login", {"username": user, "password": DEMO_PW},
                         token="")
        assert r.status == 200, "login %s: %r" % (user, r)
        return r.body if body else r.body["access_token"]

    @classmethod
    def write_through_portlets(cls):
        t, api = cls.tokens, cls.api
        r = api.post(API + "/portlets/flu-countdown/vaccinations",
                     {"staff_group": "doctors", "site": "main-atrium",
                      "vaccinated_at": h.iso(cls.now - datetime.timedelta(hours=1))},
                     token=t["oh.admin"])
        assert r.status == 201, "flu: %r" % r
        r = api.post(API + "/portlets/leavers/documents", payslip("emp.eddie", "2026-03"),
                     token=t["payroll.admin"])
        assert r.status in (200, 201), "leavers: %r" % r
        start = (cls.now + datetime.timedelta(days=40)).date().isoformat()
        for user in ("doc.dev", "physio.pete"):  # the demo has requests in progress
            r = api.post(API + "/portlets/flexible-working/requests",
                         {"change_types": ["part_time"], "proposed_start": start,
                          "current_pattern": "Full time, 37.5h",
                          "requested_pattern": "0.8 WTE, Mon-Thu",
                          "description": "Caring for a parent", "previous_request": False},
                         token=t[user])
            if r.status == 201:
                break
        assert r.status == 201, "flexible working: %r" % r
        cls.fw_id, cls.fw_user = r.body["id"], user
        content = api.get(API + "/portlets/applicant-welcome/content",
                          token=t["content.admin"]).body
        draft = content.get("draft") or content.get("published")
        draft = dict(draft.get("content", draft))
        draft["headline"] = "Welcome, moved to PostgreSQL"
        r = api.put(API + "/portlets/applicant-welcome/content", draft,
                    token=t["content.admin"])
        assert r.status == 200, "applicant welcome save: %r" % r
        r = api.post(API + "/portlets/applicant-welcome/content/publish",
                     token=t["content.admin"])
        assert r.status == 201, "applicant welcome publish: %r" % r

    @classmethod
    def answers(cls, api):
        """What each person sees, read with the same access tokens."""
        t = cls.tokens
        paths = [
            ("emp.eddie", API + "/me"),
            ("emp.eddie", API + "/dashboards/employee"),
            ("emp.eddie", API + "/portlets/leavers/payslips"),
            ("emp.eddie", API + "/portlets/leavers/payslips/2026-03"),
            ("oh.admin", API + "/portlets/flu-countdown"),
            (cls.fw_user, API + "/portlets/flexible-working/requests/" + cls.fw_id),
            ("app.alex", API + "/dashboards/applicant"),
            ("app.alex", API + "/portlets/applicant-welcome"),
            ("portal.admin", API + "/orgs/demo-trust/audit?limit=20"),
            ("portal.admin", API + "/orgs/demo-trust/people?limit=50"),
        ]
        out = {}
        for user, path in paths:
            r = api.get(path, token=t[user])
            assert r.status == 200, "%s as %s: %r" % (path, user, r)
            out[(user, path)] = r.body
        # the audit log's second page, through its cursor
        cur = out[("portal.admin", API + "/orgs/demo-trust/audit?limit=20")].get("next_cursor")
        if cur:
            r = api.get(API + "/orgs/demo-trust/audit?limit=20&cursor=" + cur,
                        token=t["portal.admin"])
            assert r.status == 200, repr(r)
            out[("portal.admin", "audit page 2")] = r.body
        return out

    # ------------------------------------------------------------------ tests

    def test_1_migrate_check_and_serve_the_same(self):
        rc, out, err = cli("migrate", "--from", self.lmdb.data_dir, "--to", self.url)
        self.assertEqual(rc, 0, "migrate: %s\n%s" % (out, err))
        self.assertIn("one transaction", out)
        self.assertIn("ok: both stores hold the same records", out)
        self.assertNotIn("DIFFERENT", out)
        copied = table_counts(out)
        self.assertGreaterEqual(copied["people"], 13, out)
        for table in ("meta", "accounts", "orgs", "sessions", "audit", "portlet_conf",
                      "portlet_data"):
            self.assertGreater(copied[table], 0, "%s not copied:\n%s" % (table, out))
        self.assertNotIn(self.url, out + err, "the URL (it may hold a password) was printed")

        # portico check on each side, then record by record.
        rc, lm, err = cli("--data", self.lmdb.data_dir, "check")
        self.assertEqual(rc, 0, lm + err)
        rc, pg, err = cli("--store", self.url, "check")
        self.assertEqual(rc, 0, pg + err)
        self.assertEqual(table_counts(lm), table_counts(pg))
        self.assertEqual({k: v for k, v in copied.items() if k != "total"}, table_counts(pg))
        rc, out, err = cli("check", "--from", self.lmdb.data_dir, "--against", self.url)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count(" same"), 8, out)

        # porticod on PostgreSQL, with the signing keys of the data dir.
        keys = os.path.join(self.tmp, "keys")
        os.makedirs(keys, mode=0o700)
        for name in ("jwt-private.pem", "jwt-public.pem"):
            shutil.copy2(os.path.join(self.lmdb.data_dir, name), keys)
        type(self).pg = Server(plugins=PLUGINS, data_dir=keys, extra_args=["--store", self.url])
        self.pg.start()
        api = self.pg.client()
        try:
            self.set_clock(api)
            after = self.answers(api)
            for k in self.before:
                self.assertEqual(self.before[k], after.get(k), "%s differs after the move" % (k,))
            r = api.post(API + "/auth/refresh", {"refresh_token": self.refresh}, token="")
            self.assertEqual(r.status, 200, repr(r))
            r = api.get(API + "/me", token=r.body["access_token"])
            self.assertEqual(r.status, 200, repr(r))
            self.assertEqual(r.body["username"], "nurse.nia")
        finally:
            api.close()

        # Now the store has moved on: check sees the difference.
        rc, out, err = cli("check", "--from", self.lmdb.data_dir, "--against", self.url)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("DIFFERENT", out)

    def test_2_migrate_into_a_used_database_is_refused(self):
        used = pg_fixture.create_db_at(os.environ["PORTICO_TEST_STORE"])
        rc, out, err = cli("migrate", "--from", self.lmdb.data_dir, "--to", used)
        self.assertEqual(rc, 0, out + err)
        rc, before, err = cli("--store", used, "check")
        self.assertEqual(rc, 0, before + err)
        rc, out, err = cli("migrate", "--from", self.lmdb.data_dir, "--to", used)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("not empty", err)
        self.assertIn("nothing was copied", err)
        rc, after, err = cli("--store", used, "check")
        self.assertEqual(rc, 0, after + err)
        self.assertEqual(table_counts(before), table_counts(after))

    def test_3_bad_source_is_refused(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty, exist_ok=True)
        target = pg_fixture.create_db_at(os.environ["PORTICO_TEST_STORE"])
        rc, out, err = cli("migrate", "--from", empty, "--to", target)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no store in", err)
        self.assertFalse(os.path.exists(os.path.join(empty, "data.mdb")))


if __name__ == "__main__":
    main()
