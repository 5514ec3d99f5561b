/*
 * exitstack.h — Python's contextlib.ExitStack for C.
 *
 * An exit stack is a run-time list of cleanups ("entries") that always runs,
 * last in first out, whatever fails, and that loses no error. The contract is
 * the project's exitstack-semantics.md (rules 1-19); the rule numbers quoted
 * below refer to it.
 *
 *     es_stack *st = es_new();
 *     FILE *f = fopen(path, "r");
 *     if (!f || es_callback(st, close_file, f) != 0) ...
 *     ...
 *     es_error *err = es_close(st);   // runs close_file, returns the final error
 *     es_free(st);
 *
 * Errors are heap objects (es_error) linked by `context` to the error they
 * displaced. The final error of an unwind belongs to the caller, who frees the
 * whole chain, groups included, with one es_error_free().
 *
 * Ownership conventions used throughout:
 *   - an es_error* passed *to* the library (incoming, cancel reason, an error
 *     returned by a callback or raised by an exit handler) is owned by the
 *     library from then on;
 *   - an es_error* returned *by* the library is owned by the caller;
 *   - a `const es_error *` handed to an exit handler is borrowed for the call.
 *
 * Out of memory: every registration either succeeds or fails with ENOMEM and
 * changes nothing (rule 8). es_error_new() never returns NULL: when it cannot
 * allocate it returns ES_NOMEM, one shared, immutable ENOMEM error that
 * es_error_free() ignores. ES_NOMEM cannot carry a context, so when it would
 * displace an error it is appended at the end of that error's chain instead
 * and the displaced error stays current: nothing is lost, the order of that
 * one link is.
 *
 * Threads: a stack is used by one thread at a time, except es_cancel() and
 * es_check(), which any thread may call while the stack is alive. Context
 * variables are per thread (each thread has its own root context).
 */
#ifndef EXITSTACK_H
#define EXITSTACK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

typedef struct es_error {
    int code;                  /* errno-style, never 0 */
    const char *message;       /* may be NULL; stored inside the error */
    struct es_error *context;  /* the error this one displaced (owned), or NULL */
    size_t nmembers;           /* group error (rule 18): number of members (>= 2); else 0 */
    struct es_error **members; /* group error: members in order (owned); else NULL */
} es_error;

extern es_error es_nomem_error_;
/* The shared out-of-memory error (code ENOMEM). Never freed, never chained onto. */
#define ES_NOMEM (&es_nomem_error_)

/* New error with `code` (0 is replaced by EINVAL) and a printf-style message
 * (fmt may be NULL). Returns the error, owned by the caller; on allocation
 * failure returns ES_NOMEM (never NULL). */
es_error *es_error_new(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Frees `e`, its whole context chain and, for groups, every member with its
 * chain. NULL and ES_NOMEM are ignored. Iterative: any chain length is fine. */
void es_error_free(es_error *e);

/* Rule 10 as a function: `raised` displaces `displaced`. The displaced error
 * is attached at the end of raised's chain unless that chain already contains
 * it. Takes ownership of both; returns the error that is now current (raised,
 * or displaced when raised is ES_NOMEM — see above; NULL if both are NULL).
 * Never allocates, never fails. Passing an error that is part of displaced's
 * chain (other than displaced itself) as `raised` is undefined. */
es_error *es_error_chain(es_error *raised, es_error *displaced);

/* Length of e's context chain (e included); 0 for NULL. */
size_t es_error_depth(const es_error *e);

/* --------------------------------------------------------------- allocator */

/* Allocator hook, for tests and fault injection: every allocation the library
 * makes (stacks, entry arrays, errors, groups, context variables) goes through
 * it. NULL restores malloc/realloc/free. Process-wide, not thread-safe: set it
 * while no other thread uses the library, and free every object with the
 * allocator that made it. */
typedef struct es_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} es_allocator;
void es_set_allocator(const es_allocator *a);

/* ---------------------------------------------------------------- stacks */

typedef struct es_stack es_stack;

/* callback entry (rule 5): returns NULL, or an error it hands to the stack. */
typedef es_error *(*es_callback_fn)(void *arg);

/* exit handler (rule 6): sees the current error (NULL when none; borrowed).
 * Return true to suppress it, false to leave it; or store a new error in
 * *raise (NULL on entry), which becomes the current error (the return value is
 * then ignored). Storing `current` itself in *raise re-raises it unchanged. */
typedef bool (*es_exit_fn)(void *self, const es_error *current, es_error **raise);

/* context manager type (rule 7). enter stores its result in *result and
 * returns NULL, or returns an error (and must then hold no resource). */
typedef struct es_type {
    const char *name;
    es_error *(*enter)(void *self, void **result);
    es_exit_fn exit;
} es_type;

/* New empty stack. Returns NULL on ENOMEM (errno set). Owned by the caller:
 * es_free() it. */
es_stack *es_new(void);

/* Runs every remaining entry (so nothing leaks), drops their errors and any
 * pending cancellation, then frees the stack. Call es_close() first to get
 * the errors. NULL is ignored. Must not be called by an entry of `s`. */
void es_free(es_stack *s);

/* Registers fn(arg) (rule 5). Returns 0, EINVAL (s or fn NULL) or ENOMEM; on
 * error nothing is registered and fn is not called: the caller still owns
 * whatever arg refers to and must release it. */
int es_callback(es_stack *s, es_callback_fn fn, void *arg);

/* Registers the exit handler fn(self, ...) (rule 6). Errors as es_callback. */
int es_push(es_stack *s, es_exit_fn fn, void *self);

/* Enters a context manager (rule 7): reserves the entry's slot, calls
 * t->enter(self, &r), registers t->exit(self, ...) and stores r in *result
 * (result may be NULL). Returns NULL on success. On failure returns an error
 * owned by the caller and registers nothing: EINVAL (s or t NULL, t lacks
 * enter or exit; nothing called), ENOMEM (slot could not be reserved; enter
 * not called), or enter's own error. If enter itself filled the reserved
 * slot and the stack then cannot grow, the exit is called at once (so the
 * resource is released) and ENOMEM is returned, chained under any error that
 * exit raised. */
es_error *es_enter(es_stack *s, const es_type *t, void *self, void **result);

/* Moves every entry, in order, to a new stack (rule 13); `s` is left empty
 * (its cancellation state stays with `s`). Returns the new stack, owned by
 * the caller; NULL with errno ENOMEM or EINVAL, `s` unchanged. */
es_stack *es_pop_all(es_stack *s);

/* Unwinds (rules 1-11, 18): runs every entry, LIFO, starting with `incoming`
 * (owned by the stack from the call, may be NULL) as the current error.
 * Entries registered meanwhile run next; an entry calling es_pop_all(s) ends
 * the unwind after itself. Returns the final error, owned by the caller
 * (NULL if none). If the stack was cancelled, the cancellation and the final
 * error come back as one group error [cancellation, error] (just the
 * cancellation if no other error; if the group cannot be allocated, the
 * cancellation is chained at the end of the error instead).
 * *suppressed (may be NULL) is set to true iff incoming was non-NULL and an
 * exit handler suppressed it. s NULL: returns an EINVAL error chained over
 * incoming. */
es_error *es_exit(es_stack *s, es_error *incoming, bool *suppressed);

/* es_exit(s, NULL, NULL). A second close with nothing registered returns
 * NULL; the stack stays usable (rule 2). */
es_error *es_close(es_stack *s);

/* Number of registered entries (0 for NULL). */
size_t es_size(const es_stack *s);

/* Cancels the scope of `s` (rule 17); any thread may call it, any number of
 * times. Takes ownership of `reason` (NULL: an ECANCELED error is made). The
 * first cancellation is kept until the stack next finishes an unwind; later
 * ones are freed. Returns 0 if this call cancelled, EALREADY if the scope was
 * already cancelled, EINVAL if s is NULL (reason freed in every case). */
int es_cancel(es_stack *s, es_error *reason);

/* Level-triggered check (rule 17): the cancellation's code while `s` is
 * cancelled, else 0. Any thread. */
int es_check(const es_stack *s);

/* ------------------------------------------------ reentrant context (14) */

/* Wraps a context manager so that nested enters share one acquisition:
 * the enter at depth 0 calls inner enter (depth stays 0 if it fails), deeper
 * enters only count and hand back the same result; the exit that brings
 * depth from 1 to 0 calls the inner exit; an exit at depth 0 raises EINVAL
 * and does nothing else. Use with es_enter(st, &es_reentrant_type, &r, &res).
 * The struct is owned by the caller and must outlive its entries. */
typedef struct es_reentrant {
    const es_type *type;
    void *self;
    void *result;
    unsigned long depth;
} es_reentrant;
#define ES_REENTRANT_INIT(type_, self_) { (type_), (self_), NULL, 0 }
extern const es_type es_reentrant_type;

/* ---------------------------------------- context variables (rules 15-16) */

typedef struct es_var es_var;
typedef struct es_token es_token;
typedef struct es_context es_context;

/* New variable, unset everywhere. NULL on ENOMEM. Owned by the caller. */
es_var *es_var_new(const char *name);
/* Frees the variable (its bindings become unreachable). NULL ignored. */
void es_var_free(es_var *v);
/* True and *value set if v is set in the current context; false otherwise. */
bool es_var_get(const es_var *v, void **value);
/* Sets v in the current context. Returns a token owned by the caller (free it
 * with es_token_free, used or not), or NULL on ENOMEM (nothing changed). */
es_token *es_var_set(es_var *v, void *value);
/* Restores the value v had before the set that made t, or unsets v (rule 15).
 * Refusals, checked in this order, change nothing and keep t usable:
 * EALREADY t already used; EINVAL t belongs to another variable (or NULL
 * arguments); EXDEV t was made in another context. Returns 0 on success.
 * Never allocates. */
int es_var_reset(es_var *v, es_token *t);
void es_token_free(es_token *t);

/* Copy of the current context. NULL on ENOMEM. Owned by the caller. */
es_context *es_context_copy(void);
/* Runs fn(arg) with c as the current context (rule 16): values set inside
 * stay in c. Returns 0, EINVAL (NULL arguments) or EBUSY (c is already
 * entered, in this or another thread). */
int es_context_run(es_context *c, void (*fn)(void *arg), void *arg);
/* Frees a context that is not running. NULL ignored. */
void es_context_free(es_context *c);

/* Frees the calling thread's root-context storage: every value set there is
 * forgotten (tokens made there are refused with EXDEV). Runs automatically
 * when a thread other than the main one exits; the main thread may call it
 * before exiting so that allocation counters balance. */
void es_thread_cleanup(void);

/* The current exit stack, a context variable (rule 16): deep code can call
 * es_callback(es_current(), ...) without being passed the stack. */
es_stack *es_current(void);                /* NULL if unset */
es_token *es_set_current(es_stack *s);      /* as es_var_set */
int es_reset_current(es_token *t);          /* as es_var_reset */

/* --------------------------------------------------- scope-bound (rule 19) */

#if defined(__GNUC__) || defined(__clang__)
typedef struct es_scope_ {
    es_stack *stack;
    es_error **out;
} es_scope_;
void es_scope_end_(es_scope_ *scope);

/* ES_SCOPE(st, &err) declares `es_stack *const st`, closed and freed when
 * the enclosing block ends. The final error is stored in *errp, chained over
 * whatever *errp already held (errp NULL: the error is freed). If the stack
 * could not be allocated, st is NULL (registrations fail with EINVAL) and an
 * ENOMEM error is stored at the end of the block. */
#define ES_SCOPE(name, errp)                                                  \
    es_scope_ name##_es_scope_ __attribute__((cleanup(es_scope_end_))) = {   \
        es_new(), (errp)};                                                    \
    es_stack *const name = name##_es_scope_.stack
#endif

#ifdef __cplusplus
}
#endif
#endif /* EXITSTACK_H */
