#!/usr/bin/env bash
# test_double_free.sh — a double free on an error path is an anomaly, and the
# preload swallows the second free so the program does not crash under it.
#
# targets/demo/double_free.c frees `key` in the strdup-failure branch and again
# in the cleanup. Natively glibc would abort; under faultstack with
# only=strdup,nth=1 expected: faultstack exits 1; the program exits 1 by itself
# (no signal); exactly one finding: anomaly double-release, kind memory, func
# free at the FS-EXPECT line, caused by the strdup at the FS-FAULT line; no leak.
# The baseline finds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init double_free

fs_check_baseline demo_double_free key=value
fs_run_bug 'only=strdup,nth=1' demo_double_free key=value
fs_expect_injected double_free.c strdup 1
fs_expect_findings 1
fs_expect_anomaly double_free.c double-release memory free strdup
assert_eq "leaks rows" 0 "$(q 'SELECT count(*) FROM leaks')"
assert_stderr_contains "the program reported the failure itself" "demo_double_free: out of memory"
