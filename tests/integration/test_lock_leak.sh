#!/usr/bin/env bash
# test_lock_leak.sh — targets/demo/lock_leak.c returns with its mutex locked when the
# malloc() of a log entry fails; lock_leak_ok.c unlocks it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init lock_leak

# Fault: with one MESSAGE argument the entry's malloc() (FS-FAULT line, right
# after pthread_mutex_lock) is the program's only malloc() call before the
# failure. only=malloc,nth=1 fails it. (pthread_mutex_lock itself is tracked,
# not injectable.)
SPEC='only=malloc,nth=1'
ARGS=(hello)

fs_check_baseline demo_lock_leak "${ARGS[@]}"

fs_run_bug "$SPEC" demo_lock_leak "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected lock_leak.c malloc 1
fs_expect_leak lock_leak.c lock pthread_mutex_lock malloc

fs_check_clean_twin "$SPEC" demo_lock_leak_ok "${ARGS[@]}"
