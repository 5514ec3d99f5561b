/* mismatched_release_ok.c — write a small report through stdio; the fixed
 * twin of mismatched_release.c.
 *
 * Usage: demo_mismatched_release_ok FILE TITLE   writes a 3-line report.
 *
 * Same program as mismatched_release.c, with the bug fixed: when fflush()
 * fails, write_report() releases the stream with fclose(f) (which also
 * closes its descriptor).
 * Under the same fault (faultstack run --fail only=fflush,nth=1) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

/* Write the report to PATH and make sure it reached the kernel.
 * Returns 0, or -1 after reporting the error on stderr. */
static int write_report(const char *path, const char *title)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    fprintf(f, "report: %s\n", title);
    fprintf(f, "status: ok\n");
    fprintf(f, "end\n");
    if (fflush(f) != 0) { /* FS-FAULT */
        perror(path);
        fclose(f);              /* fixed: fclose, not close(fileno(f)) */
        return -1;
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE TITLE\n", argv[0]);
        return 2;
    }
    if (write_report(argv[1], argv[2]) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[1]);
        return 1;
    }
    return 0;
}
