#!/usr/bin/env bash
# test_triage_minilib.sh — findings a person can act on (issue 12), on a
# library and its test driver (targets/demo/minilib.c, minilib_test.c):
# - driver-gave-up: the driver's assert() after the library correctly
#   reported ENOMEM is marked so, not counted; the library's own crash stays open;
# - --scope libdemo_minilib.so: the driver's own leak and crash are kept but
#   marked out-of-scope and not counted;
# - the fault's callers: a fault inside the library's allocation wrapper
#   names the code that called the wrapper (runs.fault_callers, findings.fault_caller,
#   the text report), in exec and fork mode;
# - the bugs view: the key lost in ml_validate, exposed by two fault sites, is
#   one bug with both faults;
# - the exit status of sweep and run counts open findings only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init triage_minilib

PROG=$DEMO_BIN/demo_minilib_test
LIB=minilib.c
DRV=minilib_test.c
L_ALLOC=$(marker_line $LIB '/* FS-EXPECT: leak memory */')
L_LIBCRASH=$(marker_line $LIB '/* FS-EXPECT: library crash */')
L_DOC=$(marker_line $LIB '/* FS-FAULT: doc */')
L_TITLE=$(marker_line $LIB '/* FS-FAULT: title */')
L_VALUE=$(marker_line $LIB '/* FS-FAULT: value */')
L_SEEN=$(marker_line $LIB '/* FS-FAULT: seen */')
L_DLEAK=$(marker_line $DRV '/* FS-EXPECT: driver leak */')
L_DCRASH=$(marker_line $DRV '/* FS-EXPECT: driver crash */')
L_GAVEUP=$(marker_line $DRV '/* FS-EXPECT: driver gave up */')

# category|kind|anomaly|func|file|line|fault_func|fault_line (fs_finding_rows)
EXPECTED="leak|memory|-|malloc|$DRV|$L_DLEAK|-|-
crash|SIGSEGV|-|main|$DRV|$L_DCRASH|malloc|$L_DLEAK
crash|SIGABRT|-|main|$DRV|$L_GAVEUP|malloc|$L_ALLOC
crash|SIGSEGV|-|ml_parse|$LIB|$L_LIBCRASH|malloc|$L_ALLOC
leak|memory|-|malloc|$LIB|$L_ALLOC|malloc|$L_ALLOC
leak|memory|-|malloc|$LIB|$L_ALLOC|calloc|$L_SEEN"

# statuses: kind|file|line|fault_line|status, sorted
statuses() {
    q "SELECT ifnull(kind,'-'), replace(file, rtrim(file, replace(file, '/', '')), ''), line,
              ifnull(fault_line,'-'), status FROM findings" | LC_ALL=C sort
}
status_rows() {   # DRIVER_STATUS: the status of the driver's own leak and crash
    printf '%s\n' "SIGABRT|$DRV|$L_GAVEUP|$L_ALLOC|driver-gave-up" "SIGSEGV|$DRV|$L_DCRASH|$L_DLEAK|$1" \
        "SIGSEGV|$LIB|$L_LIBCRASH|$L_ALLOC|open" "memory|$DRV|$L_DLEAK|-|$1" \
        "memory|$LIB|$L_ALLOC|$L_ALLOC|open" "memory|$LIB|$L_ALLOC|$L_SEEN|open" | LC_ALL=C sort
}

for mode in exec fork; do
    fs_new_db "$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "$PROG"
    assert_status 1
    fs_expect_exact_findings "$mode: the findings" "$EXPECTED"
    assert_eq "$mode: statuses without --scope (kind|file|line|fault_line|status)" "$(status_rows open)" "$(statuses)"
    assert_stderr_contains "$mode: the sweep's summary counts the driver that gave up apart" \
        "also 0 suppressed, 1 driver-gave-up, 0 out of scope"
    assert_stderr_contains "$mode: the open findings" "5 findings: 3 leaks, 0 anomalies, 2 crashes"

    # the fault's calling context: inside ml_alloc, the wrapper's callers
    assert_eq "$mode: the library crash's fault was called from ml_parse (title)" \
        "ml_parse $DEMO_SRC/$LIB:$L_TITLE" \
        "$(q "SELECT fault_caller FROM findings WHERE kind = 'SIGSEGV' AND file LIKE '%/$LIB'")"
    assert_eq "$mode: the value's fault, through ml_strndup, from ml_validate" \
        "ml_validate $DEMO_SRC/$LIB:$L_VALUE" \
        "$(q "SELECT fault_callers FROM findings WHERE category = 'leak' AND fault_func = 'malloc'" | sed -n 2p)"
    gave_caller=$(q "SELECT fault_caller FROM findings WHERE status = 'driver-gave-up'")
    [[ $gave_caller == "ml_parse $DEMO_SRC/$LIB:$L_DOC" || $gave_caller == "ml_strndup $DEMO_SRC/$LIB:"* ]] ||
        fs_fail "$mode: the gave-up fault's caller is ml_parse's doc or text allocation" \
            "ml_parse $DEMO_SRC/$LIB:$L_DOC or ml_strndup ..." "$gave_caller"

    # the bugs view: 5 bugs; the key lost in ml_validate is one, with both faults
    assert_eq "$mode: bugs" 5 "$(q 'SELECT count(*) FROM bugs')"
    assert_eq "$mode: the ml_validate bug: findings|runs>=2|faults" \
        "2|1|malloc,calloc" \
        "$(q "SELECT findings, runs >= 2, (SELECT group_concat(fault_func) FROM (SELECT fault_func FROM findings
                WHERE category = 'leak' AND file LIKE '%/$LIB' ORDER BY fault_line)) FROM bugs
              WHERE category = 'leak' AND file LIKE '%/$LIB'")"
    faults=$(q "SELECT faults FROM bugs WHERE category = 'leak' AND file LIKE '%/$LIB'")
    # (calloc is called in ml_validate itself: its site says where; exec-mode sweeps
    # record callers only for wrapper sites, fork-mode children for every fault)
    [[ $faults == *"malloc $DEMO_SRC/$LIB:$L_ALLOC < ml_strndup "* && $faults == *"calloc $DEMO_SRC/$LIB:$L_SEEN"* ]] ||
        fs_fail "$mode: the bug lists its faults, the wrapper's with its callers" \
            "malloc ... < ml_strndup ..., calloc ..." "$faults"

    # the text report: grouped, the callers shown, the driver that gave up apart
    fs_exec report --db "$DB"
    assert_status 1
    assert_stdout_contains "$mode: text: the bug's header" "leak memory: malloc at $DEMO_SRC/$LIB:$L_ALLOC (in ml_alloc)"
    assert_stdout_contains "$mode: text: the fault's callers" \
        "      fault called from: ml_strndup $DEMO_SRC/$LIB:"
    assert_stdout_contains "$mode: text: ... up to ml_validate" " < ml_validate $DEMO_SRC/$LIB:$L_VALUE"
    assert_stdout_contains "$mode: text: the driver that gave up" \
        "SIGABRT at $DEMO_SRC/$DRV:$L_GAVEUP (in main), after fault malloc at $DEMO_SRC/$LIB:$L_ALLOC"
    assert_stdout_contains "$mode: text: 5 findings (the gave-up one apart)" "5 findings at 4 sites"
    assert_stdout_lacks "$mode: text: no site header for the gave-up abort" "crash SIGABRT"
done

# ---- --scope: the driver's own bugs are kept, marked, not counted
fs_new_db scope
fs_exec sweep --db "$DB" --scope libdemo_minilib.so -j 2 --timeout 30 -- "$PROG"
assert_status 1
fs_expect_exact_findings "--scope: every finding still recorded" "$EXPECTED"
assert_eq "--scope: statuses" "$(status_rows out-of-scope)" "$(statuses)"
assert_eq "--scope: in_scope per module" "demo_minilib_test|0
libdemo_minilib.so|1" "$(q "SELECT DISTINCT module, in_scope FROM findings WHERE status != 'driver-gave-up' ORDER BY 1")"
assert_stderr_contains "--scope: the summary" "also 0 suppressed, 1 driver-gave-up, 2 out of scope"

# the report formats on it: json lists all six with their status; junit and
# sarif the three open ones; html lists the open ones (data-status="open") and
# counts and lists the others with their status under "Not counted"
fs_exec report --db "$DB" --format json
assert_status 1
assert_eq "--scope: json: every finding with its status" \
    "driver-gave-up 1, open 3, out-of-scope 2" \
    "$(python3 -c 'import json, sys, collections
c = collections.Counter(f["status"] for f in json.load(sys.stdin))
print(", ".join("%s %d" % kv for kv in sorted(c.items())))' <"$SCRATCH/last.out")"
fs_exec report --db "$DB" --format sarif
assert_status 1
assert_eq "--scope: sarif: the open findings only" 3 \
    "$(python3 -c 'import json, sys; print(len(json.load(sys.stdin)["runs"][0]["results"]))' <"$SCRATCH/last.out")"
fs_exec report --db "$DB" --format junit
assert_status 1
assert_eq "--scope: junit: the open findings only" 3 \
    "$(xmllint --xpath 'count(//testcase/failure)' "$SCRATCH/last.out")"
fs_exec report --db "$DB" --format html -o "$SCRATCH/scope.html"
assert_status 1
hx() { xmllint --html --xpath "$1" "$SCRATCH/scope.html" 2>/dev/null; }
assert_eq "--scope: html: findings listed|open marks|not counted|suppressed|gave up|out of scope" \
    "3|3|3|0|1|2" \
    "$(hx 'string(//b[@id="n-findings"])')|$(hx 'count(//div[@class="fault"][@data-status="open"])')|$(
       hx 'string(//b[@id="n-not-counted"])')|$(hx 'string(//b[@id="n-suppressed"])')|$(
       hx 'string(//b[@id="n-gave-up"])')|$(hx 'string(//b[@id="n-out-of-scope"])')"
assert_eq "--scope: html: the findings not counted, by status" "driver-gave-up out-of-scope out-of-scope" \
    "$(hx '//ul[@id="not-counted"]/li/@data-status' | sed 's/.*="\(.*\)"/\1/' | tr '\n' ' ' | sed 's/ $//')"
assert_eq "--scope: html: no site section for a finding not counted" 0 \
    "$(hx 'count(//div[@class="fault"][@data-status!="open"])')"

# a scope the bugs are all outside of: nothing counts, exit 0
fs_new_db scope-none
fs_exec sweep --db "$DB" --scope 'libnothing*' -j 2 --timeout 30 -- "$PROG"
assert_status 0
assert_eq "--scope libnothing*: open findings" 0 "$(q "SELECT count(*) FROM findings WHERE status = 'open'")"
assert_eq "--scope libnothing*: recorded findings" 6 "$(q "SELECT count(*) FROM findings")"

# ---- run: the gave-up fault alone exits 0; the library crash's fault exits 1
fs_new_db runs
GAVE_KEY=$(sqlite3 -batch -noheader "$SCRATCH/exec.db" \
    "SELECT r.fault_spec FROM findings f JOIN runs r ON r.id = f.first_run WHERE f.status = 'driver-gave-up'")
CRASH_KEY=$(sqlite3 -batch -noheader "$SCRATCH/exec.db" \
    "SELECT r.fault_spec FROM findings f JOIN runs r ON r.id = f.first_run WHERE f.kind = 'SIGSEGV' AND f.file LIKE '%/$LIB'")
fs_run --fail "$GAVE_KEY" -- "$PROG"
assert_status 0
assert_eq "run --fail $GAVE_KEY: the abort recorded as driver-gave-up" "crash|SIGABRT|driver-gave-up" \
    "$(q "SELECT category, kind, status FROM findings")"
assert_stderr_contains "run: the gave-up crash is not counted" "0 suppressed, 1 driver-gave-up, 0 out of scope"
fs_run --fail "$CRASH_KEY" -- "$PROG"
assert_status 1
assert_eq "run --fail $CRASH_KEY: the library crash, its caller recorded by the run itself" \
    "open|ml_parse $DEMO_SRC/$LIB:$L_TITLE" \
    "$(q "SELECT status, fault_caller FROM findings WHERE kind = 'SIGSEGV'")"

# ---- schema upgrades to step 'triage' (version 6): a version-5 database (step
#      'roles', no triage columns), a version-4 one (neither), and a version-5
#      one made by the triage branch before it was merged (triage columns and
#      bugs view, but the views without role) are upgraded in place when opened;
#      --scope then triages the old findings like new ones.
CUR=$(sed -n 's/^PRAGMA user_version = \([0-9]*\);$/\1/p' "$DEMO_SRC/../../reports/schema.sql")
V4_VIEWS="DROP VIEW runs; DROP VIEW leaks; DROP VIEW anomalies; DROP VIEW held; $FS_V4_VIEWS"
NO_TRIAGE="DROP VIEW bugs; DROP VIEW findings;
    ALTER TABLE finding DROP COLUMN suppressed; ALTER TABLE finding DROP COLUMN suppression;
    ALTER TABLE finding DROP COLUMN in_scope; ALTER TABLE finding DROP COLUMN gave_up;
    CREATE VIEW findings AS SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.module, f.file, f.line, f.symbol,
           f.fault_func, f.fault_file, f.fault_line,
           (SELECT count(*) FROM finding_run fr WHERE fr.finding_id = f.id) AS runs,
           f.first_run, f.repro, f.offset, f.fault_module, f.fault_offset FROM finding f;"
for old in 5 4 5-unmerged-triage; do
    cp "$SCRATCH/exec.db" "$SCRATCH/v$old.db"
    DB=$SCRATCH/v$old.db
    case $old in
    5) fake="DROP VIEW runs; $NO_TRIAGE ALTER TABLE run DROP COLUMN fault_callers;
             CREATE VIEW runs AS SELECT u.id, u.session_id, u.command, u.fault_spec, u.mode, u.exit_code, u.signal,
                    u.timed_out, u.duration_ms, u.points_total, u.injected, u.swallowed, u.started_at, u.sweep_key,
                    u.confirms, u.observed, u.note, 'fault' AS role FROM run u;" ;;
    4) fake="$V4_VIEWS $NO_TRIAGE ALTER TABLE run DROP COLUMN fault_callers;" ;;
    *) fake="$V4_VIEWS" ;;
    esac
    sqlite3 -bail "$DB" "$fake
        UPDATE meta SET value = '${old%%-*}' WHERE key = 'schema_version'; PRAGMA user_version = ${old%%-*};"
    fs_exec report --db "$DB" --format json
    assert_status 1
    assert_eq "v$old upgraded: user_version|schema_version|findings|bugs|roles in leaks, anomalies, held, runs" \
        "$CUR|$CUR|6|5|0" \
        "$(q "SELECT (SELECT user_version FROM pragma_user_version), (SELECT value FROM meta WHERE key = 'schema_version'),
              (SELECT count(*) FROM findings), (SELECT count(*) FROM bugs),
              (SELECT count(*) FROM leaks WHERE role IS NULL) + (SELECT count(*) FROM held WHERE role IS NULL) +
              (SELECT count(*) FROM anomalies WHERE role IS NULL) + (SELECT count(*) FROM runs WHERE role IS NULL)")"
    if [[ $old == 5-unmerged-triage ]]; then
        assert_eq "v$old upgraded: the triage marks are kept" "$(status_rows open)" "$(statuses)"
        assert_eq "v$old upgraded: the roles of the leaks" "baseline fault" \
            "$(q "SELECT group_concat(role, ' ') FROM (SELECT DISTINCT role FROM leaks ORDER BY role)")"
    else
        assert_eq "v$old upgraded: the old findings are open, no caller known" "6|0" \
            "$(q "SELECT sum(status = 'open'), count(fault_callers) FROM findings")"
    fi
    fs_exec report --db "$DB" --scope libdemo_minilib.so
    assert_status 1
    assert_eq "v$old upgraded, then report --scope: statuses" "$(status_rows out-of-scope)" "$(statuses)"
    assert_stdout_contains "v$old: report --scope: the triage counts" \
        "not counted: 0 suppressed, 1 driver-gave-up, 2 out of scope"
done
