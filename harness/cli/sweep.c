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
 * their databases). */
#define _GNU_SOURCE
#include "cli.h"

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

#include "db.h"
#include "ingest.h"
#include "plan.h"
#include "sanitizer.h"
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

/* ---------------- small helpers ---------------- */

static uint64_t fs_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Add s; returns 1 when it was new, 0 when present, -1 out of memory. */
static int fs_strset_add(struct fs_strset *S, const char *s)
{
    if ((S->n + 1) * 2 > S->cap) {
        size_t nc = S->cap ? S->cap * 2 : 1024;
        char **ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < S->cap; i++)
            if (S->slot[i]) {
                size_t j = fs_hash_str(S->slot[i]) & (nc - 1);
                while (ns[j]) j = (j + 1) & (nc - 1);
                ns[j] = S->slot[i];
            }
        free(S->slot);
        S->slot = ns;
        S->cap = nc;
    }
    size_t j = fs_hash_str(s) & (S->cap - 1);
    while (S->slot[j]) {
        if (!strcmp(S->slot[j], s))
            return 0;
        j = (j + 1) & (S->cap - 1);
    }
    S->slot[j] = strdup(s);
    if (!S->slot[j])
        return -1;
    S->n++;
    return 1;
}

static int fs_strset_has(const struct fs_strset *S, const char *s)
{
    if (!S->cap)
        return 0;
    size_t j = fs_hash_str(s) & (S->cap - 1);
    while (S->slot[j]) {
        if (!strcmp(S->slot[j], s))
            return 1;
        j = (j + 1) & (S->cap - 1);
    }
    return 0;
}

static void fs_strset_free(struct fs_strset *S)
{
    for (size_t i = 0; i < S->cap; i++)
        free(S->slot[i]);
    free(S->slot);
    memset(S, 0, sizeof *S);
}

/* The plan a key runs with: the key plus the sweep's filters and flags.
 * Returns 0, or -1 when the key does not parse (message in err). */
static int fs_key_plan(const struct fs_sweep *W, const char *key, struct fs_plan *p, char *text, size_t tl,
                       char *err, size_t errlen)
{
    if (fs_plan_parse(key, p, err, errlen) != 0)
        return -1;
    p->persistent = W->persistent;
    p->internal = W->filters.internal;
    p->err = W->filters.err;
    p->n_only = W->filters.n_only;
    memcpy(p->only, W->filters.only, sizeof p->only);
    memcpy(p->module_filter, W->filters.module_filter, sizeof p->module_filter);
    if (text)
        fs_plan_format(p, text, tl);
    return 0;
}

/* Queue a key unless planned already, outside the shard, or over --max-runs.
 * Caller holds W->mu (or runs single-threaded). */
static void fs_plan_key(struct fs_sweep *W, const char *key, int64_t ord, int64_t confirms, int errpath)
{
    if (!confirms) {
        if (W->max_runs > 0 && W->planned >= W->max_runs) {
            if (!fs_strset_has(&W->keys, key))
                W->limited = 1;
            return;
        }
        if (fs_strset_add(&W->keys, key) != 1)
            return;
        W->planned++;
    }
    struct fs_queue *Q = &W->q[errpath ? 1 : 0];
    if (Q->n == Q->cap) {
        size_t nc = Q->cap ? Q->cap * 2 : 256;
        struct fs_job *nv = realloc(Q->v, nc * sizeof *nv);
        if (!nv)
            return;
        Q->v = nv;
        Q->cap = nc;
    }
    struct fs_job *j = &Q->v[Q->n++];
    j->replay = NULL;
    j->key = strdup(key);
    j->ord = ord;
    j->confirms = confirms;
    j->errpath = errpath;
}

static int fs_in_shard(const struct fs_sweep *W, int64_t ord)
{
    return W->shard_n <= 1 || ord % W->shard_n == W->shard_i - 1;
}

/* The key of a baseline point under the strategy. */
static void fs_point_key(const struct fs_sweep *W, int64_t ord, const char *func, const char *module,
                         int64_t off, int64_t ctx, char *out, size_t cap)
{
    if (W->strategy == FS_S_NTH || !module)
        snprintf(out, cap, "nth=%lld", (long long)ord);
    else if (W->strategy == FS_S_STACK && ctx)
        snprintf(out, cap, "site=%s@%s+0x%llx,ctx=0x%llx", func, module, (unsigned long long)off,
                 (unsigned long long)ctx);
    else
        snprintf(out, cap, "site=%s@%s+0x%llx", func, module, (unsigned long long)off);
}

/* ---------------- progress ---------------- */

static int64_t fs_session_findings(struct fs_sweep *W, const char *category)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    const char *sql = category
        ? "SELECT count(DISTINCT f.id) FROM finding f JOIN finding_run fr ON fr.finding_id = f.id "
          "JOIN run r ON r.id = fr.run_id WHERE r.session_id = ?1 AND f.category = ?2"
        : "SELECT count(DISTINCT fr.finding_id) FROM finding_run fr JOIN run r ON r.id = fr.run_id "
          "WHERE r.session_id = ?1";
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
static void fs_progress(struct fs_sweep *W, int force)
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

static void fs_progress_end(struct fs_sweep *W)
{
    fs_progress(W, 1);
    if (W->tty)
        fputc('\n', stderr);
}

static void fs_sweep_row_update(struct fs_sweep *W, const char *status)
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
static void fs_sweep_stop(struct fs_sweep *W, int db_error, const char *err, const char *why)
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

/* ---------------- keys from the baseline ---------------- */

static void fs_site_id(char *out, size_t cap, const char *func, const char *module, int64_t off)
{
    snprintf(out, cap, "%s|%s|%llx", func, module ? module : "", (unsigned long long)off);
}

/* ---------------- thin wrappers (site strategy) ----------------
 *
 * When a library sends every allocation through one wrapper (xmalloc,
 * jsonp_malloc, yaml_malloc), all its allocations share one call site: the
 * malloc inside the wrapper. Failing only the first call of that site tests one
 * caller's error handling. The baseline of a site-strategy sweep therefore
 * records, for every fault point, the callers of the function holding the call
 * site (FAULTSTACK_CALLERS=1: 'c ORD MOD OFF [MOD OFF [MOD OFF]]' lines). A
 * call site reached from two or more distinct callers is a wrapper site: it
 * gets one key per caller, 'site=FUNC@MOD+0xOFF,caller=MOD+0xOFF' (the first
 * call of the site for that caller), and one per caller's caller where the
 * caller is reached from two or more ('caller=A+0x1/B+0x2'), up to three;
 * `faultstack run --fail` replays them. */

#define FS_NCALL 3                 /* = FS_PLAN_MAX_CALLERS */

struct fs_cpoint {
    int64_t ord, off;
    char func[64], module[256];
    int ncall;                     /* callers found: 0..FS_NCALL, innermost first */
    char cmod[FS_NCALL][256];
    int64_t coff[FS_NCALL];
};

/* Read the fault points and their callers from the record files of DIR. */
static struct fs_cpoint *fs_census_read(const char *dir, size_t *np)
{
    struct fs_cpoint *v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        char path[PATH_MAX + 300], line[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        /* module ids are per record file; 'm' comes before its first use */
        static struct { long id; char base[256]; } mods[512];
        int nm = 0;
        size_t first = n;
        while (fgets(line, sizeof line, f)) {
            long long ord, occ;
            long mod, id;
            unsigned long long bias, uoff;
            int pos = 0, inj;
            char fn[64];
            if (line[0] == 'm' && sscanf(line, "m %ld %llx %n", &id, &bias, &pos) == 2 && pos && nm < 512) {
                line[strcspn(line, "\n")] = '\0';
                const char *sl = strrchr(line + pos, '/');
                mods[nm].id = id;
                snprintf(mods[nm++].base, sizeof mods[0].base, "%s", sl ? sl + 1 : line + pos);
            } else if (line[0] == 'p' && sscanf(line, "p %lld %63s %ld %llx %lld %d", &ord, fn, &mod, &uoff, &occ,
                                                &inj) == 6) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 1024;
                    struct fs_cpoint *nv = realloc(v, cap * sizeof *v);
                    if (!nv) break;
                    v = nv;
                }
                memset(&v[n], 0, sizeof v[n]);
                v[n].ord = ord;
                snprintf(v[n].func, sizeof v[n].func, "%s", fn);
                v[n].off = (int64_t)uoff;
                for (int i = 0; i < nm; i++)
                    if (mods[i].id == mod) snprintf(v[n].module, sizeof v[n].module, "%s", mods[i].base);
                n++;
            } else if (line[0] == 'c' && sscanf(line, "c %lld %n", &ord, &pos) == 1) {
                struct fs_cpoint *cp = NULL;
                for (size_t i = n; i-- > first;)
                    if (v[i].ord == ord) { cp = &v[i]; break; }
                const char *q = line + pos;
                int used = 0;
                while (cp && cp->ncall < FS_NCALL && sscanf(q, "%ld %llx %n", &mod, &uoff, &used) == 2 && used) {
                    int found = 0;
                    for (int k = 0; k < nm; k++)
                        if (mods[k].id == mod) {
                            snprintf(cp->cmod[cp->ncall], sizeof cp->cmod[0], "%s", mods[k].base);
                            found = 1;
                        }
                    if (!found)
                        break;
                    cp->coff[cp->ncall++] = (int64_t)uoff;
                    q += used;
                    used = 0;
                }
            }
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    *np = n;
    return v;
}

/* "func|module|off" then "|cmod|coff" for each of the first ncall callers. */
static void fs_prefix_id(char *out, size_t cap, const struct fs_cpoint *p, int ncall)
{
    size_t w = (size_t)snprintf(out, cap, "%s|%s|%llx", p->func, p->module, (unsigned long long)p->off);
    for (int i = 0; i < ncall && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "|%s|%llx", p->cmod[i], (unsigned long long)p->coff[i]);
}

/* How many callers name point p's key (sweep.c and forkmode.c agree): none
 * unless its site is a wrapper site; then one, and one more while the prefix
 * so far is seen through (W->wrap_ext). */
static int fs_key_callers(const struct fs_sweep *W, const struct fs_cpoint *p)
{
    char id[1400];
    fs_prefix_id(id, sizeof id, p, 0);
    if (!p->ncall || !fs_strset_has(&W->wrap_sites, id))
        return 0;
    int d = 1;
    while (d < p->ncall && d < FS_NCALL) {
        fs_prefix_id(id, sizeof id, p, d);
        if (!fs_strset_has(&W->wrap_ext, id))
            break;
        d++;
    }
    return d;
}

static void fs_cpoint_key(const struct fs_sweep *W, const struct fs_cpoint *p, char *out, size_t cap)
{
    int d = fs_key_callers(W, p);
    size_t w = (size_t)snprintf(out, cap, "site=%s@%s+0x%llx", p->func, p->module, (unsigned long long)p->off);
    for (int i = 0; i < d && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s+0x%llx", i ? "/" : ",caller=", p->cmod[i],
                              (unsigned long long)p->coff[i]);
}

/* Wrapper sites, the caller prefixes seen through, and the (site, callers)
 * keys, from the census of a baseline run's directory. A call site reached
 * from two or more distinct callers is a wrapper site; a (site, callers)
 * prefix whose last caller's function is itself reached from two or more
 * distinct callers is seen through one frame further (jsonp_strndup calling
 * jsonp_malloc; json_object called from every line of a test), up to
 * FS_NCALL callers. */
static void fs_census(struct fs_sweep *W, const char *dir)
{
    size_t n = 0;
    struct fs_cpoint *v = fs_census_read(dir, &n);
    char id[1400], next[1700], key[1400];
    for (int level = 0; level < FS_NCALL; level++) {
        struct fs_strset one = { 0 }, nexts = { 0 };
        struct fs_strset *grow = level == 0 ? &W->wrap_sites : &W->wrap_ext;
        for (size_t i = 0; i < n; i++) {
            if (!v[i].module[0])
                continue;
            if (level > 0 && fs_key_callers(W, &v[i]) < level)
                continue;                    /* only prefixes a key reaches */
            fs_prefix_id(id, sizeof id, &v[i], level);
            if (v[i].ncall > level)
                snprintf(next, sizeof next, "%s#%s|%llx", id, v[i].cmod[level], (unsigned long long)v[i].coff[level]);
            else
                snprintf(next, sizeof next, "%s#-", id);
            if (fs_strset_add(&nexts, next) == 1 && fs_strset_add(&one, id) == 0)
                fs_strset_add(grow, id);
        }
        fs_strset_free(&one);
        fs_strset_free(&nexts);
    }
    struct fs_strset keys = { 0 };
    for (size_t i = 0; i < n; i++) {         /* v is in ordinal order per process */
        if (!v[i].module[0] || !fs_key_callers(W, &v[i]))
            continue;
        fs_cpoint_key(W, &v[i], key, sizeof key);
        if (fs_strset_add(&keys, key) != 1)
            continue;
        struct fs_ckey *nk = realloc(W->ckeys, (W->nckeys + 1) * sizeof *nk);
        if (!nk)
            break;
        W->ckeys = nk;
        fs_prefix_id(id, sizeof id, &v[i], 0);
        W->ckeys[W->nckeys].site_id = strdup(id);
        W->ckeys[W->nckeys].key = strdup(key);
        W->ckeys[W->nckeys++].ord = v[i].ord;
    }
    fs_strset_free(&keys);
    /* what the fork-mode trunk needs to make the same keys (forkmode.c):
     * 'FUNC MOD OFF' per wrapper site, 'FUNC MOD OFF CMOD COFF...' per prefix
     * seen through */
    free(W->wrap_env);
    W->wrap_env = NULL;
    size_t len = 0, cap = 0;
    char *text = NULL;
    struct fs_strset *sets[2] = { &W->wrap_sites, &W->wrap_ext };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sets[k]->cap; i++) {
            const char *e = sets[k]->slot[i];
            if (!e)
                continue;
            size_t el = strlen(e);
            if (len + el + 2 > cap) {
                cap = (len + el + 2) * 2;
                char *nt = realloc(text, cap);
                if (!nt) { free(text); return; }
                text = nt;
            }
            for (size_t j = 0; j < el; j++)
                text[len++] = e[j] == '|' ? ' ' : e[j];
            text[len++] = '\n';
            text[len] = '\0';
        }
    W->wrap_env = text;
    free(v);
}

/* --resume of a site-strategy sweep: the census from one more (unrecorded)
 * baseline run. */
static void fs_census_run(struct fs_sweep *W)
{
    char text[2048], err[2048], dir[PATH_MAX];
    struct fs_plan plan;
    fs_key_plan(W, "none", &plan, text, sizeof text, err, sizeof err);
    plan.persistent = 0;
    fs_plan_format(&plan, text, sizeof text);
    if (fs_mk_run_dir(dir, err, sizeof err) != 0)
        return;
    char *env[] = { "FAULTSTACK_CALLERS=1", NULL };
    struct fs_spawn sp = { W->prog, W->argv, W->preload, dir, text, W->timeout_ms, NULL, 1, env, 0, NULL };
    sp.stdin_path = W->stdin_path;
    struct fs_outcome oc;
    if (fs_spawn_and_wait(&sp, &oc, err, sizeof err) == 0)
        fs_census(W, dir);
    fs_rm_rf(dir);
}

/* The baseline's sites (for error-path discovery) and its keys. from_ord: only
 * points at or after this ordinal (fork mode's exec fallback), skip: keys done. */
static int fs_keys_from_baseline(struct fs_sweep *W, int64_t from_ord, const struct fs_strset *forked)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT func, module, offset, ctx, min(ordinal) FROM point WHERE run_id = ?1 "
        "GROUP BY func, module, offset, CASE WHEN ?2 THEN ordinal ELSE 0 END, CASE WHEN ?3 THEN ctx END "
        "ORDER BY 5";
    if (sqlite3_prepare_v2(W->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "faultstack sweep: cannot read the baseline's fault points: %s\n", sqlite3_errmsg(W->db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, W->baseline_run);
    sqlite3_bind_int(st, 2, W->strategy == FS_S_NTH);
    sqlite3_bind_int(st, 3, W->strategy == FS_S_STACK);
    int64_t listed = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *func = (const char *)sqlite3_column_text(st, 0);
        const char *module = (const char *)sqlite3_column_text(st, 1);
        int64_t off = sqlite3_column_int64(st, 2), ctx = sqlite3_column_int64(st, 3);
        int64_t ord = sqlite3_column_int64(st, 4);
        char id[512], key[1024];
        fs_site_id(id, sizeof id, func, module, off);
        fs_strset_add(&W->base_sites, id);
        listed++;
        if (W->strategy == FS_S_SITE && fs_strset_has(&W->wrap_sites, id)) {
            for (size_t c = 0; c < W->nckeys; c++) {      /* one key per caller */
                const struct fs_ckey *ck = &W->ckeys[c];
                if (strcmp(ck->site_id, id) || ck->ord < from_ord || !fs_in_shard(W, ck->ord) ||
                    (forked && fs_strset_has(forked, ck->key)))
                    continue;
                fs_plan_key(W, ck->key, ck->ord, 0, 0);
            }
            continue;
        }
        if (ord < from_ord || !fs_in_shard(W, ord))
            continue;
        fs_point_key(W, ord, func, module, off, ctx, key, sizeof key);
        if (forked && fs_strset_has(forked, key))
            continue;
        fs_plan_key(W, key, ord, 0, 0);
    }
    sqlite3_finalize(st);
    /* nth: ordinals beyond the recorded points (FAULTSTACK_MAX_POINTS) */
    if (W->strategy == FS_S_NTH) {
        int64_t total = 0;
        if (sqlite3_prepare_v2(W->db, "SELECT points_total FROM run WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, W->baseline_run);
            if (sqlite3_step(st) == SQLITE_ROW)
                total = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        for (int64_t o = listed + 1; o <= total; o++) {
            char key[64];
            snprintf(key, sizeof key, "nth=%lld", (long long)o);
            if (o >= from_ord && fs_in_shard(W, o) && !(forked && fs_strset_has(forked, key)))
                fs_plan_key(W, key, o, 0, 0);
        }
    }
    return 0;
}

/* Error paths of run_id (fault key 'key', first fault at inj): queue
 * '<key>,then=N' for sites the baseline never reached (and, with --depth 2,
 * for every site after the fault). Caller holds W->mu. */
static void fs_discover(struct fs_sweep *W, const char *key, int64_t run_id, int64_t inj)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT func, module, offset, min(ordinal) FROM point WHERE run_id = ?1 AND ordinal > ?2 "
        "AND injected = 0 GROUP BY func, module, offset, CASE WHEN ?3 THEN ordinal ELSE 0 END ORDER BY 4";
    if (sqlite3_prepare_v2(W->db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, inj);
    sqlite3_bind_int(st, 3, W->strategy == FS_S_NTH && W->depth >= 2);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *func = (const char *)sqlite3_column_text(st, 0);
        const char *module = (const char *)sqlite3_column_text(st, 1);
        int64_t off = sqlite3_column_int64(st, 2), ord = sqlite3_column_int64(st, 3);
        char id[512], k2[1200];
        fs_site_id(id, sizeof id, func, module, off);
        int fresh = !fs_strset_has(&W->base_sites, id);
        if (fresh) {
            if (W->depth < 2 && fs_strset_add(&W->errpath_sites, id) != 1)
                continue;                    /* swept already from another fault */
        } else if (W->depth < 2) {
            continue;
        }
        snprintf(k2, sizeof k2, "%s,then=%lld", key, (long long)(ord - inj));
        fs_plan_key(W, k2, 0, 0, 1);
    }
    sqlite3_finalize(st);
}

/* Error paths of every fault run of the session, in the order of their
 * first fault (then by key): the same sweep plans the same error-path keys
 * whatever order its runs finished in, and whether or not it was resumed. */
static void fs_discover_all(struct fs_sweep *W)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(W->db,
            "SELECT id, sweep_key, inj FROM (SELECT r.id, r.sweep_key, (SELECT min(ordinal) FROM point p "
            "WHERE p.run_id = r.id AND p.injected = 1) AS inj FROM run r WHERE r.session_id = ?1 AND "
            "r.sweep_key IS NOT NULL AND r.confirms IS NULL AND instr(r.sweep_key, 'then=') = 0) "
            "WHERE inj IS NOT NULL ORDER BY inj, sweep_key", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, W->session_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fs_discover(W, (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 0),
                    sqlite3_column_int64(st, 2));
    sqlite3_finalize(st);
}

/* ---------------- one exec-mode run ---------------- */

/* What ingest needs of a sweep run: the sweep's session, command and
 * symbolizer, plus this run's directory, plan, spec (NULL: a baseline), mode
 * and outcome. */
static void fs_sweep_info(const struct fs_sweep *W, struct fs_run_info *info, const char *dir,
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
static void fs_exec_phase(struct fs_sweep *W)
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
    if (observed == 2 && (can == 0 || !oc->timed_out)) {
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

static int fs_baseline_exec(struct fs_sweep *W)
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
    int observed = fs_check_observed(W->db, res.run_id, oc.pid, W->prog, can == 0 ? why : NULL, obs, sizeof obs);
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

/* ---------------- fork mode ---------------- */

struct fs_kid {
    pid_t pid;
    int64_t ord;
    int64_t start_ms;
    int status, reaped, killed, timed_out;
};

struct fs_recorder;
static void fs_recorder_push(struct fs_recorder *R, const struct fs_kid *k);

struct fs_forkrun {
    struct fs_recorder *rec;   /* records each run once its process group is gone */
    struct fs_kid *k;
    size_t n, cap;
    size_t reaped;             /* kids reaped so far */
    size_t first_live;         /* k[0 .. first_live) are all reaped: scans start here */
    struct { pid_t pid; int status; } early[256];   /* reaped before their log line was read */
    int nearly;
};

/* Kid k ended with status: hand it to the recorder. */
static void fs_kid_reaped(struct fs_forkrun *F, struct fs_kid *k, int status)
{
    k->status = status;
    k->reaped = 1;
    F->reaped++;
    while (F->first_live < F->n && F->k[F->first_live].reaped)
        F->first_live++;
    fs_recorder_push(F->rec, k);
}

static struct fs_kid *fs_kid_add(struct fs_forkrun *F, pid_t pid, int64_t ord)
{
    if (F->n == F->cap) {
        size_t nc = F->cap ? F->cap * 2 : 256;
        struct fs_kid *nk = realloc(F->k, nc * sizeof *nk);
        if (!nk)
            return NULL;
        F->k = nk;
        F->cap = nc;
    }
    struct fs_kid *k = &F->k[F->n++];
    memset(k, 0, sizeof *k);
    k->pid = pid;
    k->ord = ord;
    k->start_ms = fs_now_ms();
    for (int i = 0; i < F->nearly; i++)
        if (F->early[i].pid == pid) {
            int status = F->early[i].status;
            F->early[i] = F->early[--F->nearly];
            fs_kid_reaped(F, k, status);
            break;
        }
    return k;
}

static struct fs_kid *fs_kid_find(struct fs_forkrun *F, pid_t pid)
{
    for (size_t i = F->first_live; i < F->n; i++)
        if (F->k[i].pid == pid && !F->k[i].reaped)
            return &F->k[i];
    return NULL;
}

/* Read the lines the trunk appended to RUN_DIR/forks since *pos. */
static void fs_read_forks_log(struct fs_sweep *W, struct fs_forkrun *F, const char *dir, off_t *pos)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/forks", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fseeko(f, *pos, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (!l || line[l - 1] != '\n')
            break;                            /* partial line: read it next time */
        *pos += (off_t)l;
        long long ord;
        int pid, n = 0;
        if (sscanf(line, "stop %lld %n", &ord, &n) == 1 && n) {
            line[l - 1] = '\0';
            W->fork_stop_ord = ord;
            snprintf(W->fork_stop_why, sizeof W->fork_stop_why, "%s", line + n);
        } else if (sscanf(line, "%lld %d", &ord, &pid) == 2) {
            fs_kid_add(F, pid, ord);
        }
    }
    fclose(f);
}

static long long fs_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* The point a forked run failed, from its record files ('p ... 1' and the 'm'
 * line of its module). Returns 0, or -1 when not found. */
static int fs_kid_fault(const char *kdir, char *func, size_t flen, char *module, size_t mlen,
                        uint64_t *off, int64_t *occ, uint64_t *ctx)
{
    DIR *d = opendir(kdir);
    if (!d)
        return -1;
    int found = -1;
    struct dirent *de;
    char path[PATH_MAX + 300], line[1024];
    while (found < 0 && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        snprintf(path, sizeof path, "%s/%s", kdir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        long want = -1;
        while (fgets(line, sizeof line, f)) {
            long long ord, o2;
            long mod;
            unsigned long long of, cx = 0;
            int inj = 0;
            char fn[64];
            if (line[0] == 'p' && sscanf(line, "p %lld %63s %ld %llx %lld %d %llx", &ord, fn, &mod, &of, &o2,
                                         &inj, &cx) >= 6 && inj == 1) {
                snprintf(func, flen, "%s", fn);
                *off = of;
                *occ = o2;
                *ctx = cx;
                want = mod;
                break;
            }
        }
        if (want > 0) {
            rewind(f);
            while (fgets(line, sizeof line, f)) {
                long id;
                unsigned long long bias;
                int pos = 0;
                if (line[0] == 'm' && sscanf(line, "m %ld %llx %n", &id, &bias, &pos) == 2 && id == want) {
                    line[strcspn(line, "\n")] = '\0';
                    const char *sl = strrchr(line + pos, '/');
                    snprintf(module, mlen, "%s", sl ? sl + 1 : line + pos);
                    found = 0;
                    break;
                }
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* Queue the exec replay confirming forked run run_id (sweep key key): it
 * fails the very call the forked run failed, pinned to its site and
 * occurrence, which stays put when ordinals shift between runs (a program
 * reading /proc, timing). Caller holds W->mu. */
static void fs_queue_replay(struct fs_sweep *W, const char *key, int64_t ord, int64_t run_id)
{
    fs_plan_key(W, key, ord, run_id, 0);
    sqlite3_stmt *ip = NULL;
    struct fs_queue *Q = &W->q[0];
    if (Q->n && Q->v[Q->n - 1].confirms == run_id &&
        sqlite3_prepare_v2(W->db, "SELECT func, module, offset, site_occurrence, ctx FROM point "
                                  "WHERE run_id = ?1 AND injected = 1 ORDER BY ordinal LIMIT 1",
                           -1, &ip, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(ip, 1, run_id);
        if (sqlite3_step(ip) == SQLITE_ROW && sqlite3_column_text(ip, 1)) {
            /* #K is the occurrence among all calls of the site: no ctx= or
             * caller= (with them #K would count only the calls in that
             * context, and the replay of a stack-strategy key failed nothing:
             * jansson's test_dump lost its json_dumps leaks) */
            char pin[1024];
            int64_t o = sqlite3_column_int64(ip, 3);
            snprintf(pin, sizeof pin, "site=%s@%s+0x%llx#%lld", sqlite3_column_text(ip, 0),
                     sqlite3_column_text(ip, 1), (unsigned long long)sqlite3_column_int64(ip, 2),
                     (long long)(o > 0 ? o : 1));
            Q->v[Q->n - 1].replay = strdup(pin);
        }
    }
    sqlite3_finalize(ip);
}

/* --resume: a forked run is done only once its findings are confirmed. A
 * forked run whose fault caused something (a leak or anomaly attributed to
 * the fault, a crash, a timeout) and that no exec replay confirms yet — the
 * sweep was stopped between the two — gets its replay queued again, ahead of
 * the error-path runs (which would otherwise record the finding under their
 * second fault). Returns how many. */
static int64_t fs_requeue_replays(struct fs_sweep *W)
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

/* Record one forked run (its process group is gone). Caller holds W->mu. */
static void fs_kid_record(struct fs_sweep *W, const char *dir, const struct fs_kid *k, struct fs_strset *forked)
{
    char err[2048], kdir[PATH_MAX + 32], key[1024], ktext[2048], func[64] = "", module[256] = "";
    snprintf(kdir, sizeof kdir, "%s/f%lld", dir, (long long)k->ord);
    uint64_t off = 0, ctx = 0;
    int64_t occ = 0;
    snprintf(key, sizeof key, "nth=%lld", (long long)k->ord);
    if (W->strategy != FS_S_NTH && fs_kid_fault(kdir, func, sizeof func, module, sizeof module, &off, &occ, &ctx) == 0)
        fs_point_key(W, k->ord, func, module, (int64_t)off, (int64_t)ctx, key, sizeof key);
    char sid[600];
    fs_site_id(sid, sizeof sid, func, module, (int64_t)off);
    if (W->strategy == FS_S_SITE && !strncmp(key, "site=", 5) && fs_strset_has(&W->wrap_sites, sid)) {
        size_t n = 0;                        /* a wrapper site: the key names the caller */
        struct fs_cpoint *v = fs_census_read(kdir, &n);
        for (size_t i = 0; i < n; i++)
            if (v[i].ord == k->ord && v[i].ncall && !strcmp(v[i].func, func) && !strcmp(v[i].module, module))
                fs_cpoint_key(W, &v[i], key, sizeof key);
        free(v);
    }
    struct fs_plan kp;
    if (fs_key_plan(W, key, &kp, ktext, sizeof ktext, err, sizeof err) != 0)
        return;
    fs_strset_add(forked, key);
    fs_strset_add(&W->keys, key);
    struct fs_outcome oc;
    memset(&oc, 0, sizeof oc);
    fs_outcome_status(&oc, k->status);
    oc.timed_out = k->timed_out;
    char ep[PATH_MAX + 64];
    snprintf(ep, sizeof ep, "%s/stderr", kdir);
    oc.stderr_bytes = (int)fs_file_size(ep);
    char lost[1024];
    if (W->stopped || fs_interrupted || fs_run_dir_full(kdir, oc.timed_out || oc.signal, lost, sizeof lost)) {
        if (!W->stopped && !fs_interrupted)
            fs_sweep_stop(W, 0, NULL, lost);
        fs_rm_rf(kdir);                      /* not recorded: --resume runs it again */
        return;
    }
    struct fs_run_info info;
    fs_sweep_info(W, &info, kdir, &kp, ktext, "fork", &oc);
    info.sweep_key = key;
    info.defer_findings = 1;
    struct fs_run_result kr;
    if (fs_ingest_run(W->db, &info, &kr, err, sizeof err) != 0) {
        if (kr.db_error) {
            fs_sweep_stop(W, kr.db_error, err, NULL);
            fs_rm_rf(kdir);
            return;
        }
        fs_keep_run_dir(kdir);
        fprintf(stderr, "\nfaultstack sweep: could not record the forked run of %s: %s; its records are kept in %s\n",
                key, err, kdir);
        W->tool_error = 1;
        return;
    }
    fs_rm_rf(kdir);
    W->fork_runs++;
    W->done++;
    int all_pending = kr.fault_findings > 0 && kr.deferred_keys;
    for (char *k0 = kr.deferred_keys, *nl; all_pending && k0 && *k0; k0 = nl + 1) {
        nl = strchr(k0, '\n');
        if (!nl) break;
        *nl = '\0';
        all_pending = fs_strset_has(&W->pending, k0);
        *nl = '\n';
    }
    if (all_pending) {
        /* every finding of this run waits for a replay queued already: link
         * this run to them once that replay recorded them */
        if (W->nlater == W->caplater) {
            size_t nc = W->caplater ? W->caplater * 2 : 64;
            struct fs_later *nl2 = realloc(W->later, nc * sizeof *nl2);
            if (nl2) { W->later = nl2; W->caplater = nc; }
        }
        if (W->nlater < W->caplater) {
            W->later[W->nlater].run_id = kr.run_id;
            W->later[W->nlater++].keys = kr.deferred_keys;
            kr.deferred_keys = NULL;
        }
    } else if (kr.fault_findings) {
        for (char *k0 = kr.deferred_keys, *nl; k0 && *k0; k0 = nl + 1) {
            nl = strchr(k0, '\n');
            if (!nl) break;
            *nl = '\0';
            fs_strset_add(&W->pending, k0);
            *nl = '\n';
        }
        fs_queue_replay(W, key, k->ord, kr.run_id);
    }
    free(kr.deferred_keys);
    fs_sweep_row_update(W, NULL);
    fs_progress(W, 0);
}

/* Forked runs are recorded by this thread while the trunk still runs. */
struct fs_recorder {
    struct fs_sweep *W;
    const char *dir;
    struct fs_strset *forked;
    pthread_mutex_t m;
    pthread_cond_t c;
    struct fs_kid *v;
    size_t n, cap, next;
    int done;
};

static void fs_recorder_push(struct fs_recorder *R, const struct fs_kid *k)
{
    pthread_mutex_lock(&R->m);
    if (R->n == R->cap) {
        size_t nc = R->cap ? R->cap * 2 : 256;
        struct fs_kid *nv = realloc(R->v, nc * sizeof *nv);
        if (nv) { R->v = nv; R->cap = nc; }
    }
    if (R->n < R->cap)
        R->v[R->n++] = *k;
    pthread_cond_signal(&R->c);
    pthread_mutex_unlock(&R->m);
}

static void *fs_recorder_main(void *arg)
{
    struct fs_recorder *R = arg;
    for (;;) {
        pthread_mutex_lock(&R->m);
        while (R->next >= R->n && !R->done)
            pthread_cond_wait(&R->c, &R->m);
        if (R->next >= R->n) {
            pthread_mutex_unlock(&R->m);
            return NULL;
        }
        struct fs_kid k = R->v[R->next++];
        pthread_mutex_unlock(&R->m);
        /* what the run started may still write its records: wait until its
         * process group is gone (2 s at most, then it is killed) */
        for (int i = 0; kill(-k.pid, 0) == 0; i++) {
            if (i == 2000)
                kill(-k.pid, SIGKILL);
            usleep(1000);
            if (i > 4000)
                break;
        }
        pthread_mutex_lock(&R->W->mu);
        fs_kid_record(R->W, R->dir, &k, R->forked);
        pthread_mutex_unlock(&R->W->mu);
    }
}

/* Run the trunk with the preload forking at each selected point (skip_ords:
 * a file of baseline ordinals swept already, or NULL). Returns 0, or -1 on a
 * tool error. */
static int fs_fork_phase(struct fs_sweep *W, const char *skip_ords)
{
    char dir[PATH_MAX], err[2048], text[2048];
    struct fs_plan plan;
    fs_key_plan(W, "none", &plan, text, sizeof text, err, sizeof err);
    if (fs_mk_run_dir(dir, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        fprintf(stderr, "faultstack sweep: cannot become the children's subreaper (%s); using exec mode\n",
                strerror(errno));
        fs_rm_rf(dir);
        W->fork_mode = 0;
        return 0;
    }
    /* The baseline is one exec run (a few ms): with its leaks known, forked runs
     * are recorded and attributed while the trunk still runs. */
    if (!W->baseline_run && fs_baseline_exec(W) != 0) {
        fs_rm_rf(dir);
        return -1;
    }
    pthread_mutex_lock(&W->mu);
    fs_keys_from_baseline(W, INT64_MAX, NULL);   /* the baseline's sites, for discovery */
    pthread_mutex_unlock(&W->mu);
    char e_fork[64], e_jobs[64], e_shard[64], e_max[64], e_skip[PATH_MAX + 32];
    char *env[8];
    int ne = 0;
    snprintf(e_fork, sizeof e_fork, "FAULTSTACK_FORK=%s", fs_strategy_names[W->strategy]);
    env[ne++] = e_fork;
    snprintf(e_jobs, sizeof e_jobs, "FAULTSTACK_FORK_JOBS=%d", W->jobs);
    env[ne++] = e_jobs;
    if (W->shard_n > 1) {
        snprintf(e_shard, sizeof e_shard, "FAULTSTACK_FORK_SHARD=%d/%d", W->shard_i, W->shard_n);
        env[ne++] = e_shard;
    }
    if (W->max_runs > 0) {
        snprintf(e_max, sizeof e_max, "FAULTSTACK_FORK_MAX=%lld", (long long)(W->max_runs - W->planned));
        env[ne++] = e_max;
    }
    if (skip_ords) {
        snprintf(e_skip, sizeof e_skip, "FAULTSTACK_FORK_SKIP=%s", skip_ords);
        env[ne++] = e_skip;
    }
    char e_wrap[PATH_MAX + 64];
    if (W->strategy == FS_S_SITE && W->wrap_env && W->wrap_sites.n) {
        char wpath[PATH_MAX + 16];
        snprintf(wpath, sizeof wpath, "%s/wrappers", dir);
        FILE *wf = fopen(wpath, "we");
        if (wf) {
            fputs(W->wrap_env, wf);
            if (fclose(wf) == 0) {
                snprintf(e_wrap, sizeof e_wrap, "FAULTSTACK_FORK_WRAPPERS=%s", wpath);
                env[ne++] = e_wrap;
            }
        }
    }
    env[ne] = NULL;
    /* quiet 1: the trunk's stderr is the baseline's, shown once already */
    struct fs_spawn sp = { W->prog, W->argv, W->preload, dir, text, 0, NULL, 1, env, 1, NULL };
    sp.stdin_path = W->stdin_path;
    int errfd;
    struct fs_outcome toc;
    memset(&toc, 0, sizeof toc);
    int64_t t0 = fs_now_ms();
    /* children (the trunk and, as subreaper, every forked run) wake us at
     * once through a signalfd: a fork-mode run can take well under 1 ms */
    sigset_t chld, oldmask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &oldmask);
    int sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    struct fs_strset forked = { 0 };
    struct fs_recorder R;
    memset(&R, 0, sizeof R);
    R.W = W;
    R.dir = dir;
    R.forked = &forked;
    pthread_mutex_init(&R.m, NULL);
    pthread_cond_init(&R.c, NULL);
    pthread_t rec_thread;                    /* created with SIGCHLD blocked: it stays ours */
    int rec_started = pthread_create(&rec_thread, NULL, fs_recorder_main, &R) == 0;
    struct fs_forkrun F;
    memset(&F, 0, sizeof F);
    F.rec = &R;
    pid_t trunk = fs_spawn_start(&sp, &errfd, err, sizeof err);
    if (trunk < 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        if (sigfd >= 0) close(sigfd);
        pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
        R.done = 1;
        pthread_cond_signal(&R.c);
        if (rec_started) pthread_join(rec_thread, NULL);
        fs_strset_free(&forked);
        fs_rm_rf(dir);
        return -1;
    }
    off_t logpos = 0;
    pthread_mutex_lock(&W->mu);
    int64_t base_planned = W->planned, base_done = W->done;
    pthread_mutex_unlock(&W->mu);
    int trunk_done = 0, trunk_status = 0, eof = 0, trunk_killed = 0;
    int64_t last_move = t0, trunk_kill_at = 0;
    size_t seen_kids = 0, reaped_kids = 0;
    while (!trunk_done || reaped_kids < F.n || !eof) {
        struct pollfd pf[2];
        int np = 0;
        if (!eof) { pf[np].fd = errfd; pf[np].events = POLLIN; pf[np].revents = 0; np++; }
        if (sigfd >= 0) { pf[np].fd = sigfd; pf[np].events = POLLIN; pf[np].revents = 0; np++; }
        poll(pf, (nfds_t)np, sigfd >= 0 ? 50 : 5);
        if (sigfd >= 0) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                ;
        }
        if (!eof && fs_spawn_drain(&sp, errfd, &toc) == 0)
            eof = 1;
        fs_read_forks_log(W, &F, dir, &logpos);
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            if (w == trunk) {
                fs_target_done(trunk);
                trunk_done = 1;
                trunk_status = status;
                continue;
            }
            struct fs_kid *k = fs_kid_find(&F, w);
            if (k) {
                fs_kid_reaped(&F, k, status);
            } else if (F.nearly < 256) {
                F.early[F.nearly].pid = w;           /* a child whose log line is not read yet, */
                F.early[F.nearly++].status = status; /* or a grandchild orphaned to us */
            }
        }
        int64_t now = fs_now_ms();
        reaped_kids = F.reaped;
        for (size_t i = F.first_live; i < F.n; i++) {   /* the kids still running */
            struct fs_kid *k = &F.k[i];
            if (k->reaped)
                continue;
            if (W->timeout_ms > 0 && now - k->start_ms > W->timeout_ms + (k->killed ? 2000 : 0) && k->killed < 2) {
                k->timed_out = 1;
                kill(-k->pid, k->killed ? SIGKILL : SIGTERM);
                kill(k->pid, k->killed ? SIGKILL : SIGTERM);
                k->killed++;
            }
        }
        if (F.n != seen_kids) {              /* the trunk forked again: it is making progress */
            last_move = now;
            seen_kids = F.n;
        }
        if (trunk_done && !eof && reaped_kids >= F.n)
            eof = 1;                         /* something the trunk started holds stderr: stop */
        if (!trunk_done && W->timeout_ms > 0 && reaped_kids >= F.n && now - last_move > W->timeout_ms) {
            if (!trunk_kill_at || now > trunk_kill_at) {
                toc.timed_out = 1;
                kill(-trunk, trunk_killed ? SIGKILL : SIGTERM);
                trunk_killed++;
                trunk_kill_at = now + 2000;
            }
        }
        pthread_mutex_lock(&W->mu);
        if (W->planned < base_planned + (int64_t)F.n)
            W->planned = base_planned + (int64_t)F.n;
        fs_progress(W, 0);
        pthread_mutex_unlock(&W->mu);
        if (fs_interrupted || W->stopped) {
            kill(-trunk, SIGKILL);
            for (size_t i = 0; i < F.n; i++)
                if (!F.k[i].reaped) { kill(-F.k[i].pid, SIGKILL); kill(F.k[i].pid, SIGKILL); }
        }
    }
    close(errfd);
    if (sigfd >= 0)
        close(sigfd);
    fs_kill_orphans(dir);                    /* what the trunk's program left running */
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    fs_read_forks_log(W, &F, dir, &logpos);
    toc.duration_ms = fs_now_ms() - t0;
    fs_outcome_status(&toc, trunk_status);
    int64_t t_rec = fs_now_ms();
    pthread_mutex_lock(&R.m);
    R.done = 1;
    pthread_cond_signal(&R.c);
    pthread_mutex_unlock(&R.m);
    if (rec_started)
        pthread_join(rec_thread, NULL);
    else
        fs_recorder_main(&R);                /* no thread: record them all now */
    int rc = 0;
    pthread_mutex_lock(&W->mu);
    W->planned = base_planned + (W->done - base_done);
    if (fs_interrupted || W->stopped) {
        fprintf(stderr, "\nfaultstack sweep: %s; forked runs still running were not recorded\n",
                W->stopped ? "stopped" : "interrupted");
        rc = -1;
    } else {
        /* the trunk is not recorded: the exec baseline is the same run */
        fprintf(stderr, "%sfaultstack sweep: fork pass: the trunk %s %d after %zu forked runs in %.2f s "
                        "(%.2f s more to record them)%s%s\n", W->tty ? "\r\033[K" : "",
                toc.signal ? "died of signal" : "exited", toc.signal ? toc.signal : toc.exit_code, F.n,
                (double)toc.duration_ms / 1000.0, (double)(fs_now_ms() - t_rec) / 1000.0,
                W->fork_stop_why[0] ? "; fork mode stopped: " : "", W->fork_stop_why);
        /* what was not forked (fork mode stopped, --max-runs) in exec mode */
        fs_keys_from_baseline(W, 0, &forked);
    }
    pthread_mutex_unlock(&W->mu);
    free(R.v);
    pthread_mutex_destroy(&R.m);
    pthread_cond_destroy(&R.c);
    fs_strset_free(&forked);
    if (rc == 0 || fs_interrupted || W->stopped)
        fs_rm_rf(dir);                       /* kept (and named) only when recording failed */
    free(F.k);
    return rc;
}

/* ---------------- options, session, resume ---------------- */

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
        "  --stdin FILE        every run reads FILE on stdin (default /dev/null); the\n"
        "                      program's stdout goes to /dev/null, its stderr is counted\n"
        "                      (the baseline's is shown)\n"
        "  --fail-on LIST      which findings make the exit status 1: any of leak, anomaly,\n"
        "                      crash, timeout, memcheck, swallowed (default: all but swallowed)\n"
        "  --expect-exit LIST  how the baseline run (nothing failing) must end for the sweep\n"
        "                      to go on: exit statuses (default 0; e.g. 0,1), 'any' (any exit\n"
        "                      status), 'timeout' (a program that runs until killed, e.g. a\n"
        "                      server: each fault run's timeout is then the baseline's)\n"
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

static int fs_sweep_options(struct fs_sweep *W, int argc, char **argv, int *argi)
{
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
        else if (!strcmp(name, "--fail-on")) {
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

/* A new sweep session, or (--resume) the last unfinished one of the same
 * command and options. Returns 0 or -1. */
static int fs_sweep_session(struct fs_sweep *W, struct fs_strset *done_keys)
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
static void fs_resume_plan(struct fs_sweep *W, const struct fs_strset *done_keys)
{
    for (size_t i = 0; i < done_keys->cap; i++)
        if (done_keys->slot[i] && fs_strset_add(&W->keys, done_keys->slot[i]) == 1) {
            W->planned++;
            W->done++;
        }
}

/* Ordinals (baseline numbering) of done keys, for the fork-mode trunk to skip. */
static int fs_write_skip(struct fs_sweep *W, const struct fs_strset *done_keys, char *path)
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
        fs_sweep_usage(stderr);
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
                        "(../lib/); set FAULTSTACK_PRELOAD to its path\n");
        return 2;
    }
    W.db = fs_db_open(W.db_path, err, sizeof err);
    if (!W.db) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return 2;
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
    sqlite3_close(W.db);
    return rc;
}
