/* tcount.c — the call sites of a plain tracking run past its point cap,
 * counted per thread while the process has several.
 *
 * Past the cap such a run needs, per point, only its site's count (the 's'
 * line at process end). With threads, adding to a busy site's count at every
 * call makes its cache line move between the threads' CPUs at every call. So
 * each thread counts in its own struct fs_tcount: a small cache of the sites
 * it counted last with their counts. Only the owner thread writes the counts
 * (plain stores); whoever needs the totals (process end, exec, fork) adds
 * what each thread counted since the last time, remembered in 'flushed'
 * watermarks written only under the struct's lock. A thread that ends gives
 * its struct back, flushed, for the next thread. (The run's ordinal stays one
 * shared counter, added to at every point: a point's number must not depend
 * on when another process's counts are added.) */
#define _GNU_SOURCE
#include "preload.h"

#define FS_TC_SITES 32

struct fs_tcount {
    fs_lock_t lock;                   /* flushers, and the owner replacing a slot */
    int in_use;
    struct {
        struct fs_site *site;
        uint64_t n, flushed;
    } sc[FS_TC_SITES];
    struct fs_tcount *next;           /* every struct ever made (never freed) */
};

static struct fs_tcount *fs_tc_all;
static fs_lock_t fs_tc_lock;          /* the list, and one flusher at a time */
static FS_TLS struct fs_tcount *fs_tc;

static struct fs_tcount *fs_tcount_get(void)
{
    fs_lock(&fs_tc_lock);
    struct fs_tcount *t = fs_tc_all;
    while (t && t->in_use)
        t = t->next;
    if (!t) {
        t = fs_alloc(sizeof *t);
        if (t) {
            t->next = fs_tc_all;
            __atomic_store_n(&fs_tc_all, t, __ATOMIC_RELEASE);
        }
    }
    if (t)
        t->in_use = 1;
    fs_unlock(&fs_tc_lock);
    return fs_tc = t;
}

/* Add what t counted since its last flush to its sites (t->lock held). */
static void fs_tcount_flush_locked(struct fs_tcount *t)
{
    for (int i = 0; i < FS_TC_SITES; i++) {
        struct fs_site *s = t->sc[i].site;
        uint64_t n = __atomic_load_n(&t->sc[i].n, __ATOMIC_RELAXED);
        if (s && n != t->sc[i].flushed)
            __atomic_add_fetch(&s->count, n - t->sc[i].flushed, __ATOMIC_RELAXED);
        t->sc[i].flushed = n;
    }
}

/* The owner's slot for (func, mod, off) holds another site (or none): flush
 * that one's count and take the slot. */
static __attribute__((noinline)) void fs_tcount_slot(struct fs_tcount *t, int i, int func, int mod,
                                                     uint64_t off, uint64_t ordinal)
{
    fs_lock_t *lk;
    struct fs_site *s = fs_site_get(func, mod, off, &lk);
    if (!s)
        return;                                   /* out of memory: the point is in the total only */
    if (__atomic_load_n(&s->count, __ATOMIC_RELAXED) == 0 && !s->first)
        __atomic_store_n(&s->first, ordinal, __ATOMIC_RELAXED);
    fs_unlock(lk);
    fs_lock(&t->lock);
    struct fs_site *old = t->sc[i].site;
    uint64_t d = t->sc[i].n - t->sc[i].flushed;
    if (old && d)
        __atomic_add_fetch(&old->count, d, __ATOMIC_RELAXED);
    t->sc[i].site = s;
    t->sc[i].flushed = 0;
    __atomic_store_n(&t->sc[i].n, 1, __ATOMIC_RELAXED);
    fs_unlock(&t->lock);
}

void fs_tcount_point(int func, int mod, uint64_t off, uint64_t ordinal)
{
    struct fs_tcount *t = fs_tc;
    if (__builtin_expect(!t, 0) && !(t = fs_tcount_get())) {
        fs_site_point(func, mod, off, ordinal);           /* out of memory: as before */
        return;
    }
    int i = (int)(fs_site_hash(func, mod, off) % FS_TC_SITES);
    if (__builtin_expect(fs_site_is(t->sc[i].site, func, mod, off), 1))
        __atomic_store_n(&t->sc[i].n, t->sc[i].n + 1, __ATOMIC_RELAXED);
    else
        fs_tcount_slot(t, i, func, mod, off, ordinal);
}

/* Take l, or (dying: maybe inside a signal handler that interrupted its
 * holder) give up after a while. */
static int fs_tc_take(fs_lock_t *l, int dying)
{
    if (!dying) {
        fs_lock(l);
        return 1;
    }
    for (int spin = 0; spin < 100000; spin++)
        if (fs_trylock(l))
            return 1;
    return 0;
}

void fs_tcount_flush_all(int dying)
{
    if (!__atomic_load_n(&fs_tc_all, __ATOMIC_ACQUIRE))
        return;                                   /* never had threads past the cap */
    int listed = fs_tc_take(&fs_tc_lock, dying);
    for (struct fs_tcount *t = fs_tc_all; t; t = t->next) {
        if (!fs_tc_take(&t->lock, dying))
            continue;                             /* its owner is stuck in it: its counts are lost */
        fs_tcount_flush_locked(t);
        fs_unlock(&t->lock);
    }
    if (listed)
        fs_unlock(&fs_tc_lock);
}

void fs_tcount_forked(void)
{
    /* The child's only thread: the parent counted (and flushed, in its fork
     * handler) everything up to the fork; what the other threads counted
     * after the flush is the parent's to add too. No lock: the child has one
     * thread, and another thread may have held one at the fork. */
    for (struct fs_tcount *t = fs_tc_all; t; t = t->next) {
        t->lock.v = 0;
        for (int i = 0; i < FS_TC_SITES; i++)
            t->sc[i].flushed = t->sc[i].n;
        t->in_use = t == fs_tc;
    }
    fs_tc_lock.v = 0;
}

void fs_tcount_thread_end(void)
{
    struct fs_tcount *t = fs_tc;
    if (!t)
        return;
    fs_lock(&t->lock);
    fs_tcount_flush_locked(t);
    fs_unlock(&t->lock);
    fs_tc = NULL;
    __atomic_store_n(&t->in_use, 0, __ATOMIC_RELEASE);
}
