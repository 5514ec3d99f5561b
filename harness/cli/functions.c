/* functions.c — `faultstack functions`: the wrapped functions (libc.spec, and --protocol specs),
 * their resource kinds, roles and the errno their injected failure sets. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "funcs.h"
#include "plan.h"

int fs_cmd_functions(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char err[4096];
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: faultstack functions [--protocol SPEC]...\n"
                   "  List the wrapped functions (libc's, from harness/spec/libc.spec, then those of each\n"
                   "  --protocol spec): resource kind, role, whether each is a fault point, the errno and\n"
                   "  return value of its injected failure (names for --fail only=, site=).\n"
                   "  --protocol SPEC   also list the functions of this protocol spec (repeatable)\n");
            return 0;
        }
        const char *v = !strcmp(argv[i], "--protocol") && i + 1 < argc ? argv[++i]
                      : !strncmp(argv[i], "--protocol=", 11) ? argv[i] + 11 : NULL;
        if (!v) {
            fprintf(stderr, "faultstack functions: unknown argument '%s' (--protocol SPEC)\n", argv[i]);
            return 2;
        }
        if (fs_protocol_load(v, err, sizeof err) != 0) {
            fprintf(stderr, "faultstack functions: %s\n", err);
            return 2;
        }
    }
    static const char *const roles[] = { "acquire", "release", "use", "acq+rel" };
    printf("%-28s %-7s %-8s %-11s %-10s %s\n", "function", "kind", "role", "fault point", "errno", "failure");
    for (int i = 0; i < FS_F_COUNT; i++) {
        const struct fs_func_info *f = &fs_funcs[i];
        printf("%-28s %-7s %-8s %-11s %-10s %s\n", f->name, fs_kind_names[f->kind], roles[f->role],
               f->injectable ? "yes" : "no", f->err ? (fs_errno_name(f->err) ? fs_errno_name(f->err) : "?") : "-",
               f->failure);
    }
    fs_protocol_print_functions();
    return 0;
}

