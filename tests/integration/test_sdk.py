"""The portlet SDK: install the build into a temporary prefix, build
tests/sdk/hello.c out of tree using only `pkg-config --cflags --libs
portico`, and have porticod load and serve it."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest
from urllib.parse import quote

import portico_harness as h
from portico_harness import API

PW = "sdk-test-password"


def source_dir():
    return os.environ.get("PORTICO_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def build_dir():
    return os.environ.get("PORTICO_BUILD_DIR") or os.path.join(source_dir(), "build")


class SdkTest(h.PorticoTestCase):
    plugins = None  # set in setUpClass once the portlet is built

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="portico-sdk-")
        try:
            cls.build_portlet()
        except Exception:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise
        cls.plugins = cls.plugin_dir
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def build_portlet(cls):
        prefix = os.path.join(cls.work, "prefix")
        cmake = shutil.which("cmake") or "cmake"
        subprocess.run([cmake, "--install", build_dir(), "--prefix", prefix], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        pcs = glob.glob(os.path.join(prefix, "**", "pkgconfig", "portico.pc"), recursive=True)
        assert len(pcs) == 1, "installed portico.pc not found under %s: %r" % (prefix, pcs)
        cls.header = glob.glob(os.path.join(prefix, "**", "portico", "portlet.h"),
                               recursive=True)
        assert cls.header, "installed portico/portlet.h not found"

        # Out of tree: a copy of the source in a directory of its own, and
        # an environment that points only at the installed prefix.
        src_dir = os.path.join(cls.work, "hello")
        os.makedirs(src_dir)
        shutil.copy(os.path.join(source_dir(), "tests", "sdk", "hello.c"), src_dir)
        env = {k: v for k, v in os.environ.items()
               if k not in ("CPATH", "C_INCLUDE_PATH", "PKG_CONFIG_PATH")}
        env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "portico"], env=env,
                               check=True, stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.split()
        cls.pc_flags = flags
        cls.pc_version = subprocess.run(["pkg-config", "--modversion", "portico"], env=env,
                                        check=True, stdout=subprocess.PIPE,
                                        universal_newlines=True).stdout.strip()
        cls.plugin_dir = os.path.join(cls.work, "plugins")
        os.makedirs(cls.plugin_dir)
        cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
        out = os.path.join(cls.plugin_dir, "hello-sdk.so")
        r = subprocess.run([cc, "-std=c17", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
                            "-fvisibility=hidden", "hello.c", "-o", out] + flags,
                           cwd=src_dir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        assert r.returncode == 0, "out-of-tree build failed:\n%s" % r.stdout

    def test_pkg_config_points_at_the_install(self):
        incs = [f[2:] for f in self.pc_flags if f.startswith("-I")]
        self.assertTrue(incs, self.pc_flags)
        inst = os.path.realpath(os.path.join(self.work, "prefix"))
        self.assertTrue(any(os.path.realpath(i).startswith(inst) for i in incs),
                        "Cflags %r do not point into %s" % (self.pc_flags, inst))
        self.assertIn("-ljansson", self.pc_flags)
        self.assertRegex(self.pc_version, r"^\d+\.\d+\.\d+")

    def test_server_loads_and_serves_the_sdk_portlet(self):
        self.create_org("sdk", "SDK org")
        self.create_person("sdk", "sdk-admin", PW, roles=["portal_admin"])
        self.create_person("sdk", "sdk-emp", PW)
        self.create_person("sdk", "sdk-app", PW, status="applicant")
        emp = self.token("sdk-emp", PW, "sdk")
        cat = self.api.get(API + "/portlets", token=emp)
        self.assertEqual(cat.status, 200, cat)
        self.assertEqual([i["id"] for i in cat.body["items"]], ["hello-sdk"])
        self.assertEqual(self.api.get(API + "/portlets", token=self.as_admin()).body["refused"],
                         [])

        url = API + "/portlets/hello-sdk/messages"
        self.assert_problem(self.api.get(url, token=emp), 404, "portlet_not_enabled")
        r = self.api.put(API + "/orgs/sdk/portlets/hello-sdk",
                         {"enabled": True, "config": {"greeting": "Hiya"},
                          "placements": [{"dashboard": "employee", "position": 1}]},
                         token=self.token("sdk-admin", PW, "sdk"))
        self.assertEqual(r.status, 200, r)

        r = self.api.get(url, token=emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"items": [], "next_cursor": None})
        for text in ("First!", "Second"):
            r = self.api.post(url, {"text": text}, token=emp)
            self.assertEqual(r.status, 201, r)
            self.assertEqual((r.body["from"], r.body["text"]), ("sdk-emp", text))
        # the gate (employees only) and the body schema, both the host's
        self.assert_problem(self.api.post(url, {"text": "x"},
                                          token=self.token("sdk-app", PW, "sdk")),
                            403, "forbidden")
        self.assert_validation(self.api.post(url, {"text": ""}, token=emp), ["/text"])
        self.assert_validation(self.api.post(url, {"text": "x", "to": "all"}, token=emp),
                               ["/to"])
        # newest first, a page at a time
        r = self.api.get(url + "?limit=1", token=emp)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([m["text"] for m in r.body["items"]], ["Second"])
        r = self.api.get(url + "?limit=1&cursor=" + quote(r.body["next_cursor"]), token=emp)
        self.assertEqual([m["text"] for m in r.body["items"]], ["First!"])
        self.assert_problem(self.api.get(url + "?cursor=nonsense", token=emp), 400,
                            "bad_request")

        d = self.api.get(API + "/dashboards/employee", token=emp)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.body["portlets"][0]["id"], "hello-sdk")
        self.assertEqual(d.body["portlets"][0]["summary"], {"greeting": "Hiya", "messages": 2})

    def test_the_guide_shows_hello_c(self):
        """docs/portlets.md shows tests/sdk/hello.c, as it is."""
        with open(os.path.join(source_dir(), "tests", "sdk", "hello.c")) as f:
            code = f.read()
        with open(os.path.join(source_dir(), "docs", "portlets.md")) as f:
            guide = f.read()
        self.assertIn(code.strip(), guide)


if __name__ == "__main__":
    h.main()
