#!/bin/sh
# fuzz.sh — bounded libFuzzer session for exitstack (ctest exitstack.fuzz).
# usage: fuzz.sh WORKDIR CORPUS_DIR TESTS_SRC_DIR LIB_SRC_DIR
# Builds tests/exitstack/fuzz_exitstack.c + the library with
# clang -fsanitize=fuzzer,address,undefined into WORKDIR through
# oss-fuzz/build.sh (the OSS-Fuzz / ClusterFuzzLite build script), copies CORPUS_DIR
# into WORKDIR/corpus (the source corpus is never modified) and fuzzes for
# FAULTSTACK_FUZZ_SECONDS (default 60). Fails on any crash, leak, UB report
# or model mismatch; the reproducer is left in WORKDIR as crash-*/leak-*:
# add it to corpus/exitstack/fuzz_exitstack as regress-<what> once fixed.
set -eu
work=$1 corpus=$2 tsrc=$3 lsrc=$4
secs=${FAULTSTACK_FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
    for c in clang clang-16 clang-15 clang-14; do
        if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
    done
fi
if [ -z "$CC" ]; then
    echo "exitstack.fuzz: clang not found. libFuzzer needs clang: apt-get install clang libclang-rt-dev" \
         "(Debian 12: clang-14 libclang-rt-14-dev), or set FUZZ_CC." >&2
    exit 1
fi
mkdir -p "$work"
rm -rf "$work/corpus" "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
mkdir -p "$work/corpus"
cp "$corpus"/* "$work/corpus/" 2>/dev/null || true
echo "exitstack.fuzz: building with $CC through oss-fuzz/build.sh"
CC=$CC CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$work" SRC_ROOT="$(cd "$tsrc/../.." && pwd)" \
    bash "$tsrc/oss-fuzz/build.sh"
echo "exitstack.fuzz: fuzzing for ${secs}s"
cd "$work"
# -timeout: one input over 10 s is a hang; -rss_limit: the model arena is ~40 MB.
if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ./fuzz_exitstack -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=512 \
        -print_final_stats=1 corpus >fuzz.log 2>&1; then
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|cov:" fuzz.log | tail -4
    echo "exitstack.fuzz: no crash in ${secs}s"
else
    tail -60 fuzz.log
    echo "exitstack.fuzz: FAILED — reproducer(s): $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null)" >&2
    exit 1
fi
