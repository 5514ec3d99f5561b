#!/usr/bin/env bash
# test_install.sh — `cmake --install` of this build into a temporary prefix gives
# a faultstack that a separate project can use, and that runs from the prefix:
#   - the files land where GNUInstallDirs and `faultstack --help` say (CLI,
#     preload, schema.sql, queries/, man pages, CMake package, faultstack.pc);
#   - the installed CLI names the prefix's files in --help and runs the target
#     with the prefix's preload (LD_PRELOAD seen by the target), not the build's;
#   - pkg-config's variables point at those files;
#   - tests/install/consumer (find_package(faultstack) + faultstack_add_test
#     SWEEP) configures, builds and runs: the planted fd leak's test fails with
#     the leak found, its fixed twin's test passes, a plain run passes, each
#     leaves its database and JUnit file in <build>/faultstack/; the options
#     PROTOCOL, SUPPRESSIONS, FAIL_ON, STRATEGY, TIMEOUT, JOBS, ARGS become the
#     faultstack options they stand for;
#   - the package gives its version and paths, faultstack::headers when
#     harness/include/faultstack/ has headers, and refuses an incompatible
#     version (find_package(faultstack 9.0)).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init install
fs_need_python

SRC=$(cd "$FS_LIB_DIR/../.." && pwd)
# The build tree of $FAULTSTACK: the directory above it that holds CMakeCache.txt.
BUILD=$(dirname "$FAULTSTACK")
while [[ $BUILD != / && ! -f $BUILD/CMakeCache.txt ]]; do BUILD=$(dirname "$BUILD"); done
[[ -f $BUILD/CMakeCache.txt ]] || fs_fail "the build tree of $FAULTSTACK" "a CMakeCache.txt above it" "none"
CMAKE=$(sed -n 's/^CMAKE_COMMAND:INTERNAL=//p' "$BUILD/CMakeCache.txt")
CTEST=$(sed -n 's/^CMAKE_CTEST_COMMAND:INTERNAL=//p' "$BUILD/CMakeCache.txt")
[[ -x $CMAKE && -x $CTEST ]] || fs_fail "cmake and ctest of the build" "executables" "'$CMAKE' '$CTEST'"
command -v pkg-config >/dev/null || { echo "install: pkg-config is needed (apt-get install pkg-config)" >&2; exit 2; }
unset FAULTSTACK_PRELOAD

# run CMD...: run it with its output in $SCRATCH/cmd.log; fail the test when it fails.
run() {
    echo "+ $*"
    "$@" >"$SCRATCH/cmd.log" 2>&1 || fs_fail "$* succeeds" "exit 0" "exit $?" "$(tail -30 "$SCRATCH/cmd.log")"
}

# 1. install into a temporary prefix
P=$SCRATCH/prefix
run "$CMAKE" --install "$BUILD" --prefix "$P"
PC=$(find "$P" -name faultstack.pc -path '*/pkgconfig/*')
[[ -n $PC ]] || fs_fail "faultstack.pc installed" "<libdir>/pkgconfig/faultstack.pc" "$(cd "$P" && find . -type f | sort)"
export PKG_CONFIG_PATH=$(dirname "$PC")
pcvar() { pkg-config --variable="$1" faultstack; }
[[ $(pcvar prefix) == "$P" ]] || fs_fail "faultstack.pc's prefix is the one installed to" "$P" "$(pcvar prefix)"
LIBDIR=$(pcvar libdir)
for f in "$(pcvar faultstack)" "$(pcvar preload)" "$(pcvar schema)" "$(pcvar cmakedir)/faultstackConfig.cmake" \
         "$(pcvar cmakedir)/faultstackConfigVersion.cmake" "$(pcvar cmakedir)/faultstackTargets.cmake" \
         "$(pcvar cmakedir)/faultstack_add_test.cmake" "$(pcvar cmakedir)/faultstack_ctest.sh"; do
    [[ -f $f ]] || fs_fail "installed: $f" "a file" "missing; installed: $(cd "$P" && find . -type f | sort | tr '\n' ' ')"
done
[[ $(pcvar faultstack) == "$P/bin/faultstack" && $(pcvar preload) == "$LIBDIR/faultstack/libfaultstack-preload.so" ]] ||
    fs_fail "pkg-config variables faultstack and preload" "$P/bin/faultstack, $LIBDIR/faultstack/libfaultstack-preload.so" \
            "$(pcvar faultstack), $(pcvar preload)"
# every canned query and every man page of the source tree is installed
want=$(cd "$SRC/reports/queries" && ls *.sql | sort) got=$(cd "$(pcvar queries)" && ls *.sql | sort)
[[ $want == "$got" ]] || fs_fail "queries installed in $(pcvar queries)" "$want" "$got"
MAN1=$(dirname "$(find "$P" -name faultstack.1 -path '*/man1/*')")
want=$(cd "$SRC/docs/man" && ls *.1 | sort) got=$(cd "$MAN1" && ls *.1 | sort)
[[ $want == "$got" ]] || fs_fail "man pages installed in man1" "$want" "$got"
if command -v man >/dev/null; then
    MANPATH=$(dirname "$MAN1") MANWIDTH=80 man --warnings faultstack-sweep >"$SCRATCH/man.txt" 2>"$SCRATCH/man.err" ||
        fs_fail "man faultstack-sweep with MANPATH=<prefix>/share/man" "exit 0" "$(cat "$SCRATCH/man.err")"
    [[ ! -s $SCRATCH/man.err ]] || fs_fail "man faultstack-sweep without warnings" "nothing on stderr" "$(cat "$SCRATCH/man.err")"
    grep -q -- '--shard' "$SCRATCH/man.txt" || fs_fail "the installed faultstack-sweep(1)" "--shard documented" "$(head "$SCRATCH/man.txt")"
fi

# 2. the installed CLI: --help names the prefix's files and no build-tree path
FS=$P/bin/faultstack
"$FS" --help >"$SCRATCH/help.txt"
for f in "$(pcvar preload)" "$(pcvar pkgdatadir)/schema.sql" "$(pcvar pkgdatadir)/queries/"; do
    grep -qF -- "  $f" "$SCRATCH/help.txt" || fs_fail "installed faultstack --help names $f" "$f" "$(sed -n '/^Files:/,$p' "$SCRATCH/help.txt")"
done
! grep -qF -- "$BUILD" "$SCRATCH/help.txt" || fs_fail "installed faultstack --help names no build-tree path" "no $BUILD" "$(grep -F "$BUILD" "$SCRATCH/help.txt")"
# ... and runs the target with the prefix's preload
FS_RUN_CHECK="$SCRATCH/ld_preload.txt"
"$FS" run --db "$SCRATCH/preload.db" -- /bin/sh -c 'printf "%s" "$LD_PRELOAD" > "$0"' "$FS_RUN_CHECK" \
    >"$SCRATCH/cmd.log" 2>&1 || true
[[ -s $FS_RUN_CHECK ]] || fs_fail "installed faultstack run starts the target" "LD_PRELOAD written" "$(cat "$SCRATCH/cmd.log")"
grep -qF -- "$(pcvar preload)" "$FS_RUN_CHECK" || fs_fail "the target's LD_PRELOAD holds the installed preload" "$(pcvar preload)" "$(cat "$FS_RUN_CHECK")"
! grep -qF -- "$BUILD" "$FS_RUN_CHECK" || fs_fail "the target's LD_PRELOAD holds no build-tree path" "no $BUILD" "$(cat "$FS_RUN_CHECK")"
runs=$(sqlite3 "$SCRATCH/preload.db" "SELECT count(*) FROM runs WHERE points_total IS NOT NULL")
[[ $runs == 1 ]] || fs_fail "the installed faultstack observed its run" "1 observed run" "$runs"

# 3. a separate project: find_package(faultstack) + faultstack_add_test(SWEEP)
C=$SCRATCH/consumer
run "$CMAKE" -S "$SRC/tests/install/consumer" -B "$C" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Debug
cp "$SCRATCH/cmd.log" "$SCRATCH/configure.log"
grep -qF -- "-- faultstack 0.1.0: $P/bin/faultstack, $(pcvar preload)" "$SCRATCH/configure.log" ||
    fs_fail "find_package(faultstack) gives the version and the installed paths" \
            "faultstack 0.1.0: $P/bin/faultstack, $(pcvar preload)" "$(grep faultstack "$SCRATCH/configure.log")"
run "$CMAKE" --build "$C"
grep -q "^faultstack_DIR:PATH=$(pcvar cmakedir)\$" "$C/CMakeCache.txt" ||
    fs_fail "the consumer found the installed package" "faultstack_DIR=$(pcvar cmakedir)" "$(grep faultstack_DIR "$C/CMakeCache.txt")"
# the annotation header(s) of harness/include/faultstack/, once there are some
if [[ -d $SRC/harness/include/faultstack ]]; then
    want=$(cd "$SRC/harness/include/faultstack" && ls *.h | sort) got=$(cd "$P/include/faultstack" && ls *.h | sort)
    [[ $want == "$got" ]] || fs_fail "the headers of harness/include/faultstack installed in include/faultstack" "$want" "$got"
    grep -qF -- "-- faultstack::headers: $P/include" "$SCRATCH/configure.log" ||
        fs_fail "find_package(faultstack) gives faultstack::headers" "faultstack::headers: $P/include" "$(grep faultstack "$SCRATCH/configure.log")"
fi
# a version the package is not compatible with is refused (SameMinorVersion)
mkdir -p "$SCRATCH/v9"
printf 'cmake_minimum_required(VERSION 3.25)\nproject(v9 LANGUAGES NONE)\nfind_package(faultstack 9.0 REQUIRED)\n' >"$SCRATCH/v9/CMakeLists.txt"
! "$CMAKE" -S "$SCRATCH/v9" -B "$SCRATCH/v9/build" -DCMAKE_PREFIX_PATH="$P" >"$SCRATCH/v9.log" 2>&1 ||
    fs_fail "find_package(faultstack 9.0) is refused by faultstack 0.1.0" "a configure error" "$(tail "$SCRATCH/v9.log")"
grep -q 'faultstackConfig.cmake, version: 0.1.0' "$SCRATCH/v9.log" ||
    fs_fail "the refusal names the installed package and its version" "faultstackConfig.cmake, version: 0.1.0" "$(tail "$SCRATCH/v9.log")"
# the planted bug is real: without faultstack the test program passes
"$C/kvconf_test_buggy" "$SRC/tests/install/consumer/sample.conf" >/dev/null ||
    fs_fail "kvconf_test_buggy passes on its own" "exit 0" "exit $?"
ctest_one() {   # ctest_one NAME: run that one test; sets CT_STATUS, log in $SCRATCH/ctest-NAME.log
    echo "+ ctest -R ^$1\$"
    CT_STATUS=0
    (cd "$C" && "$CTEST" -R "^$1\$" --output-on-failure --timeout 100) >"$SCRATCH/ctest-$1.log" 2>&1 || CT_STATUS=$?
    grep -q "tests passed, .* out of 1\$" "$SCRATCH/ctest-$1.log" ||
        fs_fail "ctest ran the consumer's test $1" "1 test" "$(tail -20 "$SCRATCH/ctest-$1.log")"
}
ctest_one kvconf.buggy
[[ $CT_STATUS -ne 0 ]] || fs_fail "the planted bug's test kvconf.buggy fails" "ctest exit != 0" "exit 0" "$(cat "$SCRATCH/ctest-kvconf.buggy.log")"
grep -qE 'faultstack: exit 1; database' "$SCRATCH/ctest-kvconf.buggy.log" ||
    fs_fail "kvconf.buggy fails because faultstack found something (exit 1)" "faultstack: exit 1" "$(tail -20 "$SCRATCH/ctest-kvconf.buggy.log")"
ctest_one kvconf.fixed
[[ $CT_STATUS -eq 0 ]] || fs_fail "the fixed twin's test kvconf.fixed passes" "ctest exit 0" "exit $CT_STATUS" "$(cat "$SCRATCH/ctest-kvconf.fixed.log")"
ctest_one kvconf.run
[[ $CT_STATUS -eq 0 ]] || fs_fail "the one-run test kvconf.run passes" "ctest exit 0" "exit $CT_STATUS" "$(cat "$SCRATCH/ctest-kvconf.run.log")"

# their databases and JUnit files, next to the tests' output
open_line=$(grep -n 'open(path, O_RDONLY' "$SRC/tests/install/consumer/kvconf.c" | cut -d: -f1)
malloc_line=$(grep -n 'out->text = malloc' "$SRC/tests/install/consumer/kvconf.c" | cut -d: -f1)
for t in kvconf.buggy kvconf.fixed kvconf.run; do
    [[ -s $C/faultstack/$t.db && -s $C/faultstack/$t.junit.xml ]] ||
        fs_fail "$t left faultstack/$t.db and faultstack/$t.junit.xml" "both" "$(ls -l "$C/faultstack")"
done
got=$(sqlite3 "$C/faultstack/kvconf.buggy.db" "SELECT category, kind, func, line, fault_func, fault_line FROM findings")
assert_eq "kvconf.buggy's findings: the fd of open() leaked when malloc fails" "leak|fd|open|$open_line|malloc|$malloc_line" "$got"
got=$(sqlite3 "$C/faultstack/kvconf.fixed.db" "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM runs) > 3")
assert_eq "kvconf.fixed: no finding, in a real sweep (baseline + fault runs)" "0|1" "$got"
fs_pycheck "the JUnit files parse and count the findings" '
import sys, xml.etree.ElementTree as ET
d = sys.argv[1]
for name, failures in (("kvconf.buggy", 1), ("kvconf.fixed", 0), ("kvconf.run", 0)):
    root = ET.parse(f"{d}/{name}.junit.xml").getroot()
    assert root.tag == "testsuites", (name, root.tag)
    n = len(root.findall(".//failure"))
    assert n == failures, f"{name}: {n} <failure> elements, expected {failures}"
' "$C/faultstack"

# every option of faultstack_add_test becomes its faultstack option (the test is
# registered, not run: PROTOCOL and SUPPRESSIONS name files that do not exist)
(cd "$C" && "$CTEST" --show-only=json-v1 -L options-only) >"$SCRATCH/options.json"
fs_pycheck "faultstack_add_test's options on the faultstack command line" '
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
assert len(tests) == 1, [t["name"] for t in tests]
cmd, src, bld, fs = tests[0]["command"], sys.argv[2], sys.argv[3], sys.argv[4]
i = cmd.index("sweep")
assert cmd[i - 4].endswith("/faultstack_ctest.sh") and cmd[i - 3] == fs, cmd
assert cmd[i - 2] == bld + "/faultstack/kvconf.options.db" and cmd[i - 1] == bld + "/faultstack/kvconf.options.junit.xml", cmd
want = ["sweep", "--db", bld + "/faultstack/kvconf.options.db", "--strategy", "nth",
        "--protocol", src + "/kv.spec", "--protocol", "login:logout", "--fail-on", "leak,crash",
        "--suppressions", src + "/kv.supp", "--timeout", "7", "-j", "1", "--depth", "2",
        "--", bld + "/kvconf_test_fixed", "a", "b"]
assert cmd[i:] == want, f"{cmd[i:]} != {want}"
props = {p["name"]: p["value"] for p in tests[0]["properties"]}
assert props["WORKING_DIRECTORY"] == bld and "faultstack" in props["LABELS"], props
' "$SCRATCH/options.json" "$SRC/tests/install/consumer" "$C" "$FS"
