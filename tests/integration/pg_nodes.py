"""porticod on PostgreSQL: what only a shared database server can show.

Run by ctest as pg.integration.nodes through run_on_postgres.py, which sets
PORTICO_TEST_STORE; this file starts and stops its own PostgreSQL so it can
take it away under a running server.

- Two nodes on one database share the signing keys through it (node B's
  data directory is empty: no key files are copied): a person logged in
  on node A uses the token on node B; logout on A is refused on B at once.
  Each node keeps its own verified-token cache, but the session is still
  read from the store on every request, so the cache never outlives a
  logout.
- The database going away: /readyz answers 503 and the API 503, without a
  hang; when it is back, both answer again with no restart of porticod,
  on the first request even on a node that saw none while it was away
  (its pooled connections are dead; one found dead empties the pool).
- Nodes starting together on an empty database end up with one key set.
- `portico keys rotate` on the shared database: node B signs with the new
  key without a restart, node A accepts B's new tokens, and tokens from
  before work on both.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_fixture  # noqa: E402
import test_keys  # noqa: E402
from portico_harness import Server, PorticoTestCase  # noqa: E402


class TwoNodesTest(PorticoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pg_fixture.PgServer().start()
        url = cls.pg.create_db()
        fast = {"keys_refresh_secs": 1}
        cls.node_a = Server(extra_args=["--store", url], config=fast).start()
        data_b = os.path.join(cls.node_a.tmp, "data-b")
        os.makedirs(data_b, exist_ok=True)
        # node B starts with nothing: the keys come from the database
        cls.node_b = Server(extra_args=["--store", url], data_dir=data_b, config=fast,
                            admin_password=cls.node_a.admin_password, key_file=False).start()
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
        self.assertEqual(os.listdir(self.node_b.data_dir), [], "node B wrote files")
        ja = self.node_a.client().get("/.well-known/jwks.json").json
        jb = self.node_b.client().get("/.well-known/jwks.json").json
        self.assertEqual(ja, jb)
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

    def test_3_rotation_reaches_node_b_without_restart(self):
        if not test_keys.cli_has_store_option():
            self.skipTest("this portico CLI has no --store option yet")
        before = self.admin_token(self.node_a)["access_token"]
        old_kid = test_keys.kid_of(before)
        rc, out, err = test_keys.run_cli(self.node_b, "keys", "rotate")
        self.assertEqual(rc, 0, out + err)
        rc, out, err = test_keys.run_cli(self.node_b, "keys", "list", "--json")
        self.assertEqual(rc, 0, out + err)
        states = {e["state"]: e["kid"] for e in json.loads(out)}
        self.assertEqual(states["previous"], old_kid)
        new_kid = states["current"]
        deadline = time.time() + 15
        while True:
            tok = self.admin_token(self.node_b)["access_token"]
            if test_keys.kid_of(tok) == new_kid or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(test_keys.kid_of(tok), new_kid, "node B still signs with the old key")
        for node in (self.node_a, self.node_b):
            self.assertEqual(node.client(tok).get("/api/v1/me").status, 200)
            self.assertEqual(node.client(before).get("/api/v1/me").status, 200)
        kids = {k["kid"] for k in
                self.node_b.client().get("/.well-known/jwks.json").json["keys"]}
        self.assertEqual(kids, set(states.values()))

    def test_4_nodes_starting_together_share_one_key_set(self):
        # three nodes start at once on an empty database, none with a key
        # file: each would make a key set, one is stored, all use it
        url = self.pg.create_db()
        nodes = [Server(extra_args=["--store", url], key_file=False,
                        admin_password=self.node_a.admin_password) for _ in range(3)]
        errors = []

        def start(n):
            try:
                n.start()
            except Exception as e:  # reported below, with the others
                errors.append(e)
        threads = [threading.Thread(target=start, args=(n,)) for n in nodes]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            jwks = [n.client().get("/.well-known/jwks.json").json for n in nodes]
            self.assertEqual(len(jwks[0]["keys"]), 2)
            self.assertTrue(all(j == jwks[0] for j in jwks), jwks)
            made = [n for n in nodes if "created the signing key set" in n.log_text()]
            self.assertEqual(len(made), 1, "one node's key set is stored")
            tok = self.admin_token(nodes[0])["access_token"]
            for n in nodes:
                self.assertEqual(n.client(tok).get("/api/v1/me").status, 200)
        finally:
            for n in nodes:
                n.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
