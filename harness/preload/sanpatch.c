/* sanpatch.c — a program that carries the ASan runtime itself.
 *
 * clang -fsanitize=address links the runtime into the program (unless
 * -shared-libasan): the program then defines malloc, free, fopen, close...
 * (ASan's interceptors) and calls its own definitions directly, not through
 * the PLT, so LD_PRELOAD cannot put the preload's wrappers in front of them,
 * and the runtime's interceptors call the preload's fopen & co. from inside
 * themselves (every call seen at one call site: the interceptor).
 *
 * So here, at start-up (after ASan's own initialisation, which runs from the
 * program's preinit array), each wrapped function the runtime defines gets a
 * jump to the preload's wrapper written over its first 14 bytes. The wrappers
 * then see the program's calls at the program's call sites; the malloc family
 * reaches ASan's allocator through three entry points left alone (memalign,
 * cfree, reallocarray: wrap_mem_custom.c), so ASan still serves and checks the heap;
 * the other functions go on to libc (ASan's checks of their arguments are
 * skipped). memalign and reallocarray themselves stay ASan's (not fault points
 * in such a program). Not __libc_memalign: ASan's keeps the last block it
 * returned in a thread-local variable (for the loader's TLS blocks), a root
 * that made the last block allocated look reachable. Nothing is redirected
 * unless malloc, calloc, realloc, free and the three entry points are all
 * there, in the runtime's module. */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void __asan_init(void) __attribute__((weak));

#define FS_JMP_LEN 14                 /* jmp *0(%rip); .quad target */

static int fs_in_module(const void *p, const struct fs_module *m)
{
    return p && fs_module_of((uintptr_t)p) == m;
}

/* The function's size from its dynamic symbol (0: unknown). */
static size_t fs_sym_size(void *fn)
{
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(fn, &di, (void **)&sym, RTLD_DL_SYMENT) || !sym || di.dli_saddr != fn)
        return 0;
    return (size_t)sym->st_size;
}

static int fs_write_jmp(void *at, void *to)
{
    unsigned char code[FS_JMP_LEN] = { 0xff, 0x25, 0, 0, 0, 0 };
    memcpy(code + 6, &to, sizeof to);
    uintptr_t pg = (uintptr_t)at & ~(uintptr_t)4095;
    size_t len = ((uintptr_t)at + FS_JMP_LEN - pg + 4095) & ~(size_t)4095;
    if (syscall(SYS_mprotect, pg, len, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
        return -1;
    memcpy(at, code, FS_JMP_LEN);
    syscall(SYS_mprotect, pg, len, PROT_READ | PROT_EXEC);
    return 0;
}

int fs_sanpatch(void)
{
    if (!__asan_init)
        return 0;
    struct fs_module *rt = fs_module_of((uintptr_t)__asan_init);
    if (!rt || rt->sanrt || rt->system)
        return 0;                        /* libasan.so (gcc): LD_PRELOAD does it */
    int done = -1;
    fs_guard++;
    Dl_info self_info;
    void *self = NULL;
    if (dladdr((void *)fs_sanpatch, &self_info) && self_info.dli_fname)
        self = dlopen(self_info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    void *am = dlsym(RTLD_DEFAULT, "memalign");
    void *cf = dlsym(RTLD_DEFAULT, "cfree");
    void *ra = dlsym(RTLD_DEFAULT, "reallocarray");
    static const char *const need[] = { "malloc", "calloc", "realloc", "free", NULL };
    int ok = self && fs_in_module(am, rt) && fs_in_module(cf, rt) && fs_in_module(ra, rt);
    for (int i = 0; ok && need[i]; i++) {
        void *theirs = dlsym(RTLD_DEFAULT, need[i]);
        ok = fs_in_module(theirs, rt) && fs_sym_size(theirs) >= FS_JMP_LEN && dlsym(self, need[i]);
    }
    if (!ok)
        goto out;
    fs_next_use_runtime(am, cf, ra);
    done = 0;
    for (int i = 0; i < FS_F_COUNT; i++) {
        const char *name = fs_funcs[i].name;
        if (!strcmp(name, "reallocarray") || !strcmp(name, "memalign"))
            continue;                    /* ASan's entries for the wrappers */
        void *theirs = dlsym(RTLD_DEFAULT, name);
        if (!fs_in_module(theirs, rt) || fs_sym_size(theirs) < FS_JMP_LEN)
            continue;
        void *ours = dlsym(self, name);
        if (!ours || ours == theirs || fs_module_of((uintptr_t)ours) == rt)
            continue;
        if (fs_write_jmp(theirs, ours) == 0)
            done++;
    }
out:
    if (self)
        dlclose(self);
    fs_guard--;
    return done;
}
