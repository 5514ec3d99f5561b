/* test_plan.c — unit test of the fault plan (harness/common/plan.c):
 * every SPEC item form and combination, every parse error and its message,
 * format -> parse round trips, fires() and counts() semantics, the errno
 * name table, and that fs_plan_parse never allocates.
 *
 * Plain main(); prints each failing check and exits 1 if any failed. */
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_checks;
static int g_failures;
static int g_bulk;      /* inside a bulk loop: count failures, not checks */

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!g_bulk)                                                           \
            g_checks++;                                                        \
        if (!(cond)) {                                                         \
            g_failures++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* ---- allocation guard: fs_plan_parse must not call malloc ----------------
 * Not under AddressSanitizer, which owns malloc itself. */
#if defined(__SANITIZE_ADDRESS__)
#define PLAN_ALLOC_GUARD 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define PLAN_ALLOC_GUARD 0
#endif
#endif
#ifndef PLAN_ALLOC_GUARD
#if defined(__GLIBC__)
#define PLAN_ALLOC_GUARD 1
#else
#define PLAN_ALLOC_GUARD 0
#endif
#endif

#if PLAN_ALLOC_GUARD
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile int g_forbid_alloc;   /* volatile: gcc assumes malloc does not read it */
static volatile int g_allocs_seen;

void *malloc(size_t n)
{
    if (g_forbid_alloc)
        g_allocs_seen++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    if (g_forbid_alloc)
        g_allocs_seen++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    if (g_forbid_alloc)
        g_allocs_seen++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    if (g_forbid_alloc && p != NULL)
        g_allocs_seen++;
    __libc_free(p);
}
#define FORBID_ALLOC() (g_forbid_alloc = 1)
#define ALLOW_ALLOC() (g_forbid_alloc = 0)
#else
#define FORBID_ALLOC() ((void)0)
#define ALLOW_ALLOC() ((void)0)
#endif

/* Parse with the allocation guard on. */
static int parse(const char *spec, struct fs_plan *p, char *err, size_t errlen)
{
    int rc;
    FORBID_ALLOC();
    rc = fs_plan_parse(spec, p, err, errlen);
    ALLOW_ALLOC();
    return rc;
}

static int is_zero_plan(const struct fs_plan *p)
{
    static const struct fs_plan zero;
    return memcmp(p, &zero, sizeof zero) == 0;
}

/* Round trip: format the plan, parse it back, compare; and the canonical
 * text is a fixed point. Returns the canonical text in out. */
static void check_roundtrip(const char *label, const struct fs_plan *p, char *out, size_t outlen)
{
    char buf[4096], buf2[4096], err[512];
    struct fs_plan q;
    int n = fs_plan_format(p, buf, sizeof buf);
    CHECK(n > 0 && (size_t)n == strlen(buf), "%s: format returned %d for '%s'", label, n, buf);
    CHECK(parse(buf, &q, err, sizeof err) == 0, "%s: canonical '%s' does not parse: %s", label, buf, err);
    CHECK(memcmp(p, &q, sizeof q) == 0, "%s: round trip of '%s' changed the plan", label, buf);
    CHECK(fs_plan_format(&q, buf2, sizeof buf2) == n && strcmp(buf, buf2) == 0,
          "%s: canonical form not stable: '%s' vs '%s'", label, buf, buf2);
    if (p->trigger == FS_PLAN_RANDOM)
        CHECK(q.random_p == p->random_p, "%s: p %.17g came back as %.17g ('%s')", label,
              p->random_p, q.random_p, buf);
    if (out != NULL)
        snprintf(out, outlen, "%s", buf);
}

/* Parse a valid spec; check success, empty errbuf, round trip. */
static void parse_ok(const char *spec, struct fs_plan *p)
{
    char err[512];
    int rc;
    memset(err, 'x', sizeof err);
    rc = parse(spec, p, err, sizeof err);
    CHECK(rc == 0, "'%s' should parse, got: %s", spec, err);
    if (rc == 0) {
        CHECK(err[0] == '\0', "'%s': errbuf not empty on success: %s", spec, err);
        check_roundtrip(spec, p, NULL, 0);
    }
}

/* Parse an invalid spec; check failure, zeroed plan, one-line message that
 * names the bad item verbatim (in quotes) and contains 'hint'. */
static void parse_bad(const char *spec, const char *item, const char *hint)
{
    char err[2048], quoted[1024];
    struct fs_plan p;
    int rc;
    memset(&p, 0x5a, sizeof p);
    rc = parse(spec, &p, err, sizeof err);
    CHECK(rc == -1, "'%s' should fail, returned %d", spec, rc);
    if (rc != -1)
        return;
    CHECK(is_zero_plan(&p), "'%s': plan not reset on error", spec);
    snprintf(quoted, sizeof quoted, "'%s'", item);
    CHECK(strncmp(err, "bad --fail item ", 16) == 0, "'%s': message does not start right: %s", spec, err);
    CHECK(strstr(err, quoted) != NULL, "'%s': message does not name %s: %s", spec, quoted, err);
    CHECK(strchr(err, '\n') == NULL, "'%s': message is not one line: %s", spec, err);
    if (hint != NULL)
        CHECK(strstr(err, hint) != NULL, "'%s': message lacks '%s': %s", spec, hint, err);
}

/* ---- item forms --------------------------------------------------------- */

static void test_none(void)
{
    struct fs_plan p;
    char buf[64];
    const char *specs[] = {"", "none", "  none  ", " ", ",", " ; , ", "none,", ",none;"};
    size_t i;
    char err[64] = "junk";
    CHECK(parse(NULL, &p, err, sizeof err) == 0 && is_zero_plan(&p), "NULL spec");
    CHECK(err[0] == '\0', "NULL spec: errbuf not cleared");
    for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        parse_ok(specs[i], &p);
        CHECK(is_zero_plan(&p), "'%s' is not the empty plan", specs[i]);
    }
    parse_ok("", &p);
    CHECK(fs_plan_format(&p, buf, sizeof buf) == 4 && strcmp(buf, "none") == 0, "format(none) = '%s'", buf);
    /* NULL errbuf is fine */
    CHECK(fs_plan_parse("nth=2", &p, NULL, 0) == 0 && p.nth == 2, "NULL errbuf, success");
    CHECK(fs_plan_parse("nth=0", &p, NULL, 0) == -1, "NULL errbuf, failure");
    CHECK(fs_plan_parse("nth=0", &p, NULL, 100) == -1, "NULL errbuf with length, failure");
}

static void test_nth(void)
{
    struct fs_plan p;
    parse_ok("nth=3", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 3, "nth=3");
    parse_ok("nth=1", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 1, "nth=1");
    parse_ok("nth=007", &p);
    CHECK(p.nth == 7, "nth=007 -> %llu", (unsigned long long)p.nth);
    parse_ok("nth=18446744073709551615", &p);
    CHECK(p.nth == UINT64_MAX, "nth=UINT64_MAX");
    parse_ok("  nth = 12  ", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 12, "whitespace around = and item");
    parse_ok("\tnth=5\n", &p);
    CHECK(p.nth == 5, "tab/newline around item");
}

static void test_site(void)
{
    struct fs_plan p;
    parse_ok("site=open@demo_fd+0x1234", &p);
    CHECK(p.trigger == FS_PLAN_SITE, "site trigger");
    CHECK(strcmp(p.site_func, "open") == 0, "site func '%s'", p.site_func);
    CHECK(strcmp(p.site_module, "demo_fd") == 0, "site module '%s'", p.site_module);
    CHECK(p.site_offset == 0x1234, "site offset %llx", (unsigned long long)p.site_offset);
    CHECK(p.site_occurrence == 1, "default occurrence is 1, got %llu", (unsigned long long)p.site_occurrence);
    CHECK(p.ctx == 0, "default ctx 0");

    parse_ok("site=open@demo_fd+0x1234#2", &p);
    CHECK(p.site_occurrence == 2 && p.site_offset == 0x1234, "#2");
    parse_ok("site=open@demo_fd+1234", &p);
    CHECK(p.site_offset == 0x1234, "offset without 0x is hex");
    parse_ok("site=open@demo_fd+0XaBcD", &p);
    CHECK(p.site_offset == 0xabcd, "0X and mixed case hex");
    parse_ok("site=open@demo_fd+0x0", &p);
    CHECK(p.site_offset == 0, "offset 0");
    parse_ok("site=open@demo_fd+0xffffffffffffffff#18446744073709551615", &p);
    CHECK(p.site_offset == UINT64_MAX && p.site_occurrence == UINT64_MAX, "max offset and K");
    /* module names with '+', '@', '#' and '-' */
    parse_ok("site=_ZNSt6vectorIiE9push_backE@libstdc++.so.6+0xabc#7", &p);
    CHECK(strcmp(p.site_func, "_ZNSt6vectorIiE9push_backE") == 0, "mangled func");
    CHECK(strcmp(p.site_module, "libstdc++.so.6") == 0, "module with '+': '%s'", p.site_module);
    CHECK(p.site_offset == 0xabc && p.site_occurrence == 7, "offset/K after module with '+'");
    parse_ok("site=f@lib#x.so+0x10", &p);
    CHECK(strcmp(p.site_module, "lib#x.so") == 0 && p.site_occurrence == 1, "module with '#': '%s'", p.site_module);
    parse_ok("site=f@lib#x.so+0x10#3", &p);
    CHECK(strcmp(p.site_module, "lib#x.so") == 0 && p.site_occurrence == 3, "module with '#' and #K");
    parse_ok("site=f@a@b-1.2.so+0x10", &p);
    CHECK(strcmp(p.site_func, "f") == 0 && strcmp(p.site_module, "a@b-1.2.so") == 0, "module with '@'");
    parse_ok("site=f@m+0x10#2+0x5", &p);
    CHECK(strcmp(p.site_module, "m+0x10#2") == 0 && p.site_offset == 5 && p.site_occurrence == 1,
          "last '+' starts the offset: module '%s'", p.site_module);

    /* ctx */
    parse_ok("site=open@demo_fd+0x1234,ctx=0xdeadbeef", &p);
    CHECK(p.ctx == 0xdeadbeef, "ctx=0x");
    parse_ok("ctx=DEADBEEF,site=open@demo_fd+0x1234", &p);
    CHECK(p.ctx == 0xdeadbeef && p.trigger == FS_PLAN_SITE, "ctx before site, no 0x");
    parse_ok("site=open@demo_fd+0x1234#2;ctx=0xffffffffffffffff", &p);
    CHECK(p.ctx == UINT64_MAX, "ctx max");
    parse_ok("site=open@demo_fd+0x1234,ctx=0", &p);
    CHECK(p.ctx == 0, "ctx=0 means any");

    /* caller= (sweep's keys for thin wrappers) */
    parse_ok("site=malloc@libyaml.so.0+0x237c#3,caller=libyaml.so.0+0x11f5d", &p);
    CHECK(p.n_callers == 1 && strcmp(p.caller_module[0], "libyaml.so.0") == 0 && p.caller_offset[0] == 0x11f5d &&
          p.site_occurrence == 3, "caller= module '%s' offset %llx", p.caller_module[0],
          (unsigned long long)p.caller_offset[0]);
    {
        char buf[512];
        fs_plan_format(&p, buf, sizeof buf);
        CHECK(strcmp(buf, "site=malloc@libyaml.so.0+0x237c#3,caller=libyaml.so.0+0x11f5d") == 0,
              "format with caller= '%s'", buf);
        check_roundtrip("caller=", &p, NULL, 0);
    }
    parse_ok("site=f@m+0x10,caller=a+b.so+0x20", &p);
    CHECK(strcmp(p.caller_module[0], "a+b.so") == 0 && p.caller_offset[0] == 0x20, "caller: last '+' starts the offset");
    parse_ok("site=f@m+0x10,caller=a+0x1/b.so+0x2/c+0x3", &p);
    CHECK(p.n_callers == 3 && strcmp(p.caller_module[1], "b.so") == 0 && p.caller_offset[2] == 3, "three callers");
    {
        char buf[512];
        fs_plan_format(&p, buf, sizeof buf);
        CHECK(strcmp(buf, "site=f@m+0x10,caller=a+0x1/b.so+0x2/c+0x3") == 0, "format with 3 callers '%s'", buf);
    }
    parse_ok("site=f@m+0x10", &p);
    CHECK(p.n_callers == 0, "no caller: any caller");
    parse_bad("site=f@m+0x10,caller=a+0x1/b+0x2/c+0x3/d+0x4", "caller=a+0x1/b+0x2/c+0x3/d+0x4", "at most 3");
    parse_bad("site=f@m+0x10,caller=a+0x1/", "caller=a+0x1/", "MODULE+0xOFFSET");
    parse_bad("nth=3,caller=m+0x10", "caller=m+0x10", "only goes with site=");
    parse_bad("site=f@m+0x10,caller=m", "caller=m", "MODULE+0xOFFSET");
    parse_bad("site=f@m+0x10,caller=+0x10", "caller=+0x10", "MODULE+0xOFFSET");
    parse_bad("site=f@m+0x10,caller=m+0x1,caller=m+0x2", "caller=m+0x2", "");

    /* longest accepted names */
    {
        char spec[1024], func[FS_PLAN_NAME_MAX], mod[FS_PLAN_MODULE_MAX];
        memset(func, 'f', sizeof func - 1);
        func[sizeof func - 1] = '\0';
        memset(mod, 'm', sizeof mod - 1);
        mod[sizeof mod - 1] = '\0';
        snprintf(spec, sizeof spec, "site=%s@%s+0x1", func, mod);
        parse_ok(spec, &p);
        CHECK(strcmp(p.site_func, func) == 0 && strcmp(p.site_module, mod) == 0, "longest names");
    }
}

static void test_random(void)
{
    static const struct {
        const char *spec;
        double p;
    } cases[] = {
        {"random:p=0", 0.0},        {"random:p=1", 1.0},         {"random:p=0.5", 0.5},
        {"random:p=.25", 0.25},     {"random:p=1e-3", 1e-3},     {"random:p=1E-3", 1e-3},
        {"random:p=2.5e-2", 0.025}, {"random:p=0.1", 0.1},       {"random:p=1.0", 1.0},
        {"random:p=0.", 0.0},       {"random:p=00.750", 0.75},   {"random:p=1e0", 1.0},
        {"random:p=10e-1", 1.0},    {"random:p=0.001e+1", 0.01}, {"random:p=1e-05", 1e-5},
        {"random:p=0x1p-2", 0.25},  {"random:p=0x1.8p-1", 0.75}, {"random:p=0x0.4", 0.25},
        {"random:p=0x1p+0", 1.0},   {"random:p=1e-400", 0.0},
        {"random:p=0.33333333333333331", 0.33333333333333331},
        {"random:p=0.10000000000000001", 0.1},
        {"random:p=0.99999999999999989", 0.99999999999999989},
    };
    struct fs_plan p;
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse_ok(cases[i].spec, &p);
        CHECK(p.trigger == FS_PLAN_RANDOM, "%s: trigger", cases[i].spec);
        CHECK(p.random_p == cases[i].p, "%s: p = %.17g, want %.17g", cases[i].spec, p.random_p, cases[i].p);
        CHECK(p.random_seed == 0, "%s: default seed 0", cases[i].spec);
    }
    parse_ok("random:p=0.25,seed=7", &p);
    CHECK(p.random_p == 0.25 && p.random_seed == 7, "seed=7");
    parse_ok("seed=7,random:p=0.25", &p);
    CHECK(p.random_p == 0.25 && p.random_seed == 7, "seed before random");
    parse_ok("random:p=0.25;seed=0x10", &p);
    CHECK(p.random_seed == 16, "seed=0x10");
    parse_ok("random:p=0.25,seed=18446744073709551615", &p);
    CHECK(p.random_seed == UINT64_MAX, "seed max");
    parse_ok("random:p=0.25,seed=0", &p);
    CHECK(p.random_seed == 0, "seed=0");
}

static void test_flags_and_filters(void)
{
    struct fs_plan p;
    char spec[4096];
    int i;

    parse_ok("persistent", &p);
    CHECK(p.persistent == 1 && p.trigger == FS_PLAN_NONE, "persistent alone");
    parse_ok("internal", &p);
    CHECK(p.internal == 1 && p.trigger == FS_PLAN_NONE && p.persistent == 0, "internal alone");
    parse_ok("site=malloc@prog+0x10#3,internal,only=malloc", &p);
    CHECK(p.internal == 1 && p.trigger == FS_PLAN_SITE && p.n_only == 1, "internal with a site and only=");
    {
        char canon[256];
        fs_plan_format(&p, canon, sizeof canon);
        CHECK(strcmp(canon, "site=malloc@prog+0x10#3,internal,only=malloc") == 0, "internal: canonical place");
    }
    parse_ok("errno=EIO", &p);
    CHECK(p.err == EIO && p.trigger == FS_PLAN_NONE, "errno=EIO");
    parse_ok("errno=eio", &p);
    CHECK(p.err == EIO, "errno names are case-insensitive");
    parse_ok("errno=5", &p);
    CHECK(p.err == 5, "errno=5");
    parse_ok("errno=4095", &p);
    CHECK(p.err == 4095, "errno=4095 (unnamed number)");
    parse_ok("errno=EWOULDBLOCK", &p);
    CHECK(p.err == EAGAIN, "errno=EWOULDBLOCK");
    parse_ok("errno=ENOTSUP", &p);
    CHECK(p.err == ENOTSUP, "errno=ENOTSUP");

    parse_ok("only=open", &p);
    CHECK(p.n_only == 1 && strcmp(p.only[0], "open") == 0 && p.trigger == FS_PLAN_NONE, "only=open");
    parse_ok("only=open,openat,close", &p);
    CHECK(p.n_only == 3 && strcmp(p.only[1], "openat") == 0 && strcmp(p.only[2], "close") == 0,
          "only list of 3");
    parse_ok("only = open ; openat ,  close ", &p);
    CHECK(p.n_only == 3 && strcmp(p.only[2], "close") == 0, "only list with blanks and ';'");
    parse_ok("only=open,random", &p);
    CHECK(p.n_only == 2 && strcmp(p.only[1], "random") == 0, "function named random in only list");
    parse_ok("only=open,openat,persistent", &p);
    CHECK(p.n_only == 2 && p.persistent == 1, "persistent keyword ends the only list");
    parse_ok("only=open,openat,none", &p);
    CHECK(p.n_only == 2 && p.trigger == FS_PLAN_NONE, "none keyword ends the only list");

    /* exactly FS_PLAN_MAX_ONLY functions */
    strcpy(spec, "only=f0");
    for (i = 1; i < FS_PLAN_MAX_ONLY; i++)
        sprintf(spec + strlen(spec), ",f%d", i);
    parse_ok(spec, &p);
    CHECK(p.n_only == FS_PLAN_MAX_ONLY && strcmp(p.only[FS_PLAN_MAX_ONLY - 1], "f31") == 0,
          "%d functions accepted", FS_PLAN_MAX_ONLY);

    parse_ok("module=libfoo.so", &p);
    CHECK(strcmp(p.module_filter, "libfoo.so") == 0 && p.trigger == FS_PLAN_NONE, "module=");
    parse_ok("module=libstdc++.so.6", &p);
    CHECK(strcmp(p.module_filter, "libstdc++.so.6") == 0, "module with '+'");
}

static void test_combos(void)
{
    struct fs_plan p;
    parse_ok("only=open,openat,nth=2", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 2 && p.n_only == 2 && strcmp(p.only[0], "open") == 0 &&
              strcmp(p.only[1], "openat") == 0,
          "only=open,openat,nth=2");
    parse_ok("random:p=0.5,seed=9,persistent", &p);
    CHECK(p.trigger == FS_PLAN_RANDOM && p.random_p == 0.5 && p.random_seed == 9 && p.persistent,
          "random:p=0.5,seed=9,persistent");
    parse_ok("site=malloc@libfoo.so+0x1a2b#3,errno=EIO", &p);
    CHECK(p.trigger == FS_PLAN_SITE && strcmp(p.site_func, "malloc") == 0 &&
              strcmp(p.site_module, "libfoo.so") == 0 && p.site_offset == 0x1a2b &&
              p.site_occurrence == 3 && p.err == EIO,
          "site=malloc@libfoo.so+0x1a2b#3,errno=EIO");
    parse_ok("module=demo_fd,only=fopen,fclose,persistent,errno=ENOMEM,nth=4", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 4 && p.n_only == 2 && p.persistent && p.err == ENOMEM &&
              strcmp(p.module_filter, "demo_fd") == 0,
          "everything with nth");
    parse_ok("site=open@demo_fd+0x1234#2,ctx=0xabc,persistent,errno=EACCES,only=open,module=demo_fd", &p);
    CHECK(p.trigger == FS_PLAN_SITE && p.ctx == 0xabc && p.persistent && p.err == EACCES &&
              p.n_only == 1 && strcmp(p.module_filter, "demo_fd") == 0,
          "everything with site");
    parse_ok("none,only=open", &p);
    CHECK(p.trigger == FS_PLAN_NONE && p.n_only == 1, "none with a filter");
    parse_ok("site=open@demo_fd+0x1234,then=3", &p);
    CHECK(p.trigger == FS_PLAN_SITE && p.then == 3 && p.site_occurrence == 1, "site with then=");
    parse_ok("nth=7,then=1,persistent", &p);
    CHECK(p.trigger == FS_PLAN_NTH && p.nth == 7 && p.then == 1 && p.persistent, "nth with then=");
    {
        char buf[256];
        fs_plan_format(&p, buf, sizeof buf);
        CHECK(strcmp(buf, "nth=7,then=1,persistent") == 0, "then= printed after the trigger: %s", buf);
    }
    parse_bad("then=2", "then=2", "then= only goes with nth= or site=");
    parse_bad("random:p=0.5,then=2", "then=2", "then= only goes with nth= or site=");
    parse_bad("nth=1,then=0", "then=0", "N must be a decimal integer >= 1");
    parse_bad("nth=1,then=x", "then=x", "N must be a decimal integer >= 1");
    parse_bad("nth=1,then=1,then=2", "then=2", NULL);
    parse_ok("only=open,persistent,errno=EMFILE", &p);
    CHECK(p.trigger == FS_PLAN_NONE && p.persistent && p.err == EMFILE, "flags without trigger");
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors(void)
{
    char spec[4096], item[4096], name[512];
    int i;

    parse_bad("nht=3", "nht=3", "unknown key 'nht'");
    parse_bad("nht=3", "nht=3", "accepted: nth=N, site=FUNC@MODULE+0xOFFSET[#K], random:p=P[,seed=S], "
                                "persistent, internal, errno=NAME, only=FUNC[,FUNC...], module=NAME, ctx=HEX, caller=MOD+0xOFF[/...], "
                                "then=N, none");
    parse_bad("nth=3,bogus", "bogus", "unknown item");
    parse_bad("open", "open", "accepted:");
    parse_bad("only=open,nth=2,close", "close", "must follow only= directly");
    parse_bad("NTH=3", "NTH=3", "unknown key");
    parse_bad("random:seed=3", "random:seed=3", "unknown key");

    /* nth */
    parse_bad("nth=0", "nth=0", ">= 1");
    parse_bad("nth=-1", "nth=-1", ">= 1");
    parse_bad("nth=abc", "nth=abc", "nth=N");
    parse_bad("nth=", "nth=", "nth=N");
    parse_bad("nth=3x", "nth=3x", "nth=N");
    parse_bad("nth=0x3", "nth=0x3", "decimal");
    parse_bad("nth=18446744073709551616", "nth=18446744073709551616", "nth=N");
    parse_bad("nth=1 2", "nth=1 2", "nth=N");

    /* random */
    parse_bad("random:p=1.5", "random:p=1.5", "[0,1]");
    parse_bad("random:p=1.0000001", "random:p=1.0000001", "[0,1]");
    parse_bad("random:p=-0.1", "random:p=-0.1", "[0,1]");
    parse_bad("random:p=abc", "random:p=abc", "[0,1]");
    parse_bad("random:p=", "random:p=", "[0,1]");
    parse_bad("random:p=nan", "random:p=nan", "[0,1]");
    parse_bad("random:p=inf", "random:p=inf", "[0,1]");
    parse_bad("random:p=1e5", "random:p=1e5", "[0,1]");
    parse_bad("random:p=1e999999", "random:p=1e999999", "[0,1]");
    parse_bad("random:p=0.5.5", "random:p=0.5.5", "[0,1]");
    parse_bad("random:p=.", "random:p=.", "[0,1]");
    parse_bad("random:p=1e", "random:p=1e", "[0,1]");
    parse_bad("random:p=0x", "random:p=0x", "[0,1]");
    parse_bad("random:p=0x1p", "random:p=0x1p", "[0,1]");
    parse_bad("random:p=0x2p0", "random:p=0x2p0", "[0,1]");
    parse_bad("random:p=+0.5", "random:p=+0.5", "[0,1]");
    parse_bad("random", "random", "random:p=P");
    parse_bad("random:0.5", "random:0.5", "random:p=P");
    parse_bad("random:p=0.5,seed=abc", "seed=abc", "seed=S");
    parse_bad("random:p=0.5,seed=-1", "seed=-1", "seed=S");
    parse_bad("random:p=0.5,seed=18446744073709551616", "seed=18446744073709551616", "seed=S");
    parse_bad("seed=3", "seed=3", "random:p=P");
    parse_bad("nth=2,seed=3", "seed=3", "random:p=P");

    /* site */
    parse_bad("site=open", "site=open", "missing '@MODULE'");
    parse_bad("site=open@demo", "site=open@demo", "missing '+OFFSET'");
    parse_bad("site=open@demo+", "site=open@demo+", "OFFSET");
    parse_bad("site=@demo+0x1", "site=@demo+0x1", "bad function name ''");
    parse_bad("site=op-en@demo+0x1", "site=op-en@demo+0x1", "bad function name 'op-en'");
    parse_bad("site=open@+0x1", "site=open@+0x1", "bad module ''");
    parse_bad("site=open@/usr/lib/libc.so.6+0x1", "site=open@/usr/lib/libc.so.6+0x1", "basename");
    parse_bad("site=open@my lib+0x1", "site=open@my lib+0x1", "bad module 'my lib'");
    parse_bad("site=open@demo+0xZZ", "site=open@demo+0xZZ", "bad OFFSET '0xZZ'");
    parse_bad("site=open@demo+0x", "site=open@demo+0x", "bad OFFSET");
    parse_bad("site=open@demo+0x10000000000000000", "site=open@demo+0x10000000000000000", "too large");
    parse_bad("site=open@demo+0x1#0", "site=open@demo+0x1#0", ">= 1");
    parse_bad("site=open@demo+0x1#x", "site=open@demo+0x1#x", "#K");
    parse_bad("site=open@demo+0x1#", "site=open@demo+0x1#", "#K");
    parse_bad("site=open@demo+0x1#-2", "site=open@demo+0x1#-2", "#K");
    parse_bad("ctx=0x12", "ctx=0x12", "only goes with site=");
    parse_bad("nth=3,ctx=0x12", "ctx=0x12", "only goes with site=");
    parse_bad("site=open@demo+0x1,ctx=xyz", "ctx=xyz", "ctx=HEX");
    parse_bad("site=open@demo+0x1,ctx=", "ctx=", "ctx=HEX");
    parse_bad("site=open@demo+0x1,ctx=0x10000000000000000", "ctx=0x10000000000000000", "16 hex digits");

    /* errno */
    parse_bad("errno=EFOO", "errno=EFOO", "unknown errno 'EFOO'");
    parse_bad("errno=EFOO", "errno=EFOO", "EIO");
    parse_bad("errno=0", "errno=0", "unknown errno");
    parse_bad("errno=4096", "errno=4096", "1..4095");
    parse_bad("errno=-5", "errno=-5", "unknown errno");
    parse_bad("errno=", "errno=", "unknown errno");
    parse_bad("errno=EIOX", "errno=EIOX", "unknown errno");
    parse_bad("errno=EI", "errno=EI", "unknown errno");

    /* only / module */
    parse_bad("only=", "only=", "bad function name ''");
    parse_bad("only=a b", "only=a b", "bad function name 'a b'");
    parse_bad("only=open,clo-se", "clo-se", "bad function name");
    strcpy(spec, "only=f0");
    for (i = 1; i <= FS_PLAN_MAX_ONLY; i++)
        sprintf(spec + strlen(spec), ",f%d", i);
    parse_bad(spec, "f32", "at most 32");
    memset(name, 'x', FS_PLAN_NAME_MAX);
    name[FS_PLAN_NAME_MAX] = '\0';
    snprintf(spec, sizeof spec, "only=%s", name);
    parse_bad(spec, spec, "1 to 63 characters");
    snprintf(spec, sizeof spec, "site=%s@m+0x1", name);
    parse_bad(spec, spec, "1 to 63 characters");
    memset(name, 'm', FS_PLAN_MODULE_MAX);
    name[FS_PLAN_MODULE_MAX] = '\0';
    snprintf(spec, sizeof spec, "module=%s", name);
    parse_bad(spec, spec, "1 to 255 characters");
    snprintf(spec, sizeof spec, "site=f@%s+0x1", name);
    parse_bad(spec, spec, "1 to 255 characters");
    parse_bad("module=", "module=", "module=NAME");
    parse_bad("module=/lib/libfoo.so", "module=/lib/libfoo.so", "basename");
    parse_bad("module=a=b", "module=a=b", "bad module 'a=b'");

    /* at most one trigger */
    parse_bad("nth=2,random:p=0.5", "random:p=0.5", "mutually exclusive");
    parse_bad("nth=2,random:p=0.5", "nth=2", "already given");
    parse_bad("random:p=0.5,site=open@demo+0x1", "site=open@demo+0x1", "mutually exclusive");
    parse_bad("site=open@demo+0x1,nth=1", "nth=1", "mutually exclusive");
    parse_bad("none,nth=3", "nth=3", "at most one trigger");
    parse_bad("nth=3,none", "none", "at most one trigger");

    /* duplicate keys */
    parse_bad("nth=2,nth=3", "nth=3", "duplicate key 'nth'");
    parse_bad("random:p=0.5,random:p=0.5", "random:p=0.5", "duplicate key 'random:p'");
    parse_bad("site=a@b+0x1,site=a@b+0x2", "site=a@b+0x2", "duplicate key 'site'");
    parse_bad("none,none", "none", "duplicate key 'none'");
    parse_bad("persistent,persistent", "persistent", "duplicate key 'persistent'");
    parse_bad("errno=EIO,errno=ENOMEM", "errno=ENOMEM", "duplicate key 'errno'");
    parse_bad("only=a,only=b", "only=b", "duplicate key 'only'");
    parse_bad("module=a,module=b", "module=b", "duplicate key 'module'");
    parse_bad("seed=1,seed=2,random:p=0.5", "seed=2", "duplicate key 'seed'");
    parse_bad("ctx=1,ctx=2,site=a@b+0x1", "ctx=2", "duplicate key 'ctx'");

    /* keywords with values */
    parse_bad("persistent=1", "persistent=1", "takes no value");
    parse_bad("internal=1", "internal=1", "takes no value");
    parse_bad("internal,internal", "internal", "duplicate key");
    parse_bad("none=1", "none=1", "takes no value");

    /* error in a later item after valid ones; item named after trimming */
    parse_bad("only=open, persistent ,  nth=0  ", "nth=0", ">= 1");

    /* control characters in an item do not break the one-line message */
    parse_bad("nht=\x01", "nht=?", "unknown key");

    /* a very long item is quoted up to 300 characters, then "..." */
    memset(item, 'z', 3000);
    item[3000] = '\0';
    {
        char err[1024], want[512];
        struct fs_plan p;
        CHECK(parse(item, &p, err, sizeof err) == -1, "3000-char item fails");
        snprintf(want, sizeof want, "bad --fail item '%.300s...': unknown item", item);
        CHECK(strncmp(err, want, strlen(want)) == 0, "3000-char item message: %.80s...", err);
        CHECK(strstr(err, "(accepted: nth=N") != NULL, "3000-char item message keeps the accepted list");
    }

    /* errbuf truncation: always NUL-terminated within errlen */
    {
        char small[16];
        struct fs_plan p;
        memset(small, 'Q', sizeof small);
        CHECK(parse("nht=3", &p, small, 8) == -1, "small errbuf: fails");
        CHECK(small[7] == '\0' && strlen(small) == 7 && small[8] == 'Q', "small errbuf: truncated at 8");
        CHECK(parse("nht=3", &p, small, 1) == -1 && small[0] == '\0', "errlen 1");
        small[0] = 'Q';
        CHECK(parse("nht=3", &p, small, 0) == -1 && small[0] == 'Q', "errlen 0 leaves errbuf alone");
    }
}

/* ---- format / round trip ----------------------------------------------- */

static void expect_canonical(const char *spec, const char *want)
{
    struct fs_plan p;
    char got[4096], err[512];
    CHECK(parse(spec, &p, err, sizeof err) == 0, "'%s' should parse: %s", spec, err);
    check_roundtrip(spec, &p, got, sizeof got);
    CHECK(strcmp(got, want) == 0, "canonical of '%s' is '%s', want '%s'", spec, got, want);
}

static uint64_t test_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void test_format(void)
{
    expect_canonical("nth=3", "nth=3");
    expect_canonical("site=open@demo_fd+0x1234#2", "site=open@demo_fd+0x1234#2");
    expect_canonical("site=open@demo_fd+0x1234#1", "site=open@demo_fd+0x1234");
    expect_canonical("site=open@demo_fd+1234", "site=open@demo_fd+0x1234");
    expect_canonical("site=open@demo_fd+0XABC", "site=open@demo_fd+0xabc");
    expect_canonical("random:p=0.25,seed=7", "random:p=0.25,seed=7");
    expect_canonical("random:p=.25", "random:p=0.25");
    expect_canonical("random:p=0.1", "random:p=0.1");
    expect_canonical("random:p=1e-3", "random:p=0.001");
    expect_canonical("random:p=1e-5", "random:p=1e-05");
    expect_canonical("random:p=1.000", "random:p=1");
    expect_canonical("random:p=0", "random:p=0");
    expect_canonical("random:p=0x1p-2", "random:p=0.25");
    expect_canonical("random:p=0.5,seed=0", "random:p=0.5");
    expect_canonical("random:p=0.5,seed=0x10", "random:p=0.5,seed=16");
    expect_canonical("", "none");
    expect_canonical("none", "none");
    expect_canonical("persistent", "persistent");
    expect_canonical("only=open", "only=open");
    expect_canonical("errno=EWOULDBLOCK", "errno=EAGAIN");
    expect_canonical("errno=eio", "errno=EIO");
    expect_canonical("errno=5", "errno=EIO");
    expect_canonical("errno=4000", "errno=4000");
    expect_canonical("module=libx.so;only=close;errno=ENOSPC;persistent", "persistent,errno=ENOSPC,only=close,module=libx.so");
}

static void test_format_order(void)
{
    expect_canonical(" module=libx.so ; only=open,close ; errno=ENOSPC ; persistent ; nth=9 ",
                     "nth=9,persistent,errno=ENOSPC,only=open,close,module=libx.so");
    expect_canonical("ctx=0xABC,only=malloc,site=malloc@libfoo.so+0x1a2b#3,persistent,errno=ENOMEM,module=libfoo.so",
                     "site=malloc@libfoo.so+0x1a2b#3,ctx=0xabc,persistent,errno=ENOMEM,only=malloc,module=libfoo.so");
    expect_canonical("seed=9,persistent,random:p=0.5", "random:p=0.5,seed=9,persistent");
    expect_canonical("none,module=demo", "module=demo");
    expect_canonical("only=open,openat,nth=2", "nth=2,only=open,openat");
}

static void test_roundtrip_random_p(void)
{
    struct fs_plan p;
    char buf[256];
    int i, n, before;
    uint64_t st = 42;
    static const double special[] = {
        0.0, 1.0, 0.5, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.9999999999999999, 1e-300,
        4.9406564584124654e-324 /* smallest subnormal */, 2.2250738585072014e-308,
        2.2250738585072009e-308 /* largest subnormal */, 1e-22, 1e-23, 123456789e-17,
        0.30000000000000004, 0.1 + 0.7,
    };

    memset(&p, 0, sizeof p);
    p.trigger = FS_PLAN_RANDOM;
    for (i = 0; i < (int)(sizeof special / sizeof special[0]); i++) {
        p.random_p = special[i];
        p.random_seed = (uint64_t)i;
        check_roundtrip("special p", &p, buf, sizeof buf);
    }
    /* uniformly random doubles in [0,1): 53-bit mantissas (often need 17 digits) */
    before = g_failures;
    g_bulk = 1;
    for (i = 0; i < 20000; i++) {
        p.random_p = (double)(test_splitmix64(&st) >> 11) * 0x1.0p-53;
        p.random_seed = test_splitmix64(&st);
        check_roundtrip("uniform p", &p, buf, sizeof buf);
    }
    /* random doubles spread over exponents */
    for (i = 0; i < 20000; i++) {
        uint64_t bits = test_splitmix64(&st);
        double d;
        bits &= UINT64_C(0x3fefffffffffffff);      /* positive, below 1.0 */
        memcpy(&d, &bits, sizeof d);
        p.random_p = d;
        check_roundtrip("any-exponent p", &p, buf, sizeof buf);
    }
    g_bulk = 0;
    CHECK(g_failures == before, "40000 random p values round-trip exactly");
    /* short decimals print as themselves */
    before = g_failures;
    g_bulk = 1;
    for (i = 0; i <= 1000; i++) {
        char spec[64], want[64];
        int k = i;
        snprintf(spec, sizeof spec, "random:p=%d.%03d", k / 1000, k % 1000);
        p.random_p = 0;
        CHECK(parse(spec, &p, NULL, 0) == 0, "%s parses", spec);
        CHECK(p.random_p == (double)k / 1000.0, "%s exact: %.17g", spec, p.random_p);
        n = fs_plan_format(&p, buf, sizeof buf);
        snprintf(want, sizeof want, "random:p=%g", (double)k / 1000.0);
        CHECK(n > 0 && strcmp(buf, want) == 0, "%s prints as '%s', want '%s'", spec, buf, want);
    }
    g_bulk = 0;
    CHECK(g_failures == before, "p = 0.000 .. 1.000 parse exactly and print as %%g");
}

static void test_format_truncation(void)
{
    struct fs_plan p;
    char buf[256], full[256];
    int n, m;
    CHECK(parse("site=malloc@libfoo.so+0x1a2b#3,errno=EIO,only=malloc,module=libfoo.so", &p, NULL, 0) == 0,
          "truncation plan parses");
    n = fs_plan_format(&p, full, sizeof full);
    CHECK(n == (int)strlen(full), "full length %d", n);
    memset(buf, 'Q', sizeof buf);
    m = fs_plan_format(&p, buf, 10);
    CHECK(m == n, "truncated format returns needed length %d, got %d", n, m);
    CHECK(buf[9] == '\0' && strncmp(buf, full, 9) == 0 && buf[10] == 'Q', "truncated to 9 chars + NUL: '%s'", buf);
    m = fs_plan_format(&p, NULL, 0);
    CHECK(m == n, "format(NULL, 0) returns needed length");
    memset(buf, 'Q', sizeof buf);
    m = fs_plan_format(&p, buf, 1);
    CHECK(m == n && buf[0] == '\0' && buf[1] == 'Q', "len 1");
    memset(buf, 'Q', sizeof buf);
    m = fs_plan_format(&p, buf, (size_t)n);
    CHECK(m == n && buf[n - 1] == '\0' && strncmp(buf, full, (size_t)n - 1) == 0, "len == needed truncates 1");
    m = fs_plan_format(&p, buf, (size_t)n + 1);
    CHECK(m == n && strcmp(buf, full) == 0, "len == needed+1 fits");
}

/* printf's radix character follows LC_NUMERIC; the canonical text must not. */
static void test_format_locale(void)
{
    static const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
    struct fs_plan p;
    char buf[256];
    size_t i;
    for (i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (setlocale(LC_NUMERIC, locales[i]) != NULL)
            break;
    }
    if (i == sizeof locales / sizeof locales[0]) {
        printf("note: no locale with a ',' radix installed; locale check skipped\n");
        return;
    }
    CHECK(parse("random:p=0.25,seed=3", &p, NULL, 0) == 0, "parse under %s", locales[i]);
    fs_plan_format(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "random:p=0.25,seed=3") == 0, "format under %s: '%s'", locales[i], buf);
    p.random_p = 1.0 / 3.0;
    check_roundtrip("locale 1/3", &p, NULL, 0);
    setlocale(LC_NUMERIC, "C");
}

/* ---- fires / counts ----------------------------------------------------- */

static uint64_t ref_hash(uint64_t seed, uint64_t ordinal)
{
    uint64_t x = seed ^ (ordinal * UINT64_C(0x9E3779B97F4A7C15));
    return test_splitmix64(&x);
}

static void test_fires(void)
{
    struct fs_plan p;
    uint64_t o;
    int hits, i;

    /* NONE */
    CHECK(parse("", &p, NULL, 0) == 0, "none parses");
    hits = 0;
    for (o = 0; o < 100000; o++)
        hits += fs_plan_fires(&p, o, "open", "demo", 0, 1, 0);
    CHECK(hits == 0, "none fired %d times", hits);
    CHECK(parse("only=open,persistent", &p, NULL, 0) == 0, "filters-only parses");
    CHECK(!fs_plan_fires(&p, 1, "open", "demo", 0, 1, 0), "filters without trigger never fire");

    /* NTH */
    CHECK(parse("nth=3", &p, NULL, 0) == 0, "nth=3 parses");
    hits = 0;
    for (o = 1; o <= 100; o++)
        hits += fs_plan_fires(&p, o, "open", "demo", 0, 1, 0);
    CHECK(hits == 1 && fs_plan_fires(&p, 3, "x", "y", 9, 9, 9), "nth=3 fires exactly at 3");
    CHECK(!fs_plan_fires(&p, 0, "open", "demo", 0, 1, 0), "nth=3 not at 0");
    /* fires does not apply filters (the caller asks counts first) */
    CHECK(parse("only=open,nth=2", &p, NULL, 0) == 0, "only=open,nth=2 parses");
    CHECK(fs_plan_fires(&p, 2, "close", "other", 0, 1, 0), "fires ignores only=");
    CHECK(parse("module=demo,nth=2", &p, NULL, 0) == 0, "module=demo,nth=2 parses");
    CHECK(fs_plan_fires(&p, 2, "close", "other", 0, 1, 0), "fires ignores module=");
    CHECK(parse("nth=18446744073709551615", &p, NULL, 0) == 0, "nth max parses");
    CHECK(fs_plan_fires(&p, UINT64_MAX, "f", "m", 0, 1, 0) && !fs_plan_fires(&p, 1, "f", "m", 0, 1, 0), "nth max");

    /* SITE */
    CHECK(parse("site=open@demo_fd+0x1234#2", &p, NULL, 0) == 0, "site parses");
    CHECK(fs_plan_fires(&p, 77, "open", "demo_fd", 0x1234, 2, 0), "site: exact match fires");
    CHECK(fs_plan_fires(&p, 1, "open", "demo_fd", 0x1234, 2, 0xfeed), "site without ctx: any ctx");
    CHECK(fs_plan_fires(&p, 1, "open", "/opt/bin/demo_fd", 0x1234, 2, 0), "site: module path compared by basename");
    CHECK(!fs_plan_fires(&p, 77, "openat", "demo_fd", 0x1234, 2, 0), "site: other func");
    CHECK(!fs_plan_fires(&p, 77, "ope", "demo_fd", 0x1234, 2, 0), "site: func prefix");
    CHECK(!fs_plan_fires(&p, 77, "open", "demo_fd2", 0x1234, 2, 0), "site: other module");
    CHECK(!fs_plan_fires(&p, 77, "open", "demo", 0x1234, 2, 0), "site: module prefix");
    CHECK(!fs_plan_fires(&p, 77, "open", "demo_fd", 0x1235, 2, 0), "site: other offset");
    CHECK(!fs_plan_fires(&p, 77, "open", "demo_fd", 0x1234, 1, 0), "site: occurrence 1");
    CHECK(!fs_plan_fires(&p, 77, "open", "demo_fd", 0x1234, 3, 0), "site: occurrence 3");
    CHECK(!fs_plan_fires(&p, 77, NULL, "demo_fd", 0x1234, 2, 0), "site: NULL func");
    CHECK(!fs_plan_fires(&p, 77, "open", NULL, 0x1234, 2, 0), "site: NULL module");
    CHECK(parse("site=open@demo_fd+0x1234,ctx=0xbeef", &p, NULL, 0) == 0, "site+ctx parses");
    CHECK(fs_plan_fires(&p, 1, "open", "demo_fd", 0x1234, 1, 0xbeef), "site+ctx: same ctx fires");
    CHECK(!fs_plan_fires(&p, 1, "open", "demo_fd", 0x1234, 1, 0xbeee), "site+ctx: other ctx");
    CHECK(!fs_plan_fires(&p, 1, "open", "demo_fd", 0x1234, 1, 0), "site+ctx: ctx 0 does not match");
    CHECK(!fs_plan_fires(&p, 1, "open", "demo_fd", 0x1234, 2, 0xbeef), "site+ctx: default K is 1");

    /* RANDOM: the exact documented function */
    CHECK(parse("random:p=0.25,seed=7", &p, NULL, 0) == 0, "random parses");
    for (o = 1; o <= 5000; o++) {
        int want = (double)(ref_hash(7, o) >> 11) * 0x1.0p-53 < 0.25;
        int got = fs_plan_fires(&p, o, "open", "demo", 0, 1, 0);
        if (got != want) {
            CHECK(got == want, "random: ordinal %llu differs from the reference hash", (unsigned long long)o);
            break;
        }
    }
    /* deterministic: same inputs, same answer; independent of func/module/site/ctx */
    for (o = 1; o <= 1000; o++) {
        int a = fs_plan_fires(&p, o, "open", "demo", 1, 1, 0);
        int b = fs_plan_fires(&p, o, "malloc", "libc.so.6", 99, 7, 123);
        if (a != b) {
            CHECK(a == b, "random depends on something other than (seed, ordinal) at %llu", (unsigned long long)o);
            break;
        }
    }
    /* rate: p=0.25 over 100000 ordinals within 1 percentage point, several seeds */
    for (i = 0; i < 4; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "random:p=0.25,seed=%d", i * 1000003);
        CHECK(parse(spec, &p, NULL, 0) == 0, "%s parses", spec);
        hits = 0;
        for (o = 1; o <= 100000; o++)
            hits += fs_plan_fires(&p, o, "f", "m", 0, 1, 0);
        CHECK(hits / 100000.0 > 0.24 && hits / 100000.0 < 0.26, "%s: rate %.4f not within 0.01 of 0.25", spec, hits / 100000.0);
    }
    /* seeds give different patterns */
    {
        struct fs_plan q;
        int differ = 0;
        CHECK(parse("random:p=0.5,seed=1", &p, NULL, 0) == 0 && parse("random:p=0.5,seed=2", &q, NULL, 0) == 0,
              "seed plans parse");
        for (o = 1; o <= 200; o++)
            differ += fs_plan_fires(&p, o, "f", "m", 0, 1, 0) != fs_plan_fires(&q, o, "f", "m", 0, 1, 0);
        CHECK(differ > 50, "seeds 1 and 2 differ at only %d of 200 ordinals", differ);
    }
    /* p=0 never, p=1 always */
    CHECK(parse("random:p=0,seed=3", &p, NULL, 0) == 0, "p=0 parses");
    hits = 0;
    for (o = 0; o < 100000; o++)
        hits += fs_plan_fires(&p, o, "f", "m", 0, 1, 0);
    CHECK(hits == 0, "p=0 fired %d times", hits);
    CHECK(parse("random:p=1,seed=3", &p, NULL, 0) == 0, "p=1 parses");
    hits = 0;
    for (o = 0; o < 100000; o++)
        hits += fs_plan_fires(&p, o, "f", "m", 0, 1, 0);
    CHECK(hits == 100000, "p=1 fired %d of 100000 times", hits);
}

static void test_counts(void)
{
    struct fs_plan p;
    CHECK(parse("nth=1", &p, NULL, 0) == 0, "nth=1 parses");
    CHECK(fs_plan_counts(&p, "open", "demo"), "no filter: counts");
    CHECK(fs_plan_counts(&p, "anything", NULL), "no filter: NULL module counts");
    CHECK(fs_plan_counts(&p, NULL, NULL), "no filter: NULL func counts");

    CHECK(parse("only=open,openat", &p, NULL, 0) == 0, "only parses");
    CHECK(fs_plan_counts(&p, "open", "demo"), "only: open");
    CHECK(fs_plan_counts(&p, "openat", "x"), "only: openat");
    CHECK(!fs_plan_counts(&p, "close", "demo"), "only: close excluded");
    CHECK(!fs_plan_counts(&p, "ope", "demo"), "only: exact match, not prefix");
    CHECK(!fs_plan_counts(&p, "open64", "demo"), "only: exact match, not extension");
    CHECK(!fs_plan_counts(&p, "OPEN", "demo"), "only: case-sensitive");
    CHECK(!fs_plan_counts(&p, NULL, "demo"), "only: NULL func excluded");

    CHECK(parse("module=libfoo.so", &p, NULL, 0) == 0, "module parses");
    CHECK(fs_plan_counts(&p, "open", "libfoo.so"), "module: match");
    CHECK(fs_plan_counts(&p, "open", "/usr/lib/libfoo.so"), "module: path compared by basename");
    CHECK(!fs_plan_counts(&p, "open", "libfoo.so.1"), "module: exact");
    CHECK(!fs_plan_counts(&p, "open", "libfoo"), "module: not prefix");
    CHECK(!fs_plan_counts(&p, "open", NULL), "module: NULL excluded");
    CHECK(!fs_plan_counts(&p, "open", ""), "module: empty excluded");

    CHECK(parse("only=close,module=demo,random:p=1", &p, NULL, 0) == 0, "only+module parses");
    CHECK(fs_plan_counts(&p, "close", "demo"), "both filters match");
    CHECK(!fs_plan_counts(&p, "close", "other"), "module mismatch");
    CHECK(!fs_plan_counts(&p, "open", "demo"), "func mismatch");
}

/* ---- errno table -------------------------------------------------------- */

#define REQUIRED_ERRNOS(X)                                                                      \
    X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) \
    X(EAGAIN) X(EWOULDBLOCK) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV)         \
    X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(ETXTBSY) X(EFBIG) \
    X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK)               \
    X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) X(ENOTEMPTY) X(ELOOP) X(ENOTSOCK) X(EADDRINUSE)         \
    X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS)       \
    X(EISCONN) X(ENOTCONN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTUNREACH) X(EALREADY)            \
    X(EINPROGRESS) X(ESTALE) X(EDQUOT) X(ECANCELED) X(EOWNERDEAD) X(ENOTRECOVERABLE)           \
    X(EOVERFLOW) X(EMSGSIZE) X(EPROTO) X(ENOTSUP) X(EOPNOTSUPP)

static void test_errno_table(void)
{
    static const struct {
        const char *name;
        int value;
    } required[] = {
#define X(e) {#e, e},
        REQUIRED_ERRNOS(X)
#undef X
    };
    size_t i;
    int e, named = 0, before;
    char lower[64];

    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        const char *name;
        size_t k;
        CHECK(fs_errno_from_name(required[i].name) == required[i].value, "from_name(%s) = %d, want %d",
              required[i].name, fs_errno_from_name(required[i].name), required[i].value);
        name = fs_errno_name(required[i].value);
        CHECK(name != NULL, "fs_errno_name(%d) (%s) is NULL", required[i].value, required[i].name);
        if (name != NULL)
            CHECK(fs_errno_from_name(name) == required[i].value, "name(%d)='%s' does not map back",
                  required[i].value, name);
        for (k = 0; required[i].name[k] != '\0' && k + 1 < sizeof lower; k++)
            lower[k] = (char)tolower((unsigned char)required[i].name[k]);
        lower[k] = '\0';
        CHECK(fs_errno_from_name(lower) == required[i].value, "from_name(%s) (lower case)", lower);
    }
    /* canonical names for shared values; exact names for a few */
    CHECK(strcmp(fs_errno_name(EIO), "EIO") == 0, "name(EIO)");
    CHECK(strcmp(fs_errno_name(ENOMEM), "ENOMEM") == 0, "name(ENOMEM)");
    CHECK(strcmp(fs_errno_name(EAGAIN), "EAGAIN") == 0, "name(EAGAIN) = %s", fs_errno_name(EAGAIN));
    CHECK(strcmp(fs_errno_name(EDEADLK), "EDEADLK") == 0, "name(EDEADLK) = %s", fs_errno_name(EDEADLK));
    /* every value the table names maps back to itself */
    before = g_failures;
    g_bulk = 1;
    for (e = 1; e <= 4095; e++) {
        const char *name = fs_errno_name(e);
        if (name == NULL)
            continue;
        named++;
        CHECK(name[0] == 'E' && fs_errno_from_name(name) == e, "name(%d)='%s' maps back to %d", e, name,
              fs_errno_from_name(name));
    }
    g_bulk = 0;
    CHECK(g_failures == before, "every named errno maps back to its value");
    CHECK(named >= 120, "only %d errno values have names", named);
    /* numbers and unknowns */
    CHECK(fs_errno_from_name("5") == 5, "from_name(\"5\")");
    CHECK(fs_errno_from_name("4095") == 4095, "from_name(\"4095\")");
    CHECK(fs_errno_from_name("4096") == 0, "from_name(\"4096\")");
    CHECK(fs_errno_from_name("0") == 0, "from_name(\"0\")");
    CHECK(fs_errno_from_name("-5") == 0, "from_name(\"-5\")");
    CHECK(fs_errno_from_name("5x") == 0, "from_name(\"5x\")");
    CHECK(fs_errno_from_name("EFOO") == 0, "from_name(EFOO)");
    CHECK(fs_errno_from_name("") == 0, "from_name(\"\")");
    CHECK(fs_errno_from_name(NULL) == 0, "from_name(NULL)");
    CHECK(fs_errno_from_name("EIO ") == 0, "from_name(\"EIO \")");
    CHECK(fs_errno_name(0) == NULL, "name(0)");
    CHECK(fs_errno_name(-1) == NULL, "name(-1)");
    CHECK(fs_errno_name(4000) == NULL, "name(4000)");
}

static void test_no_alloc(void)
{
#if PLAN_ALLOC_GUARD
    static const char *specs[] = {
        "site=open@demo_fd+0x1234#2,ctx=0xabc,persistent,errno=EACCES,only=open,openat,module=demo_fd",
        "random:p=0.33333333333333331,seed=9", "random:p=1e-300", "random:p=0x1.5555555555555p-2",
        "nth=0", "nht=3", "errno=EFOO", "nth=2,random:p=0.5",
    };
    struct fs_plan p;
    char err[512];
    size_t i;
    g_allocs_seen = 0;
    for (i = 0; i < sizeof specs / sizeof specs[0]; i++)
        (void)parse(specs[i], &p, err, sizeof err);
    CHECK(g_allocs_seen == 0, "fs_plan_parse allocated %d times", g_allocs_seen);
    /* the guard itself works */
    {
        void *volatile blk;
        FORBID_ALLOC();
        blk = malloc(16);
        free(blk);
        ALLOW_ALLOC();
    }
    CHECK(g_allocs_seen == 2, "allocation guard did not see malloc/free (%d)", g_allocs_seen);
#else
    printf("note: allocation guard off (sanitizer or non-glibc build)\n");
#endif
}

int main(void)
{
    test_none();
    test_nth();
    test_site();
    test_random();
    test_flags_and_filters();
    test_combos();
    test_errors();
    test_format();
    test_format_order();
    test_roundtrip_random_p();
    test_format_truncation();
    test_format_locale();
    test_fires();
    test_counts();
    test_errno_table();
    test_no_alloc();
    if (g_failures) {
        fprintf(stderr, "test_plan: %d of %d checks failed\n", g_failures, g_checks);
        return 1;
    }
    printf("test_plan: all %d checks passed\n", g_checks);
    return 0;
}
