#!/usr/bin/env bash
# test_cli_memcheck.sh — issue 8: faultstack itself must not leak what it tells
# others not to leak. The CLI's commands (run, sweep in both modes, report in
# every format, repro, merge, functions, and error paths: a bad flag, a corrupt
# database) run under valgrind's memcheck (the faultstack process only; the
# targets it starts are not traced). Expected: the command's own exit status,
# and no memcheck error: no definitely lost block, no invalid read/write/free,
# no use of uninitialised values (memcheck's --error-exitcode 99 would show).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init cli_memcheck

command -v valgrind >/dev/null || { echo "cli_memcheck: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
FD=("$DEMO_BIN/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$SCRATCH/out.txt")

# vg WANT ARGS...: faultstack ARGS under memcheck exits WANT, with no memcheck error
vg() {
    local want=$1; shift
    local log=$SCRATCH/vg.log rc=0
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --error-exitcode=99 --log-file="$log" "$FAULTSTACK" "$@" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err" || rc=$?
    if [[ $rc == 99 || $rc != "$want" ]]; then
        fs_fail "faultstack $* under memcheck: exit status (99 = memcheck errors)" "$want" \
            "$rc; memcheck said:
$(grep -v 'unhandled amd64-linux syscall\|write your own handler\|README_MISSING\|consider this a bug\|bug_reports' "$log" | head -40)"
    fi
}

vg 1 run --db "$DB" --fail 'only=open,nth=2' -- "${FD[@]}"
for fmt in text json junit sarif; do vg 1 report --db "$DB" --format "$fmt"; done
vg 0 repro --db "$DB" "$(q 'SELECT id FROM findings LIMIT 1')"
vg 0 functions
vg 1 sweep --db "$SCRATCH/exec.db" --mode exec -j 2 -- "${FD[@]}"
vg 1 sweep --db "$SCRATCH/fork.db" -- "${FD[@]}"
vg 0 merge --db "$SCRATCH/all.db" "$SCRATCH/exec.db" "$SCRATCH/fork.db"
vg 2 run --db "$DB" --bogus -- "${FD[@]}"
vg 2 run --db "$DB" --timeout nan -- "${FD[@]}"
printf 'not a database at all, just text\n%.0s' {1..200} >"$SCRATCH/corrupt.db"
vg 2 report --db "$SCRATCH/corrupt.db"
