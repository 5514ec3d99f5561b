#!/usr/bin/env bash
# test_dir_leak.sh — targets/demo/dir_leak.c leaks its DIR when the malloc() of the
# output buffer fails; dir_leak_ok.c closedir()s it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init dir_leak

# Fault: the output buffer's malloc() (FS-FAULT line) is the program's first
# own malloc() call; opendir()'s allocation is libc's and not a fault point.
# only=malloc,nth=1 therefore fails exactly that call. (The DIR's memory is
# part of the dir resource: one finding of kind dir, no memory finding.)
SPEC='only=malloc,nth=1'
ARGS=("$DEMO_SRC")

fs_check_baseline demo_dir_leak "${ARGS[@]}"

fs_run_bug "$SPEC" demo_dir_leak "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected dir_leak.c malloc 1
fs_expect_leak dir_leak.c dir opendir malloc

fs_check_clean_twin "$SPEC" demo_dir_leak_ok "${ARGS[@]}"
