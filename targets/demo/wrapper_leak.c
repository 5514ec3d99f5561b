/* wrapper_leak.c — a leak on one caller's error path, behind a thin
 * allocation wrapper (the pattern of jansson's jsonp_malloc and libyaml's
 * yaml_malloc, issue 8 §5).
 *
 * Usage: demo_wrapper_leak KEY=VALUE...   builds a table of the pairs and
 *                                         prints it; exit 0, or 1 when an
 *                                         allocation failed (reported on stderr)
 *
 * Every allocation goes through xmalloc(), so the program has one malloc call
 * site, reached from four callers, one of them xstrdup(), itself a wrapper
 * called from two places. The planted bug: entry_new() frees the entry
 * but not its key when the allocation of the value fails ('FS-EXPECT: leak
 * memory' is the malloc in xmalloc that allocated the key; the fault is the same
 * malloc, called for the value). A sweep that fails only the first call of each
 * call site fails xmalloc's first call (the table's) and never reaches that
 * error path; the site strategy tells the calls apart by xmalloc's caller
 * (and, for the calls through xstrdup, by xstrdup's caller). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's allocator: every allocation of the program comes here. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);   /* FS-FAULT */ /* FS-EXPECT: leak memory */
    if (!p)
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
    return p;
}

struct entry {
    char *key, *value;
    struct entry *next;
};

struct table {
    struct entry *head;
    char *title;
};

static char *xstrdup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static struct table *table_new(const char *title)
{
    struct table *t = xmalloc(sizeof *t);
    if (!t)
        return NULL;
    t->head = NULL;
    t->title = xstrdup(title, strlen(title));
    if (!t->title) {
        free(t);
        return NULL;
    }
    return t;
}

static void table_free(struct table *t)
{
    while (t->head) {
        struct entry *e = t->head;
        t->head = e->next;
        free(e->key);
        free(e->value);
        free(e);
    }
    free(t->title);
    free(t);
}

static struct entry *entry_new(const char *pair)
{
    const char *eq = strchr(pair, '=');
    size_t klen = eq ? (size_t)(eq - pair) : strlen(pair);
    struct entry *e = xmalloc(sizeof *e);
    if (!e)
        return NULL;
    e->next = NULL;
    e->key = xstrdup(pair, klen);
    if (!e->key) {
        free(e);
        return NULL;
    }
    const char *v = eq ? eq + 1 : "";
    e->value = xmalloc(strlen(v) + 1);
    if (!e->value) {
        free(e);                       /* the bug: e->key is lost */
        return NULL;
    }
    strcpy(e->value, v);
    return e;
}

int main(int argc, char **argv)
{
    struct table *t = table_new("pairs");
    if (!t)
        return 1;
    struct entry **tail = &t->head;
    for (int i = 1; i < argc; i++) {
        struct entry *e = entry_new(argv[i]);
        if (!e) {
            fprintf(stderr, "cannot store '%s'\n", argv[i]);
            table_free(t);
            return 1;
        }
        *tail = e;
        tail = &e->next;
    }
    printf("%s:\n", t->title);
    for (struct entry *e = t->head; e; e = e->next)
        printf("  %s = %s\n", e->key, e->value);
    table_free(t);
    return 0;
}
