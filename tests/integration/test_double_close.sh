#!/usr/bin/env bash
# test_double_close.sh — targets/demo/double_close.c closes its fd twice when write()
# fails; double_close_ok.c closes it once.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init double_close

# Fault: save_record()'s write() of the first line (FS-FAULT line) is the
# program's first write() call; perror()'s writes to stderr happen inside libc
# and are not fault points. only=write,nth=1 fails it. The second close() (the
# FS-EXPECT line, in the common cleanup) is the double release.
SPEC='only=write,nth=1'
ARGS=("$SCRATCH/record.txt" alpha beta)

fs_check_baseline demo_double_close "${ARGS[@]}"

fs_run_bug "$SPEC" demo_double_close "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected double_close.c write 1
fs_expect_anomaly double_close.c double-release fd close write

fs_check_clean_twin "$SPEC" demo_double_close_ok "${ARGS[@]}"
