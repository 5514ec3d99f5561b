/* report.c — `faultstack report`, `faultstack repro` and `faultstack functions`.
 *
 * report reads only the public views (findings, runs) plus finding_run for
 * --session, so what it prints is what users can query themselves with SQL.
 * It groups the findings by site (the call that acquired, released or
 * crashed), lists under each site the faults that expose it, and writes text,
 * JSON, JUnit XML or SARIF 2.1.0. repro replays a finding with its repro
 * command (a `faultstack run` in exec mode, into the same database) and then
 * checks that the replay failed the same fault site and showed the finding. */
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
#include "funcs.h"
#include "ingest.h"
#include "plan.h"
#include "report_suppressions.h"
#include "verdict.h"

#define FS_REPORT_TOOL_VERSION "0.1.0"
#define FS_REPORT_INFO_URI "https://github.com/faultstack/faultstack"

/* ---------------- output helpers ---------------- */

/* Length of the valid UTF-8 sequence at s, or 0 when s does not start one. */
static int fs_utf8_len(const unsigned char *s)
{
    int n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && s[0] < 0xC2)
        return 0;                            /* overlong */
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A JSON string (or null); bytes that are not UTF-8 become U+FFFD. */
static void fs_json_str(FILE *f, const char *s)
{
    if (!s) { fputs("null", f); return; }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = fs_utf8_len(p);
        if (n == 0) { fputs("\\ufffd", f); p++; continue; }
        if (n > 1) { fwrite(p, 1, (size_t)n, f); p += n; continue; }
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
        p++;
    }
    fputc('"', f);
}

/* XML text or attribute value: the five entities escaped, characters XML 1.0
 * forbids (controls but tab and newline) and bytes that are not UTF-8 as '?'. */
static void fs_xml_str(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        int n = fs_utf8_len(p);
        if (n == 0) { fputc('?', f); p++; continue; }
        if (n > 1) { fwrite(p, 1, (size_t)n, f); p += n; continue; }
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\t': fputs("&#9;", f); break;
        default: fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
        }
        p++;
    }
}

/* ---------------- the findings, loaded and grouped ---------------- */

/* Columns read from the findings view, in this order. The first 15 are the
 * fields of the JSON format since it exists; the others were added after. */
enum {
    F_ID, F_CATEGORY, F_KIND, F_ANOMALY, F_FUNC, F_MODULE, F_FILE, F_LINE, F_SYMBOL, F_FAULT_FUNC,
    F_FAULT_FILE, F_FAULT_LINE, F_RUNS, F_FIRST_RUN, F_REPRO, F_OFFSET, F_FAULT_MODULE, F_FAULT_OFFSET,
    F_STATUS, F_SUPPRESSION, F_FAULT_CALLER,
    F_NCOLS
};
static const char *const fs_col_names[F_NCOLS] = {
    "id", "category", "kind", "anomaly", "func", "module", "file", "line", "symbol", "fault_func",
    "fault_file", "fault_line", "runs", "first_run", "repro", "offset", "fault_module", "fault_offset",
    "status", "suppression", "fault_callers"
};

struct fs_cell { int is_int; int64_t i; char *s; };   /* s == NULL and !is_int: SQL NULL */
struct fs_frow { struct fs_cell c[F_NCOLS]; int site; int site_findings; int64_t site_runs; };

struct fs_report {
    sqlite3 *db;
    const char *db_path;
    int64_t session;          /* -1: every session */
    struct fs_frow *rows;
    int n, cap, nsites;
    int64_t runs, fault_runs, crashed, timed_out, duration_ms;
    const char *srcroot;      /* SARIF: files under it get relative URIs */
    int open_only;            /* only findings of status 'open' (text, junit, sarif; verdict.c) */
};

static const char *fs_s(const struct fs_frow *r, int c) { return r->c[c].s; }
static int64_t fs_i(const struct fs_frow *r, int c) { return r->c[c].is_int ? r->c[c].i : 0; }

static int fs_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Do two findings have the same site (what, and where in the program)? */
static int fs_same_site(const struct fs_frow *a, const struct fs_frow *b)
{
    static const int cols[] = { F_CATEGORY, F_KIND, F_ANOMALY, F_FUNC, F_MODULE, F_FILE };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (!fs_same(fs_s(a, cols[k]), fs_s(b, cols[k])))
            return 0;
    return a->c[F_LINE].is_int == b->c[F_LINE].is_int && fs_i(a, F_LINE) == fs_i(b, F_LINE) &&
           a->c[F_OFFSET].is_int == b->c[F_OFFSET].is_int && fs_i(a, F_OFFSET) == fs_i(b, F_OFFSET);
}

static void fs_report_free(struct fs_report *R)
{
    for (int k = 0; k < R->n; k++)
        for (int c = 0; c < F_NCOLS; c++)
            free(R->rows[k].c[c].s);
    free(R->rows);
    R->rows = NULL;
    R->n = R->cap = 0;
}

/* Findings of the scope ordered by site, then baseline first, then by fault.
 * Returns 0, or -1 with the message in err. */
static int fs_report_load(struct fs_report *R, char *err, size_t errlen)
{
    static const char *sql =
        "SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.module, f.file, f.line, f.symbol,"
        " f.fault_func, f.fault_file, f.fault_line,"
        " CASE WHEN ?1 IS NULL THEN f.runs ELSE (SELECT count(*) FROM finding_run fr JOIN runs r"
        "   ON r.id = fr.run_id WHERE fr.finding_id = f.id AND r.session_id = ?1) END,"
        " f.first_run, f.repro, f.offset, f.fault_module, f.fault_offset, f.status, f.suppression, f.fault_callers"
        " FROM findings f"
        " WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r ON r.id = fr.run_id"
        "   WHERE fr.finding_id = f.id AND r.session_id = ?1)) AND (?2 = 0 OR f.status = 'open')"
        " ORDER BY CASE f.category WHEN 'leak' THEN 0 WHEN 'anomaly' THEN 1 WHEN 'crash' THEN 2"
        "   WHEN 'timeout' THEN 3 ELSE 4 END, f.category, f.file, f.line, f.module, f.offset, f.kind,"
        "   f.anomaly, f.func, f.fault_func IS NOT NULL, f.fault_file, f.fault_line, f.id";
    int rc = -1;
    sqlite3_stmt *st = fs_db_prepare(R->db, sql, err, errlen);
    if (!st)
        goto out;
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    fs_bind_int(st, 2, R->open_only);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (R->n == R->cap) {
            int nc = R->cap ? R->cap * 2 : 32;
            struct fs_frow *nr = realloc(R->rows, (size_t)nc * sizeof *nr);
            if (!nr) { snprintf(err, errlen, "out of memory reading the findings"); goto out; }
            R->rows = nr;
            R->cap = nc;
        }
        struct fs_frow *r = &R->rows[R->n++];
        memset(r, 0, sizeof *r);
        for (int c = 0; c < F_NCOLS; c++) {
            int t = sqlite3_column_type(st, c);
            if (t == SQLITE_INTEGER) {
                r->c[c].is_int = 1;
                r->c[c].i = sqlite3_column_int64(st, c);
            } else if (t != SQLITE_NULL) {
                r->c[c].s = strdup((const char *)sqlite3_column_text(st, c));
                if (!r->c[c].s) { snprintf(err, errlen, "out of memory reading the findings"); goto out; }
            }
        }
        if (R->n == 1 || !fs_same_site(&R->rows[R->n - 2], r))
            R->nsites++;
        r->site = R->nsites;
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the findings view: %s", sqlite3_errmsg(R->db));
        goto out;
    }
    for (int k = 0, j; k < R->n; k = j) {     /* per-site totals */
        int64_t runs = 0;
        for (j = k; j < R->n && R->rows[j].site == R->rows[k].site; j++)
            runs += fs_i(&R->rows[j], F_RUNS);
        for (int m = k; m < j; m++) {
            R->rows[m].site_findings = j - k;
            R->rows[m].site_runs = runs;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Runs in scope that tested nothing or ran on an unusual baseline (the runs
 * view): runs not (or only partly) observed (runs.observed != 1: the preload
 * could not enter the program, runs.note says why) and baseline runs (no fault, not a sweep's fault run)
 * that did not exit 0. Printed to f; returns the number of runs not
 * observed. */
static int64_t fs_report_untested(const struct fs_report *R, FILE *f)
{
    int64_t unobserved = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(R->db,
            "SELECT id, command, observed != 1, exit_code, signal, timed_out, observed, note FROM runs"
            " WHERE (?1 IS NULL OR session_id = ?1) AND (observed != 1 OR (fault_spec IS NULL"
            " AND sweep_key IS NULL AND confirms IS NULL AND (exit_code IS NOT 0 OR timed_out = 1)))"
            " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return 0;
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    int shown = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *cmd = (const char *)sqlite3_column_text(st, 1);
        int no = sqlite3_column_int(st, 2);
        unobserved += no;
        if (shown++ >= 10)
            continue;
        const char *note = (const char *)sqlite3_column_text(st, 7);
        if (no)
            fprintf(f, "%s: run %lld (%.200s): %s\n", sqlite3_column_int(st, 6) == 2 ? "PARTLY OBSERVED" : "NOT OBSERVED",
                    id, cmd ? cmd : "?", note && *note ? note : "the preload could not enter the program, nothing was tested");
        else if (sqlite3_column_int(st, 5))
            fprintf(f, "note: baseline run %lld (%.200s) timed out\n", id, cmd ? cmd : "?");
        else if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            fprintf(f, "note: baseline run %lld (%.200s) died of signal %d\n", id, cmd ? cmd : "?",
                    sqlite3_column_int(st, 4));
        else
            fprintf(f, "note: baseline run %lld (%.200s) exited %d: its faults were injected into that path\n",
                    id, cmd ? cmd : "?", sqlite3_column_int(st, 3));
    }
    if (shown > 10)
        fprintf(f, "(%d more such runs)\n", shown - 10);
    sqlite3_finalize(st);
    return unobserved;
}

/* Totals of the runs in scope (the runs view). Returns 0 or -1. */
static int fs_report_runs(struct fs_report *R, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(R->db,
        "SELECT count(*), coalesce(sum(injected > 0), 0), coalesce(sum(signal IS NOT NULL), 0),"
        " coalesce(sum(timed_out), 0), coalesce(sum(duration_ms), 0) FROM runs"
        " WHERE ?1 IS NULL OR session_id = ?1", err, errlen);
    int rc = -1;
    if (!st)
        return -1;
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    if (sqlite3_step(st) == SQLITE_ROW) {
        R->runs = sqlite3_column_int64(st, 0);
        R->fault_runs = sqlite3_column_int64(st, 1);
        R->crashed = sqlite3_column_int64(st, 2);
        R->timed_out = sqlite3_column_int64(st, 3);
        R->duration_ms = sqlite3_column_int64(st, 4);
        rc = 0;
    } else {
        snprintf(err, errlen, "cannot read the runs view: %s", sqlite3_errmsg(R->db));
    }
    sqlite3_finalize(st);
    return rc;
}

/* "open at /src/x.c:25 (in copy_file)": where the site is, in words. */
static void fs_site_words(const struct fs_frow *r, char *buf, size_t len)
{
    const char *cat = fs_s(r, F_CATEGORY), *func = fs_s(r, F_FUNC), *file = fs_s(r, F_FILE);
    const char *sym = fs_s(r, F_SYMBOL), *mod = fs_s(r, F_MODULE);
    char where[PATH_MAX + 64];
    if (file)
        snprintf(where, sizeof where, "%s:%lld", file, (long long)fs_i(r, F_LINE));
    else if (mod)
        snprintf(where, sizeof where, "%s+0x%llx", mod, (unsigned long long)fs_i(r, F_OFFSET));
    else
        where[0] = '\0';
    if (cat && !strcmp(cat, "timeout") && !where[0]) {
        snprintf(buf, len, "the run did not finish in time (no site)");
        return;
    }
    if (sym && func && !strcmp(sym, func))
        sym = NULL;                          /* a crash's func is its symbol */
    snprintf(buf, len, "%s%s%s%s%s%s", func ? func : "", func && where[0] ? " at " : "",
             !func && where[0] ? "at " : "", where[0] ? where : (func ? "" : "unknown site"),
             sym ? " (in " : "", sym ? sym : "");
    if (sym)
        strncat(buf, ")", len - strlen(buf) - 1);
}

/* "leak fd", "anomaly double-release fd", "crash SIGSEGV", "timeout". */
static void fs_what_words(const struct fs_frow *r, char *buf, size_t len)
{
    const char *kind = fs_s(r, F_KIND), *an = fs_s(r, F_ANOMALY);
    snprintf(buf, len, "%s%s%s%s%s", fs_s(r, F_CATEGORY) ? fs_s(r, F_CATEGORY) : "?", an ? " " : "",
             an ? an : "", kind ? " " : "", kind ? kind : "");
}

/* "open at /src/x.c:30" or "baseline (no fault)". */
static void fs_fault_words(const struct fs_frow *r, char *buf, size_t len)
{
    const char *ff = fs_s(r, F_FAULT_FUNC), *file = fs_s(r, F_FAULT_FILE), *mod = fs_s(r, F_FAULT_MODULE);
    if (!ff)
        snprintf(buf, len, "baseline (no fault)");
    else if (file)
        snprintf(buf, len, "%s at %s:%lld", ff, file, (long long)fs_i(r, F_FAULT_LINE));
    else if (mod)
        snprintf(buf, len, "%s at %s+0x%llx", ff, mod, (unsigned long long)fs_i(r, F_FAULT_OFFSET));
    else
        snprintf(buf, len, "%s (site unknown)", ff);
}

static const char *fs_plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* ---------------- text ---------------- */

/* After the text report: the findings not counted (verdict.c), the drivers
 * that gave up listed one per line, the others counted. */
static void fs_report_triage(sqlite3 *db, int64_t session, FILE *f)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT f.id, f.status, f.kind,"
            " ifnull(f.file || ':' || f.line, ifnull(f.module || printf('+0x%x', f.offset), '?')), 0, f.symbol,"
            " f.module, f.fault_func,"
            " ifnull(f.fault_file || ':' || f.fault_line, ifnull(f.fault_module || printf('+0x%x', f.fault_offset), '?')),"
            " 0, f.fault_caller, f.suppression FROM findings f WHERE f.status != 'open'"
            " AND (?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r ON r.id = fr.run_id"
            "   WHERE fr.finding_id = f.id AND r.session_id = ?1)) ORDER BY f.status, f.id", -1, &st, NULL) != SQLITE_OK)
        return;
    fs_bind_int_or_null(st, 1, session, session < 0);
    int64_t sup = 0, gave = 0, out = 0;
    char rules[512] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 1);
        if (!strcmp(status, "suppressed")) {
            sup++;
            const char *rule = (const char *)sqlite3_column_text(st, 11);
            if (rule && !strstr(rules, rule) && strlen(rules) + strlen(rule) + 3 < sizeof rules)
                snprintf(rules + strlen(rules), sizeof rules - strlen(rules), "%s%s", rules[0] ? ", " : "", rule);
        } else if (!strcmp(status, "out-of-scope")) {
            out++;
        } else {
            if (!gave++)
                fprintf(f, "\ntest driver gave up (abort()/assert() in the driver right after an injected "
                           "failure that the code under test reported; not counted):\n");
            const char *sym = (const char *)sqlite3_column_text(st, 5), *fc = (const char *)sqlite3_column_text(st, 10);
            fprintf(f, "  #%lld %s at %s%s%s%s, after fault %s at %s%s%s\n", sqlite3_column_int64(st, 0),
                    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), sym ? " (in " : "", sym ? sym : "",
                    sym ? ")" : "", sqlite3_column_text(st, 7), sqlite3_column_text(st, 8),
                    fc ? " called from " : "", fc ? fc : "");
        }
    }
    sqlite3_finalize(st);
    if (sup || gave || out)
        fprintf(f, "\nnot counted: %lld suppressed%s%s%s, %lld driver-gave-up, %lld out of scope "
                   "(SELECT * FROM findings WHERE status != 'open')\n", (long long)sup, rules[0] ? " (rules: " : "",
                rules, rules[0] ? ")" : "", (long long)gave, (long long)out);
}

static void fs_report_text(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128];
    int64_t by_cat[6] = { 0 };
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        if (k == 0 || r->site != R->rows[k - 1].site) {
            fs_what_words(r, what, sizeof what);
            fs_site_words(r, site, sizeof site);
            fprintf(f, "%s%s: %s\n", k ? "\n" : "", what, site);
            fprintf(f, "  seen in %lld run%s%s, exposed by:\n", (long long)r->site_runs,
                    fs_plural(r->site_runs, "", "s"), R->session >= 0 ? " of this session" : "");
        }
        fs_fault_words(r, fault, sizeof fault);
        int64_t runs = fs_i(r, F_RUNS);
        fprintf(f, "  #%lld %s%s: %lld run%s%s, first run %lld\n", (long long)fs_i(r, F_ID),
                fs_s(r, F_FAULT_FUNC) ? "fault: " : "", fault, (long long)runs, fs_plural(runs, "", "s"),
                R->session >= 0 ? " of this session" : "", (long long)fs_i(r, F_FIRST_RUN));
        fprintf(f, "      repro: %s\n", fs_s(r, F_REPRO) ? fs_s(r, F_REPRO) : "(none)");
        if (fs_s(r, F_FAULT_CALLER)) {        /* the fault behind a wrapper: who called it */
            fputs("      fault called from: ", f);
            for (const char *c = fs_s(r, F_FAULT_CALLER); *c; c++)
                fputs(*c == '\n' ? " < " : (char[2]){ *c, 0 }, f);
            fputc('\n', f);
        }
        const char *cat = fs_s(r, F_CATEGORY);
        static const char *const cats[] = { "leak", "anomaly", "crash", "timeout", "memcheck" };
        int ci = 5;
        for (int c = 0; c < 5; c++)
            if (cat && !strcmp(cat, cats[c])) ci = c;
        by_cat[ci]++;
    }
    if (R->n)
        fputc('\n', f);
    if (R->session >= 0)
        fprintf(f, "session %lld: ", (long long)R->session);
    if (!R->n) {
        fprintf(f, "no findings in %lld run%s\n", (long long)R->runs, fs_plural(R->runs, "", "s"));
        fs_report_triage(R->db, R->session, f);
        return;
    }
    char mc[64] = "";                         /* --valgrind runs only */
    if (by_cat[4])
        snprintf(mc, sizeof mc, ", %lld memcheck error%s", (long long)by_cat[4], fs_plural(by_cat[4], "", "s"));
    fprintf(f, "%d finding%s at %d site%s (%lld leak%s, %lld anomal%s, %lld crash%s, %lld timeout%s%s)"
               " in %lld run%s\n", R->n, fs_plural(R->n, "", "s"), R->nsites, fs_plural(R->nsites, "", "s"),
            (long long)by_cat[0], fs_plural(by_cat[0], "", "s"), (long long)by_cat[1],
            fs_plural(by_cat[1], "y", "ies"), (long long)by_cat[2], fs_plural(by_cat[2], "", "es"),
            (long long)by_cat[3], fs_plural(by_cat[3], "", "s"), mc, (long long)R->runs, fs_plural(R->runs, "", "s"));
    fprintf(f, "replay one and check it: faultstack repro --db ");
    char q[PATH_MAX * 2] = "";
    fs_shell_quote(q, sizeof q, R->db_path);
    fprintf(f, "%s ID\n", q);
    fs_report_triage(R->db, R->session, f);
}

/* ---------------- json ---------------- */

static void fs_json_cell(FILE *f, const struct fs_cell *c)
{
    if (c->is_int)
        fprintf(f, "%lld", (long long)c->i);
    else
        fs_json_str(f, c->s);
}

/* The format since the first version: an array of objects with the columns of
 * the findings view; added fields: offset, fault_module, fault_offset, site
 * (1-based index of the finding's site in report order), site_findings,
 * site_runs, and session with --session (runs then counts that session's). */
static void fs_report_json(const struct fs_report *R, FILE *f)
{
    fputs("[", f);
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        fputs(k ? ",\n {" : "\n {", f);
        for (int c = 0; c < F_NCOLS; c++) {
            fprintf(f, "%s\"%s\": ", c ? ", " : "", fs_col_names[c]);
            fs_json_cell(f, &r->c[c]);
        }
        fprintf(f, ", \"site\": %d, \"site_findings\": %d, \"site_runs\": %lld", r->site, r->site_findings,
                (long long)r->site_runs);
        if (R->session >= 0)
            fprintf(f, ", \"session\": %lld", (long long)R->session);
        fputs("}", f);
    }
    fputs(R->n ? "\n]\n" : "]\n", f);
}

/* ---------------- junit ---------------- */

/* JUnit XML as GitLab and Jenkins read it: one testsuite per site, one failing
 * testcase per finding (the repro in the failure), and a passing testcase for
 * the runs recorded. Test names carry no finding ids, so they stay the same
 * from one pipeline to the next. */
static void fs_report_junit(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128], qdb[PATH_MAX * 2] = "";
    fs_shell_quote(qdb, sizeof qdb, R->db_path);
    int tests = R->n + (R->runs > 0);
    double secs = (double)R->duration_ms / 1000.0;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"faultstack\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
            tests, R->n, secs);
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        fs_what_words(r, what, sizeof what);
        fs_site_words(r, site, sizeof site);
        if (k == 0 || r->site != R->rows[k - 1].site) {
            fputs("  <testsuite name=\"", f);
            fs_xml_str(f, what); fputs(": ", f); fs_xml_str(f, site);
            fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"0\">\n",
                    r->site_findings, r->site_findings);
        }
        fs_fault_words(r, fault, sizeof fault);
        fputs("    <testcase classname=\"faultstack.", f);
        fs_xml_str(f, fs_s(r, F_CATEGORY));
        if (fs_s(r, F_KIND)) { fputc('.', f); fs_xml_str(f, fs_s(r, F_KIND)); }
        fputs("\" name=\"", f);
        fs_xml_str(f, site);
        fputs(fs_s(r, F_FAULT_FUNC) ? " when " : ", ", f);
        fs_xml_str(f, fault);
        if (fs_s(r, F_FAULT_FUNC)) fputs(" fails", f);
        fputc('"', f);
        if (fs_s(r, F_FILE)) {
            fputs(" file=\"", f); fs_xml_str(f, fs_s(r, F_FILE));
            fprintf(f, "\" line=\"%lld\"", (long long)fs_i(r, F_LINE));
        }
        fputs(" time=\"0\">\n      <failure type=\"", f);
        fs_xml_str(f, what);
        fputs("\" message=\"", f);
        fs_xml_str(f, what); fputs(": ", f); fs_xml_str(f, site);
        fputs(fs_s(r, F_FAULT_FUNC) ? " when " : ", ", f);
        fs_xml_str(f, fault);
        if (fs_s(r, F_FAULT_FUNC)) fputs(" fails", f);
        fprintf(f, " (finding #%lld, %lld run%s); repro: ", (long long)fs_i(r, F_ID),
                (long long)fs_i(r, F_RUNS), fs_plural(fs_i(r, F_RUNS), "", "s"));
        fs_xml_str(f, fs_s(r, F_REPRO));
        fputs("\">", f);
        fs_xml_str(f, what); fputs(": ", f); fs_xml_str(f, site); fputc('\n', f);
        fputs("fault: ", f); fs_xml_str(f, fault); fputc('\n', f);
        fprintf(f, "finding #%lld, seen in %lld run%s, first run %lld\n", (long long)fs_i(r, F_ID),
                (long long)fs_i(r, F_RUNS), fs_plural(fs_i(r, F_RUNS), "", "s"), (long long)fs_i(r, F_FIRST_RUN));
        fputs("repro: ", f); fs_xml_str(f, fs_s(r, F_REPRO)); fputc('\n', f);
        fprintf(f, "check the replay: faultstack repro --db ");
        fs_xml_str(f, qdb);
        fprintf(f, " %lld</failure>\n    </testcase>\n", (long long)fs_i(r, F_ID));
        if (k + 1 == R->n || R->rows[k + 1].site != r->site)
            fputs("  </testsuite>\n", f);
    }
    if (R->runs > 0) {
        fprintf(f, "  <testsuite name=\"faultstack runs\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\""
                   " time=\"%.3f\">\n", secs);
        fprintf(f, "    <testcase classname=\"faultstack.summary\" name=\"%lld run%s (%lld with an injected fault, "
                   "%lld killed by a signal, %lld timed out), %d finding%s\" time=\"%.3f\"/>\n",
                (long long)R->runs, fs_plural(R->runs, "", "s"), (long long)R->fault_runs, (long long)R->crashed,
                (long long)R->timed_out, R->n, fs_plural(R->n, "", "s"), secs);
        fputs("  </testsuite>\n", f);
    } else if (R->n == 0) {
        fputs("  <testsuite name=\"faultstack\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\"/>\n", f);
    }
    fputs("</testsuites>\n", f);
}

/* ---------------- sarif ---------------- */

/* The rule of a finding: category/kind, with the anomaly between for anomalies. */
static void fs_rule_id(const struct fs_frow *r, char *buf, size_t len)
{
    const char *kind = fs_s(r, F_KIND), *an = fs_s(r, F_ANOMALY);
    snprintf(buf, len, "%s%s%s%s%s", fs_s(r, F_CATEGORY) ? fs_s(r, F_CATEGORY) : "unknown", an ? "/" : "",
             an ? an : "", kind ? "/" : "", kind ? kind : "");
}

/* "leak/double-release/fd" -> "LeakDoubleReleaseFd" */
static void fs_rule_name(const char *id, char *buf, size_t len)
{
    size_t n = 0;
    int up = 1;
    for (const char *p = id; *p && n + 1 < len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) { up = 1; continue; }
        buf[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        up = 0;
    }
    buf[n] = '\0';
}

static void fs_rule_text(const struct fs_frow *r, char *shortd, size_t slen, char *full, size_t flen)
{
    const char *cat = fs_s(r, F_CATEGORY) ? fs_s(r, F_CATEGORY) : "", *kind = fs_s(r, F_KIND) ? fs_s(r, F_KIND) : "resource";
    const char *an = fs_s(r, F_ANOMALY);
    if (!strcmp(cat, "leak")) {
        snprintf(shortd, slen, "%s leak", kind);
        snprintf(full, flen, "A resource of kind %s acquired at this site is left unreleased (and can no longer "
                 "be released) when the process ends, typically on an error path.", kind);
    } else if (!strcmp(cat, "anomaly")) {
        snprintf(shortd, slen, "%s of a %s", an ? an : "misuse", kind);
        snprintf(full, flen, "The release (or lock) at this site is a %s of a resource of kind %s.",
                 an ? an : "misuse", kind);
    } else if (!strcmp(cat, "crash")) {
        snprintf(shortd, slen, "crash (%s)", kind);
        snprintf(full, flen, "The program died by %s at this site.", kind);
    } else if (!strcmp(cat, "timeout")) {
        snprintf(shortd, slen, "timeout");
        snprintf(full, flen, "The program did not finish within the run's --timeout (a hang or deadlock).");
    } else if (!strcmp(cat, "memcheck")) {
        snprintf(shortd, slen, "memcheck %s", kind);
        snprintf(full, flen, "Valgrind's memcheck reported %s here (faultstack run --valgrind): a memory error, "
                 "typically on an error path.", kind);
    } else {
        snprintf(shortd, slen, "%s", cat);
        snprintf(full, flen, "faultstack finding of category %s.", cat);
    }
}

/* A file name as a URI reference: relative to srcroot (uriBaseId SRCROOT)
 * when under it or relative, else an absolute file:// URI. Percent-encodes
 * what RFC 3986 does not allow in a path. Sets *based. */
static void fs_uri(const char *srcroot, const char *file, char *buf, size_t len, int *based)
{
    const char *path = file;
    size_t rl = srcroot ? strlen(srcroot) : 0;
    size_t n = 0;
    *based = 0;
    if (file[0] == '/' && rl && !strncmp(file, srcroot, rl) && (file[rl] == '/' || srcroot[rl - 1] == '/')) {
        path = file + rl + (file[rl] == '/');
        *based = 1;
    } else if (file[0] != '/') {
        *based = 1;
    } else {
        n = (size_t)snprintf(buf, len, "file://");
    }
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/!$&'()*+,;=@", *p))
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
    }
    buf[n] = '\0';
}

static void fs_sarif_phys(const struct fs_report *R, FILE *f, const char *file, int64_t line, const char *ind)
{
    char uri[PATH_MAX * 3 + 16];
    int based;
    fs_uri(R->srcroot, file, uri, sizeof uri, &based);
    fprintf(f, "%s\"physicalLocation\": {\n%s  \"artifactLocation\": {\"uri\": ", ind, ind);
    fs_json_str(f, uri);
    if (based)
        fputs(", \"uriBaseId\": \"SRCROOT\"", f);
    fputs("}", f);
    if (line > 0)
        fprintf(f, ",\n%s  \"region\": {\"startLine\": %lld}", ind, (long long)line);
    fprintf(f, "\n%s}", ind);
}

/* SARIF 2.1.0: one run of tool faultstack, a rule per category/kind, one
 * result (level error) per finding located at its site, the fault site as a
 * related location, the repro in the message and in properties. */
static void fs_report_sarif(const struct fs_report *R, FILE *f)
{
    char (*rules)[160] = calloc((size_t)R->n + 1, sizeof *rules);
    int *rule_of = calloc((size_t)R->n + 1, sizeof *rule_of);
    int nrules = 0;
    char id[160], name[160], sd[256], fd[512];
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128];
    if (!rules || !rule_of) {
        fprintf(stderr, "faultstack report: out of memory writing SARIF\n");
        goto out;
    }
    for (int k = 0; k < R->n; k++) {
        fs_rule_id(&R->rows[k], id, sizeof id);
        int j = 0;
        while (j < nrules && strcmp(rules[j], id)) j++;
        if (j == nrules)
            snprintf(rules[nrules++], sizeof rules[0], "%s", id);
        rule_of[k] = j;
    }
    fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n"
          "  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": {\n"
          "          \"name\": \"faultstack\",\n          \"version\": \"" FS_REPORT_TOOL_VERSION "\",\n"
          "          \"informationUri\": \"" FS_REPORT_INFO_URI "\",\n          \"rules\": [", f);
    for (int j = 0; j < nrules; j++) {
        int k = 0;
        while (rule_of[k] != j) k++;
        fs_rule_name(rules[j], name, sizeof name);
        fs_rule_text(&R->rows[k], sd, sizeof sd, fd, sizeof fd);
        fputs(j ? ",\n            {\"id\": " : "\n            {\"id\": ", f);
        fs_json_str(f, rules[j]);
        fputs(", \"name\": ", f); fs_json_str(f, name);
        fputs(", \"shortDescription\": {\"text\": ", f); fs_json_str(f, sd);
        fputs("}, \"fullDescription\": {\"text\": ", f); fs_json_str(f, fd);
        fputs("}, \"defaultConfiguration\": {\"level\": \"error\"}, \"properties\": {\"category\": ", f);
        fs_json_str(f, fs_s(&R->rows[k], F_CATEGORY));
        fputs("}}", f);
    }
    fputs(nrules ? "\n          ]\n" : "]\n", f);
    fputs("        }\n      },\n", f);
    if (R->srcroot) {
        char root[PATH_MAX * 3 + 16];
        int based;
        fs_uri(NULL, R->srcroot, root, sizeof root - 2, &based);
        if (root[strlen(root) - 1] != '/')
            strcat(root, "/");
        fputs("      \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": ", f);
        fs_json_str(f, root);
        fputs("}},\n", f);
    }
    fputs("      \"results\": [", f);
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        fs_what_words(r, what, sizeof what);
        fs_site_words(r, site, sizeof site);
        fs_fault_words(r, fault, sizeof fault);
        int has_fault = fs_s(r, F_FAULT_FUNC) != NULL;
        char msg[PATH_MAX * 4 + 20000];
        snprintf(msg, sizeof msg, "%s: %s, %s%s%s (finding #%lld, seen in %lld run%s). Repro: %s", what, site,
                 has_fault ? "when " : "", fault, has_fault ? " fails" : "", (long long)fs_i(r, F_ID),
                 (long long)fs_i(r, F_RUNS), fs_plural(fs_i(r, F_RUNS), "", "s"),
                 fs_s(r, F_REPRO) ? fs_s(r, F_REPRO) : "(none)");
        fputs(k ? ",\n        {\n" : "\n        {\n", f);
        fputs("          \"ruleId\": ", f); fs_json_str(f, rules[rule_of[k]]);
        fprintf(f, ",\n          \"ruleIndex\": %d,\n          \"level\": \"error\",\n", rule_of[k]);
        fputs("          \"message\": {\"text\": ", f); fs_json_str(f, msg); fputs("}", f);
        /* the finding's own site; a timeout has none: use the fault site */
        const char *file = fs_s(r, F_FILE);
        int64_t line = fs_i(r, F_LINE);
        int loc_is_fault = 0;
        if (!file && fs_s(r, F_FAULT_FILE)) {
            file = fs_s(r, F_FAULT_FILE);
            line = fs_i(r, F_FAULT_LINE);
            loc_is_fault = 1;
        }
        if (file) {
            fputs(",\n          \"locations\": [\n            {\n", f);
            fs_sarif_phys(R, f, file, line, "              ");
            if (fs_s(r, F_SYMBOL) && !loc_is_fault) {
                fputs(",\n              \"logicalLocations\": [{\"name\": ", f);
                fs_json_str(f, fs_s(r, F_SYMBOL));
                fputs(", \"kind\": \"function\"}]", f);
            }
            fputs("\n            }\n          ]", f);
        }
        if (has_fault && fs_s(r, F_FAULT_FILE) && !loc_is_fault) {
            char rm[PATH_MAX + 256];
            snprintf(rm, sizeof rm, "injected fault: %s fails here", fs_s(r, F_FAULT_FUNC));
            fputs(",\n          \"relatedLocations\": [\n            {\n              \"id\": 1,\n", f);
            fs_sarif_phys(R, f, fs_s(r, F_FAULT_FILE), fs_i(r, F_FAULT_LINE), "              ");
            fputs(",\n              \"message\": {\"text\": ", f);
            fs_json_str(f, rm);
            fputs("}\n            }\n          ]", f);
        }
        fputs(",\n          \"properties\": {", f);
        static const int props[] = { F_ID, F_RUNS, F_FIRST_RUN, F_REPRO, F_MODULE, F_OFFSET, F_FAULT_FUNC,
                                     F_FAULT_MODULE, F_FAULT_OFFSET };
        for (size_t p = 0; p < sizeof props / sizeof props[0]; p++) {
            fprintf(f, "%s\"%s\": ", p ? ", " : "", fs_col_names[props[p]]);
            fs_json_cell(f, &r->c[props[p]]);
        }
        fputs("}\n        }", f);
    }
    fputs(R->n ? "\n      ]\n" : "]\n", f);
    fputs("    }\n  ]\n}\n", f);
out:
    free(rules);
    free(rule_of);
}

static void fs_report_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack report [--db FILE] [--format text|json|junit|sarif|suppressions] [--session ID]\n"
        "                         [--srcroot DIR] [--suppressions FILE]... [--scope MODULES]\n"
        "  Print the deduplicated findings of the database (the findings view), grouped\n"
        "  by site, with the faults that expose each site and their repro commands.\n"
        "  --format text    for people (default); json: an array of findings;\n"
        "           junit   JUnit XML for CI test reports (GitLab, Jenkins);\n"
        "           sarif   SARIF 2.1.0 for code scanning (GitHub, IDEs);\n"
        "           suppressions  a suppressions file accepting today's findings (a baseline:\n"
        "                   pass it to --suppressions later; docs/suppressions.md)\n"
        "  --suppressions FILE, --scope MODULES  triage every finding of the database again\n"
        "                   with these rules / modules (as sweep and run do; the marks are kept)\n"
        "  Only open findings are listed (text, junit, sarif) and counted in the exit status;\n"
        "  suppressed, driver-gave-up and out-of-scope ones are counted after the text report\n"
        "  (json lists every finding with its status).\n"
        "  --session ID     only the findings of runs of session ID (runs.session_id);\n"
        "                   their run counts are then counts of that session's runs\n"
        "  --srcroot DIR    sarif: file URIs relative to DIR (default: the current directory)\n"
        "  Runs that were not observed (the preload could not enter the program) and\n"
        "  baseline runs that did not exit 0 are listed after the findings (text) or on\n"
        "  stderr (other formats).\n"
        "exit status: 0 no findings (and every run observed), 1 findings, 2 usage or tool\n"
        "error, or no findings while some run was not observed\n");
}

int fs_cmd_report(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *format = "text", *session = NULL, *srcroot = NULL;
    struct fs_report R;
    char err[1024], cwd[PATH_MAX], root[PATH_MAX];
    int rc = 2;
    memset(&R, 0, sizeof R);
    R.session = -1;
    static struct fs_judge judge;             /* --suppressions, --scope (verdict.c) */
    for (int i = 1; i < argc; i++) {
        const char **slot = NULL, *a = argv[i];
        size_t ol = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fs_report_usage(stdout); return 0; }
        if (!strncmp(a, "--suppressions", ol = 14) || !strncmp(a, "--scope", ol = 7)) {
            char name[16];
            snprintf(name, sizeof name, "%.*s", (int)ol, a);
            const char *v = a[ol] == '=' ? a + ol + 1 : a[ol] == '\0' && i + 1 < argc ? argv[++i] : NULL;
            int j = (a[ol] == '=' || a[ol] == '\0') && v ? fs_judge_option(&judge, "report", name, v) : 0;
            if (j > 0)
                continue;
            if (j == 0)
                fprintf(stderr, "faultstack report: %s needs a value\n", name);
            return 2;
        }
        if (!strncmp(a, "--db", ol = 4)) slot = &db_path;
        else if (!strncmp(a, "--format", ol = 8)) slot = &format;
        else if (!strncmp(a, "--session", ol = 9)) slot = &session;
        else if (!strncmp(a, "--srcroot", ol = 9)) slot = &srcroot;
        if (slot && a[ol] == '=') { *slot = a + ol + 1; continue; }
        if (slot && a[ol] == '\0' && i + 1 < argc) { *slot = argv[++i]; continue; }
        if (slot && a[ol] == '\0')
            fprintf(stderr, "faultstack report: %s needs a value\n", a);
        else
            fprintf(stderr, "faultstack report: unknown option '%s'\n", a);
        fs_report_usage(stderr);
        return 2;
    }
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "junit") && strcmp(format, "sarif") &&
        strcmp(format, "suppressions")) {
        fprintf(stderr, "faultstack report: unknown --format '%s'; use text, json, junit, sarif or suppressions\n",
                format);
        return 2;
    }
    R.open_only = strcmp(format, "json") != 0;
    if (session) {
        char *end = NULL;
        long long s = strtoll(session, &end, 10);
        if (!*session || *end || s <= 0) {
            fprintf(stderr, "faultstack report: bad --session '%s'; give a session id (runs.session_id), "
                            "e.g. --session 1\n", session);
            return 2;
        }
        R.session = s;
    }
    if (srcroot) {
        if (!realpath(srcroot, root)) {
            fprintf(stderr, "faultstack report: --srcroot '%s': %s; give an existing directory\n", srcroot,
                    strerror(errno));
            return 2;
        }
        R.srcroot = root;
    } else if (getcwd(cwd, sizeof cwd)) {
        R.srcroot = cwd;
    }
    if (access(db_path, F_OK) != 0) {
        fprintf(stderr, "faultstack report: no database '%s'; run `faultstack run -- PROGRAM` first or pass --db\n",
                db_path);
        return 2;
    }
    R.db_path = db_path;
    R.db = fs_db_open(db_path, err, sizeof err);
    if (!R.db) {
        fprintf(stderr, "faultstack report: %s\n", err);
        return 2;
    }
    if ((judge.nfiles || judge.nscope) && fs_verdict_apply(R.db, &judge, 0, err, sizeof err) < 0) {
        fprintf(stderr, "faultstack report: %s: %s\n", db_path, err);
        goto out;
    }
    if (fs_report_runs(&R, err, sizeof err) != 0 || fs_report_load(&R, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack report: %s: %s; check the database (sqlite3 %s 'PRAGMA integrity_check')\n",
                db_path, err, db_path);
        goto out;
    }
    if (R.session >= 0 && R.runs == 0) {
        fprintf(stderr, "faultstack report: session %lld has no runs in '%s'; list the sessions with: "
                        "sqlite3 %s 'SELECT DISTINCT session_id FROM runs'\n", (long long)R.session, db_path, db_path);
        goto out;
    }
    if (!strcmp(format, "suppressions")) {   /* report_suppressions.c */
        if (fs_report_suppressions(R.db, R.session, stdout, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack report: %s: %s\n", db_path, err);
            goto out;
        }
    } else if (!strcmp(format, "json"))
        fs_report_json(&R, stdout);
    else if (!strcmp(format, "junit"))
        fs_report_junit(&R, stdout);
    else if (!strcmp(format, "sarif"))
        fs_report_sarif(&R, stdout);
    else
        fs_report_text(&R, stdout);
    /* what was not tested: in the text report, else on stderr */
    int64_t unobserved = fs_report_untested(&R, strcmp(format, "text") ? stderr : stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "faultstack report: cannot write the report: %s; check the output file or pipe\n",
                strerror(errno));
        goto out;
    }
    for (int k = 0; k < R.n; k++)             /* json lists them all: count the open ones */
        if (fs_s(&R.rows[k], F_STATUS) && !strcmp(fs_s(&R.rows[k], F_STATUS), "open"))
            rc = 1;
    if (rc != 1)
        rc = 0;
    if (rc == 0 && unobserved) {
        fprintf(stderr, "faultstack report: not clean: %lld run%s not observed (nothing was tested there); exit 2\n",
                (long long)unobserved, unobserved == 1 ? " was" : "s were");
        rc = 2;
    }
out:
    fs_report_free(&R);
    sqlite3_close(R.db);
    return rc;
}

/* ---------------- shell words (repro commands) ---------------- */

void fs_shell_free(char **words)
{
    if (!words)
        return;
    for (char **w = words; *w; w++)
        free(*w);
    free(words);
}

/* Append one byte to the growing word *w (length *n). Returns 0 or -1. */
static int fs_word_put(char **w, size_t *n, char c)
{
    char *nw = realloc(*w, *n + 2);
    if (!nw)
        return -1;
    nw[(*n)++] = c;
    nw[*n] = '\0';
    *w = nw;
    return 0;
}

char **fs_shell_split(const char *s, int *count, char *err, size_t errlen)
{
    char **words = calloc(1, sizeof *words), *w = NULL;
    size_t nw = 0, wl = 0;
    int inword = 0, nomem = !words;
    for (const char *p = s; !nomem; p++) {
        char c = *p;
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
            if (inword) {
                char **nws = realloc(words, (nw + 2) * sizeof *words);
                if (!nws || (!w && !(w = strdup("")))) {
                    if (nws) words = nws;
                    nomem = 1;
                    break;
                }
                words = nws;
                words[nw++] = w;
                words[nw] = NULL;
                w = NULL;
                wl = 0;
                inword = 0;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (!inword && c == '#') {
            snprintf(err, errlen, "it has a shell comment ('#' at offset %d)", (int)(p - s));
            goto fail;
        }
        inword = 1;
        if (c == '\'') {
            for (p++; *p && *p != '\'' && !nomem; p++)
                nomem = fs_word_put(&w, &wl, *p) != 0;
            if (!nomem && !*p) { snprintf(err, errlen, "it has an unterminated single quote"); goto fail; }
            nomem = nomem || (!w && !(w = strdup("")));
        } else if (c == '"') {
            for (p++; *p && *p != '"' && !nomem; p++) {
                if (*p == '$' || *p == '`') {
                    snprintf(err, errlen, "it has a shell expansion ('%c' at offset %d)", *p, (int)(p - s));
                    goto fail;
                }
                if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1]))
                    p++;
                nomem = fs_word_put(&w, &wl, *p) != 0;
            }
            if (!nomem && !*p) { snprintf(err, errlen, "it has an unterminated double quote"); goto fail; }
            nomem = nomem || (!w && !(w = strdup("")));
        } else if (c == '\\') {
            if (!p[1]) { snprintf(err, errlen, "it ends with a backslash"); goto fail; }
            p++;
            nomem = *p != '\n' && fs_word_put(&w, &wl, *p) != 0;
        } else if (strchr("|&;<>()$`*?[~{}", c)) {
            snprintf(err, errlen, "it has unquoted shell syntax ('%c' at offset %d)", c, (int)(p - s));
            goto fail;
        } else {
            nomem = fs_word_put(&w, &wl, c) != 0;
        }
    }
    if (nomem) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (count)
        *count = (int)nw;
    return words;
fail:
    free(w);
    fs_shell_free(words);
    return NULL;
}

/* ---------------- repro ---------------- */

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

int fs_cmd_functions(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char err[4096];
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: faultstack functions [--protocol SPEC]...\n"
                   "  The functions faultstack wraps (libc's, from harness/spec/libc.spec), and those\n"
                   "  of each --protocol spec, with their kind, role, whether they are fault points,\n"
                   "  the errno and return value of an injected failure.\n");
            return 0;
        }
        const char *v = !strcmp(argv[i], "--protocol") && i + 1 < argc ? argv[++i]
                      : !strncmp(argv[i], "--protocol=", 11) ? argv[i] + 11 : NULL;
        if (!v) {
            fprintf(stderr, "faultstack functions: unknown argument '%s' (--protocol SPEC)\n", argv[i]);
            return 2;
        }
        if (fs_protocol_load(v, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack functions: %s\n", err);
            return 2;
        }
    }
    static const char *const roles[] = { "acquire", "release", "use", "acq+rel" };
    printf("%-28s %-7s %-8s %-11s %-10s %s\n", "function", "kind", "role", "fault point", "errno", "failure");
    for (int i = 0; i < FS_F_COUNT; i++) {
        const struct fs_func_info *f = &fs_funcs[i];
        printf("%-28s %-7s %-8s %-11s %-10s %s\n", f->name, fs_kind_names[f->kind], roles[f->role],
               f->injectable ? "yes" : "no", f->err ? (fs_errno_name(f->err) ? fs_errno_name(f->err) : "?") : "-",
               f->failure);
    }
    fs_protocol_print_functions();
    return 0;
}
