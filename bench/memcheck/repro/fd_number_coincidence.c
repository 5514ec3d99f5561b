/* fd_number_coincidence.c — a leaked fd that faultstack calls "held" because
 * an unrelated global int happens to hold the same number at exit
 * (bench/RESULTS.md, "Memcheck agreement": a faultstack miss).
 *
 * check_readable() opens FILE and returns without closing it: the fd's
 * number is lost with its frame, a leak (memcheck: fd open at exit). Later
 * main() sets the global `verbosity` to LEVEL. When LEVEL equals the leaked
 * fd's number, fdslots.c finds an aligned int slot of the program's own data
 * that holds the number at exit and did not hold it when the fd was
 * acquired, and the verdict is `held`, reason `global ...+0x... (verbosity)`
 * instead of `leak`. The leaked fd is 3 natively, 5 under --valgrind (valgrind
 * holds 3 and 4).
 *
 *   cc -g -O0 -o /tmp/fnc bench/memcheck/repro/fd_number_coincidence.c
 *   build/bin/faultstack run --db /tmp/n.db -- /tmp/fnc /etc/hostname 3    # exit 0: held (the bug)
 *   build/bin/faultstack run --db /tmp/n.db -- /tmp/fnc /etc/hostname 2    # exit 1: leak fd (right)
 *   sqlite3 /tmp/n.db "SELECT run_id, verdict, handle, line, reason FROM resource"
 *   build/bin/faultstack run --valgrind --db /tmp/v.db -- /tmp/fnc /etc/hostname 5
 *   sqlite3 /tmp/v.db "SELECT line, faultstack, memcheck, agreement FROM memcheck_vs_faultstack WHERE kind = 'fd'"
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int verbosity;                   /* a setting, not an fd */

static int check_readable(const char *path)
{
    int fd = open(path, O_RDONLY);      /* leaked: never closed, its number lost */
    if (fd < 0)
        return -1;
    char c;
    return read(fd, &c, 1) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE LEVEL\n", argv[0]);
        return 2;
    }
    if (check_readable(argv[1]) != 0)
        return 1;
    verbosity = atoi(argv[2]);
    printf("readable; verbosity %d\n", verbosity);
    return 0;
}
