#!/usr/bin/env bash
# test_close_all_fds.sh — programs that close every fd (design.md: the preload
# is correct for them and keeps no fd visible to the target).
#
# targets/demo/close_all_fds.c counts the fds >= 3 open at start and at end,
# opens FILE and closes it, runs close(fd) for fd = 3..1023 (each fails with
# EBADF, including the fd it closed before), then opens FILE again and copies
# it to stdout. Expected: faultstack exits 0; no anomaly (the loop is a close
# sweep, not a double release) and no finding; the program's stdout under
# faultstack is byte-identical to its native stdout (same fd counts, same fd
# numbers, same sweep results, the file copied): the preload holds no fd.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init close_all_fds

INPUT=$DEMO_SRC/fd_leak.c
"$DEMO_BIN/demo_close_all_fds" "$INPUT" >"$SCRATCH/native.out" 2>"$SCRATCH/native.err" ||
    fs_fail "native run of demo_close_all_fds" "exit 0" "exit $? ($(cat "$SCRATCH/native.err"))"

fs_new_db sweep
fs_run -- "$DEMO_BIN/demo_close_all_fds" "$INPUT"
assert_status 0
assert_eq "runs row (exit_code|signal IS NULL|injected)" "0|1|0" \
    "$(q 'SELECT exit_code, signal IS NULL, injected FROM runs')"
assert_eq "number of anomalies" 0 "$(q 'SELECT count(*) FROM anomalies')"
fs_expect_findings 0
cmp -s "$SCRATCH/native.out" "$SCRATCH/last.out" ||
    fs_fail "stdout under faultstack is the native stdout" "$(cat "$SCRATCH/native.out")" \
        "$(cat "$SCRATCH/last.out")" "diff: $(diff "$SCRATCH/native.out" "$SCRATCH/last.out" | head -20)"
grep -qF 'fd after sweep: 3' "$SCRATCH/last.out" ||
    fs_fail "the program reopens FILE as fd 3 after the sweep" "fd after sweep: 3" "$(head -5 "$SCRATCH/last.out")"
