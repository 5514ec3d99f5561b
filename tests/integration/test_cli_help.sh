#!/usr/bin/env bash
# test_cli_help.sh — `faultstack help COMMAND` prints that command's own help
# (the same as `faultstack COMMAND --help`), not the global one (issue 12);
# `faultstack help` alone and `faultstack --help` print the global help; an
# unknown command is refused with exit 2 and the list of commands.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init cli_help

for c in run sweep report repro merge functions protocol; do
    fs_exec help "$c"
    assert_status 0
    cp "$SCRATCH/last.out" "$SCRATCH/help.out"
    head -n1 "$SCRATCH/help.out" | grep -q "^usage: faultstack $c" ||
        fs_fail "faultstack help $c starts with its usage line" "usage: faultstack $c ..." "$(head -n3 "$SCRATCH/help.out")"
    fs_exec "$c" --help
    assert_status 0
    cmp -s "$SCRATCH/help.out" "$SCRATCH/last.out" ||
        fs_fail "faultstack help $c is faultstack $c --help" "the same text" "$(diff "$SCRATCH/help.out" "$SCRATCH/last.out" | head)"
    grep -q -- "--fail SPEC (comma-separated)" "$SCRATCH/help.out" &&
        fs_fail "faultstack help $c is not the global help" "no global --fail section" "$(head -n5 "$SCRATCH/help.out")"
done
fs_exec help
assert_status 0
assert_stdout_contains "faultstack help alone: the global help" "faultstack help COMMAND"
fs_exec help nosuch
assert_status 2
assert_stderr_contains "an unknown command is named, with the commands" \
    "faultstack help: unknown command 'nosuch'; commands: run, sweep, report, repro, merge, functions, protocol"
fs_exec functions --bogus
assert_status 2
assert_stderr_contains "functions refuses arguments" "faultstack functions: unknown argument '--bogus' (--protocol SPEC)"
