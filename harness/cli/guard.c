/* guard.c — what keeps "0 findings, exit 0" honest: a run must have tested
 * something (design.md: a run that could not be observed is never reported
 * as clean).
 *
 * - fs_parse_timeout: --timeout S, finite and within bounds (nan, inf and
 *   1e300 used to mean "no timeout", 1e-4 too, as 0 ms).
 * - fs_plan_check_funcs: the function names of --fail only= and site= are
 *   wrapped fault points (only=notafunc used to give 0 fault points).
 * - fs_interposable: can the preload enter PROGRAM at all? Checked on the
 *   file before it runs, to say why not: a statically linked ELF (no
 *   PT_INTERP: no dynamic loader, nobody reads LD_PRELOAD), an ELF for
 *   another machine or class, a program the kernel runs in secure-execution
 *   mode (set-user-ID/-group-ID to someone else, file capabilities: the
 *   loader ignores LD_PRELOAD paths), a script whose interpreter is one of
 *   those.
 * - fs_check_observed: after a run is recorded, did every process image of
 *   it write a record? The first process (the pid faultstack started) must
 *   have one, and every image that ended in exec must be followed by an image
 *   of the same pid. Images that are missing are stored as process rows with
 *   end_how 'not-interposed', runs.observed 0 (none) or 2 (partly) with the why in runs.note, and a
 *   run with no record at all gets points_total NULL ("unknown", not 0). */
#define _GNU_SOURCE
#include "cli.h"
#include "record_fmt.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "funcs.h"
#include "plan.h"

/* ---------------- --timeout ---------------- */

int fs_parse_timeout(const char *val, int64_t *ms, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    double s = val && *val ? strtod(val, &end) : NAN;
    if (!val || !*val || !end || *end || !isfinite(s) || s < FS_TIMEOUT_MIN_S || s > FS_TIMEOUT_MAX_S) {
        const char *why = !val || !*val || !end || *end ? "not a number"
                        : !isfinite(s)                   ? "not a finite number"
                        : s <= 0                         ? "not above 0"
                        : s < FS_TIMEOUT_MIN_S           ? "below 1 ms"
                                                         : "more than 7 days";
        snprintf(err, errlen, "bad --timeout '%s' (%s): give the seconds each run may take, from 0.001 to %d "
                 "(7 days), e.g. --timeout 30", val ? val : "", why, (int)FS_TIMEOUT_MAX_S);
        return -1;
    }
    *ms = (int64_t)(s * 1000.0 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

/* ---------------- --fail function names ---------------- */

/* Edit distance, for "did you mean". */
static int fs_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

/* One name of only= or site=: a wrapped function that is a fault point. */
static int fs_check_one_func(const char *name, const char *where, char *err, size_t errlen)
{
    int id = fs_func_lookup(name);
    if (id >= 0 && fs_funcs[id].injectable)
        return 0;
    int pf = fs_protocol_func(name);         /* a --protocol spec's function */
    if (pf == 1)
        return 0;
    if (pf == 0) {
        snprintf(err, errlen, "--fail %s: '%s' is tracked but never a fault point (its spec says `fail never` "
                 "or `fault no`), so no call would fail", where, name);
        return -1;
    }
    if (id >= 0) {
        snprintf(err, errlen, "--fail %s: '%s' is tracked but never a fault point (faultstack does not make it "
                 "fail), so no call would fail; `faultstack functions` lists the functions with 'fault point: yes'",
                 where, name);
        return -1;
    }
    const char *best = NULL;
    int bd = 3;
    for (int i = 0; i < FS_F_COUNT; i++) {
        if (!fs_funcs[i].injectable)
            continue;
        int dd = fs_edit_distance(name, fs_funcs[i].name);
        if (dd < bd) { bd = dd; best = fs_funcs[i].name; }
    }
    char hint[128] = "";
    if (best)
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    snprintf(err, errlen, "--fail %s: unknown function '%s'%s: faultstack wraps no function of that name, so it "
             "would never fail and the run would test nothing; `faultstack functions` lists the names",
             where, name, hint);
    return -1;
}

int fs_plan_check_funcs(const struct fs_plan *p, char *err, size_t errlen)
{
    for (int k = 0; k < p->n_only && k < FS_PLAN_MAX_ONLY; k++)
        if (fs_check_one_func(p->only[k], "only=", err, errlen) != 0)
            return -1;
    if (p->trigger == FS_PLAN_SITE && fs_check_one_func(p->site_func, "site=", err, errlen) != 0)
        return -1;
    return 0;
}

/* ---------------- can the preload enter the program? ---------------- */

static void fs_user_name(uid_t uid, char *out, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw) snprintf(out, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
    else snprintf(out, len, "uid %u", (unsigned)uid);
}

static void fs_group_name(gid_t gid, char *out, size_t len)
{
    struct group *gr = getgrgid(gid);
    if (gr) snprintf(out, len, "%s (gid %u)", gr->gr_name, (unsigned)gid);
    else snprintf(out, len, "gid %u", (unsigned)gid);
}

/* Set-user-ID/-group-ID bits or file capabilities that make the kernel run
 * path in secure-execution mode (AT_SECURE) when we exec it. Returns 1 with
 * why filled, else 0. */
static int fs_secure_exec(const char *path, const struct stat *sb, char *why, size_t len)
{
    struct statvfs vf;
    if (statvfs(path, &vf) == 0 && (vf.f_flag & ST_NOSUID))
        return 0;                            /* the bits are ignored on this mount */
    char who[128], me[128];
    if ((sb->st_mode & S_ISUID) && sb->st_uid != getuid()) {
        fs_user_name(sb->st_uid, who, sizeof who);
        fs_user_name(getuid(), me, sizeof me);
        snprintf(why, len, "it is set-user-ID %s and faultstack runs as %s: the kernel runs it in "
                 "secure-execution mode (AT_SECURE) and the dynamic loader ignores LD_PRELOAD; run faultstack as "
                 "that user, or test a copy without the bit (cp PROG copy && chmod u-s copy)", who, me);
        return 1;
    }
    if ((sb->st_mode & S_ISGID) && (sb->st_mode & S_IXGRP) && sb->st_gid != getgid()) {
        fs_group_name(sb->st_gid, who, sizeof who);
        fs_group_name(getgid(), me, sizeof me);
        snprintf(why, len, "it is set-group-ID %s and faultstack runs with group %s: the kernel runs it in "
                 "secure-execution mode (AT_SECURE) and the dynamic loader ignores LD_PRELOAD; test a copy "
                 "without the bit (cp PROG copy && chmod g-s copy)", who, me);
        return 1;
    }
    if (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0) {
        snprintf(why, len, "it has file capabilities (security.capability, see getcap): the kernel runs it in "
                 "secure-execution mode (AT_SECURE) and the dynamic loader ignores LD_PRELOAD; test a copy "
                 "without them (cp PROG copy)");
        return 1;
    }
    return 0;
}

static int fs_interposable_depth(const char *path, char *why, size_t len, int depth)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;                           /* not readable (execute-only?): cannot tell */
    struct stat sb;
    union { unsigned char b[512]; Elf64_Ehdr e; } h;
    ssize_t n = fstat(fd, &sb) == 0 ? pread(fd, h.b, sizeof h.b, 0) : -1;
    int rc = -1;
    if (n < 4)
        goto out;
    if (fs_secure_exec(path, &sb, why, len)) {
        rc = 0;
        goto out;
    }
    if (h.b[0] == '#' && h.b[1] == '!') {    /* a script: its interpreter runs */
        char interp[PATH_MAX];
        size_t i = 2, k = 0;
        while (i < (size_t)n && (h.b[i] == ' ' || h.b[i] == '\t')) i++;
        while (i < (size_t)n && h.b[i] != ' ' && h.b[i] != '\t' && h.b[i] != '\n' && k + 1 < sizeof interp)
            interp[k++] = (char)h.b[i++];
        interp[k] = '\0';
        if (!k || depth >= 4)
            goto out;
        char sub[1024];
        rc = fs_interposable_depth(interp, sub, sizeof sub, depth + 1);
        if (rc == 0)
            snprintf(why, len, "it is a script and its interpreter %s cannot be entered: %s", interp, sub);
        goto out;
    }
    if (memcmp(h.b, ELFMAG, SELFMAG) != 0 || n < (ssize_t)sizeof(Elf64_Ehdr))
        goto out;                            /* not ELF: the exec will say */
    if (h.b[EI_CLASS] != ELFCLASS64 || h.e.e_machine != EM_X86_64) {
        snprintf(why, len, "it is a %s ELF program for machine %u, and the preload is an x86-64 library: the "
                 "loader skips it; build the program for x86-64",
                 h.b[EI_CLASS] == ELFCLASS32 ? "32-bit" : "non-x86-64",
                 (unsigned)(h.b[EI_CLASS] == ELFCLASS32 ? ((Elf32_Ehdr *)h.b)->e_machine : h.e.e_machine));
        rc = 0;
        goto out;
    }
    if (h.e.e_phentsize != sizeof(Elf64_Phdr) || h.e.e_phnum == 0 || h.e.e_phnum > 4096)
        goto out;
    int interp = 0, dynamic = 0;
    for (unsigned i = 0; i < h.e.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(h.e.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
            goto out;
        if (ph.p_type == PT_INTERP) interp = 1;
        if (ph.p_type == PT_DYNAMIC) dynamic = 1;
    }
    if (!interp) {
        snprintf(why, len, "it is statically linked (%sno PT_INTERP program header): no dynamic loader runs, "
                 "so nothing reads LD_PRELOAD and the preload cannot enter it; build it dynamically linked "
                 "(without -static)", dynamic ? "static-pie, " : "");
        rc = 0;
        goto out;
    }
    rc = 1;
out:
    close(fd);
    return rc;
}

int fs_interposable(const char *path, char *why, size_t len)
{
    why[0] = '\0';
    return fs_interposable_depth(path, why, len, 0);
}

/* ---------------- after the run: was every process image observed? ---------------- */

void fs_version_why(int version, char *why, size_t len)
{
    const char *pre = getenv("FAULTSTACK_PRELOAD");
    snprintf(why, len, "its record is in format %d and this faultstack reads format %d: the preload comes from "
             "another faultstack version%s%s%s; use the preload built or installed with this faultstack",
             version, FS_RECORD_VERSION, pre && *pre ? " (FAULTSTACK_PRELOAD=" : "", pre && *pre ? pre : "",
             pre && *pre ? ")" : "");
}

int fs_check_observed(sqlite3 *db, int64_t run_id, pid_t first_pid, const char *prog, const char *why,
                      char *msg, size_t msglen)
{
    msg[0] = '\0';
    sqlite3_stmt *st = NULL;
    int first_seen = 0, images = 0, lost = 0;
    size_t ml = 0;
    /* images per pid, and how many of them ended in exec: an exec'd image
     * that wrote no record leaves count(exec) == count(*) for its pid */
    if (sqlite3_prepare_v2(db, "SELECT pid, count(*), sum(end_how = 'exec'), "
                               "(SELECT exe FROM process q WHERE q.run_id = ?1 AND q.pid = p.pid "
                               " AND q.end_how = 'exec' LIMIT 1) "
                               "FROM process p WHERE run_id = ?1 AND end_how IS NOT 'not-interposed' "
                               "GROUP BY pid ORDER BY min(rowid)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    struct lost { int pid; char exe[256]; } L[16];
    while (sqlite3_step(st) == SQLITE_ROW) {
        int pid = sqlite3_column_int(st, 0);
        int n = sqlite3_column_int(st, 1), nexec = sqlite3_column_int(st, 2);
        images += n;
        if (pid == (int)first_pid)
            first_seen = 1;
        if (nexec >= n) {                    /* the program it exec'd has no record */
            if (lost < 16) {
                L[lost].pid = pid;
                const unsigned char *e = sqlite3_column_text(st, 3);
                snprintf(L[lost].exe, sizeof L[lost].exe, "%s", e ? (const char *)e : "?");
            }
            lost++;
        }
    }
    sqlite3_finalize(st);
    if (first_seen && !lost)
        return 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db, "INSERT INTO process(run_id, pid, ppid, exe, end_how) VALUES(?1, ?2, ?3, ?4, "
                               "'not-interposed')", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (!first_seen) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, (int)first_pid);
        sqlite3_bind_int(st, 3, (int)getpid());
        sqlite3_bind_text(st, 4, prog, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
        ml += (size_t)snprintf(msg + ml, msglen - ml, "the program %s (pid %d) could not be interposed: %s",
                               prog, (int)first_pid,
                               why && *why ? why : "it wrote no record (it did not start? it is static or "
                               "set-user-ID? it removed LD_PRELOAD from its environment?)");
    }
    for (int i = 0; i < lost && i < 16; i++) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, L[i].pid);
        sqlite3_bind_null(st, 3);
        sqlite3_bind_null(st, 4);
        sqlite3_step(st);
        sqlite3_reset(st);
        if (ml < msglen)
            ml += (size_t)snprintf(msg + ml, msglen - ml, "%sprocess %d (running %s) exec'd a program the preload "
                                   "could not enter: its record stops at the exec (a static, set-user-ID or 32-bit "
                                   "program?)", ml ? "; " : "", L[i].pid, L[i].exe);
    }
    sqlite3_finalize(st);
    /* runs.observed/note; nothing observed: the number of fault points is
     * unknown, not 0 */
    if (sqlite3_prepare_v2(db, "UPDATE run SET observed = ?2, note = ?3,"
                               " points_total = CASE WHEN ?2 = 0 THEN NULL ELSE points_total END WHERE id = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, images ? 2 : 0);
        sqlite3_bind_text(st, 3, msg, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return images ? 1 : 2;
}
