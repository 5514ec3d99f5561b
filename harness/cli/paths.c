/* paths.c — where faultstack's own files are: the preload and the data
 * directory (schema.sql, queries/), found relative to the faultstack binary's
 * own path, so the same binary works in a build tree and wherever an install
 * tree was put (cli.h says which places, in which order). */
#define _GNU_SOURCE
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directory of the running binary into dir; 0, or -1 when /proc is not there. */
static int fs_exe_dir(char *dir, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(dir, len, "%s", exe);
    return 0;
}

int fs_find_preload(char *out, size_t len)
{
    const char *env = getenv("FAULTSTACK_PRELOAD");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        if (access(out, R_OK) != 0)
            return -1;
        fs_protocol_append_preload(out, len);     /* --protocol libraries load after it */
        return 0;
    }
    char exe[PATH_MAX];
    if (fs_exe_dir(exe, sizeof exe) != 0)
        return -1;
    static const char *const rel[] = { FS_PRELOAD_RELDIR "/libfaultstack-preload.so",   /* installed */
                                       "../lib/libfaultstack-preload.so",               /* build tree */
                                       "libfaultstack-preload.so", NULL };
    for (int i = 0; rel[i]; i++) {
        snprintf(out, len, "%s/%s", exe, rel[i]);
        char real[PATH_MAX];
        if (access(out, R_OK) == 0 && realpath(out, real)) {
            snprintf(out, len, "%s", real);
            fs_protocol_append_preload(out, len);     /* --protocol libraries load after it */
            return 0;
        }
    }
    return -1;
}

const char *fs_data_dir(void)
{
    static char dir[PATH_MAX + 64];
    char exe[PATH_MAX], real[PATH_MAX];
    if (fs_exe_dir(exe, sizeof exe) != 0)
        snprintf(exe, sizeof exe, "%s", "<faultstack's bindir>");
    snprintf(dir, sizeof dir, "%s/%s", exe, FS_DATA_RELDIR);
    if (realpath(dir, real))
        snprintf(dir, sizeof dir, "%s", real);
    return dir;
}
