/* exit_deep.c — load a config file; exits from deep inside on an error path.
 *
 * Usage: demo_exit_deep FILE      prints the first line of FILE, exit 0.
 *
 * No bug: load() opens FILE with open(), opens it again with fopen() and
 * mallocs a buffer, then calls parse(), which mallocs a scratch block. When
 * that malloc fails, parse() calls die(), which calls exit(1) while load()'s
 * frame (and parse()'s) is still live and holds the fd, the FILE and the
 * buffer. design.md: such resources are "held at exit", recorded in the
 * resource table (verdict 'held') or as reachable memory, never findings.
 * Trigger: the program's 2nd malloc() call:
 *   faultstack run --fail only=malloc,nth=2 -- demo_exit_deep FILE
 * Twin with a real leak: exit_after_return.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "demo_exit_deep: %s\n", what);
    exit(1);
}

static void parse(FILE *f, char *buf, size_t len)
{
    char *scratch = malloc(256); /* FS-FAULT */
    if (!scratch)
        die("out of memory");   /* exit(1): load() still holds fd, FILE, buf */
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    strncpy(scratch, buf, 255);
    scratch[255] = '\0';
    fputs(scratch, stdout);
    free(scratch);
}

static void load(const char *path)
{
    int fd = open(path, O_RDONLY); /* FS-EXPECT: held fd */
    if (fd < 0)
        die("cannot open");
    FILE *f = fopen(path, "r"); /* FS-EXPECT: held file */
    if (!f)
        die("cannot fopen");
    char *buf = malloc(512); /* FS-EXPECT: held memory */
    if (!buf)
        die("out of memory");
    parse(f, buf, 512);
    free(buf);
    fclose(f);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    load(argv[1]);
    return 0;
}
