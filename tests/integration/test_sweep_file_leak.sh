#!/usr/bin/env bash
# test_sweep_file_leak.sh — precision and recall of `faultstack sweep`: a FILE
# leaked when malloc() fails.
#
# targets/demo/file_leak.c: count_lines() fopen()s FILE (FS-EXPECT line), then
# mallocs its line buffer (FS-FAULT line); when that malloc fails it returns
# without fclose(). Failing fopen, fgets or the final fclose leaks nothing.
# Expected in fork and in exec mode: exactly one finding (leak, kind file,
# fopen, caused by the malloc); the fixed twin file_leak_ok.c: none, exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_file_leak

INPUT=$DEMO_SRC/file_leak.c
EXPECTED=$(fs_row leak file - fopen file_leak.c '/* FS-EXPECT: leak file */' malloc '/* FS-FAULT */')

for mode in fork exec; do
    fs_sweep_check file_leak "$mode" "$EXPECTED" demo_file_leak "$INPUT"
    if [[ $mode == fork ]]; then fs_expect_fork_runs file_leak; fi
    fs_sweep_check file_leak_ok "$mode" "" demo_file_leak_ok "$INPUT"
    fs_expect_swept file_leak_ok.c '/* FS-FAULT */' malloc
done
