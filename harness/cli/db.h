/* db.h — the report database: open or create it, check its schema version,
 * and the statements the supervisor writes with. The schema text is
 * reports/schema.sql, compiled in. */
#ifndef FS_DB_H
#define FS_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define FS_SCHEMA_VERSION 7
#define FS_SCHEMA_VERSION_STR "7"

/* Open PATH, creating it with the schema when it does not exist or is empty.
 * Refuses (returns NULL, message in err) a file that is not SQLite, is corrupt,
 * is an SQLite database of something else, or has a newer schema version; such
 * a file is left untouched. The caller owns the handle (sqlite3_close). */
sqlite3 *fs_db_open(const char *path, char *err, size_t errlen);

/* Run SQL with no result rows. Returns 0, or -1 with the message in err. */
int fs_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Prepare or die trying: returns NULL with the message in err. */
sqlite3_stmt *fs_db_prepare(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Bind helpers: NULL or empty text / negative ints bind NULL where noted. */
void fs_bind_text(sqlite3_stmt *st, int i, const char *s);     /* NULL or "" -> NULL */
void fs_bind_int(sqlite3_stmt *st, int i, int64_t v);
void fs_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int is_null);

/* The schema SQL compiled into the binary. */
extern const char fs_schema_sql[];

#endif
