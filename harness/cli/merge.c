/* merge.c — `faultstack merge`: combine report databases, e.g. those of a
 * sweep sharded over several CI machines (`faultstack sweep --shard I/N`).
 *
 * Every input is checked first (read-only: an SQLite file with faultstack's
 * meta table and a schema version this faultstack knows); one bad input and
 * nothing is written. Then each input is copied into OUT in one transaction
 * (ATTACH + INSERT ... SELECT): sessions, sweeps, runs, processes, fault
 * points, resources, anomalies and crashes with fresh ids (session and run ids
 * shifted past OUT's largest), findings deduplicated by finding.key (new keys
 * inserted with first_run remapped and the repro's --db pointing at OUT), and
 * finding_run united. Columns are matched by name, so a version-1 input (no
 * sweep_key, confirms, ctx, sweep table) merges into a version-2 OUT.
 *
 * Merging the same input twice is a no-op: OUT's meta table records the
 * SHA-256 of every merged file's content ('merged:<sha256>'), and a merged
 * database carries those keys on, so merging a merge of A after A is caught. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "ingest.h"

/* ---------------- SHA-256 (FIPS 180-4) of the input files ---------------- */

struct fs_sha256 { uint32_t h[8]; uint64_t len; unsigned char buf[64]; size_t n; };

static const uint32_t fs_sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define FS_ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void fs_sha256_block(struct fs_sha256 *s, const unsigned char *p)
{
    uint32_t w[64], v[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = FS_ROR(w[i - 15], 7) ^ FS_ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = FS_ROR(w[i - 2], 17) ^ FS_ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(v, s->h, sizeof v);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = v[7] + (FS_ROR(v[4], 6) ^ FS_ROR(v[4], 11) ^ FS_ROR(v[4], 25)) +
                      ((v[4] & v[5]) ^ (~v[4] & v[6])) + fs_sha_k[i] + w[i];
        uint32_t t2 = (FS_ROR(v[0], 2) ^ FS_ROR(v[0], 13) ^ FS_ROR(v[0], 22)) +
                      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
        memmove(v + 1, v, 7 * sizeof v[0]);
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        s->h[i] += v[i];
}

static void fs_sha256_init(struct fs_sha256 *s)
{
    static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memset(s, 0, sizeof *s);
    memcpy(s->h, h0, sizeof h0);
}

static void fs_sha256_update(struct fs_sha256 *s, const unsigned char *p, size_t n)
{
    s->len += n;
    while (n) {
        size_t take = 64 - s->n < n ? 64 - s->n : n;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        n -= take;
        if (s->n == 64) {
            fs_sha256_block(s, s->buf);
            s->n = 0;
        }
    }
}

static void fs_sha256_hex(struct fs_sha256 *s, char hex[65])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    fs_sha256_update(s, &pad, 1);
    while (s->n != 56)
        fs_sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    fs_sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

/* Feed the content of path into s; a missing file adds nothing when optional.
 * Returns 0, or -1 with the message in err. */
static int fs_sha256_file(struct fs_sha256 *s, const char *path, int optional, char *err, size_t errlen)
{
    unsigned char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (optional && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        fs_sha256_update(s, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
        return -1;
    }
    return 0;
}

/* ---------------- the inputs ---------------- */

struct fs_input {
    const char *path;
    char key[80];             /* "merged:<sha256 of the file (and its -wal)>" */
    int64_t version, sessions, runs, findings;
    char **merged;            /* the input's own 'merged:' keys (it is a merge itself) */
    int nmerged;
    int skip;                 /* already in OUT */
};

static int fs_has_table(sqlite3 *db, const char *schema, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.sqlite_master WHERE type = 'table' AND name = ?1", schema);
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return n > 0;
}

/* One integer from sql, or -1 (message in err). */
static int64_t fs_merge_scalar(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db, sql, err, errlen);
    int64_t v = -1;
    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

/* The 'merged:%' keys of db's meta table, appended to *keys. Returns 0 or -1. */
static int fs_merged_keys(sqlite3 *db, char ***keys, int *n, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db, "SELECT key FROM meta WHERE key LIKE 'merged:%'", err, errlen);
    int rc = 0;
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **nk = realloc(*keys, (size_t)(*n + 1) * sizeof *nk);
        char *k = strdup((const char *)sqlite3_column_text(st, 0));
        if (!nk || !k) {
            free(k);
            if (nk) *keys = nk;
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        *keys = nk;
        (*keys)[(*n)++] = k;
    }
    sqlite3_finalize(st);
    return rc;
}

static void fs_free_keys(char **keys, int n)
{
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static int fs_has_key(char **keys, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(keys[i], key))
            return 1;
    return 0;
}

/* With URI names switched on (SQLITE_CONFIG_URI), a file really named
 * "file:..." must be opened as "./file:...". Returns path or buf. */
static const char *fs_plain_path(const char *path, char *buf, size_t len)
{
    if (strncmp(path, "file:", 5))
        return path;
    snprintf(buf, len, "./%s", path);
    return buf;
}

/* Check an input without changing it (opened read-only) and fingerprint it.
 * Returns 0, or -1 with a message in err that says what to do. */
static int fs_input_check(struct fs_input *in, const struct stat *out_st, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    struct stat sb;
    char why[512], wal[PATH_MAX + 8];
    int rc = -1;
    static const char *const need[] = { "session", "run", "point", "resource", "anomaly", "crash",
                                        "finding", "finding_run", "process", NULL };
    if (stat(in->path, &sb) != 0) {
        snprintf(err, errlen, "cannot read input '%s': %s; check the path", in->path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "input '%s' is not a regular file; give faultstack database files", in->path);
        goto out;
    }
    if (out_st && sb.st_dev == out_st->st_dev && sb.st_ino == out_st->st_ino) {
        snprintf(err, errlen, "input '%s' is the output database (--db) itself; give other files as inputs",
                 in->path);
        goto out;
    }
    char plain[PATH_MAX + 8];
    if (sqlite3_open_v2(fs_plain_path(in->path, plain, sizeof plain), &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open input '%s': %s; check the file and its permissions", in->path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    int64_t tables = fs_merge_scalar(db, "SELECT count(*) FROM sqlite_master", why, sizeof why);
    if (tables < 0) {
        snprintf(err, errlen, "input '%s' is not a faultstack database or is corrupt (%s); "
                 "give databases written by faultstack run or sweep", in->path, why);
        goto out;
    }
    if (tables == 0 || !fs_has_table(db, "main", "meta")) {
        snprintf(err, errlen, "input '%s' is %s, not a faultstack database (no meta table); "
                 "give databases written by faultstack run or sweep", in->path,
                 tables ? "an SQLite database of something else" : "an empty SQLite database");
        goto out;
    }
    in->version = fs_merge_scalar(db, "PRAGMA user_version", why, sizeof why);
    if (in->version > FS_SCHEMA_VERSION) {
        snprintf(err, errlen, "input '%s' has schema version %lld, newer than this faultstack supports (%d); "
                 "merge with a newer faultstack", in->path, (long long)in->version, FS_SCHEMA_VERSION);
        goto out;
    }
    if (in->version < 1) {
        snprintf(err, errlen, "input '%s' has schema version %lld, which this faultstack cannot read; "
                 "give databases written by faultstack run or sweep", in->path, (long long)in->version);
        goto out;
    }
    for (int i = 0; need[i]; i++)
        if (!fs_has_table(db, "main", need[i])) {
            snprintf(err, errlen, "input '%s' has no table '%s', so it is not a complete faultstack database "
                     "(schema version %lld); give databases written by faultstack run or sweep", in->path,
                     need[i], (long long)in->version);
            goto out;
        }
    in->sessions = fs_merge_scalar(db, "SELECT count(*) FROM session", why, sizeof why);
    in->runs = fs_merge_scalar(db, "SELECT count(*) FROM run", why, sizeof why);
    in->findings = fs_merge_scalar(db, "SELECT count(*) FROM finding", why, sizeof why);
    if (in->sessions < 0 || in->runs < 0 || in->findings < 0 ||
        fs_merged_keys(db, &in->merged, &in->nmerged, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot read input '%s': %s; check that it is not corrupt (sqlite3 %s "
                 "'PRAGMA integrity_check')", in->path, why, in->path);
        goto out;
    }
    struct fs_sha256 sha;
    char hex[65];
    fs_sha256_init(&sha);
    snprintf(wal, sizeof wal, "%s-wal", in->path);
    if (fs_sha256_file(&sha, in->path, 0, why, sizeof why) != 0 || fs_sha256_file(&sha, wal, 1, why, sizeof why)) {
        snprintf(err, errlen, "%s; check the file's permissions", why);
        goto out;
    }
    fs_sha256_hex(&sha, hex);
    snprintf(in->key, sizeof in->key, "merged:%s", hex);
    rc = 0;
out:
    sqlite3_close(db);
    return rc;
}

/* ---------------- copying one input ---------------- */

/* SQL function fs_merge_repro(repro, out_db): the repro command with its
 * `--db FILE` replaced by out_db; unchanged when it is not a plain command. */
static void fs_sql_repro(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *repro = (const char *)sqlite3_value_text(argv[0]);
    const char *out = (const char *)sqlite3_value_text(argv[1]);
    char err[256], *buf = NULL;
    int n = 0;
    char **w = repro && out ? fs_shell_split(repro, &n, err, sizeof err) : NULL;
    size_t cap = (repro ? strlen(repro) : 0) + 4 * strlen(out ? out : "") + 64;
    if (!w || n < 3 || strcmp(w[1], "run") || !(buf = malloc(cap)))
        goto keep;
    buf[0] = '\0';
    int opts = 1, replaced = 0;
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(buf, " ");
        if (opts && !strcmp(w[i], "--"))
            opts = 0;
        if (opts && i > 1 && !strcmp(w[i - 1], "--db")) {
            fs_shell_quote(buf, cap, out);
            replaced = 1;
        } else if (opts && !strncmp(w[i], "--db=", 5)) {
            strcat(buf, "--db=");
            fs_shell_quote(buf, cap, out);
            replaced = 1;
        } else if (fs_shell_quote(buf, cap, w[i]) != 0) {
            goto keep;
        }
    }
    if (!replaced)
        goto keep;
    sqlite3_result_text(ctx, buf, -1, free);
    fs_shell_free(w);
    return;
keep:
    free(buf);
    fs_shell_free(w);
    sqlite3_result_value(ctx, argv[0]);
}

/* Copy src.TABLE into main.TABLE: the columns both have (matched by name),
 * with expressions for the ones that hold ids (remap: "col", "expr", ...,
 * NULL; a NULL expr leaves the column out). suffix ends the statement.
 * Returns rows inserted, or -1 with the message in err. */
static int64_t fs_copy_table(sqlite3 *db, const char *table, const char *const *remap, const char *suffix,
                             const char *out_path, char *err, size_t errlen)
{
    char cols[4096] = "", exprs[8192] = "", sql[16384];
    int64_t rc = -1;
    sqlite3_stmt *st = fs_db_prepare(db,
        "SELECT m.name FROM pragma_table_info(?1, 'main') m"
        " WHERE m.name IN (SELECT s.name FROM pragma_table_info(?1, 'src') s) ORDER BY m.cid", err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0), *e = c;
        int skip = 0;
        for (int i = 0; remap && remap[i]; i += 2)
            if (!strcmp(remap[i], c)) {
                e = remap[i + 1];
                skip = e == NULL;
            }
        if (skip)
            continue;
        if (strlen(cols) + strlen(c) + 8 >= sizeof cols || strlen(exprs) + strlen(e) + 8 >= sizeof exprs) {
            snprintf(err, errlen, "table %s has too many columns", table);
            goto out;
        }
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s\"%s\"", cols[0] ? ", " : "", c);
        snprintf(exprs + strlen(exprs), sizeof exprs - strlen(exprs), e == c ? "%s\"%s\"" : "%s%s",
                 exprs[0] ? ", " : "", e);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!cols[0]) {
        snprintf(err, errlen, "table %s has no columns in common with this faultstack's", table);
        goto out;
    }
    snprintf(sql, sizeof sql, "INSERT INTO main.\"%s\"(%s) SELECT %s FROM src.\"%s\" %s", table, cols, exprs, table,
             suffix ? suffix : "");
    st = fs_db_prepare(db, sql, err, errlen);
    if (!st)
        goto out;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_text(st, 1, out_path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "copying table %s: %s", table, sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_changes(db);
out:
    sqlite3_finalize(st);
    return rc;
}

/* file:PATH?mode=ro for ATTACH, PATH made absolute and percent-encoded. */
static void fs_ro_uri(const char *path, char *buf, size_t len)
{
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        snprintf(abs, sizeof abs, "%s", path);
    size_t n = (size_t)snprintf(buf, len, "file:");
    for (const unsigned char *p = (const unsigned char *)abs; *p && n + 16 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
            n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
        else
            buf[n++] = (char)*p;
    }
    snprintf(buf + n, len - n, "?mode=ro");
}

/* Tables of an input that this faultstack does not know: warned about. */
static void fs_warn_unknown(sqlite3 *db, const char *path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM src.sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite_%' AND name NOT IN"
                               " (SELECT name FROM main.sqlite_master WHERE type = 'table')", -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(stderr, "faultstack merge: warning: %s: table '%s' is unknown to this faultstack and was not "
                        "merged\n", path, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Merge one checked input into OUT in one transaction. Returns 0, or -1 with
 * the message in err (OUT then holds exactly what it held before). */
static int fs_merge_one(sqlite3 *db, const struct fs_input *in, const char *out_path, int uri_ok,
                        char *err, size_t errlen)
{
    char name[PATH_MAX * 3 + 32], ign[256], desc[PATH_MAX + 256], fr_sql[512];
    int attached = 0, began = 0, rc = -1;
    sqlite3_stmt *st = NULL;
    if (uri_ok)
        fs_ro_uri(in->path, name, sizeof name);
    else
        snprintf(name, sizeof name, "%s", in->path);
    st = fs_db_prepare(db, "ATTACH DATABASE ?1 AS src", err, errlen);
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "cannot attach '%s': %s", in->path, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    attached = 1;
    fs_warn_unknown(db, in->path);
    if (fs_db_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        goto out;
    began = 1;
    int64_t so = fs_merge_scalar(db, "SELECT coalesce(max(id), 0) FROM main.session", err, errlen);
    int64_t ro = fs_merge_scalar(db, "SELECT coalesce(max(id), 0) FROM main.run", err, errlen);
    int64_t f0 = fs_merge_scalar(db, "SELECT count(*) FROM main.finding", err, errlen);
    if (so < 0 || ro < 0 || f0 < 0)
        goto out;
    /* id columns: session ids shift by so, run ids by ro (NULL stays NULL) */
    char e_sess_id[64], e_sess_ref[64], e_run_id[64], e_run_ref[64], e_confirms[64], e_baseline[64], e_first[64];
    snprintf(e_sess_id, sizeof e_sess_id, "id + %lld", (long long)so);
    snprintf(e_sess_ref, sizeof e_sess_ref, "session_id + %lld", (long long)so);
    snprintf(e_run_id, sizeof e_run_id, "id + %lld", (long long)ro);
    snprintf(e_run_ref, sizeof e_run_ref, "run_id + %lld", (long long)ro);
    snprintf(e_confirms, sizeof e_confirms, "confirms + %lld", (long long)ro);
    snprintf(e_baseline, sizeof e_baseline, "baseline_run + %lld", (long long)ro);
    snprintf(e_first, sizeof e_first, "first_run + %lld", (long long)ro);
    const char *const m_session[] = { "id", e_sess_id, NULL };
    const char *const m_sweep[] = { "session_id", e_sess_ref, "baseline_run", e_baseline, NULL };
    const char *const m_run[] = { "id", e_run_id, "session_id", e_sess_ref, "confirms", e_confirms, NULL };
    const char *const m_runrow[] = { "run_id", e_run_ref, NULL };
    const char *const m_finding[] = { "id", NULL, "first_run", e_first, "repro", "fs_merge_repro(repro, ?1)", NULL };
    static const char *const per_run[] = { "process", "point", "resource", "anomaly", "crash", NULL };
    if (fs_copy_table(db, "session", m_session, "ORDER BY id", out_path, err, errlen) < 0 ||
        (fs_has_table(db, "src", "sweep") &&
         fs_copy_table(db, "sweep", m_sweep, "ORDER BY session_id", out_path, err, errlen) < 0) ||
        fs_copy_table(db, "run", m_run, "ORDER BY id", out_path, err, errlen) < 0)
        goto out;
    snprintf(fr_sql, sizeof fr_sql, "INSERT OR IGNORE INTO main.finding_run(finding_id, run_id)"
             " SELECT mf.id, fr.run_id + %lld FROM src.finding_run fr JOIN src.finding sf ON sf.id = fr.finding_id"
             " JOIN main.finding mf ON mf.key = sf.key", (long long)ro);
    for (int i = 0; per_run[i]; i++)
        if (fs_copy_table(db, per_run[i], m_runrow, "ORDER BY rowid", out_path, err, errlen) < 0)
            goto out;
    /* what memcheck said (--valgrind; schema 3): inputs of version 2 have none */
    static const char *const per_run_vg[] = { "memcheck_run", "memcheck_error", NULL };
    for (int i = 0; per_run_vg[i]; i++)
        if (fs_has_table(db, "src", per_run_vg[i]) &&
            fs_copy_table(db, per_run_vg[i], m_runrow, "ORDER BY rowid", out_path, err, errlen) < 0)
            goto out;
    if (fs_has_table(db, "src", "sanitizer_report") &&       /* schema step 'sanitizer' (4) */
        fs_copy_table(db, "sanitizer_report", m_runrow, "ORDER BY rowid", out_path, err, errlen) < 0)
        goto out;
    if (fs_has_table(db, "src", "site") &&                   /* schema step 'sites' (7) */
        fs_copy_table(db, "site", m_runrow, "ORDER BY rowid", out_path, err, errlen) < 0)
        goto out;
    if (fs_copy_table(db, "finding", m_finding, "WHERE true ORDER BY id ON CONFLICT(key) DO NOTHING", out_path,
                      err, errlen) < 0 ||
        fs_db_exec(db, fr_sql, err, errlen) != 0 ||
        fs_db_exec(db, "INSERT OR IGNORE INTO main.meta(key, value)"
                       " SELECT key, value FROM src.meta WHERE key LIKE 'merged:%'", err, errlen) != 0)
        goto out;
    int64_t f1 = fs_merge_scalar(db, "SELECT count(*) FROM main.finding", err, errlen);
    time_t now = time(NULL);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(desc, sizeof desc, "%s merged at %s: %lld sessions, %lld runs, %lld findings", in->path, ts,
             (long long)in->sessions, (long long)in->runs, (long long)in->findings);
    st = fs_db_prepare(db, "INSERT INTO main.meta(key, value) VALUES(?1, ?2)", err, errlen);
    if (!st || f1 < 0)
        goto out;
    sqlite3_bind_text(st, 1, in->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, desc, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "recording the merge in meta: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (fs_db_exec(db, "COMMIT", err, errlen) != 0)
        goto out;
    began = 0;
    fprintf(stderr, "faultstack merge: %s: %lld session%s, %lld run%s, %lld finding%s (%lld new) merged into %s\n",
            in->path, (long long)in->sessions, in->sessions == 1 ? "" : "s", (long long)in->runs,
            in->runs == 1 ? "" : "s", (long long)in->findings, in->findings == 1 ? "" : "s",
            (long long)(f1 - f0), out_path);
    rc = 0;
out:
    sqlite3_finalize(st);
    if (began)
        fs_db_exec(db, "ROLLBACK", ign, sizeof ign);
    if (attached)
        fs_db_exec(db, "DETACH DATABASE src", ign, sizeof ign);
    return rc;
}

static void fs_merge_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack merge --db OUT.db IN.db [IN.db...]\n"
        "  Merge faultstack databases (e.g. of `faultstack sweep --shard I/N` on several\n"
        "  machines) into OUT.db, created when missing. Runs and everything recorded\n"
        "  about them are copied with new ids; findings are deduplicated and their run\n"
        "  lists united. An input merged before (same content) is skipped. Any input\n"
        "  that is not a faultstack database, or is of a newer schema, is refused and\n"
        "  nothing is merged.\n"
        "exit status: 0 merged (or nothing to do), 2 usage or tool error\n");
}

int fs_cmd_merge(int argc, char **argv)
{
    const char *out_path = NULL;
    struct fs_input *in = calloc((size_t)argc, sizeof *in);
    char **keys = NULL, err[2048], why[1024], plain[PATH_MAX + 8];
    int nin = 0, nkeys = 0, rc = 2, uri_ok;
    sqlite3 *db = NULL;
    struct stat out_st;
    if (!in) {
        fprintf(stderr, "faultstack merge: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fs_merge_usage(stdout); rc = 0; goto out; }
        if (!strcmp(argv[i], "--db") && i + 1 < argc) out_path = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5)) out_path = argv[i] + 5;
        else if (!strcmp(argv[i], "--")) { for (i++; i < argc; i++) in[nin++].path = argv[i]; }
        else if (argv[i][0] == '-') {
            fprintf(stderr, "faultstack merge: unknown option '%s'\n", argv[i]);
            fs_merge_usage(stderr);
            goto out;
        } else in[nin++].path = argv[i];
    }
    if (!out_path || !*out_path || !nin) {
        fprintf(stderr, "faultstack merge: %s\n", !out_path || !*out_path ? "give the output database with --db OUT.db"
                                                                          : "give at least one input database");
        fs_merge_usage(stderr);
        goto out;
    }
    /* ATTACH with file:...?mode=ro needs URI names; possible only before SQLite starts */
    uri_ok = sqlite3_config(SQLITE_CONFIG_URI, 1) == SQLITE_OK;
    int out_exists = stat(out_path, &out_st) == 0;
    for (int i = 0; i < nin; i++)
        if (fs_input_check(&in[i], out_exists ? &out_st : NULL, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack merge: %s\nfaultstack merge: nothing was merged; %s %s\n", err,
                    out_path, out_exists ? "is unchanged" : "was not created");
            goto out;
        }
    if (out_exists) {                        /* what OUT holds already, read-only */
        sqlite3 *ro = NULL;
        if (sqlite3_open_v2(fs_plain_path(out_path, plain, sizeof plain), &ro, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            fs_has_table(ro, "main", "meta"))
            fs_merged_keys(ro, &keys, &nkeys, why, sizeof why);
        sqlite3_close(ro);
    }
    /* plan: skip what OUT has; refuse overlaps that cannot be undone */
    for (int i = 0; i < nin; i++) {
        if (fs_has_key(keys, nkeys, in[i].key)) {
            in[i].skip = 1;
            continue;
        }
        for (int k = 0; k < in[i].nmerged; k++)
            if (fs_has_key(keys, nkeys, in[i].merged[k])) {
                fprintf(stderr, "faultstack merge: input '%s' is itself a merge that holds a database already "
                                "in %s (meta key %s), so its runs would be counted twice; merge its other inputs "
                                "instead, or start a new --db\nfaultstack merge: nothing was merged; %s %s\n",
                        in[i].path, out_path, in[i].merged[k], out_path,
                        out_exists ? "is unchanged" : "was not created");
                goto out;
            }
        int need = 1 + in[i].nmerged;
        char **nk = realloc(keys, (size_t)(nkeys + need) * sizeof *nk);
        if (!nk) { fprintf(stderr, "faultstack merge: out of memory\n"); goto out; }
        keys = nk;
        keys[nkeys++] = strdup(in[i].key);
        for (int k = 0; k < in[i].nmerged; k++)
            keys[nkeys++] = strdup(in[i].merged[k]);
    }
    db = fs_db_open(fs_plain_path(out_path, plain, sizeof plain), err, sizeof err);
    if (!db) {
        fprintf(stderr, "faultstack merge: %s\nfaultstack merge: nothing was merged\n", err);
        goto out;
    }
    if (sqlite3_create_function(db, "fs_merge_repro", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fs_sql_repro,
                                NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "faultstack merge: cannot register an SQL function: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    int merged = 0;
    for (int i = 0; i < nin; i++) {
        if (in[i].skip) {
            fprintf(stderr, "faultstack merge: %s: already merged into %s (same content, meta key %s); skipped\n",
                    in[i].path, out_path, in[i].key);
            continue;
        }
        if (fs_merge_one(db, &in[i], out_path, uri_ok, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack merge: %s: %s\nfaultstack merge: %s was not merged (%d input%s before it "
                            "were); fix the problem and run the same command again: merged inputs are skipped\n",
                    in[i].path, err, in[i].path, merged, merged == 1 ? "" : "s");
            goto out;
        }
        merged++;
    }
    int64_t s = fs_merge_scalar(db, "SELECT count(*) FROM session", why, sizeof why);
    int64_t r = fs_merge_scalar(db, "SELECT count(*) FROM runs", why, sizeof why);
    int64_t f = fs_merge_scalar(db, "SELECT count(*) FROM findings", why, sizeof why);
    fprintf(stderr, "faultstack merge: %s now holds %lld session%s, %lld run%s, %lld finding%s; see: faultstack "
                    "report --db %s\n", out_path, (long long)s, s == 1 ? "" : "s", (long long)r, r == 1 ? "" : "s",
            (long long)f, f == 1 ? "" : "s", out_path);
    rc = 0;
out:
    if (db)
        sqlite3_close(db);
    fs_free_keys(keys, nkeys);
    for (int i = 0; i < nin; i++)
        fs_free_keys(in[i].merged, in[i].nmerged);
    free(in);
    return rc;
}
