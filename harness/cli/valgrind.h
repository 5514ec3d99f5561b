/* valgrind.h — memcheck as an oracle beside faultstack's own verdicts
 * (`faultstack run --valgrind`, design.md "Verdicts").
 *
 * Running: fs_vg_find locates valgrind's launcher and checks its version;
 * fs_vg_argv builds the command line that runs the target under memcheck with
 * one XML file per process in the run directory (memcheck.PID.IMAGE.xml, IMAGE
 * renamed by the preload at every exec) and one text log per process image
 * and the children it forks (memcheck.IMAGE.log, lines prefixed ==PID==).
 *
 * Reading: fs_vg_read_dir parses every memcheck.*.xml of a run directory with
 * expat (leaks, invalid reads/writes/frees, uninitialised values, and the
 * FdNotClosed/FdBadClose errors of valgrind >= 3.23) and, for valgrind 3.19
 * whose --track-fds output is text only, the "Open file descriptor" blocks of
 * every memcheck.*.log. Each error is reduced to the first frame of its stack
 * in the program's own code (module + offset, as faultstack names sites, using
 * the module load addresses from the preload's record files of the same pid).
 *
 * Storing: fs_vg_store inserts the errors into the memcheck_error table
 * (reports/schema.sql). Which of them become findings is ingest.c's business
 * (fs_vg_is_finding says which kinds qualify). */
#ifndef FS_VALGRIND_H
#define FS_VALGRIND_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct fs_symbolizer;

/* Oldest valgrind accepted (tested: 3.19 of Debian 12). */
#define FS_VG_MIN_MAJOR 3
#define FS_VG_MIN_MINOR 15

/* The valgrind to run. */
struct fs_vg {
    char launcher[4096];      /* real path of the launcher binary (Debian: valgrind.bin,
                                 behind the /usr/bin/valgrind shell script) */
    char version[64];         /* "3.19.0" */
    int major, minor;
};

/* Find valgrind: $FAULTSTACK_VALGRIND, else `valgrind` on PATH; a shell-script
 * wrapper (Debian's) is replaced by the binary it execs (PATH.bin), so that no
 * shell runs with the preload. Runs `LAUNCHER --version`. Returns 0, or -1
 * with a message naming what is wrong and the Debian package to install
 * (missing, not runnable, older than FS_VG_MIN_*). */
int fs_vg_find(struct fs_vg *vg, char *err, size_t errlen);

/* argv that runs PROGRAM ARGV[1..] under memcheck writing into RUN_DIR
 * (why the files are named so: see fs_vg_argv in valgrind.c):
 * { launcher, options..., PROGRAM, ARGV[1], ..., NULL }. Also writes
 * RUN_DIR/faultstack.supp (memcheck's complaints about the preload's own
 * exit scan are suppressed). Returns a malloc'd array whose strings live in
 * the same block (one free()), or NULL when out of memory or the file could
 * not be written. */
char **fs_vg_argv(const struct fs_vg *vg, const char *run_dir, const char *program, char *const *argv);

/* Environment the launcher needs besides the preload's settings:
 * FAULTSTACK_INERT_EXE=<launcher> (the preload stays out of valgrind's own
 * launcher, which gets the target's environment on every traced exec),
 * FAULTSTACK_VG_IMAGE=0 (the report files' image name; the preload sets a new
 * one at every exec) and what Debian's wrapper script sets. Writes at most cap-1 entries into out
 * (pointing into buf, of size buflen) and a NULL; returns the count. */
int fs_vg_env(const struct fs_vg *vg, char **out, int cap, char *buf, size_t buflen);

/* One stack frame as memcheck reported it. */
struct fs_vg_frame {
    uint64_t ip;
    char obj[512];            /* "" when not given */
    char fn[256];
    char file[512];           /* dir/file when the XML gives both */
    int line;
};

/* One memcheck error (a loss record for leaks). */
struct fs_vg_error {
    int pid;
    char kind[48];            /* memcheck's <kind>: Leak_DefinitelyLost, InvalidWrite, FdNotClosed... */
    char leak_kind[16];       /* definitely | indirectly | possibly | reachable | fd | "" */
    char what[512];
    int64_t bytes, blocks;    /* leaks: the record's own blocks (memcheck's <leakedbytes> counts the
                                 blocks only they point to as well: see indirect); -1 when not given */
    int64_t indirect;         /* leaks: bytes indirectly lost through these blocks, from the
                                 "N (D direct, I indirect) bytes" of <text>; else 0 */
    int fd;                   /* fd errors; -1 otherwise */
    char path[512];           /* fd errors: the file, when known */
    char source[8];           /* "xml" | "log" */
    int inherited;            /* log: "<inherited from parent>" (not the program's doing) */
    struct fs_vg_frame *frames; /* primary stack, innermost first (malloc'd) */
    int nframes;
    char *aux;                /* auxwhat lines and auxiliary stacks as text (malloc'd), or NULL */
    /* filled by fs_vg_resolve: the first frame in the program's own code */
    int site;                 /* index into frames, or -1 */
    char module[256];         /* basename, "" when unknown */
    char module_path[512];
    int64_t offset;           /* -1 when the module's load address is unknown */
};

/* Everything memcheck said about one run. */
struct fs_vg_report {
    struct fs_vg_error *v;
    size_t n, cap;
    int xml_files;            /* memcheck.*.xml files read */
    int incomplete;           /* of them, files without the final <status>FINISHED (killed?) */
    int protocol;             /* highest <protocolversion> seen */
    char warning[512];        /* fs_vg_read_dir: the first report it could not read, or "" */
};

/* Parse one XML file (protocol 4 or 5) into rep; the pid comes from <pid>.
 * Returns 0, or -1 with a message (rep keeps what was parsed before the error). */
int fs_vg_parse_xml(const char *path, struct fs_vg_report *rep, char *err, size_t errlen);

/* Parse the "Open file descriptor N: PATH" / "Open AF_... socket N: ..." blocks
 * of one text log (valgrind < 3.23 reports --track-fds there only), as errors
 * of kind FdNotClosed, source "log". PID is taken from the "==PID==" prefix.
 * Returns the number of fd errors added, or -1 with a message. */
int fs_vg_parse_log(const char *path, struct fs_vg_report *rep, char *err, size_t errlen);

/* Read every memcheck.*.xml and memcheck.*.log of RUN_DIR into rep (zeroed
 * first), then resolve sites with fs_vg_resolve. A report that cannot be read
 * (not well-formed) does not stop the others: it counts as incomplete and the
 * first such message is kept in rep->warning. Returns the number of XML files
 * read (0: memcheck wrote nothing), or -1 with a message when the directory
 * cannot be read or memory runs out; rep is the caller's to free either way. */
int fs_vg_read_dir(const char *run_dir, struct fs_vg_report *rep, struct fs_symbolizer *sym,
                   char *err, size_t errlen);

/* Find each error's first frame in the program's own code (not valgrind's
 * preloads, libfaultstack-preload, libc or the loader) and its module+offset
 * from the "image"/"m" lines of the preload's record files in RUN_DIR (same
 * pid). Frames from the text log name no object: an address is given to the
 * record module below it only when SYM (may be NULL: then not at all) puts
 * the same function there. */
void fs_vg_resolve(struct fs_vg_report *rep, const char *run_dir, struct fs_symbolizer *sym);

/* Free what rep holds (rep itself is the caller's). */
void fs_vg_report_free(struct fs_vg_report *rep);

/* Insert rep's errors as memcheck_error rows of run_id (inside the caller's
 * transaction). Returns the rows inserted, or -1 with a message in err. */
int fs_vg_store(sqlite3 *db, int64_t run_id, const struct fs_vg_report *rep, char *err, size_t errlen);

/* 1 when an error of this kind is a memory error that becomes a finding
 * (category 'memcheck'): invalid read/write/free, mismatched free, overlap,
 * uninitialised condition/value, bad syscall parameter, FdBadClose. Leaks
 * and fds still open are compared with faultstack's own verdicts instead
 * (view memcheck_vs_faultstack) and are not findings of their own. */
int fs_vg_is_finding(const char *kind);

#endif
