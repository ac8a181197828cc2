"""The `portico` admin CLI against a running porticod on the same data dir.

What the CLI writes must be visible through the API at once, a backup taken
while the server runs must pass `portico check` and hold the people, an
issued token must be accepted by the server, and bad usage exits 2.
Portlets enabled or disabled with `portico portlet` take effect on the
running server's routes and are audited as the CLI's actor.
"""

import json
import os
import pty
import pwd
import select
import shutil
import subprocess
import tempfile

from portico_harness import API, PorticoTestCase, Server, jwt_parts, main

PASSWORD = "Cli-pass-1234"


def portico_path():
    build = os.environ.get("PORTICO_BUILD_DIR") or os.path.join("..", "..", "build")
    return os.path.join(build, "portico")


class CliMixin:
    """Runs the CLI on the class's server; `cli_plugins` adds --plugins."""

    cli_plugins = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmpdir = tempfile.mkdtemp(prefix="portico-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmpdir, ignore_errors=True)
        super().tearDownClass()

    def cli(self, *args, stdin=None, data=True, timeout=120):
        """Runs portico with the server's data dir and config; returns
        (exit code, stdout, stderr)."""
        argv = [portico_path()]
        if data:
            argv += self.server.store_args() + ["--config", self.server.config_path]
            if self.cli_plugins:
                argv += ["--plugins", self.cli_plugins]
        argv += list(args)
        p = subprocess.run(argv, input=(stdin or "").encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def ok(self, *args, **kw):
        rc, out, err = self.cli(*args, **kw)
        self.assertEqual(rc, 0, "portico %s -> %d\nstdout: %s\nstderr: %s" %
                         (" ".join(args), rc, out, err))
        return out

    def make_org_with_person(self, org, user, roles="hr_admin"):
        self.ok("org", "create", org, "Org " + org, "--leaver-days", "30")
        self.ok("person", "create", org, user, "--name", "Person " + user,
                "--email", user + "@example.org", "--status", "employee",
                "--roles", roles, "--staff-group", "doctors", "--password-stdin",
                stdin=PASSWORD + "\n")


class CliTest(CliMixin, PorticoTestCase):

    # ------------------------------------------------------------ create

    def test_org_and_person_create_visible_through_api(self):
        self.make_org_with_person("cli-a", "alice")
        admin = self.as_admin()

        r = self.api.get(API + "/orgs/cli-a", token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["name"], "Org cli-a")
        self.assertEqual(r.body["settings"]["leaver_access_days"], 30)

        r = self.api.get(API + "/orgs/cli-a/people/alice", token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["display_name"], "Person alice")
        self.assertEqual(r.body["email"], "alice@example.org")
        self.assertEqual(r.body["status"], "employee")
        self.assertEqual(r.body["staff_group"], "doctors")
        self.assertEqual(r.body["roles"], ["hr_admin"])
        self.assertNotIn("password", r.body)
        self.assertNotIn("password_hash", r.body)

        # The password from stdin works for a real login.
        tok = self.token("alice", PASSWORD, org="cli-a")
        r = self.api.get(API + "/me", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["active_org"], "cli-a")

        # Both changes are in the audit log.
        r = self.api.get(API + "/orgs/cli-a/audit", token=admin)
        self.assertEqual(r.status, 200, r)
        actions = [e["action"] for e in r.body["items"]]
        self.assertIn("org.create", actions)
        self.assertIn("person.create", actions)

    def test_duplicates_and_invalid_people_are_refused(self):
        self.make_org_with_person("cli-b", "bob")
        rc, _, err = self.cli("org", "create", "cli-b", "Again")
        self.assertEqual(rc, 1, err)
        self.assertIn("exists", err)
        rc, _, err = self.cli("person", "create", "cli-b", "bob", "--name", "Bob",
                              "--email", "bob@example.org", "--status", "employee")
        self.assertEqual(rc, 1, err)
        # The API's validation rules apply: bad email, unknown role, bad status.
        rc, _, err = self.cli("person", "create", "cli-b", "carol", "--name", "Carol",
                              "--email", "not-an-email", "--status", "boss",
                              "--roles", "system_admin")
        self.assertEqual(rc, 1, err)
        self.assertIn("/email", err)
        self.assertIn("/status", err)
        self.assertIn("/roles", err)
        r = self.api.get(API + "/orgs/cli-b/people/carol", token=self.as_admin())
        self.assert_problem(r, 404, "not_found")
        # No such organisation.
        rc, _, err = self.cli("person", "create", "cli-nope", "dave", "--name", "Dave",
                              "--email", "dave@example.org", "--status", "employee")
        self.assertEqual(rc, 1, err)

    # ------------------------------------------------------------ import

    CSV = ("username,display_name,email,staff_group,status,start_date,termination_date,"
           "manager,roles\n"
           "imp1,Imp One,imp1@example.org,doctors,employee,2024-01-01,,,\n"
           "imp2,Imp Two,imp2@example.org,qualified_nurses,employee,2024-02-01,,imp1,"
           "hr_admin;oh_admin\n"
           "imp3,Imp Three,imp3@example.org,,applicant,,,imp1,\n")

    def write(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_import_csv(self):
        self.ok("org", "create", "cli-imp", "Import Org")
        out = self.ok("import", "cli-imp", self.write("good.csv", self.CSV))
        self.assertIn("3", out)
        r = self.api.get(API + "/orgs/cli-imp/people", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["username"] for p in r.body["items"]], ["imp1", "imp2", "imp3"])
        self.assertEqual(r.body["items"][1]["manager"], "imp1")
        self.assertEqual(sorted(r.body["items"][1]["roles"]), ["hr_admin", "oh_admin"])

    def test_import_bad_rows_write_nothing(self):
        self.ok("org", "create", "cli-imp-bad", "Import Bad")
        bad = self.CSV + "imp4,Imp Four,nope,doctors,employee,,,,\nimp1,Dup,d@example.org,,employee,,,,\n"
        rc, _, err = self.cli("import", "cli-imp-bad", self.write("bad.csv", bad))
        self.assertEqual(rc, 1, err)
        self.assertIn("/rows/4/email", err)
        r = self.api.get(API + "/orgs/cli-imp-bad/people", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["items"], [])
        rc, _, err = self.cli("import", "cli-imp-bad", os.path.join(self.tmpdir, "missing.csv"))
        self.assertEqual(rc, 1, err)

    def test_import_progress_bar_on_a_terminal(self):
        self.ok("org", "create", "cli-imp-tty", "Import TTY")
        rows = ["username,display_name,email,status"]
        rows += ["tty%03d,TTY %d,tty%d@example.org,employee" % (i, i, i) for i in range(60)]
        path = self.write("tty.csv", "\n".join(rows) + "\n")
        try:
            master, slave = pty.openpty()
        except OSError as e:  # a container or chroot without /dev/pts
            self.skipTest("no pseudo-terminal here: %s" % e)
        try:
            p = subprocess.Popen([portico_path()] + self.server.store_args() + [
                                  "--config", self.server.config_path, "import", "cli-imp-tty",
                                  path],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=slave)
            os.close(slave)
            slave = None
            seen = b""
            while True:
                ready, _, _ = select.select([master], [], [], 60)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            out, _ = p.communicate(timeout=60)
            rc = p.returncode
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        self.assertEqual(rc, 0, seen)
        text = seen.decode("utf-8", "replace")
        self.assertIn("[#", text)
        self.assertIn("60/60", text)
        self.assertIn(b"60", out)
        # Not a terminal: no bar.
        self.ok("org", "create", "cli-imp-pipe", "Import pipe")
        path = self.write("pipe.csv", "\n".join(rows).replace("tty", "pipe") + "\n")
        rc, _, err = self.cli("import", "cli-imp-pipe", path)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("[#", err)

    # ------------------------------------------------------------ backup/check

    def test_backup_while_running_then_check(self):
        self.make_org_with_person("cli-bk", "bkuser")
        self.ok("person", "create", "cli-bk", "bkuser2", "--name", "Second",
                "--email", "b2@example.org", "--status", "applicant")
        out = self.ok("check")
        self.assertIn("ok", out)

        dest = os.path.join(self.tmpdir, "backup")
        self.ok("backup", dest)
        self.assertTrue(os.path.exists(os.path.join(dest, "data.mdb")))
        # the store holds the signing keys: only its owner may read the copy
        mdb = os.path.join(dest, "data.mdb")
        self.assertEqual(os.stat(mdb).st_mode & 0o077, 0, "backup store is readable by others")
        key = os.path.join(dest, "jwt-private.pem")
        if os.path.exists(key):
            self.assertEqual(os.stat(key).st_mode & 0o077, 0, "backup key is readable by others")

        # The server is still serving after the backup.
        r = self.api.get("/readyz")
        self.assertEqual(r.status, 200, r)

        rc, out, err = self.cli("--data", dest, "check", data=False)
        self.assertEqual(rc, 0, "check on backup: %s %s" % (out, err))
        counts = dict(line.split()[:2] for line in out.splitlines() if len(line.split()) >= 2)
        self.assertGreaterEqual(int(counts["people"]), 2, out)
        self.assertGreaterEqual(int(counts["orgs"]), 1, out)

        # A backup into a directory that already holds a store is refused.
        rc, _, err = self.cli("backup", dest)
        self.assertEqual(rc, 1, err)

        # The backup is a working data dir: a server started on it knows the people.
        copy = Server(config={}, data_dir=dest, lmdb=True)
        try:
            copy.start()
            c = copy.client()
            r = c.post(API + "/auth/login", {"username": "bkuser", "password": PASSWORD,
                                             "org": "cli-bk"})
            self.assertEqual(r.status, 200, r)
            r = c.get(API + "/orgs/cli-bk/people/bkuser2", token=r.body["access_token"])
            self.assertEqual(r.status, 200, r)
            c.close()
        finally:
            copy.stop()
            copy.cleanup()

    def test_check_refuses_missing_store(self):
        empty = os.path.join(self.tmpdir, "empty")
        os.makedirs(empty, exist_ok=True)
        rc, _, err = self.cli("--data", empty, "check", data=False)
        self.assertEqual(rc, 1, err)
        self.assertFalse(os.path.exists(os.path.join(empty, "data.mdb")))

    # ------------------------------------------------------------ tokens

    def test_token_issue_is_accepted_by_server(self):
        self.make_org_with_person("cli-tok", "tokuser", roles="portal_admin")
        tok = self.ok("token", "issue", "--user", "tokuser", "--org", "cli-tok",
                      "--ttl", "600").strip()
        header, claims, _ = jwt_parts(tok)
        self.assertEqual(header["alg"], "ES256")
        self.assertEqual(claims["sub"], "tokuser")
        self.assertEqual(claims["org"], "cli-tok")
        self.assertEqual(claims["exp"] - claims["iat"], 600)
        self.assertIn("portal_admin", claims["roles"])

        r = self.api.get(API + "/me", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["username"], "tokuser")
        self.assertEqual(r.body["active_org"], "cli-tok")
        # Its roles work: a portal_admin reads the audit log.
        r = self.api.get(API + "/orgs/cli-tok/audit", token=tok)
        self.assertEqual(r.status, 200, r)
        # Logout revokes the token's session like any other.
        r = self.api.post(API + "/auth/logout", token=tok)
        self.assertEqual(r.status, 204, r)
        r = self.api.get(API + "/me", token=tok)
        self.assert_problem(r, 401)

        # No membership, no token.
        rc, out, err = self.cli("token", "issue", "--user", "tokuser", "--org", "cli-a-none")
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, "")

    # ------------------------------------------------------------ demo

    def test_demo_is_idempotent(self):
        self.ok("demo")
        self.ok("demo")
        r = self.api.get(API + "/orgs/demo-trust", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        r = self.api.get(API + "/orgs/demo-trust/people", token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        self.assertGreater(len(r.body["items"]), 0)

    # ------------------------------------------------------------ usage

    def test_usage_errors_exit_2(self):
        cases = [
            (),
            ("frobnicate",),
            ("org",),
            ("org", "create", "only-id"),
            ("org", "create", "Bad Id!", "Name"),
            ("org", "create", "x", "Name", "--leaver-days", "91"),
            ("org", "create", "x", "Name", "--bogus"),
            ("person", "create", "cli-a", "eve"),
            ("token", "issue"),
            ("token", "issue", "--user", "alice", "--ttl", "soon"),
            ("import", "cli-a"),
            ("backup",),
            ("check", "extra"),
            ("check", "--against"),
            ("migrate",),
            ("migrate", "--from", "somewhere"),
            ("migrate", "--from", "somewhere", "--to", "/not/a/url"),
        ]
        for args in cases:
            rc, out, err = self.cli(*args)
            self.assertEqual(rc, 2, "portico %r -> %d (%s)" % (args, rc, err))
            self.assertTrue(err.strip(), "no message for %r" % (args,))
        rc, _, err = self.cli("--data", data=False)
        self.assertEqual(rc, 2, err)
        # --store takes only a PostgreSQL URL, so a directory given by
        # mistake is not taken for one.
        for bad in (("--store",), ("--store", "./data"), ("--store=mysql://x",)):
            rc, _, err = self.cli(*bad, "check", data=False)
            self.assertEqual(rc, 2, "portico %r -> %d (%s)" % (bad, rc, err))
            self.assertIn("--store", err)
        rc, out, _ = self.cli("--help", data=False)
        self.assertEqual(rc, 0)
        self.assertIn("usage:", out)
        for cmd in ("org create", "person create", "import", "token issue", "demo", "check",
                    "backup", "migrate --from DIR --to URL", "--store URL", "--against"):
            self.assertIn(cmd, out)


FLU = "flu-countdown"
FLU_CONFIG = {"campaign": "Flu 2026", "starts_at": "2026-10-01T00:00:00Z",
              "ends_at": "2026-12-01T00:00:00Z"}


class CliPortletTest(CliMixin, PorticoTestCase):
    """`portico portlet` on the same data and portlets as a running server."""

    plugins = os.environ.get("PORTICO_PLUGINS")
    cli_plugins = plugins

    def actor(self):
        return "cli:" + pwd.getpwuid(os.geteuid()).pw_name

    def api_item(self, org, portlet=FLU):
        r = self.api.get(API + "/orgs/%s/portlets" % org, token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        for it in r.body["items"]:
            if it["id"] == portlet:
                return it, r.body["items"]
        self.fail("no %s in %r" % (portlet, r.body))

    def configure_audit(self, org):
        r = self.api.get(API + "/orgs/%s/audit?limit=500" % org, token=self.as_admin())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.body["items"] if e["action"] == "portlet.configure"]

    def route(self, tok):
        return self.api.get(API + "/portlets/" + FLU, token=tok)

    def list_line(self, out, portlet):
        """The words of `portlet list`'s line for one portlet."""
        lines = [l.split() for l in out.splitlines() if l.split()[:1] == [portlet]]
        self.assertEqual(len(lines), 1, out)
        return lines[0]

    def test_enable_list_disable_through_running_server(self):
        self.make_org_with_person("clip-a", "pemp", roles="")
        emp = self.token("pemp", PASSWORD, org="clip-a")
        self.assert_problem(self.route(emp), 404, "portlet_not_enabled")
        out = self.ok("portlet", "list", "clip-a")
        # one line per loaded portlet; other portlets may be loaded too
        self.assertEqual(self.list_line(out, FLU), [FLU, "no", "-"])

        out = self.ok("portlet", "enable", "clip-a", FLU, "--config", json.dumps(FLU_CONFIG),
                      "--place", "employee:2")
        self.assertIn("enabled", out)
        item, items = self.api_item("clip-a")
        self.assertTrue(item["enabled"], item)
        self.assertEqual(item["config"], FLU_CONFIG)
        self.assertEqual(item["placements"], [{"dashboard": "employee", "position": 2}])
        r = self.route(emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["campaign"], "Flu 2026")

        out = self.ok("portlet", "list", "clip-a")
        self.assertEqual(self.list_line(out, FLU), [FLU, "yes", "employee:2"])
        self.assertEqual(json.loads(self.ok("portlet", "list", "clip-a", "--json")), items)

        out = self.ok("portlet", "disable", "clip-a", FLU)
        self.assertIn("disabled", out)
        self.assert_problem(self.route(emp), 404, "portlet_not_enabled")
        item, _ = self.api_item("clip-a")
        self.assertFalse(item["enabled"], item)
        self.assertEqual(item["config"], FLU_CONFIG)  # kept for the next enable
        self.assertEqual(out.strip().split()[-1], "employee:2)")

        # Enabling again with the stored config, from a file this time.
        path = os.path.join(self.tmpdir, "flu.json")
        with open(path, "w") as f:
            json.dump(dict(FLU_CONFIG, campaign="From file"), f)
        self.ok("portlet", "enable", "clip-a", FLU, "--config-file", path)
        r = self.route(emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["campaign"], "From file")

        audit = self.configure_audit("clip-a")
        self.assertEqual(len(audit), 3, audit)
        for e in audit:
            self.assertEqual(e["actor"], self.actor(), e)

    def test_invalid_config_stores_nothing(self):
        self.ok("org", "create", "clip-bad", "Bad configs")
        bad_dates = dict(FLU_CONFIG, ends_at="2026-09-01T00:00:00Z")
        no_campaign = {k: v for k, v in FLU_CONFIG.items() if k != "campaign"}
        for args, pointer in [
            (["--config", json.dumps(bad_dates)], "/config/ends_at: "),
            (["--config", json.dumps(no_campaign)], "/config/campaign: "),
            ([], "/config/starts_at: "),  # never configured: {} must be valid
            (["--config", "[1]"], "/config: "),
            (["--config", json.dumps(FLU_CONFIG), "--place", "leaver:1"],
             "/placements/0/dashboard: "),
            (["--config", json.dumps(FLU_CONFIG), "--place", "employee:0"],
             "/placements/0/position: "),
        ]:
            rc, out, err = self.cli("portlet", "enable", "clip-bad", FLU, *args)
            self.assertEqual(rc, 1, "%r: %s" % (args, err))
            self.assertIn(pointer, err, args)
            self.assertEqual(out, "", args)
        rc, _, err = self.cli("portlet", "enable", "clip-bad", FLU, "--config", "{nope")
        self.assertEqual(rc, 1, err)
        self.assertIn("JSON", err)
        rc, _, err = self.cli("portlet", "enable", "clip-bad", FLU, "--config-file",
                              os.path.join(self.tmpdir, "missing.json"))
        self.assertEqual(rc, 1, err)
        item, _ = self.api_item("clip-bad")
        self.assertFalse(item["enabled"], item)
        self.assertEqual(item["config"], {})
        self.assertIsNone(item["updated_at"])
        self.assertEqual(self.configure_audit("clip-bad"), [])

    def test_unknown_portlet_or_org_exits_1(self):
        self.ok("org", "create", "clip-unk", "Unknown")
        for args, words in [
            (("portlet", "enable", "clip-unk", "no-such-portlet", "--config", "{}"),
             "no portlet no-such-portlet"),
            (("portlet", "disable", "clip-unk", "no-such-portlet"), "no portlet"),
            (("portlet", "enable", "clip-none", FLU, "--config", json.dumps(FLU_CONFIG)),
             "no organisation clip-none"),
            (("portlet", "list", "clip-none"), "no organisation clip-none"),
        ]:
            rc, out, err = self.cli(*args)
            self.assertEqual(rc, 1, "%r: %s" % (args, err))
            self.assertIn(words, err)
        # Without --plugins nothing is loaded, and the message says why.
        rc, _, err = self.cli(*self.server.store_args(), "portlet", "enable", "clip-unk", FLU,
                              data=False)
        self.assertEqual(rc, 1, err)
        self.assertIn("--plugins", err)
        self.assertEqual(self.configure_audit("clip-unk"), [])

    def test_usage_errors_exit_2(self):
        cfg = json.dumps(FLU_CONFIG)
        for args in [
            ("portlet",),
            ("portlet", "frob", "clip-a"),
            ("portlet", "list"),
            ("portlet", "list", "clip-a", "extra"),
            ("portlet", "list", "clip-a", "--place", "employee:1"),
            ("portlet", "list", "Bad Org!"),
            ("portlet", "enable", "clip-a"),
            ("portlet", "enable", "clip-a", FLU, "--place", "employee"),
            ("portlet", "enable", "clip-a", FLU, "--place", "employee:first"),
            ("portlet", "enable", "clip-a", FLU, "--place"),
            ("portlet", "enable", "clip-a", FLU, "--config", cfg, "--config-file", "x.json"),
            ("portlet", "enable", "clip-a", FLU, "--config", cfg, "--config", cfg),
            ("portlet", "enable", "clip-a", FLU, "--json"),
            ("portlet", "disable", "clip-a", FLU, "--config", cfg),
            ("portlet", "disable", "clip-a", FLU, "--place", "employee:1"),
            ("portlet", "disable", "clip-a"),
        ]:
            rc, out, err = self.cli(*args)
            self.assertEqual(rc, 2, "portico %r -> %d (%s)" % (args, rc, err))
            self.assertTrue(err.strip(), "no message for %r" % (args,))
        rc, _, err = self.cli("--data", self.server.data_dir, "--plugins", data=False)
        self.assertEqual(rc, 2, err)
        rc, out, _ = self.cli("--help", data=False)
        self.assertEqual(rc, 0)
        for cmd in ("portlet list", "portlet enable", "portlet disable", "--plugins",
                    "--place DASHBOARD:POSITION"):
            self.assertIn(cmd, out)


if __name__ == "__main__":
    main()
