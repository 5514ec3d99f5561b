/*
 * bench_exitstack.c — what a registered-and-run cleanup costs.
 *
 * One scope acquires 8 resources and releases them in reverse:
 *   goto      hand-written `goto out` cleanup (the floor)
 *   es        es_callback x8 + es_close on a reused stack (1.0: es_callback is
 *             inlined from the header: no LTO needed)
 *   es+defer  es_defer x8 (release-or-register, a call into the library) + es_close
 *   es+new    es_callback x8 with es_new/es_free per scope
 *   apr       apr_pool_cleanup_register x8 + apr_pool_clear on a reused pool
 *   apr+new   apr_pool_create + register x8 + apr_pool_destroy per scope
 * acquire() and release() are the same out-of-line functions everywhere.
 * Reported: ns per entry (best of 11 rounds; each round runs every variant
 * once, interleaved), ratio to goto. Then one scope of
 * 1,000,000 entries (register + unwind) for es and apr.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "exitstack.h"
#ifdef ES_BENCH_APR
#include <apr_general.h>
#include <apr_pools.h>
#endif

#define N 8
#define SCOPES 2000000
#define RUNS 11
#define BIG 1000000

static volatile long released;
static int res[N];

__attribute__((noinline)) static void *acquire(int i) { return &res[i]; }
__attribute__((noinline)) static void release(void *p) { released += p != NULL; }

static es_error *es_release(void *p)
{
    release(p);
    return NULL;
}
#ifdef ES_BENCH_APR
static apr_status_t apr_release(void *p)
{
    release(p);
    return APR_SUCCESS;
}
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

__attribute__((noinline)) static int scope_goto(void)
{
    void *r0, *r1, *r2, *r3, *r4, *r5, *r6, *r7;
    int rc = -1;
    if (!(r0 = acquire(0))) goto out0;
    if (!(r1 = acquire(1))) goto out1;
    if (!(r2 = acquire(2))) goto out2;
    if (!(r3 = acquire(3))) goto out3;
    if (!(r4 = acquire(4))) goto out4;
    if (!(r5 = acquire(5))) goto out5;
    if (!(r6 = acquire(6))) goto out6;
    if (!(r7 = acquire(7))) goto out7;
    rc = 0;
    release(r7);
out7:
    release(r6);
out6:
    release(r5);
out5:
    release(r4);
out4:
    release(r3);
out3:
    release(r2);
out2:
    release(r1);
out1:
    release(r0);
out0:
    return rc;
}

__attribute__((noinline)) static int scope_es(es_stack *st)
{
    es_error *e;
    int i, rc = 0;
    for (i = 0; i < N; i++) {
        void *r = acquire(i);
        if (!r) {
            rc = -1;
            break;
        }
        e = es_callback(st, es_release, r);
        if (e) { /* refused: not registered, still ours */
            release(r);
            es_error_free(e);
            rc = -1;
            break;
        }
    }
    e = es_close(st);
    if (e) {
        es_error_free(e);
        rc = -1;
    }
    return rc;
}

__attribute__((noinline)) static int scope_es_defer(es_stack *st)
{
    es_error *e = NULL;
    int i;
    for (i = 0; i < N && !e; i++) {
        void *r = acquire(i);
        e = r ? es_defer(st, es_release, r) : es_error_new(ENOENT, "acquire");
    }
    e = es_error_chain(es_close(st), e);
    if (e) {
        es_error_free(e);
        return -1;
    }
    return 0;
}

__attribute__((noinline)) static int scope_es_new(void)
{
    es_stack *st;
    es_error *e = es_new(&st);
    int i;
    for (i = 0; i < N && !e; i++) {
        void *r = acquire(i);
        if (!r)
            break;
        e = es_callback(st, es_release, r);
        if (e)
            release(r);
    }
    e = es_error_chain(es_free(st), e);
    if (e) {
        es_error_free(e);
        return -1;
    }
    return 0;
}

#ifdef ES_BENCH_APR
static apr_pool_t *root;
__attribute__((noinline)) static int scope_apr(apr_pool_t *p)
{
    for (int i = 0; i < N; i++)
        apr_pool_cleanup_register(p, acquire(i), apr_release, apr_pool_cleanup_null);
    apr_pool_clear(p);
    return 0;
}
__attribute__((noinline)) static int scope_apr_new(void)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, root) != APR_SUCCESS)
        return -1;
    for (int i = 0; i < N; i++)
        apr_pool_cleanup_register(p, acquire(i), apr_release, apr_pool_cleanup_null);
    apr_pool_destroy(p);
    return 0;
}
#endif

enum { V_GOTO, V_ES, V_ES_DEFER, V_ES_NEW, V_APR, V_APR_NEW, NV };
static const char *names[NV] = {"goto", "es", "es+defer", "es+new", "apr", "apr+new"};

/* one timed run of variant v: ns per entry */
static double run(int v, es_stack *st, void *pool)
{
    double best = 1e300;
    {
        long before = released;
        double t0 = now();
        for (int s = 0; s < SCOPES; s++) {
            switch (v) {
            case V_GOTO: scope_goto(); break;
            case V_ES: scope_es(st); break;
            case V_ES_DEFER: scope_es_defer(st); break;
            case V_ES_NEW: scope_es_new(); break;
#ifdef ES_BENCH_APR
            case V_APR: scope_apr(pool); break;
            case V_APR_NEW: scope_apr_new(); break;
#endif
            }
        }
        double ns = (now() - t0) / ((double)SCOPES * N);
        if (released - before != (long)SCOPES * N) {
            fprintf(stderr, "%s: %ld releases, expected %ld\n", names[v], released - before,
                    (long)SCOPES * N);
            exit(1);
        }
        if (ns < best)
            best = ns;
    }
    return best;
}

int main(void)
{
    es_stack *st = NULL;
    void *pool = NULL;
    double ns[NV] = {0};
    int have_apr = 0, v;

    if (es_new(&st)) {
        fprintf(stderr, "bench_exitstack: es_new: out of memory\n");
        return 1;
    }
#ifdef ES_BENCH_APR
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&root, NULL);
    apr_pool_create(&p, root);
    pool = p;
    have_apr = 1;
#else
    printf("APR not built in (apr-1 not found by pkg-config): APR columns skipped\n");
#endif
    /* rounds interleave the variants, so a load change on a shared machine
     * hits all of them alike; each variant keeps its best round */
    for (int r = 0; r < RUNS; r++)
        for (v = 0; v < NV; v++)
            if (v < V_APR || have_apr) {
                double x = run(v, st, pool);
                if (r == 0 || x < ns[v])
                    ns[v] = x;
            }

    printf("scopes of %d entries, %d scopes, best of %d interleaved rounds\n", N, SCOPES, RUNS);
    printf("%-8s %10s %10s\n", "variant", "ns/entry", "x goto");
    for (v = 0; v < NV; v++)
        if (v < V_APR || have_apr)
            printf("%-8s %10.2f %10.2f\n", names[v], ns[v], ns[v] / ns[V_GOTO]);
    if (have_apr)
        printf("es vs apr (reused): %.2fx faster; es+new vs apr+new: %.2fx faster\n",
               ns[V_APR] / ns[V_ES], ns[V_APR_NEW] / ns[V_ES_NEW]);

    /* one scope of a million entries */
    double t0 = now();
    for (int i = 0; i < BIG; i++)
        if (es_callback(st, es_release, &res[i % N])) {
            fprintf(stderr, "bench_exitstack: es_callback: out of memory\n");
            return 1;
        }
    double t1 = now();
    es_error_free(es_close(st));
    double t2 = now();
    printf("es, %d entries: register %.2f ns/entry, unwind %.2f ns/entry, total %.1f ms\n", BIG,
           (t1 - t0) / BIG, (t2 - t1) / BIG, (t2 - t0) / 1e6);
#ifdef ES_BENCH_APR
    t0 = now();
    apr_pool_t *big;
    apr_pool_create(&big, root);
    for (int i = 0; i < BIG; i++)
        apr_pool_cleanup_register(big, &res[i % N], apr_release, apr_pool_cleanup_null);
    t1 = now();
    apr_pool_destroy(big);
    t2 = now();
    printf("apr, %d entries: register %.2f ns/entry, unwind %.2f ns/entry, total %.1f ms\n", BIG,
           (t1 - t0) / BIG, (t2 - t1) / BIG, (t2 - t0) / 1e6);
    apr_pool_destroy(root);
    apr_terminate();
#endif
    es_error_free(es_free(st));
    return 0;
}
