/* datastore.h — a small client for a data store: push and pull byte blobs by
 * identifier, each operation inside an authenticated session.
 *
 * The "remote" store is a directory (one file per blob), so every operation
 * makes real system calls that can fail. It is faultstack's example of a
 * user-defined protocol (datastore.spec):
 *   session  ds_login / ds_login_shared (reentrant)  ...  ds_logout
 *   txn      ds_begin (out-parameter)                 ...  ds_commit OR ds_abort
 *   lease    ds_lease (the handle is a blob number, per session) ... ds_unlease
 * Errors: functions returning a pointer return NULL and set errno; functions
 * returning int return 0 (or a count) on success and a negative errno value on
 * failure (errno untouched), except ds_logout (-1 and errno, like close: the
 * session ends even when it fails). */
#ifndef DATASTORE_H
#define DATASTORE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct ds_store ds_store;
typedef struct ds_session ds_session;
typedef struct ds_txn ds_txn;

/* Connect to the store in directory dir (created if missing). NULL + errno. */
ds_store *ds_connect(const char *dir);
void ds_disconnect(ds_store *st);

/* Log in: NULL and errno (EACCES: wrong key, ENOMEM...). */
ds_session *ds_login(ds_store *st, const char *user, const char *key);
/* Log in, or re-enter the session this user already has open (the same
 * pointer, its count raised): nested batches log in once. */
ds_session *ds_login_shared(ds_store *st, const char *user, const char *key);
/* Leave the session; the outermost logout of a shared session ends it.
 * Returns 0, or -1 with errno (EINVAL: not a logged-in session; EIO: the
 * store could not record the logout — the session is ended anyway). */
int ds_logout(ds_session *s);

/* Store / fetch a blob. 0 / bytes read, or -errno (-EINVAL: bad session). */
int ds_push(ds_session *s, const char *id, const void *data, size_t n);
ssize_t ds_pull(ds_session *s, const char *id, void *buf, size_t cap);

/* A transaction: pushes made through it appear at commit, vanish at abort. */
int ds_begin(ds_session *s, ds_txn **out);
int ds_txn_push(ds_txn *t, const char *id, const void *data, size_t n);
int ds_commit(ds_txn *t);
int ds_abort(ds_txn *t);

/* Lease blob number no for this session (exclusive until ds_unlease). */
int ds_lease(ds_session *s, int no);
int ds_unlease(ds_session *s, int no);

#endif
