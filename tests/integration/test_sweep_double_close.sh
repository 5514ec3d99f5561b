#!/usr/bin/env bash
# test_sweep_double_close.sh — precision and recall of `faultstack sweep`: a
# double close on a write-failure path.
#
# targets/demo/double_close.c: when write() fails (FS-FAULT line),
# save_record() closes the fd in the error branch and again in the common
# cleanup (FS-EXPECT line): a double-release anomaly of kind fd. Failing open
# or the final close is handled cleanly.
#
# The write failure's error path holds one more fault point, the close() in
# the error branch; the sweep fails it too ('<write key>,then=1'). close()
# releases the descriptor even when it fails, so the cleanup's close is the
# same double release caused by the same write failure: it must count as the
# same finding, not as a second one blamed on the first close.
# Expected in fork and in exec mode: exactly one finding; the fixed twin
# double_close_ok.c: none, exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_double_close

ARGS=("$SCRATCH/record.txt" alpha beta)
EXPECTED=$(fs_row anomaly fd double-release close double_close.c \
    '/* FS-EXPECT: anomaly double-release fd */' write '/* FS-FAULT */')

# Each mode's sweep of the bug demo is repeated ROUNDS times (about 0.1 s
# each): with -j 2 the run of the second fault and the other runs of the
# first fault's key may be recorded in either order, and the findings must not
# depend on that order. One round would catch an order-dependent result only
# now and then.
ROUNDS=5

for mode in fork exec; do
    for ((round = 1; round <= ROUNDS; round++)); do
        fs_sweep_check "double_close-$round" "$mode" "$EXPECTED" demo_double_close "${ARGS[@]}"
        if [[ $mode == fork ]]; then fs_expect_fork_runs "double_close-$round"; fi
    done
    fs_sweep_check double_close_ok "$mode" "" demo_double_close_ok "${ARGS[@]}"
    fs_expect_swept double_close_ok.c '/* FS-FAULT */' write
done
