/* slow_steps.c — twenty steps ~100 ms apart, each allocating; the error path
 * of the 3rd step leaks a descriptor.
 *
 * Usage: demo_slow_steps FILE [DELAY_MS]    exit 0 after the 20 steps.
 *
 * Planted bug (leak, kind fd, func open): work() opens FILE, then runs 20
 * steps, each a malloc() at its own call site after DELAY_MS (default 100).
 * When the malloc of step 3 fails, the error is reported with fwrite() (a
 * call no other path makes: a fault point only this error path reaches) and
 * work() returns without closing FILE's descriptor. Every other step's
 * failure closes it.
 * Trigger: make step 3's malloc() fail:
 *   faultstack run --fail only=malloc,nth=3 -- demo_slow_steps FILE
 * Used by test_sweep_resume_confirm.sh (a sweep killed while the forked run
 * of step 3 is recorded but not yet confirmed), test_interrupt.sh and
 * test_db_full.sh (a sweep slow enough to be stopped in the middle).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_ms = 100;

static void pause_a_bit(void)
{
    struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Step n failed: report it. Returns 1. */
static int step_failed(int n, int fd)
{
    if (n == 3) {
        static const char msg[] = "demo_slow_steps: step 3: out of memory\n";
        fwrite(msg, 1, sizeof msg - 1, stderr); /* the error path's own call */
        return 1;               /* BUG: fd is never closed */
    }
    dprintf(2, "demo_slow_steps: step %d: out of memory\n", n);
    close(fd);
    return 1;
}

#define STEP(n) do { pause_a_bit(); void *p = malloc(32 + (n)); if (!p) return step_failed((n), fd); free(p); } while (0)

static int work(const char *path)
{
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0) {
        perror(path);
        return 1;
    }
    STEP(1);
    STEP(2);
    STEP(3); /* FS-FAULT */
    STEP(4);
    STEP(5);
    STEP(6);
    STEP(7);
    STEP(8);
    STEP(9);
    STEP(10);
    STEP(11);
    STEP(12);
    STEP(13);
    STEP(14);
    STEP(15);
    STEP(16);
    STEP(17);
    STEP(18);
    STEP(19);
    STEP(20);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [DELAY_MS]\n", argv[0]);
        return 2;
    }
    if (argc == 3)
        delay_ms = atol(argv[2]);
    return work(argv[1]);
}
