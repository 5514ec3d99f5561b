/* close_all_fds.c — a daemon-like start-up that closes every inherited fd.
 *
 * Usage: demo_close_all_fds FILE    copies FILE to stdout, exit 0.
 *
 * No bug. It first counts the fds >= 3 open at start (a process started by a
 * clean parent has none: the preload must keep none visible), opens FILE and
 * closes it again, then runs the classic loop close(fd) for fd = 3..1023,
 * which fails with EBADF for every fd, including the one it already closed.
 * design.md: such a loop is a close sweep, not a double release. After the
 * sweep it works normally: opens FILE and copies it to stdout.
 *   faultstack run -- demo_close_all_fds FILE
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int count_open_fds(void)
{
    int n = 0;
    for (int fd = 3; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

static int close_all(void)
{
    int ok = 0, ebadf = 0;
    for (int fd = 3; fd < 1024; fd++) {
        if (close(fd) == 0) /* FS-EXPECT: sweep close */
            ok++;
        else if (errno == EBADF)
            ebadf++;
    }
    printf("sweep: %d closed, %d EBADF\n", ok, ebadf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    printf("open fds at start: %d\n", count_open_fds());
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    printf("first fd: %d\n", fd);
    close(fd);
    close_all();
    fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    printf("fd after sweep: %d\n", fd);
    fflush(stdout);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n) {
            perror("write");
            close(fd);
            return 1;
        }
    close(fd);
    printf("open fds at end: %d\n", count_open_fds());
    return n < 0 ? 1 : 0;
}
