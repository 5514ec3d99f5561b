/* soak.c — the soak benchmark's target (bench/soak/run.sh): a multithreaded
 * program with 5,000 fault points, each at its own call site.
 *
 * Usage: bench_soak_target     exit 0 when every allocation succeeded.
 *
 * A helper thread runs from start to end (so a fork-mode sweep falls back to
 * exec mode: each point is a fresh process), allocating under a mutex a few
 * times. The main thread then makes 5,000 allocations, each from its own call
 * site (SITE expands to a separate malloc call), and frees them; when one
 * fails it frees what it has and exits 1, as a careful program does: no
 * finding is expected. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NSITES 5000

static void *blocks[NSITES];
static int nblocks;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int main_done;

static void *helper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!main_done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int give_up(void)
{
    for (int i = 0; i < nblocks; i++)
        free(blocks[i]);
    fputs("bench_soak_target: out of memory\n", stderr);
    return 1;
}

#define SITE { void *p = malloc(16); if (!p) return give_up(); blocks[nblocks++] = p; }
#define S10 SITE SITE SITE SITE SITE SITE SITE SITE SITE SITE
#define S100 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S1000 S100 S100 S100 S100 S100 S100 S100 S100 S100 S100

static int work(void)
{
    S1000 S1000 S1000 S1000 S1000
    return 0;
}

int main(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, helper, NULL) != 0)
        return 2;
    int rc = work();
    pthread_mutex_lock(&mu);
    main_done = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    if (rc == 0)
        for (int i = 0; i < nblocks; i++)
            free(blocks[i]);
    return rc;
}
