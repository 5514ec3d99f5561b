/* rss.c — libbench_supervisor_rss.so: LD_PRELOADed into faultstack by run.sh
 * to measure the supervisor's own peak RSS (getrusage RUSAGE_SELF, which
 * leaves out the target and every other child, unlike /usr/bin/time). At exit
 * each process that has it appends "PID MAXRSS_KIB VMPEAK_KIB CPU_MS" to
 * $FS_RSS_OUT (CPU_MS: its own user + system time);
 * run.sh keeps the line of faultstack's own pid. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

__attribute__((destructor)) static void rss_report(void)
{
    const char *out = getenv("FS_RSS_OUT");
    if (!out || !*out)
        return;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return;
    long vmpeak = 0;
    FILE *st = fopen("/proc/self/status", "re");
    if (st) {
        char l[256];
        while (fgets(l, sizeof l, st))
            if (sscanf(l, "VmPeak: %ld", &vmpeak) == 1)
                break;
        fclose(st);
    }
    char line[96];
    long cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    int n = snprintf(line, sizeof line, "%d %ld %ld %ld\n", (int)getpid(), ru.ru_maxrss, vmpeak, cpu_ms);
    int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0) { /* nothing to do */ }
        close(fd);
    }
}
