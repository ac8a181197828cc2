#!/bin/sh
# Fails, naming the files, when a tracked C source or header is not as
# clang-format (with the repository's .clang-format) would write it.
cd "$(dirname "$0")/.." || exit 2
command -v clang-format >/dev/null || { echo "clang-format not installed" >&2; exit 2; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find server plugins include tests tools -name '*.[ch]'); do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "all C files formatted"
exit "$bad"
