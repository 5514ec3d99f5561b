/* faultstack/protocol_api.h — the preload's protocol API, version 1: what generated protocol
 * libraries (faultstack protocol build) and the annotations of
 * faultstack/annotate.h call. Internal and versioned: a protocol library asks
 * faultstack_protocol_api(FSP_API_VERSION) for the table and passes every call
 * through when it gets NULL (no preload, or a preload of another version).
 * Changing any struct below means a new version number.
 *
 * A wrapped call:  begin → (inject: end, return the failure) →
 *                  real call → acquire/release/use on success → end.
 * The call site is the wrapper's return address (begin's ra). */
#ifndef FS_PROTO_API_H
#define FS_PROTO_API_H

#include <stdint.h>

#define FSP_API_VERSION 1

enum fsp_role { FSP_ACQUIRE = 0, FSP_RELEASE = 1, FSP_USE = 2 };
enum fsp_flags {
    FSP_F_INJECTABLE = 1,       /* a fault point */
    FSP_F_REENTRANT = 2,        /* acquire: a live handle acquired again is counted */
    FSP_F_STILL_RELEASES = 4    /* release: releases even when it fails */
};

struct fsp_func_desc {
    const char *name;           /* the function (unique in the process) */
    const char *kind;           /* the protocol's kind ("session"), NULL: a use step of no kind */
    int role;                   /* enum fsp_role */
    int flags;                  /* enum fsp_flags */
    int err;                    /* errno of an injected failure, 0: errno untouched */
    const char *failure;        /* what an injected failure returns, as documentation */
};

struct fsp_protocol_desc {
    int version;                /* FSP_API_VERSION */
    const char *name;           /* the protocol (spec) name */
    const char *library;        /* the library the functions live in */
    int nfuncs;
    const struct fsp_func_desc *funcs;
};

/* One wrapped call. inject/err/saved_errno are for the wrapper to read; the
 * rest is the preload's. */
struct fsp_call {
    int inject;                 /* 1: fake the failure */
    int err;                    /* errno of the injected failure (0: leave errno alone) */
    int saved_errno;            /* errno when the call started */
    int reserved;
    uint64_t opaque[12];
};

struct fsp_api {
    int version;
    /* Register a protocol's functions; returns the id of funcs[0] (funcs[i]
     * is id + i), or -1 when the preload's tables are full or the desc is bad.
     * Registering the same functions again returns the same ids. */
    int (*register_protocol)(const struct fsp_protocol_desc *d);
    /* 0: pass the call through untouched (inside the preload, not active);
     * 1: *c is set, call end() after the call. */
    int (*begin)(struct fsp_call *c, int id, void *ra, void *frame);
    void (*acquire)(struct fsp_call *c, uint64_t handle, uint64_t scope);
    void (*release)(struct fsp_call *c, uint64_t handle, uint64_t scope);
    void (*use)(struct fsp_call *c, uint64_t handle, uint64_t scope);
    void (*end)(struct fsp_call *c, int err);      /* sets errno to err */
};

/* Exported by libfaultstack-preload.so. */
const struct fsp_api *faultstack_protocol_api(int version);

#endif
