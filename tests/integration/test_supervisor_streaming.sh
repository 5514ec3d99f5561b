#!/usr/bin/env bash
# test_supervisor_streaming.sh — issue 11: the supervisor reads the records as
# a stream (ingest.c), so its memory does not grow with what a run records.
#  1. 200,000 leaked blocks from 1,000 call sites (bench/supervisor/adv.c):
#     faultstack runs with its address space limited to 150 MiB (ulimit -v,
#     which the target inherits: it needs ~60 MiB); every block is a row of
#     `leaks` and every site one finding. Reading every record into memory
#     first needed ~470 MiB (a 1.8 KB struct per block) and lost rows.
#  2. 300 children (a fork+exec each): every process image is a row of
#     `process`, none incomplete; the same for a `sh -c` loop of /bin/true.
#  3. A fork-mode sweep's fault runs do not store the prefix's sites again.
#  4. A record line longer than the reader's buffer is not silently dropped:
#     the run is NOT FULLY RECORDED (runs.observed = 2, exit status 2, or 1 with findings).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init supervisor_streaming

ADV=$DEMO_BIN/bench_supervisor_adv          # bench/supervisor: x86-64 only
[[ -x $ADV ]] || { echo "supervisor_streaming: $ADV not built (x86-64 only)" >&2; exit 77; }

LIMIT_KIB=$((150 * 1024))
fs_new_db tiny
if ! (ulimit -v $LIMIT_KIB && "$FAULTSTACK" run --db "$DB" -- /bin/true) >/dev/null 2>&1; then
    echo "supervisor_streaming: faultstack cannot run under ulimit -v $LIMIT_KIB here (a sanitizer build?)" >&2
    exit 77
fi

fs_new_db leaks
FS_LAST_CMD="ulimit -v $LIMIT_KIB; $FAULTSTACK run --db $DB -- $ADV leak 200000 1000"
FS_STATUS=0
(ulimit -v $LIMIT_KIB && FAULTSTACK_NO_CONFIRM=1 timeout --kill-after=5 "$FS_RUN_TIMEOUT" \
    "$FAULTSTACK" run --db "$DB" -- "$ADV" leak 200000 1000) >"$SCRATCH/last.out" 2>"$SCRATCH/last.err" || FS_STATUS=$?
assert_status 1
assert_eq "200,000 leaked blocks, each a row of leaks" 200000 "$(q "SELECT count(*) FROM leaks")"
assert_eq "1,000 leak sites, each one finding" "1000|1000" \
    "$(q "SELECT count(*), count(DISTINCT module || offset) FROM findings WHERE category = 'leak'")"
assert_eq "every finding takes the run" 0 "$(q "SELECT count(*) FROM findings WHERE runs != 1")"

fs_new_db procs
fs_run -- "$ADV" forkexec 300 /bin/true
assert_status 0
assert_eq "601 process images (the parent, 300 forks, the 300 programs they exec), all recorded" "601|300|0" \
    "$(q "SELECT count(*), sum(exe = '/usr/bin/true' OR exe = '/bin/true'), sum(end_how = 'unknown') FROM process")"
if grep -q "incomplete" "$SCRATCH/last.err"; then
    fs_fail "no record is incomplete" "no warning" "$(cat "$SCRATCH/last.err")"
fi

fs_new_db shloop
fs_run -- sh -c 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'
assert_status 0
assert_eq "a sh loop: 401 process images recorded (sh, 200 forks, 200 /bin/true)" "401|0" \
    "$(q "SELECT count(*), sum(end_how = 'unknown') FROM process")"

# A fork-mode sweep: a fault run stores the sites (fault_sites) of its fault
# and after, not a row per site of the prefix its record counts too (that was
# a row per baseline site in every fault run: 533 MB for 3,000 fault runs).
fs_new_db sweep
fs_exec sweep --db "$DB" --mode fork -j 1 --timeout 30 -- "$ADV" sites 50
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "the sweep of 50 sites ran" "exit status 0 or 1" "$FS_STATUS"
assert_eq "51 fault runs (calloc and 50 mallocs), fork mode" 51 "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND mode = 'fork'")"
assert_eq "no fault run stores the prefix's sites" 0 \
    "$(q "SELECT count(*) FROM fault_sites s JOIN runs r ON r.id = s.run_id WHERE r.sweep_key IS NOT NULL")"

# A record whose line is longer than the reader's 32 KiB buffer (no preload
# writes one): the run is not clean, the record is reported incomplete.
fs_new_db longline
cat >"$SCRATCH/longline.sh" <<'SH'
#!/bin/sh
f=$(ls "$FAULTSTACK_RUN_DIR"/*.rec | head -1)
head -c 40000 /dev/zero | tr '\0' 'x' >>"$f"
echo >>"$f"
SH
chmod +x "$SCRATCH/longline.sh"
fs_run -- "$SCRATCH/longline.sh"
[[ $FS_STATUS == 1 || $FS_STATUS == 2 ]] || fs_fail "a run not fully recorded is not clean" "exit status 1 or 2" "$FS_STATUS"
assert_stderr_contains "a line too long to read is reported" "NOT FULLY RECORDED"
assert_eq "runs.observed and note" "2|1 record line longer than 32767 bytes could not be read" \
    "$(q "SELECT observed, note FROM runs")"
