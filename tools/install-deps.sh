#!/bin/sh
# Installs the Debian 12 packages Portico needs to build, run and test.
# A no-op when they are all present; otherwise one apt-get run.
set -eu
PKGS="build-essential cmake pkg-config clang-format \
libcivetweb-dev libjansson-dev liblmdb-dev lmdb-utils libjwt-dev \
libsodium-dev libssl-dev liboath-dev libcsv-dev libhpdf-dev \
python3 python3-yaml python3-jsonschema curl nginx tzdata poppler-utils \
postgresql libpq-dev chromium nodejs"
# npm: Debian's package, unless the installed nodejs bundles its own npm
# (a nodejs that does conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1 && [ ! -f /usr/lib/node_modules/npm/bin/npm-cli.js ]; then
    PKGS="$PKGS npm"
fi
missing=""
for p in $PKGS; do
    # node and npm from another source (a NodeSource nodejs bundles npm and
    # conflicts with Debian's npm) count as present.
    case $p in nodejs | npm) command -v "${p%js}" >/dev/null 2>&1 && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "portico: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
