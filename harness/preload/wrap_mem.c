/* wrap_mem.c — wrappers for the malloc family (funcs.def: memory rows).
 * The real allocator is reached through glibc's __libc_* entry points, so no
 * dlsym is needed on this path (dlsym itself calls calloc). */
#define _GNU_SOURCE
#include "wrap.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);

FS_WRAP_ACQ_MEM(malloc, (size_t n), __libc_malloc(n), n)
FS_WRAP_ACQ_MEM(calloc, (size_t k, size_t n), __libc_calloc(k, n), k * n)
FS_WRAP_ACQ_MEM(memalign, (size_t al, size_t n), __libc_memalign(al, n), n)
FS_WRAP_ACQ_MEM(aligned_alloc, (size_t al, size_t n), __libc_memalign(al, n), n)
FS_WRAP_ACQ_MEM(valloc, (size_t n), __libc_valloc(n), n)

static char *fs_strndup_raw(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = __libc_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

FS_EXPORT char *strdup(const char *s)
{
    struct fs_call c;
    if (!FS_BEGIN(&c, strdup))
        return fs_strndup_raw(s, PTRDIFF_MAX);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    char *p = fs_strndup_raw(s, PTRDIFF_MAX);
    int e = errno;
    if (p)
        fs_acquire(&c, FS_KIND_memory, (uint64_t)p, 0, strlen(p) + 1);
    fs_end(&c, e);
    return p;
}

FS_EXPORT char *strndup(const char *s, size_t max)
{
    struct fs_call c;
    if (!FS_BEGIN(&c, strndup))
        return fs_strndup_raw(s, max);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    char *p = fs_strndup_raw(s, max);
    int e = errno;
    if (p)
        fs_acquire(&c, FS_KIND_memory, (uint64_t)p, 0, strlen(p) + 1);
    fs_end(&c, e);
    return p;
}

FS_EXPORT int posix_memalign(void **out, size_t al, size_t n)
{
    struct fs_call c;
    if (al < sizeof(void *) || (al & (al - 1)))
        return EINVAL;
    if (!FS_BEGIN(&c, posix_memalign)) {
        void *p = __libc_memalign(al, n);
        if (!p) return ENOMEM;
        *out = p;
        return 0;
    }
    int e = c.saved_errno;
    if (c.inject) {
        fs_end(&c, e);                 /* posix_memalign leaves errno alone */
        return c.err;
    }
    void *p = __libc_memalign(al, n);
    if (p) {
        *out = p;
        fs_acquire(&c, FS_KIND_memory, (uint64_t)p, 0, n);
    }
    fs_end(&c, e);
    return p ? 0 : ENOMEM;
}

/* Inside a wrapped call (fclose freeing the buffer stdio allocated during an
 * unwrapped fprintf, say) a block the ledger tracks is released quietly: the
 * program did release it. fs_busy marks the preload's own bookkeeping, where
 * the ledger may be locked. */
static void fs_quiet_release(void *p)
{
    if (fs_busy || !fs_active)
        return;
    fs_busy++;
    struct fs_res *r = fs_ledger_find(FS_KIND_memory, (uint64_t)p, 0);
    if (r) {
        if (!(r->flags & FS_RES_DEAD))
            fs_ledger_kill(r);
        fs_ledger_unlock(FS_KIND_memory, (uint64_t)p, 0);
    }
    fs_busy--;
}

void fs_quiet_acquire(void *p, uint64_t size)
{
    if (fs_busy || !fs_active)
        return;
    fs_busy++;
    struct fs_call c = { .id = FS_F_malloc };
    fs_acquire(&c, FS_KIND_memory, (uint64_t)p, 0, size);
    fs_busy--;
}

/* free: a second free of a block is reported and not passed on. */
FS_EXPORT void free(void *p)
{
    struct fs_call c;
    if (!p)
        return;
    if (!FS_BEGIN(&c, free)) {
        if (fs_guard)
            fs_quiet_release(p);
        __libc_free(p);
        return;
    }
    int dead = 0;
    struct fs_res before;
    struct fs_res *r = fs_ledger_find(FS_KIND_memory, (uint64_t)p, 0);
    if (r) {
        before = *r;
        dead = (r->flags & FS_RES_DEAD) != 0;
        if (!dead)
            fs_ledger_kill(r);
        fs_ledger_unlock(FS_KIND_memory, (uint64_t)p, 0);
    }
    if (dead)
        fs_anomaly(&c, "double-release", FS_KIND_memory, (uint64_t)p, &before,
                   "block freed again (the second free was not passed to libc)");
    else
        __libc_free(p);
    fs_end(&c, c.saved_errno);
}

/* realloc: on failure the block is unchanged; on success it moves and its
 * acquire site becomes the realloc (as memcheck reports it). */
static void *fs_realloc(struct fs_call *c, void *p, size_t n)
{
    if (c->inject) {
        fs_end(c, c->err);
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    int e = errno;
    if (q || (p && n == 0)) {
        if (p)
            fs_ledger_forget(FS_KIND_memory, (uint64_t)p, 0);
        if (q)
            fs_acquire(c, FS_KIND_memory, (uint64_t)q, 0, n);
    }
    fs_end(c, e);
    return q;
}

FS_EXPORT void *realloc(void *p, size_t n)
{
    struct fs_call c;
    if (!FS_BEGIN(&c, realloc)) {
        if (fs_guard && n && fs_internal_fault(FS_F_realloc)) {
            errno = ENOMEM;
            return NULL;
        }
        void *q = __libc_realloc(p, n);
        if (fs_guard && (q || n == 0) && !fs_busy && fs_active) {
            /* moved inside a wrapped call: keep tracking it where it went */
            fs_busy++;
            struct fs_res *r = fs_ledger_find(FS_KIND_memory, (uint64_t)p, 0);
            struct fs_res was;
            int live = 0;
            if (r) {
                was = *r;
                live = !(r->flags & FS_RES_DEAD);
                if (live)
                    fs_ledger_kill(r);
                fs_ledger_unlock(FS_KIND_memory, (uint64_t)p, 0);
            }
            if (q) {
                struct fs_call c2 = { .id = FS_F_realloc };
                if (live) {
                    c2.id = was.func; c2.mod = was.mod; c2.off = was.off; c2.sp = was.sp;
                }
                fs_acquire(&c2, FS_KIND_memory, (uint64_t)q, 0, n);
            }
            fs_busy--;
        }
        return q;
    }
    return fs_realloc(&c, p, n);
}

FS_EXPORT void *reallocarray(void *p, size_t k, size_t n)
{
    struct fs_call c;
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!FS_BEGIN(&c, reallocarray))
        return __libc_realloc(p, total);
    return fs_realloc(&c, p, total);
}
