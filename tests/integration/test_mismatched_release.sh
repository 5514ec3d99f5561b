#!/usr/bin/env bash
# test_mismatched_release.sh — targets/demo/mismatched_release.c releases its FILE with
# close(fileno(f)) when fflush() fails, and never fclose()s it;
# mismatched_release_ok.c fclose()s it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init mismatched_release

# Fault: write_report() makes the program's only fflush() call (FS-FAULT line).
# only=fflush,nth=1 fails it.
# Two findings: the anomaly mismatched-release (kind file, func close) on the
# close(fileno(f)) line, and the FILE itself leaks (kind file, func fopen):
# fclose() is never called, so the stream outlives write_report(); closing its
# fd does not release it.
SPEC='only=fflush,nth=1'
ARGS=("$SCRATCH/report.txt" quarterly)

fs_check_baseline demo_mismatched_release "${ARGS[@]}"

fs_run_bug "$SPEC" demo_mismatched_release "${ARGS[@]}"
fs_expect_findings 2
fs_expect_injected mismatched_release.c fflush 1
fs_expect_anomaly mismatched_release.c mismatched-release file close fflush
fs_expect_leak mismatched_release.c file fopen fflush

fs_check_clean_twin "$SPEC" demo_mismatched_release_ok "${ARGS[@]}"
