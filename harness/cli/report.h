/* report.h — what `faultstack report` (report.c) hands its writers, one per
 * format (report_text.c, report_json.c, report_junit.c, report_sarif.c,
 * report_html.c), and the helpers they share.
 *
 * report.c loads the findings of the public findings view once, grouped by
 * site, into a struct fs_report; each writer only reads it (and may query the
 * public views through R->db) and writes its format to f. A format is one entry
 * of fs_report_formats[] in report.c: {name, writer, inline_notes, open_only, help}. */
#ifndef FS_REPORT_H
#define FS_REPORT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#define FS_REPORT_TOOL_VERSION "0.1.0"
#define FS_REPORT_INFO_URI "https://github.com/faultstack/faultstack"

/* Columns read from the findings view, in this order. The first 15 are the
 * fields of the JSON format since it exists; the others were added after. */
enum {
    F_ID, F_CATEGORY, F_KIND, F_ANOMALY, F_FUNC, F_MODULE, F_FILE, F_LINE, F_SYMBOL, F_FAULT_FUNC,
    F_FAULT_FILE, F_FAULT_LINE, F_RUNS, F_FIRST_RUN, F_REPRO, F_OFFSET, F_FAULT_MODULE, F_FAULT_OFFSET,
    F_FAULT_SYMBOL,           /* the injected call's function (fault_points.symbol of the first run) */
    F_STATUS,                 /* triage (verdict.c): open, suppressed, driver-gave-up, out-of-scope */
    F_SUPPRESSION,            /* the suppression rule's name, or NULL */
    F_FAULT_CALLER,           /* the fault's callers, innermost first, one per line (findings.fault_callers) */
    F_NCOLS
};
extern const char *const fs_col_names[F_NCOLS];

struct fs_cell { int is_int; int64_t i; char *s; };   /* s == NULL and !is_int: SQL NULL */
struct fs_frow {
    struct fs_cell c[F_NCOLS];
    int site, site_findings;
    int64_t site_runs;
    int twin;                 /* 1, or n for the n-th finding of the report with the same
                                 identity (fs_site_ident + fs_fault_ident) */
};

struct fs_report {
    sqlite3 *db;
    const char *db_path;
    int64_t session;          /* -1: every session */
    struct fs_frow *rows;     /* findings ordered by site (rows of one site are adjacent) */
    int n, cap, nsites;
    int64_t runs, fault_runs, crashed, timed_out, duration_ms;
    const char *srcroot;      /* absolute, no trailing '/': file names under it are shown
                                 relative to it (--srcroot, default the current directory) */
    const char *out_path;     /* -o FILE, or NULL for stdout */
    int open_only;            /* rows are the findings of status 'open' only (the format's
                                 open_only: every format but json; verdict.c triages) */
};

/* A writer: the report R in one format on f. Returns 0, or -1 after saying
 * on stderr what went wrong (out of memory). */
typedef int fs_report_writer(const struct fs_report *R, FILE *f);
fs_report_writer fs_report_text, fs_report_json, fs_report_junit, fs_report_sarif, fs_report_html,
    fs_report_suppressions_writer;

/* The findings of R's scope that are not open (suppressed, driver-gave-up,
 * out-of-scope: the findings view's status), counted: the formats that list
 * open findings only say how many were left out (report.c). */
struct fs_triage_counts { int64_t suppressed, gave_up, out_of_scope; };
void fs_report_triage_counts(const struct fs_report *R, struct fs_triage_counts *t);

static inline const char *fs_s(const struct fs_frow *r, int c) { return r->c[c].s; }
static inline int64_t fs_i(const struct fs_frow *r, int c) { return r->c[c].is_int ? r->c[c].i : 0; }

/* file relative to R->srcroot when it is under it ("src/x.c" for
 * /home/me/proj/src/x.c with --srcroot /home/me/proj), else file itself
 * (a pointer into file, or file; NULL stays NULL). */
const char *fs_report_rel(const struct fs_report *R, const char *file);

/* Words of a finding, file names relative to R->srcroot:
 * site  "open at src/x.c:25 (in copy_file)"
 * what  "leak fd", "anomaly double-release fd", "crash SIGSEGV", "timeout"
 * fault "open at src/x.c:30" or "baseline (no fault)" */
void fs_site_words(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len);
void fs_what_words(const struct fs_frow *r, char *buf, size_t len);
void fs_fault_words(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len);
const char *fs_plural(int64_t n, const char *one, const char *many);
/* The fault's callers (findings.fault_callers or fault_caller: one 'symbol
 * file:line' or 'symbol module+0xOFF' per line, innermost first) on one line,
 * "a file:1 < b file:2", file names relative to R->srcroot. */
void fs_callers_words(const struct fs_report *R, const char *callers, char *buf, size_t len);

/* The stable identity of a finding, for test names and fingerprints: no
 * absolute path, no line number, no offset, no id. "leak fd: open in
 * copy_file (demo/fd_leak.c)" (what, function, the site's symbol and file
 * relative to the srcroot, or its module) and, for the fault, "open in
 * copy_file (demo/fd_leak.c)" or "baseline (no fault)". */
void fs_site_ident(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len);
void fs_fault_ident(const struct fs_report *R, const struct fs_frow *r, char *buf, size_t len);
/* 16 hex digits (FNV-1a 64) of the site and fault identities (and r->twin
 * when > 1): SARIF's partialFingerprints, the HTML page's anchors. */
void fs_finding_hash(const struct fs_report *R, const struct fs_frow *r, char out[17]);

/* Length of the valid UTF-8 sequence at s, or 0 when s does not start one. */
int fs_utf8_len(const unsigned char *s);
/* A JSON string (or null for NULL); bytes that are not UTF-8 become U+FFFD. */
void fs_json_str(FILE *f, const char *s);
/* A JSON number or string for a cell. */
void fs_json_cell(FILE *f, const struct fs_cell *c);
/* XML (and HTML) text or attribute value: the five entities escaped,
 * characters XML 1.0 forbids (controls but tab and newline) and bytes that
 * are not UTF-8 as '?'. NULL writes nothing. */
void fs_xml_str(FILE *f, const char *s);

#endif
