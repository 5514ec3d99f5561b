/* fork_identity.c — probe: a fork-mode run is a process of its own to glibc
 * and to the kernel, as an exec run is, and the trunk never sees it.
 *
 * Usage: demo_fork_identity FILE   opens and closes FILE 5 times; exit 0, or 1
 *                                  when a call failed; 7 when a check below
 *                                  failed (said on stderr)
 *
 * The fork-mode trunk (harness/preload/forkmode.c) creates each forked run
 * with a raw clone(CLONE_PARENT) instead of glibc's fork, so it must do what
 * glibc's _Fork does for the child, and the child must not be the trunk's:
 *   - glibc's copy of the thread id (struct pthread's tid, which mutexes
 *     record as their owner) is the child's own, not the trunk's: a recursive
 *     mutex locked here names gettid() as its owner;
 *   - the kernel knows the thread's robust-mutex list (set_robust_list: the
 *     kernel clears it in a new process);
 *   - the program has no child it did not make: waitpid(-1, WNOHANG) says
 *     ECHILD (a forked run that were the trunk's child would be a zombie
 *     here, and its SIGCHLD the program's).
 * Each check runs after every fault point, in the trunk and in every run. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int identity_ok(const char *where)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &a);
    pthread_mutex_lock(&m);
    int owner = m.__data.__owner;            /* glibc: THREAD_SELF->tid */
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
    pthread_mutexattr_destroy(&a);
    int tid = (int)syscall(SYS_gettid);
    if (owner != tid) {
        fprintf(stderr, "fork_identity: %s: glibc's thread id is %d, the kernel's %d\n", where, owner, tid);
        return 0;
    }
    void *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) != 0 || !head) {
        fprintf(stderr, "fork_identity: %s: no robust-mutex list registered\n", where);
        return 0;
    }
    int st;
    pid_t w = waitpid(-1, &st, WNOHANG);
    if (w != -1 || errno != ECHILD) {
        fprintf(stderr, "fork_identity: %s: waitpid(-1) found a child the program did not make (%d)\n",
                where, (int)w);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < 5; i++) {
        FILE *f = fopen(argv[1], "r");
        if (!f) {
            fprintf(stderr, "fork_identity: %s: %s\n", argv[1], strerror(errno));
            return identity_ok("after the failed fopen") ? 1 : 7;
        }
        fclose(f);
        if (!identity_ok("after fclose"))
            return 7;
    }
    return identity_ok("at the end") ? 0 : 7;
}
