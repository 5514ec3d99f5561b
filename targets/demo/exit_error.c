/* exit_error.c — twin of exit_deep.c whose die() ends the program through
 * libc's own exit paths instead of exit(): error(), error_at_line(), errx(),
 * verr() (these reach libc's exit without the PLT, so an exit() wrapper never
 * sees them), quick_exit(), exit() called from an atexit handler, or errx()
 * called by another thread while the main thread waits for it (the main
 * thread's frames are live: its stack is a root, its handles are held).
 *
 * Usage: demo_exit_error HOW FILE    HOW: error | error_at_line | errx | verr |
 *                                         quick_exit | atexit | thread
 *        prints the first line of FILE, exit 0.
 *
 * No bug: load() holds an fd, a FILE and a buffer when parse()'s malloc
 * fails and die() ends the program; load() and parse() are still live, so
 * design.md calls these "held at exit" — never findings, whichever way the
 * program ends.
 * Trigger: the program's 2nd malloc() call:
 *   faultstack run --fail only=malloc,nth=2 -- demo_exit_error error FILE
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

static const char *how = "error";
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
        fprintf(stderr, "demo_exit_error: %s\n", what);
        quick_exit(1);
    } else {
        fprintf(stderr, "demo_exit_error: %s\n", what);
        dying = 1;
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
    if (argc != 3) {
        fprintf(stderr, "usage: %s error|error_at_line|errx|verr|quick_exit|atexit|thread FILE\n", argv[0]);
        return 2;
    }
    how = argv[1];
    atexit(on_exit_handler);
    load(argv[2]);
    return 0;
}
