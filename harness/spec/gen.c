/* gen.c — code generation from a parsed spec (spec.h).
 *
 * Four outputs:
 *   fs_spec_gen_protocol       a user's protocol library: one wrapper per function,
 *                              calling the preload's protocol API (faultstack/protocol_api.h);
 *   fs_spec_gen_table          libc's spec as FS_FUNC rows (funcs.h's table);
 *   fs_spec_gen_libc_wrappers  libc's regular wrappers as wrap.h macro calls (rows
 *                              marked `custom` have hand-written bodies in
 *                              harness/preload/wrap_*_custom.c);
 *   fs_spec_gen_libc_tests     the libc_rows driver: each injectable row's `test`
 *                              expression, run once, its result printed (and the
 *                              line the spec says an injected failure gives). */
#define _GNU_SOURCE
#include "spec.h"

#include <ctype.h>
#include <string.h>

#include "faultstack/protocol_api.h"
#include "plan.h"               /* fs_errno_name */
#include "proto_api_text.h"     /* FS_PROTO_API_TEXT: faultstack/protocol_api.h as a string (generated) */

static int fs_count_stars(const char *decl)
{
    int n = 0;
    for (; *decl; decl++)
        n += *decl == '*' || *decl == '[';
    return n;
}

/* An expression giving the handle as uint64_t. */
static void fs_handle_expr(const struct fs_spec_func *f, int arg, int deref, int index, char *out, size_t cap)
{
    const struct fs_spec_param *p = &f->params[arg - 1];
    if (!deref) {
        snprintf(out, cap, p->pointer ? "(uint64_t)(uintptr_t)(%s)" : "(uint64_t)(%s)", p->name);
        return;
    }
    int ptr_pointee = fs_count_stars(p->gen_decl) >= 2;
    snprintf(out, cap, ptr_pointee ? "(uint64_t)(uintptr_t)(%s)[%d]" : "(uint64_t)(%s)[%d]", p->name, index);
}

static void fs_args(const struct fs_spec_func *f, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < f->nparams; i++)
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? ", " : "", f->params[i].name);
}

static void fs_params(const struct fs_spec_func *f, int gen, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (!f->nparams && !f->variadic) {
        snprintf(out, cap, "void");
        return;
    }
    for (int i = 0; i < f->nparams; i++)
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? ", " : "",
                              gen ? f->params[i].gen_decl : f->params[i].decl);
    if (f->variadic)
        snprintf(out + n, n < cap ? cap - n : 0, ", ...");
}

static const char *fs_ok_op(enum fs_spec_ok ok)
{
    switch (ok) {
    case FS_SPEC_OK_NE: return "!=";
    case FS_SPEC_OK_EQ: return "==";
    case FS_SPEC_OK_GE: return ">=";
    case FS_SPEC_OK_GT: return ">";
    default: return NULL;
    }
}

static void fs_c_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Record the handle(s) of f with API call `op` (acquire/release/use). */
static void fs_emit_track(FILE *out, const struct fs_spec_func *f, const char *op, const char *indent)
{
    char h[256], sc[256] = "0";
    if (f->scope_arg)
        fs_handle_expr(f, f->scope_arg, 0, 0, sc, sizeof sc);
    switch (f->handle) {
    case FS_SPEC_H_RETURN:
        snprintf(h, sizeof h, f->ret_pointer ? "(uint64_t)(uintptr_t)r" : "(uint64_t)r");
        fprintf(out, "%sfsp_api->%s(&c, %s, %s);\n", indent, op, h, sc);
        break;
    case FS_SPEC_H_ARG:
        fs_handle_expr(f, f->handle_arg, 0, 0, h, sizeof h);
        fprintf(out, "%sfsp_api->%s(&c, %s, %s);\n", indent, op, h, sc);
        break;
    case FS_SPEC_H_OUT:
        for (int i = 0; i < f->out_count; i++) {
            fs_handle_expr(f, f->handle_arg, 1, i, h, sizeof h);
            fprintf(out, "%sfsp_api->%s(&c, %s, %s);\n", indent, op, h, sc);
        }
        break;
    case FS_SPEC_H_NONE:
        fprintf(out, "%sfsp_api->%s(&c, 0, 0);\n", indent, op);
        break;
    }
}

static void fs_emit_wrapper(FILE *out, const struct fs_spec *s, const struct fs_spec_func *f, int idx)
{
    char params[2048], args[1024];
    fs_params(f, 1, params, sizeof params);
    fs_args(f, args, sizeof args);
    int is_void = f->ret_void;
    const char *op = f->role == FS_SPEC_ACQUIRE ? "acquire" : f->role == FS_SPEC_RELEASE ? "release" : "use";
    int rel_before = f->role == FS_SPEC_RELEASE && f->still_releases;
    const char *base = strrchr(s->path, '/');
    fprintf(out, "\n/* %s:%d: %s %s */\n", base ? base + 1 : s->path, f->line, fs_spec_role_name(f->role), f->name);
    fprintf(out, "__attribute__((visibility(\"default\"))) %s %s(%s)\n{\n", f->gen_ret, f->name, params);
    fprintf(out, "    static __typeof__(&%s) real_fn;\n", f->name);
    fprintf(out, "    if (!real_fn)\n        real_fn = (__typeof__(&%s))fsp_real(\"%s\");\n", f->name, f->name);
    fprintf(out, "    struct fsp_call c;\n");
    fprintf(out, "    if (!fsp_ready() || !fsp_api->begin(&c, fsp_base + %d, __builtin_return_address(0), "
                 "__builtin_frame_address(0)))\n", idx);
    if (is_void)
        fprintf(out, "    {\n        real_fn(%s);\n        return;\n    }\n", args);
    else
        fprintf(out, "        return real_fn(%s);\n", args);
    if (f->role == FS_SPEC_USE && f->handle != FS_SPEC_H_NONE)
        fs_emit_track(out, f, "use", "    ");            /* before the call: a use after release may crash it */
    if (rel_before)
        fs_emit_track(out, f, "release", "    ");        /* released whatever the call returns */
    if (f->injectable) {
        fprintf(out, "    if (c.inject) {\n");
        if (rel_before)
            fprintf(out, "        (void)real_fn(%s);   /* a release that fails still releases */\n", args);
        if (f->returns_error) {
            fprintf(out, "        fsp_api->end(&c, c.saved_errno);\n        return c.err;\n");
        } else {
            fprintf(out, "        fsp_api->end(&c, c.err ? c.err : c.saved_errno);\n");
            fprintf(out, "        return %s;\n", f->fail_value);
        }
        fprintf(out, "    }\n");
    }
    if (is_void)
        fprintf(out, "    real_fn(%s);\n", args);
    else
        fprintf(out, "    %s r = real_fn(%s);\n", f->gen_ret, args);
    fprintf(out, "    int e = errno;\n");
    if (f->role == FS_SPEC_ACQUIRE || (f->role == FS_SPEC_RELEASE && !rel_before)) {
        const char *opx = fs_ok_op(f->ok);
        if (opx && !is_void) {
            fprintf(out, "    if (r %s %s)\n", opx, f->ok_value);
            fs_emit_track(out, f, op, "        ");
        } else {
            fs_emit_track(out, f, op, "    ");
        }
    }
    fprintf(out, "    fsp_api->end(&c, e);\n");
    if (!is_void)
        fprintf(out, "    return r;\n");
    fprintf(out, "}\n");
}

int fs_spec_gen_protocol(const struct fs_spec *s, FILE *out)
{
    fprintf(out, "/* Generated by `faultstack protocol build` from %s (protocol %s): do not edit.\n"
                 " * Wrappers for the functions of %s; they report to the faultstack preload\n"
                 " * (harness/include/faultstack/protocol_api.h, version %d) and pass every call through\n"
                 " * when it is not loaded. */\n", s->path, s->name, s->library, FSP_API_VERSION);
    fprintf(out, "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <errno.h>\n#include <stddef.h>\n"
                 "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n");
    for (int i = 0; i < s->nheaders; i++)
        fprintf(out, "#include %s\n", s->headers[i]);
    fputs("\n/* ---- faultstack/protocol_api.h ---- */\n", out);
    fputs(FS_PROTO_API_TEXT, out);
    fputs("/* ---- end of faultstack/protocol_api.h ---- */\n\n", out);
    fprintf(out, "#pragma weak faultstack_protocol_api\n\n");
    fprintf(out, "static const struct fsp_func_desc fsp_funcs[%d] = {\n", s->nfuncs);
    for (int i = 0; i < s->nfuncs; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        fputs("    { ", out);
        fs_c_string(out, f->name);
        fputs(", ", out);
        if (f->kind >= 0)
            fs_c_string(out, s->kinds[f->kind].name);
        else
            fputs("NULL", out);
        fprintf(out, ", %s, %s%s%s0, %d, ",
                f->role == FS_SPEC_ACQUIRE ? "FSP_ACQUIRE" : f->role == FS_SPEC_RELEASE ? "FSP_RELEASE" : "FSP_USE",
                f->injectable ? "FSP_F_INJECTABLE | " : "", f->reentrant ? "FSP_F_REENTRANT | " : "",
                f->role == FS_SPEC_RELEASE && f->still_releases ? "FSP_F_STILL_RELEASES | " : "",
                f->fail_errno_value);
        fs_c_string(out, f->doc);
        fputs(" },\n", out);
    }
    fputs("};\n", out);
    fputs("static const struct fsp_protocol_desc fsp_desc = { FSP_API_VERSION, ", out);
    fs_c_string(out, s->name);
    fputs(", ", out);
    fs_c_string(out, s->library);
    fprintf(out, ", %d, fsp_funcs };\n", s->nfuncs);
    fputs("static const struct fsp_api *fsp_api;\nstatic int fsp_base = -1;\n\n"
          "/* Registered with the preload yet? (Retried until the preload is active.) */\n"
          "static int fsp_ready(void)\n{\n"
          "    if (__atomic_load_n(&fsp_base, __ATOMIC_ACQUIRE) >= 0)\n        return 1;\n"
          "    if (!faultstack_protocol_api)\n        return 0;\n"
          "    const struct fsp_api *a = faultstack_protocol_api(FSP_API_VERSION);\n"
          "    if (!a)\n        return 0;\n"
          "    int b = a->register_protocol(&fsp_desc);\n"
          "    if (b < 0)\n        return 0;\n"
          "    fsp_api = a;\n"
          "    __atomic_store_n(&fsp_base, b, __ATOMIC_RELEASE);\n    return 1;\n}\n\n"
          "static void *fsp_real(const char *name)\n{\n"
          "    void *p = dlsym(RTLD_NEXT, name);\n"
          "    if (!p) {\n"
          "        static const char m[] = \"faultstack protocol library: the real function is not loaded: \";\n"
          "        (void)!write(2, m, sizeof m - 1);\n"
          "        (void)!write(2, name, strlen(name));\n"
          "        (void)!write(2, \"\\n\", 1);\n"
          "        abort();\n    }\n    return p;\n}\n", out);
    for (int i = 0; i < s->nfuncs; i++)
        fs_emit_wrapper(out, s, &s->funcs[i], i);
    return ferror(out) ? -1 : 0;
}

/* ---------------- libc's spec ---------------- */

static const char *fs_role_row(enum fs_spec_role r)
{
    switch (r) {
    case FS_SPEC_ACQUIRE: return "ACQ";
    case FS_SPEC_RELEASE: return "REL";
    case FS_SPEC_USE: return "USE";
    case FS_SPEC_TRANSFER: return "XFER";
    }
    return "USE";
}

int fs_spec_gen_table(const struct fs_spec *s, FILE *out)
{
    fprintf(out, "/* Generated from %s by fs-protogen: do not edit (edit the spec).\n"
                 " * FS_FUNC(name, kind, role, failure, errno, injectable): see funcs.h. */\n", s->path);
    for (int i = 0; i < s->nfuncs; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        fprintf(out, "FS_FUNC(%s, %s, %s, ", f->name, f->kind >= 0 ? s->kinds[f->kind].name : "none",
                fs_role_row(f->role));
        fs_c_string(out, f->doc);
        fprintf(out, ", %s, %d)\n", f->fail_errno[0] ? f->fail_errno : "0", f->injectable);
    }
    return ferror(out) ? -1 : 0;
}

int fs_spec_gen_symbols(const struct fs_spec *s, FILE *out)
{
    for (int i = 0; i < s->nfuncs; i++)
        fprintf(out, "%s row\n", s->funcs[i].name);
    for (int i = 0; i < s->nother; i++) {
        if (s->other[i].alias_of[0])
            fprintf(out, "%s alias %s\n", s->other[i].name, s->other[i].alias_of);
        else
            fprintf(out, "%s interposes\n", s->other[i].name);
    }
    return ferror(out) ? -1 : 0;
}

int fs_spec_gen_libc_wrappers(const struct fs_spec *s, FILE *out)
{
    fprintf(out, "/* Generated from %s by fs-protogen: do not edit (edit the spec).\n"
                 " * libc's regular wrappers as wrap.h macro calls; the rows marked `custom`\n"
                 " * have hand-written bodies in harness/preload/wrap_*_custom.c. */\n"
                 "#define _GNU_SOURCE\n#include \"wrap.h\"\n\n", s->path);
    for (int i = 0; i < s->nheaders; i++)
        fprintf(out, "#include %s\n", s->headers[i]);
    fputs("\n", out);
    for (int i = 0; i < s->nfuncs; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        if (f->custom[0])
            continue;
        char params[2048], args[1024];
        fs_params(f, 0, params, sizeof params);
        fs_args(f, args, sizeof args);
        const char *track = f->kind >= 0 ? s->kinds[f->kind].track : "";
        if (f->role == FS_SPEC_USE && f->kind < 0 && !strcmp(f->fail_value, "-1")) {
            fprintf(out, "FS_WRAP_USE(%s, %s, (%s), (%s))\n", f->ret, f->name, params, args);
        } else if (f->role == FS_SPEC_ACQUIRE && !strcmp(track, "fd") && f->handle == FS_SPEC_H_RETURN) {
            fprintf(out, "FS_WRAP_ACQ_FD(%s, (%s), (%s))\n", f->name, params, args);
        } else if (f->role == FS_SPEC_ACQUIRE && !strcmp(track, "fd") && f->handle == FS_SPEC_H_OUT &&
                   f->out_count == 2) {
            fprintf(out, "FS_WRAP_ACQ_FD2(%s, (%s), (%s), %s)\n", f->name, params, args,
                    f->params[f->handle_arg - 1].name);
        } else if (f->role == FS_SPEC_ACQUIRE && !strcmp(track, "stream") && f->handle == FS_SPEC_H_RETURN) {
            fprintf(out, "FS_WRAP_ACQ_FILE(%s, (%s), (%s))\n", f->name, params, args);
        } else {
            fprintf(stderr, "%s:%d:%d: expected `custom FILE` for %s: no generated wrapper has its shape "
                            "(%s of kind %s)\n", s->path, f->line, f->col, f->name, fs_spec_role_name(f->role),
                    f->kind >= 0 ? s->kinds[f->kind].name : "none");
            return -1;
        }
    }
    return ferror(out) ? -1 : 0;
}

/* ---- the libc_rows driver (fs_spec_gen_libc_tests) ----------------------- */

/* The driver's fixed part: includes, scratch set-up helpers, output. Each
 * row's `test` expression may use these scratch variables (declared in every
 * row's function; the ones it names are set up before it runs, with calls of
 * functions that are not the row's own, so the row's call is its first one):
 *   int fs_fd          an fd open O_RDWR on a temp file holding FS_TEXT, at offset 0
 *   FILE *fs_f         a stream ("r+") on such a file
 *   char fs_path[]     the path of an empty temp file (removed afterwards)
 *   int fs_fds[2]      char fs_buf[64] (FS_TEXT)      void *fs_p
 *   struct iovec fs_iov (fs_buf, 4 bytes)             struct msghdr fs_msg (fs_iov)
 *   pthread_mutex_t fs_m, pthread_rwlock_t fs_rw      (initialized, unlocked)
 *   struct timespec fs_ts (CLOCK_REALTIME now + 1 s)  sigset_t fs_sigs (SIGUSR1)
 *   char *fs_ms, size_t fs_msz                        (open_memstream's out-parameters)
 *   struct sockaddr_un fs_sun, socklen_t fs_sunlen    (AF_UNIX, autobind length)
 *   fs_listen_unix()   a listening AF_UNIX socket on an autobound abstract
 *                      address, left in fs_sun/fs_sunlen (calls socket, bind, listen)
 * Set-up uses raw syscalls where a wrapped call would be the row's own. */
static const char fs_driver_head[] =
    "#include <errno.h>\n#include <limits.h>\n#include <malloc.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
    "#include <string.h>\n#include <time.h>\n#include <sys/stat.h>\n#include <sys/syscall.h>\n"
    "#include <sys/signalfd.h>\n#include <sys/un.h>\n#include <unistd.h>\n";

static const char fs_driver_helpers[] =
    "#define FS_TEXT \"faultstack libc_rows\\n\"\n"
    "\n"
    "static const char *fs_ename(int e, char *buf, size_t cap)\n"
    "{\n"
    "    if (!e)\n"
    "        return \"0\";\n"
    "    for (size_t i = 0; i < sizeof fs_errnos / sizeof fs_errnos[0]; i++)\n"
    "        if (fs_errnos[i].e == e)\n"
    "            return fs_errnos[i].n;\n"
    "    snprintf(buf, cap, \"%d\", e);\n"
    "    return buf;\n"
    "}\n"
    "\n"
    "static void fs_put_num(const char *name, long long r, int e)\n"
    "{\n"
    "    char b[16];\n"
    "    printf(\"%s ret=%lld errno=%s\\n\", name, r, fs_ename(e, b, sizeof b));\n"
    "}\n"
    "\n"
    "static void fs_put_ptr(const char *name, const void *r, int e)\n"
    "{\n"
    "    char b[16];\n"
    "    printf(\"%s ret=%s errno=%s\\n\", name, r == NULL ? \"NULL\" : r == MAP_FAILED ? \"MAP_FAILED\" : \"ptr\",\n"
    "           fs_ename(e, b, sizeof b));\n"
    "}\n"
    "\n"
    "static void fs_put_err(const char *name, int r, int e)\n"
    "{\n"
    "    char b1[16], b2[16];\n"
    "    printf(\"%s ret=%s errno=%s\\n\", name, fs_ename(r, b1, sizeof b1), fs_ename(e, b2, sizeof b2));\n"
    "}\n"
    "\n"
    "static void fs_die(const char *what)\n"
    "{\n"
    "    fprintf(stderr, \"libc_rows: set-up failed: %s: %s\\n\", what, strerror(errno));\n"
    "    exit(3);\n"
    "}\n"
    "\n"
    "/* An fd on a new temp file (already unlinked) holding FS_TEXT, at offset 0. */\n"
    "static int fs_tmpfd(void)\n"
    "{\n"
    "    const char *d = getenv(\"TMPDIR\");\n"
    "    char p[PATH_MAX];\n"
    "    snprintf(p, sizeof p, \"%s/libc_rows.XXXXXX\", d && *d ? d : \"/tmp\");\n"
    "    int fd = mkstemp(p);\n"
    "    if (fd < 0)\n"
    "        fs_die(p);\n"
    "    unlink(p);\n"
    "    if (syscall(SYS_write, fd, FS_TEXT, sizeof FS_TEXT - 1) != (long)(sizeof FS_TEXT - 1) ||\n"
    "        syscall(SYS_lseek, fd, 0L, SEEK_SET) != 0)\n"
    "        fs_die(\"writing the temp file\");\n"
    "    return fd;\n"
    "}\n"
    "\n"
    "/* The path of a new empty temp file (the caller removes it). */\n"
    "static void fs_tmppath(char *p, size_t cap)\n"
    "{\n"
    "    const char *d = getenv(\"TMPDIR\");\n"
    "    snprintf(p, cap, \"%s/libc_rows.XXXXXX\", d && *d ? d : \"/tmp\");\n"
    "    int fd = mkstemp(p);\n"
    "    if (fd < 0)\n"
    "        fs_die(p);\n"
    "    syscall(SYS_close, fd);\n"
    "}\n"
    "\n"
    "static struct sockaddr_un fs_sun = { .sun_family = AF_UNIX };\n"
    "static socklen_t fs_sunlen = sizeof(sa_family_t);   /* bind with it: an autobound abstract address */\n"
    "\n"
    "static int fs_listen_unix(void)\n"
    "{\n"
    "    int s = socket(AF_UNIX, SOCK_STREAM, 0);\n"
    "    struct sockaddr_un a = { .sun_family = AF_UNIX };\n"
    "    socklen_t l = sizeof a;\n"
    "    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)) != 0 || listen(s, 4) != 0 ||\n"
    "        getsockname(s, (struct sockaddr *)&fs_sun, &l) != 0)\n"
    "        fs_die(\"a listening AF_UNIX socket\");\n"
    "    fs_sunlen = l;\n"
    "    return s;\n"
    "}\n";

/* The scratch variables a row may use: name, declaration, set-up (run only
 * when the test expression names the variable), clean-up. */
static const struct {
    const char *name, *decl, *setup, *cleanup;
} fs_scratch[] = {
    { "fs_fd", "int fs_fd = -1;", "fs_fd = fs_tmpfd();", NULL },
    { "fs_f", "FILE *fs_f = NULL;",
      "fs_f = fdopen(fs_tmpfd(), \"r+\");\n    if (!fs_f)\n        fs_die(\"fdopen\");", NULL },
    { "fs_path", "char fs_path[PATH_MAX] = \"\";", "fs_tmppath(fs_path, sizeof fs_path);",
      "if (fs_path[0])\n        unlink(fs_path);" },
    { "fs_fds", "int fs_fds[2] = { -1, -1 };", NULL, NULL },
    { "fs_buf", "char fs_buf[64] = FS_TEXT;", NULL, NULL },
    { "fs_p", "void *fs_p = NULL;", NULL, NULL },
    { "fs_iov", "struct iovec fs_iov = { fs_buf, 4 };", NULL, NULL },
    { "fs_msg", "struct msghdr fs_msg = { .msg_iov = &fs_iov, .msg_iovlen = 1 };", NULL, NULL },
    { "fs_m", "pthread_mutex_t fs_m = PTHREAD_MUTEX_INITIALIZER;", NULL, NULL },
    { "fs_rw", "pthread_rwlock_t fs_rw = PTHREAD_RWLOCK_INITIALIZER;", NULL, NULL },
    { "fs_ts", "struct timespec fs_ts = { 0, 0 };",
      "clock_gettime(CLOCK_REALTIME, &fs_ts);\n    fs_ts.tv_sec += 1;", NULL },
    { "fs_sigs", "sigset_t fs_sigs;", NULL, NULL },
    { "fs_ms", "char *fs_ms = NULL;", NULL, NULL },
    { "fs_msz", "size_t fs_msz = 0;", NULL, NULL },
};

/* Does the C text name the identifier id (not as part of a longer one)? */
static int fs_names_ident(const char *text, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = strstr(text, id); p; p = strstr(p + 1, id)) {
        int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = isalnum((unsigned char)p[n]) || p[n] == '_';
        if (!before && !after)
            return 1;
    }
    return 0;
}

/* How the driver prints a value of f's return: fs_put_ptr, fs_put_err or fs_put_num. */
static const char *fs_put_fn(const struct fs_spec_func *f)
{
    return f->ret_pointer ? "fs_put_ptr" : f->returns_error ? "fs_put_err" : "fs_put_num";
}

static const char *fs_put_cast(const struct fs_spec_func *f)
{
    return f->ret_pointer ? "(const void *)" : f->returns_error ? "(int)" : "(long long)";
}

int fs_spec_gen_libc_tests(const struct fs_spec *s, FILE *out)
{
    fprintf(out, "/* Generated from %s by fs-protogen: do not edit (edit the spec's `test` lines).\n"
                 " * libc_rows: runs the `test` expression of libc's injectable rows.\n"
                 " *   libc_rows NAME...           run each row's test once: \"NAME ret=R errno=E\"\n"
                 " *   libc_rows --expect NAME...  the line an injected failure of NAME gives (from the spec)\n"
                 " *   libc_rows --list            the injectable rows, one per line\n"
                 " * R: NULL, ptr, MAP_FAILED, a number, or the error name a `fail returns-errno`\n"
                 " * row returns; E: errno's name after the call (the driver sets it to 0 before), or 0.\n"
                 " * Used by tests/integration/test_libc_rows.sh. */\n"
                 "#define _GNU_SOURCE\n", s->path);
    fputs(fs_driver_head, out);
    for (int i = 0; i < s->nheaders; i++)
        fprintf(out, "#include %s\n", s->headers[i]);
    fputs("\n/* glibc's fortify entry points: declared by its headers only under _FORTIFY_SOURCE */\n", out);
    for (int i = 0; i < s->nfuncs; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        if (f->injectable && !strncmp(f->name, "__", 2)) {
            char params[2048];
            fs_params(f, 0, params, sizeof params);
            fprintf(out, "extern %s%s%s(%s);\n", f->ret, f->ret_pointer ? "" : " ", f->name, params);
        }
    }
    fputs("\nstatic const struct { int e; const char *n; } fs_errnos[] = {\n", out);
    for (int e = 1; e < 512; e++) {
        const char *n = fs_errno_name(e);
        if (n)
            fprintf(out, "#ifdef %s\n    { %s, \"%s\" },\n#endif\n", n, n, n);
    }
    fputs("};\n\n", out);
    fputs(fs_driver_helpers, out);
    for (int i = 0; i < s->nfuncs; i++) {
        const struct fs_spec_func *f = &s->funcs[i];
        if (!f->injectable)
            continue;
        fprintf(out, "\n/* %s:%d: %s */\nstatic void fs_run_%s(void)\n{\n", s->path, f->line, f->name, f->name);
        for (size_t k = 0; k < sizeof fs_scratch / sizeof fs_scratch[0]; k++)
            fprintf(out, "    %s\n    (void)%s;\n", fs_scratch[k].decl, fs_scratch[k].name);
        fputs("    sigemptyset(&fs_sigs);\n    sigaddset(&fs_sigs, SIGUSR1);\n"
              "    fs_sun = (struct sockaddr_un){ .sun_family = AF_UNIX };\n"
              "    fs_sunlen = sizeof(sa_family_t);\n", out);
        for (size_t k = 0; k < sizeof fs_scratch / sizeof fs_scratch[0]; k++)
            if (fs_scratch[k].setup && fs_names_ident(f->test, fs_scratch[k].name))
                fprintf(out, "    %s\n", fs_scratch[k].setup);
        fprintf(out, "    errno = 0;\n    %s%sfs_r = (%s);\n    int fs_e = errno;\n", f->ret,
                f->ret_pointer ? "" : " ", f->test);
        for (size_t k = 0; k < sizeof fs_scratch / sizeof fs_scratch[0]; k++)
            if (fs_scratch[k].cleanup && fs_names_ident(f->test, fs_scratch[k].name))
                fprintf(out, "    %s\n", fs_scratch[k].cleanup);
        fprintf(out, "    %s(\"%s\", %sfs_r, fs_e);\n}\n", fs_put_fn(f), f->name, fs_put_cast(f));
        fprintf(out, "\nstatic void fs_expect_%s(void)\n{\n    %s(\"%s\", %s(%s), %s);\n}\n", f->name,
                fs_put_fn(f), f->name, fs_put_cast(f), f->fail_value,
                f->returns_error || !f->fail_errno[0] ? "0" : f->fail_errno);
    }
    fputs("\nstatic const struct { const char *name; void (*run)(void), (*expect)(void); } fs_rows[] = {\n", out);
    for (int i = 0; i < s->nfuncs; i++)
        if (s->funcs[i].injectable)
            fprintf(out, "    { \"%s\", fs_run_%s, fs_expect_%s },\n", s->funcs[i].name, s->funcs[i].name,
                    s->funcs[i].name);
    fputs("};\n\n"
          "int main(int argc, char **argv)\n"
          "{\n"
          "    size_t nrows = sizeof fs_rows / sizeof fs_rows[0];\n"
          "    int expect = argc > 1 && !strcmp(argv[1], \"--expect\");\n"
          "    if (argc == 2 && !strcmp(argv[1], \"--list\")) {\n"
          "        for (size_t r = 0; r < nrows; r++)\n"
          "            printf(\"%s\\n\", fs_rows[r].name);\n"
          "        return 0;\n"
          "    }\n"
          "    if (argc < 2 + expect || (argv[1][0] == '-' && !expect)) {\n"
          "        fprintf(stderr, \"usage: libc_rows NAME... | --expect NAME... | --list\\n\");\n"
          "        return 2;\n"
          "    }\n"
          "    for (int i = 1 + expect; i < argc; i++) {\n"
          "        size_t r = 0;\n"
          "        while (r < nrows && strcmp(fs_rows[r].name, argv[i]) != 0)\n"
          "            r++;\n"
          "        if (r == nrows) {\n"
          "            fprintf(stderr, \"libc_rows: '%s' is not an injectable row of libc.spec (libc_rows --list)\\n\", argv[i]);\n"
          "            return 2;\n"
          "        }\n"
          "    }\n"
          "    for (int i = 1 + expect; i < argc; i++)\n"
          "        for (size_t r = 0; r < nrows; r++)\n"
          "            if (!strcmp(fs_rows[r].name, argv[i]))\n"
          "                (expect ? fs_rows[r].expect : fs_rows[r].run)();\n"
          "    return 0;\n"
          "}\n", out);
    return ferror(out) ? -1 : 0;
}
