"""Idle and slow connections against porticod itself: they must not leave
/healthz unanswered (CivetWeb gives every connection a worker thread from
accept to close), and porticod's own timeouts cut header trickles, idle
keep-alive connections and slow bodies."""

import json
import os
import socket
import time
import unittest

from portico_harness import Server


def http_get(port, path, timeout, src="127.0.0.1"):
    """One GET on a fresh connection; returns (status, seconds taken)."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    return int(data.split(b" ", 2)[1]), time.monotonic() - t0


def wait_closed(s, limit):
    """Seconds until the server closes s (reads and discards), or None."""
    t0 = time.monotonic()
    s.settimeout(0.1)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - t0
    return None


def start_server(config):
    srv = Server(config=config)
    # the harness pins num_threads for speed; these tests want the default
    with open(srv.config_path) as f:
        cfg = json.load(f)
    cfg.pop("num_threads", None)
    cfg.update(config)
    with open(srv.config_path, "w") as f:
        json.dump(cfg, f)
    srv.start()
    return srv


class IdleConnectionsTest(unittest.TestCase):
    """Defaults: enough worker threads that a hundred idle connections do
    not starve the health check (before: 64 threads, 30 s to answer)."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server({})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def test_health_answers_while_100_idle_connections_are_open(self):
        idle = []
        try:
            for _ in range(100):
                idle.append(socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                                     source_address=("127.0.0.2", 0)))
            time.sleep(0.3)  # every idle connection has been handed to a worker
            status, took = http_get(self.server.port, "/healthz", timeout=10)
            self.assertEqual(status, 200)
            self.assertLess(took, 2.0, "/healthz took %.1f s with 100 idle connections" % took)
        finally:
            for s in idle:
                s.close()


class TimeoutsTest(unittest.TestCase):
    """Short timeouts configured, so the test sees them act in seconds."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server({"request_timeout_ms": 1000, "keep_alive_timeout_ms": 1000,
                                   "body_timeout_ms": 1000})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=5)

    def test_header_trickle_is_cut(self):
        s = self.connect()
        try:
            t0 = time.monotonic()
            closed = False
            for _ in range(40):  # 8 s of one header byte every 0.2 s
                try:
                    s.sendall(b"X")
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if wait_closed(s, 0.2) is not None:
                    closed = True
                    break
            took = time.monotonic() - t0
            self.assertTrue(closed, "a trickled header kept its connection for 8 s")
            self.assertLess(took, 4.0)
        finally:
            s.close()

    def test_idle_keep_alive_is_closed(self):
        s = self.connect()
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b'"ok"' not in data and b"}" not in data:
                data += s.recv(4096)
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
            took = wait_closed(s, 8)
            self.assertIsNotNone(took, "an idle keep-alive connection stayed open 8 s")
            self.assertLess(took, 4.0)
        finally:
            s.close()

    def test_slow_body_is_refused(self):
        s = self.connect()
        try:
            s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n")
            t0 = time.monotonic()
            data = b""
            s.settimeout(0.05)
            while time.monotonic() - t0 < 10 and not data:
                try:
                    s.sendall(b" " * 4096)  # 4 KiB every 0.3 s: 14 KB/s
                except (BrokenPipeError, ConnectionResetError):
                    break
                time.sleep(0.25)
                try:
                    data += s.recv(65536)
                except socket.timeout:
                    pass
            took = time.monotonic() - t0
            self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data[:200])
            self.assertIn(b"request_timeout", data)
            self.assertLess(took, 4.0)
        finally:
            s.close()

    def test_normal_requests_still_work(self):
        status, _ = http_get(self.server.port, "/healthz", timeout=5)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
