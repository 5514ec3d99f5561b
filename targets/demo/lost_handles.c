/* lost_handles.c — a log fd and a config FILE opened at start-up, then an
 * error path that ends the program with error() (gnulib's xalloc_die does so).
 *
 * Usage: demo_lost_handles FILE    prints FILE's first line, exit 0.
 *
 * Bug (demo_lost_handles): start() keeps the fd, the config struct and its
 * FILE only in its own locals and returns -1 when load()'s malloc fails
 * without releasing them; main() then ends the program with error(1, ...):
 * all three are leaks (design.md: acquired in frames that have all returned,
 * and nothing reachable refers to them).
 * Fixed twin (demo_lost_handles_ok, built from this file with -DFS_FIXED): the
 * fd is kept in a global (g_log_fd) and the FILE in a heap struct a global
 * points to (g_cfg->in), as gzip keeps its directory fd and xz its self-pipe:
 * both are "held" at exit (resource.reason 'global ...' and
 * 'reachable-global ...'), never findings, although the frames that opened
 * them returned and libc's exit was reached inside error(), not through exit().
 * Trigger: the program's 2nd malloc() call:
 *   faultstack run --fail only=malloc,nth=2 -- demo_lost_handles FILE
 */
#define _GNU_SOURCE
#include <error.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config { FILE *in; int lines; };
#ifdef FS_FIXED
static int g_log_fd = -1;
static struct config *g_cfg;
#endif

static int load(const char *path)
{
    char *line = malloc(512); /* FS-FAULT */
    if (!line)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        free(line);
        return -1;
    }
    if (fgets(line, 512, f))
        fputs(line, stdout);
    fclose(f);
    free(line);
    return 0;
}

/* Open the log fd and the config, then load PATH. */
static int start(const char *path)
{
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0)
        return -1;
    struct config *cfg = malloc(sizeof *cfg); /* FS-EXPECT: leak memory */
    if (!cfg) {
        close(fd);
        return -1;
    }
    cfg->in = fopen(path, "r"); /* FS-EXPECT: leak file */
    cfg->lines = 0;
    if (!cfg->in) {
        free(cfg);
        close(fd);
        return -1;
    }
#ifdef FS_FIXED
    g_log_fd = fd;              /* kept where the program can still use them */
    g_cfg = cfg;
#endif
    if (load(path) != 0)
        return -1;              /* BUG (without FS_FIXED): fd, cfg and its FILE are lost */
#ifndef FS_FIXED
    fclose(cfg->in);
    free(cfg);
    close(fd);
#endif
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    if (start(argv[1]) != 0)
        error(1, errno, "%s", argv[1]);  /* ends inside libc: no exit() call */
#ifdef FS_FIXED
    close(g_log_fd);
    fclose(g_cfg->in);
    free(g_cfg);
#endif
    return 0;
}
