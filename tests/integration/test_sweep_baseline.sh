#!/usr/bin/env bash
# test_sweep_baseline.sh — a sweep stands on its baseline run (nothing
# failing). When that run tested nothing, the sweep used to warn and exit 0
# (issue 9). Now, in both modes:
# - the baseline exits otherwise than --expect-exit allows (default 0: a
#   missing input, a usage error): nothing is swept, exit 2, the message names
#   the exit status and the option; --expect-exit 1 / any lets it go on, and
#   the summary and `faultstack report` say the baseline exited 1;
# - the baseline crashes: exit 2 (its crash finding is recorded);
# - the baseline times out: exit 2, unless --expect-exit timeout;
# - the baseline reaches no fault point (also: none matches --fail only=): exit 2.
# Every time the baseline run is recorded, no fault run is made and the
# sweep's status is 'baseline-failed' (--resume does not pick it up).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_baseline

SRC=$DEMO_SRC/fd_leak.c
MISSING=$SCRATCH/no-such-input.txt

# failed_sweep LABEL: the sweep in $DB stopped after its baseline
failed_sweep() {
    assert_status 2
    assert_eq "$1: runs (all | fault runs)" "1|0" "$(q 'SELECT count(*), sum(sweep_key IS NOT NULL) FROM runs')"
    assert_eq "$1: sweep status" "baseline-failed" "$(q 'SELECT status FROM sweep')"
    assert_stderr_contains "$1: says nothing was swept" "nothing was swept"
}

for mode in fork exec; do
    # ---- 1. a missing input: the baseline exits 1
    fs_new_db "missing-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 -- "$DEMO_BIN/demo_fd_leak" "$MISSING" "$SCRATCH/out"
    failed_sweep "missing input ($mode)"
    assert_stderr_contains "missing input ($mode): the exit status and the expectation" \
        "exited 1, and the sweep expects 0 (--expect-exit)"
    assert_stderr_contains "missing input ($mode): how to allow it" "pass --expect-exit 1"
    assert_stderr_contains "missing input ($mode): the program's own message is shown" "no-such-input.txt"
    assert_eq "missing input ($mode): the baseline is recorded with its exit status" "1|1" \
        "$(q 'SELECT count(*), exit_code FROM runs WHERE fault_spec IS NULL')"

    # ... allowed: the sweep goes on and says what the baseline did
    for allow in 1 0,1 any; do
        fs_new_db "missing-allowed-$mode"
        fs_exec sweep --db "$DB" --mode "$mode" -j 2 --expect-exit "$allow" -- \
            "$DEMO_BIN/demo_fd_leak" "$MISSING" "$SCRATCH/out"
        [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] ||
            fs_fail "--expect-exit $allow ($mode): the sweep runs" "exit 0 or 1" "$FS_STATUS"
        [[ $(q 'SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL') -ge 1 ]] ||
            fs_fail "--expect-exit $allow ($mode): fault runs" ">= 1" "0"
        assert_stderr_contains "--expect-exit $allow ($mode): the summary names the baseline's exit" \
            "exited 1 (--expect-exit $allow)"
        assert_eq "--expect-exit $allow ($mode): status" complete "$(q 'SELECT status FROM sweep')"
    done
    fs_exec report --db "$DB"
    assert_stdout_contains "report ($mode): the baseline's exit is shown" "note: baseline run 1"
    assert_stdout_contains "report ($mode): the baseline's exit is shown" "exited 1"
    assert_status 0

    # ---- 2. a usage error: exit 2 of the program
    fs_new_db "usage-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -- "$DEMO_BIN/demo_crash_null"
    failed_sweep "usage error ($mode)"
    assert_stderr_contains "usage error ($mode)" "exited 2, and the sweep expects 0"

    # ---- 3. a crash (abort) in the baseline
    fs_new_db "crash-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -- /bin/sh -c 'echo about to abort >&2; kill -ABRT $$'
    failed_sweep "crash ($mode)"
    assert_stderr_contains "crash ($mode): the signal is named" "crashed: killed by signal 6 (SIGABRT)"
    assert_eq "crash ($mode): the baseline's crash finding is recorded" 1 \
        "$(q "SELECT count(*) FROM findings WHERE category = 'crash' AND fault_func IS NULL")"

    # ---- 4. a timeout: exit 2 and quickly (no fault run waits for its timeout)
    fs_new_db "timeout-$mode"
    t0=$(date +%s)
    fs_exec sweep --db "$DB" --mode "$mode" --timeout 1 -- /bin/sh -c 'sleep 30'
    failed_sweep "timeout ($mode)"
    assert_stderr_contains "timeout ($mode): said so" "timed out after 1.0 s (--timeout)"
    assert_stderr_contains "timeout ($mode): how to allow it" "--expect-exit timeout"
    [[ $(( $(date +%s) - t0 )) -lt 10 ]] || fs_fail "timeout ($mode): the sweep stops after the baseline" "< 10 s" \
        "$(( $(date +%s) - t0 )) s"

    # ---- 5. no fault point at all, and none matching --fail only=
    fs_new_db "nopoint-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -- /bin/true
    failed_sweep "no fault point ($mode)"
    assert_stderr_contains "no fault point ($mode)" "reached no fault point, so there is nothing to fail"
    fs_new_db "nomatch-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --fail only=opendir -- "$DEMO_BIN/demo_fd_leak_ok" "$SRC" "$SCRATCH/out"
    failed_sweep "no matching point ($mode)"
    assert_stderr_contains "no matching point ($mode)" "(with --fail only=opendir: none of its calls matched)"
done

# ---- 6. --resume does not go on with a sweep whose baseline failed
fs_new_db resume
fs_exec sweep --db "$DB" --mode exec -- "$DEMO_BIN/demo_fd_leak" "$MISSING" "$SCRATCH/out"
assert_status 2
fs_exec sweep --db "$DB" --mode exec --resume -- "$DEMO_BIN/demo_fd_leak" "$MISSING" "$SCRATCH/out"
assert_status 2
assert_stderr_contains "--resume of a baseline-failed sweep" "no unfinished sweep"

# ---- 7. bad --expect-exit values
for bad in 256 -1 foo '' 0,,x; do
    fs_exec sweep --db "$SCRATCH/bad.db" --expect-exit "$bad" -- "$DEMO_BIN/demo_fd_leak_ok" "$SRC" "$SCRATCH/out"
    assert_status 2
    assert_stderr_contains "--expect-exit '$bad' is refused, named" "bad --expect-exit '$bad'"
done
[[ ! -e $SCRATCH/bad.db ]] || fs_fail "refused options create no database" "no bad.db" "$(ls -l "$SCRATCH/bad.db")"

# ---- 8. the good case still ends clean: exit 0
fs_new_db clean
fs_exec sweep --db "$DB" -j 2 -- "$DEMO_BIN/demo_fd_leak_ok" "$SRC" "$SCRATCH/out"
assert_status 0
assert_eq "clean: status complete" complete "$(q 'SELECT status FROM sweep')"
