/* core.c — start-up, call-site identity and the fault decision of the preload.
 *
 * fs_begin() is on the path of every wrapped call, so it is kept short: the
 * call site is the wrapper's return address, mapped to (module, offset) through
 * a sorted table of the loaded modules; a fault point is counted in a counter
 * shared by every process of the run (a MAP_SHARED file in the run directory) and
 * per call site (occurrence index). Calls whose return address is inside libc,
 * the loader or the preload are not fault points: their failure shows up as the
 * failure of the wrapped call the program made. */
#define _GNU_SOURCE
#include "preload.h"
#include "sysmods.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unwind.h>

int fs_active;
FS_TLS int fs_guard;
FS_TLS int fs_busy;
struct fs_plan fs_the_plan;
char fs_run_dir[512];
struct fs_shared *fs_shm;

static struct fs_shared fs_private_shm;
static unsigned char fs_counts_func[FS_MAX_FUNCS];  /* plan's only= filter, by id */
static int fs_site_mod = -1;                       /* plan's site module id, once known */
static int fs_site_func = -1;

/* ---------------- real functions ---------------- */

static void fs_die(const char *msg)
{
    /* Only reached when libc lacks a function we wrap: nothing sane to do. */
    syscall(SYS_write, 2, "faultstack-preload: ", 20);
    syscall(SYS_write, 2, msg, strlen(msg));
    syscall(SYS_write, 2, "\n", 1);
    abort();
}

void *fs_real(const char *name)
{
    fs_guard++;
    fs_busy++;
    void *p = dlsym(RTLD_NEXT, name);
    fs_busy--;
    fs_guard--;
    if (!p) {
        char msg[160] = "cannot find the real ";
        strncat(msg, name, sizeof msg - 40);
        strcat(msg, " (dlsym RTLD_NEXT)");
        fs_die(msg);
    }
    return p;
}

/* ---------------- modules ---------------- */

#define FS_MAX_MODULES 512
static struct fs_module fs_modules[FS_MAX_MODULES];
static int fs_nmodules;
static struct fs_module *fs_sorted[FS_MAX_MODULES];
static fs_lock_t fs_mod_lock;
static void fs_modules_refresh(void);
static uintptr_t fs_self_anchor = (uintptr_t)&fs_modules_refresh;   /* code: inside our PF_X range */

static const char *const fs_system_prefixes[] = { FS_SYSTEM_MODULE_PREFIXES, NULL };

/* Sanitizer runtimes: system modules whose own allocations (report buffers,
 * ...) are neither the program's nor libc-on-its-behalf: not tracked at all. */
static const char *const fs_sanrt_prefixes[] = {
    "libasan.so", "libubsan.so", "libtsan.so", "liblsan.so", "libhwasan.so", "libclang_rt.", NULL
};

static int fs_prefixed(const char *base, const char *const *prefixes)
{
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int fs_is_system(const char *base)
{
    return fs_prefixed(base, fs_system_prefixes) || fs_prefixed(base, fs_sanrt_prefixes);
}

static void fs_readlink_exe(char *out, size_t len)
{
    long n = syscall(SYS_readlink, "/proc/self/exe", out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

static int fs_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo) lo = a;
        if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
    }
    if (hi == 0)
        return 0;
    for (int i = 0; i < fs_nmodules; i++)
        if (fs_modules[i].lo == lo && fs_modules[i].bias == info->dlpi_addr)
            return 0;                                  /* known already */
    if (fs_nmodules >= FS_MAX_MODULES)
        return 1;
    struct fs_module *m = &fs_modules[fs_nmodules];
    memset(m, 0, sizeof *m);
    m->lo = lo; m->hi = hi; m->bias = info->dlpi_addr;
    if (info->dlpi_name && info->dlpi_name[0])
        strncpy(m->path, info->dlpi_name, sizeof m->path - 1);
    else
        fs_readlink_exe(m->path, sizeof m->path);      /* the main program */
    const char *slash = strrchr(m->path, '/');
    m->base = slash ? slash + 1 : m->path;
    m->self = fs_self_anchor >= lo && fs_self_anchor < hi;
    size_t bl = strlen(m->base);
    /* a protocol library's wrappers (faultstack protocol build) are ours, not the program's */
    int protolib = bl > 12 && strcmp(m->base + bl - 12, "-protocol.so") == 0;
    m->system = m->self || fs_is_system(m->base) || m->path[0] == '\0' || protolib;
    m->sanrt = fs_prefixed(m->base, fs_sanrt_prefixes);
    m->counts = !fs_the_plan.module_filter[0] || strcmp(fs_the_plan.module_filter, m->base) == 0;
    if (fs_the_plan.trigger == FS_PLAN_SITE && strcmp(fs_the_plan.site_module, m->base) == 0)
        fs_site_mod = fs_nmodules + 1;
    m->id = fs_nmodules + 1;
    __atomic_store_n(&fs_nmodules, fs_nmodules + 1, __ATOMIC_RELEASE);
    return 0;
}

static void fs_modules_refresh(void)
{
    fs_lock(&fs_mod_lock);
    fs_guard++;
    fs_busy++;
    dl_iterate_phdr(fs_phdr_cb, NULL);
    fs_busy--;
    fs_guard--;
    /* insertion sort of the pointer table by lo */
    int n = fs_nmodules;
    for (int i = 0; i < n; i++)
        fs_sorted[i] = &fs_modules[i];
    for (int i = 1; i < n; i++) {
        struct fs_module *x = fs_sorted[i];
        int j = i - 1;
        while (j >= 0 && fs_sorted[j]->lo > x->lo) { fs_sorted[j + 1] = fs_sorted[j]; j--; }
        fs_sorted[j + 1] = x;
    }
    fs_unlock(&fs_mod_lock);
}

static struct fs_module *fs_module_search(uintptr_t a)
{
    int lo = 0, hi = __atomic_load_n(&fs_nmodules, __ATOMIC_ACQUIRE) - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        struct fs_module *m = fs_sorted[mid];
        if (!m) return NULL;
        if (a < m->lo) hi = mid - 1;
        else if (a >= m->hi) lo = mid + 1;
        else return m;
    }
    return NULL;
}

static FS_TLS struct fs_module *fs_last_mod;

struct fs_module *fs_module_of(uintptr_t a)
{
    struct fs_module *m = fs_last_mod;
    if (m && a >= m->lo && a < m->hi)
        return m;
    m = fs_module_search(a);
    if (!m) {                               /* dlopen'ed since: look again */
        fs_modules_refresh();
        m = fs_module_search(a);
    }
    if (m)
        fs_last_mod = m;
    return m;
}

struct fs_module *fs_module_by_id(int id)
{
    return (id >= 1 && id <= fs_nmodules) ? &fs_modules[id - 1] : NULL;
}

/* ---------------- sites whose stacks are wanted ---------------- */

#define FS_MAX_STACK_SITES 64
static struct { char base[128]; uint64_t off; } fs_ss[FS_MAX_STACK_SITES];
static int fs_nss;

static void fs_stack_sites_parse(const char *s)
{
    while (s && *s && fs_nss < FS_MAX_STACK_SITES) {
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *plus = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == '+') plus = s + i;
        if (plus && (size_t)(plus - s) < sizeof fs_ss[0].base) {
            memcpy(fs_ss[fs_nss].base, s, (size_t)(plus - s));
            fs_ss[fs_nss].base[plus - s] = '\0';
            fs_ss[fs_nss].off = strtoull(plus + 1, NULL, 16);
            fs_nss++;
        }
        s = end ? end + 1 : NULL;
    }
}

int fs_stack_site(int mod, uint64_t off)
{
    if (!fs_nss)
        return 0;
    struct fs_module *m = fs_module_by_id(mod);
    for (int i = 0; m && i < fs_nss; i++)
        if (fs_ss[i].off == off && strcmp(fs_ss[i].base, m->base) == 0)
            return 1;
    return 0;
}

/* ---------------- call sites ---------------- */

struct fs_site {
    struct fs_site *next;
    uint64_t off;
    uint64_t count;
    uint64_t first;
    uint32_t ebadf;            /* closes of never-tracked fds that gave EBADF */
    uint16_t mod;
    uint16_t func;
};

#define FS_SITE_BUCKETS 4096
#define FS_SITE_STRIPES 64
static struct fs_site *fs_sites[FS_SITE_BUCKETS];
static fs_lock_t fs_site_locks[FS_SITE_STRIPES];

static unsigned fs_site_hash(int func, int mod, uint64_t off)
{
    uint64_t h = off * 0x9E3779B97F4A7C15ull ^ ((uint64_t)mod << 40) ^ ((uint64_t)func << 52);
    return (unsigned)(h >> 52) & (FS_SITE_BUCKETS - 1);
}

/* Find or create the site; returns it with its stripe locked in *lk. */
static struct fs_site *fs_site_get(int func, int mod, uint64_t off, fs_lock_t **lk)
{
    unsigned b = fs_site_hash(func, mod, off);
    *lk = &fs_site_locks[b % FS_SITE_STRIPES];
    fs_lock(*lk);
    for (struct fs_site *s = fs_sites[b]; s; s = s->next)
        if (s->off == off && s->mod == mod && s->func == func)
            return s;
    struct fs_site *s = fs_alloc(sizeof *s);
    if (!s) {
        fs_unlock(*lk);
        return NULL;
    }
    s->off = off; s->mod = (uint16_t)mod; s->func = (uint16_t)func;
    s->next = fs_sites[b];
    fs_sites[b] = s;
    return s;
}

unsigned fs_site_note_ebadf(const struct fs_call *c)
{
    fs_lock_t *lk;
    unsigned n = 0;
    struct fs_site *s = fs_site_get(c->id, c->mod, c->off, &lk);
    if (s) {
        n = ++s->ebadf;
        fs_unlock(lk);
    }
    return n;
}

/* Emit the per-site summary ('s' lines): every distinct fault-point site. */
void fs_sites_emit(void)
{
    char line[256];
    for (int b = 0; b < FS_SITE_BUCKETS; b++) {
        for (struct fs_site *s = fs_sites[b]; s; s = s->next) {
            if (!s->count && !s->ebadf)
                continue;
            size_t n = 0;
            line[n++] = 's'; line[n++] = ' ';
            const char *fn = fs_fn(s->func)->name;
            size_t fl = strlen(fn);
            memcpy(line + n, fn, fl); n += fl; line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->mod); line[n++] = ' ';
            n += fs_fmt_hex(line + n, s->off); line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->count); line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->first); line[n++] = '\n';
            fs_record_module(fs_module_by_id(s->mod));
            fs_record_raw(line, n);
            if (s->func == FS_F_close && s->ebadf >= 3) {
                /* 'w MOD OFF': a close-every-fd loop; its EBADFs are not double closes */
                n = 0;
                line[n++] = 'w'; line[n++] = ' ';
                n += fs_fmt_u64(line + n, s->mod); line[n++] = ' ';
                n += fs_fmt_hex(line + n, s->off); line[n++] = '\n';
                fs_record_raw(line, n);
            }
        }
    }
}

/* Stack walking uses the toolchain's own unwinder (libgcc_s, _Unwind_Backtrace):
 * it allocates nothing after start-up, opens no fd and needs no system call.
 * (libunwind 1.6 keeps a pipe on the lowest free fds, which the target would
 * see; bench/RESULTS.md has the measurements.) */
struct fs_uw {
    struct fs_uframe *out;
    int n, max;
    int (*stop)(struct fs_uw *w, uintptr_t ip, uintptr_t cfa);
    int mod;
    uint64_t off;
    uintptr_t sp, prev_cfa;
};

static _Unwind_Reason_Code fs_uw_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct fs_uw *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    uintptr_t cfa = (uintptr_t)_Unwind_GetCFA(ctx);
    if (!ip)
        return _URC_END_OF_STACK;
    if (w->stop && w->stop(w, ip, cfa))
        return _URC_END_OF_STACK;
    if (w->out && w->n < w->max) {
        w->out[w->n].ip = ip;
        w->out[w->n].cfa = cfa;
    }
    w->n++;
    w->prev_cfa = cfa;
    return (w->out && w->n >= w->max) ? _URC_END_OF_STACK : _URC_NO_REASON;
}

int fs_unwind(struct fs_uframe *out, int max)
{
    struct fs_uw w = { out, 0, max, NULL, 0, 0, 0, 0 };
    _Unwind_Backtrace(fs_uw_cb, &w);
    return w.n < max ? w.n : max;
}

static int fs_uw_site_stop(struct fs_uw *w, uintptr_t ip, uintptr_t cfa)
{
    struct fs_module *m = fs_module_of(ip);
    if (m && m->sanrt)
        return 1;                          /* libc working for a sanitizer runtime: not the program's */
    if (m && !m->system) {
        w->mod = m->id;
        w->off = (uint64_t)(ip - 1 - m->bias);
        w->sp = cfa;                       /* _Unwind_GetCFA gives this frame's own SP */
        return 1;
    }
    (void)cfa;
    return w->n > 64;
}

int fs_unwind_site(int *mod, uint64_t *off, uintptr_t *sp)
{
    struct fs_uw w = { NULL, 0, 0, fs_uw_site_stop, 0, 0, 0, 0 };
    _Unwind_Backtrace(fs_uw_cb, &w);
    if (!w.mod)
        return -1;
    *mod = w.mod;
    *off = w.off;
    *sp = w.sp;
    return 0;
}

/* The callers of the function that holds the call site: the return address
 * one frame above the first frame in the program's code (the site's frame),
 * then the one above that, and so on. With a thin wrapper (xmalloc,
 * jsonp_malloc, yaml_malloc) every allocation has the same call site, and the
 * callers are what tell them apart (sweep's site strategy, plan item caller=).
 * Returns how many of the max callers were found (0: none). */
struct fs_uw_caller { int n, at_site, got, max; int *mod; uint64_t *off; };

static _Unwind_Reason_Code fs_uw_caller_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct fs_uw_caller *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (!ip || ++w->n > 64)
        return _URC_END_OF_STACK;
    struct fs_module *m = fs_module_of(ip);
    if (!w->at_site) {
        if (m && !m->system)
            w->at_site = 1;                  /* the site's frame: the next ones are callers */
        return _URC_NO_REASON;
    }
    if (!m)
        return _URC_END_OF_STACK;
    w->mod[w->got] = m->id;
    w->off[w->got] = (uint64_t)(ip - 1 - m->bias);
    return ++w->got < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

int fs_callers(int max, int *mod, uint64_t *off)
{
    struct fs_uw_caller w = { 0, 0, 0, max, mod, off };
    if (max > 0)
        _Unwind_Backtrace(fs_uw_caller_cb, &w);
    return w.got;
}

/* FAULTSTACK_CALLERS=1 (sweep's baseline, site strategy): 'c ORD MOD OFF
 * [MOD OFF [MOD OFF]]', the callers of each fault point's function, after its
 * 'p' line. */
static int fs_callers_all;

static void fs_record_caller(uint64_t ord)
{
    int mod[FS_PLAN_MAX_CALLERS];
    uint64_t off[FS_PLAN_MAX_CALLERS];
    int n = fs_callers(FS_PLAN_MAX_CALLERS, mod, off);
    if (n <= 0)
        return;
    char line[200];
    size_t k = 0;
    line[k++] = 'c'; line[k++] = ' ';
    k += fs_fmt_u64(line + k, ord);
    for (int i = 0; i < n; i++) {
        line[k++] = ' ';
        k += fs_fmt_u64(line + k, (uint64_t)mod[i]); line[k++] = ' ';
        k += fs_fmt_hex(line + k, off[i]);
        fs_record_module(fs_module_by_id(mod[i]));
    }
    line[k++] = '\n';
    fs_record_raw(line, k);
}

/* site=...,caller=MOD+OFF[/...]: is this call made for those callers? */
static uint64_t fs_caller_occ;         /* calls from the site for those callers */

static int fs_caller_matches(const struct fs_plan *p)
{
    int mod[FS_PLAN_MAX_CALLERS];
    uint64_t off[FS_PLAN_MAX_CALLERS];
    int n = p->n_callers < FS_PLAN_MAX_CALLERS ? p->n_callers : FS_PLAN_MAX_CALLERS;
    if (fs_callers(n, mod, off) != n)
        return 0;
    for (int i = 0; i < n; i++) {
        struct fs_module *m = fs_module_by_id(mod[i]);
        if (off[i] != p->caller_offset[i] || !m || strcmp(m->base, p->caller_module[i]) != 0)
            return 0;
    }
    return 1;
}

/* ---------------- the fault decision ---------------- */

static int fs_ctx_all;                 /* FAULTSTACK_CTX=1: hash every point's context */
static uint64_t fs_ctx_occ;            /* site=...,ctx=: calls from the site in that context */

static uint64_t fs_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

uint64_t fs_ctx_hash(void)
{
    struct fs_uframe fr[24];
    int n = fs_unwind(fr, 24), used = 0;
    uint64_t h = 0x84222325cbf29ce4ull;
    for (int i = 0; i < n && used < 16; i++) {
        struct fs_module *m = fs_module_of(fr[i].ip);
        if (!m || m->self)
            continue;
        h = (h ^ fs_fnv(m->base) ^ (fr[i].ip - m->bias)) * 0x100000001b3ull;
        h ^= h >> 29;
        used++;
    }
    return h ? h : 1;
}

/* The fault decision is plan.c's fs_plan_fires (the one the unit tests
 * test). What it leaves to its caller is here: the state of persistent and
 * then=, a cheap pre-filter of site= by ids (no string compare per call), and
 * the occurrence counts of caller= and ctx= (the K-th call for those callers,
 * in that context). */
static int fs_decide(struct fs_call *c, int id, uint64_t ordinal, int mod, uint64_t off, uint64_t occ)
{
    const struct fs_plan *p = &fs_the_plan;
    if (p->persistent && __atomic_load_n(&fs_shm->persist_func, __ATOMIC_RELAXED) == (uint32_t)id + 1)
        return 1;
    if (p->then) {
        uint64_t first = __atomic_load_n(&fs_shm->first_inj, __ATOMIC_RELAXED);
        if (first)
            return ordinal == first + p->then;
    }
    if (p->trigger != FS_PLAN_SITE)
        return fs_plan_fires(p, ordinal, NULL, NULL, 0, 0, 0);
    if (id != fs_site_func || mod != fs_site_mod || off != p->site_offset)
        return 0;
    uint64_t ctx = 0;
    if (p->n_callers) {
        if (!fs_caller_matches(p))
            return 0;
        occ = __atomic_add_fetch(&fs_caller_occ, 1, __ATOMIC_RELAXED);
        ctx = p->ctx;                      /* caller= takes precedence over ctx= */
    } else if (p->ctx) {
        if (!c->ctx)
            c->ctx = fs_ctx_hash();
        if (c->ctx != p->ctx)
            return 0;
        ctx = c->ctx;
        occ = __atomic_add_fetch(&fs_ctx_occ, 1, __ATOMIC_RELAXED);
    }
    struct fs_module *m = fs_module_by_id(mod);
    return m && fs_plan_fires(p, ordinal, fs_fn(id)->name, m->base, off, occ, ctx);
}

/* A fault point at c->mod/c->off: count it, decide, record it. */
static void fs_point(struct fs_call *c, int id)
{
    uint64_t ord = __atomic_add_fetch(&fs_shm->ordinal, 1, __ATOMIC_RELAXED);
    fs_lock_t *lk;
    uint64_t occ = 0;
    struct fs_site *s = fs_site_get(id, c->mod, c->off, &lk);
    if (s) {
        occ = ++s->count;
        if (occ == 1)
            s->first = ord;
        fs_unlock(lk);
    }
    c->ordinal = ord;
    if (fs_ctx_all)
        c->ctx = fs_ctx_hash();
    if (fs_decide(c, id, ord, c->mod, c->off, occ) ||
        (fs_fork_strategy && fs_fork_point(id, c->mod, c->off, ord, occ, c->ctx))) {
        c->inject = 1;
        c->err = fs_the_plan.err ? fs_the_plan.err : fs_fn(id)->err;
        __atomic_add_fetch(&fs_shm->injected, 1, __ATOMIC_RELAXED);
        uint64_t none = 0;
        __atomic_compare_exchange_n(&fs_shm->first_inj, &none, ord, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        if (fs_the_plan.persistent)
            __atomic_store_n(&fs_shm->persist_func, (uint32_t)id + 1, __ATOMIC_RELAXED);
    }
    fs_record_point(c, occ);
    if (fs_callers_all || (c->inject && fs_fork_child_caller))
        fs_record_caller(ord);
    if (c->inject)
        fs_record_flush();          /* the injected point must survive a crash */
}

/* --fail internal: a call libc made itself, at the first frame in the
 * program's own code. Is it a fault point? (Sets c->mod/off/sp.) */
static int fs_internal_counts(struct fs_call *c, int id)
{
    if (!fs_the_plan.internal || !fs_fn(id)->injectable || !fs_counts_func[id] ||
        fs_unwind_site(&c->mod, &c->off, &c->sp) != 0)
        return 0;
    struct fs_module *pm = fs_module_by_id(c->mod);
    return pm && pm->counts;
}

static FS_TLS int fs_in_call;          /* inside a wrapped call the program made (fs_begin..fs_end) */

int fs_begin(struct fs_call *c, int id, void *ra, void *frame)
{
    if (fs_guard || !fs_active)
        return 0;
    fs_guard++;
    if (__builtin_expect(fs_fd_npending != 0, 0))
        fs_fdslot_settle();                 /* where did the program store the fds it just got? */
    c->id = id;
    c->inject = 0;
    c->err = 0;
    c->ordinal = 0;
    c->ctx = 0;
    c->saved_errno = errno;
    c->sp = (uintptr_t)frame + 2 * sizeof(void *);
    uintptr_t a = (uintptr_t)ra;
    struct fs_module *m = fs_module_of(a);
    if (m && m->sanrt) {                 /* a sanitizer runtime's own call: pass through */
        fs_guard--;
        return 0;
    }
    fs_in_call = 1;
    if (!m || m->system) {
        /* Called from inside libc (getline's malloc, ...): not a fault point
         * (unless --fail internal); the acquire site is the first frame in
         * the program's own code. */
        c->mod = 0;
        c->off = 0;
        if (fs_internal_counts(c, id))
            fs_point(c, id);
        else if (fs_fn(id)->role != FS_ROLE_USE && fs_unwind_site(&c->mod, &c->off, &c->sp) != 0)
            c->mod = 0;
        return 1;
    }
    c->mod = m->id;
    c->off = (uint64_t)(a - 1 - m->bias);
    if (!fs_fn(id)->injectable || !fs_counts_func[id] || !m->counts)
        return 1;
    fs_point(c, id);
    return 1;
}

int fs_internal_fault(int id)
{
    if (!fs_the_plan.internal || !fs_active || fs_guard != 1 || fs_busy || !fs_in_call)
        return 0;
    struct fs_call c;
    memset(&c, 0, sizeof c);
    c.id = id;
    fs_guard++;
    int inject = 0;
    if (fs_internal_counts(&c, id)) {
        fs_point(&c, id);
        inject = c.inject;
    }
    fs_guard--;
    return inject;
}

void fs_end(struct fs_call *c, int err)
{
    fs_in_call = 0;
    fs_guard--;
    errno = err;
}

void fs_func_registered(int id)
{
    const char *name = fs_fn(id)->name;
    int counts = !fs_the_plan.n_only;                  /* the plan's only= filter */
    for (int k = 0; k < fs_the_plan.n_only && !counts; k++)
        counts = strcmp(fs_the_plan.only[k], name) == 0;
    fs_counts_func[id] = (unsigned char)counts;
    if (fs_the_plan.trigger == FS_PLAN_SITE && strcmp(fs_the_plan.site_func, name) == 0)
        fs_site_func = id;
}

/* ---------------- start-up ---------------- */

void fs_shm_attach(const struct fs_shared *init)
{
    char path[600];
    size_t n = strlen(fs_run_dir);
    memcpy(path, fs_run_dir, n);
    memcpy(path + n, "/shared", 8);
    fs_shm = NULL;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (init)                            /* a fork-mode child's fresh page, before mapping */
            syscall(SYS_pwrite64, fd, init, sizeof *init, 0L);
        /* every process of the run maps the same page; the first one sizes it.
         * Its block is allocated before it is mapped: on a full tmpfs a page
         * that is only sized is a SIGBUS at the first touch. When it cannot
         * be allocated the process counts on a private page, and the file
         * stays shorter than a page: the supervisor reports the run as not
         * fully recorded (never clean). */
        int fa = syscall(SYS_fallocate, fd, 0, 0L, 4096L) == 0 ? 0 : errno;
        if ((fa == 0 || fa == EOPNOTSUPP) && syscall(SYS_ftruncate, fd, 4096L) == 0) {
            long p = syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (!(p < 0 && p > -4096))
                fs_shm = (void *)p;
        }
        syscall(SYS_close, fd);
    }
    if (!fs_shm) {
        fs_shm = &fs_private_shm;
        if (init)
            fs_private_shm = *init;
    }
}

__attribute__((constructor(101)))
static void fs_init(void)
{
    int saved = errno;
    const char *dir = getenv("FAULTSTACK_RUN_DIR");
    if (!dir || !dir[0] || strlen(dir) >= sizeof fs_run_dir) {
        errno = saved;
        return;                          /* loaded without a supervisor: stay inert */
    }
    const char *inert = getenv("FAULTSTACK_INERT_EXE");
    if (inert && inert[0]) {
        /* `faultstack run --valgrind`: valgrind's launcher (and its re-runs on
         * every exec of a traced child) gets the target's environment; the
         * preload belongs in the program memcheck runs, not in the launcher */
        char exe[512];
        fs_readlink_exe(exe, sizeof exe);
        if (strcmp(exe, inert) == 0) {
            errno = saved;
            return;
        }
    }
    strcpy(fs_run_dir, dir);
    fs_guard++;
    if (fs_plan_parse(getenv("FAULTSTACK_PLAN"), &fs_the_plan, NULL, 0) != 0)
        fs_plan_parse(NULL, &fs_the_plan, NULL, 0);   /* the CLI validated it already */
    for (int i = 0; i < FS_F_COUNT; i++)
        fs_func_registered(i);
    fs_stack_sites_parse(getenv("FAULTSTACK_STACK_SITES"));
    struct fs_uframe warm[4];
    fs_unwind(warm, 4);                     /* the unwinder's one-time set-up, now */
    fs_shm_attach(NULL);
    fs_ledger_init();
    fs_modules_refresh();
    fs_record_start_image();
    fs_finish_init();
    const char *cx = getenv("FAULTSTACK_CTX");
    const char *cl = getenv("FAULTSTACK_CALLERS");
    fs_callers_all = cl && *cl == '1';
    fs_ctx_all = (cx && *cx == '1') || (getenv("FAULTSTACK_FORK") && !strcmp(getenv("FAULTSTACK_FORK"), "stack"));
    fs_fork_init();
    fs_guard--;
    fs_active = 1;
    errno = saved;
}
