#!/bin/sh
# run.sh — preload overhead, measured in one invocation (bench/RESULTS.md,
# "Preload overhead"). Runs bench_preload_pairs natively, under the minimal
# do-nothing wrapper (the floor of any LD_PRELOAD), under libfiu's preloads with
# nothing enabled (what `fiu-run -x` sets) and under libfaultstack-preload in
# tracking mode (FAULTSTACK_RUN_DIR set, no FAULTSTACK_PLAN); then the
# malloc-heavy program natively, under faultstack and under valgrind memcheck
# (at a smaller size). Prints one table.
#
# Each configuration runs ROUNDS times, interleaved (native, minimal, libfiu,
# faultstack, native, ...), and each cell is the best over the rounds (pairs:
# of the best-of-5 inside the program), so a noisy neighbour on a shared
# machine inflates no single column.
#
# Usage: bench/preload/run.sh [BUILD_DIR]      (default /work/main/build)
# Env:   ROUNDS (3) PAIRS_N (2000000) PAIRS_NFILE (200000) HEAVY_STEPS (6500000)
#        HEAVY_ROUNDS (2) MEMCHECK_STEPS (650000; 0 skips memcheck)
#        FS_PRELOAD (BUILD_DIR/lib/libfaultstack-preload.so: try a patched copy)
set -eu

B=${1:-/work/main/build}
PAIRS=$B/bin/bench_preload_pairs
HEAVY=$B/bin/bench_preload_mallocheavy
FS_SO=${FS_PRELOAD:-$B/lib/libfaultstack-preload.so}
MIN_SO=$B/lib/libbench_preload_minimal_wrap.so
FIU_DIR=/usr/lib/fiu
FIU_SO="$FIU_DIR/fiu_run_preload.so $FIU_DIR/fiu_posix_preload.so"
PAIRS_N=${PAIRS_N:-2000000}
PAIRS_NFILE=${PAIRS_NFILE:-200000}
HEAVY_STEPS=${HEAVY_STEPS:-6500000}
MEMCHECK_STEPS=${MEMCHECK_STEPS:-650000}
ROUNDS=${ROUNDS:-3}
HEAVY_ROUNDS=${HEAVY_ROUNDS:-2}

for f in "$PAIRS" "$HEAVY" "$FS_SO" "$MIN_SO"; do
    [ -e "$f" ] || { echo "run.sh: $f missing: build first (cmake --build $B)" >&2; exit 2; }
done
for f in $FIU_SO; do
    [ -e "$f" ] || { echo "run.sh: $f missing: apt-get install fiu-utils" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# now in ns
now() { date +%s%N; }

# check_record DIR WHAT: the faultstack preload must have written a complete
# record, or its numbers mean nothing (a no-op preload would look fast).
check_record() {
    rec=$(ls "$1"/*.rec 2>/dev/null | head -n 1 || true)
    if [ -z "$rec" ]; then
        echo "run.sh: FAIL: no faultstack record in $1 ($2): the preload did not run" >&2
        exit 1
    fi
    lines=$(wc -l < "$rec")
    pts=$(grep -c '^p ' "$rec" || true)
    sum=$(grep '^sum ' "$rec" || true)
    if ! grep -q '^done' "$rec"; then
        echo "run.sh: FAIL: faultstack record $rec ($2) has no 'done' line" >&2
        exit 1
    fi
    echo "faultstack record ($2): $lines lines, $pts 'p' lines, '$sum', complete"
}

run_pairs() {   # LABEL, then the command prefix (env ...)
    label=$1; shift
    "$@" "$PAIRS" "$PAIRS_N" "$PAIRS_NFILE" >> "$TMP/pairs.$label"
}

echo "machine: nproc=$(nproc), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(uname -r)"
echo "faultstack preload: $FS_SO"
echo "pairs: N=$PAIRS_N (malloc/free, mutex), $PAIRS_NFILE (open/close, fopen/fclose of /dev/null), best of 5 x $ROUNDS rounds"

r=1
while [ "$r" -le "$ROUNDS" ]; do
    run_pairs native     env
    run_pairs minimal    env LD_PRELOAD="$MIN_SO"
    run_pairs libfiu     env FIU_ENABLE= FIU_CTRL_FIFO="$TMP/fiu-ctrl" LD_PRELOAD="$FIU_SO"
    rm -rf "$TMP/fs-pairs"; mkdir "$TMP/fs-pairs"
    run_pairs faultstack env -u FAULTSTACK_PLAN FAULTSTACK_RUN_DIR="$TMP/fs-pairs" LD_PRELOAD="$FS_SO"
    check_record "$TMP/fs-pairs" "pairs, round $r"
    r=$((r + 1))
done

# best (lowest) value of column C for pair P over the rounds of configuration L
val() { awk -v p="$2" -v c="$3" '$1 == "pair" && $2 == p && (b == "" || $c + 0 < b + 0) { b = $c } END { print b }' "$TMP/pairs.$1"; }

printf '\n| pair | native ns | minimal | libfiu | faultstack | faultstack added ns | ratio vs native | faultstack 1st rep |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for p in malloc/free open/close fopen/fclose mutex_lock/unlock; do
    n=$(val native "$p" 3); m=$(val minimal "$p" 3); l=$(val libfiu "$p" 3)
    f=$(val faultstack "$p" 3); f1=$(val faultstack "$p" 4)
    awk -v p="$p" -v n="$n" -v m="$m" -v l="$l" -v f="$f" -v f1="$f1" 'BEGIN {
        printf "| %s | %.1f | %.1f | %.1f | %.1f | %+.1f | %.2f | %.1f |\n", p, n, m, l, f, f - n, f / n, f1 }'
done

# ---- malloc-heavy program: whole process (including the preload's end-of-process
# reachability scan and record writing), wall clock ----
heavy() {   # OUT, then command prefix
    out=$1; shift
    t0=$(now)
    "$@" "$HEAVY" "$HEAVY_STEPS" > "$TMP/$out.txt"
    t1=$(now)
    echo $(( t1 - t0 )) >> "$TMP/$out.ns"
    sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$TMP/$out.txt" >> "$TMP/$out.main"
}
r=1
while [ "$r" -le "$HEAVY_ROUNDS" ]; do
    heavy heavy.native env
    rm -rf "$TMP/fs-heavy"; mkdir "$TMP/fs-heavy"
    heavy heavy.fs env -u FAULTSTACK_PLAN FAULTSTACK_RUN_DIR="$TMP/fs-heavy" LD_PRELOAD="$FS_SO"
    check_record "$TMP/fs-heavy" "mallocheavy, round $r"
    r=$((r + 1))
done

mc="skipped"
if [ "$MEMCHECK_STEPS" -gt 0 ] && command -v valgrind >/dev/null; then
    t0=$(now); "$HEAVY" "$MEMCHECK_STEPS" > /dev/null; t1=$(now)
    nat_small=$(( t1 - t0 ))
    t0=$(now)
    valgrind --tool=memcheck --leak-check=full --log-file="$TMP/memcheck.log" "$HEAVY" "$MEMCHECK_STEPS" > /dev/null
    t1=$(now)
    mc=$(awk -v a=$(( t1 - t0 )) -v b="$nat_small" 'BEGIN { printf "%.1f", a / b }')
    mc="$mc (at $MEMCHECK_STEPS steps)"
fi

nat=$(sort -n "$TMP/heavy.native.ns" | head -n 1)
fs=$(sort -n "$TMP/heavy.fs.ns" | head -n 1)
natm=$(sort -n "$TMP/heavy.native.main" | head -n 1)
fsm=$(sort -n "$TMP/heavy.fs.main" | head -n 1)
printf '\n%s\n' "$(sed 's/elapsed_s=[0-9.]* //' "$TMP/heavy.fs.txt")"
printf '\n| mallocheavy | native s | faultstack s | ratio | memcheck ratio |\n|---|---:|---:|---:|---:|\n'
awk -v n="$nat" -v f="$fs" -v mc="$mc" 'BEGIN {
    printf "| whole process | %.2f | %.2f | %.2f | %s |\n", n / 1e9, f / 1e9, f / n, mc }'
awk -v n="$natm" -v f="$fsm" 'BEGIN {
    printf "| main only (its own clock) | %.2f | %.2f | %.2f | |\n", n, f, f / n }'
