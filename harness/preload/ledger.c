/* ledger.c — the live resources of the process, keyed by (kind, handle, aux).
 *
 * A chained hash table of 2^20 buckets (mmap'd, touched lazily, with a bitmap
 * of the buckets ever used so that walking it costs what it holds) split into 64
 * stripes, each with its own spinlock, free list and FIFO of its tombstones. A
 * released entry stays in the table as a tombstone (FS_RES_DEAD) so a second
 * release of the same handle is recognised as a double release; each stripe
 * keeps at most FS_TOMBS of them and evicts its oldest (fds keep theirs: there
 * are few). A new acquisition of the same handle revives the tombstone.
 *
 * The FIFO is linked through the entries themselves and kept lazily, so that
 * a release and a revival touch the entry and the stripe's header only: a
 * revived entry stays in the FIFO (live), a released one joins it only when it
 * is not in it already, and each entry notes the stripe's release count at its
 * last release (tseq) and when it joined (tqseq). Evicting pops the oldest:
 * a live one leaves the FIFO, one released again since it joined goes to the
 * back, and the first other one is evicted. So each stripe keeps at most
 * FS_TOMBS tombstones and evicts the one released longest ago. (It was a ring
 * of 64 x 1024 slots, 768 KiB written in turn by every release: on the
 * 25.6M-call malloc/free loop a third of the preload's time was that ring
 * missing the cache.) */
#define _GNU_SOURCE
#include "preload.h"

#include <string.h>
#include <unistd.h>

#define FS_BUCKET_BITS 20
#define FS_NBUCKETS (1u << FS_BUCKET_BITS)
#define FS_STRIPES 64
#define FS_TOMBS 1024                  /* tombstones kept per stripe */

struct fs_stripe {
    fs_lock_t lock;
    unsigned ndead;                    /* tombstones in the FIFO */
    uint32_t kseq;                     /* releases so far (tseq, tqseq) */
    struct fs_res *free;
    struct fs_res *thead, *ttail;      /* oldest, newest in the FIFO */
} __attribute__((aligned(64)));

static struct fs_res **fs_buckets;
static uint64_t *fs_bucket_used;       /* bit per bucket that ever held an entry */
/* bit per word of fs_bucket_used that is not zero: a process end walks the
 * 2 KiB summary, not all 128 KiB of the bitmap (a fork-mode run walked the
 * bitmap 4 times at its end: ~20% of its CPU, bench/RESULTS.md) */
#define FS_USED_WORDS (FS_NBUCKETS / 64)
static uint64_t fs_used_summary[FS_USED_WORDS / 64];
static struct fs_stripe fs_stripes[FS_STRIPES];

void fs_ledger_init(void)
{
    if (!fs_buckets) {
        fs_buckets = fs_alloc(sizeof(struct fs_res *) * FS_NBUCKETS);
        fs_bucket_used = fs_alloc(FS_NBUCKETS / 8);
        if (!fs_bucket_used)
            fs_buckets = NULL;
    }
}

static unsigned fs_bucket(int kind, uint64_t handle, uint64_t aux)
{
    uint64_t h = (handle ^ (aux * 0xff51afd7ed558ccdull) ^ ((uint64_t)kind << 58)) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> (64 - FS_BUCKET_BITS));
}

static struct fs_stripe *fs_stripe_of(unsigned b)
{
    return &fs_stripes[b & (FS_STRIPES - 1)];
}

static struct fs_res *fs_lookup_locked(unsigned b, int kind, uint64_t handle, uint64_t aux)
{
    for (struct fs_res *r = fs_buckets[b]; r; r = r->next)
        if (r->handle_x == (handle ^ FS_HANDLE_MASK) && r->kind == kind && r->aux == aux)
            return r;
    return NULL;
}

static void fs_unlink_locked(unsigned b, struct fs_res *r)
{
    for (struct fs_res **pp = &fs_buckets[b]; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

static void fs_tomb_append(struct fs_stripe *s, struct fs_res *r)
{
    r->tnext = NULL;
    r->tqseq = r->tseq;
    if (s->ttail) s->ttail->tnext = r; else s->thead = r;
    s->ttail = r;
    r->flags |= FS_RES_TOMB;
}

/* The next tombstones to evict are the coldest entries of the table (a heap
 * whose addresses are not reused soon evicts one per free): when one is
 * evicted, its successor in the FIFO (fetched at the previous eviction) tells
 * where its bucket is, and the one after it is fetched, so that the entry and
 * the bucket an eviction touches arrived while the program ran. */
static inline void fs_tomb_prefetch(const struct fs_res *next)
{
    if (next) {
        __builtin_prefetch(&fs_buckets[fs_bucket(next->kind, fs_res_handle(next), next->aux)], 1);
        if (next->tnext)
            __builtin_prefetch(next->tnext, 1);
    }
}

/* Evict the stripe's oldest tombstone (s->ndead > 0). Its bucket maps to this
 * stripe, whose lock the caller holds. */
static void fs_tomb_evict(struct fs_stripe *s)
{
    for (;;) {
        struct fs_res *h = s->thead;
        if (!h)
            return;                      /* cannot happen while ndead > 0 */
        s->thead = h->tnext;
        fs_tomb_prefetch(s->thead);
        if (!s->thead)
            s->ttail = NULL;
        h->tnext = NULL;
        h->flags &= (uint8_t)~FS_RES_TOMB;
        if (!(h->flags & FS_RES_DEAD))
            continue;                    /* revived: out until its next release */
        if (h->tseq != h->tqseq) {
            fs_tomb_append(s, h);        /* released again since it joined: to the back */
            continue;
        }
        s->ndead--;
        fs_unlink_locked(fs_bucket(h->kind, fs_res_handle(h), h->aux), h);
        h->next = s->free;
        s->free = h;
        return;
    }
}

struct fs_res *fs_acquire(const struct fs_call *c, int kind, uint64_t handle, uint64_t aux,
                          uint64_t size)
{
    if (!fs_buckets)
        return NULL;
    unsigned b = fs_bucket(kind, handle, aux);
    struct fs_stripe *s = fs_stripe_of(b);
    fs_lock(&s->lock);
    struct fs_res *r = fs_lookup_locked(b, kind, handle, aux);
    if (!r) {
        r = s->free;
        if (r)
            s->free = r->next;
        else
            r = fs_alloc(sizeof *r);
        if (!r) {
            fs_unlock(&s->lock);
            return NULL;
        }
        r->next = fs_buckets[b];
        r->gen = 0;
        r->flags = 0;
        fs_buckets[b] = r;
        /* words are shared by buckets of every stripe: atomic, and only when
         * the bit is not set yet (a lock entry is made anew at each lock:
         * no read-modify-write per lock) */
        uint64_t bit = 1ull << (b & 63);
        if (!(__atomic_load_n(&fs_bucket_used[b >> 6], __ATOMIC_RELAXED) & bit)) {
            __atomic_or_fetch(&fs_bucket_used[b >> 6], bit, __ATOMIC_RELAXED);
            uint64_t sbit = 1ull << ((b >> 6) & 63);
            if (!(__atomic_load_n(&fs_used_summary[b >> 12], __ATOMIC_RELAXED) & sbit))
                __atomic_or_fetch(&fs_used_summary[b >> 12], sbit, __ATOMIC_RELAXED);
        }
    }
    if ((r->flags & (FS_RES_TOMB | FS_RES_DEAD)) == (FS_RES_TOMB | FS_RES_DEAD))
        s->ndead--;                     /* revived: it stays in the FIFO, live */
    /* every field but the links (next, tnext, tseq, tqseq), set anew: a
     * revived tombstone holds its last life's values */
    r->gen++;
    r->flags &= FS_RES_TOMB;
    r->mark = 0;
    r->kind = (uint16_t)kind;
    r->handle_x = handle ^ FS_HANDLE_MASK;
    r->aux = aux;
    r->size = size;
    r->func = (uint16_t)c->id;
    r->mod = (uint16_t)c->mod;
    r->off = c->off;
    r->sp = c->sp;
    r->owner = 0;
    r->owned_fd = -1;
    r->stack = NULL;
    if (c->mod && fs_stack_site(c->mod, c->off)) {
        /* the confirmation run wants where this came from: worth ~3 us here */
        struct fs_uframe fr[FS_STACK_MAX + 4];
        int n = fs_unwind(fr, FS_STACK_MAX + 4);
        struct fs_stack *st = fs_alloc(sizeof *st);
        if (st) {
            for (int i = 0; i < n && st->n < FS_STACK_MAX; i++) {
                struct fs_module *m = fs_module_of(fr[i].ip);
                if (m && !m->system)
                    st->ip[st->n++] = fr[i].ip;
            }
            r->stack = st;
        }
    }
    r->pid = (int32_t)fs_getpid();
    r->tid = (int32_t)fs_gettid();
    fs_unlock(&s->lock);
    return r;
}

void fs_ledger_prefetch(int kind, uint64_t handle, uint64_t aux)
{
    if (fs_buckets)
        __builtin_prefetch(&fs_buckets[fs_bucket(kind, handle, aux)], 0);
}

struct fs_res *fs_ledger_find(int kind, uint64_t handle, uint64_t aux)
{
    if (!fs_buckets)
        return NULL;
    unsigned b = fs_bucket(kind, handle, aux);
    struct fs_stripe *s = fs_stripe_of(b);
    fs_lock(&s->lock);
    struct fs_res *r = fs_lookup_locked(b, kind, handle, aux);
    if (!r)
        fs_unlock(&s->lock);
    return r;
}

void fs_ledger_unlock(int kind, uint64_t handle, uint64_t aux)
{
    fs_unlock(&fs_stripe_of(fs_bucket(kind, handle, aux))->lock);
}

/* fs_ledger_kill, when the caller knows r's bucket and stripe */
static void fs_kill_at(unsigned b, struct fs_stripe *s, struct fs_res *r)
{
    int was_dead = (r->flags & FS_RES_DEAD) != 0;
    r->flags |= FS_RES_DEAD;
    r->gen++;
    if (r->kind == FS_KIND_fd)
        return;                          /* fd tombstones are bounded by the fd table */
    if (r->kind == FS_KIND_lock) {       /* a lock has no use for a tombstone */
        fs_unlink_locked(b, r);
        r->next = s->free;
        s->free = r;
        return;
    }
    r->tseq = ++s->kseq;
    if (!was_dead)
        s->ndead++;
    if (!(r->flags & FS_RES_TOMB))
        fs_tomb_append(s, r);
    while (s->ndead > FS_TOMBS)
        fs_tomb_evict(s);
}

void fs_ledger_kill(struct fs_res *r)
{
    unsigned b = fs_bucket(r->kind, fs_res_handle(r), r->aux);
    fs_kill_at(b, fs_stripe_of(b), r);
}

int fs_ledger_release(int kind, uint64_t handle, uint64_t aux, struct fs_res *before)
{
    if (!fs_buckets)
        return 0;
    unsigned b = fs_bucket(kind, handle, aux);
    struct fs_stripe *s = fs_stripe_of(b);
    fs_lock(&s->lock);
    struct fs_res *r = fs_lookup_locked(b, kind, handle, aux);
    int st = 0;
    if (r) {
        st = (r->flags & FS_RES_DEAD) ? 2 : 1;
        if (st == 2)
            *before = *r;
        else
            fs_kill_at(b, s, r);
    }
    fs_unlock(&s->lock);
    return st;
}

void fs_ledger_forget(int kind, uint64_t handle, uint64_t aux)
{
    if (!fs_buckets)
        return;
    unsigned b = fs_bucket(kind, handle, aux);
    struct fs_stripe *s = fs_stripe_of(b);
    fs_lock(&s->lock);
    struct fs_res *r = fs_lookup_locked(b, kind, handle, aux);
    if (r && !(r->flags & FS_RES_DEAD))
        fs_kill_at(b, s, r);
    fs_unlock(&s->lock);
}

void fs_ledger_lock_all(void)
{
    for (int i = 0; i < FS_STRIPES; i++)
        fs_lock(&fs_stripes[i].lock);
}

int fs_ledger_trylock_all(void)
{
    int ok = 1;
    for (int i = 0; i < FS_STRIPES; i++) {
        int got = 0;
        for (int spin = 0; spin < 100000 && !got; spin++)
            got = fs_trylock(&fs_stripes[i].lock);
        if (!got)
            ok = 0;                      /* stuck holder: read the stripe anyway */
    }
    return ok;
}

void fs_ledger_unlock_all(void)
{
    for (int i = 0; i < FS_STRIPES; i++)
        fs_unlock(&fs_stripes[i].lock);
}

void fs_ledger_each(void (*fn)(struct fs_res *r, void *arg), void *arg)
{
    if (!fs_buckets)
        return;
    /* only the buckets that ever held an entry: the table is 8 MiB, mostly
     * never touched, and walking all of it cost ~6 ms per process end; and
     * only the words of the bitmap that have a bit set */
    for (unsigned sw = 0; sw < FS_USED_WORDS / 64; sw++) {
        uint64_t words = __atomic_load_n(&fs_used_summary[sw], __ATOMIC_RELAXED);
        while (words) {
            unsigned w = sw * 64 + (unsigned)__builtin_ctzll(words);
            words &= words - 1;
            uint64_t bits = __atomic_load_n(&fs_bucket_used[w], __ATOMIC_RELAXED);
            while (bits) {
                unsigned b = w * 64 + (unsigned)__builtin_ctzll(bits);
                bits &= bits - 1;
                for (struct fs_res *r = fs_buckets[b]; r; r = r->next)
                    fn(r, arg);
            }
        }
    }
}
