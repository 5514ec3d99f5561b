/* reach.c — the mark phase of the verdicts: which tracked blocks the program
 * can still reach when a process ends.
 *
 * Roots: the writable segments of every module but the preload (libc's own
 * data counts only pointers to a block's first byte), the stack of the thread
 * that ended the process from where it called exit (after main returned: none),
 * the stacks of threads still running (touched pages), and static TLS. Blocks
 * reached are scanned in turn (a work list). Every range is scanned under its
 * own recovery point: a fault (an unmapped page) loses only that range. The
 * scan takes SIGSEGV and SIGBUS for itself while it runs: a program may have
 * replaced the fatal-signal handler (GNU diff's c-stack handler prints
 * "program error" and aborts), and the page below the static TLS is often
 * unmapped (whether it is depends on the address-space layout). */
#define _GNU_SOURCE
#include "preload.h"
#include "reach.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_thread_alive(pid_t tid)
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

/* The main thread's stack: from below __libc_stack_end down by the stack
 * limit (at most 64 MiB); only touched pages are scanned, unmapped ones are
 * skipped by the scan's fault recovery. No /proc read (pthread_getattr_np's
 * way) on every start-up. */
void fs_thread_register_self(void)
{
    extern void *__libc_stack_end;
    struct rlimit rl;
    uintptr_t size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (64u << 20))
        size = rl.rlim_cur;
    else if (getrlimit(RLIMIT_STACK, &rl) == 0)
        size = 64u << 20;
    uintptr_t hi = ((uintptr_t)__libc_stack_end + 4095) & ~(uintptr_t)4095;
    fs_thread_register(fs_gettid(), hi - size, hi);
}


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
 * lies inside the block's last bytes, which would keep any block reachable).
 * skip: one word not to count (libc's list of open streams). Each block
 * reached remembers where it was reached from (the root kind and slot, or the
 * block that points to it), so a verdict can say why. */
static void fs_scan_range_x(struct fs_scan *s, uintptr_t lo, uintptr_t hi, int exact, uintptr_t skip)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t p = lo; p + 8 <= hi; p += 8) {
        uintptr_t w = *(volatile uintptr_t *)p;
        if (w < s->min || w >= s->max || p == skip)
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
            b->from = p;
            b->root = s->root;
            b->seg = s->seg;
            b->parent = s->parent;
            s->work[s->nwork++] = (size_t)(b - s->b);
        }
    }
}

static void fs_scan_range(struct fs_scan *s, uintptr_t lo, uintptr_t hi)
{
    fs_scan_range_x(s, lo, hi, 0, 0);
}

/* Writable segments of every module but the preload (whose data holds the
 * ledger), collected first and scanned after dl_iterate_phdr returned: a
 * fault while scanning must not jump out of it (it holds the loader lock). */
#define FS_MAX_SEGS 1024
struct fs_segs {
    uintptr_t lo[FS_MAX_SEGS], hi[FS_MAX_SEGS], bias[FS_MAX_SEGS];
    char exact[FS_MAX_SEGS];
    int n;
};
static struct fs_segs fs_segs;            /* static: 16 KiB is too much for a signal stack */

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
            g->bias[g->n] = info->dlpi_addr;
            g->exact[g->n] = (char)is_libc;
            g->hi[g->n++] = a + ph->p_memsz;
        }
    }
    return 0;
}

static sigjmp_buf fs_scan_jmp;
static volatile int fs_scanning;
static volatile pid_t fs_scan_tid;            /* the thread that scans */
static struct sigaction fs_scan_prev[2];      /* SIGSEGV, SIGBUS as they were before the scan */
static sigset_t fs_scan_prev_mask;

/* The scan's fault handler: a fault of the scanning thread is the scan's own
 * (fs_reach_fault jumps back); another thread's goes where it went before. */
static void fs_on_scan_fault(int sig, siginfo_t *si, void *ctx)
{
    fs_reach_fault(sig);
    const struct sigaction *old = &fs_scan_prev[sig == SIGBUS];
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, si, ctx);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        fs_sys_sigaction(sig, &dfl, NULL);           /* returning re-executes the fault: default action */
    }
}

/* SIGSEGV and SIGBUS are the scan's from here to fs_scan_end, whatever the
 * program installed since start-up, and not blocked (a synchronous fault
 * while blocked kills the process). */
static void fs_scan_begin(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fs_on_scan_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    fs_scan_tid = fs_gettid();
    fs_sys_sigaction(SIGSEGV, &sa, &fs_scan_prev[0]);
    fs_sys_sigaction(SIGBUS, &sa, &fs_scan_prev[1]);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGSEGV);
    sigaddset(&m, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &m, &fs_scan_prev_mask);
}

static void fs_scan_end(void)
{
    pthread_sigmask(SIG_SETMASK, &fs_scan_prev_mask, NULL);
    fs_sys_sigaction(SIGSEGV, &fs_scan_prev[0], NULL);
    fs_sys_sigaction(SIGBUS, &fs_scan_prev[1], NULL);
}

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
static void fs_scan_safe_x(struct fs_scan *s, uintptr_t lo, uintptr_t hi, int exact, uintptr_t skip)
{
    if (sigsetjmp(fs_scan_jmp, 1) == 0)
        fs_scan_range_x(s, lo, hi, exact, skip);
}

static void fs_scan_safe(struct fs_scan *s, uintptr_t lo, uintptr_t hi)
{
    fs_scan_safe_x(s, lo, hi, 0, 0);
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
    s->parent = FS_BLK_NONE;
    s->seg = -1;
    fs_segs.n = 0;
    dl_iterate_phdr(fs_seg_cb, &fs_segs);
    /* libc's list of open streams is not the program's: a FILE it alone
     * reaches is not held (the heap FILEs' own _chain links: fs_scan_block) */
    uintptr_t io_list = (uintptr_t)dlsym(RTLD_DEFAULT, "_IO_list_all");
    fs_scanning = 1;
    s->root = FS_ROOT_GLOBAL;
    for (int i = 0; i < fs_segs.n; i++) {
        s->seg = i;
        fs_scan_safe_x(s, fs_segs.lo[i], fs_segs.hi[i], fs_segs.exact[i], io_list);
    }
    s->seg = -1;
    /* The stack: only frames live when the program called exit()/_exit()
     * (the frames of exit handlers below them hold stale copies), and the
     * registers of the program's frame when libc's exit was reached inside
     * libc. After main returned no frame of the program is live. */
    s->root = FS_ROOT_STACK;
    if (fs_end_st.exit_called && fs_end_st.sp && fs_end_st.sp < fs_stack_top() && fs_end_st.sp > (uintptr_t)here)
        fs_scan_safe(s, fs_end_st.sp, fs_stack_top());
    else if (fs_end_st.exit_called)
        fs_scan_safe(s, here & ~(uintptr_t)7, fs_stack_top());
    s->root = FS_ROOT_REGS;
    if (fs_end_st.exit_called && fs_end_st.nregs)
        fs_scan_range(s, (uintptr_t)fs_end_st.regs, (uintptr_t)(fs_end_st.regs + fs_end_st.nregs));
    /* Threads still running: their whole stacks (their stack pointers are not
     * known, so dead frames count too: conservative, never a false leak). */
    s->root = FS_ROOT_THREAD;
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
    s->root = FS_ROOT_TLS;
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
     * behind our back) is skipped. A FILE's link in libc's list of streams
     * does not count. */
    s->root = FS_ROOT_BLOCK;
    while (s->nwork) {
        size_t i = s->work[--s->nwork];
        struct fs_blk *b = &s->b[i];
        if (b->r->kind == FS_KIND_mmap && (b->r->owned_fd & 0xff) != 1)
            continue;                        /* owned_fd holds 1 for readable anonymous maps */
        s->parent = i;
        if (sigsetjmp(fs_scan_jmp, 1) == 0)
            fs_scan_range_x(s, b->lo, b->hi, 0, b->is_file ? b->lo + offsetof(FILE, _chain) : 0);
    }
    /* The FILE verdicts are taken now. A stream the program lost is still in
     * libc's list, which flushes and frees it at exit: the FILE is the leak,
     * its buffer is not another (memcheck: "still reachable"). */
    for (size_t i = 0; i < s->n; i++) {
        struct fs_blk *b = &s->b[i];
        if (!b->is_file)
            continue;
        b->file_held = b->r->mark;
        if (b->r->mark)
            continue;
        b->r->mark = 1;
        b->root = FS_ROOT_STREAMS;
        s->parent = i;
        if (sigsetjmp(fs_scan_jmp, 1) == 0)
            fs_scan_range_x(s, b->lo, b->hi, 0, 0);
        while (s->nwork) {
            size_t k = s->work[--s->nwork];
            s->parent = k;
            if (sigsetjmp(fs_scan_jmp, 1) == 0)
                fs_scan_range_x(s, s->b[k].lo, s->b[k].hi, 0, 0);
        }
    }
    fs_scanning = 0;
}

/* FILE streams' blocks (libc's malloc inside fopen, tracked quietly): their
 * _chain link is libc's list, not the program's reference. */
static void fs_flag_file(struct fs_res *r, void *arg)
{
    struct fs_scan *s = arg;
    if (r->kind != FS_KIND_file || (r->flags & FS_RES_DEAD))
        return;
    struct fs_blk *b = fs_reach_block(s, (uintptr_t)fs_res_handle(r));
    if (b)
        b->is_file = 1;
}

struct fs_blk *fs_reach_block(struct fs_scan *s, uintptr_t addr)
{
    size_t l = 0, h = s->n;
    while (l < h) {
        size_t mid = (l + h) / 2;
        if (s->b[mid].lo < addr) l = mid + 1; else h = mid;
    }
    return (l < s->n && s->b[l].lo == addr) ? &s->b[l] : NULL;
}

size_t fs_reach_why(struct fs_scan *s, const struct fs_blk *b, char *out)
{
    static const char *const names[] = { "block", "global", "stack", "registers", "thread-stack", "tls",
                                         "libc-streams" };
    for (int hops = 0; b->root == FS_ROOT_BLOCK && b->parent < s->n && hops < 1000; hops++)
        b = &s->b[b->parent];
    size_t n = 0;
    const char *k = names[b->root < 7 ? b->root : 0];
    memcpy(out, k, strlen(k)); n += strlen(k);
    if (b->root == FS_ROOT_GLOBAL && b->seg >= 0 && b->seg < fs_segs.n) {
        uintptr_t bias = fs_segs.bias[b->seg];
        struct fs_module *m = NULL;
        for (int id = 1; (m = fs_module_by_id(id)) != NULL; id++)
            if (m->bias == bias)
                break;
        if (m) {
            fs_record_module(m);
            out[n++] = '@';
            n += fs_fmt_u64(out + n, (uint64_t)m->id);
            out[n++] = '+';
            n += fs_fmt_hex(out + n, b->from - bias);
        }
    }
    out[n] = '\0';
    return n;
}

/* Mark every tracked block the program can still reach (see the top of the file). */
int fs_reach_mark(struct fs_scan *s)
{
    memset(s, 0, sizeof *s);
    size_t n = 0;
    fs_ledger_each(fs_count, &n);
    if (!n)
        return 0;
    s->cap = n;
    s->b = fs_alloc(n * sizeof *s->b);
    s->work = fs_alloc(n * sizeof *s->work);
    if (!s->b || !s->work) {
        fs_reach_release(s);
        return -1;
    }
    fs_ledger_each(fs_collect, s);
    fs_heapsort(s->b, s->n);
    fs_ledger_each(fs_flag_file, s);
    fs_scan_begin();
    fs_reachability(s);
    fs_scan_end();
    return 0;
}

void fs_reach_release(struct fs_scan *s)
{
    if (s->b) {
        /* small tables live on in an arena chunk: wipe the block addresses, or
         * memcheck's leak scan (--valgrind) finds them there */
        memset(s->b, 0, s->cap * sizeof *s->b);
        fs_free_pages(s->b, s->cap * sizeof *s->b);
    }
    if (s->work) fs_free_pages(s->work, s->cap * sizeof *s->work);
    s->b = NULL;
    s->work = NULL;
}

void fs_reach_fault(int sig)
{
    if (fs_scanning && (sig == SIGSEGV || sig == SIGBUS) && fs_gettid() == fs_scan_tid)
        siglongjmp(fs_scan_jmp, 1);
}
