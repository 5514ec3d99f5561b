#!/usr/bin/env bash
# test_run_points_cap.sh — issue 11's database bound for a plain run: a
# `faultstack run` with nothing to fail keeps its first 5,000 fault points as
# rows (fault_points) and every call site with its number of calls
# (fault_sites), so a malloc loop no longer stores a row per call (it stored
# 200,000: 29 MB and most of the run's time for issue 11's loop). No site is
# lost: the sites' calls add up to the run's points_total. FAULTSTACK_MAX_POINTS
# overrides the cap; a run under the cap has no fault_sites rows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init run_points_cap

LOOP=$DEMO_BIN/bench_preload_loop          # bench/preload/loop.c: malloc/free from one site
[[ -x $LOOP ]] || { echo "run_points_cap: $LOOP not built (cmake --build build)" >&2; exit 2; }

fs_new_db capped
fs_run -- "$LOOP" 400000                    # 200,000 malloc fault points
assert_status 0
assert_eq "capped run: points_total" 200000 "$(q "SELECT points_total FROM runs")"
assert_eq "capped run: fault_points rows (the first 5,000)" "5000|1|5000" \
    "$(q "SELECT count(*), min(ordinal), max(ordinal) FROM fault_points")"
assert_eq "capped run: fault_sites (malloc in loop.c, every call counted)" "malloc|loop.c|200000|1" \
    "$(q "SELECT func, replace(file, rtrim(file, replace(file, '/', '')), ''), calls, first_ordinal FROM fault_sites")"
size=$(stat -c %s "$DB")
[[ $size -lt $((1024 * 1024)) ]] || fs_fail "capped run: the database stays under 1 MiB" "< 1048576 bytes" "$size"

# A fork past the cap (each process then makes 100,000 more points): the
# run's total and the sites' calls lose none and count none twice; the
# child's sites count its own calls, not its parent's before the fork again
# (they did: malloc's calls added up to 400,000).
fs_new_db forked
fs_run -- "$LOOP" 400000 fork               # 100,000 mallocs, a fork, then 2 x 100,000
assert_status 0
assert_eq "a run that forks past the cap: points_total (the child's fflush is one)" 300001 "$(q "SELECT points_total FROM runs")"
assert_eq "a run that forks past the cap: the sites' calls" "fflush|1
malloc|300000" "$(q "SELECT func, sum(calls) FROM fault_sites GROUP BY func ORDER BY func")"

# With threads each thread counts its sites in its own lines past the cap
# (tcount.c), added up at fork, thread end and process end: two threads and a
# child forked while they run must still add up exactly.
fs_new_db threads
fs_run -- "$LOOP" 400000 threads            # 2 x 100,000 mallocs in threads, 50,000 in a child
assert_status 0
assert_eq "threads and a fork past the cap: points_total" 250000 "$(q "SELECT points_total FROM runs")"
assert_eq "threads and a fork past the cap: the sites' calls" "malloc|250000" \
    "$(q "SELECT func, sum(calls) FROM fault_sites GROUP BY func ORDER BY func")"

fs_new_db override
FAULTSTACK_MAX_POINTS=200000 fs_run -- "$LOOP" 400000
assert_eq "FAULTSTACK_MAX_POINTS=200000: every point a row, no fault_sites" "200000|0" \
    "$(q "SELECT (SELECT count(*) FROM fault_points), (SELECT count(*) FROM fault_sites)")"

fs_new_db small
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_eq "a run under the cap: its points are all rows, no fault_sites" "0" \
    "$(q "SELECT count(*) FROM fault_sites WHERE run_id IN (SELECT id FROM runs WHERE points_total = (SELECT count(*) FROM fault_points))")"
assert_eq "a run under the cap: fault_sites is empty" "0" "$(q "SELECT count(*) FROM fault_sites")"

# A sweep's fault run stores its fault and what follows it at sites the
# baseline never reached — not the baseline's prefix again (a fault at the
# 5,000th malloc used to store 5,000 rows; jq's sweep went from 348 KB to 1 KB
# per fault run, bench/RESULTS.md).
fs_new_db sweep
fs_exec sweep --db "$DB" --mode exec --strategy nth --shard 5000/5000 --max-runs 2 -j 1 --timeout 30 \
    -- "$LOOP" 40000
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "the sweep of the loop ran" "exit status 0 or 1" "$FS_STATUS"
assert_eq "sweep: the baseline's point rows" 20000 \
    "$(q "SELECT count(*) FROM fault_points WHERE run_id = (SELECT baseline_run FROM sweeps)")"
assert_eq "sweep: each fault run's point rows (ordinal|rows|injected)" "4999|1|1
9999|1|1" \
    "$(q "SELECT min(p.ordinal), count(*), sum(p.injected) FROM fault_points p JOIN runs r ON r.id = p.run_id
          WHERE r.sweep_key IS NOT NULL GROUP BY r.id ORDER BY 1")"
