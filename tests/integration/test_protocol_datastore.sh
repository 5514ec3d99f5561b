#!/usr/bin/env bash
# test_protocol_datastore.sh — a user-defined protocol end to end: the
# datastore example (targets/datastore: libdatastore.so.1, datastore.spec and
# the ds_client driver) swept with --protocol, in fork and exec mode.
#
# The correct driver must give no finding although every fault point of the
# spec's functions (ds_login, ds_login_shared, ds_lease, ds_begin, ds_txn_push,
# ds_commit, ds_push, ds_pull, ds_logout) and of libc inside the library was
# failed — which also proves the reentrant session (the inner logout must not
# end it), the out-parameter txn ended by commit OR abort and the lease handle
# scoped to its session. Each planted bug must give exactly its findings:
#   bug1  session leak (acquired by ds_login) when ds_push fails
#   bug2  unknown-release: ds_logout of a session never logged in (ds_login failed)
#   bug3  use-after-release: ds_push on the logged-out session, on every error path
#   bug4  double-release: ds_logout again, on every error path
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init protocol_datastore

DEMO_SRC=$DEMO_SRC/../datastore                  # marker_line reads ds_client.c there
SPEC=$DEMO_SRC/datastore.spec
export LD_LIBRARY_PATH=$DEMO_BIN/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}   # libdatastore.so.1 for the spec check
export FAULTSTACK_CACHE=$SCRATCH/cache

sweep() {   # LABEL MODE PROG
    fs_new_db "$1-$2"
    rm -rf -- "$SCRATCH/store"
    fs_exec sweep --db "$DB" --mode "$2" -j 2 --timeout 30 --protocol "$SPEC" -- "$DEMO_BIN/$3" "$SCRATCH/store"
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "$1/$2: faultstack sweep ran" "exit status 0 or 1" "$FS_STATUS"
}

C=ds_client.c
LOGIN='/* FS-EXPECT session-acquire */'
PUSH='if (ds_push(batch, "b", "world", 5) != 0)'
# every fault whose error path reaches the end of main (bug3, bug4)
ERROR_PATHS=(
    "ds_login_shared|ds_session *batch = ds_login_shared("
    "ds_lease|if (ds_lease(batch, 7) != 0)"
    "ds_begin|if (ds_begin(batch, &t) != 0)"
    "ds_txn_push|if (ds_txn_push(t, \"a\", \"hello\", 5) != 0)"
    "ds_commit|if (ds_commit(t) != 0)"
    "ds_push|$PUSH"
    "ds_pull|if (ds_pull(batch, \"b\", buf, sizeof buf) != 5"
)
every_error_path() {   # ANOMALY FUNC MARKER
    local e
    for e in "${ERROR_PATHS[@]}"; do
        fs_row anomaly session "$1" "$2" $C "$3" "${e%%|*}" "${e#*|}"
    done
}

for mode in fork exec; do
    sweep ok "$mode" ds_client
    fs_expect_exact_findings "correct client/$mode" ""
    assert_status 0
    for f in ds_login ds_login_shared ds_lease ds_begin ds_txn_push ds_commit ds_push ds_pull ds_logout; do
        [[ $(q "SELECT count(*) FROM fault_points WHERE injected = 1 AND func = '$f'") -ge 1 ]] ||
            fs_fail "correct client/$mode: $f was failed by the sweep" "an injected fault point" "none"
    done
    assert_eq "correct client/$mode: kinds of the protocol's fault points" "lease session store txn" \
        "$(q "SELECT DISTINCT f.kind FROM fault_points p JOIN (SELECT 'ds_connect' fn, 'store' kind UNION ALL
              SELECT 'ds_login','session' UNION ALL SELECT 'ds_begin','txn' UNION ALL SELECT 'ds_lease','lease') f
              ON f.fn = p.func ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"

    sweep bug1 "$mode" ds_client_bug1
    fs_expect_exact_findings "bug1/$mode" "$(fs_row leak session - ds_login $C "$LOGIN" ds_push "$PUSH")"
    assert_status 1

    sweep bug2 "$mode" ds_client_bug2
    fs_expect_exact_findings "bug2/$mode" \
        "$(fs_row anomaly session unknown-release ds_logout $C '/* FS-EXPECT bug2 */' ds_login "$LOGIN")"
    assert_status 1

    sweep bug3 "$mode" ds_client_bug3
    fs_expect_exact_findings "bug3/$mode" "$(every_error_path use-after-release ds_push '/* FS-EXPECT bug3 */')"

    sweep bug4 "$mode" ds_client_bug4
    fs_expect_exact_findings "bug4/$mode" "$(every_error_path double-release ds_logout '/* FS-EXPECT bug4 */')"
done

# The protocol library is built once and then taken from the cache.
n=$(find "$FAULTSTACK_CACHE" -name '*-protocol.so' | wc -l)
assert_eq "protocol libraries in the cache after 10 sweeps with one spec" 1 "$n"
