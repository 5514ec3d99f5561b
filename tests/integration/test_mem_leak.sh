#!/usr/bin/env bash
# test_mem_leak.sh — targets/demo/mem_leak.c loses the key's block when the malloc()
# of the value fails; mem_leak_ok.c frees it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init mem_leak

# Fault: with one KEY=VALUE argument the program calls malloc() twice, first
# for the key (FS-EXPECT line), then for the value (FS-FAULT line).
# only=malloc,nth=2 fails the value's malloc.
SPEC='only=malloc,nth=2'
ARGS=(color=blue)

fs_check_baseline demo_mem_leak "${ARGS[@]}"

fs_run_bug "$SPEC" demo_mem_leak "${ARGS[@]}"
fs_expect_findings 1
fs_expect_injected mem_leak.c malloc 2
fs_expect_leak mem_leak.c memory malloc malloc

fs_check_clean_twin "$SPEC" demo_mem_leak_ok "${ARGS[@]}"
