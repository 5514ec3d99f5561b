#!/usr/bin/env bash
# run.sh — issue 11: the supervisor's peak memory and the database's growth on
# adversarial targets (adv.c). For each case: peak RSS of the faultstack
# process itself (getrusage RUSAGE_SELF through libbench_supervisor_rss.so, the
# target and every other child left out), its CPU time, the wall time (the
# target's included),
# database bytes and growth over an empty run's database.
# Cases: (a) 1M leaked blocks from 100k call sites; (b) 5,000 fork+exec'd
# children, and a sh loop of 5,000 /bin/true; (c) 10M fault points from 50k
# sites; (e) 1M double frees, 1M double closes (1M anomaly lines); (d) a
# fork-mode sweep of 3,000 sites (3,000 fault runs), and a site-strategy
# sweep whose baseline has 400k points from 50k sites (--max-runs 20).
# Usage: bench/supervisor/run.sh [BUILD_DIR] [SCALE]
#   SCALE divides every size (default 1: the issue's sizes; 10 for a quick look).
set -uo pipefail
B=${1:-build}
S=${2:-1}
B=$(cd "$B" && pwd)
FS=$B/bin/faultstack
ADV=$B/bin/bench_supervisor_adv
RSS=$B/lib/libbench_supervisor_rss.so
for f in "$FS" "$ADV" "$RSS"; do
    [[ -e $f ]] || { echo "run.sh: $f not built (cmake --build $B)" >&2; exit 2; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

# one(NAME, faultstack ARGS...): prints NAME, the supervisor's peak RSS, wall time, DB size, growth
one() {
    local name=$1; shift
    local f=${name//[^A-Za-z0-9]/_}
    local db=$T/$f.db out=$T/$f.rss
    rm -f "$db" "$out"
    local t0 t1 pid st
    t0=$(date +%s.%N)
    FS_RSS_OUT=$out LD_PRELOAD=$RSS "$FS" "$1" --db "$db" "${@:2}" >/dev/null 2>"$T/$f.err" &
    pid=$!
    wait $pid; st=$?
    t1=$(date +%s.%N)
    local kib cpu
    kib=$(awk -v p="$pid" '$1 == p { print $2 }' "$out" 2>/dev/null | tail -1)
    cpu=$(awk -v p="$pid" '$1 == p { print $4 }' "$out" 2>/dev/null | tail -1)
    local bytes
    bytes=$(stat -c %s "$db" 2>/dev/null || echo 0)
    printf '%-36s exit %-3s  supervisor max RSS %7.1f MiB  CPU %6.2f s  wall %7.2f s  db %8.2f MB  growth %8.2f MB\n' \
        "$name" "$st" "$(echo "${kib:-0} / 1024" | bc -l)" "$(echo "${cpu:-0} / 1000" | bc -l)" "$(echo "$t1 - $t0" | bc -l)" \
        "$(echo "$bytes / 1000000" | bc -l)" "$(echo "($bytes - ${EMPTY:-0}) / 1000000" | bc -l)"
    [[ $st -le 1 ]] || sed 's/^/    /' "$T/$f.err" | tail -3
}

one empty run -- /bin/true >/dev/null
EMPTY=$(stat -c %s "$T/empty.db")
ADV_SWEEP_DB=$T/sweep.db
one empty run -- /bin/true
one "leak $((1000000 / S)) / $((100000 / S)) sites" run -- "$ADV" leak $((1000000 / S)) $((100000 / S))
one "forkexec $((5000 / S))" run -- "$ADV" forkexec $((5000 / S))
one "sh loop $((5000 / S)) true" run -- sh -c "i=0; while [ \$i -lt $((5000 / S)) ]; do /bin/true; i=\$((i+1)); done"
one "points $((10000000 / S)) / $((50000 / S))" run -- "$ADV" points $((10000000 / S)) $((50000 / S))
one "dfree $((1000000 / S))" run -- "$ADV" dfree $((1000000 / S))
one "dclose $((1000000 / S))" run -- "$ADV" dclose $((1000000 / S))
one "sweep fork $((3000 / S)) sites" sweep -j 2 -- "$ADV" sites $((3000 / S))
one "sweep site $((400000 / S)) pts/$((50000 / S)), 20 runs" sweep -j 2 --max-runs 20 -- "$ADV" points $((400000 / S)) $((50000 / S))
