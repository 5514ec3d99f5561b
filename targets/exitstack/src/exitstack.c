/*
 * exitstack.c — errors, stacks, unwinding, typed cleanups, cancellation,
 * reentrant contexts, the scope macro's helpers.
 *
 * A stack is a growable array of entries; unwinding pops the top entry,
 * runs it and repeats until the array is empty (rule 4: a loop, so any
 * number of entries unwinds in constant C stack). Because every entry is
 * removed before it runs, entries registered by a running entry run next,
 * es_pop_all() from a running entry ends the unwind and a nested es_close()
 * drains the rest (rule 3) without any special state. The array's head
 * (es_stack_head_) is in the public header: registration into a free slot
 * is inlined into the caller; this file has the slow path.
 *
 * Errors form singly linked context chains (rule 10). Shared errors
 * (ES_NOMEM, the refusals) live in read-only memory and carry no context.
 * The only allocation an unwind may make is the group error of a cancelled
 * scope (rule 18). Context variables live in es_context.c.
 */
#define ES_BUILDING_LIBRARY_ 1
#include "exitstack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "es_internal.h"

/* ------------------------------------------------------------ allocator */

static es_allocator es_alloc = {malloc, realloc, free};

void es_set_allocator(const es_allocator *a)
{
    es_allocator def = {malloc, realloc, free};
    es_alloc = a ? *a : def;
}

void *esi_malloc(size_t n) { return es_alloc.malloc_fn(n); }
void *esi_realloc(void *p, size_t n) { return es_alloc.realloc_fn(p, n); }
void esi_free(void *p) { es_alloc.free_fn(p); }

/* --------------------------------------------------------------- errors */

#define SHARED(e) (((e)->flags & ES_ERROR_SHARED) != 0)

const es_error es_nomem_error_ = {ENOMEM, "out of memory", NULL, 0, NULL, ES_ERROR_SHARED};
#define REFUSAL(name, code, msg) \
    const es_error esi_refuse_##name = {code, msg, NULL, 0, NULL, ES_ERROR_REFUSAL | ES_ERROR_SHARED}
REFUSAL(nomem, ENOMEM, "exitstack: out of memory (call refused, nothing changed)");
REFUSAL(inval, EINVAL, "exitstack: invalid argument (call refused, nothing changed)");
REFUSAL(already, EALREADY, "exitstack: token already used (reset refused)");
REFUSAL(xdev, EXDEV, "exitstack: token made in another context (reset refused)");
REFUSAL(busy, EBUSY, "exitstack: busy (call refused, nothing changed)");

static es_error *es_error_vnew(int code, unsigned flags, es_error *context, const char *fmt,
                               va_list ap)
{
    es_error *e = NULL;
    va_list ap2;
    int len = 0;

    if (fmt) {
        va_copy(ap2, ap);
        len = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (len < 0)
            len = 0;
    }
    e = esi_malloc(sizeof *e + (size_t)len + 1);
    if (!e) {
        e = es_error_chain(flags & ES_ERROR_REFUSAL ? ESI_REFUSE(nomem) : ES_NOMEM, context);
        goto out;
    }
    memset(e, 0, sizeof *e);
    e->code = code ? code : EINVAL;
    e->flags = flags;
    e->context = context;
    if (fmt) {
        char *msg = (char *)(e + 1);
        vsnprintf(msg, (size_t)len + 1, fmt, ap);
        e->message = msg;
    }
out:
    return e;
}

es_error *es_error_new(int code, const char *fmt, ...)
{
    es_error *e;
    va_list ap;

    va_start(ap, fmt);
    e = es_error_vnew(code, 0, NULL, fmt, ap);
    va_end(ap);
    return e;
}

es_error *es_error_wrap(es_error *context, int code, const char *fmt, ...)
{
    es_error *e;
    va_list ap;

    va_start(ap, fmt);
    e = es_error_vnew(code, 0, context, fmt, ap);
    va_end(ap);
    return e;
}

static es_error *esi_refusal_wrapf(es_error *context, int code, const char *fmt, ...)
{
    es_error *e;
    va_list ap;

    va_start(ap, fmt);
    e = es_error_vnew(code, ES_ERROR_REFUSAL, context, fmt, ap);
    va_end(ap);
    return e;
}

es_error *esi_refusal_wrap(es_error *context, int code, const char *msg)
{
    return esi_refusal_wrapf(context, code, "%s", msg);
}

/* Puts chain m in front of *todo, dropping a trailing shared error. */
static void es_splice(es_error *m, es_error **todo)
{
    es_error *p;

    if (!m || SHARED(m))
        return;
    for (p = m; p->context && !SHARED(p->context); p = p->context)
        ;
    p->context = *todo;
    *todo = m;
}

void es_error_free(es_error *e)
{
    es_error *todo = NULL, *n;
    size_t i;

    es_splice(e, &todo);
    while (todo) {
        n = todo;
        todo = n->context;
        for (i = 0; i < n->nmembers; i++)
            es_splice(n->members[i], &todo);
        esi_free(n);
    }
}

es_error *es_error_chain(es_error *raised, es_error *displaced)
{
    es_error *t, *prev = NULL, *d, *x;

    if (!raised)
        return displaced;
    if (!displaced || raised == displaced)
        return raised;
    if (SHARED(raised)) { /* cannot carry a context: goes last instead */
        x = raised;
        raised = displaced;
        displaced = x;
        if (SHARED(raised))
            return raised; /* two shared errors: the first one is kept */
    }
    for (t = raised;; prev = t, t = t->context) {
        if (t == displaced)
            return raised; /* already in the chain */
        if (!t->context)
            break;
    }
    if (!SHARED(t)) {
        t->context = displaced;
        return raised;
    }
    /* raised's chain ends with shared t (prev exists: raised is not shared) */
    if (SHARED(displaced))
        return raised; /* keep t, the one already there */
    prev->context = displaced;
    for (d = displaced; d->context; d = d->context)
        ;
    if (!SHARED(d))
        d->context = t;
    return raised;
}

size_t es_error_depth(const es_error *e)
{
    size_t n = 0;

    for (; e; e = e->context)
        n++;
    return n;
}

/* Group [first, second] (rule 18); falls back to chaining when out of memory. */
static es_error *es_group2(es_error *first, es_error *second)
{
    es_error *g, **m;
    static const char msg[] = "2 errors";

    if (!second)
        return first;
    g = esi_malloc(sizeof *g + 2 * sizeof(es_error *) + sizeof msg);
    if (!g)
        return es_error_chain(second, first);
    memset(g, 0, sizeof *g);
    g->code = first->code;
    g->flags = ES_ERROR_GROUP;
    g->nmembers = 2;
    m = (es_error **)(g + 1);
    m[0] = first;
    m[1] = second;
    g->members = m;
    memcpy(m + 2, msg, sizeof msg);
    g->message = (const char *)(m + 2);
    return g;
}

/* --------------------------------------------------------------- stacks */

struct es_stack {
    es_stack_head_ h; /* first: the header's inline fast path reads it */
    _Atomic(es_error *) cancel;
};

es_error *es_new(es_stack **out)
{
    es_stack *s;

    if (!out)
        return ESI_REFUSE(inval);
    *out = NULL;
    s = esi_malloc(sizeof *s);
    if (!s)
        return ESI_REFUSE(nomem);
    s->h.v = NULL;
    s->h.n = s->h.cap = 0;
    atomic_init(&s->cancel, NULL);
    *out = s;
    return NULL;
}

es_error *es_free(es_stack *s)
{
    es_error *e;

    if (!s)
        return NULL;
    es_error *late;

    e = es_close(s);
    /* a cancel that landed after the close's unwind is kept too */
    late = atomic_exchange(&s->cancel, NULL);
    if (late)
        e = es_group2(late, e);
    esi_free(s->h.v);
    esi_free(s);
    return e;
}

/* Makes room for `more` entries. 0 or ENOMEM (stack unchanged). */
static int es_grow(es_stack *s, size_t more)
{
    size_t cap, need;
    es_entry_ *v;

    if (s->h.cap - s->h.n >= more)
        return 0;
    if (more > (size_t)-1 / sizeof *v - s->h.n)
        return ENOMEM;
    need = s->h.n + more;
    cap = s->h.cap ? s->h.cap : 16;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 / sizeof *v ? need : cap * 2;
    v = esi_realloc(s->h.v, cap * sizeof *v);
    if (!v)
        return ENOMEM;
    s->h.v = v;
    s->h.cap = cap;
    return 0;
}

es_error *es_reserve(es_stack *s, size_t n)
{
    if (!s)
        return ESI_REFUSE(inval);
    return es_grow(s, n) ? ESI_REFUSE(nomem) : NULL;
}

es_error *es_register_slow_(es_stack *s, uintptr_t kind, void (*fn)(void), void *a, void *b)
{
    es_entry_ *e;

    if (!s || !fn || kind < ES_KIND_CALLBACK_ || kind > ES_KIND_EXIT_)
        return ESI_REFUSE(inval);
    if (es_grow(s, 1))
        return ESI_REFUSE(nomem);
    e = &s->h.v[s->h.n++];
    e->fn = fn;
    e->a = a;
    e->b = b;
    e->kind = kind;
    return NULL;
}

/* ------------------------------------------------- release-or-register */

es_error *es_defer_slow_(es_stack *s, uintptr_t kind, void (*fn)(void), void *a, void *b)
{
    es_error *r, *own;

    if (!fn || (kind != ES_KIND_CALLBACK_ && kind != ES_KIND_CALLBACK2_))
        return ESI_REFUSE(inval);
    r = es_register_slow_(s, kind, fn, a, b);
    if (!r)
        return NULL;
    /* refused: release at once, report both */
    own = kind == ES_KIND_CALLBACK_ ? ((es_callback_fn)fn)(a) : ((es_callback2_fn)fn)(a, b);
    return esi_refusal_wrapf(own, r->code, "%s (the cleanup ran at once)", r->message);
}

static es_error *esi_errno_error(int err, const char *what)
{
    return es_error_new(err, "%s: %s", what, strerror(err));
}

static es_error *esi_free_cb(void *p, void *unused)
{
    free(p);
    return NULL;
}
static es_error *esi_close_cb(void *fdp, void *unused)
{
    int fd = (int)(intptr_t)fdp;

    if (close(fd) == 0)
        return NULL;
    return es_error_new(errno, "close(%d): %s", fd, strerror(errno));
}
static es_error *esi_fclose_cb(void *f, void *unused)
{
    return fclose(f) == 0 ? NULL : esi_errno_error(errno, "fclose");
}
static es_error *esi_closedir_cb(void *d, void *unused)
{
    return closedir(d) == 0 ? NULL : esi_errno_error(errno, "closedir");
}
static es_error *esi_munmap_cb(void *addr, void *len)
{
    return munmap(addr, (size_t)(uintptr_t)len) == 0 ? NULL : esi_errno_error(errno, "munmap");
}
static es_error *esi_unlock_cb(void *m, void *unused)
{
    int rc = pthread_mutex_unlock(m);
    return rc == 0 ? NULL : esi_errno_error(rc, "pthread_mutex_unlock");
}

es_error *es_defer_free(es_stack *s, void *p)
{
    return p ? es_defer2(s, esi_free_cb, p, NULL) : NULL;
}
es_error *es_defer_close(es_stack *s, int fd)
{
    return fd >= 0 ? es_defer2(s, esi_close_cb, (void *)(intptr_t)fd, NULL) : NULL;
}
es_error *es_defer_fclose(es_stack *s, FILE *f)
{
    return f ? es_defer2(s, esi_fclose_cb, f, NULL) : NULL;
}
es_error *es_defer_closedir(es_stack *s, DIR *d)
{
    return d ? es_defer2(s, esi_closedir_cb, d, NULL) : NULL;
}
es_error *es_defer_munmap(es_stack *s, void *addr, size_t len)
{
    return addr && addr != MAP_FAILED ? es_defer2(s, esi_munmap_cb, addr, (void *)(uintptr_t)len)
                                      : NULL;
}
es_error *es_defer_unlock(es_stack *s, pthread_mutex_t *m)
{
    return m ? es_defer2(s, esi_unlock_cb, m, NULL) : NULL;
}

/* ----------------------------------------------------------- enter (7) */

es_error *es_enter(es_stack *s, const es_type *t, void *self, void **result)
{
    es_error *err = NULL, *raised = NULL;
    void *r = NULL;
    es_exit_fn exit_fn;

    if (!s || !t || !t->enter || !t->exit) {
        err = ESI_REFUSE(inval);
        goto out;
    }
    exit_fn = t->exit; /* t is not read after enter: it need not outlive the call */
    if (es_grow(s, 1)) { /* before enter: nothing acquired yet */
        err = ESI_REFUSE(nomem);
        goto out;
    }
    err = t->enter(self, &r);
    if (err)
        goto out;
    if (es_grow(s, 1)) { /* enter registered entries itself and used the slot */
        exit_fn(self, NULL, &raised);
        err = esi_refusal_wrap(raised, ENOMEM, "es_enter: stack cannot grow after enter (exit ran at once)");
        goto out;
    }
    es_register_slow_(s, ES_KIND_EXIT_, (void (*)(void))exit_fn, self, NULL);
    if (result)
        *result = r;
out:
    return err;
}

es_error *es_pop_all(es_stack *s, es_stack **out)
{
    es_stack *t;
    es_error *e;

    if (!out)
        return ESI_REFUSE(inval);
    *out = NULL;
    if (!s)
        return ESI_REFUSE(inval);
    e = es_new(&t);
    if (e)
        return e;
    t->h = s->h;
    s->h.v = NULL;
    s->h.n = s->h.cap = 0;
    *out = t;
    return NULL;
}

/* ------------------------------------------------------------ unwinding */

es_error *es_exit(es_stack *s, es_error *incoming, bool *suppressed)
{
    es_error *cur = incoming, *raised, *cancel;
    bool alive = incoming != NULL, supp = false;
    es_entry_ *e;
    void (*fn)(void);
    void *a, *b;
    uintptr_t kind;

    if (!s) {
        cur = esi_refusal_wrap(incoming, EINVAL, "es_exit: no stack (call refused)");
        goto out;
    }
    while (s->h.n > 0) {
        e = &s->h.v[--s->h.n]; /* removed before it runs (rule 1) */
        fn = e->fn;
        a = e->a;
        b = e->b;
        kind = e->kind;
        raised = NULL;
        if (kind == ES_KIND_CALLBACK_) {
            raised = ((es_callback_fn)fn)(a);
        } else if (kind == ES_KIND_CALLBACK2_) {
            raised = ((es_callback2_fn)fn)(a, b);
        } else if (((es_exit_fn)fn)(a, cur, &raised) && !raised && cur) {
            es_error_free(cur); /* suppression clears only the current error */
            cur = NULL;
            supp = supp || alive;
            alive = false;
        }
        if (raised)
            cur = es_error_chain(raised, cur);
    }
    if (s->h.cap > 1024) { /* give back a big array; small ones are reused */
        esi_free(s->h.v);
        s->h.v = NULL;
        s->h.cap = 0;
    }
    /* a plain load first: the locked exchange only when cancelled (a cancel
     * landing after the load is simply kept for the next unwind) */
    cancel = atomic_load_explicit(&s->cancel, memory_order_acquire) ? atomic_exchange(&s->cancel, NULL) : NULL;
    if (cancel)
        cur = es_group2(cancel, cur);
out:
    if (suppressed)
        *suppressed = supp;
    return cur;
}

es_error *es_close(es_stack *s)
{
    return es_exit(s, NULL, NULL);
}

size_t es_size(const es_stack *s)
{
    return s ? s->h.n : 0;
}

/* --------------------------------------------------------- cancellation */

bool es_cancel(es_stack *s, es_error *reason)
{
    es_error *expected = NULL;

    if (!s) {
        es_error_free(reason);
        return false;
    }
    if (atomic_load(&s->cancel)) { /* already: do not even allocate */
        es_error_free(reason);
        return false;
    }
    if (!reason)
        reason = es_error_new(ECANCELED, "cancelled");
    if (atomic_compare_exchange_strong(&s->cancel, &expected, reason))
        return true;
    es_error_free(reason);
    return false;
}

bool es_check(const es_stack *s)
{
    return s && atomic_load((_Atomic(es_error *) *)&s->cancel) != NULL;
}

/* ----------------------------------------------------- reentrant (14) */

struct es_reentrant {
    const es_type *type;
    void *self;
    void *result;
    size_t depth;
};

static es_error *esi_reentrant_enter(void *self, void **result)
{
    es_reentrant *r = self;
    es_error *err;

    if (r->depth == 0) {
        err = r->type->enter(r->self, &r->result);
        if (err)
            return err; /* depth stays 0 */
    }
    r->depth++;
    *result = r->result;
    return NULL;
}

bool esi_reentrant_exit(void *self, const es_error *cur, es_error **raise)
{
    es_reentrant *r = self;

    if (r->depth == 0) {
        *raise = es_error_new(EINVAL, "reentrant %s: exit at depth 0", r->type->name ? r->type->name : "context");
        return false;
    }
    if (--r->depth > 0)
        return false;
    return r->type->exit(r->self, cur, raise);
}

static const es_type esi_reentrant_type = {"reentrant", esi_reentrant_enter, esi_reentrant_exit};

es_error *es_reentrant_new(es_reentrant **out, const es_type *t, void *self)
{
    es_reentrant *r;

    if (!out)
        return ESI_REFUSE(inval);
    *out = NULL;
    if (!t || !t->enter || !t->exit)
        return ESI_REFUSE(inval);
    r = esi_malloc(sizeof *r);
    if (!r)
        return ESI_REFUSE(nomem);
    r->type = t;
    r->self = self;
    r->result = NULL;
    r->depth = 0;
    *out = r;
    return NULL;
}

es_error *es_enter_reentrant(es_stack *s, es_reentrant *r, void **result)
{
    if (!r)
        return ESI_REFUSE(inval);
    return es_enter(s, &esi_reentrant_type, r, result);
}

size_t es_reentrant_depth(const es_reentrant *r)
{
    return r ? r->depth : 0;
}

es_error *es_reentrant_free(es_reentrant *r)
{
    if (!r)
        return NULL;
    if (r->depth > 0)
        return ESI_REFUSE(busy);
    esi_free(r);
    return NULL;
}

/* ---------------------------------------------------- scope-bound (19) */

es_scope_ es_scope_begin_(es_error **out)
{
    es_scope_ sc = {NULL, out, NULL};

    sc.init_error = es_new(&sc.stack);
    return sc;
}

void es_scope_end_(es_scope_ *scope)
{
    es_error *e = scope->stack ? es_free(scope->stack) : scope->init_error;

    if (scope->out)
        *scope->out = es_error_chain(e, *scope->out);
    else
        es_error_free(e);
}
