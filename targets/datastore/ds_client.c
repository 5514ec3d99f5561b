/* ds_client.c — a test driver of libdatastore: one batch (log in, re-enter the
 * session, lease a blob, push through a transaction, push and pull, log out).
 * Built once correct (ds_client) and once per planted protocol bug
 * (-DDS_BUG=N, ds_client_bugN), each only on an error path:
 *   1  the session is not logged out when ds_push fails
 *   2  a logout without login: the cleanup logs out when ds_login failed
 *   3  the session is used after logout: the error status is pushed after it
 *   4  a double logout on an error path
 * FS-EXPECT comments mark the lines the findings must name. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datastore.h"

#ifndef DS_BUG
#define DS_BUG 0
#endif

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s STORE-DIR\n", argv[0]);
        return 2;
    }
    /* a store of its own: the runs of a sweep run at the same time */
    char dir[4096];
    mkdir(argv[1], 0700);
    snprintf(dir, sizeof dir, "%s/%d", argv[1], (int)getpid());
    ds_store *st = ds_connect(dir);
    if (!st) {
        perror("ds_connect");
        return 1;
    }
    int rc = 1;
    ds_session *s = ds_login(st, "alice", "secret");     /* FS-EXPECT session-acquire */
    if (!s) {
        perror("ds_login");
#if DS_BUG == 2
        ds_logout(s);                                     /* FS-EXPECT bug2 */
#endif
        goto out;
    }
    ds_session *batch = ds_login_shared(st, "alice", "secret");   /* the same session, nested */
    if (!batch) {
        perror("ds_login_shared");
        goto logout;
    }
    if (ds_lease(batch, 7) != 0) {
        fprintf(stderr, "ds_lease failed\n");
        goto logout_batch;
    }
    ds_txn *t;
    if (ds_begin(batch, &t) != 0) {
        fprintf(stderr, "ds_begin failed\n");
        goto unlease;
    }
    if (ds_txn_push(t, "a", "hello", 5) != 0) {
        fprintf(stderr, "ds_txn_push failed\n");
        ds_abort(t);
        goto unlease;
    }
    if (ds_commit(t) != 0) {
        fprintf(stderr, "ds_commit failed\n");
        goto unlease;
    }
    if (ds_push(batch, "b", "world", 5) != 0) {
        fprintf(stderr, "ds_push failed\n");
#if DS_BUG == 1
        ds_unlease(batch, 7);
        ds_disconnect(st);
        return 1;                                         /* the session stays logged in */
#endif
        goto unlease;
    }
    char buf[16];
    if (ds_pull(batch, "b", buf, sizeof buf) != 5 || memcmp(buf, "world", 5) != 0) {
        fprintf(stderr, "ds_pull failed\n");
        goto unlease;
    }
    rc = 0;
unlease:
    ds_unlease(batch, 7);
logout_batch:
    ds_logout(batch);                                     /* the inner logout: the session goes on */
logout:
    if (ds_logout(s) != 0)
        perror("ds_logout");
#if DS_BUG == 3
    if (rc)
        ds_push(s, "status", "failed", 6);                /* FS-EXPECT bug3 */
#endif
#if DS_BUG == 4
    if (rc)
        ds_logout(s);                                     /* FS-EXPECT bug4 */
#endif
out:
    ds_disconnect(st);
    return rc;
}
