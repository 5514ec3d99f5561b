/* report_suppressions.h — `faultstack report --format suppressions`: the
 * findings of a database written as a suppressions file (docs/suppressions.md)
 * that accepts them, so that a project can adopt faultstack with today's
 * findings as a baseline and fail only on new ones. */
#ifndef FS_REPORT_SUPPRESSIONS_H
#define FS_REPORT_SUPPRESSIONS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write one rule per bug (category, kind, anomaly, call, function, module,
 * source file: what the bugs view groups, lines and faults left out so the
 * rules survive code moving and new faults exposing the same bug) of the
 * findings of session (or all when session < 0) to out, whatever their status.
 * Returns 0, or -1 with a database error in err (out may hold part). */
int fs_report_suppressions(sqlite3 *db, int64_t session, FILE *out, char *err, size_t errlen);

#endif
