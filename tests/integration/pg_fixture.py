"""A throwaway PostgreSQL server for the tests (Debian `postgresql`).

initdb in a temp dir, listening only on a unix socket in that dir (no TCP
port, so nothing to collide with), trust authentication for the role
`portico`, stopped and removed at the end.  PostgreSQL refuses to run as
root, so as root (CI) the cluster belongs to `nobody` and is run with
runuser.

    with PgServer() as pg:
        url = pg.create_db()      # a fresh database, its postgres:// URL
"""

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import urllib.parse

PORT = 5432


def pg_bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")


class PgServer:
    def __init__(self, durable=False):
        # Tests run without fsync; a benchmark asks for durable commits.
        self.durable = durable
        self.bindir = pg_bindir()
        self.tmp = tempfile.mkdtemp(prefix="portico-pg-")
        self.data = os.path.join(self.tmp, "cluster")
        self.sock = os.path.join(self.tmp, "sock")
        self.log = os.path.join(self.tmp, "server.log")
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "nobody"
            pw = pwd.getpwnam("nobody")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        os.chmod(self.tmp, 0o755)
        self.running = False

    def _run(self, argv, check=True):
        if self.as_user:
            argv = ["runuser", "-u", self.as_user, "--"] + argv
        return subprocess.run(argv, check=check, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                              cwd=self.tmp)

    def start(self):
        """initdb on the first call; (re)starts the server."""
        b = self.bindir
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run(["mkdir", "-p", self.sock])
            r = self._run([b + "/initdb", "-D", self.data, "-U", "portico", "-A", "trust",
                           "--no-sync", "-E", "UTF8", "--locale=C"], check=False)
            if r.returncode != 0:
                raise RuntimeError("initdb failed:\n" + r.stdout.decode(errors="replace"))
        opts = ("-c listen_addresses='' -k %s -p %d -c max_connections=300" % (self.sock, PORT))
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = self._run([b + "/pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w",
                       "-t", "60", "start"], check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed:\n" + r.stdout.decode(errors="replace") +
                               self.log_text())
        self.running = True
        return self

    def stop(self):
        if self.running:
            self._run([self.bindir + "/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                      check=False)
            self.running = False

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, db="postgres"):
        return "postgresql:///%s?host=%s&port=%d&user=portico" % (
            db, urllib.parse.quote(self.sock, safe=""), PORT)

    def psql(self, sql, db="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(db),
                            "-At", "-c", sql], check=False, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, r.stdout.decode(errors="replace")))
        return r.stdout.decode()

    def create_db(self, name=None):
        name = name or ("t_" + secrets.token_hex(6))
        self.psql("CREATE DATABASE %s" % name)
        return self.url(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def create_db_at(admin_url):
    """A fresh database on the server admin_url names; its URL."""
    name = "t_" + secrets.token_hex(6)
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c",
                        "CREATE DATABASE %s" % name], check=False, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("CREATE DATABASE failed: " + r.stdout.decode(errors="replace"))
    base, sep, query = admin_url.partition("?")
    return base[:base.rindex("/") + 1] + name + sep + query
