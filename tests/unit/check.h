/* check.h — the checks of the C unit tests: CHECK(cond, fmt, ...) counts a
 * check and, when cond is false, prints file:line, the condition and the
 * message and counts a failure; CHECK_FAIL_AT(line, fmt, ...) reports a
 * failure at a given line; CHECK_DONE(name) prints the tally and gives
 * main's exit status (0 all passed, 1 some failed). Include once per test. */
#ifndef FS_CHECK_H
#define FS_CHECK_H

#include <stdio.h>

static int g_checks, g_failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        g_checks++;                                                            \
        if (!(cond)) {                                                         \
            g_failures++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A failed check found elsewhere than where the failure is reported (a helper
 * that checks on behalf of its caller's line). */
#define CHECK_FAIL_AT(line, ...)                                               \
    do {                                                                       \
        g_checks++;                                                            \
        g_failures++;                                                          \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, (int)(line));                \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
    } while (0)

#define CHECK_DONE(name)                                                       \
    (printf("%s: %d checks, %d failed\n", (name), g_checks, g_failures), g_failures ? 1 : 0)

#endif
