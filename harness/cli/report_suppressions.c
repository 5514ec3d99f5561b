/* report_suppressions.c — the suppressions writer of `faultstack report`
 * (report_suppressions.h; format: docs/suppressions.md). Reads only the
 * public findings view. */
#include "report_suppressions.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* value with the glob characters of fnmatch escaped, so it matches itself */
static void fs_put_literal(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (strchr("*?[\\", *v))
            fputc('\\', out);
        fputc(*v, out);
    }
}

static const char *fs_base(const char *p)
{
    const char *sl = p ? strrchr(p, '/') : NULL;
    return sl ? sl + 1 : p;
}

/* a one-line rule name from the parts: letters, digits and ._- kept */
static void fs_rule_name(char *buf, size_t cap, const char *const *parts, int n)
{
    size_t w = 0;
    for (int i = 0; i < n && w + 1 < cap; i++) {
        if (!parts[i] || !*parts[i])
            continue;
        if (w && w + 1 < cap)
            buf[w++] = '-';
        for (const char *p = parts[i]; *p && w + 1 < cap; p++)
            buf[w++] = (strchr("._-", *p) || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z'))
                       ? *p : '_';
    }
    buf[w] = '\0';
}

int fs_report_suppressions(sqlite3 *db, int64_t session, FILE *out, char *err, size_t errlen)
{
    /* one row per rule: the bugs view's grouping without line and offset */
    static const char *sql =
        "SELECT f.category, f.kind, f.anomaly, f.func, f.symbol, f.module, f.file,"
        " count(*), group_concat(f.id, ','), max(f.status = 'open')"
        " FROM findings f WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM finding_run fr JOIN runs r"
        "   ON r.id = fr.run_id WHERE fr.finding_id = f.id AND r.session_id = ?1)"
        " GROUP BY f.category, f.kind, f.anomaly, f.func, f.symbol, f.module,"
        "   replace(f.file, rtrim(f.file, replace(f.file, '/', '')), '')"
        " ORDER BY f.category, f.module, f.file, f.symbol, f.kind, f.anomaly, f.func";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the findings view: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (session < 0)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_int64(st, 1, session);
    time_t now = time(NULL);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(out, "# faultstack suppressions: the findings of this database%s accepted as a baseline\n"
                 "# (faultstack report --format suppressions, %s). One rule per bug: a new fault\n"
                 "# exposing the same bug is accepted too; a new bug is not. Pass this file to\n"
                 "# faultstack sweep/run/report --suppressions FILE. Format: docs/suppressions.md\n",
            session >= 0 ? " (one session)" : "", ts);
    int step, n = 0;
    char names[256][160];
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cat = (const char *)sqlite3_column_text(st, 0), *kind = (const char *)sqlite3_column_text(st, 1);
        const char *an = (const char *)sqlite3_column_text(st, 2), *call = (const char *)sqlite3_column_text(st, 3);
        const char *sym = (const char *)sqlite3_column_text(st, 4), *mod = (const char *)sqlite3_column_text(st, 5);
        const char *file = fs_base((const char *)sqlite3_column_text(st, 6));
        const char *what = an ? an : cat;
        const char *parts[] = { what, kind, sym ? sym : call, file ? file : mod };
        char name[160];
        fs_rule_name(name, sizeof name - 8, parts, 4);
        int dup = 0;
        for (int i = 0; i < n && i < 256; i++)
            dup += !strcmp(names[i], name);
        if (n < 256)
            snprintf(names[n], sizeof names[n], "%s", name);
        n++;
        if (dup) {
            char suf[16];
            snprintf(suf, sizeof suf, "-%d", dup + 1);
            strncat(name, suf, sizeof name - strlen(name) - 1);
        }
        fprintf(out, "\n# finding%s %s%s\n{\n   %s\n   %s%s%s\n", sqlite3_column_int(st, 7) == 1 ? "" : "s",
                sqlite3_column_text(st, 8), sqlite3_column_int(st, 9) ? "" : " (none open today)", name, what,
                kind ? ":" : "", kind ? kind : "");
        if (!call && !sym && !mod && !file)
            fprintf(out, "   # no site recorded: this accepts every %s%s%s\n", what, kind ? " " : "", kind ? kind : "");
        static const char *const keys[] = { "call", "function", "module", "file" };
        const char *vals[] = { call, sym, mod, file };
        for (int k = 0; k < 4; k++) {
            if (!vals[k])
                continue;
            fprintf(out, "   %s: ", keys[k]);
            fs_put_literal(out, vals[k]);
            fputc('\n', out);
        }
        fputs("}\n", out);
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the findings view: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    if (!n)
        fputs("\n# (no findings)\n", out);
    sqlite3_finalize(st);
    return 0;
}

/* The entry of report.c's format table: R's database and session (the rules
 * cover every finding of the scope, whatever its status). */
int fs_report_suppressions_writer(const struct fs_report *R, FILE *f)
{
    char err[512];
    if (fs_report_suppressions(R->db, R->session, f, err, sizeof err) != 0) {
        fprintf(stderr, "faultstack report: %s: %s\n", R->db_path, err);
        return -1;
    }
    return 0;
}
