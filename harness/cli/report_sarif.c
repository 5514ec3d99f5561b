/* report_sarif.c — `faultstack report --format sarif`: SARIF 2.1.0 for code
 * scanning (GitHub, IDEs), a rule per category/kind, a result per finding
 * (report.h). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

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

/* A file name as a relative URI reference and its base (originalUriBaseIds):
 * relative to srcroot (SRCROOT) when under it or relative, else relative to
 * the file system's root (ROOT, file:///), so that no result carries an
 * absolute URI. Percent-encodes what RFC 3986 does not allow in a path.
 * srcroot NULL: file (absolute) as a file:// URI, *base NULL. */
static void fs_uri(const char *srcroot, const char *file, char *buf, size_t len, const char **base)
{
    const char *path = file;
    size_t rl = srcroot ? strlen(srcroot) : 0;
    size_t n = 0;
    if (!srcroot) {
        *base = NULL;
        n = (size_t)snprintf(buf, len, "file://");
    } else if (file[0] == '/' && rl && !strncmp(file, srcroot, rl) && (file[rl] == '/' || srcroot[rl - 1] == '/')) {
        path = file + rl + (file[rl] == '/');
        *base = "SRCROOT";
    } else if (file[0] != '/') {
        *base = "SRCROOT";
    } else {
        path = file + 1;
        *base = "ROOT";
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
    const char *base;
    fs_uri(R->srcroot ? R->srcroot : "/", file, uri, sizeof uri, &base);
    fprintf(f, "%s\"physicalLocation\": {\n%s  \"artifactLocation\": {\"uri\": ", ind, ind);
    fs_json_str(f, uri);
    fprintf(f, ", \"uriBaseId\": \"%s\"", base);
    fputs("}", f);
    if (line > 0)
        fprintf(f, ",\n%s  \"region\": {\"startLine\": %lld}", ind, (long long)line);
    fprintf(f, "\n%s}", ind);
}

/* SARIF 2.1.0: one run of tool faultstack, a rule per category/kind, one
 * result (level error) per finding located at its site, the fault site as a
 * related location, the repro in the message and in properties. */
int fs_report_sarif(const struct fs_report *R, FILE *f)
{
    char (*rules)[160] = calloc((size_t)R->n + 1, sizeof *rules);
    int *rule_of = calloc((size_t)R->n + 1, sizeof *rule_of);
    int nrules = 0, rc = 0;
    char id[160], name[160], sd[256], fd[512];
    char what[128], site[PATH_MAX + 256], fault[PATH_MAX + 128];
    if (!rules || !rule_of) {
        fprintf(stderr, "faultstack report: out of memory writing SARIF\n");
        rc = -1;
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
    {
        char root[PATH_MAX * 3 + 16];
        const char *none;
        fs_uri(NULL, R->srcroot ? R->srcroot : "/", root, sizeof root - 2, &none);
        if (root[strlen(root) - 1] != '/')
            strcat(root, "/");
        fputs("      \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": ", f);
        fs_json_str(f, root);
        fputs(", \"description\": {\"text\": \"faultstack report --srcroot (default: the current directory)\"}},"
              " \"ROOT\": {\"uri\": \"file:///\", \"description\": {\"text\": \"files outside the srcroot\"}}},\n", f);
    }
    fputs("      \"results\": [", f);
    for (int k = 0; k < R->n; k++) {
        const struct fs_frow *r = &R->rows[k];
        fs_what_words(r, what, sizeof what);
        fs_site_words(R, r, site, sizeof site);
        fs_fault_words(R, r, fault, sizeof fault);
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
        /* the finding's stable identity (no path outside the srcroot, no line): code
         * scanning matches results across runs by it */
        char hash[17], ident[PATH_MAX * 2 + 1400], sid[PATH_MAX + 700], fid[PATH_MAX + 600];
        fs_finding_hash(R, r, hash);
        fs_site_ident(R, r, sid, sizeof sid);
        fs_fault_ident(R, r, fid, sizeof fid);
        snprintf(ident, sizeof ident, "%s; fault: %s", sid, fid);
        fprintf(f, ",\n          \"partialFingerprints\": {\"faultstackFinding/v1\": \"%s\"}", hash);
        fputs(",\n          \"properties\": {\"identity\": ", f);
        fs_json_str(f, ident);
        fputs(", ", f);
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
    return rc;
}

