#!/usr/bin/env bash
# test_sweep_clean_exit.sh — precision of `faultstack sweep`: a program that
# exits on error after releasing everything has no finding at all.
#
# targets/demo/clean_exit.c: job_run() holds a lock, an fd, a FILE, a buffer
# and a string; on every failure job_fail() releases all of them and then
# calls exit(1); release failures are reported, never retried. Expected in
# fork and in exec mode: no finding, exit status 0, no leaks row (nothing
# leaked or lost in any run) and no anomaly; and the sweep did fail each
# FS-FAULT call (open, fopen, malloc, strdup, read, fgets, fclose, close).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_clean_exit

INPUT=$DEMO_SRC/fd_leak.c           # any readable file with a first line

for mode in fork exec; do
    fs_sweep_check clean_exit "$mode" "" demo_clean_exit "$INPUT"
    if [[ $mode == fork ]]; then fs_expect_fork_runs clean_exit; fi
    assert_eq "clean_exit/$mode: leaks rows in any run" 0 "$(q 'SELECT count(*) FROM leaks')"
    assert_eq "clean_exit/$mode: anomalies rows in any run" 0 "$(q 'SELECT count(*) FROM anomalies')"
    assert_eq "clean_exit/$mode: fault runs that did not exit 1 after reporting (crash, timeout, swallowed)" 0 \
        "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL
              AND (exit_code IS NOT 1 OR signal IS NOT NULL OR timed_out OR swallowed)")"
    for func in open fopen malloc strdup read fgets fclose close; do
        fs_expect_swept clean_exit.c "/* FS-FAULT: $func */" "$func"
    done
done
