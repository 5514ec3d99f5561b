/* sync.c — the preload's spinlock and thread id: no pthread calls (the preload
 * wraps pthread_mutex_*), safe in signal handlers with trylock.
 *
 * While the process has one thread (glibc's __libc_single_threaded: it turns
 * false in pthread_create, in the creating thread, before the new thread
 * exists) a free lock is taken with a plain store instead of an atomic
 * exchange: nobody else can race for it. A signal handler interrupting the
 * holder still finds the lock taken (its fs_trylock fails, as before); one
 * that lands between the test and the store takes and drops the lock before
 * the interrupted code resumes. */
#define _GNU_SOURCE
#include "preload.h"

#include <sched.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

void fs_lock(fs_lock_t *l)
{
    if (__builtin_expect(__libc_single_threaded && !l->v, 1)) {
        l->v = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        return;
    }
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
            sched_yield();
    }
}

int fs_trylock(fs_lock_t *l)
{
    return !__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE);
}

void fs_unlock(fs_lock_t *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* No system call on the hot path: the pid is cached and refreshed in the fork
 * child handler (fs_pid_refresh); a thread's tid is cached with the fork
 * generation it was read in. */
static pid_t fs_pid;
static unsigned fs_fork_gen = 1;
static FS_TLS pid_t fs_tid_cache;
static FS_TLS unsigned fs_tid_gen;

static pid_t fs_adopt_real;      /* fork-mode child: its real pid, while it adopts */

void fs_pid_refresh(void)
{
    pid_t real = (pid_t)syscall(SYS_getpid);
    if (fs_adopt_real && real == fs_adopt_real)
        return;                 /* the adopting child itself: keep the trunk's identity */
    fs_pid = real;
    __atomic_add_fetch(&fs_fork_gen, 1, __ATOMIC_RELAXED);
}

void fs_pid_adopt(void)
{
    fs_adopt_real = (pid_t)syscall(SYS_getpid);   /* fs_pid and the tid cache stay the trunk's */
}

pid_t fs_getpid(void)
{
    if (!fs_pid)
        fs_pid = (pid_t)syscall(SYS_getpid);
    return fs_pid;
}

pid_t fs_gettid(void)
{
    unsigned g = __atomic_load_n(&fs_fork_gen, __ATOMIC_RELAXED);
    if (fs_tid_gen != g) {
        fs_tid_cache = (pid_t)syscall(SYS_gettid);
        fs_tid_gen = g;
    }
    return fs_tid_cache;
}
