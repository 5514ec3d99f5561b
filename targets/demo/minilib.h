/* minilib.h — a tiny library with a test driver (minilib_test.c), for
 * judging a library rather than its driver (issue 12, docs/suppressions.md):
 * ml_parse() and ml_validate() report a failed allocation (NULL / -1 with
 * errno ENOMEM), as a library should; two error paths inside are buggy. */
#ifndef MINILIB_H
#define MINILIB_H

struct ml_doc;

/* A document titled title holding text. NULL with errno ENOMEM when an
 * allocation fails. Free with ml_free. */
struct ml_doc *ml_parse(const char *title, const char *text);

/* Check "key=value": 1 when it is one, 0 when not, -1 with errno ENOMEM when
 * an allocation fails. */
int ml_validate(const char *text);

void ml_free(struct ml_doc *d);

#endif
