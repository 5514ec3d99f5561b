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
 * allocates and therefore cannot fail for lack of memory; its refusals are
 * shared errors. Tokens are caller-owned values (es_token in the header is
 * opaque storage for struct es_tok below).
 */
#define ES_BUILDING_LIBRARY_ 1
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

typedef struct es_tok {
    uintptr_t var, ctx;
    void *old;
    uintptr_t state; /* ES_TOK_* */
} es_tok;
enum { ES_TOK_MADE = 1, ES_TOK_HAD_OLD = 2, ES_TOK_USED = 4 };
_Static_assert(sizeof(es_tok) <= sizeof(es_token), "es_token must hold es_tok");
_Static_assert(_Alignof(es_tok) <= _Alignof(es_token), "es_token alignment");

static atomic_ulong es_next_id = 2; /* 1: es_current_var */
static _Thread_local es_context es_root; /* id 0 until first used */
static _Thread_local es_context *es_cur_ctx;
static pthread_once_t es_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t es_key;

static void es_root_release(void *p)
{
    es_context *c = p;

    esi_free(c->b);
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

es_error *es_var_new(es_var **out, const char *name)
{
    es_var *v;

    if (!out)
        return ESI_REFUSE(inval);
    *out = NULL;
    v = esi_malloc(sizeof *v);
    if (!v)
        return ESI_REFUSE(nomem);
    v->id = atomic_fetch_add(&es_next_id, 1);
    v->name = name;
    *out = v;
    return NULL;
}

void es_var_free(es_var *v)
{
    esi_free(v);
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

es_error *es_var_set(es_var *v, void *value, es_token *tok)
{
    es_context *c = es_ctx();
    es_binding *b, *nb;
    es_tok *t = (es_tok *)tok;
    size_t cap;

    if (!v)
        return ESI_REFUSE(inval);
    b = es_find(c, v->id);
    if (!b) {
        if (c->n == c->cap) {
            cap = c->cap ? c->cap * 2 : 4;
            nb = esi_realloc(c->b, cap * sizeof *nb);
            if (!nb)
                return ESI_REFUSE(nomem);
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
    if (t) {
        t->var = v->id;
        t->ctx = c->id;
        t->old = b->value;
        t->state = ES_TOK_MADE | (b->set ? ES_TOK_HAD_OLD : 0);
    }
    b->value = value;
    b->set = true;
    return NULL;
}

es_error *es_var_reset(es_var *v, es_token *tok)
{
    es_context *c = es_ctx();
    es_tok *t = (es_tok *)tok;
    es_binding *b;

    if (!v || !t || !(t->state & ES_TOK_MADE))
        return ESI_REFUSE(inval);
    if (t->state & ES_TOK_USED)
        return ESI_REFUSE(already);
    if (t->var != v->id)
        return ESI_REFUSE(inval);
    if (t->ctx != c->id)
        return ESI_REFUSE(xdev);
    b = es_find(c, v->id); /* exists: the set that made t created it */
    if (!b)
        return ESI_REFUSE(xdev);
    b->set = (t->state & ES_TOK_HAD_OLD) != 0;
    b->value = b->set ? t->old : NULL;
    t->state |= ES_TOK_USED;
    return NULL;
}

es_error *es_context_copy(es_context **out)
{
    es_context *src = es_ctx(), *c;

    if (!out)
        return ESI_REFUSE(inval);
    *out = NULL;
    c = esi_malloc(sizeof *c);
    if (!c)
        return ESI_REFUSE(nomem);
    c->id = atomic_fetch_add(&es_next_id, 1);
    c->n = c->cap = src->n;
    c->b = NULL;
    atomic_init(&c->entered, false);
    if (src->n) {
        c->b = esi_malloc(src->n * sizeof *c->b);
        if (!c->b) {
            esi_free(c);
            return ESI_REFUSE(nomem);
        }
        memcpy(c->b, src->b, src->n * sizeof *c->b);
    }
    *out = c;
    return NULL;
}

es_error *es_context_run(es_context *c, es_error *(*fn)(void *), void *arg)
{
    es_context *saved;
    es_error *err;
    bool no = false;

    if (!c || !fn)
        return ESI_REFUSE(inval);
    if (!atomic_compare_exchange_strong(&c->entered, &no, true))
        return ESI_REFUSE(busy);
    saved = es_cur_ctx;
    es_cur_ctx = c;
    err = fn(arg);
    es_cur_ctx = saved;
    atomic_store(&c->entered, false);
    return err;
}

void es_context_free(es_context *c)
{
    if (!c)
        return;
    esi_free(c->b);
    esi_free(c);
}

es_error *es_run_in_copy(es_error *(*fn)(void *), void *arg)
{
    es_context *c;
    es_error *err;

    if (!fn)
        return ESI_REFUSE(inval);
    err = es_context_copy(&c);
    if (err)
        return err;
    err = es_context_run(c, fn, arg); /* a fresh copy is never busy */
    es_context_free(c);
    return err;
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

es_error *es_set_current(es_stack *s, es_token *tok)
{
    return es_var_set(es_current_var_get(), s, tok);
}

es_error *es_reset_current(es_token *tok)
{
    return es_var_reset(es_current_var_get(), tok);
}

es_error *es_with_current(es_stack *s, es_error *(*fn)(void *), void *arg)
{
    es_token tok;
    es_error *err, *rr;

    if (!fn)
        return ESI_REFUSE(inval);
    err = es_set_current(s, &tok);
    if (err)
        return err;
    err = fn(arg);
    rr = es_reset_current(&tok); /* refused only if fn left a different context current */
    return es_error_chain(err, rr);
}
