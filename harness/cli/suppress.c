/* suppress.c — reading suppression files and matching findings against them
 * (suppress.h; the format: docs/suppressions.md).
 *
 * Two forms, as valgrind and LeakSanitizer have them:
 *   {                          a block: name, what it accepts, conditions
 *      NAME                    (KEY: GLOB, all must hold) and frame patterns
 *      CATEGORY[:KIND]         (fun:/obj:/src:GLOB, '...' for any frames)
 *      KEY: GLOB               matched from the innermost frame of the site
 *      fun:GLOB
 *   }
 *   CATEGORY:PATTERN           one line: PATTERN anywhere in the stack (function,
 *                              module or source file; a substring unless ^/$ anchor it)
 * Every error names the file and line and what was expected there. */
#define _GNU_SOURCE
#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FS_K_FUNCTION, FS_K_CALL, FS_K_MODULE, FS_K_FILE, FS_K_LINE, FS_K_FAULT, FS_K_FAULT_FILE, FS_K_FAULT_CALLER,
       FS_K_N };
static const char *const fs_key_names[FS_K_N] = {
    "function", "call", "module", "file", "line", "fault", "fault-file", "fault-caller"
};

/* what a rule accepts: these categories, the anomalies (category 'anomaly'
 * with that anomaly), driver-gave-up (a crash of that kind) and '*' */
static const char *const fs_categories[] = { "leak", "anomaly", "crash", "timeout", "memcheck", "driver-gave-up", "*",
                                             NULL };
static const char *const fs_anomalies[] = { "double-release", "unknown-release", "mismatched-release",
                                            "non-owner-unlock", "relock", NULL };

struct fs_supp_pat { char type; char *glob; int64_t line; };   /* type: f(un) o(bj) s(rc) .(..) */

struct fs_supp_rule {
    char *name;
    char *category;            /* one of fs_categories, or "anomaly" with anomaly set */
    char *anomaly;
    char *kind;                /* glob, or NULL: any */
    char *key[FS_K_N];         /* globs, or NULL */
    int64_t line;              /* key 'line', 0: any */
    struct fs_supp_pat *pats;
    size_t npats;
    char *lsan;                /* a one-line rule: its pattern as a glob */
};

int fs_supp_glob(const char *pattern, const char *s)
{
    return pattern && s && fnmatch(pattern, s, 0) == 0;
}

static const char *fs_base(const char *p)
{
    const char *sl = p ? strrchr(p, '/') : NULL;
    return sl ? sl + 1 : p;
}

/* A path-like value: the glob matches the whole of it or its basename. */
static int fs_glob_path(const char *pattern, const char *s)
{
    return s && (fs_supp_glob(pattern, s) || fs_supp_glob(pattern, fs_base(s)));
}

static void fs_rule_free(struct fs_supp_rule *r)
{
    free(r->name); free(r->category); free(r->anomaly); free(r->kind); free(r->lsan);
    for (int k = 0; k < FS_K_N; k++)
        free(r->key[k]);
    for (size_t i = 0; i < r->npats; i++)
        free(r->pats[i].glob);
    free(r->pats);
    memset(r, 0, sizeof *r);
}

void fs_supp_free(struct fs_supps *S)
{
    for (size_t i = 0; i < S->n; i++)
        fs_rule_free(&S->v[i]);
    free(S->v);
    memset(S, 0, sizeof *S);
}

static char *fs_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int fs_in(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return 1;
    return 0;
}

/* "leak", "crash:SIG*", "double-release:fd" -> r->category/anomaly/kind. 0 or -1. */
static int fs_set_what(struct fs_supp_rule *r, const char *what)
{
    const char *colon = strchr(what, ':');
    char cat[64];
    size_t cl = colon ? (size_t)(colon - what) : strlen(what);
    if (cl == 0 || cl >= sizeof cat)
        return -1;
    memcpy(cat, what, cl);
    cat[cl] = '\0';
    if (fs_in(fs_anomalies, cat)) {
        r->category = strdup("anomaly");
        r->anomaly = strdup(cat);
    } else if (fs_in(fs_categories, cat)) {
        r->category = strdup(cat);
    } else {
        return -1;
    }
    if (colon) {
        if (!colon[1])
            return -1;
        r->kind = strdup(colon + 1);
    }
    return 0;
}

static int fs_add_pat(struct fs_supp_rule *r, char type, const char *glob)
{
    struct fs_supp_pat *np = realloc(r->pats, (r->npats + 1) * sizeof *np);
    if (!np)
        return -1;
    r->pats = np;
    struct fs_supp_pat *p = &r->pats[r->npats++];
    p->type = type;
    p->line = 0;
    p->glob = glob ? strdup(glob) : NULL;
    if (type == 's' && p->glob) {            /* src:FILE:LINE */
        char *c = strrchr(p->glob, ':'), *end = NULL;
        if (c && c[1]) {
            long long l = strtoll(c + 1, &end, 10);
            if (!*end && l > 0) {
                p->line = l;
                *c = '\0';
            }
        }
    }
    return 0;
}

/* LeakSanitizer's pattern: a substring unless '^' or '$' anchors it. */
static char *fs_lsan_glob(const char *pat)
{
    size_t n = strlen(pat);
    char *g = malloc(n + 3), *w = g;
    if (!g)
        return NULL;
    int head = pat[0] == '^', tail = n > (size_t)head && pat[n - 1] == '$';
    if (!head)
        *w++ = '*';
    memcpy(w, pat + head, n - head - tail);
    w += n - head - tail;
    if (!tail)
        *w++ = '*';
    *w = '\0';
    return g;
}

int fs_supp_load(struct fs_supps *S, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read suppressions file '%s': %s; give a readable file", path, strerror(errno));
        return -1;
    }
    enum { OUT, NAME, WHAT, BODY } state = OUT;
    struct fs_supp_rule r;
    memset(&r, 0, sizeof r);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, opened = 0;
    int rc = -1;
    const char *expected = NULL;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        char *s = fs_trim(line);
        if (!*s || *s == '#')
            continue;
        switch (state) {
        case OUT:
            if (!strcmp(s, "{")) {
                state = NAME;
                opened = lineno;
                continue;
            }
            {
                char *colon = strchr(s, ':');
                if (colon && colon != s && colon[1]) {
                    *colon = '\0';
                    char *type = fs_trim(s), *pat = fs_trim(colon + 1);
                    if (strcmp(type, "*") && (fs_in(fs_categories, type) || fs_in(fs_anomalies, type)) && *pat) {
                        fs_set_what(&r, type);
                        char nm[64];
                        snprintf(nm, sizeof nm, "%s:%ld", fs_base(path), lineno);
                        r.name = strdup(nm);
                        r.lsan = fs_lsan_glob(pat);
                        goto add;
                    }
                }
            }
            expected = "'{' opening a rule, or a one-line rule TYPE:PATTERN such as leak:libfoo.so "
                       "(TYPE: leak, anomaly, crash, timeout, memcheck, driver-gave-up or an anomaly's name)";
            goto bad;
        case NAME:
            if (!strcmp(s, "{") || !strcmp(s, "}")) {
                expected = "the rule's name on the line after '{'";
                goto bad;
            }
            r.name = strdup(s);
            state = WHAT;
            continue;
        case WHAT:
            if (fs_set_what(&r, s) != 0) {
                expected = "what the rule accepts, CATEGORY[:KIND]: leak, anomaly, crash, timeout, memcheck, "
                           "driver-gave-up, an anomaly (double-release, unknown-release, mismatched-release, "
                           "non-owner-unlock, relock) or *; e.g. leak:memory, crash:SIGSEGV";
                goto bad;
            }
            state = BODY;
            continue;
        case BODY:
            if (!strcmp(s, "}"))
                goto add;
            if (!strcmp(s, "...")) {
                if (fs_add_pat(&r, '.', NULL) != 0) goto oom;
                continue;
            }
            if (!strncmp(s, "fun:", 4) || !strncmp(s, "obj:", 4) || !strncmp(s, "src:", 4)) {
                char *g = fs_trim(s + 4);
                if (!*g) {
                    expected = "a pattern after fun:, obj: or src: (e.g. fun:json_object_new_*)";
                    goto bad;
                }
                if (fs_add_pat(&r, s[0] == 'f' ? 'f' : s[0] == 'o' ? 'o' : 's', g) != 0) goto oom;
                continue;
            }
            {
                char *colon = strchr(s, ':');
                int k = FS_K_N;
                if (colon) {
                    *colon = '\0';
                    char *key = fs_trim(s);
                    for (k = 0; k < FS_K_N; k++)
                        if (!strcmp(key, fs_key_names[k]))
                            break;
                }
                if (k == FS_K_N) {
                    expected = "KEY: PATTERN (keys: function, call, module, file, line, fault, fault-file, "
                               "fault-caller), a frame pattern (fun:, obj:, src:, or ... for any frames) or '}'";
                    goto bad;
                }
                char *val = fs_trim(colon + 1);
                if (!*val || r.key[k]) {
                    expected = !*val ? "a pattern after the key (e.g. module: libjson-c.so*)"
                                     : "each key at most once in a rule";
                    goto bad;
                }
                if (k == FS_K_LINE) {
                    char *end = NULL;
                    long long l = strtoll(val, &end, 10);
                    if (*end || l <= 0) {
                        expected = "a line number after 'line:'";
                        goto bad;
                    }
                    r.line = l;
                }
                r.key[k] = strdup(val);
                if (!r.key[k]) goto oom;
            }
            continue;
        }
        continue;
    add:
        if (S->n == S->cap) {
            size_t nc = S->cap ? S->cap * 2 : 16;
            struct fs_supp_rule *nv = realloc(S->v, nc * sizeof *nv);
            if (!nv) goto oom;
            S->v = nv;
            S->cap = nc;
        }
        S->v[S->n++] = r;
        memset(&r, 0, sizeof r);
        state = OUT;
    }
    if (state != OUT) {
        snprintf(err, errlen, "%s:%ld: expected '}' closing the rule opened at line %ld", path, lineno, opened);
        goto out;
    }
    rc = 0;
    goto out;
bad:
    snprintf(err, errlen, "%s:%ld: expected %s", path, lineno, expected);
    goto out;
oom:
    snprintf(err, errlen, "%s:%ld: out of memory", path, lineno);
out:
    fs_rule_free(&r);
    free(line);
    fclose(f);
    return rc;
}

static int fs_frame_match(const struct fs_supp_pat *p, const struct fs_supp_frame *fr)
{
    switch (p->type) {
    case 'f': return fs_supp_glob(p->glob, fr->fun);
    case 'o': return fs_glob_path(p->glob, fr->obj);
    case 's': return fs_glob_path(p->glob, fr->src) && (!p->line || p->line == fr->line);
    }
    return 0;
}

/* valgrind's rule: the patterns match the stack from its innermost frame, '...'
 * any number of frames (none too); frames past the last pattern do not matter. */
static int fs_frames_match(const struct fs_supp_pat *p, size_t np, const struct fs_supp_frame *fr, size_t nf)
{
    if (!np)
        return 1;
    if (p->type == '.') {
        for (size_t k = 0; k <= nf; k++)
            if (fs_frames_match(p + 1, np - 1, fr + k, nf - k))
                return 1;
        return 0;
    }
    return nf && fs_frame_match(p, fr) && fs_frames_match(p + 1, np - 1, fr + 1, nf - 1);
}

static int fs_callers_match(const char *glob, const char *callers)
{
    if (!callers)
        return 0;
    const char *p = callers;
    while (*p) {
        size_t n = strcspn(p, "\n");
        char one[2048], sym[1024];
        snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one - 1 ? n : sizeof one - 1), p);
        snprintf(sym, sizeof sym, "%.*s", (int)strcspn(one, " "), one);
        if (fs_supp_glob(glob, one) || fs_supp_glob(glob, sym))
            return 1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

static int fs_rule_match(const struct fs_supp_rule *r, const struct fs_supp_finding *f)
{
    const char *cat = r->category;
    if (!strcmp(cat, "driver-gave-up")) {
        if (!f->gave_up)
            return 0;
    } else if (strcmp(cat, "*") && (!f->category || strcmp(cat, f->category))) {
        return 0;
    }
    if (r->anomaly && (!f->anomaly || strcmp(r->anomaly, f->anomaly)))
        return 0;
    if (r->kind && !fs_supp_glob(r->kind, f->kind))
        return 0;
    if (r->lsan) {                          /* one-line rule: anywhere in the stack */
        for (size_t i = 0; i < f->nframes; i++) {
            const struct fs_supp_frame *fr = &f->frames[i];
            if (fs_supp_glob(r->lsan, fr->fun) || fs_glob_path(r->lsan, fr->obj) || fs_glob_path(r->lsan, fr->src))
                return 1;
        }
        return 0;
    }
    if (r->key[FS_K_FUNCTION] && !fs_supp_glob(r->key[FS_K_FUNCTION], f->function))
        return 0;
    if (r->key[FS_K_CALL] && !fs_supp_glob(r->key[FS_K_CALL], f->call))
        return 0;
    if (r->key[FS_K_MODULE] && !fs_glob_path(r->key[FS_K_MODULE], f->module))
        return 0;
    if (r->key[FS_K_FILE] && !fs_glob_path(r->key[FS_K_FILE], f->file))
        return 0;
    if (r->line && r->line != f->line)
        return 0;
    if (r->key[FS_K_FAULT]) {
        if (!strcmp(r->key[FS_K_FAULT], "none") ? f->fault_func != NULL : !fs_supp_glob(r->key[FS_K_FAULT], f->fault_func))
            return 0;
    }
    if (r->key[FS_K_FAULT_FILE] && !fs_glob_path(r->key[FS_K_FAULT_FILE], f->fault_file))
        return 0;
    if (r->key[FS_K_FAULT_CALLER] && !fs_callers_match(r->key[FS_K_FAULT_CALLER], f->fault_callers))
        return 0;
    return fs_frames_match(r->pats, r->npats, f->frames, f->nframes);
}

const char *fs_supp_match(const struct fs_supps *S, const struct fs_supp_finding *f)
{
    for (size_t i = 0; S && i < S->n; i++)
        if (fs_rule_match(&S->v[i], f))
            return S->v[i].name;
    return NULL;
}
