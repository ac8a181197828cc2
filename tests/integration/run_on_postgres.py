"""Runs a command with a throwaway PostgreSQL server up (see pg_fixture.py).

    run_on_postgres.py CMD ARGS...

PORTICO_TEST_STORE is set to the server's postgres:// URL (database
`postgres`, from which the harness and test_store create fresh databases),
and the server is stopped and removed when CMD ends.  Exits with CMD's code.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_fixture  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pg = pg_fixture.PgServer()
    try:
        pg.start()
        env = dict(os.environ)
        env["PORTICO_TEST_STORE"] = pg.url()
        print("postgres up: %s" % pg.url(), flush=True)
        return subprocess.run(sys.argv[1:], env=env, timeout=1800).returncode
    finally:
        pg.cleanup()


if __name__ == "__main__":
    sys.exit(main())
