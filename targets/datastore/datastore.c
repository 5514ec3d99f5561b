/* datastore.c — the data store client (datastore.h). Sessions are kept in a
 * table of the store so a stale pointer is refused (EINVAL), never followed:
 * the planted-bug drivers use sessions after logout on purpose. */
#define _GNU_SOURCE
#include "datastore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DS_MAX_SESSIONS 64
#define DS_MAX_LEASES 64

struct ds_session {
    ds_store *st;
    char *user;
    int depth;                  /* ds_login_shared nesting */
    int leases[DS_MAX_LEASES];
    int nleases;
};

struct ds_store {
    char *dir;
    ds_session *sessions[DS_MAX_SESSIONS];
};

struct ds_txn {
    ds_session *s;
    char *staged_dir;
    int count;
};

static ds_store *ds_the_store;  /* for validating pointers handed back to us */

ds_store *ds_connect(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return NULL;
    ds_store *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->dir = strdup(dir);
    if (!st->dir) {
        free(st);
        return NULL;
    }
    ds_the_store = st;
    return st;
}

void ds_disconnect(ds_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < DS_MAX_SESSIONS; i++)
        if (st->sessions[i]) {
            free(st->sessions[i]->user);
            free(st->sessions[i]);
        }
    if (ds_the_store == st)
        ds_the_store = NULL;
    free(st->dir);
    free(st);
}

static int ds_valid(const ds_session *s)
{
    if (!s || !ds_the_store)
        return 0;
    for (int i = 0; i < DS_MAX_SESSIONS; i++)
        if (ds_the_store->sessions[i] == s)
            return 1;
    return 0;
}

/* The store logs every login and logout in its journal: a real write. */
static int ds_journal(ds_store *st, const char *what, const char *user)
{
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/journal", st->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int n = snprintf(line, sizeof line, "%s %s\n", what, user);
    int rc = write(fd, line, (size_t)n) == n ? 0 : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

ds_session *ds_login(ds_store *st, const char *user, const char *key)
{
    if (!st || !user || !key) {
        errno = EINVAL;
        return NULL;
    }
    if (strcmp(key, "secret") != 0) {
        errno = EACCES;
        return NULL;
    }
    int slot = -1;
    for (int i = 0; i < DS_MAX_SESSIONS && slot < 0; i++)
        if (!st->sessions[i])
            slot = i;
    if (slot < 0) {
        errno = EMFILE;
        return NULL;
    }
    ds_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->st = st;
    s->user = strdup(user);
    s->depth = 1;
    int rc = s->user ? ds_journal(st, "login", user) : -ENOMEM;
    if (rc != 0) {
        free(s->user);
        free(s);
        errno = -rc;
        return NULL;
    }
    st->sessions[slot] = s;
    return s;
}

ds_session *ds_login_shared(ds_store *st, const char *user, const char *key)
{
    for (int i = 0; st && user && i < DS_MAX_SESSIONS; i++) {
        ds_session *s = st->sessions[i];
        if (s && strcmp(s->user, user) == 0 && key && strcmp(key, "secret") == 0) {
            s->depth++;
            return s;
        }
    }
    return ds_login(st, user, key);
}

int ds_logout(ds_session *s)
{
    if (!ds_valid(s)) {
        errno = EINVAL;
        return -1;
    }
    if (--s->depth > 0)
        return 0;
    ds_store *st = s->st;
    for (int i = 0; i < DS_MAX_SESSIONS; i++)
        if (st->sessions[i] == s)
            st->sessions[i] = NULL;
    int rc = ds_journal(st, "logout", s->user);
    free(s->user);
    free(s);
    if (rc != 0) {
        errno = -rc;
        return -1;                     /* ended anyway */
    }
    return 0;
}

static int ds_path(const ds_session *s, const char *dir, const char *id, char *out, size_t cap)
{
    if (!id || !*id || strchr(id, '/'))
        return -EINVAL;
    if ((size_t)snprintf(out, cap, "%s/%s", dir ? dir : s->st->dir, id) >= cap)
        return -ENAMETOOLONG;
    return 0;
}

static int ds_write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, data, n);
    int rc = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

int ds_push(ds_session *s, const char *id, const void *data, size_t n)
{
    if (!ds_valid(s))
        return -EINVAL;
    char path[4096];
    int rc = ds_path(s, NULL, id, path, sizeof path);
    return rc ? rc : ds_write_file(path, data, n);
}

ssize_t ds_pull(ds_session *s, const char *id, void *buf, size_t cap)
{
    if (!ds_valid(s))
        return -EINVAL;
    char path[4096];
    int rc = ds_path(s, NULL, id, path, sizeof path);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, cap);
    ssize_t out = r < 0 ? -errno : r;
    close(fd);
    return out;
}

int ds_begin(ds_session *s, ds_txn **out)
{
    if (!ds_valid(s) || !out)
        return -EINVAL;
    ds_txn *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/.txn-%d-%p", s->st->dir, (int)getpid(), (void *)t);
    t->staged_dir = strdup(dir);
    if (!t->staged_dir || mkdir(dir, 0700) != 0) {
        int e = t->staged_dir ? errno : ENOMEM;
        free(t->staged_dir);
        free(t);
        return -e;
    }
    t->s = s;
    *out = t;
    return 0;
}

int ds_txn_push(ds_txn *t, const char *id, const void *data, size_t n)
{
    if (!t || !ds_valid(t->s))
        return -EINVAL;
    char path[4096];
    int rc = ds_path(t->s, t->staged_dir, id, path, sizeof path);
    if (!rc && !(rc = ds_write_file(path, data, n)))
        t->count++;
    return rc;
}

/* Move (commit) or remove (abort) the staged blobs, then free the txn: it
 * ends whatever happens (a failed commit is an abort). */
static int ds_txn_end(ds_txn *t, int commit)
{
    if (!t)
        return -EINVAL;
    int rc = 0;
    DIR *d = opendir(t->staged_dir);
    if (!d) {
        rc = -errno;
    } else {
        char names[64][256], from[4096], to[4096];
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 64)
            if (e->d_name[0] != '.')
                snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        closedir(d);
        for (int i = 0; i < n; i++) {
            snprintf(from, sizeof from, "%s/%s", t->staged_dir, names[i]);
            snprintf(to, sizeof to, "%s/%s", t->s->st->dir, names[i]);
            if (commit && rc == 0 ? rename(from, to) != 0 : unlink(from) != 0)
                rc = rc ? rc : -errno;
        }
    }
    rmdir(t->staged_dir);
    free(t->staged_dir);
    free(t);
    return rc;
}

int ds_commit(ds_txn *t) { return ds_txn_end(t, 1); }
int ds_abort(ds_txn *t) { return ds_txn_end(t, 0); }

int ds_lease(ds_session *s, int no)
{
    if (!ds_valid(s) || no < 0)
        return -EINVAL;
    if (s->nleases >= DS_MAX_LEASES)
        return -EBUSY;
    for (int i = 0; i < s->nleases; i++)
        if (s->leases[i] == no)
            return -EBUSY;
    s->leases[s->nleases++] = no;
    return 0;
}

int ds_unlease(ds_session *s, int no)
{
    if (!ds_valid(s))
        return -EINVAL;
    for (int i = 0; i < s->nleases; i++)
        if (s->leases[i] == no) {
            s->leases[i] = s->leases[--s->nleases];
            return 0;
        }
    return -ENOENT;
}
