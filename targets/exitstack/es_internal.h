/*
 * es_internal.h — helpers shared by the exitstack sources, not installed.
 * Every allocation of the library goes through these (see es_set_allocator).
 */
#ifndef ES_INTERNAL_H
#define ES_INTERNAL_H
#include <stddef.h>

void *es_malloc_(size_t n);
void *es_realloc_(void *p, size_t n);
void es_free_(void *p);

#endif
