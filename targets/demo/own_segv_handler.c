/* own_segv_handler.c — probe: a program with its own SIGSEGV handler.
 *
 * Usage: demo_own_segv_handler    installs a SIGSEGV handler that reports
 *                                 "program error" and aborts (as gnulib's
 *                                 c-stack does in GNU diff), keeps a page it
 *                                 unmapped behind the preload's back (raw
 *                                 munmap system call) in a global, keeps one
 *                                 block, loses another and exits 0.
 * The leak scan at exit reads the unmapped page (a root it cannot read, like
 * the unmapped page below the static TLS that made `diff -u` abort in about
 * half of its runs): that fault must be the scan's own, never the program's
 * handler. Expected: exit 0, no crash; main's lost block leaks
 * (FS-EXPECT: leak memory), the kept block does not.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *gone;                 /* a root the scan reads: the page it points to is gone */
static char *kept;                 /* reachable: not a leak */

static void on_segv(int sig)
{
    static const char msg[] = "demo_own_segv_handler: program error\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
    abort();
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED)
        return 1;
    syscall(SYS_munmap, gone, 4096);
    kept = malloc(16);
    char *volatile lost = malloc(32); /* FS-EXPECT: leak memory */
    lost = NULL;
    exit(lost ? 1 : 0);
}
