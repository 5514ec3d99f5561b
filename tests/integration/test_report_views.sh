#!/usr/bin/env bash
# test_report_views.sh — the public views say each run's role (schema 5, issue
# 12): runs.role is 'baseline', 'fault', 'fork', 'confirmation' or 'repro',
# and the leaks, anomalies, held and crashes views carry it, so a fork-mode
# sweep's leak (the forked run's row and its exec replay's row) and a
# `faultstack repro` replay's row can be told apart; leaks.confirms names the
# forked run a confirmation replays. New views: crashes, sweeps. A schema-4
# database is upgraded in place (step 'roles': views only, data unchanged).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_views

ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")
LINE=$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')
FLINE=$(marker_line fd_leak.c '/* FS-FAULT */')

# ---- 1. a fork-mode sweep: baseline, fork runs, their confirmations
fs_sweep roles fork demo_fd_leak "${ARGS[@]}"
assert_status 1
fs_expect_fork_runs roles
assert_eq "runs.role follows the run's columns (baseline: no fault; fork: mode fork; confirmation: confirms)" 0 \
    "$(q "SELECT count(*) FROM runs WHERE role IS NOT CASE WHEN confirms IS NOT NULL THEN 'confirmation'
          WHEN fault_spec IS NULL THEN 'baseline' WHEN mode = 'fork' THEN 'fork' ELSE 'fault' END")"
assert_eq "one baseline run, the sweep's (sweeps.baseline_run)" "1|1" \
    "$(q "SELECT count(*), max(id = (SELECT baseline_run FROM sweeps)) FROM runs WHERE role = 'baseline'")"
FORK=$(q "SELECT l.run_id FROM leaks l WHERE l.role = 'fork' AND l.line = $LINE AND l.fault_line = $FLINE")
[[ -n $FORK ]] || fs_fail "the forked run's fd leak is in leaks with role 'fork'" "a row" "$(q 'SELECT * FROM leaks')"
assert_eq "its exec replay's row: role confirmation, confirms = the forked run (rows|confirms)" "1|$FORK" \
    "$(q "SELECT count(*), group_concat(confirms) FROM leaks WHERE role = 'confirmation' AND line = $LINE
          AND fault_line = $FLINE")"
assert_eq "the fault's leak rows apart from repro and confirmation: just the forked run's" 1 \
    "$(q "SELECT count(*) FROM leaks WHERE line = $LINE AND fault_line = $FLINE
          AND role NOT IN ('confirmation', 'repro')")"
assert_eq "sweeps: one complete sweep of the command, fork mode, counts" "complete|fork|site|1|1" \
    "$(q "SELECT status, mode, strategy, shard_index, shard_count FROM sweeps")"
assert_eq "sweeps.command is the session's command (the runs')" 1 \
    "$(q "SELECT count(*) FROM sweeps w JOIN runs r ON r.id = w.baseline_run AND r.command = w.command")"
assert_eq "sweeps.done counts its fault runs (fork and exec, not the confirmations)" \
    "$(q "SELECT count(*) FROM runs WHERE role IN ('fork', 'fault')")" "$(q "SELECT done FROM sweeps")"

# ---- 2. a repro: its rows have role 'repro'
LEAK=$(q "SELECT id FROM findings WHERE category = 'leak' AND line = $LINE AND fault_line = $FLINE")
fs_exec repro --db "$DB" "$LEAK"
assert_status 0
NEW=$(q "SELECT max(id) FROM runs")
assert_eq "the replay's run is role repro (and only it)" "$NEW" "$(q "SELECT group_concat(id) FROM runs WHERE role = 'repro'")"
assert_eq "its leak row says repro" 1 \
    "$(q "SELECT count(*) FROM leaks WHERE run_id = $NEW AND role = 'repro' AND line = $LINE")"
assert_eq "the leak's rows: fork, confirmation, repro" "confirmation fork repro" \
    "$(q "SELECT group_concat(role, ' ') FROM (SELECT role FROM leaks WHERE line = $LINE AND fault_line = $FLINE
          ORDER BY role)")"
assert_eq "a repro by hand (the printed command) is a plain fault run" fault \
    "$(DB2=$DB; REPRO=$(q "SELECT repro FROM findings WHERE id = $LEAK"); sh -c "$REPRO" >/dev/null 2>&1 || true
       q "SELECT role FROM runs WHERE id = (SELECT max(id) FROM runs)")"

# ---- 3. crashes and anomalies
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
CR=$(q "SELECT max(id) FROM runs")
assert_eq "crashes: the crash, its signal, fault plan and role" "$CR|11|nth=2,only=malloc|fault" \
    "$(q "SELECT run_id, signal, fault_spec, role FROM crashes")"
fs_run --fail only=fflush,nth=1 -- "$DEMO_BIN/demo_mismatched_release" "$SCRATCH/r.txt" T
assert_eq "anomalies.role" fault "$(q "SELECT DISTINCT role FROM anomalies")"

# ---- 4. a schema-4 database (the views as version 4 had them) is upgraded in place
cp "$DB" "$SCRATCH/v4.db"
DB=$SCRATCH/v4.db
before=$(q "SELECT count(*) FROM resource WHERE verdict = 'leak'")
sqlite3 -bail "$DB" "
    DROP VIEW crashes; DROP VIEW sweeps; DROP VIEW runs; DROP VIEW leaks; DROP VIEW anomalies; DROP VIEW held;
    $FS_V4_VIEWS
    UPDATE meta SET value = '4' WHERE key = 'schema_version'; PRAGMA user_version = 4;"
fs_exec report --db "$DB"
assert_status 1
CUR=$(sed -n 's/^PRAGMA user_version = \([0-9]*\);$/\1/p' "$DEMO_SRC/../../reports/schema.sql")
assert_eq "upgraded: user_version|schema_version|leaks rows|roles of the leak|crashes|sweeps" \
    "$CUR|$CUR|$before|confirmation fork repro|1|1" \
    "$(q "SELECT (SELECT user_version FROM pragma_user_version), (SELECT value FROM meta WHERE key = 'schema_version'),
          (SELECT count(*) FROM leaks),
          (SELECT group_concat(role, ' ') FROM (SELECT role FROM leaks WHERE line = $LINE AND fault_line = $FLINE
           AND run_id <= $NEW ORDER BY role)),
          (SELECT count(*) FROM crashes), (SELECT count(*) FROM sweeps)")"
assert_eq "upgraded: held and anomalies have role" 0 \
    "$(q "SELECT (SELECT count(*) FROM held WHERE role IS NULL) + (SELECT count(*) FROM anomalies WHERE role IS NULL)")"
