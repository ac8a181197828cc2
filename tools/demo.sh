#!/usr/bin/env bash
# Builds Portico (Release, into build/) and starts porticod in demo mode in
# the foreground: 127.0.0.1:8080, data in ./data, portlets from build/plugins.
# Extra arguments are passed on to porticod.  Ctrl-C stops it.
#
# Environment: PORTICO_ADMIN_PASSWORD (system admin "admin"; default
# "portico-admin"), PORTICO_LISTEN (default 127.0.0.1:8080), PORTICO_DATA
# (default ./data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPORTICO_SANITIZE=OFF
cmake --build build -j"$(nproc 2>/dev/null || echo 2)"

listen="${PORTICO_LISTEN:-127.0.0.1:8080}"
data="${PORTICO_DATA:-./data}"
mkdir -p "$data"
chmod 0700 "$data"

if [ -z "${PORTICO_ADMIN_PASSWORD:-}" ]; then
    export PORTICO_ADMIN_PASSWORD=portico-admin
    echo "demo: PORTICO_ADMIN_PASSWORD was not set; using \"portico-admin\" for the"
    echo "      system administrator \"admin\" (only applies to an empty data dir)."
fi

base="http://$listen"
cat <<MSG

demo: starting porticod on $base (data in $data)
demo:   browser:        $base/  (sign in as a demo person to see their dashboard)
demo:   API document:   $base/api/v1/openapi.json
demo:   health:         $base/healthz
demo:   sign in as the system administrator (the token goes into ACCESS_TOKEN):
demo:     ACCESS_TOKEN=\$(curl -s -X POST $base/api/v1/auth/login \\
demo:          -H 'Content-Type: application/json' \\
demo:          -d '{"username":"admin","password":"$PORTICO_ADMIN_PASSWORD"}' |
demo:          python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
demo:   then:  curl -s $base/api/v1/me -H "Authorization: Bearer \$ACCESS_TOKEN"
demo:          curl -s $base/metrics -H "Authorization: Bearer \$ACCESS_TOKEN"
demo:   demo people (org "demo-trust", password "portico-demo") are listed below.
demo: Ctrl-C stops the server.

MSG

exec build/porticod --listen "$listen" --data "$data" --plugins build/plugins --demo "$@"
