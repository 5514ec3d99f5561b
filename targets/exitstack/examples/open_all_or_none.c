/*
 * open_all_or_none.c — the classic ExitStack recipe: open every file or none.
 *
 * open_all() registers a close for each file as it opens it. If one open
 * fails, closing the stack closes the ones already open; if all succeed,
 * es_pop_all() hands every close to the caller, who closes them later.
 * The program checks both paths by counting its open descriptors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitstack.h"

static es_error *close_fd(void *arg)
{
    int fd = (int)(intptr_t)arg;
    return close(fd) == 0 ? NULL : es_error_new(errno, "close(%d): %s", fd, strerror(errno));
}

/* Opens every path. Returns NULL and stores the fds and a stack owning their
 * closes in *fds / *closer; or returns the error with nothing left open. */
static es_error *open_all(const char **paths, int n, int *fds, es_stack **closer)
{
    es_stack *st = es_new();
    es_error *err = NULL;
    int i, fd, rc;

    if (!st)
        return es_error_new(ENOMEM, "open_all: no stack");
    for (i = 0; i < n; i++) {
        fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err = es_error_new(errno, "open(%s): %s", paths[i], strerror(errno));
            goto out;
        }
        rc = es_callback(st, close_fd, (void *)(intptr_t)fd);
        if (rc) { /* not registered: still ours to close */
            close(fd);
            err = es_error_new(rc, "open_all: cannot register close");
            goto out;
        }
        fds[i] = fd;
    }
    *closer = es_pop_all(st); /* success: the caller owns the closes */
    if (!*closer)
        err = es_error_new(ENOMEM, "open_all: pop_all");
out:
    err = es_error_chain(es_close(st), err); /* failure: closes what was opened */
    es_free(st);
    return err;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

int main(void)
{
    const char *good[] = {"/etc/hostname", "/etc/passwd", "/dev/null"};
    const char *bad[] = {"/etc/passwd", "/dev/null", "/nonexistent/exitstack-example"};
    int fds[3], before = count_fds();
    es_stack *closer = NULL;
    es_error *err;

    err = open_all(good, 3, fds, &closer);
    if (err || !closer || count_fds() != before + 3) {
        fprintf(stderr, "all-open path failed: %s\n", err ? err->message : "wrong fd count");
        es_error_free(err);
        es_error_free(es_close(closer));
        es_free(closer);
        return 1;
    }
    printf("opened 3 files: fds %d %d %d\n", fds[0], fds[1], fds[2]);
    err = es_close(closer); /* later, the caller closes them */
    es_free(closer);
    if (err || count_fds() != before) {
        fprintf(stderr, "closing failed: %s\n", err ? err->message : "wrong fd count");
        es_error_free(err);
        return 1;
    }
    closer = NULL;
    err = open_all(bad, 3, fds, &closer);
    if (!err || err->code != ENOENT || closer || count_fds() != before) {
        fprintf(stderr, "none-open path failed: %s; %d fds leaked\n", err ? err->message : "no error",
                count_fds() - before);
        es_error_free(err);
        es_error_free(es_close(closer));
        es_free(closer);
        return 1;
    }
    printf("third open failed (%s); the two opened files were closed\n", err->message);
    es_error_free(err);
    return 0;
}
