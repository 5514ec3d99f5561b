/* double_free.c — parse a key=value pair; frees twice on an error path.
 *
 * Usage: demo_double_free KEY=VALUE      prints "KEY -> VALUE", exit 0.
 *
 * Planted bug (anomaly double-release, kind memory, func free): parse_pair()
 * frees `key` when strdup of the value fails and then frees it again in the
 * common cleanup. Natively glibc aborts ("double free detected"); under the
 * preload the second free is reported and not passed on, so the program
 * reports the error and exits 1.
 * Trigger: the program's 1st strdup() call (strndup is counted apart):
 *   faultstack run --fail only=strdup,nth=1 -- demo_double_free a=b
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_pair(const char *arg)
{
    int rc = -1;
    char *val = NULL;
    const char *eq = strchr(arg, '=');
    if (!eq)
        return -1;
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key)
        return -1;
    val = strdup(eq + 1); /* FS-FAULT */
    if (!val) {
        fprintf(stderr, "demo_double_free: out of memory\n");
        free(key);              /* BUG: freed here and again below */
        goto out;
    }
    printf("%s -> %s\n", key, val);
    rc = 0;
out:
    free(val);
    free(key); /* FS-EXPECT: anomaly double-release memory */
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s KEY=VALUE\n", argv[0]);
        return 2;
    }
    return parse_pair(argv[1]) == 0 ? 0 : 1;
}
