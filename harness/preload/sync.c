/* sync.c — the preload's spinlock and thread id: no pthread calls (the preload
 * wraps pthread_mutex_*), safe in signal handlers with trylock. fs_lock and
 * fs_unlock are inline (preload.h): their single-threaded fast path is a plain
 * store; the atomic exchange and the wait are here. */
#define _GNU_SOURCE
#include "preload.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

void fs_lock_wait(fs_lock_t *l)
{
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
            sched_yield();
    }
}

int fs_trylock(fs_lock_t *l)
{
    return !__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE);
}

/* No system call on the hot path: the pid is cached and refreshed in the fork
 * child handler (fs_pid_refresh); a thread's tid is cached with the fork
 * generation it was read in. */
pid_t fs_pid;                    /* preload.h: read inline by fs_getpid/fs_gettid */
unsigned fs_fork_gen = 1;
FS_TLS pid_t fs_tid_cache;
FS_TLS unsigned fs_tid_gen;

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

pid_t fs_getpid_slow(void)
{
    fs_pid = (pid_t)syscall(SYS_getpid);
    return fs_pid;
}

pid_t fs_gettid_slow(void)
{
    unsigned g = __atomic_load_n(&fs_fork_gen, __ATOMIC_RELAXED);
    fs_tid_cache = (pid_t)syscall(SYS_gettid);
    fs_tid_gen = g;
    return fs_tid_cache;
}
