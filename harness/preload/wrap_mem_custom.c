/* wrap_mem_custom.c — wrappers for the malloc family (libc.spec: memory rows).
 *
 * The wrappers forward to the next definition of the malloc family after the
 * preload in the lookup order. That is glibc's own (then reached through its
 * __libc_* entry points, as before) unless another allocator comes between: a
 * sanitizer runtime (gcc -fsanitize=address links libasan.so, whose malloc
 * must serve, check and quarantine the program's heap, and whose free must see
 * only its own blocks) or an allocator library the program links. The next
 * definition is found with dlsym(RTLD_NEXT) on the first call; dlsym may
 * itself allocate (older glibc: calloc for its error state), so calls made
 * while it runs are served from a small static arena whose blocks are never
 * passed to the real free. */
#define _GNU_SOURCE
#include "wrap.h"

#include <dlfcn.h>
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

/* ---------------- the next allocator ---------------- */

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
} fs_next = { __libc_malloc, __libc_calloc, __libc_realloc, __libc_free, __libc_memalign, __libc_valloc };

static int fs_next_state;                  /* 0 not resolved, 1 resolving, 2 resolved */
int fs_next_is_libc = 1;                   /* 0: another allocator serves the heap (preload.h) */

/* The bootstrap arena: blocks handed out while dlsym runs. 16-byte header
 * holding the size, for realloc. */
#define FS_BOOT_SIZE (64 * 1024)
static _Alignas(64) char fs_boot[FS_BOOT_SIZE];
static size_t fs_boot_used;

static int fs_in_boot(const void *p)
{
    return (const char *)p >= fs_boot && (const char *)p < fs_boot + FS_BOOT_SIZE;
}

static void *fs_boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    if (n > FS_BOOT_SIZE || align > 4096)
        return NULL;
    size_t need = (n + 15) & ~(size_t)15;
    size_t cur = __atomic_load_n(&fs_boot_used, __ATOMIC_RELAXED);
    for (;;) {
        size_t start = (cur + 16 + align - 1) & ~(align - 1);     /* user pointer offset */
        if (start + need > FS_BOOT_SIZE)
            return NULL;
        if (__atomic_compare_exchange_n(&fs_boot_used, &cur, start + need, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
            *(size_t *)(fs_boot + start - 16) = n;
            return fs_boot + start;                                /* static: zeroed */
        }
    }
}

static void *fs_next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static __attribute__((noinline)) int fs_next_resolve(void);

/* 1 when fs_next is usable, 0 while it is being resolved (use the arena). */
static inline int fs_next_ready(void)
{
    if (__builtin_expect(__atomic_load_n(&fs_next_state, __ATOMIC_ACQUIRE) == 2, 1))
        return 1;
    return fs_next_resolve();
}

static int fs_next_resolve(void)
{
    int st = __atomic_load_n(&fs_next_state, __ATOMIC_ACQUIRE);
    if (st == 2)
        return 1;
    if (st == 1)
        return 0;
    int zero = 0;
    if (!__atomic_compare_exchange_n(&fs_next_state, &zero, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&fs_next_state, __ATOMIC_ACQUIRE) == 2;
    fs_guard++;                               /* dlsym's own allocations are not the program's */
    void *m = fs_next_sym("malloc");
    if (m && m != (void *)__libc_malloc) {
        void *c = fs_next_sym("calloc"), *r = fs_next_sym("realloc"), *f = fs_next_sym("free");
        void *a = fs_next_sym("memalign"), *v = fs_next_sym("valloc");
        if (c && r && f) {
            fs_next.malloc = (void *(*)(size_t))m;
            fs_next.calloc = (void *(*)(size_t, size_t))c;
            fs_next.realloc = (void *(*)(void *, size_t))r;
            fs_next.free = (void (*)(void *))f;
            if (!a)
                a = fs_next_sym("aligned_alloc");
            if (a)
                fs_next.memalign = (void *(*)(size_t, size_t))a;
            if (v)
                fs_next.valloc = (void *(*)(size_t))v;
            fs_next_is_libc = 0;
        }
    }
    fs_guard--;
    __atomic_store_n(&fs_next_state, 2, __ATOMIC_RELEASE);
    return 1;
}

/* The program carries the ASan runtime itself (clang's default) and
 * sanpatch.c pointed its malloc family at these wrappers: reach ASan's
 * allocator through the entry points left alone (memalign, cfree,
 * reallocarray; sanpatch.c). */
static void *(*fs_rt_memalign)(size_t, size_t);
static void (*fs_rt_cfree)(void *);
static void *(*fs_rt_reallocarray)(void *, size_t, size_t);

static void *fs_rt_malloc(size_t n) { return fs_rt_memalign(16, n); }
static void *fs_rt_valloc(size_t n) { return fs_rt_memalign(4096, n); }
static void *fs_rt_realloc(void *p, size_t n) { return fs_rt_reallocarray(p, 1, n); }
static void *fs_rt_calloc(size_t k, size_t n)
{
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = fs_rt_memalign(16, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void fs_next_use_runtime(void *memalign_fn, void *cfree_fn, void *reallocarray_fn)
{
    fs_rt_memalign = (void *(*)(size_t, size_t))memalign_fn;
    fs_rt_cfree = (void (*)(void *))cfree_fn;
    fs_rt_reallocarray = (void *(*)(void *, size_t, size_t))reallocarray_fn;
    fs_next.malloc = fs_rt_malloc;
    fs_next.calloc = fs_rt_calloc;
    fs_next.realloc = fs_rt_realloc;
    fs_next.free = fs_rt_cfree;
    fs_next.memalign = fs_rt_memalign;
    fs_next.valloc = fs_rt_valloc;
    fs_next_is_libc = 0;
    __atomic_store_n(&fs_next_state, 2, __ATOMIC_RELEASE);
}

static void *fs_real_malloc(size_t n)
{
    return fs_next_ready() ? fs_next.malloc(n) : fs_boot_alloc(n, 16);
}

static void *fs_real_calloc(size_t k, size_t n)
{
    size_t total;
    if (!fs_next_ready())
        return __builtin_mul_overflow(k, n, &total) ? NULL : fs_boot_alloc(total, 16);
    return fs_next.calloc(k, n);
}

static void *fs_real_memalign(size_t al, size_t n)
{
    return fs_next_ready() ? fs_next.memalign(al, n) : fs_boot_alloc(n, al);
}

static void *fs_real_valloc(size_t n)
{
    return fs_next_ready() ? fs_next.valloc(n) : fs_boot_alloc(n, 4096);
}

static void fs_real_free(void *p)
{
    if (fs_in_boot(p))
        return;                               /* the arena's: never the allocator's */
    if (fs_next_ready())
        fs_next.free(p);
}

static void *fs_real_realloc(void *p, size_t n)
{
    if (p && fs_in_boot(p)) {
        size_t old = *(size_t *)((char *)p - 16);
        void *q = fs_real_malloc(n ? n : 1);
        if (q)
            memcpy(q, p, old < n ? old : n);
        return q;
    }
    if (!fs_next_ready())
        return p ? NULL : fs_boot_alloc(n, 16);
    return fs_next.realloc(p, n);
}

/* ---------------- the wrappers ---------------- */

FS_WRAP_ACQ_MEM(malloc, (size_t n), fs_real_malloc(n), n)
FS_WRAP_ACQ_MEM(calloc, (size_t k, size_t n), fs_real_calloc(k, n), k * n)
FS_WRAP_ACQ_MEM(memalign, (size_t al, size_t n), fs_real_memalign(al, n), n)
FS_WRAP_ACQ_MEM(aligned_alloc, (size_t al, size_t n), fs_real_memalign(al, n), n)
FS_WRAP_ACQ_MEM(valloc, (size_t n), fs_real_valloc(n), n)

static char *fs_strndup_raw(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = fs_real_malloc(n + 1);
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
        void *p = fs_real_memalign(al, n);
        if (!p) return ENOMEM;
        *out = p;
        return 0;
    }
    int e = c.saved_errno;
    if (c.inject) {
        fs_end(&c, e);                 /* posix_memalign leaves errno alone */
        return c.err;
    }
    void *p = fs_real_memalign(al, n);
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
    fs_ledger_forget(FS_KIND_memory, (uint64_t)p, 0);
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
    fs_ledger_prefetch(FS_KIND_memory, (uint64_t)p, 0);   /* while fs_begin runs */
    if (!FS_BEGIN(&c, free)) {
        if (fs_guard)
            fs_quiet_release(p);
        fs_real_free(p);
        return;
    }
    struct fs_res before;
    if (fs_ledger_release(FS_KIND_memory, (uint64_t)p, 0, &before) == 2)
        fs_anomaly(&c, "double-release", FS_KIND_memory, (uint64_t)p, &before,
                   "block freed again (the second free was not passed to libc)");
    else
        fs_real_free(p);
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
    void *q = fs_real_realloc(p, n);
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
        void *q = fs_real_realloc(p, n);
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
        return fs_real_realloc(p, total);
    return fs_realloc(&c, p, total);
}
