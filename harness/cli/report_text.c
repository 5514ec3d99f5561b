/* report_text.c — `faultstack report --format text`: the findings for people,
 * grouped by site, each site's faults with their repro commands and the
 * fault's callers, a summary line, and the findings not counted (suppressed,
 * driver-gave-up, out-of-scope: verdict.c) after it (report.h). Lists the
 * open findings only (the format's open_only). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "shell.h"
#include "report.h"

/* After the text report: the findings not counted (verdict.c), the drivers
 * that gave up listed one per line, the others counted. */
static void fs_report_triage(const struct fs_report *R, FILE *f)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(R->db,
            "SELECT f.id, f.status, f.kind,"
            " ifnull(f.file || ':' || f.line, ifnull(f.module || printf('+0x%x', f.offset), '?')), 0, f.symbol,"
            " f.module, f.fault_func,"
            " ifnull(f.fault_file || ':' || f.fault_line, ifnull(f.fault_module || printf('+0x%x', f.fault_offset), '?')),"
            " 0, f.fault_caller, f.suppression FROM findings f WHERE f.status != 'open'"
            " AND (?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r ON r.id = fr.run_id"
            "   WHERE fr.finding_id = f.id AND r.session_id = ?1)) ORDER BY f.status, f.id", -1, &st, NULL) != SQLITE_OK)
        return;
    fs_bind_int_or_null(st, 1, R->session, R->session < 0);
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
            char caller[PATH_MAX + 256];
            fs_callers_words(R, fc, caller, sizeof caller);
            fprintf(f, "  #%lld %s at %s%s%s%s, after fault %s at %s%s%s\n", sqlite3_column_int64(st, 0),
                    sqlite3_column_text(st, 2), fs_report_rel(R, (const char *)sqlite3_column_text(st, 3)),
                    sym ? " (in " : "", sym ? sym : "", sym ? ")" : "", sqlite3_column_text(st, 7),
                    fs_report_rel(R, (const char *)sqlite3_column_text(st, 8)), fc ? " called from " : "",
                    fc ? caller : "");
        }
    }
    sqlite3_finalize(st);
    if (sup || gave || out)
        fprintf(f, "\nnot counted: %lld suppressed%s%s%s, %lld driver-gave-up, %lld out of scope "
                   "(SELECT * FROM findings WHERE status != 'open')\n", (long long)sup, rules[0] ? " (rules: " : "",
                rules, rules[0] ? ")" : "", (long long)gave, (long long)out);
}

int fs_report_text(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128];
    char callers[4 * PATH_MAX];
    int64_t by_cat[6] = { 0 };
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        if (k == 0 || r->site != R->rows[k - 1].site) {
            fs_what_words(r, what, sizeof what);
            fs_site_words(R, r, site, sizeof site);
            fprintf(f, "%s%s: %s\n", k ? "\n" : "", what, site);
            fprintf(f, "  seen in %lld run%s%s, exposed by:\n", (long long)r->site_runs,
                    fs_plural(r->site_runs, "", "s"), R->session >= 0 ? " of this session" : "");
        }
        fs_fault_words(R, r, fault, sizeof fault);
        int64_t runs = fs_i(r, F_RUNS);
        fprintf(f, "  #%lld %s%s: %lld run%s%s, first run %lld\n", (long long)fs_i(r, F_ID),
                fs_s(r, F_FAULT_FUNC) ? "fault: " : "", fault, (long long)runs, fs_plural(runs, "", "s"),
                R->session >= 0 ? " of this session" : "", (long long)fs_i(r, F_FIRST_RUN));
        fprintf(f, "      repro: %s\n", fs_s(r, F_REPRO) ? fs_s(r, F_REPRO) : "(none)");
        if (fs_s(r, F_FAULT_CALLER)) {        /* the fault behind a wrapper: who called it */
            fs_callers_words(R, fs_s(r, F_FAULT_CALLER), callers, sizeof callers);
            fprintf(f, "      fault called from: %s\n", callers);
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
        fs_report_triage(R, f);
        return 0;
    }
    char mc[64] = "";                         /* --valgrind runs only */
    if (by_cat[4])
        snprintf(mc, sizeof mc, ", %lld memcheck error%s", (long long)by_cat[4], fs_plural(by_cat[4], "", "s"));
    fprintf(f, "%d finding%s at %d site%s (%lld leak%s, %lld anomal%s, %lld crash%s, %lld timeout%s%s)"
               " in %lld run%s\n", R->n, fs_plural(R->n, "", "s"), R->nsites, fs_plural(R->nsites, "", "s"),
            (long long)by_cat[0], fs_plural(by_cat[0], "", "s"), (long long)by_cat[1],
            fs_plural(by_cat[1], "y", "ies"), (long long)by_cat[2], fs_plural(by_cat[2], "", "es"),
            (long long)by_cat[3], fs_plural(by_cat[3], "", "s"), mc, (long long)R->runs, fs_plural(R->runs, "", "s"));
    fprintf(f, "replay one and check it: %s repro --db ", fs_self_command());
    char q[PATH_MAX * 2] = "";
    fs_shell_quote(q, sizeof q, R->db_path);
    fprintf(f, "%s ID\n", q);
    fs_report_triage(R, f);
    return 0;
}
