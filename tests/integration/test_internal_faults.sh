#!/usr/bin/env bash
# test_internal_faults.sh — issue 8 §6: `--fail internal` makes the calls
# libc makes itself fault points too (the malloc inside fopen, getline,
# getpwnam...), at the program's call that led into libc; the default stays
# as it is.
#
# targets/demo/internal_alloc.c leaks its FILE when the malloc inside
# getline() fails (FS-FAULT line). Expected:
# - a run with --fail internal lists malloc fault points at the fopen line
#   (inside fopen) and at the getline line (inside getline);
# - a default sweep (no internal) has no malloc point there and finds nothing;
# - `sweep --strategy nth --fail internal` (exec mode: `--mode fork` is
#   refused) finds exactly the FILE leak at the FS-EXPECT line caused by malloc
#   at the getline line, and its repro replays it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init internal_faults

INPUT=$DEMO_SRC/fd_leak.c
fopen_line=$(marker_line internal_alloc.c '/* FS-EXPECT: leak file */')
getline_line=$(marker_line internal_alloc.c '/* FS-FAULT */')

fs_new_db points
fs_run --fail internal -- "$DEMO_BIN/demo_internal_alloc" "$INPUT"
assert_status 0
assert_eq "internal: malloc fault points inside fopen and inside getline (line|count>0)" \
    "$fopen_line|1
$getline_line|1" \
    "$(q "SELECT line, count(*) > 0 FROM fault_points WHERE func = 'malloc' AND line IN ($fopen_line, $getline_line) GROUP BY line ORDER BY line")"

fs_sweep_check default exec "" demo_internal_alloc "$INPUT"
assert_eq "default sweep: no malloc point inside getline" 0 \
    "$(q "SELECT count(*) FROM fault_points WHERE func = 'malloc' AND line = $getline_line")"

# fork mode would fork inside libc, with libc's locks held: refused when asked
# for, and the default mode is exec
fs_new_db internal-fork
fs_exec sweep --db "$DB" --mode fork --strategy nth --fail internal -- "$DEMO_BIN/demo_internal_alloc" "$INPUT"
assert_status 2
assert_stderr_contains "internal + --mode fork: refused, with the reason" "could deadlock on libc's own locks"
fs_new_db internal
fs_exec sweep --db "$DB" --strategy nth --fail internal -j 2 --timeout 30 -- \
    "$DEMO_BIN/demo_internal_alloc" "$INPUT"
assert_status 1
assert_eq "internal: every run in exec mode" 0 "$(q "SELECT count(*) FROM runs WHERE mode = 'fork'")"
fs_expect_exact_findings "internal" "leak|file|-|fopen|internal_alloc.c|$fopen_line|malloc|$getline_line"
id=$(q "SELECT id FROM findings")
fs_exec repro --db "$DB" "$id"
assert_status 0
