/* repro.c — `faultstack repro FINDING_ID`: replay a finding with its repro
 * command (a `faultstack run` in exec mode, into the same database) and check
 * that the replay failed the same fault site and showed the finding again. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "shell.h"

/* What the finding says about its fault, and where its first run ran. */
struct fs_repro_target {
    int64_t id, first_run;
    char repro[16384];
    char fault_func[128], fault_module[512], fault_file[PATH_MAX];
    int has_fault, has_fault_site;
    int64_t fault_offset, fault_line;
    char command[16384];      /* runs.command of the first run */
    char cwd[PATH_MAX];       /* session.cwd of the first run, or "" */
};

static void fs_copy_col(sqlite3_stmt *st, int c, char *dst, size_t len)
{
    const char *s = (const char *)sqlite3_column_text(st, c);
    snprintf(dst, len, "%s", s ? s : "");
}

/* Load finding fid. Returns 0, 1 when there is no such finding, -1 on error. */
static int fs_repro_load(sqlite3 *db, int64_t fid, struct fs_repro_target *T, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db,
        "SELECT f.repro, f.fault_func, f.fault_module, f.fault_offset, f.fault_file, f.fault_line, f.first_run,"
        " r.command, s.cwd FROM findings f LEFT JOIN run r ON r.id = f.first_run"
        " LEFT JOIN session s ON s.id = r.session_id WHERE f.id = ?1", err, errlen);
    if (!st)
        return -1;
    memset(T, 0, sizeof *T);
    T->id = fid;
    sqlite3_bind_int64(st, 1, fid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        fs_copy_col(st, 0, T->repro, sizeof T->repro);
        T->has_fault = sqlite3_column_type(st, 1) != SQLITE_NULL;
        fs_copy_col(st, 1, T->fault_func, sizeof T->fault_func);
        T->has_fault_site = sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_type(st, 3) != SQLITE_NULL;
        fs_copy_col(st, 2, T->fault_module, sizeof T->fault_module);
        T->fault_offset = sqlite3_column_int64(st, 3);
        fs_copy_col(st, 4, T->fault_file, sizeof T->fault_file);
        T->fault_line = sqlite3_column_int64(st, 5);
        T->first_run = sqlite3_column_int64(st, 6);
        fs_copy_col(st, 7, T->command, sizeof T->command);
        fs_copy_col(st, 8, T->cwd, sizeof T->cwd);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = 1;
    } else {
        snprintf(err, errlen, "cannot read finding #%lld: %s", (long long)fid, sqlite3_errmsg(db));
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The integer sql selects, with ?1 = a and ?2 = b (when sql has them): 0 for
 * no row or NULL, -1 on error (message in err). */
static int64_t fs_scalar(sqlite3 *db, const char *sql, int64_t a, const char *b, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db, sql, err, errlen);
    int64_t v = -1;
    if (!st)
        return -1;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, a);
    if (b && sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        v = 0;
    else
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

/* The argv of the replay: this faultstack binary, "run", the repro's options
 * with --db replaced by db_abs (and --mode forced to exec), then the command.
 * Returns a malloc'd NULL-terminated array (strings borrowed from words or
 * static), or NULL with the reason in err. */
static char **fs_repro_argv(char **words, int nwords, const char *self, const char *db_abs, char *err, size_t errlen)
{
    if (nwords < 3 || strcmp(words[1], "run")) {
        snprintf(err, errlen, "it is not a `faultstack run ...` command");
        return NULL;
    }
    const char *base = strrchr(words[0], '/');
    base = base ? base + 1 : words[0];
    if (strcmp(base, "faultstack")) {
        snprintf(err, errlen, "it runs '%s', not faultstack", words[0]);
        return NULL;
    }
    char **av = calloc((size_t)nwords + 4, sizeof *av);
    int n = 0, i = 2;
    if (!av) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    av[n++] = (char *)self;
    av[n++] = "run";
    av[n++] = "--db";
    av[n++] = (char *)db_abs;
    for (; i < nwords && strcmp(words[i], "--"); i++) {
        if (!strcmp(words[i], "--db") || !strcmp(words[i], "--mode")) {
            if (!strcmp(words[i], "--mode")) { av[n++] = "--mode"; av[n++] = "exec"; }
            i++;                              /* skip the value */
            continue;
        }
        if (!strncmp(words[i], "--db=", 5))
            continue;
        if (!strncmp(words[i], "--mode=", 7)) { av[n++] = "--mode=exec"; continue; }
        av[n++] = words[i];
    }
    if (i >= nwords - 1) {
        snprintf(err, errlen, "it names no program after '--'");
        free(av);
        return NULL;
    }
    for (; i < nwords; i++)
        av[n++] = words[i];
    av[n] = NULL;
    return av;
}

/* Run av (our own binary) in dir (or here when dir is NULL) and wait.
 * Returns its exit status, or -1 when it could not run or died by a signal. */
static int fs_repro_spawn(char **av, const char *dir)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "faultstack repro: cannot fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (dir && chdir(dir) != 0)
            _exit(127);
        execv(av[0], av);
        dprintf(2, "faultstack repro: cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "faultstack repro: the replay was killed by signal %d\n", WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

/* Compare the replay's injected fault points with the finding's fault.
 * Prints them; returns 1 when the same site was hit, 0 when not, -1 on error. */
static int fs_repro_check_site(sqlite3 *db, const struct fs_repro_target *T, int64_t run, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db,
        "SELECT func, module, offset, file, line FROM fault_points WHERE run_id = ?1 AND injected = 1"
        " ORDER BY ordinal", err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run);
    int n = 0, hit = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *func = (const char *)sqlite3_column_text(st, 0);
        const char *mod = (const char *)sqlite3_column_text(st, 1);
        const char *file = (const char *)sqlite3_column_text(st, 3);
        int64_t off = sqlite3_column_int64(st, 2);
        fprintf(stderr, "faultstack repro: run %lld injected: %s at %s+0x%llx (%s:%lld)\n", (long long)run,
                func ? func : "?", mod ? mod : "?", (unsigned long long)off, file ? file : "?",
                (long long)sqlite3_column_int64(st, 4));
        n++;
        if (T->has_fault && func && !strcmp(func, T->fault_func) &&
            (!T->has_fault_site || (mod && !strcmp(mod, T->fault_module) && off == T->fault_offset)))
            hit = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the fault points of run %lld: %s", (long long)run, sqlite3_errmsg(db));
        return -1;
    }
    if (!n)
        fprintf(stderr, "faultstack repro: run %lld injected no fault\n", (long long)run);
    return T->has_fault ? hit : n == 0;
}

int fs_cmd_repro(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *id = NULL;
    char err[2048], db_abs[PATH_MAX], self[PATH_MAX];
    struct fs_repro_target *T = NULL;
    char **words = NULL, **av = NULL;
    sqlite3 *db = NULL;
    int rc = 2, nwords = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5)) db_path = argv[i] + 5;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: faultstack repro [--db FILE] FINDING_ID\n"
                   "  Replay a finding with its repro command (a new run in the same database) and\n"
                   "  check that the replay failed the same fault site and showed the finding again.\n"
                   "exit status: 0 reproduced, 1 not reproduced, 2 usage or tool error\n");
            return 0;
        } else if (argv[i][0] != '-' && !id) id = argv[i];
        else {
            fprintf(stderr, "faultstack repro: unexpected argument '%s'\n"
                            "usage: faultstack repro [--db FILE] FINDING_ID\n", argv[i]);
            return 2;
        }
    }
    char *end = NULL;
    long long fid = id ? strtoll(id, &end, 10) : 0;
    if (!id || *end || fid <= 0) {
        fprintf(stderr, "faultstack repro: give a finding id (the number after # in `faultstack report`)\n");
        return 2;
    }
    if (access(db_path, F_OK) != 0 || !realpath(db_path, db_abs)) {
        fprintf(stderr, "faultstack repro: no database '%s'; pass --db with the one the finding is in\n", db_path);
        return 2;
    }
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "faultstack repro: cannot find the faultstack binary (/proc/self/exe): %s; "
                        "is /proc mounted?\n", strerror(errno));
        return 2;
    }
    self[sl] = '\0';
    if (!(T = malloc(sizeof *T))) {
        fprintf(stderr, "faultstack repro: out of memory\n");
        return 2;
    }
    db = fs_db_open(db_path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack repro: %s\n", err);
        goto out;
    }
    int found = fs_repro_load(db, fid, T, err, sizeof err);
    if (found != 0) {
        if (found > 0)
            fprintf(stderr, "faultstack repro: no finding #%lld in %s; list them with faultstack report --db %s\n",
                    fid, db_path, db_path);
        else
            fprintf(stderr, "faultstack repro: %s: %s\n", db_path, err);
        goto out;
    }
    int64_t before = fs_scalar(db, "SELECT max(id) FROM runs", 0, NULL, err, sizeof err);
    if (before < 0) {
        fprintf(stderr, "faultstack repro: %s: cannot read the runs: %s\n", db_path, err);
        goto out;
    }
    sqlite3_close(db);
    db = NULL;
    words = fs_shell_split(T->repro, &nwords, err, sizeof err);
    if (words)
        av = fs_repro_argv(words, nwords, self, db_abs, err, sizeof err);
    if (!av) {
        fprintf(stderr, "faultstack repro: cannot replay finding #%lld: its repro command %s:\n  %s\n"
                        "faultstack repro: run it yourself, or fix findings.repro\n", fid, err, T->repro);
        goto out;
    }
    struct stat sb;
    const char *dir = T->cwd[0] && stat(T->cwd, &sb) == 0 && S_ISDIR(sb.st_mode) ? T->cwd : NULL;
    char shown[sizeof T->repro + PATH_MAX * 2];
    fs_shell_join(shown, sizeof shown, av + 1);
    fprintf(stderr, "faultstack repro: replaying finding #%lld%s%s: faultstack %s\n", fid, dir ? " in " : "",
            dir ? dir : "", shown);
    int st = fs_repro_spawn(av, dir);
    if (st != 0 && st != 1) {
        fprintf(stderr, "faultstack repro: the replay failed (exit %d; see the messages above); nothing was "
                        "checked\n", st);
        goto out;
    }
    db = fs_db_open(db_abs, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack repro: %s\n", err);
        goto out;
    }
    /* the replay's run: the newest one after `before` with the finding's command */
    int64_t run = fs_scalar(db, "SELECT id FROM runs WHERE id > ?1 ORDER BY command = ?2 DESC, id DESC LIMIT 1",
                            before, T->command, err, sizeof err);
    if (run <= 0) {
        fprintf(stderr, "faultstack repro: the replay recorded no run in %s%s%s; check the messages above\n",
                db_abs, run < 0 ? ": " : "", run < 0 ? err : "");
        goto out;
    }
    /* its role in the public views (runs.role 'repro'): the session `faultstack run` made for it */
    if (fs_scalar(db, "UPDATE session SET kind = 'repro' WHERE kind = 'run' AND id = (SELECT session_id FROM run"
                      " WHERE id = ?1)", run, NULL, err, sizeof err) < 0)
        fprintf(stderr, "faultstack repro: cannot mark run %lld as a repro (%s); going on\n", (long long)run, err);
    if (T->has_fault)
        fprintf(stderr, "faultstack repro: the finding's fault: %s at %s+0x%llx (%s:%lld)\n", T->fault_func,
                T->has_fault_site ? T->fault_module : "?", (unsigned long long)T->fault_offset,
                T->fault_file[0] ? T->fault_file : "?", (long long)T->fault_line);
    else
        fprintf(stderr, "faultstack repro: the finding is a baseline one: no fault may be injected\n");
    int hit = fs_repro_check_site(db, T, run, err, sizeof err);
    int64_t again = -1;                       /* did the replay show the finding again? */
    sqlite3_stmt *q = hit < 0 ? NULL : fs_db_prepare(db, "SELECT count(*) FROM finding_run"
                                                         " WHERE finding_id = ?1 AND run_id = ?2", err, sizeof err);
    if (q) {
        sqlite3_bind_int64(q, 1, fid);
        sqlite3_bind_int64(q, 2, run);
        if (sqlite3_step(q) == SQLITE_ROW)
            again = sqlite3_column_int64(q, 0);
        else
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(q);
    }
    if (hit < 0 || again < 0) {
        fprintf(stderr, "faultstack repro: cannot check run %lld: %s\n", (long long)run, err);
        goto out;
    }
    if (!hit) {
        printf("repro: fault site NOT hit: the program took another path (nondeterministic?)%s (run %lld)\n",
               again ? "; the finding still showed" : "", (long long)run);
        rc = 1;
    } else if (again) {
        printf("repro: fault site hit, finding reproduced (run %lld)\n", (long long)run);
        rc = 0;
    } else {
        printf("repro: fault site hit, finding not reproduced (run %lld)\n", (long long)run);
        rc = 1;
    }
out:
    if (db)
        sqlite3_close(db);
    free(av);
    fs_shell_free(words);
    free(T);
    return rc;
}

