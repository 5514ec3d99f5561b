/* test_suppress.c — suppress.c: reading suppression files (docs/suppressions.md)
 * and matching findings: block rules with keys and valgrind-style frame
 * patterns, LeakSanitizer one-line rules with ^/$ anchors, escaped globs, and
 * the FILE:LINE: expected ... errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "suppress.h"

static char g_path[64];

/* Write text to a temporary file and load it into S. Returns fs_supp_load's result. */
static int load(struct fs_supps *S, const char *text, char *err, size_t errlen)
{
    snprintf(g_path, sizeof g_path, "/tmp/test_suppress.XXXXXX");
    int fd = mkstemp(g_path);
    if (fd < 0)
        return -2;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = fs_supp_load(S, g_path, err, errlen);
    unlink(g_path);
    return rc;
}

/* the name of the rule of text that accepts f, or "" */
static const char *match(const char *text, const struct fs_supp_finding *f)
{
    static char name[128];
    struct fs_supps S = { 0 };
    char err[512] = "";
    name[0] = '\0';
    if (load(&S, text, err, sizeof err) != 0) {
        snprintf(name, sizeof name, "ERROR %s", err);
        return name;
    }
    const char *n = fs_supp_match(&S, f);
    snprintf(name, sizeof name, "%s", n ? n : "");
    fs_supp_free(&S);
    return name;
}

static const char *error_of(const char *text)
{
    static char err[512];
    struct fs_supps S = { 0 };
    err[0] = '\0';
    if (load(&S, text, err, sizeof err) == 0)
        snprintf(err, sizeof err, "(loaded)");
    fs_supp_free(&S);
    const char *colon = strchr(err, ':');   /* drop the temporary path */
    return colon ? colon + 1 : err;
}

int main(void)
{
    struct fs_supp_frame stack[] = {
        { "yaml_malloc", "libyaml-0.so.2", "/src/api.c", 33 },
        { "yaml_strdup", NULL, "/src/api.c", 60 },
        { "yaml_parser_load", NULL, "/src/loader.c", 113 },
        { "main", NULL, "/src/tests/run-loader.c", 20 },
    };
    struct fs_supp_finding leak = {
        "leak", "memory", NULL, "malloc", "yaml_malloc", "libyaml-0.so.2", "/src/api.c", 33,
        "malloc", "/src/api.c", "yaml_strdup /src/api.c:60\nyaml_parser_load /src/loader.c:113", 0, stack, 4
    };

    /* block rules: category, kind, keys */
    CHECK(!strcmp(match("{\n  r1\n  leak\n}\n", &leak), "r1"), "category only");
    CHECK(!strcmp(match("{\n  r1\n  leak:fd\n}\n", &leak), ""), "another kind");
    CHECK(!strcmp(match("{\n  r1\n  leak:mem*\n  module: libyaml*\n  file: api.c\n  line: 33\n}\n", &leak), "r1"),
          "kind glob, module glob, file basename, line");
    CHECK(!strcmp(match("{\n  r1\n  leak\n  line: 34\n}\n", &leak), ""), "another line");
    CHECK(!strcmp(match("{\n  r1\n  crash\n}\n", &leak), ""), "another category");
    CHECK(!strcmp(match("{\n  r1\n  *\n  fault: none\n}\n", &leak), ""), "fault: none and a fault");
    CHECK(!strcmp(match("{\n  r1\n  *\n  fault: mall?c\n  fault-caller: yaml_parser_load\n}\n", &leak), "r1"),
          "fault glob and a caller's symbol");
    CHECK(!strcmp(match("{\n  r1\n  *\n  fault-caller: *loader.c:113\n}\n", &leak), "r1"), "a caller's whole frame");
    CHECK(!strcmp(match("{\n  r1\n  double-release\n}\n", &leak), ""), "an anomaly's name is category anomaly");
    CHECK(!strcmp(match("# comment\n\n{\n  first\n  crash\n}\n{\n  second\n  leak\n}\n", &leak), "second"),
          "comments, blank lines, the first rule that matches");

    /* frames, valgrind style */
    CHECK(!strcmp(match("{\n r\n leak\n fun:yaml_malloc\n fun:yaml_strdup\n}\n", &leak), "r"), "two frames");
    CHECK(!strcmp(match("{\n r\n leak\n fun:yaml_malloc\n fun:yaml_parser_load\n}\n", &leak), ""),
          "a frame skipped without ...");
    CHECK(!strcmp(match("{\n r\n leak\n fun:yaml_malloc\n ...\n fun:yaml_parser_load\n}\n", &leak), "r"),
          "... over one frame");
    CHECK(!strcmp(match("{\n r\n leak\n ...\n fun:main\n}\n", &leak), "r"), "... from the top");
    CHECK(!strcmp(match("{\n r\n leak\n fun:yaml_malloc\n ...\n fun:yaml_strdup\n}\n", &leak), "r"),
          "... over no frame");
    CHECK(!strcmp(match("{\n r\n leak\n ...\n fun:nothere\n}\n", &leak), ""), "... and a missing frame");
    CHECK(!strcmp(match("{\n r\n leak\n obj:libyaml-0.so.2\n src:loader.c\n}\n", &leak), ""),
          "obj: then src: of the next frame, wrong file");
    CHECK(!strcmp(match("{\n r\n leak\n obj:*/libyaml*\n src:api.c:60\n src:/src/loader.c:113\n}\n", &leak), ""),
          "obj: with a path pattern against a basename");
    CHECK(!strcmp(match("{\n r\n leak\n obj:libyaml*\n src:api.c:60\n src:/src/loader.c:113\n}\n", &leak), "r"),
          "obj:, src:FILE:LINE, src:PATH:LINE");

    /* one-line rules (LeakSanitizer) */
    const char *n = match("leak:parser_lo\n", &leak);
    CHECK(strstr(n, ":1") != NULL, "substring of a function anywhere in the stack: '%s'", n);
    CHECK(!strcmp(match("leak:^parser\n", &leak), ""), "^ anchors the start");
    CHECK(match("leak:^yaml_parser\n", &leak)[0] != '\0', "^yaml_parser");
    CHECK(!strcmp(match("leak:^yaml_parser$\n", &leak), ""), "$ anchors the end");
    CHECK(match("leak:run-loader.c$\n", &leak)[0] != '\0', "a source file's basename");
    CHECK(match("leak:libyaml\n", &leak)[0] != '\0', "a module");
    CHECK(!strcmp(match("crash:libyaml\n", &leak), ""), "another category");

    /* escaped glob characters match themselves */
    struct fs_supp_frame op[] = { { "operator[]", "libx.so", "x.cc", 1 } };
    struct fs_supp_finding cxx = { "leak", "memory", NULL, "malloc", "operator[]", "libx.so", "x.cc", 1,
                                   NULL, NULL, NULL, 0, op, 1 };
    CHECK(!strcmp(match("{\n r\n leak\n function: operator\\[\\]\n fault: none\n}\n", &cxx), "r"),
          "escaped [ ] and fault: none on a baseline finding");

    /* driver-gave-up */
    struct fs_supp_finding abrt = { "crash", "SIGABRT", NULL, "main", "main", "run-loader", "/src/t.c", 5,
                                    "malloc", "/src/api.c", NULL, 1, stack + 3, 1 };
    CHECK(!strcmp(match("{\n r\n driver-gave-up\n}\n", &abrt), "r"), "driver-gave-up");
    abrt.gave_up = 0;
    CHECK(!strcmp(match("{\n r\n driver-gave-up\n}\n", &abrt), ""), "not gave up");
    CHECK(!strcmp(match("{\n r\n crash:SIGABRT\n}\n", &abrt), "r"), "crash:SIGABRT");

    /* errors: LINE: expected ... */
    CHECK(!strncmp(error_of("leak memory\n"), "1: expected '{'", 15), "no rule: %s", error_of("leak memory\n"));
    CHECK(!strncmp(error_of("{\n}\n"), "2: expected the rule's name", 27), "%s", error_of("{\n}\n"));
    CHECK(!strncmp(error_of("{\n n\n leek\n}\n"), "3: expected what the rule accepts", 33), "%s",
          error_of("{\n n\n leek\n}\n"));
    CHECK(!strncmp(error_of("{\n n\n leak\n fun:\n}\n"), "4: expected a pattern after fun:", 32), "%s",
          error_of("{\n n\n leak\n fun:\n}\n"));
    CHECK(!strncmp(error_of("{\n n\n leak\n module: a\n module: b\n}\n"), "5: expected each key at most once", 33),
          "%s", error_of("{\n n\n leak\n module: a\n module: b\n}\n"));
    CHECK(!strncmp(error_of("\n{\n n\n leak\n"), "4: expected '}' closing the rule opened at line 2", 49), "%s",
          error_of("\n{\n n\n leak\n"));
    CHECK(!strncmp(error_of("*:foo\n"), "1: expected '{'", 15), "'*' is not a one-line type: %s", error_of("*:foo\n"));
    CHECK(!strcmp(error_of("# nothing\n"), "(loaded)"), "an empty file is valid");
    return CHECK_DONE("test_suppress");
}
