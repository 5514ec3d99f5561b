/* gen.c — code generation from a parsed spec (spec.h).
 *
 * Three outputs:
 *   fs_spec_gen_protocol       a user's protocol library: one wrapper per function,
 *                              calling the preload's protocol API (faultstack/protocol_api.h);
 *   fs_spec_gen_table          libc's spec as FS_FUNC rows (funcs.h's table);
 *   fs_spec_gen_libc_wrappers  libc's regular wrappers as wrap.h macro calls (rows
 *                              marked `custom` have hand-written bodies in
 *                              harness/preload/wrap_*_custom.c). */
#define _GNU_SOURCE
#include "spec.h"

#include <string.h>

#include "faultstack/protocol_api.h"
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
