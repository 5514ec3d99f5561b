/* cli.h — the subcommands of the faultstack supervisor and what they share. */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <signal.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_plan;
struct fs_run_result;

/* Subcommands: each returns the process exit status (0, 1 findings, 2 error). */
int fs_cmd_run(int argc, char **argv);
int fs_cmd_report(int argc, char **argv);
int fs_cmd_repro(int argc, char **argv);
int fs_cmd_functions(int argc, char **argv);
int fs_cmd_sweep(int argc, char **argv);      /* sweep.c */
int fs_cmd_merge(int argc, char **argv);      /* merge.c */
int fs_cmd_protocol(int argc, char **argv);   /* protocol.c */

/* protocol.c — --protocol SPEC: parse the spec, check the library exports its
 * functions, build (or take from the cache) its protocol library. Returns 0,
 * or -1 with "FILE:LINE:COL: expected ..." or what went wrong in err. */
int fs_protocol_load(const char *spec_path, char *err, size_t errlen);
int fs_protocol_count(void);
const char *fs_protocol_spec(int i);           /* the i-th spec's absolute path */
/* Append ":LIB" for every loaded protocol library (after the preload). */
void fs_protocol_append_preload(char *preload, size_t len);
/* A protocol function: 1 a fault point, 0 tracked only, -1 not a protocol's. */
int fs_protocol_func(const char *name);
void fs_protocol_print_functions(void);

/* fs_shell_split, fs_shell_free and the quoting: shell.h */
#include "shell.h"

/* One target execution. */
struct fs_spawn {
    const char *program;      /* resolved path */
    char **argv;
    const char *preload;      /* path of libfaultstack-preload.so */
    const char *run_dir;
    const char *plan_text;    /* canonical --fail spec for FAULTSTACK_PLAN */
    int64_t timeout_ms;       /* 0: none */
    const char *stack_sites;  /* FAULTSTACK_STACK_SITES for confirmation runs, or NULL */
    int quiet;                /* 1: stdin and stdout /dev/null, stderr counted, not shown;
                                 2: the same but stderr shown (a sweep's baseline) */
    char *const *extra_env;   /* more NAME=VALUE settings, or NULL */
    int fork_pid_env;         /* set FAULTSTACK_FORK_PID to the target's pid (fork mode) */
    const char *stdin_path;   /* the target's stdin (NULL: /dev/null in quiet runs, else inherited) */
};
struct fs_outcome {
    int exit_code;            /* -1 when killed by a signal */
    int signal;
    int timed_out;
    int64_t stderr_bytes;     /* bytes the target wrote to stderr (int64: a target may write more than 4 GiB) */
    int64_t duration_ms;
    pid_t pid;                /* the target's pid (its first process) */
    int interrupted;          /* killed because faultstack got SIGINT/SIGTERM/SIGHUP: not a
                                 result of the program, never recorded */
};

/* Start the target in its own process group and wait (timeout: SIGTERM to the
 * group, SIGKILL 2 s later). Returns 0, or -1 (message in err) when it could
 * not be started. Safe to call from several threads at once. */
int fs_spawn_and_wait(const struct fs_spawn *sp, struct fs_outcome *oc, char *err, size_t errlen);

/* The same in two steps, for callers with their own wait loop (fork mode).
 * fs_spawn_start returns the pid (>0) and the read end of the target's stderr
 * pipe in *errfd, or -1 with a message. fs_spawn_drain reads what is there
 * (non-blocking) and returns 0 at end of file, 1 otherwise. */
pid_t fs_spawn_start(const struct fs_spawn *sp, int *errfd, char *err, size_t errlen);
int fs_spawn_drain(const struct fs_spawn *sp, int errfd, struct fs_outcome *oc);
int64_t fs_now_ms(void);
/* Exit code and signal of a waitpid status into *oc. */
void fs_outcome_status(struct fs_outcome *oc, int status);

/* tree.c — the target's whole process tree ends with faultstack.
 * fs_stop_install: SIGINT, SIGTERM and SIGHUP set fs_interrupted (the first
 * signal's number) and count in fs_stop_count; every wait kills what it runs
 * (SIGTERM to the process group, SIGKILL 1 s later; at once on a second
 * signal); faultstack becomes the children's subreaper. fs_stop_fd is
 * readable once a stop signal came (poll it beside your own fds). */
extern volatile sig_atomic_t fs_interrupted, fs_stop_count;
void fs_stop_install(void);
/* `faultstack __watchdog PID BASE PREFIX` (started by fs_stop_install, pipe
 * on fd 3): once PID is gone, end its run directories. Returns 0. */
int fs_watchdog_main(int argc, char **argv);
int fs_stop_fd(void);
/* Start time of pid (clock ticks since boot), its state letter and parent;
 * 0 when it does not exist. */
unsigned long long fs_proc_start(pid_t pid, char *state, pid_t *ppid);
/* Targets waited for by pid: the lock is held across fork (fs_spawn_start)
 * so that no orphan reaping takes another thread's target. */
void fs_targets_lock(void);
void fs_targets_unlock(void);
void fs_target_add(pid_t pid);               /* caller holds the lock */
void fs_target_done(pid_t pid);
/* After the target ended: wait for the processes of its run directory dir
 * still running (orphans reparented to us: a daemon's double fork) until they
 * end; at deadline_ms (0: none) or on a stop signal they are killed (*timed_out
 * set on the deadline). Returns 1 when there were any. fs_kill_orphans kills
 * them at once (dir NULL: every orphan). */
int fs_wait_orphans(const char *dir, int64_t deadline_ms, int *timed_out);
/* Could the run in dir (first process pgid, ended) have left processes behind?
 * Some process of it forked (RUN_DIR/forked, written by the preload), its
 * process group still has members, or it has more than one record. Cheap: a
 * run that says no needs no scan of /proc. */
int fs_may_have_orphans(const char *dir, pid_t pgid);
void fs_kill_orphans(const char *dir);
/* Remove the run directories in base (and skip files) left by a faultstack
 * that is gone, killing what still runs in them. */
void fs_clean_stale(const char *base);
/* Where run directories go ($FAULTSTACK_TMPDIR, /dev/shm, $TMPDIR, /tmp). */
const char *fs_run_base(void);

/* Were the run's records in dir lost to a full filesystem (its shared page
 * not allocated, or a record without its 'done' line when killed is 0, and
 * less than 1 MiB free)? Returns 1 with the reason and what to do in why. */
int fs_run_dir_full(const char *dir, int killed, char *why, size_t len);

/* Move run directory dir (its records could not be recorded: kept for the
 * user) where no cleanup removes it; dir (PATH_MAX) gets the new path. */
void fs_keep_run_dir(char *dir);

/* Make a private run directory under $TMPDIR (or /tmp) into out (PATH_MAX).
 * Returns 0 or -1 with a message. fs_rm_rf removes it with what it holds. */
int fs_mk_run_dir(char *out, char *err, size_t errlen);
void fs_rm_rf(const char *dir);

/* Run once and record it. session_id < 0 creates a session of 'kind'.
 * Returns the exit status to use: 0, 1 (findings), 2 (tool error). */
int fs_run_once(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                const struct fs_plan *plan, const char *prog, char **argv,
                int64_t timeout_ms, const char *stdin_path, struct fs_run_result *out);

/* The same, under memcheck when vg is not NULL (fs_vg_find found it; see
 * valgrind.h): memcheck's report is stored with the run and its memory errors
 * become findings. The confirmation run (leak stacks) runs without valgrind.
 * vg is only read (the caller's). Same exit statuses as fs_run_once; on a
 * tool error (2) nothing of this run is in the database and the message is on
 * stderr. */
struct fs_vg;
int fs_run_once_vg(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                   const struct fs_plan *plan, const char *prog, char **argv,
                   int64_t timeout_ms, const char *stdin_path, const struct fs_vg *vg,
                   struct fs_run_result *out);

/* Leaks in run_id: run the target again (tmpl, quietly, in a fresh run
 * directory) capturing the acquire stacks of just the leaking sites, and store
 * them in resource.stack. Returns the leaks updated, 0 when none leaked, -1 on
 * error. verbose: say what happened on stderr. */
int fs_confirm_stacks(sqlite3 *db, int64_t run_id, const struct fs_spawn *tmpl, int verbose);

/* Remember the fds faultstack was started with (call first thing in main):
 * every other fd of faultstack is kept from the targets it starts. */
void fs_note_inherited_fds(void);

/* paths.c — where faultstack's own files are, found from the binary's own path
 * (/proc/self/exe), never from a build-time absolute path, so that an installed
 * tree works wherever it was installed (FS_PRELOAD_RELDIR and FS_DATA_RELDIR are
 * the install layout's bindir-relative paths, set by harness/CMakeLists.txt).
 *
 * Where libfaultstack-preload.so is: $FAULTSTACK_PRELOAD, else next to the
 * binary: FS_PRELOAD_RELDIR (installed: ../lib/faultstack), ../lib (a build
 * tree). Writes the absolute path to out. Returns 0, or -1 when none is readable. */
#ifndef FS_PRELOAD_RELDIR
#define FS_PRELOAD_RELDIR "../lib/faultstack"
#endif
#ifndef FS_DATA_RELDIR
#define FS_DATA_RELDIR "../share/faultstack"
#endif
int fs_find_preload(char *out, size_t len);

/* The directory holding schema.sql and queries/ (installed: ${datadir}/faultstack;
 * a build tree has a copy at the same place relative to bin/). Absolute when it
 * exists; else the path where it should be. Never NULL (a static buffer). */
const char *fs_data_dir(void);

/* PROGRAM as execv needs it: a path, or searched on PATH. Returns 0, or -1
 * with a message naming the program and what to do. */
int fs_resolve_program(const char *prog, char *out, size_t len, char *err, size_t errlen);

/* guard.c — what keeps "0 findings, exit 0" honest. */
#define FS_TIMEOUT_MIN_S 0.001
#define FS_TIMEOUT_MAX_S 604800.0       /* 7 days */
/* --timeout VAL in seconds -> *ms. Returns 0, or -1 with a message naming the
 * value and the accepted range (nan, inf, 1e300, 0, 1e-9 are refused). */
int fs_parse_timeout(const char *val, int64_t *ms, char *err, size_t errlen);
/* The names in only= and site= are wrapped functions that are fault points.
 * Returns 0, or -1 with a message naming the bad name (and a near one). */
int fs_plan_check_funcs(const struct fs_plan *p, char *err, size_t errlen);
/* Can the preload enter PROGRAM (path)? Returns 1 yes, 0 no (why: the reason
 * and what to do), -1 cannot tell (not readable, not ELF: the run will show). */
int fs_interposable(const char *path, char *why, size_t len);
/* After run_id is recorded: did its first process (first_pid, running prog)
 * and every program exec'd in it write a record? Missing images are stored as
 * process rows with end_how 'not-interposed'; with none at all the run's
 * points_total becomes NULL. why: fs_interposable's reason, or NULL.
 * Returns 0 all observed, 1 some process not, 2 nothing observed (msg says
 * which and why), -1 on a database error. */
/* The 'why' of fs_check_observed for a run whose record is in another
 * format (fs_run_result.version_bad): a preload of another faultstack. */
void fs_version_why(int version, char *why, size_t len);
int fs_check_observed(sqlite3 *db, int64_t run_id, pid_t first_pid, const char *prog, const char *why,
                      char *msg, size_t msglen);

#endif
