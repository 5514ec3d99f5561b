/* sync.c — the preload's spinlock and thread id: no pthread calls (the preload
 * wraps pthread_mutex_*), safe in signal handlers with trylock. */
#define _GNU_SOURCE
#include "preload.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

void fs_lock(fs_lock_t *l)
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

void fs_unlock(fs_lock_t *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

static FS_TLS pid_t fs_tid_cache;
static FS_TLS pid_t fs_tid_pid;

pid_t fs_gettid(void)
{
    pid_t pid = (pid_t)syscall(SYS_getpid);
    if (fs_tid_pid != pid || !fs_tid_cache) {   /* fork gives the child a new tid */
        fs_tid_cache = (pid_t)syscall(SYS_gettid);
        fs_tid_pid = pid;
    }
    return fs_tid_cache;
}

