#!/usr/bin/env bash
# test_interrupt.sh — the target's whole process tree ends with faultstack,
# whichever way faultstack ends, and no run directory is left behind:
#   1. SIGINT to `run`: the target (its own process group) and its children
#      are killed, nothing is recorded, exit 2;
#   2. two SIGINTs to `run` of a program that ignores SIGTERM: the second kills
#      at once (it used to kill faultstack only, orphaning the program);
#   3. SIGTERM to an exec-mode sweep, SIGINT to a fork-mode sweep: the runs in
#      progress are killed and not recorded (no SIGTERM "crash"), the sweep is
#      'interrupted', exit 2, and --resume finds what a full sweep finds;
#   4. SIGKILL of a fork-mode sweep while the trunk forks: the trunk and its
#      forked runs end with it (PR_SET_PDEATHSIG, the trunk watching its
#      supervisor), faultstack's watchdog removes the run directory;
#   5. SIGKILL of `run` while a detached daemon of the program runs (its own
#      session, reparented away): the watchdog kills it;
#   6. the same with the watchdog killed too: the next faultstack kills the
#      daemon and removes the run directory left behind.
# Every signal goes to faultstack itself ($FS_BG), never to a wrapper.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init interrupt
fs_private_rundirs

# fs_wait_tree_n N: wait until at least N target processes run
fs_wait_tree_n() {
    local i
    for ((i = 0; i < 400; i++)); do
        [[ $(fs_tree_pids | wc -l) -ge $1 ]] && return 0
        sleep 0.05
    done
    fs_fail "the target's processes started" ">= $1 processes" "$(fs_tree_pids | wc -l)"
}

# ---- 1. SIGINT to run
fs_new_db run_int
fs_bg run --db "$DB" -- /bin/sh -c 'sleep 100 & sleep 100; wait'
fs_wait_tree_n 3
kill -INT "$FS_BG"
fs_bg_wait
assert_status 2
assert_stderr_contains "run says it was interrupted" "interrupted"
assert_no_leftovers "SIGINT to run"
assert_eq "SIGINT to run: nothing recorded" 0 "$(q 'SELECT count(*) FROM runs')"

# ---- 2. two SIGINTs to run of a program that ignores SIGTERM
fs_new_db run_int2
fs_bg run --db "$DB" -- /bin/sh -c 'trap "" TERM; sleep 100 & sleep 100; wait'
fs_wait_tree_n 3
kill -INT "$FS_BG"
sleep 0.1
kill -INT "$FS_BG"
fs_bg_wait
assert_status 2
assert_no_leftovers "two SIGINTs to run"

# ---- 3. SIGTERM to an exec sweep, SIGINT to a fork sweep; --resume completes
PROG=("$DEMO_BIN/demo_slow_steps" "$DEMO_SRC/slow_steps.c")
EXPECTED=$(fs_row leak fd - open slow_steps.c '/* FS-EXPECT: leak fd */' malloc '/* FS-FAULT */')
for mode in exec fork; do
    sig=TERM; [[ $mode == fork ]] && sig=INT
    fs_new_db "sweep_$mode"
    fs_bg sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "${PROG[@]}" 50
    fs_wait_sql "$mode sweep: fault runs recorded" "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL" 2
    kill -"$sig" "$FS_BG"
    fs_bg_wait
    assert_status 2
    assert_stderr_contains "$mode sweep: says it was interrupted and how to go on" "--resume"
    assert_eq "$mode sweep after SIG$sig: status" interrupted "$(q 'SELECT status FROM sweep')"
    assert_eq "$mode sweep after SIG$sig: no run killed by the stop was recorded" 0 \
        "$(q 'SELECT count(*) FROM runs WHERE signal IS NOT NULL')"
    assert_no_leftovers "SIG$sig to a $mode sweep"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 --resume -- "${PROG[@]}" 50
    assert_status 1
    assert_eq "$mode sweep resumed: status" complete "$(q 'SELECT status FROM sweep')"
    fs_expect_exact_findings "$mode sweep interrupted and resumed" "$EXPECTED"
    assert_no_leftovers "resumed $mode sweep"
done

# ---- 4. SIGKILL of a fork sweep while the trunk forks
fs_new_db fork_kill
fs_bg sweep --db "$DB" --mode fork -j 2 --timeout 30 -- "${PROG[@]}" 100
fs_wait_sql "fork sweep: forked runs recorded" "SELECT count(*) FROM runs WHERE mode = 'fork'" 2
kill -KILL "$FS_BG"
fs_bg_wait
fs_wait_tree "SIGKILL of a fork sweep: the trunk and its forked runs end with it" 2
assert_no_leftovers "SIGKILL of a fork sweep (its watchdog removes the run directory)"

# ---- 5. SIGKILL of run while a detached daemon of the program runs (its own
#         session, reparented away: no PR_SET_PDEATHSIG reaches it)
# fs_bg_daemon: run the hanging daemon demo; return once only the daemon runs
fs_bg_daemon() {
    fs_bg run --db "$DB" --timeout 60 -- "$DEMO_BIN/demo_daemon" "$DEMO_SRC/daemon.c" hang
    local i
    for ((i = 0; i < 200; i++)); do
        # only the daemon is left, reparented to faultstack (the subreaper)
        [[ $(fs_tree_pids) == "$(pgrep -P "$FS_BG" || true)" ]] && [[ $(fs_tree_pids | wc -l) -eq 1 ]] && return 0
        sleep 0.05
    done
    fs_fail "the daemon demo detaches" "1 process left, faultstack's child" "$(fs_tree_pids | wc -l)"
}
fs_new_db daemon_kill
fs_bg_daemon
kill -KILL "$FS_BG"
fs_bg_wait
assert_no_leftovers "SIGKILL of run with a daemon running (its watchdog kills the daemon)"

# ---- 6. the watchdog killed too: the next faultstack kills the daemon and
#         removes the run directory left behind
fs_new_db daemon_kill2
fs_bg_daemon
wd=$(fs_watchdog_of "$FS_BG")
[[ -n $wd ]] || fs_fail "faultstack has a watchdog" "a process named fswatch-$FS_BG" "none"
kill -KILL "$wd" "$FS_BG"
fs_bg_wait
sleep 0.3
[[ $(fs_tree_pids | wc -l) -eq 1 ]] ||
    fs_fail "with faultstack and its watchdog killed, the daemon is left running" "1 process" "$(fs_tree_pids | wc -l)"
fs_new_db after_kill
fs_exec run --db "$DB" -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 0
assert_stderr_contains "the next faultstack removes the run directory of the killed one" "removed 1 run directory"
assert_no_leftovers "the next faultstack after faultstack and its watchdog were killed"
