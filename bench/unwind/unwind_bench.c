/*
 * unwind_bench.c — which in-process stack unwinder should the preload use?
 *
 * From a call depth of DEPTH frames of our own code, captures the stack of
 * return addresses ITER times with each method and prints ns per capture,
 * frames captured, how many of our DEPTH frames were seen, the ratio to the
 * floor (one __builtin_return_address(0)), the cost of the first call, and
 * how many malloc-family calls each method makes (first call and steady
 * state) — the preload wraps malloc, so an unwinder that allocates recurses
 * into the wrapper.
 *
 *   floor      __builtin_return_address(0): one frame, the lower bound
 *   fp-walk    follow saved frame pointers (valid only where code keeps
 *              them: -fno-omit-frame-pointer; Debian's libc does not)
 *   unw_bt     libunwind unw_backtrace (fast path: per-thread trace cache)
 *   unw_step   libunwind unw_getcontext + unw_init_local + unw_step loop,
 *              default caching policy (UNW_CACHE_GLOBAL)
 *   unw_stepPT the same with unw_set_caching_policy(UNW_CACHE_PER_THREAD)
 *   glibc_bt   glibc backtrace() (execinfo; dlopens libgcc_s for
 *              _Unwind_Backtrace).  Looked up in libc.so.6 by dlsym: nongnu
 *              libunwind.so.8 exports a `backtrace' of its own, which a
 *              plain call would bind to here since we link libunwind.
 *   dwfl       elfutils libdw dwfl_getthread_frames on ourselves, through
 *              dwfl_attach_state with our own callbacks (registers from
 *              getcontext, memory read directly): dwfl_linux_proc_attach
 *              cannot unwind its own process (it ptrace-attaches the
 *              thread), which the bench shows at start.
 *
 * Built by CMake (bench/unwind/CMakeLists.txt), never run by ctest.
 * Usage: unwind_bench [ITER] [DEPTH] [METHOD]   (defaults 300000 10 all)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define MAXFRAMES 64

/* ---- malloc counter (interposes libc's malloc for the whole process) ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread unsigned long bench_allocs;

void *malloc(size_t n) { bench_allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { bench_allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { bench_allocs++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
int posix_memalign(void **p, size_t al, size_t n)
{
	bench_allocs++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : ENOMEM;
}
void *aligned_alloc(size_t al, size_t n) { bench_allocs++; return __libc_memalign(al, n); }
void *memalign(size_t al, size_t n) { bench_allocs++; return __libc_memalign(al, n); }

/* ---- stack bounds, for the frame-pointer walk and dwfl memory reads ----- */

static uintptr_t stack_lo, stack_hi;

static void bench_stack_bounds(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, &addr, &size);
	pthread_attr_destroy(&a);
	stack_lo = (uintptr_t)addr;
	stack_hi = stack_lo + size;
}

/* ---- the methods -------------------------------------------------------- */

static __attribute__((noinline)) int m_floor(void **buf, int max)
{
	buf[0] = __builtin_return_address(0);
	return 1;
}

static __attribute__((noinline)) int m_fp_walk(void **buf, int max)
{
	uintptr_t *fp = __builtin_frame_address(0);
	int n = 0;
	while (n < max && (uintptr_t)fp >= stack_lo && (uintptr_t)fp + 16 <= stack_hi &&
	       ((uintptr_t)fp & 7) == 0) {
		void *ra = (void *)fp[1];
		if (ra == NULL)
			break;
		buf[n++] = ra;
		uintptr_t *next = (uintptr_t *)fp[0];
		if (next <= fp)   /* must go up the stack, else it is not a frame chain */
			break;
		fp = next;
	}
	return n;
}

static __attribute__((noinline)) int m_unw_bt(void **buf, int max)
{
	return unw_backtrace(buf, max);
}

static __attribute__((noinline)) int m_unw_step(void **buf, int max)
{
	unw_context_t uc;
	unw_cursor_t c;
	int n = 0;
	if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
		return 0;
	while (n < max && unw_step(&c) > 0) {
		unw_word_t ip;
		unw_get_reg(&c, UNW_REG_IP, &ip);
		buf[n++] = (void *)ip;
	}
	return n;
}

static int (*glibc_backtrace)(void **, int);

static __attribute__((noinline)) int m_glibc_bt(void **buf, int max)
{
	return glibc_backtrace(buf, max);
}

static void setup_glibc_bt(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	glibc_backtrace = libc ? (int (*)(void **, int))dlsym(libc, "backtrace") : NULL;
	if (glibc_backtrace == NULL) {
		fprintf(stderr, "unwind_bench: glibc's backtrace not found: %s\n", dlerror());
		exit(1);
	}
	Dl_info di;
	if (dladdr((void *)(uintptr_t)glibc_backtrace, &di) && strstr(di.dli_fname, "libc.so") == NULL) {
		fprintf(stderr, "unwind_bench: backtrace resolved to %s, not libc\n", di.dli_fname);
		exit(1);
	}
}

static void setup_unw_per_thread(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

/* dwfl: one Dwfl for the process, modules from /proc/self/maps, our callbacks. */
static Dwfl *bench_dwfl;
static pid_t bench_tid;
static ucontext_t bench_uc;  /* registers of the thread at capture */

struct dwfl_collect { void **buf; int n, max; };

static pid_t dw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	if (*thread_argp != NULL)
		return 0;
	*thread_argp = (void *)1;
	return bench_tid;
}

static bool dw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = NULL;
	return tid == bench_tid;
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	if (addr < stack_lo || addr + sizeof *result > stack_hi || (addr & 7))
		return false;   /* CFI unwinding only reads the stack */
	*result = *(const Dwarf_Word *)(uintptr_t)addr;
	return true;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const greg_t *g = bench_uc.uc_mcontext.gregs;
	/* DWARF x86-64 numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
	Dwarf_Word r[17] = {
		g[REG_RAX], g[REG_RDX], g[REG_RCX], g[REG_RBX], g[REG_RSI], g[REG_RDI],
		g[REG_RBP], g[REG_RSP], g[REG_R8], g[REG_R9], g[REG_R10], g[REG_R11],
		g[REG_R12], g[REG_R13], g[REG_R14], g[REG_R15], g[REG_RIP],
	};
	if (!dwfl_thread_state_registers(thread, 0, 17, r))
		return false;
	dwfl_thread_state_register_pc(thread, g[REG_RIP]);
	return true;
}

static const Dwfl_Thread_Callbacks dw_thread_callbacks = {
	.next_thread = dw_next_thread,
	.get_thread = dw_get_thread,
	.memory_read = dw_memory_read,
	.set_initial_registers = dw_set_initial_registers,
};

static char *dw_debuginfo_path = NULL;
static const Dwfl_Callbacks dw_proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &dw_debuginfo_path,
};

static int dw_frame_cb(Dwfl_Frame *state, void *arg)
{
	struct dwfl_collect *c = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (c->n == 0) {   /* frame 0 is getcontext's return point in m_dwfl: skip */
		c->n = -1;
		return DWARF_CB_OK;
	}
	if (c->n < 0)
		c->n = 0;
	c->buf[c->n++] = (void *)(uintptr_t)pc;
	return c->n < c->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static Dwfl *dw_open(bool use_proc_attach, const char **err)
{
	Dwfl *dwfl = dwfl_begin(&dw_proc_callbacks);
	*err = NULL;
	if (dwfl == NULL)
		goto fail;
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0)
		goto fail;
	if (use_proc_attach) {
		int rc = dwfl_linux_proc_attach(dwfl, getpid(), false);
		if (rc != 0) {
			*err = rc > 0 ? strerror(rc) : dwfl_errmsg(-1);
			goto fail_end;
		}
	} else if (!dwfl_attach_state(dwfl, NULL, getpid(), &dw_thread_callbacks, NULL)) {
		goto fail;
	}
	return dwfl;
fail:
	*err = dwfl_errmsg(-1);
fail_end:
	if (dwfl != NULL)
		dwfl_end(dwfl);
	return NULL;
}

static __attribute__((noinline)) int m_dwfl(void **buf, int max)
{
	if (bench_dwfl == NULL) {
		const char *err;
		bench_tid = (pid_t)syscall(SYS_gettid);
		bench_dwfl = dw_open(false, &err);
		if (bench_dwfl == NULL)
			return 0;
	}
	struct dwfl_collect c = { buf, 0, max };
	getcontext(&bench_uc);
	(void)dwfl_getthread_frames(bench_dwfl, bench_tid, dw_frame_cb, &c);
	return c.n < 0 ? 0 : c.n;
}

/* ---- the harness -------------------------------------------------------- */

struct method {
	const char *name;
	int (*fn)(void **, int);
	void (*setup)(void);  /* run before the method, not timed */
	/* results */
	double ns, first_ns;
	unsigned long first_allocs, allocs;
	long iters;
	int frames, ours;
};

static struct method methods[] = {
	{ .name = "floor", .fn = m_floor },
	{ .name = "fp-walk", .fn = m_fp_walk },
	{ .name = "unw_bt", .fn = m_unw_bt },
	{ .name = "unw_step", .fn = m_unw_step },
	{ .name = "unw_stepPT", .fn = m_unw_step, .setup = setup_unw_per_thread },
	{ .name = "glibc_bt", .fn = m_glibc_bt, .setup = setup_glibc_bt },
	{ .name = "dwfl", .fn = m_dwfl },
};
#define NMETHODS (sizeof methods / sizeof methods[0])

static volatile long bench_sink;

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* How many of BUF's frames are return addresses into bench_descend. */
static int count_ours(void **buf, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		Dl_info di;
		if (dladdr((char *)buf[i] - 1, &di) && di.dli_sname && strcmp(di.dli_sname, "bench_descend") == 0)
			k++;
	}
	return k;
}

static void run_method(struct method *m, long iters)
{
	void *buf[MAXFRAMES];

	if (m->setup != NULL)
		m->setup();
	unsigned long a0 = bench_allocs;
	double t0 = now_ns();
	int n = m->fn(buf, MAXFRAMES);
	m->first_ns = now_ns() - t0;
	m->first_allocs = bench_allocs - a0;
	m->frames = n;
	m->ours = count_ours(buf, n);

	/* Warm up, then time; cap each method at ~1 s of work. */
	for (int i = 0; i < 100; i++)
		bench_sink += m->fn(buf, MAXFRAMES);
	a0 = bench_allocs;
	long done = 0;
	t0 = now_ns();
	double t1 = t0;
	while (done < iters) {
		long batch = iters - done < 1000 ? iters - done : 1000;
		for (long i = 0; i < batch; i++)
			bench_sink += m->fn(buf, MAXFRAMES);
		done += batch;
		t1 = now_ns();
		if (t1 - t0 > 1e9)
			break;
	}
	m->iters = done;
	m->ns = (t1 - t0) / done;
	m->allocs = bench_allocs - a0;
}

static const char *only;

__attribute__((noinline)) int bench_descend(int depth, long iters)
{
	if (depth > 1) {
		int r = bench_descend(depth - 1, iters);
		bench_sink += r;   /* no tail call: every level keeps its frame */
		return r;
	}
	for (size_t i = 0; i < NMETHODS; i++) {
		if (only == NULL || strcmp(only, methods[i].name) == 0)
			run_method(&methods[i], iters);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 300000;
	int depth = argc > 2 ? atoi(argv[2]) : 10;
	only = argc > 3 ? argv[3] : NULL;
	if (iters < 1 || depth < 1) {
		fprintf(stderr, "usage: %s [ITER>0] [DEPTH>0] [METHOD]\n", argv[0]);
		return 2;
	}
	bench_stack_bounds();

	/* Document what dwfl_linux_proc_attach does on its own process. */
	if (only == NULL || strcmp(only, "dwfl") == 0) {
		const char *err;
		void *buf[MAXFRAMES];
		struct dwfl_collect c = { buf, 0, MAXFRAMES };
		Dwfl *d = dw_open(true, &err);
		if (d == NULL) {
			printf("dwfl_linux_proc_attach(self): attach failed: %s\n", err);
		} else {
			int rc = dwfl_getthread_frames(d, (pid_t)syscall(SYS_gettid), dw_frame_cb, &c);
			printf("dwfl_linux_proc_attach(self): attach ok; dwfl_getthread_frames(own tid) = %d (%s), %d frames\n",
			       rc, rc ? dwfl_errmsg(-1) : "ok", c.n < 0 ? 0 : c.n);
			dwfl_end(d);
		}
	}

	bench_descend(depth, iters);

	double floor_ns = methods[0].ns;
	printf("depth %d (+ main and libc start frames), up to %ld captures per method (capped at ~1 s)\n",
	       depth, iters);
	printf("%-10s %10s %8s %7s %6s %10s %12s %13s %9s\n", "method", "ns/capture", "x floor",
	       "frames", "ours", "first(us)", "first allocs", "allocs/capt", "iters");
	for (size_t i = 0; i < NMETHODS; i++) {
		const struct method *m = &methods[i];
		if (m->iters == 0)
			continue;
		printf("%-10s %10.1f %8.1f %7d %3d/%-2d %10.1f %12lu %13.3f %9ld\n", m->name, m->ns,
		       floor_ns > 0 ? m->ns / floor_ns : 0.0, m->frames, m->ours, depth,
		       m->first_ns / 1e3, m->first_allocs, (double)m->allocs / m->iters, m->iters);
	}
	if (bench_dwfl != NULL)
		dwfl_end(bench_dwfl);
	return (int)(bench_sink & 0);
}
