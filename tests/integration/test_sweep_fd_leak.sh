#!/usr/bin/env bash
# test_sweep_fd_leak.sh — precision and recall of `faultstack sweep`: an fd
# leaked when a second open() fails.
#
# targets/demo/fd_leak.c: copy_file() opens SRC (FS-EXPECT line), then DST
# (FS-FAULT line); when the second open fails it returns without closing SRC's
# descriptor. Every other fault point (the first open, read, write, both
# closes) is handled without a leak. So a sweep must report exactly one
# finding — the fd leak, caused by the second open — in fork mode and in exec
# mode (each in a fresh database), and the fixed twin fd_leak_ok.c must give
# no finding and exit status 0 although its second open was failed too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fd_leak

ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")
EXPECTED=$(fs_row leak fd - open fd_leak.c '/* FS-EXPECT: leak fd */' open '/* FS-FAULT */')

for mode in fork exec; do
    fs_sweep_check fd_leak "$mode" "$EXPECTED" demo_fd_leak "${ARGS[@]}"
    if [[ $mode == fork ]]; then fs_expect_fork_runs fd_leak; fi
    fs_sweep_check fd_leak_ok "$mode" "" demo_fd_leak_ok "${ARGS[@]}"
    fs_expect_swept fd_leak_ok.c '/* FS-FAULT */' open
done
