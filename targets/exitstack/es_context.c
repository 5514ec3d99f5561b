/*
 * es_context.c — context variables (rules 15-16), after Python's contextvars.
 *
 * A context is an array of bindings (variable id, value, set?). Each thread
 * starts in its own root context; es_context_run() makes another context
 * current for the duration of a call. Variables and contexts are named by
 * ids from a global counter, so a token can tell "another variable" and
 * "another context" apart even after memory is reused; that counter and the
 * per-thread current context are the library's only global state.
 *
 * Unsetting keeps the binding's slot (marked unset), so es_var_reset() never
 * allocates and therefore cannot fail for lack of memory.
 */
#include "exitstack.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "es_internal.h"

typedef struct es_binding {
    unsigned long var;
    void *value;
    bool set;
} es_binding;

struct es_context {
    unsigned long id;
    es_binding *b;
    size_t n, cap;
    atomic_bool entered;
};

struct es_var {
    unsigned long id;
    const char *name;
};

struct es_token {
    unsigned long var, ctx;
    void *old;
    bool had_old, used;
};

static atomic_ulong es_next_id = 2; /* 1: es_current_var */
static _Thread_local es_context es_root; /* id 0 until first used */
static _Thread_local es_context *es_cur_ctx;
static pthread_once_t es_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t es_key;

static void es_root_release(void *p)
{
    es_context *c = p;

    es_free_(c->b);
    c->b = NULL;
    c->n = c->cap = 0;
}

void es_thread_cleanup(void)
{
    es_root_release(&es_root);
}

static void es_key_init(void)
{
    pthread_key_create(&es_key, es_root_release);
}

static es_context *es_ctx(void)
{
    if (es_cur_ctx)
        return es_cur_ctx;
    if (es_root.id == 0)
        es_root.id = atomic_fetch_add(&es_next_id, 1);
    return &es_root;
}

static es_binding *es_find(es_context *c, unsigned long var)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (c->b[i].var == var)
            return &c->b[i];
    return NULL;
}

es_var *es_var_new(const char *name)
{
    es_var *v = es_malloc_(sizeof *v);

    if (!v) {
        errno = ENOMEM;
        return NULL;
    }
    v->id = atomic_fetch_add(&es_next_id, 1);
    v->name = name;
    return v;
}

void es_var_free(es_var *v)
{
    es_free_(v);
}

bool es_var_get(const es_var *v, void **value)
{
    es_binding *b = v ? es_find(es_ctx(), v->id) : NULL;

    if (!b || !b->set)
        return false;
    if (value)
        *value = b->value;
    return true;
}

es_token *es_var_set(es_var *v, void *value)
{
    es_context *c = es_ctx();
    es_binding *b, *nb;
    es_token *t = NULL;
    size_t cap;

    if (!v) {
        errno = EINVAL;
        goto out;
    }
    t = es_malloc_(sizeof *t);
    if (!t)
        goto nomem;
    b = es_find(c, v->id);
    if (!b) {
        if (c->n == c->cap) {
            cap = c->cap ? c->cap * 2 : 4;
            nb = es_realloc_(c->b, cap * sizeof *nb);
            if (!nb)
                goto nomem;
            if (c == &es_root && !c->b) {
                pthread_once(&es_key_once, es_key_init);
                pthread_setspecific(es_key, c);
            }
            c->b = nb;
            c->cap = cap;
        }
        b = &c->b[c->n++];
        b->var = v->id;
        b->set = false;
        b->value = NULL;
    }
    t->var = v->id;
    t->ctx = c->id;
    t->old = b->value;
    t->had_old = b->set;
    t->used = false;
    b->value = value;
    b->set = true;
    goto out;
nomem:
    es_free_(t);
    t = NULL;
    errno = ENOMEM;
out:
    return t;
}

int es_var_reset(es_var *v, es_token *t)
{
    es_context *c = es_ctx();
    es_binding *b;

    if (!v || !t)
        return EINVAL;
    if (t->used)
        return EALREADY;
    if (t->var != v->id)
        return EINVAL;
    if (t->ctx != c->id)
        return EXDEV;
    b = es_find(c, v->id); /* exists: the set that made t created it */
    if (!b)
        return EXDEV;
    b->value = t->had_old ? t->old : NULL;
    b->set = t->had_old;
    t->used = true;
    return 0;
}

void es_token_free(es_token *t)
{
    es_free_(t);
}

es_context *es_context_copy(void)
{
    es_context *src = es_ctx(), *c = es_malloc_(sizeof *c);

    if (!c)
        goto nomem;
    c->id = atomic_fetch_add(&es_next_id, 1);
    c->n = c->cap = src->n;
    c->b = NULL;
    atomic_init(&c->entered, false);
    if (src->n) {
        c->b = es_malloc_(src->n * sizeof *c->b);
        if (!c->b) {
            es_free_(c);
            goto nomem;
        }
        memcpy(c->b, src->b, src->n * sizeof *c->b);
    }
    return c;
nomem:
    errno = ENOMEM;
    return NULL;
}

int es_context_run(es_context *c, void (*fn)(void *), void *arg)
{
    es_context *saved;
    bool no = false;

    if (!c || !fn)
        return EINVAL;
    if (!atomic_compare_exchange_strong(&c->entered, &no, true))
        return EBUSY;
    saved = es_cur_ctx;
    es_cur_ctx = c;
    fn(arg);
    es_cur_ctx = saved;
    atomic_store(&c->entered, false);
    return 0;
}

void es_context_free(es_context *c)
{
    if (!c)
        return;
    es_free_(c->b);
    es_free_(c);
}

/* --------------------------------------------- the current stack (16) */

/* id 1 is reserved for this variable; es_next_id starts at 2 */
static es_var es_current_var = {1, "exitstack.current"};

static es_var *es_current_var_get(void)
{
    return &es_current_var;
}

es_stack *es_current(void)
{
    void *v = NULL;

    return es_var_get(es_current_var_get(), &v) ? v : NULL;
}

es_token *es_set_current(es_stack *s)
{
    return es_var_set(es_current_var_get(), s);
}

int es_reset_current(es_token *t)
{
    return es_var_reset(es_current_var_get(), t);
}
