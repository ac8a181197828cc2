#!/usr/bin/env bash
# Builds Portico and runs the whole test suite (unit + integration) with ctest.
#
#   tools/test.sh                 Release build in build/, then ctest
#   tools/test.sh --sanitize      ASan+UBSan build in build-asan/, then ctest
#   tools/test.sh [--sanitize] -- CTEST_ARGS...   extra arguments for ctest
#                                                 (e.g. -- -R unit.)
#
# Missing Debian packages are installed first (tools/install-deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sanitize=0
ctest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --sanitize) sanitize=1 ;;
    --) shift; ctest_args+=("$@"); break ;;
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) ctest_args+=("$1") ;;
    esac
    shift
done

tools/install-deps.sh

jobs="$(nproc 2>/dev/null || echo 2)"
if [ "$sanitize" -eq 1 ]; then
    build=build-asan
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTICO_SANITIZE=ON
    # Leaks are errors; the first report stops the program with a stack.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
else
    build=build
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPORTICO_SANITIZE=OFF
fi
cmake --build "$build" -j"$jobs"

cd "$build"
exec ctest --output-on-failure "${ctest_args[@]}"
