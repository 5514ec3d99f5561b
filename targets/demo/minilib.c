/* minilib.c — the library of the minilib demo (minilib.h), built as
 * libdemo_minilib.so. Every allocation goes through ml_alloc (a thin wrapper,
 * like json-c's or libyaml's), so every fault has the same call site and only
 * the fault's callers (run.fault_callers) tell where it came from.
 *
 * Planted bugs, both the library's own:
 *   ml_parse: the title's allocation is not checked: the copy into NULL
 *     crashes inside the library (SIGSEGV, 'FS-EXPECT: library crash')
 *   ml_validate: when the value's copy fails, the key's copy is lost
 *     ('FS-EXPECT: leak memory' is ml_alloc's malloc, the fault the same
 *     malloc called for the value, 'FS-FAULT: value'); the same bug again
 *     when the calloc after it fails ('FS-FAULT: seen'): one bug, two
 *     findings (one per fault site), one row of the bugs view
 * Everything else reports ENOMEM correctly. */
#include "minilib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ml_doc {
    char *title;
    char *text;
};

static void *ml_alloc(size_t n)
{
    void *p = malloc(n);   /* FS-EXPECT: leak memory */
    if (!p)
        errno = ENOMEM;
    return p;
}

static char *ml_strndup(const char *s, size_t n)
{
    char *p = ml_alloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

struct ml_doc *ml_parse(const char *title, const char *text)
{
    struct ml_doc *d = ml_alloc(sizeof *d);   /* FS-FAULT: doc */
    if (!d)
        return NULL;
    size_t tl = strlen(title);
    d->title = ml_alloc(tl + 1);              /* FS-FAULT: title */
    memcpy(d->title, title, tl + 1);          /* FS-EXPECT: library crash */
    d->text = ml_strndup(text, strlen(text));
    if (!d->text) {
        free(d->title);
        free(d);
        return NULL;
    }
    return d;
}

int ml_validate(const char *text)
{
    const char *eq = strchr(text, '=');
    if (!eq)
        return 0;
    char *key = ml_strndup(text, (size_t)(eq - text));
    if (!key)
        return -1;
    char *value = ml_strndup(eq + 1, strlen(eq + 1));   /* FS-FAULT: value */
    if (!value)
        return -1;                                       /* the bug: key is lost */
    int *seen = calloc(2, sizeof *seen);                 /* FS-FAULT: seen */
    if (!seen) {
        free(value);
        return -1;                                       /* the same bug: key is lost */
    }
    seen[0] = key[0] != '\0';
    seen[1] = value[0] != '\0';
    int ok = seen[0] && seen[1];
    free(seen);
    free(key);
    free(value);
    return ok;
}

void ml_free(struct ml_doc *d)
{
    if (!d)
        return;
    free(d->title);
    free(d->text);
    free(d);
}
