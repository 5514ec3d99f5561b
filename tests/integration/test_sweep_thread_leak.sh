#!/usr/bin/env bash
# test_sweep_thread_leak.sh — precision and recall of `faultstack sweep`: leaks
# in a worker thread.
#
# targets/demo/thread_leak.c (run as `FILE return` and as `FILE exit`):
# worker() mallocs a buffer and opens FILE (the two FS-EXPECT lines), then
# strdup()s the path (FS-FAULT line); when the strdup fails the worker returns
# without releasing either. main() joins it, so both were acquired in frames
# that have all returned: two leaks caused by the strdup. Failing the
# worker's malloc, open, read or close is handled without a leak. The program
# starts a thread before its first fault point, so a fork-mode sweep falls
# back to exec. Expected, for both endings of main and in both modes: exactly
# the two findings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_thread_leak

EXPECTED=$(
    fs_row leak memory - malloc thread_leak.c '/* FS-EXPECT: leak memory */' strdup '/* FS-FAULT */'
    fs_row leak fd - open thread_leak.c '/* FS-EXPECT: leak fd */' strdup '/* FS-FAULT */'
)

for ending in return exit; do
    for mode in fork exec; do
        fs_sweep_check "thread_leak-$ending" "$mode" "$EXPECTED" demo_thread_leak \
            "$DEMO_SRC/fd_leak.c" "$ending"
    done
done
