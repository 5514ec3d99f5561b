#!/usr/bin/env bash
# test_sweep_fork_parity.sh — a forked run judges exactly as an exec run of the
# same key (issue 8 §5: jansson's test_dump leaked at nth=35-41 and 57-60 in
# exec mode and only at nth=41 in fork mode).
#
# targets/demo/fork_parity.c primes every small malloc size class with a
# dangling global, then loses one block of each class on the error path of its
# fopen(): 63 leaks in an exec run. Whether each block is a leak depends on
# where malloc puts it, so a forked child that allocated from the target's heap
# while it set itself up (it used setenv) moves some of them onto a dangling
# pointer, and sees fewer leaks than the exec run of the same key.
#
# Checked, for --strategy nth in fork and in exec mode: for every sweep key,
# the leaks of its fault run (site, fault, how many) are the same in both
# modes; the fopen fault's run leaks all 63 blocks, and in fork mode it is a
# forked run; both sweeps give the same findings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fork_parity

P=$DEMO_BIN/demo_fork_parity
SRC=fork_parity.c
echo "a line" >"$SCRATCH/input.txt"
LEAK_LINE=$(marker_line "$SRC" '/* FS-EXPECT: leak memory */')
FAULT_LINE=$(marker_line "$SRC" '/* FS-FAULT */')
NCLASS=63

# leaks_by_key: "key|func|line|fault_func|fault_line|count" for the leaks of
# every fault run of the sweep in $DB (not the exec replays of fork mode), sorted
leaks_by_key() {
    q "SELECT r.sweep_key, l.func, l.line, ifnull(l.fault_func,'-'), ifnull(l.fault_line,'-'), count(*)
       FROM runs r JOIN leaks l ON l.run_id = r.id
       WHERE r.sweep_key IS NOT NULL AND r.confirms IS NULL
       GROUP BY r.id, l.func, l.line, l.fault_func, l.fault_line" | LC_ALL=C sort
}

declare -A LEAKS FINDINGS
for mode in exec fork; do
    fs_new_db "nth-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --strategy nth -j 2 --timeout 30 -- "$P" "$SCRATCH/input.txt"
    assert_status 1
    assert_eq "$mode: the baseline run exits 0 and leaks nothing" "0|0" \
        "$(q "SELECT r.exit_code, (SELECT count(*) FROM leaks l WHERE l.run_id = r.id) FROM runs r
              WHERE r.fault_spec IS NULL AND r.sweep_key IS NULL AND r.confirms IS NULL")"
    # the run that failed the fopen: all NCLASS blocks of the report are lost
    key=$(q "SELECT r.sweep_key FROM runs r JOIN fault_points p ON p.run_id = r.id
             WHERE r.confirms IS NULL AND p.injected = 1 AND p.func = 'fopen' AND p.line = $FAULT_LINE
             AND instr(r.sweep_key, 'then=') = 0")
    [[ $key == nth=* ]] || fs_fail "$mode: a fault run failed the fopen" "one nth= key" "${key:-none}"
    assert_eq "$mode: leaks of the run of $key (the fopen fault)" "$NCLASS" \
        "$(q "SELECT count(*) FROM leaks l JOIN runs r ON r.id = l.run_id WHERE r.sweep_key = '$key'
              AND r.confirms IS NULL AND l.line = $LEAK_LINE AND l.fault_func = 'fopen'
              AND l.fault_line = $FAULT_LINE")"
    if [[ $mode == fork ]]; then
        assert_eq "fork: the run of $key was forked" fork \
            "$(q "SELECT mode FROM runs WHERE sweep_key = '$key' AND confirms IS NULL")"
        fs_expect_fork_runs fork_parity
    fi
    LEAKS[$mode]=$(leaks_by_key)
    FINDINGS[$mode]=$(fs_finding_rows)
done

if [[ ${LEAKS[fork]} != "${LEAKS[exec]}" ]]; then
    fs_fail "fork and exec mode: the leaks of every sweep key (key|func|line|fault_func|fault_line|count)" \
        "$(printf '\n%s' "${LEAKS[exec]}" | sed 's/^/      /')" \
        "$(printf '\n%s' "${LEAKS[fork]}" | sed 's/^/      /')" \
        "$(printf 'only in exec mode:\n'; LC_ALL=C comm -23 <(echo "${LEAKS[exec]}") <(echo "${LEAKS[fork]}") | sed 's/^/      /'
           printf '  only in fork mode:\n'; LC_ALL=C comm -13 <(echo "${LEAKS[exec]}") <(echo "${LEAKS[fork]}") | sed 's/^/      /')"
fi
assert_eq "fork and exec mode: the findings" "${FINDINGS[exec]}" "${FINDINGS[fork]}"
