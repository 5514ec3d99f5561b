#!/usr/bin/env bash
# test_sweep_resume_confirm.sh — a fork-mode sweep killed after a forked run
# recorded a leak but before its exec replay confirmed it: --resume must
# replay it (a forked run's findings are only findings once confirmed), and
# find exactly what an uninterrupted sweep finds. Before the fix the forked
# run counted as done, the real finding was lost, and the error-path run
# (step 3's malloc, then its fwrite) recorded the leak blamed on fwrite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_resume_confirm
fs_private_rundirs

PROG=("$DEMO_BIN/demo_slow_steps" "$DEMO_SRC/slow_steps.c")
EXPECTED=$(fs_row leak fd - open slow_steps.c '/* FS-EXPECT: leak fd */' malloc '/* FS-FAULT */')

# ---- the reference: an uninterrupted fork-mode sweep
fs_new_db ref
fs_exec sweep --db "$DB" --mode fork -j 2 --timeout 30 -- "${PROG[@]}" 20
assert_status 1
fs_expect_exact_findings "uninterrupted fork sweep" "$EXPECTED"

# ---- killed (SIGKILL) once the forked run of step 3 recorded its leak
fs_new_db killed
fs_bg sweep --db "$DB" --mode fork -j 2 --timeout 30 -- "${PROG[@]}"
fs_wait_sql "the forked run of step 3 records its leak" \
    "SELECT count(*) FROM leaks l JOIN runs r ON r.id = l.run_id WHERE r.mode = 'fork' AND l.fault_func IS NOT NULL" 1
kill -KILL "$FS_BG"
fs_bg_wait
assert_status 137
# the case under test: the forked run is recorded, its replay is not
assert_eq "killed before the replay: exec replays recorded" 0 "$(q 'SELECT count(*) FROM runs WHERE confirms IS NOT NULL')"
assert_eq "killed before the replay: findings" 0 "$(q 'SELECT count(*) FROM findings')"
fs_wait_tree "SIGKILL of a fork sweep: the trunk and the forked runs end with it" 3

# ---- --resume replays it first and finds what the uninterrupted sweep found
fs_exec sweep --db "$DB" --mode fork -j 2 --timeout 30 --resume -- "${PROG[@]}"
assert_status 1
assert_eq "resumed: status" complete "$(q 'SELECT status FROM sweep')"
fs_expect_exact_findings "killed and resumed fork sweep" "$EXPECTED"
assert_stderr_contains "resume says it replays the unconfirmed forked run" "not yet confirmed"
assert_eq "resumed: the forked run of step 3 has its exec replay" 1 \
    "$(q "SELECT count(*) FROM runs c JOIN runs f ON f.id = c.confirms JOIN leaks l ON l.run_id = f.id
          WHERE f.mode = 'fork' AND c.mode = 'exec'")"
assert_no_leftovers "after the resumed sweep"
