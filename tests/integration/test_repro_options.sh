#!/usr/bin/env bash
# test_repro_options.sh — a finding's repro command replays the run it came
# from: it keeps the run's --timeout (unless it is run's default, 300 s) and
# --stdin FILE (issue 9: they were dropped, so a sweep's timeout finding
# replayed with 300 s, and a program reading stdin replayed on whatever
# stdin `faultstack repro` had). `faultstack run --stdin FILE` is new.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init repro_options

SRC=$DEMO_SRC/fd_leak.c
FSX=$(readlink -f "$FAULTSTACK")   # repro commands name the faultstack that made them
cd "$SCRATCH"                      # relative --stdin paths: repro runs in the session's directory

# ---- 1. run --stdin FILE: the program reads FILE
fs_new_db run_stdin
fs_run --stdin "$SRC" -- "$DEMO_BIN/demo_fd_leak" /dev/stdin "$SCRATCH/copy1"
assert_status 0
assert_eq "run --stdin: the program copied FILE from its stdin" "$(fs_sha "$SRC")" "$(fs_sha "$SCRATCH/copy1")"
fs_run --stdin "$SCRATCH/no-such-file" -- "$DEMO_BIN/demo_fd_leak" /dev/stdin "$SCRATCH/copy1"
assert_status 2
assert_stderr_contains "run --stdin of a missing file names it" "cannot read --stdin file '$SCRATCH/no-such-file'"

# ---- 2. a program that takes its input's name on stdin: without the same
#         stdin its replay takes another path
printf '%s\n' "$SRC" >names.txt
PROG=(/bin/sh -c 'read -r src && exec "$0" "$src" "$1"' "$DEMO_BIN/demo_fd_leak" "$SCRATCH/copy2")
fs_new_db sweep_stdin
fs_exec sweep --db "$DB" -j 2 --timeout 7 --stdin names.txt -- "${PROG[@]}"
assert_status 1
LEAK=$(q "SELECT id FROM findings WHERE category = 'leak' AND fault_func = 'open'")
[[ -n $LEAK ]] || fs_fail "the sweep finds the fd leak" "a leak finding with fault open" "$(q 'SELECT * FROM findings')"
REPRO=$(q "SELECT repro FROM findings WHERE id = $LEAK")
assert_eq "the repro keeps --timeout and --stdin (in this order, after --db)" \
    "$FSX run --db $DB --timeout 7 --stdin names.txt --fail" "$(cut -d' ' -f1-9 <<<"$REPRO")"
fs_exec repro --db "$DB" "$LEAK" </dev/null
assert_status 0
assert_stdout_contains "the replay reads names.txt and shows the leak again" "repro: fault site hit, finding reproduced"
# the same finding from `run --stdin`
fs_new_db run_stdin_repro
fs_run --stdin names.txt --fail "$(sed -n 's/.*--fail \([^ ]*\) --.*/\1/p' <<<"$REPRO")" -- "${PROG[@]}"
assert_status 1
assert_eq "run --stdin: its repro keeps --stdin (and no --timeout at run's default)" 1 \
    "$(q "SELECT count(*) FROM findings WHERE category = 'leak' AND repro LIKE '$FSX run --db % --stdin names.txt --fail %'
          AND repro NOT LIKE '% --timeout %'")"
LEAK=$(q "SELECT id FROM findings WHERE category = 'leak'")
fs_exec repro --db "$DB" "$LEAK" </dev/null
assert_status 0

# ---- 3. a timeout finding of a sweep replays with the sweep's timeout
fs_new_db sweep_timeout
fs_exec sweep --db "$DB" --timeout 1.5 -- "$DEMO_BIN/demo_hang" sleep
assert_status 1
TMO=$(q "SELECT id FROM findings WHERE category = 'timeout' AND fault_func IS NOT NULL LIMIT 1")
[[ -n $TMO ]] || fs_fail "the sweep finds the hang" "a timeout finding" "$(q 'SELECT * FROM findings')"
assert_eq "the timeout finding's repro keeps --timeout 1.5" 1 \
    "$(q "SELECT count(*) FROM findings WHERE id = $TMO AND repro LIKE '$FSX run --db % --timeout 1.5 --fail %'")"
t0=$(date +%s)
fs_exec repro --db "$DB" "$TMO"
assert_status 0
[[ $(( $(date +%s) - t0 )) -lt 20 ]] ||
    fs_fail "the replay of the timeout uses the sweep's 1.5 s" "< 20 s" "$(( $(date +%s) - t0 )) s"

# ---- 4. the repro command runs as printed (issue 12): it names this faultstack
#         by its absolute path, so a shell without faultstack on PATH runs it
fs_new_db printed
fs_run --timeout 7 --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "$SRC" "$SCRATCH/copy3"
assert_status 1
LEAK=$(q "SELECT id FROM findings WHERE category = 'leak'")
REPRO=$(q "SELECT repro FROM findings WHERE id = $LEAK")
[[ $REPRO == "$FSX run --db $DB --timeout 7 --fail "* ]] ||
    fs_fail "the repro starts with this faultstack's absolute path" "$FSX run --db $DB --timeout 7 --fail ..." "$REPRO"
runs_before=$(q 'SELECT count(*) FROM runs')
set +e
env -i PATH=/usr/bin:/bin sh -c "$REPRO" >"$SCRATCH/printed.out" 2>&1
st=$?
set -e
assert_eq "the printed repro, run by sh without faultstack on PATH, finds the leak again (exit)" 1 "$st"
assert_eq "it recorded one more run, linked to the finding" "$((runs_before + 1))|2" \
    "$(q "SELECT (SELECT count(*) FROM runs), runs FROM findings WHERE id = $LEAK")"
