/* ingest.c — record files of one run -> one database transaction (ingest.h).
 *
 * Steps: read every *.rec file of the run directory (one per process image),
 * resolve module ids to paths, symbolize sites with libdwfl (symbolize.c),
 * attribute leaks and anomalies to the injected fault unless a baseline run of
 * the same command shows them at the same site (design.md, Verdicts), and
 * upsert the deduplicated findings with a repro command. */
#define _GNU_SOURCE
#include "ingest.h"
#include "sysmods.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "plan.h"
#include "record_fmt.h"
#include "sanitizer.h"
#include "shell.h"
#include "symbolize.h"
#include "verdict.h"
#include "valgrind.h"

/* ---------------- parsed records ---------------- */

struct fs_site_ref { char path[512]; char base[256]; uint64_t off; int valid; };

struct fs_point { int64_t ordinal; char func[64]; struct fs_site_ref at; int64_t occ; int injected; int pid;
                  uint64_t ctx; };
/* an 's' line: a call site's fault points in one process */
struct fs_siterec { char func[FS_REC_FUNC_MAX]; struct fs_site_ref at; int64_t calls, first; int pid; };
struct fs_resrec { char verdict[16], kind[32], func[64]; struct fs_site_ref at; char handle[40]; int64_t size; int pid;
                  char why[32];             /* held: 'frame', 'thread', 'global', 'reachable-stack'... */
                  struct fs_site_ref slot;  /* held in a global: the slot (module + offset) */
                  char *frames; /* confirmation runs: "PATH\tOFF\n..." innermost first, or NULL */ };
struct fs_anom { char anomaly[32], kind[32], func[64]; struct fs_site_ref at; char handle[40];
                 char acq_func[64]; struct fs_site_ref acq; char detail[320]; int pid; };
struct fs_crashrec { int sig; struct fs_site_ref at; char frames[4096]; int pid;
                     int caught; /* 'X': the program's own handler ran next */ };
struct fs_proc { int pid, ppid; char exe[512]; char how[16]; int code, sig; int64_t rb, rbytes; int done; uint64_t ns; };

struct fs_vec { void *p; size_t n, cap, sz; };

static void *fs_vec_push(struct fs_vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        void *np = realloc(v->p, nc * v->sz);
        if (!np) return NULL;
        v->p = np;
        v->cap = nc;
    }
    void *e = (char *)v->p + v->n++ * v->sz;
    memset(e, 0, v->sz);
    return e;
}

struct fs_parsed {
    struct fs_vec points, res, anoms, crashes, procs;
    struct fs_vec sweeps;          /* struct fs_site_ref: close-every-fd sites */
    struct fs_vec sites;           /* struct fs_siterec: per-site counts ('s' lines) */
    struct fs_san_report *san;     /* sanitizer reports of the run's processes (sanitizer.c) */
    int nsan;
    int version_bad;               /* a record of another format (record_fmt.h), or none said */
};

static void fs_parsed_init(struct fs_parsed *P)
{
    memset(P, 0, sizeof *P);
    P->points.sz = sizeof(struct fs_point);
    P->res.sz = sizeof(struct fs_resrec);
    P->anoms.sz = sizeof(struct fs_anom);
    P->crashes.sz = sizeof(struct fs_crashrec);
    P->procs.sz = sizeof(struct fs_proc);
    P->sweeps.sz = sizeof(struct fs_site_ref);
    P->sites.sz = sizeof(struct fs_siterec);
}

static void fs_parsed_free(struct fs_parsed *P)
{
    for (size_t i = 0; i < P->res.n; i++)
        free(((struct fs_resrec *)P->res.p)[i].frames);
    free(P->points.p); free(P->res.p); free(P->anoms.p);
    free(P->crashes.p); free(P->procs.p); free(P->sweeps.p); free(P->sites.p);
    fs_sanitizer_free(P->san, P->nsan);
}

#define FS_MAXMOD 1024
struct fs_modtab { char *path[FS_MAXMOD]; };

static void fs_site_set(struct fs_site_ref *s, const struct fs_modtab *mt, long mod, uint64_t off)
{
    s->valid = 0;
    if (mod <= 0 || mod >= FS_MAXMOD || !mt->path[mod])
        return;
    snprintf(s->path, sizeof s->path, "%s", mt->path[mod]);
    const char *sl = strrchr(s->path, '/');
    snprintf(s->base, sizeof s->base, "%.255s", sl ? sl + 1 : s->path);
    s->off = off;
    s->valid = 1;
}

static int fs_is_system_module(const char *base)
{
    static const char *const sys[] = { FS_SYSTEM_MODULE_PREFIXES, NULL };
    for (int i = 0; sys[i]; i++)
        if (strncmp(base, sys[i], strlen(sys[i])) == 0)
            return 1;
    return 0;
}

/* 'VERDICT[:WHY]' (finish.c): WHY is 'frame', 'thread', 'signal', 'exec',
 * 'global@MOD+0xOFF' or 'reachable-ROOT' where ROOT is one of those words or
 * 'global@MOD+0xOFF'. The slot of a global becomes r->slot. */
static void fs_parse_verdict(struct fs_resrec *r, const char *tok, const struct fs_modtab *mt)
{
    const char *colon = strchr(tok, ':');
    size_t vl = colon ? (size_t)(colon - tok) : strlen(tok);
    snprintf(r->verdict, sizeof r->verdict, "%.*s", (int)(vl < 15 ? vl : 15), tok);
    r->why[0] = '\0';
    r->slot.valid = 0;
    if (!colon)
        return;
    const char *why = colon + 1;
    const char *at = strchr(why, '@');
    snprintf(r->why, sizeof r->why, "%.*s", (int)(at ? (size_t)(at - why) : strlen(why)), why);
    if (at) {
        char *end;
        long mod = strtol(at + 1, &end, 10);
        if (*end == '+')
            fs_site_set(&r->slot, mt, mod, strtoull(end + 1, NULL, 16));
    }
}

/* A crash line's frames "MOD:OFF,..." -> "module+0xoff ..." text, and the
 * crash site moved to the first frame in the program's own code. */
static void fs_crash_frames(struct fs_crashrec *c, const struct fs_modtab *mt, const char *frames)
{
    char out[4096] = "";
    int moved = c->at.valid && !fs_is_system_module(c->at.base);
    const char *p = frames;
    while (*p && *p != '-') {
        long mod = strtol(p, (char **)&p, 10);
        if (*p != ':') break;
        unsigned long long off = strtoull(p + 1, (char **)&p, 16);
        struct fs_site_ref r;
        fs_site_set(&r, mt, mod, off);
        if (r.valid) {
            char one[600];
            snprintf(one, sizeof one, "%s%s+0x%llx", out[0] ? " " : "", r.base, off);
            strncat(out, one, sizeof out - strlen(out) - 1);
            if (!moved && !fs_is_system_module(r.base)) {
                c->at = r;
                moved = 1;
            }
        }
        if (*p == ',') p++;
    }
    snprintf(c->frames, sizeof c->frames, "%s", out);
}

/* Parse one record file. Returns 1 when it ends with 'done'. */
static int fs_parse_file(const char *path, struct fs_parsed *P)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    struct fs_modtab mt;
    memset(&mt, 0, sizeof mt);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    /* pass 1: modules (an 'm' line may follow its first use when threads race) */
    while ((len = getline(&line, &cap, f)) > 0) {
        long id;
        unsigned long long bias;
        int pos = 0;
        if (line[0] == FS_REC_MODULE && sscanf(line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && pos &&
            id > 0 && id < FS_MAXMOD) {
            line[len - 1] = line[len - 1] == '\n' ? '\0' : line[len - 1];
            free(mt.path[id]);
            mt.path[id] = strdup(line + pos);
        }
    }
    rewind(f);
    struct fs_proc *pr = fs_vec_push(&P->procs);
    strcpy(pr->how, "unknown");
    pr->code = -1;
    int done = 0, version = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (!version) {                        /* the first line: the format (record_fmt.h) */
            if (sscanf(line, FS_REC_VERSION_SCAN, &version) != 1 || version <= 0)
                version = 1;                   /* before versions were written */
            if (version != FS_RECORD_VERSION) {
                P->version_bad = version;
                break;
            }
            continue;
        }
        long mod = 0, amod = 0;
        unsigned long long off = 0, aoff = 0;
        int pos = 0;
        switch (line[0]) {
        case 'i': {
            int a = 0, b = 0; unsigned long long ns = 0;
            if (sscanf(line, FS_REC_IMAGE_SCAN, &a, &b, &ns, &pos) >= 3) {
                pr->pid = a; pr->ppid = b; pr->ns = ns;
                snprintf(pr->exe, sizeof pr->exe, "%s", pos ? line + pos : "");
            }
            break;
        }
        case 'p': {
            struct fs_point *p = fs_vec_push(&P->points);
            long long ord = 0, occ = 0; int inj = 0;
            unsigned long long ctx = 0;
            int nf = p ? sscanf(line, FS_REC_POINT_SCAN, &ord, p->func, &mod, &off, &occ,
                                &inj, &ctx) : 0;
            if (nf < 6) {
                if (p) P->points.n--;
                break;
            }
            p->ordinal = ord; p->occ = occ; p->injected = inj; p->pid = pr->pid; p->ctx = nf == 7 ? ctx : 0;
            fs_site_set(&p->at, &mt, mod, off);
            break;
        }
        case 'r': {
            struct fs_resrec *r = fs_vec_push(&P->res);
            long long size = 0;
            char verdict[128];
            if (!r || sscanf(line, FS_REC_RESOURCE_SCAN, verdict, r->kind, r->func,
                             &mod, &off, r->handle, &size) != 7) {
                if (r) P->res.n--;
                break;
            }
            fs_parse_verdict(r, verdict, &mt);
            r->size = size; r->pid = pr->pid;
            fs_site_set(&r->at, &mt, mod, off);
            /* optional 8th field: the acquire stack "MOD:OFF,..." */
            const char *sp = line;
            for (int k = 0; k < 8 && sp; k++) {
                sp = strchr(sp, ' ');
                if (sp) sp++;
            }
            if (sp && *sp) {
                size_t cap2 = 16384, used = 0;
                char *txt = malloc(cap2);
                const char *p = sp;
                while (txt && *p) {
                    long fm = strtol(p, (char **)&p, 10);
                    if (*p != ':') break;
                    unsigned long long fo = strtoull(p + 1, (char **)&p, 16);
                    if (fm > 0 && fm < FS_MAXMOD && mt.path[fm] && used + strlen(mt.path[fm]) + 32 < cap2)
                        used += (size_t)snprintf(txt + used, cap2 - used, "%s\t%llx\n", mt.path[fm], fo);
                    if (*p == ',') p++;
                }
                if (txt) txt[used] = '\0';
                r->frames = txt;
            }
            break;
        }
        case 'a': {
            struct fs_anom *a = fs_vec_push(&P->anoms);
            if (!a || sscanf(line, FS_REC_ANOMALY_SCAN, a->anomaly, a->kind,
                             a->func, &mod, &off, a->handle, a->acq_func, &amod, &aoff) != 9) {
                if (a) P->anoms.n--;
                break;
            }
            const char *bar = strstr(line, " | ");
            snprintf(a->detail, sizeof a->detail, "%s", bar ? bar + 3 : "");
            a->pid = pr->pid;
            fs_site_set(&a->at, &mt, mod, off);
            fs_site_set(&a->acq, &mt, amod, aoff);
            break;
        }
        case 'x':
        case 'X': {
            struct fs_crashrec *c = fs_vec_push(&P->crashes);
            if (!c || sscanf(line + 1, FS_REC_CRASH_SCAN, &c->sig, &mod, &off, &pos) != 3) {
                if (c) P->crashes.n--;
                break;
            }
            pos += 1;
            c->caught = line[0] == FS_REC_CRASH_CAUGHT;
            c->pid = pr->pid;
            fs_site_set(&c->at, &mt, mod, off);
            fs_crash_frames(c, &mt, pos ? line + pos : "");
            break;
        }
        case 'e':
            if (strncmp(line, FS_REC_END " ", sizeof FS_REC_END) == 0) {
                sscanf(line, FS_REC_END_SCAN, pr->how, &pr->code, &pr->sig);
                done = 0;
            }
            break;
        case 'w': {
            struct fs_site_ref *w = fs_vec_push(&P->sweeps);
            if (w && sscanf(line, FS_REC_CLOSE_LOOP_SCAN, &mod, &off) == 2)
                fs_site_set(w, &mt, mod, off);
            break;
        }
        case 's':
            if (line[1] == ' ') {                  /* FS_REC_SITE: s FUNC MOD OFF COUNT FIRST */
                struct fs_siterec *sr = fs_vec_push(&P->sites);
                long long calls = 0, first = 0;
                if (!sr || sscanf(line, FS_REC_SITE_SCAN, sr->func, &mod, &off, &calls, &first) != 5) {
                    if (sr) P->sites.n--;
                    break;
                }
                sr->calls = calls; sr->first = first; sr->pid = pr->pid;
                fs_site_set(&sr->at, &mt, mod, off);
            } else if (strncmp(line, FS_REC_SUM " ", sizeof FS_REC_SUM) == 0) {
                long long pts, rb, rby;
                if (sscanf(line, FS_REC_SUM_SCAN, &pts, &rb, &rby) == 3) {
                    pr->rb = rb; pr->rbytes = rby;
                }
            }
            break;
        case 'd':
            if (strcmp(line, FS_REC_DONE) == 0)
                done = 1;
            break;
        default:
            if (strcmp(line, FS_REC_RESUME) == 0) {  /* an exec that failed: the image goes on */
                strcpy(pr->how, "unknown");
                done = 0;
            }
            break;
        }
    }
    pr->done = done;
    free(line);
    for (int i = 0; i < FS_MAXMOD; i++)
        free(mt.path[i]);
    fclose(f);
    return done;
}

/* ---------------- symbolization ---------------- */

struct fs_where { char file[1024]; int line; char symbol[256]; };

static void fs_where(struct fs_symbolizer *sym, const struct fs_site_ref *s, struct fs_where *w)
{
    memset(w, 0, sizeof *w);
    if (!s->valid || !sym)
        return;
    struct fs_sym_result r;
    if (fs_sym_lookup(sym, s->path, s->off, &r) == 0) {
        snprintf(w->file, sizeof w->file, "%s", r.file);
        w->line = r.line;
        snprintf(w->symbol, sizeof w->symbol, "%s", r.func);
    }
}

/* ---------------- inserting ---------------- */

struct fs_fault {
    int have;
    char func[64];
    struct fs_site_ref at;
    struct fs_where w;
    int64_t occ;
    uint64_t ctx;
    /* plan with then=: the fault above is the second injected point; the first: */
    char then_func[64];
    struct fs_site_ref then_first;
    int64_t then_occ;
    uint64_t then;
};

struct fs_ctx {
    sqlite3 *db;
    const struct fs_run_info *info;
    struct fs_run_result *res;
    struct fs_symbolizer *sym;
    struct fs_fault fault;
    char *err;
    size_t errlen;
    char command[8192];
};

static int fs_step_done(struct fs_ctx *C, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        snprintf(C->err, C->errlen, "database write failed: %s", sqlite3_errmsg(C->db));
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return 0;
}

/* Does a baseline run of the same command show this leak/anomaly at this site? */
static int fs_in_baseline(struct fs_ctx *C, const char *table, const char *kind,
                          const struct fs_site_ref *at)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM %s x JOIN run r ON r.id = x.run_id WHERE r.fault_spec IS NULL "
             "AND r.command = ?1 AND x.kind = ?2 AND x.module = ?3 AND x.offset = ?4 %s LIMIT 1",
             table, strcmp(table, "resource") == 0 ? "AND x.verdict = 'leak'" : "");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(C->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, C->command, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, at->valid ? at->base : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)at->off);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Did a baseline run of the same command crash at this site (crash) or time
 * out (at NULL)? Then a fault run doing the same is not the fault's doing. */
static int fs_baseline_outcome(struct fs_ctx *C, const struct fs_site_ref *at)
{
    const char *sql = at
        ? "SELECT 1 FROM crash x JOIN run r ON r.id = x.run_id WHERE r.fault_spec IS NULL "
          "AND r.command = ?1 AND x.module IS ?2 AND x.offset IS ?3 LIMIT 1"
        : "SELECT 1 FROM run r WHERE r.fault_spec IS NULL AND r.command = ?1 AND r.timed_out = 1 LIMIT 1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(C->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, C->command, -1, SQLITE_STATIC);
    if (at && at->valid) {
        sqlite3_bind_text(st, 2, at->base, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)at->off);
    }
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Did a baseline run of the same command die of the same signal? */
static int fs_baseline_signal(struct fs_ctx *C, int sig)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(C->db, "SELECT 1 FROM run r WHERE r.fault_spec IS NULL AND r.command = ?1"
                           " AND r.signal = ?2 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, C->command, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, sig);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* The repro command of a finding: the same command with the fault pinned to
 * its call site and occurrence (stable across runs), or no --fail; the run's
 * --timeout (unless it is run's default, 300 s), --stdin and --valgrind are kept. */
static void fs_repro(struct fs_ctx *C, int with_fault, int valgrind, char *out, size_t cap)
{
    out[0] = '\0';
    strncat(out, fs_self_command(), cap - 1);          /* runnable as printed: this faultstack's path */
    strncat(out, valgrind ? " run --valgrind --db " : " run --db ", cap - strlen(out) - 1);
    fs_shell_quote(out, cap, C->info->db_path);
    if (C->info->timeout_ms > 0 && C->info->timeout_ms != 300000) {
        char t[64];
        int n = snprintf(t, sizeof t, " --timeout %lld.%03lld", (long long)(C->info->timeout_ms / 1000),
                         (long long)(C->info->timeout_ms % 1000));
        while (n > 0 && (t[n - 1] == '0' || t[n - 1] == '.'))  /* 60.000 -> 60, 0.500 -> 0.5 */
            if (t[--n] == '.') { t[n] = '\0'; break; } else t[n] = '\0';
        strncat(out, t, cap - strlen(out) - 1);
    }
    if (C->info->stdin_path) {
        strncat(out, " --stdin ", cap - strlen(out) - 1);
        fs_shell_quote(out, cap, C->info->stdin_path);
    }
    if (with_fault && C->fault.have && C->fault.at.valid) {
        char spec[1024];
        struct fs_plan p;
        memset(&p, 0, sizeof p);
        if (C->info->plan)
            p = *C->info->plan;
        p.trigger = FS_PLAN_SITE;
        snprintf(p.site_func, sizeof p.site_func, "%s", C->fault.func);
        snprintf(p.site_module, sizeof p.site_module, "%s", C->fault.at.base);
        p.site_offset = C->fault.at.off;
        p.site_occurrence = C->fault.occ > 0 ? (uint64_t)C->fault.occ : 1;
        p.ctx = C->fault.ctx;
        p.n_callers = 0;                     /* #K above counts every call of the site */
        p.n_only = 0;
        p.module_filter[0] = '\0';
        if (C->fault.then_first.valid) {     /* two faults: pin the first, keep then= */
            snprintf(p.site_func, sizeof p.site_func, "%s", C->fault.then_func);
            snprintf(p.site_module, sizeof p.site_module, "%s", C->fault.then_first.base);
            p.site_offset = C->fault.then_first.off;
            p.site_occurrence = C->fault.then_occ > 0 ? (uint64_t)C->fault.then_occ : 1;
            p.ctx = 0;
            p.then = C->fault.then;
        } else {
            p.then = 0;
        }
        fs_plan_format(&p, spec, sizeof spec);
        strncat(out, " --fail ", cap - strlen(out) - 1);
        fs_shell_quote(out, cap, spec);
    }
    strncat(out, " -- ", cap - strlen(out) - 1);
    strncat(out, C->command, cap - strlen(out) - 1);
}

int fs_link_finding(sqlite3 *db, const char *key, int64_t run_id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO finding_run(finding_id, run_id) "
                               "SELECT id, ?2 FROM finding WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, run_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    /* changes() is 0 both when the key is unknown and when already linked */
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM finding WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc;
}

/* The deduplication key of a finding: (category, kind, anomaly, func, site,
 * fault func, fault site). */
static void fs_finding_key(char *key, size_t cap, const char *category, const char *kind, const char *anomaly,
                           const char *func, const struct fs_site_ref *at, const char *ffunc,
                           const struct fs_site_ref *fat)
{
    snprintf(key, cap, "%s|%s|%s|%s|%s|%llx|%s|%s|%llx", category, kind ? kind : "",
             anomaly ? anomaly : "", func ? func : "", at && at->valid ? at->base : "",
             at && at->valid ? (unsigned long long)at->off : 0ull, ffunc ? ffunc : "",
             fat && fat->valid ? fat->base : "", fat && fat->valid ? (unsigned long long)fat->off : 0ull);
}

static int fs_finding(struct fs_ctx *C, const char *category, const char *kind, const char *anomaly,
                      const char *func, const struct fs_site_ref *at, const struct fs_where *w,
                      int with_fault)
{
    char key[2048], repro[9000];
    const struct fs_fault *F = &C->fault;
    int wf = with_fault && F->have;
    if (C->info->defer_findings && wf) {
        /* a fork-mode run: a finding an exec run showed already takes this
         * run too; a new one waits for the exec replay of this fault */
        char key0[2048];
        fs_finding_key(key0, sizeof key0, category, kind, anomaly, func, at, wf ? F->func : NULL,
                       wf ? &F->at : NULL);
        int have = fs_link_finding(C->db, key0, C->res->run_id);
        if (have < 0)
            return -1;
        if (have)
            return 0;
        C->res->fault_findings++;
        size_t old = C->res->deferred_keys ? strlen(C->res->deferred_keys) : 0;
        char *nk = realloc(C->res->deferred_keys, old + strlen(key0) + 2);
        if (nk) {
            memcpy(nk + old, key0, strlen(key0));
            nk[old + strlen(key0)] = '\n';
            nk[old + strlen(key0) + 1] = '\0';
            C->res->deferred_keys = nk;
        }
        return 0;
    }
    if (wf)
        C->res->fault_findings++;
    fs_finding_key(key, sizeof key, category, kind, anomaly, func, at, wf ? F->func : NULL, wf ? &F->at : NULL);
    int as_first = 0;
    if (wf && F->then_first.valid) {
        /* a second fault on the error path of the first: a finding the first
         * fault alone shows already stays that finding (no duplicate) */
        char k1[2048];
        fs_finding_key(k1, sizeof k1, category, kind, anomaly, func, at, F->then_func, &F->then_first);
        sqlite3_stmt *q = fs_db_prepare(C->db, "SELECT 1 FROM finding WHERE key = ?1", C->err, C->errlen);
        if (q) {
            fs_bind_text(q, 1, k1);
            if (sqlite3_step(q) == SQLITE_ROW) {
                snprintf(key, sizeof key, "%s", k1);
                as_first = 1;
            }
            sqlite3_finalize(q);
        }
    }
    if (as_first) {
        sqlite3_stmt *st = fs_db_prepare(C->db, "INSERT OR IGNORE INTO finding_run(finding_id, run_id) "
                                                "SELECT id, ?2 FROM finding WHERE key = ?1", C->err, C->errlen);
        if (!st)
            return -1;
        fs_bind_text(st, 1, key);
        fs_bind_int(st, 2, C->res->run_id);
        int rc = fs_step_done(C, st);
        sqlite3_finalize(st);
        return rc;
    }
    fs_repro(C, wf, strcmp(category, "memcheck") == 0, repro, sizeof repro);
    static const char *ins =
        "INSERT INTO finding(key, category, kind, anomaly, func, module, offset, file, line, symbol,"
        " fault_func, fault_module, fault_offset, fault_file, fault_line, first_run, repro)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"
        " ON CONFLICT(key) DO NOTHING";
    sqlite3_stmt *st = fs_db_prepare(C->db, ins, C->err, C->errlen);
    if (!st)
        return -1;
    fs_bind_text(st, 1, key);
    fs_bind_text(st, 2, category);
    fs_bind_text(st, 3, kind);
    fs_bind_text(st, 4, anomaly);
    fs_bind_text(st, 5, func);
    fs_bind_text(st, 6, at && at->valid ? at->base : NULL);
    fs_bind_int_or_null(st, 7, at ? (int64_t)at->off : 0, !(at && at->valid));
    fs_bind_text(st, 8, w ? w->file : NULL);
    fs_bind_int_or_null(st, 9, w ? w->line : 0, !(w && w->line));
    fs_bind_text(st, 10, w ? w->symbol : NULL);
    fs_bind_text(st, 11, wf ? F->func : NULL);
    fs_bind_text(st, 12, wf && F->at.valid ? F->at.base : NULL);
    fs_bind_int_or_null(st, 13, (int64_t)F->at.off, !(wf && F->at.valid));
    fs_bind_text(st, 14, wf ? F->w.file : NULL);
    fs_bind_int_or_null(st, 15, F->w.line, !(wf && F->w.line));
    fs_bind_int(st, 16, C->res->run_id);
    fs_bind_text(st, 17, repro);
    int rc = fs_step_done(C, st);
    sqlite3_finalize(st);
    if (rc)
        return -1;
    st = fs_db_prepare(C->db, "INSERT OR IGNORE INTO finding_run(finding_id, run_id) "
                              "SELECT id, ?2 FROM finding WHERE key = ?1", C->err, C->errlen);
    if (!st)
        return -1;
    fs_bind_text(st, 1, key);
    fs_bind_int(st, 2, C->res->run_id);
    rc = fs_step_done(C, st);
    sqlite3_finalize(st);
    return rc;
}

static void fs_bind_fault(struct fs_ctx *C, sqlite3_stmt *st, int first, int with)
{
    const struct fs_fault *F = &C->fault;
    int wf = with && F->have;
    fs_bind_text(st, first, wf ? F->func : NULL);
    fs_bind_text(st, first + 1, wf && F->at.valid ? F->at.base : NULL);
    fs_bind_int_or_null(st, first + 2, (int64_t)F->at.off, !(wf && F->at.valid));
    fs_bind_text(st, first + 3, wf ? F->w.file : NULL);
    fs_bind_int_or_null(st, first + 4, F->w.line, !(wf && F->w.line));
}

/* The run's per-site counts, when its per-point list was capped (fewer 'p'
 * lines than fault points): no site is lost (the site table, fault_sites). */
static int fs_insert_sites(struct fs_ctx *C, struct fs_parsed *P)
{
    if (C->res->points_total <= (int64_t)P->points.n || !P->sites.n)
        return 0;
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO site(run_id, pid, func, module, module_path, offset, file, line, symbol, calls, first_ordinal)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", C->err, C->errlen);
    if (!st)
        return -1;
    struct fs_siterec *v = P->sites.p;
    for (size_t i = 0; i < P->sites.n; i++) {
        struct fs_where w;
        if (!v[i].calls)
            continue;                          /* a close-every-fd site without points */
        fs_where(C->sym, &v[i].at, &w);
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, v[i].pid);
        fs_bind_text(st, 3, v[i].func);
        fs_bind_text(st, 4, v[i].at.valid ? v[i].at.base : NULL);
        fs_bind_text(st, 5, v[i].at.valid ? v[i].at.path : NULL);
        fs_bind_int_or_null(st, 6, (int64_t)v[i].at.off, !v[i].at.valid);
        fs_bind_text(st, 7, w.file);
        fs_bind_int_or_null(st, 8, w.line, !w.line);
        fs_bind_text(st, 9, w.symbol);
        fs_bind_int(st, 10, v[i].calls);
        fs_bind_int(st, 11, v[i].first);
        if (fs_step_done(C, st)) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

static int fs_insert_points(struct fs_ctx *C, struct fs_parsed *P)
{
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO point(run_id, pid, ordinal, func, module, module_path, offset, file, line, symbol,"
        " site_occurrence, injected, ctx) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)", C->err, C->errlen);
    if (!st)
        return -1;
    struct fs_point *pts = P->points.p;
    /* A sweep's fault run repeats the baseline up to its fault: its points
     * before the first injected one are the baseline's (stored once, with the
     * baseline run), so only the fault and what follows it are stored, and of
     * what follows only the sites the baseline never reached unless the sweep
     * needs every one (info->keep_point): what error-path discovery, the
     * reports and never_failed.sql read (issue 11). */
    int64_t from = C->info->sweep_key && C->res->inj_ordinal > 0 ? C->res->inj_ordinal : 0;
    for (size_t i = 0; i < P->points.n; i++) {
        struct fs_point *p = &pts[i];
        if (from && !p->injected &&
            (p->ordinal < from || (C->info->keep_point && p->at.valid &&
                                   !C->info->keep_point(C->info->keep_arg, p->func, p->at.base, p->at.off))))
            continue;
        struct fs_where w;
        fs_where(C->sym, &p->at, &w);
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, p->pid);
        fs_bind_int(st, 3, p->ordinal);
        fs_bind_text(st, 4, p->func);
        fs_bind_text(st, 5, p->at.valid ? p->at.base : NULL);
        fs_bind_text(st, 6, p->at.valid ? p->at.path : NULL);
        fs_bind_int_or_null(st, 7, (int64_t)p->at.off, !p->at.valid);
        fs_bind_text(st, 8, w.file);
        fs_bind_int_or_null(st, 9, w.line, !w.line);
        fs_bind_text(st, 10, w.symbol);
        fs_bind_int(st, 11, p->occ);
        fs_bind_int(st, 12, p->injected);
        fs_bind_int_or_null(st, 13, (int64_t)p->ctx, p->ctx == 0);
        if (fs_step_done(C, st)) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* resource.reason: 'global gzip+0x2a0c8 (dfd)' or 'reachable-global
 * prog+0x4010 (g_cfg)' for a slot of a module's data (with its symbol when the
 * module's symbol table names it), else the word ('frame', 'reachable-stack'). */
static void fs_reason_text(struct fs_ctx *C, const struct fs_resrec *r, char *out, size_t len)
{
    out[0] = '\0';
    if (!r->why[0])
        return;
    if (!r->slot.valid) {
        snprintf(out, len, "%s", r->why);
        return;
    }
    struct fs_sym_result sr;
    memset(&sr, 0, sizeof sr);
    if (C->sym)
        fs_sym_lookup(C->sym, r->slot.path, r->slot.off, &sr);
    snprintf(out, len, "%s %s+0x%llx%s%s%s", r->why, r->slot.base, (unsigned long long)r->slot.off, sr.func[0] ? " (" : "", sr.func, sr.func[0] ? ")" : "");
}

static int fs_insert_resources(struct fs_ctx *C, struct fs_parsed *P)
{
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO resource(run_id, pid, verdict, kind, func, module, module_path, offset, file, line,"
        " symbol, handle, size, fault_func, fault_module, fault_offset, fault_file, fault_line, reason)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)", C->err, C->errlen);
    if (!st)
        return -1;
    struct fs_resrec *rs = P->res.p;
    for (size_t i = 0; i < P->res.n; i++) {
        struct fs_resrec *r = &rs[i];
        struct fs_where w;
        fs_where(C->sym, &r->at, &w);
        int leak = strcmp(r->verdict, "leak") == 0;
        int with = C->fault.have && !(leak && fs_in_baseline(C, "resource", r->kind, &r->at));
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, r->pid);
        fs_bind_text(st, 3, r->verdict);
        fs_bind_text(st, 4, r->kind);
        fs_bind_text(st, 5, r->func);
        fs_bind_text(st, 6, r->at.valid ? r->at.base : NULL);
        fs_bind_text(st, 7, r->at.valid ? r->at.path : NULL);
        fs_bind_int_or_null(st, 8, (int64_t)r->at.off, !r->at.valid);
        fs_bind_text(st, 9, w.file);
        fs_bind_int_or_null(st, 10, w.line, !w.line);
        fs_bind_text(st, 11, w.symbol);
        fs_bind_text(st, 12, r->handle);
        fs_bind_int_or_null(st, 13, r->size, strcmp(r->kind, "memory") && strcmp(r->kind, "mmap"));
        fs_bind_fault(C, st, 14, with && leak);
        char reason[1400];
        fs_reason_text(C, r, reason, sizeof reason);
        fs_bind_text(st, 19, reason[0] ? reason : NULL);
        if (fs_step_done(C, st)) {
            sqlite3_finalize(st);
            return -1;
        }
        if (leak) {
            C->res->leaks++;
            if (fs_finding(C, "leak", r->kind, NULL, r->func, &r->at, &w, with))
                return -1;
        } else if (strcmp(r->verdict, "held") == 0) {
            C->res->held++;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

static int fs_is_sweep_site(struct fs_parsed *P, const struct fs_site_ref *at)
{
    struct fs_site_ref *w = P->sweeps.p;
    for (size_t i = 0; i < P->sweeps.n; i++)
        if (w[i].valid && at->valid && w[i].off == at->off && strcmp(w[i].path, at->path) == 0)
            return 1;
    return 0;
}

static int fs_insert_anomalies(struct fs_ctx *C, struct fs_parsed *P)
{
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO anomaly(run_id, pid, anomaly, kind, func, module, module_path, offset, file, line,"
        " symbol, handle, detail, fault_func, fault_module, fault_offset, fault_file, fault_line)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)", C->err, C->errlen);
    if (!st)
        return -1;
    struct fs_anom *as = P->anoms.p;
    for (size_t i = 0; i < P->anoms.n; i++) {
        struct fs_anom *a = &as[i];
        if ((strcmp(a->anomaly, "double-release") == 0 || strcmp(a->anomaly, "unknown-release") == 0) &&
            strcmp(a->kind, "fd") == 0 && fs_is_sweep_site(P, &a->at))
            continue;                         /* a close-every-fd loop, not a double close */
        struct fs_where w, aw;
        fs_where(C->sym, &a->at, &w);
        fs_where(C->sym, &a->acq, &aw);
        char detail[1600];
        if (a->acq.valid)
            snprintf(detail, sizeof detail, "%s; acquired by %s at %s:%d (%s)", a->detail, a->acq_func,
                     aw.file[0] ? aw.file : a->acq.base, aw.line, aw.symbol[0] ? aw.symbol : "?");
        else
            snprintf(detail, sizeof detail, "%s", a->detail);
        int with = C->fault.have && !fs_in_baseline(C, "anomaly", a->kind, &a->at);
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, a->pid);
        fs_bind_text(st, 3, a->anomaly);
        fs_bind_text(st, 4, a->kind);
        fs_bind_text(st, 5, a->func);
        fs_bind_text(st, 6, a->at.valid ? a->at.base : NULL);
        fs_bind_text(st, 7, a->at.valid ? a->at.path : NULL);
        fs_bind_int_or_null(st, 8, (int64_t)a->at.off, !a->at.valid);
        fs_bind_text(st, 9, w.file);
        fs_bind_int_or_null(st, 10, w.line, !w.line);
        fs_bind_text(st, 11, w.symbol);
        fs_bind_text(st, 12, a->handle);
        fs_bind_text(st, 13, detail);
        fs_bind_fault(C, st, 14, with);
        if (fs_step_done(C, st)) {
            sqlite3_finalize(st);
            return -1;
        }
        C->res->anomalies++;
        if (fs_finding(C, "anomaly", a->kind, a->anomaly, a->func, &a->at, &w, with))
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---------------- sanitizer reports (sanitizer.c) ---------------- */

/* Did process pid write a sanitizer report that is a finding? */
static int fs_san_reported(const struct fs_parsed *P, int pid)
{
    for (int i = 0; i < P->nsan; i++)
        if (P->san[i].pid == pid && strcmp(P->san[i].tool, "lsan") != 0)
            return 1;
    return 0;
}

/* Did a baseline run of the same command have this sanitizer report (kind) at
 * this site? Then a fault run showing it is not the fault's doing. */
static int fs_baseline_sanitizer(struct fs_ctx *C, const char *kind, const struct fs_site_ref *at)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(C->db, "SELECT 1 FROM sanitizer_report x JOIN run r ON r.id = x.run_id"
                           " WHERE r.fault_spec IS NULL AND r.command = ?1 AND x.kind = ?2"
                           " AND x.module IS ?3 AND x.offset IS ?4 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, C->command, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (at->valid) {
        sqlite3_bind_text(st, 3, at->base, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (int64_t)at->off);
    }
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Each report: a sanitizer_report row with its full text, and a crash
 * finding of kind 'asan:heap-use-after-free' at the first frame in the
 * program's own code (symbolized like every site). LeakSanitizer's reports
 * (detect_leaks=1 in the user's ASAN_OPTIONS) are kept as a second opinion,
 * not findings: faultstack's own leak verdict is the finding. */
static int fs_insert_sanitizer_reports(struct fs_ctx *C, struct fs_parsed *P)
{
    if (!P->nsan)
        return 0;
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO sanitizer_report(run_id, pid, tool, kind, headline, module, module_path, offset, file,"
        " line, symbol, report) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", C->err, C->errlen);
    if (!st)
        return -1;
    for (int i = 0; i < P->nsan; i++) {
        struct fs_san_report *r = &P->san[i];
        struct fs_site_ref at;
        memset(&at, 0, sizeof at);
        if (r->module_path[0]) {
            snprintf(at.path, sizeof at.path, "%s", r->module_path);
            const char *sl = strrchr(at.path, '/');
            snprintf(at.base, sizeof at.base, "%.255s", sl ? sl + 1 : at.path);
            at.off = r->offset;
            at.valid = 1;
        }
        struct fs_where w;
        fs_where(C->sym, &at, &w);
        if (!w.symbol[0] && r->func[0])
            snprintf(w.symbol, sizeof w.symbol, "%s", r->func);
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, r->pid);
        fs_bind_text(st, 3, r->tool);
        fs_bind_text(st, 4, r->kind);
        fs_bind_text(st, 5, r->headline);
        fs_bind_text(st, 6, at.valid ? at.base : NULL);
        fs_bind_text(st, 7, at.valid ? at.path : NULL);
        fs_bind_int_or_null(st, 8, (int64_t)at.off, !at.valid);
        fs_bind_text(st, 9, w.file);
        fs_bind_int_or_null(st, 10, w.line, !w.line);
        fs_bind_text(st, 11, w.symbol);
        char *text = r->text ? fs_sanitizer_symbolize(r->text, C->sym) : NULL;
        fs_bind_text(st, 12, text ? text : r->text ? r->text : r->headline);
        free(text);
        int with = !(C->fault.have && fs_baseline_sanitizer(C, r->kind, &at));
        if (fs_step_done(C, st)) {
            sqlite3_finalize(st);
            return -1;
        }
        if (!strcmp(r->tool, "lsan"))
            continue;
        C->res->crashes++;
        if (fs_finding(C, "crash", r->kind, NULL, w.symbol[0] ? w.symbol : NULL, &at, &w, with)) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* Did the process (image) that wrote crash record c end with exit status 0
 * after it (its own handler recovered)? */
static int fs_recovered(const struct fs_parsed *P, const struct fs_crashrec *c)
{
    const struct fs_proc *pr = P->procs.p;
    for (size_t i = 0; i < P->procs.n; i++)
        if (pr[i].pid == c->pid && pr[i].done && !pr[i].sig && pr[i].code == 0 &&
            (!strcmp(pr[i].how, "exit") || !strcmp(pr[i].how, "_exit") || !strcmp(pr[i].how, "main")))
            return 1;
    return 0;
}

/* Crash site: the first frame of the stack in the program's own code. One
 * crash per process: the first (a fault caught by the program's handler,
 * which then aborts, is that fault). A crash the program's handler caught is
 * one unless the process then exited 0. */
static int fs_insert_crash_rows(struct fs_ctx *C, struct fs_parsed *P)
{
    struct fs_crashrec *cs = P->crashes.p;
    for (size_t i = 0; i < P->crashes.n; i++) {
        struct fs_crashrec *c = &cs[i];
        int seen = 0;
        for (size_t k = 0; k < i; k++)
            seen |= cs[k].pid == c->pid && !(cs[k].caught && fs_recovered(P, &cs[k]));
        if (seen || (c->caught && fs_recovered(P, c)))
            continue;
        struct fs_where w;
        fs_where(C->sym, &c->at, &w);
        sqlite3_stmt *st = fs_db_prepare(C->db,
            "INSERT INTO crash(run_id, pid, signal, module, module_path, offset, file, line, symbol, stack)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", C->err, C->errlen);
        if (!st)
            return -1;
        fs_bind_int(st, 1, C->res->run_id);
        fs_bind_int(st, 2, c->pid);
        fs_bind_int(st, 3, c->sig);
        fs_bind_text(st, 4, c->at.valid ? c->at.base : NULL);
        fs_bind_text(st, 5, c->at.valid ? c->at.path : NULL);
        fs_bind_int_or_null(st, 6, (int64_t)c->at.off, !c->at.valid);
        fs_bind_text(st, 7, w.file);
        fs_bind_int_or_null(st, 8, w.line, !w.line);
        fs_bind_text(st, 9, w.symbol);
        fs_bind_text(st, 10, c->frames);
        int rc = fs_step_done(C, st);
        sqlite3_finalize(st);
        if (rc)
            return -1;
        if (fs_san_reported(P, c->pid))
            continue;                         /* its sanitizer report is the finding */
        C->res->crashes++;
        char kind[32];
        snprintf(kind, sizeof kind, "SIG%s", sigabbrev_np(c->sig) ? sigabbrev_np(c->sig) : "?");
        if (fs_finding(C, "crash", kind, NULL, w.symbol[0] ? w.symbol : NULL, &c->at, &w,
                       !(C->fault.have && fs_baseline_outcome(C, &c->at))))
            return -1;
    }
    return 0;
}

/* --valgrind: what memcheck said goes into the run's transaction (tables
 * memcheck_run, memcheck_error); its memory errors in the program's own code
 * become findings of category 'memcheck', attributed to the fault unless a
 * baseline run of the same command shows the same kind at the same site. */
static int fs_insert_memcheck(struct fs_ctx *C)
{
    struct fs_vg_report rep;
    int files = fs_vg_read_dir(C->info->run_dir, &rep, C->sym, C->err, C->errlen);
    int rc = -1;
    if (files < 0)
        goto out;
    if (rep.warning[0])
        fprintf(stderr, "faultstack: warning: a memcheck report could not be read (%s); the rest is recorded\n",
                rep.warning);
    sqlite3_stmt *st = fs_db_prepare(C->db, "INSERT INTO memcheck_run(run_id, valgrind, xml_files, incomplete)"
                                            " VALUES(?1,?2,?3,?4)", C->err, C->errlen);
    if (!st)
        goto out;
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_text(st, 2, C->info->valgrind->version);
    fs_bind_int(st, 3, files);
    fs_bind_int(st, 4, rep.incomplete);
    if (fs_step_done(C, st)) {
        sqlite3_finalize(st);
        goto out;
    }
    sqlite3_finalize(st);
    if (fs_vg_store(C->db, C->res->run_id, &rep, C->err, C->errlen) < 0)
        goto out;
    C->res->memcheck_files = files;
    for (size_t i = 0; i < rep.n; i++) {
        const struct fs_vg_error *e = &rep.v[i];
        if (!strcmp(e->leak_kind, "definitely") || !strcmp(e->leak_kind, "indirectly"))
            C->res->memcheck_lost++;
        else if (!strcmp(e->leak_kind, "fd") && !e->inherited)
            C->res->memcheck_fds++;
        if (!fs_vg_is_finding(e->kind) || e->site < 0)
            continue;
        const struct fs_vg_frame *f = &e->frames[e->site];
        struct fs_site_ref at;
        memset(&at, 0, sizeof at);
        if (e->offset >= 0) {
            snprintf(at.path, sizeof at.path, "%s", e->module_path);
            snprintf(at.base, sizeof at.base, "%s", e->module);
            at.off = (uint64_t)e->offset;
            at.valid = 1;
        }
        struct fs_where w;
        memset(&w, 0, sizeof w);
        snprintf(w.file, sizeof w.file, "%s", f->file);
        w.line = f->line;
        snprintf(w.symbol, sizeof w.symbol, "%s", f->fn);
        int with = C->fault.have && !fs_in_baseline(C, "memcheck_error", e->kind, &at);
        C->res->memcheck_errors++;
        if (fs_finding(C, "memcheck", e->kind, NULL, f->fn[0] ? f->fn : NULL, &at, &w, with))
            goto out;
    }
    rc = 0;
out:
    fs_vg_report_free(&rep);
    return rc;
}

static int64_t fs_read_shared(const char *dir, int64_t *injected)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/shared", dir);
    struct fs_shared sh;
    memset(&sh, 0, sizeof sh);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &sh, sizeof sh) != (ssize_t)sizeof sh)
            memset(&sh, 0, sizeof sh);
        close(fd);
    }
    *injected = (int64_t)sh.injected;
    return (int64_t)sh.ordinal;
}

static int fs_cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_ingest_run(sqlite3 *db, const struct fs_run_info *info, struct fs_run_result *res,
                  char *err, size_t errlen)
{
    struct fs_ctx C;
    struct fs_parsed P;
    memset(&C, 0, sizeof C);
    memset(&P, 0, sizeof P);
    memset(res, 0, sizeof *res);
    fs_parsed_init(&P);
    C.db = db; C.info = info; C.res = res; C.err = err; C.errlen = errlen;
    fs_shell_join(C.command, sizeof C.command, info->argv);
    int rc = -1;
    char **names = NULL;
    size_t nn = 0;

    DIR *d = opendir(info->run_dir);
    if (!d) {
        snprintf(err, errlen, "cannot read the run directory %s: %s", info->run_dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".rec") == 0) {
            char **nn2 = realloc(names, (nn + 1) * sizeof *names);
            if (!nn2) break;
            names = nn2;
            names[nn] = malloc(strlen(info->run_dir) + l + 2);
            if (!names[nn]) break;
            sprintf(names[nn++], "%s/%s", info->run_dir, de->d_name);
        }
    }
    closedir(d);
    qsort(names, nn, sizeof *names, fs_cmp_name);
    for (size_t i = 0; i < nn; i++)
        if (!fs_parse_file(names[i], &P))
            res->incomplete++;
    if (P.version_bad)
        fprintf(stderr, "faultstack: the run's records are in format %d, this faultstack reads format %d: the "
                "preload comes from another faultstack version (FAULTSTACK_PRELOAD?); use the preload built or "
                "installed with this faultstack. The run is not fully recorded.\n", P.version_bad, FS_RECORD_VERSION);
    res->processes = (int)P.procs.n;
    res->points_total = fs_read_shared(info->run_dir, &res->injected);
    if (P.procs.n) {
        int *pids = malloc(P.procs.n * sizeof *pids);
        for (size_t i = 0; pids && i < P.procs.n; i++)
            pids[i] = ((struct fs_proc *)P.procs.p)[i].pid;
        int n = pids ? fs_sanitizer_reports(info->run_dir, pids, P.procs.n, &P.san) : 0;
        P.nsan = n > 0 ? n : 0;
        free(pids);
    }

    unsetenv("DEBUGINFOD_URLS");             /* symbolize offline */
    C.sym = info->sym ? info->sym : fs_sym_new();
    /* The fault: the first injected point; with then=, the second one (the
     * error path's own failure), the first one kept for the repro. */
    struct fs_point *pts = P.points.p, *first = NULL, *second = NULL;
    for (size_t i = 0; i < P.points.n; i++) {
        if (!pts[i].injected)
            continue;
        if (!first || pts[i].ordinal < first->ordinal)
            first = &pts[i];
    }
    if (first && info->plan && info->plan->then)
        for (size_t i = 0; i < P.points.n; i++)
            if (pts[i].injected && pts[i].ordinal == first->ordinal + (int64_t)info->plan->then)
                second = &pts[i];
    if (first) {
        struct fs_point *f = second ? second : first;
        C.fault.have = 1;
        snprintf(C.fault.func, sizeof C.fault.func, "%s", f->func);
        C.fault.at = f->at;
        C.fault.occ = f->occ;
        C.fault.ctx = info->plan && info->plan->ctx && !second ? f->ctx : 0;
        fs_where(C.sym, &C.fault.at, &C.fault.w);
        res->inj_ordinal = first->ordinal;
        if (second) {
            snprintf(C.fault.then_func, sizeof C.fault.then_func, "%s", first->func);
            C.fault.then_first = first->at;
            C.fault.then_occ = first->occ;
            C.fault.then = info->plan->then;
        }
    }
    res->swallowed = info->exit_code == 0 && !info->signal && res->injected > 0 && info->stderr_bytes == 0;

    /* inside the caller's transaction (a fork-mode sweep commits a batch of
     * runs at once): a savepoint keeps this run all or nothing */
    int nested = !sqlite3_get_autocommit(db);
    if (fs_db_exec(db, nested ? "SAVEPOINT fs_ingest" : "BEGIN IMMEDIATE", err, errlen)) {
        res->db_error = sqlite3_errcode(db);
        goto out;
    }
    time_t now = time(NULL);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sqlite3_stmt *st = fs_db_prepare(db,
        "INSERT INTO run(session_id, command, fault_spec, mode, exit_code, signal, timed_out, duration_ms,"
        " points_total, injected, swallowed, started_at, sweep_key, confirms)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
        err, errlen);
    if (!st)
        goto rollback;
    fs_bind_int(st, 1, info->session_id);
    fs_bind_text(st, 2, C.command);
    fs_bind_text(st, 3, info->fault_spec);
    fs_bind_text(st, 4, info->mode);
    fs_bind_int_or_null(st, 5, info->exit_code, info->signal != 0);
    fs_bind_int_or_null(st, 6, info->signal, info->signal == 0);
    fs_bind_int(st, 7, info->timed_out);
    fs_bind_int(st, 8, info->duration_ms);
    fs_bind_int(st, 9, res->points_total);
    fs_bind_int(st, 10, res->injected);
    fs_bind_int(st, 11, res->swallowed);
    fs_bind_text(st, 12, ts);
    fs_bind_text(st, 13, info->sweep_key);
    fs_bind_int_or_null(st, 14, info->confirms, info->confirms == 0);
    if (fs_step_done(&C, st)) {
        sqlite3_finalize(st);
        goto rollback;
    }
    sqlite3_finalize(st);
    res->run_id = sqlite3_last_insert_rowid(db);

    st = fs_db_prepare(db, "INSERT INTO process(run_id, pid, ppid, exe, end_how, exit_code, signal,"
                           " reachable_blocks, reachable_bytes) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                       err, errlen);
    if (!st)
        goto rollback;
    struct fs_proc *prs = P.procs.p;
    for (size_t i = 0; i < P.procs.n; i++) {
        fs_bind_int(st, 1, res->run_id);
        fs_bind_int(st, 2, prs[i].pid);
        fs_bind_int(st, 3, prs[i].ppid);
        fs_bind_text(st, 4, prs[i].exe);
        fs_bind_text(st, 5, prs[i].how);
        fs_bind_int_or_null(st, 6, prs[i].code, prs[i].code < 0);
        fs_bind_int_or_null(st, 7, prs[i].sig, prs[i].sig == 0);
        fs_bind_int(st, 8, prs[i].rb);
        fs_bind_int(st, 9, prs[i].rbytes);
        if (fs_step_done(&C, st)) {
            sqlite3_finalize(st);
            goto rollback;
        }
    }
    sqlite3_finalize(st);

    res->memcheck_files = -1;
    if (fs_insert_points(&C, &P) || fs_insert_sites(&C, &P) || fs_insert_resources(&C, &P) || fs_insert_anomalies(&C, &P) ||
        fs_insert_sanitizer_reports(&C, &P) || fs_insert_crash_rows(&C, &P) ||
        (info->valgrind && fs_insert_memcheck(&C)))
        goto rollback;
    if (info->signal && !info->timed_out && res->crashes == 0) {
        /* design.md: any death by a signal is a crash, even one no record
         * shows (killed from outside, a record lost): a finding without a site */
        char kind[32];
        snprintf(kind, sizeof kind, "SIG%s", sigabbrev_np(info->signal) ? sigabbrev_np(info->signal) : "?");
        res->crashes++;
        if (fs_finding(&C, "crash", kind, NULL, NULL, NULL, NULL,
                       !(C.fault.have && fs_baseline_signal(&C, info->signal))))
            goto rollback;
    }
    if (info->timed_out) {
        res->timeouts++;
        if (fs_finding(&C, "timeout", NULL, NULL, NULL, NULL, NULL, !(C.fault.have && fs_baseline_outcome(&C, NULL))))
            goto rollback;
    }
    if (fs_verdict_run(db, C.sym, info->run_dir, info->plan, res->run_id, err, errlen))  /* triage, fault callers */
        goto rollback;
    if (fs_db_exec(db, nested ? "RELEASE fs_ingest" : "COMMIT", err, errlen))
        goto rollback;
    {
        int64_t n = 0;
        st = fs_db_prepare(db, "SELECT count(*) FROM finding_run WHERE run_id = ?1", err, errlen);
        if (st) {
            fs_bind_int(st, 1, res->run_id);
            if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        res->findings = (int)n;
    }
    rc = 0;
    goto out;
rollback:
    {
        char ignore[64];
        res->db_error = sqlite3_errcode(db);
        if (!nested)
            fs_db_exec(db, "ROLLBACK", ignore, sizeof ignore);
        else if (fs_db_exec(db, "ROLLBACK TO fs_ingest", ignore, sizeof ignore) == 0)
            fs_db_exec(db, "RELEASE fs_ingest", ignore, sizeof ignore);
        free(res->deferred_keys);
        res->deferred_keys = NULL;
    }
out:
    if (!info->sym)
        fs_sym_free(C.sym);
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    fs_parsed_free(&P);
    return rc;
}

int64_t fs_session_new(sqlite3 *db, const char *kind, char *const *argv, char *err, size_t errlen)
{
    char cmd[8192], cwd[PATH_MAX], ts[32];
    fs_shell_join(cmd, sizeof cmd, argv);
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    time_t now = time(NULL);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sqlite3_stmt *st = fs_db_prepare(db, "INSERT INTO session(kind, command, cwd, started_at) VALUES(?1,?2,?3,?4)",
                                     err, errlen);
    if (!st)
        return -1;
    fs_bind_text(st, 1, kind);
    fs_bind_text(st, 2, cmd);
    fs_bind_text(st, 3, cwd);
    fs_bind_text(st, 4, ts);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "database write failed: %s", sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_last_insert_rowid(db);
}

/* ---------------- confirmation runs: acquire stacks of the leak sites ---------------- */

int fs_leak_sites(sqlite3 *db, int64_t run_id, char *out, size_t cap)
{
    out[0] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT module, offset FROM resource WHERE run_id = ?1 AND "
                               "verdict = 'leak' AND module IS NOT NULL LIMIT 64", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, run_id);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char one[600];
        snprintf(one, sizeof one, "%s%s+0x%llx", n ? ";" : "", (const char *)sqlite3_column_text(st, 0),
                 (unsigned long long)sqlite3_column_int64(st, 1));
        if (strlen(out) + strlen(one) + 1 >= cap)
            break;
        strcat(out, one);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int fs_ingest_stacks(sqlite3 *db, int64_t run_id, const char *run_dir, char *err, size_t errlen)
{
    struct fs_parsed P;
    memset(&P, 0, sizeof P);
    fs_parsed_init(&P);
    DIR *d = opendir(run_dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", run_dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    char path[PATH_MAX];
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".rec") == 0) {
            snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
            fs_parse_file(path, &P);
        }
    }
    closedir(d);
    struct fs_symbolizer *sym = fs_sym_new();
    sqlite3_stmt *st = NULL;
    int updated = 0;
    if (sqlite3_prepare_v2(db, "UPDATE resource SET stack = ?1 WHERE run_id = ?2 AND verdict = 'leak' AND "
                               "kind = ?3 AND module = ?4 AND offset = ?5 AND stack IS NULL", -1, &st, NULL)
        != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        updated = -1;
        goto out;
    }
    struct fs_resrec *rs = P.res.p;
    for (size_t i = 0; i < P.res.n; i++) {
        if (!rs[i].frames || !rs[i].at.valid)
            continue;
        char text[8192] = "";
        char *save = NULL;
        for (char *ln = strtok_r(rs[i].frames, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
            char *tab = strchr(ln, '\t');
            if (!tab) continue;
            *tab = '\0';
            struct fs_sym_result r;
            fs_sym_lookup(sym, ln, strtoull(tab + 1, NULL, 16), &r);
            const char *base = strrchr(ln, '/') ? strrchr(ln, '/') + 1 : ln;
            char one[1400];
            if (r.file[0])
                snprintf(one, sizeof one, "%s %s:%d\n", r.func[0] ? r.func : "?", r.file, r.line);
            else
                snprintf(one, sizeof one, "%s %s+0x%s\n", r.func[0] ? r.func : "?", base, tab + 1);
            strncat(text, one, sizeof text - strlen(text) - 1);
        }
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, run_id);
        sqlite3_bind_text(st, 3, rs[i].kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, rs[i].at.base, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, (int64_t)rs[i].at.off);
        if (sqlite3_step(st) == SQLITE_DONE)
            updated += sqlite3_changes(db);
        sqlite3_reset(st);
    }
out:
    sqlite3_finalize(st);
    fs_sym_free(sym);
    fs_parsed_free(&P);
    return updated;
}
