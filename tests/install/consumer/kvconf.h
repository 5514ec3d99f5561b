/* kvconf.h — a tiny key=value configuration reader: the library under test of
 * the consumer project that tests/integration/test_install.sh builds against an
 * installed faultstack (find_package(faultstack) + faultstack_add_test). */
#ifndef KVCONF_H
#define KVCONF_H
#include <stddef.h>

struct kvconf {
    char *text;        /* the file's bytes, NUL-terminated; keys and values point into it */
    size_t n;          /* pairs */
    char **keys, **values;
};

/* Read PATH into *out. Returns 0, or -1 with errno set and nothing held. */
int kvconf_load(const char *path, struct kvconf *out);
/* The value of KEY, or NULL. */
const char *kvconf_get(const struct kvconf *c, const char *key);
void kvconf_free(struct kvconf *c);
#endif
