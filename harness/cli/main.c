/* main.c — the faultstack command line: dispatch to the subcommands (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The Files part of --help: where this faultstack's own files really are (paths.c). */
static void fs_usage_files(FILE *f)
{
    char preload[4096];
    if (fs_find_preload(preload, sizeof preload) != 0)
        snprintf(preload, sizeof preload, "not found (looked in %s and ../lib next to the binary)", FS_PRELOAD_RELDIR);
    const char *data = fs_data_dir();
    fprintf(f,
        "\n"
        "Files:\n"
        "  %s\n"
        "      the preload (LD_PRELOAD of every run; $FAULTSTACK_PRELOAD overrides)\n"
        "  %s/schema.sql\n"
        "      the database's tables and public views, commented\n"
        "  %s/queries/*.sql\n"
        "      canned queries: sqlite3 -header -column faultstack.db < FILE\n"
        "Manual: man faultstack, man faultstack-run (-sweep, -report, -repro, -merge,\n"
        "-functions). faultstack SUBCOMMAND --help: that subcommand's options.\n",
        preload, data, data);
}

static void fs_usage(FILE *f)
{
    fprintf(f,
        "faultstack — fault injection and leak checking for C resource protocols\n"
        "\n"
        "usage:\n"
        "  faultstack run    [--db FILE] [--fail SPEC] [--timeout S] [--stdin FILE] [--valgrind]\n"
        "                    -- PROGRAM [ARGS...]\n"
        "  faultstack sweep  [--db FILE] [--strategy nth|site|stack] [--mode fork|exec] [-j N]\n"
        "                    [--timeout S] [--max-runs N] [--shard I/N] [--resume] [--depth 1|2]\n"
        "                    [--persistent] [--fail FILTERS] [--fail-on LIST] [--stdin FILE]\n"
        "                    [--expect-exit LIST] [--valgrind] -- PROGRAM [ARGS...]\n"
        "  faultstack report [--db FILE] [--format text|json|junit|sarif|html|suppressions]\n"
        "                    [--session ID] [--srcroot DIR] [-o FILE]\n"
        "  run, sweep, report: [--suppressions FILE]... [--scope MODULES]   triage of the findings\n"
        "                    (suppressed, out-of-scope, driver-gave-up: kept, not counted;\n"
        "                    docs/suppressions.md)\n"
        "  faultstack repro  [--db FILE] FINDING_ID\n"
        "  faultstack merge  --db OUT.db IN.db [IN.db...]   merge the databases of sharded sweeps\n"
        "  faultstack functions [--protocol SPEC]   the wrapped functions, kinds, injected errno\n"
        "  faultstack protocol build|check|source SPEC   your library's protocols (login/logout...):\n"
        "                                the spec format, and run/sweep --protocol SPEC\n"
        "  faultstack help COMMAND       the options of one command (or: faultstack COMMAND --help)\n"
        "\n"
        "--fail SPEC (comma-separated):\n"
        "  nth=N                         fail the N-th fault point of the run\n"
        "  site=FUNC@MODULE+0xOFF[#K]    fail the K-th call of FUNC from that call site\n"
        "    ,caller=MOD+0xOFF[/...]     ... made for this caller of the function holding the\n"
        "                                site (then its caller, up to 3; #K counts those\n"
        "                                calls): sweep's keys for thin wrappers (xmalloc)\n"
        "  random:p=P[,seed=S]           fail each point with probability P (reproducible)\n"
        "  persistent                    keep failing that function after the first failure\n"
        "  internal                      calls libc makes itself are fault points too (the malloc\n"
        "                                inside fopen, getline, getpwnam), at the program's call\n"
        "                                into libc; sweep with --strategy nth --fail internal\n"
        "  errno=NAME                    errno to report instead of the function's default\n"
        "  only=FUNC[,FUNC...]           only these functions are fault points (names that are\n"
        "                                not fault points are refused: see faultstack functions)\n"
        "  module=NAME                   only calls from this module (basename) are fault points\n"
        "\n"
        "--timeout S: seconds per run, 0.001 to 604800 (run: default 300, sweep: 60).\n"
        "--stdin FILE: the program's stdin (run: default faultstack's own; sweep: /dev/null).\n"
        "--expect-exit LIST (sweep): how the baseline run (nothing failing) must end for the\n"
        "  sweep to go on: exit statuses (default 0; e.g. 0,1), any, timeout (a server).\n"
        "Repro commands keep --timeout (unless 300) and --stdin.\n"
        "--valgrind: run the target under valgrind's memcheck too (valgrind >= 3.15,\n"
        "  apt-get install valgrind; sweep: in exec mode). Memcheck's verdicts are stored\n"
        "  with the run (views memcheck, memcheck_vs_faultstack: both verdicts for every\n"
        "  acquire site); memory errors it sees in the program are findings of category\n"
        "  'memcheck'.\n"
        "\n"
        "Sanitizer builds (-fsanitize=address, undefined): run them as they are. faultstack sets\n"
        "  ASAN_OPTIONS/UBSAN_OPTIONS for every target (yours are kept inside): ASan starts after\n"
        "  the preload (verify_asan_link_order=0), LeakSanitizer is off (detect_leaks=0: faultstack\n"
        "  judges leaks; turn it on in your ASAN_OPTIONS for its report as a second opinion), and\n"
        "  each report becomes a crash finding of kind 'asan:heap-use-after-free' &c., its text in\n"
        "  the sanitizer_reports view. Allocations are served and checked by ASan's allocator.\n"
        "  clang's default (ASan runtime linked into the program) is redirected at start-up.\n"
        "sweep --strategy site (the default) fails the first call of each call site; a call\n"
        "site reached from two or more callers in the baseline (a thin wrapper: xmalloc,\n"
        "jsonp_malloc, yaml_malloc) is failed once per caller instead, and once per caller's\n"
        "caller where that is reached from several too (faultstack sweep --help).\n"
        "\n"
        "Interruptions: ^C, SIGTERM or SIGHUP kill the runs in progress (process group,\n"
        "SIGKILL 1 s later, at once on a second signal) and record nothing of them; a\n"
        "sweep stops 'interrupted' (exit 2): go on with sweep --resume. After SIGKILL a\n"
        "watchdog kills what is left and removes the run directories (else the next\n"
        "faultstack does). A process the program detached (a daemon) is waited for\n"
        "(until --timeout) and recorded. A full disk (the database's, or the run\n"
        "directories': /dev/shm or $FAULTSTACK_TMPDIR) stops a sweep with exit 2,\n"
        "resumable; a run whose records it cut short is NOT FULLY RECORDED (exit 2).\n"
        "\n"
        "Default database: ./faultstack.db (query it with sqlite3; views: runs, fault_points,\n"
        "leaks, anomalies, findings, held, crashes, sweeps, sanitizer_reports, memcheck,\n"
        "memcheck_vs_faultstack; runs.role says what each run was for —\n"
        "see schema.sql under Files below).\n"
        "Exit status: 0 nothing found, and something was tested; 1 findings; 2 usage or tool\n"
        "error, or a run that tested nothing (the message says which and why):\n"
        "  - the preload could not enter the program: statically linked (no PT_INTERP),\n"
        "    set-user-ID/-group-ID to another user or with file capabilities (AT_SECURE:\n"
        "    the loader ignores LD_PRELOAD), another architecture; also a program some\n"
        "    process exec'd (sh -c 'exec ./static'); such a process has a row with end_how\n"
        "    'not-interposed' in the process table, and a run with none observed has\n"
        "    runs.points_total NULL (faultstack report lists them);\n"
        "  - sweep: the baseline crashed, timed out, reached no fault point, or ended\n"
        "    otherwise than --expect-exit allows (nothing is swept; sweep status\n"
        "    'baseline-failed');\n"
        "  - interrupted (^C, SIGTERM, SIGHUP), or a full disk: a sweep stops resumable;\n"
        "    a run whose records a full disk cut short is NOT FULLY RECORDED.\n");
    fs_usage_files(f);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "__watchdog"))   /* internal: tree.c */
        return fs_watchdog_main(argc, argv);
    fs_note_inherited_fds();
    if (argc < 2) {
        fs_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") && argc > 2) {  /* `faultstack help sweep`: `faultstack sweep --help` */
        static const char *const subs[] = { "run", "sweep", "report", "repro", "merge", "functions", "protocol" };
        size_t k = 0;
        while (k < sizeof subs / sizeof subs[0] && strcmp(argv[2], subs[k]))
            k++;
        if (k == sizeof subs / sizeof subs[0]) {
            fprintf(stderr, "faultstack help: unknown command '%s'; commands: run, sweep, report, repro, merge, "
                            "functions, protocol\n", argv[2]);
            return 2;
        }
        static char help_opt[] = "--help";
        cmd = argv[1] = argv[2];
        argv[2] = help_opt;
        argc = 3;
    }
    if (!strcmp(cmd, "run")) return fs_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return fs_cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return fs_cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "repro")) return fs_cmd_repro(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return fs_cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "functions")) return fs_cmd_functions(argc - 1, argv + 1);
    if (!strcmp(cmd, "protocol")) return fs_cmd_protocol(argc - 1, argv + 1);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fs_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("faultstack %s\n", FS_VERSION);
        return 0;
    }
    fprintf(stderr, "faultstack: unknown command '%s'\n\n", cmd);
    fs_usage(stderr);
    return 2;
}
