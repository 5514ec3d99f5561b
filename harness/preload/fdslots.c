/* fdslots.c — evidence that the program keeps a raw fd's number in its own
 * data, so that an fd it still holds in a global is not called a leak
 * (design.md: "a raw fd is held when there is evidence the program keeps its
 * number in its own data").
 *
 * Small integers are everywhere, so the evidence is narrow: an aligned int
 * slot in the writable, non-RELRO data of the program's own modules (never
 * libc's or another system library's, never a stack, never the heap) that
 *   - did not hold the fd's number when the fd was acquired (a snapshot of the
 *     slots that did, up to FS_SNAP_SLOTS; beyond that no evidence at all),
 *   - was written with it right after: by the acquiring call itself (pipe()
 *     writes into the program's int[2]) or before the acquiring thread's next
 *     FS_SETTLE_CALLS wrapped calls (the store `g_fd = open(...)`, checked at
 *     the start of each of them: fs_fdslot_settle), and
 *   - still holds it when the process ends.
 * A global that comes to equal the number later (a verbosity level set to 3
 * long after fd 3 was opened and lost) is not evidence. */
#define _GNU_SOURCE
#include "preload.h"

#include <link.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FS_SNAP_FDS 1024               /* fds above this get no snapshot: no evidence */
#define FS_SNAP_SLOTS 256
#define FS_SETTLE_CALLS 4              /* wrapped calls after the acquisition that look for the store */
#define FS_PENDING 4                   /* fds of one thread waiting for their store */
struct fs_fdsnap {
    uint32_t n;                        /* slots that held the number at acquisition */
    uint32_t valid;
    uintptr_t at[FS_SNAP_SLOTS];
    uint32_t nc;                       /* slots written with it right after */
    uintptr_t cand[FS_SNAP_SLOTS];
};
static struct fs_fdsnap *fs_snaps;
static fs_lock_t fs_snap_lock;
FS_TLS int fs_fd_npending;
static FS_TLS int fs_fd_pending[FS_PENDING], fs_fd_left[FS_PENDING];

enum { FS_WALK_SNAP, FS_WALK_SETTLE, FS_WALK_JUDGE };
struct fs_own_walk {
    int32_t fd;
    int mode;
    uintptr_t out;                      /* SNAP: the int[2] pipe() & co. just wrote it into */
    struct fs_fdsnap *snap;
    uintptr_t found;                    /* JUDGE: a candidate that still holds it */
    struct fs_module *found_mod;
};

static int fs_in(const uintptr_t *a, uint32_t n, uintptr_t x)
{
    for (uint32_t i = 0; i < n && i < FS_SNAP_SLOTS; i++)
        if (a[i] == x)
            return 1;
    return 0;
}

/* One aligned int slot p of module m holds the fd: what the walk does with it. */
static void fs_own_hit(struct fs_own_walk *w, struct fs_module *m, uintptr_t p)
{
    struct fs_fdsnap *sn = w->snap;
    if (w->mode == FS_WALK_SNAP) {
        if (p >= w->out && p < w->out + 2 * sizeof(int))
            return;                         /* the acquiring call's own store: not "before" */
        if (sn->n < FS_SNAP_SLOTS)
            sn->at[sn->n] = p;
        sn->n++;
    } else if (w->mode == FS_WALK_SETTLE) {
        if (!fs_in(sn->at, sn->n, p) && !fs_in(sn->cand, sn->nc, p) && sn->nc < FS_SNAP_SLOTS)
            sn->cand[sn->nc++] = p;
    } else if (!w->found && fs_in(sn->cand, sn->nc, p)) {
        w->found = p;
        w->found_mod = m;
    }
}

/* Every aligned int slot in [lo, hi) (4-aligned) that holds w->fd, in
 * address order. The walk runs at every fd acquisition and at each of the
 * FS_SETTLE_CALLS wrapped calls after it, over all of the program's writable
 * data (grep: 73 KB): compared 16 slots at a time with SSE2 (faster than one by
 * one: it was ~2/3 of a fork-mode grep run's CPU, bench/RESULTS.md, issue 11). */
static void fs_own_scan(struct fs_own_walk *w, struct fs_module *m, uintptr_t lo, uintptr_t hi)
{
    const int32_t v = w->fd;
    uintptr_t p = lo;
#if defined(__SSE2__)
    const __m128i want = _mm_set1_epi32(v);
    for (; p + 64 <= hi; p += 64) {
        __m128i a = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)p), want);
        __m128i b = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 16)), want);
        __m128i c = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 32)), want);
        __m128i d = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 48)), want);
        if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))))
            continue;
        for (uintptr_t q = p; q < p + 64; q += 4)
            if (*(const volatile int32_t *)q == v)
                fs_own_hit(w, m, q);
    }
#endif
    for (; p + 4 <= hi; p += 4)
        if (*(const volatile int32_t *)p == v)
            fs_own_hit(w, m, p);
}

static int fs_own_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct fs_own_walk *w = arg;
    struct fs_module *m = NULL;
    for (int id = 1; (m = fs_module_by_id(id)) != NULL; id++)
        if (m->bias == info->dlpi_addr)
            break;
    if (!m || m->system)
        return 0;                           /* libc, the loader, the preload...: not the program's data */
    uintptr_t rlo = 0, rhi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            rlo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            rhi = rlo + info->dlpi_phdr[i].p_memsz;
        }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr + 3) & ~(uintptr_t)3;
        uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        /* the slots outside RELRO (read-only after relocation: no fd can be
         * stored there), as the one-by-one walk skipped them: the first slot
         * after it is the first 4-aligned address at or above its end */
        if (rhi > rlo && rlo < hi && rhi > lo) {
            if (lo < rlo)                   /* a slot starting below rlo counts, as before */
                fs_own_scan(w, m, lo, rlo + 3 < hi ? rlo + 3 : hi);
            uintptr_t after = (rhi + 3) & ~(uintptr_t)3;
            if (after < hi)
                fs_own_scan(w, m, after, hi);
        } else {
            fs_own_scan(w, m, lo, hi);
        }
    }
    return 0;
}

void fs_fdslot_snapshot(int fd, const int *out)
{
    if (fd < 0 || fd >= FS_SNAP_FDS)
        return;
    if (!fs_snaps) {
        fs_lock(&fs_snap_lock);
        if (!fs_snaps)
            fs_snaps = fs_alloc(FS_SNAP_FDS * sizeof *fs_snaps);
        fs_unlock(&fs_snap_lock);
        if (!fs_snaps)
            return;
    }
    struct fs_fdsnap snap;
    memset(&snap, 0, sizeof snap);
    snap.valid = 1;
    struct fs_own_walk w = { fd, FS_WALK_SNAP, (uintptr_t)out, &snap, 0, NULL };
    dl_iterate_phdr(fs_own_cb, &w);
    if (out)                            /* pipe() & co. wrote it into the program's int[2] */
        for (int i = 0; i < 2; i++)
            if (out[i] == fd && !fs_in(snap.at, snap.n, (uintptr_t)&out[i]) && snap.nc < FS_SNAP_SLOTS)
                snap.cand[snap.nc++] = (uintptr_t)&out[i];
    if (snap.n > FS_SNAP_SLOTS)
        snap.valid = 0;                 /* too many slots held it already: no evidence possible */
    fs_lock(&fs_snap_lock);
    fs_snaps[fd] = snap;
    fs_unlock(&fs_snap_lock);
    if (!snap.valid)
        return;
    int i = 0;
    while (i < fs_fd_npending && fs_fd_pending[i] != fd)
        i++;
    if (i == FS_PENDING) {              /* full: the oldest has had its chances */
        memmove(fs_fd_pending, fs_fd_pending + 1, (FS_PENDING - 1) * sizeof *fs_fd_pending);
        memmove(fs_fd_left, fs_fd_left + 1, (FS_PENDING - 1) * sizeof *fs_fd_left);
        i = FS_PENDING - 1;
        fs_fd_npending--;
    }
    if (i == fs_fd_npending)
        fs_fd_npending++;
    fs_fd_pending[i] = fd;
    fs_fd_left[i] = FS_SETTLE_CALLS;
}

void fs_fdslot_settle(void)
{
    int k = 0;
    for (int i = 0; i < fs_fd_npending; i++) {
        int fd = fs_fd_pending[i];
        struct fs_fdsnap snap;
        fs_lock(&fs_snap_lock);
        snap = fs_snaps[fd];
        fs_unlock(&fs_snap_lock);
        if (!snap.valid)
            continue;
        struct fs_own_walk w = { fd, FS_WALK_SETTLE, 0, &snap, 0, NULL };
        dl_iterate_phdr(fs_own_cb, &w);
        fs_lock(&fs_snap_lock);
        fs_snaps[fd].nc = snap.nc;
        memcpy(fs_snaps[fd].cand, snap.cand, sizeof snap.cand);
        fs_unlock(&fs_snap_lock);
        if (--fs_fd_left[i] > 0) {
            fs_fd_pending[k] = fd;
            fs_fd_left[k++] = fs_fd_left[i];
        }
    }
    fs_fd_npending = k;
}

size_t fs_fdslot_held(int fd, char *why)
{
    if (fd < 0 || fd >= FS_SNAP_FDS || !fs_snaps || !fs_snaps[fd].valid || !fs_snaps[fd].nc)
        return 0;
    struct fs_own_walk w = { fd, FS_WALK_JUDGE, 0, &fs_snaps[fd], 0, NULL };
    dl_iterate_phdr(fs_own_cb, &w);
    if (!w.found)
        return 0;
    size_t n = 0;
    memcpy(why, "global@", 7); n = 7;
    fs_record_module(w.found_mod);
    n += fs_fmt_u64(why + n, (uint64_t)w.found_mod->id);
    why[n++] = '+';
    n += fs_fmt_hex(why + n, w.found - w.found_mod->bias);
    why[n] = '\0';
    return n;
}

struct fs_res *fs_acquire_fd(const struct fs_call *c, int fd, const int *out)
{
    fs_fdslot_snapshot(fd, out);
    return fs_acquire(c, FS_KIND_fd, (uint64_t)fd, 0, 0);
}
