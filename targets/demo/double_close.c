/* double_close.c — save a short record to a file with write(2); demo with a
 * planted error-path bug.
 *
 * Usage: demo_double_close FILE TEXT...   writes each TEXT as one line.
 *
 * Planted bug (anomaly double-release, kind fd, func close): save_record()
 * closes the descriptor in the write-error branch and then again in the
 * common cleanup, so the second close() releases a descriptor that is no
 * longer the program's (it could already belong to another thread's file).
 * Trigger: fail the program's 1st write() call:
 *   faultstack run --fail only=write,nth=1 -- demo_double_close FILE a b
 * Fixed twin: double_close_ok.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Write LINES[0..N-1] to PATH, one per line.
 * Returns 0, or -1 after reporting the error on stderr. */
static int save_record(const char *path, char **lines, int n)
{
    char buf[1024];
    int rc = -1;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "%s\n", lines[i]);
        if (len < 0 || (size_t)len >= sizeof buf) {
            fprintf(stderr, "%s: line %d too long\n", path, i + 1);
            goto done;
        }
        if (write(fd, buf, (size_t)len) != len) { /* FS-FAULT */
            perror(path);
            close(fd);          /* BUG: closed here and again below */
            goto done;
        }
    }
    rc = 0;
done:
    if (close(fd) != 0) { /* FS-EXPECT: anomaly double-release fd */
        perror(path);
        rc = -1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FILE TEXT...\n", argv[0]);
        return 2;
    }
    if (save_record(argv[1], argv + 2, argc - 2) != 0) {
        fprintf(stderr, "%s: cannot save %s\n", argv[0], argv[1]);
        return 1;
    }
    return 0;
}
