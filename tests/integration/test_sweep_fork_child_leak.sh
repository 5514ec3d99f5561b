#!/usr/bin/env bash
# test_sweep_fork_child_leak.sh — precision and recall of `faultstack sweep`:
# leaks in a forked child, and on the parent's error paths.
#
# targets/demo/fork_child_leak.c (run as `FILE exit` and as `FILE _exit`):
#  - planted, baseline: the child's read_first_line() opens FILE ('FS-EXPECT:
#    leak fd' line) and returns without closing it: a leak with no fault. The
#    parent's fd and block that the child inherits are the parent's, not
#    child leaks.
#  - the sweep's faults reach main()'s own error paths, and they are real
#    leaks too (design.md: main() has returned, so every handle it acquired was
#    acquired in frames that have all returned, and a block it still points
#    to from its dead frame is unreachable — memcheck says "definitely lost"):
#      * the parent's malloc ('parent memory' line) fails: `return 1` with
#        pfd ('parent fd' line) open               -> leak fd, fault malloc
#      * the parent's open ('parent fd' line) fails: `return 1` after the
#        malloc succeeded                          -> leak memory, fault open
#      * the child's open, read or write fails: the child exits 1 and the
#        parent returns 1 without free(pbuf) or close(pfd)
#                                                  -> leak fd + leak memory, one
#                                                     pair per child fault
#    Failing fflush (ignored) or the parent's final close leaks nothing; the
#    child's own leak on its read-failure path is the baseline finding again.
# The read and write calls carry no marker, so their lines are found by their
# code. Expected: exactly these findings in fork mode (the sweep falls back to
# exec once the program forks) and in exec mode, for both child endings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fork_child_leak

SRC=fork_child_leak.c
CHILD_OPEN='/* FS-EXPECT: leak fd */'
PARENT_OPEN='/* FS-EXPECT: parent fd */'
PARENT_MALLOC='/* FS-EXPECT: parent memory */'
CHILD_READ='ssize_t n = read(fd, buf, sizeof buf - 1);'
CHILD_WRITE='if (write(1, buf, strlen(buf)) < 0)'

EXPECTED=$(
    fs_row leak fd - open "$SRC" "$CHILD_OPEN" - -
    fs_row leak fd - open "$SRC" "$PARENT_OPEN" malloc "$PARENT_MALLOC"
    fs_row leak memory - malloc "$SRC" "$PARENT_MALLOC" open "$PARENT_OPEN"
    for fault in "open|$CHILD_OPEN" "read|$CHILD_READ" "write|$CHILD_WRITE"; do
        fs_row leak fd - open "$SRC" "$PARENT_OPEN" "${fault%%|*}" "${fault#*|}"
        fs_row leak memory - malloc "$SRC" "$PARENT_MALLOC" "${fault%%|*}" "${fault#*|}"
    done
)

for ending in exit _exit; do
    for mode in fork exec; do
        fs_sweep_check "fork_child_leak-$ending" "$mode" "$EXPECTED" demo_fork_child_leak \
            "$DEMO_SRC/fd_leak.c" "$ending"
        if [[ $mode == fork ]]; then fs_expect_fork_runs "fork_child_leak-$ending"; fi
    done
done
