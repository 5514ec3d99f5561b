/* reach.h — the mark phase (reach.c), used by the verdicts (finish.c). */
#ifndef FS_REACH_H
#define FS_REACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_res;
struct fs_blk { uintptr_t lo, hi; struct fs_res *r; };
struct fs_scan {
    struct fs_blk *b;          /* live memory/mmap blocks sorted by address; r->mark = reached */
    size_t n, cap;
    size_t *work;
    size_t nwork;
    uintptr_t min, max;
    uint64_t reach_blocks, reach_bytes;
};

/* Collect the live blocks of the ledger (every stripe locked by the caller)
 * and mark those reachable from the roots. Returns 0, or -1 when the preload
 * is out of memory (nothing marked, *s empty). Free with fs_reach_release. */
int fs_reach_mark(struct fs_scan *s);
void fs_reach_release(struct fs_scan *s);
/* In the fatal-signal handler: a SIGSEGV/SIGBUS raised by the scan itself
 * jumps back to the scan (does not return); otherwise returns. */
void fs_reach_fault(int sig);
/* Is thread tid of this process still running? */
int fs_thread_alive(pid_t tid);

#endif
