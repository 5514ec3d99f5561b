/* cli.h — the subcommands of the faultstack supervisor and what they share. */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct fs_plan;
struct fs_run_result;

/* Subcommands: each returns the process exit status (0, 1 findings, 2 error). */
int fs_cmd_run(int argc, char **argv);
int fs_cmd_report(int argc, char **argv);
int fs_cmd_repro(int argc, char **argv);
int fs_cmd_functions(int argc, char **argv);

/* One target execution. */
struct fs_spawn {
    const char *program;      /* resolved path */
    char **argv;
    const char *preload;      /* path of libfaultstack-preload.so */
    const char *run_dir;
    const char *plan_text;    /* canonical --fail spec for FAULTSTACK_PLAN */
    int64_t timeout_ms;       /* 0: none */
    const char *stack_sites;  /* FAULTSTACK_STACK_SITES for confirmation runs, or NULL */
};
struct fs_outcome {
    int exit_code;            /* -1 when killed by a signal */
    int signal;
    int timed_out;
    int stderr_bytes;
    int64_t duration_ms;
};

/* Start the target in its own process group and wait (timeout: SIGTERM to the
 * group, SIGKILL 2 s later). Returns 0, or -1 (message in err) when it could
 * not be started. */
int fs_spawn_and_wait(const struct fs_spawn *sp, struct fs_outcome *oc, char *err, size_t errlen);

/* Run once and record it. session_id < 0 creates a session of 'kind'.
 * Returns the exit status to use: 0, 1 (findings), 2 (tool error). */
int fs_run_once(sqlite3 *db, const char *db_path, const char *kind, int64_t session_id,
                const struct fs_plan *plan, const char *prog, char **argv,
                int64_t timeout_ms, struct fs_run_result *out);

/* Where libfaultstack-preload.so is (FAULTSTACK_PRELOAD, or ../lib next to the
 * binary). Returns 0 or -1. */
int fs_find_preload(char *out, size_t len);

/* PROGRAM as execv needs it: a path, or searched on PATH. Returns 0, or -1
 * with a message naming the program and what to do. */
int fs_resolve_program(const char *prog, char *out, size_t len, char *err, size_t errlen);

#endif
