/* wrap_stdio_custom.c — the hand-written wrappers of FILE streams and directories
 * (libc.spec rows marked `custom stdio`; fopen and the like are generated). A FILE or DIR owns its fd: the fd is
 * in the ledger as an owned entry, so close(fileno(f)) is a mismatched release. */
#define _GNU_SOURCE
#include "wrap.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void fs_track_stream(const struct fs_call *c, int kind, void *stream, int fd)
{
    struct fs_res *r = fs_acquire(c, kind, (uint64_t)stream, 0, 0);
    if (r)
        r->owned_fd = fd;
    if (fd >= 0) {
        struct fs_res *o = fs_acquire(c, FS_KIND_fd, (uint64_t)fd, 0, 0);
        if (o) {
            o->flags |= FS_RES_OWNED_FD;
            o->owner = (uint64_t)stream;
        }
    }
}

int fs_release_stream(const struct fs_call *c, int kind, void *stream)
{
    struct fs_res *r = fs_ledger_find(kind, (uint64_t)stream, 0);
    if (!r)
        return 0;
    struct fs_res before = *r;
    int dead = (r->flags & FS_RES_DEAD) != 0;
    if (!dead)
        fs_ledger_kill(r);
    fs_ledger_unlock(kind, (uint64_t)stream, 0);
    if (dead) {
        fs_anomaly(c, "double-release", kind, (uint64_t)stream, &before,
                   kind == FS_KIND_file ? "FILE closed again after fclose" : "DIR closed again after closedir");
        return 2;
    }
    if (before.owned_fd >= 0) {
        struct fs_res *o = fs_ledger_find(FS_KIND_fd, (uint64_t)before.owned_fd, 0);
        if (o) {
            if (!(o->flags & FS_RES_DEAD) && (o->flags & FS_RES_OWNED_FD) && o->owner == (uint64_t)stream)
                fs_ledger_kill(o);
            fs_ledger_unlock(FS_KIND_fd, (uint64_t)before.owned_fd, 0);
        }
    }
    return 1;
}


FS_EXPORT FILE *open_memstream(char **bp, size_t *sz)
{
    FS_REAL(open_memstream);
    struct fs_call c;
    if (!FS_BEGIN(&c, open_memstream))
        return real_fn(bp, sz);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    FILE *f = real_fn(bp, sz);
    int e = errno;
    if (f)
        fs_track_stream(&c, FS_KIND_file, f, -1);
    fs_end(&c, e);
    return f;
}

/* fdopen: the fd becomes the FILE's. On failure the fd stays the caller's. */
FS_EXPORT FILE *fdopen(int fd, const char *m)
{
    FS_REAL(fdopen);
    struct fs_call c;
    if (!FS_BEGIN(&c, fdopen))
        return real_fn(fd, m);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    FILE *f = real_fn(fd, m);
    int e = errno;
    if (f)
        fs_track_stream(&c, FS_KIND_file, f, fd);
    fs_end(&c, e);
    return f;
}

/* freopen closes the old stream whatever happens; only streams the ledger
 * tracks stay tracked (freopen of stdout is not an acquisition to judge). */
static int (*fclose_real_fn)(FILE *);
static void fs_need_fclose(void)
{
    if (!fclose_real_fn)
        fclose_real_fn = (int (*)(FILE *))fs_real("fclose");
}

#define FS_WRAP_FREOPEN(name)                                                   \
    FS_EXPORT FILE *name(const char *p, const char *m, FILE *s)                 \
    {                                                                           \
        FS_REAL(name);                                                          \
        fs_need_fclose();                                                       \
        struct fs_call c;                                                       \
        if (!FS_BEGIN(&c, name))                                                \
            return real_fn(p, m, s);                                            \
        int tracked = fs_release_stream(&c, FS_KIND_file, s) == 1;              \
        if (c.inject) {                                                         \
            (void)fclose_real_fn(s);                                            \
            fs_end(&c, c.err);                                                  \
            return NULL;                                                        \
        }                                                                       \
        FILE *f = real_fn(p, m, s);                                             \
        int e = errno;                                                          \
        if (f && tracked)                                                       \
            fs_track_stream(&c, FS_KIND_file, f, fileno(f));                    \
        fs_end(&c, e);                                                          \
        return f;                                                               \
    }

FS_WRAP_FREOPEN(freopen)
FS_WRAP_FREOPEN(freopen64)

/* fclose/pclose release even when they fail (Linux). A second fclose of the
 * same FILE is reported and not passed on (it would corrupt the heap). */
#define FS_WRAP_FCLOSE(name, failret)                                           \
    FS_EXPORT int name(FILE *f)                                                 \
    {                                                                           \
        FS_REAL(name);                                                          \
        struct fs_call c;                                                       \
        if (!FS_BEGIN(&c, name))                                                \
            return real_fn(f);                                                  \
        int st = fs_release_stream(&c, FS_KIND_file, f);                        \
        if (st == 2) {                                                          \
            fs_end(&c, EBADF);                                                  \
            return failret;                                                     \
        }                                                                       \
        int r = real_fn(f);                                                     \
        int e = errno;                                                          \
        if (c.inject) {                                                         \
            r = failret;                                                        \
            e = c.err;                                                          \
        }                                                                       \
        fs_end(&c, e);                                                          \
        return r;                                                               \
    }

FS_WRAP_FCLOSE(fclose, EOF)
FS_WRAP_FCLOSE(pclose, -1)

/* ---- directories ---- */

FS_EXPORT DIR *opendir(const char *p)
{
    FS_REAL(opendir);
    struct fs_call c;
    if (!FS_BEGIN(&c, opendir))
        return real_fn(p);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    DIR *d = real_fn(p);
    int e = errno;
    if (d)
        fs_track_stream(&c, FS_KIND_dir, d, dirfd(d));
    fs_end(&c, e);
    return d;
}

FS_EXPORT DIR *fdopendir(int fd)
{
    FS_REAL(fdopendir);
    struct fs_call c;
    if (!FS_BEGIN(&c, fdopendir))
        return real_fn(fd);
    if (c.inject) {
        fs_end(&c, c.err);
        return NULL;
    }
    DIR *d = real_fn(fd);
    int e = errno;
    if (d)
        fs_track_stream(&c, FS_KIND_dir, d, fd);
    fs_end(&c, e);
    return d;
}

FS_EXPORT int closedir(DIR *d)
{
    FS_REAL(closedir);
    struct fs_call c;
    if (!FS_BEGIN(&c, closedir))
        return real_fn(d);
    if (fs_release_stream(&c, FS_KIND_dir, d) == 2) {
        fs_end(&c, EBADF);
        return -1;
    }
    int r = real_fn(d);
    fs_end(&c, errno);
    return r;
}

/* ---- stdio use steps: an injected failure also sets the stream's error
 * indicator, as a real one would, so ferror() agrees ---- */

static void fs_set_error(FILE *f)
{
    if (f)
        f->_flags |= _IO_ERR_SEEN;
}

FS_EXPORT size_t fread(void *b, size_t sz, size_t n, FILE *f)
{
    FS_REAL(fread);
    struct fs_call c;
    if (!FS_BEGIN(&c, fread))
        return real_fn(b, sz, n, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return 0;
    }
    size_t r = real_fn(b, sz, n, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT size_t __fread_chk(void *b, size_t bl, size_t sz, size_t n, FILE *f)
{
    FS_REAL(__fread_chk);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_fread, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(b, bl, sz, n, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return 0;
    }
    size_t r = real_fn(b, bl, sz, n, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT size_t fwrite(const void *b, size_t sz, size_t n, FILE *f)
{
    FS_REAL(fwrite);
    struct fs_call c;
    if (!FS_BEGIN(&c, fwrite))
        return real_fn(b, sz, n, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return 0;
    }
    size_t r = real_fn(b, sz, n, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT char *fgets(char *s, int n, FILE *f)
{
    FS_REAL(fgets);
    struct fs_call c;
    if (!FS_BEGIN(&c, fgets))
        return real_fn(s, n, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return NULL;
    }
    char *r = real_fn(s, n, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT char *__fgets_chk(char *s, size_t sl, int n, FILE *f)
{
    FS_REAL(__fgets_chk);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_fgets, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(s, sl, n, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return NULL;
    }
    char *r = real_fn(s, sl, n, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT int fputs(const char *s, FILE *f)
{
    FS_REAL(fputs);
    struct fs_call c;
    if (!FS_BEGIN(&c, fputs))
        return real_fn(s, f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return EOF;
    }
    int r = real_fn(s, f);
    fs_end(&c, errno);
    return r;
}

FS_EXPORT int fflush(FILE *f)
{
    FS_REAL(fflush);
    struct fs_call c;
    if (!FS_BEGIN(&c, fflush))
        return real_fn(f);
    if (c.inject) {
        fs_set_error(f);
        fs_end(&c, c.err);
        return EOF;
    }
    int r = real_fn(f);
    fs_end(&c, errno);
    return r;
}
