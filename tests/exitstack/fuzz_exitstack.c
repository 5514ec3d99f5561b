/*
 * fuzz_exitstack.c — libFuzzer target: exitstack against a reference model.
 *
 * The input is a sequence of operations (one opcode byte, then parameter
 * bytes; missing bytes read as 0). Each operation is applied to the real
 * library and then to a small model that follows the semantics rules
 * literally: entries are plain arrays popped from the end, errors are
 * immutable lists of links, groups hold two member lists. After every
 * operation the harness checks that:
 *   - the events (each entry's release, what each exit handler saw, logins
 *     and logouts of the reentrant session, results of calls made from
 *     entries) equal the model's, so releases are exactly once and LIFO;
 *   - every release follows an acquire (held[] bookkeeping) and nothing is
 *     held at the end; the reentrant session is logged out;
 *   - every returned error, with its whole context chain and group members,
 *     equals the model's (codes are unique per error, so this is identity);
 *   - every stack's size equals the model's, and is 0 after close;
 *   - the library allocates only inside calls that may allocate, and every
 *     allocation is freed at the end (counted here; ASan/LSan in the fuzzer).
 *
 * Allocation failure: op FAIL_ALLOC(N) makes the N-th following allocation
 * fail once. Every library call the harness makes (also from inside entries)
 * is a "frame" recorded on a tape with whether the failed allocation happened
 * directly in it. The model reads the tape in the same order and applies the
 * documented consequence (registration: ENOMEM and no change; es_error_new:
 * the shared ES_NOMEM error; unwind: the group degrades to a chain). A model
 * that reaches a different call than the real run is reported as divergence.
 *
 * Built three ways: with libFuzzer (tests/exitstack/fuzz.sh), and with
 * fuzz_replay_main.c as a plain program replaying corpus/exitstack.
 */
#include "exitstack.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                     \
    do {                                                              \
        fprintf(stderr, "fuzz_exitstack: line %d: ", __LINE__);       \
        fprintf(stderr, __VA_ARGS__);                                 \
        fputc('\n', stderr);                                          \
        abort();                                                      \
    } while (0)
#define REQUIRE(c)                      \
    do {                                \
        if (!(c))                       \
            FAIL("check failed: %s", #c); \
    } while (0)

enum { MAXS = 8, MAXIDS = 8192, MAXOPS = 256, NVARS = 2, NTOKS = 4 };

/* ------------------------------------------------------------ the tape */

enum { C_ERRNEW = 1, C_NEW, C_REG, C_POPALL, C_EXIT, C_FREE, C_VARSET, C_CTXCOPY, C_VARNEW };
typedef struct trec {
    int kind, failed;
} trec;
static trec *tape;
static int ntape, tape_cap, tape_pos;
static int fstack[4096], fdepth;
static long alloc_seen, fail_at; /* fail_at: 0 = disarmed */
static long live_allocs;

static void frame_begin(int kind)
{
    if (ntape == tape_cap) {
        tape_cap = tape_cap ? 2 * tape_cap : 256;
        tape = realloc(tape, (size_t)tape_cap * sizeof *tape);
        REQUIRE(tape);
    }
    REQUIRE(fdepth < 4096);
    tape[ntape].kind = kind;
    tape[ntape].failed = 0;
    fstack[fdepth++] = ntape++;
}
static void frame_end(void) { fdepth--; }

static int take(int kind) /* model side */
{
    if (tape_pos >= ntape || tape[tape_pos].kind != kind)
        FAIL("model expected call kind %d at tape %d, real run made %d", kind, tape_pos,
             tape_pos < ntape ? tape[tape_pos].kind : -1);
    return tape[tape_pos++].failed;
}

static int alloc_fails(void)
{
    if (fdepth == 0)
        FAIL("library allocated outside any call that may allocate");
    alloc_seen++;
    if (fail_at && alloc_seen == fail_at) {
        fail_at = 0;
        tape[fstack[fdepth - 1]].failed = 1;
        return 1;
    }
    return 0;
}
static void *fz_malloc(size_t n)
{
    void *p;
    if (alloc_fails())
        return NULL;
    p = malloc(n);
    if (p)
        live_allocs++;
    return p;
}
static void *fz_realloc(void *p, size_t n)
{
    void *q;
    if (alloc_fails())
        return NULL;
    q = realloc(p, n);
    if (q && !p)
        live_allocs++;
    return q;
}
static void fz_free(void *p)
{
    if (p)
        live_allocs--;
    free(p);
}

/* ---------------------------------------------------------- event log */

enum { EV_REL = 1, EV_SEEN, EV_LOGIN, EV_LOGOUT, EV_RC };
typedef struct ev {
    int t, v;
} ev;
typedef struct evlog {
    ev *v;
    int n, cap;
} evlog;
static evlog rlog, mlog;
static void log_ev(evlog *l, int t, int v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
        REQUIRE(l->v);
    }
    l->v[l->n].t = t;
    l->v[l->n].v = v;
    l->n++;
}

/* ------------------------------------------------------ model errors */

enum { M_PLAIN = 1, M_NOMEM, M_GROUP };
typedef struct mnode {
    int kind, code;
    const struct mnode *m0, *m1; /* group members */
    const struct mnode *next;    /* context */
} mnode;
static const mnode m_nomem = {M_NOMEM, ENOMEM, NULL, NULL, NULL};

/* arena for model nodes, reset per input */
static mnode *arena;
static size_t narena, arena_cap;
static mnode *mnew(int kind, int code, const mnode *next)
{
    if (narena == arena_cap)
        FAIL("model arena exhausted");
    mnode *m = &arena[narena++];
    m->kind = kind;
    m->code = code;
    m->m0 = m->m1 = NULL;
    m->next = next;
    return m;
}
static int m_contains(const mnode *l, const mnode *x)
{
    for (; l; l = l->next)
        if (l == x || (x->kind == M_PLAIN && l->kind == M_PLAIN && l->code == x->code && x->code >= 100000))
            return 1;
    return 0;
}
/* copy of list l (up to but excluding `stop`), ending in tail */
static const mnode *m_copy(const mnode *l, const mnode *stop, const mnode *tail)
{
    const mnode *items[MAXIDS];
    int n = 0;
    for (; l && l != stop; l = l->next) {
        REQUIRE(n < MAXIDS);
        items[n++] = l;
    }
    while (n-- > 0) {
        mnode *c = mnew(items[n]->kind, items[n]->code, tail);
        c->m0 = items[n]->m0;
        c->m1 = items[n]->m1;
        tail = c;
    }
    return tail;
}
static const mnode *m_last(const mnode *l)
{
    while (l && l->next)
        l = l->next;
    return l;
}
/* rule 10 with the ES_NOMEM provision, as documented in exitstack.h */
static const mnode *m_chain(const mnode *r, const mnode *d)
{
    if (!r)
        return d;
    if (!d || r == d)
        return r;
    if (r == &m_nomem)
        return m_contains(d, &m_nomem) ? d : m_copy(d, NULL, &m_nomem);
    if (m_contains(r, d))
        return r;
    if (m_last(r) == &m_nomem) {
        const mnode *dd = m_contains(d, &m_nomem) ? d : m_copy(d, NULL, &m_nomem);
        return m_copy(r, &m_nomem, dd);
    }
    return m_copy(r, NULL, d);
}
static const mnode *m_group(const mnode *first, const mnode *second)
{
    mnode *g = mnew(M_GROUP, first->code, NULL);
    g->m0 = first;
    g->m1 = second;
    return g;
}
static int m_seen(const mnode *m)
{
    return !m ? 0 : m->kind == M_NOMEM ? 1 : m->kind == M_GROUP ? 2 : m->code;
}
static int r_seen(const es_error *e)
{
    return !e ? 0 : e == ES_NOMEM ? 1 : e->nmembers ? 2 : e->code;
}
static void cmp_err(const es_error *e, const mnode *m, const char *what)
{
    for (; e || m; e = e->context, m = m->next) {
        if (!e || !m)
            FAIL("%s: chain length differs (real %s, model %s)", what, e ? "longer" : "shorter",
                 m ? "longer" : "shorter");
        if (e == ES_NOMEM) {
            if (m->kind != M_NOMEM)
                FAIL("%s: real ES_NOMEM, model code %d", what, m->code);
        } else if (e->nmembers) {
            if (m->kind != M_GROUP || e->nmembers != 2)
                FAIL("%s: real group of %zu, model kind %d", what, e->nmembers, m->kind);
            REQUIRE(e->code == e->members[0]->code);
            cmp_err(e->members[0], m->m0, what);
            cmp_err(e->members[1], m->m1, what);
        } else if (m->kind != M_PLAIN || e->code != m->code) {
            FAIL("%s: real code %d, model kind %d code %d", what, e->code, m->kind, m->code);
        }
    }
}

/* ----------------------------------------------------- shared state */

enum { K_CB = 1, K_PUSH, K_ENTER, K_REENT, K_ACT_REG, K_ACT_CANCEL, K_ACT_POPALL, K_ACT_CLOSE };

typedef struct fent { /* real entry */
    int id, kind, beh, target;
    es_error *err;
} fent;
typedef struct ment { /* model entry */
    int id, kind, beh, target;
    const mnode *err;
} ment;
typedef struct mstack {
    ment *v;
    int n, cap, alive;
    const mnode *cancel;
} mstack;

static es_stack *rs[MAXS];
static mstack ms[MAXS];
static int nstk, mnstk;
static int ustack[4096], udepth; /* real: index of the stack(s) being unwound */
static unsigned char held[MAXIDS];
static int next_id, mnext_id, next_code;
/* reentrant session */
static es_reentrant *R;
static int R_marker; /* the session's enter result */
static int session_held, mdepth;
static es_error *session_fail;
/* context variables */
static es_var *rv[NVARS];
static es_token rtok[NTOKS];
static bool rtok_ok[NTOKS];
static struct {
    int set;
    intptr_t val;
} mvar[NVARS];
static struct {
    int present, var, ctx, old_set, used;
    intptr_t old_val;
} mtok[NTOKS];
static int mctx_next;

static const uint8_t *in;
static size_t in_len, in_pos;
static int next(void) { return in_pos < in_len ? in[in_pos++] : 0; }

/* a registration-like call's result as an errno code: 0, or the code of a
 * refusal (rule 20: every error the library returns for these is one) */
static int rc_of(es_error *e)
{
    int rc = e ? e->code : 0;
    if (e && !es_error_is_refusal(e))
        FAIL("error %d returned by a registration is not marked as a refusal", rc);
    es_error_free(e);
    return rc;
}

static fent *fent_new(int id, int kind, int beh)
{
    fent *f = calloc(1, sizeof *f);
    REQUIRE(f);
    f->id = id;
    f->kind = kind;
    f->beh = beh;
    return f;
}
static void acquire(int id)
{
    REQUIRE(id > 0 && id < MAXIDS);
    if (held[id])
        FAIL("resource %d acquired twice", id);
    held[id] = 1;
}
static void release(int id)
{
    REQUIRE(id > 0 && id < MAXIDS);
    if (!held[id])
        FAIL("resource %d released without being held (double release or no acquire)", id);
    held[id] = 0;
    log_ev(&rlog, EV_REL, id);
}
static es_error *real_err(int code)
{
    es_error *e;
    frame_begin(C_ERRNEW);
    e = es_error_new(code, "e%d", code);
    frame_end();
    return e;
}
static const mnode *model_err(int code)
{
    return take(C_ERRNEW) ? &m_nomem : mnew(M_PLAIN, code, NULL);
}
static void mpush(int k, ment e)
{
    mstack *s = &ms[k];
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        REQUIRE(s->v);
    }
    s->v[s->n++] = e;
}

/* ------------------------------------------------ real entries */

static es_error *real_close(int k, int kind, es_error *incoming, bool *supp)
{
    es_error *e = NULL;
    frame_begin(kind);
    ustack[udepth++] = k;
    if (kind == C_FREE)
        e = es_free(rs[k]); /* rule 23: returns the final error */
    else
        e = es_exit(rs[k], incoming, supp);
    udepth--;
    frame_end();
    return e;
}

static int cb2_marker; /* the second argument of two-argument entries */
static es_error *fz_cb(void *arg);
static es_error *fz_cb2(void *a, void *b)
{
    REQUIRE(b == &cb2_marker);
    return fz_cb(a);
}

/* es_defer may run the callback at once (refused): it acts on stack k then */
static void udepth_push_for_defer(int k) { ustack[udepth++] = k; }

static es_error *fz_cb(void *arg)
{
    fent *f = arg, *g;
    es_error *ret = NULL;
    es_stack *t;
    int own = ustack[udepth - 1], rc, nid;

    release(f->id);
    switch (f->kind) {
    case K_CB:
        ret = f->err;
        f->err = NULL;
        break;
    case K_ACT_REG:
        nid = next_id++;
        g = fent_new(nid, K_CB, 0);
        frame_begin(C_REG);
        rc = rc_of(es_callback(rs[own], fz_cb, g));
        frame_end();
        if (rc)
            free(g);
        else
            acquire(nid);
        log_ev(&rlog, EV_RC, rc);
        break;
    case K_ACT_CANCEL:
        rc = es_cancel(rs[own], f->err) ? 0 : EALREADY;
        f->err = NULL;
        log_ev(&rlog, EV_RC, rc);
        break;
    case K_ACT_POPALL:
        if (nstk < MAXS) {
            frame_begin(C_POPALL);
            rc_of(es_pop_all(rs[own], &t));
            frame_end();
            if (t)
                rs[nstk++] = t;
            log_ev(&rlog, EV_RC, t ? 0 : ENOMEM);
        }
        break;
    case K_ACT_CLOSE:
        rc = f->target % nstk;
        if (rs[rc])
            ret = real_close(rc, C_EXIT, NULL, NULL);
        break;
    default:
        FAIL("bad callback kind %d", f->kind);
    }
    REQUIRE(f->err == NULL);
    free(f);
    return ret;
}

static bool fz_exit(void *self, const es_error *cur, es_error **raise)
{
    fent *f = self;
    /* a raising handler returns true for odd ids: raising must win anyway */
    bool supp = f->beh == 1 || (f->beh == 2 && (f->id & 1));

    release(f->id);
    log_ev(&rlog, EV_SEEN, r_seen(cur));
    if (f->beh == 2) {
        *raise = f->err;
        f->err = NULL;
    }
    REQUIRE(f->err == NULL);
    free(f);
    return supp;
}
static es_error *fz_enter(void *self, void **result)
{
    fent *f = self;
    es_error *e;

    if (f->beh == 3) { /* fails: acquires nothing */
        e = f->err;
        f->err = NULL;
        return e;
    }
    acquire(f->id);
    *result = f;
    return NULL;
}
static const es_type fz_type = {"fz", fz_enter, fz_exit};
static const es_type fz_bad_type = {"fz_bad", fz_enter, NULL};

static es_error *session_login(void *self, void **result)
{
    es_error *e = session_fail;
    if (e) {
        session_fail = NULL;
        return e;
    }
    REQUIRE(!session_held);
    session_held = 1;
    log_ev(&rlog, EV_LOGIN, 0);
    *result = &R_marker;
    return NULL;
}
static bool session_logout(void *self, const es_error *cur, es_error **raise)
{
    REQUIRE(session_held);
    session_held = 0;
    log_ev(&rlog, EV_LOGOUT, 0);
    return false;
}
static const es_type session_type = {"session", session_login, session_logout};

/* ------------------------------------------------------- the model */

static const mnode *m_exit(int k, int kind, const mnode *incoming, bool *supp);

/* runs model entry e popped from stack k; returns raised, sets *suppress */
static const mnode *m_run(int k, ment e, const mnode *cur, int *suppress)
{
    const mnode *raised = NULL;
    int nid, failed, t;

    *suppress = 0;
    if (e.kind != K_REENT)
        log_ev(&mlog, EV_REL, e.id);
    switch (e.kind) {
    case K_CB:
        raised = e.err;
        break;
    case K_PUSH:
    case K_ENTER:
        log_ev(&mlog, EV_SEEN, m_seen(cur));
        if (e.beh == 1)
            *suppress = 1;
        if (e.beh == 2)
            raised = e.err;
        break;
    case K_REENT:
        REQUIRE(mdepth > 0);
        if (--mdepth == 0)
            log_ev(&mlog, EV_LOGOUT, 0);
        break;
    case K_ACT_REG:
        nid = mnext_id++;
        failed = take(C_REG);
        if (!failed)
            mpush(k, (ment){nid, K_CB, 0, 0, NULL});
        log_ev(&mlog, EV_RC, failed ? ENOMEM : 0);
        break;
    case K_ACT_CANCEL:
        if (ms[k].cancel) {
            log_ev(&mlog, EV_RC, EALREADY);
        } else {
            ms[k].cancel = e.err;
            log_ev(&mlog, EV_RC, 0);
        }
        break;
    case K_ACT_POPALL:
        if (mnstk < MAXS) {
            failed = take(C_POPALL);
            if (!failed) {
                mstack *d = &ms[mnstk++];
                d->alive = 1;
                d->cancel = NULL;
                for (int i = 0; i < ms[k].n; i++)
                    mpush((int)(d - ms), ms[k].v[i]);
                ms[k].n = 0;
            }
            log_ev(&mlog, EV_RC, failed ? ENOMEM : 0);
        }
        break;
    case K_ACT_CLOSE:
        t = e.target % mnstk;
        if (ms[t].alive)
            raised = m_exit(t, C_EXIT, NULL, NULL);
        break;
    }
    return raised;
}

/* es_exit / es_free as the rules say */
static const mnode *m_exit(int k, int kind, const mnode *incoming, bool *supp)
{
    const mnode *cur = incoming, *raised, *cancel;
    int alive = incoming != NULL, suppressed = 0, s;
    int group_failed = take(kind);

    while (ms[k].n > 0) {
        ment e = ms[k].v[--ms[k].n];
        raised = m_run(k, e, cur, &s);
        if (raised)
            cur = m_chain(raised, cur);
        else if (s && cur) {
            cur = NULL;
            suppressed |= alive;
            alive = 0;
        }
    }
    cancel = ms[k].cancel;
    ms[k].cancel = NULL;
    if (group_failed && !(cancel && cur))
        FAIL("unwind of stack %d allocated although no group was needed", k);
    if (cancel)
        cur = !cur ? cancel : group_failed ? m_chain(cur, cancel) : m_group(cancel, cur);
    if (supp)
        *supp = suppressed;
    return cur;
}

/* --------------------------------------------------- checks */

static void check_state(const char *after)
{
    int i;
    if (tape_pos != ntape)
        FAIL("after %s: real run made %d library calls, model %d", after, ntape, tape_pos);
    ntape = tape_pos = 0;
    if (rlog.n != mlog.n)
        FAIL("after %s: %d events, model %d", after, rlog.n, mlog.n);
    for (i = 0; i < rlog.n; i++)
        if (rlog.v[i].t != mlog.v[i].t || rlog.v[i].v != mlog.v[i].v)
            FAIL("after %s: event %d is (%d,%d), model (%d,%d)", after, i, rlog.v[i].t, rlog.v[i].v,
                 mlog.v[i].t, mlog.v[i].v);
    rlog.n = mlog.n = 0;
    REQUIRE(nstk == mnstk);
    REQUIRE(next_id == mnext_id);
    for (i = 0; i < nstk; i++) {
        REQUIRE((rs[i] != NULL) == ms[i].alive);
        if (rs[i]) {
            REQUIRE(es_size(rs[i]) == (size_t)ms[i].n);
            REQUIRE(es_check(rs[i]) == (ms[i].cancel != NULL));
        }
    }
    REQUIRE(session_held == (mdepth > 0));
    REQUIRE(es_reentrant_depth(R) == (size_t)mdepth);
}

/* ------------------------------------------------------- operations */

enum {
    OP_NEW, OP_CALLBACK, OP_PUSH, OP_ENTER, OP_REENT, OP_ACT, OP_POPALL, OP_CLOSE, OP_EXIT,
    OP_CANCEL, OP_FREE, OP_VARSET, OP_VARRESET, OP_CTXRUN, OP_FAILALLOC, NOPS
};

static int pick(void)
{
    int i = nstk ? next() % nstk : -1;
    return i >= 0 && rs[i] ? i : -1;
}

static void op_register(int op, int i)
{
    int beh = next(), id = next_id++, code = next_code++, rc, mrc, failed, target = 0, reserve_rc = 0;
    fent *f = NULL;
    es_error *e = NULL;
    const mnode *merr = NULL, *mexp = NULL;
    void *res = NULL;
    ment me;

    mnext_id++;
    switch (op) {
    case OP_CALLBACK: /* beh&1: the callback fails; beh&2: es_defer (rule 21); beh&4:
                       * the two-argument form; beh&8: es_reserve first (rule 22) */
        beh %= 16;
        if (beh & 8) {
            frame_begin(C_REG);
            reserve_rc = rc_of(es_reserve(rs[i], 1 + (size_t)(next() % 40)));
            frame_end();
        }
        f = fent_new(id, K_CB, beh & 1);
        if (beh & 1)
            f->err = real_err(code);
        if (beh & 2) {
            acquire(id); /* es_defer releases it at once if refused */
            frame_begin(C_REG);
            udepth_push_for_defer(i);
            e = beh & 4 ? es_defer2(rs[i], fz_cb2, f, &cb2_marker) : es_defer(rs[i], fz_cb, f);
            udepth--;
            frame_end();
            rc = e ? e->code : 0;
            REQUIRE(!e || es_error_is_refusal(e));
            if (e)
                f = NULL; /* the cleanup ran and freed it */
            break;
        }
        frame_begin(C_REG);
        rc = rc_of(beh & 4 ? es_callback2(rs[i], fz_cb2, f, &cb2_marker) : es_callback(rs[i], fz_cb, f));
        frame_end();
        break;
    case OP_PUSH:
        beh %= 3;
        f = fent_new(id, K_PUSH, beh);
        if (beh == 2)
            f->err = real_err(code);
        frame_begin(C_REG);
        rc = rc_of(es_push_exit(rs[i], fz_exit, f));
        frame_end();
        break;
    case OP_ENTER:
        beh %= 5; /* 0 pass 1 suppress 2 raise 3 enter fails 4 not a context manager */
        f = fent_new(id, K_ENTER, beh);
        if (beh == 2 || beh == 3)
            f->err = real_err(code);
        frame_begin(C_REG);
        e = es_enter(rs[i], beh == 4 ? &fz_bad_type : &fz_type, f, &res);
        frame_end();
        rc = e ? 1 : 0;
        REQUIRE(e || res == f);
        break;
    case OP_REENT:
        beh = beh % 4 == 0; /* a depth-0 enter fails */
        if (beh)
            session_fail = real_err(code);
        frame_begin(C_REG);
        e = es_enter_reentrant(rs[i], R, &res);
        frame_end();
        es_error_free(session_fail); /* not used: enter was not at depth 0 */
        session_fail = NULL;
        rc = e ? 1 : 0;
        REQUIRE(e || res == &R_marker);
        break;
    default: { /* OP_ACT */
        int k = beh % 4;
        target = next();
        f = fent_new(id, k == 0 ? K_ACT_REG : k == 1 ? K_ACT_CANCEL : k == 2 ? K_ACT_POPALL : K_ACT_CLOSE, 0);
        f->target = target;
        if (f->kind == K_ACT_CANCEL)
            f->err = real_err(code);
        frame_begin(C_REG);
        rc = rc_of(es_callback(rs[i], fz_cb, f));
        frame_end();
        beh = f->kind; /* for the model below */
        break;
    }
    }
    if (rc && f) { /* not registered: caller still owns it */
        es_error_free(f->err);
        free(f);
    } else if (op != OP_REENT && op != OP_ENTER && !(op == OP_CALLBACK && (beh & 2))) {
        acquire(id);
    }

    /* model */
    me = (ment){id, 0, beh, 0, NULL};
    switch (op) {
    case OP_CALLBACK:
        if ((beh & 8) && take(C_REG) != (reserve_rc == ENOMEM))
            FAIL("es_reserve: returned %d, the model expected %s", reserve_rc,
                 reserve_rc ? "success" : "ENOMEM");
        if (beh & 1)
            merr = model_err(code);
        mrc = take(C_REG) ? ENOMEM : 0;
        REQUIRE(rc == mrc);
        me.kind = K_CB;
        me.beh = beh & 1;
        me.err = merr;
        if ((beh & 2) && mrc) { /* es_defer refused: released at once, both errors kept */
            log_ev(&mlog, EV_REL, id);
            cmp_err(e, mnew(M_PLAIN, ENOMEM, merr), "es_defer");
        }
        break;
    case OP_PUSH:
        if (beh == 2)
            merr = model_err(code);
        mrc = take(C_REG) ? ENOMEM : 0;
        REQUIRE(rc == mrc);
        me.kind = K_PUSH;
        me.err = merr;
        break;
    case OP_ENTER:
        if (beh == 2 || beh == 3)
            merr = model_err(code);
        failed = take(C_REG);
        if (beh == 4)
            mexp = mnew(M_PLAIN, EINVAL, NULL); /* a shared refusal: nothing allocated */
        else if (failed)
            mexp = mnew(M_PLAIN, ENOMEM, NULL); /* reserved before enter */
        else if (beh == 3)
            mexp = merr;
        cmp_err(e, mexp, "es_enter");
        REQUIRE(es_error_is_refusal(e) == (beh == 4 || failed)); /* rule 20 */
        mrc = mexp != NULL;
        me.kind = K_ENTER;
        me.err = beh == 2 ? merr : NULL;
        break;
    case OP_REENT:
        if (beh)
            merr = model_err(code);
        failed = take(C_REG);
        if (failed)
            mexp = mnew(M_PLAIN, ENOMEM, NULL);
        else if (mdepth == 0 && beh)
            mexp = merr; /* depth stays 0 */
        cmp_err(e, mexp, "es_enter(reentrant)");
        REQUIRE(es_error_is_refusal(e) == (bool)failed);
        mrc = mexp != NULL;
        if (!mrc && mdepth++ == 0)
            log_ev(&mlog, EV_LOGIN, 0);
        me.kind = K_REENT;
        break;
    default:
        me.kind = beh;
        me.target = target;
        if (beh == K_ACT_CANCEL)
            me.err = model_err(code);
        mrc = take(C_REG) ? ENOMEM : 0;
        REQUIRE(rc == mrc);
        break;
    }
    es_error_free(e);
    if (!mrc)
        mpush(i, me);
}

static es_error *fz_ctx_fn(void *arg)
{
    int *a = arg; /* a[0] var, a[1] value, a[2] token slot */
    void *v = NULL;
    frame_begin(C_VARSET);
    int rc = rc_of(es_var_set(rv[a[0]], (void *)(intptr_t)a[1], &rtok[a[2]]));
    frame_end();
    if (!rc) {
        REQUIRE(es_var_get(rv[a[0]], &v) && v == (void *)(intptr_t)a[1]);
        rtok_ok[a[2]] = true;
    }
    return NULL;
}

static void check_vars(void)
{
    for (int j = 0; j < NVARS; j++) {
        void *v = NULL;
        bool set = es_var_get(rv[j], &v);
        REQUIRE(set == (bool)mvar[j].set);
        if (set)
            REQUIRE((intptr_t)v == mvar[j].val);
    }
}

static void run_op(int op)
{
    int i, code, rc, mrc, j, k, failed;
    es_error *e;
    const mnode *mi, *me;
    bool supp = false, msupp = false;
    es_stack *t;

    switch (op) {
    case OP_NEW:
        if (nstk >= MAXS)
            break;
        frame_begin(C_NEW);
        rc_of(es_new(&t));
        frame_end();
        if (t)
            rs[nstk++] = t;
        if (!take(C_NEW)) {
            ms[mnstk].alive = 1;
            ms[mnstk].n = 0;
            ms[mnstk].cancel = NULL;
            mnstk++;
        }
        break;
    case OP_CALLBACK:
    case OP_PUSH:
    case OP_ENTER:
    case OP_REENT:
    case OP_ACT:
        if ((i = pick()) >= 0)
            op_register(op, i);
        break;
    case OP_POPALL:
        if ((i = pick()) < 0 || nstk >= MAXS)
            break;
        frame_begin(C_POPALL);
        rc_of(es_pop_all(rs[i], &t));
        frame_end();
        if (t)
            rs[nstk++] = t;
        if (!take(C_POPALL)) {
            mstack *d = &ms[mnstk++];
            d->alive = 1;
            d->cancel = NULL;
            d->n = 0;
            for (j = 0; j < ms[i].n; j++)
                mpush((int)(d - ms), ms[i].v[j]);
            ms[i].n = 0;
        }
        break;
    case OP_CLOSE:
    case OP_EXIT:
        if ((i = pick()) < 0)
            break;
        code = next_code++;
        if (op == OP_EXIT && next() % 4 != 0) {
            e = real_close(i, C_EXIT, real_err(code), &supp);
            mi = model_err(code);
        } else {
            e = real_close(i, C_EXIT, NULL, &supp);
            mi = NULL;
        }
        me = m_exit(i, C_EXIT, mi, &msupp);
        cmp_err(e, me, "es_exit");
        REQUIRE(supp == msupp);
        REQUIRE(es_size(rs[i]) == 0);
        es_error_free(e);
        break;
    case OP_CANCEL:
        if ((i = pick()) < 0)
            break;
        code = next_code++;
        rc = es_cancel(rs[i], real_err(code)) ? 0 : EALREADY;
        mi = model_err(code);
        mrc = ms[i].cancel ? EALREADY : 0;
        if (!mrc)
            ms[i].cancel = mi;
        REQUIRE(rc == mrc);
        break;
    case OP_FREE:
        if ((i = pick()) < 0)
            break;
        e = real_close(i, C_FREE, NULL, NULL);
        rs[i] = NULL;
        me = m_exit(i, C_FREE, NULL, NULL);
        ms[i].alive = 0;
        cmp_err(e, me, "es_free");
        es_error_free(e);
        break;
    case OP_VARSET:
        j = next() % NVARS;
        k = next() % NTOKS;
        code = next();
        rtok_ok[k] = false;
        mtok[k].present = 0;
        frame_begin(C_VARSET);
        rtok_ok[k] = rc_of(es_var_set(rv[j], (void *)(intptr_t)code, &rtok[k])) == 0;
        frame_end();
        if (!take(C_VARSET)) {
            mtok[k].present = 1;
            mtok[k].var = j;
            mtok[k].ctx = 0;
            mtok[k].old_set = mvar[j].set;
            mtok[k].old_val = mvar[j].val;
            mtok[k].used = 0;
            mvar[j].set = 1;
            mvar[j].val = code;
        }
        REQUIRE(rtok_ok[k] == (bool)mtok[k].present);
        break;
    case OP_VARRESET:
        j = next() % NVARS;
        k = next() % NTOKS;
        if (!rtok_ok[k])
            break;
        rc = rc_of(es_var_reset(rv[j], &rtok[k])); /* must not allocate: no frame */
        mrc = mtok[k].used ? EALREADY : mtok[k].var != j ? EINVAL : mtok[k].ctx != 0 ? EXDEV : 0;
        if (!mrc) {
            mvar[j].set = mtok[k].old_set;
            mvar[j].val = mtok[k].old_val;
            mtok[k].used = 1;
        }
        REQUIRE(rc == mrc);
        break;
    case OP_CTXRUN: {
        int a[3];
        es_context *c;
        a[0] = next() % NVARS;
        a[1] = next() + 1000;
        a[2] = next() % NTOKS;
        rtok_ok[a[2]] = false;
        mtok[a[2]].present = 0;
        frame_begin(C_CTXCOPY);
        rc_of(es_context_copy(&c));
        frame_end();
        if (c) {
            REQUIRE(es_context_run(c, fz_ctx_fn, a) == NULL);
            es_context_free(c);
        }
        failed = take(C_CTXCOPY);
        if (!failed && !take(C_VARSET)) {
            k = a[2];
            mtok[k].present = 1;
            mtok[k].var = a[0];
            mtok[k].ctx = ++mctx_next; /* another context */
            mtok[k].old_set = mvar[a[0]].set;
            mtok[k].old_val = mvar[a[0]].val;
            mtok[k].used = 0;
        }
        REQUIRE(rtok_ok[a[2]] == (bool)mtok[a[2]].present);
        break;
    }
    case OP_FAILALLOC:
        alloc_seen = 0;
        fail_at = 1 + next() % 24;
        break;
    }
    check_vars();
}

static void reset_all(void)
{
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < MAXS; i++) {
        ms[i].n = 0;
        ms[i].alive = 0;
        ms[i].cancel = NULL;
    }
    nstk = mnstk = 0;
    udepth = fdepth = 0;
    ntape = tape_pos = 0;
    rlog.n = mlog.n = 0;
    memset(held, 0, sizeof held);
    next_id = mnext_id = 1;
    next_code = 100000;
    R = NULL;
    session_held = mdepth = 0;
    session_fail = NULL;
    memset(rtok, 0, sizeof rtok);
    memset(rtok_ok, 0, sizeof rtok_ok);
    memset(mvar, 0, sizeof mvar);
    memset(mtok, 0, sizeof mtok);
    mctx_next = 0;
    alloc_seen = fail_at = 0;
    narena = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const es_allocator a = {fz_malloc, fz_realloc, fz_free};
    int i, nops = 0;
    es_error *e;
    const mnode *me;

    if (!arena) {
        arena_cap = 1 << 20;
        arena = malloc(arena_cap * sizeof *arena);
        REQUIRE(arena);
    }
    es_set_allocator(&a);
    reset_all();
    live_allocs = 0;
    in = data;
    in_len = size;
    in_pos = 0;

    for (i = 0; i < NVARS; i++) {
        frame_begin(C_VARNEW);
        REQUIRE(es_var_new(&rv[i], "v") == NULL);
        frame_end();
        REQUIRE(rv[i]);
    }
    frame_begin(C_VARNEW);
    REQUIRE(es_reentrant_new(&R, &session_type, NULL) == NULL);
    frame_end();
    ntape = 0;
    run_op(OP_NEW); /* stack 0 always exists */
    check_state("start");
    while (in_pos < in_len && nops++ < MAXOPS) {
        int op = next() % NOPS;
        run_op(op);
        check_state("an operation");
    }
    /* end of sequence: close every stack (pop_all may add some meanwhile) */
    fail_at = 0;
    for (i = 0; i < nstk; i++) {
        if (!rs[i])
            continue;
        e = real_close(i, C_EXIT, NULL, NULL);
        me = m_exit(i, C_EXIT, NULL, NULL);
        cmp_err(e, me, "final close");
        es_error_free(e);
        REQUIRE(es_size(rs[i]) == 0);
        check_state("final close");
    }
    for (i = 0; i < nstk; i++) {
        if (!rs[i])
            continue;
        e = real_close(i, C_FREE, NULL, NULL);
        rs[i] = NULL;
        me = m_exit(i, C_FREE, NULL, NULL);
        ms[i].alive = 0;
        cmp_err(e, me, "final free");
        es_error_free(e);
        check_state("final free");
    }
    for (i = 1; i < next_id && i < MAXIDS; i++)
        if (held[i])
            FAIL("resource %d still held after every stack was closed", i);
    REQUIRE(!session_held && es_reentrant_depth(R) == 0);
    REQUIRE(es_reentrant_free(R) == NULL);
    for (i = 0; i < NVARS; i++)
        es_var_free(rv[i]);
    es_thread_cleanup();
    if (live_allocs != 0)
        FAIL("%ld library allocations not freed", live_allocs);
    es_set_allocator(NULL);
    return 0;
}
