#!/usr/bin/env bash
# test_annotate.sh — faultstack/annotate.h in a program whose protocol lives in
# static inline helpers (targets/annotate/pool.c, built at -O2):
#  - outside faultstack the annotations do nothing: same output, exit 0;
#  - under `faultstack run` with nothing injected: the same, and no finding;
#  - a sweep fails the FAULTSTACK_FAULT point once per caller (both pool_get
#    calls of main) and finds exactly the planted leak: the "conn" acquired
#    at the FAULTSTACK_ACQUIRE line, when the second pool_get fails; the fixed
#    twin has none.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init annotate

DEMO_SRC=$DEMO_SRC/../annotate
for p in pool_annotated pool_annotated_ok; do
    out=$("$DEMO_BIN/$p") || fs_fail "$p outside faultstack" "exit 0" "exit $?"
    assert_eq "$p outside faultstack: its output" "sum 33" "$out"
    fs_new_db "$p-run"
    fs_run -- "$DEMO_BIN/$p"
    assert_eq "$p under faultstack run: its output" "sum 33" "$(cat "$SCRATCH/last.out")"
    assert_status 0
    fs_expect_exact_findings "$p under faultstack run" ""
    assert_eq "$p: the annotation's fault points in the run (both pool_get calls, at the FAULTSTACK_FAULT line)" \
        "2|$(marker_line pool.c '/* FS-EXPECT fault point */')" \
        "$(q "SELECT count(*), group_concat(DISTINCT line) FROM fault_points WHERE func = 'pool_get'")"
done

fs_new_db sweep
fs_exec sweep --db "$DB" -j 2 --timeout 30 -- "$DEMO_BIN/pool_annotated"
fs_expect_exact_findings "sweep of the planted bug" \
    "$(fs_row leak conn - conn.acquire pool.c '/* FS-EXPECT acquire */' pool_get '/* FS-EXPECT fault point */')"
assert_status 1

fs_new_db sweep-ok
fs_exec sweep --db "$DB" -j 2 --timeout 30 -- "$DEMO_BIN/pool_annotated_ok"
fs_expect_exact_findings "sweep of the fixed twin" ""
assert_status 0
assert_eq "the fixed twin's sweep failed pool_get for each of its two callers" 2 \
    "$(q "SELECT count(*) FROM fault_points WHERE injected = 1 AND func = 'pool_get'")"
