/* minilib_test.c — the test driver of libdemo_minilib.so (minilib.c), written
 * as library test suites often are: it assert()s that ml_parse() returned a
 * document, so when the library correctly reports ENOMEM after an injected
 * malloc failure, the driver aborts (SIGABRT, 'FS-EXPECT: driver gave up').
 * That is the driver giving up, not a library crash: faultstack marks it
 * driver-gave-up. The driver has its own bugs too, which --scope
 * libdemo_minilib.so leaves out of the judgement: it never frees its scratch
 * buffer (a baseline leak, 'FS-EXPECT: driver leak') and does not check its
 * allocation ('FS-EXPECT: driver crash', SIGSEGV when it fails).
 *
 * Usage: demo_minilib_test   exit 0, or 1 when ml_validate reported an error */
#undef NDEBUG                 /* the assert is the point, in every build type */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minilib.h"

int main(void)
{
    char *scratch = malloc(64);                  /* FS-EXPECT: driver leak */
    strcpy(scratch, "key=value");                /* FS-EXPECT: driver crash */
    struct ml_doc *d = ml_parse("demo", scratch);
    assert(d != NULL);                           /* FS-EXPECT: driver gave up */
    int n = ml_validate(scratch);
    if (n < 0) {
        fprintf(stderr, "ml_validate: %s\n", strerror(errno));
        ml_free(d);
        return 1;
    }
    printf("valid: %d\n", n);
    ml_free(d);
    return 0;
}
