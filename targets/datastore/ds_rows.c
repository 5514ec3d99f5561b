/* ds_rows.c — drives libdatastore one function at a time, for the tests of the
 * generated protocol wrappers (tests/integration/test_protocol_rows.sh).
 *   ds_rows DIR FUNC   call FUNC once (after what it needs) and print
 *                      "FUNC ret=VALUE errno=NAME|0": an injected failure must
 *                      print what the spec says, as a real failure would
 *   ds_rows DIR leaks  leave one handle of each kind and form unreleased:
 *                      a reentrant session entered twice and left once, a txn
 *                      from an out-parameter, lease 3 of one session (while
 *                      the same number is leased and given back in another) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "datastore.h"

static void show(const char *fn, long ret, int is_ptr, int e)
{
    if (is_ptr)
        printf("%s ret=%s errno=%d\n", fn, ret ? "ptr" : "NULL", ret ? 0 : e);
    else
        printf("%s ret=%ld errno=%d\n", fn, ret, ret < 0 ? e : 0);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    ds_store *st = ds_connect(argv[1]);
    if (!st)
        return 1;
    const char *f = argv[2];
    if (!strcmp(f, "leaks")) {
        ds_session *a = ds_login(st, "alice", "secret");            /* FS-EXPECT leak session */
        ds_session *a2 = ds_login_shared(st, "alice", "secret");
        ds_txn *t = NULL, *t2 = NULL;
        ds_begin(a2, &t);                                           /* FS-EXPECT leak txn */
        ds_begin(a2, &t2);
        ds_abort(t2);
        ds_session *b = ds_login(st, "bob", "secret");
        ds_lease(a, 3);
        ds_lease(b, 3);                                             /* FS-EXPECT leak lease */
        ds_unlease(a, 3);
        ds_logout(a2);                                              /* the inner one: alice stays */
        ds_logout(b);
        ds_disconnect(st);
        return 0;
    }
    errno = 0;
    ds_session *s = !strcmp(f, "ds_login") ? NULL : ds_login(st, "carol", "secret");
    if (!strcmp(f, "ds_login")) {
        s = ds_login(st, "carol", "secret");
        show(f, (long)(s != NULL), 1, errno);
    } else if (!strcmp(f, "ds_login_shared")) {
        ds_session *s2 = ds_login_shared(st, "carol", "secret");
        show(f, (long)(s2 != NULL), 1, errno);
        if (s2) ds_logout(s2);
    } else if (!strcmp(f, "ds_logout")) {
        int r = ds_logout(s);
        show(f, r, 0, errno);
        s = NULL;
    } else if (!strcmp(f, "ds_push")) {
        int r = ds_push(s, "x", "1", 1);
        show(f, r, 0, errno);
    } else if (!strcmp(f, "ds_pull")) {
        char b[4];
        ds_push(s, "x", "1", 1);
        ssize_t r = ds_pull(s, "x", b, sizeof b);
        show(f, (long)r, 0, errno);
    } else if (!strcmp(f, "ds_begin") || !strcmp(f, "ds_txn_push") || !strcmp(f, "ds_commit") ||
               !strcmp(f, "ds_abort")) {
        ds_txn *t = NULL;
        int r = ds_begin(s, &t);
        if (!strcmp(f, "ds_begin")) {
            show(f, r, 0, errno);
        } else if (!strcmp(f, "ds_txn_push")) {
            int r2 = ds_txn_push(t, "y", "2", 1);
            show(f, r2, 0, errno);
        } else {
            int r2 = !strcmp(f, "ds_commit") ? ds_commit(t) : ds_abort(t);
            show(f, r2, 0, errno);
            t = NULL;
        }
        if (t) ds_abort(t);
    } else if (!strcmp(f, "ds_lease")) {
        int r = ds_lease(s, 5);
        show(f, r, 0, errno);
        if (r == 0) ds_unlease(s, 5);
    } else if (!strcmp(f, "ds_connect")) {
        ds_store *s2 = ds_connect(argv[1]);
        show(f, (long)(s2 != NULL), 1, errno);
        if (s2) ds_disconnect(s2);
    } else {
        fprintf(stderr, "ds_rows: unknown function %s\n", f);
        return 2;
    }
    if (s) ds_logout(s);
    ds_disconnect(st);
    return 0;
}
