/*
 * exitstack.c — errors, stacks, unwinding, cancellation, reentrant contexts.
 *
 * A stack is a growable array of entries; unwinding pops the top entry,
 * runs it and repeats until the array is empty (rule 4: a loop, so any
 * number of entries unwinds in constant C stack). Because every entry is
 * removed before it runs, entries registered by a running entry run next,
 * es_pop_all() from a running entry ends the unwind and a nested es_close()
 * drains the rest (rule 3) without any special state.
 *
 * Errors form singly linked context chains (rule 10). The only allocation an
 * unwind may make is the group error of a cancelled scope (rule 18).
 * Context variables live in es_context.c.
 */
#include "exitstack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_internal.h"

/* ------------------------------------------------------------ allocator */

static es_allocator es_alloc = {malloc, realloc, free};

void es_set_allocator(const es_allocator *a)
{
    es_allocator def = {malloc, realloc, free};
    es_alloc = a ? *a : def;
}

void *es_malloc_(size_t n) { return es_alloc.malloc_fn(n); }
void *es_realloc_(void *p, size_t n) { return es_alloc.realloc_fn(p, n); }
void es_free_(void *p) { es_alloc.free_fn(p); }

/* --------------------------------------------------------------- errors */

es_error es_nomem_error_ = {ENOMEM, "out of memory", NULL, 0, NULL};

es_error *es_error_new(int code, const char *fmt, ...)
{
    es_error *e = NULL;
    va_list ap;
    int len = 0;

    if (fmt) {
        va_start(ap, fmt);
        len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (len < 0)
            len = 0;
    }
    e = es_malloc_(sizeof *e + (size_t)len + 1);
    if (!e) {
        e = ES_NOMEM;
        goto out;
    }
    memset(e, 0, sizeof *e);
    e->code = code ? code : EINVAL;
    if (fmt) {
        char *msg = (char *)(e + 1);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)len + 1, fmt, ap);
        va_end(ap);
        e->message = msg;
    }
out:
    return e;
}

/* Puts chain m in front of *todo, dropping a trailing ES_NOMEM. */
static void es_splice(es_error *m, es_error **todo)
{
    es_error *p;

    if (!m || m == ES_NOMEM)
        return;
    for (p = m; p->context && p->context != ES_NOMEM; p = p->context)
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
        es_free_(n);
    }
}

es_error *es_error_chain(es_error *raised, es_error *displaced)
{
    es_error *t, *prev = NULL;

    if (!raised)
        return displaced;
    if (!displaced || raised == displaced)
        return raised;
    if (raised == ES_NOMEM) { /* cannot carry a context: goes last instead */
        raised = displaced;
        displaced = ES_NOMEM;
    }
    for (t = raised;; prev = t, t = t->context) {
        if (t == displaced)
            return raised; /* already in the chain */
        if (!t->context)
            break;
    }
    if (t != ES_NOMEM) {
        t->context = displaced;
        return raised;
    }
    /* raised's chain ends with ES_NOMEM: displaced goes before it */
    prev->context = displaced;
    for (t = displaced; t->context; t = t->context)
        ;
    if (t != ES_NOMEM)
        t->context = ES_NOMEM;
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
    es_error *g;
    static const char msg[] = "2 errors";

    if (!second)
        return first;
    g = es_malloc_(sizeof *g + 2 * sizeof(es_error *) + sizeof msg);
    if (!g)
        return es_error_chain(second, first);
    memset(g, 0, sizeof *g);
    g->code = first->code;
    g->nmembers = 2;
    g->members = (es_error **)(g + 1);
    g->members[0] = first;
    g->members[1] = second;
    memcpy(g->members + 2, msg, sizeof msg);
    g->message = (const char *)(g->members + 2);
    return g;
}

/* --------------------------------------------------------------- stacks */

enum { ES_CALLBACK = 1, ES_EXIT = 2 };

typedef struct es_entry {
    int kind;
    union {
        es_callback_fn cb;
        es_exit_fn ex;
    } fn;
    void *arg;
} es_entry;

struct es_stack {
    es_entry *v;
    size_t n, cap;
    _Atomic(es_error *) cancel;
};

es_stack *es_new(void)
{
    es_stack *s = es_malloc_(sizeof *s);

    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->v = NULL;
    s->n = s->cap = 0;
    atomic_init(&s->cancel, NULL);
    return s;
}

void es_free(es_stack *s)
{
    if (!s)
        return;
    es_error_free(es_close(s));
    es_error_free(atomic_exchange(&s->cancel, NULL));
    es_free_(s->v);
    es_free_(s);
}

/* Makes room for one more entry. 0 or ENOMEM (stack unchanged). */
static int es_reserve(es_stack *s)
{
    size_t cap;
    es_entry *v;

    if (s->n < s->cap)
        return 0;
    cap = s->cap ? s->cap * 2 : 16;
    if (cap > (size_t)-1 / sizeof *v)
        return ENOMEM;
    v = es_realloc_(s->v, cap * sizeof *v);
    if (!v)
        return ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

/* Registration, slow path: checks arguments, grows the array. */
__attribute__((noinline)) static int es_add(es_stack *s, int kind, void (*fn)(void), void *arg)
{
    es_entry *e;
    int rc;

    if (!s || !fn)
        return EINVAL;
    rc = es_reserve(s);
    if (rc)
        return rc;
    e = &s->v[s->n++];
    e->kind = kind;
    if (kind == ES_CALLBACK)
        e->fn.cb = (es_callback_fn)fn;
    else
        e->fn.ex = (es_exit_fn)fn;
    e->arg = arg;
    return 0;
}

/* The fast paths below store into a free slot without a stack frame. */
int es_callback(es_stack *s, es_callback_fn fn, void *arg)
{
    es_entry *e;

    if (!s || !fn || s->n == s->cap)
        return es_add(s, ES_CALLBACK, (void (*)(void))fn, arg);
    e = &s->v[s->n++];
    e->kind = ES_CALLBACK;
    e->fn.cb = fn;
    e->arg = arg;
    return 0;
}

int es_push(es_stack *s, es_exit_fn fn, void *self)
{
    es_entry *e;

    if (!s || !fn || s->n == s->cap)
        return es_add(s, ES_EXIT, (void (*)(void))fn, self);
    e = &s->v[s->n++];
    e->kind = ES_EXIT;
    e->fn.ex = fn;
    e->arg = self;
    return 0;
}

es_error *es_enter(es_stack *s, const es_type *t, void *self, void **result)
{
    es_error *err = NULL, *raised = NULL;
    void *r = NULL;

    if (!s || !t || !t->enter || !t->exit) {
        err = es_error_new(EINVAL, "es_enter: %s", !s ? "no stack" : !t ? "no type" : "type lacks enter or exit");
        goto out;
    }
    if (es_reserve(s)) { /* before enter: nothing acquired yet */
        err = es_error_new(ENOMEM, "es_enter: cannot reserve an entry for %s", t->name ? t->name : "context");
        goto out;
    }
    err = t->enter(self, &r);
    if (err)
        goto out;
    if (es_reserve(s)) { /* enter registered entries itself and used the slot */
        t->exit(self, NULL, &raised);
        err = es_error_chain(raised, es_error_new(ENOMEM, "es_enter: stack cannot grow after enter"));
        goto out;
    }
    es_add(s, ES_EXIT, (void (*)(void))t->exit, self);
    if (result)
        *result = r;
out:
    return err;
}

es_stack *es_pop_all(es_stack *s)
{
    es_stack *t;

    if (!s) {
        errno = EINVAL;
        return NULL;
    }
    t = es_new();
    if (!t)
        return NULL;
    t->v = s->v;
    t->n = s->n;
    t->cap = s->cap;
    s->v = NULL;
    s->n = s->cap = 0;
    return t;
}

es_error *es_exit(es_stack *s, es_error *incoming, bool *suppressed)
{
    es_error *cur = incoming, *raised, *cancel;
    bool alive = incoming != NULL, supp = false;
    es_entry e;

    if (!s) {
        cur = es_error_chain(es_error_new(EINVAL, "es_exit: no stack"), incoming);
        goto out;
    }
    while (s->n > 0) {
        e = s->v[--s->n]; /* removed before it runs (rule 1) */
        raised = NULL;
        if (e.kind == ES_CALLBACK) {
            raised = e.fn.cb(e.arg);
        } else if (e.fn.ex(e.arg, cur, &raised) && !raised && cur) {
            es_error_free(cur); /* suppression clears only the current error */
            cur = NULL;
            supp = supp || alive;
            alive = false;
        }
        if (raised)
            cur = es_error_chain(raised, cur);
    }
    if (s->cap > 1024) { /* give back a big array; small ones are reused */
        es_free_(s->v);
        s->v = NULL;
        s->cap = 0;
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
    return s ? s->n : 0;
}

int es_cancel(es_stack *s, es_error *reason)
{
    es_error *expected = NULL;

    if (!s) {
        es_error_free(reason);
        return EINVAL;
    }
    if (!reason)
        reason = es_error_new(ECANCELED, "cancelled");
    if (atomic_compare_exchange_strong(&s->cancel, &expected, reason))
        return 0;
    es_error_free(reason);
    return EALREADY;
}

int es_check(const es_stack *s)
{
    es_error *c;

    if (!s)
        return 0;
    c = atomic_load((_Atomic(es_error *) *)&s->cancel);
    return c ? c->code : 0;
}

/* ----------------------------------------------------- reentrant (14) */

static es_error *es_reentrant_enter(void *self, void **result)
{
    es_reentrant *r = self;
    es_error *err = NULL;

    if (!r->type || !r->type->enter || !r->type->exit) {
        err = es_error_new(EINVAL, "reentrant: inner type lacks enter or exit");
        goto out;
    }
    if (r->depth == 0) {
        err = r->type->enter(r->self, &r->result);
        if (err)
            goto out; /* depth stays 0 */
    }
    r->depth++;
    *result = r->result;
out:
    return err;
}

static bool es_reentrant_exit(void *self, const es_error *cur, es_error **raise)
{
    es_reentrant *r = self;

    if (r->depth == 0) {
        *raise = es_error_new(EINVAL, "reentrant: exit at depth 0");
        return false;
    }
    if (--r->depth > 0)
        return false;
    return r->type->exit(r->self, cur, raise);
}

const es_type es_reentrant_type = {"reentrant", es_reentrant_enter, es_reentrant_exit};

/* ---------------------------------------------------- scope-bound (19) */

void es_scope_end_(es_scope_ *scope)
{
    es_error *e;

    if (scope->stack) {
        e = es_close(scope->stack);
        es_free(scope->stack);
    } else {
        e = es_error_new(ENOMEM, "ES_SCOPE: stack could not be allocated");
    }
    if (scope->out)
        *scope->out = es_error_chain(e, *scope->out);
    else
        es_error_free(e);
}
