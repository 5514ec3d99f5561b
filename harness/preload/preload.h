/* preload.h — internals shared by the files of libfaultstack-preload.so.
 *
 * The preload is loaded into the target with LD_PRELOAD. Every wrapped call is a
 * step: fs_begin() identifies its call site, counts it as a fault point and asks
 * the plan whether it fails; the wrapper then calls the real function (or fakes
 * the failure) and tells the ledger what was acquired or released. At process
 * end (finish.c) the ledger is judged and one record file is written.
 *
 * Rules: no fd stays open (records are appended with open/write/close each time),
 * nothing is printed, errno is preserved, the preload's own memory comes from
 * mmap (alloc.c), and a thread-local guard makes every call made while inside a
 * wrapper (libc's own malloc inside fopen, our own bookkeeping) pass through. */
#ifndef FS_PRELOAD_H
#define FS_PRELOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "funcs.h"
#include "plan.h"
#include "record_fmt.h"

#define FS_EXPORT __attribute__((visibility("default")))
#define FS_TLS __thread __attribute__((tls_model("initial-exec")))
extern char __libc_single_threaded;    /* glibc: the process has one thread */

/* ---- spinlock ---- */
typedef struct { volatile int v; } fs_lock_t;

/* ---- functions and kinds: libc's table (libc.spec) + protocols (protocol.c) ---- */
/* Protocol libraries and annotations register their functions and kinds at
 * run time (faultstack/protocol_api.h): ids from FS_F_COUNT and FS_KIND_COUNT on. */
#define FS_MAX_DYN_FUNCS 4096
#define FS_MAX_DYN_KINDS 1024
#define FS_MAX_FUNCS (FS_F_COUNT + FS_MAX_DYN_FUNCS)
extern struct fs_func_info fs_dyn_funcs[FS_MAX_DYN_FUNCS];
extern const char *fs_dyn_kinds[FS_MAX_DYN_KINDS];
extern unsigned char fs_dyn_flags[FS_MAX_DYN_FUNCS];       /* FSP_F_* of faultstack/protocol_api.h */
static inline const struct fs_func_info *fs_fn(int id)
{
    return id < FS_F_COUNT ? &fs_funcs[id] : &fs_dyn_funcs[id - FS_F_COUNT];
}
static inline const char *fs_kind_name(int kind)
{
    return kind < FS_KIND_COUNT ? fs_kind_names[kind] : fs_dyn_kinds[kind - FS_KIND_COUNT];
}
/* core.c: a function was registered: apply the plan's filters and site to it. */
void fs_func_registered(int id);
/* A protocol's own kind (not one of libc's built-in kinds). */
#define FS_KIND_IS_PROTOCOL(k) ((k) >= FS_KIND_COUNT)

/* errno of the calling thread, without a call through the PLT each time:
 * __errno_location() once per thread, its result kept in the thread's TLS. */
extern FS_TLS int *fs_errno_ptr;
int *fs_errno_slow(void);
static inline int *fs_errno_loc(void)
{
    int *p = fs_errno_ptr;
    return __builtin_expect(p != NULL, 1) ? p : fs_errno_slow();
}
#define FS_ERRNO (*fs_errno_loc())

/* ---- state (core.c) ---- */
extern int fs_active;                  /* 1: a run directory was given and init is done */
extern FS_TLS int fs_guard;            /* >0: inside a wrapper or the preload itself */
extern FS_TLS int fs_busy;             /* >0: inside the preload's own bookkeeping */
extern struct fs_plan fs_the_plan;
extern char fs_run_dir[512];

/* Shared (MAP_SHARED file RUN_DIR/shared) across every process of a run:
 * struct fs_shared, record_fmt.h. */
extern struct fs_shared *fs_shm;
/* Map RUN_DIR/shared (fs_run_dir), creating it with *init when it is new
 * (init NULL: zeros). Falls back to a private page when the file cannot be made. */
void fs_shm_attach(const struct fs_shared *init);

/* ---- modules (core.c) ---- */
struct fs_module {
    uintptr_t lo, hi;          /* executable address range */
    uintptr_t bias;            /* dlpi_addr */
    int id;                    /* 1-based, per process image */
    int system;                /* libc, loader, preload...: not the program's code */
    int self;                  /* the preload itself */
    int counts;                /* the plan's module= filter accepts it */
    int emitted;               /* its 'm' line is in this process's record */
    int sanrt;                 /* a sanitizer runtime (libasan...): its own calls are not the program's */
    const char *base;          /* basename inside path */
    char path[400];
};
struct fs_module *fs_module_of(uintptr_t addr);   /* NULL when unknown */
extern FS_TLS struct fs_module *fs_last_mod;      /* the module fs_module_of found last, per thread */
struct fs_module *fs_module_by_id(int id);
void fs_modules_refresh(void);                     /* take in what was loaded since (dl_iterate_phdr) */
void fs_readlink_exe(char *out, size_t len);       /* /proc/self/exe, without malloc */
/* The plan's site= module, once loaded: its module id (core.c; set by modules.c). */
extern int fs_site_mod;

/* ---- one wrapped call ---- */
struct fs_call {
    int id;                    /* enum fs_func_id */
    int inject;                /* 1: fake the failure */
    int err;                   /* errno (or returned error) of an injected failure */
    int saved_errno;
    int mod;                   /* acquire/call site: module id (0 = none) */
    uint64_t off;              /* offset of the call instruction in the module */
    uintptr_t sp;              /* the calling frame's stack pointer at the call */
    uint64_t ordinal;          /* 0 when the call was not a fault point */
    uint64_t ctx;              /* calling-context hash, when computed (else 0) */
};

/* Start a wrapped call. Returns 0 when the call must simply pass through (guard
 * set, preload inactive): the wrapper calls the real function and nothing else.
 * Otherwise sets the guard, fills *c (site, fault point, injection decision) and
 * returns 1; the wrapper must then call fs_end(c). */
int fs_begin(struct fs_call *c, int id, void *ra, void *frame);
/* End a wrapped call: clear the guard and set errno to 'err'. */
extern FS_TLS int fs_in_call;        /* inside a wrapped call the program made (fs_begin..fs_end) */
static inline void fs_end(struct fs_call *c, int err)
{
    (void)c;
    fs_in_call = 0;
    fs_guard--;
    FS_ERRNO = err;
}

/* --fail internal: a call that libc makes inside a wrapped call (the malloc
 * inside fopen) while the guard lets it pass: count it as a fault point at the
 * program's call site; returns 1 when it must fail (the wrapper fakes it). */
int fs_internal_fault(int id);

/* A plain run past its point cap, with threads (tcount.c): count a point's
 * site in the calling thread; add every thread's counts to the sites (dying:
 * the process is ending on a signal, locks are only tried); in a fork child,
 * forget what the parent will add; at the end of a thread, add its counts. */
void fs_tcount_point(int func, int mod, uint64_t off, uint64_t ordinal);
void fs_tcount_flush_all(int dying);
void fs_tcount_forked(void);
void fs_tcount_thread_end(void);

#define FS_BEGIN(c, name) \
    fs_begin((c), FS_F_##name, __builtin_return_address(0), __builtin_frame_address(0))

/* Resolve the next definition of a symbol (the real function). Never NULL:
 * aborts the target with a message on the preload's own fd 2 write if missing. */
void *fs_real(const char *name);
#define FS_REAL(name) \
    static __typeof__(&name) real_fn; \
    if (!real_fn) real_fn = (__typeof__(&name))fs_real(#name)

/* ---- ledger (ledger.c) ---- */
enum fs_res_flags { FS_RES_OWNED_FD = 1, FS_RES_DEAD = 2, FS_RES_TOMB = 4 /* in its stripe's tombstone FIFO */ };
struct fs_res {
    struct fs_res *next;
    uint64_t handle_x;         /* the handle XOR FS_HANDLE_MASK: read it with fs_res_handle() */
    uint64_t aux;              /* rwlock read holds: holder tid */
    uint64_t size;             /* memory/mmap bytes; recursive lock depth */
    uint64_t off;              /* acquire site */
    uintptr_t sp;              /* acquiring frame's stack pointer */
    uint64_t owner;            /* FILE/DIR handle owning this fd (FS_RES_OWNED_FD) */
    int32_t owned_fd;          /* FILE/DIR: its fd, or -1 */
    int32_t pid, tid;
    uint16_t mod, kind, func;  /* kind, func: ids (protocols' are >= FS_KIND_COUNT, FS_F_COUNT) */
    uint8_t flags, mark;
    uint32_t gen;
    struct fs_stack *stack;    /* acquire stack, only for FAULTSTACK_STACK_SITES */
    struct fs_res *tnext;      /* ledger.c: its stripe's tombstone FIFO (FS_RES_TOMB) */
    uint32_t tseq, tqseq;      /* ledger.c: the stripe's release count at its last release,
                                  and when it joined the FIFO */
};
/* The ledger keeps handles XORed with FS_HANDLE_MASK (a non-canonical address):
 * under `faultstack run --valgrind` memcheck's leak scan reads the ledger's
 * pages like any other memory, and a plain heap address there would make every
 * block the program lost "still reachable" instead of "definitely lost". */
#define FS_HANDLE_MASK 0xffff000000000000ull
static inline uint64_t fs_res_handle(const struct fs_res *r) { return r->handle_x ^ FS_HANDLE_MASK; }
#define FS_STACK_MAX 24
struct fs_stack { int n; uintptr_t ip[FS_STACK_MAX]; };
/* Is (mod, off) one of the sites whose acquire stacks are wanted
 * (FAULTSTACK_STACK_SITES="base+0xOFF;...", set by the supervisor's
 * confirmation run)? */
int fs_stack_site_slow(int mod, uint64_t off);
extern int fs_nss;                 /* sites in FAULTSTACK_STACK_SITES (sites.c) */
static inline int fs_stack_site(int mod, uint64_t off)
{
    return __builtin_expect(fs_nss == 0, 1) ? 0 : fs_stack_site_slow(mod, off);
}

void fs_ledger_init(void);
/* Record an acquisition. Replaces a dead (tombstone) entry for the same key. */
struct fs_res *fs_acquire(const struct fs_call *c, int kind, uint64_t handle, uint64_t aux,
                          uint64_t size);
/* Look up a live or dead entry; returns it with its stripe locked (unlock with
 * fs_ledger_unlock), or NULL (nothing locked). */
struct fs_res *fs_ledger_find(int kind, uint64_t handle, uint64_t aux);
/* Start fetching the bucket of a handle the caller will look up soon. */
void fs_ledger_prefetch(int kind, uint64_t handle, uint64_t aux);
void fs_ledger_unlock(int kind, uint64_t handle, uint64_t aux);
/* Mark an entry dead (tombstone); caller holds its stripe lock. */
void fs_ledger_kill(struct fs_res *r);
/* Release the key in one step: returns 1 when it was live (now a tombstone),
 * 2 when it was a tombstone already (a double release: *before gets the entry),
 * 0 when the ledger does not know it. */
int fs_ledger_release(int kind, uint64_t handle, uint64_t aux, struct fs_res *before);
/* Release the key if it is live (it becomes a tombstone); no-op otherwise. */
void fs_ledger_forget(int kind, uint64_t handle, uint64_t aux);
/* Lock/unlock every stripe (fork, process end). trylock variant for signal
 * handlers returns 0 when some stripe stayed busy. */
void fs_ledger_lock_all(void);
int fs_ledger_trylock_all(void);
void fs_ledger_unlock_all(void);
/* Call fn on every entry; caller holds all locks. */
void fs_ledger_each(void (*fn)(struct fs_res *r, void *arg), void *arg);

/* ---- raw fds kept in the program's own data (fdslots.c) ---- */
/* At an fd's acquisition: remember which slots of the program's own writable
 * data hold its number already; out (or NULL): the int[2] that pipe(),
 * socketpair() wrote it into, which the program's store, not "before". */
void fs_fdslot_snapshot(int fd, const int *out);
/* The acquiring thread's next wrapped calls: look for the slots the program
 * stored the pending fds in (fs_begin calls it while fs_fd_npending). */
extern FS_TLS int fs_fd_npending;
void fs_fdslot_settle(void);
/* A raw fd the program acquired: snapshot, then fs_acquire. */
struct fs_res *fs_acquire_fd(const struct fs_call *c, int fd, const int *out);
/* At process end: a slot of the program's own data that holds fd now and did
 * not when it was acquired? Writes "global@MODID+0xOFF" into why (>= 64 bytes)
 * and returns its length (the module's 'm' line is emitted), or returns 0. */
size_t fs_fdslot_held(int fd, char *why);

/* ---- anomalies and points (record.c) ---- */
void fs_anomaly(const struct fs_call *c, const char *anomaly, int kind, uint64_t handle,
                const struct fs_res *acq, const char *detail);
void fs_record_point(const struct fs_call *c, uint64_t occurrence);
/* 'p' lines written so far in this image, and the cap (FAULTSTACK_MAX_POINTS):
 * past it an uninjected point writes nothing. */
extern uint64_t fs_points_written, fs_max_points;
static inline int fs_record_points_full(void)
{
    return __atomic_load_n(&fs_points_written, __ATOMIC_RELAXED) >= fs_max_points;
}
void fs_record_raw(const char *line, size_t len);    /* append one line */
void fs_record_flush(void);
/* The calling thread enters (1) or leaves (0) a signal handler: while inside,
 * the record never waits for a lock the interrupted code may hold. */
void fs_record_in_signal(int on);
void fs_record_module(struct fs_module *m);          /* emit 'm' line once */
void fs_record_start_image(void);                    /* new process or image */
void fs_record_forked(void);        /* this process forked: RUN_DIR/forked exists (the
                                       supervisor then looks for the run's orphans) */
size_t fs_fmt_u64(char *out, uint64_t v);            /* decimal */
size_t fs_fmt_hex(char *out, uint64_t v);            /* 0x... */

/* ---- sites (sites.c) ---- */
struct fs_site;
/* Find or create the call site (func, mod, off); returns it with its stripe
 * locked in *lk (fs_unlock it), or NULL when out of memory (nothing locked). */
struct fs_site *fs_site_get(int func, int mod, uint64_t off, fs_lock_t **lk);
struct fs_site {
    struct fs_site *next;
    uint64_t off;
    uint64_t count;
    uint64_t first;
    uint64_t base;             /* count when this process was forked: its parent's calls */
    uint32_t ebadf;            /* closes of never-tracked fds that gave EBADF */
    uint16_t mod;
    uint16_t func;
};
#define FS_SITE_BUCKETS 4096
static inline unsigned fs_site_hash(int func, int mod, uint64_t off)
{
    uint64_t h = off * 0x9E3779B97F4A7C15ull ^ ((uint64_t)mod << 40) ^ ((uint64_t)func << 52);
    return (unsigned)(h >> 52) & (FS_SITE_BUCKETS - 1);
}
/* The sites this thread counted last, by hash: most calls come from a few
 * sites, found here without the stripe lock. Sites are never freed, so a
 * cached pointer stays valid (in a fork child too). */
#define FS_SITE_CACHE 32
extern FS_TLS struct fs_site *fs_site_cache[FS_SITE_CACHE];
uint64_t fs_site_point_slow(int func, int mod, uint64_t off, uint64_t ordinal);
static inline uint64_t fs_site_count(struct fs_site *s, uint64_t ordinal)
{
    /* one thread: a plain increment (a signal handler's wrapped call cannot
     * land inside: the guard is set here); threads: one atomic add. Only the
     * call that counts the first occurrence writes 'first'. */
    uint64_t occ;
    if (__libc_single_threaded)
        occ = ++s->count;
    else
        occ = __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
    if (__builtin_expect(occ == 1, 0))
        __atomic_store_n(&s->first, ordinal, __ATOMIC_RELAXED);
    return occ;
}
static inline int fs_site_is(const struct fs_site *s, int func, int mod, uint64_t off)
{
    return s && s->off == off && s->mod == mod && s->func == func;
}
/* Count a fault point at the site (func, mod, off), found or created: its
 * occurrence index (1-based; 0 when out of memory); the first ordinal is
 * remembered for the 's' line. No lock once the thread has seen the site. */
static inline uint64_t fs_site_point(int func, int mod, uint64_t off, uint64_t ordinal)
{
    struct fs_site *s = fs_site_cache[fs_site_hash(func, mod, off) % FS_SITE_CACHE];
    if (__builtin_expect(fs_site_is(s, func, mod, off), 1))
        return fs_site_count(s, ordinal);
    return fs_site_point_slow(func, mod, off, ordinal);
}
void fs_sites_emit(void);                           /* 's' and 'w' lines (process end) */
void fs_sites_forked(void);     /* a fork child: its 's' lines count its own calls only */
void fs_stack_sites_parse(const char *spec);        /* FAULTSTACK_STACK_SITES */
/* A close() from this site of an fd that was not open (EBADF) and that the
 * ledger never saw; returns how many so far at the site. */
unsigned fs_site_note_ebadf(const struct fs_call *c);
/* Stack walking (unwind.c, libgcc's unwinder). fs_unwind fills up to max frames, the
 * innermost first: ip = the frame's return address into it, cfa = what
 * _Unwind_GetCFA reports in the backtrace callback, which is the frame's own
 * stack pointer (the CFA of the frame it called). */
struct fs_uframe { uintptr_t ip, cfa; };
int fs_unwind(struct fs_uframe *out, int max);
/* First frame outside libc/loader/preload from the current stack (slow path). */
int fs_unwind_site(int *mod, uint64_t *off, uintptr_t *sp);

/* ---- fork mode (forkmode.c) ---- */
extern int fs_fork_strategy;                  /* 0: off */
void fs_fork_init(void);
/* At a fault point of the trunk: fork a child that fails this call when the
 * strategy selects it. Returns 1 in that child (the caller injects), 0 in the
 * trunk or when nothing was forked. */
int fs_fork_point(int id, int mod, uint64_t off, uint64_t ord, uint64_t occ, uint64_t ctx);
extern int fs_fork_child_caller;               /* a site-strategy child: record its fault's caller */
/* The callers of the function holding the current call site (the frames above
 * the first frame in the program's code), innermost first, as module id +
 * offset. Returns how many of max were found. */
int fs_callers(int max, int *mod, uint64_t *off);
void fs_fork_target_forked(void);             /* atfork prepare: fork mode ends */
/* Calling-context hash of the current call (core.c): module basenames and
 * offsets of up to 16 return addresses outside the preload; stable across runs. */
uint64_t fs_ctx_hash(void);

/* ---- process end (finish.c, reach.c, signal.c, wrap_proc.c) ---- */
/* How the process image is ending. A fork child resets it (fs_after_fork_child). */
#define FS_MAX_LIVE 256
struct fs_end_state {
    int exit_called;           /* exit()/_exit() seen: the frames below are live */
    pid_t tid;                 /* the thread that called it */
    uintptr_t sp;              /* its stack pointer there, callee-saved registers spilled above */
    int nlive;                 /* its live frames, innermost first */
    struct fs_uframe live[FS_MAX_LIVE];
    uintptr_t regs[6];         /* libc's internal exit: the program frame's callee-saved registers */
    int nregs;
    int main_returned;         /* main returned (__libc_start_main's main is ours) */
    pid_t pid;                 /* the process whose main the on_exit handler belongs to */
    int code;                  /* exit status, or -1 when unknown */
    int finished;              /* fs_finish ran */
};
extern struct fs_end_state fs_end_st;
void fs_signal_init(void);                    /* fatal-signal handlers (signal.c) */
void fs_signal_after_fork(void);              /* a fork child has not crashed yet */
/* The real sigaction (the preload interposes the program's). */
struct sigaction;
int fs_sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* A thread's stack [lo, hi), registered when it starts (wrap_lock_custom.c): a root
 * while the thread is alive when the process ends. */
void fs_thread_register(pid_t tid, uintptr_t lo, uintptr_t hi);
void fs_finish(const char *how, int code, int sig);
void fs_note_exit_stack(void);                /* exit() called: remember live frames */
/* Libc's exit was reached without the exit() wrapper (error(), errx()...):
 * the first frame in the program's code is where it ended; remember its stack
 * pointer, callee-saved registers and the live frames. */
void fs_note_exit_inside_libc(void);
/* Register the calling thread's stack (the main thread, before main). */
void fs_thread_register_self(void);
void fs_finish_init(void);                    /* signal handlers, atfork */
void fs_after_fork_child(void);

/* ---- sanitizer runtimes (wrap_mem_custom.c, sanitizer.c, sanpatch.c) ---- */
extern int fs_next_is_libc;                   /* 0: another allocator serves the heap */
/* The ASan runtime is linked into the program: the malloc wrappers reach its
 * allocator through these entry points (sanpatch.c left them alone). */
void fs_next_use_runtime(void *memalign_fn, void *cfree_fn, void *reallocarray_fn);
/* Point the program's own runtime's definitions of the wrapped functions at
 * the preload's wrappers. Returns how many were redirected, -1 when the
 * runtime cannot be redirected (the preload then sees none of them). */
int fs_sanpatch(void);

/* ---- internal allocator (alloc.c): mmap-backed, never the target's malloc ---- */
void *fs_alloc(size_t n);                     /* zeroed; NULL when out of memory */
void fs_free_pages(void *p, size_t n);          /* give back what fs_alloc(n) returned (large blocks are unmapped, small ones stay in the arena) */

/* ---- spinlock (sync.c): fs_lock_t is declared at the top ---- */
/* Inline: while the process has one thread (glibc's __libc_single_threaded,
 * which pthread_create clears in the creating thread before the new thread
 * exists) a free lock is taken with a plain store, no atomic exchange: nobody
 * else can race for it. A signal handler interrupting the holder still finds
 * the lock taken (its fs_trylock fails, as before); one that lands between the
 * test and the store takes and drops the lock before the interrupted code
 * resumes. Otherwise (threads, or a taken lock) fs_lock_wait spins. */
void fs_lock_wait(fs_lock_t *l);
static inline void fs_lock(fs_lock_t *l)
{
    if (__builtin_expect(__libc_single_threaded && !l->v, 1)) {
        l->v = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        return;
    }
    fs_lock_wait(l);
}
int fs_trylock(fs_lock_t *l);
static inline void fs_unlock(fs_lock_t *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* Cached (sync.c): the pid, refreshed in a fork child; a thread's tid, kept
 * with the fork generation it was read in. Inline: on every tracked call. */
extern pid_t fs_pid;
extern unsigned fs_fork_gen;
extern FS_TLS pid_t fs_tid_cache;
extern FS_TLS unsigned fs_tid_gen;
pid_t fs_gettid_slow(void);
pid_t fs_getpid_slow(void);
static inline pid_t fs_gettid(void)
{
    if (__builtin_expect(fs_tid_gen == __atomic_load_n(&fs_fork_gen, __ATOMIC_RELAXED), 1))
        return fs_tid_cache;
    return fs_gettid_slow();
}
static inline pid_t fs_getpid(void)       /* cached: no system call */
{
    return __builtin_expect(fs_pid != 0, 1) ? fs_pid : fs_getpid_slow();
}
void fs_pid_refresh(void);      /* in a fork child */
/* Fork-mode child: keep the trunk's pid/tid as the owner identity of the
 * resources it inherited (they are this child's own, not "inherited"). */
void fs_pid_adopt(void);

#endif
