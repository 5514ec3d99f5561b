/* sysmods.h — the modules that are not the program's own code: libc, the
 * loader, the threading and real-time libraries glibc folded into libc, the
 * toolchain's unwinder, the vDSO and faultstack's own preload. Calls made from
 * them are not fault points (unless --fail internal); a resource they acquire
 * is named by the program's call into them; a crash inside them is named by
 * the first frame in the program. One list (basename prefixes) for the preload
 * (core.c) and the supervisor (ingest.c, valgrind.c), so both name the same
 * site. Libraries a program links (liblzma, libz, libxml2...) are the
 * program's: their calls are fault points. */
#ifndef FS_SYSMODS_H
#define FS_SYSMODS_H

#define FS_SYSTEM_MODULE_PREFIXES                                                        \
    "libc.so", "ld-linux", "ld64.so", "libpthread.so", "libdl.so", "librt.so",           \
    "libfaultstack-preload", "libgcc_s.so", "linux-vdso", "linux-gate"

#endif
