#!/usr/bin/env bash
# test_protocol_rows.sh — the generated wrappers of a protocol, row by row
# (targets/datastore/datastore.spec, driven by ds_rows):
#  - each injectable function, failed once (--fail only=FUNC,nth=N), returns
#    what its spec says and sets errno only when the spec names one — what a
#    real failure of that function looks like to its caller — and the run
#    records that injected fault point; without injection the call succeeds;
#  - handles in each form end up where they belong: a reentrant session entered
#    twice and left once, a txn from an out-parameter (its twin aborted), and a
#    lease number scoped to its session (the same number given back in another
#    session) are exactly the three leaks;
#  - `faultstack functions --protocol` lists the rows under the protocol's name.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init protocol_rows

DEMO_SRC=$DEMO_SRC/../datastore
SPEC=$DEMO_SRC/datastore.spec
export LD_LIBRARY_PATH=$DEMO_BIN/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export FAULTSTACK_CACHE=$SCRATCH/cache

# function | what the driver prints when it is failed (errno numbers: EACCES 13, EIO 5)
ROWS=(
    "ds_connect|ret=NULL errno=5"
    "ds_login|ret=NULL errno=13"
    "ds_login_shared|ret=NULL errno=13"
    "ds_logout|ret=-1 errno=5"
    "ds_push|ret=-5 errno=0"
    "ds_pull|ret=-5 errno=0"
    "ds_begin|ret=-12 errno=0"
    "ds_txn_push|ret=-5 errno=0"
    "ds_commit|ret=-5 errno=0"
    "ds_abort|ret=-5 errno=0"
    "ds_lease|ret=-16 errno=0"
)
for row in "${ROWS[@]}"; do
    f=${row%%|*} want=${row#*|}
    fs_new_db "$f"
    rm -rf -- "$SCRATCH/store"
    nth=1
    [[ $f == ds_connect ]] && nth=2          # the driver's own ds_connect comes first
    fs_run --protocol "$SPEC" --fail "only=$f,nth=$nth" -- "$DEMO_BIN/ds_rows" "$SCRATCH/store" "$f"
    assert_eq "$f failed once: what the caller sees" "$f $want" "$(cat "$SCRATCH/last.out")"
    assert_eq "$f failed once: its injected fault point" "1" \
        "$(q "SELECT count(*) FROM fault_points WHERE injected = 1 AND func = '$f'")"
    fs_new_db "$f-real"
    rm -rf -- "$SCRATCH/store"
    fs_run --protocol "$SPEC" -- "$DEMO_BIN/ds_rows" "$SCRATCH/store" "$f"
    case $f in
        ds_connect|ds_login|ds_login_shared) real="ret=ptr errno=0" ;;
        ds_pull) real="ret=1 errno=0" ;;
        *) real="ret=0 errno=0" ;;
    esac
    assert_eq "$f not failed: what the caller sees" "$f $real" "$(cat "$SCRATCH/last.out")"
    assert_status 0
done

fs_new_db leaks
rm -rf -- "$SCRATCH/store"
fs_run --protocol "$SPEC" -- "$DEMO_BIN/ds_rows" "$SCRATCH/store" leaks
fs_expect_exact_findings "handles of each form left at exit" "$(
    fs_row leak session - ds_login ds_rows.c '/* FS-EXPECT leak session */' - -
    fs_row leak txn - ds_begin ds_rows.c '/* FS-EXPECT leak txn */' - -
    fs_row leak lease - ds_lease ds_rows.c '/* FS-EXPECT leak lease */' - -)"
assert_status 1

fs_exec functions --protocol "$SPEC"
assert_status 0
grep -Eq '^ds_begin +txn +acquire +yes .*\[protocol datastore\]$' "$SCRATCH/last.out" ||
    fs_fail "faultstack functions --protocol lists ds_begin" "a row 'ds_begin txn acquire yes ... [protocol datastore]'" \
        "$(grep ds_begin "$SCRATCH/last.out" || echo none)"
grep -Eq '^ds_unlease +lease +release +no ' "$SCRATCH/last.out" ||
    fs_fail "faultstack functions --protocol: ds_unlease is tracked, not a fault point" "fault point no" \
        "$(grep ds_unlease "$SCRATCH/last.out" || echo none)"
