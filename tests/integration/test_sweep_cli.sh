#!/usr/bin/env bash
# test_sweep_cli.sh — `faultstack sweep` as a CI tool: usage errors, --max-runs
# and --resume, surviving SIGKILL, --shard, --fail-on, progress lines, timeouts
# (the whole process group is killed, in fork and exec mode) and fork mode's
# fall-back to exec mode when the program starts a thread.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_cli

FD=("$DEMO_BIN/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")

# keys DB: the sorted sweep keys of the fault runs (not the exec replays)
keys() {
    sqlite3 -batch -noheader "$1" \
        "SELECT sweep_key FROM runs WHERE sweep_key IS NOT NULL AND confirms IS NULL ORDER BY 1"
}

# ---- 1. usage errors: exit 2, a message naming the problem, no database
fs_new_db usage
for bad in "--strategy bogus" "--mode spawn" "-j 0" "--shard 3/2" "--shard x" "--depth 3" \
           "--fail nth=3" "--fail-on leaks" "--timeout -1" "--max-runs 0" "--no-such-flag"; do
    # shellcheck disable=SC2086
    fs_exec sweep --db "$DB" $bad -- "${FD[@]}"
    assert_status 2
    assert_stderr_contains "usage error for '$bad' names the option" "${bad%% *}"
done
fs_exec sweep --db "$DB" -- "$SCRATCH/no-such-program"
assert_status 2
assert_stderr_contains "missing program is named" "no-such-program"
fs_exec sweep --db "$DB"
assert_status 2
assert_stderr_contains "no program" "no program given"
[[ ! -e $DB ]] || fs_fail "usage errors create no database" "no $DB" "$(ls -l "$DB")"

# ---- 2. the reference: a full exec-mode nth sweep
fs_new_db full
fs_exec sweep --db "$DB" --mode exec --strategy nth -j 2 -- "${FD[@]}"
assert_status 1
FULL=$(keys "$DB")
nfull=$(wc -l <<<"$FULL")
[[ $nfull -ge 7 ]] || fs_fail "full sweep runs every point (7 in the baseline)" ">= 7 keys" "$nfull"
assert_eq "full sweep: status complete" "complete" "$(q 'SELECT status FROM sweep')"
assert_stderr_contains "progress lines when stderr is not a terminal" "points,"

# ---- 3. --max-runs stops, --resume goes on, and nothing runs twice
fs_new_db resume
fs_exec sweep --db "$DB" --mode exec --strategy nth --max-runs 3 -- "${FD[@]}"
assert_eq "--max-runs 3: three fault runs" 3 "$(keys "$DB" | wc -l)"
assert_eq "--max-runs: sweep status" "limited" "$(q 'SELECT status FROM sweep')"
assert_stderr_contains "--max-runs says how to go on" "--resume"
fs_exec sweep --db "$DB" --mode exec --strategy nth --resume -- "${FD[@]}"
assert_status 1
assert_eq "--resume: the same keys as a full sweep, each once" "$FULL" "$(keys "$DB")"
assert_eq "--resume: one session" 1 "$(q 'SELECT count(*) FROM sweep')"
assert_eq "--resume: status complete" "complete" "$(q 'SELECT status FROM sweep')"
fs_exec sweep --db "$DB" --mode exec --strategy nth --resume -- "${FD[@]}"
assert_status 2
assert_stderr_contains "--resume of a complete sweep says so" "no unfinished sweep"

# ---- 4. SIGKILL: what was committed stays; --resume completes it
fs_new_db kill
SLOW=(/bin/sh -c 'sleep 0.3; exec cat "$0" >/dev/null' "$DEMO_SRC/fd_leak.c")
"$FAULTSTACK" sweep --db "$DB" --mode exec --strategy site -j 1 -- "${SLOW[@]}" \
    >"$SCRATCH/kill.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    n=$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL" 2>/dev/null || echo 0)
    [[ ${n:-0} -ge 2 ]] && break
    sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "after SIGKILL: the database is intact" "ok" "$(q 'PRAGMA integrity_check')"
done_before=$(keys "$DB" | wc -l)
[[ $done_before -ge 2 ]] || fs_fail "runs committed before the SIGKILL are kept" ">= 2" "$done_before"
assert_eq "after SIGKILL: sweep status still running" "running" "$(q 'SELECT status FROM sweep')"
fs_exec sweep --db "$DB" --mode exec --strategy site -j 2 --resume -- "${SLOW[@]}"
assert_stderr_contains "resume counts what was done" "points done already"
assert_eq "after resume: no key ran twice" 0 \
    "$(q 'SELECT count(*) FROM (SELECT sweep_key FROM runs WHERE sweep_key IS NOT NULL AND confirms IS NULL GROUP BY 1 HAVING count(*) > 1)')"
assert_eq "after resume: complete" "complete" "$(q 'SELECT status FROM sweep')"
fs_new_db kill_ref
fs_exec sweep --db "$DB" --mode exec --strategy site -j 2 -- "${SLOW[@]}"
REF=$(keys "$DB")
assert_eq "killed+resumed sweep ran the same keys as an uninterrupted one" "$REF" "$(keys "$SCRATCH/kill.db")"

# ---- 5. shards: disjoint, and together the full sweep
for i in 1 2 3; do
    fs_new_db "shard$i"
    fs_exec sweep --db "$DB" --mode exec --strategy nth --shard "$i/3" -- "${FD[@]}"
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "shard $i/3 runs" "exit 0 or 1" "$FS_STATUS"
done
UNION=$(for i in 1 2 3; do keys "$SCRATCH/shard$i.db"; done | sort)
assert_eq "shards 1..3 together run exactly the full sweep's keys" "$(sort <<<"$FULL")" "$UNION"
for i in 1 2 3; do
    [[ -n $(keys "$SCRATCH/shard$i.db") ]] || fs_fail "shard $i/3 has work" "some keys" "none"
done

# ---- 6. --fail-on chooses what makes the exit status 1
fs_new_db failon
fs_exec sweep --db "$DB" --mode exec --fail-on crash,timeout -- "${FD[@]}"
assert_status 0
assert_eq "--fail-on crash: the leak is still recorded" 1 "$(q "SELECT count(*) FROM findings WHERE category = 'leak'")"
fs_new_db failon2
fs_exec sweep --db "$DB" --mode exec --fail-on swallowed -- "${FD[@]}"
swallowed=$(q 'SELECT count(*) FROM runs WHERE swallowed = 1')
if [[ $swallowed -gt 0 ]]; then assert_status 1; else assert_status 0; fi

# ---- 7. timeouts: the run is killed with its process group, in both modes
for mode in fork exec; do
    fs_new_db "hang-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --timeout 1 -- "$DEMO_BIN/demo_hang" sleep
    assert_status 1
    [[ $(q "SELECT count(*) FROM findings WHERE category = 'timeout' AND fault_func IS NOT NULL") -ge 1 ]] ||
        fs_fail "$mode: a timeout finding with its fault" ">= 1" "$(q 'SELECT category, fault_func FROM findings')"
    [[ $(q "SELECT count(*) FROM runs WHERE timed_out = 1 AND mode = '$mode'") -ge 1 ]] ||
        fs_fail "$mode: the hanging run is marked timed_out" ">= 1" "0"
done
# the killed runs' processes are gone within 5 s (SIGKILL is not instant on a loaded machine)
for _ in $(seq 50); do pgrep -f "$DEMO_BIN/demo_hang sleep" >/dev/null || break; sleep 0.1; done
if pgrep -f "$DEMO_BIN/demo_hang sleep" >/dev/null; then   # this build's only: other checkouts may test at the same time
    fs_fail "no hanging target survives the sweep" "no demo_hang process" "$(pgrep -af "$DEMO_BIN/demo_hang sleep")"
fi

# ---- 8. fork mode falls back to exec mode when the program starts a thread,
#         and finds what exec mode finds
echo data >"$SCRATCH/in.txt"
fs_new_db thread_exec
fs_exec sweep --db "$DB" --mode exec -- "$DEMO_BIN/demo_thread_leak" "$SCRATCH/in.txt" return
EXEC_FINDINGS=$(q 'SELECT category, kind, func, line, fault_func, fault_line FROM findings ORDER BY 1,2,3,4,5,6')
fs_new_db thread_fork
fs_exec sweep --db "$DB" --mode fork -- "$DEMO_BIN/demo_thread_leak" "$SCRATCH/in.txt" return
assert_stderr_contains "fork mode says why it stopped" "fork mode stopped: the program started a thread"
[[ $(q "SELECT count(*) FROM runs WHERE mode = 'exec' AND confirms IS NULL AND sweep_key IS NOT NULL") -ge 1 ]] ||
    fs_fail "points after the thread start run in exec mode" ">= 1 exec run" "none"
assert_eq "fork mode with fall-back finds what exec mode finds" "$EXEC_FINDINGS" \
    "$(q 'SELECT category, kind, func, line, fault_func, fault_line FROM findings ORDER BY 1,2,3,4,5,6')"

# ---- 9. --stdin: every run reads the file (default /dev/null), in both modes
seq 1 3000 >"$SCRATCH/lines.txt"
for mode in exec fork; do
    fs_new_db "stdin-none-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --max-runs 1 -- /bin/cat
    empty=$(q "SELECT points_total FROM runs WHERE fault_spec IS NULL")
    fs_new_db "stdin-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --max-runs 1 --stdin "$SCRATCH/lines.txt" -- /bin/cat
    full=$(q "SELECT points_total FROM runs WHERE fault_spec IS NULL")
    [[ $full -gt $empty ]] ||
        fs_fail "$mode: cat with --stdin reads more than on /dev/null" "more than $empty points" "$full"
    [[ ! -s $SCRATCH/last.out ]] || fs_fail "$mode: the target's stdout is not ours" "empty" "$(head -3 "$SCRATCH/last.out")"
done
fs_exec sweep --db "$SCRATCH/stdin-bad.db" --stdin "$SCRATCH/no-such-file" -- /bin/cat
assert_status 2
assert_stderr_contains "--stdin names the missing file" "no-such-file"

# ---- 10. a baseline that times out: by default nothing is swept (every fault
#          run would time out too) and the exit status is 2
#          (test_sweep_baseline.sh has the other ways a baseline fails); with
#          --expect-exit timeout (a server) the fault runs' timeouts are its
#          finding, not one finding per fault, and the sweep says so
fs_new_db slow-baseline-default
fs_exec sweep --db "$DB" --mode exec --timeout 1 --max-runs 3 -- /bin/sh -c 'sleep 30'
assert_status 2
assert_stderr_contains "the baseline's timeout is explained" "timed out after 1.0 s"
assert_eq "no fault run after a baseline timeout" 0 "$(q 'SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL')"
fs_new_db slow-baseline
fs_exec sweep --db "$DB" --mode exec --timeout 1 --max-runs 3 --expect-exit timeout -- /bin/sh -c 'sleep 30'
assert_status 1
assert_stderr_contains "the baseline's timeout is explained" "the baseline run timed out"
assert_eq "one timeout finding, the baseline's (no fault)" "1|1" \
    "$(q "SELECT count(*), sum(fault_func IS NULL) FROM findings WHERE category = 'timeout'")"
