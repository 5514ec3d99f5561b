/*
 * symbolize.h — turn a recorded call site (module path, offset) into
 * function, source file and line, for the supervisor.
 *
 * The preload records every call site as the path of the module that holds
 * it and an offset: the runtime address minus the module's load bias
 * (dl_iterate_phdr's dlpi_addr).  That offset is an address in the ELF
 * file's own virtual address space, whatever the module's type: for a PIE
 * executable or a shared library it is the address relative to vaddr 0, for
 * a non-PIE executable (bias 0) it is the absolute address.  The recorder
 * already stores return_address - 1 for call sites, so the symbolizer looks
 * up exactly the offset it is given and never adjusts it.
 *
 * The work is done by elfutils' libdwfl: ELF symbol tables (.symtab, or
 * .dynsym when stripped), DWARF line tables, and separate debug info found
 * by build-id under /usr/lib/debug/.build-id or by .gnu_debuglink (the
 * standard dwfl_standard_find_debuginfo search).  If DEBUGINFOD_URLS is set
 * in the environment, libdwfl may also ask those debuginfod servers over
 * the network; unset it in the supervisor to keep symbolization offline.
 *
 * One libdwfl session is opened per module path on first use and kept until
 * fs_sym_free(), and every (module, offset) answer is cached, so symbolizing
 * thousands of sites from a few modules costs one ELF/DWARF load per module.
 * The files are read when first looked up; if a module is replaced on disk
 * afterwards, answers come from the version read first.
 *
 * Nothing here writes to stdout or stderr.  A symbolizer is not thread-safe:
 * use one per thread, or serialize calls.  Its descriptors are close-on-exec
 * where we open them (see symbolize.c for the ones libdwfl opens itself).
 */
#ifndef FS_SYMBOLIZE_H
#define FS_SYMBOLIZE_H

#include <stdint.h>

struct fs_symbolizer;

/* The answer for one call site.  Strings are always NUL-terminated and
 * truncated if longer than the buffer. */
struct fs_sym_result {
	char func[256];   /* ELF symbol containing the address, not demangled; "" if none */
	char file[1024];  /* source file from the DWARF line table, made absolute with the
	                     compilation directory when DWARF gives a relative name; stays
	                     relative only if the compilation directory is relative too
	                     (-fdebug-prefix-map builds such as Debian's libc:
	                     "./malloc/malloc.c"); "" if no line information */
	int line;         /* source line, 0 if unknown */
};

/* Create an empty symbolizer.  Opens nothing yet.
 * Returns NULL (errno ENOMEM) if memory is exhausted.  The caller owns the
 * result and releases it with fs_sym_free(). */
struct fs_symbolizer *fs_sym_new(void);

/* Release a symbolizer: every cached libdwfl session, its descriptors and
 * mappings, and the answer cache.  NULL is accepted and does nothing. */
void fs_sym_free(struct fs_symbolizer *s);

/* Symbolize OFFSET (an address in MODULE_PATH's own ELF vaddr space, see
 * above) and fill *OUT.
 *
 * Returns 0 when the module could be opened as ELF, even if nothing is known
 * about the address: then out->func is "" and/or out->file is "" and
 * out->line is 0 for the parts that are unknown.
 * Returns -1 when the module cannot be opened (missing, unreadable, not ELF)
 * or on bad arguments (S, MODULE_PATH or OUT NULL) or memory exhaustion;
 * *OUT (when not NULL) is then all empty: func "", file "", line 0.
 * A module that failed to open is remembered and not retried until
 * fs_sym_free().
 *
 * MODULE_PATH is copied; the caller keeps ownership of its string and of
 * *OUT.  Results never point into the symbolizer. */
int fs_sym_lookup(struct fs_symbolizer *s, const char *module_path, uint64_t offset,
                  struct fs_sym_result *out);

#endif /* FS_SYMBOLIZE_H */
