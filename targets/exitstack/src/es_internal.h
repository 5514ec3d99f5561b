/*
 * es_internal.h — helpers shared by the exitstack sources, not installed and
 * not exported (the library is built with -fvisibility=hidden and a version
 * script, src/exitstack.map). Every allocation of the library goes through
 * esi_malloc/esi_realloc/esi_free (see es_set_allocator).
 */
#ifndef ES_INTERNAL_H
#define ES_INTERNAL_H
#include <stddef.h>

#include "exitstack.h"

void *esi_malloc(size_t n);
void *esi_realloc(void *p, size_t n);
void esi_free(void *p);

/* Shared refusals (read-only, ES_ERROR_REFUSAL | ES_ERROR_SHARED): a refusal
 * that needs no context never allocates, so refusing cannot fail. */
extern const es_error esi_refuse_nomem, esi_refuse_inval, esi_refuse_already, esi_refuse_xdev,
    esi_refuse_busy;
#define ESI_REFUSE(x) ((es_error *)&esi_refuse_##x)

/* A refusal that carries `context` (taken over): heap-allocated; when that
 * fails, the shared ENOMEM refusal goes at the end of context's chain. */
es_error *esi_refusal_wrap(es_error *context, int code, const char *msg);

/* The exit of a reentrant context (rule 14); hidden, tests call it to check
 * the exit at depth 0. */
_Bool esi_reentrant_exit(void *self, const es_error *cur, es_error **raise);

#endif
