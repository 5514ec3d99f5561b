/* valgrind.c — running the target under memcheck and reading what memcheck
 * said (valgrind.h).
 *
 * The XML files are parsed with expat only (a small state machine over the
 * element path, protocol 4 and 5 of valgrind's docs/internals/
 * xml-output-protocol{4,5}.txt). The text log is read for one thing only:
 * valgrind before 3.23 writes the --track-fds report ("Open file descriptor
 * N: PATH" and its stack) there and not in the XML. */
#define _GNU_SOURCE
#include "record_fmt.h"
#include "valgrind.h"
#include "sysmods.h"

/* memcheck's strings are cut to the fixed fields of struct fs_vg_error on purpose */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "symbolize.h"

/* ---------------- finding and running valgrind ---------------- */

static int fs_vg_is_script(const char *path)
{
    char head[2] = { 0, 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, head, 2);
    close(fd);
    return n == 2 && head[0] == '#' && head[1] == '!';
}

static int fs_vg_on_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        snprintf(out, len, "%.*s/%s", (int)dl, dl ? p : ".", name);
        struct stat sb;
        if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
            return 0;
        if (!e)
            break;
        p = e + 1;
    }
    return -1;
}

/* `LAUNCHER --version` -> "valgrind-3.19.0". Returns 0 or -1. */
static int fs_vg_version(const char *launcher, char *out, size_t len)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]); close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) dup2(dn, 2);
        unsetenv("LD_PRELOAD");
        execl(launcher, launcher, "--version", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char buf[256];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && ((n = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0 ||
                                    (n < 0 && errno == EINTR)))
        if (n > 0) got += (size_t)n;
    buf[got] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strncmp(buf, "valgrind-", 9) != 0)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    snprintf(out, len, "%s", buf + 9);
    return 0;
}

int fs_vg_find(struct fs_vg *vg, char *err, size_t errlen)
{
    memset(vg, 0, sizeof *vg);
    char found[PATH_MAX];
    const char *env = getenv("FAULTSTACK_VALGRIND");
    if (env && *env) {
        if (access(env, X_OK) != 0) {
            snprintf(err, errlen, "--valgrind: FAULTSTACK_VALGRIND=%s is not an executable file (%s); "
                     "unset it to use valgrind from PATH, or install valgrind: apt-get install valgrind",
                     env, strerror(errno));
            return -1;
        }
        snprintf(found, sizeof found, "%s", env);
    } else if (fs_vg_on_path("valgrind", found, sizeof found) != 0) {
        snprintf(err, errlen, "--valgrind: valgrind is not installed (not found on PATH); install it: "
                 "apt-get install valgrind (or set FAULTSTACK_VALGRIND to its path)");
        return -1;
    }
    if (fs_vg_is_script(found)) {
        /* Debian's /usr/bin/valgrind is `exec $0.bin "$@"` after setting a few
         * variables: a shell under the preload would be recorded as a process
         * of the target and count fault points */
        char bin[PATH_MAX + 8];
        snprintf(bin, sizeof bin, "%s.bin", found);
        if (access(bin, X_OK) != 0) {
            snprintf(err, errlen, "--valgrind: %s is a script and %s does not exist; set FAULTSTACK_VALGRIND "
                     "to valgrind's launcher binary, or reinstall valgrind: apt-get install --reinstall valgrind",
                     found, bin);
            return -1;
        }
        snprintf(found, sizeof found, "%s", bin);
    }
    if (!realpath(found, vg->launcher)) {
        snprintf(err, errlen, "--valgrind: cannot resolve %s: %s", found, strerror(errno));
        return -1;
    }
    if (fs_vg_version(vg->launcher, vg->version, sizeof vg->version) != 0 ||
        sscanf(vg->version, "%d.%d", &vg->major, &vg->minor) != 2) {
        snprintf(err, errlen, "--valgrind: '%s --version' did not print a valgrind version; "
                 "reinstall valgrind: apt-get install --reinstall valgrind", vg->launcher);
        return -1;
    }
    if (vg->major < FS_VG_MIN_MAJOR || (vg->major == FS_VG_MIN_MAJOR && vg->minor < FS_VG_MIN_MINOR)) {
        snprintf(err, errlen, "--valgrind: valgrind %s is too old (faultstack needs %d.%d or newer); "
                 "upgrade it: apt-get install valgrind", vg->version, FS_VG_MIN_MAJOR, FS_VG_MIN_MINOR);
        return -1;
    }
    return 0;
}

/* Memcheck's complaints about faultstack's own code: the preload's exit scan
 * reads whole stacks and data segments for pointers (uninitialised words,
 * other threads' stacks below their stack pointer). Only errors whose
 * innermost frame is in the preload are suppressed: the program's errors
 * through a wrapper (free of a bad pointer) start in valgrind's replacement. */
static int fs_vg_write_supp(const char *path)
{
    static const char *const kinds[] = { "Cond", "Value1", "Value2", "Value4", "Value8", "Value16",
                                         "Addr1", "Addr2", "Addr4", "Addr8", "Addr16", NULL };
    FILE *f = fopen(path, "we");
    if (!f)
        return -1;
    for (int i = 0; kinds[i]; i++)
        fprintf(f, "{\n   faultstack-preload-%s\n   Memcheck:%s\n   obj:*/libfaultstack-preload.so\n}\n",
                kinds[i], kinds[i]);
    return fclose(f) == 0 ? 0 : -1;
}

char **fs_vg_argv(const struct fs_vg *vg, const char *run_dir, const char *program, char *const *argv)
{
    char xml[PATH_MAX + 64], log[PATH_MAX + 64], supp_path[PATH_MAX + 32], supp[PATH_MAX + 64];
    snprintf(supp_path, sizeof supp_path, "%s/faultstack.supp", run_dir);
    if (fs_vg_write_supp(supp_path) != 0)
        return NULL;
    snprintf(supp, sizeof supp, "--suppressions=%s", supp_path);
    /* One XML file per process: %p for the processes a fork makes, and the
     * image, renamed by the preload at every exec (same pid), so that the new
     * image does not truncate the old one's. The text log (for the fd report
     * of valgrind < 3.23) is per image only: forked children append to their
     * parent's, each line names its pid. A %p in the log's name would break
     * the XML: on fork, valgrind 3.19 reopens the first of the two files whose
     * expanded name changes, only that one (logging_atfork_child: a || that
     * stops at the log), and the child's whole report lands in the parent's
     * XML file, which is then no longer well-formed. */
    snprintf(xml, sizeof xml, "--xml-file=%s/memcheck.%%p.%%q{FAULTSTACK_VG_IMAGE}.xml", run_dir);
    snprintf(log, sizeof log, "--log-file=%s/memcheck.%%q{FAULTSTACK_VG_IMAGE}.log", run_dir);
    const char *opts[] = {
        "--tool=memcheck", "-q",
        "--xml=yes", xml, log,
        "--leak-check=full", "--show-leak-kinds=all", "--errors-for-leak-kinds=definite",
        "--track-fds=yes",                           /* 3.19: text log only; 3.23+: FdNotClosed in the XML */
        "--trace-children=yes", "--child-silent-after-fork=no",
        /* keep the preload's malloc wrappers: by default memcheck would replace
         * malloc in every object, the preload's too, and no allocation would
         * ever be a fault point */
        "--soname-synonyms=somalloc=nouserintercepts",
        "--vgdb=no",                                 /* no FIFOs in /tmp */
        supp,
        NULL
    };
    size_t n = 0, bytes = strlen(vg->launcher) + strlen(program) + 2;
    for (int i = 0; opts[i]; i++, n++)
        bytes += strlen(opts[i]) + 1;
    size_t na = 0;
    for (; argv[na]; na++)
        if (na) bytes += strlen(argv[na]) + 1;
    size_t slots = 1 + n + 1 + (na ? na - 1 : 0) + 1;
    char **out = malloc(slots * sizeof *out + bytes);
    if (!out)
        return NULL;
    char *w = (char *)(out + slots);
    size_t k = 0;
#define FS_VG_PUT(s) do { size_t l_ = strlen(s) + 1; memcpy(w, (s), l_); out[k++] = w; w += l_; } while (0)
    FS_VG_PUT(vg->launcher);
    for (int i = 0; opts[i]; i++)
        FS_VG_PUT(opts[i]);
    FS_VG_PUT(program);
    for (size_t i = 1; i < na; i++)
        FS_VG_PUT(argv[i]);
#undef FS_VG_PUT
    out[k] = NULL;
    return out;
}

int fs_vg_env(const struct fs_vg *vg, char **out, int cap, char *buf, size_t buflen)
{
    const char *vals[4];
    char inert[PATH_MAX + 32];
    snprintf(inert, sizeof inert, "FAULTSTACK_INERT_EXE=%s", vg->launcher);
    vals[0] = inert;
    vals[1] = "FAULTSTACK_VG_IMAGE=0";             /* the first image; see fs_vg_argv */
    vals[2] = "GLIBCXX_FORCE_NEW=1";               /* what Debian's wrapper script sets */
    vals[3] = "GLIBCPP_FORCE_NEW=1";
    int k = 0;
    size_t used = 0;
    for (int i = 0; i < 4 && k < cap - 1; i++) {
        size_t l = strlen(vals[i]) + 1;
        if (used + l > buflen)
            break;
        memcpy(buf + used, vals[i], l);
        out[k++] = buf + used;
        used += l;
    }
    out[k] = NULL;
    return k;
}

/* ---------------- the report ---------------- */

static struct fs_vg_error *fs_vg_push(struct fs_vg_report *rep)
{
    if (rep->n == rep->cap) {
        size_t nc = rep->cap ? rep->cap * 2 : 16;
        struct fs_vg_error *nv = realloc(rep->v, nc * sizeof *nv);
        if (!nv)
            return NULL;
        rep->v = nv;
        rep->cap = nc;
    }
    struct fs_vg_error *e = &rep->v[rep->n++];
    memset(e, 0, sizeof *e);
    e->bytes = e->blocks = -1;
    e->fd = -1;
    e->site = -1;
    e->offset = -1;
    return e;
}

static void fs_vg_error_free(struct fs_vg_error *e)
{
    free(e->frames);
    free(e->aux);
    e->frames = NULL;
    e->aux = NULL;
}

void fs_vg_report_free(struct fs_vg_report *rep)
{
    for (size_t i = 0; i < rep->n; i++)
        fs_vg_error_free(&rep->v[i]);
    free(rep->v);
    memset(rep, 0, sizeof *rep);
}

static int fs_vg_add_frame(struct fs_vg_error *e, const struct fs_vg_frame *f)
{
    if (e->nframes >= 256)
        return 0;
    struct fs_vg_frame *nf = realloc(e->frames, (size_t)(e->nframes + 1) * sizeof *nf);
    if (!nf)
        return -1;
    e->frames = nf;
    e->frames[e->nframes++] = *f;
    return 0;
}

static void fs_vg_aux_append(struct fs_vg_error *e, const char *text)
{
    size_t old = e->aux ? strlen(e->aux) : 0, add = strlen(text);
    if (old + add > 65536)
        return;
    char *na = realloc(e->aux, old + add + 2);
    if (!na)
        return;
    memcpy(na + old, text, add);
    na[old + add] = '\n';
    na[old + add + 1] = '\0';
    e->aux = na;
}

static void fs_vg_frame_text(const struct fs_vg_frame *f, char *out, size_t len)
{
    const char *obj = strrchr(f->obj, '/') ? strrchr(f->obj, '/') + 1 : f->obj;
    if (f->file[0])
        snprintf(out, len, "%s %s:%d", f->fn[0] ? f->fn : "?", f->file, f->line);
    else
        snprintf(out, len, "%s %s 0x%llx", f->fn[0] ? f->fn : "?", obj[0] ? obj : "?", (unsigned long long)f->ip);
}

static void fs_vg_leak_kind(struct fs_vg_error *e)
{
    /* "64 (32 direct, 32 indirect) bytes in 1 blocks are definitely lost": the
     * XML's leakedbytes is 64; faultstack counts a block's own bytes */
    const char *paren = strchr(e->what, '(');
    long long direct, indirect;
    if (e->bytes >= 0 && paren && sscanf(paren, "(%lld direct, %lld indirect)", &direct, &indirect) == 2 &&
        direct + indirect == e->bytes) {
        e->bytes = direct;
        e->indirect = indirect;
    }
    static const char *const map[][2] = {
        { "Leak_DefinitelyLost", "definitely" }, { "Leak_IndirectlyLost", "indirectly" },
        { "Leak_PossiblyLost", "possibly" }, { "Leak_StillReachable", "reachable" },
        { "FdNotClosed", "fd" }, { NULL, NULL } };
    e->leak_kind[0] = '\0';
    for (int i = 0; map[i][0]; i++)
        if (strcmp(e->kind, map[i][0]) == 0)
            snprintf(e->leak_kind, sizeof e->leak_kind, "%s", map[i][1]);
}

/* ---------------- XML (expat) ---------------- */

#define FS_VG_DEPTH 12
#define FS_VG_FD_STACK "_fd_stack"    /* pseudo kind: a top-level <stack> of 3.19's fd report */
struct fs_vg_xml {
    struct fs_vg_report *rep;
    const char *path[FS_VG_DEPTH];  /* element names from the root (static strings) */
    int depth;
    char text[4096];
    size_t tlen;
    int pid;
    int finished;
    int in_error;
    struct fs_vg_error cur;         /* the error being read */
    int stack_no;                   /* 1: primary stack, 2+: auxiliary */
    struct fs_vg_frame frame;
    char frame_dir[512];
    int oom;
};

/* Element names we care about, interned so the path holds static strings. */
static const char *fs_vg_intern(const char *name)
{
    static const char *const names[] = {
        "valgrindoutput", "protocolversion", "pid", "status", "state", "error", "kind", "what", "xwhat",
        "text", "leakedbytes", "leakedblocks", "stack", "frame", "ip", "obj", "fn", "dir", "file",
        "line", "auxwhat", "xauxwhat", "fd", "path", NULL };
    for (int i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return names[i];
    return "";
}

static int fs_vg_at(const struct fs_vg_xml *X, int n, ...)
{
    /* does the current path end with the n names given (innermost last)? */
    if (X->depth < n)
        return 0;
    va_list ap;
    va_start(ap, n);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (strcmp(X->path[X->depth - n + i], want) != 0)
            ok = 0;
    }
    va_end(ap);
    return ok;
}

static void XMLCALL fs_vg_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct fs_vg_xml *X = ud;
    if (X->depth < FS_VG_DEPTH)
        X->path[X->depth] = fs_vg_intern(name);
    X->depth++;
    X->tlen = 0;
    X->text[0] = '\0';
    if (X->depth > FS_VG_DEPTH)
        return;
    if (X->depth == 2 && fs_vg_at(X, 1, "error")) {
        fs_vg_error_free(&X->cur);
        memset(&X->cur, 0, sizeof X->cur);
        X->cur.bytes = X->cur.blocks = -1;
        X->cur.fd = -1;
        X->cur.site = -1;
        X->cur.offset = -1;
        X->cur.pid = X->pid;
        snprintf(X->cur.source, sizeof X->cur.source, "xml");
        X->in_error = 1;
        X->stack_no = 0;
    } else if (!X->in_error && X->depth == 2 && fs_vg_at(X, 1, "stack")) {
        fs_vg_error_free(&X->cur);
        memset(&X->cur, 0, sizeof X->cur);
        X->cur.bytes = X->cur.blocks = -1;
        X->cur.fd = -1;
        X->cur.pid = X->pid;
        snprintf(X->cur.kind, sizeof X->cur.kind, "%s", FS_VG_FD_STACK);
        snprintf(X->cur.source, sizeof X->cur.source, "xml");
        X->in_error = 2;
        X->stack_no = 1;
    } else if (X->in_error == 1 && X->depth == 3 && fs_vg_at(X, 1, "stack")) {
        X->stack_no++;
        if (X->stack_no > 1)
            fs_vg_aux_append(&X->cur, "stack:");
    } else if (X->in_error && X->depth + (X->in_error == 2) == 4 && fs_vg_at(X, 2, "stack", "frame")) {
        memset(&X->frame, 0, sizeof X->frame);
        X->frame_dir[0] = '\0';
    }
}

static void XMLCALL fs_vg_chars(void *ud, const XML_Char *s, int len)
{
    struct fs_vg_xml *X = ud;
    size_t room = sizeof X->text - 1 - X->tlen;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(X->text + X->tlen, s, n);
    X->tlen += n;
    X->text[X->tlen] = '\0';
}

static void XMLCALL fs_vg_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct fs_vg_xml *X = ud;
    const char *t = X->text;
    if (X->depth <= FS_VG_DEPTH) {
        if (X->depth == 2 && fs_vg_at(X, 1, "pid"))
            X->pid = atoi(t);
        else if (X->depth == 2 && fs_vg_at(X, 1, "protocolversion")) {
            int v = atoi(t);
            if (v > X->rep->protocol)
                X->rep->protocol = v;
        } else if (X->depth == 3 && fs_vg_at(X, 2, "status", "state") && strcmp(t, "FINISHED") == 0)
            X->finished = 1;
        else if (X->in_error) {
            struct fs_vg_error *e = &X->cur;
            /* a top-level <stack> (valgrind 3.19 writes the stacks of its
             * --track-fds text report there) is read as if it were an error's */
            int d = X->depth + (X->in_error == 2);
            if (d == 2 || (X->in_error == 2 && X->depth == 2)) { /* </error>, or that </stack> */
                fs_vg_leak_kind(e);
                struct fs_vg_error *slot = fs_vg_push(X->rep);
                if (slot) {
                    *slot = *e;                         /* frames and aux move into the report */
                    memset(e, 0, sizeof *e);
                } else {
                    X->oom = 1;
                }
                X->in_error = 0;
            } else if (d == 3 && fs_vg_at(X, 1, "kind"))
                snprintf(e->kind, sizeof e->kind, "%s", t);
            else if ((d == 3 && fs_vg_at(X, 1, "what")) || (d == 4 && fs_vg_at(X, 2, "xwhat", "text"))) {
                if (!e->what[0])
                    snprintf(e->what, sizeof e->what, "%s", t);
            } else if (fs_vg_at(X, 1, "leakedbytes") && d <= 4)
                e->bytes = strtoll(t, NULL, 10);
            else if (fs_vg_at(X, 1, "leakedblocks") && d <= 4)
                e->blocks = strtoll(t, NULL, 10);
            else if (d == 3 && fs_vg_at(X, 1, "fd"))
                e->fd = atoi(t);
            else if (d == 3 && fs_vg_at(X, 1, "path"))
                snprintf(e->path, sizeof e->path, "%s", t);
            else if ((d == 3 && fs_vg_at(X, 1, "auxwhat")) || (d == 4 && fs_vg_at(X, 2, "xauxwhat", "text")))
                fs_vg_aux_append(e, t);
            else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "ip"))
                X->frame.ip = strtoull(t, NULL, 16);
            else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "obj"))
                snprintf(X->frame.obj, sizeof X->frame.obj, "%s", t);
            else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "fn"))
                snprintf(X->frame.fn, sizeof X->frame.fn, "%s", t);
            else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "dir"))
                snprintf(X->frame_dir, sizeof X->frame_dir, "%s", t);
            else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "file")) {
                if (X->frame_dir[0] && t[0] != '/')
                    snprintf(X->frame.file, sizeof X->frame.file, "%.250s/%.250s", X->frame_dir, t);
                else
                    snprintf(X->frame.file, sizeof X->frame.file, "%s", t);
            } else if (d == 5 && fs_vg_at(X, 3, "stack", "frame", "line"))
                X->frame.line = atoi(t);
            else if (d == 4 && fs_vg_at(X, 2, "stack", "frame")) {
                if (X->stack_no == 1) {
                    if (fs_vg_add_frame(e, &X->frame) != 0)
                        X->oom = 1;
                } else {
                    char one[1400];
                    fs_vg_frame_text(&X->frame, one, sizeof one);
                    fs_vg_aux_append(e, one);
                }
            }
        }
    }
    X->depth--;
    X->tlen = 0;
    X->text[0] = '\0';
}

int fs_vg_parse_xml(const char *path, struct fs_vg_report *rep, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    XML_Parser p = XML_ParserCreate(NULL);
    struct fs_vg_xml *X = calloc(1, sizeof *X);
    if (!p || !X) {
        snprintf(err, errlen, "out of memory");
        if (p) XML_ParserFree(p);
        free(X);
        fclose(f);
        return -1;
    }
    X->rep = rep;
    XML_SetUserData(p, X);
    XML_SetElementHandler(p, fs_vg_start, fs_vg_end);
    XML_SetCharacterDataHandler(p, fs_vg_chars);
    int rc = 0;
    char buf[16384];
    for (;;) {
        size_t n = fread(buf, 1, sizeof buf, f);
        int last = n < sizeof buf;
        if (XML_Parse(p, buf, (int)n, last) == XML_STATUS_ERROR) {
            /* a process killed while memcheck wrote: keep the errors read so far */
            if (!X->finished) {
                rep->incomplete++;
            } else {
                snprintf(err, errlen, "%s: XML error at line %lu: %s", path,
                         (unsigned long)XML_GetCurrentLineNumber(p), XML_ErrorString(XML_GetErrorCode(p)));
                rc = -1;
            }
            break;
        }
        if (last) {
            if (!X->finished)
                rep->incomplete++;
            break;
        }
    }
    if (X->oom && rc == 0) {
        snprintf(err, errlen, "out of memory reading %s", path);
        rc = -1;
    }
    rep->xml_files++;
    fs_vg_error_free(&X->cur);
    XML_ParserFree(p);
    free(X);
    fclose(f);
    return rc;
}

/* ---------------- text log: --track-fds of valgrind < 3.23 ---------------- */

/* "   at 0x4960F1B: open (open64.c:41)" / "   by 0x1091D2: main (in /bin/prog)" */
static int fs_vg_log_frame(const char *s, struct fs_vg_frame *f)
{
    while (*s == ' ') s++;
    if (strncmp(s, "at 0x", 5) != 0 && strncmp(s, "by 0x", 5) != 0)
        return -1;
    memset(f, 0, sizeof *f);
    char *end;
    f->ip = strtoull(s + 3, &end, 16);
    if (*end != ':')
        return -1;
    s = end + 1;
    while (*s == ' ') s++;
    const char *paren = strrchr(s, '(');
    if (!paren)
        return -1;
    size_t fl = (size_t)(paren - s);
    while (fl && s[fl - 1] == ' ') fl--;
    snprintf(f->fn, sizeof f->fn, "%.*s", (int)fl, s);
    if (!strcmp(f->fn, "???"))
        f->fn[0] = '\0';
    const char *in = paren + 1;
    const char *close = strrchr(in, ')');
    size_t il = close ? (size_t)(close - in) : strlen(in);
    if (strncmp(in, "in ", 3) == 0) {
        snprintf(f->obj, sizeof f->obj, "%.*s", (int)(il - 3), in + 3);
    } else {
        const char *colon = memrchr(in, ':', il);
        if (colon) {
            snprintf(f->file, sizeof f->file, "%.*s", (int)(colon - in), in);
            f->line = atoi(colon + 1);
        }
    }
    return 0;
}

int fs_vg_parse_log(const char *path, struct fs_vg_report *rep, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct fs_vg_error *cur = NULL;
    int added = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        int pid = 0, pos = 0;
        if (sscanf(line, "==%d==%n", &pid, &pos) != 1 || !pos)
            continue;
        const char *body = line + pos;
        const char *b = body;
        while (*b == ' ') b++;
        int fd = -1;
        const char *colon = NULL;
        if (strncmp(b, "Open ", 5) == 0 && (colon = strchr(b, ':')) != NULL) {
            /* "Open file descriptor 3: /tmp/x" or "Open AF_INET socket 4: ..." */
            const char *num = colon;
            while (num > b && num[-1] >= '0' && num[-1] <= '9') num--;
            if (num < colon)
                fd = atoi(num);
        }
        if (fd >= 0) {
            cur = fs_vg_push(rep);
            if (!cur) {
                snprintf(err, errlen, "out of memory");
                free(line);
                fclose(f);
                return -1;
            }
            cur->pid = pid;
            cur->fd = fd;
            snprintf(cur->kind, sizeof cur->kind, "FdNotClosed");
            snprintf(cur->leak_kind, sizeof cur->leak_kind, "fd");
            snprintf(cur->source, sizeof cur->source, "log");
            snprintf(cur->what, sizeof cur->what, "%s", b);
            const char *p = colon + 1;
            while (*p == ' ') p++;
            snprintf(cur->path, sizeof cur->path, "%s", p);
            added++;
            continue;
        }
        if (!cur)
            continue;
        if (!*b) {                               /* "==PID== " ends the block */
            cur = NULL;
            continue;
        }
        if (strstr(b, "<inherited from parent>")) {
            cur->inherited = 1;
            continue;
        }
        struct fs_vg_frame fr;
        if (fs_vg_log_frame(b, &fr) == 0)
            fs_vg_add_frame(cur, &fr);
    }
    free(line);
    fclose(f);
    return added;
}

/* ---------------- sites ---------------- */

/* real: the module's path with every symbolic link resolved ("" when it
 * cannot be): the preload names a module as the loader opened it (its
 * soname, /usr/lib/x86_64-linux-gnu/libjq.so.1), valgrind names the file
 * (libjq.so.1.0.4) */
struct fs_vg_mod { int pid; uint64_t bias; char path[512]; char real[PATH_MAX]; };

/* Objects that are not the program's own code: valgrind's, and the modules
 * the preload calls "system" (harness/common/sysmods.h:
 * their calls are not fault points, and what they acquire is the site of the
 * program's call into them). The two lists must agree, or memcheck names a
 * block by a frame inside a library faultstack skips (a malloc in liblzma
 * under libxml2's xzread: faultstack's site is libxml2's call) and the two
 * verdicts for the same block never meet in memcheck_vs_faultstack; hence one
 * list, sysmods.h). */
static int fs_vg_system_obj(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    static const char *const sys[] = { "vgpreload_", "memcheck-", FS_SYSTEM_MODULE_PREFIXES, NULL };
    for (int i = 0; sys[i]; i++)
        if (strncmp(base, sys[i], strlen(sys[i])) == 0)
            return 1;
    return 0;
}

/* The "image" and "m" lines of the run's record files: which module was
 * loaded where in which pid. Returns a malloc'd array (count in *n) or NULL. */
static struct fs_vg_mod *fs_vg_rec_modules(const char *run_dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(run_dir);
    if (!d)
        return NULL;
    struct fs_vg_mod *v = NULL;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".rec") != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char *line = NULL;
        size_t lc = 0;
        ssize_t len;
        int pid = 0;
        while ((len = getline(&line, &lc, f)) > 0) {
            if (line[len - 1] == '\n') line[len - 1] = '\0';
            long id;
            unsigned long long bias;
            int pos = 0;
            if (line[0] == 'i')
                sscanf(line, FS_REC_IMAGE " %d", &pid);
            else if (line[0] == FS_REC_MODULE && sscanf(line, FS_REC_MODULE_SCAN, &id, &bias, &pos) == 2 && pos) {
                if (*n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    struct fs_vg_mod *nv = realloc(v, nc * sizeof *nv);
                    if (!nv) break;
                    v = nv;
                    cap = nc;
                }
                v[*n].pid = pid;
                v[*n].bias = bias;
                snprintf(v[*n].path, sizeof v[*n].path, "%s", line + pos);
                if (!realpath(v[*n].path, v[*n].real))
                    v[*n].real[0] = '\0';
                (*n)++;
            }
        }
        free(line);
        fclose(f);
    }
    closedir(d);
    return v;
}

static const char *fs_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Which record module holds frame f of process pid? NULL when unknown. */
static const struct fs_vg_mod *fs_vg_module_of(const struct fs_vg_mod *mods, size_t n, int pid,
                                               const struct fs_vg_frame *f, struct fs_symbolizer *sym)
{
    if (f->obj[0]) {
        for (size_t i = 0; i < n; i++)
            if (mods[i].pid == pid && strcmp(mods[i].path, f->obj) == 0)
                return &mods[i];
        for (size_t i = 0; i < n; i++)
            if (mods[i].pid == pid && strcmp(fs_base(mods[i].path), fs_base(f->obj)) == 0)
                return &mods[i];
        /* the same file under another name: a shared library loaded by its
         * soname, which is a symbolic link to the file valgrind names */
        char real[PATH_MAX];
        if (!realpath(f->obj, real))
            return NULL;
        for (size_t i = 0; i < n; i++)
            if (mods[i].pid == pid && mods[i].real[0] && strcmp(mods[i].real, real) == 0)
                return &mods[i];
        return NULL;
    }
    /* text log frame without an object: the module loaded below the address,
     * if the symbolizer finds the same function there */
    const struct fs_vg_mod *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (mods[i].pid == pid && mods[i].bias <= f->ip && (!best || mods[i].bias > best->bias))
            best = &mods[i];
    if (!best || !sym || !f->fn[0])
        return NULL;
    struct fs_sym_result r;
    if (fs_sym_lookup(sym, best->path, f->ip - best->bias, &r) != 0 || strcmp(r.func, f->fn) != 0)
        return NULL;
    return best;
}

void fs_vg_resolve(struct fs_vg_report *rep, const char *run_dir, struct fs_symbolizer *sym)
{
    size_t nm = 0;
    struct fs_vg_mod *mods = fs_vg_rec_modules(run_dir, &nm);
    for (size_t i = 0; i < rep->n; i++) {
        struct fs_vg_error *e = &rep->v[i];
        e->site = -1;
        e->offset = -1;
        e->module[0] = e->module_path[0] = '\0';
        int fallback = -1;
        for (int k = 0; k < e->nframes; k++) {
            struct fs_vg_frame *f = &e->frames[k];
            if (f->obj[0] && fs_vg_system_obj(f->obj))
                continue;
            const struct fs_vg_mod *m = fs_vg_module_of(mods, nm, e->pid, f, sym);
            if (m && fs_vg_system_obj(m->path))
                continue;
            if (m) {
                e->site = k;
                snprintf(e->module_path, sizeof e->module_path, "%s", m->path);
                snprintf(e->module, sizeof e->module, "%s", fs_base(m->path));
                e->offset = (int64_t)(f->ip - m->bias);
                break;
            }
            if (f->obj[0]) {                   /* a program object the preload never named */
                e->site = k;
                snprintf(e->module_path, sizeof e->module_path, "%s", f->obj);
                snprintf(e->module, sizeof e->module, "%s", fs_base(f->obj));
                break;
            }
            if (fallback < 0 && f->file[0])
                fallback = k;
        }
        if (e->site < 0)
            e->site = fallback;
        if (e->site >= 0 && e->offset >= 0 && sym) {
            /* file:line as faultstack's own rows spell them (absolute, from DWARF) */
            struct fs_vg_frame *f = &e->frames[e->site];
            struct fs_sym_result r;
            if (fs_sym_lookup(sym, e->module_path, (uint64_t)e->offset, &r) == 0 && r.file[0]) {
                snprintf(f->file, sizeof f->file, "%s", r.file);
                f->line = r.line;
            }
        }
    }
    free(mods);
}

int fs_vg_read_dir(const char *run_dir, struct fs_vg_report *rep, struct fs_symbolizer *sym,
                   char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    DIR *d = opendir(run_dir);
    if (!d) {
        snprintf(err, errlen, "cannot read the run directory %s: %s", run_dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, "memcheck.", 9) != 0 || l < 13)
            continue;
        char path[PATH_MAX], why[512] = "";
        snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
        int bad = 0;
        if (strcmp(de->d_name + l - 4, ".xml") == 0) {
            if (fs_vg_parse_xml(path, rep, why, sizeof why) < 0) {
                rep->incomplete++;
                bad = 1;
            }
        } else if (strcmp(de->d_name + l - 4, ".log") == 0) {
            bad = fs_vg_parse_log(path, rep, why, sizeof why) < 0;
        }
        if (bad && !rep->warning[0])
            snprintf(rep->warning, sizeof rep->warning, "%s", why);
        if (bad && strstr(why, "out of memory")) {
            closedir(d);
            snprintf(err, errlen, "%s", why);
            return -1;
        }
    }
    closedir(d);
    /* valgrind 3.19 with --xml=yes writes each "Open file descriptor" of the
     * log without its stack and the stack as a top-level <stack> of the XML,
     * in the same order: give each such fd of a pid the next stack of that pid */
    for (size_t i = 0; i < rep->n; i++) {
        struct fs_vg_error *e = &rep->v[i];
        if (strcmp(e->source, "log") != 0 || e->inherited || e->nframes)
            continue;
        for (size_t k = 0; k < rep->n; k++) {
            struct fs_vg_error *s = &rep->v[k];
            if (s->pid == e->pid && !strcmp(s->kind, FS_VG_FD_STACK) && s->nframes) {
                e->frames = s->frames;
                e->nframes = s->nframes;
                s->frames = NULL;
                s->nframes = 0;
                break;
            }
        }
    }
    for (size_t i = 0; i < rep->n; i++)
        if (!strcmp(rep->v[i].kind, FS_VG_FD_STACK))
            rep->v[i].inherited = -1;            /* used up or unpaired: dropped below */
    /* an fd reported both in the XML (3.23+) and in the log: keep the XML's;
     * memcheck's own report files are not the program's */
    char own[PATH_MAX + 16];
    snprintf(own, sizeof own, "%s/memcheck.", run_dir);
    for (size_t i = 0; i < rep->n; i++) {
        struct fs_vg_error *e = &rep->v[i];
        if (e->fd >= 0 && strncmp(e->path, own, strlen(own)) == 0) {
            e->inherited = -1;
            continue;
        }
        if (strcmp(e->source, "log") != 0)
            continue;
        for (size_t k = 0; k < rep->n; k++)
            if (k != i && rep->v[k].pid == e->pid && rep->v[k].fd == e->fd &&
                strcmp(rep->v[k].kind, "FdNotClosed") == 0 && strcmp(rep->v[k].source, "xml") == 0) {
                e->inherited = -1;             /* dropped below */
                break;
            }
    }
    size_t w = 0;
    for (size_t i = 0; i < rep->n; i++) {
        if (rep->v[i].inherited < 0) {
            fs_vg_error_free(&rep->v[i]);
            continue;
        }
        rep->v[w++] = rep->v[i];
    }
    rep->n = w;
    fs_vg_resolve(rep, run_dir, sym);
    return rep->xml_files;
}

/* ---------------- storing ---------------- */

int fs_vg_is_finding(const char *kind)
{
    static const char *const kinds[] = { "InvalidRead", "InvalidWrite", "InvalidFree", "MismatchedFree",
                                         "InvalidJump", "Overlap", "UninitCondition", "UninitValue",
                                         "SyscallParam", "FdBadClose", NULL };
    for (int i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return 1;
    return 0;
}

int fs_vg_store(sqlite3 *db, int64_t run_id, const struct fs_vg_report *rep, char *err, size_t errlen)
{
    sqlite3_stmt *st = fs_db_prepare(db,
        "INSERT INTO memcheck_error(run_id, pid, kind, leak_kind, bytes, blocks, fd, path, what, func,"
        " module, module_path, offset, file, line, stack, aux, source, inherited, indirect_bytes)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)", err, errlen);
    if (!st)
        return -1;
    int n = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const struct fs_vg_error *e = &rep->v[i];
        const struct fs_vg_frame *f = e->site >= 0 ? &e->frames[e->site] : NULL;
        size_t cap = (size_t)e->nframes * 1400 + 1, used = 0;
        char *stack = malloc(cap);
        if (stack) {
            stack[0] = '\0';
            for (int k = 0; k < e->nframes; k++) {
                char one[1400];
                fs_vg_frame_text(&e->frames[k], one, sizeof one);
                used += (size_t)snprintf(stack + used, cap - used, "%s\n", one);
            }
        }
        fs_bind_int(st, 1, run_id);
        fs_bind_int(st, 2, e->pid);
        fs_bind_text(st, 3, e->kind[0] ? e->kind : "unknown");
        fs_bind_text(st, 4, e->leak_kind);
        fs_bind_int_or_null(st, 5, e->bytes, e->bytes < 0);
        fs_bind_int_or_null(st, 6, e->blocks, e->blocks < 0);
        fs_bind_int_or_null(st, 7, e->fd, e->fd < 0);
        fs_bind_text(st, 8, e->path);
        fs_bind_text(st, 9, e->what);
        fs_bind_text(st, 10, f ? f->fn : NULL);
        fs_bind_text(st, 11, e->module);
        fs_bind_text(st, 12, e->module_path);
        fs_bind_int_or_null(st, 13, e->offset, e->offset < 0);
        fs_bind_text(st, 14, f ? f->file : NULL);
        fs_bind_int_or_null(st, 15, f ? f->line : 0, !(f && f->line));
        fs_bind_text(st, 16, stack);
        fs_bind_text(st, 17, e->aux);
        fs_bind_text(st, 18, e->source);
        fs_bind_int(st, 19, e->inherited > 0);
        fs_bind_int_or_null(st, 20, e->indirect, e->bytes < 0);
        free(stack);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "database write failed: %s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return -1;
        }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}
