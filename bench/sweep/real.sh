#!/bin/bash
# real.sh — `faultstack sweep` on real programs from Debian packages (coreutils,
# grep, sed, gzip, xz-utils, tar, findutils, sqlite3) on small inputs made in a
# temporary directory; bench/RESULTS.md, "Sweeps of real programs".
#
# For every sweep it prints one table row: the baseline's fault points, the
# fault runs (fork-mode children, exec runs, exec confirmations of fork-mode
# findings), the wall time, the findings by category, the swallowed failures,
# and whether fork mode applied or why it stopped. The databases are kept in
# OUT_DIR (default: a fresh directory under /tmp, printed at the end) for
# `faultstack report --db OUT_DIR/NAME.db` and
# `sqlite3 OUT_DIR/NAME.db 'select * from findings'`.
#
# Commands that write (tar xf, tar cf, cp -r) run once before their sweep so
# every run sees the same file system state (files overwritten, not created),
# and with -j 1: runs of one sweep share the destination.
#
# Usage: bash bench/sweep/real.sh [BUILD_DIR [OUT_DIR]]   (default: build/ of this checkout)
# Env:   ONLY="name name..." (a subset of the names in the table below)
#        JOBS (2: -j for the read-only commands)
set -u

B=$(cd "${1:-$(dirname "$0")/../../build}" && pwd) || exit 2
OUT=${2:-$(mktemp -d /tmp/sweepbench-real.XXXXXX)}
JOBS=${JOBS:-2}
[ -x "$B/bin/faultstack" ] || { echo "real.sh: $B/bin/faultstack missing: build first (cmake --build $B)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "real.sh: sqlite3 missing: apt-get install sqlite3" >&2; exit 2; }
mkdir -p "$OUT/inst/bin" "$OUT/inst/lib"
# a snapshot of the build: others may rebuild BUILD_DIR while this runs
cp "$B/bin/faultstack" "$OUT/inst/bin/"
cp "$B/lib/libfaultstack-preload.so" "$OUT/inst/lib/"
FS=$OUT/inst/bin/faultstack
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 2

# ---- inputs (deterministic) ----
seq 1 2000 | shuf --random-source=<(yes) > in.txt
gzip -k in.txt
xz -k in.txt
mkdir tree
for d in $(seq 1 10); do
    mkdir tree/d$d
    for f in $(seq 1 5); do seq "$d" $((d * f + 20)) > tree/d$d/f$f.txt; done
done
tar cf tree.tar tree
mkdir x copy
{
    echo 'create table t(a integer primary key, b text);'
    for i in $(seq 1 20); do echo "insert into t(b) values('row $i');"; done
    echo 'create index ib on t(b);'
    echo "select count(*), max(b) from t where b like 'row 1%';"
    echo 'update t set b = b || a where a % 3 = 0;'
    echo 'select a, b from t order by b desc limit 5;'
} > s.sql

# name|strategy|jobs|command (run in $W, stdin /dev/null, stdout /dev/null)
SWEEPS="
sort|nth|$JOBS|sort -n in.txt
sed|nth|$JOBS|sed -n s/1/x/p in.txt
gzip-c|nth|$JOBS|gzip -c in.txt
gzip-d|nth|$JOBS|gzip -dc in.txt.gz
xz-c|nth|$JOBS|xz -c in.txt
xz-d|nth|$JOBS|xz -dc in.txt.xz
grep-r|nth|$JOBS|grep -rn 19 tree
tar-tf|nth|$JOBS|tar tf tree.tar
tar-xf|site|1|tar xf tree.tar -C x
tar-cf|site|1|tar cf out.tar tree
cp-r|site|1|cp -r tree copy
find|nth|$JOBS|find tree -name '*3*'
du|nth|$JOBS|du -a tree
ls-lR|site|$JOBS|ls -lR tree
sqlite3|nth|$JOBS|sqlite3 :memory: .read\ s.sql
"

now() { date +%s%N; }

echo "machine: nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -r); date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "databases: $OUT/NAME.db; logs: $OUT/NAME.log; inputs: $W"
echo "faultstack: copy of $B/bin/faultstack (sha256 $(sha256sum "$FS" | cut -c1-12)), preload sha256 $(sha256sum "$OUT/inst/lib/libfaultstack-preload.so" | cut -c1-12)"
echo "programs: $(dpkg-query -W -f '${Package} ${Version}, ' coreutils grep sed gzip xz-utils tar findutils sqlite3 2>/dev/null)"
printf '\n| name | command | strategy | -j | points | runs (fork + exec + confirm.) | wall s | leak | anomaly | crash | timeout | swallowed | fork mode |\n'
printf '|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n'
echo "$SWEEPS" | while IFS='|' read -r name strat j cmd; do
    [ -n "$name" ] || continue
    if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
    db=$OUT/$name.db
    rm -f "$db"
    # the command's words: split on blanks except '\ '
    eval "set -- $cmd"
    case $name in tar-xf|tar-cf|cp-r) "$@" < /dev/null > /dev/null 2>&1 ;; esac
    t0=$(now)
    "$FS" sweep --db "$db" --strategy "$strat" -j "$j" -- "$@" < /dev/null > /dev/null 2> "$OUT/$name.log"
    rc=$?
    t1=$(now)
    pts=$(sqlite3 "$db" "select points_total from run where id = (select baseline_run from sweep)")
    split=$(sed -n 's/.*sweep: [0-9]* fault runs (\([0-9]*\) fork, \([0-9]*\) exec, of which \([0-9]*\) confirmations).*/\1 \2 \3/p' "$OUT/$name.log" | tail -n 1)
    set -- $split
    stop=$(sed -n 's/.*fork mode stopped: //p' "$OUT/$name.log" | head -n 1)
    if [ "${1:-0}" = 0 ]; then fm="exec only${stop:+: $stop}"; elif [ -n "$stop" ]; then fm="stopped: $stop"; else fm=applied; fi
    cnt() { sqlite3 "$db" "select count(*) from findings where category = '$1'"; }
    sw=$(sqlite3 "$db" "select count(*) from run where swallowed = 1")
    runs=$(( ${1:-0} + ${2:-0} - ${3:-0} ))
    printf '| %s | `%s` | %s | %s | %s | %s (%s + %s + %s) | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$name" "$cmd" "$strat" "$j" "$pts" "$runs" "${1:-?}" "$(( ${2:-0} - ${3:-0} ))" "${3:-?}" \
        "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')" \
        "$(cnt leak)" "$(cnt anomaly)" "$(cnt crash)" "$(cnt timeout)" "$sw" "$fm"
    [ "$rc" -le 1 ] || echo "real.sh: $name: faultstack sweep exited $rc; see $OUT/$name.log" >&2
done
echo
echo "reports: for f in $OUT/*.db; do $FS report --db \$f; done"
