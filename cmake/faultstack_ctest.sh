#!/bin/sh
# faultstack_ctest.sh — the command of a test registered by faultstack_add_test()
# (faultstack_add_test.cmake): runs faultstack on a fresh database, writes the
# JUnit report beside it, prints the findings when there are some, and exits
# with faultstack's status (0 nothing found, 1 findings, 2 tool error).
#
# usage: sh faultstack_ctest.sh FAULTSTACK DB JUNIT run|sweep [OPTIONS...] -- COMMAND [ARGS...]
#   (OPTIONS include --db DB; faultstack_add_test builds the whole line)
set -u
if [ $# -lt 6 ]; then
    echo "faultstack_ctest.sh: usage: faultstack_ctest.sh FAULTSTACK DB JUNIT run|sweep [OPTIONS...] -- COMMAND [ARGS...]" >&2
    exit 2
fi
fs=$1 db=$2 junit=$3
shift 3
mkdir -p "$(dirname "$db")" "$(dirname "$junit")" || exit 2
rm -f "$db" "$db-wal" "$db-shm" "$db-journal" "$junit"

"$fs" "$@"
status=$?

# The JUnit report of what was found (report exits 1 when there are findings).
"$fs" report --db "$db" --format junit >"$junit.tmp"
rs=$?
if [ $rs -le 1 ] && [ -s "$junit.tmp" ]; then
    mv "$junit.tmp" "$junit"
else
    rm -f "$junit.tmp"
    echo "faultstack_ctest.sh: no JUnit report (faultstack report --format junit exited $rs)" >&2
    [ $status -ne 0 ] || status=2
fi
if [ $status -eq 1 ]; then
    echo "== faultstack report --db $db"
    "$fs" report --db "$db"
fi
echo "faultstack: exit $status; database $db; JUnit $junit"
exit $status
