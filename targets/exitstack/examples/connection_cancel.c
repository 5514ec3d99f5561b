/*
 * connection_cancel.c — a lost connection cancels the scope (rules 17-18).
 *
 * A worker streams records over a "connection" inside an exit stack whose
 * cleanups (flush the buffer, send goodbye, close the socket) all fail once
 * the peer is gone. A watchdog thread notices the loss and calls
 * es_cancel(); the worker's es_check() sees it on its next iteration and
 * unwinds. The caller gets one group error: the cancellation, then the
 * cleanup errors chained in the order they happened — nothing is lost.
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
    es_error *err, *in_flight = NULL;
    int ok;

    atomic_init(&c.alive, 1);
    atomic_init(&c.sent, 0);
    c.scope = es_new();
    if (!c.scope) {
        perror("es_new");
        return 1;
    }
    /* acquired in this order, released in reverse */
    if (es_callback(c.scope, close_socket, &c) || es_callback(c.scope, send_goodbye, &c) ||
        es_callback(c.scope, flush_buffer, &c)) {
        perror("es_callback");
        es_error_free(es_close(c.scope));   /* runs the callbacks registered so far */
        es_free(c.scope);
        return 1;
    }
    if (pthread_create(&th, NULL, watchdog, &c) != 0) {
        perror("pthread_create");
        es_error_free(es_close(c.scope));
        es_free(c.scope);
        return 1;
    }
    for (;;) { /* the worker: checks its scope on every record */
        int code = es_check(c.scope);
        if (code) {
            in_flight = es_error_new(code, "stream interrupted");
            break;
        }
        atomic_fetch_add(&c.sent, 1);
    }
    pthread_join(th, NULL);
    err = es_exit(c.scope, in_flight, NULL);
    es_free(c.scope);

    print_error(err, 0);
    /* group [cancellation, close <- goodbye <- flush <- in-flight error]:
     * the close ran last, so its error is outermost in the chain */
    const es_error *ch = err && err->nmembers == 2 ? err->members[1] : NULL;
    ok = ch && err->members[0]->code == ECONNRESET && es_error_depth(ch) == 4 &&
         ch->code == EBADF && strstr(ch->context->message, "goodbye") &&
         strstr(ch->context->context->message, "flush") &&
         strstr(ch->context->context->context->message, "interrupted");
    es_error_free(err);
    return ok ? 0 : 1;
}
