#!/bin/bash
# run.sh — sweep throughput, measured in one invocation (bench/RESULTS.md,
# "Sweep throughput"): fault points per second of
#   faultstack sweep --strategy nth --mode fork   (the trunk forks at each point)
#   faultstack sweep --strategy nth --mode exec   (a fresh process per point)
# and of the closest per-run peer loops:
#   strace   `strace -f -e inject=SYSCALL:error=ENOMEM:when=N` over N (the
#            syscalls behind the target's fault points: openat, read, close),
#            with plain ptrace and with --seccomp-bpf (strace's fastest);
#   libfiu   `fiu-run -x -c 'enable_random name=...,probability=P'`, one run per
#            PRNG seed (FIU_PRNG_SEED), P = 1/points so a run fails ~1 point:
#            fiu-run cannot fail "the n-th call", only every call of a point
#            (enable), each with a probability (enable_random) or while a given
#            function is on the stack (enable_stack_by_name);
#   native   the program alone, same loop: the floor of any per-run tool.
# on two targets:
#   demo     bench_sweep_slowstart (slowstart.c): ~20 ms start-up, then 205 points;
#   grep     Debian's `grep -rn 19 DIR` over 22 directories x 8 small files
#            (~960 points: malloc, close, openat, read, fdopendir, ...).
# Each configuration runs with -j 1 and -j 2 (JOBS), ROUNDS times interleaved;
# the tables show the best round (the machine may be shared). A sweep's points/s is its
# fault runs (the "N fault runs" it reports: one per dynamic point plus the
# error-path 'then=' runs, not counting fork mode's exec confirmations) divided by
# the wall time of the whole `faultstack sweep` command (baseline, forks, exec
# runs, confirmations, database writes). A peer's points/s is runs / wall time
# over PEER_RUNS runs spread evenly over its full list (JOBS shell loops at
# once), so both early and late failures are in the sample. The peers only inject: they record
# no leak, no outcome, nothing to replay.
#
# Usage: bash bench/sweep/run.sh [BUILD_DIR]      (default: build/ of this checkout)
# Env:   JOBS ("1 2")  ROUNDS (2)  PEER_RUNS (150)  TARGETS ("demo grep")
#        FAULTSTACK_TMPDIR (where faultstack puts its run directories; default
#        /dev/shm)  FAULTSTACK_PRELOAD (try a patched copy of the preload)
#        PEER_DEBUG=1 (print the peers' most frequent stderr lines)
set -eu

B=$(cd "${1:-$(dirname "$0")/../../build}" && pwd) || exit 2
JOBS=${JOBS:-1 2}
ROUNDS=${ROUNDS:-2}
PEER_RUNS=${PEER_RUNS:-150}
TARGETS=${TARGETS:-demo grep}
FIU_RUN=$(command -v fiu-run || true)
STRACE=$(command -v strace || true)
GREP=$(command -v grep)

for f in "$B/bin/faultstack" "$B/bin/bench_sweep_slowstart" "$B/lib/libfaultstack-preload.so"; do
    [ -e "$f" ] || { echo "run.sh: $f missing: build first (cmake --build $B)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "run.sh: sqlite3 missing: apt-get install sqlite3" >&2; exit 2; }
[ -n "$STRACE" ] || echo "run.sh: strace missing (apt-get install strace): its rows are skipped" >&2
[ -n "$FIU_RUN" ] || echo "run.sh: fiu-run missing (apt-get install fiu-utils): its rows are skipped" >&2

TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/sweepbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# A snapshot of the build: others may rebuild BUILD_DIR while this runs.
mkdir -p "$TMP/inst/bin" "$TMP/inst/lib"
cp "$B/bin/faultstack" "$B/bin/bench_sweep_slowstart" "$TMP/inst/bin/"
cp "$B/lib/libfaultstack-preload.so" "$TMP/inst/lib/"
FS=$TMP/inst/bin/faultstack
DEMO=$TMP/inst/bin/bench_sweep_slowstart

# ---- inputs ----
mkdir "$TMP/demo"
seq 1 100 > "$TMP/demo/data.txt"
printf 'alpha\nbeta\n' > "$TMP/demo/list.txt"
mkdir "$TMP/gt"
for d in $(seq 1 22); do
    mkdir "$TMP/gt/d$d"
    for f in $(seq 1 8); do seq "$d" $((d * f + 20)) > "$TMP/gt/d$d/f$f.txt"; done
done

cmd_of() {      # TARGET -> the command line (words)
    case $1 in
        demo) echo "$DEMO $TMP/demo" ;;
        grep) echo "$GREP -rn 19 $TMP/gt" ;;
    esac
}

now() { date +%s%N; }

# where faultstack makes its run directories (harness/cli/run.c: fs_run_base)
if [ -n "${FAULTSTACK_TMPDIR:-}" ]; then RUNBASE=$FAULTSTACK_TMPDIR
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then RUNBASE=/dev/shm
else RUNBASE=${TMPDIR:-/tmp}; fi

echo "machine: nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "faultstack: copy of $B/bin/faultstack; preload: ${FAULTSTACK_PRELOAD:-copy of $B/lib/libfaultstack-preload.so}; run dirs in $RUNBASE ($(df -T "$RUNBASE" | awk 'NR == 2 { print $2 }'))"
echo "sha256: faultstack $(sha256sum "$FS" | cut -c1-12), preload $(sha256sum "$TMP/inst/lib/libfaultstack-preload.so" | cut -c1-12); grep $(dpkg-query -W -f '${Version}' grep 2>/dev/null)"
echo "peers: $( [ -n "$STRACE" ] && $STRACE -V | head -n 1), fiu-utils $(dpkg-query -W -f '${Version}' fiu-utils 2>/dev/null || echo '?')"
echo "jobs: $JOBS; rounds: $ROUNDS (best shown); peer sample: $PEER_RUNS runs per configuration"

RES=$TMP/results          # TARGET JOBS TOOL RUNS WALL_S DETAIL... (one line per round)
: > "$RES"

# sweep TARGET MODE J: one faultstack sweep; appends a line to RES
sweep() {
    t=$1 m=$2 j=$3
    db=$TMP/$t.$m.$j.db
    log=$TMP/$t.$m.$j.log
    rm -f "$db"
    t0=$(now)
    # shellcheck disable=SC2046
    "$FS" sweep --db "$db" --strategy nth --mode "$m" -j "$j" -- $(cmd_of "$t") < /dev/null > /dev/null 2> "$log" || true
    t1=$(now)
    line=$(grep 'fault runs (' "$log" | tail -n 1 || true)
    if [ -z "$line" ]; then
        echo "run.sh: FAIL: sweep $t --mode $m -j $j printed no summary; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    # "N fault runs (F fork, E exec, of which C confirmations)"
    set -- $(echo "$line" | sed -n 's/.*sweep: \([0-9]*\) fault runs (\([0-9]*\) fork, \([0-9]*\) exec, of which \([0-9]*\) confirmations).*/\1 \2 \3 \4/p')
    stop=$(sed -n 's/.*fork mode stopped: //p' "$log" | head -n 1)
    [ "$m" = fork ] || stop=-
    fnd=$(sed -n 's/.*sweep: \([0-9]*\) findings\{0,1\}: .*/\1/p' "$log" | tail -n 1)
    echo "$t $j $m $1 $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }')" \
         "$2 fork + $(($3 - $4)) exec (+$4 confirmations)|${fnd:-?}|${stop:-no}" >> "$RES"
}

# peer_loop TARGET J NAME LISTFILE FULL CMD...: CMD with {} replaced by each line
# of LISTFILE (a sample of FULL runs), J loops at once each taking every J-th
# line; appends a line to RES. Plain shell loops (no xargs: it stops at the
# first run killed by a signal, and some injected faults crash the target).
peer_loop() {
    t=$1 j=$2 name=$3 list=$4 full=$5
    shift 5
    n=$(wc -l < "$list")
    : > "$TMP/peer.err"
    t0=$(now)
    k=0
    while [ "$k" -lt "$j" ]; do
        awk -v j="$j" -v k="$k" '(NR - 1) % j == k' "$list" | while IFS= read -r x; do
            "${@//\{\}/$x}" < /dev/null > /dev/null 2>> "$TMP/peer.err" || true
        done 2> /dev/null &
        k=$((k + 1))
    done
    wait
    t1=$(now)
    [ -z "${PEER_DEBUG:-}" ] || { echo "== $t -j $j $name: $*" >&2; sort "$TMP/peer.err" | uniq -c | sort -rn | head -n 5 >&2; }
    echo "$t $j $name $n $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }') $(case $full in random) echo "seeds 1..$n" ;; plain) echo "runs, no injection" ;; *) echo "sampled of $full" ;; esac)|-|-" >> "$RES"
}

# evenly spaced sample of at most PEER_RUNS lines of a file
sample() {
    awk -v k="$PEER_RUNS" '{ l[NR] = $0 } END {
        if (NR <= k) { for (i = 1; i <= NR; i++) print l[i]; exit }
        for (i = 0; i < k; i++) print l[1 + int(i * NR / k)] }' "$1"
}

# ---- per target: fault points, the peers' lists ----
for t in $TARGETS; do
    # shellcheck disable=SC2046
    "$FS" run --db "$TMP/$t.base.db" -- $(cmd_of "$t") < /dev/null > /dev/null 2>&1 || true
    pts=$(sqlite3 "$TMP/$t.base.db" 'select points_total from runs limit 1')
    echo "$pts" > "$TMP/$t.points"
    echo "$t: $(cmd_of "$t" | sed "s|$TMP|\$TMP|g"): $pts fault points ($(sqlite3 "$TMP/$t.base.db" \
        "select group_concat(func || ' ' || n, ', ') from (select func, count(*) n from fault_points group by func order by n desc)"))"
    if [ -n "$STRACE" ]; then
        # shellcheck disable=SC2046
        "$STRACE" -f -c -o "$TMP/$t.strace-c" -e trace=openat,read,close $(cmd_of "$t") < /dev/null > /dev/null 2>&1 || true
        awk '$NF == "openat" || $NF == "read" || $NF == "close" { for (i = 1; i <= $4; i++) print $NF ":error=ENOMEM:when=" i }' \
            "$TMP/$t.strace-c" > "$TMP/$t.strace-all"
        sample "$TMP/$t.strace-all" > "$TMP/$t.strace-list"
        echo "$t: strace list: $(wc -l < "$TMP/$t.strace-all") (syscall, n) pairs ($(awk '$NF ~ /^(openat|read|close)$/ { printf "%s%s %d", s, $NF, $4; s = ", " }' "$TMP/$t.strace-c")), $(wc -l < "$TMP/$t.strace-list") sampled"
    fi
    seq 1 "$PEER_RUNS" > "$TMP/$t.seeds"
done

# ---- the rounds ----
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for t in $TARGETS; do
        p=$(awk -v n="$(cat "$TMP/$t.points")" 'BEGIN { printf "%.6f", 1 / n }')
        for j in $JOBS; do
            echo "round $r: $t -j $j" >&2
            sweep "$t" fork "$j"
            sweep "$t" exec "$j"
            if [ -n "$STRACE" ]; then
                # shellcheck disable=SC2046
                peer_loop "$t" "$j" "strace" "$TMP/$t.strace-list" "$(wc -l < "$TMP/$t.strace-all")" \
                    "$STRACE" -f -qq -o /dev/null -e trace=openat,read,close -e inject={} $(cmd_of "$t")
                # shellcheck disable=SC2046
                peer_loop "$t" "$j" "strace-seccomp" "$TMP/$t.strace-list" "$(wc -l < "$TMP/$t.strace-all")" \
                    "$STRACE" -f -qq -o /dev/null --seccomp-bpf -e trace=openat,read,close -e inject={} $(cmd_of "$t")
            fi
            # the floor of any tool that runs the program once per point
            # shellcheck disable=SC2046
            peer_loop "$t" "$j" "native" "$TMP/$t.seeds" "plain" $(cmd_of "$t")
            if [ -n "$FIU_RUN" ]; then
                # shellcheck disable=SC2046
                peer_loop "$t" "$j" "fiu-run" "$TMP/$t.seeds" "random" env FIU_PRNG_SEED={} "$FIU_RUN" -x -f '' \
                    -c "enable_random name=posix/io/*,probability=$p" -c "enable_random name=libc/mm/*,probability=$p" \
                    $(cmd_of "$t")
            fi
        done
    done
    r=$((r + 1))
done

# ---- tables: the best round of each configuration ----
best() {    # TARGET J TOOL -> "RUNS WALL DETAIL" of the fastest round
    awk -v t="$1" -v j="$2" -v k="$3" '$1 == t && $2 == j && $3 == k && (b == "" || $5 + 0 < bw) { b = $0; bw = $5 + 0 }
        END { print b }' "$RES"
}
printf '\n| target | jobs | tool | runs | of which | wall s (best) | all rounds s | points/s | findings | fork mode stopped |\n'
printf '|---|---|---|---:|---|---:|---|---:|---:|---|\n'
for t in $TARGETS; do
    for j in $JOBS; do
        for k in fork exec strace strace-seccomp fiu-run native; do
            l=$(best "$t" "$j" "$k")
            [ -n "$l" ] || continue
            all=$(awk -v t="$t" -v j="$j" -v k="$k" '$1 == t && $2 == j && $3 == k { printf "%s%s", s, $5; s = ", " }' "$RES")
            echo "$l" | awk -v all="$all" '{
                split($0, f, "|"); split(f[1], w, " "); det = f[1]
                for (i = 0; i < 5; i++) sub(/^[^ ]+ /, "", det)
                printf "| %s | -j %s | %s | %d | %s | %.2f | %s | %.1f | %s | %s |\n", w[1], w[2], w[3], w[4], det, w[5], all, w[4] / w[5], f[2], f[3] }'
        done
    done
done

printf '\n| target | jobs | fork pts/s | exec pts/s | fork/exec | exec/strace | exec/strace-seccomp | exec/fiu-run | exec/native runs |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
for t in $TARGETS; do
    for j in $JOBS; do
        for k in fork exec strace strace-seccomp fiu-run native; do
            best "$t" "$j" "$k"
        done | awk -v t="$t" -v j="$j" 'NF { v[$3] = $4 / $5 }
            function r(a, b) { return (a in v && b in v && v[b] > 0) ? sprintf("%.2f", v[a] / v[b]) : "-" }
            END { printf "| %s | -j %s | %.1f | %.1f | %s | %s | %s | %s | %s |\n", t, j, v["fork"], v["exec"],
                  r("fork", "exec"), r("exec", "strace"), r("exec", "strace-seccomp"), r("exec", "fiu-run"), r("exec", "native") }'
    done
done
echo
echo "goals (issue 11): fork/exec >= 20 on demo, >= 3 on grep, at the default -j (nproc = $(nproc)); exec/peer >= 1 (exec mode no slower than the peers)"
