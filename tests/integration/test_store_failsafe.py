"""The store fails safe: a data.mdb cut short, empty or missing beside the
keys of a used data directory is refused at start with a message saying
what is wrong and what to do, never a SIGBUS or a silent empty store; a
fresh empty directory still starts.

The data.mdb checks are LMDB's by nature (skipped on PostgreSQL, where
PORTICO_TEST_STORE is set); on PostgreSQL a database whose schema is newer
than porticod's is refused instead."""

import os
import signal
import subprocess
import unittest

import portico_harness as h
from portico_harness import API


ON_PG = bool(os.environ.get("PORTICO_TEST_STORE"))
LMDB_ONLY = "checks of the LMDB file data.mdb; a PostgreSQL store has no such file"


def portico_path():
    build = os.environ.get("PORTICO_BUILD_DIR") or os.path.join("..", "..", "build")
    return os.path.join(build, "portico")


class StoreFailSafeTest(unittest.TestCase):
    def setUp(self):
        self.server = h.Server()

    def tearDown(self):
        self.server.cleanup()

    def used_store(self):
        """Starts the server, writes some data, stops it: a used data dir."""
        self.server.start()
        c = self.server.client()
        r = c.post(API + "/auth/login", {"username": "admin",
                                          "password": self.server.admin_password})
        tok = r.body["access_token"]
        self.assertEqual(c.post(API + "/orgs", {"id": "fs", "name": "Fail Safe"},
                                token=tok).status, 201)
        for i in range(40):
            r = c.post(API + "/orgs/fs/people",
                       {"username": "p%03d" % i, "display_name": "Person %d" % i,
                        "email": "p%d@example.org" % i, "status": "employee"}, token=tok)
            self.assertEqual(r.status, 201, r)
        c.close()
        self.assertEqual(self.server.stop(), 0)
        return os.path.join(self.server.data_dir, "data.mdb")

    def start_refused(self, *needles):
        """porticod must exit non-zero (not by a signal) with each needle
        in its stderr."""
        self.server.port = h.free_port()
        env = dict(os.environ, PORTICO_ADMIN_PASSWORD=self.server.admin_password)
        p = subprocess.run(self.server.argv(), env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        self.assertGreater(p.returncode, 0, "porticod exit %s (%s)\n%s" % (
            p.returncode, "signal %s" % signal.Signals(-p.returncode).name
            if p.returncode < 0 else "no signal", err))
        for n in needles:
            self.assertIn(n, err)
        return err

    def check_refused(self, *needles):
        p = subprocess.run([portico_path(), "--data", self.server.data_dir, "check"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 1, err)
        for n in needles:
            self.assertIn(n, err)

    @unittest.skipIf(ON_PG, LMDB_ONLY)
    def test_truncated_store_is_refused_not_sigbus(self):
        path = self.used_store()
        size = os.path.getsize(path)
        self.assertGreater(size, 8 * 4096)
        os.truncate(path, size // 2)
        self.start_refused("truncated", "data.mdb", "portico backup")
        self.check_refused("truncated", "portico backup")
        self.assertEqual(os.path.getsize(path), size // 2, "the damaged file was changed")

    @unittest.skipIf(ON_PG, LMDB_ONLY)
    def test_empty_store_beside_keys_is_refused(self):
        path = self.used_store()
        os.truncate(path, 0)
        self.start_refused("empty", "used before", "portico backup")
        self.check_refused("empty", "used before")
        self.assertEqual(os.path.getsize(path), 0, "an empty store was created anyway")

    @unittest.skipIf(ON_PG, LMDB_ONLY)
    def test_missing_store_beside_keys_is_refused(self):
        path = self.used_store()
        os.unlink(path)
        self.start_refused("missing", "used before", "portico backup")
        self.assertFalse(os.path.exists(path))

    @unittest.skipIf(ON_PG, LMDB_ONLY)
    def test_not_an_lmdb_file_is_refused(self):
        path = self.used_store()
        with open(path, "r+b") as f:
            f.write(b"\0" * 8192)
        self.start_refused("not an LMDB data file", "portico backup")

    def test_fresh_directory_starts_and_intact_store_restarts(self):
        self.used_store()  # fresh empty dir started fine
        self.server.start()  # and the intact store restarts
        c = self.server.client()
        r = c.post(API + "/auth/login", {"username": "admin",
                                          "password": self.server.admin_password})
        self.assertEqual(r.status, 200)
        c.close()
        self.assertEqual(self.server.stop(), 0)

    @unittest.skipUnless(ON_PG, "a PostgreSQL schema version (run under run_on_postgres.py)")
    def test_newer_postgres_schema_is_refused(self):
        self.used_store()
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                            self.server.store_url, "-c",
                            "INSERT INTO schema_version VALUES (999)"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.start_refused("schema version 999", "upgrade porticod")
        p = subprocess.run([portico_path()] + self.server.store_args() + ["check"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"schema version 999", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
