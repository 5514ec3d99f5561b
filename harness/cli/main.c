/* main.c — the faultstack command line: dispatch to the subcommands (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void fs_usage(FILE *f)
{
    fprintf(f,
        "faultstack — fault injection and leak checking for C resource protocols\n"
        "\n"
        "usage:\n"
        "  faultstack run    [--db FILE] [--fail SPEC] [--timeout S] -- PROGRAM [ARGS...]\n"
        "  faultstack sweep  [--db FILE] [--strategy nth|site|stack] [--mode fork|exec] [-j N]\n"
        "                    [--timeout S] [--max-runs N] [--shard I/N] [--resume] [--depth 1|2]\n"
        "                    [--persistent] [--fail FILTERS] [--fail-on LIST] [--stdin FILE]\n"
        "                    -- PROGRAM [ARGS...]\n"
        "  faultstack report [--db FILE] [--format text|json|junit|sarif] [--session ID]\n"
        "  faultstack repro  [--db FILE] FINDING_ID\n"
        "  faultstack merge  --db OUT.db IN.db [IN.db...]   merge the databases of sharded sweeps\n"
        "  faultstack functions          the wrapped functions, their kinds and injected errno\n"
        "\n"
        "--fail SPEC (comma-separated):\n"
        "  nth=N                         fail the N-th fault point of the run\n"
        "  site=FUNC@MODULE+0xOFF[#K]    fail the K-th call of FUNC from that call site\n"
        "    ,caller=MOD+0xOFF[/...]     ... made for this caller of the function holding the\n"
        "                                site (then its caller, up to 3; #K counts those\n"
        "                                calls): sweep's keys for thin wrappers (xmalloc)\n"
        "  random:p=P[,seed=S]           fail each point with probability P (reproducible)\n"
        "  persistent                    keep failing that function after the first failure\n"
        "  errno=NAME                    errno to report instead of the function's default\n"
        "  only=FUNC[,FUNC...]           only these functions are fault points\n"
        "  module=NAME                   only calls from this module (basename) are fault points\n"
        "\n"
        "sweep --strategy site (the default) fails the first call of each call site; a call\n"
        "site reached from two or more callers in the baseline (a thin wrapper: xmalloc,\n"
        "jsonp_malloc, yaml_malloc) is failed once per caller instead, and once per caller's\n"
        "caller where that is reached from several too (faultstack sweep --help).\n"
        "\n"
        "Default database: ./faultstack.db (query it with sqlite3; views: runs, fault_points,\n"
        "leaks, anomalies, findings — see reports/schema.sql).\n"
        "Exit status: 0 nothing found, 1 findings, 2 usage or tool error.\n");
}

int main(int argc, char **argv)
{
    fs_note_inherited_fds();
    if (argc < 2) {
        fs_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return fs_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return fs_cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return fs_cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "repro")) return fs_cmd_repro(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return fs_cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "functions")) return fs_cmd_functions(argc - 1, argv + 1);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fs_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("faultstack 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "faultstack: unknown command '%s'\n\n", cmd);
    fs_usage(stderr);
    return 2;
}
