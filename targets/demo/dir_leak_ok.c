/* dir_leak_ok.c — list the entries of a directory; the fixed twin of
 * dir_leak.c.
 *
 * Usage: demo_dir_leak_ok DIR      prints DIR's entries (not . and ..), one
 *                                  per line, up to 4 KiB of names.
 *
 * Same program as dir_leak.c, with the bug fixed: when the output buffer's
 * malloc() fails, list_dir() closedir()s the DIR before returning.
 * Under the same fault (faultstack run --fail only=malloc,nth=1) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print the entries of PATH. Returns 0, or -1 after reporting the error. */
static int list_dir(const char *path)
{
    const size_t cap = 4096;
    size_t used = 0;
    struct dirent *e;
    int rc = 0;

    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    char *out = malloc(cap); /* FS-FAULT */
    if (out == NULL) {
        perror("list_dir: malloc");
        closedir(d);            /* fixed */
        return -1;
    }
    out[0] = '\0';
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(out + used, cap - used, "%s\n", e->d_name);
        if (n < 0 || (size_t)n >= cap - used) {
            out[used] = '\0';   /* listing truncated at the last whole name */
            break;
        }
        used += (size_t)n;
    }
    if (e == NULL && errno != 0) {
        perror(path);
        rc = -1;
    }
    fputs(out, stdout);
    free(out);
    if (closedir(d) != 0) { perror(path); rc = -1; }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    if (list_dir(argv[1]) != 0) {
        fprintf(stderr, "%s: cannot list %s\n", argv[0], argv[1]);
        return 1;
    }
    return 0;
}
