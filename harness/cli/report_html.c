/* report_html.c — `faultstack report --format html [-o report.html]`: one
 * self-contained page (inline CSS and SVG, no script, nothing fetched from the
 * network) for a maintainer to read (report.h).
 *
 * The page: a summary; for each sweep in scope, a picture of it (the baseline
 * run's fault points along the x axis in the order the program reached them,
 * and at each point the sweep failed a mark coloured by what that fault run
 * showed: clean, leak, anomaly, crash, timeout, swallowed); then the findings
 * grouped by site, each with the source lines around it when the source is at
 * hand (the recorded path, else --srcroot + the path relative to it), and the
 * faults that expose it with their source line and repro command. Only open
 * findings are listed there (each marked data-status="open"); the ones triage
 * left out (suppressed, driver-gave-up, out-of-scope: findings.status) are
 * counted in the summary and listed, with their status, under "Not counted".
 *
 * Everything that comes from the program or the database (paths, symbols,
 * commands, source text) goes through fs_xml_str: escaped, never markup. The
 * page reads only public views (findings via report.c, sweeps, runs,
 * fault_points, leaks, anomalies). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "report.h"
#include "shell.h"

#define FS_HTML_CONTEXT 3      /* source lines shown before and after a site */
#define FS_SVG_W 960
#define FS_SVG_PLOT_X 10
#define FS_SVG_PLOT_W 940

/* The outcomes of a fault run, in the order the picture's legend shows them;
 * a run that shows several is drawn as the first of crash, timeout, leak,
 * anomaly, swallowed. */
static const struct { const char *name, *color, *words; } fs_outcomes[] = {
    { "clean",     "#43a047", "handled the failure: nothing found" },
    { "leak",      "#e53935", "leaked a resource because of the failure" },
    { "anomaly",   "#fb8c00", "misused a resource (double or bad release) because of the failure" },
    { "crash",     "#8e24aa", "died of a signal" },
    { "timeout",   "#1e88e5", "did not finish in time" },
    { "swallowed", "#c0a000", "exited 0 and said nothing: the failure was swallowed" },
};
enum { O_CLEAN, O_LEAK, O_ANOMALY, O_CRASH, O_TIMEOUT, O_SWALLOWED, O_N };

/* ---------------- source excerpts ---------------- */

/* Where the source of file is readable: the recorded path, else srcroot +
 * the path relative to it (a relative name, or an absolute one recorded on
 * another machine below a directory of the same name is not guessed).
 * Returns 1 with the path in out. */
static int fs_source_path(const struct fs_report *R, const char *file, char *out, size_t len)
{
    struct stat sb;
    if (!file || !*file)
        return 0;
    if (file[0] == '/') {
        snprintf(out, len, "%s", file);
    } else if (R->srcroot) {
        snprintf(out, len, "%s/%s", R->srcroot, file);
    } else {
        snprintf(out, len, "%s", file);
    }
    return stat(out, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Lines line-ctx .. line+ctx of file as a <pre> with line numbers, the line
 * itself marked. Writes nothing when the source is not at hand. */
static void fs_html_source(const struct fs_report *R, FILE *f, const char *file, int64_t line, int ctx)
{
    char path[PATH_MAX * 2];
    if (line <= 0 || !fs_source_path(R, file, path, sizeof path))
        return;
    FILE *src = fopen(path, "r");
    if (!src)
        return;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t no = 0;
    int shown = 0;
    while ((n = getline(&buf, &cap, src)) >= 0 && ++no <= line + ctx) {
        if (no < line - ctx)
            continue;
        if (!shown++)
            fputs("<pre class=\"src\">", f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (n > 300)
            strcpy(buf + 297, "...");
        fprintf(f, "<span class=\"%s\"><span class=\"no\">%5lld</span> ", no == line ? "hit" : "ln", (long long)no);
        fs_xml_str(f, buf);
        fputs("</span>\n", f);
    }
    if (shown)
        fputs("</pre>\n", f);
    free(buf);
    fclose(src);
}

/* ---------------- the sweep picture ---------------- */

struct fs_mark { int64_t ordinal, run; int outcome; char *what; };

/* The fault runs of sweep session sid: the ordinal of the point each failed
 * (its first injected point: the program's run up to it is the baseline's)
 * and its outcome, from the public views. Returns the count, or -1. */
static int fs_sweep_marks(sqlite3 *db, int64_t sid, struct fs_mark **out)
{
    /* a fork run's findings are confirmed by its exec replay: both runs' rows count */
    static const char *sql =
        "WITH lk AS (SELECT DISTINCT coalesce(confirms, run_id) AS id FROM leaks WHERE fault_func IS NOT NULL),"
        " an AS (SELECT DISTINCT coalesce(r.confirms, a.run_id) AS id FROM anomalies a JOIN runs r ON r.id = a.run_id"
        "   WHERE a.fault_func IS NOT NULL)"
        " SELECT r.id, (SELECT min(p.ordinal) FROM fault_points p WHERE p.run_id = r.id AND p.injected = 1) AS o,"
        " r.signal IS NOT NULL AND r.timed_out = 0, r.timed_out, r.id IN (SELECT id FROM lk),"
        " r.id IN (SELECT id FROM an), r.swallowed,"
        " (SELECT p.func || ' at ' || coalesce(p.file || ':' || p.line, p.module) FROM fault_points p"
        "   WHERE p.run_id = r.id AND p.injected = 1 ORDER BY p.ordinal LIMIT 1)"
        " FROM runs r WHERE r.session_id = ?1 AND r.role IN ('fault', 'fork') ORDER BY o, r.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, sid);
    struct fs_mark *m = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            continue;                         /* injected nothing: not a point of the picture */
        if (n == cap) {
            struct fs_mark *nm = realloc(m, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *m);
            if (!nm) { rc = SQLITE_NOMEM; break; }
            m = nm;
        }
        struct fs_mark *k = &m[n++];
        k->run = sqlite3_column_int64(st, 0);
        k->ordinal = sqlite3_column_int64(st, 1);
        k->outcome = sqlite3_column_int(st, 2) ? O_CRASH : sqlite3_column_int(st, 3) ? O_TIMEOUT
                   : sqlite3_column_int(st, 4) ? O_LEAK : sqlite3_column_int(st, 5) ? O_ANOMALY
                   : sqlite3_column_int(st, 6) ? O_SWALLOWED : O_CLEAN;
        const char *w = (const char *)sqlite3_column_text(st, 7);
        k->what = strdup(w ? w : "?");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        for (int i = 0; i < n; i++)
            free(m[i].what);
        free(m);
        return -1;
    }
    *out = m;
    return n;
}

static void fs_html_sweep(const struct fs_report *R, FILE *f, sqlite3_stmt *sw)
{
    int64_t sid = sqlite3_column_int64(sw, 0), base = sqlite3_column_int64(sw, 3);
    const char *cmd = (const char *)sqlite3_column_text(sw, 1), *status = (const char *)sqlite3_column_text(sw, 2);
    const char *strategy = (const char *)sqlite3_column_text(sw, 4), *mode = (const char *)sqlite3_column_text(sw, 5);
    int64_t total = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(R->db, "SELECT max(ordinal) FROM fault_points WHERE run_id = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, base);
        if (sqlite3_step(st) == SQLITE_ROW)
            total = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    struct fs_mark *m = NULL;
    int n = fs_sweep_marks(R->db, sid, &m);
    int count[O_N] = { 0 };
    int64_t xmax = total;
    for (int i = 0; i < n; i++) {
        count[m[i].outcome]++;
        if (m[i].ordinal > xmax)
            xmax = m[i].ordinal;              /* points past the baseline's: error paths (depth 2) */
    }
    fprintf(f, "<section class=\"sweep\" id=\"sweep-%lld\">\n<h3>Sweep %lld: <code>", (long long)sid, (long long)sid);
    fs_xml_str(f, cmd);
    fputs("</code></h3>\n<p>", f);
    fprintf(f, "%lld fault point%s in the baseline run (run %lld), %d fault run%s, strategy ", (long long)total,
            fs_plural(total, "", "s"), (long long)base, n < 0 ? 0 : n, fs_plural(n, "", "s"));
    fs_xml_str(f, strategy);
    fputs(", mode ", f);
    fs_xml_str(f, mode);
    fputs(", status ", f);
    fs_xml_str(f, status);
    fputs(".</p>\n", f);
    if (n < 0) {
        fputs("<p class=\"note\">The sweep's runs could not be read.</p>\n</section>\n", f);
        return;
    }
    if (xmax < 1)
        xmax = 1;
    const int h = 90, axis = 70;
    fprintf(f, "<svg class=\"picture\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">\n"
               "<title>fault points of sweep %lld in the order the program reached them, coloured by outcome"
               "</title>\n", FS_SVG_W, h + 20, FS_SVG_W, h + 20, (long long)sid);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", FS_SVG_PLOT_X, axis,
            FS_SVG_PLOT_X + FS_SVG_PLOT_W, axis);
    double step = xmax > 1 ? (double)FS_SVG_PLOT_W / (double)(xmax - 1) : 0.0;
    double bw = step > 3.0 ? step - 1.0 : 2.0;
    if (bw > 14.0)
        bw = 14.0;
    /* the baseline's points: ticks on the axis */
    if (total > 0 && total <= 20000) {
        fputs("<g class=\"ticks\" stroke=\"#bbb\">", f);
        for (int64_t o = 1; o <= total; o++) {
            double x = FS_SVG_PLOT_X + (double)(o - 1) * step + (xmax == 1 ? FS_SVG_PLOT_W / 2.0 : 0.0);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, axis, x, axis + 5);
        }
        fputs("</g>\n", f);
    }
    int top = axis;                           /* runs failing the same point stack up */
    for (int i = 0; i < n; i++) {
        double x = FS_SVG_PLOT_X + (double)(m[i].ordinal - 1) * step + (xmax == 1 ? FS_SVG_PLOT_W / 2.0 : 0.0);
        int hh = m[i].outcome == O_CLEAN ? 10 : 20;
        if (i == 0 || m[i].ordinal != m[i - 1].ordinal)
            top = axis;
        if (top - hh < 2)
            top = hh + 2;                     /* more than fit: drawn over the top one */
        fprintf(f, "<rect class=\"o-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
                   "stroke=\"#fff\" stroke-width=\"0.5\"><title>point %lld: ",
                fs_outcomes[m[i].outcome].name, x - bw / 2.0, top - hh, bw, hh, fs_outcomes[m[i].outcome].color,
                (long long)m[i].ordinal);
        top -= hh;
        fs_xml_str(f, m[i].what);
        fprintf(f, " fails: %s (run %lld)</title></rect>\n", fs_outcomes[m[i].outcome].name, (long long)m[i].run);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\">1</text><text x=\"%d\" y=\"%d\" class=\"axis\" "
               "text-anchor=\"end\">%lld</text><text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">"
               "fault points in the order the program reached them</text>\n</svg>\n",
            FS_SVG_PLOT_X, axis + 18, FS_SVG_PLOT_X + FS_SVG_PLOT_W, axis + 18, (long long)xmax,
            FS_SVG_PLOT_X + FS_SVG_PLOT_W / 2, axis + 18);
    fputs("<ul class=\"legend\">", f);
    for (int o = 0; o < O_N; o++)
        fprintf(f, "<li class=\"lg-%s\"><span class=\"sw\" style=\"background:%s\"></span>%s: %d "
                   "<small>(%s)</small></li>", fs_outcomes[o].name, fs_outcomes[o].color, fs_outcomes[o].name,
                count[o], fs_outcomes[o].words);
    fputs("</ul>\n</section>\n", f);
    for (int i = 0; i < n; i++)
        free(m[i].what);
    free(m);
}

static void fs_html_sweeps(const struct fs_report *R, FILE *f)
{
    sqlite3_stmt *st = NULL;
    fputs("<h2>Sweeps</h2>\n", f);
    if (sqlite3_prepare_v2(R->db, "SELECT session_id, command, status, baseline_run, strategy, mode FROM sweeps"
                                  " WHERE (?1 IS NULL OR session_id = ?1) AND baseline_run IS NOT NULL"
                                  " ORDER BY session_id", -1, &st, NULL) != SQLITE_OK) {
        fputs("<p class=\"note\">The sweeps view could not be read.</p>\n", f);
        return;
    }
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 50) {
        fs_html_sweep(R, f, st);
        n++;
    }
    sqlite3_finalize(st);
    if (!n)
        fputs("<p class=\"note\">No sweep in scope (runs of <code>faultstack run</code> only): nothing to draw.</p>\n", f);
}

/* ---------------- the page ---------------- */

static const char fs_html_css[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1000px;color:#222;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "code,pre{font:13px/1.35 ui-monospace,monospace}pre{background:#f6f8fa;padding:.5em .7em;overflow-x:auto;"
    "border-radius:4px;margin:.3em 0}"
    ".site{border:1px solid #ddd;border-left:6px solid #e53935;border-radius:4px;padding:.4em 1em;margin:1em 0}"
    ".site.cat-anomaly{border-left-color:#fb8c00}.site.cat-crash{border-left-color:#8e24aa}"
    ".site.cat-timeout{border-left-color:#1e88e5}.site.cat-memcheck{border-left-color:#6d4c41}"
    ".site h3{margin:.3em 0;font-size:1.05em}.fault{margin:.6em 0 .6em 1em}"
    ".src .hit{background:#fff3c4;display:inline-block;width:100%}.src .no{color:#999}"
    ".repro{background:#1e1e1e;color:#eee}.note{color:#666}.summary td{padding:0 1em 0 0}"
    ".legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3em 1.2em;margin:.3em 0}"
    ".sw{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border-radius:2px}"
    "svg.picture{max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}"
    "svg .axis{font:11px sans-serif;fill:#666}";

static void fs_html_finding(const struct fs_report *R, FILE *f, const struct fs_frow *r)
{
    char fault[PATH_MAX + 128], hash[17];
    fs_fault_words(R, r, fault, sizeof fault);
    fs_finding_hash(R, r, hash);
    fprintf(f, "<div class=\"fault\" id=\"f%s\" data-status=\"", hash);
    fs_xml_str(f, fs_s(r, F_STATUS) ? fs_s(r, F_STATUS) : "open");
    fprintf(f, "\"><b>#%lld</b> %s", (long long)fs_i(r, F_ID), fs_s(r, F_FAULT_FUNC) ? "exposed when this call fails: " : "");
    fs_xml_str(f, fault);
    if (fs_s(r, F_FAULT_SYMBOL)) {
        fputs(" (in ", f);
        fs_xml_str(f, fs_s(r, F_FAULT_SYMBOL));
        fputc(')', f);
    }
    fprintf(f, " — %lld run%s%s, first run %lld\n", (long long)fs_i(r, F_RUNS), fs_plural(fs_i(r, F_RUNS), "", "s"),
            R->session >= 0 ? " of this session" : "", (long long)fs_i(r, F_FIRST_RUN));
    if (fs_s(r, F_FAULT_CALLER)) {            /* the fault behind a wrapper: who called it */
        char callers[4 * PATH_MAX];
        fs_callers_words(R, fs_s(r, F_FAULT_CALLER), callers, sizeof callers);
        fputs("<div class=\"callers\">fault called from: <code>", f);
        fs_xml_str(f, callers);
        fputs("</code></div>\n", f);
    }
    if (fs_s(r, F_FAULT_FUNC))
        fs_html_source(R, f, fs_s(r, F_FAULT_FILE), fs_i(r, F_FAULT_LINE), 0);
    fputs("<div>repro:</div><pre class=\"repro\"><code>", f);
    fs_xml_str(f, fs_s(r, F_REPRO) ? fs_s(r, F_REPRO) : "(none)");
    fputs("</code></pre></div>\n", f);
}

/* The findings of the scope that triage left out (findings.status != 'open'),
 * one list item each with its status and, when suppressed, the rule. */
static void fs_html_not_counted(const struct fs_report *R, FILE *f, const struct fs_triage_counts *t)
{
    if (!t->suppressed && !t->gave_up && !t->out_of_scope)
        return;
    fputs("<h2>Not counted</h2>\n<p>Findings triage left out (<code>--suppressions</code>, <code>--scope</code>, "
          "a test driver that gave up after a reported failure); they do not count toward the exit status. "
          "<code>SELECT * FROM findings WHERE status != 'open'</code></p>\n<ul id=\"not-counted\">\n", f);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(R->db,
            "SELECT f.id, f.status, f.suppression, f.category, f.anomaly, f.kind, f.func,"
            " ifnull(f.file || ':' || f.line, ifnull(f.module || printf('+0x%x', f.offset), '?')), f.symbol,"
            " f.fault_func, ifnull(f.fault_file || ':' || f.fault_line,"
            "   ifnull(f.fault_module || printf('+0x%x', f.fault_offset), '?')), f.fault_caller"
            " FROM findings f WHERE f.status != 'open'"
            " AND (?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r ON r.id = fr.run_id"
            "   WHERE fr.finding_id = f.id AND r.session_id = ?1)) ORDER BY f.status, f.id", -1, &st, NULL) != SQLITE_OK) {
        fputs("</ul>\n<p class=\"note\">The findings view could not be read.</p>\n", f);
        return;
    }
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col[12];
        for (int c = 0; c < 12; c++)
            col[c] = (const char *)sqlite3_column_text(st, c);
        fprintf(f, "<li class=\"triaged\" id=\"t%lld\" data-status=\"", sqlite3_column_int64(st, 0));
        fs_xml_str(f, col[1]);
        fprintf(f, "\"><b>#%lld</b> <span class=\"status\">", sqlite3_column_int64(st, 0));
        fs_xml_str(f, col[1]);
        if (col[2]) {
            fputs(" (rule <code>", f);
            fs_xml_str(f, col[2]);
            fputs("</code>)", f);
        }
        fputs("</span>: ", f);
        for (int c = 3; c <= 5; c++)
            if (col[c]) {
                fs_xml_str(f, col[c]);
                fputc(' ', f);
            }
        fputs("at <code>", f);
        if (col[6]) {
            fs_xml_str(f, col[6]);
            fputc(' ', f);
        }
        fs_xml_str(f, fs_report_rel(R, col[7]));
        if (col[8]) {
            fputs(" (in ", f);
            fs_xml_str(f, col[8]);
            fputc(')', f);
        }
        fputs("</code>", f);
        if (col[9]) {
            fputs(", fault <code>", f);
            fs_xml_str(f, col[9]);
            fputc(' ', f);
            fs_xml_str(f, fs_report_rel(R, col[10]));
            if (col[11]) {
                char caller[PATH_MAX + 256];
                fs_callers_words(R, col[11], caller, sizeof caller);
                fputs(" &lt; ", f);
                fs_xml_str(f, caller);
            }
            fputs("</code>", f);
        } else {
            fputs(", baseline (no fault)", f);
        }
        fputs("</li>\n", f);
    }
    sqlite3_finalize(st);
    fputs("</ul>\n", f);
}

int fs_report_html(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256];
    int64_t by_cat[5] = { 0 };
    static const char *const cats[] = { "leak", "anomaly", "crash", "timeout", "memcheck" };
    for (int k = 0; k < R->n; k++)
        for (int c = 0; c < 5; c++)
            if (fs_s(&R->rows[k], F_CATEGORY) && !strcmp(fs_s(&R->rows[k], F_CATEGORY), cats[c]))
                by_cat[c]++;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"faultstack " FS_REPORT_TOOL_VERSION "\">\n<title>faultstack report: ", f);
    fs_xml_str(f, R->db_path);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>faultstack report</h1>\n<p>Database <code>", fs_html_css);
    fs_xml_str(f, R->db_path);
    fputs("</code>", f);
    if (R->session >= 0)
        fprintf(f, ", session %lld", (long long)R->session);
    if (R->srcroot) {
        fputs(", sources under <code>", f);
        fs_xml_str(f, R->srcroot);
        fputs("</code>", f);
    }
    fprintf(f, ".</p>\n<table class=\"summary\"><tr><td><b id=\"n-findings\">%d</b> finding%s at <b>%d</b> site%s"
               "</td><td>%lld leak%s, %lld anomal%s, %lld crash%s, %lld timeout%s%s</td></tr>"
               "<tr><td><b>%lld</b> run%s</td><td>%lld with an injected fault, %lld killed by a signal, %lld timed out"
               "</td></tr></table>\n",
            R->n, fs_plural(R->n, "", "s"), R->nsites, fs_plural(R->nsites, "", "s"), (long long)by_cat[0],
            fs_plural(by_cat[0], "", "s"), (long long)by_cat[1], fs_plural(by_cat[1], "y", "ies"),
            (long long)by_cat[2], fs_plural(by_cat[2], "", "es"), (long long)by_cat[3],
            fs_plural(by_cat[3], "", "s"), by_cat[4] ? ", memcheck errors" : "", (long long)R->runs,
            fs_plural(R->runs, "", "s"), (long long)R->fault_runs, (long long)R->crashed, (long long)R->timed_out);
    struct fs_triage_counts t;                /* the findings triage left out: counted, listed below */
    fs_report_triage_counts(R, &t);
    if (t.suppressed || t.gave_up || t.out_of_scope)
        fprintf(f, "<table class=\"summary\"><tr><td><b id=\"n-not-counted\">%lld</b> not counted</td><td>"
                   "<b id=\"n-suppressed\">%lld</b> suppressed, <b id=\"n-gave-up\">%lld</b> driver-gave-up, "
                   "<b id=\"n-out-of-scope\">%lld</b> out of scope (<a href=\"#not-counted\">listed below</a>)"
                   "</td></tr></table>\n", (long long)(t.suppressed + t.gave_up + t.out_of_scope),
                (long long)t.suppressed, (long long)t.gave_up, (long long)t.out_of_scope);
    fs_html_sweeps(R, f);
    fputs("<h2>Findings by site</h2>\n", f);
    if (!R->n)
        fputs("<p id=\"no-findings\">No findings.</p>\n", f);
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        if (k == 0 || r->site != R->rows[k - 1].site) {
            fs_what_words(r, what, sizeof what);
            fs_site_words(R, r, site, sizeof site);
            fprintf(f, "<section class=\"site cat-");
            fs_xml_str(f, fs_s(r, F_CATEGORY));
            fprintf(f, "\" id=\"site-%d\">\n<h3>", r->site);
            fs_xml_str(f, what);
            fputs(": ", f);
            fs_xml_str(f, site);
            fprintf(f, "</h3>\n<p>seen in %lld run%s%s; %d fault%s expose%s it:</p>\n", (long long)r->site_runs,
                    fs_plural(r->site_runs, "", "s"), R->session >= 0 ? " of this session" : "", r->site_findings,
                    fs_plural(r->site_findings, "", "s"), fs_plural(r->site_findings, "s", ""));
            fs_html_source(R, f, fs_s(r, F_FILE), fs_i(r, F_LINE), FS_HTML_CONTEXT);
        }
        fs_html_finding(R, f, r);
        if (k + 1 == R->n || R->rows[k + 1].site != r->site)
            fputs("</section>\n", f);
    }
    fs_html_not_counted(R, f, &t);
    fputs("<p class=\"note\">Replay one and check it: <code>", f);
    fs_xml_str(f, fs_self_command());
    fputs(" repro --db ", f);
    fs_xml_str(f, R->db_path);
    fputs(" ID</code>. Query the database with SQL: the views are described in reports/schema.sql.</p>\n"
          "</body>\n</html>\n", f);
    return 0;
}
