/* finish.c — the end of a process image: verdicts and the last record lines.
 *
 * Ends are seen through exit() (the frames still live are remembered, so a
 * resource their functions still hold is "held at exit", not a leak), the
 * preload's destructor (after main returned and every atexit handler ran),
 * _exit/_Exit, exec, and fatal signals (handlers installed where the target
 * left the default). Verdicts follow design.md:
 *   memory, mmap   unreachable from the roots (writable module segments, the
 *                  exiting thread's stack and registers, its static TLS) = leak;
 *   fd, FILE, DIR, lock
 *                  acquired in frames that have all returned = leak; still held
 *                  by a live frame of the thread that called exit(), or by a
 *                  thread that is still running = held;
 *   acquired by another process before a fork = inherited (the parent's).
 * A process that dies of a signal reports its crash; its resources are "held". */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

void fs_sites_emit(void);

#define FS_MAX_LIVE 256
static struct fs_uframe fs_live[FS_MAX_LIVE];
static int fs_nlive;
static pid_t fs_live_tid;
static int fs_exit_called;
static uintptr_t fs_exit_sp;               /* stack pointer in exit()/_exit(), registers spilled above it */
static int fs_exit_code = -1;
static int fs_finished;

/* ---------------- live frames at exit() ---------------- */

__attribute__((noinline))
void fs_note_exit_stack(void)
{
    fs_live_tid = fs_gettid();
    fs_exit_called = 1;
    fs_nlive = fs_unwind(fs_live, FS_MAX_LIVE);
}

static int fs_thread_alive(pid_t tid)
{
    return syscall(SYS_tgkill, getpid(), tid, 0) == 0;
}

/* Stacks of the threads the program started (a ring: the oldest entries of a
 * program that starts more than FS_MAX_THREADS threads are forgotten). */
#define FS_MAX_THREADS 4096
static struct { pid_t tid; uintptr_t lo, hi; } fs_threads[FS_MAX_THREADS];
static unsigned fs_nthreads;

void fs_thread_register(pid_t tid, uintptr_t lo, uintptr_t hi)
{
    unsigned i = __atomic_fetch_add(&fs_nthreads, 1, __ATOMIC_RELAXED) % FS_MAX_THREADS;
    fs_threads[i].lo = lo;
    fs_threads[i].hi = hi;
    __atomic_store_n(&fs_threads[i].tid, tid, __ATOMIC_RELEASE);
}

/* Is the frame that acquired r still live (design.md: "held at exit")?
 * fs_live[i] is frame i (innermost first) with its stack pointer in .cfa (see
 * fs_uframe); while it calls, its own frame spans [sp_i, sp_{i+1}). The
 * acquiring call was made at SP r->sp from the function holding the site. */
static int fs_held_by_live_frame(const struct fs_res *r)
{
    if (!fs_exit_called)
        return 0;                          /* main returned: every frame is gone */
    if (r->tid != fs_live_tid)
        return fs_thread_alive(r->tid);
    struct fs_module *m = fs_module_by_id(r->mod);
    if (!m)
        return 0;
    void *fn = _Unwind_FindEnclosingFunction((void *)(m->bias + r->off));
    for (int i = 0; i + 1 < fs_nlive; i++) {
        uintptr_t lo = fs_live[i].cfa, hi = fs_live[i + 1].cfa;
        if (r->sp < lo || r->sp >= hi)
            continue;
        void *live_fn = _Unwind_FindEnclosingFunction((void *)(fs_live[i].ip - 1));
        if (fn ? fn == live_fn : fs_module_of(fs_live[i].ip) == m)
            return 1;
    }
    return 0;
}

/* ---------------- reachability ---------------- */

struct fs_blk { uintptr_t lo, hi; struct fs_res *r; };
struct fs_scan {
    struct fs_blk *b;
    size_t n, cap;
    size_t *work;
    size_t nwork;
    uintptr_t min, max;
    uint64_t reach_blocks, reach_bytes;
};

static void fs_collect(struct fs_res *r, void *arg)
{
    struct fs_scan *s = arg;
    if ((r->flags & FS_RES_DEAD) || (r->kind != FS_KIND_memory && r->kind != FS_KIND_mmap))
        return;
    if (s->n == s->cap)
        return;
    r->mark = 0;
    struct fs_blk *b = &s->b[s->n++];
    b->lo = (uintptr_t)fs_res_handle(r);
    b->hi = b->lo + (r->size ? r->size : 1);
    b->r = r;
}

static void fs_count(struct fs_res *r, void *arg)
{
    size_t *n = arg;
    if (!(r->flags & FS_RES_DEAD) && (r->kind == FS_KIND_memory || r->kind == FS_KIND_mmap))
        (*n)++;
}

static void fs_sift(struct fs_blk *a, size_t i, size_t n)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && a[l].lo > a[m].lo) m = l;
        if (l + 1 < n && a[l + 1].lo > a[m].lo) m = l + 1;
        if (m == i) return;
        struct fs_blk t = a[i]; a[i] = a[m]; a[m] = t;
        i = m;
    }
}

static void fs_heapsort(struct fs_blk *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        fs_sift(a, i, n);
    for (size_t i = n; i-- > 1;) {
        struct fs_blk t = a[0]; a[0] = a[i]; a[i] = t;
        fs_sift(a, 0, i);
    }
}

/* exact: only a pointer to a block's first byte counts (roots in libc's own
 * data: malloc's arena points at chunk headers, and the header after a block
 * lies inside the block's last bytes, which would keep any block reachable). */
static void fs_scan_range_x(struct fs_scan *s, uintptr_t lo, uintptr_t hi, int exact)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t p = lo; p + 8 <= hi; p += 8) {
        uintptr_t w = *(volatile uintptr_t *)p;
        if (w < s->min || w >= s->max)
            continue;
        size_t l = 0, h = s->n;
        while (l < h) {                      /* last block with lo <= w */
            size_t mid = (l + h) / 2;
            if (s->b[mid].lo <= w) l = mid + 1; else h = mid;
        }
        if (l == 0)
            continue;
        struct fs_blk *b = &s->b[l - 1];
        if (exact && w != b->lo)
            continue;
        if (w < b->hi && !b->r->mark) {
            b->r->mark = 1;
            s->work[s->nwork++] = (size_t)(b - s->b);
        }
    }
}

static void fs_scan_range(struct fs_scan *s, uintptr_t lo, uintptr_t hi)
{
    fs_scan_range_x(s, lo, hi, 0);
}

/* Writable segments of every module but the preload (whose data holds the
 * ledger), collected first and scanned after dl_iterate_phdr returned: a
 * fault while scanning must not jump out of it (it holds the loader lock). */
#define FS_MAX_SEGS 1024
struct fs_segs { uintptr_t lo[FS_MAX_SEGS], hi[FS_MAX_SEGS]; char exact[FS_MAX_SEGS]; int n; };

static int fs_seg_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct fs_segs *g = arg;
    uintptr_t self = (uintptr_t)&fs_seg_cb;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            if (self >= a && self < a + ph->p_memsz)
                return 0;                    /* the preload's own data holds the ledger's roots */
        }
    }
    int is_libc = 0;
    if (info->dlpi_name && info->dlpi_name[0]) {
        const char *slash = strrchr(info->dlpi_name, '/');
        is_libc = strncmp(slash ? slash + 1 : info->dlpi_name, "libc.so", 7) == 0;
    }
    for (int i = 0; i < info->dlpi_phnum && g->n < FS_MAX_SEGS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            g->lo[g->n] = a;
            g->exact[g->n] = (char)is_libc;
            g->hi[g->n++] = a + ph->p_memsz;
        }
    }
    return 0;
}

static sigjmp_buf fs_scan_jmp;
static volatile int fs_scanning;

static uintptr_t fs_stack_top(void)
{
    extern void *__libc_stack_end;
    pthread_attr_t at;
    void *addr;
    size_t sz;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        int ok = pthread_attr_getstack(&at, &addr, &sz) == 0;
        pthread_attr_destroy(&at);
        if (ok)
            return (uintptr_t)addr + sz;
    }
    return (uintptr_t)__libc_stack_end + 4096;
}

/* Scan one root range; a fault (unmapped page) loses only this range. */
static void fs_scan_safe_x(struct fs_scan *s, uintptr_t lo, uintptr_t hi, int exact)
{
    if (sigsetjmp(fs_scan_jmp, 1) == 0)
        fs_scan_range_x(s, lo, hi, exact);
}

static void fs_scan_safe(struct fs_scan *s, uintptr_t lo, uintptr_t hi)
{
    fs_scan_safe_x(s, lo, hi, 0);
}

/* Scan the pages of [lo, hi) that were ever touched (mincore): a thread's
 * stack is mostly untouched, and its guard page must not be read. */
static void fs_scan_resident(struct fs_scan *s, uintptr_t lo, uintptr_t hi)
{
    const uintptr_t pg = 4096;
    lo &= ~(pg - 1);
    hi = (hi + pg - 1) & ~(pg - 1);
    if (hi <= lo)
        return;
    size_t n = (hi - lo) / pg;
    unsigned char *vec = fs_alloc(n);
    if (!vec || syscall(SYS_mincore, lo, hi - lo, vec) != 0) {
        for (uintptr_t p = lo; p < hi; p += pg)   /* no answer: every page, each on its own */
            fs_scan_safe(s, p, p + pg);
    } else {
        for (size_t i = 0; i < n; i++)
            if (vec[i] & 1)
                fs_scan_safe(s, lo + i * pg, lo + (i + 1) * pg);
    }
    if (vec)
        fs_free_pages(vec, n);
}

__attribute__((noinline))
static void fs_reachability(struct fs_scan *s)
{
    __builtin_unwind_init();               /* spill callee-saved registers to the stack */
    volatile uintptr_t here = (uintptr_t)&here;
    s->min = s->b[0].lo;
    s->max = s->b[s->n - 1].hi;
    static struct fs_segs segs;            /* static: 16 KiB is too much for a signal stack */
    segs.n = 0;
    dl_iterate_phdr(fs_seg_cb, &segs);
    fs_scanning = 1;
    for (int i = 0; i < segs.n; i++)
        fs_scan_safe_x(s, segs.lo[i], segs.hi[i], segs.exact[i]);
    /* The stack: only frames live when the program called exit()/_exit()
     * (the frames of exit handlers below them hold stale copies). After
     * main returned no frame of the program is live. */
    if (fs_exit_called && fs_exit_sp && fs_exit_sp < fs_stack_top() && fs_exit_sp > (uintptr_t)here)
        fs_scan_safe(s, fs_exit_sp, fs_stack_top());
    else if (fs_exit_called)
        fs_scan_safe(s, here & ~(uintptr_t)7, fs_stack_top());
    /* Threads still running: their whole stacks (their stack pointers are not
     * known, so dead frames count too: conservative, never a false leak). */
    unsigned nt = __atomic_load_n(&fs_nthreads, __ATOMIC_RELAXED);
    pid_t self = fs_gettid();
    for (unsigned i = 0; i < nt && i < FS_MAX_THREADS; i++) {
        pid_t tid = __atomic_load_n(&fs_threads[i].tid, __ATOMIC_ACQUIRE);
        if (tid > 0 && tid != self && fs_thread_alive(tid))
            fs_scan_resident(s, fs_threads[i].lo, fs_threads[i].hi);
    }
    /* Static TLS (below the thread pointer on x86-64) and the TCB above it,
     * page by page: the size glibc reports includes the TCB, so its low end
     * can lie below the allocation, in a page that may not be mapped. */
    typedef void (*tlsinfo_fn)(size_t *, size_t *);
    tlsinfo_fn ti = (tlsinfo_fn)dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
    if (ti) {
        size_t tsz = 0, tal = 0;
        ti(&tsz, &tal);
        uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
        fs_scan_safe(s, tp, tp + 0x300);
        for (uintptr_t hi = tp; hi > tp - tsz;) {
            uintptr_t lo = (hi - 1) & ~(uintptr_t)4095;
            if (lo < tp - tsz)
                lo = tp - tsz;
            fs_scan_safe(s, lo, hi);
            hi = lo;
        }
    }
    /* Work list: scan every newly reached block. A block that faults (freed
     * behind our back) is skipped. */
    while (s->nwork) {
        struct fs_blk *b = &s->b[s->work[--s->nwork]];
        if (b->r->kind == FS_KIND_mmap && (b->r->owned_fd & 0xff) != 1)
            continue;                        /* owned_fd holds 1 for readable anonymous maps */
        if (sigsetjmp(fs_scan_jmp, 1) == 0)
            fs_scan_range(s, b->lo, b->hi);
    }
    fs_scanning = 0;
}

/* ---------------- emitting verdicts ---------------- */

struct fs_emit { const char *how; int sig; pid_t pid; };

static void fs_emit_res(struct fs_res *r, const char *verdict)
{
    char line[1024];
    size_t n = 0;
    line[n++] = 'r'; line[n++] = ' ';
    size_t vl = strlen(verdict);
    memcpy(line + n, verdict, vl); n += vl; line[n++] = ' ';
    const char *k = fs_kind_names[r->kind];
    memcpy(line + n, k, strlen(k)); n += strlen(k); line[n++] = ' ';
    const char *fn = fs_funcs[r->func].name;
    memcpy(line + n, fn, strlen(fn)); n += strlen(fn); line[n++] = ' ';
    n += fs_fmt_u64(line + n, r->mod); line[n++] = ' ';
    n += fs_fmt_hex(line + n, r->off); line[n++] = ' ';
    if (r->kind == FS_KIND_fd)
        n += fs_fmt_u64(line + n, fs_res_handle(r));
    else
        n += fs_fmt_hex(line + n, fs_res_handle(r));
    line[n++] = ' ';
    n += fs_fmt_u64(line + n, (r->kind == FS_KIND_memory || r->kind == FS_KIND_mmap) ? r->size : 0);
    if (r->stack && r->stack->n) {           /* ' MOD:OFF,MOD:OFF...' innermost first */
        line[n++] = ' ';
        for (int i = 0; i < r->stack->n && n < sizeof line - 48; i++) {
            struct fs_module *m = fs_module_of(r->stack->ip[i]);
            if (!m) continue;
            fs_record_module(m);
            if (line[n - 1] != ' ') line[n++] = ',';
            n += fs_fmt_u64(line + n, (uint64_t)m->id); line[n++] = ':';
            n += fs_fmt_hex(line + n, r->stack->ip[i] - 1 - m->bias);
        }
    }
    line[n++] = '\n';
    fs_record_module(fs_module_by_id(r->mod));
    fs_record_raw(line, n);
}

static void fs_judge_handle(struct fs_res *r, void *arg)
{
    struct fs_emit *e = arg;
    if ((r->flags & (FS_RES_DEAD | FS_RES_OWNED_FD)) || r->kind == FS_KIND_memory ||
        r->kind == FS_KIND_mmap || r->mod == 0)
        return;
    if (r->kind == FS_KIND_fd && fs_res_handle(r) <= 2)
        return;                              /* stdin/stdout/stderr (dup2'ed or reopened): never a leak */
    const char *v;
    if (r->pid != e->pid)
        v = "inherited";
    else if (e->sig || strcmp(e->how, "exec") == 0)
        v = "held";
    else
        v = fs_held_by_live_frame(r) ? "held" : "leak";
    fs_emit_res(r, v);
}

static void fs_judge_memory(struct fs_scan *s, struct fs_emit *e)
{
    for (size_t i = 0; i < s->n; i++) {
        struct fs_res *r = s->b[i].r;
        if (r->pid != e->pid || r->mod == 0)
            continue;
        if (r->mark) {
            s->reach_blocks++;
            s->reach_bytes += r->size;
        } else {
            fs_emit_res(r, "leak");
        }
    }
}

static void fs_write_end(const char *how, int code, int sig)
{
    char line[128];
    size_t n = 0;
    memcpy(line, "end ", 4); n = 4;
    memcpy(line + n, how, strlen(how)); n += strlen(how); line[n++] = ' ';
    if (code < 0) { line[n++] = '-'; line[n++] = '1'; }
    else n += fs_fmt_u64(line + n, (uint64_t)code);
    line[n++] = ' ';
    n += fs_fmt_u64(line + n, (uint64_t)sig);
    line[n++] = '\n';
    fs_record_raw(line, n);
}

void fs_finish(const char *how, int code, int sig)
{
    if (!fs_active || fs_finished)
        return;
    fs_finished = 1;
    fs_guard++;
    fs_busy++;
    int saved = errno;
    fs_write_end(how, code, sig);
    int locked = sig ? fs_ledger_trylock_all() : (fs_ledger_lock_all(), 1);
    fs_pid_refresh();                        /* a raw clone() child skipped the fork handler */
    struct fs_emit e = { how, sig, fs_getpid() };
    fs_ledger_each(fs_judge_handle, &e);

    struct fs_scan s;
    memset(&s, 0, sizeof s);
    if (!sig && strcmp(how, "exec") != 0) {
        size_t n = 0;
        fs_ledger_each(fs_count, &n);
        if (n) {
            s.cap = n;
            s.b = fs_alloc(n * sizeof *s.b);
            s.work = fs_alloc(n * sizeof *s.work);
        }
        if (s.b && s.work) {
            fs_ledger_each(fs_collect, &s);
            fs_heapsort(s.b, s.n);
            fs_reachability(&s);
            fs_judge_memory(&s, &e);
        }
    }
    if (locked)
        fs_ledger_unlock_all();
    fs_sites_emit();
    char line[128];
    size_t k = 0;
    memcpy(line, "sum ", 4); k = 4;
    k += fs_fmt_u64(line + k, fs_shm ? fs_shm->ordinal : 0); line[k++] = ' ';
    k += fs_fmt_u64(line + k, s.reach_blocks); line[k++] = ' ';
    k += fs_fmt_u64(line + k, s.reach_bytes); line[k++] = '\n';
    fs_record_raw(line, k);
    fs_record_raw("done\n", 5);
    fs_record_flush();
    if (s.b) {
        /* small tables live on in an arena chunk: wipe the block addresses, or
         * memcheck's leak scan (--valgrind) finds them there */
        memset(s.b, 0, s.cap * sizeof *s.b);
        fs_free_pages(s.b, s.cap * sizeof *s.b);
    }
    if (s.work) fs_free_pages(s.work, s.cap * sizeof *s.work);
    errno = saved;
    fs_busy--;
    fs_guard--;
}

__attribute__((destructor(101)))
static void fs_fini(void)
{
    fs_finish(fs_exit_called ? "exit" : "main", fs_exit_code, 0);
}

/* ---------------- exit, _exit ---------------- */

/* The stack pointer of the calling wrapper after spilling every callee-saved
 * register into its frame: the live roots of the program start there. */
#define FS_TAKE_EXIT_SP()                                  \
    do {                                                   \
        __builtin_unwind_init();                           \
        uintptr_t sp_;                                     \
        __asm__ volatile("mov %%rsp, %0" : "=r"(sp_));     \
        fs_exit_sp = sp_;                                  \
    } while (0)

FS_EXPORT void exit(int code)
{
    FS_REAL(exit);
    if (fs_active && !fs_guard) {
        FS_TAKE_EXIT_SP();
        fs_guard++;
        fs_note_exit_stack();
        fs_exit_code = code & 0xff;
        fs_guard--;
    }
    real_fn(code);
    __builtin_unreachable();
}

FS_EXPORT void _exit(int code)
{
    FS_REAL(_exit);
    if (fs_active && !fs_guard) {
        FS_TAKE_EXIT_SP();
        fs_guard++;
        fs_note_exit_stack();
        fs_guard--;
        fs_finish("_exit", code & 0xff, 0);
    }
    real_fn(code);
    __builtin_unreachable();
}

FS_EXPORT void _Exit(int code)
{
    _exit(code);
}

/* ---------------- fatal signals ---------------- */

static const int fs_fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT,
                                     SIGHUP, SIGQUIT, 0 };

static void fs_on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    if (fs_scanning && (sig == SIGSEGV || sig == SIGBUS))
        siglongjmp(fs_scan_jmp, 1);
    int saved = errno;
    if (fs_active && !fs_finished) {
        fs_guard++;
        char line[1024];
        size_t n = 0;
        if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT) {
            ucontext_t *uc = ctx;
            uintptr_t pc = uc ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : 0;
            struct fs_module *m = fs_module_of(pc);
            line[n++] = 'x'; line[n++] = ' ';
            n += fs_fmt_u64(line + n, (uint64_t)sig); line[n++] = ' ';
            n += fs_fmt_u64(line + n, m ? (uint64_t)m->id : 0); line[n++] = ' ';
            n += fs_fmt_hex(line + n, m ? pc - m->bias : pc); line[n++] = ' ';
            fs_record_module(m);
            /* the stack: the frames after this handler's own (from the faulting pc on) */
            struct fs_uframe fr[48];
            int nfr = fs_unwind(fr, 48), nf = 0, seen = 0;
            for (int i = 0; i < nfr && n < sizeof line - 64; i++) {
                if (!seen) { seen = fr[i].ip == pc; if (!seen) continue; }
                struct fs_module *fm = fs_module_of(fr[i].ip);
                if (!fm) continue;
                fs_record_module(fm);
                if (nf++) line[n++] = ',';
                n += fs_fmt_u64(line + n, (uint64_t)fm->id); line[n++] = ':';
                n += fs_fmt_hex(line + n, fr[i].ip - fm->bias - (nf > 1 ? 1 : 0));
            }
            if (!nf) line[n++] = '-';
            line[n++] = '\n';
            fs_record_raw(line, n);
        }
        fs_guard--;
        fs_finish("signal", -1, sig);
    }
    signal(sig, SIG_DFL);
    errno = saved;
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGABRT)
        raise(sig);
    /* SEGV & co: returning re-executes the faulting instruction with SIG_DFL */
}

static void fs_atfork_prepare(void)
{
    fs_fork_target_forked();
    fs_ledger_lock_all();
}

static void fs_atfork_parent(void)
{
    fs_ledger_unlock_all();
}

static void fs_atfork_child(void)
{
    fs_pid_refresh();
    fs_ledger_unlock_all();
    fs_after_fork_child();
}

void fs_after_fork_child(void)
{
    fs_exit_called = 0;
    fs_finished = 0;
    fs_exit_code = -1;
    fs_guard++;
    fs_record_start_image();
    fs_guard--;
}

void fs_finish_init(void)
{
    static char altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    for (int i = 0; fs_fatal_sigs[i]; i++) {
        struct sigaction old;
        if (sigaction(fs_fatal_sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;                        /* the program (or its parent) chose a disposition */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fs_on_signal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(fs_fatal_sigs[i], &sa, NULL);
    }
    pthread_atfork(fs_atfork_prepare, fs_atfork_parent, fs_atfork_child);
}

/* ---------------- exec: the image ends; keep the preload in the new one ---------------- */

extern char **environ;
static const char *const fs_env_keys[] = { "LD_PRELOAD=", "FAULTSTACK_RUN_DIR=", "FAULTSTACK_PLAN=",
                                           "FAULTSTACK_MAX_POINTS=", "FAULTSTACK_STACK_SITES=",
                                           "FAULTSTACK_CTX=", "FAULTSTACK_INERT_EXE=", NULL };

/* `faultstack run --valgrind` names memcheck's report files after
 * FAULTSTACK_VG_IMAGE (valgrind's %q{...}): every exec gets a new value, so the
 * new image's files (same pid) do not overwrite the old image's. */
static char *fs_vg_image_kv(void)
{
    if (!getenv("FAULTSTACK_VG_IMAGE"))
        return NULL;
    static const char key[] = "FAULTSTACK_VG_IMAGE=";
    char *kv = fs_alloc(sizeof key + 48);
    if (!kv)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    size_t n = sizeof key - 1;
    memcpy(kv, key, n);
    n += fs_fmt_u64(kv + n, (uint64_t)fs_getpid());
    kv[n++] = '-';
    n += fs_fmt_u64(kv + n, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    kv[n] = '\0';
    return kv;
}

/* envp plus our variables where it lacks them; allocated with fs_alloc. */
static char *const *fs_fix_env(char *const envp[])
{
    if (!fs_active)
        return envp;
    size_t n = 0;
    while (envp && envp[n]) n++;
    char **out = fs_alloc((n + 8) * sizeof *out);
    if (!out)
        return envp;
    size_t k = 0;
    char *image = fs_vg_image_kv();
    for (size_t i = 0; i < n; i++)
        if (!image || strncmp(envp[i], "FAULTSTACK_VG_IMAGE=", 20) != 0)
            out[k++] = envp[i];
    if (image)
        out[k++] = image;
    for (int j = 0; fs_env_keys[j]; j++) {
        size_t kl = strlen(fs_env_keys[j]);
        int have = 0;
        for (size_t i = 0; i < n; i++)
            if (strncmp(envp[i], fs_env_keys[j], kl) == 0) have = 1;
        if (have)
            continue;
        char name[64];
        memcpy(name, fs_env_keys[j], kl - 1);
        name[kl - 1] = '\0';
        const char *v = getenv(name);
        if (!v)
            continue;
        char *kv = fs_alloc(kl + strlen(v) + 1);
        if (!kv)
            continue;
        memcpy(kv, fs_env_keys[j], kl);
        strcpy(kv + kl, v);
        out[k++] = kv;
    }
    out[k] = NULL;
    return out;
}

static void fs_before_exec(void)
{
    if (!fs_active || fs_guard)
        return;
    fs_finish("exec", -1, 0);
}

static void fs_after_failed_exec(void)
{
    if (!fs_active)
        return;
    fs_finished = 0;
    fs_record_raw("resume\n", 7);
}

FS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    FS_REAL(execve);
    fs_before_exec();
    int r = real_fn(path, argv, fs_fix_env(envp));
    int e = errno;
    fs_after_failed_exec();
    errno = e;
    return r;
}

FS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    FS_REAL(execvpe);
    fs_before_exec();
    int r = real_fn(file, argv, fs_fix_env(envp));
    int e = errno;
    fs_after_failed_exec();
    errno = e;
    return r;
}

FS_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

FS_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

static char **fs_va_argv(const char *arg0, va_list ap, char ***envp_out)
{
    va_list cp;
    va_copy(cp, ap);
    size_t n = 1;
    while (va_arg(cp, char *)) n++;
    va_end(cp);
    char **argv = fs_alloc((n + 1) * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);        /* the last one read is the NULL */
    if (envp_out)
        *envp_out = va_arg(ap, char **);
    return argv;
}

FS_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, NULL);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execve(path, argv, environ);
}

FS_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, NULL);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execvpe(file, argv, environ);
}

FS_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char **envp = NULL;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, &envp);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execve(path, argv, envp);
}

/* vfork shares the parent's memory, which the preload's bookkeeping would
 * corrupt; fork gives the same semantics to a conforming program. */
FS_EXPORT pid_t vfork(void)
{
    return fork();
}
