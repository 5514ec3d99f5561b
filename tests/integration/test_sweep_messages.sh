#!/usr/bin/env bash
# test_sweep_messages.sh — what a sweep says about its baseline (issue 9):
# - a baseline that hangs (/bin/sleep: no fault point before it is killed)
#   is reported as timed out, with exit 2 (it used to be followed by "the
#   baseline run reached no fault point ... check the command", exit 1);
# - the program's stderr is shown once: the baseline's (fork mode showed it
#   twice, the baseline's and the trunk's).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_messages

for mode in exec fork; do
    # ---- 1. a hanging baseline: "timed out", never "check the command"
    fs_new_db "hang-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --timeout 1 -- /bin/sleep 30
    assert_status 2
    assert_stderr_contains "$mode: the hang is named" "the baseline run 1 (nothing failing) timed out after 1.0 s"
    if grep -qF "check the command" "$SCRATCH/last.err"; then
        fs_fail "$mode: a timed-out baseline is not called a bad command" "no 'check the command'" \
            "$(cat "$SCRATCH/last.err")"
    fi
    assert_eq "$mode: the baseline is recorded as timed out" "1|1" \
        "$(q 'SELECT count(*), timed_out FROM runs WHERE fault_spec IS NULL')"

    # ---- 2. the program's stderr once
    fs_new_db "stderr-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --expect-exit 1 -- \
        "$DEMO_BIN/demo_fd_leak_ok" "$SCRATCH/unique-input-name-$mode" "$SCRATCH/out"
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "$mode: the sweep ran" "exit 0 or 1" "$FS_STATUS"
    [[ $(q 'SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL') -ge 1 ]] ||
        fs_fail "$mode: fault runs were made (the trunk ran)" ">= 1" "0"
    assert_eq "$mode: the program's error message is shown once" 1 \
        "$(grep -c "unique-input-name-$mode: No such file" "$SCRATCH/last.err")"
done
