/* adv.c — adversarial targets for the supervisor's memory (issue 11,
 * bench/supervisor/run.sh): each mode makes the records of one run as large
 * or as many as it can, so `faultstack run`'s own peak RSS and the database
 * growth can be measured against them.
 *
 *   adv leak N SITES       leak N blocks of 16 bytes from SITES distinct call sites
 *   adv points N SITES     N malloc/free fault points from SITES distinct call sites
 *   adv dfree N            N double frees (one site): N anomaly lines
 *   adv dclose N           N double closes of an fd (one site): N anomaly lines
 *   adv forkexec N [PROG]  N children, one after the other, each exec'ing PROG
 *                          (default /bin/true): N record files
 *   adv sites SITES        one malloc at each of SITES call sites, all freed; a
 *                          failed one frees what it has and exits 1 (a sweep of
 *                          it makes SITES fault runs)
 *
 * The call sites are the stubs of stubs.S (ADV_NSITES of them). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char adv_stubs[];
extern const unsigned long adv_nstubs;

typedef void *(*adv_fn)(size_t);

static adv_fn adv_stub(unsigned long i)
{
    return (adv_fn)(void *)(adv_stubs + 16 * (i % adv_nstubs));
}

static unsigned long arg(char **argv, int i, unsigned long dflt)
{
    return argv[i] ? strtoul(argv[i], NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: adv leak|points|dfree|dclose|forkexec|sites N [SITES|PROG]\n");
        return 2;
    }
    const char *mode = argv[1];
    unsigned long n = arg(argv, 2, 1000);
    if (!strcmp(mode, "leak")) {
        unsigned long sites = arg(argv, 3, adv_nstubs);
        for (unsigned long i = 0; i < n; i++) {
            volatile char *p = adv_stub(i % sites)(16);
            if (p) p[0] = 1;                /* dropped: a leak */
        }
    } else if (!strcmp(mode, "points")) {
        unsigned long sites = arg(argv, 3, adv_nstubs);
        for (unsigned long i = 0; i < n; i++)
            free(adv_stub(i % sites)(16));
    } else if (!strcmp(mode, "dfree")) {
        for (unsigned long i = 0; i < n; i++) {
            void *p = malloc(16);
            free(p);
            free(p);                        /* the preload keeps it from libc */
        }
    } else if (!strcmp(mode, "dclose")) {
        for (unsigned long i = 0; i < n; i++) {
            int fd = open("/dev/null", O_RDONLY);
            close(fd);
            close(fd);
        }
    } else if (!strcmp(mode, "forkexec")) {
        const char *prog = argv[2] && argv[3] ? argv[3] : "/bin/true";
        for (unsigned long i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                execl(prog, prog, (char *)NULL);
                _exit(127);
            }
            if (pid < 0) {
                perror("fork");
                return 1;
            }
            int st;
            waitpid(pid, &st, 0);
        }
    } else if (!strcmp(mode, "sites")) {
        unsigned long sites = n < adv_nstubs ? n : adv_nstubs;
        void **v = calloc(sites, sizeof *v);
        if (!v)
            return 1;
        for (unsigned long i = 0; i < sites; i++)
            if (!(v[i] = adv_stub(i)(16))) {
                for (unsigned long k = 0; k < i; k++)
                    free(v[k]);
                free(v);
                fprintf(stderr, "adv: out of memory at site %lu\n", i);
                return 1;
            }
        for (unsigned long i = 0; i < sites; i++)
            free(v[i]);
        free(v);
    } else {
        fprintf(stderr, "adv: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
