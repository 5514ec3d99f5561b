/* report_junit.c — `faultstack report --format junit`: JUnit XML for CI test
 * reports (Jenkins xUnit/JUnit, GitLab), one testsuite per site (report.h).
 *
 * What the readers accept decides the shape: Jenkins xUnit validates against
 * its junit-10.xsd, where <testcase> may carry only name, classname, time and
 * group (no file or line: a report with them is rejected) and <testsuite> may
 * carry file; GitLab reads testsuites/testsuite/testcase with name, classname,
 * time, and failure/system-out text. tests/integration/schemas/junit-jenkins.xsd
 * states those rules and the tests validate every report against it.
 *
 * Test names are the findings' stable identities (fs_site_ident and
 * fs_fault_ident): kind, function, the site's symbol and its file relative to
 * --srcroot, and the same for the fault; no absolute path, line number, offset
 * or finding id, so a test keeps its name (and its history in the CI) when the
 * code around it moves. Lines, ids and the repro are in the failure text. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "shell.h"

/* The testcase name of finding r; the same identity twice in one report (two
 * calls of one function in one symbol) gets " (2)", " (3)" in report order. */
static void fs_case_name(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len)
{
    char site[PATH_MAX + 700], fault[PATH_MAX + 600];
    fs_site_ident(R, r, site, sizeof site);
    fs_fault_ident(R, r, fault, sizeof fault);
    snprintf(buf, len, "%s, %s%s%s", site, fs_s(r, F_FAULT_FUNC) ? "when " : "", fault,
             fs_s(r, F_FAULT_FUNC) ? " fails" : "");
    if (r->twin > 1)
        snprintf(buf + strlen(buf), len - strlen(buf), " (%d)", r->twin);
}

int fs_report_junit(const struct fs_report *R, FILE *f)
{
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128], ident[PATH_MAX + 700], qdb[PATH_MAX * 2] = "";
    char name[PATH_MAX * 2 + 1400];
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
            fs_site_ident(R, r, ident, sizeof ident);
            fputs("  <testsuite name=\"", f);
            fs_xml_str(f, ident);
            fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"0\"", r->site_findings,
                    r->site_findings);
            if (fs_s(r, F_FILE)) {            /* allowed on testsuite, not on testcase */
                fputs(" file=\"", f);
                fs_xml_str(f, fs_report_rel(R, fs_s(r, F_FILE)));
                fputc('"', f);
            }
            fputs(">\n", f);
        }
        fs_fault_words(R, r, fault, sizeof fault);
        fs_case_name(R, r, name, sizeof name);
        fputs("    <testcase classname=\"faultstack.", f);
        fs_xml_str(f, fs_s(r, F_CATEGORY));
        if (fs_s(r, F_KIND)) { fputc('.', f); fs_xml_str(f, fs_s(r, F_KIND)); }
        fputs("\" name=\"", f);
        fs_xml_str(f, name);
        fputs("\" time=\"0\">\n      <failure type=\"", f);
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
        fputs("check the replay: ", f);
        fs_xml_str(f, fs_self_command());
        fputs(" repro --db ", f);
        fs_xml_str(f, qdb);
        fprintf(f, " %lld</failure>\n    </testcase>\n", (long long)fs_i(r, F_ID));
        if (k + 1 == R->n || R->rows[k + 1].site != r->site)
            fputs("  </testsuite>\n", f);
    }
    if (R->runs > 0) {                        /* a stable name; the counts in system-out */
        fprintf(f, "  <testsuite name=\"faultstack runs\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\""
                   " time=\"%.3f\">\n", secs);
        fprintf(f, "    <testcase classname=\"faultstack.summary\" name=\"runs recorded\" time=\"%.3f\">\n"
                   "      <system-out>%lld run%s (%lld with an injected fault, %lld killed by a signal, %lld timed "
                   "out), %d finding%s</system-out>\n    </testcase>\n",
                secs, (long long)R->runs, fs_plural(R->runs, "", "s"), (long long)R->fault_runs,
                (long long)R->crashed, (long long)R->timed_out, R->n, fs_plural(R->n, "", "s"));
        fputs("  </testsuite>\n", f);
    } else if (R->n == 0) {
        fputs("  <testsuite name=\"faultstack\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\"/>\n", f);
    }
    fputs("</testsuites>\n", f);
    return 0;
}
