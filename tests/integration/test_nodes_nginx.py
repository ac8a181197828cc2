"""Two stateless porticod nodes on one PostgreSQL, behind the shipped nginx
config (tools/deploy/nginx.conf with only paths and ports rewritten, as
test_nginx_front.py does).  Everything here is a real server started by
the test: PostgreSQL (pg_fixture), two porticod, nginx.

- logout through nginx refuses the token on node B at once;
- login failures spread over node A and node B lock the username on both
  (the throttle lives in the store, not in one node's memory);
- an organisation's CORS allow-list changed on node A is followed by node
  B within a few seconds (the organisations' generation in the store);
- 8 concurrent writers through nginx leave exact results: every
  acknowledged person is there once, the audit log has exactly one entry
  per person, and no two entries share a sequence number;
- `kill -9` of node A under write load: every write acknowledged before
  or after the kill is there afterwards, and nginx keeps serving from B;
- PostgreSQL crashed (`pg_ctl stop -m immediate`, fsync on) under write
  load and started again: requests answer 503 application/problem+json
  while it is down, nothing acknowledged is lost (WAL replay), and the
  nodes answer again by themselves once it is back.

The tests run in order (names numbered): the kill comes last but one, and
the database restart runs on the node that is left.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_fixture  # noqa: E402
from portico_harness import Client, Server, free_port  # noqa: E402
from test_nginx_front import NGINX, start_nginx  # noqa: E402

API = "/api/v1"
ORG = "nodes-trust"
WRITERS = 8


class Writers:
    """WRITERS threads creating people through one port until stopped.
    Every attempt is recorded with its outcome and when it ended:
    acked (201), or failed (any other status, or no answer at all, whose
    outcome the client cannot know)."""

    def __init__(self, port, token, prefix):
        self.port, self.token, self.prefix = port, token, prefix
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []   # (username, t)
        self.failed = []  # (username, status or exception name, t, content type, code)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(WRITERS)]

    def run(self, i):
        c = Client(self.port, self.token)
        n = 0
        while not self.stop.is_set():
            n += 1
            user = "%s-%d-%d" % (self.prefix, i, n)
            body = {"username": user, "display_name": "Writer " + user,
                    "email": user + "@example.org", "status": "employee"}
            try:
                r = c.post(API + "/orgs/%s/people" % ORG, body, timeout=15)
                out = (r.status, r.headers.get("Content-Type", ""),
                       r.body.get("code") if isinstance(r.body, dict) else None)
            except Exception as e:  # no answer: the outcome is unknown
                out = (type(e).__name__, "", None)
            t = time.monotonic()
            with self.lock:
                if out[0] == 201:
                    self.acked.append((user, t))
                else:
                    self.failed.append((user, out[0], t, out[1], out[2]))
            if out[0] != 201:
                time.sleep(0.02)  # no busy loop while the service is down
        c.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


class NodesBehindNginxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(NGINX, os.X_OK):
            raise unittest.SkipTest("nginx is not installed (tools/install-deps.sh)")
        cls.pg = cls.node_a = cls.node_b = cls.nginx = None
        cls.tmp = tempfile.mkdtemp(prefix="portico-nodes-")
        os.chmod(cls.tmp, 0o755)
        try:
            cls.start_all()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_all(cls):
        # Durable commits (fsync on), so the database crash of test 9 loses
        # only what was never acknowledged.
        cls.pg = pg_fixture.PgServer(durable=True).start()
        url = cls.pg.create_db()
        cfg = {"trusted_proxies": ["127.0.0.1"], "num_threads": 32}
        cls.node_a = Server(config=cfg, extra_args=["--store", url]).start()
        # Shared signing keys, as an operator copies them between hosts.
        data_b = os.path.join(cls.tmp, "data-b")
        os.makedirs(data_b)
        for f in ("jwt-private.pem", "jwt-public.pem"):
            shutil.copy2(os.path.join(cls.node_a.data_dir, f), os.path.join(data_b, f))
        cls.node_b = Server(config=cfg, extra_args=["--store", url], data_dir=data_b,
                            admin_password=cls.node_a.admin_password).start()
        cls.port = free_port()
        cls.nginx = start_nginx(cls.tmp, cls.port, [cls.node_a.port, cls.node_b.port])
        if cls.nginx is None:
            raise RuntimeError("nginx did not start")
        c = Client(cls.port)
        r = c.post(API + "/auth/login",
                   {"username": "admin", "password": cls.node_a.admin_password})
        assert r.status == 200, r
        cls.admin = r.body["access_token"]
        r = c.post(API + "/orgs", {"id": ORG, "name": "Nodes Trust"}, token=cls.admin)
        c.close()
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        if cls.nginx is not None and cls.nginx.poll() is None:
            cls.nginx.terminate()
            try:
                cls.nginx.wait(10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
        for s in (cls.node_b, cls.node_a):
            if s is not None:
                s.cleanup()
        if cls.pg is not None:
            cls.pg.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers

    def front(self, token=None):
        """A client of nginx (each test closes what it opened in tearDown)."""
        c = Client(self.port, token if token is not None else self.admin)
        self.clients.append(c)
        return c

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def people(self):
        """Every username of ORG, through nginx (paginated)."""
        c, names, cursor = self.front(), [], None
        while True:
            q = "?limit=500" + ("&cursor=" + quote(cursor) if cursor else "")
            r = c.get(API + "/orgs/%s/people%s" % (ORG, q))
            self.assertEqual(r.status, 200, r)
            names += [p["username"] for p in r.body["items"]]
            cursor = r.body["next_cursor"]
            if cursor is None:
                return names

    def audit_creates(self):
        """(target, seq-or-id) of every person.create audit entry of ORG."""
        c, out, cursor = self.front(), [], None
        while True:
            q = "?limit=500" + ("&cursor=" + quote(cursor) if cursor else "")
            r = c.get(API + "/orgs/%s/audit%s" % (ORG, q))
            self.assertEqual(r.status, 200, r)
            out += [e for e in r.body["items"] if e["action"] == "person.create"]
            cursor = r.body["next_cursor"]
            if cursor is None:
                return out

    def assert_all_acked_present(self, w):
        present = set(self.people())
        acked = [u for u, _ in w.acked]
        missing = [u for u in acked if u not in present]
        self.assertEqual(missing, [], "acknowledged writes lost")
        return present

    # -- tests

    def test_1_logout_through_nginx_refuses_the_token_on_b(self):
        r = self.front("").post(API + "/auth/login",
                                {"username": "admin", "password": self.node_a.admin_password})
        self.assertEqual(r.status, 200, r)
        tok, refresh = r.body["access_token"], r.body["refresh_token"]
        a, b = self.node_a.client(tok), self.node_b.client(tok)
        self.clients += [a, b]
        self.assertEqual(a.get(API + "/me").status, 200)
        self.assertEqual(b.get(API + "/me").status, 200)  # B has now verified (cached) it
        r = a.post(API + "/auth/logout", {"refresh_token": refresh})
        self.assertIn(r.status, (200, 204), r)
        self.assertEqual(b.get(API + "/me").status, 401)
        for _ in range(4):  # whichever node nginx picks
            self.assertEqual(self.front(tok).get(API + "/me").status, 401)
        r = b.post(API + "/auth/refresh", {"refresh_token": refresh}, token="")
        self.assertEqual(r.status, 401, r)

    def test_2_login_failures_on_a_and_b_lock_the_name_on_both(self):
        c = self.front()
        r = c.post(API + "/orgs/%s/people" % ORG,
                   {"username": "guessme", "display_name": "Guess Me",
                    "email": "guessme@example.org", "status": "employee",
                    "password": "Right-Passw0rd-123"})
        self.assertEqual(r.status, 201, r)
        a, b = self.node_a.client(), self.node_b.client()
        self.clients += [a, b]
        wrong = {"username": "guessme", "password": "wrong-password-1"}
        right = {"username": "guessme", "password": "Right-Passw0rd-123"}
        # login_max_failures is 5: three on A and two on B are five in all
        for node in (a, b, a, b, a):
            r = node.post(API + "/auth/login", wrong, token="")
            self.assertEqual(r.status, 401, r)
        for node in (a, b):
            r = node.post(API + "/auth/login", right, token="")
            self.assertEqual(r.status, 429, "the name is locked on every node: %r" % r)
            self.assertEqual(r.body["code"], "too_many_attempts", r)
            self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)

    def test_4_cors_list_changed_on_a_is_followed_by_b(self):
        def preflight(node):
            c = node.client()
            self.clients.append(c)
            return c.request("OPTIONS", API + "/me", token="", headers={
                "Origin": "https://nodes.example.org",
                "Access-Control-Request-Method": "GET"}).status
        self.assertEqual(preflight(self.node_b), 403)  # B has loaded the list now
        a = self.node_a.client(self.admin)
        self.clients.append(a)
        r = a.patch(API + "/orgs/" + ORG,
                    {"settings": {"cors_origins": ["https://nodes.example.org"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(preflight(self.node_a), 204)
        deadline = time.monotonic() + 5  # B looks at the store at most once a second
        while preflight(self.node_b) != 204:
            self.assertLess(time.monotonic(), deadline, "node B never saw A's CORS change")
            time.sleep(0.1)

    def test_3_eight_writers_through_both_nodes_leave_exact_counts(self):
        before = set(self.people())
        with Writers(self.port, self.admin, "w") as w:
            time.sleep(4)
        self.assertEqual(w.failed, [], "no write may fail while both nodes are up")
        acked = [u for u, _ in w.acked]
        print("8 writers through nginx: %d people created" % len(acked))
        self.assertGreater(len(acked), 40)
        self.assertEqual(len(acked), len(set(acked)))
        now = set(self.people())
        self.assertEqual(now - before, set(acked), "exactly the acknowledged people, no more")
        creates = [e for e in self.audit_creates()
                   if e["target"].rsplit("/", 1)[-1].startswith("w-")]
        self.assertEqual(sorted(e["target"].rsplit("/", 1)[-1] for e in creates), sorted(acked),
                         "one audit entry per person: no lost update of the audit sequence")
        seqs = [e["seq"] for e in self.audit_creates()]
        self.assertEqual(len(seqs), len(set(seqs)), "audit sequence numbers are unique")
        # both nodes answered some of them
        log_a, log_b = self.node_a.log_text(), self.node_b.log_text()
        self.assertIn('"method":"POST","path":"/api/v1/orgs/%s/people"' % ORG, log_a)
        self.assertIn('"method":"POST","path":"/api/v1/orgs/%s/people"' % ORG, log_b)

    def test_8_kill_9_of_one_node_loses_no_acknowledged_write(self):
        with Writers(self.port, self.admin, "k") as w:
            time.sleep(2)
            killed_at = time.monotonic()
            self.node_a.kill9()
            time.sleep(3)
        after = [u for u, t in w.acked if t > killed_at]
        print("kill -9 of node A under 8 writers: %d writes acknowledged (%d after the kill), "
              "%d failed or unanswered" % (len(w.acked), len(after), len(w.failed)))
        self.assertGreater(len(after), 10, "nginx keeps serving writes from node B")
        present = self.assert_all_acked_present(w)
        found = len([u for u, _ in w.acked if u in present])
        mine = set(u for u in present if u.startswith("k-"))
        self.assertLessEqual(mine - set(u for u, _ in w.acked), set(f[0] for f in w.failed),
                             "nothing but the attempted writes")
        print("acknowledged writes found afterwards: %d of %d; unacknowledged but committed "
              "(in flight when A died): %d" % (found, len(w.acked),
                                                len(mine) - found))
        # the requests in flight on A when it died are the only failures,
        # and nginx answers them as 503 unavailable (not replayed on B)
        self.assertLessEqual(len(w.failed), WRITERS * 2, w.failed)
        for f in w.failed:
            self.assertEqual((f[1], f[3], f[4]), (503, "application/problem+json", "unavailable"),
                             f)
        for _ in range(20):
            self.assertEqual(self.front().get(API + "/me").status, 200)
            self.assertEqual(self.front().get(API + "/orgs/%s" % ORG).status, 200)

    def test_9_postgres_restarted_under_load(self):
        # Node A may be gone (test 8): the load goes through nginx to B.
        with Writers(self.port, self.admin, "p") as w:
            time.sleep(1.5)
            self.pg.stop(mode="immediate")  # a crash: the restart replays the WAL
            stopped_at = time.monotonic()
            try:
                time.sleep(1.5)
                down = [self.front().get(API + "/me") for _ in range(5)]
            finally:
                self.pg.start()
            back_at = time.monotonic()
            node_ready_at = recovered_at = None
            direct = self.node_b.client()
            self.clients.append(direct)
            while time.monotonic() < back_at + 30:  # node B itself, not through nginx
                if direct.get("/readyz").status == 200:
                    node_ready_at = time.monotonic()
                    break
                time.sleep(0.01)
            while time.monotonic() < back_at + 30:
                with w.lock:
                    ok = [t for _, t in w.acked if t > back_at]
                if ok:
                    recovered_at = min(ok)
                    break
                time.sleep(0.05)
            time.sleep(1)
        for r in down:
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
            self.assertEqual(r.body["code"], "unavailable", r)
        during = [f for f in w.failed if stopped_at < f[2] < back_at]
        self.assertTrue(during, "writes fail while the database is down")
        for f in during:
            self.assertEqual(f[1], 503, f)
            self.assertEqual(f[3], "application/problem+json", f)
            self.assertEqual(f[4], "unavailable", f)
        self.assertIsNotNone(node_ready_at, "node B ready again without a restart")
        self.assertIsNotNone(recovered_at, "writes succeed again without restarting porticod")
        print("PostgreSQL crashed under 8 writers: %d acknowledged, %d refused while down; "
              "node B ready %.2f s and first write through nginx acknowledged %.2f s after "
              "PostgreSQL was back" % (len(w.acked), len(during), node_ready_at - back_at,
                                       recovered_at - back_at))
        present = self.assert_all_acked_present(w)
        print("acknowledged writes found afterwards: %d of %d"
              % (len([u for u, _ in w.acked if u in present]), len(w.acked)))
        self.assertEqual(self.front().get("/readyz").status, 200)
        self.assertIsNone(self.node_b.proc.poll(), "node B was not restarted")


if __name__ == "__main__":
    unittest.main(verbosity=2)
