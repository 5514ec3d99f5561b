/* file_leak.c — count the lines of a text file; demo with a planted
 * error-path bug.
 *
 * Usage: demo_file_leak FILE       prints "<lines> lines, longest <n>".
 *
 * Planted bug (leak, kind file, func fopen): count_lines() fopen()s FILE and
 * then allocates its line buffer; when that malloc() fails it reports the
 * error and returns without fclose(), so the FILE (and its fd) stays open.
 * Trigger: fail the program's 1st malloc() (the line buffer; no malloc of
 * the program's own comes before it — fopen's internal one is libc's):
 *   faultstack run --fail only=malloc,nth=1 -- demo_file_leak FILE
 * Fixed twin: file_leak_ok.c.
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

    FILE *f = fopen(path, "r"); /* FS-EXPECT: leak file */
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char *line = malloc(cap); /* FS-FAULT */
    if (line == NULL) {
        perror("count_lines: malloc");
        return -1;              /* BUG: f is never closed */
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
