/* sweep_fork.c — fork mode: the trunk (the preload forks at each point,
 * harness/preload/forkmode.c), reaping and timing out its forked runs (we are
 * their subreaper), the recorder thread that records them while the trunk
 * runs, and the exec replays queued to confirm their findings. Part of
 * `faultstack sweep` (sweep.h). */
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
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "ingest.h"
#include "plan.h"
#include "record_fmt.h"
#include "sanitizer.h"
#include "symbolize.h"
#include "valgrind.h"

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

/* Read the lines the trunk appended to RUN_DIR/forks since *pos (*fd: the
 * file, opened once it exists; it is only appended to). */
static void fs_read_forks_log(struct fs_sweep *W, struct fs_forkrun *F, const char *dir, off_t *pos, int *fd)
{
    if (*fd < 0) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/forks", dir);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0)
            return;
    }
    char buf[8192];
    for (;;) {
        ssize_t got = pread(*fd, buf, sizeof buf - 1, *pos);
        if (got <= 0)
            return;
        buf[got] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {   /* a partial last line: read it next time */
            *nl = '\0';
            *pos += (off_t)(nl - line + 1);
            long long ord;
            int pid, n = 0;
            if (sscanf(line, FS_FORKS_STOP_SCAN, &ord, &n) == 1 && n) {
                W->fork_stop_ord = ord;
                snprintf(W->fork_stop_why, sizeof W->fork_stop_why, "%s", line + n);
            } else if (sscanf(line, FS_FORKS_CHILD_SCAN, &ord, &pid) == 2) {
                fs_kid_add(F, pid, ord);
            }
            line = nl + 1;
        }
        if (line == buf)
            return;                          /* no whole line (a line longer than buf: none is) */
        if (got < (ssize_t)sizeof buf - 1)
            return;
    }
}

/* The trunk's shared page (RUN_DIR/shared), mapped once the trunk made it:
 * each reap is counted there and wakes the trunk waiting to fork again
 * (forkmode.c, fs_fork_throttle). NULL until then. */
static struct fs_shared *fs_trunk_page(const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/shared", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    void *p = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && sb.st_size >= 4096)   /* sized (and allocated) by the trunk */
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    struct fs_shared *sh = p;
    __atomic_or_fetch(&sh->fork_reaped, FS_FORK_REAPED_ON, __ATOMIC_RELEASE);
    syscall(SYS_futex, &sh->fork_reaped, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return sh;
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
            char fn[FS_REC_FUNC_MAX];
            if (line[0] == FS_REC_POINT && sscanf(line, FS_REC_POINT_SCAN, &ord, fn, &mod, &of, &o2,
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
                if (line[0] == FS_REC_MODULE && sscanf(line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && id == want) {
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
void fs_queue_replay(struct fs_sweep *W, const char *key, int64_t ord, int64_t run_id)
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
    oc.stderr_bytes = (int64_t)fs_file_size(ep);
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
    if (sqlite3_get_autocommit(W->db))
        fs_sweep_row_update(W, NULL);        /* in a batch: its commit updates the row */
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
    int in_txn;                  /* a batch's transaction is open (W->mu guards it) */
    int txn_runs;
    int64_t txn_t0;
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

/* The recorder commits its runs in batches: one transaction per run costs
 * more than recording the run (SQLite's locks, hot-journal checks and journal
 * writes per transaction; bench/RESULTS.md, issue 11). A batch stays open at
 * most FS_BATCH_MS, or until no run has come for FS_BATCH_IDLE_MS; each run
 * in it is a savepoint, all or nothing, as before. Caller holds W->mu. */
#define FS_BATCH_MS 100
#define FS_BATCH_IDLE_MS 20
#define FS_BATCH_RUNS 256

static void fs_batch_begin(struct fs_recorder *R)
{
    char err[256];
    if (R->in_txn || R->W->stopped || fs_interrupted)
        return;
    if (fs_db_exec(R->W->db, "BEGIN IMMEDIATE", err, sizeof err) == 0) {
        R->in_txn = 1;
        R->txn_runs = 0;
        R->txn_t0 = fs_now_ms();
    }                                        /* else each run tries its own and reports */
}

static void fs_batch_commit(struct fs_recorder *R)
{
    char err[512];
    if (!R->in_txn)
        return;
    R->in_txn = 0;
    if (sqlite3_get_autocommit(R->W->db))
        return;                              /* SQLite rolled it back itself (an I/O error, full disk) */
    fs_sweep_row_update(R->W, NULL);
    int code = 0;
    if (sqlite3_get_autocommit(R->W->db)) {
        /* the UPDATE failed (a full disk) and SQLite rolled the batch back */
        code = sqlite3_errcode(R->W->db);
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(R->W->db));
    } else if (fs_db_exec(R->W->db, "COMMIT", err, sizeof err) != 0) {
        code = sqlite3_errcode(R->W->db);
        char ignore[64];
        if (!sqlite3_get_autocommit(R->W->db))
            fs_db_exec(R->W->db, "ROLLBACK", ignore, sizeof ignore);
    }
    /* the batch's runs are lost (not in the database: --resume runs them again) */
    if (code)
        fs_sweep_stop(R->W, code, err, NULL);
}

static void *fs_recorder_main(void *arg)
{
    struct fs_recorder *R = arg;
    for (;;) {
        pthread_mutex_lock(&R->m);
        if (R->in_txn && R->next >= R->n && !R->done) {
            struct timespec ts;              /* a batch is open: wait a little for more */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += FS_BATCH_IDLE_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            while (R->next >= R->n && !R->done)
                if (pthread_cond_timedwait(&R->c, &R->m, &ts) != 0)
                    break;
        }
        if (R->next >= R->n && (R->in_txn || R->done)) {
            int done = R->done;
            pthread_mutex_unlock(&R->m);
            pthread_mutex_lock(&R->W->mu);
            fs_batch_commit(R);
            pthread_mutex_unlock(&R->W->mu);
            if (done)
                return NULL;
            continue;
        }
        while (R->next >= R->n && !R->done)
            pthread_cond_wait(&R->c, &R->m);
        if (R->next >= R->n) {
            pthread_mutex_unlock(&R->m);
            continue;                        /* done: commits above, then ends */
        }
        struct fs_kid k = R->v[R->next++];
        pthread_mutex_unlock(&R->m);
        /* what the run started may still write its records: wait until its
         * process group is gone (2 s at most, then it is killed) */
        for (int i = 0; kill(-k.pid, 0) == 0; i++) {
            if (i == 0 && R->in_txn) {       /* not while holding the batch open */
                pthread_mutex_lock(&R->W->mu);
                fs_batch_commit(R);
                pthread_mutex_unlock(&R->W->mu);
            }
            if (i == 2000)
                kill(-k.pid, SIGKILL);
            usleep(1000);
            if (i > 4000)
                break;
        }
        pthread_mutex_lock(&R->W->mu);
        fs_batch_begin(R);
        fs_kid_record(R->W, R->dir, &k, R->forked);
        if (R->in_txn && (++R->txn_runs >= FS_BATCH_RUNS || fs_now_ms() - R->txn_t0 >= FS_BATCH_MS ||
                          R->W->stopped || fs_interrupted))
            fs_batch_commit(R);
        pthread_mutex_unlock(&R->W->mu);
    }
}

/* Run the trunk with the preload forking at each selected point (skip_ords:
 * a file of baseline ordinals swept already, or NULL). Returns 0, or -1 on a
 * tool error. */
int fs_fork_phase(struct fs_sweep *W, const char *skip_ords)
{
    char dir[PATH_MAX], err[2048], text[2048];
    struct fs_plan plan;
    fs_key_plan(W, "none", &plan, text, sizeof text, err, sizeof err);
    if (fs_mk_run_dir(dir, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack sweep: %s\n", err);
        return -1;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0) {   /* all 5: memcheck checks them */
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
    int logfd = -1;
    struct fs_shared *tpage = NULL;
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
        fs_read_forks_log(W, &F, dir, &logpos, &logfd);
        if (!tpage && !trunk_done)
            tpage = fs_trunk_page(dir);
        uint32_t nreap = 0;                  /* pids reaped now: wake the trunk */
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            if (w == trunk) {
                fs_target_done(trunk);
                trunk_done = 1;
                trunk_status = status;
                continue;
            }
            nreap++;
            struct fs_kid *k = fs_kid_find(&F, w);
            if (k) {
                fs_kid_reaped(&F, k, status);
            } else if (F.nearly < 256) {
                F.early[F.nearly].pid = w;           /* a child whose log line is not read yet, */
                F.early[F.nearly++].status = status; /* or a grandchild orphaned to us */
            }
        }
        if (trunk_done)                      /* its last lines may have come after the read above */
            fs_read_forks_log(W, &F, dir, &logpos, &logfd);
        if (tpage && nreap) {
            __atomic_add_fetch(&tpage->fork_reaped, nreap, __ATOMIC_RELEASE);
            syscall(SYS_futex, &tpage->fork_reaped, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
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
        /* the recorder holds W->mu while it records a run: reaping must not
         * wait for it (the trunk waits for the reap to fork again) */
        if (pthread_mutex_trylock(&W->mu) == 0) {
            if (W->planned < base_planned + (int64_t)F.n)
                W->planned = base_planned + (int64_t)F.n;
            fs_progress(W, 0);
            pthread_mutex_unlock(&W->mu);
        }
        if (fs_interrupted || W->stopped) {
            kill(-trunk, SIGKILL);
            for (size_t i = 0; i < F.n; i++) {
                if (F.k[i].reaped)
                    continue;
                kill(-F.k[i].pid, SIGKILL);
                if (kill(F.k[i].pid, SIGKILL) != 0 && errno == ESRCH)
                    fs_kid_reaped(&F, &F.k[i], SIGKILL);   /* gone, not by our wait: not recorded anyway */
            }
        }
    }
    close(errfd);
    if (sigfd >= 0)
        close(sigfd);
    fs_kill_orphans(dir);                    /* what the trunk's program left running */
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    fs_read_forks_log(W, &F, dir, &logpos, &logfd);
    if (logfd >= 0)
        close(logfd);
    if (tpage)
        munmap(tpage, 4096);
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
