#!/bin/bash -eu
# build.sh — builds exitstack's fuzz targets the OSS-Fuzz / ClusterFuzzLite way.
#
# Contract (as in OSS-Fuzz's build.sh): compile with $CC $CFLAGS, link with
# $LIB_FUZZING_ENGINE, write every fuzzer to $OUT with its seed corpus as
# $OUT/<target>_seed_corpus.zip. One corpus folder per target:
# corpus/exitstack/<target>/ seeds tests/exitstack/<target>.c.
# SRC_ROOT (default: this repository) is where the sources are; WORK (default:
# a temporary directory) holds the object files.
#
# By hand, e.g.:
#   CC=clang CFLAGS='-fsanitize=fuzzer-no-link,address' \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/x tests/exitstack/oss-fuzz/build.sh
#   /tmp/x/fuzz_exitstack -runs=1000 /tmp/x/corpus   (after unzipping the seed corpus)
# tests/exitstack/fuzz.sh (ctest exitstack.fuzz) builds through this script too.
for v in CC CFLAGS LIB_FUZZING_ENGINE OUT; do
    if [ -z "${!v+x}" ]; then
        echo "build.sh: \$$v is not set. Set CC, CFLAGS, LIB_FUZZING_ENGINE and OUT as OSS-Fuzz does," \
             "e.g. CC=clang CFLAGS='-fsanitize=fuzzer-no-link,address' LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/x" >&2
        exit 2
    fi
done
command -v zip >/dev/null || { echo "build.sh: zip not found (apt-get install zip): it packs the seed corpora" >&2; exit 2; }
SRC_ROOT=${SRC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
lib=$SRC_ROOT/targets/exitstack
own_work=
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d)
    own_work=$WORK
fi
trap '[ -n "$own_work" ] && rm -rf "$own_work"' EXIT
mkdir -p "$OUT"

# the library, compiled with the fuzzing flags (sanitizers, coverage)
objs=()
for src in "$lib"/src/*.c; do
    o=$WORK/es_$(basename "$src" .c).o
    # shellcheck disable=SC2086  # CFLAGS is a list of flags
    $CC $CFLAGS -std=gnu11 -I"$lib/include" -I"$lib/src" -c "$src" -o "$o"
    objs+=("$o")
done

built=0
for dir in "$SRC_ROOT"/corpus/exitstack/*/; do
    target=$(basename "$dir")
    src=$SRC_ROOT/tests/exitstack/$target.c
    if [ ! -f "$src" ]; then
        echo "build.sh: corpus folder $dir has no fuzz target $src" >&2
        exit 1
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS -std=gnu11 -I"$lib/include" -c "$src" -o "$WORK/$target.o"
    # shellcheck disable=SC2086
    $CC $CFLAGS "$WORK/$target.o" "${objs[@]}" $LIB_FUZZING_ENGINE -lpthread -o "$OUT/$target"
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "$dir" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    echo "build.sh: $OUT/$target (seed corpus: $(find "$dir" -type f | wc -l) inputs)"
    built=$((built + 1))
done
[ "$built" -gt 0 ] || { echo "build.sh: no corpus/exitstack/<target>/ folder found under $SRC_ROOT" >&2; exit 1; }
