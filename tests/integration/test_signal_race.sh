#!/usr/bin/env bash
# test_signal_race.sh — issue 9: the end-of-process path of a fatal signal is
# async-signal-safe. A SIGTERM that lands while the preload holds its record
# lock (a write() loop: every write is a recorded fault point) must not hang
# the target (before: 9 of 80 SIGTERMs hung, spinning in sched_yield).
# The SIGTERM goes to the target's own pid (the demo writes it), not to the
# faultstack supervisor. Expected for each of 40 runs: the run ends within
# the test's 10 s --timeout, died of SIGTERM (runs.signal = 15, not
# timed_out), its process record complete (process.end_how = 'signal'), and
# the death is a crash finding (design.md: any death by a signal).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init signal_race

hung=0
for i in $(seq 1 40); do
    fs_new_db "r$i"
    pidfile=$SCRATCH/pid$i
    "$FAULTSTACK" run --db "$DB" --timeout 10 -- "$DEMO_BIN/demo_sigterm_loop" "$pidfile" \
        >"$SCRATCH/last.out" 2>"$SCRATCH/last.err" &
    sup=$!
    for _ in $(seq 1 200); do [[ -s $pidfile ]] && break; sleep 0.01; done
    [[ -s $pidfile ]] || fs_fail "run $i: the target started" "a pid in $pidfile" "none"
    sleep "0.0$((RANDOM % 5))"
    kill -TERM "$(cat "$pidfile")"
    set +e; wait "$sup"; FS_STATUS=$?; set -e
    if [[ $(q 'SELECT timed_out FROM runs') == 1 ]]; then hung=$((hung + 1)); continue; fi
    assert_eq "run $i: died of SIGTERM, not timed out (signal|timed_out)" "15|0" "$(q 'SELECT signal, timed_out FROM runs')"
    assert_eq "run $i: its record is complete (process.end_how)" "signal" "$(q 'SELECT end_how FROM process')"
    assert_eq "run $i: a crash finding" "crash|SIGTERM" "$(q 'SELECT category, kind FROM findings')"
    assert_status 1
done
assert_eq "runs that hung after SIGTERM (killed by --timeout)" 0 "$hung"
