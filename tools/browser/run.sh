#!/bin/sh
# The demo page in a real browser (ctest browser.demo_page).
#   tools/browser/run.sh BUILD_DIR
# Starts BUILD_DIR/porticod --demo on a free loopback port with a fresh data
# directory, installs playwright-core and axe-core from the committed lock
# file into BUILD_DIR/browser-node (npm ci), runs demo_page.test.js against
# Debian's /usr/bin/chromium and leaves the screenshots (and any downloaded
# PDF) in BUILD_DIR/browser-artifacts.  Exits non-zero on any failure.
set -eu
# Node trusts only its own bundled CAs; a machine whose HTTPS goes through
# an organisation's proxy trusts that proxy's CA in the system store.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "browser: $chromium missing (tools/install-deps.sh installs chromium)" >&2; exit 1; }
command -v node >/dev/null || { echo "browser: node missing (apt-get install nodejs)" >&2; exit 1; }

# npm: Debian's npm, or the one bundled with a nodejs that ships it.
if command -v npm >/dev/null; then
    npm="npm"
elif [ -f /usr/lib/node_modules/npm/bin/npm-cli.js ]; then
    npm="node /usr/lib/node_modules/npm/bin/npm-cli.js"
else
    echo "browser: npm missing (apt-get install npm)" >&2
    exit 1
fi

# Node packages: reinstalled only when the lock file changed.
nodedir="$build/browser-node"
mkdir -p "$nodedir"
if ! cmp -s "$here/package-lock.json" "$nodedir/package-lock.json" || [ ! -d "$nodedir/node_modules" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$nodedir/"
    (cd "$nodedir" && $npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
admin_pw="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
PORTICO_ADMIN_PASSWORD="$admin_pw" "$build/porticod" --listen "127.0.0.1:$port" --data "$work/data" \
    --plugins "$build/plugins" --demo >"$work/porticod.log" 2>&1 &
pid=$!
i=0
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "browser: porticod did not start" >&2
        cat "$work/porticod.log" >&2
        exit 1
    fi
    sleep 0.1
done

artifacts="$build/browser-artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts"
status=0
BASE_URL="http://127.0.0.1:$port" ADMIN_PASSWORD="$admin_pw" ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
    NODE_PATH="$nodedir/node_modules" timeout 300 node "$here/demo_page.test.js" || status=$?
cp "$work/porticod.log" "$artifacts/porticod.log"
[ "$status" -eq 0 ] || echo "browser: failed ($status); screenshots and the server log in $artifacts" >&2
exit "$status"
