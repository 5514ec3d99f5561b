/* clean_exit.c — show the first line of a file; exits on error, but only
 * after releasing everything it holds.
 *
 * Usage: demo_clean_exit FILE     prints "<FILE>: <first line>", exit 0.
 *
 * No bug: job_run() takes job_lock, opens FILE with open() and again with
 * fopen(), allocates a buffer (malloc) and a copy of the name (strdup), then
 * reads. Every resource is recorded in struct job as soon as it is acquired;
 * on any failure job_fail() reports it, releases everything the job holds
 * (job_release) and only then calls exit(1). A release that fails is
 * reported, never retried (close and fclose release even when they fail).
 * Expected: no finding under any fault — no leak, nothing held at exit,
 * no anomaly. Faults the sweep must reach include the FS-FAULT lines below.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
    int locked;
    int fd;
    FILE *f;
    char *buf;
    char *name;
};

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;

/* Release everything J holds. Returns 0, or -1 when a release reported an
 * error (reported on stderr; the resource is gone anyway). */
static int job_release(struct job *j)
{
    int rc = 0;

    free(j->name);
    j->name = NULL;
    free(j->buf);
    j->buf = NULL;
    if (j->f != NULL) {
        if (fclose(j->f) != 0) { /* FS-FAULT: fclose */
            perror("fclose");
            rc = -1;
        }
        j->f = NULL;
    }
    if (j->fd >= 0) {
        if (close(j->fd) != 0) { /* FS-FAULT: close */
            perror("close");
            rc = -1;
        }
        j->fd = -1;
    }
    if (j->locked) {
        pthread_mutex_unlock(&job_lock);
        j->locked = 0;
    }
    return rc;
}

/* Report WHAT, release everything J holds, exit(1). Does not return. */
static void job_fail(struct job *j, const char *what)
{
    perror(what);
    job_release(j);
    exit(1);
}

static void job_run(struct job *j, const char *path)
{
    pthread_mutex_lock(&job_lock);
    j->locked = 1;
    j->fd = open(path, O_RDONLY); /* FS-FAULT: open */
    if (j->fd < 0)
        job_fail(j, path);
    j->f = fopen(path, "r"); /* FS-FAULT: fopen */
    if (j->f == NULL)
        job_fail(j, path);
    j->buf = malloc(256); /* FS-FAULT: malloc */
    if (j->buf == NULL)
        job_fail(j, "malloc");
    j->name = strdup(path); /* FS-FAULT: strdup */
    if (j->name == NULL)
        job_fail(j, "strdup");
    char probe[16];
    if (read(j->fd, probe, sizeof probe) < 0) /* FS-FAULT: read */
        job_fail(j, path);
    if (fgets(j->buf, 256, j->f) == NULL) /* FS-FAULT: fgets */
        job_fail(j, path);
    j->buf[strcspn(j->buf, "\n")] = '\0';
    printf("%s: %s\n", j->name, j->buf);
}

int main(int argc, char **argv)
{
    struct job j = { .locked = 0, .fd = -1, .f = NULL, .buf = NULL, .name = NULL };

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    job_run(&j, argv[1]);
    if (job_release(&j) != 0) {
        fprintf(stderr, "%s: cannot release %s\n", argv[0], argv[1]);
        return 1;
    }
    return 0;
}
