/* spec.c — the protocol spec parser (format: docs/protocol-spec.md).
 *
 * Line oriented: a directive per line, '#' starts a comment. Function lines
 * ("acquire PROTOTYPE") open a function; the attribute lines after it
 * (handle, fail, ok, reentrant, still-releases, fault...) belong to it.
 * Every error names the file, line and column and what was expected there. */
#define _GNU_SOURCE
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

struct fs_p {
    const char *path;
    struct fs_spec *s;
    int builtin;
    int line;
    const char *lp;             /* start of the current line */
    const char *p;              /* cursor */
    int kind;                   /* current kind (-1: none yet / "kind none") */
    struct fs_spec_func *fn;    /* current function */
    int fn_set_handle, fn_set_fail, fn_set_ok, fn_set_rel;
    char *err;
    size_t errlen;
    int capk, capf;
    int seen_directive;
};

/* "PATH:LINE:COL: " then the message; returns -1 (the callers' error). */
static int fs_verr(struct fs_p *P, int line, int col, const char *fmt, va_list ap)
{
    int n = snprintf(P->err, P->errlen, "%s:%d:%d: ", P->path, line, col);
    if (n >= 0 && (size_t)n < P->errlen)
        vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
    return -1;
}

/* An error at `at` in the current line (NULL: its first column). */
static int fs_perr(struct fs_p *P, const char *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fs_verr(P, P->line, at ? (int)(at - P->lp) + 1 : 1, fmt, ap);
    va_end(ap);
    return -1;
}

/* An error about a whole function: at its keyword's line and column. */
static int fs_ferr(struct fs_p *P, const struct fs_spec_func *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fs_verr(P, f->line, f->col, fmt, ap);
    va_end(ap);
    return -1;
}

static void fs_skip_ws(struct fs_p *P)
{
    while (*P->p == ' ' || *P->p == '\t' || *P->p == '\r')
        P->p++;
}

static int fs_at_eol(struct fs_p *P)
{
    fs_skip_ws(P);
    return *P->p == '\0' || *P->p == '\n' || *P->p == '#';
}

/* A word: [A-Za-z0-9_.+-]+ (names, numbers, sonames). */
static int fs_word(struct fs_p *P, char *out, size_t cap)
{
    fs_skip_ws(P);
    size_t n = 0;
    const char *q = P->p;
    while (*q && !isspace((unsigned char)*q) && *q != '#') {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *q++;
    }
    out[n] = '\0';
    if (!n)
        return 0;
    P->p = q;
    return 1;
}

static int fs_ident_ok(const char *s, size_t max)
{
    if (!s[0] || strlen(s) >= max || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (const char *q = s; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_')
            return 0;
    return 1;
}

static int fs_expect_eol(struct fs_p *P, const char *what)
{
    if (!fs_at_eol(P))
        return fs_perr(P, P->p, "expected end of line after %s, found '%.20s'", what, P->p);
    return 0;
}

static int fs_int_arg(struct fs_p *P, const char *what, int *out)
{
    char w[32];
    const char *at = (fs_skip_ws(P), P->p);
    if (fs_word(P, w, sizeof w) != 1)
        return fs_perr(P, at, "expected %s (a number)", what);
    char *e;
    long v = strtol(w, &e, 10);
    if (*e || v < 1 || v > FS_SPEC_MAX_PARAMS)
        return fs_perr(P, at, "expected %s (1..%d), found '%s'", what, FS_SPEC_MAX_PARAMS, w);
    *out = (int)v;
    return 0;
}

/* ---------------- C prototypes ---------------- */

static const char *const fs_c_words[] = {
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool",
    "const", "volatile", "restrict", "__restrict", "struct", "union", "enum",
    "size_t", "ssize_t", "off_t", "off64_t", "pid_t", "uid_t", "gid_t", "mode_t", "socklen_t",
    "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
    "intptr_t", "uintptr_t", "ptrdiff_t", "time_t", "wchar_t", NULL
};

static int fs_c_known(const char *w, size_t n)
{
    for (int i = 0; fs_c_words[i]; i++)
        if (strlen(fs_c_words[i]) == n && strncmp(fs_c_words[i], w, n) == 0)
            return 1;
    return 0;
}

static int fs_c_keyword_type(const char *w)
{
    static const char *const k[] = { "void", "char", "short", "int", "long", "float", "double",
                                     "signed", "unsigned", "const", "volatile", "restrict",
                                     "struct", "union", "enum", "_Bool", NULL };
    for (int i = 0; k[i]; i++)
        if (strcmp(k[i], w) == 0)
            return 1;
    return 0;
}

static void fs_trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

/* The declaration as generated code writes it without the user's header:
 * identifiers that are not C's own types (or a struct/union/enum tag)
 * become void, which only works behind a pointer (same ABI). Returns 0, or
 * -1 with *bad = the offending identifier's offset when a by-value unknown
 * type remains. */
static int fs_c_opaque(const char *decl, const char *skip_name, char *out, size_t cap, int *bad)
{
    size_t o = 0;
    int pointer = strchr(decl, '*') || strchr(decl, '[');
    int after_tag = 0;
    for (const char *q = decl; *q;) {
        if (isalpha((unsigned char)*q) || *q == '_') {
            const char *s = q;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            size_t n = (size_t)(q - s);
            int is_name = skip_name && strlen(skip_name) == n && strncmp(s, skip_name, n) == 0;
            const char *rep = s;
            size_t rn = n;
            if (!after_tag && !is_name && !fs_c_known(s, n)) {
                if (!pointer) {
                    *bad = (int)(s - decl);
                    return -1;
                }
                rep = "void";
                rn = 4;
            }
            after_tag = (n == 6 && (!strncmp(s, "struct", 6))) || (n == 5 && !strncmp(s, "union", 5)) ||
                        (n == 4 && !strncmp(s, "enum", 4));
            if (o + rn + 1 >= cap)
                return -1;
            memcpy(out + o, rep, rn);
            o += rn;
        } else {
            if (o + 2 >= cap)
                return -1;
            out[o++] = *q++;
        }
    }
    out[o] = '\0';
    return 0;
}

static int fs_parse_param(struct fs_p *P, const char *at, const char *text, size_t len,
                          struct fs_spec_param *pa, int has_header)
{
    if (len >= sizeof pa->decl)
        return fs_perr(P, at, "expected a shorter parameter declaration");
    memcpy(pa->decl, text, len);
    pa->decl[len] = '\0';
    fs_trim(pa->decl);
    char work[192];
    strcpy(work, pa->decl);
    const char *fp = strstr(work, "(*");
    char *name_at = NULL;
    size_t name_len = 0;
    if (fp) {                                  /* function pointer: int (*cb)(void *) */
        const char *q = fp + 2;
        while (*q == ' ') q++;
        const char *s = q;
        while (isalnum((unsigned char)*q) || *q == '_') q++;
        name_at = (char *)s;
        name_len = (size_t)(q - s);
        pa->pointer = 1;
    } else {
        size_t n = strlen(work);
        while (n && work[n - 1] == ']') {        /* int fds[2] */
            char *lb = strrchr(work, '[');
            if (!lb)
                break;
            *lb = '\0';
            n = strlen(work);
            while (n && isspace((unsigned char)work[n - 1]))
                work[--n] = '\0';
            pa->pointer = 1;
        }
        size_t e = n;
        while (e && (isalnum((unsigned char)work[e - 1]) || work[e - 1] == '_'))
            e--;
        name_at = work + e;
        name_len = n - e;
        if (strchr(work, '*'))
            pa->pointer = 1;
        /* "int" or "const char *" alone: no name */
        char before[192];
        memcpy(before, work, e);
        before[e] = '\0';
        fs_trim(before);
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)name_len, name_at);
        if (!before[0] || fs_c_keyword_type(nm) || !strcmp(before, "struct") || !strcmp(before, "union") ||
            !strcmp(before, "enum"))
            name_len = 0;
    }
    if (!name_len || name_len >= sizeof pa->name)
        return fs_perr(P, at, "expected a parameter name in '%s' (the generated wrapper forwards it)", pa->decl);
    memcpy(pa->name, name_at, name_len);
    pa->name[name_len] = '\0';
    if (has_header || P->builtin) {
        strcpy(pa->gen_decl, pa->decl);
        return 0;
    }
    int bad = 0;
    if (fs_c_opaque(pa->decl, pa->name, pa->gen_decl, sizeof pa->gen_decl, &bad) != 0)
        return fs_perr(P, at + bad, "expected a C type or a pointer in '%s' (a type passed by value "
                       "needs its definition: add `header \"yourlib.h\"`)", pa->decl);
    return 0;
}

static int fs_parse_prototype(struct fs_p *P, struct fs_spec_func *f)
{
    fs_skip_ws(P);
    const char *start = P->p;
    const char *end = start;
    while (*end && *end != '\n' && *end != '#')
        end++;
    const char *lp = strchr(start, '(');
    if (!lp || lp >= end)
        return fs_perr(P, start, "expected a C prototype: RETURN-TYPE NAME(PARAMETERS)");
    const char *ne = lp;
    while (ne > start && isspace((unsigned char)ne[-1]))
        ne--;
    const char *ns = ne;
    while (ns > start && (isalnum((unsigned char)ns[-1]) || ns[-1] == '_'))
        ns--;
    if (ns == ne || (size_t)(ne - ns) >= sizeof f->name || isdigit((unsigned char)*ns))
        return fs_perr(P, ns, "expected the function's name before '('");
    memcpy(f->name, ns, (size_t)(ne - ns));
    f->name[ne - ns] = '\0';
    if ((size_t)(ns - start) >= sizeof f->ret)
        return fs_perr(P, start, "expected a shorter return type");
    memcpy(f->ret, start, (size_t)(ns - start));
    f->ret[ns - start] = '\0';
    fs_trim(f->ret);
    if (!f->ret[0])
        return fs_perr(P, start, "expected a return type before '%s'", f->name);
    f->ret_void = strcmp(f->ret, "void") == 0;
    f->ret_pointer = strchr(f->ret, '*') != NULL;
    int has_header = P->s->nheaders > 0;
    if (has_header || P->builtin) {
        strcpy(f->gen_ret, f->ret);
    } else {
        int bad = 0;
        if (fs_c_opaque(f->ret, NULL, f->gen_ret, sizeof f->gen_ret, &bad) != 0)
            return fs_perr(P, start + bad, "expected a C type or a pointer as the return type '%s' "
                           "(a type returned by value needs its definition: add `header \"yourlib.h\"`)", f->ret);
    }
    /* parameters: split at depth-0 commas */
    const char *q = lp + 1;
    int depth = 0;
    const char *ps = q;
    int closed = 0;
    for (; q < end; q++) {
        if (*q == '(') depth++;
        else if (*q == ')') {
            if (depth == 0) { closed = 1; break; }
            depth--;
        }
        if ((*q == ',' && depth == 0)) {
            if (f->nparams >= FS_SPEC_MAX_PARAMS)
                return fs_perr(P, q, "expected at most %d parameters", FS_SPEC_MAX_PARAMS);
            if (fs_parse_param(P, ps, ps, (size_t)(q - ps), &f->params[f->nparams], has_header) != 0)
                return -1;
            f->nparams++;
            ps = q + 1;
        }
    }
    if (!closed)
        return fs_perr(P, q, "expected ')' closing the parameters of %s", f->name);
    char last[192];
    size_t ll = (size_t)(q - ps);
    if (ll >= sizeof last)
        return fs_perr(P, ps, "expected a shorter parameter declaration");
    memcpy(last, ps, ll);
    last[ll] = '\0';
    fs_trim(last);
    if (strcmp(last, "...") == 0) {
        f->variadic = 1;
    } else if ((strcmp(last, "void") == 0 || !last[0]) && f->nparams == 0) {
        /* no parameters */
    } else {
        if (f->nparams >= FS_SPEC_MAX_PARAMS)
            return fs_perr(P, ps, "expected at most %d parameters", FS_SPEC_MAX_PARAMS);
        if (fs_parse_param(P, ps, ps, ll, &f->params[f->nparams], has_header) != 0)
            return -1;
        f->nparams++;
    }
    q++;
    P->p = q;
    fs_skip_ws(P);
    if (*P->p == ';')
        P->p++;
    return fs_expect_eol(P, "the prototype");
}

/* ---------------- directives ---------------- */

int fs_spec_kind_builtin(const char *name)
{
    static const char *const b[] = { "none", "fd", "file", "dir", "memory", "mmap", "lock", NULL };
    for (int i = 0; b[i]; i++)
        if (strcmp(b[i], name) == 0)
            return 1;
    return 0;
}

const char *fs_spec_role_name(enum fs_spec_role r)
{
    switch (r) {
    case FS_SPEC_ACQUIRE: return "acquire";
    case FS_SPEC_RELEASE: return "release";
    case FS_SPEC_USE: return "use";
    case FS_SPEC_TRANSFER: return "transfer";
    }
    return "?";
}

static int fs_is_number(const char *s, long *v)
{
    char *e;
    errno = 0;
    long x = strtol(s, &e, 0);
    if (e == s || *e || errno)
        return 0;
    if (v)
        *v = x;
    return 1;
}

/* Finish the current function: defaults and checks. */
static int fs_finish_func(struct fs_p *P)
{
    struct fs_spec_func *f = P->fn;
    if (!f)
        return 0;
    P->fn = NULL;
#define FERR(...) fs_ferr(P, f, __VA_ARGS__)
    if (f->variadic && !f->custom[0]) {
        return FERR("expected a function with a fixed parameter list: %s is variadic and cannot be "
                    "forwarded by a generated wrapper", f->name);
    }
    if (!P->fn_set_handle) {
        if (f->role == FS_SPEC_ACQUIRE && !f->ret_void)
            f->handle = FS_SPEC_H_RETURN;
        else if ((f->role == FS_SPEC_RELEASE || f->role == FS_SPEC_USE) && f->nparams >= 1 && f->kind >= 0)
            f->handle = FS_SPEC_H_ARG, f->handle_arg = 1;
    }
    if (f->kind >= 0 && f->role != FS_SPEC_TRANSFER && f->handle == FS_SPEC_H_NONE && !f->custom[0])
        return FERR("expected a `handle` line for %s (return, out N or arg N): an %s of kind %s needs one",
                    f->name, fs_spec_role_name(f->role), P->s->kinds[f->kind].name);
    if (f->kind < 0 && (f->role == FS_SPEC_ACQUIRE || f->role == FS_SPEC_RELEASE))
        return FERR("expected %s inside a `kind NAME` block: only use steps may have no kind", f->name);
    if (f->handle == FS_SPEC_H_RETURN && f->ret_void)
        return FERR("expected `handle out N` or `handle arg N` for %s: it returns void", f->name);
    if ((f->handle == FS_SPEC_H_OUT || f->handle == FS_SPEC_H_ARG) && f->handle_arg > f->nparams)
        return FERR("expected `handle %s N` with N at most %d (the parameters of %s)",
                    f->handle == FS_SPEC_H_OUT ? "out" : "arg", f->nparams, f->name);
    if (f->handle == FS_SPEC_H_OUT && !f->params[f->handle_arg - 1].pointer)
        return FERR("expected a pointer as argument %d of %s (`handle out %d`: the handle is written through it)",
                    f->handle_arg, f->name, f->handle_arg);
    if (f->scope_arg && (f->scope_arg > f->nparams || f->scope_arg == f->handle_arg))
        return FERR("expected `scope N` naming another parameter of %s (1..%d)", f->name, f->nparams);
    if (!P->fn_set_fail) {
        if (f->ret_void) {
            f->can_fail = 0;
        } else {
            f->can_fail = 1;
            strcpy(f->fail_value, f->ret_pointer ? "NULL" : "-1");
        }
    }
    if (f->can_fail && f->ret_void)
        return FERR("expected `fail never` for %s: a void function has no failure to return", f->name);
    if (!P->fn_set_ok) {
        long v = 0;
        if (!f->can_fail)
            f->ok = FS_SPEC_OK_ALWAYS;
        else if (f->returns_error)
            f->ok = FS_SPEC_OK_EQ, strcpy(f->ok_value, "0");
        else if (!strcmp(f->fail_value, "NULL"))
            f->ok = FS_SPEC_OK_NE, strcpy(f->ok_value, "NULL");
        else if (fs_is_number(f->fail_value, &v) && v < 0)
            f->ok = FS_SPEC_OK_GE, strcpy(f->ok_value, "0");
        else if (fs_is_number(f->fail_value, &v) && v > 0)
            f->ok = FS_SPEC_OK_EQ, strcpy(f->ok_value, "0");
        else
            f->ok = FS_SPEC_OK_NE, snprintf(f->ok_value, sizeof f->ok_value, "%s", f->fail_value);
    }
    if (!P->fn_set_rel)
        f->still_releases = 1;
    if (f->kind >= 0 && P->s->kinds[f->kind].reentrant && f->role == FS_SPEC_ACQUIRE)
        f->reentrant = 1;
    if (f->injectable < 0)
        f->injectable = 0;
    else
        f->injectable = f->can_fail;
    if (P->builtin && f->injectable && !f->test[0])
        return FERR("expected a `test EXPR` line for %s: every injectable row of libc's spec needs "
                    "one (a C expression calling %s with valid arguments, e.g. test %s(...); "
                    "see harness/spec/libc.spec)", f->name, f->name, f->name);
    if (!f->doc[0]) {
        if (!f->injectable)
            strcpy(f->doc, "-");
        else if (f->returns_error)
            snprintf(f->doc, sizeof f->doc, "%s (returned)", f->fail_errno[0] ? f->fail_errno : "error");
        else
            snprintf(f->doc, sizeof f->doc, "%s", f->fail_value);
    }
#undef FERR
    return 0;
}

static int fs_dir_function(struct fs_p *P, enum fs_spec_role role, const char *kw_at)
{
    if (fs_finish_func(P) != 0)
        return -1;
    if (P->s->nfuncs >= P->capf) {
        P->capf = P->capf ? P->capf * 2 : 32;
        void *n = realloc(P->s->funcs, (size_t)P->capf * sizeof *P->s->funcs);
        if (!n)
            return fs_perr(P, kw_at, "out of memory");
        P->s->funcs = n;
    }
    struct fs_spec_func *f = &P->s->funcs[P->s->nfuncs];
    memset(f, 0, sizeof *f);
    f->role = role;
    f->kind = P->kind;
    f->line = P->line;
    f->col = (int)(kw_at - P->lp) + 1;
    if (role == FS_SPEC_TRANSFER && !P->builtin)
        return fs_perr(P, kw_at, "expected acquire, release or use (transfer is for libc's own spec)");
    if (fs_parse_prototype(P, f) != 0)
        return -1;
    for (int i = 0; i < P->s->nfuncs; i++)
        if (strcmp(P->s->funcs[i].name, f->name) == 0)
            return fs_perr(P, kw_at, "expected each function once: %s is also on line %d",
                           f->name, P->s->funcs[i].line);
    P->s->nfuncs++;
    P->fn = f;
    P->fn_set_handle = P->fn_set_fail = P->fn_set_ok = P->fn_set_rel = 0;
    return 0;
}

static int fs_need_fn(struct fs_p *P, const char *at, const char *what)
{
    if (!P->fn)
        return fs_perr(P, at, "expected `%s` after a function line (acquire/release/use PROTOTYPE)", what);
    return 0;
}

static int fs_errno_word(struct fs_p *P, struct fs_spec_func *f)
{
    char w[32];
    const char *at = (fs_skip_ws(P), P->p);
    if (fs_word(P, w, sizeof w) != 1)
        return fs_perr(P, at, "expected an errno name (EIO, ENOMEM...) or none");
    if (strcmp(w, "none") == 0) {
        f->fail_errno[0] = '\0';
        f->fail_errno_value = 0;
        return 0;
    }
    int e = fs_errno_from_name(w);
    if (!e)
        return fs_perr(P, at, "expected an errno name (EIO, ENOMEM...) or none, found '%s'", w);
    const char *canon = fs_errno_name(e);
    snprintf(f->fail_errno, sizeof f->fail_errno, "%s", canon ? canon : w);
    f->fail_errno_value = e;
    return 0;
}

static int fs_attr_fail(struct fs_p *P)
{
    struct fs_spec_func *f = P->fn;
    char w[64];
    P->fn_set_fail = 1;
    const char *wat = (fs_skip_ws(P), P->p);
    if (fs_word(P, w, sizeof w) != 1)
        return fs_perr(P, wat, "expected `fail return VALUE [errno NAME|none]`, `fail returns-errno NAME` or `fail never`");
    if (strcmp(w, "never") == 0) {
        f->can_fail = 0;
        return fs_expect_eol(P, "fail never");
    }
    f->can_fail = 1;
    if (strcmp(w, "returns-errno") == 0) {
        if (f->ret_void || f->ret_pointer)
            return fs_perr(P, wat, "expected an int-returning function for `fail returns-errno`");
        f->returns_error = 1;
        if (fs_errno_word(P, f) != 0)
            return -1;
        if (!f->fail_errno_value)
            return fs_perr(P, wat, "expected the error number to return, not none");
        snprintf(f->fail_value, sizeof f->fail_value, "%s", f->fail_errno);
        return fs_expect_eol(P, "fail returns-errno NAME");
    }
    if (strcmp(w, "return") != 0)
        return fs_perr(P, wat, "expected return, returns-errno or never after fail, found '%s'", w);
    const char *vat = (fs_skip_ws(P), P->p);
    if (fs_word(P, w, sizeof w) != 1)
        return fs_perr(P, vat, "expected the value an injected failure returns (NULL, -1, a number, a name)");
    long v;
    if (!(fs_is_number(w, &v) || fs_ident_ok(w, sizeof f->fail_value)))
        return fs_perr(P, vat, "expected NULL, a number or an identifier as the failure value, found '%s'", w);
    if (f->ret_pointer && strcmp(w, "NULL") != 0 && fs_is_number(w, NULL))
        return fs_perr(P, vat, "expected NULL (or a named constant) for %s, which returns a pointer", f->name);
    if (!f->ret_pointer && !strcmp(w, "NULL"))
        return fs_perr(P, vat, "expected a number for %s, which returns %s", f->name, f->ret);
    strcpy(f->fail_value, w);
    if (fs_at_eol(P))
        return 0;
    const char *eat = P->p;
    if (fs_word(P, w, sizeof w) != 1 || strcmp(w, "errno") != 0)
        return fs_perr(P, eat, "expected `errno NAME` or end of line after the failure value");
    if (fs_errno_word(P, f) != 0)
        return -1;
    return fs_expect_eol(P, "the errno");
}

static int fs_attr_handle(struct fs_p *P)
{
    struct fs_spec_func *f = P->fn;
    char w[32];
    P->fn_set_handle = 1;
    const char *wat = (fs_skip_ws(P), P->p);
    if (fs_word(P, w, sizeof w) != 1)
        return fs_perr(P, wat, "expected return, out N or arg N after handle");
    if (strcmp(w, "return") == 0) {
        f->handle = FS_SPEC_H_RETURN;
    } else if (strcmp(w, "out") == 0 || strcmp(w, "arg") == 0) {
        f->handle = w[0] == 'o' ? FS_SPEC_H_OUT : FS_SPEC_H_ARG;
        if (fs_int_arg(P, "the argument number", &f->handle_arg) != 0)
            return -1;
    } else if (strcmp(w, "none") == 0 && f->kind < 0) {
        f->handle = FS_SPEC_H_NONE;
    } else {
        return fs_perr(P, wat, "expected return, out N or arg N after handle, found '%s'", w);
    }
    f->out_count = 1;
    while (!fs_at_eol(P)) {
        const char *kat = P->p;
        fs_word(P, w, sizeof w);
        if (strcmp(w, "scope") == 0) {
            if (fs_int_arg(P, "the argument the handle is scoped to", &f->scope_arg) != 0)
                return -1;
        } else if (strcmp(w, "count") == 0 && f->handle == FS_SPEC_H_OUT) {
            int c;
            if (fs_int_arg(P, "how many handles are written", &c) != 0)
                return -1;
            f->out_count = c;
        } else {
            return fs_perr(P, kat, "expected `scope N`%s or end of line, found '%s'",
                           f->handle == FS_SPEC_H_OUT ? ", `count N`" : "", w);
        }
    }
    return 0;
}

static const char *fs_rest(struct fs_p *P, char *out, size_t cap)
{
    fs_skip_ws(P);
    size_t n = 0;
    while (*P->p && *P->p != '\n' && *P->p != '#' && n + 1 < cap)
        out[n++] = *P->p++;
    out[n] = '\0';
    fs_trim(out);
    return out;
}

static int fs_directive(struct fs_p *P)
{
    char kw[32];
    const char *at = (fs_skip_ws(P), P->p);
    if (fs_word(P, kw, sizeof kw) != 1)
        return fs_perr(P, at, "expected a directive");
    struct fs_spec *s = P->s;
    int first = !P->seen_directive;
    P->seen_directive = 1;
    if (strcmp(kw, "faultstack-protocol") == 0) {
        char v[16];
        const char *vat = (fs_skip_ws(P), P->p);
        if (!first)
            return fs_perr(P, at, "expected `faultstack-protocol N` as the first directive only");
        if (fs_word(P, v, sizeof v) != 1 || strcmp(v, "1") != 0)
            return fs_perr(P, vat, "expected format version 1 (this faultstack reads version %d)", FS_SPEC_VERSION);
        return fs_expect_eol(P, "the version");
    }
    if (strcmp(kw, "protocol") == 0) {
        char n[64];
        const char *nat = (fs_skip_ws(P), P->p);
        if (fs_word(P, n, sizeof n) != 1 || !fs_ident_ok(n, sizeof s->name))
            return fs_perr(P, nat, "expected a protocol name ([A-Za-z_][A-Za-z0-9_]*)");
        strcpy(s->name, n);
        return fs_expect_eol(P, "the protocol name");
    }
    if (strcmp(kw, "library") == 0) {
        const char *lat = (fs_skip_ws(P), P->p);
        if (fs_finish_func(P) != 0)
            return -1;
        if (s->library[0])
            return fs_perr(P, at, "expected one `library` line (the functions' soname or path)");
        if (fs_word(P, s->library, sizeof s->library) != 1)
            return fs_perr(P, lat, "expected the library's soname (libfoo.so.1) or path");
        return fs_expect_eol(P, "the library");
    }
    if (strcmp(kw, "header") == 0) {
        char h[160];
        const char *hat = (fs_skip_ws(P), P->p);
        if (s->nfuncs)
            return fs_perr(P, at, "expected `header` lines before the first function");
        fs_rest(P, h, sizeof h);
        size_t n = strlen(h);
        if (n < 3 || !((h[0] == '"' && h[n - 1] == '"') || (h[0] == '<' && h[n - 1] == '>')))
            return fs_perr(P, hat, "expected \"file.h\" or <file.h> after header");
        if (s->nheaders >= (int)(sizeof s->headers / sizeof s->headers[0]))
            return fs_perr(P, at, "expected at most %d header lines", (int)(sizeof s->headers / sizeof s->headers[0]));
        strcpy(s->headers[s->nheaders++], h);
        return 0;
    }
    if (P->builtin && (strcmp(kw, "alias") == 0 || strcmp(kw, "interposes") == 0)) {
        /* libc's spec: a symbol the preload interposes that has no row of its own */
        if (fs_finish_func(P) != 0)
            return -1;
        struct fs_spec_other o;
        memset(&o, 0, sizeof o);
        o.line = P->line;
        const char *nat = (fs_skip_ws(P), P->p);
        if (fs_word(P, o.name, sizeof o.name) != 1 || !fs_ident_ok(o.name, sizeof o.name))
            return fs_perr(P, nat, "expected the interposed symbol's name after %s", kw);
        const char *rat = (fs_skip_ws(P), P->p);
        if (kw[0] == 'a') {
            if (fs_word(P, o.alias_of, sizeof o.alias_of) != 1 || !fs_ident_ok(o.alias_of, sizeof o.alias_of))
                return fs_perr(P, rat, "expected the row %s counts as (alias NAME FUNC)", o.name);
            if (fs_expect_eol(P, "the alias") != 0)
                return -1;
        } else {
            char w[200];
            fs_rest(P, w, sizeof w);
            size_t n = strlen(w);
            if (n < 3 || w[0] != '"' || w[n - 1] != '"' || n - 2 >= sizeof o.why)
                return fs_perr(P, rat, "expected a quoted reason after interposes %s", o.name);
            memcpy(o.why, w + 1, n - 2);
        }
        void *nv = realloc(s->other, (size_t)(s->nother + 1) * sizeof *s->other);
        if (!nv)
            return fs_perr(P, at, "out of memory");
        s->other = nv;
        s->other[s->nother++] = o;
        return 0;
    }
    if (strcmp(kw, "kind") == 0) {
        if (fs_finish_func(P) != 0)
            return -1;
        char n[64];
        const char *nat = (fs_skip_ws(P), P->p);
        if (fs_word(P, n, sizeof n) != 1 || !fs_ident_ok(n, FS_SPEC_KIND_MAX))
            return fs_perr(P, nat, "expected a kind name ([A-Za-z_][A-Za-z0-9_]*, at most %d characters)",
                           FS_SPEC_KIND_MAX - 1);
        if (strcmp(n, "none") == 0) {
            P->kind = -1;
            return fs_expect_eol(P, "kind none");
        }
        if (!P->builtin && fs_spec_kind_builtin(n))
            return fs_perr(P, nat, "expected a kind name of your own: %s is one of faultstack's built-in kinds", n);
        for (int i = 0; i < s->nkinds; i++)
            if (strcmp(s->kinds[i].name, n) == 0)
                return fs_perr(P, nat, "expected each kind once: %s is also on line %d", n, s->kinds[i].line);
        if (s->nkinds >= P->capk) {
            P->capk = P->capk ? P->capk * 2 : 8;
            void *nk = realloc(s->kinds, (size_t)P->capk * sizeof *s->kinds);
            if (!nk)
                return fs_perr(P, at, "out of memory");
            s->kinds = nk;
        }
        struct fs_spec_kind *k = &s->kinds[s->nkinds];
        memset(k, 0, sizeof *k);
        strcpy(k->name, n);
        k->line = P->line;
        P->kind = s->nkinds++;
        while (!fs_at_eol(P)) {
            char w[32];
            const char *wat = P->p;
            fs_word(P, w, sizeof w);
            if (strcmp(w, "reentrant") == 0) {
                k->reentrant = 1;
            } else if (strcmp(w, "track") == 0 && P->builtin) {
                const char *tat = (fs_skip_ws(P), P->p);
                if (fs_word(P, k->track, sizeof k->track) != 1)
                    return fs_perr(P, tat, "expected the tracking (fd, stream, memory, mmap, lock)");
            } else {
                return fs_perr(P, wat, "expected `reentrant` or end of line after the kind name, found '%s'", w);
            }
        }
        return 0;
    }
    static const struct { const char *kw; enum fs_spec_role role; } roles[] = {
        { "acquire", FS_SPEC_ACQUIRE }, { "release", FS_SPEC_RELEASE },
        { "use", FS_SPEC_USE }, { "transfer", FS_SPEC_TRANSFER },
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(kw, roles[i].kw) == 0)
            return fs_dir_function(P, roles[i].role, at);
    /* attributes of the current function */
    if (strcmp(kw, "handle") == 0)
        return fs_need_fn(P, at, kw) ? -1 : fs_attr_handle(P);
    if (strcmp(kw, "fail") == 0)
        return fs_need_fn(P, at, kw) ? -1 : fs_attr_fail(P);
    if (strcmp(kw, "ok") == 0) {
        if (fs_need_fn(P, at, kw))
            return -1;
        char w[64];
        struct fs_spec_func *f = P->fn;
        P->fn_set_ok = 1;
        const char *wat = (fs_skip_ws(P), P->p);
        if (fs_word(P, w, sizeof w) != 1)
            return fs_perr(P, wat, "expected `ok always` or `ok return OP VALUE` (OP: == != >= >)");
        if (strcmp(w, "always") == 0) {
            f->ok = FS_SPEC_OK_ALWAYS;
            return fs_expect_eol(P, "ok always");
        }
        if (strcmp(w, "return") != 0)
            return fs_perr(P, wat, "expected `ok always` or `ok return OP VALUE`, found '%s'", w);
        const char *oat = (fs_skip_ws(P), P->p);
        fs_word(P, w, sizeof w);
        if (!strcmp(w, "==")) f->ok = FS_SPEC_OK_EQ;
        else if (!strcmp(w, "!=")) f->ok = FS_SPEC_OK_NE;
        else if (!strcmp(w, ">=")) f->ok = FS_SPEC_OK_GE;
        else if (!strcmp(w, ">")) f->ok = FS_SPEC_OK_GT;
        else return fs_perr(P, oat, "expected ==, !=, >= or > after `ok return`");
        const char *vat = (fs_skip_ws(P), P->p);
        if (fs_word(P, f->ok_value, sizeof f->ok_value) != 1 ||
            !(fs_is_number(f->ok_value, NULL) || fs_ident_ok(f->ok_value, sizeof f->ok_value)))
            return fs_perr(P, vat, "expected NULL, a number or an identifier to compare the return value with");
        if (f->ret_void)
            return fs_perr(P, at, "expected no `ok return` for %s: it returns void", f->name);
        return fs_expect_eol(P, "the ok test");
    }
    if (strcmp(kw, "still-releases") == 0) {
        if (fs_need_fn(P, at, kw))
            return -1;
        char w[16];
        const char *wat = (fs_skip_ws(P), P->p);
        if (P->fn->role != FS_SPEC_RELEASE)
            return fs_perr(P, at, "expected `still-releases` on a release function only");
        if (fs_word(P, w, sizeof w) != 1 || (strcmp(w, "yes") && strcmp(w, "no")))
            return fs_perr(P, wat, "expected yes or no after still-releases");
        P->fn->still_releases = w[0] == 'y';
        P->fn_set_rel = 1;
        return fs_expect_eol(P, "still-releases");
    }
    if (strcmp(kw, "reentrant") == 0) {
        if (fs_need_fn(P, at, kw))
            return -1;
        if (P->fn->role != FS_SPEC_ACQUIRE)
            return fs_perr(P, at, "expected `reentrant` on an acquire function only");
        P->fn->reentrant = 1;
        return fs_expect_eol(P, "reentrant");
    }
    if (strcmp(kw, "fault") == 0) {
        if (fs_need_fn(P, at, kw))
            return -1;
        char w[16];
        const char *wat = (fs_skip_ws(P), P->p);
        if (fs_word(P, w, sizeof w) != 1 || (strcmp(w, "yes") && strcmp(w, "no")))
            return fs_perr(P, wat, "expected yes or no after fault (no: tracked, never failed)");
        P->fn->injectable = w[0] == 'n' ? -1 : 0;
        return fs_expect_eol(P, "fault");
    }
    if (P->builtin && strcmp(kw, "test") == 0) {
        if (fs_need_fn(P, at, kw))
            return -1;
        struct fs_spec_func *f = P->fn;
        const char *tat = (fs_skip_ws(P), P->p);
        size_t n = strcspn(tat, "\n#");
        if (n >= sizeof f->test)
            return fs_perr(P, tat, "expected a test expression of at most %d characters",
                           (int)sizeof f->test - 1);
        fs_rest(P, f->test, sizeof f->test);
        if (!f->test[0])
            return fs_perr(P, tat, "expected a C expression calling %s after test", f->name);
        if (!strstr(f->test, f->name))
            return fs_perr(P, tat, "expected the test expression to call %s", f->name);
        return 0;
    }
    if (P->builtin && (strcmp(kw, "custom") == 0 || strcmp(kw, "size") == 0 || strcmp(kw, "doc") == 0)) {
        if (fs_need_fn(P, at, kw))
            return -1;
        struct fs_spec_func *f = P->fn;
        if (kw[0] == 'c') {
            const char *wat = (fs_skip_ws(P), P->p);
            if (fs_word(P, f->custom, sizeof f->custom) != 1)
                return fs_perr(P, wat, "expected the file tag of the hand-written body (custom fd)");
            return fs_expect_eol(P, "custom");
        }
        if (kw[0] == 's') {
            fs_rest(P, f->size, sizeof f->size);
            if (!f->size[0])
                return fs_perr(P, P->p, "expected a C expression for the size");
            return 0;
        }
        char d[160];
        const char *dat = (fs_skip_ws(P), P->p);
        fs_rest(P, d, sizeof d);
        size_t n = strlen(d);
        if (n < 2 || d[0] != '"' || d[n - 1] != '"' || n - 2 >= sizeof f->doc)
            return fs_perr(P, dat, "expected a quoted text after doc");
        memcpy(f->doc, d + 1, n - 2);
        f->doc[n - 2] = '\0';
        return 0;
    }
    return fs_perr(P, at, "expected a directive (library, header, kind, acquire, release, use) or an "
                   "attribute (handle, fail, ok, reentrant, still-releases, fault), found '%s'", kw);
}

int fs_spec_parse_text(const char *path, const char *text, int builtin, struct fs_spec **out,
                       char *errbuf, size_t errlen)
{
    char dummy[8];
    if (!errbuf)
        errbuf = dummy, errlen = sizeof dummy;
    errbuf[0] = '\0';
    *out = NULL;
    struct fs_spec *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    struct fs_p P = { .path = path, .s = s, .builtin = builtin, .kind = -1, .err = errbuf, .errlen = errlen };
    const char *q = text;
    P.line = 0;
    while (*q) {
        P.line++;
        P.lp = P.p = q;
        const char *nl = strchr(q, '\n');
        if (!fs_at_eol(&P) && fs_directive(&P) != 0)
            goto fail;
        if (!nl)
            break;
        q = nl + 1;
    }
    P.lp = P.p = q;
    if (fs_finish_func(&P) != 0)
        goto fail;
    if (!s->library[0]) {
        fs_perr(&P, NULL, "expected a `library SONAME` line (the library the functions live in)");
        goto fail;
    }
    if (!s->nfuncs) {
        fs_perr(&P, NULL, "expected at least one function (acquire/release/use PROTOTYPE)");
        goto fail;
    }
    for (int i = 0; i < s->nother; i++) {
        const struct fs_spec_other *o = &s->other[i];
        int row = -1, dup = -1;
        for (int k = 0; k < s->nfuncs; k++) {
            if (!strcmp(s->funcs[k].name, o->alias_of)) row = k;
            if (!strcmp(s->funcs[k].name, o->name)) dup = k;
        }
        for (int k = 0; k < i && dup < 0; k++)
            if (!strcmp(s->other[k].name, o->name)) dup = k;
        P.line = o->line;
        P.lp = P.p = "";
        if (dup >= 0) {
            fs_perr(&P, NULL, "expected each interposed symbol once: %s has a row or another line", o->name);
            goto fail;
        }
        if (o->alias_of[0] && row < 0) {
            fs_perr(&P, NULL, "expected alias %s to name a row: there is no function %s", o->name, o->alias_of);
            goto fail;
        }
    }
    for (int k = 0; k < s->nkinds; k++) {
        int acq = 0, rel = 0;
        for (int i = 0; i < s->nfuncs; i++)
            if (s->funcs[i].kind == k) {
                acq |= s->funcs[i].role == FS_SPEC_ACQUIRE || s->funcs[i].role == FS_SPEC_TRANSFER;
                rel |= s->funcs[i].role == FS_SPEC_RELEASE || s->funcs[i].role == FS_SPEC_TRANSFER;
            }
        if (!acq || !rel) {
            P.line = s->kinds[k].line;
            P.lp = P.p = "";
            fs_perr(&P, NULL, "expected kind %s to have at least one acquire and one release function",
                    s->kinds[k].name);
            goto fail;
        }
    }
    if (!s->name[0]) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t n = strcspn(b, ".");
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < sizeof s->name; i++)
            s->name[o++] = isalnum((unsigned char)b[i]) ? b[i] : '_';
        s->name[o] = '\0';
        if (!s->name[0])
            strcpy(s->name, "protocol");
    }
    *out = s;
    return 0;
fail:
    fs_spec_free(s);
    return -1;
}

int fs_spec_parse_file(const char *path, int builtin, struct fs_spec **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errbuf, errlen, "%s: cannot read the spec: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 >= cap) {
            if (cap > (64u << 20)) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        snprintf(errbuf, errlen, "%s: cannot read the spec (%s)", path, rerr ? "read error" : "too large");
        return -1;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        snprintf(errbuf, errlen, "%s:1:1: expected a text file (it contains NUL bytes)", path);
        return -1;
    }
    int rc = fs_spec_parse_text(path, buf, builtin, out, errbuf, errlen);
    free(buf);
    return rc;
}

void fs_spec_free(struct fs_spec *s)
{
    if (!s)
        return;
    free(s->kinds);
    free(s->funcs);
    free(s->other);
    free(s);
}
