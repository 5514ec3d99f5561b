/* mismatched_release.c — write a small report through stdio; demo with a
 * planted error-path bug.
 *
 * Usage: demo_mismatched_release FILE TITLE   writes a 3-line report.
 *
 * Planted bugs, both on the error path of fflush() (e.g. disk full):
 *  - anomaly mismatched-release, kind file, func close: write_report()
 *    releases the FILE's descriptor with close(fileno(f)) instead of fclose(f);
 *  - leak, kind file, func fopen: fclose() is then never called, so the FILE
 *    itself (its buffer and libc's bookkeeping) is never released; at exit
 *    libc even tries to flush it into the closed descriptor.
 * Trigger: fail the program's 1st (and only) fflush() call:
 *   faultstack run --fail only=fflush,nth=1 -- demo_mismatched_release FILE T
 * Natively: make the first write(2) fail (the one fflush() does), e.g.
 *   strace -e inject=write:error=ENOSPC:when=1 demo_mismatched_release FILE T
 * Fixed twin: mismatched_release_ok.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

/* Write the report to PATH and make sure it reached the kernel.
 * Returns 0, or -1 after reporting the error on stderr. */
static int write_report(const char *path, const char *title)
{
    FILE *f = fopen(path, "w"); /* FS-EXPECT: leak file */
    if (f == NULL) {
        perror(path);
        return -1;
    }
    fprintf(f, "report: %s\n", title);
    fprintf(f, "status: ok\n");
    fprintf(f, "end\n");
    if (fflush(f) != 0) { /* FS-FAULT */
        perror(path);
        close(fileno(f)); /* FS-EXPECT: anomaly mismatched-release file */
        return -1;              /* BUG: should have been fclose(f) */
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
