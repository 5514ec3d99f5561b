/* test_ledger.c — unit test of the preload's ledger (harness/preload/ledger.c).
 *
 * Built from ledger.c, alloc.c and sync.c only (tests/unit/CMakeLists.txt), not
 * from the wrappers, so nothing here is interposed: plain calls of the ledger API
 * with hand-made struct fs_call values. Checks: entries are live after
 * fs_acquire and tombstones (FS_RES_DEAD) after fs_ledger_kill; a new acquire of
 * the same key revives the tombstone in place; locks leave no tombstone, fds keep
 * theirs; keys differ by kind and by aux; fs_ledger_forget leaves the key not
 * live; each stripe's FIFO evicts its oldest tombstones (200k frees: early ones
 * gone, late ones still tombstones, the table bounded), by their last release
 * (a block freed, revived and freed again keeps its tombstone); four threads acquiring
 * and killing distinct handles at once leave exactly the expected live entries
 * (counted with fs_ledger_each under fs_ledger_lock_all); fs_ledger_trylock_all
 * reports a busy stripe and fs_ledger_lock_all/unlock_all leave the ledger usable.
 * Exit status 0 when every check passes; each failed check prints one line. */
#define _GNU_SOURCE
#include "preload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- what ledger.c needs from core.c, minimal (weak: the real ones win if
 * this test is ever linked with core.c) ---- */
__attribute__((weak)) int fs_nss;        /* no FAULTSTACK_STACK_SITES: never capture acquire stacks here */
__attribute__((weak)) int fs_stack_site_slow(int mod, uint64_t off)
{
    (void)mod; (void)off;
    return 0;
}
__attribute__((weak)) int fs_unwind(struct fs_uframe *out, int max)
{
    (void)out; (void)max;
    return 0;
}
__attribute__((weak)) struct fs_module *fs_module_of(uintptr_t addr)
{
    (void)addr;
    return NULL;
}

static int failures, checks;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        checks++;                                                         \
        if (!(cond)) {                                                    \
            failures++;                                                   \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

static struct fs_call mkcall(int id, int mod, uint64_t off, uintptr_t sp)
{
    struct fs_call c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.mod = mod;
    c.off = off;
    c.sp = sp;
    return c;
}

/* State of a key: 0 absent, 1 live, 2 dead (tombstone). */
static int state_of(int kind, uint64_t h, uint64_t aux)
{
    struct fs_res *r = fs_ledger_find(kind, h, aux);
    if (!r)
        return 0;
    int st = (r->flags & FS_RES_DEAD) ? 2 : 1;
    fs_ledger_unlock(kind, h, aux);
    return st;
}

/* Kill the key if present and live; returns 1 when it was live. */
static int kill_key(int kind, uint64_t h, uint64_t aux)
{
    struct fs_res *r = fs_ledger_find(kind, h, aux);
    if (!r)
        return 0;
    int live = !(r->flags & FS_RES_DEAD);
    if (live)
        fs_ledger_kill(r);
    fs_ledger_unlock(kind, h, aux);
    return live;
}

struct counts { uint64_t live, dead, live_in_range, lo, hi; int kind; };

static void count_cb(struct fs_res *r, void *arg)
{
    struct counts *c = arg;
    if (r->kind != c->kind)
        return;
    if (r->flags & FS_RES_DEAD) {
        c->dead++;
    } else {
        c->live++;
        if (fs_res_handle(r) >= c->lo && fs_res_handle(r) < c->hi)
            c->live_in_range++;
    }
}

static struct counts count_kind(int kind, uint64_t lo, uint64_t hi)
{
    struct counts c = { 0, 0, 0, lo, hi, kind };
    fs_ledger_lock_all();
    fs_ledger_each(count_cb, &c);
    fs_ledger_unlock_all();
    return c;
}

/* ---------------------------------------------------------------- tests */

static void test_before_init(void)
{
    struct fs_call c = mkcall(FS_F_open, 1, 0x10, 0x1000);
    CHECK(fs_acquire(&c, FS_KIND_fd, 3, 0, 0) == NULL, "fs_acquire before fs_ledger_init must return NULL");
    CHECK(fs_ledger_find(FS_KIND_fd, 3, 0) == NULL, "fs_ledger_find before init must return NULL");
    fs_ledger_forget(FS_KIND_fd, 3, 0);   /* must not crash */
}

static void test_live_dead_revive(void)
{
    struct fs_call c = mkcall(FS_F_open, 2, 0x1234, 0x7ffd0000);
    struct fs_res *r = fs_acquire(&c, FS_KIND_fd, 7, 0, 0);
    CHECK(r != NULL, "acquire fd 7");
    if (!r)
        return;
    struct fs_res *f = fs_ledger_find(FS_KIND_fd, 7, 0);
    CHECK(f == r, "find returns the acquired entry (%p vs %p)", (void *)f, (void *)r);
    if (f) {
        CHECK(!(f->flags & FS_RES_DEAD), "fresh entry is live");
        CHECK(f->func == FS_F_open && f->mod == 2 && f->off == 0x1234 && f->sp == 0x7ffd0000,
              "site recorded (func %d mod %d off %#llx sp %#lx)", f->func, f->mod,
              (unsigned long long)f->off, (unsigned long)f->sp);
        CHECK(f->pid == getpid() && f->tid == fs_gettid(), "pid/tid recorded (%d/%d)", f->pid, f->tid);
        CHECK(f->owned_fd == -1 && f->kind == FS_KIND_fd && fs_res_handle(f) == 7, "kind/handle/owned_fd");
        fs_ledger_kill(f);
        CHECK(f->flags & FS_RES_DEAD, "killed entry is dead");
        fs_ledger_unlock(FS_KIND_fd, 7, 0);
    }
    uint32_t gen_dead = r->gen;
    CHECK(state_of(FS_KIND_fd, 7, 0) == 2, "fd tombstone is found after kill");

    /* revive: same key, new site */
    struct fs_call c2 = mkcall(FS_F_socket, 3, 0x99, 0x7ffd1000);
    struct fs_res *r2 = fs_acquire(&c2, FS_KIND_fd, 7, 0, 0);
    CHECK(r2 == r, "re-acquire revives the tombstone in place (%p vs %p)", (void *)r2, (void *)r);
    CHECK(state_of(FS_KIND_fd, 7, 0) == 1, "revived entry is live");
    CHECK(r2 && r2->func == FS_F_socket && r2->mod == 3 && r2->off == 0x99, "revived entry has the new site");
    CHECK(r2 && r2->gen != gen_dead, "generation changes on revival (%u)", r2 ? r2->gen : 0);

    /* a second kill of the revived fd, then the tombstone stays (fds are not ringed) */
    CHECK(kill_key(FS_KIND_fd, 7, 0) == 1, "kill revived fd");
    CHECK(kill_key(FS_KIND_fd, 7, 0) == 0, "second kill sees a tombstone (double release)");
    CHECK(state_of(FS_KIND_fd, 7, 0) == 2, "fd tombstone persists");

    /* memory: size recorded */
    struct fs_call cm = mkcall(FS_F_malloc, 2, 0x40, 0);
    struct fs_res *m = fs_acquire(&cm, FS_KIND_memory, 0x5000, 0, 4096);
    CHECK(m && m->size == 4096, "memory size recorded");
    CHECK(kill_key(FS_KIND_memory, 0x5000, 0) == 1 && state_of(FS_KIND_memory, 0x5000, 0) == 2,
          "memory tombstone after kill");

    /* locks leave no tombstone */
    struct fs_call cl = mkcall(FS_F_pthread_mutex_lock, 2, 0x50, 0);
    CHECK(fs_acquire(&cl, FS_KIND_lock, 0x6000, 0, 0) != NULL, "acquire lock");
    CHECK(kill_key(FS_KIND_lock, 0x6000, 0) == 1, "kill lock");
    CHECK(state_of(FS_KIND_lock, 0x6000, 0) == 0, "a killed lock is removed, not a tombstone");
    CHECK(fs_acquire(&cl, FS_KIND_lock, 0x6000, 0, 0) != NULL && state_of(FS_KIND_lock, 0x6000, 0) == 1,
          "a lock can be taken again");
    kill_key(FS_KIND_lock, 0x6000, 0);

    CHECK(state_of(FS_KIND_fd, 12345, 0) == 0, "never acquired key is absent");
}

static void test_keys(void)
{
    struct fs_call c = mkcall(FS_F_malloc, 1, 0x10, 0);
    uint64_t h = 0x7000;
    struct fs_res *a = fs_acquire(&c, FS_KIND_memory, h, 0, 8);
    struct fs_res *b = fs_acquire(&c, FS_KIND_lock, h, 0, 0);
    struct fs_res *d = fs_acquire(&c, FS_KIND_lock, h, 42, 0);
    struct fs_res *e = fs_acquire(&c, FS_KIND_fd, h, 0, 0);
    CHECK(a && b && d && e && a != b && b != d && a != d && e != a && e != b && e != d,
          "same handle, different kind or aux: distinct entries");
    CHECK(d && d->aux == 42, "aux recorded");
    CHECK(kill_key(FS_KIND_lock, h, 42) == 1, "kill (lock, h, 42)");
    CHECK(state_of(FS_KIND_lock, h, 42) == 0, "(lock, h, 42) gone");
    CHECK(state_of(FS_KIND_lock, h, 0) == 1, "(lock, h, 0) still live");
    CHECK(state_of(FS_KIND_memory, h, 0) == 1, "(memory, h, 0) still live");
    CHECK(state_of(FS_KIND_fd, h, 0) == 1, "(fd, h, 0) still live");
    CHECK(state_of(FS_KIND_lock, h, 43) == 0, "(lock, h, 43) never existed");
    kill_key(FS_KIND_lock, h, 0);
    kill_key(FS_KIND_memory, h, 0);
    kill_key(FS_KIND_fd, h, 0);
}

static void test_forget(void)
{
    struct fs_call c = mkcall(FS_F_malloc, 1, 0x10, 0);
    fs_acquire(&c, FS_KIND_memory, 0x8000, 0, 16);
    fs_ledger_forget(FS_KIND_memory, 0x8000, 0);
    /* preload.h says "Remove any entry for the key (live or dead)"; ledger.c
     * leaves a tombstone for a live entry (and keeps an existing one). What
     * callers rely on (realloc) is that the key is no longer live. */
    CHECK(state_of(FS_KIND_memory, 0x8000, 0) != 1, "forgotten key is not live");
    fs_ledger_forget(FS_KIND_memory, 0x8000, 0);              /* again: harmless */
    fs_ledger_forget(FS_KIND_memory, 0x8123, 0);              /* unknown: harmless */
    CHECK(state_of(FS_KIND_memory, 0x8123, 0) == 0, "forget of an unknown key adds nothing");
    CHECK(fs_acquire(&c, FS_KIND_memory, 0x8000, 0, 32) != NULL && state_of(FS_KIND_memory, 0x8000, 0) == 1,
          "a forgotten key can be acquired again");
    kill_key(FS_KIND_memory, 0x8000, 0);
}

/* Free 200k distinct blocks: the rings (64 stripes x 1024) keep only the most
 * recent tombstones of each stripe. */
static void test_ring_eviction(void)
{
    const uint64_t base = 0x100000000ull, n = 200000;
    struct fs_call c = mkcall(FS_F_malloc, 1, 0x20, 0);
    uint64_t failed = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = base + i * 32;
        if (!fs_acquire(&c, FS_KIND_memory, h, 0, 32) || kill_key(FS_KIND_memory, h, 0) != 1)
            failed++;
    }
    CHECK(failed == 0, "%llu of 200000 acquire/kill pairs failed", (unsigned long long)failed);
    uint64_t early_present = 0, late_dead = 0, late_live = 0;
    for (uint64_t i = 0; i < 1000; i++)
        if (state_of(FS_KIND_memory, base + i * 32, 0) != 0)
            early_present++;
    for (uint64_t i = n - 1000; i < n; i++) {
        int st = state_of(FS_KIND_memory, base + i * 32, 0);
        late_dead += st == 2;
        late_live += st == 1;
    }
    CHECK(early_present == 0, "%llu of the first 1000 freed blocks still have a tombstone",
          (unsigned long long)early_present);
    CHECK(late_dead == 1000 && late_live == 0, "of the last 1000 freed blocks %llu are tombstones, %llu live",
          (unsigned long long)late_dead, (unsigned long long)late_live);
    struct counts k = count_kind(FS_KIND_memory, base, base + n * 32);
    CHECK(k.dead <= 64 * 1024, "tombstones bounded by the rings: %llu", (unsigned long long)k.dead);
    CHECK(k.dead >= 32 * 1024, "rings hold many recent tombstones: %llu", (unsigned long long)k.dead);
    CHECK(k.live_in_range == 0, "no live entry left in the range: %llu", (unsigned long long)k.live_in_range);

    /* evicted entries are recycled: a second round of 200k allocs/frees of new
     * handles keeps the count bounded */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = base + (n + i) * 32;
        fs_acquire(&c, FS_KIND_memory, h, 0, 32);
        kill_key(FS_KIND_memory, h, 0);
    }
    k = count_kind(FS_KIND_memory, 0, UINT64_MAX);
    CHECK(k.dead <= 64 * 1024, "tombstones still bounded after 400k frees: %llu", (unsigned long long)k.dead);

    /* a revived-then-killed entry is not evicted by its stale ring slot early */
    uint64_t h = base + 5 * n * 32;
    fs_acquire(&c, FS_KIND_memory, h, 0, 32);
    kill_key(FS_KIND_memory, h, 0);
    fs_acquire(&c, FS_KIND_memory, h, 0, 32);
    kill_key(FS_KIND_memory, h, 0);
    for (uint64_t i = 0; i < 64 * 100; i++) {            /* ~100 per stripe: well inside the ring */
        uint64_t x = base + (6 * n + i) * 32;
        fs_acquire(&c, FS_KIND_memory, x, 0, 32);
        kill_key(FS_KIND_memory, x, 0);
    }
    CHECK(state_of(FS_KIND_memory, h, 0) == 2, "a twice-freed block keeps its latest tombstone");

    /* fd tombstones are not ringed: 5000 closed fds all remain */
    struct fs_call cf = mkcall(FS_F_open, 1, 0x30, 0);
    uint64_t fd_dead = 0;
    for (uint64_t fd = 100000; fd < 105000; fd++) {
        fs_acquire(&cf, FS_KIND_fd, fd, 0, 0);
        kill_key(FS_KIND_fd, fd, 0);
    }
    for (uint64_t i = 0; i < n; i++) {                    /* churn memory tombstones meanwhile */
        uint64_t x = base + (8 * n + i) * 32;
        fs_acquire(&c, FS_KIND_memory, x, 0, 32);
        kill_key(FS_KIND_memory, x, 0);
    }
    for (uint64_t fd = 100000; fd < 105000; fd++)
        fd_dead += state_of(FS_KIND_fd, fd, 0) == 2;
    CHECK(fd_dead == 5000, "fd tombstones kept: %llu of 5000", (unsigned long long)fd_dead);
}

/* The tombstone FIFO is kept lazily (a revived entry stays in it): a block
 * freed, reallocated and freed again long after must be evicted by its last
 * free, not by when it first joined. h is freed, then ~900 frees per stripe,
 * then h is revived and freed again, then ~600 more per stripe: its stripe
 * evicts ~480 tombstones, the ones freed before h's second free, not h. */
static void test_tomb_order(void)
{
    const uint64_t base = 0x900000000ull;
    struct fs_call c = mkcall(FS_F_malloc, 1, 0x20, 0);
    uint64_t h = base - 4096;
    fs_acquire(&c, FS_KIND_memory, h, 0, 32);
    kill_key(FS_KIND_memory, h, 0);
    uint64_t i = 0;
    for (; i < 64 * 900; i++) {
        fs_acquire(&c, FS_KIND_memory, base + i * 32, 0, 32);
        kill_key(FS_KIND_memory, base + i * 32, 0);
    }
    fs_acquire(&c, FS_KIND_memory, h, 0, 32);
    CHECK(state_of(FS_KIND_memory, h, 0) == 1, "revived block is live");
    kill_key(FS_KIND_memory, h, 0);
    for (uint64_t k = 0; k < 64 * 600; k++, i++) {
        fs_acquire(&c, FS_KIND_memory, base + i * 32, 0, 32);
        kill_key(FS_KIND_memory, base + i * 32, 0);
    }
    CHECK(state_of(FS_KIND_memory, h, 0) == 2,
          "a block freed again keeps its tombstone by its last free (state %d)",
          state_of(FS_KIND_memory, h, 0));
    uint64_t early = 0;
    for (uint64_t k = 0; k < 1000; k++)
        early += state_of(FS_KIND_memory, base + k * 32, 0) != 0;
    CHECK(early < 500, "the oldest frees were evicted instead: %llu of 1000 remain",
          (unsigned long long)early);
}

/* ---- concurrency: 4 threads, distinct handles ---- */

#define NTHREADS 4
#define PER_THREAD 50000

struct worker { int idx; pid_t tid; int bad; };

static void *worker_fn(void *arg)
{
    struct worker *w = arg;
    w->tid = fs_gettid();
    uint64_t base = 0x200000000ull + (uint64_t)w->idx * 0x10000000ull;
    struct fs_call c = mkcall(FS_F_malloc, 1, 0x100 + (uint64_t)w->idx, 0);
    for (uint64_t i = 0; i < PER_THREAD; i++) {
        uint64_t h = base + i * 16;
        if (!fs_acquire(&c, FS_KIND_memory, h, 0, 16))
            w->bad++;
        if (i % 2 == 1 && kill_key(FS_KIND_memory, h, 0) != 1)   /* keep the even ones */
            w->bad++;
        /* a lock per thread taken and dropped: same kind, aux = thread */
        struct fs_call cl = mkcall(FS_F_pthread_mutex_lock, 1, 0x200, 0);
        if (!fs_acquire(&cl, FS_KIND_lock, 0x9000, (uint64_t)w->idx + 1, 0) ||
            kill_key(FS_KIND_lock, 0x9000, (uint64_t)w->idx + 1) != 1)
            w->bad++;
    }
    return NULL;
}

struct tidcheck { uint64_t lo, hi; pid_t tid; uint64_t wrong; };

static void tid_cb(struct fs_res *r, void *arg)
{
    struct tidcheck *t = arg;
    if (r->kind == FS_KIND_memory && !(r->flags & FS_RES_DEAD) && fs_res_handle(r) >= t->lo && fs_res_handle(r) < t->hi &&
        r->tid != t->tid)
        t->wrong++;
}

static void test_threads(void)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i].idx = i;
        w[i].bad = 0;
        w[i].tid = 0;
        if (pthread_create(&th[i], NULL, worker_fn, &w[i]) != 0) {
            CHECK(0, "pthread_create");
            return;
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(w[i].bad == 0, "thread %d: %d failed operations", i, w[i].bad);
    uint64_t lo = 0x200000000ull, hi = 0x200000000ull + NTHREADS * 0x10000000ull;
    struct counts k = count_kind(FS_KIND_memory, lo, hi);
    CHECK(k.live_in_range == (uint64_t)NTHREADS * PER_THREAD / 2, "live entries after the threads: %llu, want %d",
          (unsigned long long)k.live_in_range, NTHREADS * PER_THREAD / 2);
    struct counts kl = count_kind(FS_KIND_lock, 0, UINT64_MAX);
    CHECK(kl.live == 0 && kl.dead == 0, "no lock entries left (live %llu, dead %llu)",
          (unsigned long long)kl.live, (unsigned long long)kl.dead);
    for (int i = 0; i < NTHREADS; i++) {
        struct tidcheck t = { lo + (uint64_t)i * 0x10000000ull, lo + (uint64_t)(i + 1) * 0x10000000ull, w[i].tid, 0 };
        fs_ledger_lock_all();
        fs_ledger_each(tid_cb, &t);
        fs_ledger_unlock_all();
        CHECK(t.wrong == 0, "thread %d: %llu entries with another tid", i, (unsigned long long)t.wrong);
    }
    CHECK(w[0].tid != w[1].tid && w[0].tid != getpid(), "threads have their own tids");
}

/* ---- lock_all / trylock_all ---- */

static void *hold_stripe(void *arg)
{
    (void)arg;
    return fs_ledger_find(FS_KIND_fd, 3, 0);      /* returns with the stripe locked */
}

static void test_lock_all(void)
{
    CHECK(fs_ledger_trylock_all() == 1, "trylock_all on an idle ledger succeeds");
    fs_ledger_unlock_all();

    struct fs_call c = mkcall(FS_F_open, 1, 0x10, 0);
    fs_acquire(&c, FS_KIND_fd, 3, 0, 0);
    pthread_t t;
    void *held = NULL;
    pthread_create(&t, NULL, hold_stripe, NULL);
    pthread_join(t, &held);                       /* the thread is gone; its stripe stays locked */
    CHECK(held != NULL, "fs_ledger_find found fd 3 (stripe now held)");
    CHECK(fs_ledger_trylock_all() == 0, "trylock_all reports the busy stripe");
    fs_ledger_unlock_all();                       /* releases every stripe, the busy one too */

    fs_ledger_lock_all();
    fs_ledger_unlock_all();
    CHECK(state_of(FS_KIND_fd, 3, 0) == 1, "ledger usable after lock_all/unlock_all");
    kill_key(FS_KIND_fd, 3, 0);
}

int main(void)
{
    test_before_init();
    fs_ledger_init();
    test_live_dead_revive();
    test_keys();
    test_forget();
    test_ring_eviction();
    test_tomb_order();
    test_threads();
    test_lock_all();
    printf("test_ledger: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
