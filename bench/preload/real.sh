#!/bin/bash
# real.sh — issue 11's "malloc-heavy real workload": Debian programs that
# allocate a lot, timed in one invocation natively, under the faultstack
# preload alone (tracking mode: FAULTSTACK_RUN_DIR set, no plan), under
# `faultstack run` (supervisor, records and database included), and under the
# peers that run on an unmodified binary: LeakSanitizer's runtime preloaded
# (liblsan.so.0, leak check at exit on), heaptrack, and valgrind memcheck
# (--leak-check=full; on the first workload only unless MEMCHECK=all: it is
# 20-80x). Prints one table of whole-process wall times, ratios vs native and
# the target's peak RSS; bench/RESULTS.md.
#
# Workloads (inputs generated here, deterministic):
#   jq       jq filtering a 10 MB JSON array of 60,000 objects (~1.2 M mallocs,
#            ~1 M blocks live at the peak: the parsed document)
#   xmllint  xmllint --noout on a 12 MB XML document (libxml2's tree)
#   sqlite3  the sqlite3 shell on an in-memory database: 200,000 rows inserted,
#            indexed, grouped (SQLite's own malloc wrapper: ~1 M mallocs)
# Configurations run interleaved ROUNDS times; each cell is the best round.
#
# Usage: bench/preload/real.sh [BUILD_DIR]     (default: build/ of this checkout)
# Env:   ROUNDS (3) ONLY ("jq xmllint sqlite3") MEMCHECK (first|all|none)
#        FS_PRELOAD (another preload to time), FS_PRELOAD_OLD (one more row:
#        e.g. the preload before a change, timed in the same rounds)
set -eu

B=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
FS=$B/bin/faultstack
FS_SO=${FS_PRELOAD:-$B/lib/libfaultstack-preload.so}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-"jq xmllint sqlite3"}
MEMCHECK=${MEMCHECK:-first}
LSAN_SO=$(ls /usr/lib/x86_64-linux-gnu/liblsan.so.0 2>/dev/null || true)

for f in "$FS" "$FS_SO"; do
    [ -e "$f" ] || { echo "real.sh: $f missing: build first (cmake --build $B)" >&2; exit 2; }
done
for p in jq xmllint sqlite3 python3; do
    command -v "$p" >/dev/null || { echo "real.sh: $p missing (apt-get install jq libxml2-utils sqlite3 python3)" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

python3 - "$TMP" <<'EOF'
import json, random, sys
d = sys.argv[1]
random.seed(1)
rows = [{"id": i, "name": "user%d" % i, "tags": ["t%d" % random.randint(0, 50) for _ in range(5)],
         "score": random.random(), "nested": {"a": [1, 2, 3], "b": {"c": "x" * random.randint(1, 40)}}}
        for i in range(60000)]
json.dump(rows, open(d + "/in.json", "w"))
with open(d + "/in.xml", "w") as f:
    f.write("<?xml version='1.0'?>\n<root>\n")
    for i in range(120000):
        f.write('<item id="%d" kind="k%d"><name>n%d</name><v>%f</v></item>\n' % (i, i % 17, i, random.random()))
    f.write("</root>\n")
with open(d + "/in.sql", "w") as f:
    f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v REAL);\nBEGIN;\n")
    for i in range(200000):
        f.write("INSERT INTO t(k, v) VALUES('key%d', %f);\n" % (random.randint(0, 5000), random.random()))
    f.write("COMMIT;\nCREATE INDEX tk ON t(k);\n")
    f.write("SELECT k, count(*), avg(v) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 3;\n")
EOF

cmd_of() {
    case $1 in
    jq) echo "jq -c [.[]|select(.score>0.5)|{id,tags,n:(.nested.b.c|length)}]|length $TMP/in.json" ;;
    xmllint) echo "xmllint --noout $TMP/in.xml" ;;
    sqlite3) echo "sqlite3 -batch -init $TMP/in.sql :memory: SELECT(1);" ;;
    esac
}

now() { date +%s%N; }

# timed LABEL WORKLOAD CMD...: wall ns to $TMP/ns.W.LABEL; the peak RSS of the
# process that GNU time reports is not used (it would include the supervisor
# under `faultstack run`): RSS is measured separately below
timed() {
    label=$1 w=$2; shift 2
    t0=$(now)
    st=0
    "$@" > "$TMP/out" 2> "$TMP/err" || st=$?
    t1=$(now)
    # faultstack run exits 1 when the program has findings (sort's, tar's small
    # leaks...): it ran; anything else is a failure
    if [ "$st" != 0 ] && ! { [ "$label" = run ] && [ "$st" = 1 ]; }; then
        case $label in
        lsan|heaptrack|memcheck)       # a peer that cannot run this program: say so in its cell
            echo "real.sh: $w under $label exited $st (shown as failed): $(tail -n 1 "$TMP/err")" >&2
            echo failed > "$TMP/failed.$w.$label"
            return 0 ;;
        esac
        echo "real.sh: FAIL: $w under $label exited $st:" >&2; tail -5 "$TMP/err" >&2; exit 1
    fi
    echo $(( t1 - t0 )) >> "$TMP/ns.$w.$label"
}

CONFIGS="native preload run"
[ -n "${FS_PRELOAD_OLD:-}" ] && CONFIGS="native preload preload_old run"
[ -n "$LSAN_SO" ] && CONFIGS="$CONFIGS lsan"
command -v heaptrack >/dev/null && CONFIGS="$CONFIGS heaptrack"

run_config() {   # CONFIG WORKLOAD
    c=$1 w=$2
    set -f; set -- $(cmd_of "$w"); set +f      # no globbing: jq's filter has brackets
    case $c in
    native) timed native "$w" "$@" ;;
    preload)
        rm -rf "$TMP/rd"; mkdir "$TMP/rd"
        timed preload "$w" env FAULTSTACK_RUN_DIR="$TMP/rd" FAULTSTACK_MAX_POINTS=5000 LD_PRELOAD="$FS_SO" "$@"
        grep -q '^done' "$TMP"/rd/*.rec || { echo "real.sh: FAIL: no complete record for $w" >&2; exit 1; } ;;
    preload_old)
        rm -rf "$TMP/rd"; mkdir "$TMP/rd"
        timed preload_old "$w" env FAULTSTACK_RUN_DIR="$TMP/rd" FAULTSTACK_MAX_POINTS=5000 LD_PRELOAD="$FS_PRELOAD_OLD" "$@" ;;
    run)
        rm -f "$TMP/run.db"
        timed run "$w" env FAULTSTACK_PRELOAD="$FS_SO" "$FS" run --db "$TMP/run.db" -- "$@"
        echo "$(stat -c %s "$TMP/run.db")" > "$TMP/db.$w" ;;
    lsan) timed lsan "$w" env LD_PRELOAD="$LSAN_SO" LSAN_OPTIONS=exitcode=0 "$@" ;;
    heaptrack) timed heaptrack "$w" heaptrack -o "$TMP/ht" "$@"; rm -f "$TMP"/ht* ;;
    memcheck) timed memcheck "$w" valgrind -q --leak-check=full --error-exitcode=0 "$@" ;;
    esac
}

echo "machine: nproc=$(nproc), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "versions: $(jq --version), xmllint $(xmllint --version 2>&1 | sed -n 's/.*using libxml version //p' | head -n 1), sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
first=1
for w in $ONLY; do
    cfg=$CONFIGS
    if command -v valgrind >/dev/null && { [ "$MEMCHECK" = all ] || { [ "$MEMCHECK" = first ] && [ $first = 1 ]; }; }; then
        cfg="$cfg memcheck"
    fi
    first=0
    echo "$cfg" > "$TMP/cfg.$w"
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        for c in $cfg; do
            [ "$c" = memcheck ] && [ "$r" -gt 1 ] && continue     # once is enough at 20-80x
            run_config "$c" "$w"
        done
        r=$((r + 1))
    done
    # peak RSS of the target alone (GNU time on the program, preload inherited)
    set -f; set -- $(cmd_of "$w"); set +f
    rss_n=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
    rm -rf "$TMP/rd"; mkdir "$TMP/rd"
    rss_p=$(env FAULTSTACK_RUN_DIR="$TMP/rd" FAULTSTACK_MAX_POINTS=5000 /usr/bin/time -f %M \
        env LD_PRELOAD="$FS_SO" "$@" 2>&1 >/dev/null | tail -n 1)
    echo "$rss_n $rss_p" > "$TMP/rss.$w"
done

best() { sort -n "$1" | head -n 1; }
printf '\n| workload | configuration | wall s (best) | ratio vs native |\n|---|---|---:|---:|\n'
for w in $ONLY; do
    nat=$(best "$TMP/ns.$w.native")
    for c in $(cat "$TMP/cfg.$w"); do
        if [ -e "$TMP/failed.$w.$c" ]; then
            echo "| $w | $c | failed (exit status above) | |"
            continue
        fi
        awk -v w="$w" -v c="$c" -v t="$(best "$TMP/ns.$w.$c")" -v n="$nat" 'BEGIN {
            name = c
            if (c == "preload") name = "faultstack preload alone"
            if (c == "preload_old") name = "faultstack preload alone (FS_PRELOAD_OLD)"
            if (c == "run") name = "faultstack run"
            if (c == "lsan") name = "LeakSanitizer runtime (LD_PRELOAD liblsan.so.0)"
            if (c == "memcheck") name = "valgrind memcheck --leak-check=full (1 round)"
            printf "| %s | %s | %.2f | %.2f |\n", w, name, t / 1e9, t / n }'
    done
done
echo
for w in $ONLY; do
    read -r rn rp < "$TMP/rss.$w"
    echo "$w: target peak RSS native $((rn / 1024)) MiB, under the preload $((rp / 1024)) MiB; faultstack run database $(cat "$TMP/db.$w") bytes"
done
