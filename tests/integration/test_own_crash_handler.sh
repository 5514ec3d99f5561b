#!/usr/bin/env bash
# test_own_crash_handler.sh — issue 9: a crash under the program's own
# fatal-signal handler is a crash finding at its site (before: the program's
# handler replaced the preload's, the run said "killed by signal 11 ... 0
# crashes", exit 0, and the process record was lost; an exec sweep did 0 runs).
#
# targets/demo/own_crash_handler.c writes through NULL when its first malloc
# fails (FS-FAULT), under a handler that re-raises (reraise), calls _exit(3)
# (exit), aborts like gnulib's c-stack (abort), siglongjmps back and exits 0
# (recover), or with no handler sends itself SIGSEGV with kill() (killself).
# Expected: one crash finding SIGSEGV at the FS-EXPECT line (killself: at the
# kill() call), faultstack exit 1, the process record kept; recover: no
# finding. A sweep in fork and exec mode of 'reraise' finds the crash.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init own_crash_handler

crash_line=$(marker_line own_crash_handler.c '/* FS-EXPECT: crash */')
fault_line=$(marker_line own_crash_handler.c '/* FS-FAULT */')
kill_line=$(grep -n 'kill(getpid(), SIGSEGV)' "$DEMO_SRC/own_crash_handler.c" | cut -d: -f1)

for how in reraise exit abort killself; do
    fs_new_db "$how"
    fs_run --fail 'only=malloc,nth=1' -- "$DEMO_BIN/demo_own_crash_handler" "$how"
    assert_status 1
    want_line=$crash_line
    [[ $how == killself ]] && want_line=$kill_line
    fs_expect_exact_findings "$how" "crash|SIGSEGV|-|new_item|own_crash_handler.c|$want_line|malloc|$fault_line"
    assert_eq "$how: the process record is kept (process rows)" 1 "$(q 'SELECT count(*) FROM process')"
done

fs_new_db recover
fs_run --fail 'only=malloc,nth=1' -- "$DEMO_BIN/demo_own_crash_handler" recover
assert_status 0
fs_expect_findings 0

for mode in fork exec; do
    fs_sweep_check own_crash_handler "$mode" \
        "crash|SIGSEGV|-|new_item|own_crash_handler.c|$crash_line|malloc|$fault_line" \
        demo_own_crash_handler reraise
done
