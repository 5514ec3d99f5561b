#!/usr/bin/env bash
# test_valgrind.sh — `faultstack run --valgrind`: memcheck as an oracle.
#
# The demos run under memcheck with the usual faults; checked with SQL on the
# public views memcheck and memcheck_vs_faultstack (reports/schema.sql):
#  1. demo_mem_leak (only=malloc,nth=2): memcheck's definitely lost block is
#     faultstack's leak: one memory row at the FS-EXPECT line, 'agree', same
#     size; the fault is still injected through the preload's malloc (memcheck
#     must not replace it); no other memory site is lost on either side.
#  2. demo_mem_leak_ok under the same fault: no finding, memcheck loses nothing.
#  3. demo_fd_leak (only=open,nth=2): memcheck's fd open at exit (3.19: text
#     log + stack in the XML) is faultstack's fd leak: 'agree' at the FS-EXPECT
#     line; demo_fd_leak_ok: no fd of the program open at exit, no finding.
#  3b. demo_file_leak / demo_dir_leak (only=malloc,nth=1): fopen and opendir
#     get their fd without the program calling open; memcheck's fd stack still
#     names the fopen/opendir line, and agrees with faultstack's file/dir leak.
#  4. demo_crash_null (only=malloc,nth=2): memcheck's invalid write on the error
#     path is a finding of category memcheck, kind InvalidWrite, at the crash
#     line, attributed to the malloc fault, with a --valgrind repro.
#  5. demo_fork_child_leak: parent and forked child each get their own complete
#     XML report (valgrind 3.19 puts a forked child's report into its parent's
#     XML file when the log's name changes with the pid too); the child's fd
#     leak agrees; memcheck's complaints about the preload's own exit scan
#     (uninitialised stack words) are suppressed, so no 'memcheck' finding.
#  6. sh -c 'prog; exec prog2': every image (dash, its exec'd child, the
#     exec'd replacement) its own report; the leak in the grandchild agrees.
#  7. sweep --valgrind of demo_crash_null: every run (baseline and fault runs,
#     exec mode) under memcheck; exactly the crash and the memcheck finding;
#     --valgrind with --mode fork is refused (exit 2).
#  9. no valgrind: exit 2, a message naming the Debian package; nothing recorded.
#  8. a schema-2 database is upgraded in place to 3 and gets the new views.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init valgrind

if [[ -z ${FAULTSTACK_VALGRIND:-} ]] && ! command -v valgrind >/dev/null; then
    echo "$FS_TEST: valgrind is not installed (apt-get install valgrind; .ci/deps does it)" >&2
    exit 2
fi

# 1. definitely lost: both agree
fs_new_db mem
fs_run --valgrind --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_mem_leak" color=blue
assert_status 1
line=$(marker_line mem_leak.c '/* FS-EXPECT: leak memory */')
assert_eq "mem_leak: runs under memcheck (memcheck_run rows|xml files)" "1|1" \
    "$(q 'SELECT count(*), sum(xml_files) FROM memcheck_run')"
assert_eq "mem_leak: the fault was injected through the preload (injected|exit_code)" "1|1" \
    "$(q 'SELECT injected, exit_code FROM runs')"
assert_eq "mem_leak: memcheck's definitely lost records (line|bytes|blocks|func)" "$line|6|1|parse_setting" \
    "$(q "SELECT line, bytes, blocks, func FROM memcheck WHERE leak_kind = 'definitely'")"
assert_eq "mem_leak: memcheck_vs_faultstack at the leak (faultstack|memcheck|agreement|same_size|blocks|bytes)" \
    "leak|definitely|agree|1|1|6" \
    "$(q "SELECT faultstack, memcheck, agreement, same_size, memcheck_blocks, memcheck_bytes
          FROM memcheck_vs_faultstack WHERE kind = 'memory' AND line = $line AND file LIKE '%/mem_leak.c'")"
assert_eq "mem_leak: memory sites where the two disagree" "" \
    "$(q "SELECT line || ' ' || agreement FROM memcheck_vs_faultstack WHERE kind = 'memory' AND agreement <> 'agree'")"
assert_eq "mem_leak: findings (category|kind|line)" "leak|memory|$line" \
    "$(q 'SELECT category, kind, line FROM findings')"

# 2. the fixed twin: nothing lost on either side
fs_new_db mem_ok
fs_run --valgrind --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_mem_leak_ok" color=blue
assert_status 0
assert_eq "mem_leak_ok: runs under memcheck" 1 "$(q 'SELECT count(*) FROM memcheck_run')"
assert_eq "mem_leak_ok: injected" 1 "$(q 'SELECT injected FROM runs')"
assert_eq "mem_leak_ok: findings" 0 "$(q 'SELECT count(*) FROM findings')"
assert_eq "mem_leak_ok: memcheck's lost records and memory errors" "" \
    "$(q "SELECT kind || ' ' || ifnull(line,'?') FROM memcheck
          WHERE leak_kind IN ('definitely', 'indirectly') OR leak_kind IS NULL")"
assert_eq "mem_leak_ok: lost on either side (memcheck_vs_faultstack)" "" \
    "$(q "SELECT kind || ' ' || ifnull(line,'?') || ' ' || agreement FROM memcheck_vs_faultstack
          WHERE faultstack = 'leak' OR memcheck IN ('definitely', 'indirectly', 'fd')")"

# 3. an fd open at exit
fs_new_db fd
fs_run --valgrind --fail 'only=open,nth=2' -- "$DEMO_BIN/demo_fd_leak" /etc/hostname "$SCRATCH/out.txt"
assert_status 1
line=$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')
assert_eq "fd_leak: memcheck's fds of the program open at exit (path|line|func)" "/etc/hostname|$line|copy_file" \
    "$(q "SELECT path, line, func FROM memcheck WHERE leak_kind = 'fd' AND inherited = 0")"
assert_eq "fd_leak: memcheck_vs_faultstack (kind|line|faultstack|memcheck|agreement)" "fd|$line|leak|fd|agree" \
    "$(q "SELECT kind, line, faultstack, memcheck, agreement FROM memcheck_vs_faultstack WHERE kind = 'fd'")"

fs_new_db fd_ok
fs_run --valgrind --fail 'only=open,nth=2' -- "$DEMO_BIN/demo_fd_leak_ok" /etc/hostname "$SCRATCH/out.txt"
assert_status 0
assert_eq "fd_leak_ok: findings" 0 "$(q 'SELECT count(*) FROM findings')"
assert_eq "fd_leak_ok: fds of the program open at exit (memcheck)" 0 \
    "$(q "SELECT count(*) FROM memcheck WHERE leak_kind = 'fd' AND inherited = 0")"
assert_eq "fd_leak_ok: rows of memcheck_vs_faultstack" 0 "$(q "SELECT count(*) FROM memcheck_vs_faultstack WHERE kind = 'fd'")"

# 3b. FILE* and DIR*: the fd beneath, at the fopen/opendir line
for demo in file dir; do
    fs_new_db "${demo}_leak"
    case $demo in file) arg=/etc/hostname ;; dir) arg=/etc ;; esac
    fs_run --valgrind --fail 'only=malloc,nth=1' -- "$DEMO_BIN/demo_${demo}_leak" "$arg"
    assert_status 1
    line=$(marker_line "${demo}_leak.c" "/* FS-EXPECT: leak $demo */")
    assert_eq "${demo}_leak: memcheck_vs_faultstack fd rows (line|faultstack|faultstack_kind|memcheck|agreement)" \
        "$line|leak|$demo|fd|agree" \
        "$(q "SELECT line, faultstack, faultstack_kind, memcheck, agreement FROM memcheck_vs_faultstack WHERE kind = 'fd'")"
done

# 4. a memory error on the error path is a finding
fs_new_db crash
fs_run --valgrind --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
line=$(marker_line crash_null.c '/* FS-EXPECT: crash */')
fline=$(marker_line crash_null.c '/* FS-FAULT */')
assert_eq "crash_null: memcheck finding (kind|func|line|fault_func|fault_line|runs)" \
    "InvalidWrite|new_item|$line|malloc|$fline|1" \
    "$(q "SELECT kind, func, line, fault_func, fault_line, runs FROM findings WHERE category = 'memcheck'")"
assert_eq "crash_null: its repro runs under valgrind" 1 \
    "$(q "SELECT repro LIKE 'faultstack run --valgrind %' FROM findings WHERE category = 'memcheck'")"
assert_eq "crash_null: the crash finding too" "crash|SIGSEGV|$line" \
    "$(q "SELECT category, kind, line FROM findings WHERE category = 'crash'")"

# 5. fork: one complete report per process, no complaint about the preload
fs_new_db fork
fs_run --valgrind -- "$DEMO_BIN/demo_fork_child_leak" /etc/hostname exit
assert_status 1
line=$(marker_line fork_child_leak.c '/* FS-EXPECT: leak fd */')
assert_eq "fork: processes|memcheck reports|unfinished reports" "2|2|0" \
    "$(q "SELECT (SELECT count(*) FROM process), xml_files, incomplete FROM memcheck_run")"
assert_eq "fork: the child's fd leak (line|faultstack|memcheck|agreement)" "$line|leak|fd|agree" \
    "$(q "SELECT line, faultstack, memcheck, agreement FROM memcheck_vs_faultstack WHERE faultstack = 'leak'")"
assert_eq "fork: memcheck findings (the preload's own scan must not be one)" "" \
    "$(q "SELECT kind || ' ' || ifnull(func,'?') || ':' || ifnull(line,'?') FROM findings WHERE category = 'memcheck'")"
assert_eq "fork: memcheck errors whose stack is in the preload" 0 \
    "$(q "SELECT count(*) FROM memcheck WHERE leak_kind IS NULL AND stack LIKE '%harness/preload/%'")"

# 6. exec: every image its own report (same pid before and after an exec)
fs_new_db exec
fs_run --valgrind --fail only=malloc,module=demo_mem_leak,nth=2 -- /bin/sh -c \
    "$DEMO_BIN/demo_mem_leak color=blue; exec $DEMO_BIN/demo_fd_leak_ok /etc/hostname $SCRATCH/out2.txt"
assert_status 1
line=$(marker_line mem_leak.c '/* FS-EXPECT: leak memory */')
assert_eq "exec: memcheck reports (2 shells that exec'd, 2 demos)" 4 "$(q 'SELECT xml_files FROM memcheck_run')"
assert_eq "exec: the leak (line|faultstack|memcheck|agreement|same_size)" "$line|leak|definitely|agree|1" \
    "$(q "SELECT line, faultstack, memcheck, agreement, same_size FROM memcheck_vs_faultstack WHERE faultstack = 'leak'")"
assert_eq "exec: the second demo's report was not overwritten (its process is in memcheck_error)" 1 \
    "$(q "SELECT count(DISTINCT m.pid) FROM memcheck m JOIN process p ON p.pid = m.pid AND p.exe LIKE '%demo_fd_leak_ok'")"

# 7. sweep --valgrind
fs_new_db sweep
fs_exec sweep --db "$DB" --valgrind -j 2 --timeout 60 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
assert_eq "sweep: runs|runs under memcheck|runs not in exec mode" "3|3|0" \
    "$(q "SELECT count(*), (SELECT count(*) FROM memcheck_run), sum(mode <> 'exec') FROM runs")"
fs_expect_exact_findings "sweep --valgrind" "$(fs_row crash SIGSEGV - new_item crash_null.c '/* FS-EXPECT: crash */' malloc '/* FS-FAULT */')
$(fs_row memcheck InvalidWrite - new_item crash_null.c '/* FS-EXPECT: crash */' malloc '/* FS-FAULT */')"
fs_new_db sweep_fork
fs_exec sweep --db "$DB" --valgrind --mode fork -- "$DEMO_BIN/demo_crash_null" 3
assert_status 2
assert_stderr_contains "sweep --valgrind --mode fork: says why" "exec mode"

# 9. no valgrind: a clear error, exit 2, nothing recorded
fs_new_db missing
FAULTSTACK_VALGRIND=$SCRATCH/no-such-valgrind fs_run --valgrind -- "$DEMO_BIN/demo_mem_leak" a=b
assert_status 2
assert_stderr_contains "missing valgrind: the package to install" "apt-get install valgrind"
[[ ! -s $DB ]] || assert_eq "missing valgrind: runs recorded" 0 "$(q 'SELECT count(*) FROM runs')"
fs_new_db nopath
mkdir -p "$SCRATCH/bin" && ln -sf "$(command -v timeout)" "$SCRATCH/bin/timeout"   # lib.sh's guard
PATH=$SCRATCH/bin fs_run --valgrind -- "$DEMO_BIN/demo_mem_leak" a=b
assert_status 2
assert_stderr_contains "valgrind not on PATH: the package to install" "apt-get install valgrind"

# 8. schema 2 -> 3 in place: a version-2 database (the v3 objects removed: the
#    memcheck tables and views, resource.reason, the held view; run.observed
#    and run.note stay: the upgrade adds only the columns that are missing) gets
#    them back
fs_new_db upgrade
fs_run -- "$DEMO_BIN/demo_mem_leak" a=b
assert_status 0
sqlite3 -batch "$DB" "DROP VIEW memcheck_vs_faultstack; DROP VIEW memcheck; DROP TABLE memcheck_error;
                      DROP TABLE memcheck_run; DROP VIEW held; ALTER TABLE resource DROP COLUMN reason;
                      DROP VIEW runs;
                      UPDATE meta SET value = '2' WHERE key = 'schema_version';
                      PRAGMA user_version = 2;"
fs_run --valgrind --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_mem_leak" color=blue
assert_status 1
assert_eq "upgrade (to the current version, 5 since step 'triage'): user_version|schema_version|runs|memcheck runs" "5|5|2|1" \
    "$(q "SELECT (SELECT user_version FROM pragma_user_version), (SELECT value FROM meta WHERE key = 'schema_version'),
                 (SELECT count(*) FROM runs), (SELECT count(*) FROM memcheck_run)")"
assert_eq "upgrade: the comparison view works" "agree" \
    "$(q "SELECT agreement FROM memcheck_vs_faultstack WHERE faultstack = 'leak'")"
