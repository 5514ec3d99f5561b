/* report_text.c — `faultstack report --format text`: the findings for people,
 * grouped by site, each site's faults with their repro commands, and a
 * summary line (report.h). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"
#include "report.h"

int fs_report_text(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128];
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
    return 0;
}
