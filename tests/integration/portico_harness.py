"""Integration test harness for porticod (Python standard library only).

Starts the real server on a free loopback port with a temporary data
directory and a fast Argon2 configuration, talks to it over keep-alive HTTP,
and offers helpers for logins, organisations, people, the test clock,
forged JWTs and TOTP codes.

Environment (set by ctest): PORTICOD, PORTICO_BUILD_DIR, PORTICO_SOURCE_DIR,
PORTICO_PLUGINS, PORTICO_TEST_PLUGINS, PORTICO_TOOLS.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

API = "/api/v1"
PROBLEM_BASE = "https://portico.dev/problems/"


def _env_path(name, default=None):
    v = os.environ.get(name)
    return v if v else default


def porticod_path():
    p = _env_path("PORTICOD")
    if not p:
        build = _env_path("PORTICO_BUILD_DIR", "../../build")
        p = os.path.join(build, "porticod")
    return p


def free_port():
    """A free loopback TCP port (bind port 0, read it, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- base64/JWT


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if isinstance(text, str):
        text = text.encode("ascii")
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def jwt_parts(token):
    """(header dict, payload dict, signature bytes) of a compact JWT."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


# ------------------------------------------------- ECDSA P-256 (pure Python)
# Used to forge tokens with the server's own key (so that a rejection is
# caused by the claim under test, not by a bad signature) and to verify the
# server's tokens against the key published in the JWKS.

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (lam * lam - x1 - x2) % _P
    return (x3, (lam * (x1 - x3) - y1) % _P)


def _ec_mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = _ec_add(acc, pt)
        pt = _ec_add(pt, pt)
        k >>= 1
    return acc


def ecdsa_sign(d, msg):
    z = int.from_bytes(hashlib.sha256(msg).digest(), "big")
    while True:
        k = secrets.randbelow(_N - 1) + 1
        r = _ec_mul(k, _G)[0] % _N
        if r == 0:
            continue
        s = pow(k, -1, _N) * (z + r * d) % _N
        if s > _N // 2:  # porticod accepts only low-S signatures
            s = _N - s
        if s:
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def ecdsa_verify(pub, msg, sig):
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < _N and 0 < s < _N):
        return False
    z = int.from_bytes(hashlib.sha256(msg).digest(), "big")
    w = pow(s, -1, _N)
    pt = _ec_add(_ec_mul(z * w % _N, _G), _ec_mul(r * w % _N, pub))
    return pt is not None and pt[0] % _N == r


def _pem_der(path):
    with open(path, "rb") as f:
        text = f.read().decode("ascii")
    body = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
    return base64.b64decode(body)


def ec_private_from_pem(path):
    """The private scalar of a P-256 key in SEC1 or PKCS#8 PEM."""
    der = _pem_der(path)
    i = der.find(b"\x02\x01\x01\x04\x20")  # version 1, OCTET STRING(32)
    if i < 0:
        raise ValueError("no EC private key in %s" % path)
    return int.from_bytes(der[i + 5:i + 37], "big")


def ec_public_from_pem(path):
    der = _pem_der(path)
    i = der.find(b"\x03\x42\x00\x04")  # BIT STRING, uncompressed point
    if i < 0:
        raise ValueError("no EC public key in %s" % path)
    pt = der[i + 4:i + 68]
    return (int.from_bytes(pt[:32], "big"), int.from_bytes(pt[32:], "big"))


_P256_OID = bytes.fromhex("06082a8648ce3d030107")
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d0201") + _P256_OID + bytes.fromhex("034200")


def write_key_pair(data_dir):
    """A fresh P-256 key as jwt-private.pem (SEC1) and jwt-public.pem
    (SubjectPublicKeyInfo) in data_dir: what porticod wrote there before
    the store kept the keys.  porticod imports it into a new store, so the
    tests know the private key that signs (to forge tokens with it)."""
    d = secrets.randbelow(_N - 1) + 1
    x, y = _ec_mul(d, _G)
    point = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    sec1 = (bytes.fromhex("30770201010420") + d.to_bytes(32, "big") + bytes.fromhex("a00a") +
            _P256_OID + bytes.fromhex("a144034200") + point)
    spki = _SPKI_PREFIX + point

    def pem(label, der):
        b = base64.b64encode(der).decode()
        lines = [b[i:i + 64] for i in range(0, len(b), 64)]
        return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)

    priv = os.path.join(data_dir, "jwt-private.pem")
    fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem("EC PRIVATE KEY", sec1))
    with open(os.path.join(data_dir, "jwt-public.pem"), "w") as f:
        f.write(pem("PUBLIC KEY", spki))


def kid_of_public_pem(path):
    """porticod's kid for a key: base64url of the first 16 bytes of the
    SHA-256 of its SubjectPublicKeyInfo DER."""
    return b64url(hashlib.sha256(_pem_der(path)).digest()[:16])


def sign_jwt(alg, header, claims, key=None):
    """Compact JWT. alg ES256 (key = private scalar), HS256 (key = bytes),
    or none (empty signature)."""
    h = dict(header or {})
    h.setdefault("alg", alg)
    h.setdefault("typ", "JWT")
    signing_input = (b64url(json.dumps(h, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    if alg == "ES256":
        sig = ecdsa_sign(key, signing_input.encode())
    elif alg == "HS256":
        sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    elif alg.lower() == "none":
        sig = b""
    else:
        raise ValueError(alg)
    return signing_input + "." + b64url(sig)


# ---------------------------------------------------------------------- TOTP


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 TOTP (HMAC-SHA1) for a base32 secret at time `at` (epoch s)."""
    if at is None:
        at = time.time()
    s = secret_b32.strip().replace(" ", "").upper()
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    counter = int(at) // step
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(code).zfill(digits)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


# -------------------------------------------------------------------- client


def _peer_closed(sock):
    """True if the peer has closed (or reset) this idle connection."""
    import select
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Response:
    """An HTTP answer. Unpacks as (status, headers, body)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive)
        self.raw = raw
        ctype = (headers.get("Content-Type") or "").lower()
        self.body = raw
        if "json" in ctype and raw:
            try:
                self.body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.body = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    @property
    def json(self):
        return self.body

    def __repr__(self):
        b = self.raw[:600]
        return "<Response %d %s %r>" % (self.status, self.headers.get("Content-Type"), b)


class Client:
    """Keep-alive HTTP/1.1 client for one server.  Records every token it
    sees in a response so the log test can check none was logged."""

    def __init__(self, port, token=None, seen_secrets=None):
        self.port = port
        self.token = token
        self.conn = None
        self.seen_secrets = seen_secrets if seen_secrets is not None else set()
        self.responses_without_length = []

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def with_token(self, token):
        return Client(self.port, token, self.seen_secrets)

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                content_type="application/json", timeout=30):
        hdrs = {}
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        if self.conn is not None and self.conn.sock is not None and _peer_closed(self.conn.sock):
            self.close()  # the server closed the idle keep-alive connection
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            r = self.conn.getresponse()
            payload = r.read()
        except Exception:
            # never retried: the request may have reached the server
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close" or r.will_close:
            self.close()
        resp = Response(r.status, r.headers, payload)
        if r.getheader("Content-Length") is None and r.status not in (204, 304):
            self.responses_without_length.append((method, path, r.status))
        self._remember(resp.body)
        return resp

    def _remember(self, body):
        if isinstance(body, dict):
            for k in ("access_token", "refresh_token", "secret"):
                v = body.get(k)
                if isinstance(v, str) and len(v) >= 8:
                    self.seen_secrets.add(v)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


# -------------------------------------------------------------------- server


class Server:
    """One porticod process on a temp data dir."""

    def __init__(self, plugins=None, config=None, admin_password=None, data_dir=None,
                 extra_args=None, lmdb=False, key_file=True):
        self.tmp = tempfile.mkdtemp(prefix="portico-itest-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        # The signing key starts as a file that porticod imports into its
        # new store, so tests can sign with it (forge_token); key_file=False
        # leaves the data dir empty (a node that takes the store's keys).
        if key_file and not os.path.exists(os.path.join(self.data_dir, "jwt-private.pem")):
            write_key_pair(self.data_dir)
        self.admin_password = admin_password or ("Adm1n-" + secrets.token_hex(12))
        cfg = {"pwhash_ops": 1, "pwhash_mem": 8192, "num_threads": 16}
        if config:
            cfg.update(config)
        self.config_path = os.path.join(self.tmp, "config.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.plugins = plugins
        self.extra_args = list(extra_args or [])
        # PORTICO_TEST_STORE (a postgres:// URL of a server the test run
        # started, see pg_fixture.py): every server gets a fresh database
        # there instead of LMDB in its data dir (lmdb=True: the data dir's
        # LMDB store all the same, e.g. a server started on a backup).
        self.store_url = None
        admin_url = os.environ.get("PORTICO_TEST_STORE")
        if admin_url and not lmdb and "--store" not in self.extra_args:
            import pg_fixture
            self.store_url = pg_fixture.create_db_at(admin_url)
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.tmp, "stderr.log")
        self.out_path = os.path.join(self.tmp, "stdout.log")
        self.seen_secrets = set()
        self.starts = 0

    # -- lifecycle
    def argv(self):
        a = [porticod_path(), "--listen", "127.0.0.1:%d" % self.port, "--data", self.data_dir,
             "--config", self.config_path, "--test-clock"]
        if self.plugins:
            a += ["--plugins", self.plugins]
        if self.store_url:
            a += ["--store", self.store_url]
        return a + self.extra_args

    def store_args(self):
        """The `portico` CLI's options for this server's store: --data
        (the signing keys, and the LMDB store) plus --store on PostgreSQL."""
        a = ["--data", self.data_dir]
        url = self.store_url
        if not url and "--store" in self.extra_args:
            url = self.extra_args[self.extra_args.index("--store") + 1]
        if url:
            a += ["--store", url]
        return a

    def start(self, timeout=20):
        self.port = free_port()
        env = dict(os.environ)
        env["PORTICO_ADMIN_PASSWORD"] = self.admin_password
        self.starts += 1
        err = open(self.log_path, "ab")
        out = open(self.out_path, "ab")
        err.write(("==== start #%d: %s\n" % (self.starts, " ".join(self.argv()))).encode())
        err.flush()
        self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=err, env=env,
                                     stdin=subprocess.DEVNULL)
        err.close()
        out.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("porticod exited with %s during start-up\n%s" %
                                   (self.proc.returncode, self.log_text()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("porticod did not answer /healthz within %ss\n%s" %
                           (timeout, self.log_text()))

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("porticod ignored SIGTERM for %ss" % timeout)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def restart(self, kill=False):
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start()

    def cleanup(self):
        try:
            self.kill9()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, token=None):
        return Client(self.port, token, self.seen_secrets)

    @property
    def private_pem(self):
        """The key the server imported at its first start (it signs until
        the first `portico keys rotate`)."""
        return os.path.join(self.data_dir, "jwt-private.pem")

    @property
    def public_pem(self):
        return os.path.join(self.data_dir, "jwt-public.pem")


# ------------------------------------------------------------------ TestCase


class PorticoTestCase(unittest.TestCase):
    """Starts one server per test class.  Subclasses may set `plugins` and
    `server_config`.  On any failure the server's stderr is printed."""

    plugins = None
    server_config = None
    server_args = None
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(plugins=cls.plugins, config=cls.server_config,
                            extra_args=cls.server_args)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.api = cls.server.client()
        cls._admin_token = None

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        rc = None
        try:
            rc = cls.server.stop()
        finally:
            if getattr(cls, "_failed", False):
                sys.stderr.write("\n---- porticod stderr (%s) ----\n%s\n---- end ----\n" %
                                 (cls.__name__, cls.server.log_text()[-20000:]))
            cls.server.cleanup()
        if rc not in (0, None, -signal.SIGTERM):
            raise AssertionError("porticod exited with %r on SIGTERM" % rc)

    def fixtures(self):
        """Data the whole class shares: override; made once, before the
        class's first test (a subclass overriding setUp calls super)."""

    def setUp(self):
        if not type(self).__dict__.get("_fixtures_made"):
            self.fixtures()
            type(self)._fixtures_made = True

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        srv = getattr(type(self), "server", None)
        if srv is not None and srv.proc is not None and getattr(type(self), "_last_failed", 0):
            try:  # a failed test may have crashed the server: let it finish dying
                srv.proc.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
        if srv is not None and srv.proc is not None and srv.proc.poll() is not None:
            # an earlier test crashed the server: that test has failed; start
            # it again on the same data so the rest still run independently
            sys.stderr.write("\n!!!! porticod died (exit %s); restarting for %s\n" %
                             (srv.proc.returncode, self.id()))
            type(self)._failed = True
            type(self).crashes = getattr(type(self), "crashes", 0) + 1
            srv.proc = None
            srv.start()
            type(self).api = srv.client()
            type(self)._admin_token = None
        out = super().run(result)
        type(self)._last_failed = False
        if result is not None and len(result.failures) + len(result.errors) > before:
            type(self)._failed = True
            type(self)._last_failed = True
        return out

    # -- auth helpers
    def login_raw(self, username, password, org=None, otp=None, client=None):
        body = {"username": username, "password": password}
        if org is not None:
            body["org"] = org
        if otp is not None:
            body["otp"] = otp
        return (client or self.api).post(API + "/auth/login", body, token="")

    def login(self, username, password, org=None, otp=None):
        r = self.login_raw(username, password, org, otp)
        self.assertEqual(r.status, 200, "login %s failed: %r" % (username, r))
        return r.body

    def token(self, username, password, org=None, otp=None):
        return self.login(username, password, org, otp)["access_token"]

    def as_admin(self, fresh=False):
        """Access token of the system administrator (cached; fresh=True
        logs in again, e.g. after the test clock moved)."""
        cls = type(self)
        if fresh or cls._admin_token is None:
            cls._admin_token = self.token("admin", self.server.admin_password)
        return cls._admin_token

    def create_org(self, org_id, name=None, settings=None, token=None):
        body = {"id": org_id, "name": name or ("Org " + org_id)}
        if settings is not None:
            body["settings"] = settings
        r = self.api.post(API + "/orgs", body, token=token or self.as_admin())
        self.assertEqual(r.status, 201, "create org %s: %r" % (org_id, r))
        return r.body

    def person_body(self, username, **fields):
        body = {"username": username, "display_name": "Person " + username,
                "email": username.split("@")[0] + "@example.org", "status": "employee"}
        body.update(fields)
        return {k: v for k, v in body.items() if v is not Ellipsis}

    def create_person(self, org, username, password=None, token=None, **fields):
        body = self.person_body(username, **fields)
        if password is not None:
            body["password"] = password
        r = self.api.post(API + "/orgs/%s/people" % org, body, token=token or self.as_admin())
        self.assertEqual(r.status, 201, "create person %s/%s: %r" % (org, username, r))
        return r.body

    def add_member(self, org, username, password, token=None, **fields):
        """Adds an existing account to another organisation the only way
        there is: an admin invites it, the holder (signed in) accepts."""
        body = self.person_body(username, **fields)
        r = self.api.post(API + "/orgs/%s/invitations" % org, body,
                          token=token or self.as_admin())
        self.assertEqual(r.status, 201, "invite %s to %s: %r" % (username, org, r))
        tok = self.token(username, password)
        r = self.api.post(API + "/me/invitations/%s/accept" % org, token=tok)
        self.assertEqual(r.status, 200, "accept %s into %s: %r" % (username, org, r))
        return r.body

    def set_clock(self, when):
        """Fix the server clock (datetime, ISO string) or return it to real
        time (None)."""
        if isinstance(when, datetime.datetime):
            when = iso(when)
        r = self.api.put(API + "/_test/clock", {"now": when}, token="")
        if r.status in (401, 403):
            r = self.api.put(API + "/_test/clock", {"now": when},
                             token=self.as_admin(fresh=True))
        self.assertEqual(r.status, 204, "set clock %r: %r" % (when, r))
        type(self)._admin_token = None  # tokens may be expired at the new time

    # -- token forging
    def forge_token(self, alg, claims, header=None):
        """A JWT over `claims`: ES256 signed with the server's private key,
        HS256 keyed with the bytes of the public key PEM (algorithm
        confusion) or alg none.  Uses $PORTICO_TOOLS/forge_token when it is
        built, else the same signing in pure Python."""
        tool = os.path.join(_env_path("PORTICO_TOOLS", ""), "forge_token")
        if alg == "ES256" and header is None:
            # porticod refuses a token that names no key
            header = {"alg": "ES256", "typ": "JWT",
                      "kid": kid_of_public_pem(self.server.public_pem)}
        if alg == "ES256":
            key = ec_private_from_pem(self.server.private_pem)
        elif alg == "HS256":
            with open(self.server.public_pem, "rb") as f:
                key = f.read()
        else:
            key = None
        if os.access(tool, os.X_OK) and not os.environ.get("PORTICO_FORGE_PURE_PYTHON"):
            pem = self.server.public_pem if alg == "HS256" else self.server.private_pem
            args = [tool, "--key", pem, "--alg", alg, "--claims", json.dumps(claims)]
            if header:
                args += ["--header", json.dumps(header)]
            return subprocess.check_output(args).decode().strip()
        return sign_jwt(alg, header, claims, key)

    # -- assertions
    def assert_problem(self, resp, status, code=None, msg=None):
        """An RFC 9457 problem answer with this status and code."""
        ctx = "%s: %r" % (msg or "", resp)
        self.assertEqual(resp.status, status, ctx)
        ctype = resp.headers.get("Content-Type") or ""
        self.assertTrue(ctype.lower().startswith("application/problem+json"),
                        "Content-Type %r; %s" % (ctype, ctx))
        b = resp.body
        self.assertIsInstance(b, dict, ctx)
        for f in ("type", "title", "status", "detail", "code"):
            self.assertIn(f, b, "problem lacks %s; %s" % (f, ctx))
        self.assertEqual(b["status"], status, ctx)
        self.assertIsInstance(b["title"], str, ctx)
        self.assertIsInstance(b["detail"], str, ctx)
        if code is not None:
            self.assertEqual(b["code"], code, ctx)
            self.assertEqual(b["type"], PROBLEM_BASE + code, ctx)
        if status == 401:
            self.assertTrue((resp.headers.get("WWW-Authenticate") or "").startswith("Bearer"),
                            "401 without WWW-Authenticate: Bearer; " + ctx)
        return b

    def assert_validation(self, resp, pointers, msg=None):
        """422 validation_failed listing (at least) an error at each pointer.
        A pointer ending in '*' matches any pointer with that prefix."""
        b = self.assert_problem(resp, 422, "validation_failed", msg)
        errs = b.get("errors")
        self.assertIsInstance(errs, list, "no errors array: %r" % resp)
        got = [e.get("pointer") for e in errs]
        for e in errs:
            self.assertIsInstance(e.get("message"), str, "error without message: %r" % e)
        for p in pointers:
            if p.endswith("*"):
                ok = any(isinstance(g, str) and g.startswith(p[:-1]) for g in got)
            else:
                ok = p in got
            self.assertTrue(ok, "pointer %s not among %r (%s)" % (p, got, msg or ""))
        return errs

    def assert_not_5xx(self, resp, msg=None):
        self.assertLess(resp.status, 500, "%s: %r" % (msg or "", resp))


def main():
    unittest.main(verbosity=2)
