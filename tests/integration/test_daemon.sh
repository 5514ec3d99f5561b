#!/usr/bin/env bash
# test_daemon.sh — a detached daemon (double fork, setsid, std fds on
# /dev/null): the work, its fault points and its bug are in a grandchild that
# outlives the program's first process. Its record must count: in `run`
# (3 processes, the grandchild's points, the planted leak under its fault), in
# exec-mode and fork-mode sweeps (exactly the planted leak; fork mode falls
# back to exec mode at the program's fork); a daemon that hangs is killed at
# the run's timeout and the run is a timeout. Before the fix the grandchild's
# record was lost: a sweep saw no fault point, 0 runs, exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init daemon
fs_private_rundirs

PROG=("$DEMO_BIN/demo_daemon" "$DEMO_SRC/daemon.c")
EXPECTED=$(fs_row leak fd - open daemon.c '/* FS-EXPECT: leak fd */' malloc '/* FS-FAULT */')
LEAKLINE=$(marker_line daemon.c '/* FS-EXPECT: leak fd */')

# ---- run: the baseline sees all three processes and the daemon's calls
fs_new_db run
fs_run -- "${PROG[@]}"
assert_status 0
assert_eq "run: processes recorded" 3 "$(q 'SELECT count(*) FROM process')"
assert_eq "run: the daemon's open() is a fault point" 1 \
    "$(q "SELECT count(*) FROM fault_points WHERE func = 'open' AND line = $LEAKLINE")"
assert_no_leftovers "run of a daemon"

# ---- run with the daemon's malloc failing: the planted leak
fs_new_db run_fault
fs_run --fail only=malloc,nth=1 -- "${PROG[@]}"
assert_status 1
fs_expect_exact_findings "run with the daemon's malloc failing" "$EXPECTED"
assert_no_leftovers "run of a daemon with a fault"

# ---- sweeps in both modes
for mode in exec fork; do
    fs_sweep daemon "$mode" demo_daemon "$DEMO_SRC/daemon.c"
    assert_status 1
    [[ $(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL") -ge 5 ]] ||
        fs_fail "$mode sweep: every point of the daemon swept" ">= 5 fault runs" \
            "$(q 'SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL')"
    fs_expect_exact_findings "$mode sweep of a daemon" "$EXPECTED"
    assert_no_leftovers "$mode sweep of a daemon"
done

# ---- a daemon that never ends: killed at the timeout, the run is a timeout
fs_new_db hang
t0=$SECONDS
fs_run --timeout 2 -- "${PROG[@]}" hang
assert_status 1
assert_eq "hanging daemon: the run timed out" 1 "$(q 'SELECT timed_out FROM runs')"
[[ $((SECONDS - t0)) -lt 15 ]] || fs_fail "hanging daemon: killed at the timeout" "< 15 s" "$((SECONDS - t0)) s"
assert_no_leftovers "run of a hanging daemon"
