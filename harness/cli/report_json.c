/* report_json.c — `faultstack report --format json`: an array of findings,
 * the columns of the findings view plus their site grouping (report.h). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* The format since the first version: an array of objects with the columns of
 * the findings view; added fields: offset, fault_module, fault_offset, site
 * (1-based index of the finding's site in report order), site_findings,
 * site_runs, fault_symbol (the function the injected call was in), srcfile and
 * fault_srcfile (file and fault_file relative to --srcroot when under it, else
 * as recorded), and session with --session (runs then counts that session's). */
int fs_report_json(const struct fs_report *R, FILE *f)
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
        fputs(", \"srcfile\": ", f);               /* file and fault_file relative to --srcroot */
        fs_json_str(f, fs_report_rel(R, fs_s(r, F_FILE)));
        fputs(", \"fault_srcfile\": ", f);
        fs_json_str(f, fs_report_rel(R, fs_s(r, F_FAULT_FILE)));
        if (R->session >= 0)
            fprintf(f, ", \"session\": %lld", (long long)R->session);
        fputs("}", f);
    }
    fputs(R->n ? "\n]\n" : "]\n", f);
    return 0;
}
