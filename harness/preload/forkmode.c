/* forkmode.c — `faultstack sweep --mode fork`: fail each fault point in a child.
 *
 * The target runs once without injection (the "trunk"). At each fault point the
 * sweep strategy selects, the trunk forks: the child fails that call and runs
 * to the end, writing its records into RUN_DIR/f<ORDINAL>/; the trunk goes on
 * as if nothing happened. The program's prefix is never re-run.
 *
 * Settings (from the supervisor, harness/cli/sweep_fork.c):
 *   FAULTSTACK_FORK=nth|site|stack  which points: every one, the first call of
 *                                   each site, the first call of each (site,
 *                                   calling context)
 *   FAULTSTACK_FORK_JOBS=N          children running at once (default 1)
 *   FAULTSTACK_FORK_SHARD=I/N       only points whose ordinal % N == I-1
 *   FAULTSTACK_FORK_MAX=M           at most M children
 *   FAULTSTACK_FORK_SKIP=FILE       ordinals already swept (--resume), one per line
 *   FAULTSTACK_FORK_WRAPPERS=FILE   site strategy: call sites in thin wrappers,
 *                                   one per line, 'FUNC MODULE OFF' (hex), and the
 *                                   caller prefixes that are seen through further,
 *                                   'FUNC MODULE OFF CMOD COFF [CMOD COFF]': there
 *                                   the first call for each caller prefix is forked
 *                                   (sweep_plan.c, fs_census, makes the same keys)
 * The trunk appends "ORD PID\n" per child to RUN_DIR/forks, and "stop ORD WHY\n"
 * when fork mode ends early; the supervisor sweeps the rest in exec mode.
 *
 * Hazards and how they are handled:
 *   threads       only the calling thread survives fork(): fork mode stops as
 *                 soon as the trunk has a second thread (/proc/self/task);
 *   the target's own fork/posix_spawn children
 *                 points would interleave across processes: stops at the
 *                 target's first fork (atfork handler, finish.c);
 *   pipes, sockets, FIFOs readable at the fork point
 *                 a child would consume the trunk's data: stops;
 *   regular files and directories
 *                 fork shares open file descriptions (offsets): the child
 *                 reopens each one through /proc/self/fd at the same offset;
 *   stdout, stderr the child writes its own (stdout to /dev/null, stderr to
 *                 f<ORD>/stderr for the "swallowed" check), if they are still
 *                 the ones the supervisor gave;
 *   SIGCHLD, wait the child is the supervisor's child, not the trunk's
 *                 (clone(CLONE_PARENT); or, when that cannot be used, a double
 *                 fork whose grandchild the supervisor, the child subreaper,
 *                 reaps, the one SIGCHLD of the intermediate consumed), so the
 *                 target's wait() never sees it;
 *   ownership     the child keeps the trunk's pid/tid as the owner identity of
 *                 what the trunk acquired (sync.c), so those resources are its
 *                 own, not "inherited".
 * Every finding of a fork-mode run is replayed in exec mode by the supervisor
 * before it becomes a finding. */
#define _GNU_SOURCE
#include "preload.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FS_FORK_OFF = 0, FS_FORK_NTH, FS_FORK_SITE, FS_FORK_STACK };

int fs_fork_strategy;                  /* FS_FORK_*, trunk only */
static int fs_fork_stopped;
static int fs_fork_jobs = 1;
static uint64_t fs_fork_shard_i, fs_fork_shard_n;
static uint64_t fs_fork_max = UINT64_MAX;
static uint64_t fs_fork_started;
static uint64_t *fs_fork_skip;
static size_t fs_fork_nskip;
#define FS_FORK_MAX_JOBS 64
static pid_t fs_fork_kids[FS_FORK_MAX_JOBS];
static struct { uint64_t dev, ino; int ok; } fs_std_id[3];
static int fs_fork_busy;                     /* our own fork: not the program's */
static pid_t fs_fork_super;                  /* the supervisor (the trunk's parent) */
/* Regular files and directories open at the fork point, with their flags and
 * offsets read by the trunk before forking (fs_fork_hazard). */
#define FS_MAX_SAVED 1024
static struct { int fd; long fl, pos; } fs_saved[FS_MAX_SAVED];
static int fs_nsaved;

/* Wrapper sites of the site strategy and their caller prefixes seen through
 * further (FAULTSTACK_FORK_WRAPPERS): hashes of (site, callers...) in an
 * open-addressed set, tagged by the number of callers. */
#define FS_WRAP_SLOTS 4096
static uint64_t *fs_wrap_set;
static int fs_nwrap;
int fs_fork_child_caller;

static uint64_t fs_wrap_mix(uint64_t h, const char *s, size_t n, uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    h = (h ^ off) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static uint64_t fs_wrap_tag(uint64_t h, int level)
{
    h ^= (uint64_t)(level + 1) * 0xD6E8FEB86659FD93ull;
    return h ? h : 1;
}

static void fs_wrap_put(uint64_t k)
{
    for (uint64_t i = k, n = 0; n < FS_WRAP_SLOTS; i++, n++) {
        uint64_t *slot = &fs_wrap_set[i & (FS_WRAP_SLOTS - 1)];
        if (*slot == k) return;
        if (!*slot) { *slot = k; fs_nwrap++; return; }
    }
}

static int fs_wrap_has(uint64_t k)
{
    for (uint64_t i = k, n = 0; fs_wrap_set && n < FS_WRAP_SLOTS; i++, n++) {
        uint64_t s = fs_wrap_set[i & (FS_WRAP_SLOTS - 1)];
        if (s == k) return 1;
        if (!s) return 0;
    }
    return 0;
}

static void fs_wrappers_read(const char *path)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return;
    if (syscall(SYS_fstat, fd, &sb) == 0 && sb.st_size > 0 && (fs_wrap_set = fs_alloc(FS_WRAP_SLOTS * 8))) {
        size_t len = (size_t)sb.st_size, got = 0;
        char *buf = fs_alloc(len + 1);
        while (buf && got < len) {
            long r = syscall(SYS_read, fd, buf + got, len - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        for (size_t i = 0; buf && i < got && fs_nwrap < FS_WRAP_SLOTS / 2;) {
            /* FUNC MOD OFF [CMOD COFF]... */
            const char *w[8];
            size_t wl[8];
            int nw = 0;
            while (i < got && buf[i] != '\n') {
                while (i < got && buf[i] == ' ') i++;
                size_t st = i;
                while (i < got && buf[i] != ' ' && buf[i] != '\n') i++;
                if (i > st && nw < 8) { w[nw] = buf + st; wl[nw++] = i - st; }
            }
            i++;
            if (nw < 3 || nw % 2 == 0)
                continue;
            uint64_t h = fs_wrap_mix(0xcbf29ce484222325ull, w[0], wl[0], 0);
            h = fs_wrap_mix(h, w[1], wl[1], strtoull(w[2], NULL, 16));
            for (int k = 3; k + 1 < nw; k += 2)
                h = fs_wrap_mix(h, w[k], wl[k], strtoull(w[k + 1], NULL, 16));
            fs_wrap_put(fs_wrap_tag(h, (nw - 3) / 2));
        }
    }
    syscall(SYS_close, fd);
}

/* The key of a fault point at a wrapper site: the hash of (site, callers...),
 * with as many callers as sweep_plan.c's census gives it; 0 when the site is not a
 * wrapper site. */
static uint64_t fs_wrapper_key(int id, int mod, uint64_t off)
{
    struct fs_module *m = fs_module_by_id(mod);
    if (!m)
        return 0;
    const char *fn = fs_fn(id)->name;
    uint64_t h = fs_wrap_mix(0xcbf29ce484222325ull, fn, strlen(fn), 0);
    h = fs_wrap_mix(h, m->base, strlen(m->base), off);
    if (!fs_wrap_has(fs_wrap_tag(h, 0)))
        return 0;
    int cm[FS_PLAN_MAX_CALLERS];
    uint64_t co[FS_PLAN_MAX_CALLERS];
    int n = fs_callers(FS_PLAN_MAX_CALLERS, cm, co);
    for (int level = 1; level <= n; level++) {
        struct fs_module *c = fs_module_by_id(cm[level - 1]);
        if (!c)
            break;
        h = fs_wrap_mix(h, c->base, strlen(c->base), co[level - 1]);
        if (level == FS_PLAN_MAX_CALLERS || !fs_wrap_has(fs_wrap_tag(h, level)))
            break;                           /* not seen through further */
    }
    return h ? h : 1;
}

/* (site, context) pairs seen, for the stack strategy, and (wrapper site,
 * caller) pairs for the site strategy: open addressing. */
#define FS_CTX_SLOTS (1u << 18)
static uint64_t *fs_ctx_seen;

static void fs_fork_log(const char *line, size_t n)
{
    char path[600];
    size_t l = strlen(fs_run_dir);
    memcpy(path, fs_run_dir, l);
    memcpy(path + l, "/forks", 7);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (syscall(SYS_write, fd, line, n) < 0) { /* the supervisor sees no line */ }
        syscall(SYS_close, fd);
    }
}

static void fs_fork_stop(uint64_t ord, const char *why)
{
    if (fs_fork_stopped)
        return;
    fs_fork_stopped = 1;
    char line[160];
    size_t n = 0;
    memcpy(line, "stop ", 5); n = 5;              /* FS_FORKS_STOP_SCAN */
    n += fs_fmt_u64(line + n, ord); line[n++] = ' ';
    size_t wl = strlen(why);
    memcpy(line + n, why, wl); n += wl;
    line[n++] = '\n';
    fs_fork_log(line, n);
}

/* The target forked (atfork prepare handler): its processes would share the
 * ordinal counter, so the rest of the sweep is done in exec mode. */
void fs_fork_target_forked(void)
{
    if (fs_fork_strategy && !fs_fork_stopped && !fs_fork_busy)
        fs_fork_stop(fs_shm ? __atomic_load_n(&fs_shm->ordinal, __ATOMIC_RELAXED) + 1 : 0,
                     "the program forked");
}

static int fs_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void fs_fork_read_skip(const char *path)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat sb;
    if (syscall(SYS_fstat, fd, &sb) == 0 && sb.st_size > 0) {
        size_t len = (size_t)sb.st_size;
        char *buf = fs_alloc(len + 1);
        size_t got = 0;
        while (buf && got < len) {
            long r = syscall(SYS_read, fd, buf + got, len - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        size_t lines = 1;
        for (size_t i = 0; buf && i < got; i++)
            lines += buf[i] == '\n';
        fs_fork_skip = buf ? fs_alloc(lines * sizeof *fs_fork_skip) : NULL;
        for (size_t i = 0; fs_fork_skip && i < got;) {
            uint64_t v = 0;
            int any = 0;
            while (i < got && buf[i] >= '0' && buf[i] <= '9') { v = v * 10 + (uint64_t)(buf[i++] - '0'); any = 1; }
            while (i < got && (buf[i] < '0' || buf[i] > '9')) i++;
            if (any)
                fs_fork_skip[fs_fork_nskip++] = v;
        }
        if (fs_fork_skip)
            qsort(fs_fork_skip, fs_fork_nskip, sizeof *fs_fork_skip, fs_u64_cmp);
    }
    syscall(SYS_close, fd);
}

static void fs_std_remember(int fd)
{
    struct stat sb;
    if (syscall(SYS_fstat, fd, &sb) == 0) {
        fs_std_id[fd].dev = sb.st_dev;
        fs_std_id[fd].ino = sb.st_ino;
        fs_std_id[fd].ok = 1;
    }
}

static int fs_std_same(int fd, const struct stat *sb)
{
    return fs_std_id[fd].ok && fs_std_id[fd].dev == sb->st_dev && fs_std_id[fd].ino == sb->st_ino;
}

void fs_fork_init(void)
{
    const char *s = getenv("FAULTSTACK_FORK");
    if (!s || !*s)
        return;
    const char *trunk = getenv("FAULTSTACK_FORK_PID");
    if (!trunk || strtol(trunk, NULL, 10) != (long)syscall(SYS_getpid)) {
        /* another process of the program (posix_spawn, a script's command):
         * the trunk's ordinals now interleave with ours; fork mode ends */
        if (fs_shm)
            __atomic_store_n(&fs_shm->others, 1, __ATOMIC_RELAXED);
        return;
    }
    if (!strcmp(s, "nth")) fs_fork_strategy = FS_FORK_NTH;
    else if (!strcmp(s, "site")) fs_fork_strategy = FS_FORK_SITE;
    else if (!strcmp(s, "stack")) fs_fork_strategy = FS_FORK_STACK;
    else return;
    const char *j = getenv("FAULTSTACK_FORK_JOBS");
    if (j && *j) {
        fs_fork_jobs = atoi(j);
        if (fs_fork_jobs < 1) fs_fork_jobs = 1;
        if (fs_fork_jobs > FS_FORK_MAX_JOBS) fs_fork_jobs = FS_FORK_MAX_JOBS;
    }
    const char *sh = getenv("FAULTSTACK_FORK_SHARD");
    if (sh && *sh) {
        char *e;
        fs_fork_shard_i = strtoull(sh, &e, 10);
        if (*e == '/')
            fs_fork_shard_n = strtoull(e + 1, NULL, 10);
        if (!fs_fork_shard_n || !fs_fork_shard_i || fs_fork_shard_i > fs_fork_shard_n)
            fs_fork_shard_n = 0;
    }
    const char *mx = getenv("FAULTSTACK_FORK_MAX");
    if (mx && *mx)
        fs_fork_max = strtoull(mx, NULL, 10);
    const char *sk = getenv("FAULTSTACK_FORK_SKIP");
    if (sk && *sk)
        fs_fork_read_skip(sk);
    const char *wr = getenv("FAULTSTACK_FORK_WRAPPERS");
    if (fs_fork_strategy == FS_FORK_SITE && wr && *wr)
        fs_wrappers_read(wr);
    if (fs_fork_strategy == FS_FORK_STACK || fs_nwrap)
        fs_ctx_seen = fs_alloc(FS_CTX_SLOTS * sizeof *fs_ctx_seen);
    for (int fd = 0; fd < 3; fd++)
        fs_std_remember(fd);
    fs_fork_super = (pid_t)syscall(SYS_getppid);
    fs_getpid();                             /* cache the identity children adopt */
    fs_gettid();
}

/* The first time (func, site, ctx) is seen? (stack strategy) */
static int fs_ctx_first(int id, int mod, uint64_t off, uint64_t ctx)
{
    if (!fs_ctx_seen)
        return 0;
    uint64_t k = (off * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)mod << 48) ^ ((uint64_t)id << 40) ^ ctx;
    if (!k) k = 1;
    for (uint64_t i = k, n = 0; n < FS_CTX_SLOTS; i++, n++) {
        uint64_t *slot = &fs_ctx_seen[i & (FS_CTX_SLOTS - 1)];
        if (*slot == k) return 0;
        if (*slot == 0) { *slot = k; return 1; }
    }
    return 0;                                /* table full: no more contexts */
}

/* Threads other than the caller, or file descriptors a child must not share:
 * returns NULL when forking here is safe, else the reason. */
static const char *fs_fork_hazard(void)
{
    struct stat sb;
    if (syscall(SYS_stat, "/proc/self/task", &sb) == 0 && sb.st_nlink > 3)
        return "the program started a thread";
    fs_nsaved = 0;
    int dfd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return NULL;                         /* no /proc: cannot tell; assume plain files */
    const char *why = NULL;
    char buf[4096];
    long n;
    while (!why && (n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long pos = 0; pos < n && !why;) {
            struct dirent64 *de = (struct dirent64 *)(buf + pos);
            pos += de->d_reclen;
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            int fd = atoi(de->d_name);
            if (fd == dfd || syscall(SYS_fstat, fd, &sb) != 0)
                continue;
            if ((S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) && fs_nsaved < FS_MAX_SAVED) {
                /* the child starts from these offsets: once the trunk goes on it
                 * moves the shared ones */
                fs_saved[fs_nsaved].fd = fd;
                fs_saved[fs_nsaved].fl = syscall(SYS_fcntl, fd, F_GETFL);
                fs_saved[fs_nsaved++].pos = syscall(SYS_lseek, fd, 0L, SEEK_CUR);
                continue;
            }
            if (!S_ISFIFO(sb.st_mode) && !S_ISSOCK(sb.st_mode))
                continue;
            if (fd <= 2 && fs_std_same(fd, &sb))
                continue;                    /* the supervisor's stderr pipe: write-only */
            long fl = syscall(SYS_fcntl, fd, F_GETFL);
            if (S_ISSOCK(sb.st_mode) || (fl >= 0 && (fl & O_ACCMODE) != O_WRONLY))
                why = S_ISSOCK(sb.st_mode) ? "a socket is open" : "a readable pipe is open";
        }
    }
    syscall(SYS_close, dfd);
    return why;
}

/* Wait until fewer than fs_fork_jobs children run. A child is gone once the
 * supervisor (the subreaper) reaped it. The supervisor counts its reaps in
 * the trunk's shared page (fork_reaped, FS_FORK_REAPED_ON once it maps the
 * page) and wakes that futex: the trunk sleeps until a reap instead of
 * polling, which cost CPU the children and the recorder need. */
static void fs_fork_throttle(void)
{
    for (unsigned spin = 0;; spin++) {
        if (syscall(SYS_getppid) != fs_fork_super)
            syscall(SYS_exit_group, 0);      /* the supervisor is gone: the sweep is over */
        uint32_t seen = __atomic_load_n(&fs_shm->fork_reaped, __ATOMIC_ACQUIRE);
        int running = 0;
        for (int i = 0; i < fs_fork_jobs; i++) {
            if (fs_fork_kids[i] > 0 && syscall(SYS_kill, fs_fork_kids[i], 0) != 0)
                fs_fork_kids[i] = 0;
            running += fs_fork_kids[i] > 0;
        }
        if (running < fs_fork_jobs)
            return;
        if (seen & FS_FORK_REAPED_ON) {
            struct timespec ts = { 0, 50 * 1000000L };   /* a lost wake costs 50 ms, not a hang */
            syscall(SYS_futex, &fs_shm->fork_reaped, FUTEX_WAIT, seen, &ts, NULL, 0);
            continue;
        }
        struct timespec ts = { 0, spin < 100 ? 50000 : 1000000 };
        syscall(SYS_nanosleep, &ts, NULL);
    }
}

static pid_t (*fs_fork_fn)(void);

static pid_t fs_fork_raw(void)
{
    if (!fs_fork_fn) {
        fs_fork_fn = (pid_t (*)(void))dlsym(RTLD_DEFAULT, "_Fork");   /* glibc >= 2.34: no atfork handlers */
        if (!fs_fork_fn)
            fs_fork_fn = fork;
    }
    fs_fork_busy = 1;
    pid_t p = fs_fork_fn();
    fs_fork_busy = 0;
    return p;
}

/* One clone(CLONE_PARENT) instead of the double fork: the child is the
 * supervisor's child at once (its SIGCHLD goes there, never to the trunk), and
 * the trunk's address space is copied once, not twice (the intermediate
 * process cost a whole fork and exit per point). It does what glibc's _Fork
 * does for the child: the thread's tid field (CLONE_CHILD_SETTID, found
 * through glibc's libthread_db descriptor) and an empty robust-mutex list.
 * Used only when the trunk holds no robust mutex and the tid field is found;
 * else the double fork. Returns the child's pid, 0 in the child, -1 when not
 * possible (nothing was created). */
static long fs_tid_off = -2;                 /* -2 unknown, -1 not found */

static pid_t fs_fork_direct(void)
{
    if (fs_tid_off == -2) {
        fs_tid_off = -1;
        const uint32_t *d = dlvsym(RTLD_DEFAULT, "_thread_db_pthread_tid", "GLIBC_PRIVATE");
        /* db_desc_t: size in bits, count, offset */
        if (d && d[0] == 32 && d[1] == 1 && d[2] < 4096 &&
            *(const int32_t *)((const char *)pthread_self() + d[2]) == (int32_t)syscall(SYS_gettid))
            fs_tid_off = d[2];
    }
    if (fs_tid_off < 0 || getenv("FAULTSTACK_FORK_DOUBLE"))
        return -1;
    void *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) != 0 || !head || *(void **)head != head)
        return -1;                           /* a robust mutex is held: let _Fork handle it */
    int32_t *tid = (int32_t *)((char *)pthread_self() + fs_tid_off);
    fs_fork_busy = 1;
    long p = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID),
                     0L, NULL, tid, 0L);
    fs_fork_busy = 0;
    if (p == 0)
        syscall(SYS_set_robust_list, head, len);   /* the kernel cleared it */
    return p < 0 ? -1 : (pid_t)p;
}

/* Give the child its own open file description for every regular file and
 * directory (same flags, the offset the trunk had at the fork point), stdout to
 * /dev/null and stderr to its own file when they are still the supervisor's. */
static void fs_fork_reopen(const char *dir)
{
    char path[640];
    for (int fd = 1; fd <= 2; fd++) {
        struct stat sb;
        if (syscall(SYS_fstat, fd, &sb) != 0 || !fs_std_same(fd, &sb))
            continue;
        int nf;
        if (fd == 2) {
            size_t l = strlen(dir);
            memcpy(path, dir, l);
            memcpy(path + l, "/stderr", 8);
            nf = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        } else {
            nf = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY);
        }
        if (nf >= 0) {
            syscall(SYS_dup3, nf, fd, 0);
            syscall(SYS_close, nf);
        }
    }
    for (int i = 0; i < fs_nsaved; i++) {
        int fd = fs_saved[i].fd;
        long fl = fs_saved[i].fl, pos = fs_saved[i].pos;
        if (fl < 0)
            continue;
        memcpy(path, "/proc/self/fd/", 14);
        size_t l = 14 + fs_fmt_u64(path + 14, (uint64_t)fd);
        path[l] = '\0';
        int keep = (int)(fl & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC |
                               O_DSYNC | O_DIRECTORY | O_LARGEFILE));
        int nf = (int)syscall(SYS_openat, AT_FDCWD, path, keep);
        if (nf < 0)
            continue;                        /* stays shared: documented limitation */
        if (pos > 0)
            syscall(SYS_lseek, nf, pos, SEEK_SET);
        long fdfl = syscall(SYS_fcntl, fd, F_GETFD);
        syscall(SYS_dup3, nf, fd, (fdfl > 0 && (fdfl & FD_CLOEXEC)) ? O_CLOEXEC : 0);
        syscall(SYS_close, nf);
    }
}

/* In the child: the environment an exec-mode run of the same point has —
 * FAULTSTACK_RUN_DIR names the child's directory, the trunk's FAULTSTACK_FORK*
 * settings are gone — changed in place, without the target's malloc.
 * setenv() would allocate from the target's heap (the new string, a tsearch
 * node for it, maybe a copy of the environ array): every block the program
 * allocates afterwards would then sit at another address than in an exec run,
 * and a stale pointer that the leak scan finds (a callee-saved register
 * spilled at exit, a dangling global) would hit a lost block in one mode and
 * miss it in the other. The child's heap must stay the trunk's, which is the
 * exec run's. */
static void fs_fork_child_env(const char *dir, size_t len)
{
    extern char **environ;
    static const char key[] = "FAULTSTACK_RUN_DIR=";
    char **e = environ, **w = environ;
    for (; e && *e; e++) {
        if (strncmp(*e, "FAULTSTACK_FORK", 15) == 0)
            continue;                        /* dropped: the rest moves up */
        if (strncmp(*e, key, sizeof key - 1) == 0) {
            char *kv = fs_alloc(sizeof key + len);
            if (kv) {
                memcpy(kv, key, sizeof key - 1);
                memcpy(kv + sizeof key - 1, dir, len + 1);
                *e = kv;
            }
        }
        *w++ = *e;
    }
    if (w)
        *w = NULL;
}

/* In the child: its own run directory, shared page, records and files. */
static void fs_fork_child_setup(uint64_t ord)
{
    fs_fork_child_caller = fs_fork_strategy == FS_FORK_SITE;
    fs_fork_strategy = FS_FORK_OFF;          /* a child never forks for the sweep */
    fs_pid_adopt();
    char dir[600];
    size_t l = strlen(fs_run_dir);
    memcpy(dir, fs_run_dir, l);
    dir[l++] = '/'; dir[l++] = 'f';
    l += fs_fmt_u64(dir + l, ord);
    dir[l] = '\0';
    syscall(SYS_mkdirat, AT_FDCWD, dir, 0700);
    syscall(SYS_setpgid, 0, 0);              /* the supervisor kills the group on timeout */
    fs_fork_reopen(dir);
    memcpy(fs_run_dir, dir, l + 1);
    struct fs_shared fresh;
    memset(&fresh, 0, sizeof fresh);
    fresh.ordinal = ord;
    fs_shm_attach(&fresh);
    fs_fork_child_env(dir, l);
    fs_record_start_image();
    char line[64];
    size_t n = 0;
    memcpy(line, FS_REC_FORKED " ", sizeof FS_REC_FORKED); n = sizeof FS_REC_FORKED;
    n += fs_fmt_u64(line + n, ord);
    line[n++] = '\n';
    fs_record_raw(line, n);
}

/* In the trunk: child kid fails point ord; the supervisor learns it from RUN_DIR/forks. */
static void fs_fork_started_kid(uint64_t ord, pid_t kid)
{
    fs_fork_started++;
    for (int i = 0; i < fs_fork_jobs; i++)
        if (fs_fork_kids[i] <= 0) { fs_fork_kids[i] = kid; break; }
    char line[64];
    size_t n = fs_fmt_u64(line, ord);
    line[n++] = ' ';
    n += fs_fmt_u64(line + n, (uint64_t)kid);
    line[n++] = '\n';
    fs_fork_log(line, n);
}

int fs_fork_point(int id, int mod, uint64_t off, uint64_t ord, uint64_t occ, uint64_t ctx)
{
    if (fs_fork_stopped)
        return 0;
    if (__atomic_load_n(&fs_shm->others, __ATOMIC_RELAXED)) {
        fs_fork_stop(ord, "another process of the program runs");
        return 0;
    }
    switch (fs_fork_strategy) {
    case FS_FORK_NTH: break;
    case FS_FORK_SITE: {
        uint64_t wk = fs_nwrap ? fs_wrapper_key(id, mod, off) : 0;
        if (wk ? !fs_ctx_first(id, mod, off, wk) : occ != 1)
            return 0;
        break;
    }
    case FS_FORK_STACK: if (!fs_ctx_first(id, mod, off, ctx)) return 0; break;
    default: return 0;
    }
    if (fs_fork_shard_n && ord % fs_fork_shard_n != fs_fork_shard_i - 1)
        return 0;
    if (fs_fork_nskip && bsearch(&ord, fs_fork_skip, fs_fork_nskip, sizeof ord, fs_u64_cmp))
        return 0;
    if (fs_fork_started >= fs_fork_max)
        return 0;
    const char *why = fs_fork_hazard();
    if (why) {
        fs_fork_stop(ord, why);
        return 0;
    }
    fs_fork_throttle();

    pid_t direct = fs_fork_direct();
    if (direct == 0) {
        syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
        if (syscall(SYS_getppid) != fs_fork_super)
            syscall(SYS_exit_group, 0);
        fs_fork_child_setup(ord);
        return 1;                            /* the caller injects */
    }
    if (direct > 0) {
        fs_fork_started_kid(ord, direct);
        return 0;
    }

    sigset_t chld, old, pending;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGCHLD);
    pid_t mid = fs_fork_raw();
    if (mid == 0) {
        pid_t me = (pid_t)syscall(SYS_getpid);
        pid_t kid = fs_fork_raw();
        if (kid != 0) {
            __atomic_store_n(&fs_shm->fork_kid, kid > 0 ? kid : 0, __ATOMIC_RELEASE);
            syscall(SYS_exit_group, kid > 0 ? 0 : 1);
        }
        /* once the intermediate is gone we are the supervisor's (its children's
         * subreaper): end with it, however it ends */
        while (syscall(SYS_getppid) == me) {
            struct timespec ts = { 0, 20000 };
            syscall(SYS_nanosleep, &ts, NULL);
        }
        syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
        if (syscall(SYS_getppid) != fs_fork_super)
            syscall(SYS_exit_group, 0);
        fs_fork_child_setup(ord);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 1;                            /* the caller injects */
    }
    if (mid < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        fs_fork_stop(ord, "fork failed");
        return 0;
    }
    int st;
    while (syscall(SYS_wait4, mid, &st, 0, NULL) < 0 && errno == EINTR)
        ;
    if (!was_pending) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&chld, NULL, &zero);    /* the intermediate's SIGCHLD is ours */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    pid_t kid = __atomic_exchange_n(&fs_shm->fork_kid, 0, __ATOMIC_ACQUIRE);
    if (kid <= 0) {
        fs_fork_stop(ord, "fork failed");
        return 0;
    }
    fs_fork_started_kid(ord, kid);
    return 0;
}
