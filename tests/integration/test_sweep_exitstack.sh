#!/usr/bin/env bash
# test_sweep_exitstack.sh — the exitstack library under faultstack sweep.
#
# The three example programs of targets/exitstack/examples are swept with
# every allocation the library makes failing once (strategy nth, only calls
# made from libexitstack.so), in fork mode and in exec mode. exitstack's
# contract (exitstack-semantics.md, the header) is that every failure comes
# back as a clean ENOMEM error: so every fault run must exit 1 after reporting
# the error on stderr (not swallowed), with no crash, no timeout, no leak and
# no anomaly — zero findings — and the sweep must have failed every
# allocation point of the baseline exactly once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_exitstack

LIB=libexitstack.so.1
for ex in open_all_or_none datastore_session connection_cancel; do
    prog=$DEMO_BIN/es_example_$ex
    [[ -x $prog ]] || fs_fail "example $ex is built" "an executable $prog" "missing"
    for mode in fork exec; do
        fs_new_db "$ex-$mode"
        fs_exec sweep --db "$DB" --mode "$mode" --strategy nth -j 2 --fail "module=$LIB" -- "$prog"
        assert_status 0
        base=$(q "SELECT id FROM runs WHERE fault_spec IS NULL AND confirms IS NULL ORDER BY id LIMIT 1")
        points=$(q "SELECT points_total FROM runs WHERE id = $base")
        [[ $points -ge 3 ]] || fs_fail "$ex/$mode: the library allocates in the baseline" ">= 3 points" "$points"
        assert_eq "$ex/$mode: the baseline exits 0" 0 "$(q "SELECT exit_code FROM runs WHERE id = $base")"
        # one fault run per allocation point, each failing exactly that ordinal
        assert_eq "$ex/$mode: every point failed once" "$points" \
            "$(q "SELECT count(DISTINCT sweep_key) FROM runs WHERE sweep_key LIKE 'nth=%' AND sweep_key NOT LIKE '%then=%'")"
        assert_eq "$ex/$mode: each fault run injected" 0 \
            "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND injected = 0")"
        assert_eq "$ex/$mode: every fault run exits 1 (clean error)" 0 \
            "$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND (exit_code IS NOT 1 OR signal IS NOT NULL OR timed_out)")"
        assert_eq "$ex/$mode: no failure swallowed" 0 "$(q "SELECT count(*) FROM runs WHERE swallowed = 1")"
        assert_eq "$ex/$mode: no findings" 0 "$(q "SELECT count(*) FROM findings")"
        assert_eq "$ex/$mode: no leaks in any run (fork runs included)" 0 "$(q "SELECT count(*) FROM leaks")"
        assert_eq "$ex/$mode: no anomalies" 0 "$(q "SELECT count(*) FROM anomalies")"
        if [[ $mode == exec ]]; then
            assert_eq "$ex/exec: exec mode makes no fork runs" 0 "$(q "SELECT count(*) FROM runs WHERE mode = 'fork'")"
        fi
    done
done
