/*
 * test_symbolize.c — unit test of harness/cli/symbolize.c on real code.
 *
 * Computes (module path, offset) exactly as the preload records them
 * (dl_iterate_phdr: offset = address - dlpi_addr, call sites as return
 * address - 1) for functions and call sites in this test executable (PIE
 * or not) and in libc, and checks what the symbolizer makes of them.
 * Exact file:line checks need this file built with -g (the default
 * RelWithDebInfo build has it); without DWARF in the executable they are
 * skipped with a notice, and only the function names are checked.
 */
#define _GNU_SOURCE
#include "symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void fail(int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "test_symbolize.c:%d: FAIL: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, __VA_ARGS__); } while (0)

/* ---- where is an address: the preload's view ---------------------------- */

struct where {
	uintptr_t addr;
	char path[PATH_MAX];
	uint64_t offset;
	char build_id[128];  /* hex, "" if none */
	int found;
};

static void where_build_id(const struct dl_phdr_info *info, struct where *w)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		const unsigned char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *name = p + sizeof *nh;
			const unsigned char *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz * 2 < sizeof w->build_id) {
				for (unsigned k = 0; k < nh->n_descsz; k++)
					sprintf(w->build_id + 2 * k, "%02x", desc[k]);
				return;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
}

static int where_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct where *w = data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD || w->addr < lo || w->addr >= lo + ph->p_memsz)
			continue;
		if (info->dlpi_name[0] != '\0') {
			snprintf(w->path, sizeof w->path, "%s", info->dlpi_name);
		} else {  /* the main executable */
			ssize_t n = readlink("/proc/self/exe", w->path, sizeof w->path - 1);
			w->path[n > 0 ? n : 0] = '\0';
		}
		w->offset = w->addr - info->dlpi_addr;
		where_build_id(info, w);
		w->found = 1;
		return 1;
	}
	return 0;
}

static struct where where_is(const void *addr)
{
	struct where w;
	memset(&w, 0, sizeof w);
	w.addr = (uintptr_t)addr;
	dl_iterate_phdr(where_cb, &w);
	return w;
}

/* ---- known code --------------------------------------------------------- */

static volatile int sink;
static int has_dwarf;                  /* this executable has .debug_info */
static int main_calls_own_code_line;

/* Does the ELF file PATH have a section called NAME?  (libelf, independent
 * of the code under test.) */
static int elf_has_section(const char *path, const char *name)
{
	int found = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (elf != NULL && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && !found; scn = elf_nextscn(elf, scn)) {
			GElf_Shdr sh;
			const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
			found = n != NULL && strcmp(n, name) == 0;
		}
	}
	if (elf != NULL)
		elf_end(elf);
	close(fd);
	return found;
}

/* Returns its caller's return address: the call site is ra - 1. */
static __attribute__((noinline, noclone)) void *caller_ra(void)
{
	void *ra = __builtin_return_address(0);
	__asm__ volatile("" : : "r"(ra) : "memory");
	return ra;
}

enum { KNOWN_FN_LINE = __LINE__ + 1 };
static __attribute__((noinline, noclone)) void *fs_test_known_site(int *call_line) {
	sink++;
	void *ra = caller_ra(); *call_line = __LINE__;
	sink++;  /* keeps the call above from being a tail call */
	return ra;
}

static int same_file(const char *got)
{
	if (__FILE__[0] == '/')
		return strcmp(got, __FILE__) == 0;
	/* Built with a relative path: DWARF has comp_dir + relative name. */
	size_t g = strlen(got), f = strlen(__FILE__);
	return got[0] == '/' && g > f && got[g - f - 1] == '/' && strcmp(got + g - f, __FILE__) == 0;
}

static int is_empty(const struct fs_sym_result *r)
{
	return r->func[0] == '\0' && r->file[0] == '\0' && r->line == 0;
}

static void poison(struct fs_sym_result *r)
{
	memset(r, 'x', sizeof *r);
	r->func[sizeof r->func - 1] = '\0';
	r->file[sizeof r->file - 1] = '\0';
	r->line = -7;
}

/* ---- tests -------------------------------------------------------------- */

static __attribute__((noinline)) void test_own_code(struct fs_symbolizer *s)
{
	struct fs_sym_result r;

	/* The function's entry: its own name; the line is the declaration's
	 * (-O0/-O1: prologue) or the first statement's (-O2: no prologue). */
	struct where fw = where_is((const void *)fs_test_known_site);
	CHECK(fw.found, "fs_test_known_site not found by dl_iterate_phdr");
	poison(&r);
	CHECK(fs_sym_lookup(s, fw.path, fw.offset, &r) == 0, "lookup of %s failed", fw.path);
	CHECK(strcmp(r.func, "fs_test_known_site") == 0, "entry: func '%s'", r.func);
	CHECK(!has_dwarf || same_file(r.file), "entry: file '%s', want %s", r.file, __FILE__);
	CHECK(!has_dwarf || r.line == KNOWN_FN_LINE || r.line == KNOWN_FN_LINE + 1,
	      "entry: line %d, want %d or %d", r.line, KNOWN_FN_LINE, KNOWN_FN_LINE + 1);

	/* A call site: return address - 1, as the recorder stores it. */
	int call_line = 0;
	void *ra = fs_test_known_site(&call_line);
	struct where cw = where_is((const char *)ra - 1);
	CHECK(cw.found && strcmp(cw.path, fw.path) == 0, "call site module '%s'", cw.path);
	poison(&r);
	CHECK(fs_sym_lookup(s, cw.path, cw.offset, &r) == 0, "call site lookup failed");
	CHECK(strcmp(r.func, "fs_test_known_site") == 0, "call site: func '%s'", r.func);
	CHECK(!has_dwarf || same_file(r.file), "call site: file '%s'", r.file);
	CHECK(!has_dwarf || r.line == call_line, "call site: line %d, want %d", r.line, call_line);

	/* The call of this function from main(). */
	struct where hw = where_is((const char *)__builtin_return_address(0) - 1);
	CHECK(hw.found, "caller of test_own_code not found");
	poison(&r);
	CHECK(fs_sym_lookup(s, hw.path, hw.offset, &r) == 0, "main call site lookup failed");
	CHECK(strcmp(r.func, "main") == 0, "caller of test_own_code: func '%s', want main", r.func);
	CHECK(!has_dwarf || (same_file(r.file) && r.line == main_calls_own_code_line),
	      "caller: %s:%d, want line %d", r.file, r.line, main_calls_own_code_line);

	/* Same answers from the cache, many times over. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100000; i++) {
		if (fs_sym_lookup(s, cw.path, cw.offset, &r) != 0 || (has_dwarf && r.line != call_line)) {
			fail(__LINE__, "cached lookup %d differs: %s:%d", i, r.file, r.line);
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e5;
	printf("own code: %s+0x%llx -> %s %s:%d (cached lookup %.0f ns)\n", cw.path,
	       (unsigned long long)cw.offset, r.func, r.file, r.line, ns);
}

static __attribute__((noinline)) void test_libc(struct fs_symbolizer *s)
{
	struct fs_sym_result r;
	/* libc's own malloc, even when something (ASan, a preload) interposes it. */
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *mp = libc ? dlsym(libc, "malloc") : NULL;
	CHECK(mp != NULL, "dlsym(libc.so.6, malloc): %s", dlerror());
	if (libc != NULL)
		dlclose(libc);
	if (mp == NULL)
		return;
	struct where w = where_is(mp);
	CHECK(w.found, "malloc not found by dl_iterate_phdr");
	CHECK(strstr(w.path, "libc") != NULL, "malloc lives in '%s', expected libc", w.path);

	for (int delta = 0; delta <= 4; delta += 4) {
		poison(&r);
		CHECK(fs_sym_lookup(s, w.path, w.offset + delta, &r) == 0, "lookup in %s failed", w.path);
		CHECK(strcmp(r.func, "malloc") == 0 || strcmp(r.func, "__libc_malloc") == 0,
		      "malloc+%d: func '%s'", delta, r.func);
		CHECK(r.line >= 0, "malloc line %d", r.line);
		CHECK(r.file[0] == '\0' || r.line > 0, "file without line");
	}
	printf("libc: %s+0x%llx -> %s %s:%d\n", w.path, (unsigned long long)w.offset,
	       r.func, r.file[0] ? r.file : "(no debug info)", r.line);

	/* If libc's separate debug info is installed (libc6-dbg), it must be used. */
	char dbg[PATH_MAX];
	if (strlen(w.build_id) > 2) {
		snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%.2s/%s.debug", w.build_id, w.build_id + 2);
		if (access(dbg, R_OK) == 0) {
			/* Debian's libc is built with -fdebug-prefix-map: the name is
			 * "./malloc/malloc.c", relative, with a relative comp dir. */
			CHECK(strstr(r.file, "malloc.c") != NULL && strstr(r.file, "./malloc/./") == NULL &&
			      r.line > 0,
			      "libc debug info %s present but got file '%s' line %d", dbg, r.file, r.line);
		}
	}
}

static __attribute__((noinline)) void test_not_found(struct fs_symbolizer *s)
{
	struct fs_sym_result r;
	struct where w = where_is((const void *)fs_test_known_site);

	/* Offset 0 of an ELF file: opened, nothing there. */
	poison(&r);
	CHECK(fs_sym_lookup(s, w.path, 0, &r) == 0, "offset 0 should still return 0");
	CHECK(r.func[0] == '\0' && r.file[0] == '\0' && r.line == 0,
	      "offset 0: got '%s' '%s' %d", r.func, r.file, r.line);

	/* Missing module. */
	poison(&r);
	CHECK(fs_sym_lookup(s, "/nonexistent/faultstack/libnothing.so", 0x1234, &r) == -1, "missing module");
	CHECK(is_empty(&r), "missing module: out not empty");
	poison(&r);  /* twice: the failure is cached */
	CHECK(fs_sym_lookup(s, "/nonexistent/faultstack/libnothing.so", 0x1234, &r) == -1, "missing module (2)");
	CHECK(is_empty(&r), "missing module (2): out not empty");

	/* Not ELF: a text file, and a directory. */
	char tmp[] = "/tmp/fs_test_symbolize_XXXXXX";
	int fd = mkstemp(tmp);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd >= 0) {
		const char text[] = "this is not an ELF file\n";
		CHECK(write(fd, text, sizeof text - 1) == (ssize_t)sizeof text - 1, "write");
		close(fd);
		poison(&r);
		CHECK(fs_sym_lookup(s, tmp, 0, &r) == -1, "text file should return -1");
		CHECK(is_empty(&r), "text file: out not empty");
		unlink(tmp);
	}
	poison(&r);
	CHECK(fs_sym_lookup(s, "/tmp", 0, &r) == -1, "directory should return -1");
	CHECK(is_empty(&r), "directory: out not empty");

	/* Bad arguments. */
	poison(&r);
	CHECK(fs_sym_lookup(NULL, w.path, 0, &r) == -1 && is_empty(&r), "NULL symbolizer");
	poison(&r);
	CHECK(fs_sym_lookup(s, NULL, 0, &r) == -1 && is_empty(&r), "NULL path");
	CHECK(fs_sym_lookup(s, w.path, 0, NULL) == -1, "NULL out");
}

/* Lookups into a second symbolizer interleaved with the first, and the
 * results still right after the caches grew (many distinct offsets). */
static __attribute__((noinline)) void test_many_sites(struct fs_symbolizer *s)
{
	struct where fw = where_is((const void *)fs_test_known_site);
	struct where mw = where_is((const void *)(uintptr_t)strlen);  /* some libc code */
	struct fs_sym_result r;
	for (uint64_t i = 0; i < 5000; i++) {
		(void)fs_sym_lookup(s, mw.path, mw.offset + i * 16, &r);
		(void)fs_sym_lookup(s, fw.path, fw.offset + (i & 7), &r);
	}
	CHECK(fs_sym_lookup(s, fw.path, fw.offset, &r) == 0 &&
	      strcmp(r.func, "fs_test_known_site") == 0 &&
	      (!has_dwarf || r.line == KNOWN_FN_LINE || r.line == KNOWN_FN_LINE + 1),
	      "after growth: %s %s:%d", r.func, r.file, r.line);
}

int main(void)
{
	/* Stay offline: no debuginfod downloads in a unit test. */
	unsetenv("DEBUGINFOD_URLS");

	fs_sym_free(NULL);  /* must be a no-op */
	struct fs_symbolizer *s = fs_sym_new();
	if (s == NULL) {
		fprintf(stderr, "test_symbolize: fs_sym_new failed\n");
		return 1;
	}
	struct where self = where_is((const void *)main);
	has_dwarf = elf_has_section(self.path, ".debug_info") || elf_has_section(self.path, ".zdebug_info");
	if (!has_dwarf)
		printf("NOTICE: %s has no DWARF (built without -g): file:line checks skipped\n", self.path);
	main_calls_own_code_line = __LINE__; test_own_code(s);
	test_libc(s);
	test_not_found(s);
	test_many_sites(s);
	fs_sym_free(s);

	if (failures) {
		fprintf(stderr, "test_symbolize: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_symbolize: all checks passed\n");
	return 0;
}
