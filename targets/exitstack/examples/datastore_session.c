/*
 * datastore_session.c — a login session reused by nested calls (rules 14, 16).
 *
 * push() and pull() each need a logged-in session; called alone they log in
 * and out themselves. A batch runs many of them inside one outer session:
 * the reentrant context makes the inner enters only count, so the batch logs
 * in once and out once. Each operation runs with its stack as the current
 * stack (es_with_current), so deep code registers cleanups on it without
 * being passed it. Any failure (an allocation the library could not make
 * included) is printed and the program exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "exitstack.h"

typedef struct datastore {
    int logins, logouts, pushes, pulls, temp_files_removed;
} datastore;

static es_error *login(void *self, void **result)
{
    datastore *ds = self;
    ds->logins++;
    printf("  login\n");
    *result = ds;
    return NULL;
}
static bool logout(void *self, const es_error *cur, es_error **raise)
{
    ((datastore *)self)->logouts++;
    printf("  logout\n");
    return false;
}
static const es_type session_type = {"session", login, logout};

static datastore store;
static es_reentrant *session; /* made once in main */

static es_error *remove_temp(void *arg)
{
    ((datastore *)arg)->temp_files_removed++;
    return NULL;
}

/* deep code: registers a cleanup on whatever stack is current */
static es_error *stage_temp_file(void *arg)
{
    return es_defer(es_current(), remove_temp, arg);
}

static es_error *op(int *counter)
{
    es_stack *st;
    datastore *ds = NULL;
    es_error *err = es_new(&st);

    if (err)
        return err;
    err = es_enter_reentrant(st, session, (void **)&ds); /* logs in unless a caller did */
    if (!err)
        err = es_with_current(st, stage_temp_file, ds);
    if (!err)
        (*counter)++;
    return es_error_chain(es_free(st), err); /* logs out if this was the outermost */
}

static int fail(const char *what, es_error *err)
{
    fprintf(stderr, "datastore_session: %s: %s\n", what, err ? err->message : "wrong counts");
    es_error_free(err);
    es_error_free(es_reentrant_free(session));
    es_thread_cleanup();
    return 1;
}

int main(void)
{
    es_error *err;
    es_stack *batch;
    void *ds;

    err = es_reentrant_new(&session, &session_type, &store);
    if (err)
        return fail("session", err);
    printf("a lone push:\n");
    err = op(&store.pushes);
    if (err || store.logins != 1 || store.logouts != 1)
        return fail("lone push", err);

    printf("a batch of 5 pushes and a pull in one session:\n");
    err = es_new(&batch);
    if (err)
        return fail("batch", err);
    err = es_enter_reentrant(batch, session, &ds);
    for (int i = 0; i < 5 && !err; i++)
        err = op(&store.pushes);
    if (!err)
        err = op(&store.pulls);
    err = es_error_chain(es_free(batch), err);
    if (err)
        return fail("batch", err);
    printf("logins %d, logouts %d, pushes %d, pulls %d, temp files removed %d\n", store.logins,
           store.logouts, store.pushes, store.pulls, store.temp_files_removed);
    /* the batch logged in once (2 in total with the lone push) */
    if (store.logins != 2 || store.logouts != 2 || store.pushes != 6 || store.pulls != 1 ||
        store.temp_files_removed != 7 || es_reentrant_depth(session) != 0)
        return fail("counts", NULL);
    err = es_reentrant_free(session);
    es_thread_cleanup();
    if (err) {
        fprintf(stderr, "datastore_session: %s\n", err->message);
        es_error_free(err);
        return 1;
    }
    return 0;
}
