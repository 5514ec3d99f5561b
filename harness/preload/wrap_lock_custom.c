/* wrap_lock_custom.c — wrappers for mutexes and rwlocks (libc.spec: lock rows).
 * A held lock is a resource keyed by its address (read holds of an rwlock also
 * by the holding thread). Relocking a held non-recursive mutex and unlocking a
 * mutex another thread holds are anomalies. pthread_cond_wait releases and
 * retakes the mutex inside libc, so it is wrapped to keep the ledger right. */
#define _GNU_SOURCE
#include "wrap.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* glibc: the low bits of __kind are the type (0 normal, 1 recursive, 2 errorcheck). */
static int fs_mutex_type(pthread_mutex_t *m)
{
    return m->__data.__kind & 3;
}

/* Before locking: relock by the owner? Returns 1 when the lock is recursive
 * and already ours (depth counted, nothing else to record). */
static int fs_before_lock(struct fs_call *c, pthread_mutex_t *m)
{
    /* only a blocking lock can deadlock on its owner; trylock returns EBUSY */
    int blocking = c->id == FS_F_pthread_mutex_lock;
    struct fs_res *r = fs_ledger_find(FS_KIND_lock, (uint64_t)m, 0);
    if (!r)
        return 0;
    int mine = !(r->flags & FS_RES_DEAD) && r->tid == fs_gettid() && r->pid == fs_getpid();
    if (mine && fs_mutex_type(m) == PTHREAD_MUTEX_RECURSIVE) {
        r->size++;
        fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0);
        return 1;
    }
    struct fs_res before = *r;
    fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0);
    if (mine && (blocking || fs_mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK))
        fs_anomaly(c, "relock", FS_KIND_lock, (uint64_t)m, &before,
                   fs_mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK
                       ? "mutex locked again by its owner (EDEADLK)"
                       : "mutex locked again by its owner: this thread deadlocks");
    return 0;
}

#define FS_WRAP_MUTEX_ACQ(name, params, args)                                   \
    FS_EXPORT int name params                                                   \
    {                                                                           \
        FS_REAL(name);                                                          \
        struct fs_call c;                                                       \
        if (!FS_BEGIN(&c, name))                                                \
            return real_fn args;                                                \
        if (c.inject) {                                                         \
            fs_end(&c, c.saved_errno);                                          \
            return c.err;                                                       \
        }                                                                       \
        int rec = fs_before_lock(&c, m);                                        \
        int r = real_fn args;                                                   \
        if (r == 0 && !rec)                                                     \
            fs_acquire(&c, FS_KIND_lock, (uint64_t)m, 0, 0);                    \
        else if (r != 0 && rec) {                                               \
            struct fs_res *x = fs_ledger_find(FS_KIND_lock, (uint64_t)m, 0);    \
            if (x) { x->size--; fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0); } \
        }                                                                       \
        fs_end(&c, c.saved_errno);                                              \
        return r;                                                               \
    }

FS_WRAP_MUTEX_ACQ(pthread_mutex_lock, (pthread_mutex_t *m), (m))
FS_WRAP_MUTEX_ACQ(pthread_mutex_trylock, (pthread_mutex_t *m), (m))
FS_WRAP_MUTEX_ACQ(pthread_mutex_timedlock, (pthread_mutex_t *m, const struct timespec *t), (m, t))

/* Take the ledger entry of a mutex out (unlock); returns 1 if it was tracked. */
static int fs_release_mutex(struct fs_call *c, pthread_mutex_t *m, struct fs_res *out, int report)
{
    struct fs_res *r = fs_ledger_find(FS_KIND_lock, (uint64_t)m, 0);
    if (!r)
        return 0;
    if (r->flags & FS_RES_DEAD) {
        fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0);
        return 0;
    }
    int owner = r->tid == fs_gettid();
    struct fs_res before;
    if (out || (!owner && report))        /* the copy only when something reads it */
        before = *r;
    if (out)
        *out = before;
    if (owner && r->size > 0)
        r->size--;                        /* recursive: one level */
    else
        fs_ledger_kill(r);
    fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0);
    if (!owner && report)
        fs_anomaly(c, "non-owner-unlock", FS_KIND_lock, (uint64_t)m, &before,
                   "mutex unlocked by a thread that does not hold it");
    return 1;
}

FS_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    FS_REAL(pthread_mutex_unlock);
    struct fs_call c;
    if (!FS_BEGIN(&c, pthread_mutex_unlock))
        return real_fn(m);
    fs_release_mutex(&c, m, NULL, 1);
    int r = real_fn(m);
    fs_end(&c, c.saved_errno);
    return r;
}

/* cond waits: the mutex is released while waiting and held again after. */
static void fs_retake(struct fs_call *c, pthread_mutex_t *m, const struct fs_res *was)
{
    struct fs_res *r = fs_acquire(c, FS_KIND_lock, (uint64_t)m, 0, was->size);
    if (r) {                               /* keep the original acquire site */
        struct fs_res *x = fs_ledger_find(FS_KIND_lock, (uint64_t)m, 0);
        if (x) {
            x->func = was->func; x->mod = was->mod; x->off = was->off; x->sp = was->sp;
            fs_ledger_unlock(FS_KIND_lock, (uint64_t)m, 0);
        }
    }
}

FS_EXPORT int pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
    FS_REAL(pthread_cond_wait);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_pthread_mutex_unlock, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(cv, m);
    struct fs_res was;
    int tracked = fs_release_mutex(&c, m, &was, 1);
    fs_guard--;                            /* other threads' calls while we wait are theirs */
    int r = real_fn(cv, m);
    fs_guard++;
    if (tracked)
        fs_retake(&c, m, &was);
    fs_end(&c, c.saved_errno);
    return r;
}

FS_EXPORT int pthread_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *m, const struct timespec *t)
{
    FS_REAL(pthread_cond_timedwait);
    struct fs_call c;
    if (!fs_begin(&c, FS_F_pthread_mutex_unlock, __builtin_return_address(0), __builtin_frame_address(0)))
        return real_fn(cv, m, t);
    struct fs_res was;
    int tracked = fs_release_mutex(&c, m, &was, 1);
    fs_guard--;
    int r = real_fn(cv, m, t);
    fs_guard++;
    if (tracked)
        fs_retake(&c, m, &was);
    fs_end(&c, c.saved_errno);
    return r;
}

/* ---- rwlocks: write hold keyed (addr, 0), read holds (addr, tid) ---- */

#define FS_WRAP_RW(name, params, args, readhold)                                \
    FS_EXPORT int name params                                                   \
    {                                                                           \
        FS_REAL(name);                                                          \
        struct fs_call c;                                                       \
        if (!FS_BEGIN(&c, name))                                                \
            return real_fn args;                                                \
        if (c.inject) {                                                         \
            fs_end(&c, c.saved_errno);                                          \
            return c.err;                                                       \
        }                                                                       \
        int r = real_fn args;                                                   \
        if (r == 0)                                                             \
            fs_acquire(&c, FS_KIND_lock, (uint64_t)l, (readhold) ? (uint64_t)fs_gettid() : 0, 0); \
        fs_end(&c, c.saved_errno);                                              \
        return r;                                                               \
    }

FS_WRAP_RW(pthread_rwlock_rdlock, (pthread_rwlock_t *l), (l), 1)
FS_WRAP_RW(pthread_rwlock_tryrdlock, (pthread_rwlock_t *l), (l), 1)
FS_WRAP_RW(pthread_rwlock_timedrdlock, (pthread_rwlock_t *l, const struct timespec *t), (l, t), 1)
FS_WRAP_RW(pthread_rwlock_wrlock, (pthread_rwlock_t *l), (l), 0)
FS_WRAP_RW(pthread_rwlock_trywrlock, (pthread_rwlock_t *l), (l), 0)
FS_WRAP_RW(pthread_rwlock_timedwrlock, (pthread_rwlock_t *l, const struct timespec *t), (l, t), 0)

FS_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    FS_REAL(pthread_rwlock_unlock);
    struct fs_call c;
    if (!FS_BEGIN(&c, pthread_rwlock_unlock))
        return real_fn(l);
    struct fs_res *r = fs_ledger_find(FS_KIND_lock, (uint64_t)l, 0);
    if (r) {
        if (!(r->flags & FS_RES_DEAD))
            fs_ledger_kill(r);
        fs_ledger_unlock(FS_KIND_lock, (uint64_t)l, 0);
    } else {
        fs_ledger_forget(FS_KIND_lock, (uint64_t)l, (uint64_t)fs_gettid());
    }
    int rv = real_fn(l);
    fs_end(&c, c.saved_errno);
    return rv;
}

/* Threads: libc allocates the new thread's DTV and TLS blocks inside
 * pthread_create and keeps them in its own stack cache after the join; those
 * blocks are libc's, not the program's, so they are tracked quietly (never
 * reported) by running the real call under the guard. Each thread starts in
 * fs_thread_start, which registers its stack: when the process ends while it
 * still runs, its stack is a root of the reachability scan (finish.c). */
struct fs_tstart { void *(*fn)(void *); void *arg; };

static void *fs_thread_start(void *p)
{
    struct fs_tstart st = *(struct fs_tstart *)p;
    fs_free_pages(p, sizeof st);
    pthread_attr_t at;
    void *addr = NULL;
    size_t size = 0;
    fs_guard++;                                /* libc's own calls: quiet */
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        if (pthread_attr_getstack(&at, &addr, &size) != 0)
            addr = NULL;
        pthread_attr_destroy(&at);
    }
    fs_guard--;
    if (addr)
        fs_thread_register(fs_gettid(), (uintptr_t)addr, (uintptr_t)addr + size);
    void *r = st.fn(st.arg);
    fs_tcount_thread_end();              /* (a thread ending in pthread_exit keeps its counts until the process ends) */
    return r;
}

FS_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    FS_REAL(pthread_create);
    struct fs_tstart *st = fs_active ? fs_alloc(sizeof *st) : NULL;
    fs_guard++;
    int r;
    if (st) {
        st->fn = fn;
        st->arg = arg;
        r = real_fn(t, a, fs_thread_start, st);
        if (r != 0)
            fs_free_pages(st, sizeof *st);
    } else {
        r = real_fn(t, a, fn, arg);
    }
    fs_guard--;
    return r;
}
