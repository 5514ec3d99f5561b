#!/bin/bash
# test_exports.sh — libexitstack.so exports exactly its public API (ctest
# exitstack.exports). usage: test_exports.sh LIBRARY HEADER MAP
# Checks: the dynamic symbols defined by the library == the names declared
# ES_API in exitstack.h == the global names of the version script; all carry
# the version node EXITSTACK_1.0; internal helpers (esi_*, the old
# es_malloc_/es_realloc_/es_free_) are not exported; the soname is
# libexitstack.so.1.
set -euo pipefail
lib=$1 header=$2 map=$3
fail() { echo "test_exports: $*" >&2; exit 1; }
for t in nm objdump; do command -v $t >/dev/null || { echo "test_exports: $t not found (binutils)"; exit 77; }; done

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^EXITSTACK_' | sort -u)
# declarations: from a line starting with "ES_API " up to the first ';'
declared=$(awk '/^ES_API / {d = ""; on = 1} on {d = d " " $0; if (index($0, ";")) {print d; on = 0}}' "$header" |
    sed -E 's/\(.*//; s/;.*$//; s/ +$//; s/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)$/\1/' | sort -u)
mapped=$(sed -n '/global:/,/local:/p' "$map" | grep -v 'global:\|local:' | tr ' ;' '\n\n' | grep -E '^[a-z_]' | sort -u)

[[ -n $declared ]] || fail "no ES_API declaration found in $header"
if [[ $exported != "$declared" ]]; then
    diff <(echo "$declared") <(echo "$exported") | sed 's/^/  /' >&2
    fail "exported symbols (>) differ from the ES_API declarations (<) of $header"
fi
if [[ $mapped != "$declared" ]]; then
    diff <(echo "$declared") <(echo "$mapped") | sed 's/^/  /' >&2
    fail "the version script's names (>) differ from the ES_API declarations (<)"
fi
for s in es_malloc_ es_realloc_ es_free_ esi_malloc esi_refusal_wrap esi_reentrant_exit; do
    if grep -qx "$s" <<<"$exported"; then fail "internal symbol $s is exported"; fi
done
unversioned=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '@@EXITSTACK_1.0$' | grep -v '^EXITSTACK_1.0' || true)
[[ -z $unversioned ]] || fail "symbols without version EXITSTACK_1.0: $unversioned"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[[ $soname == libexitstack.so.1 ]] || fail "soname is '$soname', expected libexitstack.so.1"
echo "test_exports: $(wc -l <<<"$exported") symbols exported, all declared ES_API, version EXITSTACK_1.0, soname $soname"
