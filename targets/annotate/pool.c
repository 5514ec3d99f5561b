/* pool.c — a connection pool written with static inline helpers, annotated
 * with faultstack/annotate.h (no exported function a spec could wrap).
 * Planted bug (without -DFS_FIXED): when the second pool_get fails, the
 * first connection is not put back. Outside faultstack the annotations do
 * nothing: the program prints the same and exits 0.
 *   pool_annotated        the bug      pool_annotated_ok   the fix */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "faultstack/annotate.h"

struct conn { int id; int in_use; };
struct pool { struct conn conns[4]; };

static inline struct conn *pool_get(struct pool *p)
{
    if (FAULTSTACK_FAULT("pool_get")) {                /* FS-EXPECT fault point */
        errno = EAGAIN;
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        if (!p->conns[i].in_use) {
            p->conns[i].in_use = 1;
            FAULTSTACK_ACQUIRE("conn", &p->conns[i]);    /* FS-EXPECT acquire */
            return &p->conns[i];
        }
    errno = EAGAIN;
    return NULL;
}

static inline void pool_put(struct pool *p, struct conn *c)
{
    (void)p;
    FAULTSTACK_RELEASE("conn", c);
    c->in_use = 0;
}

static inline int conn_send(struct conn *c, int v)
{
    FAULTSTACK_USE("conn", c);
    return v + c->id;
}

int main(void)
{
    static struct pool pool = { { { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 } } };
    struct conn *a = pool_get(&pool);
    if (!a) {
        perror("pool_get");
        return 1;
    }
    struct conn *b = pool_get(&pool);                    /* FS-FAULT */
    if (!b) {
        perror("pool_get");
#ifdef FS_FIXED
        pool_put(&pool, a);
#endif
        return 1;
    }
    int sum = conn_send(a, 10) + conn_send(b, 20);
    pool_put(&pool, b);
    pool_put(&pool, a);
    printf("sum %d\n", sum);
    return 0;
}
