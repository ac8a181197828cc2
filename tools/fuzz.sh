#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan in build-fuzz/, and runs each for a while.
#
#   tools/fuzz.sh                 every target for 60 seconds
#   tools/fuzz.sh -t 300          every target for 300 seconds
#   tools/fuzz.sh fuzz_router     only the named target(s)
#
# Each target's corpus lives in build-fuzz/corpus/<target>, seeded from
# tests/fuzz/seeds/<target>/; crashes, leaks and timeouts are written to
# build-fuzz/artifacts/<target>/ and the log to build-fuzz/logs/<target>.log.
# Exits non-zero if any target found something.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    -t | --time) secs="$2"; shift ;;
    -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) targets+=("$1") ;;
    esac
    shift
done

tools/install-deps.sh
need=""
for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        need="$need $p"
done
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "fuzz: installing:$need" >&2
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need
fi

if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c)")
    done
fi

build=build-fuzz
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTICO_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t"
    artifacts="$build/artifacts/$t"
    mkdir -p "$corpus" "$artifacts" "$build/logs"
    if [ -d "tests/fuzz/seeds/$t" ]; then
        cp -n tests/fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
    fi
    dict=()
    [ -f "tests/fuzz/seeds/$t.dict" ] && dict=(-dict="tests/fuzz/seeds/$t.dict")
    echo "fuzz: $t for ${secs}s"
    if "$build/$t" "${dict[@]}" -max_total_time="$secs" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$corpus" >"$build/logs/$t.log" 2>&1; then
        grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
            "$build/logs/$t.log" || true
    else
        echo "fuzz: $t FAILED; see $build/logs/$t.log and $artifacts/" >&2
        grep -E 'ERROR|SUMMARY|runtime error' "$build/logs/$t.log" | head -5 >&2 || true
        status=1
    fi
done
exit $status
