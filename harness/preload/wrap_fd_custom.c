/* wrap_fd_custom.c — the hand-written wrappers of fds, sockets and maps (libc.spec
 * rows marked `custom fd`): open with its variadic mode, close, dup2, fcntl, mmap...
 * The regular fd and use-step wrappers are generated from libc.spec (wrap_gen.c). */
#define _GNU_SOURCE
#include "wrap.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define FS_MODE_ARG(flags, mode)                                   \
    mode_t mode = 0;                                               \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                       \
        va_list ap;                                                \
        va_start(ap, flags);                                       \
        mode = (mode_t)va_arg(ap, int);                            \
        va_end(ap);                                                \
    }

/* open and friends: variadic mode, so written out. */
#define FS_WRAP_OPEN(name, params, args, flagsvar)                 \
    FS_EXPORT int name params                                      \
    {                                                              \
        FS_MODE_ARG(flagsvar, mode)                                \
        FS_REAL(name);                                             \
        struct fs_call c;                                          \
        if (!FS_BEGIN(&c, name))                                   \
            return real_fn args;                                   \
        if (c.inject) {                                            \
            fs_end(&c, c.err);                                     \
            return -1;                                             \
        }                                                          \
        int fd = real_fn args;                                     \
        int e = errno;                                             \
        if (fd >= 0)                                               \
            fs_acquire_fd(&c, (int)fd, NULL);        \
        fs_end(&c, e);                                             \
        return fd;                                                 \
    }

FS_WRAP_OPEN(open, (const char *path, int flags, ...), (path, flags, mode), flags)
FS_WRAP_OPEN(open64, (const char *path, int flags, ...), (path, flags, mode), flags)
FS_WRAP_OPEN(openat, (int dfd, const char *path, int flags, ...), (dfd, path, flags, mode), flags)
FS_WRAP_OPEN(openat64, (int dfd, const char *path, int flags, ...), (dfd, path, flags, mode), flags)


/* signalfd(-1, ...) makes a new fd; signalfd(fd, ...) changes an existing one. */
FS_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    FS_REAL(signalfd);
    struct fs_call c;
    if (fd != -1 || !FS_BEGIN(&c, signalfd))
        return real_fn(fd, mask, flags);
    if (c.inject) {
        fs_end(&c, c.err);
        return -1;
    }
    int r = real_fn(fd, mask, flags);
    int e = errno;
    if (r >= 0)
        fs_acquire_fd(&c, (int)r, NULL);
    fs_end(&c, e);
    return r;
}

/* ---- close: the one release of plain fds ---- */

FS_EXPORT int close(int fd)
{
    FS_REAL(close);
    struct fs_call c;
    if (!FS_BEGIN(&c, close))
        return real_fn(fd);
    int state = 0;                        /* 0 unknown, 1 live, 2 released before, 3 owned by a stream */
    struct fs_res before;
    struct fs_res *r = fs_ledger_find(FS_KIND_fd, (uint64_t)fd, 0);
    if (r) {
        before = *r;
        state = (r->flags & FS_RES_DEAD) ? 2 : (r->flags & FS_RES_OWNED_FD) ? 3 : 1;
        if (state != 2)
            fs_ledger_kill(r);
        fs_ledger_unlock(FS_KIND_fd, (uint64_t)fd, 0);
    }
    int ret = real_fn(fd);
    int e = errno;
    if (state == 2 && ret < 0 && e == EBADF) {
        fs_anomaly(&c, "double-release", FS_KIND_fd, (uint64_t)fd, &before,
                   "fd closed again after it was closed");
    } else if (state == 0 && ret < 0 && e == EBADF && fd >= 0) {
        /* an fd that was never open here: a close of something closed already
         * (where the ledger could not see it) or of a wrong number. A close-
         * every-fd loop makes many at one site: the supervisor drops those
         * ('w' line), and at most two lines per site are written. */
        if (fs_site_note_ebadf(&c) <= 2 && c.mod)
            fs_anomaly(&c, "unknown-release", FS_KIND_fd, (uint64_t)fd, NULL,
                       "close() of an fd that was not open");
    } else if (state == 3) {
        int okind = FS_KIND_file;
        struct fs_res owner;
        struct fs_res *o = fs_ledger_find(FS_KIND_file, before.owner, 0);
        if (!o && (o = fs_ledger_find(FS_KIND_dir, before.owner, 0)))
            okind = FS_KIND_dir;
        if (o) {
            owner = *o;
            fs_ledger_unlock(okind, before.owner, 0);
        }
        fs_anomaly(&c, "mismatched-release", okind, before.owner, o ? &owner : NULL,
                   okind == FS_KIND_file ? "close() of the fd of a FILE; use fclose()"
                                         : "close() of the fd of a DIR; use closedir()");
    }
    if (c.inject) {                       /* Linux: the fd is released even on failure */
        ret = -1;
        e = c.err;
    }
    fs_end(&c, e);
    return ret;
}

/* dup2/dup3 silently close newfd when it is open. */
static void fs_drop_fd(int fd)
{
    struct fs_res *r = fs_ledger_find(FS_KIND_fd, (uint64_t)fd, 0);
    if (r) {
        if (!(r->flags & FS_RES_DEAD))
            fs_ledger_kill(r);
        fs_ledger_unlock(FS_KIND_fd, (uint64_t)fd, 0);
    }
}

#define FS_WRAP_DUP2(name, params, args)                           \
    FS_EXPORT int name params                                      \
    {                                                              \
        FS_REAL(name);                                             \
        struct fs_call c;                                          \
        if (oldfd == newfd || !FS_BEGIN(&c, name))                 \
            return real_fn args;                                   \
        if (c.inject) {                                            \
            fs_end(&c, c.err);                                     \
            return -1;                                             \
        }                                                          \
        int r = real_fn args;                                      \
        int e = errno;                                             \
        if (r >= 0) {                                              \
            fs_drop_fd(newfd);                                     \
            fs_acquire_fd(&c, (int)r, NULL);         \
        }                                                          \
        fs_end(&c, e);                                             \
        return r;                                                  \
    }

FS_WRAP_DUP2(dup2, (int oldfd, int newfd), (oldfd, newfd))
FS_WRAP_DUP2(dup3, (int oldfd, int newfd, int fl), (oldfd, newfd, fl))

/* fcntl: only F_DUPFD and F_DUPFD_CLOEXEC acquire (and are fault points). */
static int fs_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg, void *ra, void *frame)
{
    struct fs_call c;
    if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !fs_begin(&c, FS_F_fcntl, ra, frame))
        return real(fd, cmd, arg);
    if (c.inject) {
        fs_end(&c, c.err);
        return -1;
    }
    int r = real(fd, cmd, arg);
    int e = errno;
    if (r >= 0)
        fs_acquire_fd(&c, (int)r, NULL);
    fs_end(&c, e);
    return r;
}

FS_EXPORT int fcntl(int fd, int cmd, ...)
{
    FS_REAL(fcntl);
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fs_fcntl(real_fn, fd, cmd, arg, __builtin_return_address(0), __builtin_frame_address(0));
}

FS_EXPORT int fcntl64(int fd, int cmd, ...)
{
    static int (*real)(int, int, ...);
    if (!real)
        real = (int (*)(int, int, ...))fs_real("fcntl64");
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fs_fcntl(real, fd, cmd, arg, __builtin_return_address(0), __builtin_frame_address(0));
}

/* ---- use steps on fds and sockets ---- */


/* _FORTIFY_SOURCE builds call the checked variants: same fault points. */
FS_EXPORT ssize_t __read_chk(int fd, void *b, size_t n, size_t bl)
{
    FS_REAL(__read_chk);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_read, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(fd, b, n, bl);
    if (c.inject) {
        fs_end(&c, c.err);
        return -1;
    }
    ssize_t r = real_fn(fd, b, n, bl);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT ssize_t __pread_chk(int fd, void *b, size_t n, off_t o, size_t bl)
{
    FS_REAL(__pread_chk);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_pread, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(fd, b, n, o, bl);
    if (c.inject) {
        fs_end(&c, c.err);
        return -1;
    }
    ssize_t r = real_fn(fd, b, n, o, bl);
    fs_end(&c, errno);
    return r;
}

/* ---- mmap ---- */

#define FS_WRAP_MMAP(name, offt)                                                \
    FS_EXPORT void *name(void *a, size_t len, int prot, int fl, int fd, offt o)  \
    {                                                                           \
        FS_REAL(name);                                                          \
        struct fs_call c;                                                       \
        if (!FS_BEGIN(&c, name))                                                \
            return real_fn(a, len, prot, fl, fd, o);                            \
        if (c.inject) {                                                         \
            fs_end(&c, c.err);                                                  \
            return MAP_FAILED;                                                  \
        }                                                                       \
        void *p = real_fn(a, len, prot, fl, fd, o);                             \
        int e = errno;                                                          \
        if (p != MAP_FAILED) {                                                  \
            struct fs_res *r = fs_acquire(&c, FS_KIND_mmap, (uint64_t)p, 0, len); \
            if (r)                                                              \
                r->owned_fd = ((prot & PROT_READ) && (fl & MAP_ANONYMOUS)) ? 1 : 0; \
        }                                                                       \
        fs_end(&c, e);                                                          \
        return p;                                                               \
    }

FS_WRAP_MMAP(mmap, off_t)
FS_WRAP_MMAP(mmap64, off64_t)

FS_EXPORT int munmap(void *a, size_t len)
{
    FS_REAL(munmap);
    struct fs_call c;
    if (!FS_BEGIN(&c, munmap))
        return real_fn(a, len);
    int r = real_fn(a, len);
    int e = errno;
    if (r == 0)
        fs_ledger_forget(FS_KIND_mmap, (uint64_t)a, 0);
    fs_end(&c, e);
    return r;
}

/* close_range and closefrom release every fd in a range at once (daemons and
 * spawners do it before exec): every live fd of the ledger in the range is
 * released, those a FILE or DIR owns included (the stream stays tracked).
 * close_range(CLOSE_RANGE_CLOEXEC) only marks them close-on-exec. Tracked,
 * not fault points: their failure (EINVAL, ENOMEM with UNSHARE) means misuse. */
struct fs_fd_range { uint64_t lo, hi; };

static void fs_release_in_range(struct fs_res *r, void *arg)
{
    const struct fs_fd_range *g = arg;
    if (r->kind == FS_KIND_fd && !(r->flags & FS_RES_DEAD) && fs_res_handle(r) >= g->lo && fs_res_handle(r) <= g->hi)
        fs_ledger_kill(r);
}

static void fs_release_fds(unsigned lo, unsigned hi)
{
    struct fs_fd_range g = { lo, hi };
    fs_ledger_lock_all();
    fs_ledger_each(fs_release_in_range, &g);
    fs_ledger_unlock_all();
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

FS_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    FS_REAL(close_range);
    struct fs_call c;
    if (!FS_BEGIN(&c, close_range))
        return real_fn(first, last, flags);
    int r = real_fn(first, last, flags);
    int e = errno;
    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
        fs_release_fds(first, last);
    fs_end(&c, e);
    return r;
}

FS_EXPORT void closefrom(int lowfd)
{
    FS_REAL(closefrom);
    struct fs_call c;
    if (!FS_BEGIN(&c, closefrom)) {
        real_fn(lowfd);
        return;
    }
    real_fn(lowfd);
    int e = errno;
    fs_release_fds(lowfd < 0 ? 0 : (unsigned)lowfd, ~0U);
    fs_end(&c, e);
}

