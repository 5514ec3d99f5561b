/* own_crash_handler.c — a program with its own fatal-signal handlers, as
 * servers and GNU tools (gnulib's c-stack) install them; crashes on an error
 * path.
 *
 * Usage: demo_own_crash_handler HOW    prints "sum 6" and exits 0.
 *   HOW: reraise  sigaction handler logs, restores SIG_DFL and re-raises
 *        exit     signal() handler logs and calls _exit(3)
 *        abort    sigaction handler prints "program error" and aborts (c-stack)
 *        recover  sigaction handler siglongjmps back; the program goes on, exit 0
 *        killself no handler; the error path sends itself SIGSEGV with kill()
 *
 * Bug: new_item() does not return when malloc fails and writes through NULL
 * (FS-EXPECT: crash line). design.md: any death by a signal is a crash
 * finding, with its site where it can be known, even after the program's own
 * handler ran (before, the handler replaced the preload's: "killed by signal
 * 11 ... 0 crashes", exit 0, and the process record was lost); a fault the
 * program's handler recovers from (recover) is not a crash.
 * Trigger: the program's first malloc():
 *   faultstack run --fail only=malloc,nth=1 -- demo_own_crash_handler reraise
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct item { struct item *next; long value; };
static const char *how = "reraise";
static sigjmp_buf back;

static void log_it(const char *msg)
{
    if (write(2, msg, strlen(msg)) < 0)
        return;
}

static void on_fault(int sig)
{
    if (!strcmp(how, "exit")) {
        log_it("demo_own_crash_handler: fatal signal, exiting\n");
        _exit(3);
    }
    if (!strcmp(how, "abort")) {
        log_it("demo_own_crash_handler: program error\n");
        abort();
    }
    if (!strcmp(how, "recover"))
        siglongjmp(back, 1);
    log_it("demo_own_crash_handler: fatal signal, re-raising\n");
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static struct item *new_item(struct item *next, long value)
{
    struct item *it = malloc(sizeof *it); /* FS-FAULT */
    if (!it) {
        fprintf(stderr, "demo_own_crash_handler: out of memory\n");
        if (!strcmp(how, "killself"))
            kill(getpid(), SIGSEGV);
        /* BUG: no return */
    }
    it->value = value; /* FS-EXPECT: crash */
    it->next = next;
    return it;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s reraise|exit|abort|recover|killself\n", argv[0]);
        return 2;
    }
    how = argv[1];
    if (!strcmp(how, "exit")) {
        signal(SIGSEGV, on_fault);
    } else if (strcmp(how, "killself") != 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fault;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
    }
    long sum = 0;
    struct item *head = NULL;
    if (sigsetjmp(back, 1) == 0) {
        for (long i = 1; i <= 3; i++)
            head = new_item(head, i);
    } else {
        fprintf(stderr, "demo_own_crash_handler: recovered\n");
        return 0;                /* recovered: an error the program handled */
    }
    while (head) {
        struct item *next = head->next;
        sum += head->value;
        free(head);
        head = next;
    }
    printf("sum %ld\n", sum);
    return 0;
}
