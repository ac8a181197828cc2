#!/bin/sh
# tools/client/run.sh - the API contract as its users see it.
#
#   run.sh lint        redocly lint of the spec a porticod serves: 0 errors, 0 warnings
#   run.sh ts-client   openapi-typescript types from the served spec, a smoke program
#                      compiled with tsc --strict (no casts), run against porticod --demo
#
# Environment: PORTICOD (the server binary), PORTICO_PLUGINS (portlets dir),
# PORTICO_CLIENT_WORK (scratch dir; default a temp dir).  The npm packages
# are pinned in package.json/package-lock.json and installed with `npm ci`,
# which is skipped when node_modules already matches the lock file.
set -eu
# Node trusts only its own bundled CAs; a machine whose HTTPS goes through
# an organisation's proxy trusts that proxy's CA in the system store.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:-all}
porticod=${PORTICOD:-$root/build/porticod}
plugins=${PORTICO_PLUGINS:-$root/build/plugins}

for tool in node npm; do
    command -v $tool >/dev/null 2>&1 || { echo "run.sh: $tool is missing (tools/install-deps.sh installs it)" >&2; exit 1; }
done

# npm ci only when the lock file changed since the last install.
stamp="$here/node_modules/.portico-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
    cp "$here/package-lock.json" "$stamp"
fi

work=${PORTICO_CLIENT_WORK:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# One porticod --demo on a free loopback port for the whole run; the
# served spec is what the checks read.
node "$here/serve.mjs" start "$porticod" "$plugins" "$work" >&2
trap 'node "$here/serve.mjs" stop "$work" >&2; [ -n "${PORTICO_CLIENT_WORK:-}" ] || rm -rf "$work"' EXIT
base=$(cat "$work/base_url")
node -e "fetch(process.argv[1]+'/api/v1/openapi.json').then(r=>r.text()).then(t=>require('fs').writeFileSync(process.argv[2],t))" "$base" "$work/openapi.json"

if [ "$what" = lint ] || [ "$what" = all ]; then
    (cd "$here" && ./node_modules/.bin/redocly lint --config "$here/redocly.yaml" --format=stylish "$work/openapi.json")
    # redocly exits 0 on warnings: a warning fails this check too.
    out=$(cd "$here" && ./node_modules/.bin/redocly lint --config "$here/redocly.yaml" --format=json "$work/openapi.json" 2>/dev/null)
    echo "$out" | node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
            const t = JSON.parse(s).totals;
            console.log("lint: " + t.errors + " errors, " + t.warnings + " warnings");
            process.exit(t.errors || t.warnings ? 1 : 0);
        });'
fi

if [ "$what" = ts-client ] || [ "$what" = all ]; then
    mkdir -p "$work/ts"
    "$here/node_modules/.bin/openapi-typescript" "$work/openapi.json" --default-non-nullable false -o "$work/ts/portico.d.ts" >&2
    cp "$here/smoke.ts" "$work/ts/smoke.ts"
    # No casts: the smoke program must type-check as a user would write it.
    if grep -nE '\bas (any|unknown|never)\b|as [A-Z][A-Za-z]*|<any>|@ts-' "$here/smoke.ts"; then
        echo "run.sh: smoke.ts uses a cast or a ts- directive" >&2
        exit 1
    fi
    ln -sfn "$here/node_modules" "$work/ts/node_modules"
    echo '{"type": "module"}' > "$work/ts/package.json"
    tsc() { (cd "$work/ts" && "$here/node_modules/.bin/tsc" --strict --noUncheckedIndexedAccess \
        --target es2022 --module nodenext --moduleResolution nodenext \
        --lib es2022,dom --types node --skipLibCheck "$@" smoke.ts); }
    tsc --noEmit
    tsc --outDir out
    PORTICO_BASE_URL="$base" node "$work/ts/out/smoke.js"
fi
