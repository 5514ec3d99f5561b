/* protocol.c — ns per call: bp_get/bp_put pairs through whatever is loaded
 * (natively, or under the preload with the generated protocol library), and
 * the cost of faultstack/annotate.h outside faultstack: the same loop with
 * FAULTSTACK_FAULT + FAULTSTACK_ACQUIRE + FAULTSTACK_RELEASE around each pair
 * (built twice: -DNO_ANNOTATIONS is the baseline). Best of 5.
 * Usage: bench_protocol N   Output: "pairs NS_PER_PAIR" */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "faultstack/annotate.h"

int bp_get(int x);
int bp_put(int h);

static volatile long sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int pair(int i)
{
#ifndef NO_ANNOTATIONS
    if (FAULTSTACK_FAULT("bench_point"))
        return -1;
#endif
    int h = bp_get(i & 7);
#ifndef NO_ANNOTATIONS
    FAULTSTACK_ACQUIRE("bench", h);
    FAULTSTACK_RELEASE("bench", h);
#endif
    return bp_put(h) + h;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    double best = 1e300;
    for (int r = 0; r < 5; r++) {
        double t0 = now_ns();
        long acc = 0;
        for (long i = 0; i < n; i++)
            acc += pair((int)i);
        double dt = (now_ns() - t0) / (double)n;
        sink += acc;
        if (dt < best)
            best = dt;
    }
    printf("pairs %.2f\n", best);
    return 0;
}
