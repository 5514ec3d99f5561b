/* verdict.h — triage of findings: suppressions, --scope, driver-gave-up, and
 * the injected fault's calling context (docs/suppressions.md).
 *
 * ingest.c records what a run showed; this module says what each finding is
 * for the person reading it: accepted by a suppression rule, outside the
 * modules being judged (--scope), a test driver that gave up after an
 * injected failure, or open. The marks live in the finding table (columns
 * suppressed, suppression, in_scope, gave_up; the findings view adds status)
 * and only open findings count toward the exit status. */
#ifndef FS_VERDICT_H
#define FS_VERDICT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "suppress.h"

struct fs_plan;
struct fs_symbolizer;

/* What the user asked for: --suppressions FILE (any number) and --scope LIST.
 * Zero-initialise; free with fs_judge_free. */
struct fs_judge {
    struct fs_supps supps;
    int nfiles;                /* --suppressions files loaded (0: keep the marks recorded) */
    char **scope;              /* --scope module patterns; nscope 0: keep the marks recorded */
    size_t nscope;
};

/* Parse one option of run, sweep or report: "--suppressions" or "--scope"
 * with its value. Returns 1 when it was one of them and is valid, 0 when
 * name is another option, -1 when the value is bad (the message, prefixed
 * with "faultstack CMD: ", is printed on stderr; exit 2). */
int fs_judge_option(struct fs_judge *J, const char *cmd, const char *name, const char *val);

void fs_judge_free(struct fs_judge *J);

/* Use J (owned by the caller, alive until the process ends or another call)
 * for the findings of every run recorded from now on (fs_verdict_run). NULL:
 * no --suppressions, no --scope. */
void fs_verdict_use(const struct fs_judge *J);

/* ingest.c's hook, inside the run's transaction, after its findings are
 * inserted: store the injected fault's callers (run.fault_callers) from the
 * run's records in run_dir ('c' lines, else the plan's caller= items) and
 * triage the findings the run shows with the judge of fs_verdict_use.
 * Returns 0, or -1 with a database error in err. */
int fs_verdict_run(sqlite3 *db, struct fs_symbolizer *sym, const char *run_dir, const struct fs_plan *plan,
                   int64_t run_id, char *err, size_t errlen);

/* Triage findings with J (NULL: none given): those run_id shows, or all of
 * the database when run_id is 0. Suppression marks change only when J has
 * suppression files, in_scope only when J has a scope; gave_up always.
 * Returns the number of findings judged, or -1 with the message in err. */
int64_t fs_verdict_apply(sqlite3 *db, const struct fs_judge *J, int64_t run_id, char *err, size_t errlen);

/* How many findings with this status ('open', 'suppressed', 'out-of-scope',
 * 'driver-gave-up') session_id's runs show (session_id 0: run_id's; both 0:
 * the whole database). category: only that category, or NULL. -1 on error. */
int64_t fs_verdict_count(sqlite3 *db, const char *status, const char *category, int64_t session_id,
                         int64_t run_id);

/* One line for the end of run/sweep: "N suppressed, N driver-gave-up, N out of
 * scope (not counted...)" or "" when all are 0. */
void fs_verdict_summary(sqlite3 *db, int64_t session_id, int64_t run_id, char *out, size_t cap);

#endif
