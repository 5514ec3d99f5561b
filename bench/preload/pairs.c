/* pairs.c — ns per acquire/release pair: malloc/free, open/close, fopen/fclose
 * and pthread_mutex_lock/unlock, timed with CLOCK_MONOTONIC, best of 5
 * repetitions. Run natively and under an LD_PRELOAD layer (bench/preload/run.sh)
 * to get the cost a preload adds per pair.
 *
 * Usage: pairs [N_MEM_MUTEX [N_FILE]]   (defaults 2000000 and 200000)
 * Output, one line per pair:  pair NAME BEST_NS FIRST_NS
 * (FIRST_NS is the first repetition: it includes one-time costs such as a
 * preload's per-site set-up or its capped record of fault points.)
 * Built -O2 -fno-builtin so that gcc cannot elide a malloc/free pair; every
 * result is used and folded into a volatile sink. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPS 5

static volatile unsigned long sink;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int loop_malloc(long n)
{
    unsigned long acc = 0;
    for (long i = 0; i < n; i++) {
        /* sizes 16..142: small-bin traffic like most programs */
        char *p = malloc(16 + (size_t)(i & 127));
        if (!p)
            return -1;
        p[0] = (char)i;
        acc += (unsigned char)p[0] + ((unsigned long)p & 0xff);
        free(p);
    }
    sink += acc;
    return 0;
}

static int loop_open(long n)
{
    unsigned long acc = 0;
    for (long i = 0; i < n; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            return -1;
        acc += (unsigned)fd;
        if (close(fd) != 0)
            return -1;
    }
    sink += acc;
    return 0;
}

static int loop_fopen(long n)
{
    unsigned long acc = 0;
    for (long i = 0; i < n; i++) {
        FILE *f = fopen("/dev/null", "r");
        if (!f)
            return -1;
        acc += (unsigned long)f & 0xff;
        if (fclose(f) != 0)
            return -1;
    }
    sink += acc;
    return 0;
}

static int loop_mutex(long n)
{
    unsigned long acc = 0;
    for (long i = 0; i < n; i++) {
        if (pthread_mutex_lock(&mtx) != 0)
            return -1;
        acc += (unsigned long)i;
        sink = acc;          /* a store inside the critical section */
        if (pthread_mutex_unlock(&mtx) != 0)
            return -1;
    }
    return 0;
}

static int run(const char *name, int (*fn)(long), long n)
{
    double best = 0, first = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns();
        if (fn(n) != 0) {
            fprintf(stderr, "pairs: %s failed at repetition %d: %s\n", name, r, strerror(errno));
            return -1;
        }
        double dt = (now_ns() - t0) / (double)n;
        if (r == 0)
            first = dt;
        if (r == 0 || dt < best)
            best = dt;
    }
    printf("pair %s %.2f %.2f\n", name, best, first);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    long n_mem = argc > 1 ? atol(argv[1]) : 2000000;
    long n_file = argc > 2 ? atol(argv[2]) : 200000;
    if (n_mem <= 0 || n_file <= 0) {
        fprintf(stderr, "usage: pairs [N_MEM_MUTEX>0 [N_FILE>0]]\n");
        return 2;
    }
    int bad = 0;
    bad |= run("malloc/free", loop_malloc, n_mem);
    bad |= run("open/close", loop_open, n_file);
    bad |= run("fopen/fclose", loop_fopen, n_file);
    bad |= run("mutex_lock/unlock", loop_mutex, n_mem);
    return bad ? 1 : 0;
}
