#!/usr/bin/env bash
# test_report_repro.sh — `faultstack repro ID`: replays a finding with its repro
# command (a new run in the same database, exec mode) and checks the replay:
# the same fault site was failed (module + offset of the finding's fault; no
# fault at all for a baseline finding) and the finding showed again.
#   exit 0  "repro: fault site hit, finding reproduced"
#   exit 1  "repro: fault site NOT hit: ..." or "repro: fault site hit, finding not reproduced"
#   exit 2  usage or tool error (no such finding, a repro that is not a plain
#           faultstack run command, a replay that could not run)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_repro

ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")
FLINE=$(marker_line fd_leak.c '/* FS-FAULT */')

fs_new_db repro
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
LEAK=$(q "SELECT id FROM findings WHERE category = 'leak'")
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
CRASH=$(q "SELECT id FROM findings WHERE category = 'crash'")
fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$DEMO_SRC/fd_leak.c" exit
assert_status 1
BASE=$(q "SELECT id FROM findings WHERE fault_func IS NULL")
fs_expect_findings 3

# ---- 1. a fault finding: replayed, same site, reproduced
runs_before=$(q 'SELECT count(*) FROM runs')
fs_exec repro --db "$DB" "$LEAK"
assert_status 0
assert_stdout_contains "repro of the fd leak: verdict" "repro: fault site hit, finding reproduced"
assert_eq "repro adds one run" $((runs_before + 1)) "$(q 'SELECT count(*) FROM runs')"
NEW=$(q 'SELECT max(id) FROM runs')
assert_eq "the replay failed open on the FS-FAULT line (func|line|mode)" "open|$FLINE|exec" \
    "$(q "SELECT p.func, p.line, r.mode FROM fault_points p JOIN runs r ON r.id = p.run_id
          WHERE p.run_id = $NEW AND p.injected = 1")"
assert_eq "the finding now lists the replay (runs|replay linked)" "2|1" \
    "$(q "SELECT runs, (SELECT count(*) FROM finding_run WHERE finding_id = $LEAK AND run_id = $NEW)
          FROM findings WHERE id = $LEAK")"

# ---- 2. a crash finding and 3. a baseline finding: reproduced too
fs_exec repro --db "$DB" "$CRASH"
assert_status 0
assert_stdout_contains "repro of the crash" "repro: fault site hit, finding reproduced"
fs_exec repro --db "$DB" "$BASE"
assert_status 0
assert_stdout_contains "repro of the baseline leak" "repro: fault site hit, finding reproduced"
NEW=$(q 'SELECT max(id) FROM runs')
assert_eq "the baseline replay injected nothing" 0 \
    "$(q "SELECT count(*) FROM fault_points WHERE run_id = $NEW AND injected = 1")"

# ---- 4. the finding's fault site is not where the replay fails: NOT hit, exit 1
q "UPDATE finding SET fault_offset = fault_offset + 1 WHERE id = $LEAK" >/dev/null
fs_exec repro --db "$DB" "$LEAK"
assert_status 1
assert_stdout_contains "wrong fault site: verdict" \
    "repro: fault site NOT hit: the program took another path (nondeterministic?)"
q "UPDATE finding SET fault_offset = fault_offset - 1 WHERE id = $LEAK" >/dev/null

# ---- 5. a baseline finding whose replay injects a fault: NOT hit, exit 1
q "UPDATE finding SET repro = replace(repro, ' -- ', ' --fail only=open,nth=1 -- ') WHERE id = $BASE" >/dev/null
fs_exec repro --db "$DB" "$BASE"
assert_status 1
assert_stdout_contains "baseline replayed with a fault: verdict" "repro: fault site NOT hit"

# ---- 6. the site is hit but the finding does not show again: exit 1
q "UPDATE finding SET key = key || '|renamed' WHERE id = $LEAK" >/dev/null
fs_exec repro --db "$DB" "$LEAK"
assert_status 1
assert_stdout_contains "finding not shown again: verdict" "repro: fault site hit, finding not reproduced"

# ---- 7. errors: exit 2, a message, no run recorded
runs_before=$(q 'SELECT count(*) FROM runs')
fs_exec repro --db "$DB" 9999
assert_status 2
assert_stderr_contains "unknown finding is named" "no finding #9999"
fs_exec repro --db "$DB" abc
assert_status 2
assert_stderr_contains "bad finding id: what to give" "finding id"
fs_exec repro --db "$SCRATCH/none.db" 1
assert_status 2
assert_stderr_contains "missing database is named" "none.db"
q "UPDATE finding SET repro = 'faultstack run --db x.db -- true; touch $SCRATCH/pwned' WHERE id = $CRASH" >/dev/null
fs_exec repro --db "$DB" "$CRASH"
assert_status 2
assert_stderr_contains "repro with shell syntax is refused" "unquoted shell syntax (';'"
[[ ! -e $SCRATCH/pwned ]] || fs_fail "a repro with shell syntax was run by a shell" "no $SCRATCH/pwned" "it exists"
q "UPDATE finding SET repro = 'faultstack run --db x.db -- $SCRATCH/no-such-program' WHERE id = $CRASH" >/dev/null
fs_exec repro --db "$DB" "$CRASH"
assert_status 2
assert_stderr_contains "replay that cannot run: the program is named" "$SCRATCH/no-such-program"
assert_stderr_contains "replay that cannot run: repro says so" "the replay failed"
assert_eq "no run recorded by the failed invocations" "$runs_before" "$(q 'SELECT count(*) FROM runs')"

# ---- 8. the replay runs where the finding's run ran (relative paths), from anywhere
mkdir -p "$SCRATCH/work" "$SCRATCH/elsewhere"
cp "$DEMO_SRC/fd_leak.c" "$SCRATCH/work/input.txt"
fs_new_db relative
(cd "$SCRATCH/work" && "$FAULTSTACK" run --db ../relative.db -- "$DEMO_BIN/demo_fork_child_leak" input.txt exit \
    >/dev/null 2>&1) || true
fs_expect_findings 1
RID=$(q 'SELECT id FROM findings')
cd "$SCRATCH/elsewhere"
fs_exec repro --db ../relative.db "$RID"
assert_status 0
assert_stdout_contains "replay of a run with relative paths, from another directory" \
    "repro: fault site hit, finding reproduced"
assert_eq "the replay was recorded in the same database" 2 "$(q 'SELECT count(*) FROM runs')"
