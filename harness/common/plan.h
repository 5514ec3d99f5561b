/* plan.h — the fault plan: which fault point of a run fails, and how.
 *
 * A plan is parsed from the --fail SPEC of the CLI (the supervisor validates it
 * and reports errors) and again, inside the target, from FAULTSTACK_PLAN (the
 * preload). Parsing never allocates: the plan is a fixed-size struct, so the
 * preload can parse it before the target's malloc is usable.
 *
 * SPEC grammar (items separated by ',' or ';'; blanks around items and
 * around '=' are ignored, empty items are skipped):
 *   nth=N                     fail the N-th fault point of the run (1-based, counted
 *                             over every process of the run, after filters)
 *   site=FUNC@MODULE+OFFSET[#K]
 *                             fail the K-th call (1-based, default 1) of FUNC from the
 *                             call site MODULE+OFFSET (MODULE is a basename, OFFSET hex
 *                             with 0x, as printed in reports and repro commands; plain
 *                             hex digits are accepted too). FUNC ends at the first '@',
 *                             OFFSET starts after the last '+' (so libstdc++.so.6 works)
 *   ctx=HEX                   with site=: also require this calling-context hash
 *                             (0x optional; 0 = any context); #K then counts the calls
 *                             from that site in that context
 *   caller=MODULE+OFFSET[/MODULE+OFFSET...]
 *                             with site=: also require that the function holding the
 *                             call site was called from MODULE+OFFSET (the return
 *                             address one frame up, as sweep's site strategy prints it
 *                             for a thin wrapper such as xmalloc), and that function
 *                             from the next one, and so on (at most
 *                             FS_PLAN_MAX_CALLERS, innermost first); #K then counts the
 *                             calls from that site made for those callers
 *   then=N                    with nth= or site=: after the trigger's failure, also fail
 *                             the N-th fault point counted after it (the error path's
 *                             own error handling; used by sweep for error-path points)
 *   random:p=P[,seed=S]       fail each fault point with probability P (0..1),
 *                             deterministically from (S, ordinal); S defaults to 0.
 *                             P: decimal (0, 1, 0.25, .5, 1e-3) or C hex float (0x1p-2);
 *                             S: decimal or 0x hex. seed= may come anywhere in the spec
 *   persistent                after the first injected failure, every later fault
 *                             point of the same function fails too (like OOM)
 *   internal                  calls libc makes itself are fault points too: the malloc
 *                             inside fopen, getpwnam, qsort... (as SQLite's own harness
 *                             fails every allocation). Their site is the program's call
 *                             that led into libc (#K counts them there); default: off
 *   errno=NAME                errno to report (EIO, ENOMEM, ..., any case; or a
 *                             number 1..4095); default: the function's documented errno
 *   only=FUNC[,FUNC...]       only calls to these functions are fault points (bare
 *                             words directly after only= extend the list; at most
 *                             FS_PLAN_MAX_ONLY)
 *   module=NAME               only calls made from this module (basename) count
 *   none                      no injection (the default for an empty spec)
 * At most one trigger (nth=, site=, random:, none); each key at most once.
 * Filters and flags without a trigger are a valid plan that never injects
 * (e.g. "only=open" for a baseline run that counts open calls).
 * FUNC: 1..FS_PLAN_NAME_MAX-1 characters of [A-Za-z0-9_.$]. MODULE, NAME:
 * 1..FS_PLAN_MODULE_MAX-1 printable characters without blanks, '/', ',', ';', '='.
 *
 * Canonical form (fs_plan_format): the trigger first, then caller=, ctx=, then=, persistent,
 * internal, errno=, only=, module=; "none" when the plan has nothing at all, e.g.
 *   nth=3,only=open,openat    site=open@demo_fd+0x1234#2,ctx=0xbeef,errno=EIO
 *   random:p=0.25,seed=7,persistent
 */
#ifndef FS_PLAN_H
#define FS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define FS_PLAN_MAX_ONLY   32
#define FS_PLAN_NAME_MAX   64
#define FS_PLAN_MODULE_MAX 256
#define FS_PLAN_MAX_CALLERS 3

enum fs_plan_trigger {
    FS_PLAN_NONE = 0,   /* never inject */
    FS_PLAN_NTH,        /* the nth fault point */
    FS_PLAN_SITE,       /* the K-th call of FUNC from MODULE+OFFSET */
    FS_PLAN_RANDOM      /* each point with probability p */
};

struct fs_plan {
    enum fs_plan_trigger trigger;
    uint64_t nth;                              /* FS_PLAN_NTH: 1-based ordinal */
    char site_func[FS_PLAN_NAME_MAX];          /* FS_PLAN_SITE */
    char site_module[FS_PLAN_MODULE_MAX];      /* basename */
    uint64_t site_offset;
    uint64_t site_occurrence;                  /* 1-based; 1 when #K is omitted */
    uint64_t ctx;                              /* 0 = any calling context */
    int n_callers;                             /* 0 = any caller */
    char caller_module[FS_PLAN_MAX_CALLERS][FS_PLAN_MODULE_MAX];   /* basenames, innermost first */
    uint64_t caller_offset[FS_PLAN_MAX_CALLERS];
    uint64_t then;                             /* 0, or: also fail the then-th point after */
    double random_p;                           /* FS_PLAN_RANDOM */
    uint64_t random_seed;
    int persistent;                            /* keep failing the same function */
    int internal;                              /* libc's own calls are fault points too */
    int err;                                   /* errno override; 0 = function default */
    int n_only;                                /* 0 = every function counts */
    char only[FS_PLAN_MAX_ONLY][FS_PLAN_NAME_MAX];
    char module_filter[FS_PLAN_MODULE_MAX];    /* "" = every module counts */
};

/* Parse SPEC into *out (always fully initialised, also on error).
 * NULL or "" gives FS_PLAN_NONE. Returns 0 on success; on error returns -1 and
 * writes a one-line message naming the bad item and the accepted forms into
 * errbuf (if errbuf is not NULL). Does not allocate. */
int fs_plan_parse(const char *spec, struct fs_plan *out, char *errbuf, size_t errlen);

/* Write the canonical spec of *p into buf (NUL-terminated, truncated to len).
 * fs_plan_parse(buf) gives back an equal plan. Returns the length it needed
 * (as snprintf), so a result >= len means truncation. */
int fs_plan_format(const struct fs_plan *p, char *buf, size_t len);

/* Does a call to FUNC made from MODULE (basename; a path is reduced to its
 * basename) count as a fault point under the plan's filters (only=, module=)?
 * Returns 1 or 0; with a filter set, a NULL func or module does not count. */
int fs_plan_counts(const struct fs_plan *p, const char *func, const char *module);
/* The only= filter alone: does FUNC count (1 when the plan has no only=)? */
int fs_plan_counts_func(const struct fs_plan *p, const char *func);

/* Should this fault point fail? ordinal: 1-based, after filters; occurrence:
 * 1-based index of this call at its site; ctx: calling-context hash or 0.
 * Does not apply the filters (call fs_plan_counts first). RANDOM fires iff
 * (splitmix64(seed ^ ordinal * 0x9E3779B97F4A7C15) >> 11) * 2^-53 < p.
 * Pure: 'persistent' is state the caller keeps. Returns 1 or 0. */
int fs_plan_fires(const struct fs_plan *p, uint64_t ordinal, const char *func,
                  const char *module, uint64_t offset, uint64_t occurrence, uint64_t ctx);

/* errno by name ("EIO" or "5"); returns 0 when unknown. */
int fs_errno_from_name(const char *name);
/* Name of an errno value ("EIO"), or NULL when unknown. */
const char *fs_errno_name(int err);

#endif
