#!/usr/bin/env bash
# test_thread_roots.sh — targets/demo/thread_roots.c: when the process ends
# while a thread still runs, that thread's stack is a root of the reachability
# scan: the block only its frame refers to is not a leak; main's lost block is.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init thread_roots

LINE=$(marker_line thread_roots.c '/* FS-EXPECT: leak memory */')
for i in 1 2 3; do                # the scan must not depend on luck (layout, timing)
    fs_new_db "run$i"
    fs_run -- "$DEMO_BIN/demo_thread_roots"
    assert_status 1
    assert_eq "run $i: exactly main's lost block leaks (kind|func|line|size)" "memory|malloc|$LINE|32" \
        "$(q "SELECT kind, func, line, size FROM leaks")"
done
