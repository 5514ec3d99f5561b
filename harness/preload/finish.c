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
 * A process that dies of a signal reports its crash; its resources are "held".
 * So does one a sanitizer runtime ends after its report (how 'sanitizer',
 * sanitizer.c): the report is the finding, the resources are held. */
#define _GNU_SOURCE
#include "preload.h"
#include "reach.h"

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
#include <unistd.h>
#include <unwind.h>


struct fs_end_state fs_end_st = { .code = -1 };

/* ---------------- live frames at exit() ---------------- */

__attribute__((noinline))
void fs_note_exit_stack(void)
{
    fs_end_st.tid = fs_gettid();
    fs_end_st.exit_called = 1;
    fs_end_st.nlive = fs_unwind(fs_end_st.live, FS_MAX_LIVE);
}

/* libc's exit reached from inside libc: error(), errx(), verr(),
 * error_at_line() (called by gnulib's xalloc_die) end the process without the
 * PLT, so the exit() wrapper never saw it. Called from the on_exit handler:
 * the first frame outward in the program's own code is where the program
 * ended. Its stack pointer bounds the live stack, and the callee-saved
 * registers it had (restored by the unwinder from the libc frames' saves) are
 * roots: a block held only in a register spilled inside error() is held. */
struct fs_prog_frame { int n, found; uintptr_t sp; uintptr_t regs[6]; };

static _Unwind_Reason_Code fs_prog_frame_cb(struct _Unwind_Context *ctx, void *arg)
{
    static const int callee_saved[6] = { 3, 6, 12, 13, 14, 15 };   /* DWARF: rbx rbp r12-r15 */
    struct fs_prog_frame *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (!ip || ++w->n > 256)
        return _URC_END_OF_STACK;
    struct fs_module *m = fs_module_of(ip);
    if (!m || m->system)
        return _URC_NO_REASON;
    w->found = 1;
    w->sp = (uintptr_t)_Unwind_GetCFA(ctx);  /* this frame's own stack pointer (fs_uframe) */
    for (int i = 0; i < 6; i++)
        w->regs[i] = (uintptr_t)_Unwind_GetGR(ctx, callee_saved[i]);
    return _URC_END_OF_STACK;
}

__attribute__((noinline))
void fs_note_exit_inside_libc(void)
{
    struct fs_prog_frame w;
    memset(&w, 0, sizeof w);
    _Unwind_Backtrace(fs_prog_frame_cb, &w);
    fs_note_exit_stack();
    if (!w.found)
        return;                              /* no program frame: scan from here (conservative) */
    fs_end_st.sp = w.sp;
    memcpy(fs_end_st.regs, w.regs, sizeof w.regs);
    fs_end_st.nregs = 6;
}

/* Is the frame that acquired r still live (design.md: "held at exit")?
 * fs_end_st.live[i] is frame i (innermost first) with its stack pointer in .cfa (see
 * fs_uframe); while it calls, its own frame spans [sp_i, sp_{i+1}). The
 * acquiring call was made at SP r->sp from the function holding the site. */
static int fs_held_by_live_frame(const struct fs_res *r)
{
    if (!fs_end_st.exit_called || r->tid != fs_end_st.tid)
        return 0;                          /* main returned: every frame is gone */
    struct fs_module *m = fs_module_by_id(r->mod);
    if (!m)
        return 0;
    void *fn = _Unwind_FindEnclosingFunction((void *)(m->bias + r->off));
    for (int i = 0; i + 1 < fs_end_st.nlive; i++) {
        uintptr_t lo = fs_end_st.live[i].cfa, hi = fs_end_st.live[i + 1].cfa;
        if (r->sp < lo || r->sp >= hi)
            continue;
        void *live_fn = _Unwind_FindEnclosingFunction((void *)(fs_end_st.live[i].ip - 1));
        if (fn ? fn == live_fn : fs_module_of(fs_end_st.live[i].ip) == m)
            return 1;
    }
    return 0;
}

/* ---------------- emitting verdicts ---------------- */

struct fs_emit { const char *how; int sig; pid_t pid; struct fs_scan *scan; int dying; };

/* 'r VERDICT[:WHY] KIND FUNC MOD OFF HANDLE SIZE [STACK]' */
static void fs_emit_res(struct fs_res *r, const char *verdict, const char *why)
{
    char line[1024];
    size_t n = 0;
    line[n++] = FS_REC_RESOURCE; line[n++] = ' ';
    size_t vl = strlen(verdict);
    memcpy(line + n, verdict, vl); n += vl;
    if (why && *why) {
        line[n++] = ':';
        memcpy(line + n, why, strlen(why)); n += strlen(why);
    }
    line[n++] = ' ';
    const char *k = fs_kind_name(r->kind);
    memcpy(line + n, k, strlen(k)); n += strlen(k); line[n++] = ' ';
    const char *fn = fs_fn(r->func)->name;
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
    /* design.md, verdicts: held by a live frame, a running thread, reachable
     * (FILE, DIR) or kept in the program's own data (raw fd), else a leak */
    char why[96] = "";
    const char *v = "held";
    struct fs_blk *b;
    if (r->pid != e->pid)
        v = "inherited";
    else if (e->sig)
        strcpy(why, "signal");
    else if (e->dying)
        strcpy(why, "sanitizer");
    else if (strcmp(e->how, "exec") == 0)
        strcpy(why, "exec");
    else if (fs_end_st.exit_called && r->tid != fs_end_st.tid && fs_thread_alive(r->tid))
        strcpy(why, "thread");
    else if (fs_held_by_live_frame(r))
        strcpy(why, "frame");
    else if ((r->kind == FS_KIND_file || r->kind == FS_KIND_dir) && e->scan &&
             (b = fs_reach_block(e->scan, (uintptr_t)fs_res_handle(r))) && (b->is_file ? b->file_held : b->r->mark)) {
        memcpy(why, "reachable-", 10);
        fs_reach_why(e->scan, b, why + 10);
    } else if (!(r->kind == FS_KIND_fd && fs_fdslot_held((int)fs_res_handle(r), why)))
        v = "leak";
    fs_emit_res(r, v, why);
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
            fs_emit_res(r, "leak", NULL);
        }
    }
}

static void fs_write_end(const char *how, int code, int sig)
{
    char line[128];
    size_t n = 0;
    memcpy(line, FS_REC_END " ", sizeof FS_REC_END); n = sizeof FS_REC_END;
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
    if (!fs_active || fs_end_st.finished)
        return;
    fs_end_st.finished = 1;
    fs_guard++;
    fs_busy++;
    int saved = errno;
    int dying = sig || strcmp(how, "sanitizer") == 0;   /* maybe inside a handler: try-lock */
    fs_tcount_flush_all(dying);
    fs_write_end(how, code, sig);
    int locked = dying ? fs_ledger_trylock_all() : (fs_ledger_lock_all(), 1);
    fs_pid_refresh();                        /* a raw clone() child skipped the fork handler */
    struct fs_scan s;
    memset(&s, 0, sizeof s);
    int marked = !dying && strcmp(how, "exec") != 0 && fs_reach_mark(&s) == 0 && s.n;
    memset(fs_end_st.regs, 0, sizeof fs_end_st.regs);   /* the program's register values: memcheck
                                                           (--valgrind) must not see them in our data */
    struct fs_emit e = { how, sig, fs_getpid(), marked ? &s : NULL, dying && !sig };
    fs_ledger_each(fs_judge_handle, &e);
    if (marked)
        fs_judge_memory(&s, &e);
    if (locked)
        fs_ledger_unlock_all();
    fs_sites_emit();
    char line[128];
    size_t k = 0;
    memcpy(line, FS_REC_SUM " ", sizeof FS_REC_SUM); k = sizeof FS_REC_SUM;
    k += fs_fmt_u64(line + k, fs_shm ? fs_shm->ordinal : 0); line[k++] = ' ';
    k += fs_fmt_u64(line + k, s.reach_blocks); line[k++] = ' ';
    k += fs_fmt_u64(line + k, s.reach_bytes); line[k++] = '\n';
    fs_record_raw(line, k);
    fs_record_raw(FS_REC_DONE "\n", sizeof FS_REC_DONE);
    fs_record_flush();
    fs_reach_release(&s);
    errno = saved;
    fs_busy--;
    fs_guard--;
}

__attribute__((destructor(101)))
static void fs_fini(void)
{
    fs_finish(fs_end_st.exit_called ? "exit" : "main", fs_end_st.code, 0);
}

static void fs_atfork_prepare(void)
{
    fs_tcount_flush_all(0);
    fs_fork_target_forked();
    fs_ledger_lock_all();
}

static void fs_atfork_parent(void)
{
    fs_ledger_unlock_all();
    fs_record_forked();
}

static void fs_atfork_child(void)
{
    fs_pid_refresh();
    fs_ledger_unlock_all();
    fs_tcount_forked();
    fs_sites_forked();
    fs_after_fork_child();
}

void fs_after_fork_child(void)
{
    fs_end_st.exit_called = 0;
    fs_end_st.finished = 0;
    fs_end_st.code = -1;
    fs_end_st.sp = 0;
    fs_end_st.nregs = 0;
    fs_end_st.pid = fs_getpid();
    fs_signal_after_fork();
    fs_guard++;
    fs_record_start_image();
    fs_guard--;
}

void fs_finish_init(void)
{
    fs_signal_init();
    pthread_atfork(fs_atfork_prepare, fs_atfork_parent, fs_atfork_child);
}
