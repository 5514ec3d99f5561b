#!/usr/bin/env bash
# test_timeout.sh — a hang on an error path is a finding (design.md: timeout),
# and a relock of a held non-recursive mutex is an anomaly that survives the
# kill (the preload writes anomalies at once).
#
# targets/demo/hang.c holds a mutex when its malloc fails; then
#   relock  report() locks the same (normal) mutex again: self-deadlock;
#   sleep   it waits forever for a flag nothing sets.
# Expected under --timeout 2 --fail only=malloc,nth=1, for both: faultstack
# exits 1; runs.timed_out = 1; a 'timeout' finding with fault_func malloc at
# the FS-FAULT line; the held mutex recorded with verdict 'held' (not a leak).
# relock only: one anomaly finding relock/lock/pthread_mutex_lock at the
# FS-EXPECT line (fs_expect_anomaly); sleep: no anomaly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init timeout

fline=$(marker_line hang.c '/* FS-FAULT */')
held_line=$(marker_line hang.c '/* FS-EXPECT: held lock */')
for mode in relock sleep; do
    fs_new_db "hang_$mode"
    fs_run --timeout 2 --fail 'only=malloc,nth=1' -- "$DEMO_BIN/demo_hang" "$mode"
    assert_status 1
    RUN_ID=$(q 'SELECT id FROM runs')
    assert_eq "$mode: runs row (timed_out|injected|exit_code IS NULL)" "1|1|1" \
        "$(q 'SELECT timed_out, injected, exit_code IS NULL FROM runs')"
    assert_eq "$mode: the run took at least the timeout and less than 10 s" "1" \
        "$(q 'SELECT duration_ms >= 2000 AND duration_ms < 10000 FROM runs')"
    fs_expect_injected hang.c malloc 1
    assert_eq "$mode: the timeout finding (count|fault_func|fault_line)" "1|malloc|$fline" \
        "$(q "SELECT count(*), fault_func, fault_line FROM findings WHERE category = 'timeout'")"
    assert_eq "$mode: the mutex is held, not leaked (verdict|kind|func|line)" "held|lock|pthread_mutex_lock|$held_line" \
        "$(q "SELECT verdict, kind, func, line FROM resource WHERE run_id = $RUN_ID")"
    if [[ $mode == relock ]]; then
        fs_expect_findings 2
        fs_expect_anomaly hang.c relock lock pthread_mutex_lock malloc
    else
        fs_expect_findings 1
        assert_eq "$mode: anomalies" 0 "$(q 'SELECT count(*) FROM anomalies')"
    fi
done
