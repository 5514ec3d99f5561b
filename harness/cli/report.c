/* report.c — `faultstack report`: load the findings, pick the writer.
 *
 * report reads only the public views (findings, runs, fault_points for the
 * fault's symbol; the html writer also sweeps, leaks, anomalies) plus
 * finding_run for --session, so what it prints is what users can query
 * themselves with SQL. With --suppressions/--scope it first triages every
 * finding again (verdict.c: the finding table's marks); the formats but json
 * list the open findings only (findings.status), json lists all with status.
 * It groups the findings by site (the call that acquired, released or
 * crashed) and hands them to the writer of the --format asked for: one entry
 * of fs_report_formats[] below, one file per format (report_*.c, report.h).
 * Also here: the words and escaping helpers the writers share. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "report.h"
#include "shell.h"
#include "verdict.h"

/* ---------------- output helpers ---------------- */

int fs_utf8_len(const unsigned char *s)
{
    int n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && s[0] < 0xC2)
        return 0;                            /* overlong */
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

void fs_json_str(FILE *f, const char *s)
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

void fs_xml_str(FILE *f, const char *s)
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

void fs_json_cell(FILE *f, const struct fs_cell *c)
{
    if (c->is_int)
        fprintf(f, "%lld", (long long)c->i);
    else
        fs_json_str(f, c->s);
}

/* ---------------- the findings, loaded and grouped ---------------- */

const char *const fs_col_names[F_NCOLS] = {
    "id", "category", "kind", "anomaly", "func", "module", "file", "line", "symbol", "fault_func",
    "fault_file", "fault_line", "runs", "first_run", "repro", "offset", "fault_module", "fault_offset",
    "fault_symbol", "status", "suppression", "fault_callers"
};

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

static int fs_report_twins(struct fs_report *R);

/* Findings of the scope ordered by site, then baseline first, then by fault.
 * Returns 0, or -1 with the message in err. */
static int fs_report_load(struct fs_report *R, char *err, size_t errlen)
{
    static const char *sql =
        "SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.module, f.file, f.line, f.symbol,"
        " f.fault_func, f.fault_file, f.fault_line,"
        " CASE WHEN ?1 IS NULL THEN f.runs ELSE (SELECT count(*) FROM finding_run fr JOIN runs r"
        "   ON r.id = fr.run_id WHERE fr.finding_id = f.id AND r.session_id = ?1) END,"
        " f.first_run, f.repro, f.offset, f.fault_module, f.fault_offset,"
        " (SELECT p.symbol FROM fault_points p WHERE p.run_id = f.first_run AND p.injected = 1"
        "   AND p.func = f.fault_func AND p.module IS f.fault_module AND p.offset IS f.fault_offset LIMIT 1),"
        " f.status, f.suppression, f.fault_callers"
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
    if (fs_report_twins(R) != 0) {
        snprintf(err, errlen, "out of memory reading the findings");
        goto out;
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

const char *fs_report_rel(const struct fs_report *R, const char *file)
{
    size_t rl = R->srcroot ? strlen(R->srcroot) : 0;
    if (file && rl && file[0] == '/' && !strncmp(file, R->srcroot, rl) && file[rl] == '/' && file[rl + 1])
        return file + rl + 1;
    if (file && rl == 1 && file[0] == '/' && file[1])   /* --srcroot / */
        return file + 1;
    return file;
}

void fs_site_words(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len)
{
    const char *cat = fs_s(r, F_CATEGORY), *func = fs_s(r, F_FUNC), *file = fs_s(r, F_FILE);
    const char *sym = fs_s(r, F_SYMBOL), *mod = fs_s(r, F_MODULE);
    char where[PATH_MAX + 64];
    if (file)
        snprintf(where, sizeof where, "%s:%lld", fs_report_rel(R, file), (long long)fs_i(r, F_LINE));
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

void fs_what_words(const struct fs_frow *r, char *buf, size_t len)
{
    const char *kind = fs_s(r, F_KIND), *an = fs_s(r, F_ANOMALY);
    snprintf(buf, len, "%s%s%s%s%s", fs_s(r, F_CATEGORY) ? fs_s(r, F_CATEGORY) : "?", an ? " " : "",
             an ? an : "", kind ? " " : "", kind ? kind : "");
}

void fs_fault_words(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len)
{
    const char *ff = fs_s(r, F_FAULT_FUNC), *file = fs_s(r, F_FAULT_FILE), *mod = fs_s(r, F_FAULT_MODULE);
    if (!ff)
        snprintf(buf, len, "baseline (no fault)");
    else if (file)
        snprintf(buf, len, "%s at %s:%lld", ff, fs_report_rel(R, file), (long long)fs_i(r, F_FAULT_LINE));
    else if (mod)
        snprintf(buf, len, "%s at %s+0x%llx", ff, mod, (unsigned long long)fs_i(r, F_FAULT_OFFSET));
    else
        snprintf(buf, len, "%s (site unknown)", ff);
}

const char *fs_plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

void fs_callers_words(const struct fs_report *R, const char *callers, char *buf, size_t len)
{
    size_t w = 0;
    buf[0] = '\0';
    for (const char *c = callers; c && *c && w + 1 < len;) {
        const char *nl = strchr(c, '\n');
        size_t l = nl ? (size_t)(nl - c) : strlen(c);
        char one[PATH_MAX + 256];
        snprintf(one, sizeof one, "%.*s", (int)(l < sizeof one ? l : sizeof one - 1), c);
        char *sp = strchr(one, ' ');          /* 'symbol file:line': the file relative to srcroot */
        if (sp)
            *sp = '\0';
        int n = snprintf(buf + w, len - w, "%s%s%s%s", w ? " < " : "", one, sp ? " " : "",
                         sp ? fs_report_rel(R, sp + 1) : "");
        if (n < 0 || (size_t)n >= len - w)
            break;
        w += (size_t)n;
        c = nl ? nl + 1 : c + l;
    }
}

/* "FUNC in SYMBOL (WHERE)": WHERE the relative file, else the module. */
static void fs_ident(const struct fs_report *R, const char *func, const char *sym, const char *file,
                     const char *mod, char *buf, size_t len)
{
    const char *where = file ? fs_report_rel(R, file) : mod;
    if (sym && func && !strcmp(sym, func))
        sym = NULL;                          /* a crash's func is its symbol */
    snprintf(buf, len, "%s%s%s%s%s%s", func ? func : "?", sym ? " in " : "", sym ? sym : "",
             where ? " (" : "", where ? where : "", where ? ")" : "");
}

void fs_site_ident(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len)
{
    char what[128], id[PATH_MAX + 512];
    fs_what_words(r, what, sizeof what);
    const char *func = fs_s(r, F_FUNC), *file = fs_s(r, F_FILE), *mod = fs_s(r, F_MODULE);
    if (!func && !file && !mod) {
        snprintf(buf, len, "%s: %s", what, fs_s(r, F_CATEGORY) && !strcmp(fs_s(r, F_CATEGORY), "timeout")
                                               ? "the run did not finish in time" : "unknown site");
        return;
    }
    fs_ident(R, func ? func : fs_s(r, F_SYMBOL), fs_s(r, F_SYMBOL), file, mod, id, sizeof id);
    snprintf(buf, len, "%s: %s", what, id);
}

void fs_fault_ident(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len)
{
    if (!fs_s(r, F_FAULT_FUNC))
        snprintf(buf, len, "baseline (no fault)");
    else
        fs_ident(R, fs_s(r, F_FAULT_FUNC), fs_s(r, F_FAULT_SYMBOL), fs_s(r, F_FAULT_FILE),
                 fs_s(r, F_FAULT_MODULE), buf, len);
}

static uint64_t fs_ident_hash(const struct fs_report *R, const struct fs_frow *r, int twin)
{
    char site[PATH_MAX + 700], fault[PATH_MAX + 600], nth[32] = "";
    fs_site_ident(R, r, site, sizeof site);
    fs_fault_ident(R, r, fault, sizeof fault);
    if (twin > 1)
        snprintf(nth, sizeof nth, "\n#%d", twin);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *s[] = { site, "\n", fault, nth, NULL }, **p = s; *p; p++)
        for (const unsigned char *c = (const unsigned char *)*p; *c; c++)
            h = (h ^ *c) * 0x100000001b3ULL;
    return h;
}

void fs_finding_hash(const struct fs_report *R, const struct fs_frow *r, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)fs_ident_hash(R, r, r->twin));
}

/* r->twin of every row: the n-th row of the report with the same identity. */
static int fs_report_twins(struct fs_report *R)
{
    uint64_t *h = calloc((size_t)R->n + 1, sizeof *h);
    if (!h)
        return -1;
    for (int k = 0; k < R->n; k++) {
        h[k] = fs_ident_hash(R, &R->rows[k], 1);
        R->rows[k].twin = 1;
        for (int j = 0; j < k; j++)
            R->rows[k].twin += h[j] == h[k];
    }
    free(h);
    return 0;
}

void fs_report_triage_counts(const struct fs_report *R, struct fs_triage_counts *t)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(R->db,
            "SELECT coalesce(sum(status = 'suppressed'), 0), coalesce(sum(status = 'driver-gave-up'), 0),"
            " coalesce(sum(status = 'out-of-scope'), 0) FROM findings f"
            " WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r ON r.id = fr.run_id"
            "   WHERE fr.finding_id = f.id AND r.session_id = ?1)", -1, &st, NULL) != SQLITE_OK)
        return;
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    if (sqlite3_step(st) == SQLITE_ROW) {
        t->suppressed = sqlite3_column_int64(st, 0);
        t->gave_up = sqlite3_column_int64(st, 1);
        t->out_of_scope = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
}

/* ---------------- the formats ---------------- */

/* One line per format: adding a format is adding its writer (report.h) and
 * its line here. inline_notes: the runs that tested nothing are listed after
 * the report (else on stderr, to keep the output machine-readable).
 * open_only: the writer gets the open findings only (findings.status; the
 * others are counted by the writer if it wants, fs_report_triage_counts). */
static const struct fs_report_format {
    const char *name;
    fs_report_writer *write;
    int inline_notes, open_only;
    const char *help;
} fs_report_formats[] = {
    { "text",  fs_report_text,  1, 1, "for people (the default)" },
    { "json",  fs_report_json,  0, 0, "an array of findings (every status)" },
    { "junit", fs_report_junit, 0, 1, "JUnit XML for CI test reports (GitLab, Jenkins)" },
    { "sarif", fs_report_sarif, 0, 1, "SARIF 2.1.0 for code scanning (GitHub, IDEs)" },
    { "html",  fs_report_html,  0, 1, "one self-contained page (no network): sites, source, repro, the sweep" },
    { "suppressions", fs_report_suppressions_writer, 0, 1,
      "a baseline: rules accepting today's findings (docs/suppressions.md)" },
};
#define FS_NFORMATS (sizeof fs_report_formats / sizeof fs_report_formats[0])

static void fs_format_names(char *buf, size_t len, const char *sep, const char *last)
{
    buf[0] = '\0';
    for (size_t k = 0; k < FS_NFORMATS; k++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", k == 0 ? "" : k + 1 == FS_NFORMATS ? last : sep,
                 fs_report_formats[k].name);
}

static void fs_report_usage(FILE *f)
{
    char names[256];
    fs_format_names(names, sizeof names, "|", "|");
    fprintf(f,
        "usage: faultstack report [--db FILE] [--format %s]\n"
        "                         [--session ID] [--srcroot DIR] [-o FILE]\n"
        "                         [--suppressions FILE]... [--scope MODULES]\n"
        "  Print the deduplicated findings of the database (the findings view), grouped\n"
        "  by site, with the faults that expose each site and their repro commands.\n", names);
    for (size_t k = 0; k < FS_NFORMATS; k++)
        fprintf(f, "  %-8s %-7s %s\n", k ? "" : "--format", fs_report_formats[k].name, fs_report_formats[k].help);
    fprintf(f,
        "  --suppressions FILE, --scope MODULES  triage every finding of the database again\n"
        "                   with these rules / modules (as sweep and run do; the marks are kept)\n"
        "  Only open findings are listed (text, junit, sarif, html) and counted in the exit\n"
        "  status; suppressed, driver-gave-up and out-of-scope ones are counted after the\n"
        "  text report and in the html page (json lists every finding with its status).\n"
        "  --session ID     only the findings of runs of session ID (runs.session_id);\n"
        "                   their run counts are then counts of that session's runs\n"
        "  --srcroot DIR    file names under DIR are shown relative to it, in every format\n"
        "                   (default: the current directory); sarif: uriBaseId SRCROOT;\n"
        "                   html: the source lines around each site are read from there\n"
        "  -o FILE          write the report to FILE (whole, or not at all), not stdout\n"
        "  Runs that were not observed (the preload could not enter the program) and\n"
        "  baseline runs that did not exit 0 are listed after the findings (text) or on\n"
        "  stderr (other formats).\n"
        "exit status: 0 no findings (and every run observed), 1 findings, 2 usage or tool\n"
        "error, or no findings while some run was not observed\n");
}
int fs_cmd_report(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *format = "text", *session = NULL, *srcroot = NULL, *out_path = NULL;
    struct fs_report R;
    char err[1024], cwd[PATH_MAX], root[PATH_MAX], tmp_path[PATH_MAX + 32] = "";
    FILE *out = stdout;
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
        else if (!strncmp(a, "--output", ol = 8)) slot = &out_path;
        else if (!strcmp(a, "-o") && (ol = 2)) slot = &out_path;
        if (slot && a[ol] == '=') { *slot = a + ol + 1; continue; }
        if (slot && a[ol] == '\0' && i + 1 < argc) { *slot = argv[++i]; continue; }
        if (slot && a[ol] == '\0')
            fprintf(stderr, "faultstack report: %s needs a value\n", a);
        else
            fprintf(stderr, "faultstack report: unknown option '%s'\n", a);
        fs_report_usage(stderr);
        return 2;
    }
    const struct fs_report_format *fmt = NULL;
    for (size_t k = 0; k < FS_NFORMATS; k++)
        if (!strcmp(format, fs_report_formats[k].name))
            fmt = &fs_report_formats[k];
    if (!fmt) {
        char names[256];
        fs_format_names(names, sizeof names, ", ", " or ");
        fprintf(stderr, "faultstack report: unknown --format '%s'; use %s\n", format, names);
        return 2;
    }
    R.open_only = fmt->open_only;
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
    if (out_path && !*out_path) {
        fprintf(stderr, "faultstack report: -o needs a file name (or leave it out for stdout)\n");
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
    if (out_path) {                           /* written whole, then renamed: never half a report */
        snprintf(tmp_path, sizeof tmp_path, "%s.tmp%ld", out_path, (long)getpid());
        if (!(out = fopen(tmp_path, "w"))) {
            fprintf(stderr, "faultstack report: cannot write '%s': %s; check the directory and its permissions\n",
                    out_path, strerror(errno));
            tmp_path[0] = '\0';
            out = stdout;
            goto out;
        }
        R.out_path = out_path;
    }
    if (fmt->write(&R, out) != 0)
        goto out;
    /* what was not tested: in the text report, else on stderr */
    int64_t unobserved = fs_report_untested(&R, fmt->inline_notes ? out : stderr);
    int werr = fflush(out) != 0 || ferror(out);
    if (out != stdout) {
        werr |= fclose(out) != 0;
        out = stdout;
    }
    if (werr) {
        fprintf(stderr, "faultstack report: cannot write the report%s%s: %s; check the output file or pipe\n",
                out_path ? " to " : "", out_path ? out_path : "", strerror(errno));
        goto out;
    }
    if (out_path && rename(tmp_path, out_path) != 0) {
        fprintf(stderr, "faultstack report: cannot write '%s': %s\n", out_path, strerror(errno));
        goto out;
    }
    tmp_path[0] = '\0';
    rc = 0;
    for (int k = 0; k < R.n; k++)             /* json lists them all: count the open ones */
        if (fs_s(&R.rows[k], F_STATUS) && !strcmp(fs_s(&R.rows[k], F_STATUS), "open"))
            rc = 1;
    if (rc == 0 && unobserved) {
        fprintf(stderr, "faultstack report: not clean: %lld run%s not observed (nothing was tested there); exit 2\n",
                (long long)unobserved, unobserved == 1 ? " was" : "s were");
        rc = 2;
    }
out:
    if (out != stdout)
        fclose(out);
    if (tmp_path[0])
        unlink(tmp_path);
    fs_report_free(&R);
    sqlite3_close(R.db);
    return rc;
}

