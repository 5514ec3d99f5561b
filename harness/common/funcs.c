/* funcs.c — the table of wrapped functions (funcs.def, generated from
 * harness/spec/libc.spec at build time) as data. */
#include "funcs.h"
#include <errno.h>
#include <string.h>

const struct fs_func_info fs_funcs[FS_F_COUNT] = {
#define FS_FUNC(name, kind, role, failure, err, inj) \
    { #name, FS_KIND_##kind, FS_ROLE_##role, failure, err, inj },
#include "funcs.def"
#undef FS_FUNC
};

const char *const fs_kind_names[FS_KIND_COUNT] = {
    "none", "fd", "file", "dir", "memory", "mmap", "lock"
};

int fs_func_lookup(const char *name)
{
    for (int i = 0; i < FS_F_COUNT; i++)
        if (strcmp(fs_funcs[i].name, name) == 0)
            return i;
    return -1;
}
