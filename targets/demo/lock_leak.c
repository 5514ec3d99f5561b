/* lock_leak.c — append messages to a shared in-memory log; demo with a
 * planted error-path bug.
 *
 * Usage: demo_lock_leak MESSAGE...  appends each MESSAGE to the log under
 *                                   log_lock, then prints the log.
 *
 * Planted bug (leak, kind lock, func pthread_mutex_lock): log_append() locks
 * log_lock and then allocates the entry; when that malloc() fails it reports
 * the error and returns with log_lock still held, so every later caller
 * would block forever.
 * Trigger: fail the program's 1st malloc() (the first message's entry):
 *   faultstack run --fail only=malloc,nth=1 -- demo_lock_leak hello
 * Fixed twin: lock_leak_ok.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    char text[];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *log_head;
static struct entry **log_tail = &log_head;

/* Append a copy of MSG to the log. Returns 0, or -1 after reporting it. */
static int log_append(const char *msg)
{
    size_t len = strlen(msg) + 1;

    pthread_mutex_lock(&log_lock); /* FS-EXPECT: leak lock */
    struct entry *e = malloc(sizeof *e + len); /* FS-FAULT */
    if (e == NULL) {
        perror("log_append: malloc");
        return -1;              /* BUG: log_lock stays locked */
    }
    memcpy(e->text, msg, len);
    e->next = NULL;
    *log_tail = e;
    log_tail = &e->next;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

/* Print the log and empty it. */
static void log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    while (log_head != NULL) {
        struct entry *e = log_head;
        log_head = e->next;
        puts(e->text);
        free(e);
    }
    log_tail = &log_head;
    pthread_mutex_unlock(&log_lock);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MESSAGE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (log_append(argv[i]) != 0) {
            fprintf(stderr, "%s: cannot log '%s'\n", argv[0], argv[i]);
            return 1;           /* entries so far stay reachable from log_head */
        }
    }
    log_flush();
    return 0;
}
