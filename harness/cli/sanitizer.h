/* sanitizer.h — programs built with a sanitizer (-fsanitize=address,
 * undefined, thread): start them under the preload, and read their reports.
 * See sanitizer.c. */
#ifndef FS_SANITIZER_H
#define FS_SANITIZER_H

#include <stddef.h>
#include <stdint.h>

/* Which sanitizer runtimes a program (an ELF file) carries. */
#define FS_SAN_ASAN_DSO     0x01   /* DT_NEEDED libasan.so.N / libclang_rt.asan-*.so (gcc; clang -shared-libasan) */
#define FS_SAN_ASAN_STATIC  0x02   /* __asan_init defined in the program itself (clang's default) */
#define FS_SAN_UBSAN        0x04   /* libubsan / UBSan runtime linked in */
#define FS_SAN_TSAN         0x08   /* libtsan / TSan runtime linked in */
#define FS_SAN_ASAN_ENTRIES 0x10   /* the program defines malloc, calloc, realloc, free, memalign,
                                      cfree and reallocarray: with FS_SAN_ASAN_STATIC, the preload
                                      can redirect them (harness/preload/sanpatch.c) */

/* The FS_SAN_* flags of the ELF file at path; 0 for none, or for a file that
 * is not a readable ELF (scripts, ...). */
unsigned fs_sanitizer_detect(const char *path);

/* Warn on stderr (once per program path and process) when a sanitizer build
 * cannot be fully observed: an ASan runtime linked into the program (clang's
 * default) whose malloc family the preload cannot redirect (sanpatch.c needs
 * the entry points of FS_SAN_ASAN_ENTRIES). */
void fs_sanitizer_warn(const char *prog);

/* --valgrind with a sanitizer build: memcheck cannot run an ASan, TSan or
 * MSan program (both replace the allocator; the runtime reserves the shadow
 * address space memcheck needs). Returns 0, or -1 with a message saying so
 * and what to do. */
int fs_sanitizer_no_valgrind(const char *prog, char *err, size_t errlen);

/* The sanitizer settings of a target's environment, every target (a script
 * may start a sanitizer build): NAME=VALUE strings written one after another
 * (NUL-terminated each) into buf (cap bytes), their start pointers appended to
 * env[*k...] (*k advanced). The user's own ASAN_OPTIONS / UBSAN_OPTIONS /
 * TSAN_OPTIONS are kept inside ours (theirs after our defaults, before what
 * faultstack needs). fs_sanitizer_env_size: bytes needed. Returns 0, or -1
 * when cap is too small (nothing added). fs_sanitizer_env_name: 1 when an
 * environ entry is one of the variables these replace. */
size_t fs_sanitizer_env_size(const char *run_dir);
int fs_sanitizer_env(const char *run_dir, char *buf, size_t cap, char **env, size_t *k);
int fs_sanitizer_env_name(const char *entry);

/* After a run: one line per sanitizer report on stderr (the runtime wrote it
 * into the run directory, not on the program's stderr): its kind, where, and
 * the query that prints it. */
struct sqlite3;
void fs_sanitizer_summary(struct sqlite3 *db, int64_t run_id, const char *db_path);

/* One sanitizer report, read from the run directory (log_path). */
struct fs_san_report {
    int pid;
    char tool[16];             /* asan | lsan | ubsan | tsan | msan | hwasan | san */
    char kind[96];             /* 'asan:heap-use-after-free' */
    char headline[512];        /* its first line, without the ==PID== prefix */
    char module_path[512];     /* first frame in the program's own code, or "" */
    uint64_t offset;
    char func[128];            /* that frame's function as the report names it */
    char *text;                /* the whole report (malloc'ed) */
};

/* Read the reports of the processes pids[0..npids) of a run whose record
 * files are in run_dir (a fork-mode child's directory RUN/fN: its reports are
 * in RUN, where the trunk's log_path points). Returns how many (*out:
 * malloc'ed array, free with fs_sanitizer_free), 0 when none, -1 on error. */
int fs_sanitizer_reports(const char *run_dir, const int *pids, size_t npids, struct fs_san_report **out);
void fs_sanitizer_free(struct fs_san_report *r, int n);

/* The report text with its unsymbolized frames ('#0 0x.. (MODULE+0xOFF)')
 * named: 'in FUNC FILE:LINE'. Returns a malloc'ed copy, or NULL (no memory). */
struct fs_symbolizer;
char *fs_sanitizer_symbolize(const char *text, struct fs_symbolizer *sym);

#endif
