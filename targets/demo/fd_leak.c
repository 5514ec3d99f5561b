/* fd_leak.c — copy a file; demo with a planted error-path bug.
 *
 * Usage: demo_fd_leak SRC DST      copies SRC to DST, exit 0 on success.
 *
 * Planted bug (leak, kind fd, func open): copy_file() opens SRC, then DST.
 * When the second open() fails it reports the error and returns, but never
 * closes the descriptor of SRC.
 * Trigger: make the program's 2nd open() call fail:
 *   faultstack run --fail only=open,nth=2 -- demo_fd_leak SRC DST
 * Fixed twin: fd_leak_ok.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* Copy SRC to DST. Returns 0, or -1 after reporting the error on stderr. */
static int copy_file(const char *src, const char *dst)
{
    char buf[4096];
    ssize_t n;
    int rc = -1;

    int in = open(src, O_RDONLY); /* FS-EXPECT: leak fd */
    if (in < 0) {
        perror(src);
        return -1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* FS-FAULT */
    if (out < 0) {
        perror(dst);
        return -1;              /* BUG: `in` is never closed */
    }
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            perror(dst);
            goto done;
        }
    }
    if (n < 0) {
        perror(src);
        goto done;
    }
    rc = 0;
done:
    if (close(out) != 0 && rc == 0) { perror(dst); rc = -1; }
    close(in);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
        return 2;
    }
    if (copy_file(argv[1], argv[2]) != 0) {
        fprintf(stderr, "%s: copy failed\n", argv[0]);
        return 1;
    }
    return 0;
}
