/* unwind.c — stack walking for the preload: a frame list, the first frame in
 * the program's own code (the site of a call libc made on its behalf), the
 * callers of the function holding a call site (thin wrappers), and the
 * calling-context hash (module basenames and offsets, stable across ASLR). */
#define _GNU_SOURCE
#include "preload.h"

#include <string.h>
#include <unwind.h>

/* Stack walking uses the toolchain's own unwinder (libgcc_s, _Unwind_Backtrace):
 * it allocates nothing after start-up, opens no fd and needs no system call.
 * (libunwind 1.6 keeps a pipe on the lowest free fds, which the target would
 * see; bench/RESULTS.md has the measurements.) */
struct fs_uw {
    struct fs_uframe *out;
    int n, max;
    int (*stop)(struct fs_uw *w, uintptr_t ip, uintptr_t cfa);
    int mod;
    uint64_t off;
    uintptr_t sp, prev_cfa;
};

static _Unwind_Reason_Code fs_uw_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct fs_uw *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    uintptr_t cfa = (uintptr_t)_Unwind_GetCFA(ctx);
    if (!ip)
        return _URC_END_OF_STACK;
    if (w->stop && w->stop(w, ip, cfa))
        return _URC_END_OF_STACK;
    if (w->out && w->n < w->max) {
        w->out[w->n].ip = ip;
        w->out[w->n].cfa = cfa;
    }
    w->n++;
    w->prev_cfa = cfa;
    return (w->out && w->n >= w->max) ? _URC_END_OF_STACK : _URC_NO_REASON;
}

int fs_unwind(struct fs_uframe *out, int max)
{
    struct fs_uw w = { out, 0, max, NULL, 0, 0, 0, 0 };
    _Unwind_Backtrace(fs_uw_cb, &w);
    return w.n < max ? w.n : max;
}

static int fs_uw_site_stop(struct fs_uw *w, uintptr_t ip, uintptr_t cfa)
{
    struct fs_module *m = fs_module_of(ip);
    if (m && m->sanrt)
        return 1;                          /* libc working for a sanitizer runtime: not the program's */
    if (m && !m->system) {
        w->mod = m->id;
        w->off = (uint64_t)(ip - 1 - m->bias);
        w->sp = cfa;                       /* _Unwind_GetCFA gives this frame's own SP */
        return 1;
    }
    (void)cfa;
    return w->n > 64;
}

int fs_unwind_site(int *mod, uint64_t *off, uintptr_t *sp)
{
    struct fs_uw w = { NULL, 0, 0, fs_uw_site_stop, 0, 0, 0, 0 };
    _Unwind_Backtrace(fs_uw_cb, &w);
    if (!w.mod)
        return -1;
    *mod = w.mod;
    *off = w.off;
    *sp = w.sp;
    return 0;
}

/* The callers of the function that holds the call site: the return address
 * one frame above the first frame in the program's code (the site's frame),
 * then the one above that, and so on. With a thin wrapper (xmalloc,
 * jsonp_malloc, yaml_malloc) every allocation has the same call site, and the
 * callers are what tell them apart (sweep's site strategy, plan item caller=).
 * Returns how many of the max callers were found (0: none). */
struct fs_uw_caller { int n, at_site, got, max; int *mod; uint64_t *off; };

static _Unwind_Reason_Code fs_uw_caller_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct fs_uw_caller *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (!ip || ++w->n > 64)
        return _URC_END_OF_STACK;
    struct fs_module *m = fs_module_of(ip);
    if (!w->at_site) {
        if (m && !m->system)
            w->at_site = 1;                  /* the site's frame: the next ones are callers */
        return _URC_NO_REASON;
    }
    if (!m)
        return _URC_END_OF_STACK;
    w->mod[w->got] = m->id;
    w->off[w->got] = (uint64_t)(ip - 1 - m->bias);
    return ++w->got < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

int fs_callers(int max, int *mod, uint64_t *off)
{
    struct fs_uw_caller w = { 0, 0, 0, max, mod, off };
    if (max > 0)
        _Unwind_Backtrace(fs_uw_caller_cb, &w);
    return w.got;
}

static uint64_t fs_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

uint64_t fs_ctx_hash(void)
{
    struct fs_uframe fr[24];
    int n = fs_unwind(fr, 24), used = 0;
    uint64_t h = 0x84222325cbf29ce4ull;
    for (int i = 0; i < n && used < 16; i++) {
        struct fs_module *m = fs_module_of(fr[i].ip);
        if (!m || m->self)
            continue;
        h = (h ^ fs_fnv(m->base) ^ (fr[i].ip - m->bias)) * 0x100000001b3ull;
        h ^= h >> 29;
        used++;
    }
    return h ? h : 1;
}

