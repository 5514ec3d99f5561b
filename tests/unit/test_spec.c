/* test_spec.c — the protocol spec parser (harness/spec/spec.c): good specs
 * give the functions, handles, failures and defaults the format promises
 * (docs/protocol-spec.md); bad ones give "FILE:LINE:COL: expected ..." at the
 * right place. Also: libc.spec, the built-in spec, parses and every row of it
 * is one of the preload's functions with the same kind, role and errno; the
 * built-in `test EXPR` attribute (libc_rows' expressions) is required on every
 * injectable row of a built-in spec and refused in users' specs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "funcs.h"
#include "spec.h"

static struct fs_spec *parse_ok(const char *text, int line)
{
    struct fs_spec *s = NULL;
    char err[512];
    if (fs_spec_parse_text("t.spec", text, 0, &s, err, sizeof err) != 0) {
        CHECK_FAIL_AT(line, "expected the spec to parse, got: %s", err);
        return NULL;
    }
    return s;
}

/* The error must start with "t.spec:LINE:COL: expected" and contain what. */
static void parse_bad(const char *text, int eline, int ecol, const char *what, int line)
{
    struct fs_spec *s = NULL;
    char err[512], want[64];
    if (fs_spec_parse_text("t.spec", text, 0, &s, err, sizeof err) == 0) {
        CHECK_FAIL_AT(line, "expected an error at %d:%d (%s), the spec parsed", eline, ecol, what);
        fs_spec_free(s);
        return;
    }
    snprintf(want, sizeof want, "t.spec:%d:%d: expected", eline, ecol);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
        CHECK_FAIL_AT(line, "expected '%s...%s...', got '%s'", want, what, err);
    else
        g_checks++;
}

static const struct fs_spec_func *fn(const struct fs_spec *s, const char *name)
{
    for (int i = 0; s && i < s->nfuncs; i++)
        if (!strcmp(s->funcs[i].name, name))
            return &s->funcs[i];
    return NULL;
}

static const char *const good =
    "# a comment\n"
    "faultstack-protocol 1\n"
    "protocol ds\n"
    "library libdatastore.so.1\n"
    "\n"
    "kind session reentrant\n"
    "  acquire ds_session *ds_login(ds_store *st, const char *user, const char *key)\n"
    "    fail return NULL errno eacces   # any case\n"
    "  release int ds_logout(ds_session *s)\n"
    "    fail return -1 errno EIO\n"
    "  use int ds_push(ds_session *s, const char *id, const void *data, size_t n);\n"
    "    fail return -5\n"
    "kind txn\n"
    "  acquire int ds_begin(ds_session *s, ds_txn **out)\n"
    "    handle out 2\n"
    "    fail return -12\n"
    "    ok return == 0\n"
    "  release int ds_commit(ds_txn *t)\n"
    "    still-releases no\n"
    "  release int ds_abort(ds_txn *t)\n"
    "kind lease\n"
    "  acquire int ds_lease(ds_session *s, int no)\n"
    "    handle arg 2 scope 1\n"
    "    fail returns-errno EBUSY\n"
    "  release void ds_unlease(ds_session *s, int no)\n"
    "    handle arg 2 scope 1\n"
    "kind none\n"
    "  use int ds_ping(void (*cb)(ds_session *, int), int fds[2])\n"
    "    fault no\n";

static void test_good(void)
{
    struct fs_spec *s = parse_ok(good, __LINE__);
    if (!s)
        return;
    CHECK(!strcmp(s->name, "ds") && !strcmp(s->library, "libdatastore.so.1"), "name %s lib %s", s->name, s->library);
    CHECK(s->nkinds == 3 && s->nfuncs == 9, "kinds %d funcs %d", s->nkinds, s->nfuncs);
    const struct fs_spec_func *f = fn(s, "ds_login");
    CHECK(f && f->role == FS_SPEC_ACQUIRE && f->handle == FS_SPEC_H_RETURN && f->reentrant, "login: return, reentrant");
    CHECK(f && !strcmp(f->fail_value, "NULL") && f->fail_errno_value == EACCES && !strcmp(f->fail_errno, "EACCES"),
          "login fails with NULL/EACCES (%s %s)", f ? f->fail_value : "?", f ? f->fail_errno : "?");
    CHECK(f && f->ok == FS_SPEC_OK_NE && !strcmp(f->ok_value, "NULL") && f->injectable, "login ok != NULL");
    CHECK(f && f->nparams == 3 && !strcmp(f->params[1].name, "user") && f->ret_pointer, "login params");
    CHECK(f && !strcmp(f->gen_ret, "void *") && !strcmp(f->params[0].gen_decl, "void *st"),
          "opaque pointees become void (%s / %s)", f ? f->gen_ret : "?", f ? f->params[0].gen_decl : "?");
    f = fn(s, "ds_logout");
    CHECK(f && f->handle == FS_SPEC_H_ARG && f->handle_arg == 1 && f->still_releases, "logout: arg 1, releases on failure");
    CHECK(f && f->ok == FS_SPEC_OK_GE, "logout ok >= 0 (a negative failure value)");
    f = fn(s, "ds_push");
    CHECK(f && f->role == FS_SPEC_USE && f->handle_arg == 1 && f->fail_errno_value == 0, "push: use, errno untouched");
    f = fn(s, "ds_begin");
    CHECK(f && f->handle == FS_SPEC_H_OUT && f->handle_arg == 2 && f->ok == FS_SPEC_OK_EQ, "begin: out 2, ok == 0");
    f = fn(s, "ds_commit");
    CHECK(f && !f->still_releases && !strcmp(f->fail_value, "-1"), "commit: still-releases no, default -1");
    f = fn(s, "ds_lease");
    CHECK(f && f->handle == FS_SPEC_H_ARG && f->handle_arg == 2 && f->scope_arg == 1, "lease: arg 2 scope 1");
    CHECK(f && f->returns_error && f->fail_errno_value == EBUSY && f->ok == FS_SPEC_OK_EQ, "lease returns EBUSY");
    f = fn(s, "ds_unlease");
    CHECK(f && f->ret_void && !f->can_fail && !f->injectable, "void unlease never fails");
    f = fn(s, "ds_ping");
    CHECK(f && f->kind == -1 && !f->injectable && f->nparams == 2, "ping: no kind, fault no");
    CHECK(f && !strcmp(f->params[0].name, "cb") && !strcmp(f->params[1].name, "fds") && f->params[1].pointer,
          "function pointer and array parameter names");
    fs_spec_free(s);

    /* a header makes types verbatim; the name defaults to the file's stem */
    s = parse_ok("library libx.so\nheader \"x.h\"\nkind k\n acquire x_t x_get(x_id id)\n"
                 "  handle return\n  fail return X_BAD\n release void x_put(x_t h)\n", __LINE__);
    if (s) {
        f = fn(s, "x_get");
        CHECK(!strcmp(s->name, "t") && f && !strcmp(f->gen_ret, "x_t") && !strcmp(f->fail_value, "X_BAD") &&
              f->ok == FS_SPEC_OK_NE, "header: verbatim types, named failure value, ok != X_BAD");
        fs_spec_free(s);
    }
}

static void test_bad(void)
{
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n frobnicate\n", 4, 2, "directive", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int)\n release void g(int a)\n", 3, 16, "parameter name", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a\n", 3, 21, "')'", __LINE__);
    parse_bad("library l.so\nkind k\n acquire f(int a)\n", 3, 10, "return type", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n  fail return NULL\n release void g(int a)\n",
              4, 15, "expected a number", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n  fail return -1 errno EWHAT\n release void g(int a)\n",
              4, 24, "errno name", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n  handle out 1\n release void g(int a)\n",
              3, 2, "pointer", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n  handle arg 3\n release void g(int a)\n",
              3, 2, "at most 1", __LINE__);
    parse_bad("library l.so\nkind k\n acquire void f(int a)\n release void g(int a)\n", 3, 2, "handle", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n", 2, 1, "at least one acquire and one release", __LINE__);
    parse_bad("kind k\n acquire int f(int a)\n release void g(int a)\n", 3, 1, "library", __LINE__);
    parse_bad("library l.so\nkind fd\n", 2, 6, "built-in", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n release void f(int a)\n", 4, 2, "once", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a, ...)\n release void g(int a)\n", 3, 2, "variadic", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(x_id a)\n release void g(int a)\n", 3, 16, "header", __LINE__);
    parse_bad("library l.so\n handle return\n", 2, 2, "after a function line", __LINE__);
    parse_bad("faultstack-protocol 2\nlibrary l.so\n", 1, 21, "version 1", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n  still-releases yes\n release void g(int a)\n",
              4, 3, "release function only", __LINE__);
    parse_bad("library l.so\nkind k\n acquire int f(int a)\n transfer int h(int a)\n release void g(int a)\n",
              4, 2, "libc's own spec", __LINE__);
}

/* `test EXPR`: the rest of the line, for built-in specs only; an injectable
 * built-in row without one is an error naming the row. */
static void test_test_attr(void)
{
    const char *ok =
        "library libc.so.6\n"
        "kind fd track fd\n"
        "acquire int open(const char *path, int flags, ...)\n"
        "    custom fd\n"
        "    fail return -1 errno EMFILE\n"
        "    test ({ int x = 0; open(\"/dev/null\", O_RDONLY | x); })   # a comment\n"
        "release int close(int fd)\n"
        "    custom fd\n"
        "    fault no\n";
    struct fs_spec *s = NULL;
    char err[512];
    if (fs_spec_parse_text("t.spec", ok, 1, &s, err, sizeof err) != 0) {
        CHECK(0, "a built-in spec with a test line parses: %s", err);
    } else {
        CHECK(!strcmp(fn(s, "open")->test, "({ int x = 0; open(\"/dev/null\", O_RDONLY | x); })"),
              "test of open: '%s'", fn(s, "open")->test);
        CHECK(fn(s, "close")->test[0] == '\0', "close (not injectable) has no test: '%s'", fn(s, "close")->test);
        fs_spec_free(s);
    }
    /* the injectable row without a test: an error at its line, naming it */
    const char *missing =
        "library libc.so.6\n"
        "kind fd track fd\n"
        "acquire int dup(int fd)\n"
        "    fail return -1 errno EMFILE\n"
        "release int close(int fd)\n"
        "    custom fd\n"
        "    fault no\n";
    s = NULL;
    if (fs_spec_parse_text("t.spec", missing, 1, &s, err, sizeof err) == 0) {
        CHECK(0, "an injectable built-in row without `test` is refused");
        fs_spec_free(s);
    } else {
        CHECK(!strncmp(err, "t.spec:3:1: expected a `test EXPR` line for dup", 47), "error: %s", err);
    }
    /* a test that does not call the row's function; an empty one */
    s = NULL;
    CHECK(fs_spec_parse_text("t.spec", "library libc.so.6\nkind none\nuse int fsync(int fd)\n  test sync()\n",
                             1, &s, err, sizeof err) != 0 && strstr(err, "t.spec:4:8: expected the test expression to call fsync"),
          "a test not calling the function: %s", err);
    fs_spec_free(s);
    s = NULL;
    CHECK(fs_spec_parse_text("t.spec", "library libc.so.6\nkind none\nuse int fsync(int fd)\n  test  # none\n",
                             1, &s, err, sizeof err) != 0 && strstr(err, "t.spec:4:9: expected a C expression calling fsync"),
          "an empty test: %s", err);
    fs_spec_free(s);
    /* users' specs have no test attribute */
    parse_bad("library l.so\nkind none\n use int f(int a)\n  test f(1)\n", 4, 3, "found 'test'", __LINE__);
}

/* libc.spec is the preload's table: same rows, kinds, roles, errno. */
static void test_libc_spec(void)
{
    struct fs_spec *s = NULL;
    char err[512];
    if (fs_spec_parse_file(FS_LIBC_SPEC, 1, &s, err, sizeof err) != 0) {
        CHECK(0, "libc.spec parses: %s", err);
        return;
    }
    CHECK(s->nfuncs == FS_F_COUNT, "libc.spec has %d rows, the table %d", s->nfuncs, FS_F_COUNT);
    for (int i = 0; i < s->nfuncs && i < FS_F_COUNT; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        const struct fs_func_info *t = &fs_funcs[i];
        const char *kind = f->kind >= 0 ? s->kinds[f->kind].name : "none";
        CHECK(!strcmp(f->name, t->name) && !strcmp(kind, fs_kind_names[t->kind]) &&
              f->injectable == t->injectable && (!t->injectable || f->fail_errno_value == t->err),
              "row %d: %s %s inj %d err %d vs table %s %s %d %d", i, f->name, kind, f->injectable,
              f->fail_errno_value, t->name, fs_kind_names[t->kind], t->injectable, t->err);
        CHECK(!f->injectable || strstr(f->test, f->name), "row %d: %s has a test calling it: '%s'", i, f->name,
              f->test);
    }
    fs_spec_free(s);
}

/* libc.spec's alias / interposes lines: parsed, checked against the rows. */
static void test_other_symbols(void)
{
    static const char *const base = "library libc.so.6\nkind fd track fd\n acquire int dup(int fd)\n"
                                     "  test dup(0)\n release int close(int fd)\n  custom fd\n  fault no\n";
    char text[1024], err[512];
    struct fs_spec *s = NULL;
    snprintf(text, sizeof text, "%salias __dup_chk dup\ninterposes exit \"the end\"\n", base);
    int rc = fs_spec_parse_text("l.spec", text, 1, &s, err, sizeof err);
    CHECK(rc == 0 && s && s->nother == 2 && !strcmp(s->other[0].alias_of, "dup") && !strcmp(s->other[1].why, "the end"),
          "alias and interposes parsed (%s)", rc ? err : "ok");
    fs_spec_free(s);
    snprintf(text, sizeof text, "%salias __x_chk nosuch\n", base);
    rc = fs_spec_parse_text("l.spec", text, 1, &s, err, sizeof err);
    CHECK(rc != 0 && strstr(err, "l.spec:8:1: expected alias __x_chk to name a row"), "alias of no row: %s", err);
    snprintf(text, sizeof text, "%sinterposes dup \"twice\"\n", base);
    rc = fs_spec_parse_text("l.spec", text, 1, &s, err, sizeof err);
    CHECK(rc != 0 && strstr(err, "l.spec:8:1: expected each interposed symbol once"), "a row listed again: %s", err);
    snprintf(text, sizeof text, "%salias __dup_chk dup\n", base);
    rc = fs_spec_parse_text("u.spec", text, 0, &s, err, sizeof err);
    CHECK(rc != 0 && strstr(err, "u.spec:1:1:") == NULL && strstr(err, "expected"), "users' specs have no alias: %s", err);
}

int main(void)
{
    test_other_symbols();
    test_good();
    test_bad();
    test_test_attr();
    test_libc_spec();
    return CHECK_DONE("test_spec");
}
