/*
 * datastore_session.c — a login session reused by nested calls (rule 14, 16).
 *
 * push() and pull() each need a logged-in session; called alone they log in
 * and out themselves. A batch runs many of them inside one outer session:
 * the reentrant wrapper makes the inner enters only count, so the batch logs
 * in once and out once. The session's stack is published as the current
 * stack (a context variable), so deep code registers cleanups on it.
 */
#include <errno.h>
#include <stdio.h>

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
static es_reentrant session = ES_REENTRANT_INIT(&session_type, &store);

static es_error *remove_temp(void *arg)
{
    ((datastore *)arg)->temp_files_removed++;
    return NULL;
}

/* deep code: registers a cleanup on whatever stack is current */
static int stage_temp_file(datastore *ds)
{
    return es_callback(es_current(), remove_temp, ds);
}

static es_error *op(const char *what, int *counter)
{
    es_stack *st = es_new();
    es_token *tok = NULL;
    datastore *ds = NULL;
    es_error *err;

    if (!st)
        return es_error_new(ENOMEM, "%s: no stack", what);
    err = es_enter(st, &es_reentrant_type, &session, (void **)&ds);
    if (err)
        goto out;
    tok = es_set_current(st);
    if (!tok) {
        err = es_error_new(ENOMEM, "%s: set current", what);
        goto out;
    }
    if (stage_temp_file(ds) != 0) {
        err = es_error_new(ENOMEM, "%s: stage", what);
        goto out;
    }
    (*counter)++;
out:
    if (tok) {
        es_reset_current(tok);
        es_token_free(tok);
    }
    err = es_error_chain(es_close(st), err);
    es_free(st);
    return err;
}
static es_error *push(void) { return op("push", &store.pushes); }
static es_error *pull(void) { return op("pull", &store.pulls); }

int main(void)
{
    es_error *err = NULL;
    es_stack *batch;
    void *ds;

    printf("a lone push:\n");
    err = push();
    if (err || store.logins != 1 || store.logouts != 1) {
        fprintf(stderr, "lone push failed: %s\n", err ? err->message : "wrong login count");
        es_error_free(err);
        es_thread_cleanup();
        return 1;
    }

    printf("a batch of 5 pushes and a pull in one session:\n");
    batch = es_new();
    err = es_enter(batch, &es_reentrant_type, &session, &ds);
    for (int i = 0; i < 5 && !err; i++)
        err = push();
    if (!err)
        err = pull();
    err = es_error_chain(es_close(batch), err);
    es_free(batch);
    if (err) {
        fprintf(stderr, "batch failed: %s\n", err->message);
        es_error_free(err);
        es_thread_cleanup();
        return 1;
    }
    printf("logins %d, logouts %d, pushes %d, pulls %d, temp files removed %d\n", store.logins,
           store.logouts, store.pushes, store.pulls, store.temp_files_removed);
    es_thread_cleanup();
    /* the batch logged in once (2 in total with the lone push) */
    return store.logins == 2 && store.logouts == 2 && store.pushes == 6 && store.pulls == 1 &&
                   store.temp_files_removed == 7 && session.depth == 0
               ? 0
               : 1;
}
