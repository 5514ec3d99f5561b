/* ingest.h — reading the record files of one run into the database.
 *
 * The preload writes one record file per process image into the run directory
 * (format: harness/preload/record.c). fs_ingest_run parses them all, symbolizes
 * every site, applies the verdict and attribution rules of design.md, and
 * inserts the run, its processes, fault points, resources, anomalies, crashes
 * and findings in one transaction: a run is recorded whole or not at all. */
#ifndef FS_INGEST_H
#define FS_INGEST_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct fs_plan;
struct fs_symbolizer;
struct fs_vg;

/* What the supervisor knows about the run besides the record files. */
struct fs_run_info {
    int64_t session_id;
    const char *run_dir;        /* where the record files are */
    const char *db_path;        /* for repro commands */
    char *const *argv;          /* the target command */
    const struct fs_plan *plan; /* NULL or FS_PLAN_NONE: baseline */
    const char *fault_spec;     /* canonical spec text, NULL for a baseline */
    const char *mode;           /* "exec" | "fork" */
    const char *sweep_key;      /* sweep runs: the point swept (run.sweep_key), else NULL */
    int64_t confirms;           /* exec replay of this fork-mode run id, else 0 */
    int defer_findings;         /* fork-mode run: findings caused by the fault are not
                                   recorded (an exec replay confirms them); counted in
                                   res->fault_findings */
    struct fs_symbolizer *sym;  /* reused across runs when not NULL (else one per call) */
    int exit_code;              /* -1 when killed by a signal */
    int signal;                 /* 0 when it exited */
    int timed_out;
    int64_t stderr_bytes;       /* bytes the target wrote to stderr (swallowed check) */
    int64_t duration_ms;
    int64_t timeout_ms;         /* the run's --timeout (kept in repro commands), 0: unknown */
    const char *stdin_path;     /* the run's --stdin FILE (kept in repro commands), or NULL */
    const struct fs_vg *valgrind; /* run under memcheck (--valgrind): read its memcheck.*.xml
                                     and .log files from run_dir too (valgrind.h); else NULL */
    /* A sweep's fault run (sweep_key set) stores its fault and the points after
     * it, not the baseline's prefix before it; of the points after it, those
     * for which keep_point says 0 (a site the baseline reached, when error-path
     * discovery needs only new sites) are not stored either. NULL: keep them. */
    int (*keep_point)(void *arg, const char *func, const char *module, uint64_t offset);
    void *keep_arg;
};

/* What fs_ingest_run found, for the summary and the exit status. */
struct fs_run_result {
    int64_t run_id;
    int64_t points_total;
    int64_t injected;
    int leaks, anomalies, crashes, timeouts;
    int held;                   /* resources held at exit: not findings */
    int findings;               /* rows of findings this run belongs to */
    int processes;
    int incomplete;             /* record files without their 'done' line, or with lines not read */
    int64_t unread;             /* record lines too long to read: run.observed = 2, never clean */
    int version_bad;            /* a record in another format (this number; 0: none): a preload
                                   of another faultstack version wrote it, it was not read */
    int swallowed;
    int fault_findings;         /* leaks/anomalies attributed to the fault, crashes, timeout;
                                   with defer_findings: those not recorded yet */
    char *deferred_keys;        /* defer_findings: their finding keys, one per line (malloc'ed,
                                   the caller frees it), or NULL */
    int64_t inj_ordinal;        /* ordinal of the first injected point (0: none) */
    int memcheck_files;         /* --valgrind: memcheck XML files read (-1: not under memcheck) */
    int memcheck_errors;        /* --valgrind: memory errors in the program (findings 'memcheck') */
    int memcheck_lost;          /* --valgrind: loss records memcheck calls definitely/indirectly lost */
    int memcheck_fds;           /* --valgrind: fds memcheck saw open at exit (not inherited) */
    int db_error;               /* fs_ingest_run failed writing the database: the SQLite
                                   result code (SQLITE_FULL, SQLITE_IOERR...), else 0 */
};

/* Ingest the run. Returns 0, or -1 with a message in err (nothing written:
 * the transaction is rolled back, the record files are left in place). */
/* Link run_id to the finding with this key, if it exists. Returns 1 when it
 * does, 0 when not, -1 on a database error. */
int fs_link_finding(sqlite3 *db, const char *key, int64_t run_id);
int fs_ingest_run(sqlite3 *db, const struct fs_run_info *info, struct fs_run_result *res,
                  char *err, size_t errlen);

/* fs_shell_quote, fs_shell_join: shell.h */
#include "shell.h"

/* Confirmation runs. fs_leak_sites writes the distinct leak sites of a run as
 * FAULTSTACK_STACK_SITES wants them ("base+0xOFF;...") and returns how many.
 * fs_ingest_stacks reads the confirmation run's records in run_dir and fills
 * resource.stack of the matching leaks of run_id; returns rows updated or -1. */
int fs_leak_sites(sqlite3 *db, int64_t run_id, char *out, size_t cap);
int fs_ingest_stacks(sqlite3 *db, int64_t run_id, const char *run_dir, char *err, size_t errlen);

/* Create a session row; returns its id or -1 (message in err). */
int64_t fs_session_new(sqlite3 *db, const char *kind, char *const *argv, char *err, size_t errlen);

#endif
