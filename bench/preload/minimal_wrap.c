/* minimal_wrap.c — the floor of any LD_PRELOAD layer: wrappers for malloc, free,
 * open, close, fopen, fclose, pthread_mutex_lock and pthread_mutex_unlock that
 * only forward to the next definition (dlsym RTLD_NEXT, resolved once). malloc
 * and free go to glibc's __libc_malloc/__libc_free, since dlsym itself may
 * call calloc/malloc before the pointer is known. Used by run.sh as the
 * "minimal" column; not part of faultstack. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

#define NEXT(name) \
    static __typeof__(&name) real_fn; \
    if (__builtin_expect(!real_fn, 0)) real_fn = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

__attribute__((visibility("default"))) void *malloc(size_t n) { return __libc_malloc(n); }
__attribute__((visibility("default"))) void free(void *p) { __libc_free(p); }

__attribute__((visibility("default"))) int open(const char *path, int flags, ...)
{
    NEXT(open);
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return real_fn(path, flags, mode);
}

__attribute__((visibility("default"))) int close(int fd) { NEXT(close); return real_fn(fd); }

__attribute__((visibility("default"))) FILE *fopen(const char *p, const char *m)
{
    NEXT(fopen);
    return real_fn(p, m);
}

__attribute__((visibility("default"))) int fclose(FILE *f) { NEXT(fclose); return real_fn(f); }

__attribute__((visibility("default"))) int pthread_mutex_lock(pthread_mutex_t *m)
{
    NEXT(pthread_mutex_lock);
    return real_fn(m);
}

__attribute__((visibility("default"))) int pthread_mutex_unlock(pthread_mutex_t *m)
{
    NEXT(pthread_mutex_unlock);
    return real_fn(m);
}
