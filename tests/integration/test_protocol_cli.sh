#!/usr/bin/env bash
# test_protocol_cli.sh — bad protocol input gets a clear error and exit 2, and
# nothing runs: a malformed spec (FILE:LINE:COL: expected ...), a function the
# library does not export, a library that is not there, a missing spec, a
# compiler that is not there, --fail naming a protocol function that is never
# a fault point; `protocol build` insists on the -protocol.so name. A built
# protocol library without the preload passes every call through (the
# program behaves exactly as without it), and every report format carries the
# protocol's kind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init protocol_cli

DS=$DEMO_SRC/../datastore
export LD_LIBRARY_PATH=$DEMO_BIN/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export FAULTSTACK_CACHE=$SCRATCH/cache
CLIENT=$DEMO_BIN/ds_client

expect_error() {   # WHAT PATTERN: the last command exited 2 and its stderr matches PATTERN
    assert_status 2
    grep -Eq -- "$2" "$SCRATCH/last.err" ||
        fs_fail "$1: the error message" "stderr matching /$2/" "$(cat "$SCRATCH/last.err")"
    [[ ! -e $DB ]] || [[ $(q "SELECT count(*) FROM runs") == 0 ]] ||
        fs_fail "$1: nothing ran" "no run recorded" "$(q "SELECT count(*) FROM runs") runs"
}

printf 'library libdatastore.so.1\nkind session\n  acquire ds_session *ds_login(ds_store *st, const char *user, const char *key)\n  fail retrun NULL\n' \
    > "$SCRATCH/bad.spec"
fs_new_db bad
fs_run --protocol "$SCRATCH/bad.spec" -- "$CLIENT" "$SCRATCH/store"
expect_error "malformed spec" "bad\.spec:4:8: expected return, returns-errno or never after fail, found 'retrun'"

sed 's/ds_pull(/ds_pul(/' "$DS/datastore.spec" > "$SCRATCH/unexported.spec"
fs_new_db unexported
fs_exec sweep --db "$DB" --protocol "$SCRATCH/unexported.spec" -- "$CLIENT" "$SCRATCH/store"
line=$(grep -n 'ds_pul(' "$SCRATCH/unexported.spec" | cut -d: -f1)
expect_error "function not exported" "unexported\.spec:$line:[0-9]+: expected a function that libdatastore\.so\.1 exports: ds_pul "

sed 's/^library .*/library libnothere.so.7/' "$DS/datastore.spec" > "$SCRATCH/nolib.spec"
fs_new_db nolib
fs_run --protocol "$SCRATCH/nolib.spec" -- "$CLIENT" "$SCRATCH/store"
expect_error "library not found" "library libnothere\.so\.7 not found"

fs_new_db nospec
fs_run --protocol "$SCRATCH/nope.spec" -- "$CLIENT" "$SCRATCH/store"
expect_error "missing spec" "nope\.spec: cannot read the spec"

fs_new_db nocc
CC=/nonexistent/cc fs_run --protocol "$DS/datastore.spec" -- "$CLIENT" "$SCRATCH/store"
expect_error "no compiler" "cannot run the compiler '/nonexistent/cc'"

fs_new_db never
fs_run --protocol "$DS/datastore.spec" --fail only=ds_unlease,nth=1 -- "$CLIENT" "$SCRATCH/store"
expect_error "--fail on a tracked-only protocol function" "'ds_unlease' is tracked but never a fault point"

fs_exec protocol build "$DS/datastore.spec" -o "$SCRATCH/libds.so"
expect_error "protocol build output name" "does not end in -protocol\.so"

fs_exec protocol check "$DS/datastore.spec"
assert_status 0
grep -q "4 kinds, 13 functions, all exported by" "$SCRATCH/last.out" ||
    fs_fail "protocol check" "a summary line" "$(cat "$SCRATCH/last.out")"

# A protocol library alone (no preload, no faultstack): calls pass through.
fs_exec protocol build "$DS/datastore.spec" -o "$SCRATCH/libdatastore-protocol.so"
assert_status 0
rm -rf -- "$SCRATCH/store"
plain=$("$CLIENT" "$SCRATCH/store" 2>&1; echo "exit $?")
rm -rf -- "$SCRATCH/store"
wrapped=$(LD_PRELOAD=$SCRATCH/libdatastore-protocol.so "$CLIENT" "$SCRATCH/store" 2>&1; echo "exit $?")
assert_eq "the client with the protocol library but no preload" "$plain" "$wrapped"
assert_eq "the client's own run" "exit 0" "$plain"

# The protocol's kind in every report format.
fs_new_db formats
rm -rf -- "$SCRATCH/store"
fs_exec sweep --db "$DB" -j 2 --protocol "$DS/datastore.spec" -- "$DEMO_BIN/ds_client_bug1" "$SCRATCH/store"
assert_status 1
for fmt in text json junit sarif; do
    fs_exec report --db "$DB" --format "$fmt"
    grep -q 'session' "$SCRATCH/last.out" && grep -q 'ds_login' "$SCRATCH/last.out" ||
        fs_fail "report --format $fmt names the protocol's kind and function" "session, ds_login" \
            "$(head -c 600 "$SCRATCH/last.out")"
done

# The cache follows what the library is built from: the same spec twice is one
# build; a header next to the spec (`header "x.h"`) that changes is another.
mkdir -p "$SCRATCH/hdr"
{ sed -n '1,/^library /p' "$DS/datastore.spec"; echo 'header "ds_extra.h"'; sed '1,/^library /d' "$DS/datastore.spec"; } \
    > "$SCRATCH/hdr/ds.spec"
printf '#include "%s/datastore.h"\n/* version 1 */\n' "$DS" > "$SCRATCH/hdr/ds_extra.h"   # types verbatim
export FAULTSTACK_CACHE=$SCRATCH/hdrcache
fs_exec functions --protocol "$SCRATCH/hdr/ds.spec"
assert_status 0
fs_exec functions --protocol "$SCRATCH/hdr/ds.spec"
assert_eq "the same spec and header twice: one protocol library" 1 "$(find "$FAULTSTACK_CACHE" -name '*-protocol.so' | wc -l)"
printf '#include "%s/datastore.h"\n/* version 2 */\n' "$DS" > "$SCRATCH/hdr/ds_extra.h"
fs_exec functions --protocol "$SCRATCH/hdr/ds.spec"
assert_status 0
assert_eq "a changed header next to the spec: built again" 2 "$(find "$FAULTSTACK_CACHE" -name '*-protocol.so' | wc -l)"
