#!/usr/bin/env bash
# test_libc_rows.sh — one injection test per injectable row of libc's table:
# an injected failure of each libc function looks exactly like a real one (the
# return value and errno libc.spec documents), and without injection the call
# works (docs/protocol-spec.md: "An injected failure looks exactly like a real
# one to the caller").
#
# libc_rows (generated at build time from the `test` lines of
# harness/spec/libc.spec by `fs-protogen libc-tests`) runs a row's test
# expression once and prints "NAME ret=R errno=E"; `libc_rows --expect NAME`
# prints the line the spec's failure gives, so nothing of the spec is written
# down here. For every row:
#   faultstack run --fail only=NAME,nth=1 -- libc_rows NAME
# must print exactly the expected line, and the run must have exactly one
# injected fault point, a call of NAME (the test expression calls NAME once,
# last; its set-up calls other functions). Without --fail, all rows run in one
# process: natively and under faultstack the output is the same, no call
# returns its failure value and errno stays 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init libc_rows

ROWS=$DEMO_BIN/libc_rows
[[ -x $ROWS ]] || { echo "libc_rows: $ROWS is not built (target libc_rows)" >&2; exit 2; }
mapfile -t NAMES < <("$ROWS" --list)

# every fault point of `faultstack functions` has a row in the driver, and no more
fs_exec functions
assert_status 0
assert_eq "libc_rows --list is the fault points of 'faultstack functions'" \
    "$(awk 'NR > 1 && $4 == "yes" { print $1 }' "$SCRATCH/last.out")" "$(printf '%s\n' "${NAMES[@]}")"
[[ ${#NAMES[@]} -ge 80 ]] || fs_fail "injectable rows in libc.spec" ">= 80" "${#NAMES[@]}"

# ---- without injection: every call succeeds, natively and under faultstack
"$ROWS" "${NAMES[@]}" >"$SCRATCH/native.out" 2>"$SCRATCH/native.err" ||
    fs_fail "native run of libc_rows (all rows)" "exit 0" "exit $? ($(cat "$SCRATCH/native.err"))"
"$ROWS" --expect "${NAMES[@]}" >"$SCRATCH/expect.out"
bad=$(paste -d'|' "$SCRATCH/native.out" "$SCRATCH/expect.out" | awk -F'|' '{
        split($1, got, " "); split($2, want, " ")
        if (got[1] != want[1] || got[2] == want[2] || got[3] != "errno=0") print "  " $1 "   (failure: " $2 ")"
      }')
assert_eq "rows whose uninjected call failed or left errno set (native)" "" "$bad"
fs_new_db baseline
fs_run -- "$ROWS" "${NAMES[@]}"
# leaks of the test expressions' handles make the status 1; a crash or an error is >= 2
[[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "faultstack run (no --fail) of libc_rows" "exit 0 or 1" "$FS_STATUS"
assert_eq "baseline: runs row (injected|exit_code)" "0|0" "$(q 'SELECT injected, exit_code FROM runs WHERE confirms IS NULL')"
cmp -s "$SCRATCH/native.out" "$SCRATCH/last.out" ||
    fs_fail "libc_rows under faultstack (no --fail) prints what it prints natively" "(see diff)" \
        "$(diff "$SCRATCH/native.out" "$SCRATCH/last.out" | head -30)"

# ---- one run per row, its own call failed
fs_new_db inject
diffs=()
for name in "${NAMES[@]}"; do
    fs_run --fail "only=$name,nth=1" -- "$ROWS" "$name"
    expect=$("$ROWS" --expect "$name")
    got=$(cat "$SCRATCH/last.out")
    if [[ $FS_STATUS != 0 && $FS_STATUS != 1 ]]; then
        diffs+=("  $name: faultstack exited $FS_STATUS: $(head -3 "$SCRATCH/last.err")")
    elif [[ $got != "$expect" ]]; then
        diffs+=("  injected: '$got'   spec: '$expect'")
    fi
done
[[ ${#diffs[@]} -eq 0 ]] ||
    fs_fail "rows whose injected failure is not the spec's (return value and errno)" "(none)" \
        "$(printf '\n%s' "${diffs[@]}")"
# runs in order, one per row (confirmation runs left out): its injected fault points
assert_eq "each run: injected fault points (funcs|count), one of the row's function" \
    "$(printf '%s|1\n' "${NAMES[@]}")" \
    "$(q "SELECT ifnull(group_concat(f.func), '-'), count(f.func) FROM runs r
          LEFT JOIN fault_points f ON f.run_id = r.id AND f.injected = 1
          WHERE r.confirms IS NULL GROUP BY r.id ORDER BY r.id")"
assert_eq "runs that injected" "${#NAMES[@]}" "$(q 'SELECT count(*) FROM runs WHERE confirms IS NULL AND injected = 1')"
