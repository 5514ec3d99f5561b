#!/usr/bin/env bash
# test_close_range.sh — close_range() and closefrom() release every fd in
# their range (issue 8 §3: before they were wrapped, each fd they closed was
# reported as a leak); close_range(CLOSE_RANGE_CLOEXEC) releases nothing, and
# the plain close() calls that follow it are not double releases.
# targets/demo/close_range.c opens 4 fds and a pipe, then releases them the
# HOW way. Expected for each HOW: exit 0, no finding, no leaks or anomalies
# rows, the program's output unchanged.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init close_range

for how in close_range closefrom cloexec; do
    fs_new_db "$how"
    fs_run -- "$DEMO_BIN/demo_close_range" "$how" "$DEMO_SRC/fd_leak.c"
    assert_status 0
    assert_stdout_contains "$how: the program's output" "closed 6"
    assert_eq "$how: leaks rows" 0 "$(q 'SELECT count(*) FROM leaks')"
    assert_eq "$how: anomalies rows" 0 "$(q 'SELECT count(*) FROM anomalies')"
    fs_expect_findings 0
done
