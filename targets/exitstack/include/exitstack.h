/*
 * exitstack.h — Python's contextlib.ExitStack for C (exitstack 1.0).
 *
 * An exit stack is a run-time list of cleanups ("entries") that always runs,
 * last in first out, whatever fails, and that loses no error. The contract is
 * docs/exitstack-semantics.md in the source tree (installed as
 * share/doc/exitstack/exitstack-semantics.md); "rule N" below refers to it.
 *
 *     es_stack *st;
 *     es_error *err = es_new(&st);
 *     if (err) return err;
 *     FILE *f = fopen(path, "r");
 *     if (!f) err = es_error_new(errno, "open %s", path);
 *     else err = es_defer_fclose(st, f);   // on refusal f is closed at once
 *     ...
 *     return es_error_chain(es_free(st), err);   // runs the entries, keeps every error
 *
 * ONE ERROR CONVENTION
 *   Every function that can fail returns `es_error *`: NULL on success, else
 *   an error owned by the caller (free the whole chain with es_error_free()).
 *   Results come back through out-parameters. Functions that cannot fail
 *   return their value (es_size, es_check, es_var_get, es_current) or void.
 *   Why errors and not int codes: the result of an unwind is a chain or a
 *   group of errors with messages, which no int can carry, and an enter's own
 *   error must come back intact; so the same type is used everywhere, and a
 *   caller can chain any failure onto the error it already holds with
 *   es_error_chain(). Reporting never fails: when an error cannot be
 *   allocated a shared, read-only error stands in for it (see ES_NOMEM).
 *
 *   Refusals: when the library itself refuses a call (invalid arguments,
 *   out of memory, a used token, a busy context, ...) the error it returns
 *   has ES_ERROR_REFUSAL in its flags and the call changed nothing (except
 *   where a function documents that it released what it was given). Errors
 *   raised by user code (an enter, a callback, an exit handler) pass through
 *   as they were made and are never refusals, even with the same code:
 *   es_error_is_refusal() tells an ENOMEM of the library from an enter that
 *   failed with ENOMEM (rule 20).
 *
 * OWNERSHIP
 *   - an es_error* passed *to* the library (incoming, cancel reason, an error
 *     returned by a callback or raised by an exit handler) is owned by the
 *     library from then on;
 *   - an es_error* returned *by* the library is owned by the caller;
 *   - a `const es_error *` handed to an exit handler is borrowed for the call.
 *   Error fields are read-only (const): errors are changed only through
 *   es_error_chain() and es_error_wrap().
 *
 * REGISTRATION THAT CANNOT FAIL (rule 22)
 *   Two documented ways, so "acquire, then register" needs no branch of its
 *   own: (a) es_reserve(st, n) up front; the next n registrations on st then
 *   cannot fail; (b) the es_defer* functions: if registration is refused they
 *   run the cleanup at once (the resource is released) and return the
 *   refusal, chained under the cleanup's error if it had one.
 *
 * THREADS
 *   A stack is used by one thread at a time, except es_cancel() and
 *   es_check(), which any thread may call while the stack is alive. Context
 *   variables are per thread (each thread has its own root context). A
 *   reentrant context is used by one thread at a time.
 *
 * ABI (soname libexitstack.so.1)
 *   Only the functions and the two data objects declared with ES_API are
 *   exported. Names ending in `_` (es_stack_head_, es_entry_,
 *   es_register_slow_, es_defer_slow_, ES_SCOPE's helpers) are ABI for the inline fast path
 *   and the macros below, not API: do not use them directly. Any change to
 *   an exported signature, to struct es_error, es_token's size or to the
 *   stack head / entry layout bumps the soname (2); additions keep it.
 */
#ifndef EXITSTACK_H
#define EXITSTACK_H

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXITSTACK_VERSION_MAJOR 1
#define EXITSTACK_VERSION_MINOR 0

#if defined(__GNUC__) || defined(__clang__)
#define ES_API __attribute__((visibility("default")))
#define ES_MUST_USE __attribute__((warn_unused_result))
#define ES_LIKELY_(x) __builtin_expect(!!(x), 1)
#else
#define ES_API
#define ES_MUST_USE
#define ES_LIKELY_(x) (x)
#endif

/* The library builds itself with ES_BUILDING_LIBRARY_ defined so it can fill
 * errors in; for everybody else the fields are read-only. */
#ifdef ES_BUILDING_LIBRARY_
#define ES_RO_
#else
#define ES_RO_ const
#endif

/* ------------------------------------------------------------------ errors */

#define ES_ERROR_REFUSAL 1u /* made by the library to refuse a call (rule 20) */
#define ES_ERROR_SHARED 2u  /* a shared read-only error: never freed, carries no context */
#define ES_ERROR_GROUP 4u   /* a group (rule 18): see nmembers / members */

typedef struct es_error {
    ES_RO_ int code;                        /* errno-style, never 0 */
    const char *ES_RO_ message;             /* may be NULL; stored inside the error */
    struct es_error *ES_RO_ context;        /* the error this one displaced (owned), or NULL */
    ES_RO_ size_t nmembers;                 /* group: number of members (>= 2); else 0 */
    struct es_error *const *ES_RO_ members; /* group: members in order (owned); else NULL */
    ES_RO_ unsigned flags;                  /* ES_ERROR_* */
} es_error;

/* The shared out-of-memory error (code ENOMEM, flags ES_ERROR_SHARED, not a
 * refusal): what es_error_new() returns when it cannot allocate. It lives in
 * read-only memory. es_error_free() ignores it. It cannot carry a context:
 * when it would displace an error it is appended at the end of that error's
 * chain instead (rule 10); a chain holds at most one shared error, at its
 * end, and when a second one would join the first one is kept. */
ES_API extern const es_error es_nomem_error_;
#define ES_NOMEM ((es_error *)&es_nomem_error_)

/* New error with `code` (0 is replaced by EINVAL) and a printf-style message
 * (fmt may be NULL). Returns the error, owned by the caller; on allocation
 * failure returns ES_NOMEM (never NULL). */
ES_API es_error *es_error_new(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* New error whose context is `context` (taken over; may be NULL): "code,
 * because of context". On allocation failure returns `context` with ES_NOMEM
 * at its end (ES_NOMEM if context is NULL): nothing is lost, never NULL. */
ES_API es_error *es_error_wrap(es_error *context, int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Frees `e`, its whole context chain and, for groups, every member with its
 * chain. NULL and shared errors are ignored. Iterative: any length is fine.
 * Never free an error you do not own (the `current` of an exit handler). */
ES_API void es_error_free(es_error *e);

/* Rule 10 as a function: `raised` displaces `displaced`. The displaced error
 * is attached at the end of raised's chain unless that chain already contains
 * it. Takes ownership of both; returns the error that is now current (raised,
 * or displaced when raised is a shared error — see ES_NOMEM; NULL if both are
 * NULL). Never allocates, never fails. The usual way to keep every error:
 *     err = es_error_chain(es_close(st), err);
 * Inside an exit handler there is nothing to chain: an error stored in
 * *raise gets the current error as its context automatically (rule 10).
 * Passing an error that is part of displaced's chain (other than displaced
 * itself) as `raised` is undefined (it would make a cycle). */
ES_API es_error *es_error_chain(es_error *raised, es_error *displaced);

/* Length of e's context chain (e included); 0 for NULL. */
ES_API size_t es_error_depth(const es_error *e);

/* True iff e was made by the library to refuse a call (rule 20). */
static inline bool es_error_is_refusal(const es_error *e)
{
    return e && (e->flags & ES_ERROR_REFUSAL);
}

/* --------------------------------------------------------------- allocator */

/* Allocator hook, for tests and fault injection: every allocation the library
 * makes (stacks, entry arrays, errors, groups, context variables) goes through
 * it. NULL restores malloc/realloc/free. Process-wide, not thread-safe: set it
 * while no other thread uses the library, and free every object with the
 * allocator that made it. (es_defer_free() calls the C library's free().) */
typedef struct es_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} es_allocator;
ES_API void es_set_allocator(const es_allocator *a);

/* ---------------------------------------------------------------- stacks */

typedef struct es_stack es_stack;

/* callback entry (rule 5): returns NULL, or an error it hands to the stack. */
typedef es_error *(*es_callback_fn)(void *arg);
/* two-argument callback entry (rule 21). */
typedef es_error *(*es_callback2_fn)(void *a, void *b);

/* exit handler (rule 6): sees the current error (NULL when none; borrowed:
 * never free it, never chain it yourself). Return true to suppress it, false
 * to leave it; or store a new error in *raise (NULL on entry), which becomes
 * the current error with the old current error as its context (the return
 * value is then ignored). Storing `current` itself in *raise re-raises it. */
typedef bool (*es_exit_fn)(void *self, const es_error *current, es_error **raise);

/* context manager type (rule 7). enter stores its result in *result and
 * returns NULL, or returns an error (and must then hold no resource).
 * es_enter() reads the type only during the call: it need not outlive it
 * (an es_reentrant keeps its type: that one must outlive the es_reentrant). */
typedef struct es_type {
    const char *name;
    es_error *(*enter)(void *self, void **result);
    es_exit_fn exit;
} es_type;

/* New empty stack in *out (NULL on failure). Refusal: ENOMEM, EINVAL (out
 * NULL). Owned by the caller: es_free() it. */
ES_API es_error *es_new(es_stack **out);

/* Closes `s` (runs every remaining entry, rules 1-11, 18) and frees it.
 * Returns the final error, which includes a pending cancellation, so no
 * error is lost (rule 23); NULL when nothing failed. s NULL: returns NULL.
 * Must not be called by an entry of `s`. */
ES_API es_error *es_free(es_stack *s) ES_MUST_USE;

/* Makes room for `n` more entries: after success the next n registrations on
 * s (es_callback, es_callback2, es_push_exit, es_enter, es_defer*) neither
 * allocate nor fail, until s next finishes an unwind (rule 22). Refusal:
 * ENOMEM (nothing changed), EINVAL (s NULL). */
ES_API es_error *es_reserve(es_stack *s, size_t n);

/* ---- registration. On refusal (EINVAL: s or fn NULL; ENOMEM) nothing is
 * registered (rule 8) and, for es_callback / es_callback2 / es_push_exit,
 * nothing is called: the caller still owns what arg refers to. */

/* ABI of the inline fast path, not API. */
typedef struct es_entry_ {
    void (*fn)(void);
    void *a, *b;
    uintptr_t kind;
} es_entry_;
typedef struct es_stack_head_ {
    es_entry_ *v;
    size_t n, cap;
} es_stack_head_;
enum { ES_KIND_CALLBACK_ = 1, ES_KIND_CALLBACK2_ = 2, ES_KIND_EXIT_ = 3 };
ES_API es_error *es_register_slow_(es_stack *s, uintptr_t kind, void (*fn)(void), void *a, void *b);

static inline es_error *es_register_(es_stack *s, uintptr_t kind, void (*fn)(void), void *a, void *b)
{
    es_stack_head_ *h = (es_stack_head_ *)s;
    es_entry_ *e;

    if (ES_LIKELY_(s && fn && h->n < h->cap)) {
        e = &h->v[h->n++];
        e->fn = fn;
        e->a = a;
        e->b = b;
        e->kind = kind;
        return NULL;
    }
    return es_register_slow_(s, kind, fn, a, b);
}

/* Registers fn(arg) (rule 5). */
static inline es_error *es_callback(es_stack *s, es_callback_fn fn, void *arg)
{
    return es_register_(s, ES_KIND_CALLBACK_, (void (*)(void))fn, arg, NULL);
}
/* Registers fn(a, b) (rule 21). */
static inline es_error *es_callback2(es_stack *s, es_callback2_fn fn, void *a, void *b)
{
    return es_register_(s, ES_KIND_CALLBACK2_, (void (*)(void))fn, a, b);
}
/* Registers the exit handler fn(self, ...) (rule 6). */
static inline es_error *es_push_exit(es_stack *s, es_exit_fn fn, void *self)
{
    return es_register_(s, ES_KIND_EXIT_, (void (*)(void))fn, self, NULL);
}

/* ---- release-or-register (rule 21): each registers a cleanup; if that is
 * refused, the cleanup runs at once (the resource is released) and the
 * refusal is returned, with the cleanup's own error (if any) as its context.
 * Either way the caller no longer owns the resource. */
ES_API es_error *es_defer_slow_(es_stack *s, uintptr_t kind, void (*fn)(void), void *a, void *b);
static inline es_error *es_defer(es_stack *s, es_callback_fn fn, void *arg)
{
    es_stack_head_ *h = (es_stack_head_ *)s;
    es_entry_ *e;

    if (ES_LIKELY_(s && fn && h->n < h->cap)) {
        e = &h->v[h->n++];
        e->fn = (void (*)(void))fn;
        e->a = arg;
        e->b = NULL;
        e->kind = ES_KIND_CALLBACK_;
        return NULL;
    }
    return es_defer_slow_(s, ES_KIND_CALLBACK_, (void (*)(void))fn, arg, NULL);
}
static inline es_error *es_defer2(es_stack *s, es_callback2_fn fn, void *a, void *b)
{
    es_stack_head_ *h = (es_stack_head_ *)s;
    es_entry_ *e;

    if (ES_LIKELY_(s && fn && h->n < h->cap)) {
        e = &h->v[h->n++];
        e->fn = (void (*)(void))fn;
        e->a = a;
        e->b = b;
        e->kind = ES_KIND_CALLBACK2_;
        return NULL;
    }
    return es_defer_slow_(s, ES_KIND_CALLBACK2_, (void (*)(void))fn, a, b);
}
/* free(p) with the C library's free(); never raises. p may be NULL. */
ES_API es_error *es_defer_free(es_stack *s, void *p);
/* close(fd); raises errno (EBADF, EIO, ...) if close fails. fd < 0: nothing
 * is registered and NULL is returned. */
ES_API es_error *es_defer_close(es_stack *s, int fd);
/* fclose(f); raises errno if fclose fails (data not written). f NULL: ignored. */
ES_API es_error *es_defer_fclose(es_stack *s, FILE *f);
/* closedir(d); raises errno if it fails. d NULL: ignored. */
ES_API es_error *es_defer_closedir(es_stack *s, DIR *d);
/* munmap(addr, len); raises errno if it fails. addr MAP_FAILED or NULL: ignored. */
ES_API es_error *es_defer_munmap(es_stack *s, void *addr, size_t len);
/* pthread_mutex_unlock(m) of a mutex the caller holds; raises the returned
 * code if it fails. m NULL: ignored. */
ES_API es_error *es_defer_unlock(es_stack *s, pthread_mutex_t *m);

/* Enters a context manager (rule 7): reserves the entry's slot, calls
 * t->enter(self, &r), registers t->exit(self, ...) and stores r in *result
 * (result may be NULL). Returns NULL on success. Otherwise registers nothing
 * and returns either a refusal — EINVAL (s or t NULL, t lacks enter or exit;
 * nothing called) or ENOMEM (slot could not be reserved; enter not called) —
 * or enter's own error, unchanged (not a refusal). If enter itself filled
 * the reserved slot and the stack then cannot grow, the exit is called at
 * once (so the resource is released) and an ENOMEM refusal is returned,
 * chained over any error that exit raised. */
ES_API es_error *es_enter(es_stack *s, const es_type *t, void *self, void **result);

/* Moves every entry, in order, to a new stack stored in *out (rule 13); `s`
 * is left empty (its cancellation state stays with `s`). Refusal: ENOMEM or
 * EINVAL, *out NULL and `s` unchanged. */
ES_API es_error *es_pop_all(es_stack *s, es_stack **out);

/* Unwinds (rules 1-11, 18): runs every entry, LIFO, starting with `incoming`
 * (owned by the stack from the call, may be NULL) as the current error.
 * Entries registered meanwhile run next; an entry calling es_pop_all(s) ends
 * the unwind after itself. Returns the final error, owned by the caller
 * (NULL if none). If the stack was cancelled, the cancellation and the final
 * error come back as one group error [cancellation, error] (just the
 * cancellation if no other error; if the group cannot be allocated, the
 * cancellation is chained at the end of the error instead).
 * *suppressed (may be NULL) is set to true iff incoming was non-NULL and an
 * exit handler suppressed it. s NULL: returns an EINVAL refusal whose
 * context is incoming. */
ES_API es_error *es_exit(es_stack *s, es_error *incoming, bool *suppressed);

/* es_exit(s, NULL, NULL). A second close with nothing registered returns
 * NULL; the stack stays usable (rule 2). */
ES_API es_error *es_close(es_stack *s);

/* Number of registered entries (0 for NULL). */
ES_API size_t es_size(const es_stack *s);

/* Cancels the scope of `s` (rule 17); any thread may call it, any number of
 * times. Takes ownership of `reason` (NULL: an ECANCELED error is made, or
 * ES_NOMEM if it cannot be allocated).
 * Returns true if this call cancelled the scope; false if it was already
 * cancelled or s is NULL (reason is then freed). The first cancellation is
 * kept until the stack next finishes an unwind. */
ES_API bool es_cancel(es_stack *s, es_error *reason);

/* Level-triggered check (rule 17): true while `s` is cancelled, i.e. from
 * a successful es_cancel() until s finishes its next unwind. Any thread;
 * NULL: false. */
ES_API bool es_check(const es_stack *s);

/* ------------------------------------------------ reentrant context (14) */

/* A reentrant context shares one acquisition among nested users: the enter
 * at depth 0 calls the inner type's enter (depth stays 0 if it fails), deeper
 * enters only count and hand back the same result, the exit that brings depth
 * from 1 to 0 calls the inner exit. The typical use, a login session reused
 * by nested operations:
 *
 *     static const es_type session_type = {"session", login, logout};
 *     es_reentrant *session;
 *     err = es_reentrant_new(&session, &session_type, store);   // once
 *     ...
 *     err = es_enter_reentrant(st, session, (void **)&conn);    // per operation
 *     // logs in only if no enclosing scope did; logs out with the outermost
 *
 * It is opaque: read its depth with es_reentrant_depth(). */
typedef struct es_reentrant es_reentrant;

/* New reentrant context around type t and self in *out. t must stay valid
 * until es_reentrant_free(). Refusal: EINVAL (out or t NULL, t lacks enter
 * or exit), ENOMEM. */
ES_API es_error *es_reentrant_new(es_reentrant **out, const es_type *t, void *self);
/* es_enter() of the reentrant context: returns the inner enter's error at
 * depth 0, or a refusal (EINVAL, ENOMEM) with nothing changed. */
ES_API es_error *es_enter_reentrant(es_stack *s, es_reentrant *r, void **result);
/* Current depth (0: not acquired). NULL: 0. */
ES_API size_t es_reentrant_depth(const es_reentrant *r);
/* Frees r. Refusal EBUSY (r not freed) while depth > 0: entries refer to it.
 * NULL: returns NULL. */
ES_API es_error *es_reentrant_free(es_reentrant *r);

/* ---------------------------------------- context variables (rules 15-16) */

typedef struct es_var es_var;
typedef struct es_context es_context;

/* A token records one es_var_set() so es_var_reset() can undo it. It is a
 * plain value owned by the caller (on its stack, in a struct): nothing to
 * free. Its contents are private. */
typedef struct es_token {
    uintptr_t opaque_[4];
} es_token;

/* New variable in *out, unset everywhere. Refusal: ENOMEM, EINVAL. Owned by
 * the caller. */
ES_API es_error *es_var_new(es_var **out, const char *name);
/* Frees the variable (its bindings become unreachable). NULL ignored. */
ES_API void es_var_free(es_var *v);
/* True and *value set (value may be NULL) if v is set in the current
 * context; false otherwise. */
ES_API bool es_var_get(const es_var *v, void **value);
/* Sets v in the current context and fills *tok (may be NULL when the set is
 * never undone). Refusal: ENOMEM, EINVAL; nothing changed. */
ES_API es_error *es_var_set(es_var *v, void *value, es_token *tok);
/* Restores the value v had before the set that filled tok, or unsets v
 * (rule 15). Refusals, checked in this order, change nothing and keep tok
 * usable: EALREADY tok already used; EINVAL tok belongs to another variable
 * (or NULL arguments); EXDEV tok was made in another context. Never
 * allocates: refusals are shared errors. */
ES_API es_error *es_var_reset(es_var *v, es_token *tok);

/* Runs fn(arg) in a copy of the current context (rule 16): values set inside
 * stay inside. Returns fn's error, or a refusal (ENOMEM: the copy could not
 * be made, fn not called; EINVAL). One call: copy, run, free. */
ES_API es_error *es_run_in_copy(es_error *(*fn)(void *arg), void *arg);

/* For a context kept across runs: copy of the current context in *out
 * (refusal ENOMEM, EINVAL); run fn(arg) in it (fn's error, or refusal EBUSY
 * when c is already running in this or another thread, EINVAL); free it
 * (not while running; NULL ignored). */
ES_API es_error *es_context_copy(es_context **out);
ES_API es_error *es_context_run(es_context *c, es_error *(*fn)(void *arg), void *arg);
ES_API void es_context_free(es_context *c);

/* Frees the calling thread's root-context storage: every value set there is
 * forgotten (tokens made there are refused with EXDEV). Runs automatically
 * when a thread other than the main one exits; the main thread may call it
 * before exiting so that allocation counters balance. */
ES_API void es_thread_cleanup(void);

/* The current exit stack, a context variable (rule 16): deep code can call
 * es_defer_free(es_current(), p) without being passed the stack. */
ES_API es_stack *es_current(void); /* NULL if unset */
ES_API es_error *es_set_current(es_stack *s, es_token *tok); /* as es_var_set */
ES_API es_error *es_reset_current(es_token *tok);            /* as es_var_reset */
/* Runs fn(arg) with s as the current stack, then restores the previous one.
 * Returns fn's error or a refusal (ENOMEM: fn not called). */
ES_API es_error *es_with_current(es_stack *s, es_error *(*fn)(void *arg), void *arg);

/* --------------------------------------------------- scope-bound (rule 19) */

#if defined(__GNUC__) || defined(__clang__)
typedef struct es_scope_ {
    es_stack *stack;
    es_error **out;
    es_error *init_error;
} es_scope_;
ES_API es_scope_ es_scope_begin_(es_error **out);
ES_API void es_scope_end_(es_scope_ *scope);

/* ES_SCOPE(st, &err) declares `es_stack *const st`, closed and freed when
 * the enclosing block ends. The final error is stored in *errp, chained over
 * whatever *errp already held (errp NULL: the error is freed). If the stack
 * could not be allocated, st is NULL (registrations are refused with EINVAL;
 * es_defer* release at once) and an ENOMEM refusal is stored at block end. */
#define ES_SCOPE(name, errp)                                                              \
    es_scope_ name##_es_scope_ __attribute__((cleanup(es_scope_end_))) = es_scope_begin_(errp); \
    es_stack *const name = name##_es_scope_.stack
#endif

#ifdef __cplusplus
}
#endif
#endif /* EXITSTACK_H */
