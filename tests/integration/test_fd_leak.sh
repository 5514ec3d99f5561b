#!/usr/bin/env bash
# test_fd_leak.sh — targets/demo/fd_leak.c leaks the fd of its first open() when the
# second open() fails; fd_leak_ok.c closes it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init fd_leak

# Fault: copy_file() makes the program's only two open() calls, SRC (the
# FS-EXPECT line) then DST (the FS-FAULT line). With only=open, nth counts
# open() calls alone, so nth=2 fails the open of DST and nothing else.
SPEC='only=open,nth=2'
ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")

fs_check_baseline demo_fd_leak "${ARGS[@]}"

fs_run_bug "$SPEC" demo_fd_leak "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected fd_leak.c open 2
fs_expect_leak fd_leak.c fd open open

fs_check_clean_twin "$SPEC" demo_fd_leak_ok "${ARGS[@]}"
