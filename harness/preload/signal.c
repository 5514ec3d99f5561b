/* signal.c — the preload's fatal-signal handler: a crash record (signal, pc,
 * stack) and the end of the process, then the default action.
 *
 * The preload's handler stays first for the fatal signals whose disposition
 * was the default at start-up: sigaction() and signal() are interposed, and a
 * handler the program installs for one of them is kept in fs_prog_act and
 * chained to from ours (with the program's sa_mask and flags at the kernel,
 * SA_RESETHAND emulated). So a crash under the program's own handler (it logs,
 * restores SIG_DFL and re-raises; or exits; or aborts, as gnulib's c-stack
 * does) is still recorded with its site: an 'X' line, a crash unless the
 * process then ends with exit status 0 (a handler that recovered). SIG_IGN is
 * passed to the kernel as it is (it must survive exec).
 *
 * What runs here must be async-signal-safe: raw system calls, the record
 * buffer (record.c takes no lock the interrupted thread may hold: see
 * fs_record_in_signal), the ledger only try-locked by fs_finish (sig != 0). */
#define _GNU_SOURCE
#include "preload.h"
#include "reach.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

static const int fs_fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT,
                                     SIGHUP, SIGQUIT, 0 };
static struct sigaction fs_prog_act[NSIG];   /* owned signals: what the program installed */
static volatile unsigned char fs_owned[NSIG]; /* 1: the kernel runs fs_on_signal for it */
static int fs_crash_noted;                   /* this process wrote its crash line */

static int (*fs_real_sigaction)(int, const struct sigaction *, struct sigaction *);

int fs_sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!fs_real_sigaction)
        fs_real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))fs_real("sigaction");
    return fs_real_sigaction(sig, act, old);
}

static int fs_is_fatal(int sig)
{
    for (int i = 0; fs_fatal_sigs[i]; i++)
        if (fs_fatal_sigs[i] == sig)
            return 1;
    return 0;
}

static int fs_is_crash(int sig)
{
    return sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT;
}

/* 'x' (or 'X': the program's own handler runs next) SIG MOD OFF FRAMES */
static void fs_write_crash(char tag, int sig, void *ctx)
{
    char line[1024];
    size_t n = 0;
    ucontext_t *uc = ctx;
    uintptr_t pc = uc ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : 0;
    struct fs_module *m = fs_module_of(pc);
    line[n++] = tag; line[n++] = ' ';
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
    fs_record_flush();
}

static int fs_prog_handles(const struct sigaction *pa)
{
    return (pa->sa_flags & SA_SIGINFO) ? pa->sa_sigaction != NULL
                                       : pa->sa_handler != SIG_DFL && pa->sa_handler != SIG_IGN;
}

static void fs_on_signal(int sig, siginfo_t *si, void *ctx)
{
    fs_reach_fault(sig);
    int saved = errno;
    fs_record_in_signal(1);
    struct sigaction pa = fs_prog_act[sig];
    if (fs_prog_handles(&pa)) {
        /* the program's handler: note the crash (once), then run it */
        if (fs_is_crash(sig) && fs_active && !fs_end_st.finished && !fs_crash_noted) {
            fs_crash_noted = 1;
            fs_guard++;
            fs_write_crash(FS_REC_CRASH_CAUGHT, sig, ctx);
            fs_guard--;
        }
        if (pa.sa_flags & SA_RESETHAND) {
            memset(&fs_prog_act[sig], 0, sizeof fs_prog_act[sig]);
            fs_prog_act[sig].sa_handler = SIG_DFL;
        }
        fs_record_in_signal(0);
        errno = saved;
        if (pa.sa_flags & SA_SIGINFO)
            pa.sa_sigaction(sig, si, ctx);
        else
            pa.sa_handler(sig);
        return;                              /* a fault comes back here if it recurs */
    }
    if (fs_active && !fs_end_st.finished) {
        fs_guard++;
        if (fs_is_crash(sig) && !fs_crash_noted) {
            fs_crash_noted = 1;
            fs_write_crash(FS_REC_CRASH, sig, ctx);
        }
        fs_guard--;
        fs_finish("signal", -1, sig);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    fs_sys_sigaction(sig, &dfl, NULL);
    fs_owned[sig] = 0;
    fs_record_in_signal(0);
    errno = saved;
    /* A signal sent (kill, raise, abort) does not come back by itself: send
     * it again (blocked until this handler returns). A fault re-executes the
     * faulting instruction with SIG_DFL. */
    if (!fs_is_crash(sig) || sig == SIGABRT || !si || si->si_code <= 0)
        syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), (pid_t)syscall(SYS_gettid), sig);
}

/* Install fs_on_signal for sig with the program's mask and flags. */
static int fs_own(int sig, const struct sigaction *prog)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fs_on_signal;
    /* the program's handler runs on the stack it asked for; ours alone on
     * the preload's alternate stack (a stack overflow is a crash to record) */
    sa.sa_flags = SA_SIGINFO | (prog->sa_flags & (SA_RESTART | SA_NODEFER | SA_ONSTACK)) |
                  (fs_prog_handles(prog) ? 0 : SA_ONSTACK);
    sa.sa_mask = prog->sa_mask;
    if (fs_sys_sigaction(sig, &sa, NULL) != 0)
        return -1;
    fs_prog_act[sig] = *prog;
    fs_owned[sig] = 1;
    return 0;
}

FS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!fs_active || sig <= 0 || sig >= NSIG || !fs_is_fatal(sig) ||
        (!fs_owned[sig] && !(act && fs_prog_handles(act))))
        return fs_sys_sigaction(sig, act, old);
    struct sigaction before;
    if (fs_owned[sig]) {
        before = fs_prog_act[sig];
    } else if (fs_sys_sigaction(sig, NULL, &before) != 0) {
        return -1;
    }
    if (act) {
        if (!(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_IGN) {
            if (fs_sys_sigaction(sig, act, NULL) != 0)
                return -1;                   /* SIG_IGN must be real: it survives exec */
            fs_owned[sig] = 0;
        } else if (fs_own(sig, act) != 0) {
            return -1;
        }
    }
    if (old)
        *old = before;
    return 0;
}

static sighandler_t fs_signal_as(int sig, sighandler_t h, int flags)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (flags & SA_RESETHAND)
        ;                                    /* System V: the signal is not blocked in its handler */
    else
        sigaddset(&sa.sa_mask, sig);
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void (*)(void))old.sa_sigaction : old.sa_handler;
}

/* glibc's signal() is BSD's; sysv_signal resets the handler and does not
 * block the signal. Both call sigaction inside libc (not through the PLT). */
typedef sighandler_t (*fs_signal_fn)(int, sighandler_t);

/* Not a fatal signal the preload owns: libc's own function does it. */
static int fs_signal_passes(int sig)
{
    return !fs_active || sig <= 0 || sig >= NSIG || !fs_is_fatal(sig);
}

FS_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
    static fs_signal_fn real_fn;
    if (fs_signal_passes(sig)) {
        if (!real_fn)
            real_fn = (fs_signal_fn)fs_real("signal");
        return real_fn(sig, h);
    }
    return fs_signal_as(sig, h, SA_RESTART);
}

FS_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
    return signal(sig, h);
}

FS_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
    static fs_signal_fn real_fn;
    if (fs_signal_passes(sig)) {
        if (!real_fn)
            real_fn = (fs_signal_fn)fs_real("sysv_signal");
        return real_fn(sig, h);
    }
    return fs_signal_as(sig, h, SA_RESETHAND | SA_NODEFER);
}

void fs_signal_init(void)
{
    static char altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    for (int i = 0; fs_fatal_sigs[i]; i++) {
        struct sigaction old;
        if (fs_sys_sigaction(fs_fatal_sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;                        /* the program's parent chose a disposition (nohup) */
        fs_own(fs_fatal_sigs[i], &old);
    }
}

void fs_signal_after_fork(void)
{
    fs_crash_noted = 0;
}
