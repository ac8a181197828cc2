"""porticod on PostgreSQL: what only a shared database server can show.

Run by ctest as pg.integration.nodes through run_on_postgres.py, which sets
PORTICO_TEST_STORE; this file starts and stops its own PostgreSQL so it can
take it away under a running server.

- Two nodes on one database (same signing keys): a person logged in on
  node A uses the token on node B; logout on A is refused on B at once.
  Each node keeps its own verified-token cache, but the session is still
  read from the store on every request, so the cache never outlives a
  logout.
- The database going away: /readyz answers 503 and the API 503, without a
  hang; when it is back, both answer again with no restart of porticod,
  on the first request even on a node that saw none while it was away
  (its pooled connections are dead; one found dead empties the pool).
"""

import os
import shutil
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_fixture  # noqa: E402
from portico_harness import Server, PorticoTestCase  # noqa: E402


class TwoNodesTest(PorticoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pg_fixture.PgServer().start()
        url = cls.pg.create_db()
        cls.node_a = Server(extra_args=["--store", url]).start()
        os.makedirs(os.path.join(cls.node_a.tmp, "data-b"), exist_ok=True)
        data_b = os.path.join(cls.node_a.tmp, "data-b")
        for f in ("jwt-private.pem", "jwt-public.pem"):
            shutil.copy2(os.path.join(cls.node_a.data_dir, f), os.path.join(data_b, f))
        cls.node_b = Server(extra_args=["--store", url], data_dir=data_b,
                            admin_password=cls.node_a.admin_password).start()
        cls.server = cls.node_a

    @classmethod
    def tearDownClass(cls):
        for s in (cls.node_b, cls.node_a):
            s.cleanup()
        cls.pg.cleanup()

    def setUp(self):
        pass

    def run(self, result=None):
        return unittest.TestCase.run(self, result)

    def admin_token(self, node):
        r = node.client().post("/api/v1/auth/login",
                               {"username": "admin", "password": self.node_a.admin_password})
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_1_logout_on_a_is_refused_on_b(self):
        login = self.admin_token(self.node_a)
        tok = login["access_token"]
        a, b = self.node_a.client(tok), self.node_b.client(tok)
        self.assertEqual(a.get("/api/v1/me").status, 200)
        self.assertEqual(b.get("/api/v1/me").status, 200)  # B now caches the verified token
        # What A writes, B reads: an organisation made on A is listed on B.
        r = a.post("/api/v1/orgs", {"id": "shared-trust", "name": "Shared Trust"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(b.get("/api/v1/orgs/shared-trust").status, 200)
        r = a.post("/api/v1/auth/logout", {"refresh_token": login["refresh_token"]})
        self.assertIn(r.status, (200, 204), r)
        self.assertEqual(b.get("/api/v1/me").status, 401)
        self.assertEqual(a.get("/api/v1/me").status, 401)
        # The refresh token is gone for both nodes too.
        r = self.node_b.client().post("/api/v1/auth/refresh",
                                      {"refresh_token": login["refresh_token"]})
        self.assertEqual(r.status, 401, r)

    def test_2_database_away_then_back(self):
        tok = self.admin_token(self.node_b)["access_token"]
        b = self.node_b.client(tok)
        self.assertEqual(b.get("/readyz").status, 200)
        # Node A pools several connections: requests from 8 threads at once.
        def busy_a():
            c = self.node_a.client(tok)
            for _ in range(10):
                self.assertEqual(c.get("/api/v1/me").status, 200)
            c.close()
        threads = [threading.Thread(target=busy_a) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.pg.stop()
        try:
            self.assertEqual(self.node_b.client().get("/readyz").status, 503)
            self.assertEqual(b.get("/api/v1/me").status, 503)
            self.assertEqual(self.node_b.client().get("/healthz").status, 200)  # alive
        finally:
            self.pg.start()
        self.assertEqual(self.node_b.client().get("/readyz").status, 200)
        self.assertEqual(b.get("/api/v1/me").status, 200)
        # Node A saw no request while the database was away, so its pooled
        # connections are all dead: its very first requests still succeed.
        self.assertEqual(self.node_a.client().get("/readyz").status, 200)
        self.assertEqual(self.node_a.client(tok).get("/api/v1/me").status, 200)
        self.assertIsNotNone(self.node_a.proc)
        self.assertIsNone(self.node_b.proc.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
