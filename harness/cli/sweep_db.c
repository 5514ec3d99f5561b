/* sweep_db.c — the sweep's rows and its resume: progress lines, the sweep row
 * (planned, done, status), stopping when nothing more can be recorded (a full
 * database or run-directory filesystem), the session (new, or --resume: what
 * counts as done, and the fork-mode runs whose findings still wait for their
 * exec replay), and the fork trunk's skip file. Part of `faultstack sweep`
 * (sweep.h). */
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

/* ---------------- progress ---------------- */

int64_t fs_session_findings(struct fs_sweep *W, const char *category)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    const char *sql = category
        ? "SELECT count(DISTINCT f.id) FROM finding f JOIN finding_run fr ON fr.finding_id = f.id "
          "JOIN run r ON r.id = fr.run_id WHERE r.session_id = ?1 AND f.category = ?2"
          " AND f.suppressed = 0 AND f.gave_up = 0 AND ifnull(f.in_scope, 1) = 1"   /* open ones (verdict.c) */
        : "SELECT count(DISTINCT fr.finding_id) FROM finding_run fr JOIN run r ON r.id = fr.run_id "
          "JOIN finding f ON f.id = fr.finding_id WHERE r.session_id = ?1"
          " AND f.suppressed = 0 AND f.gave_up = 0 AND ifnull(f.in_scope, 1) = 1";
    if (sqlite3_prepare_v2(W->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, W->session_id);
        if (category)
            sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* Caller holds W->mu. force: print now (phase changes, the end). */
void fs_progress(struct fs_sweep *W, int force)
{
    int64_t now = fs_now_ms();
    if (!force && (W->planned == 0 || now - W->last_progress < (W->tty ? 250 : 10000)))
        return;
    W->last_progress = now;
    double secs = (double)(now - W->t0) / 1000.0;
    double rate = secs > 0 ? (double)W->done / secs : 0;
    int64_t left = W->planned - W->done;
    int64_t findings = fs_session_findings(W, NULL);
    char eta[32] = "?";
    if (rate > 0 && left >= 0) {
        long e = (long)((double)left / rate + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld", e / 60, e % 60);
    }
    if (W->tty)
        fprintf(stderr, "\r\033[Kfaultstack sweep: %lld/%lld points, %lld finding%s, %.1f runs/s, ETA %s",
                (long long)W->done, (long long)W->planned, (long long)findings, findings == 1 ? "" : "s",
                rate, eta);
    else
        fprintf(stderr, "faultstack sweep: %lld/%lld points, %lld finding%s, %.1f runs/s, ETA %s\n",
                (long long)W->done, (long long)W->planned, (long long)findings, findings == 1 ? "" : "s",
                rate, eta);
    fflush(stderr);
}

void fs_progress_end(struct fs_sweep *W)
{
    fs_progress(W, 1);
    if (W->tty)
        fputc('\n', stderr);
}

void fs_sweep_row_update(struct fs_sweep *W, const char *status)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(W->db, "UPDATE sweep SET planned = ?2, done = ?3, baseline_run = ?4,"
                                  " status = coalesce(?5, status),"
                                  " finished_at = CASE WHEN ?5 IS NULL OR ?5 = 'running' THEN finished_at"
                                  " ELSE strftime('%Y-%m-%dT%H:%M:%SZ','now') END"
                                  " WHERE session_id = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, W->session_id);
        sqlite3_bind_int64(st, 2, W->planned);
        sqlite3_bind_int64(st, 3, W->done);
        if (W->baseline_run) sqlite3_bind_int64(st, 4, W->baseline_run); else sqlite3_bind_null(st, 4);
        if (status) sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 5);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

/* Nothing more can be recorded: the database cannot be written (res's
 * db_error: SQLITE_FULL, an I/O error...), or the run directories'
 * filesystem is full (why). The sweep stops where it is, resumable; the runs
 * in progress are killed and not recorded. Caller holds W->mu. */
void fs_sweep_stop(struct fs_sweep *W, int db_error, const char *err, const char *why)
{
    if (W->stopped++)
        return;
    if (why) {
        snprintf(W->stop_why, sizeof W->stop_why, "%s", why);
        return;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", W->db_path);
    char *sl = strrchr(dir, '/');
    if (sl) { if (sl == dir) sl[1] = '\0'; else *sl = '\0'; } else snprintf(dir, sizeof dir, ".");
    struct statvfs vf;
    char room[128] = "";
    if (statvfs(dir, &vf) == 0)
        snprintf(room, sizeof room, " (%llu KiB free)", (unsigned long long)vf.f_bavail * vf.f_frsize / 1024);
    int code = db_error & 0xff;
    if (code == SQLITE_FULL)
        snprintf(W->stop_why, sizeof W->stop_why, "cannot write the database %.400s (and its -journal): the "
                 "filesystem holding %.400s is full%s (SQLite: %.300s); free space there, or move the database to a "
                 "filesystem with room and pass its new --db", W->db_path, dir, room, err);
    else
        snprintf(W->stop_why, sizeof W->stop_why, "cannot write the database %.400s (in %.400s%s): %.300s; check the file, "
                 "its directory and the disk", W->db_path, dir, room, err);
}

/* --resume: a forked run is done only once its findings are confirmed. A
 * forked run whose fault caused something (a leak or anomaly attributed to
 * the fault, a crash, a timeout) and that no exec replay confirms yet — the
 * sweep was stopped between the two — gets its replay queued again, ahead of
 * the error-path runs (which would otherwise record the finding under their
 * second fault). Returns how many. */
int64_t fs_requeue_replays(struct fs_sweep *W)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(W->db,
            "SELECT r.id, r.sweep_key FROM run r WHERE r.session_id = ?1 AND r.mode = 'fork' "
            "AND r.sweep_key IS NOT NULL AND r.confirms IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM run c WHERE c.confirms = r.id) "
            "AND (r.timed_out = 1 OR r.signal IS NOT NULL "
            "  OR EXISTS (SELECT 1 FROM resource x WHERE x.run_id = r.id AND x.verdict = 'leak' "
            "             AND x.fault_func IS NOT NULL) "
            "  OR EXISTS (SELECT 1 FROM anomaly a WHERE a.run_id = r.id AND a.fault_func IS NOT NULL) "
            "  OR EXISTS (SELECT 1 FROM crash k WHERE k.run_id = r.id)) ORDER BY r.id", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, W->session_id);
    pthread_mutex_lock(&W->mu);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fs_queue_replay(W, (const char *)sqlite3_column_text(st, 1), 0, sqlite3_column_int64(st, 0));
        n++;
    }
    pthread_mutex_unlock(&W->mu);
    sqlite3_finalize(st);
    return n;
}

/* ---------------- options, session, resume ---------------- */

/* A new sweep session, or (--resume) the last unfinished one of the same
 * command and options. Returns 0 or -1. */
int fs_sweep_session(struct fs_sweep *W, struct fs_strset *done_keys)
{
    char err[2048], cmd[8192];
    fs_shell_join(cmd, sizeof cmd, W->argv);
    if (W->resume) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(W->db,
                "SELECT s.session_id, s.baseline_run FROM sweep s JOIN session se ON se.id = s.session_id "
                "WHERE se.command = ?1 AND s.strategy = ?2 AND s.depth = ?3 AND s.persistent = ?4 "
                "AND coalesce(s.filter_spec,'') = ?5 AND s.shard_index = ?6 AND s.shard_count = ?7 "
                "AND s.status NOT IN ('complete', 'baseline-failed') ORDER BY s.session_id DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, cmd, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, fs_strategy_names[W->strategy], -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, W->depth);
            sqlite3_bind_int(st, 4, W->persistent);
            sqlite3_bind_text(st, 5, W->filter_text, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 6, W->shard_i);
            sqlite3_bind_int(st, 7, W->shard_n);
            if (sqlite3_step(st) == SQLITE_ROW) {
                W->session_id = sqlite3_column_int64(st, 0);
                W->baseline_run = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
            }
        }
        sqlite3_finalize(st);
        if (!W->session_id) {
            fprintf(stderr, "faultstack sweep: --resume: no unfinished sweep of this command with these options "
                            "(strategy, depth, persistent, --fail, --shard) in %s; run without --resume\n",
                    W->db_path);
            return -1;
        }
        if (sqlite3_prepare_v2(W->db, "SELECT sweep_key FROM run WHERE session_id = ?1 AND sweep_key IS NOT NULL "
                                      "AND confirms IS NULL", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, W->session_id);
            while (sqlite3_step(st) == SQLITE_ROW)
                fs_strset_add(done_keys, (const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        fprintf(stderr, "faultstack sweep: resuming sweep session %lld: %zu points done already\n",
                (long long)W->session_id, done_keys->n);
        fs_db_exec(W->db, "BEGIN", err, sizeof err);
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE sweep SET status = 'running' WHERE session_id = %lld",
                 (long long)W->session_id);
        fs_db_exec(W->db, sql, err, sizeof err);
        fs_db_exec(W->db, "COMMIT", err, sizeof err);
        return 0;
    }
    W->session_id = fs_session_new(W->db, "sweep", W->argv, err, sizeof err);
    if (W->session_id < 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    sqlite3_stmt *st = fs_db_prepare(W->db,
        "INSERT INTO sweep(session_id, strategy, mode, depth, persistent, filter_spec, shard_index, shard_count,"
        " status) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,'running')", err, sizeof err);
    if (!st) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    fs_bind_int(st, 1, W->session_id);
    fs_bind_text(st, 2, fs_strategy_names[W->strategy]);
    fs_bind_text(st, 3, W->fork_mode ? "fork" : "exec");
    fs_bind_int(st, 4, W->depth);
    fs_bind_int(st, 5, W->persistent);
    fs_bind_text(st, 6, W->filter_text);
    fs_bind_int(st, 7, W->shard_i);
    fs_bind_int(st, 8, W->shard_n);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "faultstack sweep: database write failed: %s\n", sqlite3_errmsg(W->db));
        return -1;
    }
    return 0;
}

/* --resume: the keys of the done runs are not planned again. */
void fs_resume_plan(struct fs_sweep *W, const struct fs_strset *done_keys)
{
    for (size_t i = 0; i < done_keys->cap; i++)
        if (done_keys->slot[i] && fs_strset_add(&W->keys, done_keys->slot[i]) == 1) {
            W->planned++;
            W->done++;
        }
}

/* Ordinals (baseline numbering) of done keys, for the fork-mode trunk to skip. */
int fs_write_skip(struct fs_sweep *W, const struct fs_strset *done_keys, char *path)
{
    if (!done_keys->n)
        return 0;
    /* named like a run directory: removed by the next faultstack if we are killed */
    snprintf(path, PATH_MAX, "%s/faultstack-skip-%d.%llu-XXXXXX", fs_run_base(), (int)getpid(),
             fs_proc_start(getpid(), NULL, NULL));
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    sqlite3_stmt *st = NULL;
    if (f && sqlite3_prepare_v2(W->db,
            "SELECT func, module, offset, ctx, min(ordinal) FROM point WHERE run_id = ?1 "
            "GROUP BY func, module, offset, CASE WHEN ?2 THEN ordinal ELSE 0 END, CASE WHEN ?3 THEN ctx END",
            -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, W->baseline_run);
        sqlite3_bind_int(st, 2, W->strategy == FS_S_NTH);
        sqlite3_bind_int(st, 3, W->strategy == FS_S_STACK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char key[1024];
            int64_t ord = sqlite3_column_int64(st, 4);
            fs_point_key(W, ord, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                         sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), key, sizeof key);
            if (fs_strset_has(done_keys, key))
                fprintf(f, "%lld\n", (long long)ord);
        }
        for (size_t c = 0; c < W->nckeys; c++)       /* wrapper sites: one key per caller */
            if (fs_strset_has(done_keys, W->ckeys[c].key))
                fprintf(f, "%lld\n", (long long)W->ckeys[c].ord);
    }
    sqlite3_finalize(st);
    if (f) fclose(f); else close(fd);
    return 1;
}
