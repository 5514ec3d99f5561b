#!/usr/bin/env bash
# test_report_text.sh — `faultstack report` (text): findings grouped by site,
# the faults that expose each site under it (baseline first), run counts and
# repro commands; --session; exit status 0 / 1 / 2.
#
# Database: demo_fd_leak under only=open,nth=2 twice (one finding, 2 runs),
# demo_crash_null under only=malloc,nth=2 (a crash), demo_fork_child_leak
# without --fail (a baseline leak), demo_fd_leak_ok (clean). Two more findings
# are added by SQL at the fd_leak acquire site (a baseline one and one with
# another fault), so that one site is exposed by three faults.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_text

ARGS=("$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out")

# ---- an empty database: no findings, exit 0
fs_new_db empty
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "${ARGS[@]}"
assert_status 0
fs_exec report --db "$DB"
assert_status 0
assert_stdout_contains "report without findings" "no findings in 1 run"

# ---- usage and tool errors: exit 2 with a message
fs_exec report --db "$DB" --format yaml
assert_status 2
assert_stderr_contains "bad --format is named" "yaml"
fs_exec report --db "$DB" --session abc
assert_status 2
assert_stderr_contains "bad --session is named" "abc"
fs_exec report --db "$DB" --session 999
assert_status 2
assert_stderr_contains "unknown session is named" "session 999"
fs_exec report --db "$SCRATCH/no-such.db"
assert_status 2
assert_stderr_contains "missing database is named" "no-such.db"
[[ ! -e $SCRATCH/no-such.db ]] || fs_fail "report created the missing database" "no file" "$SCRATCH/no-such.db exists"
fs_exec report --db "$DB" --bogus
assert_status 2
assert_stderr_contains "unknown option is named" "--bogus"

# ---- the findings
fs_new_db findings
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "${ARGS[@]}"
assert_status 1
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
CRASH_SESSION=$(q "SELECT session_id FROM runs WHERE command LIKE '%demo_crash_null%'")
fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$DEMO_SRC/fd_leak.c" exit
assert_status 1
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "${ARGS[@]}"
assert_status 0
CLEAN_SESSION=$(q "SELECT session_id FROM runs WHERE command LIKE '%demo_fd_leak_ok%'")
fs_expect_findings 3

LEAK_ID=$(q "SELECT id FROM findings WHERE category = 'leak' AND file LIKE '%/fd_leak.c'")
FILE=$(q "SELECT file FROM findings WHERE id = $LEAK_ID")
LINE=$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')
FLINE=$(marker_line fd_leak.c '/* FS-FAULT */')
R1=$(q "SELECT first_run FROM findings WHERE id = $LEAK_ID")
assert_eq "the fd leak finding (runs|line|fault_line)" "2|$LINE|$FLINE" \
    "$(q "SELECT runs, line, fault_line FROM findings WHERE id = $LEAK_ID")"

# the same acquire site, exposed without a fault and by a (made-up) malloc at line 99
q "INSERT INTO finding(key, category, kind, anomaly, func, module, offset, file, line, symbol, fault_func,
       fault_module, fault_offset, fault_file, fault_line, first_run, repro)
   SELECT key || '|test-baseline', category, kind, anomaly, func, module, offset, file, line, symbol, NULL,
       NULL, NULL, NULL, NULL, first_run, 'faultstack run --db x.db -- true' FROM finding WHERE id = $LEAK_ID;
   INSERT INTO finding_run VALUES(last_insert_rowid(), $R1);
   INSERT INTO finding(key, category, kind, anomaly, func, module, offset, file, line, symbol, fault_func,
       fault_module, fault_offset, fault_file, fault_line, first_run, repro)
   SELECT key || '|test-malloc', category, kind, anomaly, func, module, offset, file, line, symbol, 'malloc',
       fault_module, 39321, fault_file, 99, first_run, 'faultstack run --db x.db -- false' FROM finding WHERE id = $LEAK_ID;
   INSERT INTO finding_run VALUES(last_insert_rowid(), $R1);" >/dev/null
BASE_ID=$(q "SELECT id FROM finding WHERE key LIKE '%|test-baseline'")
MALLOC_ID=$(q "SELECT id FROM finding WHERE key LIKE '%|test-malloc'")

fs_exec report --db "$DB"
assert_status 1

# the fd_leak site: header, total runs, then baseline, then the faults by line
block=$(awk -v h="leak fd: open at $FILE:$LINE (in copy_file)" '$0 == h {p = 1} p && $0 == "" {exit} p' \
        "$SCRATCH/last.out" | grep -v -e '^      repro: ' -e '^      fault called from: ')
expected="leak fd: open at $FILE:$LINE (in copy_file)
  seen in 4 runs, exposed by:
  #$BASE_ID baseline (no fault): 1 run, first run $R1
  #$LEAK_ID fault: open at $FILE:$FLINE: 2 runs, first run $R1
  #$MALLOC_ID fault: malloc at $FILE:99: 1 run, first run $R1"
assert_eq "text report: the block of the fd_leak site" "$expected" "$block"

# every finding's repro command is printed right under it
repro=$(q "SELECT repro FROM findings WHERE id = $LEAK_ID")
assert_eq "text report: the repro line under #$LEAK_ID" "      repro: $repro" \
    "$(grep -A1 -F "  #$LEAK_ID fault: open at" "$SCRATCH/last.out" | tail -n1)"
[[ $repro == *"--fail site=open@demo_fd_leak+0x"* ]] ||
    fs_fail "repro of the fd leak pins the fault site" "--fail site=open@demo_fd_leak+0x..." "$repro"

# the crash is grouped at its own site, with its fault
CLINE=$(marker_line crash_null.c '/* FS-EXPECT: crash */')
CFLINE=$(marker_line crash_null.c '/* FS-FAULT */')
CFILE=$(q "SELECT file FROM findings WHERE category = 'crash'")
CID=$(q "SELECT id FROM findings WHERE category = 'crash'")
assert_stdout_contains "text report: crash site header" "crash SIGSEGV: new_item at $CFILE:$CLINE"
assert_stdout_contains "text report: crash fault" "  #$CID fault: malloc at $CFILE:$CFLINE: 1 run"

# the baseline leak of the forked child
BID=$(q "SELECT id FROM findings WHERE file LIKE '%/fork_child_leak.c'")
assert_stdout_contains "text report: baseline finding" "  #$BID baseline (no fault): 1 run"

# one header per site (lines that start with a category), and the summary
assert_eq "text report: site headers" 3 "$(grep -cE '^(leak|anomaly|crash|timeout) ' "$SCRATCH/last.out")"
assert_stdout_contains "text report: summary" \
    "5 findings at 3 sites (4 leaks, 0 anomalies, 1 crash, 0 timeouts) in 5 runs"

# ---- --session: only that session's findings, its runs counted
fs_exec report --db "$DB" --session "$CRASH_SESSION"
assert_status 1
assert_stdout_contains "--session: the crash" "crash SIGSEGV: new_item at $CFILE:$CLINE"
assert_stdout_lacks "--session: not the fd leak" "fd_leak.c"
assert_stdout_contains "--session: summary" "session $CRASH_SESSION: 1 finding at 1 site"
SESSION1=$(q "SELECT session_id FROM runs WHERE id = $R1")
fs_exec report --db "$DB" --session "$SESSION1"
assert_status 1
assert_stdout_contains "--session: runs of that session only" \
    "  #$LEAK_ID fault: open at $FILE:$FLINE: 1 run of this session"
fs_exec report --db "$DB" --session "$CLEAN_SESSION"
assert_status 0
assert_stdout_contains "--session of a clean run" "session $CLEAN_SESSION: no findings in 1 run"
