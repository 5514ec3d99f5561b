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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "ingest.h"
#include "plan.h"

static int64_t fs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fs_find_preload(char *out, size_t len)
{
    const char *env = getenv("FAULTSTACK_PRELOAD");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    static const char *const rel[] = { "../lib/libfaultstack-preload.so",
                                       "../lib/faultstack/libfaultstack-preload.so",
                                       "libfaultstack-preload.so", NULL };
    for (int i = 0; rel[i]; i++) {
        snprintf(out, len, "%s/%s", exe, rel[i]);
        char real[PATH_MAX];
        if (access(out, R_OK) == 0 && realpath(out, real)) {
            snprintf(out, len, "%s", real);
            return 0;
        }
    }
    return -1;
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

/* Remove our private run directory (plain files only). */
static void fs_rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

int fs_spawn_and_wait(const struct fs_spawn *sp, struct fs_outcome *oc, char *err, size_t errlen)
{
    memset(oc, 0, sizeof *oc);
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    int64_t t0 = fs_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        close(errpipe[0]); close(errpipe[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(errpipe[1], 2);
        char pre[PATH_MAX * 2];
        const char *old = getenv("LD_PRELOAD");
        if (old && *old)
            snprintf(pre, sizeof pre, "%s:%s", sp->preload, old);
        else
            snprintf(pre, sizeof pre, "%s", sp->preload);
        setenv("LD_PRELOAD", pre, 1);
        setenv("FAULTSTACK_RUN_DIR", sp->run_dir, 1);
        if (sp->stack_sites && *sp->stack_sites)
            setenv("FAULTSTACK_STACK_SITES", sp->stack_sites, 1);
        if (sp->plan_text && *sp->plan_text)
            setenv("FAULTSTACK_PLAN", sp->plan_text, 1);
        else
            unsetenv("FAULTSTACK_PLAN");
        execv(sp->program, sp->argv);
        dprintf(2, "faultstack: cannot run '%s': %s\n", sp->program, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(errpipe[1]);
    int status = 0, exited = 0, eof = 0;
    int64_t deadline = sp->timeout_ms > 0 ? t0 + sp->timeout_ms : 0;
    int killed = 0;
    int64_t grace = 0;
    while (!exited || !eof) {
        int wait_ms = 100;
        if (!eof) {
            struct pollfd pf = { errpipe[0], POLLIN, 0 };
            if (poll(&pf, 1, wait_ms) > 0) {
                char buf[4096];
                ssize_t n = read(errpipe[0], buf, sizeof buf);
                if (n > 0) {
                    oc->stderr_bytes += (int)n;
                    if (write(2, buf, (size_t)n) < 0) { /* our stderr is gone: keep going */ }
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    eof = 1;
                }
            }
        } else {
            usleep(20000);
        }
        if (!exited) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                exited = 1;
        }
        int64_t now = fs_now_ms();
        if (exited && !eof && now - t0 > 0 && deadline == 0 && killed == 0) {
            /* the target is gone but something it started keeps stderr open:
             * give it a moment, then stop reading */
            if (!grace) grace = now + 2000;
            if (now > grace) eof = 1;
        }
        if (deadline && now > deadline && killed < 2) {
            oc->timed_out = 1;
            kill(-pid, killed == 0 ? SIGTERM : SIGKILL);
            killed++;
            deadline = now + 2000;           /* SIGKILL after 2 s more */
        }
        if (exited && killed)
            eof = 1;
    }
    close(errpipe[0]);
    if (killed)
        kill(-pid, SIGKILL);                 /* whatever of the group is left */
    oc->duration_ms = fs_now_ms() - t0;
    if (WIFEXITED(status)) {
        oc->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        oc->exit_code = -1;
        oc->signal = WTERMSIG(status);
    }
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
    fprintf(stderr, ", %lld fault points, %lld injected%s, %d process%s\n", (long long)r->points_total,
            (long long)r->injected, r->swallowed ? " (swallowed: exit 0 and nothing reported)" : "",
            r->processes, r->processes == 1 ? "" : "es");
    fprintf(stderr, "faultstack: %d leak%s, %d anomal%s, %d crash%s%s; %d held at exit (not findings)\n",
            r->leaks, r->leaks == 1 ? "" : "s", r->anomalies, r->anomalies == 1 ? "y" : "ies",
            r->crashes, r->crashes == 1 ? "" : "es", r->timeouts ? ", timeout" : "", r->held);
    if (r->incomplete)
        fprintf(stderr, "faultstack: warning: %d process record%s incomplete (killed, or disk full)\n",
                r->incomplete, r->incomplete == 1 ? "" : "s");
    if (r->findings)
        fprintf(stderr, "faultstack: %d finding%s; see: faultstack report --db %s\n", r->findings,
                r->findings == 1 ? "" : "s", db);
}

static void fs_run_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack run [--db FILE] [--fail SPEC] [--timeout S] -- PROGRAM [ARGS...]\n"
        "  Run PROGRAM once under the preload and record its fault points, leaks,\n"
        "  anomalies and crashes into the database.\n"
        "  --db FILE       report database (default ./faultstack.db)\n"
        "  --fail SPEC     which fault point fails, e.g. nth=3, only=open,nth=2,\n"
        "                  site=malloc@prog+0x1234#2, random:p=0.1,seed=7, persistent, errno=EIO,\n"
        "                  module=NAME (see `faultstack --help`)\n"
        "  --timeout S     kill the target's process group after S seconds (default 300)\n"
        "exit status: 0 nothing found, 1 findings, 2 usage or tool error\n");
}

int fs_cmd_run(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *spec = NULL;
    double timeout_s = 300;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fs_run_usage(stdout); return 0; }
        const char *val = NULL;
        int consumed = 0;
        if (strncmp(a, "--db=", 5) == 0) { db_path = a + 5; continue; }
        if (strncmp(a, "--fail=", 7) == 0) { spec = a + 7; continue; }
        if (strncmp(a, "--timeout=", 10) == 0) { val = a + 10; consumed = 0; }
        else if (!strcmp(a, "--db") || !strcmp(a, "--fail") || !strcmp(a, "--timeout")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "faultstack run: %s needs a value\n", a);
                fs_run_usage(stderr);
                return 2;
            }
            val = argv[i + 1];
            consumed = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "faultstack run: unknown option '%s'\n", a);
            fs_run_usage(stderr);
            return 2;
        } else {
            break;                            /* the program (without --) */
        }
        if (!strcmp(a, "--db")) db_path = val;
        else if (!strcmp(a, "--fail")) spec = val;
        else {
            char *end;
            timeout_s = strtod(val, &end);
            if (*end || timeout_s <= 0) {
                fprintf(stderr, "faultstack run: bad --timeout '%s': give seconds > 0, e.g. --timeout 30\n", val);
                return 2;
            }
        }
        i += consumed;
    }
    if (i >= argc) {
        fprintf(stderr, "faultstack run: no program given\n");
        fs_run_usage(stderr);
        return 2;
    }
    struct fs_plan plan;
    char err[2048];
    if (fs_plan_parse(spec, &plan, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    char prog[PATH_MAX];
    if (fs_resolve_program(argv[i], prog, sizeof prog, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    sqlite3 *db = fs_db_open(db_path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack run: %s\n", err);
        return 2;
    }
    int rc = fs_run_once(db, db_path, "run", -1, &plan, prog, argv + i, (int64_t)(timeout_s * 1000), NULL);
    sqlite3_close(db);
    return rc;
}

/* Leaks found: run again with stack capture for just the leaking sites (a full
 * stack on every call would cost ~3 us each) and store them in resource.stack. */
static void fs_confirm_stacks(sqlite3 *db, const struct fs_run_result *res, struct fs_spawn *sp, char *dir)
{
    char sites[8192], err[1024];
    if (fs_leak_sites(db, res->run_id, sites, sizeof sites) <= 0)
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, PATH_MAX, "%s/faultstack-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return;
    sp->run_dir = dir;
    sp->stack_sites = sites;
    struct fs_outcome oc;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), saved = dup(2);
    if (devnull >= 0 && saved >= 0)
        dup2(devnull, 2);                    /* the target's stderr was shown once already */
    int rc = fs_spawn_and_wait(sp, &oc, err, sizeof err);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
    if (devnull >= 0) close(devnull);
    if (rc == 0) {
        int n = fs_ingest_stacks(db, res->run_id, dir, err, sizeof err);
        if (n > 0)
            fprintf(stderr, "faultstack: confirmation run: acquire stacks of %d leak%s stored (leaks.stack)\n",
                    n, n == 1 ? "" : "s");
        else
            fprintf(stderr, "faultstack: confirmation run did not reproduce the leaks (nondeterministic program?)\n");
    }
    fs_rm_rf(dir);
}

int fs_run_once(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                const struct fs_plan *plan, const char *prog, char **argv,
                int64_t timeout_ms, struct fs_run_result *out)
{
    char err[2048], plan_text[2048] = "", preload[PATH_MAX];
    if (fs_find_preload(preload, sizeof preload) != 0) {
        fprintf(stderr, "faultstack: cannot find libfaultstack-preload.so next to the faultstack "
                        "binary (../lib/); set FAULTSTACK_PRELOAD to its path\n");
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
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/faultstack-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "faultstack: cannot create a run directory in %s: %s; set TMPDIR to a writable "
                        "directory\n", tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return 2;
    }
    struct fs_spawn sp = { prog, argv, preload, dir, plan_text, timeout_ms, NULL };
    struct fs_outcome oc;
    if (fs_spawn_and_wait(&sp, &oc, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack: %s\n", err);
        fs_rm_rf(dir);
        return 2;
    }
    struct fs_run_info info = {
        session_id, dir, db_path, argv, plan, baseline ? NULL : plan_text, "exec",
        oc.exit_code, oc.signal, oc.timed_out, oc.stderr_bytes, oc.duration_ms
    };
    struct fs_run_result res;
    if (fs_ingest_run(db, &info, &res, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack: could not record the run: %s\n"
                        "faultstack: its raw records are kept in %s; nothing recorded before was lost\n",
                err, dir);
        return 2;
    }
    fs_rm_rf(dir);
    fs_print_summary(&res, &oc, db_path);
    if (res.leaks && !getenv("FAULTSTACK_NO_CONFIRM"))
        fs_confirm_stacks(db, &res, &sp, dir);
    if (out)
        *out = res;
    return res.findings ? 1 : 0;
}
