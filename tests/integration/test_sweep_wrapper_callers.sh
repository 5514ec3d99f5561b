#!/usr/bin/env bash
# test_sweep_wrapper_callers.sh — the default strategy (site) sees through a
# thin allocation wrapper (issue 8 §5: jansson's jsonp_malloc, libyaml's
# yaml_malloc).
#
# targets/demo/wrapper_leak.c allocates everything through xmalloc(): one
# malloc call site, reached from four callers, one of them xstrdup(), a wrapper
# itself, called from two places. entry_new() loses the key when
# the allocation of the value fails. Failing the first call of each call site
# (the strategy before callers counted) fails only the table's allocation and
# finds nothing; the site strategy makes one key per caller of the wrapper
# ('site=malloc@...,caller=...'; through xstrdup, one per caller of xstrdup:
# 'caller=A/B') and must find the leak, in fork and in exec
# mode, with fewer runs than --strategy nth, whose finding it must equal.
# Checked too: the caller keys replay (`faultstack run --fail KEY` fails the
# value's allocation and shows the leak) and so does the finding's repro
# (`faultstack repro`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_wrapper_callers

SRC=wrapper_leak.c
ARGS=(a=1 bb=22 ccc=333)
EXPECTED=$(fs_row leak memory - malloc "$SRC" '/* FS-EXPECT: leak memory */' malloc '/* FS-FAULT */')
VALUE_CALL=$(marker_line "$SRC" 'e->value = xmalloc(strlen(v) + 1);')

for mode in fork exec; do
    fs_sweep_check wrapper "$mode" "$EXPECTED" demo_wrapper_leak "${ARGS[@]}"
    [[ $mode == fork ]] && fs_expect_fork_runs wrapper
    # one key per caller of xmalloc (table_new, entry_new twice), and through
    # xstrdup one per caller of xstrdup (table_new, entry_new)
    assert_eq "$mode: site keys with one caller (xmalloc's callers but xstrdup)" 3 \
        "$(q "SELECT count(DISTINCT sweep_key) FROM runs WHERE confirms IS NULL AND sweep_key LIKE 'site=malloc@%,caller=%'
              AND instr(sweep_key, 'then=') = 0 AND instr(sweep_key, '/') = 0")"
    assert_eq "$mode: site keys with two callers (xstrdup's callers)" 2 \
        "$(q "SELECT count(DISTINCT sweep_key) FROM runs WHERE confirms IS NULL AND sweep_key LIKE 'site=malloc@%,caller=%/%'
              AND instr(sweep_key, 'then=') = 0")"
    site_runs=$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND confirms IS NULL")
    KEY=$(q "SELECT r.sweep_key FROM runs r JOIN leaks l ON l.run_id = r.id
             WHERE r.confirms IS NULL AND instr(r.sweep_key, 'then=') = 0 LIMIT 1")
    FINDINGS_SITE=$(fs_finding_rows)
    # the finding's repro command replays it
    fid=$(q "SELECT id FROM findings")
    fs_exec repro --db "$DB" "$fid"
    assert_status 0
    assert_stdout_contains "$mode: repro of finding $fid" "fault site hit, finding reproduced"
done

# the caller key replays in a plain run: the value's xmalloc fails, the key leaks
fs_new_db replay
fs_run --fail "$KEY" -- "$DEMO_BIN/demo_wrapper_leak" "${ARGS[@]}"
assert_status 1
assert_eq "run --fail '$KEY': the leak" "$EXPECTED" "$(fs_finding_rows)"
[[ $(q "SELECT count(*) FROM runs r WHERE r.fault_spec IS NOT NULL AND r.injected = 1") == 1 ]] ||
    fs_fail "run --fail '$KEY' injected" "1 run with a fault" "$(q 'SELECT fault_spec, injected FROM runs')"

# nth finds the same, with more runs
fs_new_db nth
fs_exec sweep --db "$DB" --mode exec --strategy nth -j 2 --timeout 30 -- "$DEMO_BIN/demo_wrapper_leak" "${ARGS[@]}"
assert_status 1
assert_eq "nth and site: the findings" "$FINDINGS_SITE" "$(fs_finding_rows)"
nth_runs=$(q "SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL AND confirms IS NULL")
[[ $site_runs -lt $nth_runs ]] ||
    fs_fail "site makes fewer runs than nth" "fewer than $nth_runs" "$site_runs"
echo "site: $site_runs runs, nth: $nth_runs runs (value's xmalloc call: $SRC:$VALUE_CALL)"
