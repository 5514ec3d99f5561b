/* sweep.c — `faultstack sweep`: fail every fault point in turn.
 *
 * A baseline run (no injection) lists the fault points. The strategy turns
 * them into sweep keys, one run each:
 *   nth    every dynamic call:               nth=17
 *   site   the first call of each call site: site=open@prog+0x1a2b
 *          and, for a call site reached from several callers (a thin
 *          wrapper), the first call for each caller (and caller's caller
 *          while that is reached from several too; fs_census):
 *                                             site=malloc@lib.so+0x40,caller=lib.so+0x9a0
 *   stack  the first call of each (site, calling context):
 *                                             site=malloc@prog+0x40,ctx=0x9f3c...
 * A run whose fault reaches fault points the baseline never reached (error
 * paths) gets one more run per such site, failing both: '<key>,then=N' (N-th
 * point after the first fault). --depth 2 does that for every site on the
 * error path, not only new ones.
 *
 * Mode fork (default): after the baseline (an exec run), the target runs once
 * more as the "trunk"; the preload forks a child at each selected point
 * (harness/preload/forkmode.c) and the child fails it, so the program's prefix
 * is never re-run. This process is the children's subreaper: it reaps them,
 * kills them on timeout, and a recorder thread records each as a run of mode
 * 'fork' as soon as its process group is gone, while the trunk goes on (the
 * trunk itself is not recorded). Findings caused by a fork-mode fault are recorded
 * only by an exec-mode replay of the same fault (run.confirms). When the
 * trunk stops forking (threads, its own children, pipes or sockets), the
 * remaining points are swept in exec mode.
 * Mode exec: one fresh process per key; -j N of them at once.
 *
 * Every run is its own transaction; the sweep row (schema: sweep) keeps the
 * options and progress, and --resume picks an interrupted sweep up from the
 * keys its runs already recorded. --shard I/N takes the keys whose baseline
 * ordinal % N == I-1, so N machines split one sweep (faultstack merge joins
 * their databases).
 *
 * This file: the options, the command's flow and its exit status. The parts
 * (sweep.h): sweep_plan.c keys, queues and the thin-wrapper census,
 * sweep_exec.c exec mode and the baseline, sweep_fork.c fork mode,
 * sweep_db.c progress, the sweep row, stopping, the session and --resume. */
#define _GNU_SOURCE
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "ingest.h"
#include "plan.h"
#include "sanitizer.h"
#include "symbolize.h"
#include "valgrind.h"
#include "verdict.h"

static void fs_sweep_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack sweep [OPTIONS] -- PROGRAM [ARGS...]\n"
        "  Run PROGRAM once without injection to list its fault points, then once per\n"
        "  point with that point failing; record every run, leak, anomaly and crash.\n"
        "  --db FILE           report database (default ./faultstack.db)\n"
        "  --strategy S        nth: every dynamic call; site: the first call of each call\n"
        "                      site (default; far fewer runs), and where a call site is\n"
        "                      reached from several callers in the baseline (a thin wrapper:\n"
        "                      xmalloc, jsonp_malloc), the first call for each caller of the\n"
        "                      function holding it, and for each caller of that caller when\n"
        "                      it too is reached from several (up to 3 callers; key\n"
        "                      site=...,caller=MODULE+0xOFF[/MODULE+0xOFF...]);\n"
        "                      stack: the first call of each (call site, calling context)\n"
        "  --mode M            fork (default): fork at each point, the prefix never re-runs;\n"
        "                      falls back to exec when the program has threads, children,\n"
        "                      pipes or sockets; exec: a fresh process per point\n"
        "  -j N, --jobs N      runs at once (default: number of CPUs)\n"
        "  --timeout S         per run; the target's process group is killed (default 60)\n"
        "  --max-runs N        stop after N fault runs (status 'limited')\n"
        "  --shard I/N         only this machine's share (baseline ordinal %% N == I-1);\n"
        "                      join the databases with faultstack merge\n"
        "  --resume            go on with the last unfinished sweep of this command in --db\n"
        "                      (after ^C, SIGKILL or a full disk: unconfirmed fork-mode\n"
        "                      findings are replayed first)\n"
        "  --depth 2           also fail each point on the error path of each fault\n"
        "  --persistent        keep failing the same function after the first fault (OOM-like)\n"
        "  --fail FILTERS      only=FUNC,..., module=NAME, errno=NAME for every run\n"
        "  --protocol SPEC     also check your library's protocols described in SPEC\n"
        "                      (repeatable; see `faultstack protocol --help`)\n"
        "  --stdin FILE        every run reads FILE on stdin (default /dev/null); the\n"
        "                      program's stdout goes to /dev/null, its stderr is counted\n"
        "                      (the baseline's is shown)\n"
        "  --fail-on LIST      which findings make the exit status 1: any of leak, anomaly,\n"
        "                      crash, timeout, memcheck, swallowed (default: all but swallowed)\n"
        "  --expect-exit LIST  how the baseline run (nothing failing) must end for the sweep\n"
        "                      to go on: exit statuses (default 0; e.g. 0,1), 'any' (any exit\n"
        "                      status), 'timeout' (a program that runs until killed, e.g. a\n"
        "                      server: each fault run's timeout is then the baseline's)\n"
        "  --suppressions FILE findings a rule of FILE accepts are marked suppressed, kept in\n"
        "                      the database, not counted (repeatable; docs/suppressions.md)\n"
        "  --scope MODULES     judge only what these modules do (comma-separated basenames or\n"
        "                      globs, e.g. libjson-c.so): findings whose site is elsewhere\n"
        "                      are marked out-of-scope and not counted; a test driver's\n"
        "                      abort() after an injected failure is marked driver-gave-up\n"
        "  --valgrind          every run also under valgrind's memcheck, in exec mode (see\n"
        "                      faultstack run --help); memory errors on error paths are\n"
        "                      findings of category 'memcheck'\n"
        "  Points reached only on error paths are discovered and failed too ('<key>,then=N').\n"
        "  The baseline must be observed, reach a fault point, not crash, and end as\n"
        "  --expect-exit says; otherwise nothing is swept and the exit status is 2.\n"
        "  ^C/SIGTERM/SIGHUP: the runs in progress are killed, not recorded; the sweep\n"
        "  stops 'interrupted' (a second signal kills at once). A full disk (database or\n"
        "  run directories) stops it too, with exit 2 and what to do; both are resumable.\n"
        "exit status: 0 nothing found (and the baseline was observed and swept), 1 findings,\n"
        "2 usage or tool error, interrupted, a full disk, or the baseline tested nothing:\n"
        "not observed (static or set-user-ID program), crashed, timed out, reached no fault\n"
        "point, or exited otherwise than --expect-exit allows (the message says which and\n"
        "what to do)\n");
}

static int fs_parse_fail_on(const char *s, unsigned *out)
{
    unsigned m = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "leak")) m |= FS_ON_LEAK;
        else if (!strcmp(t, "anomaly")) m |= FS_ON_ANOMALY;
        else if (!strcmp(t, "crash")) m |= FS_ON_CRASH;
        else if (!strcmp(t, "timeout")) m |= FS_ON_TIMEOUT;
        else if (!strcmp(t, "swallowed")) m |= FS_ON_SWALLOWED;
        else if (!strcmp(t, "memcheck")) m |= FS_ON_MEMCHECK;
        else if (!strcmp(t, "none")) m |= 0;
        else return -1;
    }
    *out = m;
    return 0;
}

/* --expect-exit LIST: exit statuses 0..255, any, timeout. Returns 0 or -1. */
static int fs_parse_expect(struct fs_sweep *W, const char *s)
{
    char buf[256];
    if (strlen(s) >= sizeof buf || !*s)
        return -1;
    snprintf(buf, sizeof buf, "%s", s);
    memset(W->expect_code, 0, sizeof W->expect_code);
    W->expect_any = W->expect_timeout = 0;
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
        char *end = NULL;
        if (!strcmp(t, "any")) W->expect_any = 1;
        else if (!strcmp(t, "timeout")) W->expect_timeout = 1;
        else {
            long v = strtol(t, &end, 10);
            if (!*t || *end || v < 0 || v > 255)
                return -1;
            W->expect_code[v] = 1;
        }
    }
    if (!n)
        return -1;
    snprintf(W->expect_text, sizeof W->expect_text, "%s", s);
    return 0;
}

/* --suppressions FILE..., --scope MODULES: how findings are triaged (verdict.c) */
static struct fs_judge fs_sweep_judge;

static int fs_sweep_options(struct fs_sweep *W, int argc, char **argv, int *argi)
{
    fs_verdict_use(&fs_sweep_judge);
    const char *fail = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fs_sweep_usage(stdout); exit(0); }
        if (a[0] != '-') break;
        const char *eq = strchr(a, '=');
        char name[64];
        const char *val = NULL;
        if (!strncmp(a, "--", 2) && eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        int flag = !strcmp(name, "--resume") || !strcmp(name, "--persistent") || !strcmp(name, "--valgrind");
        if (!flag && !val) {
            if (!strncmp(a, "-j", 2) && a[2]) { val = a + 2; snprintf(name, sizeof name, "-j"); }
            else if (i + 1 < argc) val = argv[++i];
            else {
                fprintf(stderr, "faultstack sweep: %s needs a value\n", a);
                return -1;
            }
        }
        char *end = NULL;
        if (!strcmp(name, "--db")) W->db_path = val;
        else if (!strcmp(name, "--protocol")) {
            char perr[4096];
            if (fs_protocol_load(val, perr, sizeof perr) != 0) {
                fprintf(stderr, "faultstack sweep: %s\n", perr);
                return -1;
            }
        }
        else if (!strcmp(name, "--stdin")) {
            if (access(val, R_OK) != 0) {
                fprintf(stderr, "faultstack sweep: cannot read --stdin file '%s': %s\n", val, strerror(errno));
                return -1;
            }
            W->stdin_path = val;
        }
        else if (!strcmp(name, "--strategy")) {
            if (!strcmp(val, "nth")) W->strategy = FS_S_NTH;
            else if (!strcmp(val, "site")) W->strategy = FS_S_SITE;
            else if (!strcmp(val, "stack")) W->strategy = FS_S_STACK;
            else { fprintf(stderr, "faultstack sweep: unknown --strategy '%s' (use nth, site or stack)\n", val); return -1; }
        } else if (!strcmp(name, "--mode")) {
            W->mode_given = 1;
            if (!strcmp(val, "fork")) W->fork_mode = 1;
            else if (!strcmp(val, "exec")) W->fork_mode = 0;
            else { fprintf(stderr, "faultstack sweep: unknown --mode '%s' (use fork or exec)\n", val); return -1; }
        } else if (!strcmp(name, "-j") || !strcmp(name, "--jobs")) {
            long n = strtol(val, &end, 10);
            if (*end || n < 1 || n > 64) { fprintf(stderr, "faultstack sweep: bad -j '%s': give 1..64\n", val); return -1; }
            W->jobs = (int)n;
        } else if (!strcmp(name, "--timeout")) {
            char terr[512];
            if (fs_parse_timeout(val, &W->timeout_ms, terr, sizeof terr) != 0) {
                fprintf(stderr, "faultstack sweep: %s\n", terr);
                return -1;
            }
        } else if (!strcmp(name, "--max-runs")) {
            long long n = strtoll(val, &end, 10);
            if (*end || n < 1) { fprintf(stderr, "faultstack sweep: bad --max-runs '%s': give a number >= 1\n", val); return -1; }
            W->max_runs = n;
        } else if (!strcmp(name, "--shard")) {
            int a1 = 0, b1 = 0, n = 0;
            if (sscanf(val, "%d/%d%n", &a1, &b1, &n) != 2 || val[n] || b1 < 1 || a1 < 1 || a1 > b1) {
                fprintf(stderr, "faultstack sweep: bad --shard '%s': give I/N with 1 <= I <= N, e.g. --shard 2/4\n", val);
                return -1;
            }
            W->shard_i = a1;
            W->shard_n = b1;
        } else if (!strcmp(name, "--depth")) {
            if (strcmp(val, "1") && strcmp(val, "2")) { fprintf(stderr, "faultstack sweep: bad --depth '%s': give 1 or 2\n", val); return -1; }
            W->depth = atoi(val);
        } else if (!strcmp(name, "--fail")) fail = val;
        else if (!strcmp(name, "--suppressions") || !strcmp(name, "--scope")) {
            if (fs_judge_option(&fs_sweep_judge, "sweep", name, val) < 0)   /* verdict.c */
                return -1;
        } else if (!strcmp(name, "--fail-on")) {
            if (fs_parse_fail_on(val, &W->fail_on) != 0) {
                fprintf(stderr, "faultstack sweep: bad --fail-on '%s': give a list of leak, anomaly, crash, "
                                "timeout, memcheck, swallowed (or none)\n", val);
                return -1;
            }
        } else if (!strcmp(name, "--expect-exit")) {
            if (fs_parse_expect(W, val) != 0) {
                fprintf(stderr, "faultstack sweep: bad --expect-exit '%s': give a list of exit statuses 0..255, "
                                "'any' (any exit status) and/or 'timeout' (a program that runs until killed), "
                                "e.g. --expect-exit 0,1 or --expect-exit any\n", val);
                return -1;
            }
        } else if (!strcmp(name, "--resume")) W->resume = 1;
        else if (!strcmp(name, "--persistent")) W->persistent = 1;
        else if (!strcmp(name, "--valgrind")) W->valgrind = 1;
        else {
            fprintf(stderr, "faultstack sweep: unknown option '%s'\n", a);
            return -1;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "faultstack sweep: no program given\n");
        return -1;
    }
    char err[2048];
    if (fs_plan_parse(fail, &W->filters, err, sizeof err) != 0 ||
        fs_plan_check_funcs(&W->filters, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    if (W->filters.trigger != FS_PLAN_NONE || W->filters.then || W->filters.persistent) {
        fprintf(stderr, "faultstack sweep: --fail takes only filters here (only=, module=, errno=): the sweep "
                        "chooses the failing points; use --persistent for persistent\n");
        return -1;
    }
    fs_plan_format(&W->filters, W->filter_text, sizeof W->filter_text);
    if (!strcmp(W->filter_text, "none"))
        W->filter_text[0] = '\0';
    *argi = i;
    return 0;
}

/* ---------------- the command ---------------- */

static int fs_sweep_exit_status(struct fs_sweep *W)
{
    static const struct { unsigned bit; const char *cat; } cats[] = {
        { FS_ON_LEAK, "leak" }, { FS_ON_ANOMALY, "anomaly" }, { FS_ON_CRASH, "crash" }, { FS_ON_TIMEOUT, "timeout" },
        { FS_ON_MEMCHECK, "memcheck" }
    };
    int64_t counts[5], total = 0;
    for (int i = 0; i < 5; i++) {
        counts[i] = fs_session_findings(W, cats[i].cat);
        total += counts[i];
    }
    int64_t swallowed = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(W->db, "SELECT count(*) FROM run WHERE session_id = ?1 AND swallowed = 1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, W->session_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            swallowed = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    double secs = (double)(fs_now_ms() - W->t0) / 1000.0;
    fprintf(stderr, "faultstack sweep: %lld fault runs (%lld fork, %lld exec, of which %lld confirmations) in %.2f s, "
                    "%.1f points/s\n", (long long)W->done, (long long)W->fork_runs, (long long)W->exec_runs,
            (long long)W->confirmations, secs, secs > 0 ? (double)W->done / secs : 0.0);
    fprintf(stderr, "faultstack sweep: %lld finding%s: %lld leak%s, %lld anomal%s, %lld crash%s, %lld timeout%s; "
                    "%lld swallowed failure%s\n",
            (long long)total, total == 1 ? "" : "s", (long long)counts[0], counts[0] == 1 ? "" : "s",
            (long long)counts[1], counts[1] == 1 ? "y" : "ies", (long long)counts[2], counts[2] == 1 ? "" : "es",
            (long long)counts[3], counts[3] == 1 ? "" : "s", (long long)swallowed, swallowed == 1 ? "" : "s");
    char triage[512];
    fs_verdict_summary(W->db, W->session_id, 0, triage, sizeof triage);
    if (triage[0])
        fprintf(stderr, "faultstack sweep: also %s\n", triage);
    if (W->valgrind)
        fprintf(stderr, "faultstack sweep: memcheck: %lld memory error finding%s (category memcheck); compare the "
                        "two oracles: SELECT * FROM memcheck_vs_faultstack\n",
                (long long)counts[4], counts[4] == 1 ? "" : "s");
    if (W->unconfirmed)
        fprintf(stderr, "faultstack sweep: %lld fork-mode run%s showed findings that their exec replay did not "
                        "(kept in the leaks/anomalies views, not in findings)\n",
                (long long)W->unconfirmed, W->unconfirmed == 1 ? "" : "s");
    if (W->limited)
        fprintf(stderr, "faultstack sweep: stopped at --max-runs %lld; more points remain (--resume with a larger "
                        "--max-runs goes on)\n", (long long)W->max_runs);
    if (W->baseline_run) {                   /* a baseline that did not exit 0 (as --expect-exit allows) */
        int64_t code = 0, tmo = 0;
        if (sqlite3_prepare_v2(W->db, "SELECT ifnull(exit_code, -1), timed_out FROM run WHERE id = ?1", -1, &st,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, W->baseline_run);
            if (sqlite3_step(st) == SQLITE_ROW) {
                code = sqlite3_column_int64(st, 0);
                tmo = sqlite3_column_int64(st, 1);
            }
        }
        sqlite3_finalize(st);
        if (tmo)
            fprintf(stderr, "faultstack sweep: note: the baseline run %lld timed out (--expect-exit %s)\n",
                    (long long)W->baseline_run, W->expect_text);
        else if (code)
            fprintf(stderr, "faultstack sweep: note: the baseline run %lld exited %lld (--expect-exit %s): the "
                            "faults were injected into that path\n", (long long)W->baseline_run, (long long)code,
                    W->expect_text);
    }
    if (total)
        fprintf(stderr, "faultstack sweep: see: faultstack report --db %s\n", W->db_path);
    int hit = 0;
    for (int i = 0; i < 5; i++)
        if ((W->fail_on & cats[i].bit) && counts[i])
            hit = 1;
    if ((W->fail_on & FS_ON_SWALLOWED) && swallowed)
        hit = 1;
    return hit;
}

int fs_cmd_sweep(int argc, char **argv)
{
    struct fs_sweep W;
    memset(&W, 0, sizeof W);
    W.db_path = "faultstack.db";
    W.strategy = FS_S_SITE;
    W.fork_mode = 1;
    W.depth = 1;
    W.shard_i = W.shard_n = 1;
    W.timeout_ms = 60 * 1000;
    W.expect_code[0] = 1;
    snprintf(W.expect_text, sizeof W.expect_text, "0");
    W.fail_on = FS_ON_LEAK | FS_ON_ANOMALY | FS_ON_CRASH | FS_ON_TIMEOUT | FS_ON_MEMCHECK;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    W.jobs = ncpu > 0 ? (ncpu > 64 ? 64 : (int)ncpu) : 1;
    int argi;
    if (fs_sweep_options(&W, argc, argv, &argi) != 0) {
        /* the message above names the problem; the whole usage would bury it */
        fprintf(stderr, "faultstack sweep: see `faultstack sweep --help` for the options\n");
        return 2;
    }
    char err[2048];
    if (fs_resolve_program(argv[argi], W.prog, sizeof W.prog, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return 2;
    }
    W.argv = argv + argi;
    if (W.filters.internal) {
        /* a point inside libc is reached with libc's own locks held (NSS,
         * stdio, malloc arenas): a child forked there can deadlock on them */
        if (W.mode_given && W.fork_mode) {
            fprintf(stderr, "faultstack sweep: --fail internal fails calls inside libc, where a forked run "
                            "could deadlock on libc's own locks: it sweeps in exec mode; drop --mode fork\n");
            return 2;
        }
        W.fork_mode = 0;
    }
    if (W.valgrind) {
        /* fork mode's runs are forked inside one process: under memcheck they
         * would share its start-up and its report files; each run its own exec */
        if (W.mode_given && W.fork_mode) {
            fprintf(stderr, "faultstack sweep: --valgrind runs every point in exec mode; drop --mode fork\n");
            return 2;
        }
        W.fork_mode = 0;
        if (fs_sanitizer_no_valgrind(W.prog, err, sizeof err) != 0 || fs_vg_find(&W.vg, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack sweep: %s\n", err);
            return 2;
        }
    }
    if (fs_find_preload(W.preload, sizeof W.preload) != 0) {
        fprintf(stderr, "faultstack sweep: cannot find libfaultstack-preload.so next to the faultstack binary "
                        "(" FS_PRELOAD_RELDIR "/, or ../lib/ in a build tree); set FAULTSTACK_PRELOAD to its path\n");
        return 2;
    }
    W.db = fs_db_open(W.db_path, err, sizeof err);
    if (!W.db) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return 2;
    }
    int journal_kept = 0;
    {
        /* In SQLite's default journal mode every transaction creates and
         * deletes DB-journal; on ext4 creating an inode next to recently
         * deleted ones cost ~1 ms (recently_deleted(): ~40 % of a fork-mode
         * sweep's supervisor in perf, bench/RESULTS.md, issue 11). PERSIST
         * keeps the file between transactions with its header zeroed: the
         * same rollback guarantees (a zeroed journal is not hot), and
         * DELETE at the end removes it. journal_size_limit: a big batch's
         * journal does not stay big. */
        char jerr[256];
        sqlite3_stmt *jm = NULL;
        if (sqlite3_prepare_v2(W.db, "PRAGMA journal_mode", -1, &jm, NULL) == SQLITE_OK &&
            sqlite3_step(jm) == SQLITE_ROW && sqlite3_column_text(jm, 0) &&
            !strcmp((const char *)sqlite3_column_text(jm, 0), "delete") &&  /* not a user's WAL */
            fs_db_exec(W.db, "PRAGMA journal_mode=PERSIST", jerr, sizeof jerr) == 0) {
            journal_kept = 1;
            fs_db_exec(W.db, "PRAGMA journal_size_limit=1048576", jerr, sizeof jerr);
        }
        sqlite3_finalize(jm);
    }
    pthread_mutex_init(&W.mu, NULL);
    W.tty = isatty(2);
    W.t0 = fs_now_ms();
    unsetenv("DEBUGINFOD_URLS");
    W.sym = fs_sym_new();
    /* ^C, SIGTERM, SIGHUP: the runs in progress are killed (not recorded), the
     * sweep stops resumable; a second one kills at once */
    fs_stop_install();
    signal(SIGPIPE, SIG_IGN);
    fs_clean_stale(fs_run_base());

    struct fs_strset done_keys = { 0 };
    int rc = 2;
    char skip_path[PATH_MAX] = "";
    if (fs_sweep_session(&W, &done_keys) != 0)
        goto out;
    if (W.resume && W.baseline_run) {
        if (W.strategy == FS_S_SITE)
            fs_census_run(&W);
        fs_keys_from_baseline(&W, INT64_MAX, NULL);   /* the baseline's sites, for discovery */
        fs_resume_plan(&W, &done_keys);
        int64_t rq = fs_requeue_replays(&W);
        if (rq)
            fprintf(stderr, "faultstack sweep: %lld forked run%s with findings not yet confirmed: their exec "
                            "replay%s run first\n", (long long)rq, rq == 1 ? "" : "s", rq == 1 ? "" : "s");
        if (W.fork_mode) {
            if (fs_write_skip(&W, &done_keys, skip_path) < 0)
                skip_path[0] = '\0';
            if (fs_fork_phase(&W, skip_path[0] ? skip_path : NULL) != 0 && !fs_interrupted && !W.stopped)
                goto out;
        } else {
            fs_keys_from_baseline(&W, 0, &done_keys);
        }
    } else if (W.fork_mode) {
        if (fs_fork_phase(&W, NULL) != 0 && !fs_interrupted && !W.stopped)
            goto out;
        if (!W.fork_mode) {                  /* could not fork: exec mode after all */
            if (fs_baseline_exec(&W) != 0)
                goto out;
            fs_keys_from_baseline(&W, 0, NULL);
        }
    } else {
        if (fs_baseline_exec(&W) != 0 && !W.stopped)
            goto out;
        fs_keys_from_baseline(&W, 0, NULL);
    }
    pthread_mutex_lock(&W.mu);
    fs_sweep_row_update(&W, NULL);
    if (!W.planned && !W.resume && W.shard_n > 1)
        fprintf(stderr, "faultstack sweep: note: none of the baseline's fault points falls in shard %d/%d; the "
                        "other shards sweep them\n", W.shard_i, W.shard_n);
    fs_progress(&W, 1);
    pthread_mutex_unlock(&W.mu);
    if (!fs_interrupted && !W.stopped)
        fs_exec_phase(&W);
    for (size_t i = 0; i < W.nlater; i++) {
        for (char *k0 = W.later[i].keys, *nl; k0 && *k0; k0 = nl + 1) {
            nl = strchr(k0, '\n');
            if (!nl) break;
            *nl = '\0';
            if (fs_link_finding(W.db, k0, W.later[i].run_id) == 0)
                W.unconfirmed++;             /* its replay did not show it */
        }
        free(W.later[i].keys);
    }
    W.nlater = 0;
    fs_progress_end(&W);
    if (W.stopped) {
        /* best effort: the database may not take even this; 'running' is
         * resumable too */
        fs_sweep_row_update(&W, "interrupted");
    } else if (fs_interrupted) {
        fs_sweep_row_update(&W, "interrupted");
        fprintf(stderr, "faultstack sweep: interrupted after %lld of %lld points; what was recorded is kept; "
                        "go on with: faultstack sweep --resume (same options) -- ...\n",
                (long long)W.done, (long long)W.planned);
    } else {
        fs_sweep_row_update(&W, W.limited ? "limited" : "complete");
    }
    rc = fs_sweep_exit_status(&W) ? 1 : 0;
    if (W.partial[0] && rc == 0) {
        fprintf(stderr, "faultstack sweep: not clean: the baseline was only partly observed (%s); exit 2\n",
                W.partial);
        rc = 2;
    }
    if (W.stopped)
        fprintf(stderr, "faultstack sweep: error: the sweep stopped after %lld of %lld points: %s. Nothing "
                        "recorded is lost (each run is committed whole; the runs in progress were not recorded). "
                        "Then go on with: faultstack sweep --resume (same options) -- ...\n",
                (long long)W.done, (long long)W.planned, W.stop_why);
    if (W.tool_error || W.stopped)
        rc = 2;
    if (fs_interrupted && rc == 0)
        rc = 2;
out:
    if (W.baseline_failed) {
        fs_sweep_row_update(&W, "baseline-failed");
        rc = 2;
    }
    if (skip_path[0])
        unlink(skip_path);
    fs_strset_free(&done_keys);
    fs_strset_free(&W.keys);
    fs_strset_free(&W.base_sites);
    fs_strset_free(&W.errpath_sites);
    fs_strset_free(&W.pending);
    fs_strset_free(&W.wrap_sites);
    fs_strset_free(&W.wrap_ext);
    for (size_t i = 0; i < W.nckeys; i++) {
        free(W.ckeys[i].site_id);
        free(W.ckeys[i].key);
    }
    free(W.ckeys);
    free(W.wrap_env);
    for (size_t i = 0; i < W.nlater; i++)
        free(W.later[i].keys);
    free(W.later);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < W.q[k].n; i++) {
            free(W.q[k].v[i].key);
            free(W.q[k].v[i].replay);
        }
        free(W.q[k].v);
    }
    fs_sym_free(W.sym);
    if (journal_kept) {
        char jerr[256];
        if (fs_db_exec(W.db, "PRAGMA journal_mode=DELETE", jerr, sizeof jerr)) {
            /* busy (another writer): the zeroed journal stays, harmless */
        }
    }
    sqlite3_close(W.db);
    return rc;
}
