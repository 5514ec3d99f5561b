/* modules.c — the loaded modules of the target and the real functions.
 *
 * A call site is a return address mapped to (module, offset) through a table
 * of the loaded modules sorted by address (dl_iterate_phdr; refreshed when an
 * address is not found, after a dlopen). Each module is marked: system (libc,
 * the loader, the preload, a protocol library: not the program's code, see
 * harness/common/sysmods.h), a sanitizer runtime, counted by the plan's
 * module= filter. fs_real resolves the next definition of a wrapped symbol. */
#define _GNU_SOURCE
#include "preload.h"
#include "sysmods.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---------------- real functions ---------------- */

static void fs_die(const char *msg)
{
    /* Only reached when libc lacks a function we wrap: nothing sane to do. */
    syscall(SYS_write, 2, "faultstack-preload: ", 20);
    syscall(SYS_write, 2, msg, strlen(msg));
    syscall(SYS_write, 2, "\n", 1);
    abort();
}

void *fs_real(const char *name)
{
    fs_guard++;
    fs_busy++;
    void *p = dlsym(RTLD_NEXT, name);
    fs_busy--;
    fs_guard--;
    if (!p) {
        char msg[160] = "cannot find the real ";
        strncat(msg, name, sizeof msg - 40);
        strcat(msg, " (dlsym RTLD_NEXT)");
        fs_die(msg);
    }
    return p;
}

/* ---------------- modules ---------------- */

#define FS_MAX_MODULES 512
static struct fs_module fs_modules[FS_MAX_MODULES];
static int fs_nmodules;
static struct fs_module *fs_sorted[FS_MAX_MODULES];
static fs_lock_t fs_mod_lock;
static uintptr_t fs_self_anchor = (uintptr_t)&fs_modules_refresh;   /* code: inside our PF_X range */

static const char *const fs_system_prefixes[] = { FS_SYSTEM_MODULE_PREFIXES, NULL };

/* Sanitizer runtimes: system modules whose own allocations (report buffers,
 * ...) are neither the program's nor libc-on-its-behalf: not tracked at all. */
static const char *const fs_sanrt_prefixes[] = {
    "libasan.so", "libubsan.so", "libtsan.so", "liblsan.so", "libhwasan.so", "libclang_rt.", NULL
};

static int fs_prefixed(const char *base, const char *const *prefixes)
{
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int fs_is_system(const char *base)
{
    return fs_prefixed(base, fs_system_prefixes) || fs_prefixed(base, fs_sanrt_prefixes);
}

void fs_readlink_exe(char *out, size_t len)
{
    long n = syscall(SYS_readlink, "/proc/self/exe", out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

static int fs_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo) lo = a;
        if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
    }
    if (hi == 0)
        return 0;
    for (int i = 0; i < fs_nmodules; i++)
        if (fs_modules[i].lo == lo && fs_modules[i].bias == info->dlpi_addr)
            return 0;                                  /* known already */
    if (fs_nmodules >= FS_MAX_MODULES)
        return 1;
    struct fs_module *m = &fs_modules[fs_nmodules];
    memset(m, 0, sizeof *m);
    m->lo = lo; m->hi = hi; m->bias = info->dlpi_addr;
    if (info->dlpi_name && info->dlpi_name[0])
        strncpy(m->path, info->dlpi_name, sizeof m->path - 1);
    else
        fs_readlink_exe(m->path, sizeof m->path);      /* the main program */
    const char *slash = strrchr(m->path, '/');
    m->base = slash ? slash + 1 : m->path;
    m->self = fs_self_anchor >= lo && fs_self_anchor < hi;
    size_t bl = strlen(m->base);
    /* a protocol library's wrappers (faultstack protocol build) are ours, not the program's */
    int protolib = bl > 12 && strcmp(m->base + bl - 12, "-protocol.so") == 0;
    m->system = m->self || fs_is_system(m->base) || m->path[0] == '\0' || protolib;
    m->sanrt = fs_prefixed(m->base, fs_sanrt_prefixes);
    m->counts = !fs_the_plan.module_filter[0] || strcmp(fs_the_plan.module_filter, m->base) == 0;
    if (fs_the_plan.trigger == FS_PLAN_SITE && strcmp(fs_the_plan.site_module, m->base) == 0)
        fs_site_mod = fs_nmodules + 1;
    m->id = fs_nmodules + 1;
    __atomic_store_n(&fs_nmodules, fs_nmodules + 1, __ATOMIC_RELEASE);
    return 0;
}

void fs_modules_refresh(void)
{
    fs_lock(&fs_mod_lock);
    fs_guard++;
    fs_busy++;
    dl_iterate_phdr(fs_phdr_cb, NULL);
    fs_busy--;
    fs_guard--;
    /* insertion sort of the pointer table by lo */
    int n = fs_nmodules;
    for (int i = 0; i < n; i++)
        fs_sorted[i] = &fs_modules[i];
    for (int i = 1; i < n; i++) {
        struct fs_module *x = fs_sorted[i];
        int j = i - 1;
        while (j >= 0 && fs_sorted[j]->lo > x->lo) { fs_sorted[j + 1] = fs_sorted[j]; j--; }
        fs_sorted[j + 1] = x;
    }
    fs_unlock(&fs_mod_lock);
}

static struct fs_module *fs_module_search(uintptr_t a)
{
    int lo = 0, hi = __atomic_load_n(&fs_nmodules, __ATOMIC_ACQUIRE) - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        struct fs_module *m = fs_sorted[mid];
        if (!m) return NULL;
        if (a < m->lo) hi = mid - 1;
        else if (a >= m->hi) lo = mid + 1;
        else return m;
    }
    return NULL;
}

static FS_TLS struct fs_module *fs_last_mod;

struct fs_module *fs_module_of(uintptr_t a)
{
    struct fs_module *m = fs_last_mod;
    if (m && a >= m->lo && a < m->hi)
        return m;
    m = fs_module_search(a);
    if (!m) {                               /* dlopen'ed since: look again */
        fs_modules_refresh();
        m = fs_module_search(a);
    }
    if (m)
        fs_last_mod = m;
    return m;
}

struct fs_module *fs_module_by_id(int id)
{
    return (id >= 1 && id <= fs_nmodules) ? &fs_modules[id - 1] : NULL;
}

