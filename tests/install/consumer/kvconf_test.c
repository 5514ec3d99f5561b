/* kvconf_test.c — the consumer project's test driver: loads the sample file
 * given as argv[1] and checks one key. Exits 0 when it worked, 1 (with a
 * message) when kvconf_load failed: under faultstack the failure is the
 * injected one, and what is judged is what the library left behind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvconf.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kvconf_test FILE\n");
        return 2;
    }
    struct kvconf c;
    if (kvconf_load(argv[1], &c) != 0) {
        fprintf(stderr, "kvconf_test: cannot load %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    const char *name = kvconf_get(&c, "name");
    int ok = name && strcmp(name, "faultstack") == 0;
    printf("%zu pairs, name=%s\n", c.n, name ? name : "(none)");
    kvconf_free(&c);
    return ok ? 0 : 1;
}
