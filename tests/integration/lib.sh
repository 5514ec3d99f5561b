# lib.sh — shared helpers of the integration tests (sourced by test_*.sh).
#
# The tests drive the real `faultstack run` CLI against the demo programs of
# targets/demo and check the database through the public views only (runs,
# fault_points, leaks, anomalies, findings; see reports/schema.sql).
#
# Environment (set by tests/integration/CMakeLists.txt; set them by hand to run
# a script directly):
#   FAULTSTACK  the faultstack executable
#   DEMO_BIN    directory holding demo_<name> and demo_<name>_ok
#   DEMO_SRC    targets/demo (the sources, for the FS-EXPECT / FS-FAULT markers)
#
# Every test works in its own scratch directory (mktemp -d), removed when the
# test passes and kept (its path printed) when it fails. On a failed assertion
# the helpers print what was expected, what was found, the last faultstack
# command with its output, `faultstack report` and a dump of the public views.

FS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FS_RUN_TIMEOUT=${FS_RUN_TIMEOUT:-90}   # seconds; below ctest's TIMEOUT of 120

# ---------------------------------------------------------------- setup

# fs_init NAME: check the environment, create $SCRATCH, arm the exit trap.
fs_init() {
    FS_TEST=$1
    local v
    for v in FAULTSTACK DEMO_BIN DEMO_SRC; do
        if [[ -z ${!v:-} ]]; then
            echo "$FS_TEST: environment variable $v is not set (ctest sets it; see tests/integration/CMakeLists.txt)" >&2
            exit 2
        fi
    done
    if [[ ! -x $FAULTSTACK ]]; then
        echo "$FS_TEST: FAULTSTACK=$FAULTSTACK is not an executable file; build the faultstack target first" >&2
        exit 2
    fi
    command -v sqlite3 >/dev/null || { echo "$FS_TEST: the sqlite3 command-line tool is needed (apt-get install sqlite3)" >&2; exit 2; }
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fs-it-$FS_TEST.XXXXXX")
    export TMPDIR=$SCRATCH          # demos that make temp dirs (socket_leak) make them here
    DB=$SCRATCH/faultstack.db
    FS_LAST_CMD="(none yet)"
    FS_STATUS=
    trap 'fs__on_exit $?' EXIT
}

fs__on_exit() {
    local rc=$1
    if [[ $rc -eq 0 ]]; then
        rm -rf -- "$SCRATCH"
        echo "PASS: $FS_TEST"
    else
        echo "FAIL: $FS_TEST (exit $rc); scratch directory kept: $SCRATCH" >&2
    fi
}

# fs_new_db LABEL: use a fresh database $SCRATCH/LABEL.db from now on.
fs_new_db() {
    DB=$SCRATCH/$1.db
    rm -f -- "$DB"
}

# ---------------------------------------------------------------- running

# fs_exec ARGS...: run "$FAULTSTACK" ARGS... ; never fails itself.
# Sets FS_STATUS (exit status; 124 = killed by the guard timeout) and keeps the
# output in $SCRATCH/last.out and $SCRATCH/last.err.
fs_exec() {
    FS_LAST_CMD="$FAULTSTACK $(printf '%q ' "$@")"
    echo "+ $FS_LAST_CMD"
    FS_STATUS=0
    timeout --kill-after=5 "$FS_RUN_TIMEOUT" "$FAULTSTACK" "$@" \
        >"$SCRATCH/last.out" 2>"$SCRATCH/last.err" || FS_STATUS=$?
    if [[ $FS_STATUS -eq 124 ]]; then
        echo "faultstack did not finish within ${FS_RUN_TIMEOUT}s" >>"$SCRATCH/last.err"
    fi
}

# fs_run ARGS...: fs_exec run --db "$DB" ARGS...
fs_run() {
    fs_exec run --db "$DB" "$@"
}

# ---------------------------------------------------------------- queries

# q SQL: print the result rows of SQL on $DB ('|' between columns, no header).
q() {
    local out
    if ! out=$(sqlite3 -batch -noheader -separator '|' "$DB" "$1" 2>&1); then
        fs_fail "SQL query failed on $DB" "a result" "$out" "query: $1"
    fi
    printf '%s\n' "$out"
}

# marker_line FILE MARKER: line number of the one line of $DEMO_SRC/FILE that
# contains MARKER (a fixed string, e.g. '/* FS-FAULT */').
marker_line() {
    local file=$DEMO_SRC/$1 hits
    hits=$(grep -nF -- "$2" "$file" | cut -d: -f1) || true
    if [[ -z $hits || $(wc -l <<<"$hits") -ne 1 ]]; then
        echo "TEST BUG: expected exactly one line with '$2' in $file, found: ${hits:-none}" >&2
        exit 3
    fi
    echo "$hits"
}

# ---------------------------------------------------------------- asserting

# fs_dump: everything that helps to understand a failure.
fs_dump() {
    {
        echo "---- last faultstack command (exit ${FS_STATUS:-?}):"
        echo "$FS_LAST_CMD"
        echo "---- its stdout:"
        cat "$SCRATCH/last.out" 2>/dev/null || true
        echo "---- its stderr:"
        cat "$SCRATCH/last.err" 2>/dev/null || true
        if [[ -s ${DB:-} ]]; then
            echo "---- faultstack report --db $DB:"
            timeout 30 "$FAULTSTACK" report --db "$DB" 2>&1 || echo "(report exited $?)"
            local view
            for view in runs fault_points leaks anomalies findings; do
                echo "---- SELECT * FROM $view:"
                sqlite3 -batch -header -separator '|' "$DB" "SELECT * FROM $view" 2>&1 || true
            done
        else
            echo "---- database ${DB:-(unset)} does not exist or is empty"
        fi
    } >&2
}

# fs_fail WHAT EXPECTED ACTUAL [NOTE]: report a failed check and stop.
fs_fail() {
    {
        echo
        echo "ASSERTION FAILED ($FS_TEST): $1"
        echo "  expected: $2"
        echo "  actual:   $3"
        [[ -n ${4:-} ]] && echo "  $4"
    } >&2
    fs_dump
    exit 1
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
    [[ $2 == "$3" ]] || fs_fail "$1" "$2" "$3"
}

# assert_status EXPECTED: exit status of the last faultstack command.
assert_status() {
    [[ $FS_STATUS == "$1" ]] || fs_fail "exit status of: $FS_LAST_CMD" "$1" "$FS_STATUS"
}

# assert_stderr_contains WHAT NEEDLE: the last command's stderr holds NEEDLE (fixed string).
assert_stderr_contains() {
    grep -qF -- "$2" "$SCRATCH/last.err" ||
        fs_fail "$1" "stderr containing '$2'" "$(cat "$SCRATCH/last.err")"
}

# assert_stderr_matches WHAT ERE: stderr matches the extended regex (case-insensitive).
assert_stderr_matches() {
    grep -qiE -- "$2" "$SCRATCH/last.err" ||
        fs_fail "$1" "stderr matching /$2/i" "$(cat "$SCRATCH/last.err")"
}

# assert_ends_with WHAT SUFFIX ACTUAL
assert_ends_with() {
    [[ $3 == *"$2" ]] || fs_fail "$1" "a value ending with '$2'" "$3"
}

# ---------------------------------------------------------------- scenarios

# fs_check_baseline PROG ARGS...: PROG without --fail finds nothing.
fs_check_baseline() {
    local prog=$1; shift
    fs_new_db baseline
    fs_run -- "$DEMO_BIN/$prog" "$@"
    assert_status 0
    assert_eq "baseline $prog: number of runs" 1 "$(q 'SELECT count(*) FROM runs')"
    assert_eq "baseline $prog: runs row (fault_spec IS NULL|injected|exit_code)" \
        "1|0|0" "$(q 'SELECT fault_spec IS NULL, injected, exit_code FROM runs')"
    assert_eq "baseline $prog: number of findings" 0 "$(q 'SELECT count(*) FROM findings')"
}

# fs_check_clean_twin SPEC PROG ARGS...: the fixed twin under the same fault:
# the fault is injected, the program reports it and fails, nothing is found.
fs_check_clean_twin() {
    local spec=$1 prog=$2; shift 2
    fs_new_db clean
    fs_run --fail "$spec" -- "$DEMO_BIN/$prog" "$@"
    assert_status 0
    assert_eq "clean twin $prog: number of runs" 1 "$(q 'SELECT count(*) FROM runs')"
    assert_eq "clean twin $prog: runs row (injected|exit_code|swallowed)" \
        "1|1|0" "$(q 'SELECT injected, exit_code, swallowed FROM runs')"
    assert_eq "clean twin $prog: number of findings" 0 "$(q 'SELECT count(*) FROM findings')"
}

# fs_run_bug SPEC PROG ARGS...: the bug demo under SPEC: faultstack exits 1,
# one run is recorded with one injected failure and the program's own exit 1.
# Sets RUN_ID.
fs_run_bug() {
    local spec=$1 prog=$2; shift 2
    fs_new_db bug
    fs_run --fail "$spec" -- "$DEMO_BIN/$prog" "$@"
    assert_status 1
    assert_eq "$prog: number of runs" 1 "$(q 'SELECT count(*) FROM runs')"
    RUN_ID=$(q 'SELECT id FROM runs')
    assert_eq "$prog: runs row (fault_spec IS NOT NULL|injected|exit_code|signal IS NULL|timed_out)" \
        "1|1|1|1|0" "$(q 'SELECT fault_spec IS NOT NULL, injected, exit_code, signal IS NULL, timed_out FROM runs')"
}

# fs_expect_injected SRC FUNC ORDINAL: the run has exactly one injected fault
# point, a call to FUNC on the FS-FAULT line of SRC, ORDINAL-th after the filters.
fs_expect_injected() {
    local src=$1 func=$2 ordinal=$3 fline
    fline=$(marker_line "$src" '/* FS-FAULT */')
    assert_eq "fault_points: injected rows of run $RUN_ID" 1 \
        "$(q "SELECT count(*) FROM fault_points WHERE run_id = $RUN_ID AND injected = 1")"
    assert_eq "fault_points: injected point (func|line|ordinal)" "$func|$fline|$ordinal" \
        "$(q "SELECT func, line, ordinal FROM fault_points WHERE run_id = $RUN_ID AND injected = 1")"
    assert_ends_with "fault_points: file of the injected point" "/$src" \
        "$(q "SELECT file FROM fault_points WHERE run_id = $RUN_ID AND injected = 1")"
}

# fs_expect_leak SRC KIND FUNC FAULT_FUNC: a leak finding and a leaks row for
# the acquire on the 'FS-EXPECT: leak KIND' line, caused by the FS-FAULT call.
fs_expect_leak() {
    local src=$1 kind=$2 func=$3 ffunc=$4 line fline cols
    line=$(marker_line "$src" "/* FS-EXPECT: leak $kind */")
    fline=$(marker_line "$src" '/* FS-FAULT */')
    cols="category|kind|func|line|fault_func|fault_line|runs|first_run|repro non-empty"
    assert_eq "findings: the leak finding ($cols)" \
        "leak|$kind|$func|$line|$ffunc|$fline|1|$RUN_ID|1" \
        "$(q "SELECT category, kind, func, line, ifnull(fault_func,'<NULL>'), ifnull(fault_line,'<NULL>'),
                     runs, first_run, length(ifnull(repro,'')) > 0
              FROM findings WHERE category = 'leak'")"
    assert_ends_with "findings: file of the leak finding" "/$src" \
        "$(q "SELECT file FROM findings WHERE category = 'leak'")"
    assert_eq "leaks: rows of run $RUN_ID for $kind/$func at $src:$line caused by $ffunc at line $fline" 1 \
        "$(q "SELECT count(*) FROM leaks WHERE run_id = $RUN_ID AND kind = '$kind' AND func = '$func'
              AND line = $line AND file LIKE '%/$src' AND fault_func = '$ffunc' AND fault_line = $fline")"
    # the confirmation run stores the acquire stack: its first frame is the acquire line
    assert_eq "leaks.stack of the $kind leak starts at $src:$line" 1 \
        "$(q "SELECT count(*) FROM leaks WHERE run_id = $RUN_ID AND kind = '$kind' AND line = $line
              AND stack LIKE '% %/$src:$line' || char(10) || '%'")"
}

# fs_expect_anomaly SRC ANOMALY KIND FUNC FAULT_FUNC: an anomaly finding and an
# anomalies row for the release on the 'FS-EXPECT: anomaly ANOMALY KIND' line.
fs_expect_anomaly() {
    local src=$1 anomaly=$2 kind=$3 func=$4 ffunc=$5 line fline cols
    line=$(marker_line "$src" "/* FS-EXPECT: anomaly $anomaly $kind */")
    fline=$(marker_line "$src" '/* FS-FAULT */')
    cols="category|anomaly|kind|func|line|fault_func|fault_line|runs|first_run|repro non-empty"
    assert_eq "findings: the anomaly finding ($cols)" \
        "anomaly|$anomaly|$kind|$func|$line|$ffunc|$fline|1|$RUN_ID|1" \
        "$(q "SELECT category, ifnull(anomaly,'<NULL>'), kind, func, line, ifnull(fault_func,'<NULL>'),
                     ifnull(fault_line,'<NULL>'), runs, first_run, length(ifnull(repro,'')) > 0
              FROM findings WHERE category = 'anomaly'")"
    assert_ends_with "findings: file of the anomaly finding" "/$src" \
        "$(q "SELECT file FROM findings WHERE category = 'anomaly'")"
    assert_eq "anomalies: rows of run $RUN_ID for $anomaly $kind/$func at $src:$line caused by $ffunc at line $fline" 1 \
        "$(q "SELECT count(*) FROM anomalies WHERE run_id = $RUN_ID AND anomaly = '$anomaly' AND kind = '$kind'
              AND func = '$func' AND line = $line AND file LIKE '%/$src' AND fault_func = '$ffunc'
              AND fault_line = $fline")"
}

# fs_expect_findings N: the database holds exactly N findings.
fs_expect_findings() {
    assert_eq "number of rows in findings" "$1" "$(q 'SELECT count(*) FROM findings')"
}
