#!/usr/bin/env bash
# test_run_twice.sh — two runs into one database: both are kept in runs, and a
# finding seen in both is one row of findings (same id) with runs = 2.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init run_twice

# Same scenario as test_fd_leak.sh: nth=2 among open() calls fails the open
# of DST, which leaks the fd of SRC.
SPEC='only=open,nth=2'
ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")

fs_run --fail "$SPEC" -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
assert_eq "runs after the first run" 1 "$(q 'SELECT count(*) FROM runs')"
run1=$(q 'SELECT id FROM runs')
assert_eq "findings after the first run" 1 "$(q 'SELECT count(*) FROM findings')"
id1=$(q 'SELECT id FROM findings')
assert_eq "findings after the first run (runs|first_run)" "1|$run1" "$(q 'SELECT runs, first_run FROM findings')"

fs_run --fail "$SPEC" -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
assert_eq "runs after the second run" 2 "$(q 'SELECT count(*) FROM runs')"
run2=$(q "SELECT id FROM runs WHERE id <> $run1")
assert_eq "the second run has its own injected fault point" 1 \
    "$(q "SELECT count(*) FROM fault_points WHERE run_id = $run2 AND injected = 1")"
assert_eq "leaks rows per run (run $run1, run $run2)" "1|1" \
    "$(q "SELECT (SELECT count(*) FROM leaks WHERE run_id = $run1), (SELECT count(*) FROM leaks WHERE run_id = $run2)")"
assert_eq "findings after the second run" 1 "$(q 'SELECT count(*) FROM findings')"
assert_eq "the finding after the second run (id|runs|first_run)" "$id1|2|$run1" \
    "$(q 'SELECT id, runs, first_run FROM findings')"
