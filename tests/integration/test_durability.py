"""Durability: every acknowledged write survives kill -9, and the store stays
readable.  Writers run in several threads so requests are in flight when the
server dies."""

import http.client
import json
import threading
import time
import unittest
from urllib.parse import quote

import portico_harness as h
from portico_harness import API

ROUNDS = 3
WRITERS = 4


class DurabilityTest(unittest.TestCase):

    def setUp(self):
        self.server = h.Server()
        self.server.start()
        self.failed = False

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            print("---- porticod stderr ----\n" + getattr(self, "_log", "")[-20000:])
        return out

    def tearDown(self):
        self._log = self.server.log_text()
        self.server.cleanup()

    def admin_token(self):
        c = self.server.client()
        r = c.post(API + "/auth/login", {"username": "admin",
                                          "password": self.server.admin_password})
        c.close()
        self.assertEqual(r.status, 200, r)
        return r.body["access_token"]

    def list_all(self, token):
        c = self.server.client(token)
        names, cursor, pages = [], None, 0
        while True:
            q = "?limit=37" + ("&cursor=" + quote(cursor) if cursor else "")
            r = c.get(API + "/orgs/dur/people" + q)
            self.assertEqual(r.status, 200, r)
            for p in r.body["items"]:
                self.assertEqual(p["display_name"], "Durable " + p["username"])
                names.append(p["username"])
            cursor = r.body["next_cursor"]
            pages += 1
            self.assertLess(pages, 10000)
            if cursor is None:
                break
        c.close()
        self.assertEqual(names, sorted(names))
        self.assertEqual(len(names), len(set(names)), "duplicates in listing")
        return names

    def writer(self, token, prefix, acked, stop):
        conn = None
        i = 0
        while not stop.is_set():
            name = "%s-%05d" % (prefix, i)
            body = json.dumps({"username": name, "display_name": "Durable " + name,
                               "email": name + "@example.org", "status": "employee"})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
                conn.request("POST", API + "/orgs/dur/people", body=body,
                             headers={"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):
                return  # server gone; this request was never acknowledged
            if r.status == 201:
                acked.append(name)
            elif r.status >= 500:
                self.failed = True
                acked.append("!%d %s" % (r.status, name))
            i += 1
        if conn:
            conn.close()

    def test_kill9_loses_nothing_acknowledged(self):
        tok = self.admin_token()
        c = self.server.client(tok)
        r = c.post(API + "/orgs", {"id": "dur", "name": "Durable"})
        self.assertEqual(r.status, 201, r)
        c.close()
        all_acked = []
        for rnd in range(ROUNDS):
            acked, stop = [], threading.Event()
            threads = [threading.Thread(target=self.writer,
                                        args=(tok, "r%dw%d" % (rnd, w), acked, stop))
                       for w in range(WRITERS)]
            for t in threads:
                t.start()
            # kill once enough writes are acknowledged and more are in flight
            deadline = time.time() + 20
            while len(acked) < 40 + 20 * rnd and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(0.05 * rnd)
            self.server.kill9()
            stop.set()
            for t in threads:
                t.join(15)
            errors = [a for a in acked if a.startswith("!")]
            self.assertEqual(errors, [], "5xx while writing")
            self.assertGreater(len(acked), 10, "too few writes acknowledged in round %d" % rnd)
            all_acked += acked
            print("round %d: %d acknowledged before kill -9" % (rnd, len(acked)))
            self.server.start()
            tok = self.admin_token()
            present = set(self.list_all(tok))
            missing = [a for a in all_acked if a not in present]
            self.assertEqual(missing, [], "round %d: acknowledged but lost after kill -9 "
                             "(%d of %d)" % (rnd, len(missing), len(all_acked)))
            # the store still takes writes and answers health checks
            c = self.server.client(tok)
            self.assertEqual(c.get("/readyz").status, 200)
            r = c.post(API + "/orgs/dur/people",
                       {"username": "after-%d" % rnd, "display_name": "Durable after-%d" % rnd,
                        "email": "a@example.org", "status": "employee"})
            self.assertEqual(r.status, 201, r)
            all_acked.append("after-%d" % rnd)
            c.close()
        # a clean stop and start keeps everything too
        self.server.restart()
        present = set(self.list_all(self.admin_token()))
        self.assertEqual([a for a in all_acked if a not in present], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
