/* close_range.c — a server-like start-up that opens a few fds, then closes
 * them all at once with close_range() (or closefrom()), as daemons and
 * spawners do before exec.
 *
 * Usage: demo_close_range close_range|closefrom|cloexec FILE
 *        prints "closed N" and exits 0.
 *
 * No bug: every fd opened is released by close_range(3, ~0U, 0) or
 * closefrom(3); with 'cloexec' close_range(CLOSE_RANGE_CLOEXEC) only marks
 * them close-on-exec and a plain close() of each follows. Expected under
 * `faultstack run`: no finding (before close_range was wrapped, every fd it
 * released was reported as a leak).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s close_range|closefrom|cloexec FILE\n", argv[0]);
        return 2;
    }
    int fds[4], p[2], n = 0;
    for (int i = 0; i < 4; i++)
        if ((fds[i] = open(argv[2], O_RDONLY)) >= 0)
            n++;
    if (pipe(p) == 0)
        n += 2;
    if (!strcmp(argv[1], "closefrom")) {
        closefrom(3);
    } else if (!strcmp(argv[1], "cloexec")) {
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
            perror("close_range");
        for (int i = 0; i < 4; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        close(p[0]);
        close(p[1]);
    } else if (close_range(3, ~0U, 0) != 0) {
        perror("close_range");
        return 1;
    }
    printf("closed %d\n", n);
    return 0;
}
