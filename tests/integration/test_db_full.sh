#!/usr/bin/env bash
# test_db_full.sh — the database's filesystem fills up in the middle of a
# sweep (exec and fork mode). SQLite's commits fail with SQLITE_FULL: the
# sweep must stop (not go on through every remaining point), exit 2, say which
# file and filesystem is full and what to do, leave no run directory and no
# process behind, and stay resumable: once there is room, --resume finishes
# it with the same keys and findings as an uninterrupted sweep. Before the fix
# it ran all remaining points, kept a run directory for each and marked
# itself 'complete' (so --resume refused).
# Needs root to mount a 1 MiB tmpfs for the database (else skipped).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init db_full
fs_private_rundirs
MNT=$SCRATCH/small
fs_small_fs "$MNT" 1m

PROG=("$DEMO_BIN/demo_slow_steps" "$DEMO_SRC/slow_steps.c" 30)
EXPECTED=$(fs_row leak fd - open slow_steps.c '/* FS-EXPECT: leak fd */' malloc '/* FS-FAULT */')

for mode in exec fork; do
    # the reference, on a filesystem with room
    fs_new_db "ref-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "${PROG[@]}"
    assert_status 1
    REF=$(fs_sweep_keys "$DB")

    # the database on the small filesystem, filled up after 3 fault runs
    rm -f "$MNT"/*
    DB=$MNT/full-$mode.db
    fs_bg sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "${PROG[@]}"
    fs_wait_sql "$mode: fault runs recorded" "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL" 3
    fs_fill "$MNT"
    fs_bg_wait
    assert_status 2
    assert_stderr_contains "$mode: names the database file" "cannot write the database $DB"
    assert_stderr_contains "$mode: says the filesystem is full" "is full"
    assert_stderr_contains "$mode: it was SQLite's SQLITE_FULL" "database or disk is full"
    assert_stderr_contains "$mode: says how to go on" "--resume"
    status=$(q 'SELECT status FROM sweep')
    [[ $status == running || $status == interrupted ]] ||
        fs_fail "$mode: the sweep stays resumable" "status running or interrupted" "$status"
    done_runs=$(fs_sweep_keys "$DB" | wc -l)
    [[ $done_runs -lt $(wc -l <<<"$REF") ]] ||
        fs_fail "$mode: the sweep stopped instead of going on" "fewer than $(wc -l <<<"$REF") runs" "$done_runs"
    assert_no_leftovers "$mode: database full"

    # room again: --resume finishes it
    rm -f "$MNT/fill"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 --resume -- "${PROG[@]}"
    assert_status 1
    assert_eq "$mode: resumed sweep: status" complete "$(q 'SELECT status FROM sweep')"
    assert_eq "$mode: resumed sweep ran the keys of an uninterrupted one, each once" "$REF" "$(fs_sweep_keys "$DB")"
    fs_expect_exact_findings "$mode: database filled, then resumed" "$EXPECTED"
    assert_no_leftovers "$mode: resumed"
done
