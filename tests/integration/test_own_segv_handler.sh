#!/usr/bin/env bash
# test_own_segv_handler.sh — targets/demo/own_segv_handler.c: the program
# replaced SIGSEGV's handler (as GNU diff's c-stack does) and one root of the
# leak scan is not readable. The scan's fault must stay the preload's: the
# program exits 0 (no "program error", no SIGABRT) and the scan still finds
# main's lost block, and only it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init own_segv_handler

LINE=$(marker_line own_segv_handler.c '/* FS-EXPECT: leak memory */')
fs_run -- "$DEMO_BIN/demo_own_segv_handler"
assert_status 1
assert_eq "runs row (exit_code|signal)" "0|" "$(q 'SELECT exit_code, signal FROM runs')"
assert_eq "no crash rows" 0 "$(q 'SELECT count(*) FROM crash')"
assert_eq "exactly main's lost block leaks (kind|func|line|size)" "memory|malloc|$LINE|32" \
    "$(q "SELECT kind, func, line, size FROM leaks")"
