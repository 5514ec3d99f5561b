#!/usr/bin/env bash
# test_sweep_realloc_lost.sh — precision and recall of `faultstack sweep`:
# realloc's lost block (`buf = realloc(buf, cap)`).
#
# targets/demo/realloc_lost.c: slurp() mallocs a 16-byte buffer (FS-EXPECT
# line) and grows it with buf = realloc(buf, cap) (FS-FAULT line); when
# realloc fails the only pointer to the block is overwritten with NULL. The
# block is still the malloc'd one, so the leak names the malloc line. Every
# other fault (open, malloc, read, the final close) leaks nothing.
#
# The realloc failure's error path holds one more fault point, the close() in
# the `if (!buf)` branch; the sweep fails it too ('<realloc key>,then=1').
# That run loses the same block for the same reason — the realloc failure —
# so it must count as the same finding, not as a second one blamed on close.
# Expected in fork and in exec mode: exactly one finding. (No fixed twin.)
# The input must be longer than 16 bytes so that realloc is called.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_realloc_lost

INPUT=$DEMO_SRC/realloc_lost.c
EXPECTED=$(fs_row leak memory - malloc realloc_lost.c '/* FS-EXPECT: leak memory */' \
    realloc '/* FS-FAULT */')

# Each mode's sweep of the bug demo is repeated ROUNDS times (about 0.1 s
# each): with -j 2 the run of the second fault and the other runs of the
# first fault's key may be recorded in either order, and the findings must not
# depend on that order. One round would catch an order-dependent result only
# now and then.
ROUNDS=5

for mode in fork exec; do
    for ((round = 1; round <= ROUNDS; round++)); do
        fs_sweep_check "realloc_lost-$round" "$mode" "$EXPECTED" demo_realloc_lost "$INPUT"
        if [[ $mode == fork ]]; then fs_expect_fork_runs "realloc_lost-$round"; fi
    done
done
