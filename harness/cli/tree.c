/* tree.c — the target's whole process tree ends with faultstack.
 *
 * faultstack is the children's subreaper (run and sweep, both modes): a
 * process of the target whose parent ended (a daemon's double fork, a forked
 * run's child) becomes our child, so it can be waited for and killed. This
 * file keeps
 *   - the stop signals: SIGINT, SIGTERM and SIGHUP set fs_interrupted and wake
 *     every waiting thread through a pipe; the waits kill what they run (the
 *     target's process group, then SIGKILL), a second signal at once;
 *   - the targets being waited for (so that reaping an orphan never steals
 *     another thread's target);
 *   - the orphans of one run: our children whose environment names its run
 *     directory, waited for until they end or the run's deadline;
 *   - stale run directories: those of a faultstack that was killed (SIGKILL,
 *     the OOM killer), removed with any process still running in them by the
 *     next faultstack that starts.
 * A target is started with PR_SET_PDEATHSIG=SIGKILL (cli/run.c), and each
 * forked run of a fork-mode sweep sets it once it is our child
 * (preload/forkmode.c): SIGKILL of faultstack ends them too. */
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------- stop signals ---------------- */

volatile sig_atomic_t fs_interrupted;        /* the first stop signal, 0 if none */
volatile sig_atomic_t fs_stop_count;         /* stop signals received */
static int fs_stop_pipe[2] = { -1, -1 };

static void fs_on_stop(int sig)
{
    int saved = errno;
    if (!fs_interrupted)
        fs_interrupted = sig;
    fs_stop_count++;
    if (fs_stop_pipe[1] >= 0 && write(fs_stop_pipe[1], "x", 1) < 0) { /* full: readable already */ }
    errno = saved;
}

/* The watchdog: a process of its own (double fork, its own session) that
 * waits for the supervisor to end — however it ends, SIGKILL included — then
 * kills what still runs in the supervisor's run directories (a daemon of the
 * program, children of a target whose PR_SET_PDEATHSIG fired) and removes
 * them. It holds only the read end of a pipe (its fd 3) whose write end only
 * the supervisor holds (close-on-exec: no target inherits it). It runs as
 * `faultstack __watchdog PID BASE PREFIX` (fs_watchdog_main). */
static void fs_clean_owned(const char *base, const char *prefix);

int fs_watchdog_main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    char name[16];
    snprintf(name, sizeof name, "fswatch-%s", argv[2]);
    prctl(PR_SET_NAME, name);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    char c;
    while (read(3, &c, 1) < 0 && errno == EINTR)
        ;
    /* end of file: the supervisor is gone; make sure (same pid, same start) */
    int pid = 0;
    unsigned long long start = 0;
    if (sscanf(argv[4], "faultstack-run-%d.%llu-", &pid, &start) != 2)
        return 2;
    char st = 0;
    while (fs_proc_start((pid_t)pid, &st, NULL) == start && st != 'Z' && st != 'X')
        usleep(100000);
    fs_clean_owned(argv[3], argv[4]);
    char sp[160];                            /* and its skip files */
    snprintf(sp, sizeof sp, "faultstack-skip-%s", argv[4] + strlen("faultstack-run-"));
    fs_clean_owned(argv[3], sp);
    return 0;
}

static void fs_watchdog_start(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return;
    char base[PATH_MAX], prefix[128];
    snprintf(base, sizeof base, "%s", fs_run_base());
    snprintf(prefix, sizeof prefix, "faultstack-run-%d.%llu-", (int)getpid(), fs_proc_start(getpid(), NULL, NULL));
    pid_t super = getpid();
    pid_t mid = fork();
    if (mid < 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    if (mid == 0) {
        setsid();                            /* no terminal signal, no group kill of faultstack's */
        if (fork() != 0)
            _exit(0);                        /* init's child, not ours: we are a subreaper later */
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        if (p[0] == 3)                       /* the pipe as fd 3, kept across exec */
            fcntl(3, F_SETFD, 0);
        else
            dup2(p[0], 3);
        if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
            for (int fd = 4; fd < 4096; fd++)
                close(fd);
        char spid[24];
        snprintf(spid, sizeof spid, "%d", (int)super);
        /* a program of its own (faultstack __watchdog): its command line is
         * not the supervisor's, which pgrep -f of the target would match */
        char *wargv[] = { "faultstack", "__watchdog", spid, base, prefix, NULL };
        execv("/proc/self/exe", wargv);
        fs_watchdog_main(5, wargv);          /* cannot exec: watch from here */
        _exit(0);
    }
    close(p[0]);
    waitpid(mid, NULL, 0);
    /* p[1] stays open, close-on-exec, until faultstack ends */
}

void fs_stop_install(void)
{
    static int once;
    if (!once++ && !getenv("FAULTSTACK_NO_WATCHDOG"))
        fs_watchdog_start();
    if (fs_stop_pipe[0] < 0 && pipe2(fs_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        fs_stop_pipe[0] = fs_stop_pipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fs_on_stop;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* our children's parent, for PR_SET_PDEATHSIG and for orphans */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int fs_stop_fd(void)
{
    return fs_stop_pipe[0];
}

/* ---------------- processes ---------------- */

unsigned long long fs_proc_start(pid_t pid, char *state, pid_t *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');             /* the command name may hold spaces */
    if (!p)
        return 0;
    char st = 0;
    int pp = 0;
    unsigned long long start = 0;
    if (sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &st, &pp, &start) != 3)
        return 0;
    if (state) *state = st;
    if (ppid) *ppid = pp;
    return start ? start : 1;
}

/* Does process pid's environment (as it was exec'd: forked children share
 * it) set FAULTSTACK_RUN_DIR to dir or to a directory below it? */
static int fs_proc_in_dir(pid_t pid, const char *dir)
{
    char path[64], want[PATH_MAX + 32];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t n;
    while (buf && len < cap && (n = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (!buf)
        return 0;
    buf[len] = '\0';
    int wl = snprintf(want, sizeof want, "FAULTSTACK_RUN_DIR=%s", dir);
    int hit = 0;
    for (size_t i = 0; i < len && !hit; i += strlen(buf + i) + 1)
        hit = !strncmp(buf + i, want, (size_t)wl) && (buf[i + wl] == '\0' || buf[i + wl] == '/');
    free(buf);
    return hit;
}

/* The targets some thread waits for with waitpid(pid): never reaped here. */
static pthread_mutex_t fs_targets_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t fs_targets[256];

void fs_targets_lock(void) { pthread_mutex_lock(&fs_targets_mu); }
void fs_targets_unlock(void) { pthread_mutex_unlock(&fs_targets_mu); }

/* Caller holds the lock. */
void fs_target_add(pid_t pid)
{
    for (size_t i = 0; i < sizeof fs_targets / sizeof *fs_targets; i++)
        if (!fs_targets[i]) {
            fs_targets[i] = pid;
            return;
        }
}

void fs_target_done(pid_t pid)
{
    pthread_mutex_lock(&fs_targets_mu);
    for (size_t i = 0; i < sizeof fs_targets / sizeof *fs_targets; i++)
        if (fs_targets[i] == pid)
            fs_targets[i] = 0;
    pthread_mutex_unlock(&fs_targets_mu);
}

static int fs_is_target(pid_t pid)
{
    for (size_t i = 0; i < sizeof fs_targets / sizeof *fs_targets; i++)
        if (fs_targets[i] == pid)
            return 1;
    return 0;
}

/* Our children that are not targets being waited for and whose run directory
 * is dir (NULL: any). Zombies among them (and any zombie not a target) are
 * reaped. Returns how many live ones were put in out (at most max). */
static int fs_orphans(const char *dir, pid_t *out, int max)
{
    int n = 0;
    /* no child at all (the common case with one run at a time): no scan */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t me = getpid();
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(de->d_name), ppid = 0;
        char st = 0;
        if (!fs_proc_start(pid, &st, &ppid) || ppid != me)
            continue;
        pthread_mutex_lock(&fs_targets_mu);
        int target = fs_is_target(pid);
        if (!target && (st == 'Z' || st == 'X'))
            waitpid(pid, NULL, WNOHANG);     /* an orphan that ended: its status is no one's */
        pthread_mutex_unlock(&fs_targets_mu);
        if (target || st == 'Z' || st == 'X')
            continue;
        if (!dir || fs_proc_in_dir(pid, dir))
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

int fs_may_have_orphans(const char *dir, pid_t pgid)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/forked", dir);
    if (access(path, F_OK) == 0 || kill(-pgid, 0) == 0)
        return 1;                            /* a process forked, or the group lives on */
    DIR *d = opendir(dir);
    int recs = 0;
    struct dirent *de;
    while (d && recs < 2 && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        recs += l > 4 && !strcmp(de->d_name + l - 4, ".rec");
    }
    if (d)
        closedir(d);
    return recs > 1;                         /* another process image (posix_spawn) */
}

static void fs_kill_tree_of(pid_t pid, int sig)
{
    if (getpgid(pid) == pid)
        kill(-pid, sig);                     /* a group leader (setsid, setpgid): its group */
    kill(pid, sig);
}

int fs_wait_orphans(const char *dir, int64_t deadline_ms, int *timed_out)
{
    int waited = 0, sent = 0;
    int64_t kill_at = 0;
    for (;;) {
        pid_t o[64];
        int n = fs_orphans(dir, o, 64);
        if (!n)
            return waited;
        waited = 1;
        int64_t now = fs_now_ms();
        if (fs_stop_count || (deadline_ms && now >= deadline_ms)) {
            if (!fs_stop_count && timed_out)
                *timed_out = 1;
            if (!sent || now >= kill_at || fs_stop_count >= 2) {
                int sig = sent || fs_stop_count >= 2 ? SIGKILL : SIGTERM;
                for (int i = 0; i < n; i++)
                    fs_kill_tree_of(o[i], sig);
                if (!sent)
                    kill_at = now + 1000;     /* SIGKILL 1 s later */
                else if (now > kill_at + 5000)
                    return waited;            /* unkillable (D state): give up */
                sent = 1;
            }
        }
        if (fs_stop_count || fs_stop_fd() < 0) {
            usleep(10000);
        } else {
            struct pollfd pf = { fs_stop_fd(), POLLIN, 0 };
            poll(&pf, 1, 10);
        }
    }
}

void fs_kill_orphans(const char *dir)
{
    for (int round = 0; round < 200; round++) {
        pid_t o[64];
        int n = fs_orphans(dir, o, 64);
        if (!n)
            return;
        for (int i = 0; i < n; i++)
            fs_kill_tree_of(o[i], SIGKILL);
        usleep(5000);
    }
}

/* ---------------- stale run directories ---------------- */

/* Kill what still runs in run directory dir (not our children: found in all
 * of /proc), then remove it (or the skip file). */
static void fs_end_dir(const char *dir)
{
    for (int round = 0; round < 3; round++) {  /* a process may fork while we kill */
        int hit = 0;
        DIR *pd = opendir("/proc");
        struct dirent *pe;
        while (pd && (pe = readdir(pd)))
            if (pe->d_name[0] >= '1' && pe->d_name[0] <= '9' && fs_proc_in_dir((pid_t)atoi(pe->d_name), dir)) {
                kill((pid_t)atoi(pe->d_name), SIGKILL);
                hit = 1;
            }
        if (pd)
            closedir(pd);
        if (!hit)
            break;
        usleep(20000);
    }
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        fs_rm_rf(dir);
    else
        unlink(dir);
}

/* The watchdog's job: end every run directory of base whose name starts with prefix. */
static void fs_clean_owned(const char *base, const char *prefix)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *de;
    size_t pl = strlen(prefix);
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, prefix, pl)) {
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s/%s", base, de->d_name);
            fs_end_dir(dir);
        }
    closedir(d);
}

void fs_clean_stale(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *de;
    int removed = 0;
    while ((de = readdir(d))) {
        int pid = 0, pos = 0;
        unsigned long long start = 0;
        if (strncmp(de->d_name, "faultstack-", 11) ||
            (sscanf(de->d_name, "faultstack-run-%d.%llu-%n", &pid, &start, &pos) != 2 &&
             sscanf(de->d_name, "faultstack-skip-%d.%llu-%n", &pid, &start, &pos) != 2) || !pos || pid <= 0)
            continue;
        if (pid == getpid() || fs_proc_start(pid, NULL, NULL) == start)
            continue;                         /* its faultstack still runs */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", base, de->d_name);
        fs_end_dir(dir);
        removed++;
    }
    closedir(d);
    if (removed)
        fprintf(stderr, "faultstack: removed %d run director%s left in %s by a faultstack that was killed\n",
                removed, removed == 1 ? "y" : "ies", base);
}
