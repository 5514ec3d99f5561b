/* sanitizer.c — sanitizer builds under faultstack (sanitizer.h).
 *
 * Starting them. gcc -fsanitize=address links libasan.so dynamically, and
 * ASan refuses to start unless it comes first in the initial library list;
 * the preload must come first (its malloc wrappers must see the program's
 * calls; they then forward to ASan's malloc, wrap_mem_custom.c). So every target
 * gets ASAN_OPTIONS with verify_asan_link_order=0. LeakSanitizer (on by
 * default with ASan) is turned off (detect_leaks=0) unless the user's
 * ASAN_OPTIONS turn it on: faultstack's own leak verdict covers memory, with
 * the fault that exposes each leak, and LSan's exit status 1 at exit would
 * make every leaking baseline "fail". A user who keeps it gets its report
 * stored as a second opinion (kind lsan:..., not a finding).
 *
 * Reading their reports. log_path=RUN_DIR/san puts each process's reports in
 * RUN_DIR/san.PID; stack_trace_format adds (module+offset) to every frame, so
 * the site of a report is found (and symbolized) like every other site: the
 * first frame outside the sanitizer runtime, libc, the loader and the
 * preload. symbolize=0: the runtime does not symbolize (clang's runs
 * llvm-symbolizer as a child process, which the preload would enter and a
 * sweep would fail call by call); the supervisor symbolizes the frames of the
 * stored report (fs_sanitizer_symbolize). The settings faultstack needs come
 * after the user's options (they win), its defaults before (the user's win).
 *
 * A program with the ASan runtime linked in (clang's default) defines malloc &
 * co. itself and calls them directly, so LD_PRELOAD alone does not put the
 * preload in front of them: the preload redirects them at start-up
 * (harness/preload/sanpatch.c); fs_sanitizer_warn says when the program lacks
 * what that needs. */
#define _GNU_SOURCE
#include "sanitizer.h"
#include "symbolize.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------- detection (ELF dynamic section and symbols) ---------------- */

static int fs_san_lib(const char *name, const char *stem)
{
    /* libasan.so.8, libclang_rt.asan-x86_64.so, libclang_rt.asan.so */
    size_t l = strlen(stem);
    if (!strncmp(name, "lib", 3) && !strncmp(name + 3, stem, l) && name[3 + l] == '.')
        return 1;
    return !strncmp(name, "libclang_rt.", 12) && !strncmp(name + 12, stem, l) &&
           (name[12 + l] == '-' || name[12 + l] == '.');
}

unsigned fs_sanitizer_detect(const char *path)
{
    unsigned flags = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return 0;
    }
    size_t size = (size_t)sb.st_size;
    static const char *const entries[] = { "malloc", "calloc", "realloc", "free", "memalign", "cfree",
                                           "reallocarray", NULL };
    unsigned have = 0;
    const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        const Elf64_Shdr *s = &sh[i];
        if (s->sh_link >= eh->e_shnum || s->sh_offset + s->sh_size > size)
            continue;
        const Elf64_Shdr *strs = &sh[s->sh_link];
        if (strs->sh_offset + strs->sh_size > size)
            continue;
        const char *str = (const char *)m + strs->sh_offset;
        size_t strsz = strs->sh_size;
        if (s->sh_type == SHT_DYNAMIC) {
            const Elf64_Dyn *d = (const Elf64_Dyn *)(m + s->sh_offset);
            for (size_t k = 0; k < s->sh_size / sizeof *d && d[k].d_tag != DT_NULL; k++) {
                if (d[k].d_tag != DT_NEEDED || d[k].d_un.d_val >= strsz)
                    continue;
                const char *n = str + d[k].d_un.d_val;
                if (fs_san_lib(n, "asan"))
                    flags |= FS_SAN_ASAN_DSO;
                else if (fs_san_lib(n, "ubsan") || fs_san_lib(n, "ubsan_standalone"))
                    flags |= FS_SAN_UBSAN;
                else if (fs_san_lib(n, "tsan"))
                    flags |= FS_SAN_TSAN;
            }
        } else if (s->sh_type == SHT_SYMTAB || s->sh_type == SHT_DYNSYM) {
            const Elf64_Sym *sym = (const Elf64_Sym *)(m + s->sh_offset);
            for (size_t k = 0; k < s->sh_size / sizeof *sym; k++) {
                if (sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= strsz)
                    continue;
                const char *n = str + sym[k].st_name;
                if (s->sh_type == SHT_DYNSYM)
                    for (int e = 0; entries[e]; e++)
                        if (!strcmp(n, entries[e]))
                            have |= 1u << e;
                if (n[0] != '_' || n[1] != '_')
                    continue;
                if (!strcmp(n, "__asan_init"))
                    flags |= FS_SAN_ASAN_STATIC;
                else if (!strcmp(n, "__tsan_init"))
                    flags |= FS_SAN_TSAN;
                else if (!strncmp(n, "__ubsan_handle_", 15))
                    flags |= FS_SAN_UBSAN;
            }
        }
    }
    if (have == (1u << 7) - 1)
        flags |= FS_SAN_ASAN_ENTRIES;
out:
    munmap((void *)m, size);
    return flags;
}

void fs_sanitizer_warn(const char *prog)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char warned[PATH_MAX];
    unsigned f = fs_sanitizer_detect(prog);
    if (!(f & FS_SAN_ASAN_STATIC) || (f & FS_SAN_ASAN_DSO) || (f & FS_SAN_ASAN_ENTRIES))
        return;
    pthread_mutex_lock(&lock);
    int again = strcmp(warned, prog) == 0;
    snprintf(warned, sizeof warned, "%s", prog);
    pthread_mutex_unlock(&lock);
    if (again)
        return;
    fprintf(stderr,
            "faultstack: warning: %s has the AddressSanitizer runtime linked in, and it lacks the entry\n"
            "faultstack:   points (memalign, cfree, reallocarray) through which faultstack redirects its malloc\n"
            "faultstack:   family: allocations may be neither failed nor checked for leaks (ASan's reports are\n"
            "faultstack:   recorded). Build with -shared-libasan (and -Wl,-rpath to the runtime's directory)\n"
            "faultstack:   for full coverage, as gcc does by default.\n", prog);
}

int fs_sanitizer_no_valgrind(const char *prog, char *err, size_t errlen)
{
    unsigned f = fs_sanitizer_detect(prog);
    if (!(f & (FS_SAN_ASAN_DSO | FS_SAN_ASAN_STATIC | FS_SAN_TSAN)))
        return 0;
    snprintf(err, errlen, "--valgrind cannot run %s: it is built with -fsanitize=%s, and memcheck cannot run "
             "such a program (both replace the allocator; the sanitizer reserves the address space memcheck "
             "needs). Drop --valgrind (the sanitizer checks memory here: its reports are findings), or test a "
             "build without -fsanitize under --valgrind", prog, (f & FS_SAN_TSAN) ? "thread" : "address");
    return -1;
}

/* ---------------- the environment ---------------- */

#define FS_SAN_FORMAT "stack_trace_format=\"    #%n %p %F %L (%m+%o)\""

struct fs_san_var { const char *name, *before, *after; };
static const struct fs_san_var fs_san_vars[] = {
    { "ASAN_OPTIONS", "detect_leaks=0:symbolize=0:" FS_SAN_FORMAT, "verify_asan_link_order=0" },
    { "UBSAN_OPTIONS", "print_stacktrace=1:report_error_type=1:symbolize=0:" FS_SAN_FORMAT, NULL },
    { "TSAN_OPTIONS", NULL, NULL },
    { NULL, NULL, NULL }
};

int fs_sanitizer_env_name(const char *entry)
{
    for (int i = 0; fs_san_vars[i].name; i++) {
        size_t l = strlen(fs_san_vars[i].name);
        if (!strncmp(entry, fs_san_vars[i].name, l) && entry[l] == '=')
            return 1;
    }
    return 0;
}

size_t fs_sanitizer_env_size(const char *run_dir)
{
    size_t n = 0;
    for (int i = 0; fs_san_vars[i].name; i++) {
        const char *user = getenv(fs_san_vars[i].name);
        n += strlen(fs_san_vars[i].name) + 16 + (user ? strlen(user) : 0) + strlen(run_dir) + 32 +
             (fs_san_vars[i].before ? strlen(fs_san_vars[i].before) : 0) +
             (fs_san_vars[i].after ? strlen(fs_san_vars[i].after) : 0);
    }
    return n;
}

int fs_sanitizer_env(const char *run_dir, char *buf, size_t cap, char **env, size_t *k)
{
    if (cap < fs_sanitizer_env_size(run_dir))
        return -1;
    char *w = buf;
    for (int i = 0; fs_san_vars[i].name; i++) {
        const struct fs_san_var *v = &fs_san_vars[i];
        const char *user = getenv(v->name);
        env[(*k)++] = w;
        w += sprintf(w, "%s=%s%s%s%s%s%slog_path=%s/san", v->name, v->before ? v->before : "",
                     v->before ? ":" : "", user && *user ? user : "", user && *user ? ":" : "",
                     v->after ? v->after : "", v->after ? ":" : "", run_dir) + 1;
    }
    return 0;
}

/* ---------------- reports ---------------- */

static int fs_san_headline(const char *ln)
{
    const char *s = strstr(ln, "Sanitizer");
    if (s && (strstr(ln, "ERROR: ") || strstr(ln, "WARNING: ")) && strstr(s, "Sanitizer:"))
        return 1;
    return strstr(ln, ": runtime error: ") != NULL;
}

static void fs_san_tool(const char *headline, char *tool, size_t len)
{
    static const struct { const char *word, *tool; } t[] = {
        { "HWAddressSanitizer", "hwasan" }, { "AddressSanitizer", "asan" }, { "LeakSanitizer", "lsan" },
        { "ThreadSanitizer", "tsan" }, { "MemorySanitizer", "msan" }, { "UndefinedBehaviorSanitizer", "ubsan" },
        { NULL, NULL } };
    for (int i = 0; t[i].word; i++)
        if (strstr(headline, t[i].word)) {
            snprintf(tool, len, "%s", t[i].tool);
            return;
        }
    snprintf(tool, len, "%s", strstr(headline, "runtime error: ") ? "ubsan" : "san");
}

/* 'heap-use-after-free on address ...' -> 'heap-use-after-free';
 * 'signed integer overflow: ...' -> 'signed-integer-overflow'. */
static void fs_san_word(const char *s, char *out, size_t len)
{
    size_t n = 0;
    while (*s == ' ') s++;
    for (; *s && n + 1 < len; s++) {
        if (!strncmp(s, " on ", 4) || !strncmp(s, " at ", 4) || !strncmp(s, " in ", 4) ||
            !strncmp(s, " of type", 8) || strchr(":('\"(", *s) || isdigit((unsigned char)*s))
            break;
        out[n++] = *s == ' ' ? '-' : *s;
    }
    while (n && out[n - 1] == '-') n--;
    out[n] = '\0';
}

/* The bug type of a SUMMARY line, up to its location: 'heap-use-after-free
 * /src/x.c:2 in main', 'data race x.c:6 in main', 'SEGV (/p/prog+0x11d6)',
 * 'lock-order-inversion (potential deadlock)' -> words joined with '-'. */
static void fs_san_summary_word(const char *s, char *out, size_t len)
{
    size_t n = 0;
    char tok[256];
    int used;
    out[0] = '\0';
    while (sscanf(s, "%255s%n", tok, &used) == 1) {
        if (strpbrk(tok, ":/(") || !strcmp(tok, "in") || n + strlen(tok) + 2 >= len)
            break;
        if (n)
            out[n++] = '-';
        memcpy(out + n, tok, strlen(tok) + 1);
        n += strlen(tok);
        s += used;
    }
}

static int fs_san_runtime_module(const char *path)
{
    static const char *const pre[] = { "libc.so", "ld-linux", "ld64.so", "libasan.so", "libubsan.so",
        "libtsan.so", "liblsan.so", "libhwasan.so", "libclang_rt.", "libfaultstack-preload", "libgcc_s.so",
        "libstdc++.so", "libpthread.so", "linux-vdso", NULL };
    const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (int i = 0; pre[i]; i++)
        if (!strncmp(b, pre[i], strlen(pre[i])))
            return 1;
    return 0;
}

static int fs_san_runtime_func(const char *f)
{
    static const char *const pre[] = { "__interceptor_", "__interception", "__asan", "__sanitizer", "__ubsan",
        "__tsan", "__lsan", "__msan", "_ZN6__asan", "_ZN11__sanitizer", "_ZN7__ubsan", "printf_common",
        "__libc_start", NULL };
    for (int i = 0; pre[i]; i++)
        if (!strncmp(f, pre[i], strlen(pre[i])))
            return 1;
    return 0;
}

/* '    #3 0x55d1 in main /src/x.c:12 (/path/prog+0x11d6)': module, offset, func. */
static int fs_san_frame(const char *ln, struct fs_san_report *r, int *first_stack_done)
{
    const char *p = ln;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '#' || !isdigit((unsigned char)p[1]))
        return 0;
    if (*first_stack_done || r->module_path[0])
        return 1;
    const char *open = strrchr(p, '(');
    const char *plus = open ? strstr(open, "+0x") : NULL;
    if (!open || !plus)
        return 1;
    char mod[512];
    size_t ml = (size_t)(plus - open - 1);
    if (ml >= sizeof mod)
        return 1;
    memcpy(mod, open + 1, ml);
    mod[ml] = '\0';
    char func[128] = "";
    const char *in = strstr(p, " in ");
    if (in && in < open)
        sscanf(in + 4, "%127s", func);
    if (fs_san_runtime_module(mod) || (func[0] && fs_san_runtime_func(func)))
        return 1;
    snprintf(r->module_path, sizeof r->module_path, "%s", mod);
    r->offset = strtoull(plus + 1, NULL, 16);
    snprintf(r->func, sizeof r->func, "%s", func);
    return 1;
}

/* Fill kind, site and text from lines [a, b) of the report. */
static void fs_san_finish(struct fs_san_report *r, char **lines, size_t a, size_t b)
{
    size_t len = 0;
    for (size_t i = a; i < b; i++)
        len += strlen(lines[i]) + 1;
    r->text = malloc(len + 1);
    if (r->text) {
        char *w = r->text;
        for (size_t i = a; i < b; i++)
            w += sprintf(w, "%s\n", lines[i]);
        *w = '\0';
    }
    int in_stack = 0, done = 0;
    char word[80] = "";
    for (size_t i = a; i < b; i++) {
        int fr = fs_san_frame(lines[i], r, &done);
        if (fr)
            in_stack = 1;
        else if (in_stack)
            done = 1;                        /* only the first stack: where it happened */
        const char *sum = strstr(lines[i], "SUMMARY: ");
        const char *san = sum ? strstr(sum, "Sanitizer: ") : NULL;
        if (san && strcmp(r->tool, "lsan") && isalpha((unsigned char)san[11]))
            fs_san_summary_word(san + 11, word, sizeof word);
    }
    if (!word[0]) {
        const char *h = strstr(r->headline, "Sanitizer: ");
        const char *u = strstr(r->headline, "runtime error: ");
        fs_san_word(u ? u + 15 : h ? h + 11 : r->headline, word, sizeof word);
    }
    snprintf(r->kind, sizeof r->kind, "%s:%s", r->tool, word[0] ? word : "report");
}

static int fs_san_push(struct fs_san_report **v, int *n, int *cap)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        struct fs_san_report *nv = realloc(*v, (size_t)nc * sizeof **v);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    memset(&(*v)[*n], 0, sizeof **v);
    return (*n)++;
}

/* One log file: reports split at their headlines. */
static int fs_san_file(const char *path, int pid, struct fs_san_report **v, int *n, int *cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char **lines = NULL, *ln = NULL;
    size_t nl = 0, lcap = 0, sz = 0;
    ssize_t got;
    while ((got = getline(&ln, &sz, f)) >= 0) {
        while (got > 0 && (ln[got - 1] == '\n' || ln[got - 1] == '\r'))
            ln[--got] = '\0';
        if (nl == lcap) {
            lcap = lcap ? lcap * 2 : 256;
            char **nlines = realloc(lines, lcap * sizeof *lines);
            if (!nlines) break;
            lines = nlines;
        }
        if (!(lines[nl] = strdup(ln)))
            break;
        nl++;
    }
    free(ln);
    fclose(f);
    int cur = -1;
    size_t start = 0;
    for (size_t i = 0; i <= nl; i++) {
        int head = i < nl && fs_san_headline(lines[i]);
        if (i < nl && !head)
            continue;
        size_t begin = i;
        if (head && i > 0 && !strncmp(lines[i - 1], "=====", 5))
            begin = i - 1;                   /* ASan's separator belongs to the report below */
        if (cur >= 0)
            fs_san_finish(&(*v)[cur], lines, start, begin);
        if (i == nl)
            break;
        cur = fs_san_push(v, n, cap);
        if (cur < 0)
            break;
        struct fs_san_report *r = &(*v)[cur];
        r->pid = pid;
        const char *h = lines[i];
        if (h[0] == '=' && h[1] == '=') {    /* '==1234==ERROR: ...' */
            const char *e = strstr(h + 2, "==");
            if (e) h = e + 2;
        }
        snprintf(r->headline, sizeof r->headline, "%s", h);
        fs_san_tool(r->headline, r->tool, sizeof r->tool);
        start = begin;
    }
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

static int fs_san_dir(const char *dir, const int *pids, size_t npids, struct fs_san_report **v, int *n,
                      int *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    char **names = NULL;
    int *npid = NULL;
    size_t nn = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "san.", 4) || !isdigit((unsigned char)de->d_name[4]))
            continue;
        int pid = atoi(de->d_name + 4);
        int mine = 0;
        for (size_t i = 0; i < npids; i++)
            mine |= pids[i] == pid;
        if (!mine)
            continue;
        char **nn2 = realloc(names, (nn + 1) * sizeof *names);
        int *np2 = realloc(npid, (nn + 1) * sizeof *npid);
        if (nn2) names = nn2;
        if (np2) npid = np2;
        if (!nn2 || !np2)
            break;
        names[nn] = NULL;
        if (asprintf(&names[nn], "%s/%s", dir, de->d_name) < 0)
            break;
        npid[nn++] = pid;
    }
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        fs_san_file(names[i], npid[i], v, n, cap);
        free(names[i]);
    }
    free(names);
    free(npid);
    return 0;
}

int fs_sanitizer_reports(const char *run_dir, const int *pids, size_t npids, struct fs_san_report **out)
{
    struct fs_san_report *v = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    fs_san_dir(run_dir, pids, npids, &v, &n, &cap);
    /* a fork-mode child's directory RUN/fN: log_path still names RUN */
    const char *b = strrchr(run_dir, '/');
    if (b && b[1] == 'f' && isdigit((unsigned char)b[2])) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%.*s", (int)(b - run_dir), run_dir);
        fs_san_dir(parent, pids, npids, &v, &n, &cap);
    }
    *out = v;
    return n;
}

void fs_sanitizer_free(struct fs_san_report *r, int n)
{
    for (int i = 0; i < n; i++)
        free(r[i].text);
    free(r);
}

/* '    #0 0x55d1 (/p/prog+0x11d6) (/p/prog+0x11d6)' (symbolize=0) ->
 * '    #0 0x55d1 in main /src/x.c:12 (/p/prog+0x11d6)'. Lines the runtime
 * symbolized already (' in ') and other lines are kept. */
char *fs_sanitizer_symbolize(const char *text, struct fs_symbolizer *sym)
{
    size_t cap = strlen(text) * 2 + 4096, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        const char *q = line;
        while (*q == ' ' || *q == '\t') q++;
        char *open = strrchr(line, '(');
        char *plus = open ? strstr(open, "+0x") : NULL;
        char *pc = strstr(line, " 0x");
        char piece[4096];
        const char *emit = line;
        if (sym && *q == '#' && open && plus && pc && pc < open && !strstr(line, " in ") &&
            (size_t)(plus - open - 1) < 1024) {
            char mod[1024];
            snprintf(mod, sizeof mod, "%.*s", (int)(plus - open - 1), open + 1);
            struct fs_sym_result r;
            memset(&r, 0, sizeof r);
            if (fs_sym_lookup(sym, mod, strtoull(plus + 1, NULL, 16), &r) == 0 && r.func[0]) {
                const char *pcend = pc + 1;
                while (*pcend && *pcend != ' ') pcend++;
                char loc[1100] = "";
                if (r.file[0])
                    snprintf(loc, sizeof loc, " %s:%d", r.file, r.line);
                snprintf(piece, sizeof piece, "%.*s in %s%s %s", (int)(pcend - line), line, r.func, loc, open);
                emit = piece;
            }
        }
        size_t el = strlen(emit);
        if (n + el + 2 >= cap) {
            cap = (n + el + 2) * 2;
            char *no = realloc(out, cap);
            if (!no) { free(out); return NULL; }
            out = no;
        }
        memcpy(out + n, emit, el);
        n += el;
        if (e) out[n++] = '\n';
        p = e ? e + 1 : p + len;
    }
    out[n] = '\0';
    return out;
}

void fs_sanitizer_summary(sqlite3 *db, int64_t run_id, const char *db_path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT kind, pid, symbol, file, line FROM sanitizer_report WHERE run_id = ?1"
                           " ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, run_id);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *sym = (const char *)sqlite3_column_text(st, 2);
        const char *file = (const char *)sqlite3_column_text(st, 3);
        char at[1100] = "";
        if (file)
            snprintf(at, sizeof at, " at %s:%d", file, sqlite3_column_int(st, 4));
        fprintf(stderr, "faultstack: %s (pid %d)%s%s%s\n", (const char *)sqlite3_column_text(st, 0),
                sqlite3_column_int(st, 1), sym ? " in " : "", sym ? sym : "", at);
        n++;
    }
    sqlite3_finalize(st);
    if (n)
        fprintf(stderr, "faultstack: the report%s: sqlite3 %s \"SELECT report FROM sanitizer_reports WHERE run_id = %lld\"\n",
                n == 1 ? "" : "s", db_path, (long long)run_id);
}
