/* protocol.c — users' protocols inside the preload: the registry of the
 * functions and kinds that protocol libraries (faultstack protocol build) and
 * annotations (faultstack/annotate.h) register at run time, and the versioned
 * API they call (harness/include/faultstack/protocol_api.h).
 *
 * A registered function gets an id after libc's (FS_F_COUNT + i) and its kind
 * an id after the built-in kinds, so the rest of the preload (fault points,
 * plan, ledger, records) treats it like any wrapped libc function. Protocol
 * handles are judged at exit like raw handles: held by a live frame, a
 * running thread, a signal or an exec, else a leak (reachability does not
 * count: a library that keeps its sessions in a table would hide every one). */
#define _GNU_SOURCE
#include "preload.h"
#include "faultstack/protocol_api.h"

#include <string.h>

struct fs_func_info fs_dyn_funcs[FS_MAX_DYN_FUNCS];
const char *fs_dyn_kinds[FS_MAX_DYN_KINDS];
unsigned char fs_dyn_flags[FS_MAX_DYN_FUNCS];
static int fs_ndyn_funcs, fs_ndyn_kinds;
static fs_lock_t fs_reg_lock;

_Static_assert(sizeof(struct fs_call) <= sizeof(((struct fsp_call *)0)->opaque),
               "struct fs_call must fit in fsp_call.opaque");

static char *fs_strdup_pages(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = fs_alloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* The kind id of a name, registering it when new; -1 when the table is full. */
static int fs_kind_id_locked(const char *name)
{
    for (int k = 0; k < FS_KIND_COUNT; k++)
        if (strcmp(fs_kind_names[k], name) == 0)
            return k;
    for (int k = 0; k < fs_ndyn_kinds; k++)
        if (strcmp(fs_dyn_kinds[k], name) == 0)
            return FS_KIND_COUNT + k;
    if (fs_ndyn_kinds >= FS_MAX_DYN_KINDS)
        return -1;
    const char *copy = fs_strdup_pages(name);
    if (!copy)
        return -1;
    fs_dyn_kinds[fs_ndyn_kinds] = copy;
    return FS_KIND_COUNT + fs_ndyn_kinds++;
}

static int fs_find_dyn_locked(const char *name)
{
    for (int i = 0; i < fs_ndyn_funcs; i++)
        if (strcmp(fs_dyn_funcs[i].name, name) == 0)
            return i;
    return -1;
}

static int fs_register(const struct fsp_protocol_desc *d)
{
    if (!d || d->version != FSP_API_VERSION || d->nfuncs <= 0 || !d->funcs)
        return -1;
    fs_guard++;
    fs_busy++;
    fs_lock(&fs_reg_lock);
    int base = -1;
    int first = fs_find_dyn_locked(d->funcs[0].name);
    if (first >= 0) {                          /* registered before (another copy, a re-run) */
        base = FS_F_COUNT + first;
        goto out;
    }
    if (fs_ndyn_funcs + d->nfuncs > FS_MAX_DYN_FUNCS)
        goto out;
    for (int i = 0; i < d->nfuncs; i++) {
        const struct fsp_func_desc *f = &d->funcs[i];
        struct fs_func_info *o = &fs_dyn_funcs[fs_ndyn_funcs + i];
        int kind = f->kind ? fs_kind_id_locked(f->kind) : FS_KIND_none;
        const char *name = fs_strdup_pages(f->name);
        const char *fail = fs_strdup_pages(f->failure ? f->failure : "-");
        if (kind < 0 || !name || !fail)
            goto out;
        o->name = name;
        o->kind = (enum fs_kind)kind;
        o->role = f->role == FSP_ACQUIRE ? FS_ROLE_ACQ : f->role == FSP_RELEASE ? FS_ROLE_REL : FS_ROLE_USE;
        o->failure = fail;
        o->err = f->err;
        o->injectable = (f->flags & FSP_F_INJECTABLE) != 0;
        fs_dyn_flags[fs_ndyn_funcs + i] = (unsigned char)f->flags;
    }
    base = FS_F_COUNT + fs_ndyn_funcs;
    for (int i = 0; i < d->nfuncs; i++)
        fs_func_registered(base + i);
    __atomic_store_n(&fs_ndyn_funcs, fs_ndyn_funcs + d->nfuncs, __ATOMIC_RELEASE);
out:
    fs_unlock(&fs_reg_lock);
    fs_busy--;
    fs_guard--;
    return base;
}

static struct fs_call *fs_pc(struct fsp_call *c)
{
    return (struct fs_call *)(void *)c->opaque;
}

static int fs_api_begin(struct fsp_call *c, int id, void *ra, void *frame)
{
    if (id < FS_F_COUNT || id >= FS_F_COUNT + __atomic_load_n(&fs_ndyn_funcs, __ATOMIC_ACQUIRE))
        return 0;
    struct fs_call *fc = fs_pc(c);
    if (!fs_begin(fc, id, ra, frame))
        return 0;
    c->inject = fc->inject;
    c->err = fc->err;
    c->saved_errno = fc->saved_errno;
    return 1;
}

static size_t fs_cat(char *out, size_t n, size_t cap, const char *s)
{
    while (*s && n + 1 < cap)
        out[n++] = *s++;
    out[n] = '\0';
    return n;
}

/* "ds_logout() of a session that was never acquired" */
static void fs_detail(char *out, size_t cap, int id, int kind, const char *what)
{
    size_t n = 0;
    out[0] = '\0';
    n = fs_cat(out, n, cap, fs_fn(id)->name);
    n = fs_cat(out, n, cap, "() of a ");
    n = fs_cat(out, n, cap, fs_kind_name(kind));
    n = fs_cat(out, n, cap, " ");
    fs_cat(out, n, cap, what);
}

static void fs_api_acquire(struct fsp_call *c, uint64_t handle, uint64_t scope)
{
    struct fs_call *fc = fs_pc(c);
    int kind = fs_fn(fc->id)->kind;
    struct fs_res *r = fs_ledger_find(kind, handle, scope);
    if (r && !(r->flags & FS_RES_DEAD)) {
        if (fs_dyn_flags[fc->id - FS_F_COUNT] & FSP_F_REENTRANT) {
            r->size++;                         /* nesting depth: the outermost release ends it */
            fs_ledger_unlock(kind, handle, scope);
            return;
        }
        struct fs_res before = *r;
        fs_ledger_unlock(kind, handle, scope);
        char d[200];
        fs_detail(d, sizeof d, fc->id, kind, "handle that is already acquired (not reentrant)");
        fs_anomaly(fc, "double-acquire", kind, handle, &before, d);
    } else if (r) {
        fs_ledger_unlock(kind, handle, scope);
    }
    fs_acquire(fc, kind, handle, scope, 1);
}

static void fs_api_release(struct fsp_call *c, uint64_t handle, uint64_t scope)
{
    struct fs_call *fc = fs_pc(c);
    int kind = fs_fn(fc->id)->kind;
    char d[200];
    struct fs_res *r = fs_ledger_find(kind, handle, scope);
    if (!r) {
        fs_detail(d, sizeof d, fc->id, kind, "handle that was never acquired");
        fs_anomaly(fc, "unknown-release", kind, handle, NULL, d);
        return;
    }
    struct fs_res before = *r;
    if (r->flags & FS_RES_DEAD) {
        fs_ledger_unlock(kind, handle, scope);
        fs_detail(d, sizeof d, fc->id, kind, "handle released before");
        fs_anomaly(fc, "double-release", kind, handle, &before, d);
        return;
    }
    if (r->size > 1)
        r->size--;                             /* an inner release of a reentrant acquire */
    else
        fs_ledger_kill(r);
    fs_ledger_unlock(kind, handle, scope);
}

static void fs_api_use(struct fsp_call *c, uint64_t handle, uint64_t scope)
{
    struct fs_call *fc = fs_pc(c);
    int kind = fs_fn(fc->id)->kind;
    if (kind == FS_KIND_none)
        return;
    struct fs_res *r = fs_ledger_find(kind, handle, scope);
    if (!r)
        return;                                /* acquired where faultstack could not see it */
    struct fs_res before = *r;
    fs_ledger_unlock(kind, handle, scope);
    if (before.flags & FS_RES_DEAD) {
        char d[200];
        fs_detail(d, sizeof d, fc->id, kind, "handle after it was released");
        fs_anomaly(fc, "use-after-release", kind, handle, &before, d);
    }
}

static void fs_api_end(struct fsp_call *c, int err)
{
    fs_end(fs_pc(c), err);
}

static const struct fsp_api fs_api_v1 = {
    FSP_API_VERSION, fs_register, fs_api_begin, fs_api_acquire, fs_api_release, fs_api_use, fs_api_end,
};

FS_EXPORT const struct fsp_api *faultstack_protocol_api(int version)
{
    return version == FSP_API_VERSION && fs_active ? &fs_api_v1 : NULL;
}
