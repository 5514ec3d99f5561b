/* fd_leak_ok.c — copy a file; the fixed twin of fd_leak.c.
 *
 * Usage: demo_fd_leak_ok SRC DST   copies SRC to DST, exit 0 on success.
 *
 * Same program as fd_leak.c, with the bug fixed: when the second open()
 * fails, copy_file() closes the descriptor of SRC before returning.
 * Under the same fault (faultstack run --fail only=open,nth=2) it must
 * produce no finding.
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

    int in = open(src, O_RDONLY);
    if (in < 0) {
        perror(src);
        return -1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* FS-FAULT */
    if (out < 0) {
        perror(dst);
        close(in);              /* fixed */
        return -1;
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
