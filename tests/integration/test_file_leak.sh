#!/usr/bin/env bash
# test_file_leak.sh — targets/demo/file_leak.c leaks its FILE when the malloc() of the
# line buffer fails; file_leak_ok.c fclose()s it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init file_leak

# Fault: the line buffer's malloc() (FS-FAULT line) is the program's first own
# malloc() call; the malloc inside fopen() is libc's and not a fault point.
# only=malloc,nth=1 therefore fails exactly that call.
SPEC='only=malloc,nth=1'
ARGS=("$DEMO_SRC/file_leak.c")

fs_check_baseline demo_file_leak "${ARGS[@]}"

fs_run_bug "$SPEC" demo_file_leak "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected file_leak.c malloc 1
fs_expect_leak file_leak.c file fopen malloc

fs_check_clean_twin "$SPEC" demo_file_leak_ok "${ARGS[@]}"
