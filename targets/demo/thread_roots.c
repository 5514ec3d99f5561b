/* thread_roots.c — probe: memory that only a still-running thread refers to.
 *
 * Usage: demo_thread_roots     starts a worker that allocates a block, keeps
 *                              it in a local variable and waits forever; main
 *                              then loses a block of its own and calls exit(0).
 * At exit the worker is still running, so its stack is a root: its block is
 * reachable (not a leak); main's block is unreachable (FS-EXPECT: leak memory).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;

static void *worker(void *arg)
{
    (void)arg;
    void *volatile held = malloc(64);          /* only this frame refers to it */
    pthread_mutex_lock(&ready_lock);
    ready = 1;
    pthread_cond_signal(&ready_cond);
    pthread_mutex_unlock(&ready_lock);
    for (;;)
        pause();
    return held;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    pthread_mutex_lock(&ready_lock);
    while (!ready)
        pthread_cond_wait(&ready_cond, &ready_lock);
    pthread_mutex_unlock(&ready_lock);
    char *volatile lost = malloc(32); /* FS-EXPECT: leak memory */
    lost = NULL;
    exit(lost ? 1 : 0);
}
