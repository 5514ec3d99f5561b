/*
 * symbolize.c — (module path, offset) -> function, file, line, with libdwfl.
 *
 * Each module path gets its own offline Dwfl session holding exactly one
 * module, reported with dwfl_report_elf(base 0, add_p_vaddr true) so that
 * the module's addresses are the ELF file's own vaddrs (bias 0) for PIE,
 * shared libraries and non-PIE executables alike: the offset recorded by the
 * preload is then looked up as is.  Sessions live in a small hash table keyed
 * by path; answers live in a second table keyed by (module, offset), because
 * libdwfl's symbol search is linear in the size of the symbol table and the
 * same call sites come back in every run of a sweep.
 *
 * elfutils 0.188 finds the compilation unit of an address only through
 * .debug_aranges, which clang does not emit (nor rustc): dwfl_module_getsrc()
 * then answers nothing for clang-built code.  When it answers nothing we fall
 * back to our own index of every CU's address ranges (DW_AT_ranges/low_pc/
 * high_pc), built once per module on first need, and dwarf_getsrc_die().
 *
 * Descriptors: we open the main ELF file with O_CLOEXEC and hand it to
 * libdwfl, which closes it at dwfl_end().  Separate debug files are opened
 * by dwfl_standard_find_debuginfo without O_CLOEXEC (elfutils 0.188), so our
 * find_debuginfo callback wraps it and sets FD_CLOEXEC on what it returns:
 * targets spawned by the supervisor must not inherit them.
 */
#define _GNU_SOURCE
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One address range of one CU, in the DWARF file's addresses. */
struct fs_sym_range {
	uint64_t lo, hi;   /* [lo, hi) */
	Dwarf_Off cu;      /* offset of the CU DIE */
};

/* One module path: its libdwfl session, or the memory that it failed. */
struct fs_sym_module {
	char *path;
	Dwfl *dwfl;        /* NULL if the module could not be opened */
	Dwfl_Module *mod;
	bool ranges_built; /* fallback CU index, see top of file */
	struct fs_sym_range *ranges;
	size_t nranges;
};

/* One cached answer.  mod == 0 marks an empty slot, else module index + 1. */
struct fs_sym_entry {
	uint32_t mod;
	int line;
	uint64_t offset;
	char *func;        /* NULL for "" */
	char *file;        /* NULL for "" */
};

struct fs_symbolizer {
	struct fs_sym_module *mods;  /* in order of first use */
	uint32_t nmods, capmods;
	uint32_t *modslots;          /* open addressing: module index + 1, 0 = empty */
	uint32_t nmodslots;          /* power of two */
	struct fs_sym_entry *ents;   /* open addressing */
	uint32_t nents, capents;     /* capents: power of two */
};

/* dwfl_standard_find_debuginfo, with the descriptor made close-on-exec. */
static int fs_sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                 GElf_Addr base, const char *file_name,
                                 const char *debuglink_file, GElf_Word debuglink_crc,
                                 char **debuginfo_file_name)
{
	int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
	                                      debuglink_file, debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static const Dwfl_Callbacks fs_sym_callbacks = {
	.find_elf = dwfl_build_id_find_elf,   /* unused: we hand dwfl_report_elf an fd */
	.find_debuginfo = fs_sym_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = NULL,      /* default ":.debug:/usr/lib/debug" */
};

static uint64_t fs_sym_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t fs_sym_hash_site(uint32_t mod, uint64_t offset)
{
	uint64_t h = offset * 0x9e3779b97f4a7c15ull ^ (uint64_t)mod * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

/* Copy SRC (NULL = "") into DST of size N, truncating. */
static void fs_sym_copy(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

static char *fs_sym_strdup_or_null(const char *s, bool *oom)
{
	if (s == NULL || *s == '\0')
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

struct fs_symbolizer *fs_sym_new(void)
{
	struct fs_symbolizer *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->nmodslots = 16;
	s->modslots = calloc(s->nmodslots, sizeof *s->modslots);
	s->capents = 256;
	s->ents = calloc(s->capents, sizeof *s->ents);
	if (s->modslots == NULL || s->ents == NULL) {
		fs_sym_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void fs_sym_free(struct fs_symbolizer *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].dwfl != NULL)
			dwfl_end(s->mods[i].dwfl);
		free(s->mods[i].path);
		free(s->mods[i].ranges);
	}
	if (s->ents != NULL) {
		for (uint32_t i = 0; i < s->capents; i++) {
			free(s->ents[i].func);
			free(s->ents[i].file);
		}
	}
	free(s->mods);
	free(s->modslots);
	free(s->ents);
	free(s);
}

/* Open PATH as a one-module offline Dwfl.  Fills M->dwfl/mod, or leaves
 * them NULL if the file is missing or not ELF. */
static void fs_sym_open_module(struct fs_sym_module *m)
{
	Dwfl *dwfl = NULL;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	dwfl = dwfl_begin(&fs_sym_callbacks);
	if (dwfl == NULL)
		goto out;
	dwfl_report_begin(dwfl);
	/* base 0 + add_p_vaddr: module addresses are the file's vaddrs (bias 0). */
	Dwfl_Module *mod = dwfl_report_elf(dwfl, m->path, m->path, fd, 0, true);
	if (mod == NULL)
		goto out;           /* fd not consumed on failure */
	fd = -1;                    /* consumed: closed by dwfl_end() */
	if (dwfl_report_end(dwfl, NULL, NULL) != 0)
		goto out;
	m->dwfl = dwfl;
	m->mod = mod;
	dwfl = NULL;
out:
	if (dwfl != NULL)
		dwfl_end(dwfl);
	if (fd >= 0)
		close(fd);
}

static int fs_sym_grow_modslots(struct fs_symbolizer *s)
{
	uint32_t n = s->nmodslots * 2;
	uint32_t *slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return -1;
	for (uint32_t i = 0; i < s->nmods; i++) {
		uint32_t j = (uint32_t)fs_sym_hash_str(s->mods[i].path) & (n - 1);
		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(s->modslots);
	s->modslots = slots;
	s->nmodslots = n;
	return 0;
}

/* Find or open the module for PATH.  Returns its index, or -1 on ENOMEM. */
static int64_t fs_sym_module_index(struct fs_symbolizer *s, const char *path)
{
	uint32_t mask = s->nmodslots - 1;
	uint32_t j = (uint32_t)fs_sym_hash_str(path) & mask;
	for (; s->modslots[j] != 0; j = (j + 1) & mask) {
		if (strcmp(s->mods[s->modslots[j] - 1].path, path) == 0)
			return s->modslots[j] - 1;
	}
	if ((s->nmods + 1) * 2 > s->nmodslots) {
		if (fs_sym_grow_modslots(s) != 0)
			return -1;
		mask = s->nmodslots - 1;
		j = (uint32_t)fs_sym_hash_str(path) & mask;
		while (s->modslots[j] != 0)
			j = (j + 1) & mask;
	}
	if (s->nmods == s->capmods) {
		uint32_t cap = s->capmods ? s->capmods * 2 : 8;
		struct fs_sym_module *mods = realloc(s->mods, cap * sizeof *mods);
		if (mods == NULL)
			return -1;
		s->mods = mods;
		s->capmods = cap;
	}
	struct fs_sym_module *m = &s->mods[s->nmods];
	memset(m, 0, sizeof *m);
	m->path = strdup(path);
	if (m->path == NULL)
		return -1;
	fs_sym_open_module(m);
	s->modslots[j] = ++s->nmods;
	return s->nmods - 1;
}

static struct fs_sym_entry *fs_sym_find_entry(struct fs_symbolizer *s, uint32_t key, uint64_t offset)
{
	uint32_t mask = s->capents - 1;
	uint32_t j = (uint32_t)fs_sym_hash_site(key, offset) & mask;
	for (; s->ents[j].mod != 0; j = (j + 1) & mask) {
		if (s->ents[j].mod == key && s->ents[j].offset == offset)
			return &s->ents[j];
	}
	return &s->ents[j];  /* empty slot where it would go */
}

static int fs_sym_grow_entries(struct fs_symbolizer *s)
{
	uint32_t n = s->capents * 2;
	struct fs_sym_entry *ents = calloc(n, sizeof *ents);
	if (ents == NULL)
		return -1;
	for (uint32_t i = 0; i < s->capents; i++) {
		if (s->ents[i].mod == 0)
			continue;
		uint32_t j = (uint32_t)fs_sym_hash_site(s->ents[i].mod, s->ents[i].offset) & (n - 1);
		while (ents[j].mod != 0)
			j = (j + 1) & (n - 1);
		ents[j] = s->ents[i];
	}
	free(s->ents);
	s->ents = ents;
	s->capents = n;
	return 0;
}

static int fs_sym_range_cmp(const void *a, const void *b)
{
	const struct fs_sym_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Build M's CU range index.  On ENOMEM the index stays empty (no fallback). */
static void fs_sym_build_ranges(struct fs_sym_module *m, Dwarf *dw)
{
	size_t cap = 0;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	m->ranges_built = true;
	while (dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0) {
		if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
			continue;
		Dwarf_Addr base, lo, hi;
		for (ptrdiff_t off = 0; (off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0;) {
			if (hi <= lo)
				continue;
			if (m->nranges == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct fs_sym_range *r = realloc(m->ranges, ncap * sizeof *r);
				if (r == NULL) {
					free(m->ranges);
					m->ranges = NULL;
					m->nranges = 0;
					return;
				}
				m->ranges = r;
				cap = ncap;
			}
			m->ranges[m->nranges++] = (struct fs_sym_range){ lo, hi, dwarf_dieoffset(&cudie) };
		}
	}
	qsort(m->ranges, m->nranges, sizeof *m->ranges, fs_sym_range_cmp);
}

/* Fallback: line for ADDR (module address) through our CU index.
 * Returns the file name or NULL; sets *LINENO and *COMP_DIR. */
static const char *fs_sym_fallback_line(struct fs_sym_module *m, uint64_t addr,
                                        int *lineno, const char **comp_dir)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(m->mod, &bias);
	if (dw == NULL)
		return NULL;
	if (!m->ranges_built)
		fs_sym_build_ranges(m, dw);
	uint64_t a = addr - bias;
	size_t lo = 0, hi = m->nranges;          /* last range with r.lo <= a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->ranges[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges of different CUs do not overlap in sane DWARF; look back a
	 * little in case they do (e.g. a CU spanning others). */
	for (size_t i = lo, n = 0; i-- > 0 && n < 8; n++) {
		const struct fs_sym_range *r = &m->ranges[i];
		Dwarf_Die cudie;
		if (a >= r->hi || dwarf_offdie(dw, r->cu, &cudie) == NULL)
			continue;
		Dwarf_Line *line = dwarf_getsrc_die(&cudie, a);
		if (line == NULL)
			continue;
		Dwarf_Attribute attr;
		*comp_dir = dwarf_formstring(dwarf_attr(&cudie, DW_AT_comp_dir, &attr));
		if (dwarf_lineno(line, lineno) != 0)
			*lineno = 0;
		return dwarf_linesrc(line, NULL, NULL);
	}
	return NULL;
}

/* Ask libdwfl about ADDR in M; fill OUT (already cleared). */
static void fs_sym_resolve(struct fs_sym_module *m, uint64_t addr, struct fs_sym_result *out)
{
	GElf_Off symoff;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(m->mod, addr, &symoff, &sym, NULL, NULL, NULL);
	fs_sym_copy(out->func, sizeof out->func, name);

	int lineno = 0;
	const char *file = NULL, *dir = NULL;
	Dwfl_Line *line = dwfl_module_getsrc(m->mod, addr);
	if (line != NULL) {
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		dir = dwfl_line_comp_dir(line);
	} else {
		file = fs_sym_fallback_line(m, addr, &lineno, &dir);
	}
	if (file == NULL || *file == '\0')
		return;
	out->line = lineno > 0 ? lineno : 0;
	/* libdw has already joined the line table's directory entry; a name
	 * still relative is relative to the compilation directory.  When that
	 * is relative too (-fdebug-prefix-map=/build/x=., as Debian's libc:
	 * comp dir "./malloc", file "./malloc/malloc.c") joining would only
	 * repeat it, so the name is kept as DWARF gives it. */
	if (file[0] != '/' && dir != NULL && dir[0] == '/') {
		size_t dl = strlen(dir);
		bool slash = dir[dl - 1] == '/';
		int n = snprintf(out->file, sizeof out->file, "%s%s%s", dir, slash ? "" : "/", file);
		if (n < 0)
			out->file[0] = '\0';
	} else {
		fs_sym_copy(out->file, sizeof out->file, file);
	}
}

int fs_sym_lookup(struct fs_symbolizer *s, const char *module_path, uint64_t offset,
                  struct fs_sym_result *out)
{
	if (out != NULL) {
		out->func[0] = '\0';
		out->file[0] = '\0';
		out->line = 0;
	}
	if (s == NULL || module_path == NULL || out == NULL)
		return -1;

	int64_t idx = fs_sym_module_index(s, module_path);
	if (idx < 0 || s->mods[idx].dwfl == NULL)
		return -1;

	uint32_t key = (uint32_t)idx + 1;
	struct fs_sym_entry *e = fs_sym_find_entry(s, key, offset);
	if (e->mod != 0) {
		fs_sym_copy(out->func, sizeof out->func, e->func);
		fs_sym_copy(out->file, sizeof out->file, e->file);
		out->line = e->line;
		return 0;
	}

	fs_sym_resolve(&s->mods[idx], offset, out);

	/* Cache the answer; if memory runs short we still answer, uncached. */
	if ((s->nents + 1) * 4 > s->capents * 3) {
		if (fs_sym_grow_entries(s) != 0)
			return 0;
		e = fs_sym_find_entry(s, key, offset);
	}
	bool oom = false;
	char *func = fs_sym_strdup_or_null(out->func, &oom);
	char *file = fs_sym_strdup_or_null(out->file, &oom);
	if (oom) {
		free(func);
		free(file);
		return 0;
	}
	e->mod = key;
	e->offset = offset;
	e->line = out->line;
	e->func = func;
	e->file = file;
	s->nents++;
	return 0;
}
