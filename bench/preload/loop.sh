#!/bin/sh
# loop.sh — issue 11's malloc/free loop (bench/preload/loop.c: 25.6M calls, 64
# live blocks), timed in one invocation natively, under libfaultstack-preload
# alone (tracking mode as `faultstack run` starts it: FAULTSTACK_RUN_DIR set,
# FAULTSTACK_PLAN=none, FAULTSTACK_MAX_POINTS=5000), under `faultstack
# run` (supervisor, record ingest and database included) and under
# LeakSanitizer (gcc and clang -fsanitize=leak builds of the same source, made
# here). Prints one table of whole-process wall times and ratios vs native,
# plus the database bytes of the `faultstack run`. One more row, for the
# record: `faultstack run` with FAULTSTACK_MAX_POINTS=0, i.e. without the
# per-point 'p' lines (the first 5,000 fault points, stored as rows by the
# supervisor). Then a second table: the same calls made by two threads
# (loop.c's 'threads' mode, a child forked meanwhile makes 1/8 of them)
# natively, under the preload and under `faultstack run`. Results:
# bench/RESULTS.md.
#
# Configurations run interleaved ROUNDS times; each cell is the best round.
#
# Usage: bench/preload/loop.sh [BUILD_DIR]      (default /work/main/build)
# Env:   ROUNDS (3) CALLS (25600000)
#        FS_PRELOAD (BUILD_DIR/lib/libfaultstack-preload.so: try a patched copy)
#        FS_PRELOAD_OLD (another build of the preload, e.g. before a change: one
#        more row, "preload alone (old)", timed in the same rounds)
set -eu

B=${1:-/work/main/build}
LOOP=$B/bin/bench_preload_loop
FS=$B/bin/faultstack
FS_SO=${FS_PRELOAD:-$B/lib/libfaultstack-preload.so}
SRC=$(cd "$(dirname "$0")" && pwd)/loop.c
ROUNDS=${ROUNDS:-3}
CALLS=${CALLS:-25600000}

for f in "$LOOP" "$FS" "$FS_SO"; do
    [ -e "$f" ] || { echo "loop.sh: $f missing: build first (cmake --build $B)" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# LeakSanitizer builds (skipped, and said so, when a compiler cannot make one)
LSAN=""
for cc in gcc clang; do
    if command -v "$cc" >/dev/null &&
        "$cc" -O2 -fno-builtin -g -fsanitize=leak -o "$TMP/loop.lsan-$cc" "$SRC" 2>"$TMP/$cc.err"; then
        LSAN="$LSAN lsan-$cc"
    else
        echo "loop.sh: no $cc -fsanitize=leak build: $(head -n 1 "$TMP/$cc.err" 2>/dev/null)" >&2
    fi
done

now() { date +%s%N; }

timed() {   # LABEL, then the command
    label=$1; shift
    t0=$(now)
    "$@" > "$TMP/out.$label" 2>&1 || { echo "loop.sh: FAIL: $label exited non-zero:" >&2; cat "$TMP/out.$label" >&2; exit 1; }
    t1=$(now)
    echo $(( t1 - t0 )) >> "$TMP/ns.$label"
}

echo "machine: nproc=$(nproc), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(uname -r)"
echo "loop: $CALLS calls (malloc/free, 64 live blocks), best of $ROUNDS interleaved rounds"
echo "faultstack preload: $FS_SO${FS_PRELOAD_OLD:+ (old: $FS_PRELOAD_OLD)}"

r=1
while [ "$r" -le "$ROUNDS" ]; do
    timed native env "$LOOP" "$CALLS"
    rm -rf "$TMP/rd"; mkdir "$TMP/rd"
    timed preload env FAULTSTACK_PLAN=none FAULTSTACK_MAX_POINTS=5000 FAULTSTACK_RUN_DIR="$TMP/rd" LD_PRELOAD="$FS_SO" "$LOOP" "$CALLS"
    rec=$(ls "$TMP"/rd/*.rec 2>/dev/null | head -n 1 || true)
    if [ -z "$rec" ] || ! grep -q '^done' "$rec"; then
        echo "loop.sh: FAIL: the preload wrote no complete record: its time means nothing" >&2
        exit 1
    fi
    if [ -n "${FS_PRELOAD_OLD:-}" ]; then
        rm -rf "$TMP/rd_old"; mkdir "$TMP/rd_old"
        timed preload_old env FAULTSTACK_PLAN=none FAULTSTACK_MAX_POINTS=5000 FAULTSTACK_RUN_DIR="$TMP/rd_old" LD_PRELOAD="$FS_PRELOAD_OLD" "$LOOP" "$CALLS"
    fi
    rm -f "$TMP/loop.db"
    timed run env FAULTSTACK_PRELOAD="$FS_SO" "$FS" run --db "$TMP/loop.db" -- "$LOOP" "$CALLS"
    db_bytes=$(stat -c %s "$TMP/loop.db")
    rm -f "$TMP/loop0.db"
    timed run0 env FAULTSTACK_PRELOAD="$FS_SO" FAULTSTACK_MAX_POINTS=0 "$FS" run --db "$TMP/loop0.db" -- "$LOOP" "$CALLS"
    db0_bytes=$(stat -c %s "$TMP/loop0.db")
    for l in $LSAN; do
        timed "$l" env "$TMP/loop.$l" "$CALLS"
    done
    # the same calls made by two threads (and a child forked meanwhile, 1/8 of them)
    timed t_native env "$LOOP" "$CALLS" threads
    rm -rf "$TMP/rd_t"; mkdir "$TMP/rd_t"
    timed t_preload env FAULTSTACK_PLAN=none FAULTSTACK_MAX_POINTS=5000 FAULTSTACK_RUN_DIR="$TMP/rd_t" LD_PRELOAD="$FS_SO" "$LOOP" "$CALLS" threads
    if [ -n "${FS_PRELOAD_OLD:-}" ]; then
        rm -rf "$TMP/rd_old"; mkdir "$TMP/rd_old"
        timed t_preload_old env FAULTSTACK_PLAN=none FAULTSTACK_MAX_POINTS=5000 FAULTSTACK_RUN_DIR="$TMP/rd_old" LD_PRELOAD="$FS_PRELOAD_OLD" "$LOOP" "$CALLS" threads
    fi
    rm -f "$TMP/loopt.db"
    timed t_run env FAULTSTACK_PRELOAD="$FS_SO" "$FS" run --db "$TMP/loopt.db" -- "$LOOP" "$CALLS" threads
    r=$((r + 1))
done

best() { sort -n "$TMP/ns.$1" | head -n 1; }
nat=$(best native)
printf '\n| configuration | wall s (best) | ratio vs native | added ns per call |\n|---|---:|---:|---:|\n'
OLD=""; [ -n "${FS_PRELOAD_OLD:-}" ] && OLD=preload_old
for l in native preload $OLD run run0 $LSAN; do
    awk -v l="$l" -v t="$(best "$l")" -v n="$nat" -v c="$CALLS" 'BEGIN {
        name = l
        if (l == "preload") name = "faultstack preload alone"
        if (l == "preload_old") name = "faultstack preload alone (FS_PRELOAD_OLD)"
        if (l == "run") name = "faultstack run"
        if (l == "run0") name = "(faultstack run, FAULTSTACK_MAX_POINTS=0: no p lines)"
        if (l == "lsan-gcc") name = "LeakSanitizer (gcc -fsanitize=leak)"
        if (l == "lsan-clang") name = "LeakSanitizer (clang -fsanitize=leak)"
        printf "| %s | %.3f | %.2f | %.1f |\n", name, t / 1e9, t / n, (t - n) / c }'
done
tnat=$(best t_native)
printf '\n| two threads (%s calls in all, 1/8 in a child forked meanwhile) | wall s (best) | ratio vs native |\n|---|---:|---:|\n' "$CALLS"
OLDT=""; [ -n "${FS_PRELOAD_OLD:-}" ] && OLDT=t_preload_old
for l in t_native t_preload $OLDT t_run; do
    awk -v l="$l" -v t="$(best "$l")" -v n="$tnat" 'BEGIN {
        name = l
        if (l == "t_native") name = "native"
        if (l == "t_preload") name = "faultstack preload alone"
        if (l == "t_preload_old") name = "faultstack preload alone (FS_PRELOAD_OLD)"
        if (l == "t_run") name = "faultstack run"
        printf "| %s | %.3f | %.2f |\n", name, t / 1e9, t / n }'
done
echo
echo "faultstack run: database $db_bytes bytes (with FAULTSTACK_MAX_POINTS=0: $db0_bytes bytes); the preload's record: $(wc -l < "$rec") lines, $(grep -c '^p ' "$rec" || true) 'p' lines"
