/* thread_leak.c — a worker thread reads a file; leaks on an error path.
 *
 * Usage: demo_thread_leak FILE return|exit
 *   the worker prints the first line of FILE; main joins it and returns 0
 *   (or calls exit(0) with the second argument "exit").
 *
 * Planted bug (leak, kind memory, func malloc, and leak, kind fd, func open):
 * worker() mallocs a buffer and opens FILE, then strdup()s the path; when the
 * strdup fails it returns without freeing the buffer or closing the fd. The
 * worker is joined, so both were acquired in frames that have all returned
 * and the buffer is reachable from nothing.
 * Trigger: the program's 1st strdup() call:
 *   faultstack run --fail only=strdup,nth=1 -- demo_thread_leak FILE return
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg)
{
    const char *path = arg;
    char *buf = malloc(256); /* FS-EXPECT: leak memory */
    if (!buf)
        return (void *)1;
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0) {
        free(buf);
        return (void *)1;
    }
    char *name = strdup(path); /* FS-FAULT */
    if (!name) {
        fprintf(stderr, "worker: out of memory\n");
        return (void *)1;       /* BUG: buf and fd are never released */
    }
    ssize_t n = read(fd, buf, 255);
    if (n >= 0) {
        buf[n] = '\0';
        char *nl = strchr(buf, '\n');
        if (nl) *nl = '\0';
        printf("%s: %s\n", name, buf);
    }
    free(name);
    close(fd);
    free(buf);
    return n < 0 ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE return|exit\n", argv[0]);
        return 2;
    }
    pthread_t t;
    void *res = NULL;
    if (pthread_create(&t, NULL, worker, argv[1]) != 0 || pthread_join(t, &res) != 0) {
        fprintf(stderr, "%s: cannot run the worker\n", argv[0]);
        return 1;
    }
    int rc = res ? 1 : 0;
    if (rc)
        fprintf(stderr, "%s: worker failed\n", argv[0]);
    if (strcmp(argv[2], "exit") == 0)
        exit(rc);
    return rc;
}
