/* fork_hazards.c — probe of fork mode's hazards (faultstack sweep --mode fork).
 *
 * Usage: demo_fork_hazards offset FILE   reads FILE in 7-byte chunks through a
 *                                        plain fd and a FILE*, with a fault point
 *                                        (malloc) between chunks, and checks that
 *                                        both readers saw exactly the file's bytes
 *        demo_fork_hazards pipe          writes a message into a pipe, makes fault
 *                                        points, reads it back and checks it
 *        demo_fork_hazards stdout        prints 3 numbered lines with fault points
 *                                        between them
 * Exit status: 0 when every check holds, 1 when a fault point failed (reported on
 * stderr), 3 when what was read is not what the file or pipe holds — which is
 * what a fork-mode child sharing the trunk's open file descriptions (offsets)
 * or pipe would cause in the trunk.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One fault point: a malloc that the program checks. */
static int point(void)
{
    char *p = malloc(32);
    if (!p) {
        perror("malloc");
        return -1;
    }
    free(p);
    return 0;
}

static int offsets(const char *path)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        perror(path);
        if (fd >= 0) close(fd);
        return 1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        close(fd);
        return 1;
    }
    setvbuf(f, NULL, _IONBF, 0);        /* every fread is a read(2) at the shared offset */
    char *whole = malloc((size_t)sb.st_size + 1), *viaf = malloc((size_t)sb.st_size + 1);
    int rc = 1;
    if (!whole || !viaf) {
        perror("malloc");
        goto out;
    }
    size_t got = 0, gotf = 0;
    ssize_t n;
    char chunk[7];
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (got + (size_t)n > (size_t)sb.st_size) { rc = 3; goto out; }
        memcpy(whole + got, chunk, (size_t)n);
        got += (size_t)n;
        size_t m = fread(chunk, 1, (size_t)n, f);
        if (m < (size_t)n && ferror(f)) {
            perror("fread");
            goto out;
        }
        memcpy(viaf + gotf, chunk, m);
        gotf += m;
        if (point() != 0)
            goto out;
    }
    if (n < 0) {
        perror("read");
        goto out;
    }
    while (gotf < (size_t)sb.st_size) {
        size_t m = fread(viaf + gotf, 1, (size_t)sb.st_size - gotf, f);
        if (m == 0 && ferror(f)) {
            perror("fread");
            goto out;
        }
        if (m == 0) break;
        gotf += m;
    }
    /* compare with a fresh read of the file */
    int fd2 = open(path, O_RDONLY);
    char *ref = malloc((size_t)sb.st_size + 1);
    size_t r = 0;
    while (fd2 >= 0 && ref && (n = read(fd2, ref + r, (size_t)sb.st_size - r)) > 0)
        r += (size_t)n;
    if (fd2 >= 0) close(fd2);
    if (!ref || fd2 < 0) {
        perror("reference read");
        free(ref);
        goto out;
    }
    rc = (got == (size_t)sb.st_size && gotf == got && memcmp(whole, ref, got) == 0 &&
          memcmp(viaf, ref, got) == 0) ? 0 : 3;
    if (rc == 3)
        fprintf(stderr, "read %zu and %zu bytes, file has %lld: offsets were disturbed\n", got, gotf,
                (long long)sb.st_size);
    free(ref);
out:
    free(whole);
    free(viaf);
    fclose(f);
    close(fd);
    return rc;
}

static int piped(void)
{
    int p[2];
    const char msg[] = "through the pipe";
    char buf[sizeof msg];
    if (pipe(p) != 0) {
        perror("pipe");
        return 1;
    }
    int rc = 1;
    if (write(p[1], msg, sizeof msg) != (ssize_t)sizeof msg) {
        perror("write");
        goto out;
    }
    for (int i = 0; i < 3; i++)
        if (point() != 0)
            goto out;
    if (read(p[0], buf, sizeof buf) != (ssize_t)sizeof buf) {
        perror("read");
        goto out;
    }
    rc = memcmp(buf, msg, sizeof msg) == 0 ? 0 : 3;
out:
    close(p[0]);
    close(p[1]);
    return rc;
}

static int lines(void)
{
    for (int i = 1; i <= 3; i++) {
        printf("line %d\n", i);
        if (point() != 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "offset") == 0)
        return offsets(argv[2]);
    if (argc == 2 && strcmp(argv[1], "pipe") == 0)
        return piped();
    if (argc == 2 && strcmp(argv[1], "stdout") == 0)
        return lines();
    fprintf(stderr, "usage: %s offset FILE | pipe | stdout\n", argv[0]);
    return 2;
}
