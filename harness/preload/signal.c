/* signal.c — the preload's fatal-signal handler: a crash record (signal, pc,
 * stack) and the end of the process, then the default action.
 *
 * Installed at start-up for the fatal signals whose disposition is the
 * default. What runs here must be async-signal-safe: raw system calls, the
 * record buffer, no lock that interrupted code may hold (the ledger is only
 * try-locked by fs_finish when sig != 0). */
#define _GNU_SOURCE
#include "preload.h"
#include "reach.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ucontext.h>

static const int fs_fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT,
                                     SIGHUP, SIGQUIT, 0 };

static void fs_on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    fs_reach_fault(sig);
    int saved = errno;
    if (fs_active && !fs_end_st.finished) {
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


void fs_signal_init(void)
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
}
