/* verdict.c — triage of findings (verdict.h, docs/suppressions.md): which
 * suppression rule accepts a finding, whether its site is in the modules
 * judged (--scope), whether a crash is a test driver giving up after an
 * injected failure (driver-gave-up), and the injected fault's calling context
 * (run.fault_callers) read from what the preload already records. */
#define _GNU_SOURCE
#include "verdict.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "plan.h"
#include "record_fmt.h"
#include "symbolize.h"
#include "sysmods.h"

static const struct fs_judge *fs_verdict_cfg;

void fs_verdict_use(const struct fs_judge *J)
{
    fs_verdict_cfg = J;
}

void fs_judge_free(struct fs_judge *J)
{
    fs_supp_free(&J->supps);
    for (size_t i = 0; i < J->nscope; i++)
        free(J->scope[i]);
    free(J->scope);
    memset(J, 0, sizeof *J);
}

int fs_judge_option(struct fs_judge *J, const char *cmd, const char *name, const char *val)
{
    char err[2048];
    if (!strcmp(name, "--suppressions")) {
        if (fs_supp_load(&J->supps, val, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack %s: %s\n", cmd, err);
            return -1;
        }
        J->nfiles++;
        return 1;
    }
    if (strcmp(name, "--scope"))
        return 0;
    const char *p = val;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n > 255 || memchr(p, '/', n)) {
            fprintf(stderr, "faultstack %s: bad --scope '%s': give module names or patterns (basenames, no "
                            "'/'), comma-separated, e.g. --scope libjson-c.so or --scope 'libyaml*,libfoo'\n",
                    cmd, val);
            return -1;
        }
        char **ns = realloc(J->scope, (J->nscope + 1) * sizeof *ns);
        if (!ns || !(ns[J->nscope] = strndup(p, n))) {
            fprintf(stderr, "faultstack %s: out of memory\n", cmd);
            if (ns) J->scope = ns;
            return -1;
        }
        J->scope = ns;
        J->nscope++;
        p += n;
        if (*p) p++;
    }
    if (!J->nscope) {
        fprintf(stderr, "faultstack %s: --scope needs at least one module, e.g. --scope libjson-c.so\n", cmd);
        return -1;
    }
    return 1;
}

/* A module is in scope when a pattern matches its basename (glob), or the
 * pattern has no glob characters and the basename is the pattern followed by
 * '.' (libfoo and libfoo.so both take libfoo.so.1.2). */
static int fs_in_scope(const struct fs_judge *J, const char *module)
{
    for (size_t i = 0; i < J->nscope; i++) {
        const char *p = J->scope[i];
        size_t n = strlen(p);
        if (fs_supp_glob(p, module) ||
            (!strpbrk(p, "*?[") && !strncmp(module, p, n) && module[n] == '.'))
            return 1;
    }
    return 0;
}

static const char *fs_col(sqlite3_stmt *st, int c)
{
    return (const char *)sqlite3_column_text(st, c);
}

static const char *fs_basename(const char *p)
{
    const char *sl = p ? strrchr(p, '/') : NULL;
    return sl ? sl + 1 : p;
}

/* Frames of a stack text ('symbol file:line' or 'symbol module+0xOFF' per
 * line, as resource.stack), after the site's own frame fr[0]. Edits text. */
static size_t fs_parse_stack(char *text, struct fs_supp_frame *fr, size_t cap)
{
    size_t n = 1;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln && n < cap; ln = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(ln, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        char *where = sp + 1, *colon = strrchr(where, ':'), *plus = strstr(where, "+0x");
        memset(&fr[n], 0, sizeof fr[n]);
        fr[n].fun = strcmp(ln, "?") ? ln : NULL;
        if (colon && !plus) {
            *colon = '\0';
            fr[n].src = where;
            fr[n].line = strtoll(colon + 1, NULL, 10);
        } else if (plus) {
            *plus = '\0';
            fr[n].obj = where;
        }
        /* the stack's innermost frames may be the site itself again */
        if (n == 1 && fr[0].line && fr[1].line == fr[0].line && fr[1].src && fr[0].src &&
            !strcmp(fs_basename(fr[1].src), fs_basename(fr[0].src)))
            continue;
        n++;
    }
    return n;
}

/* Was this SIGABRT crash a test driver giving up after an injected failure?
 * abort()/assert() called from the crashing process's own executable (with
 * --scope: from a module outside it), the fault injected into a call that
 * another module made. */
static int fs_gave_up(sqlite3 *db, const struct fs_judge *J, sqlite3_stmt *row)
{
    const char *cat = fs_col(row, 1), *kind = fs_col(row, 2), *module = fs_col(row, 6);
    const char *fault_func = fs_col(row, 9), *fault_module = fs_col(row, 11);
    if (!cat || strcmp(cat, "crash") || !kind || strcmp(kind, "SIGABRT") || !fault_func || !module)
        return 0;
    if (fault_module && !strcmp(fault_module, module))
        return 0;                            /* its own call failed: its own crash */
    if (J && J->nscope)
        return !fs_in_scope(J, module);
    sqlite3_stmt *st = NULL;
    int is_exe = 0;
    if (sqlite3_prepare_v2(db, "SELECT p.exe FROM crash c JOIN process p ON p.run_id = c.run_id AND p.pid = c.pid"
                               " WHERE c.run_id = ?1 AND c.module = ?2 AND c.offset IS ?3", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, sqlite3_column_int64(row, 12));
        sqlite3_bind_text(st, 2, module, -1, SQLITE_TRANSIENT);
        if (sqlite3_column_type(row, 14) == SQLITE_NULL)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_int64(st, 3, sqlite3_column_int64(row, 14));
        while (!is_exe && sqlite3_step(st) == SQLITE_ROW) {
            const char *exe = fs_col(st, 0);
            is_exe = exe && !strcmp(fs_basename(exe), module);
        }
    }
    sqlite3_finalize(st);
    return is_exe;
}

int64_t fs_verdict_apply(sqlite3 *db, const struct fs_judge *J, int64_t run_id, char *err, size_t errlen)
{
    static const char *sel =
        "SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.symbol, f.module, f.file, f.line,"
        " f.fault_func, f.fault_file, f.fault_module, f.first_run, r.fault_callers, f.offset"
        " FROM finding f JOIN run r ON r.id = f.first_run"
        " WHERE ?1 = 0 OR f.id IN (SELECT finding_id FROM finding_run WHERE run_id = ?1)";
    int64_t n = -1;
    sqlite3_stmt *st = fs_db_prepare(db, sel, err, errlen), *up = NULL, *stk = NULL;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    n = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        /* prepared at the first finding: most runs of a sweep have none, and
         * preparing was most of this function's cost per run (issue 11) */
        if (!up)
            up = fs_db_prepare(db, "UPDATE finding SET gave_up = ?2,"
                                   " in_scope = CASE WHEN ?3 THEN ?4 ELSE in_scope END,"
                                   " suppressed = CASE WHEN ?5 THEN ?6 ELSE suppressed END,"
                                   " suppression = CASE WHEN ?5 THEN ?7 ELSE suppression END WHERE id = ?1",
                               err, errlen);
        if (up && !stk)
            stk = fs_db_prepare(db, "SELECT stack FROM resource WHERE run_id = ?1 AND verdict = 'leak' AND kind IS ?2"
                                    " AND module IS ?3 AND offset IS ?4 AND stack IS NOT NULL LIMIT 1", err, errlen);
        if (!up || !stk) {
            n = -1;
            goto out;
        }
        int gave_up = fs_gave_up(db, J, st);
        const char *module = fs_col(st, 6);
        /* judged by its site; a finding without one (a timeout, a crash no
         * record shows) by its fault's site; with neither, in scope */
        const char *judged = module ? module : fs_col(st, 11);
        int in_scope = judged && J && J->nscope ? fs_in_scope(J, judged) : 1;
        const char *name = NULL;
        char *stack = NULL;
        if (J && J->nfiles) {
            struct fs_supp_frame fr[64];
            memset(fr, 0, sizeof fr);
            fr[0].fun = fs_col(st, 5);
            fr[0].obj = module;
            fr[0].src = fs_col(st, 7);
            fr[0].line = sqlite3_column_int64(st, 8);
            size_t nf = 1;
            const char *cat = fs_col(st, 1);
            if (cat && !strcmp(cat, "leak")) {
                sqlite3_bind_int64(stk, 1, sqlite3_column_int64(st, 12));
                sqlite3_bind_text(stk, 2, fs_col(st, 2), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(stk, 3, module, -1, SQLITE_TRANSIENT);
                if (sqlite3_column_type(st, 14) == SQLITE_NULL)
                    sqlite3_bind_null(stk, 4);
                else
                    sqlite3_bind_int64(stk, 4, sqlite3_column_int64(st, 14));
                if (sqlite3_step(stk) == SQLITE_ROW && fs_col(stk, 0))
                    stack = strdup(fs_col(stk, 0));
                sqlite3_reset(stk);
                if (stack)
                    nf = fs_parse_stack(stack, fr, 64);
            }
            struct fs_supp_finding f = {
                cat, fs_col(st, 2), fs_col(st, 3), fs_col(st, 4), fs_col(st, 5), module, fs_col(st, 7),
                sqlite3_column_int64(st, 8), fs_col(st, 9), fs_col(st, 10), fs_col(st, 13), gave_up, fr, nf
            };
            name = fs_supp_match(&J->supps, &f);
        }
        sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
        sqlite3_bind_int(up, 2, gave_up);
        sqlite3_bind_int(up, 3, J && J->nscope);
        sqlite3_bind_int(up, 4, in_scope);
        sqlite3_bind_int(up, 5, J && J->nfiles);
        sqlite3_bind_int(up, 6, name != NULL);
        if (name)
            sqlite3_bind_text(up, 7, name, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(up, 7);
        free(stack);
        if (sqlite3_step(up) != SQLITE_DONE) {
            snprintf(err, errlen, "cannot mark finding %lld: %s", (long long)sqlite3_column_int64(st, 0),
                     sqlite3_errmsg(db));
            n = -1;
            goto out;
        }
        sqlite3_reset(up);
        n++;
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the findings: %s", sqlite3_errmsg(db));
        n = -1;
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    sqlite3_finalize(stk);
    return n;
}

/* ---------------- the fault's calling context ---------------- */

#define FS_VMOD 1024

/* libc, the loader, faultstack's preload (its __libc_start_main wrapper is a caller of main) */
static int fs_system_module(const char *base)
{
    static const char *const sys[] = { FS_SYSTEM_MODULE_PREFIXES, NULL };
    for (int i = 0; sys[i]; i++)
        if (!strncmp(base, sys[i], strlen(sys[i])))
            return 1;
    return 0;
}

/* A 'p ORD FUNC MOD OFF OCC INJ' line with INJ 1? (a quick look before
 * sscanf: a run's record holds up to 200000 points, one of them injected) */
static int fs_injected_line(const char *line)
{
    int spaces = 0;
    for (const char *c = line; *c; c++)
        if (*c == ' ' && ++spaces == 6)
            return c[1] == '1';
    return 0;
}

/* "symbol file:line" (or "symbol module+0xOFF") of module path + offset. */
static void fs_frame_text(struct fs_symbolizer *sym, const char *path, uint64_t off, char *out, size_t cap)
{
    struct fs_sym_result r;
    memset(&r, 0, sizeof r);
    if (sym)
        fs_sym_lookup(sym, path, off, &r);
    if (r.file[0])
        snprintf(out, cap, "%s %s:%d", r.func[0] ? r.func : "?", r.file, r.line);
    else
        snprintf(out, cap, "%s %s+0x%llx", r.func[0] ? r.func : "?", fs_basename(path), (unsigned long long)off);
}

/* The callers of the injected point: its 'c' line ('c ORD MOD OFF...',
 * written when FAULTSTACK_CALLERS=1 or by a fork-mode child of the site
 * strategy), else the plan's caller= items, their modules found among the
 * record's 'm' lines. Writes '' when neither is there. */
static void fs_fault_callers(struct fs_symbolizer *sym, const char *run_dir, const struct fs_plan *plan,
                             char *out, size_t cap)
{
    out[0] = '\0';
    DIR *d = opendir(run_dir);
    if (!d)
        return;
    char **mods = calloc(FS_VMOD, sizeof *mods);
    char *line = NULL, *cline = NULL, *cfile_mods[FS_PLAN_MAX_CALLERS] = { 0 };
    size_t lcap = 0;
    long long best = -1, want = -1, cline_ord = -1;
    /* pass over every record: the first injected ordinal (with then=, the second fault) */
    struct dirent *de;
    while (mods && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        for (int i = 0; i < FS_VMOD; i++) {
            free(mods[i]);
            mods[i] = NULL;
        }
        while (getline(&line, &lcap, f) > 0) {
            line[strcspn(line, "\n")] = '\0';
            long id;
            unsigned long long bias, off;
            long long ord, occ;
            int pos = 0, inj = 0;
            char fn[64];
            unsigned long long ctx;
            if (line[0] == 'm' && sscanf(line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && pos && id > 0 &&
                id < FS_VMOD) {
                free(mods[id]);
                mods[id] = strdup(line + pos);
            } else if (line[0] == 'p' && fs_injected_line(line) &&
                       sscanf(line, FS_REC_POINT_SCAN, &ord, fn, &id, &off, &occ, &inj, &ctx) >= 6 && inj) {
                if (best < 0 || ord < best) {
                    best = ord;
                    want = plan && plan->then ? ord + (long long)plan->then : ord;
                }
            } else if (line[0] == 'c' && sscanf(line, FS_REC_CALLERS_SCAN, &ord, &pos) == 1 && ord == want) {
                /* resolve its modules now: ids are per record file */
                char buf[4096] = "";
                const char *q = line + pos;
                int used = 0;
                while (sscanf(q, "%ld %llx %n", &id, &off, &used) == 2 && used) {
                    char one[2048];
                    if (id > 0 && id < FS_VMOD && mods[id] && !fs_system_module(fs_basename(mods[id]))) {
                        fs_frame_text(sym, mods[id], off, one, sizeof one);
                        if (strlen(buf) + strlen(one) + 2 < sizeof buf)
                            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "\n" : "", one);
                    }
                    q += used;
                    used = 0;
                }
                free(cline);
                cline = strdup(buf);
                cline_ord = ord;
            }
        }
        /* the plan's callers name modules by basename: their paths, from this record */
        for (int k = 0; plan && k < plan->n_callers && k < FS_PLAN_MAX_CALLERS; k++)
            for (int i = 1; !cfile_mods[k] && i < FS_VMOD; i++)
                if (mods[i] && !strcmp(fs_basename(mods[i]), plan->caller_module[k]))
                    cfile_mods[k] = strdup(mods[i]);
        fclose(f);
    }
    closedir(d);
    if (cline && cline[0] && cline_ord == want) {
        snprintf(out, cap, "%s", cline);
    } else if (plan && plan->n_callers && !plan->then) {
        for (int k = 0; k < plan->n_callers && k < FS_PLAN_MAX_CALLERS; k++) {
            char one[2048];
            if (!cfile_mods[k])
                break;
            fs_frame_text(sym, cfile_mods[k], plan->caller_offset[k], one, sizeof one);
            size_t w = strlen(out);
            snprintf(out + w, cap - w, "%s%s", w ? "\n" : "", one);
        }
    }
    for (int k = 0; k < FS_PLAN_MAX_CALLERS; k++)
        free(cfile_mods[k]);
    for (int i = 0; mods && i < FS_VMOD; i++)
        free(mods[i]);
    free(mods);
    free(line);
    free(cline);
}

int fs_verdict_run(sqlite3 *db, struct fs_symbolizer *sym, const char *run_dir, const struct fs_plan *plan,
                   int64_t run_id, char *err, size_t errlen)
{
    if (plan && plan->trigger != FS_PLAN_NONE) {
        char callers[4096];
        fs_fault_callers(sym, run_dir, plan, callers, sizeof callers);
        if (callers[0]) {
            sqlite3_stmt *st = fs_db_prepare(db, "UPDATE run SET fault_callers = ?2 WHERE id = ?1", err, errlen);
            if (!st)
                return -1;
            sqlite3_bind_int64(st, 1, run_id);
            sqlite3_bind_text(st, 2, callers, -1, SQLITE_TRANSIENT);
            int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
            if (rc)
                snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            if (rc)
                return -1;
        }
    }
    return fs_verdict_apply(db, fs_verdict_cfg, run_id, err, errlen) < 0 ? -1 : 0;
}

int64_t fs_verdict_count(sqlite3 *db, const char *status, const char *category, int64_t session_id,
                         int64_t run_id)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db,
            "SELECT count(*) FROM findings f WHERE f.status = ?1 AND (?2 IS NULL OR f.category = ?2)"
            " AND (?3 = 0 AND ?4 = 0 OR EXISTS (SELECT 1 FROM finding_run fr JOIN run r ON r.id = fr.run_id"
            "   WHERE fr.finding_id = f.id AND (?3 = 0 OR r.session_id = ?3) AND (?4 = 0 OR r.id = ?4)))",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    if (category)
        sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, session_id);
    sqlite3_bind_int64(st, 4, run_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

void fs_verdict_summary(sqlite3 *db, int64_t session_id, int64_t run_id, char *out, size_t cap)
{
    int64_t s = fs_verdict_count(db, "suppressed", NULL, session_id, run_id);
    int64_t g = fs_verdict_count(db, "driver-gave-up", NULL, session_id, run_id);
    int64_t o = fs_verdict_count(db, "out-of-scope", NULL, session_id, run_id);
    out[0] = '\0';
    if (s <= 0 && g <= 0 && o <= 0)
        return;
    snprintf(out, cap, "%lld suppressed, %lld driver-gave-up, %lld out of scope: not counted (SELECT * FROM findings "
                       "WHERE status != 'open')", (long long)(s > 0 ? s : 0), (long long)(g > 0 ? g : 0),
             (long long)(o > 0 ? o : 0));
}
