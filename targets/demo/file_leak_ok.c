/* file_leak_ok.c — count the lines of a text file; the fixed twin of
 * file_leak.c.
 *
 * Usage: demo_file_leak_ok FILE    prints "<lines> lines, longest <n>".
 *
 * Same program as file_leak.c, with the bug fixed: when the line buffer's
 * malloc() fails, count_lines() fclose()s the FILE before returning.
 * Under the same fault (faultstack run --fail only=malloc,nth=1) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Count the lines of PATH and the longest one (in bytes, capped at the
 * buffer size). Returns 0, or -1 after reporting the error on stderr. */
static int count_lines(const char *path, long *lines, size_t *longest)
{
    const size_t cap = 1024;
    int rc = 0;

    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char *line = malloc(cap); /* FS-FAULT */
    if (line == NULL) {
        perror("count_lines: malloc");
        fclose(f);              /* fixed */
        return -1;
    }
    *lines = 0;
    *longest = 0;
    while (fgets(line, (int)cap, f) != NULL) {
        size_t len = strlen(line);
        if (len > *longest)
            *longest = len;
        if (len > 0 && line[len - 1] == '\n')
            (*lines)++;
    }
    if (ferror(f)) {
        perror(path);
        rc = -1;
    }
    free(line);
    if (fclose(f) != 0) { perror(path); rc = -1; }
    return rc;
}

int main(int argc, char **argv)
{
    long lines;
    size_t longest;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    if (count_lines(argv[1], &lines, &longest) != 0) {
        fprintf(stderr, "%s: cannot count lines of %s\n", argv[0], argv[1]);
        return 1;
    }
    printf("%ld lines, longest %zu\n", lines, longest);
    return 0;
}
