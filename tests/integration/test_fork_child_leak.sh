#!/usr/bin/env bash
# test_fork_child_leak.sh — correct across fork (design.md): a leak in a forked
# child is the child's, and what the parent acquired before fork() is not.
#
# targets/demo/fork_child_leak.c opens FILE and mallocs before fork(); the
# child's read_first_line() leaks an fd, then the child ends with exit(0) or
# _exit(0); the parent waits and releases everything. No --fail: a baseline bug.
# Expected, for each way the child ends: faultstack exits 1; exactly one
# finding (leak fd open at the FS-EXPECT: leak fd line, no fault); the leaks row
# has the child's pid, which differs from the parent's in `process` (ppid =
# parent); in the child the parent's fd has verdict 'inherited' (or no row) and
# the parent's block no leak row; the parent reports nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init fork_child_leak

INPUT=$DEMO_SRC/fd_leak.c
leak_line=$(marker_line fork_child_leak.c '/* FS-EXPECT: leak fd */')
pfd_line=$(marker_line fork_child_leak.c '/* FS-EXPECT: parent fd */')
pmem_line=$(marker_line fork_child_leak.c '/* FS-EXPECT: parent memory */')

for how in exit _exit; do
    fs_new_db "child_$how"
    fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$INPUT" "$how"
    assert_status 1
    assert_eq "$how: runs row (exit_code|injected|signal IS NULL)" "0|0|1" \
        "$(q 'SELECT exit_code, injected, signal IS NULL FROM runs')"
    RUN_ID=$(q 'SELECT id FROM runs')
    assert_eq "$how: number of processes" 2 "$(q "SELECT count(*) FROM process WHERE run_id = $RUN_ID")"
    parent=$(q "SELECT pid FROM process WHERE run_id = $RUN_ID AND ppid NOT IN (SELECT pid FROM process WHERE run_id = $RUN_ID)")
    child=$(q "SELECT pid FROM process WHERE run_id = $RUN_ID AND ppid = '$parent'")
    [[ -n $parent && -n $child && $parent != "$child" ]] ||
        fs_fail "$how: a parent and a child process" "two pids, the child's ppid = the parent's pid" "parent=$parent child=$child"
    assert_eq "$how: the child's end (end_how|exit_code)" "$how|0" \
        "$(q "SELECT end_how, exit_code FROM process WHERE run_id = $RUN_ID AND pid = $child")"
    fs_expect_findings 1
    assert_eq "$how: the finding (category|kind|func|line|fault_func)" "leak|fd|open|$leak_line|<NULL>" \
        "$(q "SELECT category, kind, func, line, ifnull(fault_func,'<NULL>') FROM findings")"
    assert_ends_with "$how: file of the finding" "/fork_child_leak.c" "$(q 'SELECT file FROM findings')"
    assert_eq "$how: leaks rows (pid|kind|func|line)" "$child|fd|open|$leak_line" \
        "$(q "SELECT pid, kind, func, line FROM leaks WHERE run_id = $RUN_ID")"
    assert_eq "$how: rows for the parent's pre-fork fd that are not 'inherited'" 0 \
        "$(q "SELECT count(*) FROM resource WHERE run_id = $RUN_ID AND line = $pfd_line AND verdict <> 'inherited'")"
    assert_eq "$how: rows for the parent's pre-fork block" 0 \
        "$(q "SELECT count(*) FROM resource WHERE run_id = $RUN_ID AND line = $pmem_line")"
    assert_eq "$how: rows of the parent process" 0 \
        "$(q "SELECT count(*) FROM resource WHERE run_id = $RUN_ID AND pid = $parent")"
done
