#!/usr/bin/env bash
# test_report_queries.sh — the canned queries of reports/queries/ run on a
# current database, read only the public views, (sqlite3 -bail: any SQL error fails) and return what they
# promise; never_failed.sql lists the baseline sites a sweep did not fail:
#   - a sweep stopped by --max-runs: never_failed and the failed sites split the
#     baseline's sites between them, and neither is empty;
#   - a complete sweep: nothing;
#   - one shard of two: the other shard's sites; both shards merged: nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_queries

QUERIES=$(cd "$DEMO_SRC/../../reports/queries" && pwd)
ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")
SWEEP=(sweep --mode exec --timeout 20)

# run_query NAME: the rows of reports/queries/NAME.sql on $DB ('|'-separated, no header)
run_query() {
    local out
    if ! out=$(sqlite3 -batch -bail -noheader -separator '|' "$DB" <"$QUERIES/$1.sql" 2>&1); then
        fs_fail "reports/queries/$1.sql runs on $DB" "no SQL error" "$out"
    fi
    printf '%s\n' "$out"
}
# sites SQL: sorted distinct 'func@line' of the fault_points rows SQL selects
sites() { q "SELECT DISTINCT func || '@' || line FROM fault_points WHERE $1" | sort; }

# ---- every query runs on a database with runs, findings and a sweep
fs_new_db all
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
fs_run --fail only=fflush,nth=1 -- "$DEMO_BIN/demo_mismatched_release" "$SCRATCH/r.txt" T
fs_exec "${SWEEP[@]}" --db "$DB" --max-runs 2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "sweep --max-runs 2" "exit 0 or 1" "$FS_STATUS"
n=0
for f in "$QUERIES"/*.sql; do
    run_query "$(basename "$f" .sql)" >/dev/null
    n=$((n + 1))
done
[[ $n -ge 5 ]] || fs_fail "canned queries found in $QUERIES" "at least 5" "$n"
# the canned queries read only the public views (issue 12): every name after
# FROM or JOIN is a view of the schema or a WITH name of the query itself
VIEWS=$(q "SELECT name FROM sqlite_master WHERE type = 'view'")
for f in "$QUERIES"/*.sql; do
    body=$(sed 's/--.*//' "$f" | tr '\n' ' ')
    ctes=$(grep -oiE '(with|,)[[:space:]]*[a-z_]+[[:space:]]+as[[:space:]]*\(' <<<"$body" | grep -oiE '[a-z_]+[[:space:]]+as' | awk '{print $1}' || true)
    for name in $(grep -oiE '\b(from|join)[[:space:]]+[a-z_]+' <<<"$body" | awk '{print $2}' | sort -u); do
        grep -qxF "$name" <<<"$VIEWS"$'\n'"$ctes" ||
            fs_fail "$(basename "$f") reads only public views" "a view or its own WITH name" "$name"
    done
done
LINE=$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')
FLINE=$(marker_line fd_leak.c '/* FS-FAULT */')
# (outputs are captured first: with pipefail, grep -q closing the pipe early
# would make the pipeline fail when the query writes after the match)
BY_SITE=$(run_query leaks_by_site)
FD_FILE=$(q "SELECT file FROM findings WHERE file LIKE '%/fd_leak.c'")
grep -qF "fd|open|$FD_FILE|$LINE|copy_file|" <<<"$BY_SITE" ||
    fs_fail "leaks_by_site.sql: the fd leak site" "a row fd|open|...fd_leak.c|$LINE|copy_file|..." "$BY_SITE"
grep -qF "open @ $FD_FILE:$FLINE" <<<"$BY_SITE" ||
    fs_fail "leaks_by_site.sql: the fault of the fd leak" "open @ ...:$FLINE" "$BY_SITE"
assert_eq "crashes.sql: the crash run (fault_spec|signal|role)" "nth=2,only=malloc|11|fault" \
    "$(run_query crashes | cut -d'|' -f2,3,8)"
ANOMALIES=$(run_query anomalies)
grep -q '^mismatched-release|file|close|' <<<"$ANOMALIES" ||
    fs_fail "anomalies.sql: the mismatched release" "a mismatched-release|file|close row" "$ANOMALIES"

# ---- never_failed: a sweep stopped after 2 fault runs
SW=$(q "SELECT session_id FROM sweeps")
BASE=$(q "SELECT baseline_run FROM sweeps")
never=$(run_query never_failed | awk -F'|' -v s="$SW" '$1 == s {print $2 "@" $6}' | sort -u)
failed=$(sites "injected = 1 AND run_id IN (SELECT id FROM runs WHERE session_id = $SW)")
baseline=$(sites "run_id = $BASE")
[[ -n $never ]] || fs_fail "never_failed after --max-runs 2: some sites" "rows" "(none)"
[[ -n $failed ]] || fs_fail "sweep --max-runs 2 failed some sites" "injected points" "(none)"
assert_eq "never_failed + failed sites = the baseline's sites" "$baseline" "$(printf '%s\n%s\n' "$never" "$failed" | sort -u)"
assert_eq "never_failed and failed sites do not overlap" "" "$(comm -12 <(echo "$never") <(echo "$failed"))"

# ---- a complete sweep leaves nothing
fs_new_db complete
fs_exec "${SWEEP[@]}" --db "$DB" -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "complete sweep" "exit 0 or 1" "$FS_STATUS"
assert_eq "sweep status" complete "$(q 'SELECT status FROM sweeps')"
assert_eq "never_failed after a complete sweep" "" "$(run_query never_failed)"

# ---- shards: one alone leaves the other's sites; both merged leave nothing
for i in 1 2; do
    fs_new_db "shard$i"
    fs_exec "${SWEEP[@]}" --db "$DB" --shard "$i/2" -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "sweep --shard $i/2" "exit 0 or 1" "$FS_STATUS"
done
DB=$SCRATCH/shard1.db
[[ -n $(run_query never_failed) ]] || fs_fail "never_failed of shard 1/2 alone" "the sites of shard 2" "(none)"
fs_exec merge --db "$SCRATCH/shards.db" "$SCRATCH/shard1.db" "$SCRATCH/shard2.db"
assert_status 0
DB=$SCRATCH/shards.db
assert_eq "sweeps in the merged database (shard_index/shard_count)" "1/2 2/2" \
    "$(q "SELECT group_concat(shard_index || '/' || shard_count, ' ') FROM (SELECT * FROM sweeps ORDER BY shard_index)")"
assert_eq "baseline runs of the merged sweeps are runs of their own sessions" 2 \
    "$(q "SELECT count(*) FROM sweeps s JOIN runs r ON r.id = s.baseline_run AND r.session_id = s.session_id")"
assert_eq "never_failed of both shards merged" "" "$(run_query never_failed)"
