/* hang.c — update a shared counter under a mutex; hangs on an error path.
 *
 * Usage: demo_hang relock|sleep     exit 0 after one update.
 *
 * Planted bug (timeout; with "relock" also anomaly relock, kind lock):
 * update() holds `lock` and mallocs a record. When the malloc fails:
 *   relock  it calls report(), which locks `lock` again (a normal,
 *           non-recursive mutex): the thread deadlocks on itself;
 *   sleep   it waits for a retry flag that nothing ever sets.
 * Trigger: the program's 1st malloc() call, with a timeout:
 *   faultstack run --timeout 2 --fail only=malloc,nth=1 -- demo_hang relock
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static volatile int retry_ok;

static void report(const char *what)
{
    pthread_mutex_lock(&lock); /* FS-EXPECT: anomaly relock lock */
    fprintf(stderr, "demo_hang: %s (counter %ld)\n", what, counter);
    pthread_mutex_unlock(&lock);
}

static int update(int relock)
{
    pthread_mutex_lock(&lock); /* FS-EXPECT: held lock */
    long *rec = malloc(sizeof *rec); /* FS-FAULT */
    if (!rec) {
        if (relock) {
            report("out of memory");        /* BUG: deadlocks, `lock` is ours */
        } else {
            fprintf(stderr, "demo_hang: out of memory, waiting for a retry\n");
            while (!retry_ok)               /* BUG: nothing ever sets it */
                sleep(1);
        }
        pthread_mutex_unlock(&lock);
        return -1;
    }
    *rec = ++counter;
    free(rec);
    pthread_mutex_unlock(&lock);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "relock") && strcmp(argv[1], "sleep"))) {
        fprintf(stderr, "usage: %s relock|sleep\n", argv[0]);
        return 2;
    }
    if (update(strcmp(argv[1], "relock") == 0) != 0)
        return 1;
    printf("counter %ld\n", counter);
    return 0;
}
