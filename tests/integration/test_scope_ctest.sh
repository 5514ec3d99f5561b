#!/usr/bin/env bash
# test_scope_ctest.sh — --scope under a real test runner (issue 12): ctest
# runs the minilib demo's driver (targets/demo/minilib_test.c) in a small CTest
# project. Faults injected into ctest itself (the first points of a sweep:
# ctest's start-up) give findings in ctest, libuv and libstdc++ that are kept
# but marked out-of-scope (or driver-gave-up) and do not count: exit 0. The
# library's own crash, replayed under ctest with its fault key, is open: exit 1.
# The driver's own leak, seen in every run, is out of scope.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init scope_ctest

command -v ctest >/dev/null && command -v cmake >/dev/null || { echo "no cmake/ctest: skipped"; exit 77; }
PROG=$DEMO_BIN/demo_minilib_test
mkdir -p "$SCRATCH/proj"
cat >"$SCRATCH/proj/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.13)
project(scope_ctest NONE)
enable_testing()
add_test(NAME minilib COMMAND $PROG)
EOF
cmake -S "$SCRATCH/proj" -B "$SCRATCH/proj/build" >/dev/null
CTEST=(ctest --test-dir "$SCRATCH/proj/build")

# ---- the first 40 points (ctest's own start-up), judged for the library only
fs_new_db runner
fs_exec sweep --db "$DB" --scope libdemo_minilib.so --mode exec -j 2 --timeout 30 --max-runs 40 \
    --expect-exit any -- "${CTEST[@]}"
assert_status 0
assert_eq "faults in the runner: no finding in scope" 0 "$(q "SELECT count(*) FROM findings WHERE status = 'open'")"
assert_eq "faults in the runner: the library was not reached" 0 \
    "$(q "SELECT count(*) FROM runs r JOIN fault_points p ON p.run_id = r.id
          WHERE r.sweep_key IS NOT NULL AND p.injected = 1 AND p.module = 'libdemo_minilib.so'")"
assert_eq "the driver's leak is recorded, out of scope" "out-of-scope|0" \
    "$(q "SELECT status, in_scope FROM findings WHERE module = 'demo_minilib_test' AND category = 'leak'")"
# without --scope the same database judges them all again: the driver's leak is open
fs_exec report --db "$DB"
assert_status 0
fs_exec report --db "$DB" --scope 'demo_minilib_test'
assert_status 1
assert_eq "report --scope demo_minilib_test: the driver's leak is now in scope" "open|1" \
    "$(q "SELECT status, in_scope FROM findings WHERE module = 'demo_minilib_test' AND category = 'leak'")"

# ---- the library's crash under ctest: its fault key from a sweep of the driver alone
fs_new_db alone
fs_exec sweep --db "$DB" --mode exec -j 2 --timeout 30 -- "$PROG"
KEY=$(q "SELECT r.fault_spec FROM findings f JOIN runs r ON r.id = f.first_run
         WHERE f.kind = 'SIGSEGV' AND f.module = 'libdemo_minilib.so'")
[[ -n $KEY ]] || fs_fail "the library crash's fault key" "a fault_spec" "none"
fs_new_db under-ctest
fs_run --scope libdemo_minilib.so --fail "$KEY" -- "${CTEST[@]}"
assert_status 1
assert_eq "under ctest: the library's crash is open, with its fault's caller" \
    "crash|SIGSEGV|libdemo_minilib.so|open|ml_parse $DEMO_SRC/minilib.c:$(marker_line minilib.c '/* FS-FAULT: title */')" \
    "$(q "SELECT category, kind, module, status, fault_caller FROM findings WHERE status = 'open'")"
