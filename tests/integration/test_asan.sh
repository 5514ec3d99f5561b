#!/usr/bin/env bash
# test_asan.sh — AddressSanitizer builds under faultstack (issue 9).
#
# targets/demo/asan_error_path.c, built with gcc -fsanitize=address (libasan.so
# linked dynamically: ASan refused to start after the preload, 'ASan runtime
# does not come first in initial library list', and run said exit 0). Expected:
# - the baseline run starts and is interposed: 4 fault points, one process
#   ending 'main', exit 0, nothing found, no sanitizer report;
# - --fail nth=2 (strdup): the planted leak (the node malloc'ed on the
#   FS-EXPECT: leak line), attributed to strdup at FS-FAULT: leak;
# - --fail nth=4 (the label's malloc): ASan reports the planted
#   heap-use-after-free on the error path: a crash finding of kind
#   asan:heap-use-after-free at the FS-EXPECT: uaf line (print_all), fault
#   malloc at FS-FAULT: uaf; its sanitizer_reports row holds the whole report,
#   symbolized (print_all ... asan_error_path.c:LINE); the process ended
#   'sanitizer' with ASan's exit status 1. ASan detects it only if its own
#   allocator served the block: the preload forwards malloc to libasan;
# - a sweep (fork mode, and exec mode) finds exactly these two findings;
# - the user's ASAN_OPTIONS are kept (exitcode=7 is the process's exit status;
#   detect_leaks=1: LeakSanitizer's report is stored, kind lsan:..., and is not
#   a finding: faultstack's leak finding is the one);
# - --valgrind with an ASan build is refused (exit 2) with the reason;
# - started by execve() with an environment of its own, the ASan build
#   still starts (the preload puts faultstack's ASAN_OPTIONS back) and reports;
# - clang -shared-libasan: the same sweep, the same two findings; clang's
#   default (runtime linked into the program, which calls its own malloc &
#   co. directly): the preload redirects them at start-up, so the fault points
#   are the program's four calls at their lines and the sweeps find the same
#   two findings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init asan

PROG=$DEMO_BIN/demo_asan_error_path
if [[ ! -x $PROG ]]; then
    echo "SKIP: $PROG was not built (the C compiler is not gcc, or -fsanitize=address does not link)"
    exit 0
fi
SRC=asan_error_path.c
LEAK=$(marker_line $SRC '/* FS-EXPECT: leak */')
LEAK_F=$(marker_line $SRC '/* FS-FAULT: leak */')
UAF=$(marker_line $SRC '/* FS-EXPECT: uaf */')
UAF_F=$(marker_line $SRC '/* FS-FAULT: uaf */')

# --- baseline: it starts, it is interposed
fs_new_db baseline
fs_run -- "$PROG" a
assert_status 0
assert_eq "baseline: runs row (exit_code|points_total|injected)" "0|4|0" \
    "$(q 'SELECT exit_code, points_total, injected FROM runs')"
assert_eq "baseline: processes (end_how)" "main" "$(q 'SELECT end_how FROM process')"
assert_eq "baseline: fault points (func list)" "malloc,strdup,malloc,malloc" \
    "$(q 'SELECT group_concat(func) FROM (SELECT func FROM fault_points ORDER BY ordinal)')"
assert_eq "baseline: findings" 0 "$(q 'SELECT count(*) FROM findings')"
assert_eq "baseline: sanitizer reports" 0 "$(q 'SELECT count(*) FROM sanitizer_reports')"
if grep -q "does not come first" "$SCRATCH/last.err"; then
    fs_fail "ASan started" "no link-order error" "$(cat "$SCRATCH/last.err")"
fi

# --- the planted leak
fs_new_db leak
fs_run --fail nth=2 -- "$PROG" a
assert_status 1
assert_eq "leak run: findings (category|kind|func|line|fault_func|fault_line)" \
    "leak|memory|malloc|$LEAK|strdup|$LEAK_F" \
    "$(q 'SELECT category, kind, func, line, fault_func, fault_line FROM findings')"

# --- the planted use after free, on the error path of a failed malloc
fs_new_db uaf
fs_run --fail nth=4 -- "$PROG" a
assert_status 1
assert_eq "uaf run: findings (category|kind|symbol|line|fault_func|fault_line)" \
    "crash|asan:heap-use-after-free|print_all|$UAF|malloc|$UAF_F" \
    "$(q 'SELECT category, kind, symbol, line, fault_func, fault_line FROM findings')"
assert_ends_with "uaf run: file of the finding" "/$SRC" "$(q 'SELECT file FROM findings')"
assert_eq "uaf run: sanitizer_reports (tool|kind|symbol|line|headline)" \
    "asan|asan:heap-use-after-free|print_all|$UAF|ERROR: AddressSanitizer: heap-use-after-free" \
    "$(q "SELECT tool, kind, symbol, line, substr(headline, 1, 44) FROM sanitizer_reports")"
report=$(q 'SELECT report FROM sanitizer_reports')
[[ $report == *"in print_all "*"/$SRC:$UAF ("* && $report == *"freed by thread T0 here"* &&
   $report == *"SUMMARY: AddressSanitizer: heap-use-after-free"* ]] ||
    fs_fail "uaf run: the stored report is whole and symbolized" "frames 'in print_all .../$SRC:$UAF', 'freed by', SUMMARY" "$report"
assert_eq "uaf run: process (end_how|exit_code)" "sanitizer|1" "$(q 'SELECT end_how, exit_code FROM process')"
assert_stderr_contains "uaf run: the summary names the report" "faultstack: asan:heap-use-after-free (pid"
assert_stderr_contains "uaf run: the summary says how to print it" "SELECT report FROM sanitizer_reports WHERE run_id = 1"
assert_eq "uaf run: runs (exit_code|signal IS NULL)" "1|1" "$(q 'SELECT exit_code, signal IS NULL FROM runs')"

# --- schema 3 -> 4 in place (step 'sanitizer'): a version-3 database (without
#     the sanitizer_report table and view) gets them, and keeps its runs
sqlite3 -batch "$DB" "DROP VIEW sanitizer_reports; DROP TABLE sanitizer_report;
                      UPDATE meta SET value = '3' WHERE key = 'schema_version'; PRAGMA user_version = 3;"
fs_run --fail nth=4 -- "$PROG" a
assert_status 1
CUR=$(sed -n 's/^PRAGMA user_version = \([0-9]*\);$/\1/p' "$DEMO_SRC/../../reports/schema.sql")
assert_eq "upgrade 3 -> current (steps sanitizer, roles, triage; reports/schema.sql's): user_version|schema_version|runs|sanitizer reports" "$CUR|$CUR|2|1" \
    "$(q "SELECT (SELECT user_version FROM pragma_user_version), (SELECT value FROM meta WHERE key = 'schema_version'),
                 (SELECT count(*) FROM runs), (SELECT count(*) FROM sanitizer_reports)")"

# --- the user's ASAN_OPTIONS are kept (theirs win over faultstack's defaults)
fs_new_db useropts
ASAN_OPTIONS=exitcode=7 fs_run --fail nth=4 -- "$PROG" a
assert_status 1
assert_eq "ASAN_OPTIONS=exitcode=7: runs.exit_code, process (end_how|exit_code)" "7 sanitizer|7" \
    "$(q 'SELECT exit_code FROM runs') $(q 'SELECT end_how, exit_code FROM process')"

# --- exec'd by execve() with an environment of its own (no ASAN_OPTIONS): it
#     still starts and reports (python3's os.execve calls libc's execve)
if command -v python3 >/dev/null; then
    fs_new_db cleanenv
    fs_run --fail module=demo_asan_error_path,nth=4 -- python3 -c \
        'import os, sys; os.execve(sys.argv[1], sys.argv[1:], {"PATH": "/usr/bin:/bin"})' "$PROG" a
    assert_status 1
    assert_eq "execve with its own environment: the ASan program's process (end_how)" "sanitizer" \
        "$(q "SELECT end_how FROM process WHERE exe LIKE '%/demo_asan_error_path'")"
    assert_eq "execve with its own environment: crash findings (kind|line)" \
        "asan:heap-use-after-free|$UAF" "$(q "SELECT kind, line FROM findings WHERE category = 'crash'")"
else
    echo "note: python3 not installed: the execve-with-its-own-environment case was not tested"
fi

# --- LeakSanitizer turned on by the user: its report is a second opinion, not a finding
fs_new_db lsan
ASAN_OPTIONS=detect_leaks=1 fs_run --fail nth=2 -- "$PROG" a
assert_status 1
assert_eq "detect_leaks=1: findings (category|kind|line)" "leak|memory|$LEAK" \
    "$(q 'SELECT category, kind, line FROM findings')"
assert_eq "detect_leaks=1: sanitizer_reports (tool|kind)" "lsan|lsan:detected-memory-leaks" \
    "$(q 'SELECT tool, kind FROM sanitizer_reports')"

# --- --valgrind cannot run an ASan build: refused before anything runs, saying why
fs_new_db valgrind
fs_run --valgrind -- "$PROG" a
assert_status 2
assert_stderr_contains "run --valgrind of an ASan build: why" "memcheck cannot run such a program"
[[ ! -e $DB ]] || fs_fail "run --valgrind of an ASan build: refused before the database is opened" "no $DB" "it exists"
fs_exec sweep --db "$DB" --valgrind -- "$PROG" a
assert_status 2
assert_stderr_contains "sweep --valgrind of an ASan build: why" "Drop --valgrind"

# --- sweeps: exactly the two planted bugs
EXPECTED="$(fs_row leak memory - malloc $SRC '/* FS-EXPECT: leak */' strdup '/* FS-FAULT: leak */')
$(fs_row crash asan:heap-use-after-free - print_all $SRC '/* FS-EXPECT: uaf */' malloc '/* FS-FAULT: uaf */')"
fs_sweep_check asan fork "$EXPECTED" demo_asan_error_path a
fs_sweep_check asan exec "$EXPECTED" demo_asan_error_path a

# --- clang
if [[ -x $DEMO_BIN/demo_asan_error_path_clang_shared ]]; then
    fs_sweep_check asan-clang-shared exec "$EXPECTED" demo_asan_error_path_clang_shared a
    # the runtime linked into the program: the preload redirects its malloc
    # family and interceptors (sanpatch.c), so the calls are seen at the
    # program's own call sites
    fs_new_db clang-static
    fs_run -- "$DEMO_BIN/demo_asan_error_path_clang" a
    assert_status 0
    assert_eq "clang's default build: fault points (func@line)" \
        "malloc@$LEAK,strdup@$LEAK_F,malloc@$(marker_line $SRC 'char *msg = malloc(64);'),malloc@$UAF_F" \
        "$(q "SELECT group_concat(func || '@' || line) FROM (SELECT func, line FROM fault_points ORDER BY ordinal)")"
    fs_sweep_check asan-clang fork "$EXPECTED" demo_asan_error_path_clang a
    fs_sweep_check asan-clang exec "$EXPECTED" demo_asan_error_path_clang a
else
    echo "note: clang builds not present (clang not installed); only the gcc build was tested"
fi
