/* functions.c — `faultstack functions`: the wrapped functions (funcs.def),
 * their resource kinds, roles and the errno their injected failure sets. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "funcs.h"
#include "plan.h"

int fs_cmd_functions(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int help = !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
        fprintf(help ? stdout : stderr, "%susage: faultstack functions\n"
                "  List the wrapped functions: resource kind, role, whether each is a fault point, the\n"
                "  errno and return value of its injected failure (names for --fail only=, site=).\n",
                help ? "" : "faultstack functions: takes no arguments\n");
        return help ? 0 : 2;
    }
    static const char *const roles[] = { "acquire", "release", "use", "acq+rel" };
    printf("%-28s %-7s %-8s %-11s %-10s %s\n", "function", "kind", "role", "fault point", "errno", "failure");
    for (int i = 0; i < FS_F_COUNT; i++) {
        const struct fs_func_info *f = &fs_funcs[i];
        printf("%-28s %-7s %-8s %-11s %-10s %s\n", f->name, fs_kind_names[f->kind], roles[f->role],
               f->injectable ? "yes" : "no", f->err ? (fs_errno_name(f->err) ? fs_errno_name(f->err) : "?") : "-",
               f->failure);
    }
    return 0;
}

