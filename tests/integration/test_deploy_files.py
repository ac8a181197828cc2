#!/usr/bin/env python3
"""tools/deploy/: the sample config holds every config key the README
documents (and no other), and porticod starts with it; the systemd unit
passes `systemd-analyze verify` (skipped where systemd-analyze is missing)
and keeps its hardening."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import portico_harness as h

SRC = os.environ.get("PORTICO_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
DEPLOY = os.path.join(SRC, "tools", "deploy")


def readme_config_keys():
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("The config file is one JSON object")
    end = text.index("Environment:", start)
    return set(re.findall(r"^\| `([a-z_]+)` \|", text[start:end], re.M))


class SampleConfig(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(DEPLOY, "porticod.json")) as f:
            self.cfg = json.load(f)

    def test_every_documented_key_and_no_other(self):
        self.assertEqual(set(self.cfg), readme_config_keys())

    def test_porticod_starts_with_it(self):
        cfg = dict(self.cfg)
        # the server's own places for this test; everything else as shipped
        for k in ("listen", "data_dir", "plugins_dir"):
            cfg.pop(k)
        cfg["pwhash_ops"], cfg["pwhash_mem"] = 1, 8192
        srv = h.Server(config=cfg)
        try:
            srv.start()
            c = srv.client()
            r = c.get("/healthz")
            self.assertEqual(r.status, 200)
            c.close()
        finally:
            srv.stop()
            srv.cleanup()


class SystemdUnit(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(DEPLOY, "porticod.service")) as f:
            self.unit = f.read()

    def test_hardening(self):
        for line in ("DynamicUser=yes", "StateDirectory=portico", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "PrivateTmp=yes", "ReadWritePaths=-/var/lib/portico",
                     "CapabilityBoundingSet=\n", "ExecStart=/opt/portico/bin/porticod --config "
                     "/etc/portico/porticod.json"):
            self.assertIn(line, self.unit)
        nofile = int(re.search(r"^LimitNOFILE=(\d+)$", self.unit, re.M).group(1))
        self.assertGreaterEqual(nofile, 1024 + 1024 + 64, "room for 1,024 threads' connections "
                                "and the accept queue")

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_systemd_analyze_verify(self):
        tmp = tempfile.mkdtemp(prefix="portico-unit-")
        try:
            path = os.path.join(tmp, "porticod.service")
            with open(path, "w") as f:
                f.write(self.unit.replace("/opt/portico/bin/porticod", os.path.abspath(h.porticod_path())))
            # --man=no: a machine without man pages (a fresh Debian) would
            # fail on the unit's man: Documentation= link.
            p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            out = p.stdout.decode("utf-8", "replace")
            # only complaints about this unit count (the host's own units may be odd)
            mine = [l for l in out.splitlines() if "porticod.service" in l]
            self.assertEqual(p.returncode, 0, out)
            self.assertEqual(mine, [], out)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    h.main()
