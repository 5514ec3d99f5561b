#!/usr/bin/env bash
# test_record_version.sh — a preload of another faultstack version (its records
# in another format, e.g. FAULTSTACK_PRELOAD left pointing at an old install)
# must never give a clean run: `faultstack run` says which formats and what to
# do, marks the run not fully observed (runs.observed <> 1, a note naming the
# format and the preload) and exits 2; `faultstack sweep` refuses to sweep from
# such a baseline with the same reason, not "reached no fault point". The
# other-version preload is a small library made here: it writes a record whose
# first line is `faultstack-record 3` (this faultstack reads 2) and nothing the
# current reader knows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init record_version

CC=${CC:-cc}
cat > "$SCRATCH/other.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((constructor)) static void other_version_preload(void)
{
    const char *dir = getenv("FAULTSTACK_RUN_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d-1.rec", dir, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    const char *rec = "faultstack-record 3\nz a line of the future 1 2 3\ndone\n";
    if (write(fd, rec, strlen(rec)) < 0) { }
    close(fd);
}
EOF
"$CC" -shared -fPIC -o "$SCRATCH/libother.so" "$SCRATCH/other.c" ||
    { echo "record_version: cannot build a test preload with $CC" >&2; exit 77; }

fs_new_db run
FAULTSTACK_PRELOAD=$SCRATCH/libother.so fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 2
assert_stderr_contains "the formats are named" "records are in format 3, this faultstack reads format 2"
assert_stderr_contains "the user is told what to do" "use the preload built or installed with this faultstack"
assert_eq "the run is not observed in full" "1" "$(q "SELECT count(*) FROM runs WHERE observed <> 1")"
note=$(q "SELECT note FROM runs")
[[ $note == *"its record is in format 3 and this faultstack reads format 2"*"FAULTSTACK_PRELOAD=$SCRATCH/libother.so"* ]] ||
    fs_fail "runs.note names the format and the preload" "…format 3…FAULTSTACK_PRELOAD=$SCRATCH/libother.so…" "$note"

fs_new_db sweep
FAULTSTACK_PRELOAD=$SCRATCH/libother.so fs_exec sweep --db "$DB" -j 1 --timeout 30 -- \
    "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 2
assert_stderr_contains "the sweep says why it did not sweep" \
    "was NOT READ: its record is in format 3 and this faultstack reads format 2"
assert_eq "the sweep's status" "baseline-failed" "$(q "SELECT status FROM sweeps")"
assert_eq "no fault run" "0" "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL")"

# the same command with this faultstack's own preload is observed and clean
fs_new_db own
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 0
assert_eq "with its own preload the run is observed" "1" "$(q "SELECT observed FROM runs")"
