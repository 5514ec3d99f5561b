/* wrap.h — macros that write the common shapes of wrappers (generated from libc.spec into wrap_gen.c, or used by hand in wrap_*_custom.c).
 * Every wrapper: pass through when fs_begin says so; fake the failure when the
 * plan injects; otherwise call the real function and tell the ledger. */
#ifndef FS_WRAP_H
#define FS_WRAP_H

#include "preload.h"
#include <errno.h>

/* A use step (not tracked) that returns -1 on failure. */
#define FS_WRAP_USE(ret_t, name, params, args)                    \
    FS_EXPORT ret_t name params                                   \
    {                                                             \
        FS_REAL(name);                                            \
        struct fs_call c;                                         \
        if (!FS_BEGIN(&c, name))                                  \
            return real_fn args;                                  \
        if (c.inject) {                                           \
            fs_end(&c, c.err);                                    \
            return (ret_t)-1;                                     \
        }                                                         \
        ret_t r = real_fn args;                                   \
        fs_end(&c, errno);                                        \
        return r;                                                 \
    }

/* A call that returns a new fd, or -1. */
#define FS_WRAP_ACQ_FD(name, params, args)                        \
    FS_EXPORT int name params                                     \
    {                                                             \
        FS_REAL(name);                                            \
        struct fs_call c;                                         \
        if (!FS_BEGIN(&c, name))                                  \
            return real_fn args;                                  \
        if (c.inject) {                                           \
            fs_end(&c, c.err);                                    \
            return -1;                                            \
        }                                                         \
        int nfd = real_fn args;                                   \
        int e = errno;                                            \
        if (nfd >= 0)                                             \
            fs_acquire_fd(&c, (int)nfd, NULL);      \
        fs_end(&c, e);                                            \
        return nfd;                                               \
    }

/* A call that fills int[2] with two new fds, returning 0 or -1. */
#define FS_WRAP_ACQ_FD2(name, params, args, fds)                  \
    FS_EXPORT int name params                                     \
    {                                                             \
        FS_REAL(name);                                            \
        struct fs_call c;                                         \
        if (!FS_BEGIN(&c, name))                                  \
            return real_fn args;                                  \
        if (c.inject) {                                           \
            fs_end(&c, c.err);                                    \
            return -1;                                            \
        }                                                         \
        int r = real_fn args;                                     \
        int e = errno;                                            \
        if (r == 0) {                                             \
            fs_acquire_fd(&c, (int)(fds)[0], (fds)); \
            fs_acquire_fd(&c, (int)(fds)[1], (fds)); \
        }                                                         \
        fs_end(&c, e);                                            \
        return r;                                                 \
    }

/* A call that returns a new FILE* (or NULL) owning a new fd. */
#define FS_WRAP_ACQ_FILE(name, params, args)                      \
    FS_EXPORT FILE *name params                                   \
    {                                                             \
        FS_REAL(name);                                            \
        struct fs_call c;                                         \
        if (!FS_BEGIN(&c, name))                                  \
            return real_fn args;                                  \
        if (c.inject) {                                           \
            fs_end(&c, c.err);                                    \
            return NULL;                                          \
        }                                                         \
        FILE *f = real_fn args;                                   \
        int e = errno;                                            \
        if (f)                                                    \
            fs_track_stream(&c, FS_KIND_file, f, fileno(f));      \
        fs_end(&c, e);                                            \
        return f;                                                 \
    }

/* A call that returns a new block (or NULL) of 'size' bytes. */
#define FS_WRAP_ACQ_MEM(name, params, call, size)                 \
    FS_EXPORT void *name params                                   \
    {                                                             \
        struct fs_call c;                                         \
        if (!FS_BEGIN(&c, name)) {                                \
            if (fs_guard && fs_internal_fault(FS_F_##name)) {     \
                errno = ENOMEM;                                   \
                return NULL;                                      \
            }                                                     \
            void *q = call;                                       \
            if (q && fs_guard)                                    \
                fs_quiet_acquire(q, (size));                      \
            return q;                                             \
        }                                                         \
        if (c.inject) {                                           \
            fs_end(&c, c.err);                                    \
            return NULL;                                          \
        }                                                         \
        void *p = call;                                           \
        int e = FS_ERRNO;                                         \
        if (p)                                                    \
            fs_acquire(&c, FS_KIND_memory, (uint64_t)p, 0, (size)); \
        fs_end(&c, e);                                            \
        return p;                                                 \
    }

/* Memory libc allocates inside a wrapped call (the FILE of fopen, the DIR of
 * opendir): tracked without a site, never reported, but part of the
 * reachability graph, so what it points to (a stream's buffer) is reachable. */
void fs_quiet_acquire(void *p, uint64_t size);

#include <stdio.h>
/* Track a FILE or DIR and the fd it owns (stdio.c). */
void fs_track_stream(const struct fs_call *c, int kind, void *stream, int fd);
/* Release a FILE or DIR: returns 1 live (released), 2 already released
 * (double release, reported), 0 unknown to the ledger. */
int fs_release_stream(const struct fs_call *c, int kind, void *stream);

#endif
