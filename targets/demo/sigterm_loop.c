/* sigterm_loop.c — a busy write() loop to be killed from outside.
 *
 * Usage: demo_sigterm_loop PIDFILE    writes its pid to PIDFILE, then writes to
 *                                     /dev/null forever (every write is a
 *                                     fault point the preload records).
 * No bug. A SIGTERM can land while the preload holds its record lock (inside
 * a wrapper); its fatal-signal handler must not wait for that lock (9 of 80
 * SIGTERMs hung before it stopped waiting). Expected: every run dies of
 * SIGTERM at once, its record complete.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PIDFILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 1;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    int fd = open("/dev/null", O_WRONLY);
    char buf[64] = { 0 };
    for (;;)
        if (write(fd, buf, sizeof buf) < 0)
            return 1;
}
