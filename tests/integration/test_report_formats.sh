#!/usr/bin/env bash
# test_report_formats.sh — `faultstack report --format json|junit|sarif|text`:
# this script makes the database and the reports; the checks are the Python
# unittest file next to it, test_report_formats.py (which says what each test
# checks). JUnit reports are validated with xmllint against
# schemas/junit-jenkins.xsd (Jenkins xUnit's rules); SARIF against the parts of
# the OASIS 2.1.0 schema code scanning needs.
#
# Database: a fault-induced fd leak (demo_fd_leak, only=open,nth=2), a baseline
# leak (demo_fork_child_leak), a crash (demo_crash_null, only=malloc,nth=2),
# an anomaly and a leak in one run (demo_mismatched_release, only=fflush,nth=1)
# and a timeout (demo_hang sleep, --timeout 2). The crash's symbol is then
# changed to one with XML/JSON specials, a tab and a byte that is not UTF-8,
# and the fd leak gets a twin two lines below it (same function and fault).
# "moved": the same database with every line number moved (the code above the
# sites grew): JUnit test names and SARIF fingerprints must not change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_formats
fs_need_python
command -v xmllint >/dev/null ||
    { echo "$FS_TEST: xmllint is needed to validate JUnit (apt-get install libxml2-utils; .ci/deps)" >&2; exit 2; }

fs_new_db formats
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 1
fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$DEMO_SRC/fd_leak.c" exit
assert_status 1
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
fs_run --fail only=fflush,nth=1 -- "$DEMO_BIN/demo_mismatched_release" "$SCRATCH/report.txt" Title
assert_status 1
fs_run --timeout 2 --fail only=malloc,nth=1 -- "$DEMO_BIN/demo_hang" sleep
assert_status 1
assert_eq "findings by category" "anomaly:1 crash:1 leak:3 timeout:1" \
    "$(q "SELECT group_concat(category || ':' || n, ' ') FROM
          (SELECT category, count(*) AS n FROM findings GROUP BY category ORDER BY category)")"
q "UPDATE finding SET symbol = 'we<i>rd & \"q\" ''s' || char(9) || CAST(X'FF' AS TEXT) || '!'
   WHERE category = 'crash'" >/dev/null
# a second open in copy_file leaking on the same fault (two lines down): the
# same identity twice, told apart by " (2)" in its JUnit name
q "INSERT INTO finding(key, category, kind, anomaly, func, module, offset, file, line, symbol, fault_func,
          fault_module, fault_offset, fault_file, fault_line, first_run, repro)
   SELECT key || '|twin', category, kind, anomaly, func, module, offset + 8, file, line + 2, symbol, fault_func,
          fault_module, fault_offset, fault_file, fault_line, first_run, repro
   FROM finding WHERE category = 'leak' AND fault_func = 'open';
   INSERT INTO finding_run SELECT id, first_run FROM finding WHERE key LIKE '%|twin'" >/dev/null

OUT=$SCRATCH/out
mkdir -p "$OUT"
SRCROOT=$(cd "$DEMO_SRC/.." && pwd -P)
# report NAME ARGS...: faultstack report ARGS... into $OUT/NAME (exit 1: findings)
report() {
    local name=$1; shift
    fs_exec report "$@"
    [[ $FS_STATUS == 1 ]] || fs_fail "report $name exits 1 (findings)" 1 "$FS_STATUS" "$(cat "$SCRATCH/last.err")"
    cp "$SCRATCH/last.out" "$OUT/$name"
}
for fmt in json junit sarif; do
    report "cwd.$fmt" --db "$DB" --format "$fmt"
    report "root.$fmt" --db "$DB" --format "$fmt" --srcroot "$DEMO_SRC/.."
done
report root.txt --db "$DB" --srcroot "$DEMO_SRC/.."
# -o FILE: the same report, in the file
fs_exec report --db "$DB" --format junit --srcroot "$DEMO_SRC/.." -o "$OUT/root-o.junit"
assert_status 1
assert_eq "report -o FILE: nothing on stdout" "" "$(cat "$SCRATCH/last.out")"
cmp -s "$OUT/root.junit" "$OUT/root-o.junit" || fs_fail "report -o FILE writes the report to FILE" "the same as stdout" \
    "$(diff "$OUT/root.junit" "$OUT/root-o.junit" | head)"
fs_exec report --db "$DB" -o "$SCRATCH/no-such-dir/r.txt"
assert_status 2
assert_stderr_contains "report -o into a missing directory: named" "cannot write '$SCRATCH/no-such-dir/r.txt'"

# the code moved: every line number shifts; names and fingerprints must not
cp "$DB" "$SCRATCH/moved.db"
sqlite3 -bail "$SCRATCH/moved.db" "UPDATE finding SET line = line + 40, fault_line = fault_line + 17;
                                    UPDATE point SET line = line + 17"
for fmt in junit sarif; do
    report "moved.$fmt" --db "$SCRATCH/moved.db" --format "$fmt" --srcroot "$DEMO_SRC/.."
done

# no findings
fs_new_db clean
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak_ok.c" "$SCRATCH/copy.out"
assert_status 0
for fmt in json junit sarif; do
    fs_exec report --db "$DB" --format "$fmt"
    assert_status 0
    cp "$SCRATCH/last.out" "$OUT/clean.$fmt"
done

DB=$SCRATCH/formats.db
if ! FS_DB=$DB FS_OUT=$OUT FS_SRCROOT=$SRCROOT FS_CWD=$(pwd -P) \
     FS_XSD=$(dirname "${BASH_SOURCE[0]}")/schemas/junit-jenkins.xsd \
     python3 "$(dirname "${BASH_SOURCE[0]}")/test_report_formats.py" -v 2>&1; then
    fs_fail "the checks of test_report_formats.py" "every test to pass" "see above"
fi
