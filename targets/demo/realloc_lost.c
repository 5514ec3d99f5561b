/* realloc_lost.c — read a file into a growing buffer; p = realloc(p, n).
 *
 * Usage: demo_realloc_lost FILE     prints the size of FILE, exit 0.
 *
 * Planted bug (leak, kind memory, func malloc): slurp() grows its buffer
 * with buf = realloc(buf, cap); when realloc fails it returns NULL, the
 * assignment overwrites the only pointer to the old block, and the block is
 * lost. The block still is the one malloc() returned (a failed realloc leaves
 * it unchanged), so the leak names the malloc line.
 * Trigger: the program's 1st realloc() call (FILE must be > 16 bytes):
 *   faultstack run --fail only=realloc,nth=1 -- demo_realloc_lost FILE
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t cap = 16, len = 0;
    char *buf = malloc(cap); /* FS-EXPECT: leak memory */
    if (!buf) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap); /* FS-FAULT */
            if (!buf) {                 /* BUG: the old block is lost */
                close(fd);
                return -1;
            }
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    free(buf);
    close(fd);
    return (long)len;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    long n = slurp(argv[1]);
    if (n < 0) {
        fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[1]);
        return 1;
    }
    printf("%ld\n", n);
    return 0;
}
