#!/usr/bin/env bash
# test_socket_leak.sh — targets/demo/socket_leak.c leaks its socket when bind() fails;
# socket_leak_ok.c closes it.
#
# Checks, each in a fresh database: the bug demo without --fail finds nothing
# (exit 0); under the fault below it gives exactly the planted finding(s) at the
# FS-EXPECT marker line(s), caused by the call on the FS-FAULT line (exit 1);
# the fixed twin under the same fault gives no finding (exit 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init socket_leak

# Fault: open_listener() makes the program's only bind() call (FS-FAULT line).
# only=bind,nth=1 fails it. The socket lives in a temporary directory under
# $TMPDIR, which lib.sh points at the scratch directory.
SPEC='only=bind,nth=1'

fs_check_baseline demo_socket_leak

fs_run_bug "$SPEC" demo_socket_leak
fs_expect_findings 1
fs_expect_injected socket_leak.c bind 1
fs_expect_leak socket_leak.c fd socket bind

fs_check_clean_twin "$SPEC" demo_socket_leak_ok
