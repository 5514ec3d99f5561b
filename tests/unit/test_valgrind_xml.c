/*
 * test_valgrind_xml.c — unit test of harness/cli/valgrind.c's readers over
 * the fixtures in tests/unit/fixtures/valgrind (see its README):
 *
 *  - leaky-3.19.xml/.log, real output of valgrind 3.19 on leaky.c: every
 *    error kind, leak kind, byte and block count, the first frame in the
 *    program and its line (the LEAKY: marker lines of leaky.c), the fd report
 *    of the text log paired with its stack from the XML, inherited fds;
 *  - fd-3.23.xml, protocol 5 (valgrind >= 3.23): FdNotClosed and FdBadClose
 *    with <fd> and <path>, the auxiliary stacks of FdBadClose;
 *  - sites: module + offset from the load address in a record file of the
 *    same pid, as faultstack names sites;
 *  - a report cut in the middle (a killed process): what was complete is kept
 *    and the file is counted as incomplete; a file that is not XML is refused.
 */
#define _GNU_SOURCE
#include "valgrind.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FS_FIXTURE_DIR
#error "FS_FIXTURE_DIR must name tests/unit/fixtures/valgrind"
#endif

#include "check.h"

/* Line of leaky.c holding "LEAKY: <what>". */
static int marker(const char *what)
{
    FILE *f = fopen(FS_FIXTURE_DIR "/leaky.c", "r");
    if (!f) {
        CHECK_FAIL_AT(__LINE__, "cannot open leaky.c");
        return -1;
    }
    char buf[512], needle[256];
    snprintf(needle, sizeof needle, "LEAKY: %s", what);
    int n = 0, found = -1;
    while (fgets(buf, sizeof buf, f)) {
        n++;
        if (strstr(buf, needle)) {
            found = n;
            break;
        }
    }
    fclose(f);
    if (found < 0)
        CHECK_FAIL_AT(__LINE__, "no line with '%s' in leaky.c", needle);
    return found;
}

/* The error of this kind (and, when bytes >= 0, these bytes) in rep. */
static const struct fs_vg_error *find(const struct fs_vg_report *rep, const char *kind, int64_t bytes)
{
    for (size_t i = 0; i < rep->n; i++)
        if (!strcmp(rep->v[i].kind, kind) && (bytes < 0 || rep->v[i].bytes == bytes))
            return &rep->v[i];
    return NULL;
}

static const struct fs_vg_frame *site(const struct fs_vg_error *e)
{
    return e && e->site >= 0 ? &e->frames[e->site] : NULL;
}

static void check_site(int line, const struct fs_vg_error *e, const char *fn, const char *file_end, int want_line)
{
    const struct fs_vg_frame *f = site(e);
    if (!f) {
        CHECK_FAIL_AT(line, "%s: no frame in the program", e ? e->kind : "(missing error)");
        return;
    }
    size_t fl = strlen(f->file), el = strlen(file_end);
    if (strcmp(f->fn, fn) || fl < el || strcmp(f->file + fl - el, file_end) || f->line != want_line)
        CHECK_FAIL_AT(line, "%s: site %s %s:%d, expected %s ...%s:%d", e->kind, f->fn, f->file, f->line, fn, file_end,
             want_line);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "r"), *b = fopen(to, "w");
    char buf[8192];
    size_t n;
    while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0)
        fwrite(buf, 1, n, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

static void test_319(void)
{
    struct fs_vg_report rep;
    char err[512] = "";
    memset(&rep, 0, sizeof rep);
    CHECK(fs_vg_parse_xml(FS_FIXTURE_DIR "/leaky-3.19.xml", &rep, err, sizeof err) == 0, "parse: %s", err);
    CHECK(rep.xml_files == 1 && rep.incomplete == 0 && rep.protocol == 4, "files %d incomplete %d protocol %d",
          rep.xml_files, rep.incomplete, rep.protocol);
    fs_vg_resolve(&rep, "/nonexistent", NULL);  /* no records: sites from memcheck's objects */

    static const struct { const char *kind, *leak; int64_t bytes, blocks; const char *marker; } want[] = {
        { "InvalidWrite", "", -1, -1, "invalid write of size 1" },
        { "InvalidRead", "", -1, -1, "invalid read of size 1" },
        { "UninitCondition", "", -1, -1, "conditional jump" },
        { "InvalidFree", "", -1, -1, "invalid free" },
        { "Leak_DefinitelyLost", "definitely", 40, 1, "definitely lost, 40 bytes" },
        { "Leak_DefinitelyLost", "definitely", 32, 1, "definitely lost, 32 bytes" },
        { "Leak_IndirectlyLost", "indirectly", 32, 1, "indirectly lost, 32 bytes" },
        { "Leak_StillReachable", "reachable", 100, 1, "still reachable, 100 bytes" },
    };
    size_t nwant = sizeof want / sizeof want[0];
    CHECK(rep.n == nwant + 1, "errors: %zu, expected %zu and the fd stack", rep.n, nwant + 1);
    for (size_t i = 0; i < nwant; i++) {
        const struct fs_vg_error *e = find(&rep, want[i].kind, want[i].bytes);
        CHECK(e != NULL, "no %s of %lld bytes", want[i].kind, (long long)want[i].bytes);
        if (!e)
            continue;
        CHECK(!strcmp(e->leak_kind, want[i].leak), "%s: leak_kind '%s'", e->kind, e->leak_kind);
        CHECK(e->blocks == want[i].blocks, "%s: blocks %lld", e->kind, (long long)e->blocks);
        CHECK(e->pid == 2558, "%s: pid %d", e->kind, e->pid);
        CHECK(!strcmp(e->source, "xml"), "%s: source %s", e->kind, e->source);
        CHECK(e->what[0] != '\0', "%s: no description", e->kind);
        CHECK(!strcmp(e->module, "leaky") && e->offset == -1, "%s: module '%s' offset %lld", e->kind, e->module,
              (long long)e->offset);
        check_site(__LINE__, e, "main", "/fixtures/valgrind/leaky.c", marker(want[i].marker));
        CHECK(fs_vg_is_finding(e->kind) == (want[i].leak[0] == '\0'), "%s: is_finding", e->kind);
    }
    const struct fs_vg_error *d = find(&rep, "Leak_DefinitelyLost", 32);
    CHECK(d && d->indirect == 32, "the 64 (32 direct, 32 indirect) record: indirect %lld",
          d ? (long long)d->indirect : -1LL);
    const struct fs_vg_error *fr = find(&rep, "InvalidFree", -1);
    CHECK(fr && fr->aux && strstr(fr->aux, "free'd") && strstr(fr->aux, "alloc'd"),
          "InvalidFree: auxiliary text %s", fr && fr->aux ? fr->aux : "(none)");
    CHECK(fr && fr->nframes == 2 && !strcmp(fr->frames[0].fn, "free") && !fr->frames[0].file[0],
          "InvalidFree: primary stack is free (vgpreload) then main");
    fs_vg_report_free(&rep);

    /* the fd report of the text log */
    memset(&rep, 0, sizeof rep);
    int n = fs_vg_parse_log(FS_FIXTURE_DIR "/leaky-3.19.log", &rep, err, sizeof err);
    CHECK(n == 3, "log: %d fds, expected 3 (%s)", n, err);
    int inherited = 0;
    for (size_t i = 0; i < rep.n; i++)
        inherited += rep.v[i].inherited;
    CHECK(inherited == 2, "log: %d inherited fds, expected 2 (memcheck's own files)", inherited);
    const struct fs_vg_error *fd5 = rep.n ? &rep.v[0] : NULL;
    CHECK(fd5 && fd5->fd == 5 && !strcmp(fd5->path, "/dev/null") && !fd5->inherited && fd5->nframes == 0 &&
          !strcmp(fd5->kind, "FdNotClosed") && !strcmp(fd5->leak_kind, "fd") && fd5->pid == 2558,
          "log: fd 5 /dev/null, not inherited, its stack not in the log");
    fs_vg_report_free(&rep);

    /* as a run directory: the fd gets its stack from the XML */
    char dir[] = "/tmp/fs-test-vg-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/memcheck.2558.xml", dir);
    snprintf(p2, sizeof p2, "%s/memcheck.2558.log", dir);
    copy_file(FS_FIXTURE_DIR "/leaky-3.19.xml", p1);
    copy_file(FS_FIXTURE_DIR "/leaky-3.19.log", p2);
    int files = fs_vg_read_dir(dir, &rep, NULL, err, sizeof err);
    CHECK(files == 1, "read_dir: %d XML files (%s)", files, err);
    CHECK(rep.n == nwant + 3, "read_dir: %zu errors, expected %zu (8 from the XML, 3 fds)", rep.n, nwant + 3);
    const struct fs_vg_error *fd = NULL;
    for (size_t i = 0; i < rep.n; i++)
        if (rep.v[i].fd == 5)
            fd = &rep.v[i];
    CHECK(fd && fd->nframes >= 2 && !strcmp(fd->frames[0].fn, "open"), "read_dir: fd 5 has open's stack");
    check_site(__LINE__, fd, "main", "/fixtures/valgrind/leaky.c", marker("fd open at exit"));
    fs_vg_report_free(&rep);

    /* sites as faultstack names them: a record file gives the load address */
    char rec[256];
    snprintf(rec, sizeof rec, "%s/2558-1.rec", dir);
    FILE *f = fopen(rec, "w");
    if (f) {
        fprintf(f, "image 2558 2487 1 /tmp/vgx/leaky\nm 1 0x108000 /tmp/vgx/leaky\nend main 0 0\ndone\n");
        fclose(f);
    }
    files = fs_vg_read_dir(dir, &rep, NULL, err, sizeof err);
    const struct fs_vg_error *w = find(&rep, "InvalidWrite", -1);
    /* <ip>0x1091..</ip> of main in the XML minus the load address */
    CHECK(w && !strcmp(w->module, "leaky") && w->offset == (int64_t)(site(w)->ip - 0x108000) && w->offset > 0 &&
          w->offset < 0x2000, "InvalidWrite: module '%s' offset %lld", w ? w->module : "", w ? (long long)w->offset : -1LL);
    fs_vg_report_free(&rep);

    /* the same module under another name: the preload names a library by the
     * path the loader opened (its soname, a symbolic link), valgrind by the
     * file (libfoo.so.1 -> libfoo.so.1.0.4): matched through realpath */
    char real[256], link[256], cmd[1024];
    snprintf(real, sizeof real, "%s/leaky.so.1.0.4", dir);
    snprintf(link, sizeof link, "%s/leaky.so.1", dir);
    copy_file(FS_FIXTURE_DIR "/leaky.c", real);
    CHECK(symlink("leaky.so.1.0.4", link) == 0, "symlink %s", link);
    snprintf(cmd, sizeof cmd, "sed -i 's|/tmp/vgx/leaky|%s|g' %s", real, p1);
    CHECK(system(cmd) == 0, "%s", cmd);
    f = fopen(rec, "w");
    if (f) {
        fprintf(f, "image 2558 2487 1 %s\nm 1 0x108000 %s\nend main 0 0\ndone\n", link, link);
        fclose(f);
    }
    files = fs_vg_read_dir(dir, &rep, NULL, err, sizeof err);
    w = find(&rep, "InvalidWrite", -1);
    CHECK(w && !strcmp(w->module, "leaky.so.1") && w->offset == (int64_t)(site(w)->ip - 0x108000),
          "InvalidWrite in a module named by a symbolic link: module '%s' offset %lld", w ? w->module : "",
          w ? (long long)w->offset : -1LL);
    fs_vg_report_free(&rep);
    copy_file(FS_FIXTURE_DIR "/leaky-3.19.xml", p1);
    unlink(link);
    unlink(real);
    unlink(rec);

    /* a report cut short: complete errors kept, file counted as incomplete */
    FILE *in = fopen(FS_FIXTURE_DIR "/leaky-3.19.xml", "r");
    char *all = calloc(1, 65536);
    size_t len = in ? fread(all, 1, 65535, in) : 0;
    if (in) fclose(in);
    char *cut = strstr(all, "<kind>UninitCondition</kind>");
    f = fopen(p1, "w");
    if (f && cut) {
        fwrite(all, 1, (size_t)(cut - all), f);
        fclose(f);
    }
    (void)len;
    unlink(p2);
    memset(&rep, 0, sizeof rep);
    CHECK(fs_vg_parse_xml(p1, &rep, err, sizeof err) == 0, "cut report: %s", err);
    CHECK(rep.incomplete == 1 && rep.n == 2 && find(&rep, "InvalidRead", -1),
          "cut report: incomplete %d, %zu errors (expected 1 and the 2 before the cut)", rep.incomplete, rep.n);
    fs_vg_report_free(&rep);
    free(all);

    /* not XML at all */
    f = fopen(p1, "w");
    if (f) {
        fputs("<?xml version=\"1.0\"?>\n<valgrindoutput><status><state>FINISHED</state></status><<>>", f);
        fclose(f);
    }
    memset(&rep, 0, sizeof rep);
    err[0] = '\0';
    CHECK(fs_vg_parse_xml(p1, &rep, err, sizeof err) == -1 && strstr(err, "XML error"),
          "a broken finished report is refused with a message: '%s'", err);
    fs_vg_report_free(&rep);
    /* ... and in a run directory it does not stop the good one beside it */
    char p3[256];
    snprintf(p3, sizeof p3, "%s/memcheck.2558.0.xml", dir);
    copy_file(FS_FIXTURE_DIR "/leaky-3.19.xml", p3);
    files = fs_vg_read_dir(dir, &rep, NULL, err, sizeof err);
    CHECK(files == 2 && rep.incomplete == 1 && strstr(rep.warning, "XML error") && rep.n == nwant,
          "read_dir with one broken report: %d files, %d incomplete, %zu errors, warning '%s'", files,
          rep.incomplete, rep.n, rep.warning);
    fs_vg_report_free(&rep);
    unlink(p3);
    unlink(p1);
    rmdir(dir);
}

static void test_323(void)
{
    struct fs_vg_report rep;
    char err[512] = "";
    memset(&rep, 0, sizeof rep);
    CHECK(fs_vg_parse_xml(FS_FIXTURE_DIR "/fd-3.23.xml", &rep, err, sizeof err) == 0, "parse: %s", err);
    fs_vg_resolve(&rep, "/nonexistent", NULL);
    CHECK(rep.protocol == 5 && rep.n == 3 && rep.incomplete == 0, "protocol %d, %zu errors", rep.protocol, rep.n);
    const struct fs_vg_error *nc = find(&rep, "FdNotClosed", -1);
    CHECK(nc && nc->fd == 3 && !strcmp(nc->path, "/etc/hostname") && !strcmp(nc->leak_kind, "fd") &&
          nc->pid == 4242 && !nc->inherited && nc->nframes == 3 && !fs_vg_is_finding("FdNotClosed"),
          "FdNotClosed: fd 3 /etc/hostname, 3 frames");
    check_site(__LINE__, nc, "copy_file", "/src/fdprog.c", 25);
    const struct fs_vg_error *bc = find(&rep, "FdBadClose", -1);
    CHECK(bc && bc->fd == 4 && !strcmp(bc->path, "/tmp/out.txt") && !bc->leak_kind[0] && fs_vg_is_finding(bc->kind),
          "FdBadClose: fd 4, a finding");
    check_site(__LINE__, bc, "main", "/src/fdprog.c", 61);
    CHECK(bc && bc->aux && strstr(bc->aux, "Previously closed") && strstr(bc->aux, "fdprog.c:60") &&
          strstr(bc->aux, "Originally opened") && strstr(bc->aux, "fdprog.c:30"),
          "FdBadClose: auxiliary stacks: %s", bc && bc->aux ? bc->aux : "(none)");
    const struct fs_vg_error *dl = find(&rep, "Leak_DefinitelyLost", 16);
    CHECK(dl && dl->blocks == 1 && dl->indirect == 0, "xwhat leak of 16 bytes in 1 block");
    check_site(__LINE__, dl, "copy_file", "/src/fdprog.c", 22);
    fs_vg_report_free(&rep);
}

int main(void)
{
    test_319();
    test_323();
    return CHECK_DONE("test_valgrind_xml");
}
