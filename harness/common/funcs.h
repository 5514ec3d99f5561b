/* funcs.h — metadata of the wrapped functions: funcs.def, generated at build time
 * from harness/spec/libc.spec by fs-protogen (FS_FUNC rows).
 * Shared by the preload (ids, errno, kind) and the CLI (`faultstack functions`). */
#ifndef FS_FUNCS_H
#define FS_FUNCS_H

enum fs_kind { FS_KIND_none = 0, FS_KIND_fd, FS_KIND_file, FS_KIND_dir, FS_KIND_memory,
               FS_KIND_mmap, FS_KIND_lock, FS_KIND_COUNT };
enum fs_role { FS_ROLE_ACQ, FS_ROLE_REL, FS_ROLE_USE, FS_ROLE_XFER };

enum fs_func_id {
#define FS_FUNC(name, kind, role, failure, err, inj) FS_F_##name,
#include "funcs.def"
#undef FS_FUNC
    FS_F_COUNT
};

struct fs_func_info {
    const char *name;
    enum fs_kind kind;
    enum fs_role role;
    const char *failure;   /* documented failure return */
    int err;               /* default errno of an injected failure */
    int injectable;
};

extern const struct fs_func_info fs_funcs[FS_F_COUNT];
extern const char *const fs_kind_names[FS_KIND_COUNT];

/* Id of a wrapped function by name, or -1 when it is not wrapped. */
int fs_func_lookup(const char *name);

#endif
