#!/usr/bin/env bash
# test_lost_handles.sh — design.md verdicts for handles that outlive the
# frames that acquired them, when the program then dies inside error():
#   a raw fd is held when a slot of the program's own data holds its number
#   (and did not when it was acquired); a FILE is held when it is reachable
#   from the roots (libc's own list of streams does not count); handles only
#   dead locals referred to are leaks.
#
# targets/demo/lost_handles.c (bug): open_log()'s fd, open_config()'s FILE and
# the config struct are lost when those functions return; load()'s malloc
# (FS-FAULT) fails and error(1, ...) ends the program. Expected: exactly three
# leak findings (fd, file, memory) at their FS-EXPECT lines.
# Fixed twin (same source, -DFS_FIXED): the fd is kept in the global g_log_fd,
# the FILE in g_cfg->in. Expected: no finding; held rows with reasons
# 'global demo_lost_handles_ok+0x... (g_log_fd)' and
# 'reachable-global demo_lost_handles_ok+0x... (g_cfg)'.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init lost_handles

INPUT=$DEMO_SRC/fd_leak.c
fs_check_baseline demo_lost_handles "$INPUT"
fs_run_bug 'only=malloc,nth=2' demo_lost_handles "$INPUT"
fs_expect_injected lost_handles.c malloc 2
assert_eq "lost_handles: the process ended inside error() (end_how|exit_code)" "exit|1" \
    "$(q "SELECT end_how, exit_code FROM process WHERE run_id = $RUN_ID")"
fd_line=$(marker_line lost_handles.c '/* FS-EXPECT: leak fd */')
file_line=$(marker_line lost_handles.c '/* FS-EXPECT: leak file */')
mem_line=$(marker_line lost_handles.c '/* FS-EXPECT: leak memory */')
fault_line=$(marker_line lost_handles.c '/* FS-FAULT */')
fs_expect_exact_findings lost_handles "$(printf '%s\n' \
    "leak|fd|-|open|lost_handles.c|$fd_line|malloc|$fault_line" \
    "leak|file|-|fopen|lost_handles.c|$file_line|malloc|$fault_line" \
    "leak|memory|-|malloc|lost_handles.c|$mem_line|malloc|$fault_line")"
assert_eq "lost_handles: nothing held" 0 "$(q 'SELECT count(*) FROM held')"

fs_check_clean_twin 'only=malloc,nth=2' demo_lost_handles_ok "$INPUT"
assert_eq "lost_handles_ok: held rows (kind|func|line|reason pattern)" \
    "fd|open|$fd_line|1
file|fopen|$file_line|1" \
    "$(q "SELECT kind, func, line,
                 CASE kind WHEN 'fd' THEN reason GLOB 'global demo_lost_handles_ok+0x* (g_log_fd)'
                           ELSE reason GLOB 'reachable-global demo_lost_handles_ok+0x* (g_cfg)' END
          FROM held ORDER BY line")"
assert_eq "lost_handles_ok: the config struct is reachable memory" 1 \
    "$(q "SELECT reachable_blocks >= 1 FROM process")"
for mode in fork exec; do
    fs_sweep_check lost_handles_ok "$mode" "" demo_lost_handles_ok "$INPUT"
done
