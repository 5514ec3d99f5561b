#!/usr/bin/env bash
# test_rundir_full.sh — the filesystem of the run directories (/dev/shm by
# default, here a small tmpfs through FAULTSTACK_TMPDIR) is full. The preload
# must never crash the target (its shared page used to be a SIGBUS at first
# touch: the target died, and the run said "0 crashes"); a run whose records
# are lost is NOT FULLY RECORDED, exit 2, never clean; a sweep stops there
# (exec and fork mode), exit 2, says why, leaves nothing behind and stays
# resumable: with room again --resume finishes it like an uninterrupted one.
# Needs root to mount a small tmpfs (else skipped).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init rundir_full
fs_need_python
MNT=$SCRATCH/small
fs_small_fs "$MNT" 256k
export FAULTSTACK_TMPDIR=$MNT/runs
mkdir -p "$FAULTSTACK_TMPDIR"

# ---- run with the filesystem full from the start
fs_fill "$MNT"
for spec in "" "only=open,nth=2"; do
    fs_new_db "run${spec:+-fault}"
    fs_run ${spec:+--fail "$spec"} -- "$DEMO_BIN/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
    assert_status 2
    assert_stderr_contains "run ${spec:-baseline}: says the run was not recorded" "NOT FULLY RECORDED"
    assert_stderr_contains "run ${spec:-baseline}: says which filesystem is full" "$MNT"
    want=0; [[ -n $spec ]] && want=1
    assert_eq "run ${spec:-baseline}: the target was not killed by the preload (exit|signal|points_total)" \
        "$want|-|-" "$(q "SELECT exit_code, ifnull(signal,'-'), ifnull(points_total,'-') FROM runs")"
    assert_no_leftovers "run on a full run-directory filesystem"
    rm -f "$MNT/fill"                     # report needs no room, but be fair to it
    fs_exec report --db "$DB"
    assert_status 2
    assert_stderr_matches "report ${spec:-baseline}: lists the run as not observed" "not observed"
    fs_fill "$MNT"
done
rm -f "$MNT/fill"

# ---- sweeps: the filesystem fills up after 3 fault runs
PROG=("$DEMO_BIN/demo_slow_steps" "$DEMO_SRC/slow_steps.c" 30)
EXPECTED=$(fs_row leak fd - open slow_steps.c '/* FS-EXPECT: leak fd */' malloc '/* FS-FAULT */')
for mode in exec fork; do
    fs_new_db "ref-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "${PROG[@]}"
    assert_status 1
    REF=$(fs_sweep_keys "$DB")
    fs_new_db "full-$mode"
    fs_bg sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "${PROG[@]}"
    fs_wait_sql "$mode: fault runs recorded" "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL" 3
    # fill it and keep it full while the sweep runs: what a finished run frees
    # is taken again at once (another program filling the disk)
    python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
block, pid = bytes(4096), int(sys.argv[2])
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        break
    try:
        os.write(fd, block)
    except OSError:
        pass' "$MNT/fill.keep" "$FS_BG" &
    filler=$!
    fs_bg_wait
    wait "$filler" || true
    assert_status 2
    assert_stderr_contains "$mode: says the run directories' filesystem is full" "filesystem of the run directories"
    assert_stderr_contains "$mode: says how to go on" "--resume"
    status=$(q 'SELECT status FROM sweep')
    [[ $status == running || $status == interrupted ]] ||
        fs_fail "$mode: the sweep stays resumable" "status running or interrupted" "$status"
    assert_eq "$mode: no run killed by a SIGBUS" 0 "$(q 'SELECT count(*) FROM runs WHERE signal IS NOT NULL')"
    assert_no_leftovers "$mode sweep, run-directory filesystem full"
    rm -f "$MNT"/fill.*
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 --resume -- "${PROG[@]}"
    assert_status 1
    assert_eq "$mode: resumed sweep: status" complete "$(q 'SELECT status FROM sweep')"
    assert_eq "$mode: resumed sweep ran the keys of an uninterrupted one, each once" "$REF" "$(fs_sweep_keys "$DB")"
    fs_expect_exact_findings "$mode: run directories filled, then resumed" "$EXPECTED"
    assert_no_leftovers "$mode: resumed"
done
