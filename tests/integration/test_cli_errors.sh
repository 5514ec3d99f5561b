#!/usr/bin/env bash
# test_cli_errors.sh — usage and tool errors of `faultstack run`: exit status 2,
# a message on stderr that names what was wrong, and nothing already recorded
# is lost or changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init cli_errors

OK_PROG=("$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak_ok.c" "$SCRATCH/copy.out")

# A database with one recorded run, used by the checks below: every failing
# invocation against it must leave that run in place.
fs_new_db kept
fs_run -- "${OK_PROG[@]}"
assert_status 0
assert_eq "runs after the first (good) invocation" 1 "$(q 'SELECT count(*) FROM runs')"
runs_kept() {
    assert_eq "runs still recorded after a failing invocation ($1)" 1 "$(q 'SELECT count(*) FROM runs')"
}

# 1. The program does not exist.
fs_run -- /nonexistent/prog
assert_status 2
assert_stderr_contains "missing program: stderr names the path" /nonexistent/prog
runs_kept "missing program"

# 2. The program is not executable.
printf '#!/bin/sh\nexit 0\n' >"$SCRATCH/not-executable.sh"
chmod 0644 "$SCRATCH/not-executable.sh"
fs_run -- "$SCRATCH/not-executable.sh"
assert_status 2
assert_stderr_contains "non-executable program: stderr names the path" "$SCRATCH/not-executable.sh"
runs_kept "non-executable program"

# 3. A bad --fail spec ('nht' is a typo of 'nth').
fs_run --fail nht=3 -- "${OK_PROG[@]}"
assert_status 2
assert_stderr_contains "bad --fail spec: stderr quotes the bad item" 'nht=3'
runs_kept "bad --fail spec"

# 4. An unknown flag.
fs_run --no-such-flag -- "${OK_PROG[@]}"
assert_status 2
assert_stderr_contains "unknown flag: stderr names the flag" --no-such-flag
runs_kept "unknown flag"

# 5. No program at all.
fs_run
assert_status 2
[[ -s $SCRATCH/last.err ]] || fs_fail "no program: a message on stderr" "a usage message" "(empty stderr)"
runs_kept "no program"

# 6. --db names a file that is not a database: refused, left byte for byte as it was.
fs_new_db garbage
for i in $(seq 1 200); do printf 'this is not an sqlite database, line %d\n' "$i"; done >"$DB"
sum_before=$(sha256sum <"$DB")
fs_run -- "${OK_PROG[@]}"
assert_status 2
assert_stderr_matches "garbage --db: stderr says it is not a faultstack database" \
    'not a faultstack database|not a database|corrupt'
assert_eq "garbage --db: the file is unchanged (sha256)" "$sum_before" "$(sha256sum <"$DB")"

# 7. A faultstack database of a newer schema (user_version 99): refused,
#    the version named, the file unchanged, its runs intact.
fs_new_db newer
fs_run -- "${OK_PROG[@]}"
assert_status 0
sqlite3 -batch "$DB" 'PRAGMA user_version = 99'
sum_before=$(sha256sum <"$DB")
fs_run -- "${OK_PROG[@]}"
assert_status 2
assert_stderr_contains "user_version 99: stderr names the version" 99
assert_eq "user_version 99: the file is unchanged (sha256)" "$sum_before" "$(sha256sum <"$DB")"
assert_eq "user_version 99: its runs are intact" 1 "$(q 'SELECT count(*) FROM runs')"
