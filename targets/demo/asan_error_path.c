/* asan_error_path.c — a name list built with -fsanitize=address: two planted
 * error-path bugs that only an injected failure reaches, one for faultstack's
 * leak verdict and one for AddressSanitizer.
 *
 * Usage: demo_asan_error_path NAME...   stores the NAMEs in a list, prints them.
 *
 * Planted bug 1 (leak, memory): add_name() allocates the node, then the copy
 * of the name; when the copy fails it returns without freeing the node.
 * Trigger: the 2nd fault point (strdup):
 *   faultstack run --fail nth=2 -- demo_asan_error_path a
 * Planted bug 2 (ASan: heap-use-after-free): print_all() frees its message
 * when the label's malloc fails, then reads it to report the error.
 * Trigger: the label's malloc (the 4th fault point with one NAME):
 *   faultstack run --fail nth=4 -- demo_asan_error_path a
 * Nothing leaks and nothing is misused without a fault (exit 0).
 * Built three ways (targets/demo/CMakeLists.txt): gcc (libasan.so, the
 * default), clang -shared-libasan, clang (runtime linked in). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char *name; };

static struct node *add_name(struct node *head, const char *name)
{
    struct node *n = malloc(sizeof *n); /* FS-EXPECT: leak */
    if (!n)
        return NULL;
    n->name = strdup(name); /* FS-FAULT: leak */
    if (!n->name)
        return NULL;                          /* BUG: n is not freed */
    n->next = head;
    return n;
}

static int print_all(const struct node *head)
{
    char *msg = malloc(64);
    if (!msg)
        return -1;
    snprintf(msg, 64, "names:");
    char *label = malloc(16); /* FS-FAULT: uaf */
    if (!label) {
        free(msg);                            /* BUG: freed before it is reported */
        fprintf(stderr, "demo_asan_error_path: out of memory after '%c...'\n", msg[0]); /* FS-EXPECT: uaf */
        return -1;
    }
    snprintf(label, 16, "%d:", 1);
    printf("%s", msg);
    for (const struct node *n = head; n; n = n->next)
        printf(" %s", n->name);
    printf("\n");
    free(label);
    free(msg);
    return 0;
}

static void free_all(struct node *head)
{
    while (head) {
        struct node *next = head->next;
        free(head->name);
        free(head);
        head = next;
    }
}

int main(int argc, char **argv)
{
    struct node *head = NULL;
    if (argc < 2) {
        fprintf(stderr, "usage: %s NAME...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct node *n = add_name(head, argv[i]);
        if (!n) {
            fprintf(stderr, "demo_asan_error_path: out of memory\n");
            free_all(head);
            return 1;
        }
        head = n;
    }
    int rc = print_all(head) == 0 ? 0 : 1;
    free_all(head);
    return rc;
}
