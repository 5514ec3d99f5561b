/* report_junit.c — `faultstack report --format junit`: JUnit XML for CI test
 * reports (GitLab, Jenkins), one testsuite per site (report.h). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "report.h"

/* JUnit XML as GitLab and Jenkins read it: one testsuite per site, one failing
 * testcase per finding (the repro in the failure), and a passing testcase for
 * the runs recorded. Test names carry no finding ids, so they stay the same
 * from one pipeline to the next. */
int fs_report_junit(const struct fs_report *R, FILE *f)
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
        fs_site_words(R, r, site, sizeof site);
        if (k == 0 || r->site != R->rows[k - 1].site) {
            fputs("  <testsuite name=\"", f);
            fs_xml_str(f, what); fputs(": ", f); fs_xml_str(f, site);
            fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"0\">\n",
                    r->site_findings, r->site_findings);
        }
        fs_fault_words(R, r, fault, sizeof fault);
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
    return 0;
}
