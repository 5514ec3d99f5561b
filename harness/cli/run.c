/* run.c — `faultstack run`: run the target once under the preload and record it.
 *
 * The target runs in its own process group with LD_PRELOAD and FAULTSTACK_*
 * set, its stderr passed through a pipe (so the supervisor knows whether it
 * reported anything, for the "swallowed" outcome). On --timeout the whole group
 * gets SIGTERM, then SIGKILL. The records go into the database in one
 * transaction; if that fails the run directory is kept and named. */
#define _GNU_SOURCE
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "ingest.h"
#include "plan.h"
#include "sanitizer.h"
#include "valgrind.h"
#include "verdict.h"

#define FS_RUN_MAX_POINTS "5000"   /* fault-point rows of a plain run (fault_sites has the rest) */

int64_t fs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fs_resolve_program(const char *prog, char *out, size_t len, char *err, size_t errlen)
{
    struct stat sb;
    if (strchr(prog, '/')) {
        if (stat(prog, &sb) != 0) {
            snprintf(err, errlen, "cannot run '%s': %s; check the path", prog, strerror(errno));
            return -1;
        }
        if (!S_ISREG(sb.st_mode) || access(prog, X_OK) != 0) {
            snprintf(err, errlen, "cannot run '%s': %s; it must be an executable file (chmod +x?)", prog,
                     S_ISREG(sb.st_mode) ? "permission denied" : "not a regular file");
            return -1;
        }
        snprintf(out, len, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        snprintf(out, len, "%.*s/%s", (int)dl, dl ? p : ".", prog);
        if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
            return 0;
        p += dl + (e ? 1 : 0);
        if (!e) break;
    }
    snprintf(err, errlen, "cannot run '%s': not found on PATH; give its path (./%s) or install it", prog, prog);
    return -1;
}

/* Remove a run directory: its files and its fork-mode child directories. */
void fs_rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            if (unlinkat(dirfd(d), de->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM)) {
                char sub[PATH_MAX];
                snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
                fs_rm_rf(sub);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Where run directories go: $FAULTSTACK_TMPDIR, else /dev/shm (tmpfs: a sweep
 * creates and removes thousands of small files, and on ext4 the inode
 * allocator's search made that cost more than the runs; measured in
 * bench/RESULTS.md), else $TMPDIR, else /tmp. */
const char *fs_run_base(void)
{
    const char *e = getenv("FAULTSTACK_TMPDIR");
    if (e && *e)
        return e;
    struct stat sb;
    if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    e = getenv("TMPDIR");
    return e && *e ? e : "/tmp";
}

/* A run directory's name holds its supervisor's pid and start time
 * (faultstack-run-PID.START-XXXXXX): the next faultstack removes those whose
 * supervisor is gone (killed with SIGKILL, or by the OOM killer). */
int fs_mk_run_dir(char *out, char *err, size_t errlen)
{
    const char *base = fs_run_base();
    snprintf(out, PATH_MAX, "%s/faultstack-run-%d.%llu-XXXXXX", base, (int)getpid(),
             fs_proc_start(getpid(), NULL, NULL));
    if (mkdtemp(out))
        return 0;
    snprintf(err, errlen, "cannot create a run directory in %s: %s; set FAULTSTACK_TMPDIR to a writable "
             "directory", base, strerror(errno));
    return -1;
}

/* Lost to a full filesystem? The run's shared page could not be allocated
 * (its file is shorter than a page: the preload counted on a private one) or
 * a record file lacks its closing 'done' line although the run was not
 * killed, and the run directory's filesystem has less than 1 MiB left. */
int fs_run_dir_full(const char *dir, int killed, char *why, size_t len)
{
    char path[PATH_MAX + 300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/shared", dir);
    int lost = stat(path, &sb) == 0 && sb.st_size < 4096;
    DIR *d = lost || killed ? NULL : opendir(dir);
    struct dirent *de;
    while (d && !lost && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        char tail[8] = "";
        if (fd >= 0) {
            off_t end = lseek(fd, 0, SEEK_END);
            if (end < 5 || pread(fd, tail, 5, end - 5) != 5)
                tail[0] = '\0';
            close(fd);
        }
        lost = memcmp(tail, "done\n", 5) != 0;
    }
    if (d)
        closedir(d);
    struct statvfs vf;
    if (!lost || statvfs(dir, &vf) != 0)
        return 0;
    unsigned long long room = (unsigned long long)vf.f_bavail * vf.f_frsize;
    if (room >= 1024 * 1024 && vf.f_favail > 16)
        return 0;
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", dir);
    char *sl = strrchr(base, '/');
    if (sl && sl != base) *sl = '\0';
    snprintf(why, len, "the filesystem of the run directories (%s: %llu KiB, %llu inodes free) is full, so the "
             "preload could not write what the run did; free space there or set FAULTSTACK_TMPDIR to a "
             "directory on a filesystem with room", base, room / 1024, (unsigned long long)vf.f_favail);
    return 1;
}

/* A run directory kept on purpose (its records could not be recorded) is
 * moved out of the way of the cleanup (the watchdog, the next faultstack):
 * BASE/faultstack-kept-PID-MS-NAME. dir is updated (PATH_MAX). */
void fs_keep_run_dir(char *dir)
{
    const char *sl = strrchr(dir, '/');
    char to[PATH_MAX];
    snprintf(to, sizeof to, "%s/faultstack-kept-%d-%lld-%s", fs_run_base(), (int)getpid(), (long long)fs_now_ms(),
             sl ? sl + 1 : dir);
    if (rename(dir, to) == 0)
        snprintf(dir, PATH_MAX, "%s", to);
}

extern char **environ;

/* The fds faultstack itself was started with (a caller may hand some to the
 * target on purpose); any other fd of ours is closed in the target: libraries
 * we use open some without O_CLOEXEC (the debuginfod client in libdw opens
 * sockets), and the target must not see them. */
#define FS_FD_MAX 4096
static unsigned char fs_fd_given[FS_FD_MAX / 8];
static int fs_fd_noted;

void fs_note_inherited_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd != dirfd(d) && fd < FS_FD_MAX)
            fs_fd_given[fd / 8] |= (unsigned char)(1u << (fd % 8));
    }
    closedir(d);
    fs_fd_noted = 1;
}

/* Before fork: close-on-exec every fd opened since start-up. */
static void fs_cloexec_ours(void)
{
    if (!fs_fd_noted)
        return;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        int fd = atoi(de->d_name);
        if (fd <= 2 || fd == dirfd(d) || (fd < FS_FD_MAX && (fs_fd_given[fd / 8] & (1u << (fd % 8)))))
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
    closedir(d);
}

/* The target's environment, built before fork (a threaded supervisor must
 * not allocate between fork and exec). Slot *pid_slot (if asked) receives
 * FAULTSTACK_FORK_PID=<pid> in the child. Free with free(). */
static char **fs_build_env(const struct fs_spawn *sp, char **pid_slot)
{
    size_t n = 0, extra = 0;
    while (environ[n]) n++;
    while (sp->extra_env && sp->extra_env[extra]) extra++;
    size_t cap = n + extra + 12;
    char **env = calloc(cap, sizeof *env);
    const char *oldp = getenv("LD_PRELOAD");
    size_t san = fs_sanitizer_env_size(sp->run_dir);
    size_t need = strlen(sp->preload) + (oldp ? strlen(oldp) : 0) + strlen(sp->run_dir) +
                  (sp->plan_text ? strlen(sp->plan_text) : 0) + (sp->stack_sites ? strlen(sp->stack_sites) : 0) + 256 +
                  san;
    char *buf = malloc(need);
    if (!env || !buf) {
        free(env); free(buf);
        return NULL;
    }
    size_t k = 0;
    env[k++] = buf;                       /* the block owner, hidden at index 0 */
    char *w = buf;
    const char *old = getenv("LD_PRELOAD");
    env[k++] = w;
    w += sprintf(w, "LD_PRELOAD=%s%s%s", sp->preload, old && *old ? ":" : "", old && *old ? old : "") + 1;
    env[k++] = w;
    w += sprintf(w, "FAULTSTACK_RUN_DIR=%s", sp->run_dir) + 1;
    if (sp->plan_text && *sp->plan_text) {
        env[k++] = w;
        w += sprintf(w, "FAULTSTACK_PLAN=%s", sp->plan_text) + 1;
    }
    if (sp->stack_sites && *sp->stack_sites) {
        env[k++] = w;
        w += sprintf(w, "FAULTSTACK_STACK_SITES=%s", sp->stack_sites) + 1;
    }
    if (pid_slot) {
        env[k++] = w;
        *pid_slot = w;
        w += sprintf(w, "FAULTSTACK_FORK_PID=%-20d", 0) + 1;
    }
    if (fs_sanitizer_env(sp->run_dir, w, san, env, &k) == 0)   /* ASAN_OPTIONS &c. (sanitizer.c) */
        w += san;
    for (size_t i = 0; i < extra; i++)
        env[k++] = sp->extra_env[i];
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (!strncmp(e, "LD_PRELOAD=", 11) || !strncmp(e, "FAULTSTACK_RUN_DIR=", 19) ||
            !strncmp(e, "FAULTSTACK_PLAN=", 16) || !strncmp(e, "FAULTSTACK_STACK_SITES=", 23) ||
            !strncmp(e, "FAULTSTACK_FORK", 15) || fs_sanitizer_env_name(e))
            continue;
        env[k++] = (char *)e;
    }
    env[k] = NULL;
    return env;
}

pid_t fs_spawn_start(const struct fs_spawn *sp, int *errfd, char *err, size_t errlen)
{
    int errpipe[2];
    char *pid_slot = NULL;
    char **env = fs_build_env(sp, sp->fork_pid_env ? &pid_slot : NULL);
    if (!env) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        free(env[0]); free(env);
        return -1;
    }
    fs_cloexec_ours();
    int devnull = sp->quiet ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    int in = sp->stdin_path ? open(sp->stdin_path, O_RDONLY | O_CLOEXEC) : -1;
    if (sp->stdin_path && in < 0) {
        snprintf(err, errlen, "cannot open --stdin file '%s': %s; give a readable file", sp->stdin_path,
                 strerror(errno));
        close(errpipe[0]); close(errpipe[1]);
        if (devnull >= 0) close(devnull);
        free(env[0]); free(env);
        return -1;
    }
    pid_t parent = getpid();
    fs_targets_lock();                       /* no orphan reaping takes it before it is listed */
    pid_t pid = fork();
    if (pid > 0)
        fs_target_add(pid);
    fs_targets_unlock();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        close(errpipe[0]); close(errpipe[1]);
        if (devnull >= 0) close(devnull);
        if (in >= 0) close(in);
        free(env[0]); free(env);
        return -1;
    }
    if (pid == 0) {
        /* ends with faultstack, however faultstack ends (kept across execve) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        dup2(errpipe[1], 2);
        if (in >= 0)
            dup2(in, 0);
        else if (devnull >= 0)
            dup2(devnull, 0);
        if (devnull >= 0)
            dup2(devnull, 1);
        if (pid_slot) {                      /* no allocation after fork */
            char num[24];
            int len = snprintf(num, sizeof num, "%d", (int)getpid());
            memcpy(pid_slot + 20, num, (size_t)len);
            pid_slot[20 + len] = '\0';
        }
        signal(SIGPIPE, SIG_DFL);
        sigset_t chld;                       /* a fork-mode sweep blocks it for its signalfd */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        execve(sp->program, sp->argv, env + 1);
        dprintf(2, "faultstack: cannot run '%s': %s\n", sp->program, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(errpipe[1]);
    if (devnull >= 0) close(devnull);
    if (in >= 0) close(in);
    free(env[0]);
    free(env);
    fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
    *errfd = errpipe[0];
    return pid;
}

int fs_spawn_drain(const struct fs_spawn *sp, int errfd, struct fs_outcome *oc)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(errfd, buf, sizeof buf);
        if (n > 0) {
            oc->stderr_bytes += n;
            if (sp->quiet != 1 && write(2, buf, (size_t)n) < 0) { /* our stderr is gone: keep going */ }
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 1 : 0;
    }
}

void fs_outcome_status(struct fs_outcome *oc, int status)
{
    oc->exit_code = 0;
    oc->signal = 0;
    if (WIFEXITED(status)) {
        oc->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        oc->exit_code = -1;
        oc->signal = WTERMSIG(status);
    }
}

int fs_spawn_and_wait(const struct fs_spawn *sp, struct fs_outcome *oc, char *err, size_t errlen)
{
    memset(oc, 0, sizeof oc[0]);
    int errfd;
    int64_t t0 = fs_now_ms();
    pid_t pid = fs_spawn_start(sp, &errfd, err, errlen);
    if (pid < 0)
        return -1;
    oc->pid = pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int status = 0, exited = 0, eof = 0, killed = 0, stopped = 0;
    int64_t deadline = sp->timeout_ms > 0 ? t0 + sp->timeout_ms : 0, run_deadline = deadline;
    int64_t grace = 0, stop_kill_at = 0;
    while (!exited || !eof) {
        struct pollfd pf[3];
        int np = 0;
        if (!eof) { pf[np].fd = errfd; pf[np].events = POLLIN; pf[np].revents = 0; np++; }
        if (!exited && pidfd >= 0) { pf[np].fd = pidfd; pf[np].events = POLLIN; pf[np].revents = 0; np++; }
        if (!fs_stop_count && fs_stop_fd() >= 0) {
            pf[np].fd = fs_stop_fd(); pf[np].events = POLLIN; pf[np].revents = 0; np++;
        }
        if (fs_stop_count && !stopped) {     /* faultstack is asked to stop: so is the target */
            oc->interrupted = 1;
            kill(-pid, fs_stop_count >= 2 ? SIGKILL : SIGTERM);
            stopped = 1;
            stop_kill_at = fs_now_ms() + 1000;
        }
        if (stopped && !exited && (fs_stop_count >= 2 || fs_now_ms() >= stop_kill_at))
            kill(-pid, SIGKILL);
        if (stopped && exited)
            eof = 1;
        if (exited && eof)
            break;
        int64_t now = fs_now_ms();
        int wait_ms = pidfd >= 0 ? 1000 : 10;
        if (deadline && deadline - now < wait_ms) wait_ms = deadline > now ? (int)(deadline - now) : 0;
        if (grace && grace - now < wait_ms) wait_ms = grace > now ? (int)(grace - now) : 0;
        if (np)
            poll(pf, (nfds_t)np, wait_ms);
        else
            usleep((useconds_t)wait_ms * 1000);
        if (!eof && fs_spawn_drain(sp, errfd, oc) == 0)
            eof = 1;
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            fs_target_done(pid);
        }
        now = fs_now_ms();
        if (exited && !eof && !killed) {
            /* the target is gone but something it started keeps stderr open:
             * give it a moment, then stop reading */
            if (!grace) grace = now + 2000;
            if (now >= grace) eof = 1;
        }
        if (deadline && now >= deadline && killed < 2) {
            oc->timed_out = 1;
            kill(-pid, killed == 0 ? SIGTERM : SIGKILL);
            killed++;
            deadline = now + 2000;           /* SIGKILL after 2 s more */
        }
        if (exited && killed)
            eof = 1;
    }
    if (pidfd >= 0)
        close(pidfd);
    close(errfd);
    if (killed || stopped)
        kill(-pid, SIGKILL);                 /* whatever of the group is left */
    /* processes of the run whose parent ended (a daemon: double fork, setsid)
     * are ours now: their records count, so the run ends when they do (or at
     * its deadline, or when faultstack is stopped) */
    if (fs_may_have_orphans(sp->run_dir, pid))
        fs_wait_orphans(sp->run_dir, killed ? fs_now_ms() : run_deadline, &oc->timed_out);
    oc->duration_ms = fs_now_ms() - t0;
    fs_outcome_status(oc, status);
    return 0;
}

static void fs_print_summary(const struct fs_run_result *r, const struct fs_outcome *oc, const char *db)
{
    fprintf(stderr, "faultstack: run %lld: ", (long long)r->run_id);
    if (oc->timed_out)
        fprintf(stderr, "timed out after %lld ms", (long long)oc->duration_ms);
    else if (oc->signal)
        fprintf(stderr, "killed by signal %d (%s)", oc->signal, strsignal(oc->signal));
    else
        fprintf(stderr, "exit %d", oc->exit_code);
    if (r->processes == 0)
        fprintf(stderr, ", no process observed (no record: fault points unknown)\n");
    else
        fprintf(stderr, ", %lld fault points, %lld injected%s, %d process%s\n", (long long)r->points_total,
                (long long)r->injected, r->swallowed ? " (swallowed: exit 0 and nothing reported)" : "",
                r->processes, r->processes == 1 ? "" : "es");
    fprintf(stderr, "faultstack: %d leak%s, %d anomal%s, %d crash%s%s; %d held at exit (not findings)\n",
            r->leaks, r->leaks == 1 ? "" : "s", r->anomalies, r->anomalies == 1 ? "y" : "ies",
            r->crashes, r->crashes == 1 ? "" : "es", r->timeouts ? ", timeout" : "", r->held);
    if (r->incomplete)
        fprintf(stderr, "faultstack: warning: %d process record%s incomplete (killed, or disk full)\n",
                r->incomplete, r->incomplete == 1 ? "" : "s");
    if (r->memcheck_files == 0)
        fprintf(stderr, "faultstack: warning: memcheck wrote no report: valgrind could not run the program "
                        "(try: valgrind PROGRAM ARGS... by hand)\n");
    else if (r->memcheck_files > 0)
        fprintf(stderr, "faultstack: memcheck: %d memory error%s in the program, %d loss record%s definitely/"
                "indirectly lost, %d fd%s open at exit (%d report%s; compare: SELECT * FROM memcheck_vs_faultstack)\n",
                r->memcheck_errors, r->memcheck_errors == 1 ? "" : "s", r->memcheck_lost,
                r->memcheck_lost == 1 ? "" : "s", r->memcheck_fds, r->memcheck_fds == 1 ? "" : "s",
                r->memcheck_files, r->memcheck_files == 1 ? "" : "s");
    if (r->findings)
        fprintf(stderr, "faultstack: %d finding%s; see: faultstack report --db %s\n", r->findings,
                r->findings == 1 ? "" : "s", db);
}

static void fs_run_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack run [--db FILE] [--fail SPEC] [--timeout S] [--stdin FILE] [--valgrind]\n"
        "                      [--protocol SPEC]... [--suppressions FILE]... [--scope MODULES]\n"
        "                      -- PROGRAM [ARGS...]\n"
        "  Run PROGRAM once under the preload and record its fault points, leaks,\n"
        "  anomalies and crashes into the database.\n"
        "  --db FILE       report database (default ./faultstack.db)\n"
        "  --fail SPEC     which fault point fails, e.g. nth=3, only=open,nth=2,\n"
        "                  site=malloc@prog+0x1234#2, random:p=0.1,seed=7, persistent, internal,\n"
        "                  errno=EIO, module=NAME (see `faultstack --help`; names: `faultstack functions`)\n"
        "  --timeout S     kill the target's process group after S seconds (default 300;\n"
        "                  0.001 to 604800)\n"
        "  --stdin FILE    the program reads FILE on stdin (default: faultstack's stdin)\n"
        "  --protocol SPEC also check your library's protocols described in SPEC (repeatable;\n"
        "                  see `faultstack protocol --help`)\n"
        "  --suppressions FILE  findings a rule of FILE accepts are marked suppressed and not\n"
        "                  counted (repeatable; format: docs/suppressions.md)\n"
        "  --scope MODULES judge only these modules (comma-separated basenames or globs, e.g.\n"
        "                  libjson-c.so): findings elsewhere are marked out-of-scope, not counted\n"
        "  --valgrind      also run it under valgrind's memcheck (one XML report per process):\n"
        "                  memcheck's leaks, fds open at exit and memory errors are stored with the\n"
        "                  run (views memcheck, memcheck_vs_faultstack); memory errors are findings\n"
        "                  of category 'memcheck'. Needs valgrind >= 3.15 (apt-get install valgrind)\n"
        "  ^C, SIGTERM, SIGHUP: the program's processes are killed (a second signal: at\n"
        "  once) and nothing is recorded (exit 2). Processes the program detached (a\n"
        "  daemon) are waited for until --timeout and recorded.\n"
        "exit status: 0 nothing found (and the program was observed), 1 findings,\n"
        "2 usage or tool error, interrupted, or nothing observed: the preload could not\n"
        "enter the program (statically linked, set-user-ID, another architecture), or its\n"
        "records were cut short by a full disk (NOT FULLY RECORDED; the message says)\n");
}

int fs_cmd_run(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *spec = NULL, *stdin_path = NULL;
    int64_t timeout_ms = 300 * 1000;
    char err[2048];
    int i = 1, valgrind = 0;
    static struct fs_judge judge;             /* --suppressions, --scope (alive until exit) */
    fs_verdict_use(&judge);
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fs_run_usage(stdout); return 0; }
        if (a[0] != '-')
            break;                            /* the program (without --) */
        static const char *const opts[] = { "--db", "--fail", "--timeout", "--stdin", "--protocol",
                                            "--suppressions", "--scope", NULL };
        const char *val = NULL;
        int o = 0;
        if (strcmp(a, "--valgrind") == 0) { valgrind = 1; continue; }
        for (; opts[o]; o++) {
            size_t l = strlen(opts[o]);
            if (!strncmp(a, opts[o], l) && (a[l] == '=' || a[l] == '\0'))
                break;
        }
        if (!opts[o]) {
            fprintf(stderr, "faultstack run: unknown option '%s'\n", a);
            fs_run_usage(stderr);
            return 2;
        }
        size_t l = strlen(opts[o]);
        if (a[l] == '=') {
            val = a + l + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "faultstack run: %s needs a value\n", a);
            fs_run_usage(stderr);
            return 2;
        }
        switch (o) {
        case 0: db_path = val; break;
        case 1: spec = val; break;
        case 2:
            if (fs_parse_timeout(val, &timeout_ms, err, sizeof err) != 0) {
                fprintf(stderr, "faultstack run: %s\n", err);
                return 2;
            }
            break;
        case 3:
            if (access(val, R_OK) != 0) {
                fprintf(stderr, "faultstack run: cannot read --stdin file '%s': %s; give a readable file\n",
                        val, strerror(errno));
                return 2;
            }
            stdin_path = val;
            break;
        case 4:
            if (fs_protocol_load(val, err, sizeof err) != 0) {
                fprintf(stderr, "faultstack run: %s\n", err);
                return 2;
            }
            break;
        case 5:
        case 6:                               /* verdict.c: triage of the findings */
            if (fs_judge_option(&judge, "run", opts[o], val) < 0)
                return 2;
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "faultstack run: no program given\n");
        fs_run_usage(stderr);
        return 2;
    }
    struct fs_plan plan;
    if (fs_plan_parse(spec, &plan, err, sizeof err) != 0 || fs_plan_check_funcs(&plan, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    char prog[PATH_MAX];
    if (fs_resolve_program(argv[i], prog, sizeof prog, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    struct fs_vg vg;
    if (valgrind && (fs_sanitizer_no_valgrind(prog, err, sizeof err) != 0 || fs_vg_find(&vg, err, sizeof err) != 0)) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    fs_stop_install();
    fs_clean_stale(fs_run_base());
    sqlite3 *db = fs_db_open(db_path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    int rc = fs_run_once_vg(db, db_path, "run", -1, &plan, prog, argv + i, timeout_ms, stdin_path,
                            valgrind ? &vg : NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Leaks found: run again with stack capture for just the leaking sites (a full
 * stack on every call would cost ~3 us each) and store them in resource.stack. */
int fs_confirm_stacks(sqlite3 *db, int64_t run_id, const struct fs_spawn *tmpl, int verbose)
{
    char sites[8192], err[1024], dir[PATH_MAX];
    if (fs_leak_sites(db, run_id, sites, sizeof sites) <= 0)
        return 0;
    if (fs_mk_run_dir(dir, err, sizeof err) != 0)
        return -1;
    struct fs_spawn sp = *tmpl;
    sp.run_dir = dir;
    sp.stack_sites = sites;
    sp.quiet = 1;                            /* the target's output was shown once already */
    struct fs_outcome oc;
    int n = -1;
    if (fs_spawn_and_wait(&sp, &oc, err, sizeof err) == 0 && !oc.interrupted) {
        n = fs_ingest_stacks(db, run_id, dir, err, sizeof err);
        if (verbose && n > 0)
            fprintf(stderr, "faultstack: confirmation run: acquire stacks of %d leak%s stored (leaks.stack)\n",
                    n, n == 1 ? "" : "s");
        else if (verbose)
            fprintf(stderr, "faultstack: confirmation run did not reproduce the leaks (nondeterministic program?)\n");
    }
    fs_rm_rf(dir);
    return n;
}

int fs_run_once(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                const struct fs_plan *plan, const char *prog, char **argv,
                int64_t timeout_ms, const char *stdin_path, struct fs_run_result *out)
{
    return fs_run_once_vg(db, db_path, kind, session_id, plan, prog, argv, timeout_ms, stdin_path, NULL, out);
}

int fs_run_once_vg(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                   const struct fs_plan *plan, const char *prog, char **argv,
                   int64_t timeout_ms, const char *stdin_path, const struct fs_vg *vg,
                   struct fs_run_result *out)
{
    char err[2048], plan_text[2048] = "", preload[PATH_MAX];
    if (fs_find_preload(preload, sizeof preload) != 0) {
        fprintf(stderr, "faultstack: cannot find libfaultstack-preload.so next to the faultstack "
                        "binary (" FS_PRELOAD_RELDIR "/, or ../lib/ in a build tree); set FAULTSTACK_PRELOAD to its path\n");
        return 2;
    }
    int baseline = plan->trigger == FS_PLAN_NONE;
    fs_plan_format(plan, plan_text, sizeof plan_text);
    if (session_id < 0) {
        session_id = fs_session_new(db, kind, argv, err, sizeof err);
        if (session_id < 0) {
            fprintf(stderr, "faultstack: %s\n", err);
            return 2;
        }
    }
    char dir[PATH_MAX];
    if (fs_mk_run_dir(dir, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack: %s\n", err);
        return 2;
    }
    char why[1024];
    int can = fs_interposable(prog, why, sizeof why);
    fs_sanitizer_warn(prog);
    if (can == 0)
        fprintf(stderr, "faultstack: warning: the preload cannot enter %s; it runs unobserved, to record its "
                        "exit status (why: below, when it ends)\n", prog);
    struct fs_spawn sp = { prog, argv, preload, dir, plan_text, timeout_ms, NULL, 0, NULL, 0, stdin_path };
    struct fs_spawn run_sp = sp;             /* sp stays the plain template (confirmation run) */
    char *callers_env[] = { "FAULTSTACK_CALLERS=1", NULL };
    /* A plain `faultstack run` (nothing to fail): its first 5,000 fault points
     * as rows, every site with its count (fault_sites) — not 200,000 rows
     * (16 MB for a malloc loop, and half its time: bench/RESULTS.md, issue 11).
     * FAULTSTACK_MAX_POINTS in faultstack's environment overrides it. */
    char *points_env[] = { "FAULTSTACK_MAX_POINTS=" FS_RUN_MAX_POINTS, NULL };
    if (!baseline)
        run_sp.extra_env = callers_env;      /* the fault's callers (run.fault_callers, verdict.c) */
    else if (!strcmp(kind, "run") && !getenv("FAULTSTACK_MAX_POINTS"))
        run_sp.extra_env = points_env;
    char **vargv = NULL, *venv[8], venv_buf[PATH_MAX + 128];
    if (vg) {
        /* the launcher runs the target; memcheck writes memcheck.PID.xml/.log into dir */
        vargv = fs_vg_argv(vg, dir, prog, argv);
        if (!vargv) {
            fprintf(stderr, "faultstack: out of memory\n");
            fs_rm_rf(dir);
            return 2;
        }
        fs_vg_env(vg, venv, 8, venv_buf, sizeof venv_buf);
        run_sp.program = vg->launcher;
        run_sp.argv = vargv;
        run_sp.extra_env = venv;
    }
    struct fs_outcome oc;
    int spawned = fs_spawn_and_wait(&run_sp, &oc, err, sizeof err);
    free(vargv);
    if (spawned != 0) {
        fprintf(stderr, "faultstack: %s\n", err);
        fs_rm_rf(dir);
        return 2;
    }
    if (oc.interrupted) {
        fprintf(stderr, "faultstack: interrupted (%s): the program's processes were killed; run not recorded\n",
                strsignal(fs_interrupted));
        fs_rm_rf(dir);
        return 2;
    }
    char lost_why[1024];
    int lost = fs_run_dir_full(dir, oc.timed_out || oc.signal, lost_why, sizeof lost_why);
    struct fs_run_info info;
    memset(&info, 0, sizeof info);
    info.session_id = session_id;
    info.run_dir = dir;
    info.db_path = db_path;
    info.argv = argv;
    info.plan = plan;
    info.fault_spec = baseline ? NULL : plan_text;
    info.mode = "exec";
    info.exit_code = oc.exit_code;
    info.signal = oc.signal;
    info.timed_out = oc.timed_out;
    info.stderr_bytes = oc.stderr_bytes;
    info.duration_ms = oc.duration_ms;
    info.timeout_ms = timeout_ms;
    info.stdin_path = stdin_path;
    info.valgrind = vg;
    struct fs_run_result res;
    if (fs_ingest_run(db, &info, &res, err, sizeof err) != 0) {
        fs_keep_run_dir(dir);
        fprintf(stderr, "faultstack: could not record the run: %s\n"
                        "faultstack: its raw records are kept in %s; nothing recorded before was lost\n",
                err, dir);
        return 2;
    }
    fs_rm_rf(dir);
    char msg[4096];
    if (can != 0 && oc.timed_out)
        snprintf(why, sizeof why, "it was killed (--timeout) before the preload had started in it; raise --timeout");
    else if (can != 0 && oc.exit_code == 127 && !oc.signal)
        snprintf(why, sizeof why, "it wrote no record and exited 127: it did not start (see the message above)");
    else if (can != 0 && res.version_bad)
        fs_version_why(res.version_bad, why, sizeof why);
    int unobserved = lost ? 3 : fs_check_observed(db, res.run_id, oc.pid, prog,
                                       can == 0 || oc.timed_out || (oc.exit_code == 127 && !oc.signal) ||
                                       res.version_bad ? why : NULL,
                                       msg, sizeof msg);
    if (lost) {
        /* records cut short: what the run did is not known (points_total
         * NULL, like a run not observed), never clean */
        sqlite3_stmt *up = NULL;
        if (sqlite3_prepare_v2(db, "UPDATE run SET points_total = NULL, observed = 2, note = ?2 WHERE id = ?1", -1,
                               &up, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(up, 1, res.run_id);
            sqlite3_bind_text(up, 2, lost_why, -1, SQLITE_STATIC);
            sqlite3_step(up);
        }
        sqlite3_finalize(up);
        snprintf(msg, sizeof msg, "%s", lost_why);
        unobserved = 3;
    } else if (res.unread && unobserved == 0) {
        /* ingest.c marked it (observed = 2): lines it could not read */
        snprintf(msg, sizeof msg, "%lld record line%s too long to read", (long long)res.unread,
                 res.unread == 1 ? " was" : "s were");
        unobserved = 3;
    }
    fs_print_summary(&res, &oc, db_path);
    fs_sanitizer_summary(db, res.run_id, db_path);
    if (unobserved == 2)
        fprintf(stderr, "faultstack: run %lld NOT OBSERVED, nothing was tested: %s\n", (long long)res.run_id, msg);
    else if (unobserved == 1)
        fprintf(stderr, "faultstack: run %lld only PARTLY OBSERVED: %s; what ran there was not tested\n",
                (long long)res.run_id, msg);
    else if (unobserved == 3)
        fprintf(stderr, "faultstack: run %lld NOT FULLY RECORDED: %s; it is not reported clean\n",
                (long long)res.run_id, msg);
    else if (unobserved < 0)
        fprintf(stderr, "faultstack: warning: cannot check that run %lld was observed: %s\n",
                (long long)res.run_id, sqlite3_errmsg(db));
    if (res.leaks && !getenv("FAULTSTACK_NO_CONFIRM"))
        fs_confirm_stacks(db, res.run_id, &sp, 1);
    if (out)
        *out = res;
    char triage[512];
    fs_verdict_summary(db, 0, res.run_id, triage, sizeof triage);
    if (triage[0])
        fprintf(stderr, "faultstack: %s\n", triage);
    if (res.findings && fs_verdict_count(db, "open", NULL, 0, res.run_id) != 0)
        return 1;                            /* suppressed, driver-gave-up, out-of-scope: not counted */
    return unobserved > 0 ? 2 : 0;
}
