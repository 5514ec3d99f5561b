#!/usr/bin/env bash
# test_sweep_lock_leak.sh — precision and recall of `faultstack sweep`: a mutex
# left locked when malloc() fails.
#
# targets/demo/lock_leak.c: log_append() locks log_lock (FS-EXPECT line), then
# mallocs the entry (FS-FAULT line); when that malloc fails it returns with
# the lock held. The demo's only fault point is that malloc (the mutex calls
# are tracked, not failed). Expected in fork and in exec mode: exactly one
# finding (leak, kind lock, pthread_mutex_lock, caused by the malloc); the
# fixed twin lock_leak_ok.c: none, exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_lock_leak

EXPECTED=$(fs_row leak lock - pthread_mutex_lock lock_leak.c '/* FS-EXPECT: leak lock */' \
    malloc '/* FS-FAULT */')

for mode in fork exec; do
    fs_sweep_check lock_leak "$mode" "$EXPECTED" demo_lock_leak hello
    if [[ $mode == fork ]]; then fs_expect_fork_runs lock_leak; fi
    fs_sweep_check lock_leak_ok "$mode" "" demo_lock_leak_ok hello
    fs_expect_swept lock_leak_ok.c '/* FS-FAULT */' malloc
done
