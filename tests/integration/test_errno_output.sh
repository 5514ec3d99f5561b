#!/usr/bin/env bash
# test_errno_output.sh — the preload is invisible when it injects nothing
# (design.md: errno preserved, no fd visible to the target, no output on the
# target's stdout/stderr).
#
# targets/demo/errno_output.c sets errno = EINTR before each of ~45 calls
# (malloc family, fd, stdio, dir, socketpair, pipe, mmap, mutex) and prints
# each result, errno and fd number on stdout, plus 3 lines on stderr.
# Expected: stdout under faultstack is byte-identical to the native stdout;
# the target's stderr is byte-identical too (faultstack's own stderr is the
# target's stderr followed only by 'faultstack: ' summary lines); no finding.
#
# TOOL BUG (reported to the lead): the last check fails today. The program
# calls pthread_mutex_trylock() on a mutex it holds (legal: it returns EBUSY);
# wrap_lock_custom.c:fs_before_lock() runs for trylock/timedlock as well as lock and
# records a 'relock' anomaly ("this thread deadlocks") although trylock never
# blocks. Everything before it (the invisibility checks) passes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init errno_output

WORK=$SCRATCH/work
mkdir -p "$WORK"
"$DEMO_BIN/demo_errno_output" "$WORK" >"$SCRATCH/native.out" 2>"$SCRATCH/native.err" ||
    fs_fail "native run of demo_errno_output" "exit 0" "exit $? ($(cat "$SCRATCH/native.err"))"

fs_new_db errno
fs_run -- "$DEMO_BIN/demo_errno_output" "$WORK"
assert_eq "runs row (exit_code|signal IS NULL|injected)" "0|1|0" \
    "$(q 'SELECT exit_code, signal IS NULL, injected FROM runs')"
cmp -s "$SCRATCH/native.out" "$SCRATCH/last.out" ||
    fs_fail "stdout (errno values, fd numbers) under faultstack is the native stdout" \
        "(see diff)" "$(diff "$SCRATCH/native.out" "$SCRATCH/last.out" | head -30)"
nerr=$(wc -c <"$SCRATCH/native.err")
head -c "$nerr" "$SCRATCH/last.err" | cmp -s - "$SCRATCH/native.err" ||
    fs_fail "the target's stderr under faultstack is its native stderr" "$(cat "$SCRATCH/native.err")" \
        "$(head -c "$nerr" "$SCRATCH/last.err")"
extra=$(tail -c "+$((nerr + 1))" "$SCRATCH/last.err" | grep -v '^faultstack: ' || true)
assert_eq "stderr after the target's output: only 'faultstack: ' lines" "" "$extra"
# the same with the program's stdout and stderr redirected by a shell that execs it
fs_new_db errno_sh
fs_run -- /bin/sh -c 'exec "$0" "$1" >"$2" 2>"$3"' "$DEMO_BIN/demo_errno_output" "$WORK" \
    "$SCRATCH/sh.out" "$SCRATCH/sh.err"
cmp -s "$SCRATCH/native.out" "$SCRATCH/sh.out" ||
    fs_fail "stdout (redirected) under faultstack" "(see diff)" "$(diff "$SCRATCH/native.out" "$SCRATCH/sh.out" | head -30)"
cmp -s "$SCRATCH/native.err" "$SCRATCH/sh.err" ||
    fs_fail "stderr (redirected) under faultstack" "$(cat "$SCRATCH/native.err")" "$(cat "$SCRATCH/sh.err")"

# TOOL BUG (see the header): trylock of an owned mutex is reported as a relock.
fs_new_db errno
fs_run -- "$DEMO_BIN/demo_errno_output" "$WORK"
# The one anomaly is the program's own close(777) of an fd it never opened
# (it checks that errno comes back as EBADF): an unknown release, on that line.
L777=$(grep -n 'close(777)' "$DEMO_SRC/errno_output.c" | cut -d: -f1)
assert_eq "anomalies (anomaly|func|line)" "unknown-release|close|$L777" \
    "$(q 'SELECT anomaly, func, line FROM anomalies')"
assert_status 1
fs_expect_findings 1
