/* slowstart.c — the sweep-throughput bench's demo target: a program whose
 * start-up is expensive and whose work after it is a short run of fault points.
 *
 * It first builds a table (a few passes of a xorshift over 1 M words, ~20 ms
 * here: `--table-passes`), then does ROUNDS rounds (default 17) of 12 fault
 * points each on the directory DIR it is given:
 *   malloc, calloc, realloc, strdup, open/read/close of DIR/data.txt,
 *   fopen/fgets/fclose of DIR/list.txt, opendir/closedir of DIR.
 * Every acquire is checked and every error path releases what it holds, so
 * a correct sweep finds nothing; a failed open/fopen/opendir is reported on
 * stderr and the program goes on with the next round (like a tool skipping a
 * bad input), a failed allocation ends the program with status 1. It prints a
 * checksum of the table and of what it read on stdout.
 *
 * The start-up is what exec mode re-runs for every fault point and fork mode
 * runs once (bench/sweep/run.sh).
 *
 * Usage: bench_sweep_slowstart DIR [ROUNDS [TABLE_PASSES]]
 * DIR must hold data.txt and list.txt (run.sh writes them). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_WORDS (1u << 20)

static uint64_t build_table(int passes)
{
    uint64_t *t = malloc(TABLE_WORDS * sizeof *t);
    if (!t) {
        fprintf(stderr, "slowstart: out of memory for the table\n");
        exit(1);
    }
    uint64_t x = 0x9E3779B97F4A7C15ull, sum = 0;
    for (int p = 0; p < passes; p++)
        for (uint32_t i = 0; i < TABLE_WORDS; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            t[i] = (p ? t[i] : 0) ^ x;
        }
    for (uint32_t i = 0; i < TABLE_WORDS; i += 4099)
        sum += t[i];
    free(t);
    return sum;
}

/* One round: 12 fault points. Returns the round's checksum, or -1 when an
 * allocation failed (the caller exits). */
static long round_once(const char *dir, int r)
{
    long sum = -1;
    char path[4096];
    char *name = NULL, *buf = NULL, *copy = NULL;
    int *cnt = NULL;

    buf = malloc(256);
    if (!buf)
        goto out;
    cnt = calloc(16, sizeof *cnt);
    if (!cnt)
        goto out;
    char *nb = realloc(buf, 512);
    if (!nb)
        goto out;
    buf = nb;
    snprintf(buf, 512, "round-%d", r);
    copy = strdup(buf);
    if (!copy)
        goto out;
    sum = (long)strlen(copy);

    snprintf(path, sizeof path, "%s/data.txt", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror("slowstart: open data.txt");
    } else {
        ssize_t n = read(fd, buf, 511);
        if (n > 0)
            sum += n + (unsigned char)buf[r % n];
        close(fd);
    }

    snprintf(path, sizeof path, "%s/list.txt", dir);
    FILE *f = fopen(path, "re");
    if (!f) {
        perror("slowstart: fopen list.txt");
    } else {
        if (fgets(buf, 512, f))
            sum += (long)strlen(buf);
        fclose(f);
    }

    DIR *d = opendir(dir);
    if (!d) {
        perror("slowstart: opendir");
    } else {
        cnt[r & 15]++;
        closedir(d);
    }
    name = malloc(32);
    if (!name) {
        sum = -1;
        goto out;
    }
    snprintf(name, 32, "%d", r);
    sum += name[0];
out:
    free(name);
    free(copy);
    free(cnt);
    free(buf);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [ROUNDS [TABLE_PASSES]]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 17;
    int passes = argc > 3 ? atoi(argv[3]) : 7;
    uint64_t t = build_table(passes);
    long total = 0;
    for (int r = 0; r < rounds; r++) {
        long s = round_once(argv[1], r);
        if (s < 0) {
            fprintf(stderr, "slowstart: out of memory in round %d\n", r);
            return 1;
        }
        total += s;
    }
    printf("table %llx total %ld\n", (unsigned long long)t, total);
    return 0;
}
