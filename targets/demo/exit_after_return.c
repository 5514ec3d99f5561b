/* exit_after_return.c — twin of exit_deep.c where the acquiring function
 * returned before exit() is called: a real leak.
 *
 * Usage: demo_exit_after_return FILE    prints the first line of FILE, exit 0.
 *
 * Planted bug (leak, kind fd, func open): probe() opens FILE to check it is
 * readable, then mallocs a scratch block; when that malloc fails it returns -1
 * without closing the fd. Its caller then calls exit(1). probe()'s frame is
 * gone when exit() runs, so the fd is a leak (design.md: "acquired in frames
 * that have all returned"). The FILE that main() opened first and still
 * holds is "held at exit", not a finding.
 * Trigger: the program's 1st malloc() call:
 *   faultstack run --fail only=malloc,nth=1 -- demo_exit_after_return FILE
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int probe(const char *path)
{
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0)
        return -1;
    char *scratch = malloc(64); /* FS-FAULT */
    if (!scratch)
        return -1;              /* BUG: fd is never closed */
    ssize_t n = read(fd, scratch, 64);
    free(scratch);
    close(fd);
    return n < 0 ? -1 : 0;
}

static void run(FILE *f, const char *path)
{
    if (probe(path) != 0) {
        fprintf(stderr, "demo_exit_after_return: %s: probe failed\n", path);
        exit(1);                /* f is held by main's frame: not a leak */
    }
    char line[256];
    if (fgets(line, sizeof line, f))
        fputs(line, stdout);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r"); /* FS-EXPECT: held file */
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    run(f, argv[1]);
    fclose(f);
    return 0;
}
