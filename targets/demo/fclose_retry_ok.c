/* fclose_retry_ok.c — save a note to a file with stdio; the fixed twin of
 * fclose_retry.c.
 *
 * Usage: demo_fclose_retry_ok FILE TEXT  writes TEXT and a newline to FILE.
 *
 * Same program as fclose_retry.c, with the bug fixed: a failed fclose() is
 * reported and not retried (the stream is gone whatever fclose() returned).
 * Under the same fault (faultstack run --fail only=fclose,nth=1) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

/* Write TEXT and a newline to PATH. Returns 0, or -1 after reporting the
 * error on stderr. */
static int save_note(const char *path, const char *text)
{
    int rc = 0;

    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fputs(text, f) == EOF || fputs("\n", f) == EOF) {
        perror(path);
        rc = -1;
    }
    if (fclose(f) != 0) { /* FS-FAULT */
        perror(path);   /* fixed: f is released whatever fclose returned */
        rc = -1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE TEXT\n", argv[0]);
        return 2;
    }
    if (save_note(argv[1], argv[2]) != 0) {
        fprintf(stderr, "%s: cannot save %s\n", argv[0], argv[1]);
        return 1;
    }
    return 0;
}
