#!/usr/bin/env bash
# test_ubsan.sh — an UndefinedBehaviorSanitizer report is a crash finding.
#
# targets/demo/ubsan_error_path.c (gcc -fsanitize=undefined, libubsan.so): on
# the error path of a failed malloc it overflows a signed counter. UBSan
# reports it (into the run directory: UBSAN_OPTIONS log_path) and the program
# goes on and exits 1. Expected under --fail nth=1: one finding, crash
# ubsan:signed-integer-overflow (UBSan's report_error_type) in main at the
# FS-EXPECT line, fault malloc at the FS-FAULT line; the report stored whole
# in sanitizer_reports; nothing else (UBSan's own allocations at its first
# report are not the program's leaks). The baseline reports nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init ubsan

PROG=$DEMO_BIN/demo_ubsan_error_path
if [[ ! -x $PROG ]]; then
    echo "SKIP: $PROG was not built (the C compiler is not gcc, or -fsanitize does not link)"
    exit 0
fi
SRC=ubsan_error_path.c
line=$(marker_line $SRC '/* FS-EXPECT: ubsan */')
fline=$(marker_line $SRC '/* FS-FAULT */')

fs_check_baseline demo_ubsan_error_path
assert_eq "baseline: sanitizer reports" 0 "$(q 'SELECT count(*) FROM sanitizer_reports')"

fs_new_db bug
fs_run --fail nth=1 -- "$PROG"
assert_status 1
assert_eq "findings (category|kind|symbol|line|fault_func|fault_line)" \
    "crash|ubsan:signed-integer-overflow|main|$line|malloc|$fline" \
    "$(q 'SELECT category, kind, symbol, line, fault_func, fault_line FROM findings')"
assert_eq "sanitizer_reports (tool|kind|line)" "ubsan|ubsan:signed-integer-overflow|$line" \
    "$(q 'SELECT tool, kind, line FROM sanitizer_reports')"
report=$(q 'SELECT report FROM sanitizer_reports')
[[ $report == *"runtime error: signed integer overflow"* && $report == *"in main "*"/$SRC:$line ("* ]] ||
    fs_fail "the stored report" "'runtime error: signed integer overflow' and a frame 'in main .../$SRC:$line'" "$report"
assert_eq "the program went on after the report (process end_how|exit_code)" "main|1" \
    "$(q 'SELECT end_how, exit_code FROM process')"
