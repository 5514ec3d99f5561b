/*
 * connection_cancel.c — a lost connection cancels the scope (rules 17-18).
 *
 * A worker streams records over a "connection" inside an exit stack whose
 * cleanups (flush the buffer, send goodbye, close the socket) all fail once
 * the peer is gone. A watchdog thread notices the loss and calls
 * es_cancel(); the worker's es_check() sees it on its next iteration and
 * unwinds. The caller gets one group error: the cancellation, then the
 * cleanup errors chained in the order they happened — nothing is lost.
 * es_reserve() up front makes the three registrations unable to fail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitstack.h"

typedef struct conn {
    atomic_int alive;
    atomic_long sent;
    es_stack *scope;
} conn;

static es_error *close_socket(void *arg)
{
    conn *c = arg;
    return atomic_load(&c->alive) ? NULL : es_error_new(EBADF, "close: socket already reset");
}
static es_error *send_goodbye(void *arg)
{
    conn *c = arg;
    return atomic_load(&c->alive) ? NULL : es_error_new(EPIPE, "goodbye: broken pipe");
}
static es_error *flush_buffer(void *arg)
{
    conn *c = arg;
    return atomic_load(&c->alive) ? NULL : es_error_new(EPIPE, "flush: 3 records unsent");
}

static void *watchdog(void *arg)
{
    conn *c = arg;
    while (atomic_load(&c->sent) < 1000) /* the peer vanishes mid-stream */
        usleep(100);
    atomic_store(&c->alive, 0);
    es_cancel(c->scope, es_error_new(ECONNRESET, "connection lost after %ld records",
                                     atomic_load(&c->sent)));
    return NULL;
}

static void print_error(const es_error *e, int indent)
{
    for (; e; e = e->context) {
        printf("%*s[%s] %s\n", indent, "", strerror(e->code), e->message ? e->message : "");
        for (size_t i = 0; i < e->nmembers; i++)
            print_error(e->members[i], indent + 4);
        if (e->context)
            printf("%*s(while handling)\n", indent + 2, "");
    }
}

int main(void)
{
    conn c;
    pthread_t th;
    es_error *err;
    int ok, rc;

    atomic_init(&c.alive, 1);
    atomic_init(&c.sent, 0);
    err = es_new(&c.scope);
    if (!err)
        err = es_reserve(c.scope, 3); /* the three registrations below cannot fail */
    if (err) {
        fprintf(stderr, "connection_cancel: %s\n", err->message);
        es_error_free(es_error_chain(es_free(c.scope), err));
        return 1;
    }
    /* acquired in this order, released in reverse; reserved: no error to check */
    (void)es_callback(c.scope, close_socket, &c);
    (void)es_callback(c.scope, send_goodbye, &c);
    (void)es_callback(c.scope, flush_buffer, &c);
    rc = pthread_create(&th, NULL, watchdog, &c);
    if (rc != 0) {
        fprintf(stderr, "connection_cancel: pthread_create: %s\n", strerror(rc));
        es_error_free(es_free(c.scope));
        return 1;
    }
    while (!es_check(c.scope)) /* the worker: checks its scope on every record */
        atomic_fetch_add(&c.sent, 1);
    pthread_join(th, NULL);
    err = es_free(c.scope); /* unwinds with the in-flight cancellation */

    print_error(err, 0);
    if (err && err->code == ENOMEM) /* out of memory while raising: reported, not ok */
        fprintf(stderr, "connection_cancel: out of memory while unwinding\n");
    /* group [cancellation, close <- goodbye <- flush]: the close ran last, so
     * its error is outermost in the chain */
    const es_error *ch = err && err->nmembers == 2 ? err->members[1] : NULL;
    ok = ch && err->members[0]->code == ECONNRESET && es_error_depth(ch) == 3 &&
         ch->code == EBADF && ch->context->message && strstr(ch->context->message, "goodbye") &&
         ch->context->context->message && strstr(ch->context->context->message, "flush");
    if (!ok)
        fprintf(stderr, "connection_cancel: not the expected group of errors\n");
    es_error_free(err);
    return ok ? 0 : 1;
}
