"""Signing keys kept in the store and rotated with `portico keys rotate`,
on a running porticod that is never restarted.

- The key of the data dir's jwt-private.pem (what an installation from
  before had) is imported and signs; the JWKS lists it and the next key.
- A rotation makes the next key sign; tokens and refresh tokens from
  before keep working (nobody is signed out), the JWKS lists the
  previous, current and next keys.
- A second rotation while the previous key's tokens may still be live is
  refused; with --force the previous key is dropped, and tokens it signed
  are refused at once, even ones this node had already verified.
- Tokens without a kid, or with a kid that is in no key set, are refused.
- A restart takes the keys from the store, not from the data dir's file.

Runs on LMDB and (pg.integration.test_keys) on PostgreSQL, where the CLI
needs --store; keys_refresh_secs is 1 so the node re-reads quickly.
"""

import json
import os
import subprocess
import time
import unittest

import portico_harness as h
from portico_harness import API


def portico_path():
    build = os.environ.get("PORTICO_BUILD_DIR") or os.path.join("..", "..", "build")
    return os.path.join(build, "portico")


def cli_has_store_option():
    p = subprocess.run([portico_path(), "--help"], capture_output=True, timeout=30)
    return b"--store" in p.stdout


def cli_args(server):
    """The CLI options for server's store (--store on PostgreSQL)."""
    a = ["--data", server.data_dir, "--config", server.config_path]
    url = server.store_url
    if not url and "--store" in server.extra_args:
        url = server.extra_args[server.extra_args.index("--store") + 1]
    return a + (["--store", url] if url else [])


def run_cli(server, *args):
    p = subprocess.run([portico_path()] + cli_args(server) + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def kid_of(token):
    return h.jwt_parts(token)[0].get("kid")


class KeysTest(h.PorticoTestCase):
    server_config = {"keys_refresh_secs": 1}

    def need_cli(self):
        if (self.server.store_url or "--store" in (self.server.extra_args or [])) and \
                not cli_has_store_option():
            self.skipTest("this portico CLI has no --store option yet")

    def cli_ok(self, *args):
        rc, out, err = run_cli(self.server, *args)
        self.assertEqual(rc, 0, "portico %s -> %d\n%s\n%s" % (" ".join(args), rc, out, err))
        return out

    def listed(self):
        out = self.cli_ok("keys", "list", "--json")
        self.assertNotIn("PRIVATE", out)
        entries = json.loads(out)
        for e in entries:
            self.assertEqual(set(e) - {"kid", "state", "created_at", "activated_at",
                                       "retired_at"}, set(), e)
        return {e["state"]: e["kid"] for e in entries}

    def jwks_kids(self):
        r = self.api.get("/.well-known/jwks.json", token="")
        self.assertEqual(r.status, 200, r)
        for k in r.body["keys"]:
            self.assertNotIn("d", k)
            self.assertEqual((k["alg"], k["use"], k["crv"]), ("ES256", "sig", "P-256"))
        return sorted(k["kid"] for k in r.body["keys"])

    def login(self):
        r = self.api.post(API + "/auth/login", {"username": "admin",
                                                "password": self.server.admin_password},
                          token="")
        self.assertEqual(r.status, 200, r)
        return r.body

    def me(self, token):
        return self.api.get(API + "/me", token=token).status

    def signing_kid_becomes(self, kid, timeout=15):
        """Logs in until the node signs with kid (it re-reads every
        second); returns that login."""
        deadline = time.time() + timeout
        while True:
            b = self.login()
            if kid_of(b["access_token"]) == kid or time.time() > deadline:
                self.assertEqual(kid_of(b["access_token"]), kid,
                                 "the node did not switch to the rotated key")
                return b
            time.sleep(0.2)

    def test_2_rotation_signs_nobody_out(self):
        self.need_cli()
        # the key imported from jwt-private.pem signs; next is published
        keys = self.listed()
        a, b = keys["current"], keys["next"]
        self.assertEqual(a, h.kid_of_public_pem(self.server.public_pem))
        self.assertNotIn("previous", keys)
        self.assertEqual(self.jwks_kids(), sorted([a, b]))
        first = self.login()
        t1 = first["access_token"]
        self.assertEqual(kid_of(t1), a)
        self.assertEqual(self.me(t1), 200)

        out = self.cli_ok("keys", "rotate")
        self.assertNotIn("PRIVATE", out)
        keys = self.listed()
        self.assertEqual((keys["current"], keys["previous"]), (b, a))
        c = keys["next"]
        self.assertNotIn(c, (a, b))

        # the same node, not restarted: new tokens name b, old ones work
        t2 = self.signing_kid_becomes(b)["access_token"]
        self.assertEqual(self.me(t1), 200)
        self.assertEqual(self.me(t2), 200)
        self.assertEqual(self.jwks_kids(), sorted([a, b, c]))
        # a refresh token from before the rotation still refreshes
        r = self.api.post(API + "/auth/refresh", {"refresh_token": first["refresh_token"]},
                          token="")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(kid_of(r.body["access_token"]), b)
        self.assertEqual(self.me(r.body["access_token"]), 200)

        # rotating again now would drop a while its tokens may be live
        rc, out, err = run_cli(self.server, "keys", "rotate")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("previous key", err)
        self.assertIn("--force", err)
        self.assertEqual(self.listed(), {"current": b, "previous": a, "next": c})

        # --force drops a: its tokens are refused at once, even t1, which
        # this node verified (and cached) before; b's tokens still work
        self.cli_ok("keys", "rotate", "--force")
        keys = self.listed()
        self.assertEqual((keys["current"], keys["previous"]), (c, b))
        t3 = self.signing_kid_becomes(c)["access_token"]
        r = self.api.get(API + "/me", token=t1)
        self.assert_problem(r, 401, "unauthorized")
        self.assertEqual(self.me(t2), 200)
        self.assertEqual(self.me(t3), 200)
        self.assertNotIn(a, self.jwks_kids())

    def test_0_cli_usage_and_no_store(self):
        self.need_cli()
        for args in (["keys"], ["keys", "frobnicate"], ["keys", "list", "--force"],
                     ["keys", "rotate", "--json"], ["keys", "list", "extra"]):
            rc, out, err = run_cli(self.server, *args)
            self.assertEqual(rc, 2, "%s -> %d %s" % (args, rc, err))
            self.assertTrue("usage: portico keys" in err or "unexpected argument" in err, err)
        # a directory without a store is refused, not given a new key set
        empty = os.path.join(self.server.tmp, "no-store")
        os.makedirs(empty, exist_ok=True)
        p = subprocess.run([portico_path(), "--data", empty, "keys", "rotate"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(os.listdir(empty), [])

    def test_1_tokens_naming_no_known_key_are_refused(self):
        tok = self.login()["access_token"]
        hdr, claims, _ = h.jwt_parts(tok)
        # control: signed with the imported key and naming it, accepted
        good = self.forge_token("ES256", claims, {"alg": "ES256", "typ": "JWT",
                                                  "kid": hdr["kid"]})
        self.assertEqual(self.me(good), 200)
        # the same key, but naming no key, or a kid no key set has: refused
        no_kid = self.forge_token("ES256", claims, {"alg": "ES256", "typ": "JWT"})
        self.assert_problem(self.api.get(API + "/me", token=no_kid), 401, "unauthorized")
        unknown = self.forge_token("ES256", claims,
                                   {"alg": "ES256", "typ": "JWT", "kid": "not-a-key-of-ours"})
        self.assert_problem(self.api.get(API + "/me", token=unknown), 401, "unauthorized")
        # a key of another installation, named by its own kid
        other = os.path.join(self.server.tmp, "other-keys")
        os.makedirs(other, exist_ok=True)
        h.write_key_pair(other)
        kid = h.kid_of_public_pem(os.path.join(other, "jwt-public.pem"))
        forged = h.sign_jwt("ES256", {"alg": "ES256", "typ": "JWT", "kid": kid}, claims,
                            h.ec_private_from_pem(os.path.join(other, "jwt-private.pem")))
        self.assert_problem(self.api.get(API + "/me", token=forged), 401, "unauthorized")
        # and the node still serves its own tokens
        self.assertEqual(self.me(self.login()["access_token"]), 200)

    def test_3_restart_keeps_the_stores_keys(self):
        # after test_2 the imported file's key is no longer in the set: a
        # restart takes the store's keys, and says the file is not used
        self.need_cli()
        keys = self.listed()
        file_kid = h.kid_of_public_pem(self.server.public_pem)
        self.assertNotIn(file_kid, keys.values())
        self.server.restart()
        self.api.close()
        type(self).api = self.server.client()
        self.assertEqual(self.listed(), keys)
        self.assertEqual(kid_of(self.login()["access_token"]), keys["current"])
        self.assertIn("is not in the store's signing key set and is not used",
                      self.server.log_text())
        # portico check reads the set as porticod does
        self.cli_ok("check")


if __name__ == "__main__":
    unittest.main(verbosity=2)
