/*
 * open_all_or_none.c — the classic ExitStack recipe: open every file or none.
 *
 * open_all() registers a close for each file as it opens it. If one open
 * fails, freeing the stack closes the ones already open; if all succeed,
 * es_pop_all() hands every close to the caller, who closes them later.
 * es_defer_close() closes the fd at once if it cannot be registered, so
 * "open, then register" has no branch of its own. The program checks both
 * paths by counting its open descriptors; any failure (an allocation the
 * library could not make included) is printed and the program exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitstack.h"

/* Opens every path. Returns NULL and stores the fds and a stack owning their
 * closes in *fds / *closer; or returns the error with nothing left open. */
static es_error *open_all(const char **paths, int n, int *fds, es_stack **closer)
{
    es_stack *st;
    es_error *err = es_new(&st);
    int i, fd;

    *closer = NULL;
    if (err)
        return err;
    for (i = 0; i < n && !err; i++) {
        fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            err = es_error_new(errno, "open(%s): %s", paths[i], strerror(errno));
        else
            err = es_defer_close(st, fd); /* refused: closed at once */
        fds[i] = fd;
    }
    if (!err)
        err = es_pop_all(st, closer); /* success: the caller owns the closes */
    return es_error_chain(es_free(st), err); /* failure: closes what was opened */
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

static int fail(const char *what, es_error *err)
{
    fprintf(stderr, "open_all_or_none: %s: %s\n", what, err ? err->message : "wrong fd count");
    es_error_free(err);
    return 1;
}

int main(void)
{
    const char *good[] = {"/etc/hostname", "/etc/passwd", "/dev/null"};
    const char *bad[] = {"/etc/passwd", "/dev/null", "/nonexistent/exitstack-example"};
    int fds[3], before = count_fds();
    es_stack *closer = NULL;
    es_error *err;

    err = open_all(good, 3, fds, &closer);
    if (err || count_fds() != before + 3)
        return fail("all-open path", es_error_chain(es_free(closer), err));
    printf("opened 3 files: fds %d %d %d\n", fds[0], fds[1], fds[2]);
    err = es_free(closer); /* later, the caller closes them */
    if (err || count_fds() != before)
        return fail("closing", err);

    err = open_all(bad, 3, fds, &closer);
    if (!err || err->code != ENOENT || closer || count_fds() != before) {
        if (err && err->code != ENOENT) /* e.g. out of memory: report it */
            return fail("none-open path", err);
        fprintf(stderr, "none-open path: %d fds leaked\n", count_fds() - before);
        es_error_free(err);
        return 1;
    }
    printf("third open failed (%s); the two opened files were closed\n", err->message);
    es_error_free(err);
    return 0;
}
