/* alloc.c — the preload's own memory: mmap'd arenas, never the target's malloc.
 *
 * fs_alloc hands out zeroed, 16-byte aligned chunks from 1 MiB arenas (bump
 * allocation; larger requests get their own mapping). Memory is only given back
 * with fs_free_pages for large blocks; small objects are recycled by their
 * owners (the ledger keeps free lists). Thread-safe. */
#define _GNU_SOURCE
#include "preload.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FS_ARENA (1u << 20)

static fs_lock_t fs_alloc_lock;
static char *fs_arena_cur, *fs_arena_end;

static void *fs_map(size_t n)
{
    long p = syscall(SYS_mmap, NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096)
        return NULL;
    return (void *)p;
}

void *fs_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > FS_ARENA / 4)
        return fs_map(n);
    fs_lock(&fs_alloc_lock);
    if (!fs_arena_cur || (size_t)(fs_arena_end - fs_arena_cur) < n) {
        char *a = fs_map(FS_ARENA);
        if (!a) {
            fs_unlock(&fs_alloc_lock);
            return NULL;
        }
        fs_arena_cur = a;
        fs_arena_end = a + FS_ARENA;
    }
    void *p = fs_arena_cur;
    fs_arena_cur += n;
    fs_unlock(&fs_alloc_lock);
    return p;
}

void fs_free_pages(void *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (p && n > FS_ARENA / 4)                 /* its own mapping (fs_alloc); arena chunks stay */
        syscall(SYS_munmap, p, n);
}
