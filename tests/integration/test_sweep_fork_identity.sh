#!/usr/bin/env bash
# test_sweep_fork_identity.sh — how fork mode makes and records its runs
# (targets/demo/fork_identity.c; issue 11: the trunk creates each run with a
# raw clone(CLONE_PARENT), the supervisor commits runs in batches and keeps
# its rollback journal between transactions).
#
# Checked, for --strategy nth in fork and in exec mode:
#   - every forked run is its own process to glibc (a mutex's owner is the
#     run's own thread id) and to the kernel (a robust-mutex list), and
#     neither the trunk nor a run has a child it did not make: no run, and not
#     the trunk, exits 7 (the probe's "check failed" status);
#   - fork and exec mode give every sweep key the same exit status;
#   - every point is a forked run, all recorded, and the sweep row counts them
#     (they are committed in batches);
#   - no DB-journal file is left next to the database.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init sweep_fork_identity

P=$DEMO_BIN/demo_fork_identity
echo "a line" >"$SCRATCH/input.txt"

status_by_key() {
    q "SELECT sweep_key, ifnull(exit_code, '-'), ifnull(signal, '-') FROM runs
       WHERE sweep_key IS NOT NULL AND confirms IS NULL ORDER BY sweep_key"
}

declare -A STATUS
for mode in exec fork; do
    fs_new_db "identity-$mode"
    fs_exec sweep --db "$DB" --mode "$mode" --strategy nth -j 2 --timeout 30 -- "$P" "$SCRATCH/input.txt"
    assert_status 0
    grep -q 'fork_identity:.*\(thread id\|robust\|did not make\)' "$SCRATCH/last.err" &&
        fs_fail "$mode: the probe's checks hold in every run" "no check failure on stderr" \
            "$(grep 'fork_identity:' "$SCRATCH/last.err" | head -n 3)"
    npoints=$(q "SELECT points_total FROM runs WHERE fault_spec IS NULL AND sweep_key IS NULL")
    [[ $npoints -ge 10 ]] || fs_fail "$mode: the probe makes fault points" ">= 10" "$npoints"
    assert_eq "$mode: no run failed the probe's checks (exit 7)" 0 \
        "$(q "SELECT count(*) FROM runs WHERE exit_code = 7")"
    if [[ $mode == fork ]]; then
        grep -q 'fork pass: the trunk exited 0 ' "$SCRATCH/last.err" ||
            fs_fail "fork: the trunk ran through, its checks holding" "'the trunk exited 0'" \
                "$(grep 'fork pass' "$SCRATCH/last.err" || echo 'no fork pass line')"
        assert_eq "fork: every point is a recorded forked run" "$npoints" \
            "$(q "SELECT count(*) FROM runs WHERE mode = 'fork' AND sweep_key IS NOT NULL AND confirms IS NULL")"
        assert_eq "fork: the sweep row counts the committed runs" "$npoints" "$(q "SELECT done FROM sweeps")"
    fi
    [[ ! -e $DB-journal ]] || fs_fail "$mode: no rollback journal left after the sweep" "no $DB-journal" \
        "$(ls -l "$DB-journal")"
    STATUS[$mode]=$(status_by_key)
done
assert_eq "fork and exec mode: every sweep key's exit status" "${STATUS[exec]}" "${STATUS[fork]}"
