/* fclose_retry.c — save a note to a file with stdio; demo with a planted
 * error-path bug.
 *
 * Usage: demo_fclose_retry FILE TEXT     writes TEXT and a newline to FILE.
 *
 * Planted bug (anomaly double-release, kind file, func fclose): save_note()
 * treats a failed fclose() as "not closed yet" and calls fclose() again on
 * the same FILE. fclose() releases the stream even when it reports failure
 * (POSIX: "the stream shall be disassociated from the file" whatever the
 * result; glibc frees it), so the retry releases a FILE that no longer
 * exists — undefined behaviour, a double release.
 * Trigger: fail the program's 1st fclose() call:
 *   faultstack run --fail only=fclose,nth=1 -- demo_fclose_retry FILE hello
 * Fixed twin: fclose_retry_ok.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

/* gcc >= 12 sees the planted bug at compile time; keep the build quiet. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

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
        perror(path);
        rc = -1;
        if (fclose(f) != 0) /* FS-EXPECT: anomaly double-release file */
            fprintf(stderr, "%s: close retry failed too\n", path);
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
