/* sweep.h — what the parts of `faultstack sweep` share: sweep.c (options, the
 * command's flow, exit status), sweep_plan.c (keys, queues, the thin-wrapper
 * census), sweep_exec.c (exec mode, the baseline), sweep_fork.c (fork mode),
 * sweep_db.c (progress, the sweep row, session and --resume). The sweep's
 * state and the functions one part calls in another; internal to harness/cli. */
#ifndef FS_SWEEP_H
#define FS_SWEEP_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "ingest.h"
#include "plan.h"
#include "symbolize.h"
#include "valgrind.h"

enum { FS_S_NTH, FS_S_SITE, FS_S_STACK };

static const char *const fs_strategy_names[] = { "nth", "site", "stack" };

enum { FS_ON_LEAK = 1, FS_ON_ANOMALY = 2, FS_ON_CRASH = 4, FS_ON_TIMEOUT = 8, FS_ON_SWALLOWED = 16,
       FS_ON_MEMCHECK = 32 };

struct fs_job {
    char *key;                 /* sweep key */
    int64_t ord;               /* baseline ordinal of the key's point (sharding, fork skip) */
    int64_t confirms;          /* exec replay of this fork-mode run, else 0 */
    int errpath;               /* a then= key: no further discovery from it */
    char *replay;              /* exec replay: the forked run's injected point pinned
                                  (site=FUNC@MOD+0xOFF#K), whatever the key; else NULL */
};

struct fs_strset {             /* open-addressed set of strings */
    char **slot;
    size_t cap, n;
};

struct fs_sweep {
    /* options */
    const char *db_path;
    const char *stdin_path;    /* --stdin FILE, or NULL (/dev/null) */
    int strategy, fork_mode, jobs, depth, persistent, resume, shard_i, shard_n;
    int mode_given;            /* --mode was on the command line */
    int valgrind;              /* --valgrind: every run under memcheck (exec mode) */
    struct fs_vg vg;
    int64_t timeout_ms, max_runs;
    unsigned fail_on;
    /* --expect-exit: how the baseline (nothing failing) may end for the sweep to go on */
    unsigned char expect_code[256];  /* exit statuses accepted (default: 0 only) */
    int expect_any, expect_timeout;
    char expect_text[256];
    struct fs_plan filters;
    char filter_text[1024];
    char prog[PATH_MAX], preload[PATH_MAX];
    char **argv;
    /* state */
    sqlite3 *db;
    struct fs_symbolizer *sym;
    int64_t session_id, baseline_run;
    pthread_mutex_t mu;
    /* two queues: [0] fault runs and exec replays, [1] error-path runs, started
     * only when [0] is empty, so that the runs of their first fault (and the
     * replays confirming those) are recorded before them */
    struct fs_queue { struct fs_job *v; size_t n, cap, next; } q[2];
    int phase;
    struct fs_strset keys;     /* keys planned or done */
    struct fs_strset base_sites; /* func|module|offset of the baseline's points */
    struct fs_strset errpath_sites;
    struct fs_strset pending;  /* finding keys a queued exec replay will confirm */
    /* site strategy: call sites in thin wrappers (reached from several
     * callers in the baseline) and their (site, caller) keys, from the
     * baseline's 'c' lines (fs_census) */
    struct fs_strset wrap_sites;             /* func|module|offset */
    struct fs_strset wrap_ext;               /* func|module|offset|cmod|coff...: seen through */
    struct fs_ckey { char *site_id; char *key; int64_t ord; } *ckeys;
    size_t nckeys;
    char *wrap_env;                          /* the trunk's FAULTSTACK_FORK_WRAPPERS file */
    struct fs_later { int64_t run_id; char *keys; } *later; /* fork runs linked after the replays */
    size_t nlater, caplater;
    int64_t planned, done, confirmations, unconfirmed, fork_runs, exec_runs;
    int limited;
    int tool_error;
    int stopped;               /* nothing more can be recorded (database or run directories'
                                  filesystem full, database I/O error): stop, stay resumable */
    char stop_why[2048];
    int baseline_failed;       /* the baseline tested nothing, or ended as --expect-exit does not allow */
    char partial[4096];        /* the baseline was only partly observed: which process, why */
    int64_t t0, last_progress;
    int tty;
    char fork_stop_why[128];
    int64_t fork_stop_ord;
};

#define FS_NCALL 3                 /* = FS_PLAN_MAX_CALLERS */

/* A fault point of the census and its callers (fs_census_read). */
struct fs_cpoint {
    int64_t ord, off;
    const char *func, *module;     /* interned by fs_census_read (never freed); "" when unknown */
    int ncall;                     /* callers found: 0..FS_NCALL, innermost first */
    const char *cmod[FS_NCALL];
    int64_t coff[FS_NCALL];
};

/* ---- sweep_plan.c ---- */

/* Add s; returns 1 when it was new, 0 when present, -1 out of memory. */
int fs_strset_add(struct fs_strset *S, const char *s);

/* 1 when s is in the set, else 0. */
int fs_strset_has(const struct fs_strset *S, const char *s);

/* Free the strings and the table; S is an empty set again. */
void fs_strset_free(struct fs_strset *S);

/* The plan a key runs with: the key plus the sweep's filters and flags.
 * Returns 0, or -1 when the key does not parse (message in err). */
int fs_key_plan(const struct fs_sweep *W, const char *key, struct fs_plan *p, char *text, size_t tl,
                char *err, size_t errlen);

/* Queue a key unless planned already, outside the shard, or over --max-runs.
 * Caller holds W->mu (or runs single-threaded). */
void fs_plan_key(struct fs_sweep *W, const char *key, int64_t ord, int64_t confirms, int errpath);

/* The key of a baseline point under the strategy. */
void fs_point_key(const struct fs_sweep *W, int64_t ord, const char *func, const char *module,
                  int64_t off, int64_t ctx, char *out, size_t cap);

/* A call site's id, "func|module|offset" (base_sites, errpath_sites, wrap_sites). */
void fs_site_id(char *out, size_t cap, const char *func, const char *module, int64_t off);

/* Read the fault points and their callers from the record files of DIR. */
struct fs_cpoint *fs_census_read(const char *dir, size_t *np);

/* The sweep key of census point p: its site, and the callers that name it (fs_key_callers). */
void fs_cpoint_key(const struct fs_sweep *W, const struct fs_cpoint *p, char *out, size_t cap);

/* Wrapper sites, the caller prefixes seen through, and the (site, callers)
 * keys, from the census of a baseline run's directory. A call site reached
 * from two or more distinct callers is a wrapper site; a (site, callers)
 * prefix whose last caller's function is itself reached from two or more
 * distinct callers is seen through one frame further (jsonp_strndup calling
 * jsonp_malloc; json_object called from every line of a test), up to
 * FS_NCALL callers. */
void fs_census(struct fs_sweep *W, const char *dir);

/* --resume of a site-strategy sweep: the census from one more (unrecorded)
 * baseline run. */
void fs_census_run(struct fs_sweep *W);

/* The baseline's sites (for error-path discovery) and its keys. from_ord: only
 * points at or after this ordinal (fork mode's exec fallback), skip: keys done. */
int fs_keys_from_baseline(struct fs_sweep *W, int64_t from_ord, const struct fs_strset *forked);

/* Error paths of every fault run of the session, in the order of their
 * first fault (then by key): the same sweep plans the same error-path keys
 * whatever order its runs finished in, and whether or not it was resumed. */
void fs_discover_all(struct fs_sweep *W);

/* ---- sweep_db.c ---- */

/* How many findings this session's runs have: of category, or (NULL) of any. */
int64_t fs_session_findings(struct fs_sweep *W, const char *category);

/* Caller holds W->mu. force: print now (phase changes, the end). */
void fs_progress(struct fs_sweep *W, int force);

/* The last progress line (forced), ended with a newline on a terminal. */
void fs_progress_end(struct fs_sweep *W);

/* Write planned, done and baseline_run to the sweep row; status (NULL: unchanged) too. */
void fs_sweep_row_update(struct fs_sweep *W, const char *status);

/* Nothing more can be recorded: the database cannot be written (res's
 * db_error: SQLITE_FULL, an I/O error...), or the run directories'
 * filesystem is full (why). The sweep stops where it is, resumable; the runs
 * in progress are killed and not recorded. Caller holds W->mu. */
void fs_sweep_stop(struct fs_sweep *W, int db_error, const char *err, const char *why);

/* --resume: a forked run is done only once its findings are confirmed. A
 * forked run whose fault caused something (a leak or anomaly attributed to
 * the fault, a crash, a timeout) and that no exec replay confirms yet — the
 * sweep was stopped between the two — gets its replay queued again, ahead of
 * the error-path runs (which would otherwise record the finding under their
 * second fault). Returns how many. */
int64_t fs_requeue_replays(struct fs_sweep *W);

/* A new sweep session, or (--resume) the last unfinished one of the same
 * command and options. Returns 0 or -1. */
int fs_sweep_session(struct fs_sweep *W, struct fs_strset *done_keys);

/* --resume: the keys of the done runs are not planned again. */
void fs_resume_plan(struct fs_sweep *W, const struct fs_strset *done_keys);

/* Ordinals (baseline numbering) of done keys, for the fork-mode trunk to skip. */
int fs_write_skip(struct fs_sweep *W, const struct fs_strset *done_keys, char *path);

/* ---- sweep_exec.c ---- */

/* What ingest needs of a sweep run: the sweep's session, command and
 * symbolizer, plus this run's directory, plan, spec (NULL: a baseline), mode
 * and outcome. */
void fs_sweep_info(const struct fs_sweep *W, struct fs_run_info *info, const char *dir,
                   const struct fs_plan *plan, const char *spec, const char *mode,
                   const struct fs_outcome *oc);

/* Run the queue with W->jobs threads until it is empty (jobs may add jobs). */
void fs_exec_phase(struct fs_sweep *W);

/* Run, record and judge the baseline (site strategy: its census too). Returns 0, or -1: no sweep. */
int fs_baseline_exec(struct fs_sweep *W);

/* ---- sweep_fork.c ---- */

/* Queue the exec replay confirming forked run run_id (sweep key key): it
 * fails the very call the forked run failed, pinned to its site and
 * occurrence, which stays put when ordinals shift between runs (a program
 * reading /proc, timing). Caller holds W->mu. */
void fs_queue_replay(struct fs_sweep *W, const char *key, int64_t ord, int64_t run_id);

/* Run the trunk with the preload forking at each selected point (skip_ords:
 * a file of baseline ordinals swept already, or NULL). Returns 0, or -1 on a
 * tool error. */
int fs_fork_phase(struct fs_sweep *W, const char *skip_ords);

#endif
