#!/usr/bin/env bash
# test_transparency.sh — issue 9: with nothing injected, a program under the
# preload behaves exactly as without it — stdout, stderr and exit status — on
# every run, not just the first. Real Debian programs, each run 8 times
# natively and 8 times under `faultstack run` (no --fail), compared byte for
# byte with the native run and its exit status.
#
# Regression: `LC_ALL=C diff -u a.txt b.txt` (2,000 lines, every 50th differs)
# aborted with "diff: program error" after its output in about half of the
# runs under the preload: the exit-time leak scan faulted on the unmapped page
# below the static TLS, and diff's own SIGSEGV handler (gnulib c-stack) took
# the fault (the scan now takes SIGSEGV/SIGBUS for itself while it runs).
# Also: programs with their own SIGSEGV handler, that fork, read stdin,
# exit non-zero.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init transparency

FAULTSTACK=$(realpath "$FAULTSTACK")
cd "$SCRATCH"
seq 0 1999 | sed 's/.*/line & alpha beta/' >a.txt
seq 0 1999 | awk '{ if ($1 % 50 == 0) print "line " $1 " gamma beta"; else print "line " $1 " alpha beta" }' >b.txt
mkdir -p tree/x tree/y
for i in $(seq 1 20); do echo "gamma $i" >tree/x/f$i; echo "delta $i" >tree/y/g$i; done
gzip -c a.txt >a.txt.gz

RUNS=8
# check NAME STDIN CMD...: CMD natively, then RUNS times under faultstack run
check() {
    local name=$1 in=$2; shift 2
    local nrc=0 rc i
    LC_ALL=C "$@" <"$in" >"native.out" 2>"native.err" || nrc=$?
    for i in $(seq 1 "$RUNS"); do
        rm -f t.db
        rc=0
        LC_ALL=C "$FAULTSTACK" run --db t.db --stdin "$in" -- "$@" >"pre.out" 2>"pre.all" || rc=$?
        grep -v '^faultstack: ' "pre.all" >"pre.err" || true
        cmp -s native.out pre.out ||
            fs_fail "$name, run $i: stdout identical to the native run" "$(wc -c <native.out) bytes" \
                "$(wc -c <pre.out) bytes differ: $(cmp native.out pre.out 2>&1 | head -1)"
        cmp -s native.err pre.err ||
            fs_fail "$name, run $i: stderr identical to the native run" "$(head -3 native.err)" "$(head -3 pre.err)"
        assert_eq "$name, run $i: the program's exit status" "$nrc" \
            "$(sqlite3 t.db 'SELECT ifnull(exit_code, -signal) FROM runs')"
        # faultstack adds only its verdict: 0 or 1 as findings say, never a crash of the target
        assert_eq "$name, run $i: no crash finding" 0 \
            "$(sqlite3 t.db "SELECT count(*) FROM findings WHERE category = 'crash'")"
    done
}

check "diff -u (C locale)" /dev/null diff -u a.txt b.txt
check "diff -u (identical)" /dev/null diff -u a.txt a.txt
check "grep -r -l" /dev/null grep -r -l gamma tree
check "sed -n" /dev/null sed -n '5p;1999p' a.txt
check "sort -r (stdin)" b.txt sort -r
check "gzip -dc" /dev/null gzip -dc a.txt.gz
check "sh pipeline (fork, exec, pipe)" /dev/null sh -c 'sort -r a.txt | head -3; ls tree | wc -l'
check "cat of a missing file (exit 1, stderr)" /dev/null cat no-such-file
