/* ds_batch.c — a batch of datastore operations that logs in once, with
 * exitstack's reentrant context (exitstack.h, rule 14): each operation enters
 * the session itself (so it also works alone), and the batch enters it around
 * all of them, so the inner enters only count and the batch logs in once and
 * out once. Every failure — of the store, of libc inside it, of exitstack's
 * own allocations — is reported and the program exits 1 with everything
 * released (the sweep of test_protocol_datastore.sh checks that).
 *   ds_batch STORE-DIR */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datastore.h"
#include "exitstack.h"

static ds_store *store;

static es_error *login(void *self, void **result)
{
    ds_session *s = ds_login(store, (const char *)self, "secret");
    if (!s)
        return es_error_new(errno, "login %s", (const char *)self);
    *result = s;
    return NULL;
}

/* the exit gets the es_type's self (the user name): the session to end is
 * the one the enter returned, kept here while it is open */
static ds_session *open_session;

static es_error *enter_session(void *self, void **result)
{
    es_error *e = login(self, result);
    if (!e)
        open_session = *result;
    return e;
}

static bool exit_session(void *self, const es_error *current, es_error **raise)
{
    (void)self;
    (void)current;
    if (ds_logout(open_session) != 0)
        *raise = es_error_new(errno, "logout");
    open_session = NULL;
    return false;
}

static const es_type session_type = { "datastore session", enter_session, exit_session };
static es_reentrant *session;

/* One operation: enters the session (logs in unless a batch did), pushes a
 * blob and reads it back. */
static es_error *push_and_check(const char *id, const char *text)
{
    es_stack *st;
    es_error *err = es_new(&st);
    if (err)
        return err;
    ds_session *s;
    err = es_enter_reentrant(st, session, (void **)&s);
    if (!err) {
        size_t n = strlen(text);
        char buf[64];
        int rc = ds_push(s, id, text, n);
        ssize_t got = rc ? 0 : ds_pull(s, id, buf, sizeof buf);
        if (rc)
            err = es_error_new(-rc, "push %s", id);
        else if (got < 0)
            err = es_error_new((int)-got, "pull %s", id);
        else if ((size_t)got != n || memcmp(buf, text, n) != 0)
            err = es_error_new(EIO, "pull %s: %zd bytes, not what was pushed", id, got);
    }
    es_error *closed = es_exit(st, err, NULL);       /* logs out, unless a batch is open */
    es_error *freed = es_free(st);
    if (freed)
        closed = es_error_chain(freed, closed);
    return closed;
}

static es_error *batch(void)
{
    es_stack *st;
    es_error *err = es_new(&st);
    if (err)
        return err;
    err = es_enter_reentrant(st, session, NULL);     /* log in once for the whole batch */
    for (int i = 0; !err && i < 3; i++) {
        char id[16], text[32];
        snprintf(id, sizeof id, "blob%d", i);
        snprintf(text, sizeof text, "content of blob %d", i);
        err = push_and_check(id, text);
    }
    es_error *closed = es_exit(st, err, NULL);
    es_error *freed = es_free(st);
    return freed ? es_error_chain(freed, closed) : closed;
}

static void print_error(const es_error *e)
{
    for (; e; e = e->context)
        fprintf(stderr, "ds_batch: %s: %s\n", e->message ? e->message : "error", strerror(e->code));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s STORE-DIR\n", argv[0]);
        return 2;
    }
    char dir[4096];                                  /* a store of its own per process */
    mkdir(argv[1], 0700);
    snprintf(dir, sizeof dir, "%s/%d", argv[1], (int)getpid());
    store = ds_connect(dir);
    if (!store) {
        perror("ds_connect");
        return 1;
    }
    es_error *err = es_reentrant_new(&session, &session_type, "alice");
    if (!err) {
        err = batch();
        es_error *f = es_reentrant_free(session);
        if (f)
            err = es_error_chain(f, err);
    }
    ds_disconnect(store);
    if (err) {
        print_error(err);
        es_error_free(err);
        return 1;
    }
    printf("batch of 3 done, logged in once\n");
    return 0;
}
