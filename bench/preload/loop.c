/* loop.c — the malloc/free loop of issue 11: CALLS malloc and free calls in
 * all (half each) while 64 blocks stay live, block sizes cycling through
 * 16..1024 bytes. The smallest program where a preload's per-call cost is
 * the whole of the run: bench/preload/loop.sh times it natively, under the
 * faultstack preload alone, under `faultstack run` and under LeakSanitizer.
 *
 * Usage: loop [CALLS [fork]]   (default 25600000)
 *        fork: after the first half of the loop the process forks and both
 *        processes run the second half (3/4 CALLS in all; tests of the
 *        preload's point count across a fork, test_run_points_cap.sh)
 *        threads: two threads make CALLS/4 mallocs each (and as many frees,
 *        on 64 blocks of their own) while the main thread forks a child
 *        that makes CALLS/8: 5/8 CALLS mallocs in all (test_run_points_cap.sh)
 * Prints: loop calls=.. elapsed_s=.. checksum=..  (elapsed_s: main's loop only) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIVE 64

static void *slot[LIVE];               /* a root: the 64 live blocks stay reachable */

/* CALLS/2 mallocs and as many frees on LIVE blocks of its own */
static uint64_t churn(long calls)
{
    void *mine[LIVE] = { 0 };
    uint64_t sum = 0;
    for (long i = 0; i < calls / 2; i++) {
        unsigned k = (unsigned)i & (LIVE - 1);
        free(mine[k]);
        char *p = malloc(16 + ((size_t)(i * 7) & 1008));
        if (!p)
            abort();
        p[0] = (char)i;
        sum += (uintptr_t)p & 0xff;
        mine[k] = p;
    }
    for (unsigned k = 0; k < LIVE; k++)
        free(mine[k]);
    return sum;
}

static void *churn_thread(void *calls)
{
    churn(*(long *)calls);
    return NULL;
}

static int threads_and_fork(long calls)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t t[2];
    long half = calls / 2, quarter = calls / 4;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, churn_thread, &half) != 0) {
            fprintf(stderr, "loop: pthread_create failed\n");
            return 1;
        }
    pid_t child = fork();                  /* while the threads run */
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        churn(quarter);
        _exit(0);
    }
    int st;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "loop: the forked child failed\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("loop calls=%ld threads=2 fork=1 elapsed_s=%.3f\n", calls,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 25600000;
    if (calls <= 0) {
        fprintf(stderr, "usage: loop [CALLS>0]\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "threads") == 0)
        return threads_and_fork(calls);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = 0;
    int forks = argc > 2 && strcmp(argv[2], "fork") == 0;
    pid_t child = -1;
    for (long i = 0; i < calls / 2; i++) {
        if (forks && i == calls / 4 && (child = fork()) < 0) {
            perror("fork");
            return 1;
        }
        unsigned k = (unsigned)i & (LIVE - 1);
        free(slot[k]);                 /* free(NULL) in the first round: still a call */
        char *p = malloc(16 + ((size_t)(i * 7) & 1008));
        if (!p) {
            perror("malloc");
            return 1;
        }
        p[0] = (char)i;
        sum += (uintptr_t)p & 0xff;
        slot[k] = p;
    }
    if (child == 0) {
        fflush(stdout);
        _exit(0);
    }
    if (child > 0) {
        int st;
        if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "loop: the forked child failed\n");
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("loop calls=%ld elapsed_s=%.3f checksum=%llu\n", calls, el, (unsigned long long)sum);
    return 0;
}
