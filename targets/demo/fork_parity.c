/* fork_parity.c — probe: a leak verdict that depends on where malloc puts a
 * block, so fork mode must leave the heap exactly as an exec run has it.
 *
 * Usage: demo_fork_parity FILE   prints FILE's first line; exit 0, or 1 when a
 *                                call failed (reported on stderr)
 *
 * The pattern (found in jansson's test_dump, issue 8 §5): the leak scan is
 * conservative, so a stale pointer it finds — here a global left dangling after
 * free(), in jansson an uninitialized local of a live frame still holding a
 * freed block's address — keeps whatever
 * block now sits at that address "reachable". Whether a lost block is reported
 * then depends on the heap layout. An exec run of a key and the forked run of
 * the same key must have the same layout: if faultstack's fork-mode child
 * allocated anything from the target's heap when it set itself up (setenv
 * did), the blocks the program allocates afterwards move, and a lost block
 * lands on a dangling pointer in one mode and not in the other.
 *
 * To catch an allocation of any small size, every tcache size class up to
 * 1024 bytes is primed before the fault point: two blocks allocated and freed,
 * a global left dangling at the one freed first. malloc hands the other one
 * (freed last) out first. On the error path of the fopen() the program
 * allocates one block of each class for its error report and loses them all
 * (describe_failure): in an exec run none of them is at a dangling address, so
 * every one is a leak; a forked run whose set-up took the head of one class
 * would hand out the dangling one there instead, and see one leak fewer.
 * main() returns (no exit()): after main returned no stack is a root, so the
 * globals are the only pointers that matter and the verdicts are
 * deterministic. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCLASS 63                       /* malloc(16*k+8): chunks of 32..1024 bytes */

static void *dangling[NCLASS];          /* freed, never cleared: the stale roots */

static size_t class_size(int k)
{
    return 16 * (size_t)(k + 1) + 8;
}

/* Two blocks per class, both freed; dangling[k] keeps the first one's address. */
static int prime(void)
{
    for (int k = 0; k < NCLASS; k++) {
        void *first = malloc(class_size(k));
        void *second = malloc(class_size(k));
        if (!first || !second) {
            perror("malloc");
            free(first);
            free(second);
            return -1;
        }
        dangling[k] = first;
        free(first);                    /* freed first: handed out second */
        free(second);
    }
    return 0;
}

/* The error report: one block of each class, lost (the planted bug). */
static void describe_failure(const char *path)
{
    for (int k = 0; k < NCLASS; k++) {
        char *part = malloc(class_size(k));   /* FS-EXPECT: leak memory */
        if (!part)
            continue;
        snprintf(part, class_size(k), "%d: %s", k, path);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: demo_fork_parity FILE\n");
        return 2;
    }
    if (prime() != 0)
        return 1;
    FILE *f = fopen(argv[1], "r");      /* FS-FAULT */
    if (!f) {
        perror(argv[1]);
        describe_failure(argv[1]);
        return 1;
    }
    char line[256];
    if (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fclose(f);
    return 0;
}
