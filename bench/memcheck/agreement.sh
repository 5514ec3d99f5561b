#!/bin/bash
# agreement.sh — how often faultstack's leak verdicts agree with memcheck's
# (issue 8 "Proof"); bench/RESULTS.md, "Memcheck agreement".
#
# `faultstack sweep --valgrind` (exec mode, default `site` strategy: the first
# call of each call site fails once, every run also under memcheck) of the
# demos of targets/demo that have planted leaks and of Debian programs on small
# inputs made in a temporary directory. For every sweep it prints one table
# row counted from the view memcheck_vs_faultstack (one row per acquire site
# per process per run where either side reported something):
#   sites    agree / faultstack only / memcheck only
#   lost     of the agreeing rows, those where both call it lost (faultstack
#            'leak', memcheck definitely/indirectly lost or an fd open at exit)
#   blocks   faultstack's and memcheck's blocks (fds) in the disagreeing rows
#   runs     runs of the sweep (baseline included); findings by category
#   clean    the kinds (memory; fd: fds, FILEs, DIRs) memcheck calls nothing
#            lost in any run of the sweep (no block definitely or indirectly
#            lost; no fd open at exit), with faultstack's leak findings of
#            that kind: must be 0 (the goal)
# then the totals and two ratios: agreement over all rows, and over the rows
# where at least one side calls something lost (the rows where neither does —
# memcheck's "still reachable" that faultstack keeps as reachable, a held fd —
# are agreement too, but easy agreement).
#
# It builds nothing: the demos and faultstack come from BUILD_DIR (build it
# first: cmake --build BUILD_DIR). faultstack and the preload are copied so a
# rebuild while this runs changes nothing. Databases stay in OUT_DIR for
# `sqlite3 OUT_DIR/NAME.db "SELECT * FROM memcheck_vs_faultstack WHERE agreement <> 'agree'"`.
#
# Usage: bash bench/memcheck/agreement.sh [BUILD_DIR [OUT_DIR]]
# Env:   ONLY="name name..." (a subset of the names below)
#        JOBS (2: -j of every sweep)
set -u

B=$(cd "${1:-$(dirname "$0")/../../build}" && pwd) || exit 2
OUT=${2:-$(mktemp -d /tmp/memcheck-agree.XXXXXX)}
JOBS=${JOBS:-2}
[ -x "$B/bin/faultstack" ] || { echo "agreement.sh: $B/bin/faultstack missing: build first (cmake --build $B)" >&2; exit 2; }
for p in sqlite3 valgrind jq xmllint bzip2 xz gzip tar diff grep sed; do
    command -v "$p" >/dev/null || { echo "agreement.sh: $p missing: apt-get install sqlite3 valgrind jq libxml2-utils bzip2 xz-utils" >&2; exit 2; }
done
mkdir -p "$OUT/inst/bin" "$OUT/inst/lib"
cp "$B/bin/faultstack" "$OUT/inst/bin/"
cp "$B/lib/libfaultstack-preload.so" "$OUT/inst/lib/"
FS=$OUT/inst/bin/faultstack
D=$B/bin
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 2

# ---- inputs (deterministic, small: every run costs valgrind's start-up) ----
seq 1 200 > in.txt
gzip -k in.txt
xz -k in.txt
bzip2 -k in.txt
mkdir -p tree/a tree/b
for i in 1 2 3; do seq "$i" 30 > tree/a/f$i; seq 5 $((i * 7)) > tree/b/g$i; done
tar cf tree.tar tree
seq 1 40 > a.txt
seq 1 40 | sed 's/^17$/x/' > b.txt
printf '{"a":[1,2,{"b":"c"}],"n":null,"s":"x\\u00e9"}\n' > in.json
printf '<?xml version="1.0"?>\n<r a="1"><i>x</i><i b="2">y &amp; z</i><!-- c --></r>\n' > in.xml
printf 'create table t(a integer primary key, b text);\ninsert into t(b) values(1),(2),(3);\nselect count(*), max(b) from t;\n' > s.sql
mkdir -p tmp

# name|expect-exit|sweep options|command (run in $W, stdin /dev/null, stdout /dev/null)
# internal_alloc's planted leak needs its fault inside libc (getline's own
# malloc): --fail internal
SWEEPS="
fd_leak|0||$D/demo_fd_leak in.txt out.txt
file_leak|0||$D/demo_file_leak in.txt
dir_leak|0||$D/demo_dir_leak tree
mem_leak|0||$D/demo_mem_leak color=blue size=3
lock_leak|0||$D/demo_lock_leak hello world
socket_leak|0||env TMPDIR=$W/tmp $D/demo_socket_leak
lost_handles|0||$D/demo_lost_handles in.txt
realloc_lost|0||$D/demo_realloc_lost in.txt
internal_alloc|0|--fail internal|$D/demo_internal_alloc in.txt
mismatched_release|0||$D/demo_mismatched_release report.txt title
exit_after_return|0||$D/demo_exit_after_return in.txt
fork_child_leak|0||$D/demo_fork_child_leak in.txt exit
thread_leak|0||$D/demo_thread_leak in.txt return
sed|0||sed -n 5p in.txt
grep-r|0||grep -r -l 7 tree
diff-u|1||diff -u a.txt b.txt
gzip-d|0||gzip -dc in.txt.gz
xz-d|0||xz -dc in.txt.xz
bzip2-d|0||bzip2 -dc in.txt.bz2
jq|0||jq .a in.json
xmllint|0||xmllint in.xml
tar-tf|0||tar tf tree.tar
sqlite3|0||sqlite3 :memory: .read\ s.sql
"

echo "machine: nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -r); date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "valgrind: $(valgrind --version); faultstack sha256 $(sha256sum "$FS" | cut -c1-12), preload sha256 $(sha256sum "$OUT/inst/lib/libfaultstack-preload.so" | cut -c1-12)"
echo "programs: $(dpkg-query -W -f '${Package} ${Version}, ' sed grep diffutils gzip xz-utils bzip2 jq libxml2-utils tar sqlite3 2>/dev/null)"
echo "databases: $OUT/NAME.db; logs: $OUT/NAME.log; inputs: $W"
printf '\n| name | command | runs | findings L/A/C/T/M | sites agree (lost) | faultstack only | memcheck only | blocks fs-only (fs/mc) | blocks mc-only (fs/mc) | agree %% | memcheck-clean kinds: fs leak findings |\n'
printf '|---|---|---:|---|---:|---:|---:|---|---|---:|---|\n'
TOT=$OUT/totals
: > "$TOT"
: > "$OUT/classes"
: > "$OUT/clean"
echo "$SWEEPS" | while IFS='|' read -r name expect opts cmd; do
    [ -n "$name" ] || continue
    if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
    db=$OUT/$name.db
    rm -f "$db" report.txt out.txt
    eval "set -- $cmd"
    # shellcheck disable=SC2086
    "$FS" sweep --valgrind --mode exec --db "$db" -j "$JOBS" --expect-exit "$expect" $opts -- "$@" \
        < /dev/null > /dev/null 2> "$OUT/$name.log"
    rc=$?
    [ "$rc" -le 1 ] || echo "agreement.sh: $name: faultstack sweep exited $rc; see $OUT/$name.log" >&2
    q() { sqlite3 -separator ' ' "$db" "$1"; }
    read -r ag agl fo mo fofb fomb mofb momb <<< "$(q "
        SELECT count(*) FILTER (WHERE agreement = 'agree'),
               count(*) FILTER (WHERE agreement = 'agree' AND faultstack = 'leak'),
               count(*) FILTER (WHERE agreement = 'faultstack only'),
               count(*) FILTER (WHERE agreement = 'memcheck only'),
               total(faultstack_blocks) FILTER (WHERE agreement = 'faultstack only'),
               total(memcheck_blocks) FILTER (WHERE agreement = 'faultstack only'),
               total(faultstack_blocks) FILTER (WHERE agreement = 'memcheck only'),
               total(memcheck_blocks) FILTER (WHERE agreement = 'memcheck only')
        FROM memcheck_vs_faultstack")"
    runs=$(q "SELECT count(*) FROM run")
    fnd=$(q "SELECT (SELECT count(*) FROM findings WHERE category = 'leak') || '/' ||
                    (SELECT count(*) FROM findings WHERE category = 'anomaly') || '/' ||
                    (SELECT count(*) FROM findings WHERE category = 'crash') || '/' ||
                    (SELECT count(*) FROM findings WHERE category = 'timeout') || '/' ||
                    (SELECT count(*) FROM findings WHERE category = 'memcheck')")
    # per kind: when memcheck calls nothing of a kind lost in any run of the
    # sweep, faultstack must have no leak finding of that kind; locks are not
    # counted, memcheck does not see them
    clean=
    for k in memory fd; do
        if [ $k = memory ]; then mk="'definitely', 'indirectly'"; fk="'memory'"; else mk="'fd'"; fk="'fd', 'file', 'dir'"; fi
        ml=$(q "SELECT count(*) FROM memcheck_vs_faultstack WHERE kind = '$k' AND memcheck IN ($mk) AND agreement <> 'faultstack only'")
        fl=$(q "SELECT count(*) FROM findings WHERE category = 'leak' AND kind IN ($fk)")
        if [ "$ml" = 0 ]; then
            clean="$clean${clean:+, }$k $fl"
            echo "$fl" >> "$OUT/clean"
        fi
    done
    samesz=$(q "SELECT count(*) FROM memcheck_vs_faultstack WHERE agreement = 'agree' AND faultstack = 'leak' AND same_size")
    all=$((ag + fo + mo))
    pct=$(awk -v a="$ag" -v n="$all" 'BEGIN { if (n) printf "%.1f", 100 * a / n; else printf "-" }')
    printf '| %s | `%s` | %s | %s | %s (%s) | %s | %s | %.0f/%.0f | %.0f/%.0f | %s | %s |\n' \
        "$name" "${opts:+$opts -- }$cmd" "$runs" "$fnd" "$ag" "$agl" "$fo" "$mo" "$fofb" "$fomb" "$mofb" "$momb" "$pct" "${clean:--}" \
        | sed "s|$D/||g; s|$W/||g"
    echo "$ag $agl $fo $mo $runs $samesz" >> "$TOT"
    # each disagreement by what the two sides said (bench/RESULTS.md explains the classes)
    sqlite3 -separator '|' "$db" "SELECT '$name', v.agreement, v.kind || ' (' || ifnull(v.faultstack_kind, '-') || ')',
              ifnull(v.faultstack, '-') || ifnull(' ' || (SELECT group_concat(DISTINCT
                  CASE WHEN r.reason LIKE 'global %' THEN 'global' ELSE r.reason END)
                  FROM resource r WHERE r.run_id = v.run_id AND r.pid = v.pid AND r.module IS v.module
                   AND r.offset IS v.offset AND r.verdict = 'held'), ''),
              ifnull(v.memcheck, '-'),
              (SELECT end_how FROM process p WHERE p.run_id = v.run_id AND p.pid = v.pid)
       FROM memcheck_vs_faultstack v WHERE v.agreement <> 'agree'" | tr ' ' '~' >> "$OUT/classes"
done
awk '{ ag += $1; agl += $2; fo += $3; mo += $4; runs += $5; ss += $6 }
     END {
        n = ag + fo + mo; l = agl + fo + mo
        printf "\ntotal: %d runs; %d rows: %d agree (%d both lost), %d faultstack only, %d memcheck only\n", runs, n, ag, agl, fo, mo
        printf "agreement: %.1f%% of all rows (%d/%d); %.1f%% of the rows where either side calls something lost (%d/%d)\n",
               n ? 100 * ag / n : 0, ag, n, l ? 100 * agl / l : 0, agl, l
        printf "of the %d rows both call lost, %d count the same blocks and bytes\n", agl, ss
     }' "$TOT"
awk '{ n++; f += $1 } END { printf "program kinds (memory, fds) memcheck finds clean under every fault: %d, with %d faultstack leak findings of that kind\n", n, f }' "$OUT/clean"
echo
echo "disagreements by class: agreement, kind (faultstack's kinds), faultstack's verdict and held reason, memcheck's, how the process ended: rows (programs)"
awk '{ k = $2 " " $3 " " $4 " " $5 " " $6; n[k]++; if (index(" " p[k] " ", " " $1 " ") == 0) p[k] = p[k] (p[k] ? " " : "") $1 }
     END { for (k in n) printf "  %-72s %4d  (%s)\n", k, n[k], p[k] }' FS='|' "$OUT/classes" | sort | tr '~' ' '
echo
echo "disagreements: for f in $OUT/*.db; do sqlite3 -header -column \$f \"SELECT * FROM memcheck_vs_faultstack WHERE agreement <> 'agree'\"; done"
