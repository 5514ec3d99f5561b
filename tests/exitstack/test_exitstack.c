/*
 * test_exitstack.c — one test per rule of exitstack-semantics.md (rule01..19)
 * and CPython's ExitStack tests (Lib/test/test_contextlib.py, TestBaseExitStack)
 * translated to C (py_*). Run as `test_exitstack NAME`; each NAME is a ctest.
 * `test_exitstack --list` prints every name (ctest checks that the CMake list
 * and this table agree, so no test can silently go missing).
 *
 * Every test runs under a counting allocator installed with es_set_allocator:
 * at the end of each test every library allocation must have been freed, and
 * tests can make the N-th allocation fail.
 */
#include "exitstack.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            exit(1);                                                               \
        }                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_) {                                                                    \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                    #a, a_, #b, b_);                                                       \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------ counting allocator */

/* atomic: rule17 allocates from two threads. fail_at: fail the fail_at-th
 * allocation from now (0: never) */
static _Atomic long n_alloc, n_free, fail_at, n_seen;

static void *t_malloc(size_t n)
{
    if (fail_at && ++n_seen == fail_at)
        return NULL;
    n_alloc++;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    if (fail_at && ++n_seen == fail_at)
        return NULL;
    if (!p)
        n_alloc++;
    return realloc(p, n);
}
static void t_free(void *p)
{
    if (p)
        n_free++;
    free(p);
}
static void fail_nth(long n)
{
    n_seen = 0;
    fail_at = n;
}

/* ------------------------------------------------------------ helpers */

static int log_v[64];
static int log_n;
static void log_reset(void) { log_n = 0; }
static void log_add(int v)
{
    CHECK(log_n < 64);
    log_v[log_n++] = v;
}
static void log_expect(int n, const int *v)
{
    CHECK_EQ(log_n, n);
    for (int i = 0; i < n; i++)
        CHECK_EQ(log_v[i], v[i]);
}
#define LOG_EXPECT(...)                              \
    do {                                             \
        int e_[] = {__VA_ARGS__};                    \
        log_expect((int)(sizeof e_ / sizeof *e_), e_); \
    } while (0)

static es_error *cb_log(void *arg)
{
    log_add((int)(intptr_t)arg);
    return NULL;
}
/* fails with code = id + 1000 */
static es_error *cb_fail(void *arg)
{
    int id = (int)(intptr_t)arg;
    log_add(id);
    return es_error_new(id + 1000, "callback %d failed", id);
}
#define P(i) ((void *)(intptr_t)(i))

/* exit handlers: log (id*100 + seen code % 100), behaviour by kind */
static int seen_code(const es_error *cur) { return cur ? cur->code : 0; }
static bool ex_pass(void *self, const es_error *cur, es_error **raise)
{
    log_add((int)(intptr_t)self * 10000 + seen_code(cur));
    return false;
}
static bool ex_suppress(void *self, const es_error *cur, es_error **raise)
{
    log_add((int)(intptr_t)self * 10000 + seen_code(cur));
    return true;
}
static bool ex_raise(void *self, const es_error *cur, es_error **raise)
{
    int id = (int)(intptr_t)self;
    log_add(id * 10000 + seen_code(cur));
    *raise = es_error_new(id + 1000, "handler %d raised", id);
    return true; /* ignored: raising wins */
}

/* chain codes, outermost first; 0 terminates */
static void chain_expect(const es_error *e, int n, const int *codes)
{
    for (int i = 0; i < n; i++) {
        CHECK(e != NULL);
        CHECK_EQ(e->code, codes[i]);
        e = e->context;
    }
    CHECK(e == NULL);
}
#define CHAIN_EXPECT(e, ...)                                 \
    do {                                                     \
        int c_[] = {__VA_ARGS__};                            \
        chain_expect((e), (int)(sizeof c_ / sizeof *c_), c_); \
    } while (0)

/* ------------------------------------------------------------- rules */

static void rule01_lifo(void)
{
    es_stack *s = es_new();
    CHECK(s);
    for (int i = 1; i <= 5; i++)
        CHECK_EQ(es_callback(s, i == 3 ? cb_fail : cb_log, P(i)), 0);
    CHECK_EQ(es_size(s), 5);
    es_error *e = es_close(s);
    LOG_EXPECT(5, 4, 3, 2, 1); /* all ran once, in reverse, despite the failure */
    CHAIN_EXPECT(e, 1003);
    CHECK_EQ(es_size(s), 0);
    es_error_free(e);
    log_reset();
    CHECK(es_close(s) == NULL); /* nothing runs twice */
    CHECK_EQ(log_n, 0);
    es_free(s);
}

static void rule02_close_idempotent(void)
{
    es_stack *s = es_new();
    CHECK_EQ(es_callback(s, cb_log, P(1)), 0);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    CHECK_EQ(es_callback(s, cb_log, P(2)), 0); /* still usable */
    CHECK_EQ(es_callback(s, cb_fail, P(3)), 0);
    es_error *e = es_close(s);
    LOG_EXPECT(1, 3, 2);
    CHAIN_EXPECT(e, 1003);
    es_error_free(e);
    CHECK(es_close(s) == NULL);
    es_free(s);
}

static es_stack *g_s, *g_popped;
static es_error *cb_register_more(void *arg)
{
    log_add((int)(intptr_t)arg);
    CHECK_EQ(es_callback(g_s, cb_log, P(99)), 0);
    return NULL;
}
static void rule03_register_during_unwind(void)
{
    g_s = es_new();
    es_callback(g_s, cb_log, P(1));
    es_callback(g_s, cb_register_more, P(2));
    es_callback(g_s, cb_log, P(3));
    CHECK(es_close(g_s) == NULL);
    LOG_EXPECT(3, 2, 99, 1); /* the new entry ran next, in the same unwind */
    CHECK_EQ(es_size(g_s), 0);
    es_free(g_s);
}

static es_error *cb_pop_all(void *arg)
{
    log_add((int)(intptr_t)arg);
    g_popped = es_pop_all(g_s);
    CHECK(g_popped);
    return NULL;
}
static void rule03_pop_all_during_unwind(void)
{
    g_s = es_new();
    es_callback(g_s, cb_log, P(1));
    es_callback(g_s, cb_log, P(2));
    es_callback(g_s, cb_pop_all, P(3));
    es_callback(g_s, cb_log, P(4));
    CHECK(es_close(g_s) == NULL);
    LOG_EXPECT(4, 3); /* the unwind ended after the entry that popped */
    CHECK_EQ(es_size(g_s), 0);
    CHECK_EQ(es_size(g_popped), 2);
    log_reset();
    CHECK(es_close(g_popped) == NULL);
    LOG_EXPECT(2, 1);
    es_free(g_popped);
    es_free(g_s);
}

static es_error *cb_close_self(void *arg)
{
    log_add((int)(intptr_t)arg);
    return es_close(g_s); /* drains the rest; its error is ours */
}
static void rule03_close_during_unwind(void)
{
    g_s = es_new();
    es_callback(g_s, cb_log, P(1));
    es_callback(g_s, cb_fail, P(2));
    es_callback(g_s, cb_close_self, P(3));
    es_callback(g_s, cb_log, P(4));
    es_error *e = es_close(g_s);
    LOG_EXPECT(4, 3, 2, 1);
    CHAIN_EXPECT(e, 1002);
    es_error_free(e);
    CHECK_EQ(es_size(g_s), 0);
    es_free(g_s);
}

/* rule 4: 1,000,000 entries on a 64 KiB thread stack */
static long million_count;
static es_error *cb_count(void *arg)
{
    million_count++;
    return NULL;
}
static es_error *cb_count_fail(void *arg)
{
    million_count++;
    return es_error_new(EIO, NULL);
}
static bool ex_count_suppress_odd(void *self, const es_error *cur, es_error **raise)
{
    million_count++;
    return ((intptr_t)self & 1) != 0;
}
static void *million_thread(void *arg)
{
    es_stack *s = es_new();
    int i;
    CHECK(s);
    million_count = 0;
    for (i = 0; i < 1000000; i++)
        CHECK_EQ(es_callback(s, cb_count, NULL), 0);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(million_count, 1000000);
    /* a million failing callbacks: a chain of a million errors, freed iteratively */
    million_count = 0;
    for (i = 0; i < 1000000; i++)
        CHECK_EQ(es_callback(s, cb_count_fail, NULL), 0);
    es_error *e = es_close(s);
    CHECK_EQ(million_count, 1000000);
    CHECK_EQ(es_error_depth(e), 1000000);
    es_error_free(e);
    /* handlers interleaved with failures */
    million_count = 0;
    for (i = 0; i < 500000; i++) {
        CHECK_EQ(es_callback(s, cb_count_fail, NULL), 0);
        CHECK_EQ(es_push(s, ex_count_suppress_odd, P(i)), 0);
    }
    e = es_close(s);
    CHECK_EQ(million_count, 1000000);
    /* odd handlers suppress, even ones leave: the last suppression is by i=1,
     * then callback(1) raises, handler 0 leaves, callback(0) raises over it */
    CHAIN_EXPECT(e, EIO, EIO);
    es_error_free(e);
    es_free(s);
    return P(1);
}
static void rule04_million_small_stack(void)
{
    pthread_attr_t a;
    pthread_t th;
    void *ret = NULL;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, 64 * 1024), 0);
    CHECK_EQ(pthread_create(&th, &a, million_thread, NULL), 0);
    CHECK_EQ(pthread_join(th, &ret), 0);
    CHECK(ret == P(1));
    pthread_attr_destroy(&a);
}

static void rule05_callback(void)
{
    es_stack *s = es_new();
    bool supp = true;
    es_callback(s, cb_log, P(7));
    es_callback(s, cb_log, P(8));
    /* callbacks neither see nor suppress the incoming error */
    es_error *e = es_exit(s, es_error_new(EPIPE, "incoming"), &supp);
    LOG_EXPECT(8, 7);
    CHECK(!supp);
    CHAIN_EXPECT(e, EPIPE);
    es_error_free(e);
    /* a raised error displaces the incoming one */
    log_reset();
    es_callback(s, cb_fail, P(1));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, 1001, EPIPE);
    CHECK(strcmp(e->message, "callback 1 failed") == 0);
    es_error_free(e);
    es_free(s);
}

static void rule06_push(void)
{
    es_stack *s = es_new();
    bool supp = false;
    /* registered bottom to top: pass(1) suppress(2) raise(3) pass(4) */
    es_push(s, ex_pass, P(1));
    es_push(s, ex_suppress, P(2));
    es_push(s, ex_raise, P(3));
    es_push(s, ex_pass, P(4));
    es_error *e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    /* 4 sees EPIPE and leaves it; 3 sees EPIPE, raises 1003; 2 sees 1003, suppresses; 1 sees none */
    LOG_EXPECT(40000 + EPIPE, 30000 + EPIPE, 20000 + 1003, 10000);
    CHECK(e == NULL);
    CHECK(supp); /* incoming was suppressed (as part of 1003's chain) */
    /* suppression clears only the current error: a later entry may raise again */
    log_reset();
    es_callback(s, cb_fail, P(5));
    es_push(s, ex_suppress, P(6));
    es_callback(s, cb_fail, P(7));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    LOG_EXPECT(7, 60000 + 1007, 5);
    CHECK(supp);
    CHAIN_EXPECT(e, 1005); /* no trace of the suppressed chain */
    es_error_free(e);
    /* a handler that leaves: incoming not suppressed */
    log_reset();
    es_push(s, ex_pass, P(1));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, EPIPE);
    es_error_free(e);
    /* suppress with no current error: nothing to suppress, not reported */
    es_push(s, ex_suppress, P(1));
    CHECK(es_exit(s, NULL, &supp) == NULL);
    CHECK(!supp);
    es_free(s);
}

/* a context manager: a resource counter */
typedef struct res {
    int acquired, released;
    int fail_enter; /* enter fails with this code */
    int id;
} res;
static es_error *res_enter(void *self, void **result)
{
    res *r = self;
    log_add(r->id);
    if (r->fail_enter)
        return es_error_new(r->fail_enter, "enter %d failed", r->id);
    r->acquired++;
    *result = r;
    return NULL;
}
static bool res_exit(void *self, const es_error *cur, es_error **raise)
{
    res *r = self;
    log_add(-r->id);
    r->released++;
    return false;
}
static const es_type res_type = {"res", res_enter, res_exit};
static const es_type no_enter = {"no_enter", NULL, res_exit};
static const es_type no_exit = {"no_exit", res_enter, NULL};

/* an enter that registers on the same stack (fills the reserved slot) */
static es_error *greedy_enter(void *self, void **result)
{
    res *r = self;
    r->acquired++;
    CHECK_EQ(es_callback(g_s, cb_log, P(77)), 0);
    fail_nth(1); /* the growth after enter fails */
    *result = r;
    return NULL;
}
static const es_type greedy_type = {"greedy", greedy_enter, res_exit};

static void rule07_enter(void)
{
    es_stack *s = es_new();
    res r = {0, 0, 0, 1};
    void *out = NULL;
    es_error *e;

    e = es_enter(s, &no_enter, &r, &out);
    CHECK(e && e->code == EINVAL);
    es_error_free(e);
    e = es_enter(s, &no_exit, &r, &out);
    CHECK(e && e->code == EINVAL);
    es_error_free(e);
    CHECK_EQ(log_n, 0); /* nothing called */
    CHECK_EQ(es_size(s), 0);
    /* enter fails: its error comes back, nothing registered */
    r.fail_enter = EACCES;
    e = es_enter(s, &res_type, &r, &out);
    CHAIN_EXPECT(e, EACCES);
    es_error_free(e);
    CHECK_EQ(es_size(s), 0);
    CHECK(out == NULL);
    /* success: result handed back, exit registered */
    r.fail_enter = 0;
    log_reset();
    CHECK(es_enter(s, &res_type, &r, &out) == NULL);
    CHECK(out == &r);
    CHECK_EQ(es_size(s), 1);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1, -1);
    CHECK_EQ(r.acquired, 1);
    CHECK_EQ(r.released, 1);
    es_free(s);

    /* ENOMEM when reserving the slot: reported before enter is called */
    s = es_new();
    log_reset();
    fail_nth(1);
    e = es_enter(s, &res_type, &r, &out);
    fail_nth(0);
    CHECK(e && e->code == ENOMEM);
    es_error_free(e);
    CHECK_EQ(log_n, 0);
    CHECK_EQ(r.acquired, 1);
    CHECK_EQ(es_size(s), 0);
    es_free(s);

    /* enter filled the reserved slot and the stack cannot grow: released at once */
    g_s = es_new();
    res g = {0, 0, 0, 5};
    for (int i = 0; i < 15; i++) /* initial capacity is 16: leave one slot */
        es_callback(g_s, cb_log, P(i));
    log_reset();
    e = es_enter(g_s, &greedy_type, &g, &out);
    fail_nth(0);
    CHECK(e && e->code == ENOMEM);
    es_error_free(e);
    CHECK_EQ(g.acquired, 1);
    CHECK_EQ(g.released, 1);
    CHECK_EQ(es_size(g_s), 16); /* 15 + the callback enter registered */
    es_free(g_s);
}

static void rule08_registration_failure(void)
{
    es_stack *s = es_new();
    for (int i = 1; i <= 16; i++)
        CHECK_EQ(es_callback(s, cb_log, P(i)), 0);
    fail_nth(1); /* the 17th needs the array to grow */
    CHECK_EQ(es_callback(s, cb_log, P(17)), ENOMEM);
    fail_nth(1);
    CHECK_EQ(es_push(s, ex_pass, P(17)), ENOMEM);
    fail_nth(0);
    CHECK_EQ(es_size(s), 16);
    CHECK_EQ(es_callback(s, NULL, NULL), EINVAL);
    CHECK_EQ(es_push(NULL, ex_pass, NULL), EINVAL);
    CHECK_EQ(es_callback(NULL, cb_log, NULL), EINVAL);
    CHECK_EQ(es_size(s), 16);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 16);
    CHECK_EQ(log_v[0], 16);
    CHECK_EQ(log_v[15], 1);
    /* es_new out of memory */
    fail_nth(1);
    CHECK(es_new() == NULL);
    CHECK_EQ(errno, ENOMEM);
    fail_nth(0);
    es_free(s);
}

static void rule09_exit_incoming(void)
{
    es_stack *s = es_new();
    bool supp = true;
    es_error *e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHAIN_EXPECT(e, EPIPE); /* empty stack: incoming comes back */
    CHECK(!supp);
    es_error_free(e);
    es_push(s, ex_suppress, P(1));
    CHECK(es_exit(s, es_error_new(EPIPE, NULL), &supp) == NULL);
    CHECK(supp);
    LOG_EXPECT(10000 + EPIPE);
    /* close is exit with no incoming error */
    log_reset();
    es_push(s, ex_pass, P(2));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(20000);
    es_free(s);
}

/* handler raising an error that already has a chain */
static es_error *prebuilt;
static bool ex_raise_prebuilt(void *self, const es_error *cur, es_error **raise)
{
    *raise = prebuilt;
    return false;
}
static bool ex_reraise(void *self, const es_error *cur, es_error **raise)
{
    *raise = (es_error *)cur;
    return false;
}
static void rule10_context_chain(void)
{
    es_stack *s = es_new();
    /* raised error with its own chain: displaced goes at the end */
    prebuilt = es_error_chain(es_error_new(2, NULL), es_error_new(3, NULL));
    CHAIN_EXPECT(prebuilt, 2, 3);
    es_push(s, ex_raise_prebuilt, NULL);
    es_error *e = es_exit(s, es_error_new(1, NULL), NULL);
    CHAIN_EXPECT(e, 2, 3, 1);
    /* chaining an error already in the chain changes nothing (no cycle, no double) */
    es_error *tail = e->context->context;
    CHECK(es_error_chain(e, tail) == e);
    CHAIN_EXPECT(e, 2, 3, 1);
    CHECK(es_error_chain(e, e) == e);
    CHAIN_EXPECT(e, 2, 3, 1);
    es_error_free(e);
    /* re-raising the current error leaves it as is */
    es_push(s, ex_reraise, NULL);
    e = es_exit(s, es_error_new(4, NULL), NULL);
    CHAIN_EXPECT(e, 4);
    es_error_free(e);
    /* the shared ENOMEM error cannot carry a context: it goes last, nothing lost */
    e = es_error_chain(ES_NOMEM, es_error_new(5, NULL));
    CHAIN_EXPECT(e, 5, ENOMEM);
    e = es_error_chain(es_error_new(6, NULL), e);
    CHAIN_EXPECT(e, 6, 5, ENOMEM);
    e = es_error_chain(ES_NOMEM, e); /* already there */
    CHAIN_EXPECT(e, 6, 5, ENOMEM);
    es_error *x = es_error_chain(es_error_new(7, NULL), ES_NOMEM);
    x = es_error_chain(x, es_error_new(8, NULL)); /* 8 goes before the ENOMEM tail */
    CHAIN_EXPECT(x, 7, 8, ENOMEM);
    es_error_free(x);
    es_error_free(e);
    es_error_free(ES_NOMEM); /* ignored */
    CHECK_EQ(ES_NOMEM->code, ENOMEM);
    CHECK(ES_NOMEM->context == NULL);
    /* es_error_new never returns NULL */
    fail_nth(1);
    CHECK(es_error_new(EIO, "x") == ES_NOMEM);
    fail_nth(0);
    es_free(s);
}

static void rule11_chained_without_incoming(void)
{
    es_stack *s = es_new();
    es_callback(s, cb_fail, P(1)); /* outer: registered first, runs last */
    es_callback(s, cb_fail, P(2)); /* inner: runs first */
    es_error *e = es_close(s);
    /* the outer callback's error wins; the inner one's is its context, not
     * dropped (unlike cpython#102201) */
    CHAIN_EXPECT(e, 1001, 1002);
    es_error_free(e);
    es_free(s);
}

static void rule12_caller_frees_chain(void)
{
    es_stack *s = es_new();
    for (int i = 0; i < 5; i++)
        es_callback(s, cb_fail, P(i));
    long a0 = n_alloc, f0 = n_free; /* errors only from here on */
    CHECK_EQ(es_cancel(s, es_error_new(ECANCELED, NULL)), 0);
    es_error *e = es_close(s); /* group [cancel, chain of 5] */
    CHECK(e->nmembers == 2);
    CHECK(n_alloc - a0 > 6);
    es_error_free(e); /* one call frees group, members and chains */
    CHECK_EQ(n_alloc - a0, n_free - f0);
    es_free(s);
}

static void rule13_pop_all(void)
{
    es_stack *s = es_new(), *t;
    for (int i = 1; i <= 3; i++)
        es_callback(s, cb_log, P(i));
    t = es_pop_all(s);
    CHECK(t);
    CHECK_EQ(es_size(s), 0);
    CHECK_EQ(es_size(t), 3);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 0);
    CHECK(es_close(t) == NULL);
    LOG_EXPECT(3, 2, 1);
    es_free(t);
    /* out of memory: NULL and the old stack unchanged */
    es_callback(s, cb_log, P(4));
    fail_nth(1);
    CHECK(es_pop_all(s) == NULL);
    fail_nth(0);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(es_size(s), 1);
    log_reset();
    es_free(s); /* runs what is left */
    LOG_EXPECT(4);
}

/* rule 14: a login session reused by nested push/pull */
typedef struct session {
    int logins, logouts, fail_login;
} session;
static es_error *login(void *self, void **result)
{
    session *ss = self;
    if (ss->fail_login)
        return es_error_new(ECONNREFUSED, "login refused");
    ss->logins++;
    *result = ss;
    return NULL;
}
static bool logout(void *self, const es_error *cur, es_error **raise)
{
    ((session *)self)->logouts++;
    return false;
}
static const es_type session_type = {"session", login, logout};

static void rule14_reentrant(void)
{
    session ss = {0, 0, 0};
    es_reentrant r = ES_REENTRANT_INIT(&session_type, &ss);
    es_stack *outer = es_new();
    void *res = NULL;
    CHECK(es_enter(outer, &es_reentrant_type, &r, &res) == NULL);
    CHECK(res == &ss);
    CHECK_EQ(r.depth, 1);
    for (int i = 0; i < 10; i++) { /* a batch of pushes */
        es_stack *inner = es_new();
        CHECK(es_enter(inner, &es_reentrant_type, &r, &res) == NULL);
        CHECK(res == &ss);
        CHECK_EQ(r.depth, 2);
        CHECK(es_close(inner) == NULL);
        CHECK_EQ(r.depth, 1);
        es_free(inner);
    }
    CHECK_EQ(ss.logins, 1);
    CHECK_EQ(ss.logouts, 0);
    CHECK(es_close(outer) == NULL);
    CHECK_EQ(ss.logins, 1);
    CHECK_EQ(ss.logouts, 1);
    CHECK_EQ(r.depth, 0);
    /* first acquire fails: depth stays 0 */
    ss.fail_login = 1;
    es_error *e = es_enter(outer, &es_reentrant_type, &r, &res);
    CHAIN_EXPECT(e, ECONNREFUSED);
    es_error_free(e);
    CHECK_EQ(r.depth, 0);
    CHECK_EQ(es_size(outer), 0);
    /* exit at depth 0: an error, no side effect */
    es_error *raised = NULL;
    es_reentrant_type.exit(&r, NULL, &raised);
    CHAIN_EXPECT(raised, EINVAL);
    es_error_free(raised);
    CHECK_EQ(r.depth, 0);
    CHECK_EQ(ss.logouts, 1);
    es_free(outer);
}

static void rule15_contextvar_tokens(void)
{
    es_var *v = es_var_new("v"), *w = es_var_new("w");
    void *val = NULL;
    CHECK(!es_var_get(v, &val));
    es_token *t1 = es_var_set(v, P(1));
    es_token *t2 = es_var_set(v, P(2));
    es_token *t3 = es_var_set(v, P(3));
    CHECK(es_var_get(v, &val) && val == P(3));
    /* resets need not be LIFO: t2 restores the value before it (1) */
    CHECK_EQ(es_var_reset(v, t2), 0);
    CHECK(es_var_get(v, &val) && val == P(1));
    /* already used */
    CHECK_EQ(es_var_reset(v, t2), EALREADY);
    /* another variable's token: refused; refusal does not use the token */
    CHECK_EQ(es_var_reset(w, t3), EINVAL);
    CHECK(es_var_get(v, &val) && val == P(1));
    /* order of checks: used before other-variable */
    CHECK_EQ(es_var_reset(w, t2), EALREADY);
    CHECK_EQ(es_var_reset(v, t3), 0); /* t3 still usable: restores 2 */
    CHECK(es_var_get(v, &val) && val == P(2));
    CHECK_EQ(es_var_reset(v, t1), 0); /* unsets */
    CHECK(!es_var_get(v, &val));
    es_token_free(t1);
    es_token_free(t2);
    es_token_free(t3);
    es_var_free(v);
    es_var_free(w);
}

/* token made in another context */
static es_var *g_v;
static es_token *g_tok;
static void set_in_copy(void *arg)
{
    g_tok = es_var_set(g_v, arg);
    void *val = NULL;
    CHECK(es_var_get(g_v, &val) && val == arg);
}
static void reset_in_copy(void *arg)
{
    CHECK_EQ(es_var_reset(g_v, g_tok), 0);
}
static void rule15_token_other_context(void)
{
    g_v = es_var_new("v");
    es_var *w = es_var_new("w");
    es_context *c = es_context_copy();
    CHECK_EQ(es_context_run(c, set_in_copy, P(5)), 0);
    CHECK(!es_var_get(g_v, NULL));              /* stayed inside */
    CHECK_EQ(es_var_reset(g_v, g_tok), EXDEV);  /* other context */
    CHECK_EQ(es_var_reset(w, g_tok), EINVAL);   /* other var checked before context */
    CHECK_EQ(es_context_run(c, reset_in_copy, NULL), 0); /* token not used up */
    CHECK_EQ(es_var_reset(g_v, g_tok), EALREADY);
    es_token_free(g_tok);
    es_context_free(c);
    es_var_free(g_v);
    es_var_free(w);
}

static void deep_code(void *arg)
{
    /* registers on the caller's stack without being passed it */
    CHECK_EQ(es_callback(es_current(), cb_log, arg), 0);
}
static es_context *g_ctx;
static void nop_fn(void *arg) { log_add(-1); }
static void run_in_copy(void *arg)
{
    es_stack *s = es_new();
    CHECK_EQ(es_context_run(g_ctx, nop_fn, NULL), EBUSY); /* already entered */
    es_token *t = es_set_current(s);
    deep_code(arg);
    CHECK(es_current() == s);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(es_reset_current(t), 0);
    es_token_free(t);
    es_free(s);
}
static void rule16_context_copy_current_stack(void)
{
    es_stack *s = es_new();
    CHECK(es_current() == NULL);
    es_token *t = es_set_current(s);
    CHECK(es_current() == s);
    deep_code(P(1));
    es_context *c = es_context_copy();
    g_ctx = c;
    CHECK_EQ(es_context_run(c, run_in_copy, P(2)), 0);
    LOG_EXPECT(2); /* the copy's own stack ran the inner cleanup */
    CHECK(es_current() == s); /* the inner set stayed inside the copy */
    CHECK_EQ(es_size(s), 1);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(2, 1);
    CHECK_EQ(es_reset_current(t), 0);
    CHECK(es_current() == NULL);
    es_token_free(t);
    es_context_free(c);
    es_free(s);
}

/* rule 17: cancellation, level-triggered, from an entry and from a thread */
static es_error *cb_cancel_self(void *arg)
{
    log_add((int)(intptr_t)arg);
    CHECK_EQ(es_cancel(g_s, es_error_new(ECONNRESET, "lost")), 0);
    CHECK_EQ(es_check(g_s), ECONNRESET);
    return NULL;
}
static es_error *cb_check(void *arg)
{
    log_add(es_check(g_s)); /* during unwind: still cancelled */
    return NULL;
}
static void *cancel_thread(void *arg)
{
    es_stack *s = arg;
    for (int i = 0; i < 1000; i++) /* any number of times */
        es_cancel(s, es_error_new(ETIMEDOUT, "timeout %d", i));
    return NULL;
}
static void rule17_cancel(void)
{
    g_s = es_new();
    CHECK_EQ(es_check(g_s), 0);
    /* from another thread: the worker polls until it sees the cancellation */
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, cancel_thread, g_s), 0);
    while (es_check(g_s) == 0)
        ;
    CHECK_EQ(pthread_join(th, NULL), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(es_check(g_s), ETIMEDOUT); /* level-triggered */
    CHECK_EQ(es_cancel(g_s, NULL), EALREADY);
    es_callback(g_s, cb_check, NULL);
    es_error *e = es_close(g_s);
    LOG_EXPECT(ETIMEDOUT);
    CHAIN_EXPECT(e, ETIMEDOUT); /* the first cancellation, alone: no group */
    CHECK(strcmp(e->message, "timeout 0") == 0);
    es_error_free(e);
    CHECK_EQ(es_check(g_s), 0); /* the scope unwound */
    /* from an entry during the unwind */
    log_reset();
    es_callback(g_s, cb_check, NULL);
    es_callback(g_s, cb_cancel_self, P(1));
    e = es_close(g_s);
    LOG_EXPECT(1, ECONNRESET);
    CHAIN_EXPECT(e, ECONNRESET);
    es_error_free(e);
    CHECK_EQ(es_check(g_s), 0);
    /* cancelled while the owner is unwinding in another thread: race-free */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 100; i++)
            es_callback(g_s, cb_count, NULL);
        CHECK_EQ(pthread_create(&th, NULL, cancel_thread, g_s), 0);
        e = es_close(g_s);
        CHECK_EQ(pthread_join(th, NULL), 0);
        es_error_free(e);
        es_error_free(es_close(g_s)); /* a cancel that came after the unwind */
        CHECK_EQ(es_check(g_s), 0);
    }
    CHECK_EQ(es_cancel(NULL, es_error_new(EIO, NULL)), EINVAL);
    es_free(g_s);
}

static void rule18_cancel_group(void)
{
    es_stack *s = es_new();
    es_callback(s, cb_fail, P(1));
    es_callback(s, cb_fail, P(2));
    CHECK_EQ(es_cancel(s, es_error_new(ECONNRESET, "connection lost")), 0);
    es_error *e = es_close(s);
    CHECK(e);
    CHECK_EQ(e->nmembers, 2);
    CHECK(e->context == NULL);
    CHAIN_EXPECT(e->members[0], ECONNRESET);
    CHAIN_EXPECT(e->members[1], 1001, 1002); /* every unwind error kept, in order */
    es_error_free(e);
    /* only the cancellation: no group */
    es_cancel(s, NULL);
    e = es_close(s);
    CHAIN_EXPECT(e, ECANCELED);
    CHECK_EQ(e->nmembers, 0);
    es_error_free(e);
    /* only one error, no cancellation: no group */
    es_callback(s, cb_fail, P(3));
    e = es_close(s);
    CHAIN_EXPECT(e, 1003);
    es_error_free(e);
    /* cancellation + incoming */
    es_cancel(s, es_error_new(ECONNRESET, NULL));
    e = es_exit(s, es_error_new(EPIPE, NULL), NULL);
    CHECK_EQ(e->nmembers, 2);
    CHAIN_EXPECT(e->members[0], ECONNRESET);
    CHAIN_EXPECT(e->members[1], EPIPE);
    es_error_free(e);
    /* the group cannot be allocated: chained instead, nothing lost */
    es_callback(s, cb_fail, P(4));
    es_cancel(s, es_error_new(ECONNRESET, NULL));
    fail_nth(2); /* 1: callback 4's error, 2: the group */
    e = es_close(s);
    fail_nth(0);
    CHAIN_EXPECT(e, 1004, ECONNRESET);
    es_error_free(e);
    es_free(s);
}

static es_error *rule19_body(int fail, int *ran)
{
    es_error *err = NULL;
    {
        ES_SCOPE(st, &err);
        CHECK(st);
        es_callback(st, cb_log, P(1));
        es_callback(st, fail ? cb_fail : cb_log, P(2));
        CHECK_EQ(log_n, 0); /* nothing runs before the block ends */
        *ran = 1;
    }
    return err;
}
static void rule19_scope_macro(void)
{
    int ran = 0;
    CHECK(rule19_body(0, &ran) == NULL);
    CHECK(ran);
    LOG_EXPECT(2, 1);
    log_reset();
    es_error *e = rule19_body(1, &ran);
    LOG_EXPECT(2, 1);
    CHAIN_EXPECT(e, 1002);
    /* chained over what the caller's variable already held */
    log_reset();
    {
        ES_SCOPE(st, &e);
        es_callback(st, cb_fail, P(3));
    }
    CHAIN_EXPECT(e, 1003, 1002);
    es_error_free(e);
    /* stack could not be allocated: ENOMEM stored at block end */
    e = NULL;
    {
        fail_nth(1);
        ES_SCOPE(st, &e);
        fail_nth(0);
        CHECK(st == NULL);
        CHECK_EQ(es_callback(st, cb_log, P(1)), EINVAL);
    }
    CHAIN_EXPECT(e, ENOMEM);
    es_error_free(e);
}

/* ---------------------------------- CPython's ExitStack tests, in C */

static void py_no_resources(void)
{
    es_stack *s = es_new();
    CHECK(es_close(s) == NULL);
    CHECK(es_exit(s, NULL, NULL) == NULL);
    es_free(s);
}

/* test_callback: callbacks run in reverse order with their own arguments */
typedef struct args {
    int a, b;
} args;
static int got[8][2], ngot;
static es_error *cb_args(void *p)
{
    args *a = p;
    got[ngot][0] = a->a;
    got[ngot][1] = a->b;
    ngot++;
    return NULL;
}
static void py_callback_order(void)
{
    args as[4] = {{0, 0}, {1, 0}, {1, 2}, {3, 4}};
    es_stack *s = es_new();
    for (int i = 0; i < 4; i++)
        CHECK_EQ(es_callback(s, cb_args, &as[i]), 0);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(ngot, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(got[i][0], as[3 - i].a);
        CHECK_EQ(got[i][1], as[3 - i].b);
    }
    es_free(s);
}

/* test_push: handlers see the error in flight and may suppress it */
static int expect_code;
static bool ex_expect(void *self, const es_error *cur, es_error **raise)
{
    CHECK(cur != NULL);
    CHECK_EQ(cur->code, expect_code);
    log_add((int)(intptr_t)self);
    return false;
}
static void py_push_see_and_suppress(void)
{
    es_stack *s = es_new();
    bool supp = false;
    expect_code = EDOM;
    es_push(s, ex_pass, P(1));     /* below the suppressor: sees no error */
    es_push(s, ex_suppress, P(2)); /* sees EDOM and suppresses it */
    es_push(s, ex_expect, P(3));   /* sees EDOM */
    es_push(s, ex_expect, P(4));
    es_error *e = es_exit(s, es_error_new(EDOM, "ZeroDivisionError"), &supp);
    CHECK(e == NULL);
    CHECK(supp);
    LOG_EXPECT(4, 3, 20000 + EDOM, 10000);
    CHECK_EQ(es_size(s), 0);
    es_free(s);
}

/* test_enter_context */
static void py_enter_context(void)
{
    es_stack *s = es_new();
    res r = {0, 0, 0, 9};
    void *out = NULL;
    CHECK(es_enter(s, &res_type, &r, &out) == NULL);
    CHECK(out == &r);
    es_callback(s, cb_log, P(1)); /* registered after: runs before the exit */
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(9, 1, -9);
    es_free(s);
}

/* test_enter_context_errors: an object that is not a context manager */
static void py_enter_context_errors(void)
{
    es_stack *s = es_new();
    res r = {0, 0, 0, 9};
    es_error *e = es_enter(s, &no_exit, &r, NULL);
    CHECK(e && e->code == EINVAL);
    es_error_free(e);
    e = es_enter(s, NULL, &r, NULL);
    CHECK(e && e->code == EINVAL);
    es_error_free(e);
    CHECK_EQ(r.acquired, 0);
    CHECK_EQ(es_size(s), 0);
    es_free(s);
}

/* test_close: close runs the callbacks; then the stack is reusable */
static void py_close_then_reuse(void)
{
    es_stack *s = es_new();
    es_callback(s, cb_log, P(1));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    es_callback(s, cb_log, P(2));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1, 2);
    es_free(s);
}

/* test_pop_all: the classic "open all or none" transfer */
static void py_pop_all(void)
{
    es_stack *s = es_new(), *kept;
    es_callback(s, cb_log, P(1));
    kept = es_pop_all(s);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 0); /* moved out: nothing ran */
    CHECK(es_close(kept) == NULL);
    LOG_EXPECT(1);
    es_free(kept);
    es_free(s);
}

/* test_exit_raise: an error raised in the body passes through */
static void py_exit_raise(void)
{
    es_stack *s = es_new();
    bool supp = true;
    es_push(s, ex_pass, P(1));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, EDOM);
    es_error_free(e);
    es_free(s);
}

/* test_exit_suppress */
static void py_exit_suppress(void)
{
    es_stack *s = es_new();
    bool supp = false;
    es_push(s, ex_suppress, P(1));
    CHECK(es_exit(s, es_error_new(EDOM, NULL), &supp) == NULL);
    CHECK(supp);
    es_free(s);
}

/* test_exit_exception_chaining(_reference): each raised error's context is the
 * one it displaced, all the way to the body's error */
static void py_exit_exception_chaining(void)
{
    es_stack *s = es_new();
    es_push(s, ex_raise, P(1));  /* RaiseExc(IndexError) */
    es_push(s, ex_raise, P(2));  /* RaiseExc(KeyError) */
    es_push(s, ex_raise, P(3));  /* RaiseExc(AttributeError) */
    es_push(s, ex_pass, P(4));   /* sees ZeroDivisionError */
    es_error *e = es_exit(s, es_error_new(EDOM, "body"), NULL);
    CHAIN_EXPECT(e, 1001, 1002, 1003, EDOM);
    LOG_EXPECT(40000 + EDOM, 30000 + EDOM, 20000 + 1003, 10000 + 1002);
    es_error_free(e);
    es_free(s);
}

/* test_exit_exception_chaining_suppress: suppression followed by a new error */
static void py_exit_exception_chaining_suppress(void)
{
    es_stack *s = es_new();
    bool supp = false;
    es_push(s, ex_raise, P(1));     /* raises after the suppression */
    es_push(s, ex_suppress, P(2));
    es_push(s, ex_raise, P(3));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), &supp);
    CHECK(supp);
    CHAIN_EXPECT(e, 1001); /* context is None: the suppressed chain is gone */
    LOG_EXPECT(30000 + EDOM, 20000 + 1003, 10000);
    es_error_free(e);
    es_free(s);
}

/* test_exit_exception_with_existing_context */
static void py_exit_exception_with_existing_context(void)
{
    es_stack *s = es_new();
    prebuilt = es_error_chain(es_error_new(11, "exc4"), es_error_new(12, "exc5"));
    es_push(s, ex_raise_prebuilt, NULL);
    es_push(s, ex_raise, P(3));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), NULL);
    CHAIN_EXPECT(e, 11, 12, 1003, EDOM);
    es_error_free(e);
    es_free(s);
}

/* test_body_exception_suppress */
static void py_body_exception_suppress(void)
{
    es_stack *s = es_new();
    bool supp = false;
    es_push(s, ex_suppress, P(1));
    es_callback(s, cb_log, P(2));
    CHECK(es_exit(s, es_error_new(EDOM, NULL), &supp) == NULL);
    CHECK(supp);
    LOG_EXPECT(2, 10000 + EDOM);
    es_free(s);
}

/* chained errors from several failing callbacks (close, no incoming) */
static void py_several_failing_callbacks(void)
{
    es_stack *s = es_new();
    for (int i = 1; i <= 4; i++)
        es_callback(s, cb_fail, P(i));
    es_error *e = es_close(s);
    CHAIN_EXPECT(e, 1001, 1002, 1003, 1004);
    es_error_free(e);
    es_free(s);
}

/* test_excessive_nesting, scaled: 1,000,000 push handlers on a small stack */
static bool ex_nop(void *self, const es_error *cur, es_error **raise)
{
    million_count++;
    return false;
}
static void *nest_thread(void *arg)
{
    es_stack *s = es_new();
    million_count = 0;
    for (int i = 0; i < 1000000; i++)
        CHECK_EQ(es_push(s, ex_nop, NULL), 0);
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), NULL);
    CHAIN_EXPECT(e, EDOM);
    es_error_free(e);
    es_free(s);
    return NULL;
}
static void py_excessive_nesting(void)
{
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    CHECK_EQ(pthread_attr_setstacksize(&a, 64 * 1024), 0);
    CHECK_EQ(pthread_create(&th, &a, nest_thread, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(million_count, 1000000);
    pthread_attr_destroy(&a);
}

/* ------------------------------------------------------------ driver */

#define T(n) {#n, n}
static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    T(rule01_lifo), T(rule02_close_idempotent), T(rule03_register_during_unwind),
    T(rule03_pop_all_during_unwind), T(rule03_close_during_unwind), T(rule04_million_small_stack),
    T(rule05_callback), T(rule06_push), T(rule07_enter), T(rule08_registration_failure),
    T(rule09_exit_incoming), T(rule10_context_chain), T(rule11_chained_without_incoming),
    T(rule12_caller_frees_chain), T(rule13_pop_all), T(rule14_reentrant), T(rule15_contextvar_tokens),
    T(rule15_token_other_context), T(rule16_context_copy_current_stack), T(rule17_cancel),
    T(rule18_cancel_group), T(rule19_scope_macro),
    T(py_no_resources), T(py_callback_order), T(py_push_see_and_suppress), T(py_enter_context),
    T(py_enter_context_errors), T(py_close_then_reuse), T(py_pop_all), T(py_exit_raise),
    T(py_exit_suppress), T(py_exit_exception_chaining), T(py_exit_exception_chaining_suppress),
    T(py_exit_exception_with_existing_context), T(py_body_exception_suppress),
    T(py_several_failing_callbacks), T(py_excessive_nesting),
};
#define NTESTS (sizeof tests / sizeof *tests)

int main(int argc, char **argv)
{
    es_allocator a = {t_malloc, t_realloc, t_free};
    size_t i;
    int j;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < NTESTS; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--check-list") == 0) { /* CMake list == table */
        if ((size_t)(argc - 2) != NTESTS) {
            fprintf(stderr, "CMake registers %d tests, the table has %zu\n", argc - 2, NTESTS);
            return 1;
        }
        for (i = 0; i < NTESTS; i++) {
            for (j = 2; j < argc && strcmp(argv[j], tests[i].name) != 0; j++)
                ;
            if (j == argc) {
                fprintf(stderr, "%s is not registered with ctest\n", tests[i].name);
                return 1;
            }
        }
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s TEST | --list\n", argv[0]);
        return 2;
    }
    for (i = 0; i < NTESTS; i++) {
        if (strcmp(argv[1], tests[i].name) != 0)
            continue;
        es_set_allocator(&a);
        tests[i].fn();
        es_thread_cleanup(); /* the main thread's root context storage */
        if (n_alloc != n_free) {
            fprintf(stderr, "%s: %ld allocations, %ld frees\n", argv[1], n_alloc, n_free);
            return 1;
        }
        printf("%s: ok (%ld allocations)\n", argv[1], n_alloc);
        return 0;
    }
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
}
