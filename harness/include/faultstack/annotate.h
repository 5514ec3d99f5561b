/* faultstack/annotate.h — mark acquires, releases and fault points inside your
 * own code, for protocols that are not exported functions (static inline
 * helpers, macros, a pool inside one file) so a spec cannot wrap them.
 *
 *   static conn *pool_get(pool *p)
 *   {
 *       if (FAULTSTACK_FAULT("pool_get"))      // a fault point: 1 when faultstack
 *           return errno = ENOMEM, NULL;       // fails it; take your error path
 *       conn *c = ...;
 *       FAULTSTACK_ACQUIRE("conn", c);         // c is a "conn" until released
 *       return c;
 *   }
 *   static void pool_put(pool *p, conn *c) { FAULTSTACK_RELEASE("conn", c); ... }
 *   FAULTSTACK_USE("conn", c);                 // a use: after release it is an anomaly
 *
 * Under faultstack (run/sweep) a "conn" left at exit is a leak, a second
 * release a double release, a release of a handle never acquired an unknown
 * release, a use after release an anomaly — like the kinds of a spec. The
 * site is the line of the macro (where an inline function was inlined).
 * FAULTSTACK_FAULT names a fault point ("pool_get"): --fail only=pool_get;
 * acquire/release/use annotations are named KIND.acquire, KIND.release,
 * KIND.use in reports. KIND: [A-Za-z_][A-Za-z0-9_]*, at most 31 characters;
 * NAME: [A-Za-z0-9_.$], at most 63. Both string literals.
 *
 * Cost outside faultstack: one load of a weak symbol's address and a
 * well-predicted branch per macro (bench/preload: bench_annotate); nothing is
 * linked in, nothing runs. Needs a dynamically linked program (PIE, the
 * default on Debian): the preload provides faultstack_protocol_api at run
 * time. Header-only; C99 or later, GCC or Clang. */
#ifndef FAULTSTACK_ANNOTATE_H
#define FAULTSTACK_ANNOTATE_H

#include <errno.h>
#include <stdint.h>

#include "protocol_api.h"

#pragma weak faultstack_protocol_api

/* The address of the annotation in your code, the site faultstack reports:
 * the return address of a call made there (the slow path only). */
static __attribute__((noinline, unused)) void *faultstack__site(void)
{
    return __builtin_return_address(0);
}
#define FAULTSTACK__HERE() faultstack__site()

#define FAULTSTACK__SITE(role, name, kind, handle, flags)                                         \
    (__extension__({                                                                              \
        static int faultstack__id = -1;                                                           \
        __builtin_expect(faultstack_protocol_api != 0, 0)                                         \
            ? faultstack__annotate(&faultstack__id, (name), (kind), (role), (flags),              \
                                   (uintptr_t)(handle), FAULTSTACK__HERE())                       \
            : 0;                                                                                  \
    }))

/* 1 when faultstack fails this fault point (errno is left as it was). */
#define FAULTSTACK_FAULT(name) FAULTSTACK__SITE(FSP_USE, name, (const char *)0, 0, FSP_F_INJECTABLE)
/* Record that handle (any pointer or integer) of kind is acquired / released / used. */
#define FAULTSTACK_ACQUIRE(kind, handle) ((void)FAULTSTACK__SITE(FSP_ACQUIRE, kind ".acquire", kind, handle, 0))
#define FAULTSTACK_RELEASE(kind, handle) ((void)FAULTSTACK__SITE(FSP_RELEASE, kind ".release", kind, handle, 0))
#define FAULTSTACK_USE(kind, handle) ((void)FAULTSTACK__SITE(FSP_USE, kind ".use", kind, handle, 0))

/* The slow path, only under faultstack. Inlined (no frame of its own): the
 * frames above the preload are then your function and its callers, as for a
 * wrapped call, and site is the annotation's own address. */
static inline __attribute__((always_inline, unused)) int
faultstack__annotate(int *id, const char *name, const char *kind, int role, int flags, uintptr_t handle, void *site)
{
    int saved = errno;
    const struct fsp_api *a = faultstack_protocol_api(FSP_API_VERSION);
    if (!a)
        return 0;
    int fn = __atomic_load_n(id, __ATOMIC_ACQUIRE);
    if (fn < 0) {
        struct fsp_func_desc d = { name, kind, role, flags, 0, "1 (annotation)" };
        struct fsp_protocol_desc p = { FSP_API_VERSION, "annotations", "", 1, &d };
        fn = a->register_protocol(&p);
        if (fn < 0)
            return 0;
        __atomic_store_n(id, fn, __ATOMIC_RELEASE);
    }
    struct fsp_call c;
    if (!a->begin(&c, fn, site, __builtin_frame_address(0)))
        return 0;
    int inject = c.inject;
    if (!inject && kind) {
        if (role == FSP_ACQUIRE)
            a->acquire(&c, handle, 0);
        else if (role == FSP_RELEASE)
            a->release(&c, handle, 0);
        else
            a->use(&c, handle, 0);
    }
    a->end(&c, saved);
    return inject;
}

#endif
