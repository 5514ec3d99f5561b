/* daemon.c — a detached daemon: the work happens in a grandchild that
 * outlives the program's first process.
 *
 * Usage: demo_daemon FILE [hang]    the first process exits 0 at once.
 *
 * The first process forks; the child calls setsid(), forks again and exits;
 * the grandchild (a daemon: its own session, stdin/stdout/stderr on
 * /dev/null, its parent gone) waits 200 ms, so that it outlives both, then
 * opens FILE and allocates a buffer. With "hang" it then never ends.
 * Planted bug (leak, kind fd, func open): when the grandchild's malloc()
 * fails it returns without closing FILE's descriptor.
 * Trigger: the grandchild's malloc():
 *   faultstack run --fail only=malloc,nth=1 -- demo_daemon FILE
 * Used by test_daemon.sh: the grandchild's record must count (its fault
 * points, its leak), in `run` and in both sweep modes, and a hanging daemon
 * is killed at the timeout.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int daemon_work(const char *path, int hang)
{
    struct timespec ts = { 0, 200 * 1000000L };
    nanosleep(&ts, NULL);
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0)
        return 1;
    char *buf = malloc(4096); /* FS-FAULT */
    if (!buf)
        return 1;               /* BUG: fd is never closed */
    ssize_t n = read(fd, buf, 4096);
    free(buf);
    close(fd);
    while (hang)
        pause();
    return n < 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [hang]\n", argv[0]);
        return 2;
    }
    int hang = argc == 3 && !strcmp(argv[2], "hang");
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child > 0) {                          /* the program's first process */
        int st;
        waitpid(child, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
    setsid();
    if (fork() != 0)
        _exit(0);                             /* the child: the daemon is on its own */
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
    _exit(daemon_work(argv[1], hang));
}
