/* suppress.h — suppression files: rules that accept known findings.
 *
 * The format is in docs/suppressions.md (modelled on valgrind's suppression
 * blocks and LeakSanitizer's one-line 'leak:PATTERN' rules). A file is read
 * whole by fs_supp_load; fs_supp_match says which rule, if any, accepts a
 * finding. Nothing here touches the database: verdict.c feeds it findings. */
#ifndef FS_SUPPRESS_H
#define FS_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

struct fs_supp_rule;

/* The rules of every file loaded, in load order. Zero-initialise. */
struct fs_supps {
    struct fs_supp_rule *v;
    size_t n, cap;
};

/* One frame of a finding's stack, innermost first. Any field may be NULL. */
struct fs_supp_frame {
    const char *fun;      /* enclosing function (symbol) */
    const char *obj;      /* module: basename or path */
    const char *src;      /* source file: path as recorded */
    int64_t line;         /* 0: unknown */
};

/* What a rule is matched against: one finding (the findings view's row). */
struct fs_supp_finding {
    const char *category;   /* leak | anomaly | crash | timeout | memcheck */
    const char *kind;       /* memory, fd, SIGSEGV, asan:..., or NULL */
    const char *anomaly;    /* double-release..., or NULL */
    const char *call;       /* the wrapped call (fopen, malloc), a crash's function */
    const char *function;   /* the site's enclosing function (symbol) */
    const char *module;     /* the site's module basename */
    const char *file;       /* the site's source file */
    int64_t line;
    const char *fault_func; /* NULL: a baseline finding */
    const char *fault_file;
    const char *fault_callers; /* runs.fault_callers: 'symbol file:line' per line, or NULL */
    int gave_up;            /* the finding is a driver-gave-up crash */
    const struct fs_supp_frame *frames; /* the site's stack, innermost first (at least the site) */
    size_t nframes;
};

/* Read the rules of PATH and append them to S. Returns 0, or -1 with
 * "PATH:LINE: expected ..." (or why the file cannot be read) in err; S then
 * keeps the rules of the files loaded before. */
int fs_supp_load(struct fs_supps *S, const char *path, char *err, size_t errlen);

/* The name of the first rule of S that accepts f, or NULL (S owns the string). */
const char *fs_supp_match(const struct fs_supps *S, const struct fs_supp_finding *f);

/* Free the rules; S is empty again. */
void fs_supp_free(struct fs_supps *S);

/* Glob match (fnmatch without FNM_PATHNAME): 1 or 0. Exposed for verdict.c's
 * --scope, which matches module basenames the same way. */
int fs_supp_glob(const char *pattern, const char *s);

#endif
