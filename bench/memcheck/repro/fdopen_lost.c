/* fdopen_lost.c — one lost FILE that memcheck_vs_faultstack shows as two
 * disagreements (bench/RESULTS.md, "Memcheck agreement", class D).
 *
 * open() makes the fd, fdopen() adopts it, the FILE is never closed and its
 * pointer dies with first_char()'s frame. faultstack judges the FILE at its
 * acquire site, the fdopen() call (line 25: leak, kind file); memcheck's
 * --track-fds names the fd by the open() call (line 22). The view matches
 * rows by site, so the same resource is 'faultstack only' at line 25 and
 * 'memcheck only' at line 22. gnulib's fts (grep -r, openat + fdopendir)
 * does the same with DIRs.
 *
 *   cc -g -O0 -o /tmp/fdopen_lost bench/memcheck/repro/fdopen_lost.c
 *   build/bin/faultstack run --valgrind --db /tmp/f.db -- /tmp/fdopen_lost
 *   sqlite3 /tmp/f.db "SELECT line, faultstack, memcheck, agreement FROM memcheck_vs_faultstack WHERE kind = 'fd'"
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int first_char(const char *path)
{
    int fd = open(path, O_RDONLY);      /* memcheck names the fd here */
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "r");          /* faultstack names the FILE here */
    if (!f) {
        close(fd);
        return -1;
    }
    return getc(f);                     /* f is never closed */
}

int main(int argc, char **argv)
{
    return first_char(argc > 1 ? argv[1] : "/etc/hostname") < 0;
}
