/*
 * fuzz_replay_main.c — plain main() for the exitstack fuzz target: replays
 * every file of the given directories (or the given files) through
 * LLVMFuzzerTestOneInput, so the seed and regression corpus runs as an
 * ordinary ctest under any compiler. Exits non-zero if nothing was replayed;
 * a failing input aborts with the harness's message.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    int rc = -1;

    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto out;
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "cannot read %s\n", path);
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    int i, count = 0, bad = 0;
    struct stat st;

    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **names;
            int n = scandir(argv[i], &names, NULL, alphasort);
            if (n < 0) {
                fprintf(stderr, "cannot list %s\n", argv[i]);
                return 1;
            }
            for (int j = 0; j < n; j++) {
                char path[4096];
                if (names[j]->d_name[0] != '.') {
                    snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
                    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        bad |= replay_file(path);
                        count++;
                    }
                }
                free(names[j]);
            }
            free(names);
        } else {
            bad |= replay_file(argv[i]);
            count++;
        }
    }
    printf("replayed %d inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "no corpus inputs found: usage %s DIR|FILE...\n", argv[0]);
        return 1;
    }
    return bad ? 1 : 0;
}
