#!/bin/bash
# test_package.sh — the installed exitstack package works for a consumer
# (ctest exitstack.package). usage: test_package.sh BUILD_DIR
# Installs the component "exitstack" of BUILD_DIR into a temporary prefix,
# then builds and runs a tiny consumer project three ways: CMake
# find_package(exitstack) with exitstack::exitstack (shared) and
# exitstack::exitstack_static, and pkg-config (cc $(pkg-config --cflags
# --libs exitstack), with -Wall -Wextra -Wpedantic -Werror). Nothing outside the temporary directory is touched.
set -euo pipefail
build=$1
fail() { echo "test_package: $*" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "test_package: pkg-config not found (apt-get install pkg-config)"; exit 77; }
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --component exitstack --prefix "$prefix" >"$tmp/install.log" ||
    { cat "$tmp/install.log" >&2; fail "cmake --install --component exitstack failed"; }
for f in include/exitstack.h share/doc/exitstack/exitstack-semantics.md; do
    [[ -f $prefix/$f ]] || fail "not installed: $f"
done
libdir=$(dirname "$(find "$prefix" -name 'libexitstack.so.1' | head -1)")
[[ -n $libdir && $libdir != . ]] || fail "libexitstack.so.1 not installed"
for f in libexitstack.so libexitstack.a cmake/exitstack/exitstackConfig.cmake \
         cmake/exitstack/exitstackConfigVersion.cmake pkgconfig/exitstack.pc; do
    [[ -e $libdir/$f ]] || fail "not installed: ${libdir#$prefix/}/$f"
done
if find "$prefix" -type f | grep -v exitstack | grep -q .; then
    fail "the exitstack component installs files that are not exitstack's: $(find "$prefix" -type f | grep -v exitstack)"
fi

mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/main.c" <<'C'
/* main.c — a consumer of the installed exitstack (test_package.sh). */
#include <exitstack.h>
#include <stdio.h>
#include <stdlib.h>

static int runs;
static es_error *count(void *arg) { (void)arg; runs++; return NULL; }

int main(void)
{
    es_stack *st;
    es_error *err = es_new(&st);
    if (!err) err = es_callback(st, count, NULL);
    if (!err) err = es_defer_free(st, malloc(16));
    err = es_error_chain(es_free(st), err);
    if (err || runs != 1) { fprintf(stderr, "consumer: failed\n"); es_error_free(err); return 1; }
    printf("consumer: ok (exitstack %d.%d)\n", EXITSTACK_VERSION_MAJOR, EXITSTACK_VERSION_MINOR);
    return 0;
}
C
cat >"$tmp/consumer/CMakeLists.txt" <<'CM'
# A consumer project of the installed exitstack package (test_package.sh).
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(exitstack 1 REQUIRED CONFIG)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE exitstack::exitstack)
add_executable(consumer_static main.c)
target_link_libraries(consumer_static PRIVATE exitstack::exitstack_static)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cfg.log" 2>&1 ||
    { cat "$tmp/cfg.log" >&2; fail "find_package(exitstack) failed"; }
cmake --build "$tmp/consumer/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "consumer build failed"; }
"$tmp/consumer/build/consumer" || fail "the CMake consumer (shared) did not run"
objdump -p "$tmp/consumer/build/consumer" | grep -q 'NEEDED *libexitstack.so.1' || fail "consumer does not link libexitstack.so.1"
"$tmp/consumer/build/consumer_static" || fail "the CMake consumer (static) did not run"
if objdump -p "$tmp/consumer/build/consumer_static" | grep -q 'NEEDED *libexitstack'; then
    fail "consumer_static links the shared library"
fi

export PKG_CONFIG_PATH=$libdir/pkgconfig
[[ $(pkg-config --modversion exitstack) == 1.0.0 ]] || fail "pkg-config --modversion exitstack: $(pkg-config --modversion exitstack)"
# shellcheck disable=SC2046
# strict: the public header compiles clean with -Wall -Wextra -Wpedantic -Werror
$cc -std=c11 -Wall -Wextra -Wpedantic -Wcast-function-type -Werror "$tmp/consumer/main.c" \
    $(pkg-config --cflags --libs exitstack) -o "$tmp/pc_consumer" ||
    fail "cc \$(pkg-config --cflags --libs exitstack) failed"
LD_LIBRARY_PATH=$libdir "$tmp/pc_consumer" || fail "the pkg-config consumer did not run"
echo "test_package: installed into a temporary prefix; find_package(exitstack) (shared, static) and pkg-config consumers built and ran"
