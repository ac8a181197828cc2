"""The shipped nginx front (tools/deploy/nginx.conf) in front of porticod:
1,000 slow clients held open against nginx leave /healthz answering in
under 100 ms, one address cannot hold more than limit_conn requests, and
porticod names the real client (X-Forwarded-For from a trusted proxy only).

nginx runs as the current user with its own prefix, temp dirs, pid file and
error log in a temp dir, `daemon off`, on a free loopback port; only the
environment-specific lines of the shipped file are rewritten."""

import os
import pwd
import re
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import unittest

from portico_harness import Server, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SOURCE = os.environ.get("PORTICO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHIPPED = os.path.join(SOURCE, "tools", "deploy", "nginx.conf")


def nginx_conf(tmp, port, upstream_ports):
    """The shipped config with paths and ports of this test run.  The
    upstream's node lines keep their parameters (max_fails, ...) and get
    this run's ports in order; lines beyond upstream_ports are dropped."""
    with open(SHIPPED) as f:
        text = f.read()
    if isinstance(upstream_ports, int):
        upstream_ports = [upstream_ports]
    nodes = re.findall(r"(?m)^\s*server 127\.0\.0\.1:\d+\b[^;]*;.*\n", text)
    assert len(nodes) >= len(upstream_ports), "shipped nginx.conf lists %d nodes" % len(nodes)
    for i, line in enumerate(nodes):
        rep = (re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % upstream_ports[i], line)
               if i < len(upstream_ports) else "")
        text = text.replace(line, rep, 1)
    subs = [
        (r"(?m)^user [^;]*;", "user %s;" % pwd.getpwuid(os.geteuid()).pw_name
         if os.geteuid() == 0 else ""),
        (r"(?m)^pid [^;]*;", "pid %s/nginx.pid;" % tmp),
        (r"(?m)^error_log [^;]*;", "error_log %s/error.log info;" % tmp),
        (r"(?m)^(\s*)access_log [^;]*;", r"\1access_log %s/access.log;" % tmp),
        (r"(?m)^(\s*)listen 80;", r"\1listen 127.0.0.1:%d;" % port),
        (r"(?m)^worker_processes [^;]*;", "worker_processes 1;"),
        (r"(?m)^worker_rlimit_nofile [^;]*;", ""),
        (r"(?m)^(\s*)worker_connections [^;]*;", r"\1worker_connections 4096;"),
    ]
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text)
        assert n == 1, "shipped nginx.conf has no line for %s" % pat
    temp = "".join("    %s_temp_path %s/%s;\n" % (k, tmp, k)
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = text.replace("http {\n", "http {\n" + temp, 1)
    return "daemon off;\n" + text


def start_nginx(tmp, port, upstream_ports):
    """nginx on the shipped config (nginx_conf) in tmp, once it answers
    /healthz on port; None if it did not come up within 15 s (its error
    log is tmp/error.log)."""
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(tmp, port, upstream_ports))
    proc = subprocess.Popen([NGINX, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "stderr.log"), "wb"))
    deadline = time.time() + 15
    while True:
        try:
            if get(port, "/healthz")[0] == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            return None
        time.sleep(0.05)


def get(port, path, src="127.0.0.1", headers=b"", timeout=5):
    """(status, body, seconds) of one GET on a fresh connection."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: portico\r\n" + headers +
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body, time.monotonic() - t0


class NginxFrontTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(NGINX, os.X_OK):
            raise unittest.SkipTest("nginx is not installed (tools/install-deps.sh)")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        cls.server = Server(config={"trusted_proxies": ["127.0.0.1"]},
                            extra_args=["--log-level", "debug"])
        cls.server.start()
        cls.tmp = tempfile.mkdtemp(prefix="portico-nginx-")
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        cls.nginx = start_nginx(cls.tmp, cls.port, cls.server.port)
        if cls.nginx is None:
            log = cls.nginx_log()
            cls.tearDownClass()
            raise RuntimeError("nginx did not start: %s" % log)

    @classmethod
    def nginx_log(cls):
        out = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(cls.tmp, name)) as f:
                    out += f.read()[-4000:]
            except OSError:
                pass
        return out

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "nginx", None) is not None and cls.nginx.poll() is None:
            cls.nginx.terminate()
            try:
                cls.nginx.wait(10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
        if getattr(cls, "server", None) is not None:
            cls.server.stop()
            cls.server.cleanup()
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)

    def test_health_fast_while_1000_slow_clients_are_held(self):
        slow, stop = [], threading.Event()
        try:
            for i in range(1000):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                             source_address=("127.0.0.2", 0))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: por")  # a partial header
                slow.append(s)

            def trickle():  # one more header byte on each, every 0.5 s
                while not stop.wait(0.5):
                    for s in slow:
                        try:
                            s.send(b"t")
                        except OSError:
                            pass
            t = threading.Thread(target=trickle, daemon=True)
            t.start()
            time.sleep(0.5)
            took = []
            for _ in range(9):
                status, _, secs = get(self.port, "/healthz")
                self.assertEqual(status, 200)
                took.append(secs)
                time.sleep(0.1)
            print("healthz via nginx, 1000 slow clients held: median %.1f ms, max %.1f ms" % (statistics.median(took) * 1000, max(took) * 1000))
            self.assertLess(statistics.median(took), 0.1,
                            "/healthz through nginx: %s s" % ["%.3f" % x for x in took])
            self.assertLess(max(took), 1.0)
            # the slow clients are still connected: nginx holds them, not porticod
            alive = 0
            for s in slow[:50]:
                s.setblocking(False)
                try:
                    alive += s.recv(1) != b""
                except BlockingIOError:
                    alive += 1
                except OSError:
                    pass
            self.assertGreater(alive, 40)
        finally:
            stop.set()
            for s in slow:
                s.close()

    def test_one_address_cannot_hold_more_than_64_requests(self):
        held, refused = [], 0
        try:
            for _ in range(100):  # headers complete, body never finished
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                             source_address=("127.0.0.3", 0))
                s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: portico\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                held.append(s)
            time.sleep(0.5)
            for s in held:
                s.setblocking(False)
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                if data.startswith(b"HTTP/1.1 429"):
                    self.assertIn(b"application/problem+json", data)
                    refused += 1
            self.assertEqual(refused, 100 - 64)
            # another address is unaffected, and porticod never saw the bodies
            status, _, secs = get(self.port, "/healthz")
            self.assertEqual(status, 200)
        finally:
            for s in held:
                s.close()

    def test_oversized_body_is_refused_by_nginx_as_problem(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: portico\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n")
            data = b""
            while b"}" not in data:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        finally:
            s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:200])
        self.assertIn(b"application/problem+json", data)
        self.assertIn(b'"code":"payload_too_large"', data)

    def test_porticod_sees_the_client_address(self):
        # through nginx from 127.0.0.5, with a forged header nginx replaces
        self.assertEqual(get(self.port, "/readyz?via=nginx", src="127.0.0.5",
                             headers=b"X-Forwarded-For: 203.0.113.66\r\n")[0], 200)
        # straight to porticod from an untrusted peer: the header is ignored
        self.assertEqual(get(self.server.port, "/readyz?via=direct", src="127.0.0.6",
                             headers=b"X-Forwarded-For: 203.0.113.77\r\n")[0], 200)
        deadline = time.time() + 5
        log = ""
        while time.time() < deadline:
            log = self.server.log_text()
            if '"remote":"127.0.0.6","method":"GET","path":"/readyz"' in log:
                break
            time.sleep(0.05)
        # the JSON access log names the client porticod saw
        self.assertIn('"remote":"127.0.0.5","method":"GET","path":"/readyz"', log)
        self.assertIn('"remote":"127.0.0.6","method":"GET","path":"/readyz"', log)
        self.assertNotIn("203.0.113.66", log)
        self.assertNotIn("203.0.113.77", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
