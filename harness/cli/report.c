/* report.c — `faultstack report`, `faultstack repro` and `faultstack functions`.
 *
 * report reads only the public views (findings, runs), so what it prints is
 * what users can query themselves with SQL. */
#define _GNU_SOURCE
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "funcs.h"
#include "plan.h"

static void fs_json_str(FILE *f, const char *s)
{
    if (!s) { fputs("null", f); return; }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static const char *fs_col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static void fs_report_usage(FILE *f)
{
    fprintf(f, "usage: faultstack report [--db FILE] [--format text|json]\n"
               "  Print the deduplicated findings of the database (the findings view).\n"
               "exit status: 0 no findings, 1 findings, 2 usage or tool error\n");
}

int fs_cmd_report(int argc, char **argv)
{
    const char *db_path = "faultstack.db", *format = "text";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5)) db_path = argv[i] + 5;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9)) format = argv[i] + 9;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fs_report_usage(stdout); return 0; }
        else {
            fprintf(stderr, "faultstack report: unknown option '%s'\n", argv[i]);
            fs_report_usage(stderr);
            return 2;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "faultstack report: unknown --format '%s' (use text or json)\n", format);
        return 2;
    }
    if (access(db_path, F_OK) != 0) {
        fprintf(stderr, "faultstack report: no database '%s'; run `faultstack run -- PROGRAM` first or pass --db\n",
                db_path);
        return 2;
    }
    char err[1024];
    sqlite3 *db = fs_db_open(db_path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack report: %s\n", err);
        return 2;
    }
    sqlite3_stmt *st = fs_db_prepare(db,
        "SELECT id, category, kind, anomaly, func, module, file, line, symbol, fault_func, fault_file,"
        " fault_line, runs, first_run, repro FROM findings ORDER BY category, file, line, id", err, sizeof err);
    if (!st) {
        fprintf(stderr, "faultstack report: %s\n", err);
        sqlite3_close(db);
        return 2;
    }
    int n = 0;
    if (!strcmp(format, "json"))
        fputs("[", stdout);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *file = fs_col(st, 6), *sym = fs_col(st, 8), *ff = fs_col(st, 10);
        if (!strcmp(format, "json")) {
            static const char *const names[] = { "id", "category", "kind", "anomaly", "func", "module", "file",
                                                 "line", "symbol", "fault_func", "fault_file", "fault_line",
                                                 "runs", "first_run", "repro" };
            fputs(n ? ",\n {" : "\n {", stdout);
            for (int c = 0; c < 15; c++) {
                printf("%s\"%s\": ", c ? ", " : "", names[c]);
                if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
                    printf("%lld", (long long)sqlite3_column_int64(st, c));
                else
                    fs_json_str(stdout, fs_col(st, c));
            }
            fputs("}", stdout);
        } else {
            printf("#%lld %s %s%s%s: %s at %s:%d%s%s%s\n", (long long)sqlite3_column_int64(st, 0), fs_col(st, 1),
                   fs_col(st, 2) ? fs_col(st, 2) : "", fs_col(st, 3) ? " " : "",
                   fs_col(st, 3) ? fs_col(st, 3) : "", fs_col(st, 4) ? fs_col(st, 4) : "?",
                   file ? file : (fs_col(st, 5) ? fs_col(st, 5) : "?"), sqlite3_column_int(st, 7),
                   sym ? " (in " : "", sym ? sym : "", sym ? ")" : "");
            if (fs_col(st, 9))
                printf("    when %s fails at %s:%d\n", fs_col(st, 9), ff ? ff : "?", sqlite3_column_int(st, 11));
            else
                printf("    without any injected fault (baseline)\n");
            printf("    seen in %d run%s, first run %lld\n    repro: %s\n", sqlite3_column_int(st, 12),
                   sqlite3_column_int(st, 12) == 1 ? "" : "s", (long long)sqlite3_column_int64(st, 13),
                   fs_col(st, 14));
        }
        n++;
    }
    sqlite3_finalize(st);
    if (!strcmp(format, "json"))
        fputs(n ? "\n]\n" : "]\n", stdout);
    else if (!n)
        printf("no findings\n");
    sqlite3_close(db);
    return n ? 1 : 0;
}

int fs_cmd_repro(int argc, char **argv)
{
    const char *db_path = "faultstack.db";
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5)) db_path = argv[i] + 5;
        else if (argv[i][0] != '-' && !id) id = argv[i];
        else {
            fprintf(stderr, "usage: faultstack repro [--db FILE] FINDING_ID\n");
            return 2;
        }
    }
    char *end = NULL;
    long long fid = id ? strtoll(id, &end, 10) : 0;
    if (!id || *end || fid <= 0) {
        fprintf(stderr, "faultstack repro: give a finding id (the number after # in `faultstack report`)\n");
        return 2;
    }
    if (access(db_path, F_OK) != 0) {
        fprintf(stderr, "faultstack repro: no database '%s'; pass --db with the one the finding is in\n", db_path);
        return 2;
    }
    char err[1024];
    sqlite3 *db = fs_db_open(db_path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack repro: %s\n", err);
        return 2;
    }
    sqlite3_stmt *st = fs_db_prepare(db, "SELECT repro FROM findings WHERE id = ?1", err, sizeof err);
    char cmd[16384] = "";
    if (st) {
        sqlite3_bind_int64(st, 1, fid);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(cmd, sizeof cmd, "%s", fs_col(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (!cmd[0]) {
        fprintf(stderr, "faultstack repro: no finding #%lld in %s; list them with faultstack report\n", fid, db_path);
        return 2;
    }
    fprintf(stderr, "faultstack repro: %s\n", cmd);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    perror("faultstack repro: /bin/sh");
    return 2;
}

int fs_cmd_functions(int argc, char **argv)
{
    (void)argc; (void)argv;
    static const char *const roles[] = { "acquire", "release", "use", "acq+rel" };
    printf("%-28s %-7s %-8s %-11s %-10s %s\n", "function", "kind", "role", "fault point", "errno", "failure");
    for (int i = 0; i < FS_F_COUNT; i++) {
        const struct fs_func_info *f = &fs_funcs[i];
        printf("%-28s %-7s %-8s %-11s %-10s %s\n", f->name, fs_kind_names[f->kind], roles[f->role],
               f->injectable ? "yes" : "no", f->err ? (fs_errno_name(f->err) ? fs_errno_name(f->err) : "?") : "-",
               f->failure);
    }
    return 0;
}
