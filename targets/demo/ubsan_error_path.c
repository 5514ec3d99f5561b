/* ubsan_error_path.c — a retry counter built with -fsanitize=undefined: its
 * planted bug is undefined behaviour on an error path, which UBSan reports
 * and the program survives (UBSan's default: report and go on).
 *
 * Usage: demo_ubsan_error_path      allocates a buffer, prints "ok".
 *
 * Planted bug (UBSan: signed-integer-overflow): when the buffer's malloc
 * fails, the error path counts the failure in a counter that starts at
 * INT_MAX, and overflows it.
 * Trigger: the 1st fault point:
 *   faultstack run --fail nth=1 -- demo_ubsan_error_path
 * Without a fault nothing is reported (exit 0). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int failures = INT_MAX;

int main(void)
{
    char *buf = malloc(64); /* FS-FAULT */
    if (!buf) {
        int n = failures + 1; /* FS-EXPECT: ubsan */
        fprintf(stderr, "demo_ubsan_error_path: out of memory (%d failures)\n", n);
        return 1;
    }
    snprintf(buf, 64, "ok");
    puts(buf);
    free(buf);
    return 0;
}
