#!/bin/bash
# run.sh — soak: one long sweep, measured in one invocation (bench/RESULTS.md,
# "Soak"): `faultstack sweep -j 2` (default strategy site, default mode fork:
# the target starts a thread at once, so every point runs in exec mode) of
# bench_soak_target (soak.c: 5,000 malloc call sites, a helper thread), with
#   runs/s      fault runs recorded per second, over the whole command and per
#               tenth of the sweep (from the database's run rows: a slowdown as
#               the database grows shows as a falling rate);
#   memory      the supervisor's VmRSS (/proc/PID/status) sampled every
#               SAMPLE_S seconds: first, per tenth, last, max; flat = the last
#               tenth's median within 10 % of the second tenth's;
#   every run   runs in the database = 1 baseline + 1 per fault point (5,000;
#               the sweep's own count), and no run directory left behind.
# A second row runs the same target with FAULTSTACK_MAX_POINTS=POINT_CAP (each
# run records at most that many of its fault points, the injected one always)
# and --strategy nth (whose keys go beyond the points recorded): every run is
# small, so the supervisor's memory shows what each run costs it, apart from
# the size of the runs (in the first row, run K records K points: ~12.5
# million point rows in all).
#
# Usage: bash bench/soak/run.sh [BUILD_DIR]      (default: build/ of this checkout)
# Env:   JOBS (2)  SAMPLE_S (1)  POINT_CAP (100)  ROWS ("all cap": which rows)
#        BENCH_TMP (where the database goes; default /tmp)
set -eu

B=$(cd "${1:-$(dirname "$0")/../../build}" && pwd) || exit 2
JOBS=${JOBS:-2}
SAMPLE_S=${SAMPLE_S:-1}
POINT_CAP=${POINT_CAP-100}
ROWS=${ROWS:-all cap}
for f in "$B/bin/faultstack" "$B/bin/bench_soak_target" "$B/lib/libfaultstack-preload.so"; do
    [ -e "$f" ] || { echo "run.sh: $f missing: build first (cmake --build $B)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "run.sh: sqlite3 missing: apt-get install sqlite3" >&2; exit 2; }

TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/soakbench.XXXXXX")
FS_PID=
trap '[ -n "$FS_PID" ] && kill "$FS_PID" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

# A snapshot of the build: others may rebuild BUILD_DIR while this runs.
mkdir -p "$TMP/inst/bin" "$TMP/inst/lib" "$TMP/runs"
cp "$B/bin/faultstack" "$B/bin/bench_soak_target" "$TMP/inst/bin/"
cp "$B/lib/libfaultstack-preload.so" "$TMP/inst/lib/"
FS=$TMP/inst/bin/faultstack
TARGET=$TMP/inst/bin/bench_soak_target

echo "soak: $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "      faultstack sweep -j $JOBS -- bench_soak_target (5,000 call sites, 2 threads); run dirs in $TMP/runs"

# soak LABEL [ENV...]: one sweep; prints one result block
soak() {
    local label=$1; shift
    local db=$TMP/$label.db rss=$TMP/$label.rss
    rm -f "$db" "$rss"
    local t0 t1
    t0=$(date +%s%N)
    env "$@" FAULTSTACK_TMPDIR="$TMP/runs" FAULTSTACK_NO_CONFIRM=1 \
        "$FS" sweep --db "$db" -j "$JOBS" --strategy "${STRATEGY:-site}" --timeout 60 -- "$TARGET" >"$TMP/$label.out" 2>"$TMP/$label.err" &
    FS_PID=$!
    while kill -0 "$FS_PID" 2>/dev/null; do
        local n
        n=$(sqlite3 -cmd '.timeout 2000' "$db" 'SELECT count(*) FROM run' 2>/dev/null || echo -1)
        awk -v t="$(( ($(date +%s%N) - t0) / 1000000 ))" -v n="$n" '/^VmRSS/ {print t, $2, n}' \
            "/proc/$FS_PID/status" >>"$rss" 2>/dev/null || true
        sleep "$SAMPLE_S"
    done
    local rc=0
    wait "$FS_PID" || rc=$?
    FS_PID=
    t1=$(date +%s%N)
    local secs runs fault_runs planned left size
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    runs=$(sqlite3 "$db" 'SELECT count(*) FROM runs')
    fault_runs=$(sqlite3 "$db" 'SELECT count(*) FROM runs WHERE sweep_key IS NOT NULL')
    planned=$(sqlite3 "$db" 'SELECT planned || " planned, " || done || " done, " || status FROM sweep')
    left=$(ls -A "$TMP/runs" | wc -l)
    size=$(du -m "$db" | cut -f1)
    echo
    echo "[$label] exit $rc in $secs s; $runs runs in the database ($fault_runs fault runs + baseline; sweep: $planned);" \
         "$(sqlite3 "$db" 'SELECT count(*) FROM point') point rows, database $size MiB; run directories left: $left"
    awk -v n="$fault_runs" -v s="$secs" 'BEGIN { printf "  runs/s over the whole sweep: %.1f\n", n / s }'
    # runs recorded per second in each tenth of the sweep's time (from the samples)
    awk '$3 >= 0 { t[++k] = $1; c[k] = $3 }
         END {
             printf "  runs/s per tenth of the time:";
             for (q = 1; q <= 10; q++) {
                 a = int((q - 1) * k / 10) + 1; b = int(q * k / 10);
                 if (b <= a) { printf " -"; continue }
                 printf " %.0f", (c[b] - c[a]) / ((t[b] - t[a]) / 1000);
             }
             printf "\n";
         }' "$rss"
    awk 'function median(v, n,   i, j, x) {     # insertion sort (mawk has no asort)
             for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
             return v[int((n + 1) / 2)];
         }
         { t[NR] = $1; r[NR] = $2; if ($2 > m) m = $2 }
         END {
             printf "  supervisor VmRSS (KiB): first %d", r[1];
             for (k = 1; k <= 10; k++) { i = int(k * NR / 10); if (i < 1) i = 1; printf ", %d0%% %d", k, r[i] }
             printf "; max %d (%d samples)\n", m, NR;
             a = int(NR / 10) + 1; b = int(2 * NR / 10); c = int(9 * NR / 10) + 1;
             if (b < a) b = a;
             n1 = 0; for (i = a; i <= b; i++) v1[++n1] = r[i];
             n2 = 0; for (i = c; i <= NR; i++) v2[++n2] = r[i];
             m1 = median(v1, n1); m2 = median(v2, n2);
             printf "  memory: second tenth median %d KiB, last tenth median %d KiB: %s (ratio %.2f)\n",
                    m1, m2, (m2 <= m1 * 1.10 ? "flat" : "GROWING"), m2 / m1;
         }' "$rss"
    tail -3 "$TMP/$label.err" | sed 's/^/  | /'
}

case " $ROWS " in *" all "*) soak all-points ;; esac
case " $ROWS " in *" cap "*) [ -n "$POINT_CAP" ] && STRATEGY=nth soak "cap-$POINT_CAP" FAULTSTACK_MAX_POINTS="$POINT_CAP" ;; esac
exit 0
