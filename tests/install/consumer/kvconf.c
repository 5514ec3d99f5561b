/* kvconf.c — the key=value reader of the consumer project (kvconf.h). Its error
 * path has a planted bug: when the buffer for the file's text cannot be
 * allocated, the file descriptor is not closed (an fd leak that only a failing
 * malloc shows). Built with -DFS_FIXED it is the fixed twin: the only
 * difference is the close(). */
#define _GNU_SOURCE
#include "kvconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int kvconf_split(struct kvconf *c)
{
    size_t lines = 1;
    for (char *p = c->text; *p; p++)
        lines += *p == '\n';
    c->keys = malloc(lines * sizeof *c->keys);
    c->values = malloc(lines * sizeof *c->values);
    if (!c->keys || !c->values)
        return -1;
    c->n = 0;
    for (char *line = strtok(c->text, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#')
            continue;
        *eq = '\0';
        c->keys[c->n] = line;
        c->values[c->n++] = eq + 1;
    }
    return 0;
}

int kvconf_load(const char *path, struct kvconf *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return -1;
    }
    out->text = malloc((size_t)sb.st_size + 1);
    if (!out->text) {
#ifdef FS_FIXED
        close(fd);
#endif
        return -1;                                   /* planted bug: fd leaked */
    }
    ssize_t got = read(fd, out->text, (size_t)sb.st_size);
    int saved = errno;
    close(fd);
    if (got < 0) {
        kvconf_free(out);
        errno = saved;
        return -1;
    }
    out->text[got] = '\0';
    if (kvconf_split(out) != 0) {
        kvconf_free(out);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

const char *kvconf_get(const struct kvconf *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    return NULL;
}

void kvconf_free(struct kvconf *c)
{
    free(c->keys);
    free(c->values);
    free(c->text);
    memset(c, 0, sizeof *c);
}
