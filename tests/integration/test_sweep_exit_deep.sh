#!/usr/bin/env bash
# test_sweep_exit_deep.sh — precision of `faultstack sweep`: exit() called from
# deep inside with resources held by live frames is not a finding.
#
# targets/demo/exit_deep.c: load() holds an fd, a FILE and a buffer when
# parse()'s malloc (FS-FAULT line) fails and die() calls exit(1); load() and
# parse() are still live, so design.md calls these "held at exit" — recorded,
# not findings. Every other fault makes die() exit while the frames that hold
# the resources are live too (or is handled). Expected in fork and in exec
# mode: no finding and exit status 0, no leaks row, and the FS-FAULT malloc
# was failed by the sweep.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_exit_deep

INPUT=$DEMO_SRC/fd_leak.c

for mode in fork exec; do
    fs_sweep_check exit_deep "$mode" "" demo_exit_deep "$INPUT"
    if [[ $mode == fork ]]; then fs_expect_fork_runs exit_deep; fi
    assert_eq "exit_deep/$mode: leaks rows in any run" 0 "$(q 'SELECT count(*) FROM leaks')"
    fs_expect_swept exit_deep.c '/* FS-FAULT */' malloc
done
