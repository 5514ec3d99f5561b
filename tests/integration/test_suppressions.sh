#!/usr/bin/env bash
# test_suppressions.sh — suppression files (docs/suppressions.md, issue 12)
# on the minilib demo (a library and its asserting test driver):
# - round trip: `report --format suppressions` accepts today's findings as a
#   baseline; a new sweep with it records the same findings, all marked
#   suppressed (with the rule's name), none open, exit 0;
# - each kind of rule accepts what it says and nothing more: the one-line
#   LeakSanitizer form, category:kind with keys (function, module, file, fault,
#   fault-caller), driver-gave-up, valgrind-style frame patterns with '...';
# - bad files: FILE:LINE: expected ..., exit 2, for sweep, run and report.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init suppressions

PROG=$DEMO_BIN/demo_minilib_test
LIB=minilib.c
DRV=minilib_test.c

# ---- today's findings
fs_new_db today
fs_exec sweep --db "$DB" --mode exec -j 2 --timeout 30 -- "$PROG"
assert_status 1
TODAY=$(fs_finding_rows)
NFIND=$(q "SELECT count(*) FROM findings")
[[ $NFIND -ge 5 ]] || fs_fail "the minilib sweep has findings to suppress" ">= 5" "$NFIND"

# ---- round trip through --format suppressions
fs_exec report --db "$DB" --format suppressions
assert_status 1
cp "$SCRATCH/last.out" "$SCRATCH/baseline.supp"
assert_eq "one rule per bug (the bugs view's grouping, lines left out)" \
    "$(q "SELECT count(*) FROM bugs")" "$(grep -c '^{$' "$SCRATCH/baseline.supp")"
fs_new_db again
fs_exec sweep --db "$DB" --mode fork -j 2 --timeout 30 --suppressions "$SCRATCH/baseline.supp" -- "$PROG"
assert_status 0
assert_eq "round trip: the same findings are recorded" "$TODAY" "$(fs_finding_rows)"
assert_eq "round trip: all suppressed, each with its rule's name" "$NFIND|$NFIND|0" \
    "$(q "SELECT sum(suppressed), count(suppression), sum(status = 'open') FROM findings")"
assert_stderr_contains "round trip: the sweep says so" "also $NFIND suppressed"
fs_exec report --db "$DB"
assert_status 0
assert_stdout_contains "round trip: the text report counts them" "not counted: $NFIND suppressed (rules: "
fs_exec report --db "$DB" --format junit
assert_status 0
assert_stdout_lacks "round trip: junit has no failure" "<failure"
# a baseline accepts its own bugs, not new ones: one made of the library
# crash alone leaves the driver's SIGSEGV (same kind, another site) open
CRASH_KEY=$(sqlite3 -batch -noheader "$SCRATCH/today.db" \
    "SELECT r.fault_spec FROM findings f JOIN runs r ON r.id = f.first_run WHERE f.kind = 'SIGSEGV' AND f.file LIKE '%/$LIB'")
fs_new_db one
fs_run --fail "$CRASH_KEY" -- "$PROG"
assert_status 1
fs_exec report --db "$DB" --format suppressions
cp "$SCRATCH/last.out" "$SCRATCH/one.supp"
fs_new_db one-applied
fs_exec sweep --db "$DB" --mode exec -j 2 --timeout 30 --suppressions "$SCRATCH/one.supp" -- "$PROG"
assert_status 1
assert_eq "a one-bug baseline: only that bug suppressed (kind|file|status)" \
    "SIGSEGV|$LIB|suppressed
SIGSEGV|$DRV|open" \
    "$(q "SELECT kind, replace(file, rtrim(file, replace(file, '/', '')), ''), status FROM findings
          WHERE kind = 'SIGSEGV' ORDER BY file")"
assert_eq "a one-bug baseline: the others open or gave up" "0|1" \
    "$(q "SELECT sum(status = 'suppressed' AND kind != 'SIGSEGV'), sum(status = 'driver-gave-up') FROM findings")"

# report --suppressions on the original database marks the same findings
DB=$SCRATCH/today.db
fs_exec report --db "$DB" --suppressions "$SCRATCH/baseline.supp"
assert_status 0
assert_eq "report --suppressions: every finding of today suppressed" "$NFIND" \
    "$(q "SELECT count(*) FROM findings WHERE status = 'suppressed'")"

# ---- each kind of rule: report --suppressions F marks again; which are suppressed?
# prints kind|file|fault_func of the suppressed findings, sorted
suppressed_by() {
    printf '%s\n' "$2" >"$SCRATCH/$1.supp"
    fs_exec report --db "$DB" --suppressions "$SCRATCH/$1.supp" >&2
    [[ $FS_STATUS == 0 || $FS_STATUS == 1 ]] || fs_fail "report --suppressions $1.supp" "exit 0 or 1" "$FS_STATUS"
    q "SELECT kind, replace(file, rtrim(file, replace(file, '/', '')), ''), ifnull(fault_func, '-')
       FROM findings WHERE suppressed = 1 ORDER BY 1, 2, 3"
}

assert_eq "one-line rule leak:PATTERN (LSan): a function anywhere in the acquire stack" \
    "memory|$LIB|calloc
memory|$LIB|malloc" \
    "$(suppressed_by lsan "# the key lost in ml_validate
leak:ml_validate")"
assert_eq "one-line rule: a source file anywhere in the stack (main is in every leak's stack)" \
    "memory|$LIB|calloc
memory|$LIB|malloc
memory|$DRV|-" \
    "$(suppressed_by lsan1 "leak:$DRV")"
assert_eq "one-line rule, anchored: ^ml_ matches only functions starting ml_ (the library's leaks)" \
    "memory|$LIB|calloc
memory|$LIB|malloc" \
    "$(suppressed_by lsan2 'leak:^ml_alloc$')"
assert_eq "block: crash:SIGSEGV in module libdemo_minilib.so" "SIGSEGV|$LIB|malloc" \
    "$(suppressed_by crashlib '{
   library-crash
   crash:SIGSEGV
   module: libdemo_minilib.so
}')"
assert_eq "block: fault: calloc accepts only the finding that fault exposes" "memory|$LIB|calloc" \
    "$(suppressed_by fault '{
   calloc-path
   leak:memory
   function: ml_alloc
   fault: calloc
}')"
assert_eq "bugs view: a bug with one finding suppressed and one open is open" "open|2" \
    "$(q "SELECT status, findings FROM bugs WHERE category = 'leak' AND file LIKE '%/$LIB'")"
assert_eq "block: fault: none accepts baseline findings only" "memory|$DRV|-" \
    "$(suppressed_by none '{
   baseline-only
   *
   fault: none
}')"
assert_eq "block: driver-gave-up" "SIGABRT|$DRV|malloc" \
    "$(suppressed_by gaveup '{
   driver-asserts
   driver-gave-up
}')"
assert_eq "block: fault-caller glob" "SIGSEGV|$LIB|malloc" \
    "$(suppressed_by caller '{
   title-unchecked
   crash
   fault-caller: ml_parse
   file: */minilib.c
}')"
# frame patterns against the leak's acquire stack (leaks.stack): ml_alloc,
# ml_strndup, ml_validate, main...
assert_eq "frames: fun:ml_alloc ... fun:ml_validate" "memory|$LIB|calloc
memory|$LIB|malloc" \
    "$(suppressed_by frames '{
   key-lost-in-validate
   leak:memory
   fun:ml_alloc
   ...
   fun:ml_validate
}')"
assert_eq "frames: without '...', ml_strndup in between does not match" "" \
    "$(suppressed_by frames2 '{
   no-gap
   leak:memory
   fun:ml_alloc
   fun:ml_validate
}')"
assert_eq "frames: src:FILE:LINE, src:FILE, fun:" "memory|$LIB|calloc
memory|$LIB|malloc" \
    "$(suppressed_by frames3 "{
   by-source
   leak
   src:minilib.c:$(marker_line $LIB '/* FS-EXPECT: leak memory */')
   src:*/minilib.c
   fun:ml_validate
}")"
assert_eq "frames: obj: (the site's module), then ... up to main" "memory|$LIB|calloc
memory|$LIB|malloc" \
    "$(suppressed_by frames4 '{
   by-object
   leak
   obj:libdemo_minilib.so
   ...
   fun:main
}')"
assert_eq "a rule accepting nothing here: nothing suppressed, exit 1" "" \
    "$(suppressed_by nothing '{
   other
   anomaly:fd
}')"
fs_exec report --db "$DB" --suppressions "$SCRATCH/nothing.supp"
assert_status 1

# ---- bad files: FILE:LINE: expected ..., exit 2, nothing recorded
bad() {   # NAME CONTENT LINE WHAT
    printf '%s\n' "$2" >"$SCRATCH/$1.supp"
    fs_exec report --db "$DB" --suppressions "$SCRATCH/$1.supp"
    assert_status 2
    assert_stderr_contains "bad file $1: where and what" "$SCRATCH/$1.supp:$3: expected $4"
}
bad noopen 'leak memory' 1 "'{' opening a rule"
bad what '{
   name
   leek
}' 3 "what the rule accepts"
bad key '{
   name
   leak
   funcion: x
}' 4 "KEY: PATTERN"
bad unclosed '{
   name
   leak:memory
   module: x' 4 "'}' closing the rule opened at line 1"
bad noname '{
}' 2 "the rule's name"
bad line '{
   n
   leak
   line: twelve
}' 4 "a line number"
fs_exec report --db "$DB" --suppressions "$SCRATCH/does-not-exist.supp"
assert_status 2
assert_stderr_contains "missing file" "cannot read suppressions file '$SCRATCH/does-not-exist.supp'"

for cmd in sweep run; do
    fs_new_db "bad-$cmd"
    fs_exec "$cmd" --db "$DB" --suppressions "$SCRATCH/what.supp" -- "$PROG"
    assert_status 2
    assert_stderr_contains "$cmd: bad file" "faultstack $cmd: $SCRATCH/what.supp:3: expected what the rule accepts"
    [[ ! -s $DB ]] || assert_eq "$cmd: nothing recorded" 0 "$(q 'SELECT count(*) FROM runs')"
done
fs_exec sweep --db "$DB" --scope 'lib/x' -- "$PROG"
assert_status 2
assert_stderr_contains "bad --scope" "bad --scope 'lib/x'"
