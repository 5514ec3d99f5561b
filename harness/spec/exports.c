/* exports.c — does the library a spec names export its functions?
 *
 * The library is located the way a user expects (a path as given or next to
 * the spec, then the -L style directories, LD_LIBRARY_PATH, the system
 * directories, the loader cache through `ldconfig -p`), and its dynamic
 * symbol table is read with elfutils' libelf: no dlopen, so none of the
 * library's constructors run inside the CLI. */
#define _GNU_SOURCE
#include "spec.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fs_try(const char *dir, const char *name, char *out, size_t cap)
{
    if (!dir || !*dir)
        return 0;
    snprintf(out, cap, "%s/%s", dir, name);
    return access(out, R_OK) == 0;
}

static int fs_try_list(const char *list, const char *name, char *out, size_t cap)
{
    if (!list)
        return 0;
    char *copy = strdup(list), *save = NULL;
    int hit = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !hit; d = strtok_r(NULL, ":", &save))
        hit = fs_try(d, name, out, cap);
    free(copy);
    return hit;
}

static int fs_ldconfig(const char *name, char *out, size_t cap)
{
    FILE *p = popen("/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null", "r");
    if (!p)
        return 0;
    char line[1024];
    int hit = 0;
    size_t nl = strlen(name);
    while (!hit && fgets(line, sizeof line, p)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (strncmp(s, name, nl) != 0 || (s[nl] != ' ' && s[nl] != '\t'))
            continue;
        if (!strstr(s, "x86-64") && strstr(s, "libc6,"))      /* another architecture's copy */
            continue;
        char *arrow = strstr(s, "=> ");
        if (!arrow)
            continue;
        snprintf(out, cap, "%s", arrow + 3);
        out[strcspn(out, "\n")] = '\0';
        hit = access(out, R_OK) == 0;
    }
    pclose(p);
    return hit;
}

static int fs_find_library(const struct fs_spec *s, const char *libpath, char *out, size_t cap)
{
    const char *name = s->library;
    if (strchr(name, '/')) {
        if (name[0] == '/' || access(name, R_OK) == 0) {
            snprintf(out, cap, "%s", name);
            if (access(out, R_OK) == 0)
                return 1;
        }
        char dir[512];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *sl = strrchr(dir, '/');
        if (sl && name[0] != '/') {
            *sl = '\0';
            return fs_try(dir, name, out, cap);
        }
        return 0;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s", s->path);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = '\0'; else strcpy(dir, ".");
    static const char *const sys = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:"
                                   "/lib:/usr/lib:/usr/local/lib";
    return fs_try(dir, name, out, cap) || fs_try_list(libpath, name, out, cap) ||
           fs_try_list(getenv("LD_LIBRARY_PATH"), name, out, cap) || fs_try_list(sys, name, out, cap) ||
           fs_ldconfig(name, out, cap);
}

/* A linker script (libc.so is one): follow its first GROUP/INPUT shared object. */
static int fs_linker_script(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strncmp(buf, "\177ELF", 4) == 0)
        return 0;
    for (char *p = buf; (p = strchr(p, '/')); p++) {
        size_t l = strcspn(p, " \t\n)");
        if (l < cap && strstr(p, ".so") && strstr(p, ".so") < p + l) {
            memcpy(out, p, l);
            out[l] = '\0';
            return access(out, R_OK) == 0;
        }
    }
    return 0;
}

int fs_spec_check_exports(const struct fs_spec *s, const char *libpath, char *found, size_t foundlen,
                          char *errbuf, size_t errlen)
{
    char path[1024], real[1024];
    if (!fs_find_library(s, libpath, path, sizeof path)) {
        snprintf(errbuf, errlen, "%s: library %s not found (looked next to the spec, in --library-path, "
                 "LD_LIBRARY_PATH, the system directories and ldconfig's cache): build it first or give "
                 "its path in the `library` line", s->path, s->library);
        return -1;
    }
    if (fs_linker_script(path, real, sizeof real))
        snprintf(path, sizeof path, "%s", real);
    if (found)
        snprintf(found, foundlen, "%s", path);
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    if (!e || elf_kind(e) != ELF_K_ELF) {
        snprintf(errbuf, errlen, "%s: %s is not an ELF shared library", s->path, path);
        if (e) elf_end(e);
        if (fd >= 0) close(fd);
        return -1;
    }
    unsigned char *have = calloc((size_t)s->nfuncs, 1);
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
                continue;
            int t = GELF_ST_TYPE(sym.st_info);
            if (t != STT_FUNC && t != STT_GNU_IFUNC)
                continue;
            const char *nm = elf_strptr(e, sh.sh_link, sym.st_name);
            for (int k = 0; nm && k < s->nfuncs; k++)
                if (!have[k] && strcmp(nm, s->funcs[k].name) == 0)
                    have[k] = 1;
        }
    }
    int rc = 0;
    for (int k = 0; k < s->nfuncs; k++)
        if (!have[k]) {
            snprintf(errbuf, errlen, "%s:%d:%d: expected a function that %s exports: %s is not in its "
                     "dynamic symbol table (%s)", s->path, s->funcs[k].line, s->funcs[k].col, s->library,
                     s->funcs[k].name, path);
            rc = -1;
            break;
        }
    free(have);
    elf_end(e);
    close(fd);
    return rc;
}
