#!/usr/bin/env bash
# test_not_interposed.sh — a process the preload could not enter is never
# reported as clean (design.md; issue 9). It used to give "0 processes", exit 0.
#
# - A statically linked program (demo_fd_leak_static: fd_leak.c linked with
#   -static) has no PT_INTERP: no dynamic loader runs, nothing reads
#   LD_PRELOAD. `faultstack run` says which program and why, records the run
#   (exit status kept, points_total NULL = unknown, a process row with
#   end_how 'not-interposed') and exits 2 — also under a fault that shows a
#   leak in the dynamically linked build (exit 1 there). `faultstack report`
#   lists the run as not observed and exits 2 (no findings, not clean).
# - A dynamic shell that execs the static program: the shell is observed, the
#   program it exec'd is not (its record stops at the exec): exit 2, "PARTLY".
# - Set-user-ID / set-group-ID programs whose owner is not us: the kernel
#   sets AT_SECURE and the loader ignores LD_PRELOAD (root running a program
#   set-user-ID nobody is such a case; set-user-ID root run by root is not:
#   nothing changes credentials, the preload enters, exit 0).
# - `faultstack sweep` of the static program: nothing is swept, exit 2, the
#   sweep's status is 'baseline-failed'; of a shell exec'ing it: the shell is swept,
#   exit 2 (not clean) unless something is found.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init not_interposed

STATIC=$DEMO_BIN/demo_fd_leak_static
if [[ ! -x $STATIC ]]; then
    echo "SKIP: $STATIC was not built (no static libc: apt-get install libc6-dev)"
    exit 0
fi
SRC=$DEMO_SRC/fd_leak.c

# not_observed_rows: process rows stored for images the preload could not enter
not_observed_rows() {
    q "SELECT count(*) FROM process WHERE end_how = 'not-interposed'"
}

# ---- 1. the dynamic build is observed (the reference)
fs_new_db dynamic
fs_run -- "$DEMO_BIN/demo_fd_leak" "$SRC" "$SCRATCH/out1"
assert_status 0
assert_eq "dynamic: observed (points_total > 0, no not-interposed row)" "1|0" \
    "$(q 'SELECT points_total > 0, (SELECT count(*) FROM process WHERE end_how = '"'not-interposed'"') FROM runs')"
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "$SRC" "$SCRATCH/out1"
assert_status 1

# ---- 2. the static build: not observed, exit 2, the reason named
fs_new_db static
fs_run -- "$STATIC" "$SRC" "$SCRATCH/out2"
assert_status 2
assert_stderr_contains "static: the run is called not observed" "NOT OBSERVED, nothing was tested"
assert_stderr_contains "static: the program is named" "$STATIC"
assert_stderr_contains "static: the reason" "statically linked (no PT_INTERP program header)"
assert_stderr_contains "static: what to do" "build it dynamically linked"
assert_eq "static: the run is recorded with its exit status, points_total unknown (NULL)" "1|0|NULL" \
    "$(q "SELECT count(*), exit_code, ifnull(points_total, 'NULL') FROM runs")"
assert_eq "static: one process row, not interposed, naming the program" "1|$STATIC" \
    "$(q "SELECT count(*), exe FROM process WHERE end_how = 'not-interposed'")"
assert_eq "static: no fault point recorded" 0 "$(q 'SELECT count(*) FROM fault_points')"
assert_eq "static: runs.observed 0, runs.note names the reason" "0|1" \
    "$(q "SELECT observed, note LIKE '%statically linked%' FROM runs")"
assert_eq "static: the program did run (it copied the file)" "$(fs_sha "$SRC")" "$(fs_sha "$SCRATCH/out2")"
# the report does not call it clean either
fs_exec report --db "$DB"
assert_status 2
assert_stdout_contains "report: the run is listed as not observed" "NOT OBSERVED: run 1"
assert_stderr_contains "report: not clean" "not clean: 1 run was not observed"
fs_exec report --db "$DB" --format junit
assert_status 2
assert_stderr_contains "report --format junit: the run is listed on stderr" "NOT OBSERVED: run 1"
# under the fault that shows the leak in the dynamic build: still exit 2, never 0
fs_run --fail only=open,nth=2 -- "$STATIC" "$SRC" "$SCRATCH/out2"
assert_status 2
assert_eq "static + fault: no finding can be claimed" 0 "$(q 'SELECT count(*) FROM findings')"

# ---- 3. a dynamic shell exec'ing the static program: partly observed
fs_new_db wrapper
fs_run -- /bin/sh -c 'exec "$0" "$1" "$2"' "$STATIC" "$SRC" "$SCRATCH/out3"
assert_status 2
assert_stderr_contains "wrapper: partly observed" "only PARTLY OBSERVED"
assert_stderr_contains "wrapper: says the exec'd program was not entered" "exec'd a program the preload could not enter"
assert_eq "wrapper: one not-interposed row" 1 "$(not_observed_rows)"
assert_eq "wrapper: runs.observed 2 (partly), runs.note says which" "2|1" \
    "$(q "SELECT observed, note LIKE '%exec''d a program the preload could not enter%' FROM runs")"
assert_eq "wrapper: the shell itself was observed" 1 \
    "$(q "SELECT count(*) FROM process WHERE end_how = 'exec'")"
# fork + exec (the shell goes on after the static child)
fs_new_db wrapper_fork
fs_run -- /bin/sh -c '"$0" "$1" "$2"; exit 0' "$STATIC" "$SRC" "$SCRATCH/out3"
assert_status 2
assert_eq "wrapper (fork+exec): one not-interposed row" 1 "$(not_observed_rows)"

# ---- 4. set-user-ID / set-group-ID (needs root to give a file to another user)
if [[ $(id -u) -eq 0 ]] && ! findmnt -no OPTIONS -T "$SCRATCH" | grep -qw nosuid; then
    chmod 0755 "$SCRATCH"                  # the program runs as nobody
    cp "$DEMO_BIN/demo_fd_leak_ok" "$SCRATCH/suid_nobody"
    chown nobody "$SCRATCH/suid_nobody"
    chmod 4755 "$SCRATCH/suid_nobody"
    cp "$DEMO_BIN/demo_fd_leak_ok" "$SCRATCH/sgid_nogroup"
    chgrp "$(id -gn nobody)" "$SCRATCH/sgid_nogroup"
    chmod 2755 "$SCRATCH/sgid_nogroup"
    cp "$DEMO_BIN/demo_fd_leak_ok" "$SCRATCH/suid_root"
    chmod 4755 "$SCRATCH/suid_root"
    fs_new_db suid
    fs_run -- "$SCRATCH/suid_nobody" /etc/hostname /dev/null
    assert_status 2
    assert_stderr_contains "set-user-ID nobody: the reason" "set-user-ID nobody"
    assert_stderr_contains "set-user-ID nobody: secure execution named" "AT_SECURE"
    assert_eq "set-user-ID nobody: recorded as not interposed" 1 "$(not_observed_rows)"
    fs_run -- "$SCRATCH/sgid_nogroup" /etc/hostname /dev/null
    assert_status 2
    assert_stderr_contains "set-group-ID: the reason" "set-group-ID"
    fs_new_db suid_root
    fs_run -- "$SCRATCH/suid_root" /etc/hostname /dev/null
    assert_status 0
    assert_eq "set-user-ID root run by root: observed (no AT_SECURE)" "0|1" \
        "$(q "SELECT (SELECT count(*) FROM process WHERE end_how = 'not-interposed'), points_total > 0 FROM runs")"
else
    echo "note: set-user-ID part skipped (needs root and a mount without nosuid)"
fi

# ---- 5. sweep: nothing observed in the baseline, nothing swept, exit 2
for mode in fork exec; do
    fs_new_db "sweep-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" -j 2 -- "$STATIC" "$SRC" "$SCRATCH/out5"
    assert_status 2
    assert_stderr_contains "sweep $mode: the baseline is called not observed" "was NOT OBSERVED"
    assert_stderr_contains "sweep $mode: the reason" "statically linked"
    assert_eq "sweep $mode: only the baseline run" "1|0" \
        "$(q 'SELECT count(*), sum(sweep_key IS NOT NULL) FROM runs')"
    assert_eq "sweep $mode: status" "baseline-failed" "$(q 'SELECT status FROM sweep')"
done

# ---- 6. sweep of a shell that execs the static program: the shell's points
#         are swept, but the sweep cannot end clean (exit 2, says why)
fs_new_db sweep-partial
fs_exec sweep --db "$DB" --mode exec -j 2 -- /bin/sh -c 'exec "$0" "$1" "$2"' "$STATIC" "$SRC" "$SCRATCH/out6"
assert_status 2
assert_stderr_contains "sweep partial: warned" "the baseline run was only PARTLY OBSERVED"
assert_stderr_contains "sweep partial: not clean" "not clean: the baseline was only partly observed"
assert_eq "sweep partial: status complete (the shell was swept)" complete "$(q 'SELECT status FROM sweep')"
