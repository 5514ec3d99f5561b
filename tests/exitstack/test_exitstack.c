/*
 * test_exitstack.c — tests per rule of docs/exitstack-semantics.md (ruleNN_*:
 * the name says which rule it checks; rules 1-23, --check-rules checks every
 * rule of the document has one)
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
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* internal (hidden in the shared library; linked from the static one) */
bool esi_reentrant_exit(void *self, const es_error *cur, es_error **raise);

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

#define CHECK_OK(x)                                                                    \
    do {                                                                               \
        es_error *ok_ = (x);                                                           \
        if (ok_) {                                                                     \
            fprintf(stderr, "%s:%d: %s failed: code %d, %s\n", __FILE__, __LINE__, #x,   \
                    ok_->code, ok_->message ? ok_->message : "");                      \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)
/* x is refused by the library with code c (rule 20); the refusal is freed */
#define CHECK_REFUSAL(x, c)                    \
    do {                                       \
        es_error *rf_ = (x);                   \
        CHECK(rf_ != NULL);                    \
        CHECK_EQ(rf_->code, (c));              \
        CHECK(es_error_is_refusal(rf_));       \
        es_error_free(rf_);                    \
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

static es_stack *new_stack(void)
{
    es_stack *s = NULL;
    CHECK_OK(es_new(&s));
    CHECK(s);
    return s;
}

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
    es_stack *s = new_stack();
    CHECK(s);
    for (int i = 1; i <= 5; i++)
        CHECK_OK(es_callback(s, i == 3 ? cb_fail : cb_log, P(i)));
    CHECK_EQ(es_size(s), 5);
    es_error *e = es_close(s);
    LOG_EXPECT(5, 4, 3, 2, 1); /* all ran once, in reverse, despite the failure */
    CHAIN_EXPECT(e, 1003);
    CHECK_EQ(es_size(s), 0);
    es_error_free(e);
    log_reset();
    CHECK(es_close(s) == NULL); /* nothing runs twice */
    CHECK_EQ(log_n, 0);
    CHECK_OK(es_free(s));
}

static void rule02_close_idempotent(void)
{
    es_stack *s = new_stack();
    CHECK_OK(es_callback(s, cb_log, P(1)));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    CHECK_OK(es_callback(s, cb_log, P(2))); /* still usable */
    CHECK_OK(es_callback(s, cb_fail, P(3)));
    es_error *e = es_close(s);
    LOG_EXPECT(1, 3, 2);
    CHAIN_EXPECT(e, 1003);
    es_error_free(e);
    CHECK(es_close(s) == NULL);
    CHECK_OK(es_free(s));
}

static es_stack *g_s, *g_popped;
static es_error *cb_register_more(void *arg)
{
    log_add((int)(intptr_t)arg);
    CHECK_OK(es_callback(g_s, cb_log, P(99)));
    return NULL;
}
static void rule03_register_during_unwind(void)
{
    g_s = new_stack();
    CHECK_OK(es_callback(g_s, cb_log, P(1)));
    CHECK_OK(es_callback(g_s, cb_register_more, P(2)));
    CHECK_OK(es_callback(g_s, cb_log, P(3)));
    CHECK(es_close(g_s) == NULL);
    LOG_EXPECT(3, 2, 99, 1); /* the new entry ran next, in the same unwind */
    CHECK_EQ(es_size(g_s), 0);
    CHECK_OK(es_free(g_s));
}

static es_error *cb_pop_all(void *arg)
{
    log_add((int)(intptr_t)arg);
    CHECK_OK(es_pop_all(g_s, &g_popped));
    CHECK(g_popped);
    return NULL;
}
static void rule03_pop_all_during_unwind(void)
{
    g_s = new_stack();
    CHECK_OK(es_callback(g_s, cb_log, P(1)));
    CHECK_OK(es_callback(g_s, cb_log, P(2)));
    CHECK_OK(es_callback(g_s, cb_pop_all, P(3)));
    CHECK_OK(es_callback(g_s, cb_log, P(4)));
    CHECK(es_close(g_s) == NULL);
    LOG_EXPECT(4, 3); /* the unwind ended after the entry that popped */
    CHECK_EQ(es_size(g_s), 0);
    CHECK_EQ(es_size(g_popped), 2);
    log_reset();
    CHECK(es_close(g_popped) == NULL);
    LOG_EXPECT(2, 1);
    CHECK_OK(es_free(g_popped));
    CHECK_OK(es_free(g_s));
}

static es_error *cb_close_self(void *arg)
{
    log_add((int)(intptr_t)arg);
    return es_close(g_s); /* drains the rest; its error is ours */
}
static void rule03_close_during_unwind(void)
{
    g_s = new_stack();
    CHECK_OK(es_callback(g_s, cb_log, P(1)));
    CHECK_OK(es_callback(g_s, cb_fail, P(2)));
    CHECK_OK(es_callback(g_s, cb_close_self, P(3)));
    CHECK_OK(es_callback(g_s, cb_log, P(4)));
    es_error *e = es_close(g_s);
    LOG_EXPECT(4, 3, 2, 1);
    CHAIN_EXPECT(e, 1002);
    es_error_free(e);
    CHECK_EQ(es_size(g_s), 0);
    CHECK_OK(es_free(g_s));
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
    es_stack *s = new_stack();
    int i;
    CHECK(s);
    million_count = 0;
    for (i = 0; i < 1000000; i++)
        CHECK_OK(es_callback(s, cb_count, NULL));
    CHECK(es_close(s) == NULL);
    CHECK_EQ(million_count, 1000000);
    /* a million failing callbacks: a chain of a million errors, freed iteratively */
    million_count = 0;
    for (i = 0; i < 1000000; i++)
        CHECK_OK(es_callback(s, cb_count_fail, NULL));
    es_error *e = es_close(s);
    CHECK_EQ(million_count, 1000000);
    CHECK_EQ(es_error_depth(e), 1000000);
    es_error_free(e);
    /* handlers interleaved with failures */
    million_count = 0;
    for (i = 0; i < 500000; i++) {
        CHECK_OK(es_callback(s, cb_count_fail, NULL));
        CHECK_OK(es_push_exit(s, ex_count_suppress_odd, P(i)));
    }
    e = es_close(s);
    CHECK_EQ(million_count, 1000000);
    /* odd handlers suppress, even ones leave: the last suppression is by i=1,
     * then callback(1) raises, handler 0 leaves, callback(0) raises over it */
    CHAIN_EXPECT(e, EIO, EIO);
    es_error_free(e);
    CHECK_OK(es_free(s));
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
    es_stack *s = new_stack();
    bool supp = true;
    CHECK_OK(es_callback(s, cb_log, P(7)));
    CHECK_OK(es_callback(s, cb_log, P(8)));
    /* callbacks neither see nor suppress the incoming error */
    es_error *e = es_exit(s, es_error_new(EPIPE, "incoming"), &supp);
    LOG_EXPECT(8, 7);
    CHECK(!supp);
    CHAIN_EXPECT(e, EPIPE);
    es_error_free(e);
    /* a raised error displaces the incoming one */
    log_reset();
    CHECK_OK(es_callback(s, cb_fail, P(1)));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, 1001, EPIPE);
    CHECK(strcmp(e->message, "callback 1 failed") == 0);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

static void rule06_push(void)
{
    es_stack *s = new_stack();
    bool supp = false;
    /* registered bottom to top: pass(1) suppress(2) raise(3) pass(4) */
    CHECK_OK(es_push_exit(s, ex_pass, P(1)));
    CHECK_OK(es_push_exit(s, ex_suppress, P(2)));
    CHECK_OK(es_push_exit(s, ex_raise, P(3)));
    CHECK_OK(es_push_exit(s, ex_pass, P(4)));
    es_error *e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    /* 4 sees EPIPE and leaves it; 3 sees EPIPE, raises 1003; 2 sees 1003, suppresses; 1 sees none */
    LOG_EXPECT(40000 + EPIPE, 30000 + EPIPE, 20000 + 1003, 10000);
    CHECK(e == NULL);
    CHECK(supp); /* incoming was suppressed (as part of 1003's chain) */
    /* suppression clears only the current error: a later entry may raise again */
    log_reset();
    CHECK_OK(es_callback(s, cb_fail, P(5)));
    CHECK_OK(es_push_exit(s, ex_suppress, P(6)));
    CHECK_OK(es_callback(s, cb_fail, P(7)));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    LOG_EXPECT(7, 60000 + 1007, 5);
    CHECK(supp);
    CHAIN_EXPECT(e, 1005); /* no trace of the suppressed chain */
    es_error_free(e);
    /* a handler that leaves: incoming not suppressed */
    log_reset();
    CHECK_OK(es_push_exit(s, ex_pass, P(1)));
    e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, EPIPE);
    es_error_free(e);
    /* suppress with no current error: nothing to suppress, not reported */
    CHECK_OK(es_push_exit(s, ex_suppress, P(1)));
    CHECK(es_exit(s, NULL, &supp) == NULL);
    CHECK(!supp);
    CHECK_OK(es_free(s));
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
    CHECK_OK(es_callback(g_s, cb_log, P(77)));
    fail_nth(1); /* the growth after enter fails */
    *result = r;
    return NULL;
}
static const es_type greedy_type = {"greedy", greedy_enter, res_exit};

static void rule07_enter(void)
{
    es_stack *s = new_stack();
    res r = {0, 0, 0, 1};
    void *out = NULL;
    es_error *e;

    CHECK_REFUSAL(es_enter(s, &no_enter, &r, &out), EINVAL);
    CHECK_REFUSAL(es_enter(s, &no_exit, &r, &out), EINVAL);
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
    CHECK_OK(es_free(s));

    /* ENOMEM when reserving the slot: reported before enter is called */
    s = new_stack();
    log_reset();
    fail_nth(1);
    CHECK_REFUSAL(es_enter(s, &res_type, &r, &out), ENOMEM);
    fail_nth(0);
    CHECK_EQ(log_n, 0);
    CHECK_EQ(r.acquired, 1);
    CHECK_EQ(es_size(s), 0);
    CHECK_OK(es_free(s));

    /* enter filled the reserved slot and the stack cannot grow: released at once */
    g_s = new_stack();
    res g = {0, 0, 0, 5};
    for (int i = 0; i < 15; i++) /* initial capacity is 16: leave one slot */
        CHECK_OK(es_callback(g_s, cb_log, P(i)));
    log_reset();
    CHECK_REFUSAL(es_enter(g_s, &greedy_type, &g, &out), ENOMEM);
    fail_nth(0);
    CHECK_EQ(g.acquired, 1);
    CHECK_EQ(g.released, 1);
    CHECK_EQ(es_size(g_s), 16); /* 15 + the callback enter registered */
    CHECK_OK(es_free(g_s));
}

static void rule08_registration_failure(void)
{
    es_stack *s = new_stack();
    for (int i = 1; i <= 16; i++)
        CHECK_OK(es_callback(s, cb_log, P(i)));
    fail_nth(1); /* the 17th needs the array to grow */
    CHECK_REFUSAL(es_callback(s, cb_log, P(17)), ENOMEM);
    fail_nth(1);
    CHECK_REFUSAL(es_push_exit(s, ex_pass, P(17)), ENOMEM);
    fail_nth(0);
    CHECK_EQ(es_size(s), 16);
    CHECK_REFUSAL(es_callback(s, NULL, NULL), EINVAL);
    CHECK_REFUSAL(es_push_exit(NULL, ex_pass, NULL), EINVAL);
    CHECK_REFUSAL(es_callback(NULL, cb_log, NULL), EINVAL);
    CHECK_EQ(es_size(s), 16);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 16);
    CHECK_EQ(log_v[0], 16);
    CHECK_EQ(log_v[15], 1);
    /* es_new out of memory */
    es_stack *t = P(1);
    fail_nth(1);
    CHECK_REFUSAL(es_new(&t), ENOMEM);
    fail_nth(0);
    CHECK(t == NULL);
    CHECK_REFUSAL(es_new(NULL), EINVAL);
    CHECK_OK(es_free(s));
}

static void rule09_exit_incoming(void)
{
    /* no stack: a refusal whose context is the incoming error (nothing lost) */
    es_error *r = es_exit(NULL, es_error_new(EPIPE, NULL), NULL);
    CHECK(es_error_is_refusal(r));
    CHAIN_EXPECT(r, EINVAL, EPIPE);
    es_error_free(r);
    es_stack *s = new_stack();
    bool supp = true;
    es_error *e = es_exit(s, es_error_new(EPIPE, NULL), &supp);
    CHAIN_EXPECT(e, EPIPE); /* empty stack: incoming comes back */
    CHECK(!supp);
    es_error_free(e);
    CHECK_OK(es_push_exit(s, ex_suppress, P(1)));
    CHECK(es_exit(s, es_error_new(EPIPE, NULL), &supp) == NULL);
    CHECK(supp);
    LOG_EXPECT(10000 + EPIPE);
    /* close is exit with no incoming error */
    log_reset();
    CHECK_OK(es_push_exit(s, ex_pass, P(2)));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(20000);
    CHECK_OK(es_free(s));
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
    es_stack *s = new_stack();
    /* raised error with its own chain: displaced goes at the end */
    prebuilt = es_error_chain(es_error_new(2, NULL), es_error_new(3, NULL));
    CHAIN_EXPECT(prebuilt, 2, 3);
    CHECK_OK(es_push_exit(s, ex_raise_prebuilt, NULL));
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
    CHECK_OK(es_push_exit(s, ex_reraise, NULL));
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
    CHECK(!es_error_is_refusal(ES_NOMEM)); /* what user code gets: not the library's refusal */
    /* two shared errors in one chain: the first one is kept */
    x = es_error_chain(es_error_new(9, NULL), ES_NOMEM);
    es_error *refusal = es_new(NULL); /* a shared refusal (EINVAL) */
    CHECK(refusal && (refusal->flags & ES_ERROR_SHARED));
    x = es_error_chain(refusal, x);
    CHAIN_EXPECT(x, 9, ENOMEM);
    es_error_free(x);
    CHECK_OK(es_free(s));
}

static void rule11_chained_without_incoming(void)
{
    es_stack *s = new_stack();
    CHECK_OK(es_callback(s, cb_fail, P(1))); /* outer: registered first, runs last */
    CHECK_OK(es_callback(s, cb_fail, P(2))); /* inner: runs first */
    es_error *e = es_close(s);
    /* the outer callback's error wins; the inner one's is its context, not
     * dropped (unlike cpython#102201) */
    CHAIN_EXPECT(e, 1001, 1002);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

static void rule12_caller_frees_chain(void)
{
    es_stack *s = new_stack();
    for (int i = 0; i < 5; i++)
        CHECK_OK(es_callback(s, cb_fail, P(i)));
    long a0 = n_alloc, f0 = n_free; /* errors only from here on */
    CHECK(es_cancel(s, es_error_new(ECANCELED, NULL)));
    es_error *e = es_close(s); /* group [cancel, chain of 5] */
    CHECK(e->nmembers == 2);
    CHECK(n_alloc - a0 > 6);
    es_error_free(e); /* one call frees group, members and chains */
    CHECK_EQ(n_alloc - a0, n_free - f0);
    CHECK_OK(es_free(s));
}

static void rule13_pop_all(void)
{
    es_stack *s = new_stack(), *t;
    for (int i = 1; i <= 3; i++)
        CHECK_OK(es_callback(s, cb_log, P(i)));
    CHECK_OK(es_pop_all(s, &t));
    CHECK(t);
    CHECK_EQ(es_size(s), 0);
    CHECK_EQ(es_size(t), 3);
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 0);
    CHECK(es_close(t) == NULL);
    LOG_EXPECT(3, 2, 1);
    CHECK_OK(es_free(t));
    /* out of memory: NULL and the old stack unchanged */
    CHECK_OK(es_callback(s, cb_log, P(4)));
    fail_nth(1);
    CHECK_REFUSAL(es_pop_all(s, &t), ENOMEM);
    fail_nth(0);
    CHECK(t == NULL);
    CHECK_EQ(es_size(s), 1);
    log_reset();
    CHECK_OK(es_free(s)); /* runs what is left */
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
    es_reentrant *r = NULL;
    es_stack *outer = new_stack();
    void *res = NULL;
    CHECK_OK(es_reentrant_new(&r, &session_type, &ss));
    CHECK_OK(es_enter_reentrant(outer, r, &res));
    CHECK(res == &ss);
    CHECK_EQ(es_reentrant_depth(r), 1);
    for (int i = 0; i < 10; i++) { /* a batch of pushes */
        es_stack *inner = new_stack();
        CHECK_OK(es_enter_reentrant(inner, r, &res));
        CHECK(res == &ss);
        CHECK_EQ(es_reentrant_depth(r), 2);
        CHECK(es_close(inner) == NULL);
        CHECK_EQ(es_reentrant_depth(r), 1);
        CHECK_OK(es_free(inner));
    }
    CHECK_EQ(ss.logins, 1);
    CHECK_EQ(ss.logouts, 0);
    CHECK_REFUSAL(es_reentrant_free(r), EBUSY); /* entries refer to it */
    CHECK(es_close(outer) == NULL);
    CHECK_EQ(ss.logins, 1);
    CHECK_EQ(ss.logouts, 1);
    CHECK_EQ(es_reentrant_depth(r), 0);
    /* first acquire fails: depth stays 0; the enter's error is not a refusal */
    ss.fail_login = 1;
    es_error *e = es_enter_reentrant(outer, r, &res);
    CHAIN_EXPECT(e, ECONNREFUSED);
    CHECK(!es_error_is_refusal(e));
    es_error_free(e);
    CHECK_EQ(es_reentrant_depth(r), 0);
    CHECK_EQ(es_size(outer), 0);
    /* exit at depth 0: an error, no side effect (unreachable through the API:
     * the internal exit is called directly) */
    es_error *raised = NULL;
    esi_reentrant_exit(r, NULL, &raised);
    CHAIN_EXPECT(raised, EINVAL);
    es_error_free(raised);
    CHECK_EQ(es_reentrant_depth(r), 0);
    CHECK_EQ(ss.logouts, 1);
    /* refusals */
    es_reentrant *r2 = P(1);
    CHECK_REFUSAL(es_reentrant_new(&r2, NULL, &ss), EINVAL);
    CHECK(r2 == NULL);
    CHECK_REFUSAL(es_enter_reentrant(outer, NULL, &res), EINVAL);
    CHECK_OK(es_free(outer));
    CHECK_OK(es_reentrant_free(r));
}

static void rule15_contextvar_tokens(void)
{
    es_var *v, *w;
    es_token t1, t2, t3;
    void *val = NULL;
    CHECK_OK(es_var_new(&v, "v"));
    CHECK_OK(es_var_new(&w, "w"));
    CHECK(!es_var_get(v, &val));
    CHECK_OK(es_var_set(v, P(1), &t1));
    CHECK_OK(es_var_set(v, P(2), &t2));
    CHECK_OK(es_var_set(v, P(3), &t3));
    CHECK(es_var_get(v, &val) && val == P(3));
    /* resets need not be LIFO: t2 restores the value before it (1) */
    CHECK_OK(es_var_reset(v, &t2));
    CHECK(es_var_get(v, &val) && val == P(1));
    /* already used; refusals never allocate (shared errors) */
    long a0 = n_alloc;
    CHECK_REFUSAL(es_var_reset(v, &t2), EALREADY);
    /* another variable's token: refused; refusal does not use the token */
    CHECK_REFUSAL(es_var_reset(w, &t3), EINVAL);
    CHECK(es_var_get(v, &val) && val == P(1));
    /* order of checks: used before other-variable */
    CHECK_REFUSAL(es_var_reset(w, &t2), EALREADY);
    CHECK_EQ(n_alloc, a0);
    CHECK_OK(es_var_reset(v, &t3)); /* t3 still usable: restores 2 */
    CHECK(es_var_get(v, &val) && val == P(2));
    CHECK_OK(es_var_reset(v, &t1)); /* unsets */
    CHECK(!es_var_get(v, &val));
    /* a set nobody undoes needs no token */
    CHECK_OK(es_var_set(w, P(4), NULL));
    CHECK(es_var_get(w, &val) && val == P(4));
    /* out of memory: refused, nothing changed */
    es_var *x = P(1);
    fail_nth(1);
    CHECK_REFUSAL(es_var_new(&x, "x"), ENOMEM);
    fail_nth(0);
    CHECK(x == NULL);
    es_var_free(v);
    es_var_free(w);
}

/* token made in another context */
static es_var *g_v;
static es_token g_tok;
static es_error *set_in_copy(void *arg)
{
    CHECK_OK(es_var_set(g_v, arg, &g_tok));
    void *val = NULL;
    CHECK(es_var_get(g_v, &val) && val == arg);
    return NULL;
}
static es_error *reset_in_copy(void *arg)
{
    CHECK_OK(es_var_reset(g_v, &g_tok));
    return es_error_new(EDOM, "fn's own error"); /* comes back from es_context_run */
}
static void rule15_token_other_context(void)
{
    es_var *w;
    es_context *c;
    CHECK_OK(es_var_new(&g_v, "v"));
    CHECK_OK(es_var_new(&w, "w"));
    CHECK_OK(es_context_copy(&c));
    CHECK_OK(es_context_run(c, set_in_copy, P(5)));
    CHECK(!es_var_get(g_v, NULL));                       /* stayed inside */
    CHECK_REFUSAL(es_var_reset(g_v, &g_tok), EXDEV);     /* other context */
    CHECK_REFUSAL(es_var_reset(w, &g_tok), EINVAL);      /* other var checked before context */
    es_error *e = es_context_run(c, reset_in_copy, NULL); /* token not used up */
    CHAIN_EXPECT(e, EDOM);
    CHECK(!es_error_is_refusal(e));
    es_error_free(e);
    CHECK_REFUSAL(es_var_reset(g_v, &g_tok), EALREADY);
    es_context_free(c);
    es_var_free(g_v);
    es_var_free(w);
}

static es_error *deep_code(void *arg)
{
    /* registers on the caller's stack without being passed it */
    return es_callback(es_current(), cb_log, arg);
}
static es_context *g_ctx;
static es_error *nop_fn(void *arg)
{
    log_add(-1);
    return NULL;
}
static es_error *run_in_copy(void *arg)
{
    es_stack *s = new_stack();
    es_token t;
    CHECK_REFUSAL(es_context_run(g_ctx, nop_fn, NULL), EBUSY); /* already entered */
    CHECK_OK(es_set_current(s, &t));
    CHECK_OK(deep_code(arg));
    CHECK(es_current() == s);
    CHECK(es_close(s) == NULL);
    CHECK_OK(es_reset_current(&t));
    CHECK_OK(es_free(s));
    return NULL;
}
static es_stack *g_inner;
static es_error *set_inner(void *arg)
{
    es_token t;
    CHECK_OK(es_set_current(g_inner, &t)); /* never reset: stays in the copy */
    return deep_code(arg);
}
static void rule16_context_copy_current_stack(void)
{
    es_stack *s = new_stack();
    es_token t;
    es_context *c;
    CHECK(es_current() == NULL);
    CHECK_OK(es_set_current(s, &t));
    CHECK(es_current() == s);
    CHECK_OK(deep_code(P(1)));
    CHECK_OK(es_context_copy(&c));
    g_ctx = c;
    CHECK_OK(es_context_run(c, run_in_copy, P(2)));
    LOG_EXPECT(2); /* the copy's own stack ran the inner cleanup */
    CHECK(es_current() == s); /* the inner set stayed inside the copy */
    CHECK_EQ(es_size(s), 1);
    /* one call: run in a fresh copy */
    g_inner = new_stack();
    CHECK_OK(es_run_in_copy(set_inner, P(3)));
    CHECK(es_current() == s);
    CHECK_EQ(es_size(g_inner), 1);
    CHECK_OK(es_free(g_inner));
    LOG_EXPECT(2, 3);
    /* es_with_current: s2 current for the call only */
    es_stack *s2 = new_stack();
    CHECK_OK(es_with_current(s2, deep_code, P(4)));
    CHECK(es_current() == s);
    CHECK_EQ(es_size(s2), 1);
    CHECK_OK(es_free(s2));
    LOG_EXPECT(2, 3, 4);
    /* out of memory: es_run_in_copy refuses before calling fn */
    fail_nth(1);
    CHECK_REFUSAL(es_run_in_copy(nop_fn, NULL), ENOMEM);
    fail_nth(0);
    LOG_EXPECT(2, 3, 4);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(2, 3, 4, 1);
    CHECK_OK(es_reset_current(&t));
    CHECK(es_current() == NULL);
    es_context_free(c);
    CHECK_OK(es_free(s));
}

/* rule 17: cancellation, level-triggered, from an entry and from a thread */
static es_error *cb_cancel_self(void *arg)
{
    log_add((int)(intptr_t)arg);
    CHECK(es_cancel(g_s, es_error_new(ECONNRESET, "lost")));
    CHECK(es_check(g_s));
    return NULL;
}
static es_error *cb_check(void *arg)
{
    log_add(es_check(g_s) ? 42 : 0); /* during unwind: still cancelled */
    return NULL;
}
static void *cancel_thread(void *arg)
{
    es_stack *s = arg;
    for (int i = 0; i < 1000; i++) /* any number of times */
        (void)es_cancel(s, es_error_new(ETIMEDOUT, "timeout %d", i));
    return NULL;
}
static void rule17_cancel(void)
{
    g_s = new_stack();
    CHECK(!es_check(g_s));
    /* from another thread: the worker polls until it sees the cancellation */
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, cancel_thread, g_s), 0);
    while (!es_check(g_s))
        ;
    CHECK_EQ(pthread_join(th, NULL), 0);
    for (int i = 0; i < 3; i++)
        CHECK(es_check(g_s)); /* level-triggered */
    CHECK(!es_cancel(g_s, NULL)); /* already cancelled */
    CHECK_OK(es_callback(g_s, cb_check, NULL));
    es_error *e = es_close(g_s);
    LOG_EXPECT(42);
    CHAIN_EXPECT(e, ETIMEDOUT); /* the first cancellation, alone: no group */
    CHECK(strcmp(e->message, "timeout 0") == 0);
    es_error_free(e);
    CHECK(!es_check(g_s)); /* the scope unwound */
    /* from an entry during the unwind */
    log_reset();
    CHECK_OK(es_callback(g_s, cb_check, NULL));
    CHECK_OK(es_callback(g_s, cb_cancel_self, P(1)));
    e = es_close(g_s);
    LOG_EXPECT(1, 42);
    CHAIN_EXPECT(e, ECONNRESET);
    es_error_free(e);
    CHECK(!es_check(g_s));
    /* cancelled while the owner is unwinding in another thread: race-free */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 100; i++)
            CHECK_OK(es_callback(g_s, cb_count, NULL));
        CHECK_EQ(pthread_create(&th, NULL, cancel_thread, g_s), 0);
        e = es_close(g_s);
        CHECK_EQ(pthread_join(th, NULL), 0);
        es_error_free(e);
        es_error_free(es_close(g_s)); /* a cancel that came after the unwind */
        CHECK(!es_check(g_s));
    }
    CHECK(!es_cancel(NULL, es_error_new(EIO, NULL))); /* reason freed */
    CHECK(!es_check(NULL));
    CHECK_OK(es_free(g_s));
}

static void rule18_cancel_group(void)
{
    es_stack *s = new_stack();
    CHECK_OK(es_callback(s, cb_fail, P(1)));
    CHECK_OK(es_callback(s, cb_fail, P(2)));
    CHECK(es_cancel(s, es_error_new(ECONNRESET, "connection lost")));
    es_error *e = es_close(s);
    CHECK(e);
    CHECK_EQ(e->nmembers, 2);
    CHECK(e->context == NULL);
    CHAIN_EXPECT(e->members[0], ECONNRESET);
    CHAIN_EXPECT(e->members[1], 1001, 1002); /* every unwind error kept, in order */
    es_error_free(e);
    /* only the cancellation: no group */
    (void)es_cancel(s, NULL);
    e = es_close(s);
    CHAIN_EXPECT(e, ECANCELED);
    CHECK_EQ(e->nmembers, 0);
    es_error_free(e);
    /* only one error, no cancellation: no group */
    CHECK_OK(es_callback(s, cb_fail, P(3)));
    e = es_close(s);
    CHAIN_EXPECT(e, 1003);
    es_error_free(e);
    /* cancellation + incoming */
    (void)es_cancel(s, es_error_new(ECONNRESET, NULL));
    e = es_exit(s, es_error_new(EPIPE, NULL), NULL);
    CHECK_EQ(e->nmembers, 2);
    CHAIN_EXPECT(e->members[0], ECONNRESET);
    CHAIN_EXPECT(e->members[1], EPIPE);
    es_error_free(e);
    /* the group cannot be allocated: chained instead, nothing lost */
    CHECK_OK(es_callback(s, cb_fail, P(4)));
    (void)es_cancel(s, es_error_new(ECONNRESET, NULL));
    fail_nth(2); /* 1: callback 4's error, 2: the group */
    e = es_close(s);
    fail_nth(0);
    CHAIN_EXPECT(e, 1004, ECONNRESET);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

static es_error *rule19_body(int fail, int *ran)
{
    es_error *err = NULL;
    {
        ES_SCOPE(st, &err);
        CHECK(st);
        CHECK_OK(es_callback(st, cb_log, P(1)));
        CHECK_OK(es_callback(st, fail ? cb_fail : cb_log, P(2)));
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
        CHECK_OK(es_callback(st, cb_fail, P(3)));
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
        CHECK_REFUSAL(es_callback(st, cb_log, P(1)), EINVAL);
    }
    CHAIN_EXPECT(e, ENOMEM);
    CHECK(es_error_is_refusal(e));
    es_error_free(e);
}

/* ------------------------------------------------------ 1.0 (20-23) */

/* an enter that fails with ENOMEM itself, as user code does */
static es_error *enter_nomem(void *self, void **result)
{
    return es_error_new(ENOMEM, "the enter's own allocation failed");
}
static const es_type nomem_type = {"nomem", enter_nomem, res_exit};
static es_error *enter_shared_nomem(void *self, void **result)
{
    return ES_NOMEM; /* what es_error_new hands user code when out of memory */
}
static const es_type shared_nomem_type = {"shared_nomem", enter_shared_nomem, res_exit};
static void rule20_refusals_distinguishable(void)
{
    es_stack *s = new_stack();
    res r = {0, 0, 0, 1};
    es_error *e;
    /* the library's ENOMEM: a refusal */
    fail_nth(1);
    e = es_enter(s, &res_type, &r, NULL);
    fail_nth(0);
    CHECK(e && e->code == ENOMEM && es_error_is_refusal(e));
    es_error_free(e);
    /* the enter's own ENOMEM: same code, not a refusal, comes back unchanged */
    e = es_enter(s, &nomem_type, &r, NULL);
    CHECK(e && e->code == ENOMEM && !es_error_is_refusal(e));
    CHECK(strcmp(e->message, "the enter's own allocation failed") == 0);
    es_error_free(e);
    e = es_enter(s, &shared_nomem_type, &r, NULL);
    CHECK(e == ES_NOMEM && !es_error_is_refusal(e));
    /* errors raised by entries are never refusals */
    CHECK_OK(es_callback(s, cb_fail, P(1)));
    e = es_close(s);
    CHECK(e && !es_error_is_refusal(e));
    es_error_free(e);
    /* every refusal that needs no context is shared: refusing never allocates */
    long a0 = n_alloc;
    es_stack *t = NULL;
    CHECK_REFUSAL(es_callback(NULL, cb_log, NULL), EINVAL);
    CHECK_REFUSAL(es_pop_all(NULL, &t), EINVAL);
    CHECK_REFUSAL(es_reserve(NULL, 1), EINVAL);
    CHECK_EQ(n_alloc, a0);
    /* es_error_wrap: an error with a context, no casts */
    e = es_error_wrap(es_error_new(EIO, "disk"), EPIPE, "while saving %s", "x");
    CHAIN_EXPECT(e, EPIPE, EIO);
    CHECK(strcmp(e->message, "while saving x") == 0);
    fail_nth(1); /* wrapping cannot allocate: the context comes back with ENOMEM last */
    e = es_error_wrap(e, EBADF, "lost");
    fail_nth(0);
    CHAIN_EXPECT(e, EPIPE, EIO, ENOMEM);
    es_error_free(e);
    /* the shared ENOMEM is in read-only memory (fields are const to users):
     * a write through a cast faults instead of corrupting the singleton */
    CHECK(ES_NOMEM->flags & ES_ERROR_SHARED);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        *(volatile int *)&ES_NOMEM->code = EIO;
        _exit(0); /* reached only if the write went through */
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK_EQ(ES_NOMEM->code, ENOMEM);
    CHECK_OK(es_free(s));
}

static es_error *cb2_log(void *a, void *b)
{
    log_add((int)(intptr_t)a * 100 + (int)(intptr_t)b);
    return NULL;
}
static es_error *cb_log_fail(void *arg)
{
    log_add((int)(intptr_t)arg);
    return es_error_new(EIO, "cleanup %d failed", (int)(intptr_t)arg);
}
static void rule21_typed_cleanups(void)
{
    es_stack *s = new_stack();
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int pfd[2];
    es_error *e;
    CHECK_EQ(pipe(pfd), 0);
    FILE *f = fdopen(pfd[1], "w");
    CHECK(f);
    DIR *d = opendir("/");
    CHECK(d);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    void *map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_OK(es_defer_unlock(s, &m));
    CHECK_OK(es_defer_free(s, malloc(32))); /* the C library's free: ASan/LSan check it */
    CHECK_OK(es_defer_close(s, pfd[0]));
    CHECK_OK(es_defer_fclose(s, f));
    CHECK_OK(es_defer_closedir(s, d));
    CHECK_OK(es_defer_munmap(s, map, pg));
    CHECK_OK(es_callback2(s, cb2_log, P(3), P(4)));
    CHECK_OK(es_defer2(s, cb2_log, P(5), P(6)));
    CHECK_OK(es_defer_close(s, -1)); /* ignored */
    CHECK_OK(es_defer_free(s, NULL));
    CHECK_EQ(es_size(s), 8);
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(506, 304);
    CHECK_EQ(fcntl(pfd[0], F_GETFD), -1); /* closed */
    CHECK_EQ(fcntl(pfd[1], F_GETFD), -1); /* fclose closed it */
    CHECK_EQ(pthread_mutex_trylock(&m), 0); /* unlocked */
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    /* a failing close raises its errno */
    CHECK_OK(es_defer_close(s, pfd[0])); /* already closed: EBADF */
    e = es_close(s);
    CHAIN_EXPECT(e, EBADF);
    CHECK(!es_error_is_refusal(e));
    es_error_free(e);
    /* release-or-register: when registration is refused the cleanup runs at once */
    log_reset();
    for (int i = 0; i < 16; i++)
        CHECK_OK(es_callback(s, cb_log, P(i)));
    CHECK_EQ(pipe(pfd), 0);
    fail_nth(1);
    e = es_defer_close(s, pfd[0]);
    fail_nth(0);
    CHECK(e && e->code == ENOMEM && es_error_is_refusal(e));
    CHECK(e->context == NULL); /* close succeeded */
    es_error_free(e);
    CHECK_EQ(fcntl(pfd[0], F_GETFD), -1); /* released at once */
    CHECK_EQ(es_size(s), 16);
    fail_nth(1);
    e = es_defer(s, cb_log_fail, P(7)); /* the cleanup's own error is the refusal's context */
    fail_nth(0);
    LOG_EXPECT(7);
    CHECK(es_error_is_refusal(e));
    CHAIN_EXPECT(e, ENOMEM, EIO);
    es_error_free(e);
    /* no stack (as in ES_SCOPE out of memory): released at once, EINVAL */
    e = es_defer_close(NULL, pfd[1]);
    CHECK(e && e->code == EINVAL && es_error_is_refusal(e));
    es_error_free(e);
    CHECK_EQ(fcntl(pfd[1], F_GETFD), -1);
    CHECK_REFUSAL(es_defer(s, NULL, NULL), EINVAL);
    log_reset();
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 16);
    CHECK_OK(es_free(s));
}

static void rule22_reserve(void)
{
    es_stack *s = new_stack();
    res r = {0, 0, 0, 1};
    CHECK_OK(es_reserve(s, 100));
    fail_nth(1); /* any allocation from now on fails: none is made */
    long a0 = n_alloc;
    for (int i = 0; i < 97; i++)
        CHECK_OK(es_callback(s, cb_count, P(i)));
    CHECK_OK(es_push_exit(s, ex_pass, P(1)));
    CHECK_OK(es_enter(s, &res_type, &r, NULL));
    CHECK_OK(es_defer_free(s, malloc(8)));
    CHECK_EQ(n_alloc, a0);
    CHECK_EQ(es_size(s), 100);
    /* past the reservation (and any slack) growing is needed: refused */
    es_error *e = NULL;
    size_t n = 100;
    while (n < 10000 && !(e = es_callback(s, cb_count, P(0))))
        n++;
    CHECK_REFUSAL(e, ENOMEM);
    fail_nth(0);
    CHECK_EQ(es_size(s), n);
    /* reserving when out of memory: refused, nothing changed */
    fail_nth(1);
    CHECK_REFUSAL(es_reserve(s, 1000), ENOMEM);
    fail_nth(0);
    CHECK_EQ(es_size(s), n);
    CHECK_OK(es_reserve(s, 0));
    million_count = 0;
    CHECK(es_close(s) == NULL);
    CHECK_EQ(r.released, 1);
    CHECK_EQ(million_count, (long)n - 3);
    CHECK_OK(es_free(s));
}

static void rule23_free_loses_nothing(void)
{
    es_stack *s = new_stack();
    CHECK(es_free(NULL) == NULL);
    CHECK_OK(es_callback(s, cb_fail, P(1)));
    CHECK_OK(es_callback(s, cb_fail, P(2)));
    es_error *e = es_free(s); /* the entries left run; their errors come back */
    CHAIN_EXPECT(e, 1001, 1002);
    es_error_free(e);
    /* a pending cancellation comes back too */
    s = new_stack();
    CHECK(es_cancel(s, es_error_new(ECONNRESET, NULL)));
    e = es_free(s);
    CHAIN_EXPECT(e, ECONNRESET);
    es_error_free(e);
    s = new_stack();
    CHECK_OK(es_callback(s, cb_fail, P(3)));
    CHECK(es_cancel(s, NULL));
    e = es_free(s);
    CHECK_EQ(e->nmembers, 2);
    CHAIN_EXPECT(e->members[0], ECANCELED);
    CHAIN_EXPECT(e->members[1], 1003);
    es_error_free(e);
}

/* ---------------------------------- CPython's ExitStack tests, in C */

static void py_no_resources(void)
{
    es_stack *s = new_stack();
    CHECK(es_close(s) == NULL);
    CHECK(es_exit(s, NULL, NULL) == NULL);
    CHECK_OK(es_free(s));
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
    es_stack *s = new_stack();
    for (int i = 0; i < 4; i++)
        CHECK_OK(es_callback(s, cb_args, &as[i]));
    CHECK(es_close(s) == NULL);
    CHECK_EQ(ngot, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(got[i][0], as[3 - i].a);
        CHECK_EQ(got[i][1], as[3 - i].b);
    }
    CHECK_OK(es_free(s));
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
    es_stack *s = new_stack();
    bool supp = false;
    expect_code = EDOM;
    CHECK_OK(es_push_exit(s, ex_pass, P(1)));     /* below the suppressor: sees no error */
    CHECK_OK(es_push_exit(s, ex_suppress, P(2))); /* sees EDOM and suppresses it */
    CHECK_OK(es_push_exit(s, ex_expect, P(3)));   /* sees EDOM */
    CHECK_OK(es_push_exit(s, ex_expect, P(4)));
    es_error *e = es_exit(s, es_error_new(EDOM, "ZeroDivisionError"), &supp);
    CHECK(e == NULL);
    CHECK(supp);
    LOG_EXPECT(4, 3, 20000 + EDOM, 10000);
    CHECK_EQ(es_size(s), 0);
    CHECK_OK(es_free(s));
}

/* test_enter_context */
static void py_enter_context(void)
{
    es_stack *s = new_stack();
    res r = {0, 0, 0, 9};
    void *out = NULL;
    CHECK(es_enter(s, &res_type, &r, &out) == NULL);
    CHECK(out == &r);
    CHECK_OK(es_callback(s, cb_log, P(1))); /* registered after: runs before the exit */
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(9, 1, -9);
    CHECK_OK(es_free(s));
}

/* test_enter_context_errors: an object that is not a context manager */
static void py_enter_context_errors(void)
{
    es_stack *s = new_stack();
    res r = {0, 0, 0, 9};
    CHECK_REFUSAL(es_enter(s, &no_exit, &r, NULL), EINVAL);
    CHECK_REFUSAL(es_enter(s, NULL, &r, NULL), EINVAL);
    CHECK_EQ(r.acquired, 0);
    CHECK_EQ(es_size(s), 0);
    CHECK_OK(es_free(s));
}

/* test_close: close runs the callbacks; then the stack is reusable */
static void py_close_then_reuse(void)
{
    es_stack *s = new_stack();
    CHECK_OK(es_callback(s, cb_log, P(1)));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1);
    CHECK_OK(es_callback(s, cb_log, P(2)));
    CHECK(es_close(s) == NULL);
    LOG_EXPECT(1, 2);
    CHECK_OK(es_free(s));
}

/* test_pop_all: the classic "open all or none" transfer */
static void py_pop_all(void)
{
    es_stack *s = new_stack(), *kept;
    CHECK_OK(es_callback(s, cb_log, P(1)));
    CHECK_OK(es_pop_all(s, &kept));
    CHECK(es_close(s) == NULL);
    CHECK_EQ(log_n, 0); /* moved out: nothing ran */
    CHECK(es_close(kept) == NULL);
    LOG_EXPECT(1);
    CHECK_OK(es_free(kept));
    CHECK_OK(es_free(s));
}

/* test_exit_raise: an error raised in the body passes through */
static void py_exit_raise(void)
{
    es_stack *s = new_stack();
    bool supp = true;
    CHECK_OK(es_push_exit(s, ex_pass, P(1)));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), &supp);
    CHECK(!supp);
    CHAIN_EXPECT(e, EDOM);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

/* test_exit_suppress */
static void py_exit_suppress(void)
{
    es_stack *s = new_stack();
    bool supp = false;
    CHECK_OK(es_push_exit(s, ex_suppress, P(1)));
    CHECK(es_exit(s, es_error_new(EDOM, NULL), &supp) == NULL);
    CHECK(supp);
    CHECK_OK(es_free(s));
}

/* test_exit_exception_chaining(_reference): each raised error's context is the
 * one it displaced, all the way to the body's error */
static void py_exit_exception_chaining(void)
{
    es_stack *s = new_stack();
    CHECK_OK(es_push_exit(s, ex_raise, P(1)));  /* RaiseExc(IndexError) */
    CHECK_OK(es_push_exit(s, ex_raise, P(2)));  /* RaiseExc(KeyError) */
    CHECK_OK(es_push_exit(s, ex_raise, P(3)));  /* RaiseExc(AttributeError) */
    CHECK_OK(es_push_exit(s, ex_pass, P(4)));   /* sees ZeroDivisionError */
    es_error *e = es_exit(s, es_error_new(EDOM, "body"), NULL);
    CHAIN_EXPECT(e, 1001, 1002, 1003, EDOM);
    LOG_EXPECT(40000 + EDOM, 30000 + EDOM, 20000 + 1003, 10000 + 1002);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

/* test_exit_exception_chaining_suppress: suppression followed by a new error */
static void py_exit_exception_chaining_suppress(void)
{
    es_stack *s = new_stack();
    bool supp = false;
    CHECK_OK(es_push_exit(s, ex_raise, P(1)));     /* raises after the suppression */
    CHECK_OK(es_push_exit(s, ex_suppress, P(2)));
    CHECK_OK(es_push_exit(s, ex_raise, P(3)));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), &supp);
    CHECK(supp);
    CHAIN_EXPECT(e, 1001); /* context is None: the suppressed chain is gone */
    LOG_EXPECT(30000 + EDOM, 20000 + 1003, 10000);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

/* test_exit_exception_with_existing_context */
static void py_exit_exception_with_existing_context(void)
{
    es_stack *s = new_stack();
    prebuilt = es_error_chain(es_error_new(11, "exc4"), es_error_new(12, "exc5"));
    CHECK_OK(es_push_exit(s, ex_raise_prebuilt, NULL));
    CHECK_OK(es_push_exit(s, ex_raise, P(3)));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), NULL);
    CHAIN_EXPECT(e, 11, 12, 1003, EDOM);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

/* test_body_exception_suppress */
static void py_body_exception_suppress(void)
{
    es_stack *s = new_stack();
    bool supp = false;
    CHECK_OK(es_push_exit(s, ex_suppress, P(1)));
    CHECK_OK(es_callback(s, cb_log, P(2)));
    CHECK(es_exit(s, es_error_new(EDOM, NULL), &supp) == NULL);
    CHECK(supp);
    LOG_EXPECT(2, 10000 + EDOM);
    CHECK_OK(es_free(s));
}

/* chained errors from several failing callbacks (close, no incoming) */
static void py_several_failing_callbacks(void)
{
    es_stack *s = new_stack();
    for (int i = 1; i <= 4; i++)
        CHECK_OK(es_callback(s, cb_fail, P(i)));
    es_error *e = es_close(s);
    CHAIN_EXPECT(e, 1001, 1002, 1003, 1004);
    es_error_free(e);
    CHECK_OK(es_free(s));
}

/* test_excessive_nesting, scaled: 1,000,000 push handlers on a small stack */
static bool ex_nop(void *self, const es_error *cur, es_error **raise)
{
    million_count++;
    return false;
}
static void *nest_thread(void *arg)
{
    es_stack *s = new_stack();
    million_count = 0;
    for (int i = 0; i < 1000000; i++)
        CHECK_OK(es_push_exit(s, ex_nop, NULL));
    es_error *e = es_exit(s, es_error_new(EDOM, NULL), NULL);
    CHAIN_EXPECT(e, EDOM);
    es_error_free(e);
    CHECK_OK(es_free(s));
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
    T(rule18_cancel_group), T(rule19_scope_macro), T(rule20_refusals_distinguishable),
    T(rule21_typed_cleanups), T(rule22_reserve), T(rule23_free_loses_nothing),
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
    if (argc == 3 && strcmp(argv[1], "--check-rules") == 0) { /* every rule has a test */
        FILE *doc = fopen(argv[2], "r");
        char line[512], want[16];
        int rule, nrules = 0, missing = 0;
        if (!doc) {
            fprintf(stderr, "cannot open %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        while (fgets(line, sizeof line, doc)) {
            if (sscanf(line, "%d. ", &rule) != 1 || line[0] < '0' || line[0] > '9')
                continue;
            nrules++;
            snprintf(want, sizeof want, "rule%02d_", rule);
            for (i = 0; i < NTESTS && strncmp(tests[i].name, want, strlen(want)) != 0; i++)
                ;
            if (i == NTESTS) {
                fprintf(stderr, "rule %d of %s has no test named %s*\n", rule, argv[2], want);
                missing++;
            }
        }
        fclose(doc);
        printf("%d rules, %d without a test\n", nrules, missing);
        return missing || nrules < 23 ? 1 : 0;
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
