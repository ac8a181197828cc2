#!/bin/sh
# Fails, naming the file and the include, when a file under server/ includes
# a header from a folder above its own, or when two folders include each
# other (directly or round a longer cycle).
#
# Layers, lowest first; a folder may include only its own and lower ones:
#   base < store < http < auth < admin < host < app
# Includes are written relative to server/: #include "store/model.h".
cd "$(dirname "$0")/.." || exit 2
LAYERS="base store http auth admin host app"

rank() {
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo "$i"; return; }
        i=$((i + 1))
    done
    echo -1
}

bad=0
edges=$(mktemp) || exit 2
trap 'rm -f "$edges"' EXIT

for f in $(find server -name '*.[ch]' | sort); do
    dir=${f#server/}
    dir=${dir%%/*}
    own=$(rank "$dir")
    if [ "$own" -lt 0 ]; then
        echo "$f: not in a known layer folder ($LAYERS)"
        bad=1
        continue
    fi
    # Every quoted include: "x/..." names a folder, a bare "x.h" is
    # refused (includes are written relative to server/).
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"$edges.inc"
    while read -r line inc; do
        case "$inc" in
        */*) ;;
        *)
            echo "$f:$line: #include \"$inc\" is not relative to server/ (folder/name.h)"
            bad=1
            continue
            ;;
        esac
        to=${inc%%/*}
        r=$(rank "$to")
        if [ "$r" -lt 0 ]; then
            echo "$f:$line: #include \"$inc\": unknown folder '$to'"
            bad=1
        elif [ "$r" -gt "$own" ]; then
            echo "$f:$line: #include \"$inc\": $dir/ may not include $to/ (layers: $LAYERS)"
            bad=1
        fi
        [ "$to" != "$dir" ] && echo "$dir $to" >>"$edges"
    done <"$edges.inc"
    rm -f "$edges.inc"
done

# Folder cycles: tsort reports a loop for any cycle in the folder graph.
if [ -s "$edges" ]; then
    if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.err"; then
        echo "include cycle between folders:"
        sed 's/^/  /' "$edges.err"
        bad=1
    elif [ -s "$edges.err" ]; then
        echo "include cycle between folders:"
        sed 's/^/  /' "$edges.err"
        bad=1
    fi
    rm -f "$edges.err"
fi

[ "$bad" -eq 0 ] && echo "server/ includes follow the layers: $LAYERS"
exit "$bad"
