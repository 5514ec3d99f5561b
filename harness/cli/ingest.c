/* ingest.c — record files of one run -> one database transaction (ingest.h).
 *
 * Steps: read the *.rec files of the run directory (one per process image) as
 * a stream — a survey pass, then one pass per table, each row inserted as its
 * line is read, so memory does not grow with what the run recorded (issue 11)
 * — resolve module ids to paths, symbolize sites with libdwfl (symbolize.c),
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

/* ---------------- record lines ----------------
 *
 * Records are read as a stream (issue 11): one line at a time into a bounded
 * buffer, each row inserted as its line is read, so the supervisor's memory
 * does not grow with the number of points, leaks, anomalies or processes.
 * What is kept for a whole run: the names of the record files, the pids, the
 * injected fault and the close-every-fd sites. */

struct fs_site_ref { char path[512]; char base[256]; uint64_t off; int valid; };

struct fs_point { int64_t ordinal; char func[64]; struct fs_site_ref at; int64_t occ; int injected;
                  uint64_t ctx; };
/* an 's' line: a call site's fault points in one process */
struct fs_siterec { char func[FS_REC_FUNC_MAX]; struct fs_site_ref at; int64_t calls, first; };
struct fs_resrec { char verdict[16], kind[32], func[64]; struct fs_site_ref at; char handle[40]; int64_t size;
                  char why[32];             /* held: 'frame', 'thread', 'global', 'reachable-stack'... */
                  struct fs_site_ref slot;  /* held in a global: the slot (module + offset) */ };
struct fs_anom { char anomaly[32], kind[32], func[64]; struct fs_site_ref at; char handle[40];
                 char acq_func[64]; struct fs_site_ref acq; char detail[320]; };
struct fs_crashrec { int sig; struct fs_site_ref at; char frames[4096];
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

/* One record file read line by line. Its module table is read first ('m'
 * lines may follow their first use when threads race). A line longer than
 * FS_REC_LINE_MAX (the preload writes none) is skipped, so a file's size
 * never sets the memory used to read it. */
#define FS_REC_LINE_MAX 32768

struct fs_rec {
    FILE *f;
    struct fs_modtab mt;
    char *line;                    /* FS_REC_LINE_MAX bytes: the current line, without its newline */
    int version;                   /* the first line's format (1: none said); 0 before it */
    int skipped;                   /* lines too long to read: the record is not fully read */
};

static int fs_rec_getline(struct fs_rec *R)
{
    for (;;) {
        if (!fgets(R->line, FS_REC_LINE_MAX, R->f))
            return 0;
        size_t len = strlen(R->line);
        if (len && R->line[len - 1] == '\n') {
            R->line[len - 1] = '\0';
            return 1;
        }
        if (feof(R->f))
            return 1;                      /* the last line, cut short (killed while writing) */
        int ch;
        while ((ch = getc(R->f)) != EOF && ch != '\n')
            ;                              /* too long for a record line: skipped */
        R->skipped++;
    }
}

static void fs_rec_close(struct fs_rec *R)
{
    for (int i = 0; i < FS_MAXMOD; i++)
        free(R->mt.path[i]);
    free(R->line);
    if (R->f)
        fclose(R->f);
    memset(R, 0, sizeof *R);
}

/* Open a record file and read its module table. Returns 0, or -1 (nothing to close). */
static int fs_rec_open(struct fs_rec *R, const char *path)
{
    memset(R, 0, sizeof *R);
    R->line = malloc(FS_REC_LINE_MAX);
    R->f = R->line ? fopen(path, "re") : NULL;
    if (!R->f) {
        free(R->line);
        R->line = NULL;
        return -1;
    }
    while (fs_rec_getline(R)) {
        long id;
        unsigned long long bias;
        int pos = 0;
        if (R->line[0] == FS_REC_MODULE && sscanf(R->line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && pos &&
            id > 0 && id < FS_MAXMOD) {
            free(R->mt.path[id]);
            R->mt.path[id] = strdup(R->line + pos);
        }
    }
    rewind(R->f);
    R->skipped = 0;                        /* counted by the reading pass */
    return 0;
}

/* The next line after the version line, or NULL at the end — at once for a
 * record of another format (R->version says which). */
static const char *fs_rec_next(struct fs_rec *R)
{
    while (fs_rec_getline(R)) {
        if (R->version)
            return R->line;
        if (sscanf(R->line, FS_REC_VERSION_SCAN, &R->version) != 1 || R->version <= 0)
            R->version = 1;                /* before versions were written */
        if (R->version != FS_RECORD_VERSION)
            return NULL;
    }
    return NULL;
}

static void fs_proc_init(struct fs_proc *pr)
{
    memset(pr, 0, sizeof *pr);
    strcpy(pr->how, "unknown");
    pr->code = -1;
}

/* The lines that say how a process image went: image, end, sum, done, resume. */
static void fs_proc_line(struct fs_proc *pr, const char *line)
{
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
    case 'e':
        if (strncmp(line, FS_REC_END " ", sizeof FS_REC_END) == 0) {
            sscanf(line, FS_REC_END_SCAN, pr->how, &pr->code, &pr->sig);
            pr->done = 0;
        }
        break;
    case 's':
        if (strncmp(line, FS_REC_SUM " ", sizeof FS_REC_SUM) == 0) {
            long long pts, rb, rby;
            if (sscanf(line, FS_REC_SUM_SCAN, &pts, &rb, &rby) == 3) {
                pr->rb = rb; pr->rbytes = rby;
            }
        }
        break;
    case 'd':
        if (strcmp(line, FS_REC_DONE) == 0)
            pr->done = 1;
        break;
    default:
        if (strcmp(line, FS_REC_RESUME) == 0) {  /* an exec that failed: the image goes on */
            strcpy(pr->how, "unknown");
            pr->done = 0;
        }
        break;
    }
}

static int fs_point_line(struct fs_point *p, const char *line, const struct fs_modtab *mt)
{
    long mod = 0;
    unsigned long long off = 0, ctx = 0;
    long long ord = 0, occ = 0;
    int inj = 0;
    memset(p, 0, sizeof *p);
    int nf = sscanf(line, FS_REC_POINT_SCAN, &ord, p->func, &mod, &off, &occ, &inj, &ctx);
    if (nf < 6)
        return 0;
    p->ordinal = ord; p->occ = occ; p->injected = inj; p->ctx = nf == 7 ? ctx : 0;
    fs_site_set(&p->at, mt, mod, off);
    return 1;
}

static int fs_site_line(struct fs_siterec *sr, const char *line, const struct fs_modtab *mt)
{
    long mod = 0;
    unsigned long long off = 0;
    long long calls = 0, first = 0;
    memset(sr, 0, sizeof *sr);
    if (sscanf(line, FS_REC_SITE_SCAN, sr->func, &mod, &off, &calls, &first) != 5)
        return 0;
    sr->calls = calls; sr->first = first;
    fs_site_set(&sr->at, mt, mod, off);
    return 1;
}

static int fs_res_line(struct fs_resrec *r, const char *line, const struct fs_modtab *mt)
{
    long mod = 0;
    unsigned long long off = 0;
    long long size = 0;
    char verdict[128];
    memset(r, 0, sizeof *r);
    if (sscanf(line, FS_REC_RESOURCE_SCAN, verdict, r->kind, r->func, &mod, &off, r->handle, &size) != 7)
        return 0;
    fs_parse_verdict(r, verdict, mt);
    r->size = size;
    fs_site_set(&r->at, mt, mod, off);
    return 1;
}

/* The optional 8th field of an 'r' line: the acquire stack "MOD:OFF,...". */
static const char *fs_res_stack(const char *line)
{
    const char *sp = line;
    for (int k = 0; k < 8 && sp; k++) {
        sp = strchr(sp, ' ');
        if (sp) sp++;
    }
    return sp && *sp ? sp : NULL;
}

static int fs_anom_line(struct fs_anom *a, const char *line, const struct fs_modtab *mt)
{
    long mod = 0, amod = 0;
    unsigned long long off = 0, aoff = 0;
    memset(a, 0, sizeof *a);
    if (sscanf(line, FS_REC_ANOMALY_SCAN, a->anomaly, a->kind, a->func, &mod, &off, a->handle, a->acq_func,
               &amod, &aoff) != 9)
        return 0;
    const char *bar = strstr(line, " | ");
    snprintf(a->detail, sizeof a->detail, "%s", bar ? bar + 3 : "");
    fs_site_set(&a->at, mt, mod, off);
    fs_site_set(&a->acq, mt, amod, aoff);
    return 1;
}

static int fs_crash_line(struct fs_crashrec *c, const char *line, const struct fs_modtab *mt)
{
    long mod = 0;
    unsigned long long off = 0;
    int pos = 0;
    memset(c, 0, sizeof *c);
    if (sscanf(line + 1, FS_REC_CRASH_SCAN, &c->sig, &mod, &off, &pos) != 3)
        return 0;
    pos += 1;
    c->caught = line[0] == FS_REC_CRASH_CAUGHT;
    fs_site_set(&c->at, mt, mod, off);
    fs_crash_frames(c, mt, pos ? line + pos : "");
    return 1;
}

/* ---------------- the run's record files ---------------- */

/* What a file holds, found by the survey: which passes need to read it. */
#define FS_HAS_RES 1
#define FS_HAS_ANOM 2
#define FS_HAS_CRASH 4
#define FS_HAS_INJ 8
#define FS_HAS_STACK 16

/* The record files of a run, sorted by name: one buffer of names (no
 * per-file allocation) and a byte of FS_HAS_* per file. */
struct fs_files {
    const char *dir;
    char *names;                   /* NUL-separated, relative to dir */
    size_t len, cap;
    size_t *off;                   /* n offsets into names */
    unsigned char *has;
    size_t n, ncap;
};

static const char *fs_sort_names;
static void fs_files_free(struct fs_files *F);

static int fs_cmp_off(const void *a, const void *b)
{
    return strcmp(fs_sort_names + *(const size_t *)a, fs_sort_names + *(const size_t *)b);
}

/* List dir's *.rec files. Returns 0, or -1 with a message in err. */
static int fs_files_list(struct fs_files *F, const char *dir, char *err, size_t errlen)
{
    memset(F, 0, sizeof *F);
    F->dir = dir;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read the run directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int oom = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= 4 || strcmp(de->d_name + l - 4, ".rec"))
            continue;
        if (F->len + l + 1 > F->cap) {
            size_t nc = F->cap ? F->cap * 2 : 4096;
            while (nc < F->len + l + 1)
                nc *= 2;
            char *nn = realloc(F->names, nc);
            if (!nn) {
                oom = 1;
                break;
            }
            F->names = nn;
            F->cap = nc;
        }
        if (F->n == F->ncap) {
            size_t nc = F->ncap ? F->ncap * 2 : 64;
            size_t *no = realloc(F->off, nc * sizeof *no);
            if (!no) {
                oom = 1;
                break;
            }
            F->off = no;
            unsigned char *nh = realloc(F->has, nc);
            if (!nh) {
                oom = 1;
                break;
            }
            F->has = nh;
            F->ncap = nc;
        }
        memcpy(F->names + F->len, de->d_name, l + 1);
        F->has[F->n] = 0;
        F->off[F->n++] = F->len;
        F->len += l + 1;
    }
    closedir(d);
    if (oom) {
        snprintf(err, errlen, "out of memory listing the %zu+ record files of %s", F->n, dir);
        fs_files_free(F);
        return -1;
    }
    fs_sort_names = F->names;
    if (F->n)
        qsort(F->off, F->n, sizeof *F->off, fs_cmp_off);
    return 0;
}

static void fs_files_free(struct fs_files *F)
{
    free(F->names);
    free(F->off);
    free(F->has);
    memset(F, 0, sizeof *F);
}

static int fs_files_open(const struct fs_files *F, size_t i, struct fs_rec *R)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", F->dir, F->names + F->off[i]);
    return fs_rec_open(R, path);
}

/* The first pass over the records: every process's pid, whether its record
 * is complete, how many 'p' lines there are, the first injected point (the
 * fault) and the close-every-fd sites ('w'). */
struct fs_survey {
    struct fs_vec pids;            /* int */
    struct fs_vec sweeps;          /* struct fs_site_ref, at most FS_MAX_SWEEPS */
    int64_t npoints;               /* 'p' lines */
    int processes, incomplete, version_bad;
    int oom;                       /* the pid list could not grow */
    int64_t unread;                /* lines too long to read (fs_rec.skipped) */
    int have_first;
    struct fs_point first;         /* the injected point of the lowest ordinal */
};
#define FS_MAX_SWEEPS 4096

static int fs_sweep_known(const struct fs_survey *S, const struct fs_site_ref *at)
{
    const struct fs_site_ref *w = S->sweeps.p;
    for (size_t i = 0; i < S->sweeps.n; i++)
        if (w[i].valid && at->valid && w[i].off == at->off && strcmp(w[i].path, at->path) == 0)
            return 1;
    return 0;
}

/* Is an injected point's flag set in this 'p' line (cheaply, before sscanf)? */
static int fs_point_injected(const char *line)
{
    /* p ORD FUNC MOD OFF OCC INJ [CTX]: INJ is the 7th field */
    const char *p = line;
    for (int k = 0; k < 6 && p; k++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    return p && p[0] == '1' && (p[1] == ' ' || p[1] == '\0');
}

static void fs_survey_files(struct fs_files *F, struct fs_survey *S)
{
    memset(S, 0, sizeof *S);
    S->pids.sz = sizeof(int);
    S->sweeps.sz = sizeof(struct fs_site_ref);
    for (size_t i = 0; i < F->n; i++) {
        struct fs_rec R;
        if (fs_files_open(F, i, &R)) {
            S->incomplete++;
            continue;
        }
        struct fs_proc pr;
        fs_proc_init(&pr);
        const char *line;
        while ((line = fs_rec_next(&R))) {
            switch (line[0]) {
            case FS_REC_POINT: {
                struct fs_point p;
                if (!fs_point_line(&p, line, &R.mt))
                    break;
                S->npoints++;
                if (p.injected) {
                    F->has[i] |= FS_HAS_INJ;
                    if (!S->have_first || p.ordinal < S->first.ordinal) {
                        S->first = p;
                        S->have_first = 1;
                    }
                }
                break;
            }
            case FS_REC_RESOURCE:
                F->has[i] |= FS_HAS_RES;
                if (fs_res_stack(line))
                    F->has[i] |= FS_HAS_STACK;
                break;
            case FS_REC_ANOMALY:
                F->has[i] |= FS_HAS_ANOM;
                break;
            case FS_REC_CRASH:
            case FS_REC_CRASH_CAUGHT:
                F->has[i] |= FS_HAS_CRASH;
                break;
            case FS_REC_CLOSE_LOOP: {
                long mod;
                unsigned long long off;
                struct fs_site_ref w;
                if (sscanf(line, FS_REC_CLOSE_LOOP_SCAN, &mod, &off) != 2)
                    break;
                fs_site_set(&w, &R.mt, mod, off);
                if (w.valid && S->sweeps.n < FS_MAX_SWEEPS && !fs_sweep_known(S, &w)) {
                    struct fs_site_ref *e = fs_vec_push(&S->sweeps);
                    if (e)
                        *e = w;
                }
                break;
            }
            default:
                fs_proc_line(&pr, line);
                break;
            }
        }
        if (R.version && R.version != FS_RECORD_VERSION)
            S->version_bad = R.version;
        int skipped = R.skipped;
        S->unread += skipped;
        fs_rec_close(&R);
        S->processes++;
        if (!pr.done || skipped)
            S->incomplete++;              /* the run is reported as not fully recorded */
        int *pid = fs_vec_push(&S->pids);
        if (pid)
            *pid = pr.pid;
        else
            S->oom = 1;
    }
}

/* The injected point of this ordinal (then=: the second fault), or 0. */
static int fs_find_injected(const struct fs_files *F, int64_t ordinal, struct fs_point *out)
{
    int found = 0;
    for (size_t i = 0; i < F->n; i++) {
        struct fs_rec R;
        if (!(F->has[i] & FS_HAS_INJ) || fs_files_open(F, i, &R))
            continue;
        const char *line;
        struct fs_point p;
        while ((line = fs_rec_next(&R)))
            if (line[0] == FS_REC_POINT && fs_point_injected(line) && fs_point_line(&p, line, &R.mt) &&
                p.injected && p.ordinal == ordinal) {
                *out = p;
                found = 1;
            }
        fs_rec_close(&R);
        if (found)
            break;
    }
    return found;
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

/* Bind a site's six columns — module, module_path, offset, file, line,
 * symbol — from column col on (the point, site, resource, anomaly, crash and
 * sanitizer rows all have them in this order). */
static void fs_bind_site(sqlite3_stmt *st, int col, const struct fs_site_ref *at, const struct fs_where *w)
{
    fs_bind_text(st, col, at->valid ? at->base : NULL);
    fs_bind_text(st, col + 1, at->valid ? at->path : NULL);
    fs_bind_int_or_null(st, col + 2, (int64_t)at->off, !at->valid);
    fs_bind_text(st, col + 3, w->file);
    fs_bind_int_or_null(st, col + 4, w->line, !w->line);
    fs_bind_text(st, col + 5, w->symbol);
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

struct fs_seen { uint64_t *v; size_t cap, n; };

struct fs_ctx {
    sqlite3 *db;
    const struct fs_run_info *info;
    struct fs_run_result *res;
    struct fs_symbolizer *sym;
    struct fs_fault fault;
    char *err;
    size_t errlen;
    char command[8192];
    const struct fs_files *F;      /* the run's record files */
    const struct fs_survey *S;     /* what the first pass over them found */
    struct fs_seen seen;           /* leak and anomaly sites done in this run */
    struct fs_san_report *san;     /* sanitizer reports of the run's processes (sanitizer.c) */
    int nsan;
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

/* ---------------- what this run showed already ----------------
 * A leak or anomaly at a site this run showed already (same verdict or
 * anomaly, kind, function and site) is the same finding, attributed the same
 * way: its row is inserted, but the baseline lookup and the finding are not
 * done again (a million leaks from one site: one lookup, one finding). A set
 * of 64-bit hashes with the attribution in the low bit, at most FS_SEEN_MAX
 * entries (8 MiB); past that every row does the work again. */
#define FS_SEEN_MAX ((size_t)1 << 20)

static uint64_t fs_hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= 0xff;                            /* a separator no text holds */
    return h * 1099511628211ull;
}

static uint64_t fs_seen_key(const char *tag, const char *a, const char *b, const char *c,
                            const struct fs_site_ref *at)
{
    uint64_t h = 1469598103934665603ull;
    h = fs_hash_str(h, tag);
    h = fs_hash_str(h, a);
    h = fs_hash_str(h, b);
    h = fs_hash_str(h, c);
    h = fs_hash_str(h, at->valid ? at->path : "");
    uint64_t off = at->valid ? at->off : 0;
    for (int i = 0; i < 8; i++) {
        h ^= (off >> (8 * i)) & 0xff;
        h *= 1099511628211ull;
    }
    h ^= h >> 31;
    h &= ~1ull;
    return h ? h : 2;
}

/* 1 when key is in the set (its attribution in *with), else 0. */
static int fs_seen_find(const struct fs_seen *S, uint64_t key, int *with)
{
    if (!S->cap)
        return 0;
    size_t mask = S->cap - 1;
    for (size_t i = (size_t)(key >> 1) & mask;; i = (i + 1) & mask) {
        if (!S->v[i])
            return 0;
        if ((S->v[i] & ~1ull) == key) {
            *with = (int)(S->v[i] & 1);
            return 1;
        }
    }
}

static void fs_seen_put(uint64_t *v, size_t cap, uint64_t e)
{
    size_t mask = cap - 1;
    size_t i = (size_t)((e & ~1ull) >> 1) & mask;
    while (v[i])
        i = (i + 1) & mask;
    v[i] = e;
}

static void fs_seen_add(struct fs_seen *S, uint64_t key, int with)
{
    if ((S->n + 1) * 4 > S->cap * 3) {
        if (S->cap >= FS_SEEN_MAX)
            return;                       /* full: the rows to come do the work again */
        size_t nc = S->cap ? S->cap * 2 : 4096;
        uint64_t *nv = calloc(nc, sizeof *nv);
        if (!nv)
            return;
        for (size_t i = 0; i < S->cap; i++)
            if (S->v[i])
                fs_seen_put(nv, nc, S->v[i]);
        free(S->v);
        S->v = nv;
        S->cap = nc;
    }
    fs_seen_put(S->v, S->cap, key | (with ? 1 : 0));
    S->n++;
}

/* ---------------- storing the records, one line at a time ---------------- */

static int fs_store_point(struct fs_ctx *C, sqlite3_stmt *st, const struct fs_point *p, int pid, int64_t from)
{
    /* A sweep's fault run repeats the baseline up to its fault: its points
     * before the first injected one are the baseline's (stored once, with the
     * baseline run), so only the fault and what follows it are stored, and of
     * what follows only the sites the baseline never reached unless the sweep
     * needs every one (info->keep_point): what error-path discovery, the
     * reports and never_failed.sql read (issue 11). */
    if (from && !p->injected &&
        (p->ordinal < from || (C->info->keep_point && p->at.valid &&
                               !C->info->keep_point(C->info->keep_arg, p->func, p->at.base, p->at.off))))
        return 0;
    struct fs_where w;
    fs_where(C->sym, &p->at, &w);
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pid);
    fs_bind_int(st, 3, p->ordinal);
    fs_bind_text(st, 4, p->func);
    fs_bind_site(st, 5, &p->at, &w);
    fs_bind_int(st, 11, p->occ);
    fs_bind_int(st, 12, p->injected);
    fs_bind_int_or_null(st, 13, (int64_t)p->ctx, p->ctx == 0);
    return fs_step_done(C, st);
}

/* The run's per-site counts, when its per-point list was capped (fewer 'p'
 * lines than fault points): no site is lost (the site table, fault_sites). */
static int fs_store_site(struct fs_ctx *C, sqlite3_stmt *st, const struct fs_siterec *s, int pid, int64_t from)
{
    struct fs_where w;
    if (!s->calls)
        return 0;                          /* a close-every-fd site without points */
    /* a sweep's fault run: as its points, only the sites first reached at or
     * after its fault and (info->keep_point) never reached by the baseline —
     * a fork-mode child's 's' lines count the trunk's prefix too (a row per
     * site of the prefix in every fault run: 533 MB for 3,000 fault runs) */
    if (from && (s->first < from || (C->info->keep_point && s->at.valid &&
                                     !C->info->keep_point(C->info->keep_arg, s->func, s->at.base, s->at.off))))
        return 0;
    fs_where(C->sym, &s->at, &w);
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pid);
    fs_bind_text(st, 3, s->func);
    fs_bind_site(st, 4, &s->at, &w);
    fs_bind_int(st, 10, s->calls);
    fs_bind_int(st, 11, s->first);
    return fs_step_done(C, st);
}

static int fs_store_process(struct fs_ctx *C, sqlite3_stmt *st, const struct fs_proc *pr)
{
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pr->pid);
    fs_bind_int(st, 3, pr->ppid);
    fs_bind_text(st, 4, pr->exe);
    fs_bind_text(st, 5, pr->how);
    fs_bind_int_or_null(st, 6, pr->code, pr->code < 0);
    fs_bind_int_or_null(st, 7, pr->sig, pr->sig == 0);
    fs_bind_int(st, 8, pr->rb);
    fs_bind_int(st, 9, pr->rbytes);
    return fs_step_done(C, st);
}

/* Pass 1: every record's process row, its fault points and (a capped list)
 * its sites. */
static int fs_store_points(struct fs_ctx *C)
{
    const struct fs_files *F = C->F;
    int with_sites = C->res->points_total > C->S->npoints;
    int64_t from = C->info->sweep_key && C->res->inj_ordinal > 0 ? C->res->inj_ordinal : 0;
    int rc = -1;
    sqlite3_stmt *pst = fs_db_prepare(C->db,
        "INSERT INTO point(run_id, pid, ordinal, func, module, module_path, offset, file, line, symbol,"
        " site_occurrence, injected, ctx) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)", C->err, C->errlen);
    sqlite3_stmt *sst = pst ? fs_db_prepare(C->db,
        "INSERT INTO site(run_id, pid, func, module, module_path, offset, file, line, symbol, calls, first_ordinal)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", C->err, C->errlen) : NULL;
    sqlite3_stmt *prst = sst ? fs_db_prepare(C->db,
        "INSERT INTO process(run_id, pid, ppid, exe, end_how, exit_code, signal,"
        " reachable_blocks, reachable_bytes) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)", C->err, C->errlen) : NULL;
    if (!prst)
        goto out;
    for (size_t i = 0; i < F->n; i++) {
        struct fs_rec R;
        if (fs_files_open(F, i, &R))
            continue;
        struct fs_proc pr;
        fs_proc_init(&pr);
        const char *line;
        int bad = 0;
        while (!bad && (line = fs_rec_next(&R))) {
            if (line[0] == FS_REC_POINT) {
                struct fs_point p;
                bad = fs_point_line(&p, line, &R.mt) && fs_store_point(C, pst, &p, pr.pid, from);
            } else if (line[0] == FS_REC_SITE && line[1] == ' ') {
                struct fs_siterec s;
                bad = with_sites && fs_site_line(&s, line, &R.mt) && fs_store_site(C, sst, &s, pr.pid, from);
            } else {
                fs_proc_line(&pr, line);
            }
        }
        fs_rec_close(&R);
        if (bad || fs_store_process(C, prst, &pr))
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(pst);
    sqlite3_finalize(sst);
    sqlite3_finalize(prst);
    return rc;
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

static int fs_store_resource(struct fs_ctx *C, sqlite3_stmt *st, const struct fs_resrec *r, int pid)
{
    struct fs_where w;
    fs_where(C->sym, &r->at, &w);
    int leak = strcmp(r->verdict, "leak") == 0;
    uint64_t key = fs_seen_key("r", r->verdict, r->kind, r->func, &r->at);
    int with = 0, known = fs_seen_find(&C->seen, key, &with);
    if (!known)
        with = C->fault.have && !(leak && fs_in_baseline(C, "resource", r->kind, &r->at));
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pid);
    fs_bind_text(st, 3, r->verdict);
    fs_bind_text(st, 4, r->kind);
    fs_bind_text(st, 5, r->func);
    fs_bind_site(st, 6, &r->at, &w);
    fs_bind_text(st, 12, r->handle);
    fs_bind_int_or_null(st, 13, r->size, strcmp(r->kind, "memory") && strcmp(r->kind, "mmap"));
    fs_bind_fault(C, st, 14, with && leak);
    char reason[1400];
    fs_reason_text(C, r, reason, sizeof reason);
    fs_bind_text(st, 19, reason[0] ? reason : NULL);
    if (fs_step_done(C, st))
        return -1;
    if (leak) {
        C->res->leaks++;
        if (!known && fs_finding(C, "leak", r->kind, NULL, r->func, &r->at, &w, with))
            return -1;
    } else if (strcmp(r->verdict, "held") == 0) {
        C->res->held++;
    }
    if (!known)
        fs_seen_add(&C->seen, key, with);
    return 0;
}

/* Pass 2: resources at the end of each process ('r'). */
/* One pass over the record files that hold lines of one kind (FS_HAS_*):
 * each line tagged 'tag' goes to fn, with the pid of its file's process
 * (its 'i' line comes first), through the statement made from sql. */
typedef int (*fs_tagged_fn)(struct fs_ctx *C, sqlite3_stmt *st, const char *line, struct fs_rec *R, int pid);

static int fs_store_tagged(struct fs_ctx *C, unsigned has, char tag, const char *sql, fs_tagged_fn fn)
{
    const struct fs_files *F = C->F;
    sqlite3_stmt *st = fs_db_prepare(C->db, sql, C->err, C->errlen);
    if (!st)
        return -1;
    int rc = 0;
    for (size_t i = 0; !rc && i < F->n; i++) {
        struct fs_rec R;
        if (!(F->has[i] & has) || fs_files_open(F, i, &R))
            continue;
        struct fs_proc pr;
        fs_proc_init(&pr);
        const char *line;
        while (!rc && (line = fs_rec_next(&R))) {
            if (line[0] == tag)
                rc = fn(C, st, line, &R, pr.pid);
            else if (line[0] == 'i')
                fs_proc_line(&pr, line);
        }
        fs_rec_close(&R);
    }
    sqlite3_finalize(st);
    return rc;
}

static int fs_resource_line(struct fs_ctx *C, sqlite3_stmt *st, const char *line, struct fs_rec *R, int pid)
{
    struct fs_resrec r;
    return fs_res_line(&r, line, &R->mt) ? fs_store_resource(C, st, &r, pid) : 0;
}

static int fs_store_resources(struct fs_ctx *C)
{
    return fs_store_tagged(C, FS_HAS_RES, FS_REC_RESOURCE,
        "INSERT INTO resource(run_id, pid, verdict, kind, func, module, module_path, offset, file, line,"
        " symbol, handle, size, fault_func, fault_module, fault_offset, fault_file, fault_line, reason)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)", fs_resource_line);
}

static int fs_store_anomaly(struct fs_ctx *C, sqlite3_stmt *st, const struct fs_anom *a, int pid)
{
    if ((strcmp(a->anomaly, "double-release") == 0 || strcmp(a->anomaly, "unknown-release") == 0) &&
        strcmp(a->kind, "fd") == 0 && fs_sweep_known(C->S, &a->at))
        return 0;                         /* a close-every-fd loop, not a double close */
    struct fs_where w, aw;
    fs_where(C->sym, &a->at, &w);
    fs_where(C->sym, &a->acq, &aw);
    char detail[2048];
    if (a->acq.valid)
        snprintf(detail, sizeof detail, "%s; acquired by %s at %s:%d (%s)", a->detail, a->acq_func,
                 aw.file[0] ? aw.file : a->acq.base, aw.line, aw.symbol[0] ? aw.symbol : "?");
    else
        snprintf(detail, sizeof detail, "%s", a->detail);
    uint64_t key = fs_seen_key("a", a->anomaly, a->kind, a->func, &a->at);
    int with = 0, known = fs_seen_find(&C->seen, key, &with);
    if (!known)
        with = C->fault.have && !fs_in_baseline(C, "anomaly", a->kind, &a->at);
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pid);
    fs_bind_text(st, 3, a->anomaly);
    fs_bind_text(st, 4, a->kind);
    fs_bind_text(st, 5, a->func);
    fs_bind_site(st, 6, &a->at, &w);
    fs_bind_text(st, 12, a->handle);
    fs_bind_text(st, 13, detail);
    fs_bind_fault(C, st, 14, with);
    if (fs_step_done(C, st))
        return -1;
    C->res->anomalies++;
    if (!known) {
        if (fs_finding(C, "anomaly", a->kind, a->anomaly, a->func, &a->at, &w, with))
            return -1;
        fs_seen_add(&C->seen, key, with);
    }
    return 0;
}

/* Pass 3: anomalies ('a'). */
static int fs_anomaly_line(struct fs_ctx *C, sqlite3_stmt *st, const char *line, struct fs_rec *R, int pid)
{
    struct fs_anom a;
    return fs_anom_line(&a, line, &R->mt) ? fs_store_anomaly(C, st, &a, pid) : 0;
}

static int fs_store_anomalies(struct fs_ctx *C)
{
    return fs_store_tagged(C, FS_HAS_ANOM, FS_REC_ANOMALY,
        "INSERT INTO anomaly(run_id, pid, anomaly, kind, func, module, module_path, offset, file, line,"
        " symbol, handle, detail, fault_func, fault_module, fault_offset, fault_file, fault_line)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)", fs_anomaly_line);
}

/* ---------------- sanitizer reports (sanitizer.c) ---------------- */

/* Did process pid write a sanitizer report that is a finding? */
static int fs_san_reported(const struct fs_ctx *C, int pid)
{
    for (int i = 0; i < C->nsan; i++)
        if (C->san[i].pid == pid && strcmp(C->san[i].tool, "lsan") != 0)
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
static int fs_insert_sanitizer_reports(struct fs_ctx *C)
{
    if (!C->nsan)
        return 0;
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO sanitizer_report(run_id, pid, tool, kind, headline, module, module_path, offset, file,"
        " line, symbol, report) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", C->err, C->errlen);
    if (!st)
        return -1;
    for (int i = 0; i < C->nsan; i++) {
        struct fs_san_report *r = &C->san[i];
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
        fs_bind_site(st, 6, &at, &w);
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


/* Did this image (its record's end lines in pr) exit with status 0 after a
 * crash its own handler caught (it recovered)? */
static int fs_recovered(const struct fs_proc *pr)
{
    return pr->done && !pr->sig && pr->code == 0 &&
           (!strcmp(pr->how, "exit") || !strcmp(pr->how, "_exit") || !strcmp(pr->how, "main"));
}

/* Has this run a crash row of process pid already? */
static int fs_crash_seen(struct fs_ctx *C, int pid)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(C->db, "SELECT 1 FROM crash WHERE run_id = ?1 AND pid = ?2 LIMIT 1", -1, &st, NULL)
        != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, C->res->run_id);
    sqlite3_bind_int(st, 2, pid);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int fs_store_crash(struct fs_ctx *C, const struct fs_crashrec *c, int pid)
{
    struct fs_where w;
    fs_where(C->sym, &c->at, &w);
    sqlite3_stmt *st = fs_db_prepare(C->db,
        "INSERT INTO crash(run_id, pid, signal, module, module_path, offset, file, line, symbol, stack)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", C->err, C->errlen);
    if (!st)
        return -1;
    fs_bind_int(st, 1, C->res->run_id);
    fs_bind_int(st, 2, pid);
    fs_bind_int(st, 3, c->sig);
    fs_bind_site(st, 4, &c->at, &w);
    fs_bind_text(st, 10, c->frames);
    int rc = fs_step_done(C, st);
    sqlite3_finalize(st);
    if (rc)
        return -1;
    if (fs_san_reported(C, pid))
        return 0;                         /* its sanitizer report is the finding */
    C->res->crashes++;
    char kind[32];
    snprintf(kind, sizeof kind, "SIG%s", sigabbrev_np(c->sig) ? sigabbrev_np(c->sig) : "?");
    return fs_finding(C, "crash", kind, NULL, w.symbol[0] ? w.symbol : NULL, &c->at, &w,
                      !(C->fault.have && fs_baseline_outcome(C, &c->at)));
}

/* Pass 4: crashes. Crash site: the first frame of the stack in the program's
 * own code. One crash per process: the first (a fault caught by the
 * program's handler, which then aborts, is that fault). A crash the
 * program's handler caught is one unless the process then exited 0. The
 * first FS_CRASH_KEEP crash lines of a record are read (the preload writes
 * one or two). */
#define FS_CRASH_KEEP 8
static int fs_store_crashes(struct fs_ctx *C)
{
    const struct fs_files *F = C->F;
    struct fs_crashrec *cs = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && i < F->n; i++) {
        struct fs_rec R;
        if (!(F->has[i] & FS_HAS_CRASH))
            continue;
        if (!cs && !(cs = malloc(FS_CRASH_KEEP * sizeof *cs))) {
            snprintf(C->err, C->errlen, "out of memory reading the crash records");
            return -1;
        }
        if (fs_files_open(F, i, &R))
            continue;
        struct fs_proc pr;
        fs_proc_init(&pr);
        int nc = 0;
        const char *line;
        while ((line = fs_rec_next(&R))) {
            if (line[0] == FS_REC_CRASH || line[0] == FS_REC_CRASH_CAUGHT) {
                if (nc < FS_CRASH_KEEP && fs_crash_line(&cs[nc], line, &R.mt))
                    nc++;
            } else {
                fs_proc_line(&pr, line);
            }
        }
        fs_rec_close(&R);
        for (int k = 0; !rc && k < nc; k++) {
            if ((cs[k].caught && fs_recovered(&pr)) || fs_crash_seen(C, pr.pid))
                continue;
            rc = fs_store_crash(C, &cs[k], pr.pid);
        }
    }
    free(cs);
    return rc;
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


int fs_ingest_run(sqlite3 *db, const struct fs_run_info *info, struct fs_run_result *res,
                  char *err, size_t errlen)
{
    struct fs_ctx C;
    struct fs_files F;
    struct fs_survey S;
    memset(&C, 0, sizeof C);
    memset(res, 0, sizeof *res);
    C.db = db; C.info = info; C.res = res; C.err = err; C.errlen = errlen;
    fs_shell_join(C.command, sizeof C.command, info->argv);
    int rc = -1, nested = 0;

    if (fs_files_list(&F, info->run_dir, err, errlen))
        return -1;
    fs_survey_files(&F, &S);
    if (S.oom) {
        snprintf(err, errlen, "out of memory reading the %d process records of %s", S.processes, info->run_dir);
        goto out;
    }
    C.F = &F;
    C.S = &S;
    res->incomplete = S.incomplete;
    res->unread = S.unread;
    res->version_bad = S.version_bad;
    if (S.version_bad)
        fprintf(stderr, "faultstack: the run's records are in format %d, this faultstack reads format %d: the "
                "preload comes from another faultstack version (FAULTSTACK_PRELOAD?); use the preload built or "
                "installed with this faultstack. The run is not fully recorded.\n", S.version_bad, FS_RECORD_VERSION);
    res->processes = S.processes;
    res->points_total = fs_read_shared(info->run_dir, &res->injected);
    if (S.pids.n) {
        int n = fs_sanitizer_reports(info->run_dir, S.pids.p, S.pids.n, &C.san);
        C.nsan = n > 0 ? n : 0;
    }

    unsetenv("DEBUGINFOD_URLS");             /* symbolize offline */
    C.sym = info->sym ? info->sym : fs_sym_new();
    /* The fault: the first injected point; with then=, the second one (the
     * error path's own failure), the first one kept for the repro. */
    struct fs_point *first = S.have_first ? &S.first : NULL, second_pt, *second = NULL;
    if (first && info->plan && info->plan->then &&
        fs_find_injected(&F, first->ordinal + (int64_t)info->plan->then, &second_pt))
        second = &second_pt;
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
    nested = !sqlite3_get_autocommit(db);
    if (fs_db_exec(db, nested ? "SAVEPOINT fs_ingest" : "BEGIN IMMEDIATE", err, errlen)) {
        res->db_error = sqlite3_errcode(db);
        goto out;
    }
    time_t now = time(NULL);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sqlite3_stmt *st = fs_db_prepare(db,
        "INSERT INTO run(session_id, command, fault_spec, mode, exit_code, signal, timed_out, duration_ms,"
        " points_total, injected, swallowed, started_at, sweep_key, confirms, observed, note)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
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
    /* a record line that could not be read: the run is not fully recorded */
    char note[160] = "";
    if (S.unread)
        snprintf(note, sizeof note, "%lld record line%s longer than %d bytes could not be read",
                 (long long)S.unread, S.unread == 1 ? "" : "s", FS_REC_LINE_MAX - 1);
    fs_bind_int(st, 15, S.unread ? 2 : 1);
    fs_bind_text(st, 16, note[0] ? note : NULL);
    if (fs_step_done(&C, st)) {
        sqlite3_finalize(st);
        goto rollback;
    }
    sqlite3_finalize(st);
    res->run_id = sqlite3_last_insert_rowid(db);

    res->memcheck_files = -1;
    if (fs_store_points(&C) || fs_store_resources(&C) || fs_store_anomalies(&C) ||
        fs_insert_sanitizer_reports(&C) || fs_store_crashes(&C) ||
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
    free(C.seen.v);
    fs_sanitizer_free(C.san, C.nsan);
    free(S.pids.p);
    free(S.sweeps.p);
    fs_files_free(&F);
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
    struct fs_files F;
    if (fs_files_list(&F, run_dir, err, errlen))
        return -1;
    struct fs_symbolizer *sym = fs_sym_new();
    struct fs_seen done = { NULL, 0, 0 };
    sqlite3_stmt *st = NULL;
    int updated = 0;
    if (sqlite3_prepare_v2(db, "UPDATE resource SET stack = ?1 WHERE run_id = ?2 AND verdict = 'leak' AND "
                               "kind = ?3 AND module = ?4 AND offset = ?5 AND stack IS NULL", -1, &st, NULL)
        != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        updated = -1;
        goto out;
    }
    for (size_t i = 0; i < F.n; i++) {
        struct fs_rec R;
        if (fs_files_open(&F, i, &R))
            continue;
        const char *line;
        while ((line = fs_rec_next(&R))) {
            struct fs_resrec r;
            const char *sp;
            int dummy;
            if (line[0] != FS_REC_RESOURCE || !(sp = fs_res_stack(line)) || !fs_res_line(&r, line, &R.mt) ||
                !r.at.valid)
                continue;
            /* the first stack of a site fills every leak of the site (stack IS
             * NULL): one UPDATE per site, not per block */
            uint64_t key = fs_seen_key("s", r.kind, NULL, NULL, &r.at);
            if (fs_seen_find(&done, key, &dummy))
                continue;
            fs_seen_add(&done, key, 0);
            /* the acquire stack "MOD:OFF,...", one 'symbol file:line' line per frame */
            char text[8192] = "";
            const char *p = sp;
            while (*p) {
                long fm = strtol(p, (char **)&p, 10);
                if (*p != ':')
                    break;
                unsigned long long fo = strtoull(p + 1, (char **)&p, 16);
                if (fm > 0 && fm < FS_MAXMOD && R.mt.path[fm]) {
                    const char *path = R.mt.path[fm];
                    struct fs_sym_result sr;
                    fs_sym_lookup(sym, path, fo, &sr);
                    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
                    char one[1400];
                    if (sr.file[0])
                        snprintf(one, sizeof one, "%s %s:%d\n", sr.func[0] ? sr.func : "?", sr.file, sr.line);
                    else
                        snprintf(one, sizeof one, "%s %s+0x%llx\n", sr.func[0] ? sr.func : "?", base, fo);
                    strncat(text, one, sizeof text - strlen(text) - 1);
                }
                if (*p == ',')
                    p++;
            }
            sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, run_id);
            sqlite3_bind_text(st, 3, r.kind, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, r.at.base, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 5, (int64_t)r.at.off);
            if (sqlite3_step(st) == SQLITE_DONE)
                updated += sqlite3_changes(db);
            sqlite3_reset(st);
        }
        fs_rec_close(&R);
    }
out:
    sqlite3_finalize(st);
    fs_sym_free(sym);
    free(done.v);
    fs_files_free(&F);
    return updated;
}
