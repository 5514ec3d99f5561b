/* exit_deep.c — load a config file; ends the program from deep inside on an
 * error path, through exit() or through libc's own exit paths.
 *
 * Usage: demo_exit_deep [HOW] FILE    prints the first line of FILE, exit 0.
 *   HOW (default exit): exit | error | error_at_line | errx | verr |
 *                       quick_exit | atexit | thread
 *
 * No bug: load() opens FILE with open(), opens it again with fopen() and
 * mallocs a buffer, then calls parse(), which mallocs a scratch block. When
 * that malloc fails, parse() calls die(), which ends the program while
 * load()'s frame (and parse()'s) is still live and holds the fd, the FILE and
 * the buffer: with exit(1); or with error(), error_at_line(), errx(), verr()
 * (these reach libc's exit without the PLT, so an exit() wrapper never sees
 * them); quick_exit(); exit() called again from an atexit handler; or errx()
 * called by another thread while the main thread waits for it (the main
 * thread's frames are live: its stack is a root, its handles are held).
 * design.md: such resources are "held at exit", recorded in the resource
 * table (verdict 'held', the held view) or as reachable memory, never
 * findings, whichever way the program ends.
 * Trigger: the program's 2nd malloc() call:
 *   faultstack run --fail only=malloc,nth=2 -- demo_exit_deep FILE
 *   faultstack run --fail only=malloc,nth=2 -- demo_exit_deep error FILE
 * Twin with a real leak: exit_after_return.c.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *how = "exit";
static int dying;

static void verr_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(1, fmt, ap);
}

static void on_exit_handler(void)
{
    if (dying) {
        dying = 0;
        exit(1);                 /* exit() again from inside exit's own handlers */
    }
}

static void *die_in_thread(void *what)
{
    errx(1, "%s (in a worker thread)", (const char *)what);
}

static void die(const char *what)
{
    if (!strcmp(how, "error"))
        error(1, ENOMEM, "%s", what);
    else if (!strcmp(how, "error_at_line"))
        error_at_line(1, ENOMEM, __FILE__, __LINE__, "%s", what);
    else if (!strcmp(how, "errx"))
        errx(1, "%s", what);
    else if (!strcmp(how, "verr"))
        verr_die("%s", what);
    else if (!strcmp(how, "thread")) {
        pthread_t t;
        if (pthread_create(&t, NULL, die_in_thread, (void *)what) == 0)
            pthread_join(t, NULL);
        exit(2);
    }
    else if (!strcmp(how, "quick_exit")) {
        fprintf(stderr, "demo_exit_deep: %s\n", what);
        quick_exit(1);
    } else if (!strcmp(how, "atexit")) {
        fprintf(stderr, "demo_exit_deep: %s\n", what);
        dying = 1;
        exit(1);
    } else {
        fprintf(stderr, "demo_exit_deep: %s\n", what);
        exit(1);
    }
}

static void parse(FILE *f, char *buf, size_t len)
{
    char *scratch = malloc(256); /* FS-FAULT */
    if (!scratch)
        die("out of memory");   /* load() still holds fd, FILE, buf */
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
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s [exit|error|error_at_line|errx|verr|quick_exit|atexit|thread] FILE\n",
                argv[0]);
        return 2;
    }
    if (argc == 3)
        how = argv[1];
    atexit(on_exit_handler);
    load(argv[argc - 1]);
    return 0;
}
