#!/usr/bin/env bash
# test_sweep_fclose_retry.sh — precision and recall of `faultstack sweep`:
# fclose() retried after it failed.
#
# targets/demo/fclose_retry.c: save_note() calls fclose() again when the first
# fclose (FS-FAULT line) fails. fclose releases the stream even when it
# reports failure (design.md: Linux semantics, an injected failure releases
# too), so the retry (FS-EXPECT line) is a double release of kind file.
# Failing fopen or either fputs is handled cleanly. The retry is reached only
# on the error path, so the sweep also fails it ('<fclose key>,then=1'): the
# anomaly is the same one and must not become a second finding.
# Expected in fork and in exec mode: exactly one finding (anomaly
# double-release, kind file, fclose at the retry, caused by the first
# fclose); the fixed twin fclose_retry_ok.c: none, exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fclose_retry

ARGS=("$SCRATCH/note.txt" hello)
EXPECTED=$(fs_row anomaly file double-release fclose fclose_retry.c \
    '/* FS-EXPECT: anomaly double-release file */' fclose '/* FS-FAULT */')

# Each mode's sweep of the bug demo is repeated ROUNDS times (about 0.1 s
# each): with -j 2 the run of the second fault and the other runs of the
# first fault's key may be recorded in either order, and the findings must not
# depend on that order. One round would catch an order-dependent result only
# now and then.
ROUNDS=5

for mode in fork exec; do
    for ((round = 1; round <= ROUNDS; round++)); do
        fs_sweep_check "fclose_retry-$round" "$mode" "$EXPECTED" demo_fclose_retry "${ARGS[@]}"
        if [[ $mode == fork ]]; then fs_expect_fork_runs "fclose_retry-$round"; fi
    done
    fs_sweep_check fclose_retry_ok "$mode" "" demo_fclose_retry_ok "${ARGS[@]}"
    fs_expect_swept fclose_retry_ok.c '/* FS-FAULT */' fclose
done
