/* protocol.c — users' protocols on the command line.
 *
 *   faultstack protocol build SPEC -o libNAME-protocol.so   generate and compile
 *   faultstack protocol check SPEC                          parse + exports check
 *   faultstack protocol source SPEC                         print the generated C
 *   run/sweep/functions --protocol SPEC (repeatable)        build (cached) and load
 *
 * A protocol library is the generated wrappers of one spec (harness/spec/gen.c)
 * compiled with the system compiler ($CC, else cc). --protocol caches it in
 * $FAULTSTACK_CACHE, else $XDG_CACHE_HOME/faultstack, else ~/.cache/faultstack
 * (protocols/NAME-HASH-protocol.so), keyed by the generated C (so the spec,
 * the generator and the API version), the spec's place and the headers next
 * to it, and the compiler's identity, and loads it after the
 * preload (LD_PRELOAD=preload:protocol...): its wrappers then sit between the
 * program and the library they wrap. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan.h"
#include "faultstack/protocol_api.h"
#include "spec.h"

#define FS_MAX_PROTOCOLS 16
static struct fs_loaded {
    char spec_path[PATH_MAX];
    char lib[PATH_MAX];
    struct fs_spec *spec;
} fs_protos[FS_MAX_PROTOCOLS];
static int fs_nprotos;

static void fs_protocol_usage(FILE *f)
{
    fprintf(f,
        "usage: faultstack protocol build SPEC -o libNAME-protocol.so [--library-path DIRS]\n"
        "       faultstack protocol check SPEC [--library-path DIRS]\n"
        "       faultstack protocol source SPEC\n"
        "       faultstack run|sweep|functions --protocol SPEC ...   (repeatable)\n"
        "\n"
        "A spec describes your library's resource protocols (login/logout, begin/commit|abort,\n"
        "lease/give back) so faultstack checks them like open/close: every acquire is a fault\n"
        "point failing the way the spec says, and a handle not released at exit is a leak; a\n"
        "double release, a release of a handle never acquired and a use after release are\n"
        "anomalies. Full reference: docs/protocol-spec.md. Example:\n"
        "\n"
        "  faultstack-protocol 1               # format version (optional)\n"
        "  protocol datastore                  # name (default: the file's name)\n"
        "  library libdatastore.so.1           # soname or path; functions must be exported\n"
        "  header \"datastore.h\"                # optional: types passed by value (found next to the spec)\n"
        "  kind session reentrant              # a kind of handle; reentrant: nested acquires count\n"
        "    acquire ds_session *ds_login(const char *user, const char *key)\n"
        "      fail return NULL errno EACCES   # what an injected failure returns and sets\n"
        "    acquire int ds_begin(ds_session *s, ds_txn **out)\n"
        "      handle out 2                    # the handle is written through argument 2\n"
        "    release int ds_logout(ds_session *s)\n"
        "      still-releases yes              # a failing logout still ends the session (default)\n"
        "    use int ds_push(ds_session *s, const char *id, const void *data, size_t n)\n"
        "      fail return -5                  # a negative error code, errno untouched\n"
        "  kind lease\n"
        "    acquire int ds_lease(ds_session *s, int id)\n"
        "      handle arg 2 scope 1            # the handle is the id, per session\n"
        "      fail return -1 errno EBUSY\n"
        "    release int ds_give_back(ds_session *s, int id)\n"
        "      handle arg 2 scope 1\n"
        "\n"
        "Per function: handle return | out N [count K] | arg N [scope M]   (default: the return\n"
        "value of an acquire, argument 1 of a release or use);\n"
        "fail return VALUE [errno NAME|none] | fail returns-errno NAME | fail never   (default: NULL\n"
        "for pointers, -1 for integers, never for void; errno untouched unless named);\n"
        "ok return ==|!=|>=|> VALUE | ok always   (default from the failure value: != NULL, >= 0\n"
        "for a negative failure, == 0 for a positive status); reentrant; still-releases yes|no;\n"
        "fault no (tracked, never failed). Unknown pointee types are passed as void * (same ABI).\n"
        "\n"
        "Bad specs: FILE:LINE:COLUMN: expected ... (exit 2); a function the library does not\n"
        "export is an error too. The compiler is $CC (default cc); the cache is\n"
        "$FAULTSTACK_CACHE, else $XDG_CACHE_HOME/faultstack, else ~/.cache/faultstack.\n");
}

/* ---------------- building ---------------- */

static uint64_t fs_fnv_add(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static const char *fs_cc(void)
{
    const char *cc = getenv("CC");
    return cc && *cc ? cc : "cc";
}

/* Run argv, its stderr into err (last lines). Returns the exit status or -1. */
static int fs_run_tool(char *const argv[], char *out, size_t outlen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        unsetenv("LD_PRELOAD");
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    char buf[4096];
    ssize_t r;
    while ((r = read(pfd[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            if (n + 1 >= outlen) {                 /* keep the end: the error is last */
                memmove(out, out + outlen / 2, n - outlen / 2);
                n -= outlen / 2;
            }
            out[n++] = buf[i];
        }
    }
    if (outlen)
        out[n < outlen ? n : outlen - 1] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int fs_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The generated C of s (malloc'd, *n bytes), or NULL when out of memory. */
static char *fs_gen_source(const struct fs_spec *s, size_t *n)
{
    char *buf = NULL;
    FILE *m = open_memstream(&buf, n);
    if (!m)
        return NULL;
    int rc = fs_spec_gen_protocol(s, m);
    if (fclose(m) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Write src (the generated C of s) next to out and compile it to out. */
static int fs_compile(const struct fs_spec *s, const char *src_text, size_t src_len, const char *out,
                      char *err, size_t errlen)
{
    char src[PATH_MAX + 16], tmp[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s.%d.c", out, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", out, (int)getpid());
    FILE *f = fopen(src, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", src, strerror(errno));
        return -1;
    }
    size_t w = fwrite(src_text, 1, src_len, f);
    if (fclose(f) != 0 || w != src_len) {
        snprintf(err, errlen, "cannot write %s (disk full?)", src);
        unlink(src);
        return -1;
    }
    char incdir[PATH_MAX + 4];
    snprintf(incdir, sizeof incdir, "-I%s", s->path);
    char *sl = strrchr(incdir, '/');
    if (sl) *sl = '\0'; else strcpy(incdir, "-I.");
    char *argv[] = { (char *)fs_cc(), "-shared", "-fPIC", "-O2", "-fno-omit-frame-pointer", "-w",
                     incdir, "-o", tmp, src, "-ldl", NULL };
    char out_text[4096];
    int rc = fs_run_tool(argv, out_text, sizeof out_text);
    unlink(src);
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "%s: the compiler (%s) failed on the generated wrappers%s%s%s",
                 s->path, fs_cc(), rc == 127 ? " (not installed? set CC or apt-get install gcc)" : "",
                 out_text[0] ? ":\n" : "", out_text);
        return -1;
    }
    if (rename(tmp, out) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int fs_cache_dir(char *out, size_t len)
{
    const char *e = getenv("FAULTSTACK_CACHE");
    if (e && *e)
        snprintf(out, len, "%s/protocols", e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e)
        snprintf(out, len, "%s/faultstack/protocols", e);
    else if ((e = getenv("HOME")) && *e)
        snprintf(out, len, "%s/.cache/faultstack/protocols", e);
    else
        snprintf(out, len, "/tmp/faultstack-%u/protocols", (unsigned)getuid());
    return fs_mkdirs(out);
}

int fs_protocol_load(const char *spec_path, char *err, size_t errlen)
{
    if (fs_nprotos >= FS_MAX_PROTOCOLS) {
        snprintf(err, errlen, "--protocol: at most %d specs", FS_MAX_PROTOCOLS);
        return -1;
    }
    char real[PATH_MAX];
    if (!realpath(spec_path, real)) {
        snprintf(err, errlen, "--protocol %s: cannot read the spec: %s", spec_path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < fs_nprotos; i++)
        if (strcmp(fs_protos[i].spec_path, real) == 0)
            return 0;                              /* given twice */
    struct fs_spec *s;
    if (fs_spec_parse_file(real, 0, &s, err, errlen) != 0)
        return -1;
    if (fs_spec_check_exports(s, NULL, NULL, 0, err, errlen) != 0) {
        fs_spec_free(s);
        return -1;
    }
    for (int i = 0; i < fs_nprotos; i++)
        for (int a = 0; a < s->nfuncs; a++)
            for (int b = 0; b < fs_protos[i].spec->nfuncs; b++)
                if (strcmp(s->funcs[a].name, fs_protos[i].spec->funcs[b].name) == 0) {
                    snprintf(err, errlen, "%s:%d: %s is also described by %s: one spec per function",
                             real, s->funcs[a].line, s->funcs[a].name, fs_protos[i].spec_path);
                    fs_spec_free(s);
                    return -1;
                }
    /* the cache key: the generated C (all the spec says), where the spec is
     * and the headers next to it (`header "x.h"` is compiled with them), the
     * compiler */
    size_t gn = 0;
    char *gen = fs_gen_source(s, &gn);
    if (!gen) {
        snprintf(err, errlen, "--protocol %s: out of memory", spec_path);
        fs_spec_free(s);
        return -1;
    }
    uint64_t h = fs_fnv_add(0xcbf29ce484222325ull, gen, gn);
    h = fs_fnv_add(h, real, strlen(real));
    for (int i = 0; i < s->nheaders; i++) {
        char hp[PATH_MAX + 200], buf[4096];
        const char *sl = strrchr(real, '/');
        if (s->headers[i][0] != '"' || !sl)
            continue;                              /* <x.h>: a system header (the compiler's version) */
        snprintf(hp, sizeof hp, "%.*s/%.*s", (int)(sl - real), real, (int)strlen(s->headers[i]) - 2, s->headers[i] + 1);
        FILE *hf = fopen(hp, "r");
        size_t r;
        while (hf && (r = fread(buf, 1, sizeof buf, hf)) > 0)
            h = fs_fnv_add(h, buf, r);
        if (hf)
            fclose(hf);
    }
    char *vargv[] = { (char *)fs_cc(), "--version", NULL };
    char ver[4096];
    if (fs_run_tool(vargv, ver, sizeof ver) != 0) {
        snprintf(err, errlen, "--protocol %s: cannot run the compiler '%s' to build the protocol library "
                 "(set CC, or apt-get install gcc)", spec_path, fs_cc());
        free(gen);
        fs_spec_free(s);
        return -1;
    }
    h = fs_fnv_add(h, ver, strlen(ver));
    char dir[PATH_MAX];
    if (fs_cache_dir(dir, sizeof dir) != 0) {
        snprintf(err, errlen, "--protocol: cannot create the cache directory %s: %s (set FAULTSTACK_CACHE "
                 "to a writable directory)", dir, strerror(errno));
        free(gen);
        fs_spec_free(s);
        return -1;
    }
    struct fs_loaded *L = &fs_protos[fs_nprotos];
    if ((size_t)snprintf(L->lib, sizeof L->lib, "%s/%s-%016llx-protocol.so", dir, s->name, (unsigned long long)h) >=
        sizeof L->lib) {
        snprintf(err, errlen, "--protocol: the cache directory's path is too long (%s); set FAULTSTACK_CACHE", dir);
        free(gen);
        fs_spec_free(s);
        return -1;
    }
    int rc = access(L->lib, R_OK) == 0 ? 0 : fs_compile(s, gen, gn, L->lib, err, errlen);
    free(gen);
    if (rc != 0) {
        fs_spec_free(s);
        return -1;
    }
    snprintf(L->spec_path, sizeof L->spec_path, "%s", real);
    L->spec = s;
    fs_nprotos++;
    return 0;
}

int fs_protocol_count(void)
{
    return fs_nprotos;
}

const char *fs_protocol_spec(int i)
{
    return i >= 0 && i < fs_nprotos ? fs_protos[i].spec_path : NULL;
}

void fs_protocol_append_preload(char *preload, size_t len)
{
    for (int i = 0; i < fs_nprotos; i++) {
        size_t n = strlen(preload);
        snprintf(preload + n, len > n ? len - n : 0, ":%s", fs_protos[i].lib);
    }
}

int fs_protocol_func(const char *name)
{
    for (int i = 0; i < fs_nprotos; i++)
        for (int k = 0; k < fs_protos[i].spec->nfuncs; k++)
            if (strcmp(fs_protos[i].spec->funcs[k].name, name) == 0)
                return fs_protos[i].spec->funcs[k].injectable ? 1 : 0;
    return -1;
}

void fs_protocol_print_functions(void)
{
    for (int i = 0; i < fs_nprotos; i++) {
        const struct fs_spec *s = fs_protos[i].spec;
        for (int k = 0; k < s->nfuncs; k++) {
            const struct fs_spec_func *f = &s->funcs[k];
            char kind[80];
            snprintf(kind, sizeof kind, "%s", f->kind >= 0 ? s->kinds[f->kind].name : "none");
            printf("%-28s %-7s %-8s %-11s %-10s %s   [protocol %s]\n", f->name, kind, fs_spec_role_name(f->role),
                   f->injectable ? "yes" : "no", f->fail_errno[0] ? f->fail_errno : "-", f->doc, s->name);
        }
    }
}

/* ---------------- faultstack protocol ---------------- */

int fs_cmd_protocol(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fs_protocol_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1], *spec = NULL, *out = NULL, *libpath = NULL;
    if (strcmp(sub, "build") && strcmp(sub, "check") && strcmp(sub, "source")) {
        fprintf(stderr, "faultstack protocol: unknown subcommand '%s' (build, check, source)\n", sub);
        fs_protocol_usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fs_protocol_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--library-path")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "faultstack protocol %s: %s needs a value\n", sub, a);
                return 2;
            }
            if (a[1] == 'o') out = argv[++i]; else libpath = argv[++i];
        } else if (!strncmp(a, "-o", 2) && a[2]) {
            out = a + 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "faultstack protocol %s: unknown option '%s'\n", sub, a);
            fs_protocol_usage(stderr);
            return 2;
        } else if (!spec) {
            spec = a;
        } else {
            fprintf(stderr, "faultstack protocol %s: one SPEC at a time ('%s' is extra)\n", sub, a);
            return 2;
        }
    }
    if (!spec) {
        fprintf(stderr, "faultstack protocol %s: no SPEC given\n", sub);
        fs_protocol_usage(stderr);
        return 2;
    }
    if (!strcmp(sub, "build") && !out) {
        fprintf(stderr, "faultstack protocol build: give the output with -o libNAME-protocol.so\n");
        return 2;
    }
    size_t ol = out ? strlen(out) : 0;
    if (out && (ol < 12 || strcmp(out + ol - 12, "-protocol.so") != 0)) {
        fprintf(stderr, "faultstack protocol build: name the output libNAME-protocol.so ('%s' does not end in "
                        "-protocol.so; the preload recognises its wrappers by that name and does not count "
                        "their own calls as the program's)\n", out);
        return 2;
    }
    char err[4096];
    struct fs_spec *s;
    if (fs_spec_parse_file(spec, 0, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int rc = 0;
    if (!strcmp(sub, "source")) {
        rc = fs_spec_gen_protocol(s, stdout) == 0 ? 0 : 2;
    } else {
        char found[PATH_MAX];
        if (fs_spec_check_exports(s, libpath, found, sizeof found, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = 2;
        } else if (!strcmp(sub, "check")) {
            int nk = s->nkinds;
            printf("%s: protocol %s, %d kind%s, %d function%s, all exported by %s\n", spec, s->name, nk,
                   nk == 1 ? "" : "s", s->nfuncs, s->nfuncs == 1 ? "" : "s", found);
        } else {
            size_t gn = 0;
            char *gen = fs_gen_source(s, &gn);
            if (!gen)
                snprintf(err, sizeof err, "out of memory");
            if (!gen || fs_compile(s, gen, gn, out, err, sizeof err) != 0) {
                fprintf(stderr, "faultstack protocol build: %s\n", err);
                rc = 2;
            } else {
                printf("%s: protocol library for %s (%d functions); run with LD_PRELOAD after the preload, "
                       "or let `faultstack run --protocol %s` build and load it\n", out, s->name, s->nfuncs, spec);
            }
            free(gen);
        }
    }
    fs_spec_free(s);
    return rc;
}
