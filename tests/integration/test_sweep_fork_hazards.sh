#!/usr/bin/env bash
# test_sweep_fork_hazards.sh — fork mode's hazards (targets/demo/fork_hazards.c).
#
# offset: the trunk and each forked run read one file through an fd and a
#   FILE*; fork shares open file descriptions, so unless every child gets its
#   own (at the trunk's offset at the fork point), someone reads the wrong
#   bytes and exits 3. Checked: the trunk exits 0, no run exits 3 that does not
#   in exec mode, and fork and exec mode give every sweep key the same exit
#   status.
# pipe: a pipe readable at a fault point makes fork mode stop (the child would
#   eat the trunk's data); the rest runs in exec mode with the same results.
# stdout: a forked run's output does not reach the trunk's (or the user's)
#   stdout, and stderr is per run: the swallowed check works per forked run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fork_hazards

P=$DEMO_BIN/demo_fork_hazards
seq 1 200 >"$SCRATCH/nums.txt"

# status_by_key DB: "key|exit_code|signal" of every fault run (not replays), sorted
status_by_key() {
    sqlite3 -batch -noheader "$1" "SELECT sweep_key, exit_code, signal FROM runs
        WHERE sweep_key IS NOT NULL AND confirms IS NULL ORDER BY sweep_key"
}

# ---- offsets
fs_new_db offset-exec
fs_exec sweep --db "$DB" --mode exec --strategy nth -j 2 -- "$P" offset "$SCRATCH/nums.txt"
assert_status 0
EXEC=$(status_by_key "$DB")
npoints=$(q "SELECT points_total FROM runs WHERE fault_spec IS NULL")
[[ $npoints -ge 100 ]] || fs_fail "offset probe makes many fault points" ">= 100" "$npoints"
fs_new_db offset-fork
fs_exec sweep --db "$DB" --mode fork --strategy nth -j 2 -- "$P" offset "$SCRATCH/nums.txt"
assert_status 0
assert_eq "offset: the trunk read the file intact" 0 "$(q "SELECT exit_code FROM runs WHERE fault_spec IS NULL")"
forked=$(q "SELECT count(*) FROM runs WHERE mode = 'fork' AND sweep_key IS NOT NULL")
assert_eq "offset: fork mode forked at every point" "$npoints" "$forked"
assert_eq "offset: fork mode and exec mode agree on every run's exit status" "$EXEC" "$(status_by_key "$DB")"

# ---- pipes
fs_new_db pipe-exec
fs_exec sweep --db "$DB" --mode exec --strategy nth -- "$P" pipe
assert_status 0
EXEC=$(status_by_key "$DB")
fs_new_db pipe-fork
fs_exec sweep --db "$DB" --mode fork --strategy nth -- "$P" pipe
assert_status 0
assert_stderr_contains "pipe: fork mode stops and says why" "fork mode stopped: a readable pipe is open"
assert_eq "pipe: the trunk read its message intact" 0 "$(q "SELECT exit_code FROM runs WHERE fault_spec IS NULL")"
[[ $(q "SELECT count(*) FROM runs WHERE mode = 'exec' AND sweep_key IS NOT NULL") -ge 3 ]] ||
    fs_fail "pipe: the points after the pipe run in exec mode" ">= 3 exec runs" \
        "$(q "SELECT count(*) FROM runs WHERE mode = 'exec'")"
assert_eq "pipe: same exit statuses as exec mode" "$EXEC" "$(status_by_key "$DB")"

# ---- stdout and stderr per forked run
fs_new_db stdout
fs_exec sweep --db "$DB" --mode fork --strategy nth -- "$P" stdout
assert_status 0
[[ ! -s $SCRATCH/last.out ]] || fs_fail "stdout: no target output on faultstack's stdout" "empty" "$(cat "$SCRATCH/last.out")"
assert_eq "stdout: three forked runs" 3 "$(q "SELECT count(*) FROM runs WHERE mode = 'fork' AND sweep_key IS NOT NULL")"
assert_eq "stdout: each forked run reported its failure (exit 1, not swallowed)" "3|0" \
    "$(q "SELECT sum(exit_code = 1), sum(swallowed) FROM runs WHERE mode = 'fork' AND sweep_key IS NOT NULL")"
