#!/usr/bin/env bash
# test_realloc_lost.sh — `p = realloc(p, n)` losing the old block when realloc
# fails (design.md: memory leaks by reachability; a failed realloc leaves the
# block unchanged, funcs.def).
#
# targets/demo/realloc_lost.c: slurp() mallocs 16 bytes, then grows the buffer
# with buf = realloc(buf, cap). Under only=realloc,nth=1 the first realloc
# fails, the only pointer to the block is overwritten and slurp() returns -1.
# Expected: faultstack exits 1; exactly one finding: leak kind memory, func
# malloc at the malloc line (FS-EXPECT: leak memory), fault realloc at the
# FS-FAULT line; the leaks row has size 16 (the unchanged block). The
# baseline (realloc succeeds several times) finds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init realloc_lost

INPUT=$DEMO_SRC/fd_leak.c
fs_check_baseline demo_realloc_lost "$INPUT"
fs_run_bug 'only=realloc,nth=1' demo_realloc_lost "$INPUT"
fs_expect_injected realloc_lost.c realloc 1
fs_expect_findings 1
fs_expect_leak realloc_lost.c memory malloc realloc
assert_eq "leaks: size of the lost block" 16 "$(q "SELECT size FROM leaks WHERE run_id = $RUN_ID")"
