/* mem_leak_ok.c — split KEY=VALUE settings; the fixed twin of mem_leak.c.
 *
 * Usage: demo_mem_leak_ok KEY=VALUE...  prints each setting as "KEY: VALUE".
 *
 * Same program as mem_leak.c, with the bug fixed: when the value's malloc()
 * fails, parse_setting() frees the key before returning.
 * Under the same fault (faultstack run --fail only=malloc,nth=2) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split ARG at its first '='. On success returns 0 and *key, *value are
 * malloc'd strings the caller frees; on error returns -1 after reporting it
 * on stderr, and sets neither. */
static int parse_setting(const char *arg, char **key, char **value)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        fprintf(stderr, "%s: expected KEY=VALUE\n", arg);
        return -1;
    }
    size_t klen = (size_t)(eq - arg), vlen = strlen(eq + 1);

    char *k = malloc(klen + 1);
    if (k == NULL) {
        perror("parse_setting: malloc");
        return -1;
    }
    char *v = malloc(vlen + 1); /* FS-FAULT */
    if (v == NULL) {
        perror("parse_setting: malloc");
        free(k);                /* fixed */
        return -1;
    }
    memcpy(k, arg, klen);
    k[klen] = '\0';
    memcpy(v, eq + 1, vlen + 1);
    *key = k;
    *value = v;
    return 0;
}

/* Print every setting of ARGV[0..ARGC-1]. Returns 0 or -1 (reported). */
static int print_settings(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        char *key, *value;
        if (parse_setting(argv[i], &key, &value) != 0)
            return -1;
        printf("%s: %s\n", key, value);
        free(key);
        free(value);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s KEY=VALUE...\n", argv[0]);
        return 2;
    }
    if (print_settings(argc - 1, argv + 1) != 0) {
        fprintf(stderr, "%s: cannot parse the settings\n", argv[0]);
        return 1;
    }
    return 0;
}
