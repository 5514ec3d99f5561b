/* errno_output.c — prints errno after wrapped calls, and some output.
 *
 * Usage: demo_errno_output DIR      (DIR: a writable scratch directory)
 *
 * No bug. Before each call errno is set to EINTR; after it the program prints
 * the call's result and errno on stdout (and a few lines on stderr). The
 * preload promises invisibility when it injects nothing: the same errno
 * values, the same fd numbers and byte-identical stdout/stderr natively and
 * under faultstack. The integration test diffs both.
 *   faultstack run -- demo_errno_output DIR
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define SHOW(label, expr) do { errno = EINTR; long v_ = (long)(expr); \
    printf("%-28s ret=%ld errno=%d\n", label, v_, errno); } while (0)
#define SHOWV(label, stmt) do { errno = EINTR; stmt; printf("%-28s errno=%d\n", label, errno); } while (0)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/errno.txt", argv[1]);
    fprintf(stderr, "stderr line 1: starting in %s\n", argv[1]);

    void *p = NULL, *q = NULL;
    char *s = NULL;
    SHOW("malloc", (p = malloc(32)) != NULL);
    SHOW("calloc", (q = calloc(4, 8)) != NULL);
    SHOW("realloc grow", (p = realloc(p, 100000)) != NULL);
    SHOW("strdup", (s = strdup("hello")) != NULL);
    SHOWV("free", free(p));
    SHOWV("free q", free(q));
    SHOWV("free s", free(s));
    SHOWV("free NULL", free(NULL));
    void *al = NULL;
    SHOW("posix_memalign", posix_memalign(&al, 64, 128));
    SHOWV("free aligned", free(al));

    int fd;
    errno = EINTR;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("%-28s fd=%d errno=%d\n", "open create", fd, errno);
    SHOW("write", write(fd, "abc\n", 4));
    SHOW("fsync", fsync(fd));
    SHOW("close", close(fd));
    SHOW("close -1", close(-1));
    SHOW("close 777 (never open)", close(777));
    errno = EINTR;
    fd = open("/nonexistent/faultstack", O_RDONLY);
    printf("%-28s fd=%d errno=%d\n", "open missing", fd, errno);
    errno = EINTR;
    fd = open(path, O_RDONLY);
    printf("%-28s fd=%d errno=%d\n", "open read", fd, errno);
    char buf[16];
    SHOW("read", read(fd, buf, sizeof buf));
    SHOW("read eof", read(fd, buf, sizeof buf));
    SHOW("lseek", lseek(fd, 0, SEEK_SET));
    errno = EINTR;
    int fd2 = dup(fd);
    printf("%-28s fd=%d errno=%d\n", "dup", fd2, errno);
    SHOW("close dup", close(fd2));
    SHOW("close", close(fd));

    FILE *f = NULL;
    SHOW("fopen", (f = fopen(path, "r")) != NULL);
    printf("%-28s fd=%d\n", "fileno", f ? fileno(f) : -1);
    SHOW("fgets", fgets(buf, sizeof buf, f) != NULL);
    SHOW("fgets eof", fgets(buf, sizeof buf, f) != NULL);
    SHOW("fclose", fclose(f));
    DIR *d = NULL;
    SHOW("opendir", (d = opendir(argv[1])) != NULL);
    SHOW("closedir", closedir(d));
    int sp[2];
    SHOW("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
    printf("%-28s %d %d\n", "socketpair fds", sp[0], sp[1]);
    SHOW("close sp0", close(sp[0]));
    SHOW("close sp1", close(sp[1]));
    int pp[2];
    SHOW("pipe", pipe(pp));
    printf("%-28s %d %d\n", "pipe fds", pp[0], pp[1]);
    SHOW("close p0", close(pp[0]));
    SHOW("close p1", close(pp[1]));
    void *m = NULL;
    SHOW("mmap", (m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED);
    SHOW("munmap", munmap(m, 8192));
    SHOW("mutex_lock", pthread_mutex_lock(&mu));
    SHOW("mutex_trylock (EBUSY)", pthread_mutex_trylock(&mu));
    SHOW("mutex_unlock", pthread_mutex_unlock(&mu));
    SHOW("unlink", unlink(path));
    errno = EINTR;
    printf("%-28s errno=%d\n", "printf", errno);
    fprintf(stderr, "stderr line 2: errno=%d\n", errno);
    errno = EINTR;
    fd = open(path, O_RDONLY);
    printf("%-28s fd=%d errno=%d\n", "open unlinked", fd, errno);
    fprintf(stderr, "stderr line 3: done\n");
    return 0;
}
