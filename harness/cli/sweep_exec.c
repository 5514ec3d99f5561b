/* sweep_exec.c — exec mode: one fresh process per key (under memcheck with
 * --valgrind), -j N worker threads over the two queues (fault runs and
 * replays first, error paths after); the baseline run and its verdict (what
 * the sweep stands on). Part of `faultstack sweep` (sweep.h). */
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

/* ---------------- one exec-mode run ---------------- */

/* Store a point of a fault run after its fault? Only at a site the baseline
 * never reached (what error-path discovery looks for), unless --depth 2,
 * which fails every site on an error path (then keep_point is not set).
 * Called by ingest with W->mu held, as fs_discover reads base_sites. */
static int fs_sweep_keep_point(void *arg, const char *func, const char *module, uint64_t offset)
{
    const struct fs_sweep *W = arg;
    char id[512];
    fs_site_id(id, sizeof id, func, module, (int64_t)offset);
    return !fs_strset_has(&W->base_sites, id);
}

/* What ingest needs of a sweep run: the sweep's session, command and
 * symbolizer, plus this run's directory, plan, spec (NULL: a baseline), mode
 * and outcome. */
void fs_sweep_info(const struct fs_sweep *W, struct fs_run_info *info, const char *dir,
                   const struct fs_plan *plan, const char *spec, const char *mode,
                   const struct fs_outcome *oc)
{
    memset(info, 0, sizeof *info);
    info->session_id = W->session_id;
    info->run_dir = dir;
    info->db_path = W->db_path;
    info->argv = W->argv;
    info->plan = plan;
    info->fault_spec = spec;
    info->mode = mode;
    info->exit_code = oc->exit_code;
    info->signal = oc->signal;
    info->timed_out = oc->timed_out;
    info->stderr_bytes = oc->stderr_bytes;
    info->duration_ms = oc->duration_ms;
    info->timeout_ms = W->timeout_ms;
    info->stdin_path = W->stdin_path;
    info->sym = W->sym;
    info->valgrind = W->valgrind ? &W->vg : NULL;
    if (W->depth < 2) {
        info->keep_point = fs_sweep_keep_point;
        info->keep_arg = (void *)W;
    }
}

/* fs_spawn_and_wait, under memcheck with --valgrind (the launcher runs
 * sp->program; its reports go into sp->run_dir). sp itself stays the plain
 * template for confirmation runs. Same returns as fs_spawn_and_wait. */
static int fs_sweep_spawn(struct fs_sweep *W, const struct fs_spawn *sp, struct fs_outcome *oc,
                          char *err, size_t errlen)
{
    if (!W->valgrind)
        return fs_spawn_and_wait(sp, oc, err, errlen);
    char **vargv = fs_vg_argv(&W->vg, sp->run_dir, sp->program, sp->argv);
    if (!vargv) {
        snprintf(err, errlen, "cannot prepare the valgrind run in %s (out of memory or disk?)", sp->run_dir);
        return -1;
    }
    char *env[16], buf[PATH_MAX + 128];
    int k = 0;
    while (sp->extra_env && sp->extra_env[k] && k < 8) {
        env[k] = sp->extra_env[k];
        k++;
    }
    fs_vg_env(&W->vg, env + k, 16 - k, buf, sizeof buf);
    struct fs_spawn run = *sp;
    run.program = W->vg.launcher;
    run.argv = vargv;
    run.extra_env = env;
    int rc = fs_spawn_and_wait(&run, oc, err, errlen);
    free(vargv);
    return rc;
}

/* Run one job in exec mode and record it. Called without W->mu; takes it to
 * write the database. */
static void fs_exec_job(struct fs_sweep *W, const struct fs_job *j)
{
    char text[2048], err[2048], dir[PATH_MAX];
    struct fs_plan plan;
    if (fs_key_plan(W, j->replay ? j->replay : j->key, &plan, text, sizeof text, err, sizeof err) != 0) {
        fprintf(stderr, "\nfaultstack sweep: internal error: key '%s': %s\n", j->key, err);
        return;
    }
    if (fs_mk_run_dir(dir, err, sizeof err) != 0) {
        fprintf(stderr, "\nfaultstack sweep: %s\n", err);
        pthread_mutex_lock(&W->mu);
        W->tool_error = 1;
        pthread_mutex_unlock(&W->mu);
        return;
    }
    struct fs_spawn sp = { W->prog, W->argv, W->preload, dir, text, W->timeout_ms, NULL, 1, NULL, 0, NULL };
    sp.stdin_path = W->stdin_path;
    struct fs_outcome oc;
    if (fs_sweep_spawn(W, &sp, &oc, err, sizeof err) != 0) {
        fprintf(stderr, "\nfaultstack sweep: %s\n", err);
        fs_rm_rf(dir);
        pthread_mutex_lock(&W->mu);
        W->tool_error = 1;
        pthread_mutex_unlock(&W->mu);
        return;
    }
    char lost[1024];
    if (oc.interrupted || W->stopped ||     /* killed by our stop: --resume runs it again */
        fs_run_dir_full(dir, oc.timed_out || oc.signal, lost, sizeof lost)) {
        if (!oc.interrupted && !W->stopped) {
            pthread_mutex_lock(&W->mu);
            fs_sweep_stop(W, 0, NULL, lost);
            pthread_mutex_unlock(&W->mu);
        }
        fs_rm_rf(dir);
        return;
    }
    struct fs_run_info info;
    fs_sweep_info(W, &info, dir, &plan, text, "exec", &oc);
    info.sweep_key = j->key;
    info.confirms = j->confirms;
    pthread_mutex_lock(&W->mu);
    struct fs_run_result res;
    if (W->stopped) {
        pthread_mutex_unlock(&W->mu);
        fs_rm_rf(dir);
        return;
    }
    if (fs_ingest_run(W->db, &info, &res, err, sizeof err) != 0) {
        if (res.db_error) {                  /* nothing more can be recorded: stop */
            fs_sweep_stop(W, res.db_error, err, NULL);
            fs_rm_rf(dir);
        } else {
            fs_keep_run_dir(dir);
            fprintf(stderr, "\nfaultstack sweep: could not record the run of %s: %s; its records are kept in %s\n",
                    j->key, err, dir);
            W->tool_error = 1;
        }
        pthread_mutex_unlock(&W->mu);
        return;
    }
    fs_rm_rf(dir);
    W->exec_runs++;
    if (j->confirms) {
        W->confirmations++;
        if (!res.fault_findings)
            W->unconfirmed++;
    } else {
        W->done++;
    }
    fs_sweep_row_update(W, NULL);
    fs_progress(W, 0);
    /* acquire stacks for leaks this run was the first to show */
    int64_t first_leaks = 0;
    sqlite3_stmt *st = NULL;
    if (res.leaks && !getenv("FAULTSTACK_NO_CONFIRM") &&
        sqlite3_prepare_v2(W->db, "SELECT count(*) FROM finding WHERE first_run = ?1 AND category = 'leak'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, res.run_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            first_leaks = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (first_leaks)
        fs_confirm_stacks(W->db, res.run_id, &sp, 0);
    pthread_mutex_unlock(&W->mu);
}

static void *fs_worker(void *arg)
{
    struct fs_sweep *W = arg;
    for (;;) {
        pthread_mutex_lock(&W->mu);
        struct fs_queue *Q = &W->q[W->phase];
        if (fs_interrupted || W->stopped || Q->next >= Q->n) {
            pthread_mutex_unlock(&W->mu);
            return NULL;
        }
        struct fs_job j = Q->v[Q->next++];
        pthread_mutex_unlock(&W->mu);
        fs_exec_job(W, &j);
    }
}

/* Run the queue with W->jobs threads until it is empty (jobs may add jobs). */
void fs_exec_phase(struct fs_sweep *W)
{
    int discovered = 0;
    for (;;) {
        W->phase = W->q[0].next < W->q[0].n ? 0 : 1;
        if (W->phase == 1 && !discovered && !fs_interrupted && !W->stopped) {
            pthread_mutex_lock(&W->mu);
            fs_discover_all(W);
            fs_sweep_row_update(W, NULL);
            pthread_mutex_unlock(&W->mu);
            discovered = 1;
        }
        struct fs_queue *Q = &W->q[W->phase];
        if (fs_interrupted || W->stopped || Q->next >= Q->n)
            break;
        int n = W->jobs;
        size_t pending = Q->n - Q->next;
        if ((size_t)n > pending) n = (int)pending;
        pthread_t th[64];
        int started = 0;
        for (int i = 0; i < n && i < 64; i++)
            if (pthread_create(&th[started], NULL, fs_worker, W) == 0)
                started++;
        if (!started)
            fs_worker(W);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
}

/* ---------------- the baseline ---------------- */

/* Did the baseline end as --expect-exit allows? */
static int fs_expected_end(const struct fs_sweep *W, const struct fs_outcome *oc)
{
    if (oc->timed_out)
        return W->expect_timeout;
    if (oc->signal)
        return 0;
    return W->expect_any || (oc->exit_code >= 0 && oc->exit_code < 256 && W->expect_code[oc->exit_code]);
}

/* The baseline is what a sweep stands on: when it was not observed, timed
 * out, crashed, ended otherwise than --expect-exit allows or reached no
 * fault point, the fault runs would test nothing (or nothing that can be
 * told apart from the baseline), so the sweep stops and exits 2. Returns 1
 * (message printed) or 0. */
static int fs_baseline_verdict(struct fs_sweep *W, const struct fs_outcome *oc, const struct fs_run_result *res,
                               int observed, const char *obs_msg, int can)
{
    char what[2048] = "", fix[1024] = "";
    if (res->version_bad) {
        char why[1024];
        fs_version_why(res->version_bad, why, sizeof why);
        snprintf(what, sizeof what, "was NOT READ: %s", why);
        snprintf(fix, sizeof fix, "run the preload that came with this faultstack (unset FAULTSTACK_PRELOAD, or "
                 "point it at this build's libfaultstack-preload.so)");
    } else if (observed == 2 && (can == 0 || !oc->timed_out)) {
        snprintf(what, sizeof what, "was NOT OBSERVED: %.1900s", obs_msg);
        snprintf(fix, sizeof fix, "nothing can be swept until the preload can enter the program");
    } else if (oc->timed_out && !W->expect_timeout) {
        snprintf(what, sizeof what, "timed out after %.*f s (--timeout), so every fault run would time out too",
                 W->timeout_ms % 100 ? 3 : 1, (double)W->timeout_ms / 1000.0);
        snprintf(fix, sizeof fix, "if the program needs longer, raise --timeout; if it never ends by itself (a "
                 "server), pass --expect-exit timeout");
    } else if (oc->signal && !oc->timed_out) {
        snprintf(what, sizeof what, "crashed: killed by signal %d (SIG%s), so the fault runs could not be told "
                 "apart from it", oc->signal, sigabbrev_np(oc->signal) ? sigabbrev_np(oc->signal) : "?");
        snprintf(fix, sizeof fix, "fix the crash first (faultstack report --db %s shows where it is)", W->db_path);
    } else if (!fs_expected_end(W, oc)) {
        snprintf(what, sizeof what, "exited %d, and the sweep expects %s (--expect-exit)%s", oc->exit_code,
                 W->expect_text, res->points_total == 0 ? " (and it reached no fault point)" : "");
        snprintf(fix, sizeof fix, "its stderr is above: fix the command (a missing input? a usage error?); if "
                 "exit %d is this program's normal result, pass --expect-exit %d (or --expect-exit any)",
                 oc->exit_code, oc->exit_code);
    } else if (res->points_total == 0) {
        snprintf(what, sizeof what, "reached no fault point, so there is nothing to fail%s%s",
                 W->filter_text[0] ? " (with --fail " : "", W->filter_text[0] ? W->filter_text : "");
        if (W->filter_text[0])
            strncat(what, ": none of its calls matched)", sizeof what - strlen(what) - 1);
        snprintf(fix, sizeof fix, "check the command and its arguments (its stderr is above), and --fail; fault "
                 "points are the wrapped calls the program makes itself (faultstack functions)");
    } else {
        return 0;
    }
    fprintf(stderr, "faultstack sweep: error: the baseline run %lld (nothing failing) %s; nothing was swept: %s. "
                    "The baseline is recorded; the sweep's status is 'baseline-failed'\n",
            (long long)res->run_id, what, fix);
    return 1;
}

int fs_baseline_exec(struct fs_sweep *W)
{
    char text[2048], err[2048], dir[PATH_MAX];
    struct fs_plan plan;
    fs_key_plan(W, "none", &plan, text, sizeof text, err, sizeof err);
    plan.persistent = 0;
    fs_plan_format(&plan, text, sizeof text);
    if (fs_mk_run_dir(dir, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    char why[1024];
    int can = fs_interposable(W->prog, why, sizeof why);
    if (can == 0)
        fprintf(stderr, "faultstack sweep: warning: the preload cannot enter %s; its baseline runs unobserved, to "
                        "record its exit status (why: below, when it ends)\n", W->prog);
    fs_sanitizer_warn(W->prog);
    char *env[] = { W->strategy == FS_S_STACK ? "FAULTSTACK_CTX=1" :
                    W->strategy == FS_S_SITE ? "FAULTSTACK_CALLERS=1" : NULL, NULL };
    struct fs_spawn sp = { W->prog, W->argv, W->preload, dir, text, W->timeout_ms, NULL, 2, env, 0, NULL };
    sp.stdin_path = W->stdin_path;
    struct fs_outcome oc;
    if (fs_sweep_spawn(W, &sp, &oc, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        fs_rm_rf(dir);
        return -1;
    }
    if (oc.interrupted) {
        fs_rm_rf(dir);
        return -1;
    }
    char lost[1024];
    if (fs_run_dir_full(dir, oc.timed_out || oc.signal, lost, sizeof lost)) {
        fs_sweep_stop(W, 0, NULL, lost);
        fs_rm_rf(dir);
        return -1;
    }
    struct fs_run_info info;
    fs_sweep_info(W, &info, dir, &plan, NULL, "exec", &oc);
    struct fs_run_result res;
    if (fs_ingest_run(W->db, &info, &res, err, sizeof err) != 0) {
        if (res.db_error) {
            fs_sweep_stop(W, res.db_error, err, NULL);
            fs_rm_rf(dir);
            return -1;
        }
        fs_keep_run_dir(dir);
        fprintf(stderr, "faultstack sweep: could not record the baseline run: %s; its records are kept in %s\n",
                err, dir);
        return -1;
    }
    if (W->strategy == FS_S_SITE)
        fs_census(W, dir);
    fs_rm_rf(dir);
    W->baseline_run = res.run_id;
    char obs[4096];
    if (can != 0 && res.version_bad)
        fs_version_why(res.version_bad, why, sizeof why);
    int observed = fs_check_observed(W->db, res.run_id, oc.pid, W->prog, can == 0 || res.version_bad ? why : NULL,
                                     obs, sizeof obs);
    if (res.leaks && !getenv("FAULTSTACK_NO_CONFIRM"))
        fs_confirm_stacks(W->db, res.run_id, &sp, 0);
    if (oc.timed_out && W->expect_timeout)
        fprintf(stderr, "faultstack sweep: the baseline run timed out after %.*f s, as --expect-exit timeout "
                        "allows: the fault runs' timeouts are the baseline's finding\n",
                W->timeout_ms % 100 ? 3 : 1, (double)W->timeout_ms / 1000.0);
    char how[64];
    if (oc.timed_out) snprintf(how, sizeof how, "timed out");
    else if (oc.signal) snprintf(how, sizeof how, "signal %d", oc.signal);
    else snprintf(how, sizeof how, "exit %d%s", oc.exit_code,
                  oc.exit_code && fs_expected_end(W, &oc) ? " (allowed by --expect-exit)" : "");
    if (observed == 2)
        fprintf(stderr, "faultstack sweep: baseline run %lld: %s, not observed\n", (long long)res.run_id, how);
    else
        fprintf(stderr, "faultstack sweep: baseline run %lld: %s, %lld fault points, %d finding%s\n",
                (long long)res.run_id, how, (long long)res.points_total, res.findings, res.findings == 1 ? "" : "s");
    if (fs_baseline_verdict(W, &oc, &res, observed, obs, can)) {
        W->baseline_failed = 1;
        return -1;
    }
    if (observed == 1) {
        snprintf(W->partial, sizeof W->partial, "%s", obs);
        fprintf(stderr, "faultstack sweep: warning: the baseline run was only PARTLY OBSERVED: %s; what ran there "
                        "is not swept, and the sweep cannot end clean (exit 2 unless it finds something)\n", obs);
    }
    return 0;
}
