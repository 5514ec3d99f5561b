/* plan.c — the fault plan: parse a --fail SPEC, print it back, and decide
 * which fault points count and which one fails.
 *
 * This file is also compiled into the preload, which parses FAULTSTACK_PLAN
 * before the target's malloc is usable. So fs_plan_parse() and everything it
 * calls never allocate: no malloc, no strtod/scanf (glibc may allocate in
 * them), no printf family, no locale-dependent functions. Numbers, including
 * the probability P, are parsed by hand below. fs_plan_format() is only called
 * by the supervisor and may use snprintf. Nothing here has mutable static
 * state: every function is thread-safe and reentrant.
 */
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FS_PLAN_ACCEPTED                                                       \
    "(accepted: nth=N, site=FUNC@MODULE+0xOFFSET[#K], random:p=P[,seed=S], "   \
    "persistent, internal, errno=NAME, only=FUNC[,FUNC...], module=NAME, ctx=HEX, caller=MOD+0xOFF[/...], then=N, none)"

#define FS_PLAN_ERRNO_MAX 4095   /* the kernel's MAX_ERRNO */
#define FS_PLAN_ECHO_MAX  300    /* longest item quoted whole in an error message */

/* ---- errno names ------------------------------------------------------- */

/* Linux errno names (<errno.h> on glibc and musl defines every one). Where
 * two names share a value the first one listed is the canonical name printed
 * by fs_errno_name(): EAGAIN, EDEADLK, EOPNOTSUPP. */
#define FS_PLAN_ERRNOS(X) \
    X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) \
    X(EAGAIN) X(EWOULDBLOCK) X(ENOMEM) X(EACCES) X(EFAULT) X(ENOTBLK) X(EBUSY) X(EEXIST)        \
    X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(ETXTBSY)  \
    X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK)       \
    X(EDEADLOCK) X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) X(ENOTEMPTY) X(ELOOP) X(ENOMSG) X(EIDRM)   \
    X(ECHRNG) X(EL2NSYNC) X(EL3HLT) X(EL3RST) X(ELNRNG) X(EUNATCH) X(ENOCSI) X(EL2HLT) X(EBADE) \
    X(EBADR) X(EXFULL) X(ENOANO) X(EBADRQC) X(EBADSLT) X(EBFONT) X(ENOSTR) X(ENODATA) X(ETIME)  \
    X(ENOSR) X(ENONET) X(ENOPKG) X(EREMOTE) X(ENOLINK) X(EADV) X(ESRMNT) X(ECOMM) X(EPROTO)     \
    X(EMULTIHOP) X(EDOTDOT) X(EBADMSG) X(EOVERFLOW) X(ENOTUNIQ) X(EBADFD) X(EREMCHG) X(ELIBACC) \
    X(ELIBBAD) X(ELIBSCN) X(ELIBMAX) X(ELIBEXEC) X(EILSEQ) X(ERESTART) X(ESTRPIPE) X(EUSERS)    \
    X(ENOTSOCK) X(EDESTADDRREQ) X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT)     \
    X(ESOCKTNOSUPPORT) X(EOPNOTSUPP) X(ENOTSUP) X(EPFNOSUPPORT) X(EAFNOSUPPORT) X(EADDRINUSE)   \
    X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) X(ECONNABORTED) X(ECONNRESET)      \
    X(ENOBUFS) X(EISCONN) X(ENOTCONN) X(ESHUTDOWN) X(ETOOMANYREFS) X(ETIMEDOUT) X(ECONNREFUSED) \
    X(EHOSTDOWN) X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS) X(ESTALE) X(EUCLEAN) X(ENOTNAM)     \
    X(ENAVAIL) X(EISNAM) X(EREMOTEIO) X(EDQUOT) X(ENOMEDIUM) X(EMEDIUMTYPE) X(ECANCELED)        \
    X(ENOKEY) X(EKEYEXPIRED) X(EKEYREVOKED) X(EKEYREJECTED) X(EOWNERDEAD) X(ENOTRECOVERABLE)    \
    X(ERFKILL) X(EHWPOISON)

static const struct fs_plan_errno {
    int value;
    const char *name;
} fs_plan_errnos[] = {
#define FS_PLAN_ERRNO_ENTRY(e) {e, #e},
    FS_PLAN_ERRNOS(FS_PLAN_ERRNO_ENTRY)
#undef FS_PLAN_ERRNO_ENTRY
};

#define FS_PLAN_N_ERRNOS (sizeof fs_plan_errnos / sizeof fs_plan_errnos[0])

static int fs_plan_upper(int c)
{
    return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

/* Case-insensitive compare of the slice s[0..n) with the NUL-terminated name. */
static int fs_plan_name_eq(const char *s, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (name[i] == '\0' || fs_plan_upper((unsigned char)s[i]) != name[i])
            return 0;
    }
    return name[n] == '\0';
}

/* Positive decimal errno number 1..FS_PLAN_ERRNO_MAX, else 0. */
static int fs_plan_errno_number(const char *s, size_t n)
{
    size_t i;
    int v = 0;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
        if (v > FS_PLAN_ERRNO_MAX)
            return 0;
    }
    return v;
}

static int fs_plan_errno_slice(const char *s, size_t n)
{
    size_t i;
    if (n > 0 && s[0] >= '0' && s[0] <= '9')
        return fs_plan_errno_number(s, n);
    for (i = 0; i < FS_PLAN_N_ERRNOS; i++) {
        if (fs_plan_name_eq(s, n, fs_plan_errnos[i].name))
            return fs_plan_errnos[i].value;
    }
    return 0;
}

int fs_errno_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    return fs_plan_errno_slice(name, strlen(name));
}

const char *fs_errno_name(int err)
{
    size_t i;
    for (i = 0; i < FS_PLAN_N_ERRNOS; i++) {
        if (fs_plan_errnos[i].value == err)
            return fs_plan_errnos[i].name;
    }
    return NULL;
}

/* ---- error messages (no printf: a bounded string builder) --------------- */

struct fs_plan_msg {
    char *buf;
    size_t len;
    size_t pos;
};

static void fs_plan_msg_n(struct fs_plan_msg *m, const char *s, size_t n)
{
    size_t i;
    if (m->buf == NULL || m->len == 0)
        return;
    for (i = 0; i < n && m->pos + 1 < m->len; i++) {
        char c = s[i];
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = '?';                            /* keep the message one line */
        m->buf[m->pos++] = c;
    }
    m->buf[m->pos] = '\0';
}

static void fs_plan_msg_s(struct fs_plan_msg *m, const char *s)
{
    fs_plan_msg_n(m, s, strlen(s));
}

static void fs_plan_msg_u(struct fs_plan_msg *m, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fs_plan_msg_n(m, tmp + i, sizeof tmp - i);
}

/* ---- slices and small parsers ------------------------------------------ */

struct fs_plan_slice {
    const char *s;
    size_t n;
};

static int fs_plan_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static struct fs_plan_slice fs_plan_trim(const char *s, size_t n)
{
    struct fs_plan_slice r;
    while (n > 0 && fs_plan_space((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && fs_plan_space((unsigned char)s[n - 1]))
        n--;
    r.s = s;
    r.n = n;
    return r;
}

static int fs_plan_is(struct fs_plan_slice x, const char *word)
{
    size_t n = strlen(word);
    return x.n == n && memcmp(x.s, word, n) == 0;
}

static int fs_plan_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unsigned integer. base 10: decimal digits only; base 16: hex digits with an
 * optional 0x prefix; base 0: 0x... is hex, anything else decimal.
 * Returns 0, or -1 on bad syntax, -2 on overflow. */
static int fs_plan_u64(const char *s, size_t n, int base, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (base != 10 && n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (base == 0) {
        base = 10;
    }
    if (i == n)
        return -1;
    for (; i < n; i++) {
        int d = base == 16 ? fs_plan_hexval((unsigned char)s[i])
                           : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0)
            return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -2;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* Decimal exponent digits, saturating at +-100000. Returns chars used, 0 = none. */
static size_t fs_plan_exp(const char *s, size_t n, long *out)
{
    size_t i = 0;
    long e = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == n || s[i] < '0' || s[i] > '9')
        return 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (e < 100000)
            e = e * 10 + (s[i] - '0');
    }
    *out = neg ? -e : e;
    return i;
}

/* Hex float as printed by %a: 0xH[.H][p[+-]D]. Exact for up to 53 bits. */
static int fs_plan_hexfloat(const char *s, size_t n, double *out)
{
    uint64_t m = 0;
    int nd = 0, any = 0;
    long e2 = 0, pe = 0;
    size_t i = 2;
    double v;
    for (; i < n && fs_plan_hexval((unsigned char)s[i]) >= 0; i++, any = 1) {
        if (m != 0 || fs_plan_hexval((unsigned char)s[i]) != 0) {
            if (++nd > 16)
                return -1;
        }
        m = m * 16 + (uint64_t)fs_plan_hexval((unsigned char)s[i]);
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && fs_plan_hexval((unsigned char)s[i]) >= 0; i++, any = 1) {
            if (m != 0 || fs_plan_hexval((unsigned char)s[i]) != 0) {
                if (++nd > 16)
                    return -1;
            }
            m = m * 16 + (uint64_t)fs_plan_hexval((unsigned char)s[i]);
            e2 -= 4;
        }
    }
    if (!any)
        return -1;
    if (i < n && (s[i] == 'p' || s[i] == 'P')) {
        size_t used = fs_plan_exp(s + i + 1, n - i - 1, &pe);
        if (used == 0)
            return -1;
        i += 1 + used;
    }
    if (i != n)
        return -1;
    e2 += pe;
    v = (double)m;
    if (m == 0) {
        *out = 0.0;
        return 0;
    }
    if (e2 > 1100)
        e2 = 1100;
    if (e2 < -1200)
        e2 = -1200;
    for (; e2 > 0; e2--)
        v *= 2.0;
    for (; e2 < 0; e2++)
        v *= 0.5;
    *out = v;
    return 0;
}

/* A non-negative number: decimal (0, 1, 0.5, .25, 1e-3, 2.5E-05) or a hex
 * float (0x1p-2). Exact (correctly rounded) whenever the decimal has at most
 * 15 significant digits and a decimal exponent within +-22, which covers
 * everything fs_plan_format prints in decimal; close otherwise.
 * Returns 0, or -1 on bad syntax. */
static int fs_plan_number(const char *s, size_t n, double *out)
{
    static const double pow10[] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    uint64_t m = 0;
    int nd = 0, any = 0;
    long e10 = 0, pe = 0;
    size_t i = 0;
    long double v;

    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return fs_plan_hexfloat(s, n, out);
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
        if (nd < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (m != 0)
                nd++;
        } else {
            e10++;                      /* digit beyond 19 significant ones */
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
            if (nd < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                if (m != 0)
                    nd++;
                e10--;
            }
        }
    }
    if (!any)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t used = fs_plan_exp(s + i + 1, n - i - 1, &pe);
        if (used == 0)
            return -1;
        i += 1 + used;
    }
    if (i != n)
        return -1;
    e10 += pe;
    if (m == 0) {
        *out = 0.0;
        return 0;
    }
    /* Clinger's fast path: both operands exact, one IEEE rounding. */
    if (m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        *out = e10 < 0 ? (double)m / pow10[-e10] : (double)m * pow10[e10];
        return 0;
    }
    if (e10 < -400) {
        *out = 0.0;
        return 0;
    }
    if (e10 > 400)
        e10 = 400;
    v = (long double)m;
    for (; e10 <= -16; e10 += 16)
        v /= 1e16L;
    for (; e10 >= 16; e10 -= 16)
        v *= 1e16L;
    v = e10 < 0 ? v / (long double)pow10[-e10] : v * (long double)pow10[e10];
    *out = (double)v;
    return 0;
}

/* Function names: C identifiers, plus '.' and '$' (foo.cold, mangled names). */
static int fs_plan_func_ok(struct fs_plan_slice x)
{
    size_t i;
    if (x.n == 0 || x.n >= FS_PLAN_NAME_MAX)
        return 0;
    for (i = 0; i < x.n; i++) {
        char c = x.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '$'))
            return 0;
    }
    return 1;
}

/* Module basenames: printable, no blanks, no '/', no separators, no '='. */
static int fs_plan_module_ok(struct fs_plan_slice x)
{
    size_t i;
    if (x.n == 0 || x.n >= FS_PLAN_MODULE_MAX)
        return 0;
    for (i = 0; i < x.n; i++) {
        unsigned char c = (unsigned char)x.s[i];
        if (c <= 0x20 || c == 0x7f || c == '/' || c == ',' || c == ';' || c == '=')
            return 0;
    }
    return 1;
}

static void fs_plan_copy(char *dst, struct fs_plan_slice x)
{
    memcpy(dst, x.s, x.n);
    dst[x.n] = '\0';
}

/* ---- the parser --------------------------------------------------------- */

struct fs_plan_parser {
    struct fs_plan *out;
    struct fs_plan_msg msg;
    struct fs_plan_slice trigger_item;  /* the item that set the trigger */
    struct fs_plan_slice seed_item;
    struct fs_plan_slice ctx_item;
    struct fs_plan_slice then_item;
    struct fs_plan_slice caller_item;
    int have_then, have_caller;
    int have_trigger, have_seed, have_ctx, have_persistent, have_errno, have_only, have_module;
    int have_internal;
    int only_open;                      /* the previous item was only= or extended it */
};

/* Starts "bad --fail item 'ITEM': " and returns the builder for the rest. */
static struct fs_plan_msg *fs_plan_bad(struct fs_plan_parser *ps, struct fs_plan_slice item)
{
    struct fs_plan_msg *m = &ps->msg;
    m->pos = 0;
    if (m->buf != NULL && m->len > 0)
        m->buf[0] = '\0';
    fs_plan_msg_s(m, "bad --fail item '");
    if (item.n > FS_PLAN_ECHO_MAX) {            /* leave room for the explanation */
        fs_plan_msg_n(m, item.s, FS_PLAN_ECHO_MAX);
        fs_plan_msg_s(m, "...");
    } else {
        fs_plan_msg_n(m, item.s, item.n);
    }
    fs_plan_msg_s(m, "': ");
    return m;
}

static int fs_plan_fail(struct fs_plan_parser *ps, struct fs_plan_slice item, const char *why)
{
    fs_plan_msg_s(fs_plan_bad(ps, item), why);
    return -1;
}

static int fs_plan_set_trigger(struct fs_plan_parser *ps, struct fs_plan_slice item,
                               enum fs_plan_trigger t, const char *key)
{
    if (ps->have_trigger) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        if (t == ps->out->trigger) {
            fs_plan_msg_s(m, "duplicate key '");
            fs_plan_msg_s(m, key);
            fs_plan_msg_s(m, "' (give each key at most once; '");
        } else {
            fs_plan_msg_s(m, "at most one trigger: nth=, site= and random: are mutually "
                             "exclusive, and none goes with neither ('");
        }
        fs_plan_msg_n(m, ps->trigger_item.s, ps->trigger_item.n);
        fs_plan_msg_s(m, "' was already given)");
        return -1;
    }
    ps->have_trigger = 1;
    ps->trigger_item = item;
    ps->out->trigger = t;
    return 0;
}

static int fs_plan_dup(struct fs_plan_parser *ps, struct fs_plan_slice item, int *seen,
                       const char *key)
{
    if (*seen) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "duplicate key '");
        fs_plan_msg_s(m, key);
        fs_plan_msg_s(m, "' (give each key at most once)");
        return -1;
    }
    *seen = 1;
    return 0;
}

static int fs_plan_add_only(struct fs_plan_parser *ps, struct fs_plan_slice item,
                            struct fs_plan_slice func)
{
    struct fs_plan *p = ps->out;
    if (!fs_plan_func_ok(func)) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "bad function name '");
        fs_plan_msg_n(m, func.s, func.n);
        fs_plan_msg_s(m, "' in only= (accepted: 1 to ");
        fs_plan_msg_u(m, FS_PLAN_NAME_MAX - 1);
        fs_plan_msg_s(m, " characters of A-Z a-z 0-9 _ . $)");
        return -1;
    }
    if (p->n_only >= FS_PLAN_MAX_ONLY) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "too many functions in only= (accepted: at most ");
        fs_plan_msg_u(m, FS_PLAN_MAX_ONLY);
        fs_plan_msg_s(m, ")");
        return -1;
    }
    fs_plan_copy(p->only[p->n_only++], func);
    return 0;
}

/* site=FUNC@MODULE+OFFSET[#K]. MODULE may itself contain '@', '+' and '#'
 * (libstdc++.so.6): FUNC ends at the first '@', OFFSET starts after the last
 * '+', and #K is recognised only after that '+'. */
static int fs_plan_site(struct fs_plan_parser *ps, struct fs_plan_slice item,
                        struct fs_plan_slice v)
{
    static const char form[] = " (accepted: site=FUNC@MODULE+0xOFFSET[#K], "
                               "e.g. site=open@demo_fd+0x1234#2)";
    struct fs_plan *p = ps->out;
    struct fs_plan_slice func, mod, off, k = {NULL, 0};
    size_t at, plus, hash;
    int rc;

    for (at = 0; at < v.n && v.s[at] != '@'; at++)
        ;
    if (at == v.n) {
        fs_plan_msg_s(fs_plan_bad(ps, item), "missing '@MODULE'");
        fs_plan_msg_s(&ps->msg, form);
        return -1;
    }
    for (plus = v.n; plus > at + 1 && v.s[plus - 1] != '+'; plus--)
        ;
    if (plus == at + 1) {
        fs_plan_msg_s(fs_plan_bad(ps, item), "missing '+OFFSET'");
        fs_plan_msg_s(&ps->msg, form);
        return -1;
    }
    plus--;                                     /* index of the last '+' */
    for (hash = v.n; hash > plus + 1 && v.s[hash - 1] != '#'; hash--)
        ;
    func.s = v.s;
    func.n = at;
    mod.s = v.s + at + 1;
    mod.n = plus - at - 1;
    off.s = v.s + plus + 1;
    if (hash > plus + 1) {                      /* found '#' at hash - 1 */
        off.n = hash - 1 - plus - 1;
        k.s = v.s + hash;
        k.n = v.n - hash;
    } else {
        off.n = v.n - plus - 1;
    }
    if (!fs_plan_func_ok(func)) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "bad function name '");
        fs_plan_msg_n(m, func.s, func.n);
        fs_plan_msg_s(m, "' (accepted: 1 to ");
        fs_plan_msg_u(m, FS_PLAN_NAME_MAX - 1);
        fs_plan_msg_s(m, " characters of A-Z a-z 0-9 _ . $)");
        fs_plan_msg_s(m, form);
        return -1;
    }
    if (!fs_plan_module_ok(mod)) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "bad module '");
        fs_plan_msg_n(m, mod.s, mod.n);
        fs_plan_msg_s(m, "' (accepted: a basename of 1 to ");
        fs_plan_msg_u(m, FS_PLAN_MODULE_MAX - 1);
        fs_plan_msg_s(m, " characters, no '/', blanks, ',' ';' or '=')");
        return -1;
    }
    rc = fs_plan_u64(off.s, off.n, 16, &p->site_offset);
    if (rc != 0) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "bad OFFSET '");
        fs_plan_msg_n(m, off.s, off.n);
        fs_plan_msg_s(m, rc == -2 ? "' (too large; accepted: up to 16 hex digits, e.g. 0x1234)"
                                  : "' (accepted: hex digits with or without 0x, e.g. 0x1234)");
        return -1;
    }
    p->site_occurrence = 1;
    if (k.s != NULL) {
        rc = fs_plan_u64(k.s, k.n, 10, &p->site_occurrence);
        if (rc != 0 || p->site_occurrence < 1) {
            struct fs_plan_msg *m = fs_plan_bad(ps, item);
            fs_plan_msg_s(m, "bad occurrence '#");
            fs_plan_msg_n(m, k.s, k.n);
            fs_plan_msg_s(m, "' (accepted: #K with K a decimal integer >= 1)");
            return -1;
        }
    }
    fs_plan_copy(p->site_func, func);
    fs_plan_copy(p->site_module, mod);
    return 0;
}

static int fs_plan_keyed(struct fs_plan_parser *ps, struct fs_plan_slice item,
                         struct fs_plan_slice key, struct fs_plan_slice v)
{
    struct fs_plan *p = ps->out;
    int rc;

    if (fs_plan_is(key, "nth")) {
        if (fs_plan_set_trigger(ps, item, FS_PLAN_NTH, "nth"))
            return -1;
        rc = fs_plan_u64(v.s, v.n, 10, &p->nth);
        if (rc != 0 || p->nth < 1)
            return fs_plan_fail(ps, item, "N must be a decimal integer >= 1 (accepted: nth=N)");
        return 0;
    }
    if (fs_plan_is(key, "site")) {
        if (fs_plan_set_trigger(ps, item, FS_PLAN_SITE, "site"))
            return -1;
        return fs_plan_site(ps, item, v);
    }
    if (fs_plan_is(key, "random:p")) {
        if (fs_plan_set_trigger(ps, item, FS_PLAN_RANDOM, "random:p"))
            return -1;
        if (fs_plan_number(v.s, v.n, &p->random_p) != 0 || !(p->random_p <= 1.0))
            return fs_plan_fail(ps, item, "P must be a probability in [0,1] "
                                          "(accepted: random:p=P, e.g. 0, 1, 0.25, .5, 1e-3)");
        return 0;
    }
    if (fs_plan_is(key, "seed")) {
        if (fs_plan_dup(ps, item, &ps->have_seed, "seed"))
            return -1;
        ps->seed_item = item;
        if (fs_plan_u64(v.s, v.n, 0, &p->random_seed) != 0)
            return fs_plan_fail(ps, item, "S must be an unsigned 64-bit integer, decimal or 0x hex "
                                          "(accepted: random:p=P,seed=S)");
        return 0;
    }
    if (fs_plan_is(key, "ctx")) {
        if (fs_plan_dup(ps, item, &ps->have_ctx, "ctx"))
            return -1;
        ps->ctx_item = item;
        if (fs_plan_u64(v.s, v.n, 16, &p->ctx) != 0)
            return fs_plan_fail(ps, item, "HEX must be up to 16 hex digits, with or without 0x "
                                          "(accepted: ctx=HEX together with site=)");
        return 0;
    }
    if (fs_plan_is(key, "caller")) {
        if (fs_plan_dup(ps, item, &ps->have_caller, "caller"))
            return -1;
        ps->caller_item = item;
        for (size_t a = 0; a <= v.n;) {          /* MOD+0xOFF[/MOD+0xOFF...] */
            size_t b = a, plus;
            while (b < v.n && v.s[b] != '/')
                b++;
            for (plus = b; plus > a && v.s[plus - 1] != '+'; plus--)
                ;
            if (p->n_callers >= FS_PLAN_MAX_CALLERS || plus < a + 2 || plus - 1 - a >= FS_PLAN_MODULE_MAX ||
                fs_plan_u64(v.s + plus, b - plus, 16, &p->caller_offset[p->n_callers]) != 0)
                return fs_plan_fail(ps, item, "give each caller as MODULE+0xOFFSET, at most 3, separated "
                                              "by '/' (accepted: caller=MODULE+0xOFFSET[/MODULE+0xOFFSET...] "
                                              "together with site=)");
            memcpy(p->caller_module[p->n_callers], v.s + a, plus - 1 - a);
            p->caller_module[p->n_callers++][plus - 1 - a] = '\0';
            a = b + 1;
        }
        return 0;
    }
    if (fs_plan_is(key, "then")) {
        if (fs_plan_dup(ps, item, &ps->have_then, "then"))
            return -1;
        ps->then_item = item;
        if (fs_plan_u64(v.s, v.n, 10, &p->then) != 0 || p->then < 1)
            return fs_plan_fail(ps, item, "N must be a decimal integer >= 1 "
                                          "(accepted: then=N together with nth= or site=)");
        return 0;
    }
    if (fs_plan_is(key, "errno")) {
        if (fs_plan_dup(ps, item, &ps->have_errno, "errno"))
            return -1;
        p->err = fs_plan_errno_slice(v.s, v.n);
        if (p->err == 0) {
            struct fs_plan_msg *m = fs_plan_bad(ps, item);
            fs_plan_msg_s(m, "unknown errno '");
            fs_plan_msg_n(m, v.s, v.n);
            fs_plan_msg_s(m, "' (accepted: an errno name such as EIO, ENOMEM, EACCES, or a number 1..");
            fs_plan_msg_u(m, FS_PLAN_ERRNO_MAX);
            fs_plan_msg_s(m, ")");
            return -1;
        }
        return 0;
    }
    if (fs_plan_is(key, "only")) {
        if (fs_plan_dup(ps, item, &ps->have_only, "only"))
            return -1;
        if (fs_plan_add_only(ps, item, v))
            return -1;
        ps->only_open = 1;
        return 0;
    }
    if (fs_plan_is(key, "module")) {
        if (fs_plan_dup(ps, item, &ps->have_module, "module"))
            return -1;
        if (!fs_plan_module_ok(v)) {
            struct fs_plan_msg *m = fs_plan_bad(ps, item);
            fs_plan_msg_s(m, "bad module '");
            fs_plan_msg_n(m, v.s, v.n);
            fs_plan_msg_s(m, "' (accepted: module=NAME, a basename of 1 to ");
            fs_plan_msg_u(m, FS_PLAN_MODULE_MAX - 1);
            fs_plan_msg_s(m, " characters, no '/', blanks, ',' ';' or '=')");
            return -1;
        }
        fs_plan_copy(p->module_filter, v);
        return 0;
    }
    if (fs_plan_is(key, "persistent") || fs_plan_is(key, "none") || fs_plan_is(key, "internal")) {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "'");
        fs_plan_msg_n(m, key.s, key.n);
        fs_plan_msg_s(m, "' takes no value (accepted: ");
        fs_plan_msg_n(m, key.s, key.n);
        fs_plan_msg_s(m, ")");
        return -1;
    }
    {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "unknown key '");
        fs_plan_msg_n(m, key.s, key.n);
        fs_plan_msg_s(m, "' " FS_PLAN_ACCEPTED);
    }
    return -1;
}

static int fs_plan_item(struct fs_plan_parser *ps, struct fs_plan_slice item)
{
    size_t eq;
    int was_open = ps->only_open;

    ps->only_open = 0;
    for (eq = 0; eq < item.n && item.s[eq] != '='; eq++)
        ;
    if (eq < item.n) {
        struct fs_plan_slice key = fs_plan_trim(item.s, eq);
        struct fs_plan_slice v = fs_plan_trim(item.s + eq + 1, item.n - eq - 1);
        return fs_plan_keyed(ps, item, key, v);
    }
    if (fs_plan_is(item, "persistent")) {
        if (fs_plan_dup(ps, item, &ps->have_persistent, "persistent"))
            return -1;
        ps->out->persistent = 1;
        return 0;
    }
    if (fs_plan_is(item, "internal")) {
        if (fs_plan_dup(ps, item, &ps->have_internal, "internal"))
            return -1;
        ps->out->internal = 1;
        return 0;
    }
    if (fs_plan_is(item, "none"))
        return fs_plan_set_trigger(ps, item, FS_PLAN_NONE, "none");
    if (was_open) {                 /* only=a,b,c: a bare word extends the list */
        ps->only_open = 1;
        return fs_plan_add_only(ps, item, item);
    }
    if (fs_plan_is(item, "random") || (item.n > 7 && memcmp(item.s, "random:", 7) == 0))
        return fs_plan_fail(ps, item, "random needs a probability (accepted: random:p=P[,seed=S], "
                                      "e.g. random:p=0.25,seed=7)");
    {
        struct fs_plan_msg *m = fs_plan_bad(ps, item);
        fs_plan_msg_s(m, "unknown item");
        if (ps->have_only && fs_plan_func_ok(item))
            fs_plan_msg_s(m, "; function names must follow only= directly");
        fs_plan_msg_s(m, " " FS_PLAN_ACCEPTED);
    }
    return -1;
}

int fs_plan_parse(const char *spec, struct fs_plan *out, char *errbuf, size_t errlen)
{
    struct fs_plan_parser ps;
    const char *s = spec;
    int rc = 0;

    memset(out, 0, sizeof *out);
    memset(&ps, 0, sizeof ps);
    ps.out = out;
    ps.msg.buf = errbuf;
    ps.msg.len = errlen;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (spec == NULL)
        return 0;

    for (;;) {
        const char *start = s;
        struct fs_plan_slice item;
        while (*s != '\0' && *s != ',' && *s != ';')
            s++;
        item = fs_plan_trim(start, (size_t)(s - start));
        if (item.n > 0) {
            rc = fs_plan_item(&ps, item);
            if (rc != 0)
                goto out;
        }
        if (*s == '\0')
            break;
        s++;
    }
    if (ps.have_seed && out->trigger != FS_PLAN_RANDOM) {
        rc = fs_plan_fail(&ps, ps.seed_item, "seed= only goes with random:p=P "
                                             "(accepted: random:p=P[,seed=S])");
        goto out;
    }
    if (ps.have_ctx && out->trigger != FS_PLAN_SITE) {
        rc = fs_plan_fail(&ps, ps.ctx_item, "ctx= only goes with site= "
                                            "(accepted: site=FUNC@MODULE+0xOFFSET[#K],ctx=HEX)");
        goto out;
    }
    if (ps.have_caller && out->trigger != FS_PLAN_SITE) {
        rc = fs_plan_fail(&ps, ps.caller_item, "caller= only goes with site= "
                                               "(accepted: site=FUNC@MODULE+0xOFFSET[#K],caller=MODULE+0xOFFSET)");
        goto out;
    }
    if (ps.have_then && out->trigger != FS_PLAN_SITE && out->trigger != FS_PLAN_NTH) {
        rc = fs_plan_fail(&ps, ps.then_item, "then= only goes with nth= or site= "
                                             "(accepted: site=FUNC@MODULE+0xOFFSET[#K],then=N)");
        goto out;
    }
out:
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- printing ----------------------------------------------------------- */

struct fs_plan_out {
    char *buf;
    size_t len;
    size_t pos;
    int items;
};

static void fs_plan_put(struct fs_plan_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fs_plan_put(struct fs_plan_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    if (o->buf != NULL && o->pos < o->len)
        n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
    else
        n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->pos += (size_t)n;
}

static void fs_plan_sep(struct fs_plan_out *o)
{
    if (o->items++ > 0)
        fs_plan_put(o, ",");
}

/* printf's radix character follows LC_NUMERIC (a ',' would split the item):
 * replace whatever is not part of a C-locale number with '.'. */
static void fs_plan_c_locale(char *s)
{
    char *w = s;
    int in_radix = 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (fs_plan_hexval((unsigned char)c) >= 0 || c == 'x' || c == 'X' || c == 'p' ||
            c == 'P' || c == '+' || c == '-') {
            *w++ = c;
            in_radix = 0;
        } else if (!in_radix) {
            *w++ = '.';
            in_radix = 1;
        }
    }
    *w = '\0';
}

/* Shortest decimal that fs_plan_number reads back as exactly p; a hex float
 * when no decimal of up to 17 digits does. */
static void fs_plan_fmt_p(double p, char *out, size_t outlen)
{
    char tmp[64];
    double back;
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, p);
        fs_plan_c_locale(tmp);
        if (fs_plan_number(tmp, strlen(tmp), &back) == 0 && back == p)
            goto done;
    }
    snprintf(tmp, sizeof tmp, "%a", p);
    fs_plan_c_locale(tmp);
done:
    snprintf(out, outlen, "%s", tmp);
}

int fs_plan_format(const struct fs_plan *p, char *buf, size_t len)
{
    struct fs_plan_out o = {buf, len, 0, 0};
    int i;

    if (buf != NULL && len > 0)
        buf[0] = '\0';
    switch (p->trigger) {
    case FS_PLAN_NTH:
        fs_plan_sep(&o);
        fs_plan_put(&o, "nth=%llu", (unsigned long long)p->nth);
        break;
    case FS_PLAN_SITE:
        fs_plan_sep(&o);
        fs_plan_put(&o, "site=%s@%s+0x%llx", p->site_func, p->site_module,
                    (unsigned long long)p->site_offset);
        if (p->site_occurrence > 1)
            fs_plan_put(&o, "#%llu", (unsigned long long)p->site_occurrence);
        for (int i = 0; i < p->n_callers && i < FS_PLAN_MAX_CALLERS; i++) {
            if (i == 0)
                fs_plan_sep(&o);
            fs_plan_put(&o, "%s%s+0x%llx", i ? "/" : "caller=", p->caller_module[i],
                        (unsigned long long)p->caller_offset[i]);
        }
        if (p->ctx != 0) {
            fs_plan_sep(&o);
            fs_plan_put(&o, "ctx=0x%llx", (unsigned long long)p->ctx);
        }
        break;
    case FS_PLAN_RANDOM: {
        char num[64];
        fs_plan_fmt_p(p->random_p, num, sizeof num);
        fs_plan_sep(&o);
        fs_plan_put(&o, "random:p=%s", num);
        if (p->random_seed != 0) {
            fs_plan_sep(&o);
            fs_plan_put(&o, "seed=%llu", (unsigned long long)p->random_seed);
        }
        break;
    }
    case FS_PLAN_NONE:
    default:
        break;
    }
    if (p->then != 0 && (p->trigger == FS_PLAN_NTH || p->trigger == FS_PLAN_SITE)) {
        fs_plan_sep(&o);
        fs_plan_put(&o, "then=%llu", (unsigned long long)p->then);
    }
    if (p->persistent) {
        fs_plan_sep(&o);
        fs_plan_put(&o, "persistent");
    }
    if (p->internal) {
        fs_plan_sep(&o);
        fs_plan_put(&o, "internal");
    }
    if (p->err != 0) {
        const char *name = fs_errno_name(p->err);
        fs_plan_sep(&o);
        if (name != NULL)
            fs_plan_put(&o, "errno=%s", name);
        else
            fs_plan_put(&o, "errno=%d", p->err);
    }
    for (i = 0; i < p->n_only && i < FS_PLAN_MAX_ONLY; i++) {
        fs_plan_sep(&o);
        fs_plan_put(&o, "%s%.*s", i == 0 ? "only=" : "", FS_PLAN_NAME_MAX, p->only[i]);
    }
    if (p->module_filter[0] != '\0') {
        fs_plan_sep(&o);
        fs_plan_put(&o, "module=%.*s", FS_PLAN_MODULE_MAX, p->module_filter);
    }
    if (o.items == 0)
        fs_plan_put(&o, "none");
    return (int)o.pos;
}

/* ---- decisions ---------------------------------------------------------- */

static const char *fs_plan_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

int fs_plan_counts_func(const struct fs_plan *p, const char *func)
{
    if (p->n_only <= 0)
        return 1;
    for (int i = 0; func && i < p->n_only && i < FS_PLAN_MAX_ONLY; i++)
        if (strcmp(p->only[i], func) == 0)
            return 1;
    return 0;
}

int fs_plan_counts(const struct fs_plan *p, const char *func, const char *module)
{
    if (!fs_plan_counts_func(p, func))
        return 0;
    if (p->module_filter[0] != '\0') {
        if (module == NULL || strcmp(p->module_filter, fs_plan_basename(module)) != 0)
            return 0;
    }
    return 1;
}

static uint64_t fs_plan_splitmix64(uint64_t x)
{
    uint64_t z = x + UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

int fs_plan_fires(const struct fs_plan *p, uint64_t ordinal, const char *func,
                  const char *module, uint64_t offset, uint64_t occurrence, uint64_t ctx)
{
    switch (p->trigger) {
    case FS_PLAN_NTH:
        return ordinal == p->nth;
    case FS_PLAN_SITE:
        if (func == NULL || module == NULL)
            return 0;
        return strcmp(func, p->site_func) == 0 &&
               strcmp(fs_plan_basename(module), p->site_module) == 0 &&
               offset == p->site_offset && occurrence == p->site_occurrence &&
               (p->ctx == 0 || ctx == p->ctx);
    case FS_PLAN_RANDOM: {
        uint64_t h = fs_plan_splitmix64(p->random_seed ^ (ordinal * UINT64_C(0x9E3779B97F4A7C15)));
        return (double)(h >> 11) * 0x1.0p-53 < p->random_p;
    }
    case FS_PLAN_NONE:
    default:
        return 0;
    }
}
