#!/bin/sh
# run.sh — protocol wrapper and annotation cost, in one invocation
# (bench/RESULTS.md, "Protocol wrappers"). Interleaved rounds, best of each:
#   native      bench_protocol_plain, no preload
#   annot-off   bench_protocol_annotated, no preload (annotations present, inert)
#   wrapped     bench_protocol_plain under the preload (tracking, nothing failed)
#               + the generated libbench-protocol.so (faultstack protocol build)
#   preload     the same under the preload alone (bp_get/bp_put not wrapped)
# Usage: bench/protocol/run.sh [BUILD_DIR]    Env: N (10000000) ROUNDS (3)
set -eu
B=${1:-/work/main/build}
N=${N:-10000000}
ROUNDS=${ROUNDS:-3}
D=$(cd "$(dirname "$0")" && pwd)
FS=$B/bin/faultstack
PRE=$B/lib/libfaultstack-preload.so
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
export LD_LIBRARY_PATH=$B/lib
"$FS" protocol build "$D/bench.spec" -o "$TMP/libbench-protocol.so" >/dev/null
echo "machine: nproc=$(nproc), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(uname -r); N=$N pairs x best of 5 x $ROUNDS rounds"
best() { sort -n | head -n 1; }
r=1
while [ "$r" -le "$ROUNDS" ]; do
    "$B/bin/bench_protocol_plain" "$N" | awk '{print $2}' >> "$TMP/native"
    "$B/bin/bench_protocol_annotated" "$N" | awk '{print $2}' >> "$TMP/annot"
    rm -rf "$TMP/run"; mkdir "$TMP/run"
    FAULTSTACK_RUN_DIR=$TMP/run LD_PRELOAD="$PRE:$TMP/libbench-protocol.so" \
        "$B/bin/bench_protocol_plain" "$N" | awk '{print $2}' >> "$TMP/wrapped"
    grep -q '^s bp_get ' "$TMP"/run/*.rec || { echo "run.sh: FAIL: the protocol wrappers did not record bp_get" >&2; exit 1; }
    rm -rf "$TMP/run"; mkdir "$TMP/run"
    FAULTSTACK_RUN_DIR=$TMP/run LD_PRELOAD="$PRE" "$B/bin/bench_protocol_plain" "$N" | awk '{print $2}' >> "$TMP/preload"
    r=$((r + 1))
done
nat=$(best < "$TMP/native"); ann=$(best < "$TMP/annot"); wr=$(best < "$TMP/wrapped"); pl=$(best < "$TMP/preload")
printf '%-44s %10s %8s\n' "configuration" "ns/pair" "ratio"
printf '%-44s %10.2f %8.2f\n' "native (bp_get + bp_put)" "$nat" 1
printf '%-44s %10.2f %8.2f\n' "annotations compiled in, outside faultstack" "$ann" "$(echo "$ann / $nat" | bc -l)"
printf '%-44s %10.2f %8.2f\n' "preload alone (pair not wrapped)" "$pl" "$(echo "$pl / $nat" | bc -l)"
printf '%-44s %10.2f %8.2f\n' "preload + generated protocol wrappers" "$wr" "$(echo "$wr / $nat" | bc -l)"
printf 'added per wrapped call: %.1f ns\n' "$(echo "($wr - $pl) / 2" | bc -l)"
