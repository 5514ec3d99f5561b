/* db.c — opening the report database safely (see db.h). */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "schema_sql.h"   /* generated from reports/schema.sql: defines fs_schema_sql[] */

int fs_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

sqlite3_stmt *fs_db_prepare(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

void fs_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void fs_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st, i, v);
}

void fs_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int is_null)
{
    if (is_null)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

static int fs_db_scalar(sqlite3 *db, const char *sql, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db, sql, err, errlen);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = 0;
    } else {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* No fsync: a sweep commits one transaction per run, and the syncs of each
 * commit (~20 ms here) cost more than the runs (bench/RESULTS.md). A killed
 * faultstack still loses nothing it committed (the writes are in the page
 * cache, and the rollback journal undoes a half-written transaction); an OS
 * crash or power cut during a sweep can damage the database. WAL mode was as
 * fast but makes concurrent `sqlite3` readers fail with "database is locked"
 * while one of them rebuilds the WAL index. */
static void fs_db_fast(sqlite3 *db)
{
    char why[256];
    if (fs_db_exec(db, "PRAGMA synchronous=OFF", why, sizeof why) != 0) {
        /* cannot happen for a valid connection; SQLite's default (FULL) stays */
    }
}

/* ALTER TABLE t ADD COLUMN c decl, unless t has a column c already (a
 * database an interrupted or hand-made upgrade left half-way). 0 or -1. */
static int fs_db_add_column(sqlite3 *db, const char *table, const char *col, const char *decl, char *why,
                            size_t whylen)
{
    char sql[256];
    int64_t have = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table, col);
    if (fs_db_scalar(db, sql, &have, why, whylen) != 0)
        return -1;
    if (have)
        return 0;
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, col, decl);
    return fs_db_exec(db, sql, why, whylen);
}

/* Upgrade an older schema in place, in one transaction (all or nothing): the
 * steps from VERSION up add columns, then the schema script, whose CREATE ...
 * IF NOT EXISTS add the new tables and views and keep the rest (a view whose
 * columns change is dropped in its step and recreated by the script).
 * 1 -> 2: columns run.sweep_key, run.confirms, point.ctx; the sweep table; the
 *         runs and fault_points views gain those columns.
 * 2 -> 3: column resource.reason and the held view (verdict reasons); columns
 *         run.observed, run.note (the runs view gains them); tables
 *         memcheck_run, memcheck_error and views memcheck,
 *         memcheck_vs_faultstack (--valgrind), created by the script.
 * 3 -> 4, step 'sanitizer': the sanitizer_report table and sanitizer_reports
 *         view; new objects only (nothing to ALTER): the schema script makes
 *         them. When merging another 3 -> 4 step, give one of them 5; each
 *         step stands alone (no step depends on the other).
 * 4 -> 5, step 'roles': views only. The runs, leaks, anomalies and held views
 *         gain role (leaks also confirms): dropped here, recreated by the
 *         script with the new views crashes and sweeps. No table changes; when
 *         merging another 4 -> 5 step, give one of them 6 (this one stands
 *         alone: it drops and the script recreates only views).
 * 5 -> 6, step 'triage': columns finding.suppressed, finding.suppression,
 *         finding.in_scope, finding.gave_up, run.fault_callers; the findings
 *         and runs views are dropped (the script makes them with the new
 *         columns) and the bugs view is new. Stands alone like 'sanitizer'.
 *         It also drops the leaks, anomalies and held views, which the script
 *         recreates unchanged: a database made by the unmerged triage branch
 *         (which called this step 4 -> 5) says 5 without step 'roles's views.
 *         Every view reads tables only (bugs too), so a step may drop one.
 * 6 -> 7, step 'sites': the site table and the fault_sites view (a run's
 *         per-site call counts, kept when its per-point list was capped); new
 *         objects only, which the script creates. */
static int fs_db_upgrade(sqlite3 *db, int64_t version, char *why, size_t whylen)
{
    if (fs_db_exec(db, "BEGIN IMMEDIATE", why, whylen) != 0)
        return -1;
    if ((version < 2 &&
         fs_db_exec(db, "ALTER TABLE run ADD COLUMN sweep_key TEXT;"
                        "ALTER TABLE run ADD COLUMN confirms INTEGER REFERENCES run(id);"
                        "ALTER TABLE point ADD COLUMN ctx INTEGER;"
                        "DROP VIEW IF EXISTS runs; DROP VIEW IF EXISTS fault_points;", why, whylen) != 0) ||
        (version < 3 &&
         (fs_db_add_column(db, "resource", "reason", "TEXT", why, whylen) != 0 ||
          fs_db_add_column(db, "run", "observed", "INTEGER NOT NULL DEFAULT 1", why, whylen) != 0 ||
          fs_db_add_column(db, "run", "note", "TEXT", why, whylen) != 0 ||
          fs_db_exec(db, "DROP VIEW IF EXISTS runs;", why, whylen) != 0)) ||
        (version < 5 &&                      /* step 'roles' */
         fs_db_exec(db, "DROP VIEW IF EXISTS runs; DROP VIEW IF EXISTS leaks; DROP VIEW IF EXISTS anomalies;"
                        "DROP VIEW IF EXISTS held;", why, whylen) != 0) ||
        (version < 6 &&                      /* step 'triage' */
         (fs_db_add_column(db, "finding", "suppressed", "INTEGER NOT NULL DEFAULT 0", why, whylen) != 0 ||
          fs_db_add_column(db, "finding", "suppression", "TEXT", why, whylen) != 0 ||
          fs_db_add_column(db, "finding", "in_scope", "INTEGER", why, whylen) != 0 ||
          fs_db_add_column(db, "finding", "gave_up", "INTEGER NOT NULL DEFAULT 0", why, whylen) != 0 ||
          fs_db_add_column(db, "run", "fault_callers", "TEXT", why, whylen) != 0 ||
          fs_db_exec(db, "DROP VIEW IF EXISTS bugs; DROP VIEW IF EXISTS findings; DROP VIEW IF EXISTS runs;"
                         "DROP VIEW IF EXISTS leaks; DROP VIEW IF EXISTS anomalies; DROP VIEW IF EXISTS held;",
                     why, whylen) != 0)) ||
        fs_db_exec(db, fs_schema_sql, why, whylen) != 0 ||
        fs_db_exec(db, "INSERT OR REPLACE INTO meta VALUES('schema_version','" FS_SCHEMA_VERSION_STR "')",
                   why, whylen) != 0)
        goto fail;
    return fs_db_exec(db, "COMMIT", why, whylen);
fail:
    {
        char ignore[64];
        fs_db_exec(db, "ROLLBACK", ignore, sizeof ignore);
    }
    return -1;
}

sqlite3 *fs_db_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char why[512];
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (exists && !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "database '%s' is not a regular file; pass --db with a file path", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database '%s': %s; check the path and its directory's permissions",
                 path, db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db, 10000);
    int64_t tables = 0, version = 0;
    if (fs_db_scalar(db, "SELECT count(*) FROM sqlite_master", &tables, why, sizeof why) != 0) {
        snprintf(err, errlen, "'%s' is not a faultstack database or is corrupt (%s); "
                 "move it aside or pass --db with another file", path, why);
        goto fail;
    }
    if (fs_db_scalar(db, "PRAGMA user_version", &version, why, sizeof why) != 0) {
        snprintf(err, errlen, "'%s': cannot read the schema version (%s)", path, why);
        goto fail;
    }
    if (tables == 0) {                       /* new or empty file: create */
        if (fs_db_exec(db, "BEGIN IMMEDIATE", why, sizeof why) != 0 ||
            fs_db_exec(db, fs_schema_sql, why, sizeof why) != 0 ||
            fs_db_exec(db, "INSERT OR REPLACE INTO meta VALUES('schema_version','" FS_SCHEMA_VERSION_STR "'),"
                           "('created_by','faultstack')", why, sizeof why) != 0 ||
            fs_db_exec(db, "COMMIT", why, sizeof why) != 0) {
            snprintf(err, errlen, "cannot create the schema in '%s': %s", path, why);
            goto fail;
        }
        fs_db_fast(db);
        return db;
    }
    int64_t has_meta = 0;
    fs_db_scalar(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                 &has_meta, why, sizeof why);
    if (!has_meta) {
        snprintf(err, errlen, "'%s' is an SQLite database but not a faultstack one (no meta table); "
                 "pass --db with another file", path);
        goto fail;
    }
    if (version > FS_SCHEMA_VERSION) {
        snprintf(err, errlen, "'%s' has schema version %lld, newer than this faultstack supports (%d); "
                 "use a newer faultstack or another --db file", path, (long long)version,
                 FS_SCHEMA_VERSION);
        goto fail;
    }
    if (version < 1) {
        snprintf(err, errlen, "'%s' has schema version %lld, which this faultstack cannot read; "
                 "pass --db with another file", path, (long long)version);
        goto fail;
    }
    if (version < FS_SCHEMA_VERSION && fs_db_upgrade(db, version, why, sizeof why) != 0) {
        snprintf(err, errlen, "'%s': cannot upgrade schema version %lld to %d (%s); nothing was changed; "
                 "check that the file is writable, or pass --db with another file", path,
                 (long long)version, FS_SCHEMA_VERSION, why);
        goto fail;
    }
    fs_db_fast(db);
    return db;
fail:
    sqlite3_close(db);
    return NULL;
}
