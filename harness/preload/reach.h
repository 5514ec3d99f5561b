/* reach.h — the mark phase (reach.c), used by the verdicts (finish.c). */
#ifndef FS_REACH_H
#define FS_REACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_res;
/* Where a reached block was first reached from. */
enum fs_root { FS_ROOT_BLOCK, FS_ROOT_GLOBAL, FS_ROOT_STACK, FS_ROOT_REGS, FS_ROOT_THREAD, FS_ROOT_TLS,
               FS_ROOT_STREAMS /* only libc's list of open streams */ };
#define FS_BLK_NONE ((size_t)-1)
struct fs_blk {
    uintptr_t lo, hi;
    struct fs_res *r;
    uintptr_t from;            /* the slot that points to it */
    size_t parent;             /* FS_ROOT_BLOCK: index of the block holding that slot */
    int seg;                   /* FS_ROOT_GLOBAL: the writable segment holding it */
    unsigned char root;        /* enum fs_root */
    unsigned char is_file;     /* a FILE stream's own block */
    unsigned char file_held;   /* is_file: reachable without libc's list of streams */
};
struct fs_scan {
    struct fs_blk *b;          /* live memory/mmap blocks sorted by address; r->mark = reached */
    size_t n, cap;
    size_t *work;
    size_t nwork;
    uintptr_t min, max;
    uint64_t reach_blocks, reach_bytes;
    int root, seg;             /* what is being scanned now */
    size_t parent;
};

/* Collect the live blocks of the ledger (every stripe locked by the caller)
 * and mark those reachable from the roots. Returns 0, or -1 when the preload
 * is out of memory (nothing marked, *s empty). Free with fs_reach_release. */
int fs_reach_mark(struct fs_scan *s);
void fs_reach_release(struct fs_scan *s);
/* The block that starts at addr, or NULL. */
struct fs_blk *fs_reach_block(struct fs_scan *s, uintptr_t addr);
/* Why a marked block is reachable, as a record token into out (>= 64 bytes):
 * the root its chain of blocks starts at — "global@MODID+0xOFF" (a slot in a
 * module's writable data; the module's 'm' line is emitted), "stack",
 * "registers", "thread-stack" or "tls". Returns the length. */
size_t fs_reach_why(struct fs_scan *s, const struct fs_blk *b, char *out);
/* In a fault handler: a SIGSEGV/SIGBUS raised by the scan itself (in the
 * scanning thread) jumps back to the scan (does not return); otherwise returns. */
void fs_reach_fault(int sig);
/* Is thread tid of this process still running? */
int fs_thread_alive(pid_t tid);

#endif
