/* spec.h — protocol spec files: parse them, check them, generate wrappers.
 *
 * A spec describes resource protocols ("kinds": session, txn, lease, and libc's
 * own fd, file, memory...) as C prototypes with a few attributes: which
 * functions acquire, release or use a handle, where the handle is, how each
 * function fails. The format is documented in docs/protocol-spec.md and by
 * `faultstack protocol --help`. The same parser reads libc's table
 * (harness/spec/libc.spec), from which the preload's function table and its
 * regular wrappers are generated, and users' specs, from which
 * `faultstack protocol build` generates a protocol library.
 *
 * Ownership: fs_spec_parse returns a spec the caller frees with fs_spec_free.
 * Errors: "FILE:LINE:COL: expected ..." messages in errbuf; the functions
 * return -1 (parse) or NULL and never print. */
#ifndef FS_SPEC_H
#define FS_SPEC_H

#include <stddef.h>
#include <stdio.h>

#define FS_SPEC_VERSION 1           /* the format version a spec may declare ("faultstack-protocol 1") */
#define FS_SPEC_MAX_PARAMS 16
#define FS_SPEC_NAME_MAX 64
#define FS_SPEC_KIND_MAX 32

enum fs_spec_role { FS_SPEC_ACQUIRE, FS_SPEC_RELEASE, FS_SPEC_USE, FS_SPEC_TRANSFER };
enum fs_spec_handle { FS_SPEC_H_NONE, FS_SPEC_H_RETURN, FS_SPEC_H_OUT, FS_SPEC_H_ARG };
enum fs_spec_ok { FS_SPEC_OK_ALWAYS, FS_SPEC_OK_NE, FS_SPEC_OK_EQ, FS_SPEC_OK_GE, FS_SPEC_OK_GT };

struct fs_spec_param {
    char decl[192];             /* the declaration as written ("const char *user") */
    char gen_decl[192];         /* as the generated code declares it (opaque pointees: void) */
    char name[FS_SPEC_NAME_MAX];
    int pointer;                /* a pointer (or array) */
};

struct fs_spec_func {
    char name[FS_SPEC_NAME_MAX];
    char ret[128];              /* return type as written */
    char gen_ret[128];          /* as the generated code declares it */
    int ret_void, ret_pointer;
    int nparams;
    struct fs_spec_param params[FS_SPEC_MAX_PARAMS];
    int variadic;
    enum fs_spec_role role;
    int kind;                   /* index into spec->kinds, -1: none (a use step of no kind) */
    enum fs_spec_handle handle;
    int handle_arg;             /* 1-based argument of FS_SPEC_H_OUT / FS_SPEC_H_ARG */
    int out_count;              /* FS_SPEC_H_OUT: handles written (pipe's int[2]: 2) */
    int scope_arg;              /* 1-based argument the handle is scoped to, 0: none */
    int can_fail;               /* 0: "fail never" (void functions, tracked only) */
    int injectable;             /* a fault point (can_fail and not "fault no") */
    char fail_value[64];        /* C expression returned by an injected failure */
    char fail_errno[32];        /* errno name set by an injected failure, "" = none */
    int fail_errno_value;       /* its value (0: none) */
    int returns_error;          /* "fail returns-errno": the error number is the return value */
    enum fs_spec_ok ok;         /* success test of a real call's return value */
    char ok_value[64];
    int still_releases;         /* release: a failed (or injected) release releases anyway */
    int reentrant;              /* acquire: a live handle acquired again is counted */
    char custom[64];            /* libc spec: the body is hand-written (file tag, e.g. "fd") */
    char size[128];             /* memory kinds: bytes acquired (C expression over params) */
    char doc[128];              /* the failure as `faultstack functions` prints it */
    char test[512];             /* libc spec: a C expression calling the function with valid
                                 * arguments, evaluating to its return value (`test EXPR`; the
                                 * generated libc_rows driver runs it); required on injectable rows */
    int line, col;
};

struct fs_spec_kind {
    char name[FS_SPEC_KIND_MAX];
    char track[16];             /* libc spec: built-in tracking (fd, stream, memory, ...); "" = handle */
    int reentrant;
    int line;
};

struct fs_spec {
    char path[512];
    char name[64];              /* the protocol's name: "protocol NAME", else the file's stem */
    char library[256];          /* soname or path of the library the functions live in */
    int nheaders;
    char headers[32][160];       /* as written, with quotes or brackets */
    int nkinds;
    struct fs_spec_kind *kinds;
    int nfuncs;
    struct fs_spec_func *funcs;
    /* libc's spec: other symbols the preload interposes, each with why it has
     * no row: `alias NAME FUNC` (counted as FUNC: fortified variants, fcntl64)
     * or `interposes NAME "WHY"` (process lifecycle, signals, threads). */
    int nother;
    struct fs_spec_other { char name[FS_SPEC_NAME_MAX]; char alias_of[FS_SPEC_NAME_MAX]; char why[160]; int line; } *other;
};

/* Parse a spec from text (path: for messages). builtin: 1 for libc's own
 * spec, which may use the built-in kinds and attributes (track, custom, size,
 * doc, test; every injectable row needs a `test`); users' specs may not. Returns 0 and *out, or -1 with errbuf set to
 * "PATH:LINE:COL: expected ..." (one line). */
int fs_spec_parse_text(const char *path, const char *text, int builtin, struct fs_spec **out,
                       char *errbuf, size_t errlen);
/* Read and parse a file (a read error is reported as "PATH: ..."). */
int fs_spec_parse_file(const char *path, int builtin, struct fs_spec **out, char *errbuf, size_t errlen);
void fs_spec_free(struct fs_spec *s);

const char *fs_spec_role_name(enum fs_spec_role r);    /* "acquire", ... */
int fs_spec_kind_builtin(const char *name);            /* fd, file, dir, memory, mmap, lock, none */

/* Check that every function of the spec is exported by its library: the
 * library is found (its path as given, next to the spec, in the directories
 * of libpath (':'-separated, may be NULL), LD_LIBRARY_PATH, the system
 * directories), and its dynamic symbol table (read with elfutils' libelf)
 * defines each name as a function. Returns 0, or -1 with a message naming the
 * missing function (with its spec line) or the library that was not found.
 * found (may be NULL) receives the library's path. */
int fs_spec_check_exports(const struct fs_spec *s, const char *libpath, char *found, size_t foundlen,
                          char *errbuf, size_t errlen);

/* Generate the C source of a protocol library for a user spec. Returns 0, -1
 * on a write error. The source needs no include path: it declares the
 * preload's protocol API (harness/include/faultstack/protocol_api.h) itself. */
int fs_spec_gen_protocol(const struct fs_spec *s, FILE *out);

/* libc's spec: the preload's function table rows (FS_FUNC(...) lines, the
 * format of funcs.h) and the regular wrappers (the wrap.h macros). */
int fs_spec_gen_table(const struct fs_spec *s, FILE *out);
/* Every symbol libc's spec says the preload interposes, one per line:
 * "NAME row", "NAME alias FUNC" or "NAME interposes". */
int fs_spec_gen_symbols(const struct fs_spec *s, FILE *out);
int fs_spec_gen_libc_wrappers(const struct fs_spec *s, FILE *out);

/* libc's spec: the source of the libc_rows driver. `libc_rows NAME...` runs
 * each named row's `test` expression once (in that order) and prints
 * "NAME ret=R errno=E" per row (R: NULL, ptr, MAP_FAILED, a number, or an
 * error name for `fail returns-errno` rows; E: errno's name after the call, or
 * 0); `libc_rows --expect NAME...` prints the line an injected failure gives
 * (the spec's failure value and errno); `libc_rows --list` the injectable rows. */
int fs_spec_gen_libc_tests(const struct fs_spec *s, FILE *out);

#endif
