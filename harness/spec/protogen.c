/* protogen.c — fs-protogen, the build-time generator: libc's spec to the
 * preload's function table and regular wrappers.
 *
 *   fs-protogen table SPEC OUT          FS_FUNC rows (included by funcs.h)
 *   fs-protogen libc-wrappers SPEC OUT  wrap.h macro calls (wrap_gen.c)
 *   fs-protogen protocol SPEC OUT       a user's protocol library source (tests)
 *   fs-protogen symbols SPEC OUT        every symbol the preload interposes: the rows,
 *                                       then `alias` and `interposes` lines (NAME KIND
 *                                       per line; tests/integration/test_wrapped_set.sh)
 *   fs-protogen libc-tests SPEC OUT     the libc_rows driver: one injection test per
 *                                       injectable row (the rows' `test` lines)
 * Writes OUT only when its content changes, so an edit of the spec rebuilds
 * what depends on it and nothing else. Exit 2 on a bad spec. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static int fs_write_if_changed(const char *path, const char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (f) {
        char *old = malloc(n + 2);
        size_t m = old ? fread(old, 1, n + 1, f) : 0;
        fclose(f);
        int same = old && m == n && memcmp(old, buf, n) == 0;
        free(old);
        if (same)
            return 0;
    }
    f = fopen(path, "w");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fs-protogen: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fs-protogen table|libc-wrappers|libc-tests|protocol|symbols SPEC OUT\n");
        return 2;
    }
    int builtin = strcmp(argv[1], "protocol") != 0;
    struct fs_spec *s;
    char err[1024];
    if (fs_spec_parse_file(argv[2], builtin, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    int rc = !strcmp(argv[1], "table") ? fs_spec_gen_table(s, m)
           : !strcmp(argv[1], "libc-wrappers") ? fs_spec_gen_libc_wrappers(s, m)
           : !strcmp(argv[1], "libc-tests") ? fs_spec_gen_libc_tests(s, m)
           : !strcmp(argv[1], "protocol") ? fs_spec_gen_protocol(s, m)
           : !strcmp(argv[1], "symbols") ? fs_spec_gen_symbols(s, m) : -2;
    fclose(m);
    fs_spec_free(s);
    if (rc == -2)
        fprintf(stderr, "fs-protogen: unknown output '%s' (table, libc-wrappers, libc-tests, protocol, symbols)\n", argv[1]);
    if (rc == 0)
        rc = fs_write_if_changed(argv[3], buf, n);
    free(buf);
    return rc == 0 ? 0 : 2;
}
