#!/usr/bin/env bash
# test_exit_error.sh — design.md verdicts: "Only a return from main ends every
# frame." error(), error_at_line(), errx() and verr() reach libc's exit without
# the PLT (no exit() wrapper sees them), quick_exit() skips the exit handlers,
# exit() may be called again from an atexit handler, and another thread may
# end the process while main waits for it: every one of them is an exit from
# where it happened, so the resources live frames hold are held.
#
# targets/demo/exit_deep.c HOW FILE: load() holds an fd, a FILE and a buffer when
# parse()'s malloc (FS-FAULT) fails and die() ends the program the HOW way.
# Expected for every HOW: no finding, the process ended 'exit' with status 1,
# the fd and the FILE 'held' (reason 'frame') at their FS-EXPECT lines, the
# buffer counted as reachable memory. A sweep (fork and exec mode) of the
# error() variant finds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init exit_error

INPUT=$DEMO_SRC/fd_leak.c
fd_line=$(marker_line exit_deep.c '/* FS-EXPECT: held fd */')
file_line=$(marker_line exit_deep.c '/* FS-EXPECT: held file */')

for how in error error_at_line errx verr quick_exit atexit thread; do
    fs_new_db "$how"
    fs_run --fail 'only=malloc,nth=2' -- "$DEMO_BIN/demo_exit_deep" "$how" "$INPUT"
    RUN_ID=$(q 'SELECT id FROM runs')
    assert_eq "$how: runs row (injected|exit_code|signal IS NULL)" "1|1|1" \
        "$(q 'SELECT injected, exit_code, signal IS NULL FROM runs')"
    fs_expect_injected exit_deep.c malloc 2
    assert_eq "$how: how the process ended (process.end_how|exit_code)" "exit|1" \
        "$(q "SELECT end_how, exit_code FROM process WHERE run_id = $RUN_ID")"
    why=frame
    [[ $how == thread ]] && why=thread       # held by the main thread, still running
    assert_eq "$how: held rows (verdict|kind|func|line|reason), by line" \
        "held|fd|open|$fd_line|$why
held|file|fopen|$file_line|$why" \
        "$(q "SELECT verdict, kind, func, line, reason FROM resource WHERE run_id = $RUN_ID ORDER BY line")"
    assert_eq "$how: the held view shows both" 2 "$(q "SELECT count(*) FROM held WHERE run_id = $RUN_ID")"
    assert_eq "$how: the buffer is reachable memory (reachable_blocks >= 1, bytes >= 512)" "1|1" \
        "$(q "SELECT reachable_blocks >= 1, reachable_bytes >= 512 FROM process WHERE run_id = $RUN_ID")"
    assert_status 0
    fs_expect_findings 0
done

for mode in fork exec; do
    fs_sweep_check exit_error "$mode" "" demo_exit_deep error "$INPUT"
    fs_expect_swept exit_deep.c '/* FS-FAULT */' malloc
done
