/* fdslots.c — evidence that the program keeps a raw fd's number in its own
 * data, so that an fd it still holds in a global is not called a leak
 * (design.md: "a raw fd is held when there is evidence the program keeps its
 * number in its own data").
 *
 * Small integers are everywhere, so the evidence is narrow: an aligned int
 * slot in the writable, non-RELRO data of the program's own modules (never
 * libc's or another system library's, never a stack, never the heap) that
 * holds the fd's number when the process ends AND did not hold it when the fd
 * was acquired. When an fd is acquired (fs_fdslot_snapshot) the slots that
 * already hold its number are remembered (up to FS_SNAP_SLOTS; beyond that
 * only their count, and then a slot is evidence only if the count grew). */
#define _GNU_SOURCE
#include "preload.h"

#include <link.h>
#include <string.h>

#define FS_SNAP_FDS 4096               /* fds above this get no snapshot: no evidence */
#define FS_SNAP_SLOTS 6
struct fs_fdsnap { uint32_t n; uint32_t valid; uintptr_t at[FS_SNAP_SLOTS]; };
static struct fs_fdsnap *fs_snaps;
static fs_lock_t fs_snap_lock;

struct fs_own_walk {
    int32_t fd;
    uintptr_t out;                      /* the int[2] pipe() & co. wrote the fd into: not "before" */
    int judge;                          /* 0: snapshot into snap; 1: look for new slots */
    struct fs_fdsnap *snap;
    uint32_t count;                     /* slots holding fd now */
    uintptr_t found;                    /* judge: a slot that did not hold it before */
    struct fs_module *found_mod;
};

static int fs_snapped(const struct fs_fdsnap *s, uintptr_t a)
{
    uint32_t n = s->n < FS_SNAP_SLOTS ? s->n : FS_SNAP_SLOTS;
    for (uint32_t i = 0; i < n; i++)
        if (s->at[i] == a)
            return 1;
    return 0;
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
        for (uintptr_t p = lo; p + 4 <= hi; p += 4) {
            if (p >= rlo && p < rhi) {      /* read-only after relocation: no fd can be stored there */
                p = ((rhi + 3) & ~(uintptr_t)3) - 4;
                continue;
            }
            if (*(const volatile int32_t *)p != w->fd || (!w->judge && p >= w->out && p < w->out + 8))
                continue;
            w->count++;
            if (!w->judge) {
                if (w->snap->n < FS_SNAP_SLOTS)
                    w->snap->at[w->snap->n] = p;
                w->snap->n++;
            } else if (!w->found && !fs_snapped(w->snap, p)) {
                w->found = p;
                w->found_mod = m;
            }
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
    struct fs_fdsnap snap = { 0, 1, { 0 } };
    struct fs_own_walk w = { fd, (uintptr_t)out, 0, &snap, 0, 0, NULL };
    dl_iterate_phdr(fs_own_cb, &w);
    fs_lock(&fs_snap_lock);
    fs_snaps[fd] = snap;
    fs_unlock(&fs_snap_lock);
}

size_t fs_fdslot_held(int fd, char *why)
{
    if (fd < 0 || fd >= FS_SNAP_FDS || !fs_snaps || !fs_snaps[fd].valid)
        return 0;
    struct fs_own_walk w = { fd, 0, 1, &fs_snaps[fd], 0, 0, NULL };
    dl_iterate_phdr(fs_own_cb, &w);
    if (!w.found)
        return 0;
    /* more slots than remembered at acquire time: only a grown count is evidence */
    if (fs_snaps[fd].n > FS_SNAP_SLOTS && w.count <= fs_snaps[fd].n)
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
