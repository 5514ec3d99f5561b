#!/usr/bin/env bash
# test_crash.sh — a crash on an error path is a finding (design.md: crash).
#
# targets/demo/crash_null.c: new_item() reports a failed malloc but goes on and
# writes through the NULL pointer. Under only=malloc,nth=2 expected: faultstack
# exits 1 (findings, not a tool error); runs.signal = 11, exit_code NULL;
# exactly one finding, category crash, kind SIGSEGV, at the FS-EXPECT: crash
# line of crash_null.c (symbol new_item), fault_func malloc at the FS-FAULT line;
# one crash row with that line. The baseline finds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init crash

fs_check_baseline demo_crash_null 3

fs_new_db crash
fs_run --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
RUN_ID=$(q 'SELECT id FROM runs')
assert_eq "runs row (exit_code IS NULL|signal|timed_out|injected)" "1|11|0|1" \
    "$(q 'SELECT exit_code IS NULL, signal, timed_out, injected FROM runs')"
fs_expect_injected crash_null.c malloc 2
line=$(marker_line crash_null.c '/* FS-EXPECT: crash */')
fline=$(marker_line crash_null.c '/* FS-FAULT */')
fs_expect_findings 1
assert_eq "the crash finding (category|kind|symbol|line|fault_func|fault_line|runs|repro non-empty)" \
    "crash|SIGSEGV|new_item|$line|malloc|$fline|1|1" \
    "$(q "SELECT category, kind, symbol, line, fault_func, fault_line, runs, length(repro) > 0 FROM findings")"
assert_ends_with "file of the crash finding" "/crash_null.c" "$(q 'SELECT file FROM findings')"
assert_eq "crash rows (signal|line)" "11|$line" "$(q "SELECT signal, line FROM crash WHERE run_id = $RUN_ID")"
