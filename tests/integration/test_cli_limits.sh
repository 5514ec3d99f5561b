#!/usr/bin/env bash
# test_cli_limits.sh — options that used to make a run test nothing, silently
# (issue 9): `--timeout nan|inf|1e300` meant no timeout at all (and 1e-9 was
# 0 ms, no timeout either); `--fail only=notafunc` gave 0 fault points and
# exit 0. Both are refused now, by run and by sweep: exit 2, a message naming
# the bad value and what to give instead, and nothing recorded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init cli_limits

PROG=("$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak_ok.c" "$SCRATCH/copy.out")

# A database with one good run: no refused invocation may add to it.
fs_new_db kept
fs_run -- "${PROG[@]}"
assert_status 0
runs_kept() {
    assert_eq "runs after a refused invocation ($1)" 1 "$(q 'SELECT count(*) FROM runs')"
}

# ---- 1. --timeout: finite, from 1 ms to 7 days
for bad in nan NaN inf -inf infinity 1e300 604801 0 -1 1e-9 0.0001 '' 30s; do
    for cmd in run sweep; do
        fs_exec "$cmd" --db "$DB" --timeout "$bad" -- "${PROG[@]}"
        assert_status 2
        assert_stderr_contains "$cmd --timeout '$bad': the value is named" "bad --timeout '$bad'"
        assert_stderr_contains "$cmd --timeout '$bad': the range is given" "from 0.001 to 604800"
        runs_kept "$cmd --timeout '$bad'"
    done
done
# the limits themselves and ordinary values are accepted (--timeout=S too)
fs_new_db good_timeouts
for good in 0.5 30 604800; do
    fs_run --timeout "$good" -- "${PROG[@]}"
    assert_status 0
done
fs_run --timeout=2.5 -- "${PROG[@]}"
assert_status 0
fs_run --timeout 0.001 -- "${PROG[@]}"     # accepted; 1 ms is too short for the program: a timeout
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "--timeout 0.001 is accepted" "exit 0 or 1" "$FS_STATUS"
assert_eq "accepted timeouts: one run each" 5 "$(q 'SELECT count(*) FROM runs')"
# a tiny timeout is a real one: a hanging program is killed, not waited for
fs_new_db tiny
fs_run --timeout 0.2 --fail 'only=malloc,nth=1' -- "$DEMO_BIN/demo_hang" sleep
assert_status 1
assert_eq "--timeout 0.2: the hanging run timed out within 5 s" "1|1" \
    "$(q 'SELECT timed_out, duration_ms < 5000 FROM runs')"

# ---- 2. --fail only= and site= name wrapped fault points
fs_new_db kept2
fs_run -- "${PROG[@]}"
for cmd in run sweep; do
    fs_exec "$cmd" --db "$DB" --fail only=notafunc -- "${PROG[@]}"
    assert_status 2
    assert_stderr_contains "$cmd only=notafunc: the bad name is quoted" "unknown function 'notafunc'"
    assert_stderr_contains "$cmd only=notafunc: points to the list" "faultstack functions"
    runs_kept "$cmd only=notafunc"
    # one bad name among good ones, with a suggestion
    fs_exec "$cmd" --db "$DB" --fail only=malloc,opne -- "${PROG[@]}"
    assert_status 2
    assert_stderr_contains "$cmd only=malloc,opne: names the bad one and suggests" \
        "unknown function 'opne' (did you mean 'open'?)"
    runs_kept "$cmd only=malloc,opne"
    # a wrapped function that is never a fault point
    fs_exec "$cmd" --db "$DB" --fail only=free -- "${PROG[@]}"
    assert_status 2
    assert_stderr_contains "$cmd only=free: says it is never a fault point" "'free' is tracked but never a fault point"
    runs_kept "$cmd only=free"
done
fs_run --fail 'site=notafunc@demo_fd_leak_ok+0x1234' -- "${PROG[@]}"
assert_status 2
assert_stderr_contains "site=notafunc@...: the bad name is quoted" "unknown function 'notafunc'"
runs_kept "site=notafunc"

# good names still work and make fault points
fs_new_db only_open
fs_run --fail only=open,fopen,nth=1 -- "${PROG[@]}"
assert_status 0
assert_eq "only=open,fopen,nth=1: one failure injected" 1 "$(q 'SELECT injected FROM runs')"
