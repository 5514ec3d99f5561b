/* test_sanitizer.c — unit test of harness/cli/sanitizer.c: the reports a
 * sanitizer runtime writes with log_path (one file per pid), split, typed and
 * located; the environment faultstack gives a target; ELF detection of the
 * runtimes. The report texts are the shapes gcc 12's libasan/libubsan/libtsan
 * and clang 14's runtime wrote under faultstack's settings (symbolize=0 and
 * the stack_trace_format with module+offset), shortened.
 *
 * Plain main(); prints each failing check and exits 1 if any failed. */
#define _GNU_SOURCE
#include "sanitizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char g_dir[] = "/tmp/fs-test-sanitizer-XXXXXX";

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

static const char asan_uaf[] =
"=================================================================\n"
"==101==ERROR: AddressSanitizer: heap-use-after-free on address 0x606000000020 at pc 0x5600 bp 0x7ffc sp 0x7ffc\n"
"READ of size 1 at 0x606000000020 thread T0\n"
"    #0 0x560fa2c5236a  (/build/bin/demo+0x136a) (/build/bin/demo+0x136a)\n"
"    #1 0x560fa2c526a1  (/build/bin/demo+0x16a1) (/build/bin/demo+0x16a1)\n"
"    #2 0x7fa0e5993a92  (/build/lib/libfaultstack-preload.so+0x12a92) (/build/lib/libfaultstack-preload.so+0x12a92)\n"
"\n"
"freed by thread T0 here:\n"
"    #0 0x7fa0e52b76a8  (/lib/x86_64-linux-gnu/libasan.so.8+0xb76a8) (/lib/x86_64-linux-gnu/libasan.so.8+0xb76a8)\n"
"    #1 0x7fa0e59937b7  (/build/lib/libfaultstack-preload.so+0x127b7) (/build/lib/libfaultstack-preload.so+0x127b7)\n"
"    #2 0x560fa2c52336  (/build/bin/demo+0x1336) (/build/bin/demo+0x1336)\n"
"\n"
"SUMMARY: AddressSanitizer: heap-use-after-free (/build/bin/demo+0x136a) \n"
"==101==ABORTING\n";

/* the runtime linked into the program (clang): its own frames are in the
 * program's module, named by the runtime (symbolize=1 by the user) */
static const char asan_static_segv[] =
"AddressSanitizer:DEADLYSIGNAL\n"
"=================================================================\n"
"==102==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x55 bp 0x7f sp 0x7f T0)\n"
"==102==The signal is caused by a WRITE memory access.\n"
"    #0 0x55a1 in __interceptor_strcpy (/build/bin/prog+0xa1234)\n"
"    #1 0x55b2 in copy_name /src/prog.c:12:5 (/build/bin/prog+0xde123)\n"
"    #2 0x55c3 in main /src/prog.c:30:9 (/build/bin/prog+0xde456)\n"
"\n"
"SUMMARY: AddressSanitizer: SEGV (/build/bin/prog+0xa1234) in __interceptor_strcpy\n"
"==102==ABORTING\n";

/* UBSan goes on after a report: two in one file */
static const char ubsan_two[] =
"ub.c:4:95: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'\n"
"    #0 0x556d9cb751de  (/tmp/ub+0x11de) (/tmp/ub+0x11de)\n"
"    #1 0x7ff643c45249  (/lib/x86_64-linux-gnu/libc.so.6+0x27249) (/lib/x86_64-linux-gnu/libc.so.6+0x27249)\n"
"\n"
"SUMMARY: UndefinedBehaviorSanitizer: signed-integer-overflow ub.c:4:95 in \n"
"ub.c:9:3: runtime error: load of null pointer of type 'int'\n"
"    #0 0x556d9cb75200  (/tmp/ub+0x1200) (/tmp/ub+0x1200)\n"
"\n"
"SUMMARY: UndefinedBehaviorSanitizer: null-pointer-use ub.c:9:3 in \n";

static const char tsan_race[] =
"==================\n"
"WARNING: ThreadSanitizer: data race (pid=103)\n"
"  Write of size 4 at 0x55d6 by thread T1:\n"
"    #0 work /tmp/ts.c:5 (ts+0x12a9)\n"
"\n"
"SUMMARY: ThreadSanitizer: data race /tmp/ts.c:5 in work\n"
"==================\n";

static const char lsan[] =
"\n"
"=================================================================\n"
"==104==ERROR: LeakSanitizer: detected memory leaks\n"
"\n"
"Direct leak of 16 byte(s) in 1 object(s) allocated from:\n"
"    #0 0x7f00 in __interceptor_malloc (/lib/x86_64-linux-gnu/libasan.so.8+0xb89cf)\n"
"    #1 0x5600 in add_name (/build/bin/demo+0x1234)\n"
"\n"
"SUMMARY: AddressSanitizer: 16 byte(s) leaked in 1 allocation(s).\n";

static struct fs_san_report *find(struct fs_san_report *r, int n, int pid, int k)
{
    for (int i = 0; i < n; i++)
        if (r[i].pid == pid && k-- == 0)
            return &r[i];
    return NULL;
}

static void test_reports(void)
{
    put("san.101", asan_uaf);
    put("san.102", asan_static_segv);
    put("san.103", tsan_race);
    put("san.104", lsan);
    put("san.105", ubsan_two);
    put("san.999", asan_uaf);                 /* another run's process: not read */
    put("memcheck.101.xml", "<x/>");          /* not a sanitizer log */
    int pids[] = { 101, 102, 103, 104, 105 };
    struct fs_san_report *r = NULL;
    int n = fs_sanitizer_reports(g_dir, pids, 5, &r);
    CHECK(n == 6, "%d reports (want 6: uaf, segv, race, lsan, 2 ubsan)", n);

    struct fs_san_report *x = find(r, n, 101, 0);
    CHECK(x && !strcmp(x->tool, "asan"), "101 tool %s", x ? x->tool : "-");
    CHECK(x && !strcmp(x->kind, "asan:heap-use-after-free"), "101 kind %s", x ? x->kind : "-");
    CHECK(x && !strncmp(x->headline, "ERROR: AddressSanitizer: heap-use-after-free on", 47), "101 headline '%s'",
          x ? x->headline : "-");
    CHECK(x && !strcmp(x->module_path, "/build/bin/demo") && x->offset == 0x136a,
          "101 site %s+0x%llx (want the first frame, in the program)", x ? x->module_path : "-",
          x ? (unsigned long long)x->offset : 0ull);
    CHECK(x && x->text && !strncmp(x->text, "=====", 5) && strstr(x->text, "freed by thread T0") &&
          strstr(x->text, "==101==ABORTING"), "101 text is the whole report, separator included");

    x = find(r, n, 102, 0);
    CHECK(x && !strcmp(x->kind, "asan:SEGV"), "102 kind %s", x ? x->kind : "-");
    CHECK(x && x->offset == 0xde123 && !strcmp(x->func, "copy_name"),
          "102 site 0x%llx %s (want copy_name: the interceptor frame is the runtime's)",
          x ? (unsigned long long)x->offset : 0ull, x ? x->func : "-");
    CHECK(x && x->text && !strstr(x->text, "DEADLYSIGNAL"), "102: the line before the separator is not part of it");

    x = find(r, n, 103, 0);
    CHECK(x && !strcmp(x->kind, "tsan:data-race") && !strcmp(x->tool, "tsan"), "103 kind %s", x ? x->kind : "-");

    x = find(r, n, 104, 0);
    CHECK(x && !strcmp(x->tool, "lsan") && !strcmp(x->kind, "lsan:detected-memory-leaks"),
          "104 tool %s kind %s (LSan's SUMMARY names AddressSanitizer: the headline decides)",
          x ? x->tool : "-", x ? x->kind : "-");

    x = find(r, n, 105, 0);
    struct fs_san_report *y = find(r, n, 105, 1);
    CHECK(x && !strcmp(x->kind, "ubsan:signed-integer-overflow") && x->offset == 0x11de,
          "105#1 kind %s off 0x%llx", x ? x->kind : "-", x ? (unsigned long long)x->offset : 0ull);
    CHECK(y && !strcmp(y->kind, "ubsan:null-pointer-use") && y->offset == 0x1200,
          "105#2 kind %s off 0x%llx", y ? y->kind : "-", y ? (unsigned long long)y->offset : 0ull);
    CHECK(x && x->text && !strstr(x->text, "null pointer"), "105#1 text ends where #2 begins");
    fs_sanitizer_free(r, n);

    /* a fork-mode child's directory RUN/f7: its reports are in RUN */
    char child[300];
    snprintf(child, sizeof child, "%s/f7", g_dir);
    mkdir(child, 0700);
    int cp[] = { 102 };
    n = fs_sanitizer_reports(child, cp, 1, &r);
    CHECK(n == 1 && !strcmp(r[0].kind, "asan:SEGV"), "fork child: %d reports", n);
    fs_sanitizer_free(r, n);
    rmdir(child);
    int none[] = { 4242 };
    n = fs_sanitizer_reports(g_dir, none, 1, &r);
    CHECK(n == 0, "a pid with no log: %d reports", n);
    fs_sanitizer_free(r, n);
}

static void test_env(void)
{
    char buf[4096], *env[8];
    size_t k = 0;
    setenv("ASAN_OPTIONS", "detect_leaks=1:exitcode=7", 1);
    unsetenv("UBSAN_OPTIONS");
    CHECK(fs_sanitizer_env("/run/d", buf, 10, env, &k) == -1 && k == 0, "too small a buffer: refused");
    CHECK(fs_sanitizer_env("/run/d", buf, sizeof buf, env, &k) == 0 && k == 3, "3 variables (%zu)", k);
    const char *a = k >= 1 ? env[0] : "";
    const char *dl0 = strstr(a, "detect_leaks=0"), *dl1 = strstr(a, "detect_leaks=1");
    const char *vo = strstr(a, "verify_asan_link_order=0"), *lp = strstr(a, "log_path=/run/d/san");
    CHECK(!strncmp(a, "ASAN_OPTIONS=", 13) && dl0 && dl1 && dl0 < dl1 && vo && dl1 < vo && lp && vo < lp,
          "ours, then the user's, then what faultstack needs: %s", a);
    CHECK(k >= 2 && !strncmp(env[1], "UBSAN_OPTIONS=", 14) && strstr(env[1], "report_error_type=1") &&
          strstr(env[1], "log_path=/run/d/san"), "%s", k >= 2 ? env[1] : "-");
    CHECK(fs_sanitizer_env_name("ASAN_OPTIONS=x") && fs_sanitizer_env_name("TSAN_OPTIONS=") &&
          !fs_sanitizer_env_name("ASAN_OPTIONSX=1") && !fs_sanitizer_env_name("PATH=/bin"), "names");
}

static void test_detect(void)
{
    CHECK(fs_sanitizer_detect("/bin/sh") == 0, "/bin/sh: no sanitizer");
    CHECK(fs_sanitizer_detect("/nonexistent") == 0, "missing file: 0");
    char self[4096];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    self[l > 0 ? l : 0] = '\0';
    CHECK(fs_sanitizer_detect(self) == 0, "this test: no sanitizer");
}

int main(void)
{
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    test_reports();
    test_env();
    test_detect();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) { /* scratch left behind: harmless */ }
    return CHECK_DONE("test_sanitizer");
}
