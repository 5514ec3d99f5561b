/* sweep_plan.c — which keys a sweep runs: the string set, the plan a key
 * runs with, queueing keys (shards, --max-runs), the keys of the baseline's
 * points under the strategy, the site strategy's census of thin wrappers (a
 * call site reached from several callers gets a key per caller), and the
 * error paths found in fault runs ('<key>,then=N'). Part of `faultstack
 * sweep` (sweep.h). */
#define _GNU_SOURCE
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "ingest.h"
#include "plan.h"
#include "record_fmt.h"
#include "sanitizer.h"
#include "symbolize.h"
#include "valgrind.h"

/* ---------------- small helpers ---------------- */

static uint64_t fs_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Add s; returns 1 when it was new, 0 when present, -1 out of memory. */
int fs_strset_add(struct fs_strset *S, const char *s)
{
    if ((S->n + 1) * 2 > S->cap) {
        size_t nc = S->cap ? S->cap * 2 : 1024;
        char **ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < S->cap; i++)
            if (S->slot[i]) {
                size_t j = fs_hash_str(S->slot[i]) & (nc - 1);
                while (ns[j]) j = (j + 1) & (nc - 1);
                ns[j] = S->slot[i];
            }
        free(S->slot);
        S->slot = ns;
        S->cap = nc;
    }
    size_t j = fs_hash_str(s) & (S->cap - 1);
    while (S->slot[j]) {
        if (!strcmp(S->slot[j], s))
            return 0;
        j = (j + 1) & (S->cap - 1);
    }
    S->slot[j] = strdup(s);
    if (!S->slot[j])
        return -1;
    S->n++;
    return 1;
}

int fs_strset_has(const struct fs_strset *S, const char *s)
{
    if (!S->cap)
        return 0;
    size_t j = fs_hash_str(s) & (S->cap - 1);
    while (S->slot[j]) {
        if (!strcmp(S->slot[j], s))
            return 1;
        j = (j + 1) & (S->cap - 1);
    }
    return 0;
}

void fs_strset_free(struct fs_strset *S)
{
    for (size_t i = 0; i < S->cap; i++)
        free(S->slot[i]);
    free(S->slot);
    memset(S, 0, sizeof *S);
}

/* The plan a key runs with: the key plus the sweep's filters and flags.
 * Returns 0, or -1 when the key does not parse (message in err). */
int fs_key_plan(const struct fs_sweep *W, const char *key, struct fs_plan *p, char *text, size_t tl,
                char *err, size_t errlen)
{
    if (fs_plan_parse(key, p, err, errlen) != 0)
        return -1;
    p->persistent = W->persistent;
    p->internal = W->filters.internal;
    p->err = W->filters.err;
    p->n_only = W->filters.n_only;
    memcpy(p->only, W->filters.only, sizeof p->only);
    memcpy(p->module_filter, W->filters.module_filter, sizeof p->module_filter);
    if (text)
        fs_plan_format(p, text, tl);
    return 0;
}

/* Queue a key unless planned already, outside the shard, or over --max-runs.
 * Caller holds W->mu (or runs single-threaded). */
void fs_plan_key(struct fs_sweep *W, const char *key, int64_t ord, int64_t confirms, int errpath)
{
    if (!confirms) {
        if (W->max_runs > 0 && W->planned >= W->max_runs) {
            if (!fs_strset_has(&W->keys, key))
                W->limited = 1;
            return;
        }
        if (fs_strset_add(&W->keys, key) != 1)
            return;
        W->planned++;
    }
    struct fs_queue *Q = &W->q[errpath ? 1 : 0];
    if (Q->n == Q->cap) {
        size_t nc = Q->cap ? Q->cap * 2 : 256;
        struct fs_job *nv = realloc(Q->v, nc * sizeof *nv);
        if (!nv)
            return;
        Q->v = nv;
        Q->cap = nc;
    }
    struct fs_job *j = &Q->v[Q->n++];
    j->replay = NULL;
    j->key = strdup(key);
    j->ord = ord;
    j->confirms = confirms;
    j->errpath = errpath;
}

static int fs_in_shard(const struct fs_sweep *W, int64_t ord)
{
    return W->shard_n <= 1 || ord % W->shard_n == W->shard_i - 1;
}

/* The key of a baseline point under the strategy. */
void fs_point_key(const struct fs_sweep *W, int64_t ord, const char *func, const char *module,
                  int64_t off, int64_t ctx, char *out, size_t cap)
{
    if (W->strategy == FS_S_NTH || !module)
        snprintf(out, cap, "nth=%lld", (long long)ord);
    else if (W->strategy == FS_S_STACK && ctx)
        snprintf(out, cap, "site=%s@%s+0x%llx,ctx=0x%llx", func, module, (unsigned long long)off,
                 (unsigned long long)ctx);
    else
        snprintf(out, cap, "site=%s@%s+0x%llx", func, module, (unsigned long long)off);
}

/* ---------------- keys from the baseline ---------------- */

void fs_site_id(char *out, size_t cap, const char *func, const char *module, int64_t off)
{
    snprintf(out, cap, "%s|%s|%llx", func, module ? module : "", (unsigned long long)off);
}

/* ---------------- thin wrappers (site strategy) ----------------
 *
 * When a library sends every allocation through one wrapper (xmalloc,
 * jsonp_malloc, yaml_malloc), all its allocations share one call site: the
 * malloc inside the wrapper. Failing only the first call of that site tests one
 * caller's error handling. The baseline of a site-strategy sweep therefore
 * records, for every fault point, the callers of the function holding the call
 * site (FAULTSTACK_CALLERS=1: 'c ORD MOD OFF [MOD OFF [MOD OFF]]' lines). A
 * call site reached from two or more distinct callers is a wrapper site: it
 * gets one key per caller, 'site=FUNC@MOD+0xOFF,caller=MOD+0xOFF' (the first
 * call of the site for that caller), and one per caller's caller where the
 * caller is reached from two or more ('caller=A+0x1/B+0x2'), up to three;
 * `faultstack run --fail` replays them. */

/* The census's function and module names, interned: a point holds pointers
 * (names held in arrays made a point 1.1 KB: 220 MB for a baseline of 200,000
 * points, issue 11). As many as the distinct names of the records; never freed. */
static const char *fs_intern(const char *s)
{
    static char **slot;
    static size_t cap, n;
    if ((n + 1) * 2 > cap) {
        size_t nc = cap ? cap * 2 : 256;
        char **ns = calloc(nc, sizeof *ns);
        if (!ns)
            return "";
        for (size_t i = 0; i < cap; i++)
            if (slot[i]) {
                size_t h = (size_t)fs_hash_str(slot[i]) & (nc - 1);
                while (ns[h])
                    h = (h + 1) & (nc - 1);
                ns[h] = slot[i];
            }
        free(slot);
        slot = ns;
        cap = nc;
    }
    size_t h = (size_t)fs_hash_str(s) & (cap - 1);
    while (slot[h]) {
        if (!strcmp(slot[h], s))
            return slot[h];
        h = (h + 1) & (cap - 1);
    }
    if (!(slot[h] = strdup(s)))
        return "";
    n++;
    return slot[h];
}

/* Read the fault points and their callers from the record files of DIR. */
struct fs_cpoint *fs_census_read(const char *dir, size_t *np)
{
    struct fs_cpoint *v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        char path[PATH_MAX + 300], line[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        /* module ids are per record file; 'm' comes before its first use */
        static struct { long id; char base[256]; } mods[512];
        int nm = 0;
        size_t first = n;
        long long maxord = -1;             /* the highest 'p' ordinal of this file */
        while (fgets(line, sizeof line, f)) {
            long long ord, occ;
            long mod, id;
            unsigned long long bias, uoff;
            int pos = 0, inj;
            char fn[FS_REC_FUNC_MAX];
            unsigned long long ctx;
            if (line[0] == FS_REC_MODULE && sscanf(line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && pos && nm < 512) {
                line[strcspn(line, "\n")] = '\0';
                const char *sl = strrchr(line + pos, '/');
                mods[nm].id = id;
                snprintf(mods[nm++].base, sizeof mods[0].base, "%s", sl ? sl + 1 : line + pos);
            } else if (line[0] == FS_REC_POINT && sscanf(line, FS_REC_POINT_SCAN, &ord, fn, &mod, &uoff, &occ,
                                                          &inj, &ctx) >= 6) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 1024;
                    struct fs_cpoint *nv = realloc(v, cap * sizeof *v);
                    if (!nv) break;
                    v = nv;
                }
                memset(&v[n], 0, sizeof v[n]);
                v[n].ord = ord;
                v[n].func = fs_intern(fn);
                v[n].off = (int64_t)uoff;
                v[n].module = "";
                for (int i = 0; i < nm; i++)
                    if (mods[i].id == mod) v[n].module = fs_intern(mods[i].base);
                if (ord > maxord)
                    maxord = ord;
                n++;
            } else if (line[0] == FS_REC_CALLERS && sscanf(line, FS_REC_CALLERS_SCAN, &ord, &pos) == 1) {
                struct fs_cpoint *cp = NULL;
                /* past the point cap 'c' lines go on without their 'p': no
                 * search back through every point for each (quadratic) */
                for (size_t i = n; ord <= maxord && i-- > first;)
                    if (v[i].ord == ord) { cp = &v[i]; break; }
                const char *q = line + pos;
                int used = 0;
                while (cp && cp->ncall < FS_NCALL && sscanf(q, "%ld %llx %n", &mod, &uoff, &used) == 2 && used) {
                    int found = 0;
                    for (int k = 0; k < nm; k++)
                        if (mods[k].id == mod) {
                            cp->cmod[cp->ncall] = fs_intern(mods[k].base);
                            found = 1;
                        }
                    if (!found)
                        break;
                    cp->coff[cp->ncall++] = (int64_t)uoff;
                    q += used;
                    used = 0;
                }
            }
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    *np = n;
    return v;
}

/* "func|module|off" then "|cmod|coff" for each of the first ncall callers. */
static void fs_prefix_id(char *out, size_t cap, const struct fs_cpoint *p, int ncall)
{
    size_t w = (size_t)snprintf(out, cap, "%s|%s|%llx", p->func, p->module, (unsigned long long)p->off);
    for (int i = 0; i < ncall && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "|%s|%llx", p->cmod[i], (unsigned long long)p->coff[i]);
}

/* How many callers name point p's key (this file and forkmode.c agree): none
 * unless its site is a wrapper site; then one, and one more while the prefix
 * so far is seen through (W->wrap_ext). */
static int fs_key_callers(const struct fs_sweep *W, const struct fs_cpoint *p)
{
    char id[1400];
    fs_prefix_id(id, sizeof id, p, 0);
    if (!p->ncall || !fs_strset_has(&W->wrap_sites, id))
        return 0;
    int d = 1;
    while (d < p->ncall && d < FS_NCALL) {
        fs_prefix_id(id, sizeof id, p, d);
        if (!fs_strset_has(&W->wrap_ext, id))
            break;
        d++;
    }
    return d;
}

void fs_cpoint_key(const struct fs_sweep *W, const struct fs_cpoint *p, char *out, size_t cap)
{
    int d = fs_key_callers(W, p);
    size_t w = (size_t)snprintf(out, cap, "site=%s@%s+0x%llx", p->func, p->module, (unsigned long long)p->off);
    for (int i = 0; i < d && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s+0x%llx", i ? "/" : ",caller=", p->cmod[i],
                              (unsigned long long)p->coff[i]);
}

/* Wrapper sites, the caller prefixes seen through, and the (site, callers)
 * keys, from the census of a baseline run's directory. A call site reached
 * from two or more distinct callers is a wrapper site; a (site, callers)
 * prefix whose last caller's function is itself reached from two or more
 * distinct callers is seen through one frame further (jsonp_strndup calling
 * jsonp_malloc; json_object called from every line of a test), up to
 * FS_NCALL callers. */
void fs_census(struct fs_sweep *W, const char *dir)
{
    size_t n = 0;
    struct fs_cpoint *v = fs_census_read(dir, &n);
    char id[1400], next[1700], key[1400];
    for (int level = 0; level < FS_NCALL; level++) {
        struct fs_strset one = { 0 }, nexts = { 0 };
        struct fs_strset *grow = level == 0 ? &W->wrap_sites : &W->wrap_ext;
        for (size_t i = 0; i < n; i++) {
            if (!v[i].module[0])
                continue;
            if (level > 0 && fs_key_callers(W, &v[i]) < level)
                continue;                    /* only prefixes a key reaches */
            fs_prefix_id(id, sizeof id, &v[i], level);
            if (v[i].ncall > level)
                snprintf(next, sizeof next, "%s#%s|%llx", id, v[i].cmod[level], (unsigned long long)v[i].coff[level]);
            else
                snprintf(next, sizeof next, "%s#-", id);
            if (fs_strset_add(&nexts, next) == 1 && fs_strset_add(&one, id) == 0)
                fs_strset_add(grow, id);
        }
        fs_strset_free(&one);
        fs_strset_free(&nexts);
    }
    struct fs_strset keys = { 0 };
    for (size_t i = 0; i < n; i++) {         /* v is in ordinal order per process */
        if (!v[i].module[0] || !fs_key_callers(W, &v[i]))
            continue;
        fs_cpoint_key(W, &v[i], key, sizeof key);
        if (fs_strset_add(&keys, key) != 1)
            continue;
        struct fs_ckey *nk = realloc(W->ckeys, (W->nckeys + 1) * sizeof *nk);
        if (!nk)
            break;
        W->ckeys = nk;
        fs_prefix_id(id, sizeof id, &v[i], 0);
        W->ckeys[W->nckeys].site_id = strdup(id);
        W->ckeys[W->nckeys].key = strdup(key);
        W->ckeys[W->nckeys++].ord = v[i].ord;
    }
    fs_strset_free(&keys);
    /* what the fork-mode trunk needs to make the same keys (forkmode.c):
     * 'FUNC MOD OFF' per wrapper site, 'FUNC MOD OFF CMOD COFF...' per prefix
     * seen through */
    free(W->wrap_env);
    W->wrap_env = NULL;
    size_t len = 0, cap = 0;
    char *text = NULL;
    struct fs_strset *sets[2] = { &W->wrap_sites, &W->wrap_ext };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sets[k]->cap; i++) {
            const char *e = sets[k]->slot[i];
            if (!e)
                continue;
            size_t el = strlen(e);
            if (len + el + 2 > cap) {
                cap = (len + el + 2) * 2;
                char *nt = realloc(text, cap);
                if (!nt) { free(text); return; }
                text = nt;
            }
            for (size_t j = 0; j < el; j++)
                text[len++] = e[j] == '|' ? ' ' : e[j];
            text[len++] = '\n';
            text[len] = '\0';
        }
    W->wrap_env = text;
    free(v);
}

/* --resume of a site-strategy sweep: the census from one more (unrecorded)
 * baseline run. */
void fs_census_run(struct fs_sweep *W)
{
    char text[2048], err[2048], dir[PATH_MAX];
    struct fs_plan plan;
    fs_key_plan(W, "none", &plan, text, sizeof text, err, sizeof err);
    plan.persistent = 0;
    fs_plan_format(&plan, text, sizeof text);
    if (fs_mk_run_dir(dir, err, sizeof err) != 0)
        return;
    char *env[] = { "FAULTSTACK_CALLERS=1", NULL };
    struct fs_spawn sp = { W->prog, W->argv, W->preload, dir, text, W->timeout_ms, NULL, 1, env, 0, NULL };
    sp.stdin_path = W->stdin_path;
    struct fs_outcome oc;
    if (fs_spawn_and_wait(&sp, &oc, err, sizeof err) == 0)
        fs_census(W, dir);
    fs_rm_rf(dir);
}

/* The baseline's sites (for error-path discovery) and its keys. from_ord: only
 * points at or after this ordinal (fork mode's exec fallback), skip: keys done. */
int fs_keys_from_baseline(struct fs_sweep *W, int64_t from_ord, const struct fs_strset *forked)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT func, module, offset, ctx, min(ordinal) FROM point WHERE run_id = ?1 "
        "GROUP BY func, module, offset, CASE WHEN ?2 THEN ordinal ELSE 0 END, CASE WHEN ?3 THEN ctx END "
        "ORDER BY 5";
    if (sqlite3_prepare_v2(W->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "faultstack sweep: cannot read the baseline's fault points: %s\n", sqlite3_errmsg(W->db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, W->baseline_run);
    sqlite3_bind_int(st, 2, W->strategy == FS_S_NTH);
    sqlite3_bind_int(st, 3, W->strategy == FS_S_STACK);
    int64_t listed = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *func = (const char *)sqlite3_column_text(st, 0);
        const char *module = (const char *)sqlite3_column_text(st, 1);
        int64_t off = sqlite3_column_int64(st, 2), ctx = sqlite3_column_int64(st, 3);
        int64_t ord = sqlite3_column_int64(st, 4);
        char id[512], key[1024];
        fs_site_id(id, sizeof id, func, module, off);
        fs_strset_add(&W->base_sites, id);
        listed++;
        if (W->strategy == FS_S_SITE && fs_strset_has(&W->wrap_sites, id)) {
            for (size_t c = 0; c < W->nckeys; c++) {      /* one key per caller */
                const struct fs_ckey *ck = &W->ckeys[c];
                if (strcmp(ck->site_id, id) || ck->ord < from_ord || !fs_in_shard(W, ck->ord) ||
                    (forked && fs_strset_has(forked, ck->key)))
                    continue;
                fs_plan_key(W, ck->key, ck->ord, 0, 0);
            }
            continue;
        }
        if (ord < from_ord || !fs_in_shard(W, ord))
            continue;
        fs_point_key(W, ord, func, module, off, ctx, key, sizeof key);
        if (forked && fs_strset_has(forked, key))
            continue;
        fs_plan_key(W, key, ord, 0, 0);
    }
    sqlite3_finalize(st);
    /* nth: ordinals beyond the recorded points (FAULTSTACK_MAX_POINTS) */
    if (W->strategy == FS_S_NTH) {
        int64_t total = 0;
        if (sqlite3_prepare_v2(W->db, "SELECT points_total FROM run WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, W->baseline_run);
            if (sqlite3_step(st) == SQLITE_ROW)
                total = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        for (int64_t o = listed + 1; o <= total; o++) {
            char key[64];
            snprintf(key, sizeof key, "nth=%lld", (long long)o);
            if (o >= from_ord && fs_in_shard(W, o) && !(forked && fs_strset_has(forked, key)))
                fs_plan_key(W, key, o, 0, 0);
        }
    }
    return 0;
}

/* Error paths of run_id (fault key 'key', first fault at inj): queue
 * '<key>,then=N' for sites the baseline never reached (and, with --depth 2,
 * for every site after the fault). Caller holds W->mu. */
static void fs_discover(struct fs_sweep *W, const char *key, int64_t run_id, int64_t inj)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT func, module, offset, min(ordinal) FROM point WHERE run_id = ?1 AND ordinal > ?2 "
        "AND injected = 0 GROUP BY func, module, offset, CASE WHEN ?3 THEN ordinal ELSE 0 END ORDER BY 4";
    if (sqlite3_prepare_v2(W->db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, inj);
    sqlite3_bind_int(st, 3, W->strategy == FS_S_NTH && W->depth >= 2);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *func = (const char *)sqlite3_column_text(st, 0);
        const char *module = (const char *)sqlite3_column_text(st, 1);
        int64_t off = sqlite3_column_int64(st, 2), ord = sqlite3_column_int64(st, 3);
        char id[512], k2[1200];
        fs_site_id(id, sizeof id, func, module, off);
        int fresh = !fs_strset_has(&W->base_sites, id);
        if (fresh) {
            if (W->depth < 2 && fs_strset_add(&W->errpath_sites, id) != 1)
                continue;                    /* swept already from another fault */
        } else if (W->depth < 2) {
            continue;
        }
        snprintf(k2, sizeof k2, "%s,then=%lld", key, (long long)(ord - inj));
        fs_plan_key(W, k2, 0, 0, 1);
    }
    sqlite3_finalize(st);
}

/* Error paths of every fault run of the session, in the order of their
 * first fault (then by key): the same sweep plans the same error-path keys
 * whatever order its runs finished in, and whether or not it was resumed. */
void fs_discover_all(struct fs_sweep *W)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(W->db,
            "SELECT id, sweep_key, inj FROM (SELECT r.id, r.sweep_key, (SELECT min(ordinal) FROM point p "
            "WHERE p.run_id = r.id AND p.injected = 1) AS inj FROM run r WHERE r.session_id = ?1 AND "
            "r.sweep_key IS NOT NULL AND r.confirms IS NULL AND instr(r.sweep_key, 'then=') = 0) "
            "WHERE inj IS NOT NULL ORDER BY inj, sweep_key", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, W->session_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fs_discover(W, (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 0),
                    sqlite3_column_int64(st, 2));
    sqlite3_finalize(st);
}
