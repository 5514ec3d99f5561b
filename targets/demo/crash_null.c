/* crash_null.c — build a list of items; crashes on an error path.
 *
 * Usage: demo_crash_null N      builds N items and prints their sum.
 *
 * Planted bug (crash, SIGSEGV): new_item() reports a failed malloc but does
 * not return, and writes through the NULL pointer on the next line.
 * Trigger: the program's 2nd malloc() call:
 *   faultstack run --fail only=malloc,nth=2 -- demo_crash_null 3
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

struct item { struct item *next; long value; };

static struct item *new_item(struct item *next, long value)
{
    struct item *it = malloc(sizeof *it); /* FS-FAULT */
    if (!it)
        fprintf(stderr, "demo_crash_null: out of memory\n");   /* BUG: no return */
    it->value = value; /* FS-EXPECT: crash */
    it->next = next;
    return it;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]), sum = 0;
    struct item *head = NULL;
    for (long i = 1; i <= n; i++)
        head = new_item(head, i);
    while (head) {
        struct item *next = head->next;
        sum += head->value;
        free(head);
        head = next;
    }
    printf("%ld\n", sum);
    return 0;
}
