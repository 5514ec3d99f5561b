/* internal_alloc.c — count the lines of a file with getline(); the bug is
 * only reachable when an allocation libc makes itself fails.
 *
 * Usage: demo_internal_alloc FILE    prints "N lines", exit 0.
 *
 * Bug: count_lines() reads with getline(), whose buffer libc mallocs itself
 * (getline is not a fault point: the malloc inside it is libc's own call).
 * When that malloc fails, getline returns -1 with errno ENOMEM; the program
 * reports it but returns without fclose(f): the FILE leaks. Only
 * `--fail internal` (calls libc makes itself are fault points too) reaches it.
 * Trigger:
 *   faultstack sweep --strategy nth --fail internal -- demo_internal_alloc FILE
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_lines(const char *path, long *out)
{
    FILE *f = fopen(path, "r"); /* FS-EXPECT: leak file */
    if (!f) {
        fprintf(stderr, "demo_internal_alloc: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    errno = 0;
    while (getline(&line, &cap, f) != -1) /* FS-FAULT */
        n++;
    if (errno == ENOMEM) {
        fprintf(stderr, "demo_internal_alloc: %s: out of memory\n", path);
        free(line);
        return -1;              /* BUG: f is not closed */
    }
    free(line);
    fclose(f);
    *out = n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    long n = 0;
    if (count_lines(argv[1], &n) != 0)
        return 1;
    printf("%ld lines\n", n);
    return 0;
}
