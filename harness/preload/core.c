/* core.c — start-up, begin/end of a wrapped call and the fault decision.
 *
 * fs_begin() is on the path of every wrapped call, so it is kept short: the
 * call site is the wrapper's return address, mapped to (module, offset)
 * (modules.c); a fault point is counted in a counter shared by every process
 * of the run (a MAP_SHARED file in the run directory) and per call site
 * (sites.c); the plan decides (plan.c's fs_plan_fires). Calls whose return
 * address is inside libc, the loader or the preload are not fault points:
 * their failure shows up as the failure of the wrapped call the program made.
 * Stack walking is unwind.c's. */
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
static unsigned char fs_counts_func[FS_MAX_FUNCS];  /* injectable and in the plan's only= filter, by id */
int fs_site_mod = -1;                       /* plan's site module id, once known */
static int fs_site_func = -1;

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
    line[k++] = FS_REC_CALLERS; line[k++] = ' ';
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
    if (p->trigger == FS_PLAN_NONE)
        return 0;                          /* tracking only: no call into plan.c per point */
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

/* 1 when a fault point needs nothing but its counts once the record's point
 * cap is reached: no plan trigger, no persistent/then, no fork mode, no
 * context hashes or callers census (set at start-up, fs_init). */
static int fs_point_plain;

static void fs_point_rest(struct fs_call *c, int id, uint64_t ord, uint64_t occ);

/* A fault point at c->mod/c->off: count it, decide, record it. The common
 * case of a long tracking run (fs_point_plain, 'p' lines capped) is inline
 * in fs_begin; the rest is fs_point_rest. */
static inline __attribute__((always_inline)) void fs_point(struct fs_call *c, int id)
{
    /* The ordinal is counted on the run's shared page at every point, in
     * every process: a point's number must not depend on when another
     * process adds what it counted (the baseline's ordinals are what nth
     * plans replay, across posix_spawn and system() too). */
    uint64_t ord = __atomic_add_fetch(&fs_shm->ordinal, 1, __ATOMIC_RELAXED);
    c->ordinal = ord;
    if (__builtin_expect(fs_point_plain, 1) && !__libc_single_threaded && fs_record_points_full()) {
        /* with threads, each counts its sites in its own lines (tcount.c) */
        fs_tcount_point(id, c->mod, c->off, ord);
        return;
    }
    uint64_t occ = fs_site_point(id, c->mod, c->off, ord);
    if (__builtin_expect(fs_point_plain, 1) && fs_record_points_full())
        return;
    fs_point_rest(c, id, ord, occ);
}

static __attribute__((noinline)) void fs_point_rest(struct fs_call *c, int id, uint64_t ord, uint64_t occ)
{
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

FS_TLS int *fs_errno_ptr;

int *fs_errno_slow(void)
{
    return fs_errno_ptr = __errno_location();
}

FS_TLS int fs_in_call;                 /* preload.h */

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
    c->saved_errno = FS_ERRNO;
    c->sp = (uintptr_t)frame + 2 * sizeof(void *);
    uintptr_t a = (uintptr_t)ra;
    struct fs_module *m = fs_last_mod;      /* fs_module_of's cache, without the call */
    if (__builtin_expect(!m || a < m->lo || a >= m->hi, 0))
        m = fs_module_of(a);
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
    if (!fs_counts_func[id] || !m->counts)     /* (fs_counts_func: injectable too) */
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

void fs_func_registered(int id)
{
    const char *name = fs_fn(id)->name;
    fs_counts_func[id] = (unsigned char)(fs_plan_counts_func(&fs_the_plan, name) && fs_fn(id)->injectable);
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
    fs_point_plain = fs_the_plan.trigger == FS_PLAN_NONE && !fs_the_plan.persistent &&
                     !fs_the_plan.then && !fs_fork_strategy && !fs_ctx_all && !fs_callers_all;
    fs_guard--;
    fs_active = 1;
    errno = saved;
}

