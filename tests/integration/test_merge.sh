#!/usr/bin/env bash
# test_merge.sh — `faultstack merge --db OUT IN...`: the union of the inputs
# with fresh ids, findings deduplicated by key with their run lists united,
# merging the same input again a no-op, and bad inputs refused (exit 2) with
# OUT left byte for byte as it was.
#
# a.db: demo_fd_leak under only=open,nth=2 (fd leak L) and demo_fork_child_leak
#       without --fail (baseline leak B)
# b.db: demo_fd_leak under only=open,nth=2 again (L) and demo_crash_null under
#       only=malloc,nth=2 (crash C)
# OUT = a + b: 4 sessions, 4 runs, 3 findings, L seen in 2 runs, 4 finding_run rows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init merge

ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")
A=$SCRATCH/a.db B=$SCRATCH/b.db OUT=$SCRATCH/out.db

DB=$A
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$DEMO_SRC/fd_leak.c" exit
assert_status 1
DB=$B
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1

# what each database holds, run by run: command, fault, exit, and its fault points, leaks, crashes
content() {
    sqlite3 -batch -noheader "$1" "
        SELECT r.command || '|' || ifnull(r.fault_spec, '-') || '|' || ifnull(r.exit_code, '-') || '|' ||
               ifnull(r.signal, '-') || '|' || r.mode || '|' || ifnull(r.sweep_key, '-') || '|' ||
               (SELECT ifnull(group_concat(x, ','), '') FROM (SELECT func || '@' || line || '#' || injected AS x
                 FROM fault_points p WHERE p.run_id = r.id ORDER BY pid, ordinal)) || '|' ||
               (SELECT ifnull(group_concat(x, ','), '') FROM (SELECT kind || ':' || func || '@' || line || '<' ||
                 ifnull(fault_func, 'baseline') || ':' || ifnull(stack IS NOT NULL, 0) AS x
                 FROM leaks l WHERE l.run_id = r.id ORDER BY line)) || '|' ||
               (SELECT count(*) FROM crash c WHERE c.run_id = r.id) || '|' ||
               (SELECT count(*) FROM process c WHERE c.run_id = r.id) || '|' ||
               (SELECT group_concat(f.category || ':' || f.line, ',') FROM finding_run fr
                 JOIN findings f ON f.id = fr.finding_id WHERE fr.run_id = r.id)
        FROM runs r ORDER BY r.id"
}
sha_a=$(fs_sha "$A") sha_b=$(fs_sha "$B")
assert_eq "content() of a.db: 2 runs, the fd leak run first" \
    "2 $DEMO_BIN/demo_fd_leak $DEMO_SRC/fd_leak.c $SCRATCH/copy.out|nth=2,only=open|1|-|exec|-|open@$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')#0,open@$(marker_line fd_leak.c '/* FS-FAULT */')#1|fd:open@$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')<open:1|0|1|leak:$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')" \
    "$(content "$A" | wc -l) $(content "$A" | head -n1)"

# ---- usage errors
fs_exec merge "$A"
assert_status 2
assert_stderr_contains "merge without --db says what to give" "--db OUT.db"
fs_exec merge --db "$OUT"
assert_status 2
assert_stderr_contains "merge without inputs says what to give" "input database"
[[ ! -e $OUT ]] || fs_fail "a refused merge created OUT" "no $OUT" "it exists"

# ---- the merge
fs_exec merge --db "$OUT" "$A" "$B"
assert_status 0
DB=$OUT
assert_eq "sessions in OUT" 4 "$(q 'SELECT count(*) FROM session')"
assert_eq "runs in OUT" 4 "$(q 'SELECT count(*) FROM runs')"
assert_eq "findings in OUT (union of the keys)" 3 "$(q 'SELECT count(*) FROM findings')"
assert_eq "finding_run rows in OUT (2 + 2)" 4 "$(q 'SELECT count(*) FROM finding_run')"
assert_eq "runs per finding in OUT (category:runs, by id)" "leak:2,leak:1,crash:1" \
    "$(q "SELECT group_concat(category || ':' || runs, ',') FROM (SELECT * FROM findings ORDER BY id)")"
assert_eq "first_run of each finding: a's runs 1 and 2, b's crash run 4" "1,2,4" \
    "$(q "SELECT group_concat(first_run, ',') FROM (SELECT * FROM findings ORDER BY id)")"
assert_eq "OUT run by run = a's runs then b's" "$(content "$A"; content "$B")" "$(content "$OUT")"
assert_eq "ids in OUT all point at existing rows (orphans)" 0 "$(q "
    SELECT (SELECT count(*) FROM run WHERE session_id NOT IN (SELECT id FROM session))
         + (SELECT count(*) FROM finding_run WHERE run_id NOT IN (SELECT id FROM run)
                                             OR finding_id NOT IN (SELECT id FROM finding))
         + (SELECT count(*) FROM point WHERE run_id NOT IN (SELECT id FROM run))
         + (SELECT count(*) FROM resource WHERE run_id NOT IN (SELECT id FROM run))
         + (SELECT count(*) FROM process WHERE run_id NOT IN (SELECT id FROM run))
         + (SELECT count(*) FROM crash WHERE run_id NOT IN (SELECT id FROM run))
         + (SELECT count(*) FROM finding WHERE first_run NOT IN (SELECT id FROM run))")"
assert_eq "the repro commands of OUT write into OUT" 3 \
    "$(q "SELECT count(*) FROM findings WHERE repro LIKE '$(readlink -f "$FAULTSTACK") run --db $OUT %'")"
assert_eq "the inputs are unchanged (sha256 of a, b)" "$sha_a $sha_b" "$(fs_sha "$A") $(fs_sha "$B")"
assert_eq "OUT remembers both inputs (meta merged:*)" 2 "$(q "SELECT count(*) FROM meta WHERE key LIKE 'merged:%'")"

# ---- merging again is a no-op: OUT unchanged byte for byte
sha_out=$(fs_sha "$OUT")
fs_exec merge --db "$OUT" "$B" "$A"
assert_status 0
assert_stderr_contains "merging again says why nothing happened" "already merged"
assert_eq "OUT after merging the same inputs again (sha256)" "$sha_out" "$(fs_sha "$OUT")"
fs_exec merge --db "$SCRATCH/twice.db" "$A" "$A"
assert_status 0
DB=$SCRATCH/twice.db
assert_eq "the same input twice in one command: runs" 2 "$(q 'SELECT count(*) FROM runs')"

# ---- a merge of a merge: its inputs are known
fs_exec merge --db "$SCRATCH/again.db" "$OUT" "$A"
assert_status 0
DB=$SCRATCH/again.db
assert_eq "OUT then a: a is skipped (runs)" 4 "$(q 'SELECT count(*) FROM runs')"
fs_exec merge --db "$SCRATCH/overlap.db" "$A" "$OUT"
assert_status 2
assert_stderr_contains "a then OUT (which holds a): refused, OUT named" "$OUT"
[[ ! -e $SCRATCH/overlap.db ]] || fs_fail "a refused merge created its --db" "no overlap.db" "it exists"

# ---- bad inputs: refused, nothing merged, OUT unchanged
for i in $(seq 1 50); do echo "not a database, line $i"; done >"$SCRATCH/garbage.db"
sqlite3 "$SCRATCH/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES(1)'
cp "$A" "$SCRATCH/newer.db"
sqlite3 "$SCRATCH/newer.db" 'PRAGMA user_version = 99'
DB=$SCRATCH/c.db
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
check_refused() {   # WHAT NEEDLE INPUTS...
    local what=$1 needle=$2; shift 2
    fs_exec merge --db "$OUT" "$@"
    assert_status 2
    assert_stderr_contains "$what: the message names the problem" "$needle"
    assert_stderr_contains "$what: the message says nothing was merged" "nothing was merged"
    assert_eq "$what: OUT unchanged (sha256)" "$sha_out" "$(fs_sha "$OUT")"
}
check_refused "garbage input" "not a faultstack database" "$SCRATCH/c.db" "$SCRATCH/garbage.db"
check_refused "SQLite input of something else" "no meta table" "$SCRATCH/c.db" "$SCRATCH/other.db"
check_refused "input of a newer schema" "schema version 99" "$SCRATCH/c.db" "$SCRATCH/newer.db"
check_refused "missing input" "no-such.db" "$SCRATCH/c.db" "$SCRATCH/no-such.db"
check_refused "OUT as an input" "output database" "$SCRATCH/c.db" "$OUT"
fs_exec merge --db "$SCRATCH/fresh.db" "$SCRATCH/garbage.db"
assert_status 2
[[ ! -e $SCRATCH/fresh.db ]] || fs_fail "a refused merge created its --db" "no fresh.db" "it exists"

# ---- a version-1 input (no sweep_key, confirms, ctx, sweep table) merges into version 2
cp "$B" "$SCRATCH/v1.db"
sqlite3 -bail "$SCRATCH/v1.db" "
    DROP VIEW runs; DROP VIEW fault_points; DROP VIEW leaks; DROP VIEW anomalies; DROP VIEW bugs; DROP VIEW findings;
    DROP VIEW crashes; DROP VIEW sweeps; DROP VIEW held;
    DROP INDEX run_session; CREATE INDEX run_session ON run(session_id);
    ALTER TABLE run DROP COLUMN sweep_key; ALTER TABLE run DROP COLUMN confirms;
    ALTER TABLE point DROP COLUMN ctx; DROP TABLE sweep;
    UPDATE meta SET value = '1' WHERE key = 'schema_version'; PRAGMA user_version = 1;"
sha_v1=$(fs_sha "$SCRATCH/v1.db")
fs_exec merge --db "$SCRATCH/withv1.db" "$A" "$SCRATCH/v1.db"
assert_status 0
assert_eq "a + v1(b) run by run = a's runs then b's" "$(content "$A"; content "$B")" "$(content "$SCRATCH/withv1.db")"
assert_eq "the version-1 input is unchanged" "$sha_v1" "$(fs_sha "$SCRATCH/v1.db")"

# ---- OUT is a normal database: report, --session, repro into OUT
DB=$OUT
fs_exec report --db "$OUT"
assert_status 1
assert_stdout_contains "report of OUT" "3 findings at 3 sites"
CRASH_SESSION=$(q "SELECT session_id FROM runs WHERE command LIKE '%demo_crash_null%'")
assert_eq "b's crash session got a fresh id" 4 "$CRASH_SESSION"
fs_exec report --db "$OUT" --session "$CRASH_SESSION" --format json
assert_status 1
assert_stdout_contains "report --session of a merged session" '"category": "crash"'
assert_stdout_lacks "report --session of a merged session: only its findings" '"category": "leak"'
L=$(q "SELECT id FROM findings WHERE file LIKE '%/fd_leak.c'")
fs_exec repro --db "$OUT" "$L"
assert_status 0
assert_stdout_contains "repro from OUT" "repro: fault site hit, finding reproduced"
assert_eq "the replay went into OUT" "5|3" "$(q "SELECT (SELECT count(*) FROM runs), runs FROM findings WHERE id = $L")"
