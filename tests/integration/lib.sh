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
    FS_BG=
    FS_CLEANUP=()
    trap 'fs__on_exit $?' EXIT
}

fs__on_exit() {
    local rc=$1 c
    if [[ -n ${FS_BG:-} ]] && kill -0 "$FS_BG" 2>/dev/null; then
        kill -KILL "$FS_BG" 2>/dev/null || true       # a faultstack this test started
        wait "$FS_BG" 2>/dev/null || true
    fi
    for c in "${FS_CLEANUP[@]}"; do eval "$c" || true; done
    if [[ $rc -eq 0 || $rc -eq 77 ]]; then
        rm -rf -- "$SCRATCH"
        if [[ $rc -eq 0 ]]; then echo "PASS: $FS_TEST"; else echo "SKIP: $FS_TEST"; fi
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

# ---------------------------------------------------------------- report/merge helpers

# assert_stdout_contains WHAT NEEDLE: the last command's stdout holds NEEDLE (fixed string).
assert_stdout_contains() {
    grep -qF -- "$2" "$SCRATCH/last.out" ||
        fs_fail "$1" "stdout containing '$2'" "$(cat "$SCRATCH/last.out")"
}

# assert_stdout_lacks WHAT NEEDLE: the last command's stdout does not hold NEEDLE.
assert_stdout_lacks() {
    ! grep -qF -- "$2" "$SCRATCH/last.out" ||
        fs_fail "$1" "stdout without '$2'" "$(cat "$SCRATCH/last.out")"
}

# fs_need_python: python3 is needed to parse JSON and XML output.
fs_need_python() {
    command -v python3 >/dev/null ||
        { echo "$FS_TEST: python3 is needed to validate the output (apt-get install python3)" >&2; exit 2; }
}

# fs_pycheck WHAT SCRIPT [ARGS...]: run the python3 SCRIPT (from a string) with
# ARGS; it reads what it checks itself and exits non-zero with a message on a
# failed check, which fails the test with WHAT.
fs_pycheck() {
    local what=$1 script=$2 out; shift 2
    if ! out=$(python3 -c "$script" "$@" 2>&1); then
        fs_fail "$what" "the python check to pass" "$out"
    fi
    [[ -n $out ]] && printf '%s\n' "$out"
    return 0
}

# fs_sha FILE: sha256 of FILE's content (or 'missing').
fs_sha() {
    if [[ -e $1 ]]; then sha256sum <"$1" | cut -d' ' -f1; else echo missing; fi
}

# ---------------------------------------------------------------- sweep precision/recall helpers
# Used by test_sweep_<case>.sh: sweep a demo in fork and in exec mode and
# compare the WHOLE findings view with the rows the demo's markers predict.

# fs_sweep LABEL MODE PROG ARGS...: in a fresh database $SCRATCH/LABEL-MODE.db,
#   faultstack sweep --db DB --mode MODE -j 2 --timeout 30 -- $DEMO_BIN/PROG ARGS...
# (default strategy, site). Sets FS_STATUS like fs_exec; asserts nothing.
fs_sweep() {
    local label=$1 mode=$2 prog=$3; shift 3
    fs_new_db "$label-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 --timeout 30 -- "$DEMO_BIN/$prog" "$@"
}

# fs_row CATEGORY KIND ANOMALY FUNC SRC WHERE FAULT_FUNC FAULT_WHERE: print one
# expected findings row, in the form fs_finding_rows prints:
#   category|kind|anomaly|func|basename(file)|line|fault_func|fault_line
# WHERE and FAULT_WHERE are fixed strings found on exactly one line of
# $DEMO_SRC/SRC (a marker comment such as '/* FS-FAULT */', or a piece of code
# where the demo has no marker); marker_line turns them into line numbers, so
# no line number is written down in a test. ANOMALY is '-' for a leak;
# FAULT_FUNC and FAULT_WHERE are '-' for a baseline finding (no fault).
fs_row() {
    local category=$1 kind=$2 anomaly=$3 func=$4 src=$5 where=$6 ffunc=$7 fwhere=$8 line fline=-
    line=$(marker_line "$src" "$where") || exit 3
    if [[ $fwhere != - ]]; then
        fline=$(marker_line "$src" "$fwhere") || exit 3
    fi
    echo "$category|$kind|$anomaly|$func|$src|$line|$ffunc|$fline"
}

# fs_finding_rows: every row of the findings view as
# category|kind|anomaly|func|basename(file)|line|fault_func|fault_line ('-' for
# NULL), sorted; one line per finding (a duplicate finding shows twice).
fs_finding_rows() {
    q "SELECT category, ifnull(kind,'-'), ifnull(anomaly,'-'), ifnull(func,'-'), ifnull(file,'-'),
              ifnull(line,'-'), ifnull(fault_func,'-'), ifnull(fault_line,'-') FROM findings" |
        awk -F'|' -v OFS='|' 'NF { n = split($5, p, "/"); $5 = p[n]; print }' | LC_ALL=C sort
}

# fs_expect_exact_findings WHAT EXPECTED: the findings view holds exactly the
# rows of EXPECTED (fs_row lines separated by newlines, any order; empty: no
# finding at all) — nothing missing (recall), nothing more (precision).
fs_expect_exact_findings() {
    local what=$1 expected actual missing extra
    expected=$(printf '%s\n' "$2" | awk 'NF' | LC_ALL=C sort)
    actual=$(fs_finding_rows)
    [[ $expected == "$actual" ]] && return 0
    missing=$(LC_ALL=C comm -23 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | awk 'NF')
    extra=$(LC_ALL=C comm -13 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | awk 'NF')
    fs_fail "$what: the findings view, rows category|kind|anomaly|func|file|line|fault_func|fault_line" \
        "$(printf '\n'; printf '%s\n' "${expected:-(no finding)}" | sed 's/^/      /')" \
        "$(printf '\n'; printf '%s\n' "${actual:-(no finding)}" | sed 's/^/      /')" \
        "$(printf 'missing (recall):\n'; printf '%s\n' "${missing:-(none)}" | sed 's/^/      /'
           printf '  unexpected (precision):\n'; printf '%s\n' "${extra:-(none)}" | sed 's/^/      /')"
}

# fs_sweep_check LABEL MODE EXPECTED PROG ARGS...: fs_sweep, then check the
# sweep as a whole: one baseline run (no fault, in MODE: the fork-mode trunk
# or a plain exec run), at least one fault run and every fault run injected;
# no fork run in exec mode; exactly the EXPECTED findings
# (fs_expect_exact_findings); faultstack's exit status 1 when EXPECTED has
# rows, else 0.
fs_sweep_check() {
    local label=$1 mode=$2 expected=$3 prog=$4 want=0; shift 4
    fs_sweep "$label" "$mode" "$prog" "$@"
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] ||
        fs_fail "$label/$mode: faultstack sweep ran" "exit status 0 or 1" "$FS_STATUS"
    # the baseline is one exec-mode run in both modes (fork mode's trunk is not recorded)
    assert_eq "$label/$mode: baseline runs (fault_spec IS NULL, not a confirmation): count|mode|exit_code" \
        "1|exec|0" \
        "$(q "SELECT count(*), group_concat(mode), group_concat(ifnull(exit_code,'NULL')) FROM runs
              WHERE fault_spec IS NULL AND sweep_key IS NULL AND confirms IS NULL")"
    [[ $(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL") -ge 1 ]] ||
        fs_fail "$label/$mode: the sweep made fault runs" ">= 1 run with a sweep_key" "0"
    assert_eq "$label/$mode: fault runs that injected nothing" 0 \
        "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND ifnull(injected,0) = 0")"
    if [[ $mode == exec ]]; then
        assert_eq "$label/exec: runs of mode fork in an exec-mode sweep" 0 \
            "$(q "SELECT count(*) FROM runs WHERE mode = 'fork'")"
    fi
    fs_expect_exact_findings "$label/$mode" "$expected"
    [[ -n $(printf '%s' "$expected" | awk 'NF') ]] && want=1
    assert_status "$want"
}

# fs_sweep_keys DB: the fault-run keys a sweep in DB recorded (exec replays
# left out), sorted, one per line.
fs_sweep_keys() {
    sqlite3 -batch -noheader "$1" "SELECT sweep_key FROM runs WHERE sweep_key IS NOT NULL AND confirms IS NULL ORDER BY 1"
}

# fs_expect_swept SRC WHERE FUNC: some run of the sweep in $DB made the FUNC
# call on the WHERE line of $DEMO_SRC/SRC fail (so a clean result is not
# clean merely because the interesting fault was never injected).
fs_expect_swept() {
    local src=$1 func=$3 line
    line=$(marker_line "$src" "$2") || exit 3
    [[ $(q "SELECT count(*) FROM fault_points WHERE injected = 1 AND func = '$func' AND line = $line
            AND file LIKE '%/$src'") -ge 1 ]] ||
        fs_fail "the sweep failed $func at $src:$line ($2)" "an injected fault point there" "none"
}

# fs_expect_fork_runs LABEL: the fork-mode sweep in $DB really forked: at least
# one fault run of mode 'fork' (not only the trunk and exec fall-backs).
fs_expect_fork_runs() {
    [[ $(q "SELECT count(*) FROM runs WHERE mode = 'fork' AND sweep_key IS NOT NULL") -ge 1 ]] ||
        fs_fail "$1/fork: the sweep forked at fault points" ">= 1 fault run of mode 'fork'" "0"
}

# ---------------------------------------------------------------- interruption helpers
# Used by the tests that stop faultstack in the middle (signals, SIGKILL, full
# disks): faultstack runs in the background, the test signals faultstack
# itself (never a wrapper), and checks that nothing is left behind.

# fs_private_rundirs: run directories go to $SCRATCH/rundirs (FAULTSTACK_TMPDIR),
# so that what a test leaves there can be seen (other tests use /dev/shm).
fs_private_rundirs() {
    export FAULTSTACK_TMPDIR=$SCRATCH/rundirs
    mkdir -p "$FAULTSTACK_TMPDIR"
}

# fs_bg ARGS...: start "$FAULTSTACK" ARGS... in the background; FS_BG is
# faultstack's own pid (bash execs it in the forked child).
fs_bg() {
    FS_LAST_CMD="$FAULTSTACK $(printf '%q ' "$@") &"
    echo "+ $FS_LAST_CMD"
    "$FAULTSTACK" "$@" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err" &
    FS_BG=$!
}

# fs_bg_wait: wait for the background faultstack (at most FS_RUN_TIMEOUT s);
# sets FS_STATUS.
fs_bg_wait() {
    local i
    for ((i = 0; i < FS_RUN_TIMEOUT * 10; i++)); do
        kill -0 "$FS_BG" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$FS_BG" 2>/dev/null; then
        kill -KILL "$FS_BG"
        echo "faultstack did not finish within ${FS_RUN_TIMEOUT}s" >>"$SCRATCH/last.err"
    fi
    FS_STATUS=0
    wait "$FS_BG" || FS_STATUS=$?
    FS_BG=
}

# fs_wait_sql WHAT SQL MIN [SECONDS]: wait until SQL on $DB gives a number >= MIN
# (default at most 30 s); fails with WHAT otherwise.
fs_wait_sql() {
    local what=$1 sql=$2 min=$3 secs=${4:-30} n=0 i
    for ((i = 0; i < secs * 20; i++)); do
        n=$(sqlite3 -batch -noheader "$DB" "$sql" 2>/dev/null || echo 0)
        [[ ${n:-0} -ge $min ]] && return 0
        sleep 0.05
    done
    fs_fail "$what" "$sql >= $min within ${secs}s" "${n:-0}"
}

# fs_tree_pids: pids of the processes started under this test's run
# directories (FAULTSTACK_RUN_DIR below $SCRATCH in their environment).
fs_tree_pids() {
    grep -lzsF "FAULTSTACK_RUN_DIR=$SCRATCH/" /proc/[0-9]*/environ 2>/dev/null |
        sed 's|/proc/\([0-9]*\)/environ|\1|' | while read -r p; do
            # zombies have no environment; a process gone meanwhile is no leftover
            [[ -r /proc/$p/stat && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] && echo "$p"
        done || true
}

# fs_wait_tree WHAT SECONDS: wait until no target process of this test runs.
fs_wait_tree() {
    local what=$1 secs=$2 i left
    for ((i = 0; i < secs * 20; i++)); do
        left=$(fs_tree_pids)
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    fs_fail "$what" "no process left within ${secs}s" \
        "$(for p in $left; do ps -o pid=,ppid=,stat=,args= -p "$p" 2>/dev/null; done)"
}

# assert_no_leftovers WHAT: no target process runs (after 3 s at most) and the
# private run directories are gone (fs_private_rundirs).
assert_no_leftovers() {
    fs_wait_tree "$1: the target's processes ended" 3
    local left i
    for ((i = 0; i < 60; i++)); do
        left=$(ls -A "$FAULTSTACK_TMPDIR" 2>/dev/null || true)
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    fs_fail "$1: no run directory left in $FAULTSTACK_TMPDIR" "(none)" "$left"
}

# fs_watchdog_of PID: the pid of faultstack PID's watchdog (a process named
# fswatch-PID), or nothing.
fs_watchdog_of() {
    local f
    for f in /proc/[0-9]*/comm; do
        [[ $(cat "$f" 2>/dev/null) == "fswatch-$1" ]] && { f=${f#/proc/}; echo "${f%/comm}"; return 0; }
    done
    return 0
}

# fs_small_fs DIR SIZE: mount a tmpfs of SIZE (e.g. 1m) on DIR for this test
# (unmounted at exit), or exit 77 (skipped) when that is not permitted.
fs_small_fs() {
    mkdir -p "$1"
    if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2>"$SCRATCH/mount.err"; then
        echo "$FS_TEST: SKIP: cannot mount a ${2} tmpfs to fill up: $(cat "$SCRATCH/mount.err") (run as root)" >&2
        exit 77
    fi
    FS_CLEANUP+=("umount -l '$1'")
}

# fs_fill DIR: fill the filesystem of DIR up (file DIR/fill).
fs_fill() {
    dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
}

# FS_V4_VIEWS: the runs, leaks, held and anomalies views as schema version 4
# made them (before step 'roles'), for tests that fake an old database
# (test_report_views.sh, test_triage_minilib.sh): drop the current ones first.
FS_V4_VIEWS="
    CREATE VIEW runs AS SELECT id, session_id, command, fault_spec, mode, exit_code, signal, timed_out,
           duration_ms, points_total, injected, swallowed, started_at, sweep_key, confirms, observed, note FROM run;
    CREATE VIEW leaks AS SELECT run_id, pid, kind, func, module, file, line, symbol, handle, size,
           fault_func, fault_file, fault_line, offset, fault_module, fault_offset, stack
    FROM resource WHERE verdict = 'leak';
    CREATE VIEW held AS SELECT run_id, pid, kind, func, module, file, line, symbol, handle, size, reason, offset
    FROM resource WHERE verdict = 'held';
    CREATE VIEW anomalies AS SELECT run_id, pid, anomaly, kind, func, file, line, fault_func, fault_file, fault_line,
           module, offset, symbol, handle, detail FROM anomaly;"
