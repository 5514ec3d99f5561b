/* shell.c — POSIX shell words for repro commands (shell.h): quoting an
 * argument, joining an argv into a command line, and splitting such a line
 * back into words without running a shell. */
#include "shell.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fs_shell_quote(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("@%+=:,./_-", *p)))
            plain = 0;
    char tmp[8];
    if (plain)
        return snprintf(buf + n, cap - n, "%s", s) < (int)(cap - n) ? 0 : -1;
    if (n + 1 >= cap) return -1;
    buf[n++] = '\'';
    for (const char *p = s; *p; p++) {
        const char *piece = *p == '\'' ? "'\\''" : (tmp[0] = *p, tmp[1] = 0, tmp);
        size_t pl = strlen(piece);
        if (n + pl + 2 >= cap) { buf[n] = 0; return -1; }
        memcpy(buf + n, piece, pl);
        n += pl;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return 0;
}

void fs_shell_join(char *buf, size_t cap, char *const *argv)
{
    buf[0] = '\0';
    for (int i = 0; argv[i]; i++) {
        if (i) strncat(buf, " ", cap - strlen(buf) - 1);
        fs_shell_quote(buf, cap, argv[i]);
    }
}

void fs_shell_free(char **words)
{
    if (!words)
        return;
    for (char **w = words; *w; w++)
        free(*w);
    free(words);
}

/* Append one byte to the growing word *w (length *n). Returns 0 or -1. */
static int fs_word_put(char **w, size_t *n, char c)
{
    char *nw = realloc(*w, *n + 2);
    if (!nw)
        return -1;
    nw[(*n)++] = c;
    nw[*n] = '\0';
    *w = nw;
    return 0;
}

char **fs_shell_split(const char *s, int *count, char *err, size_t errlen)
{
    char **words = calloc(1, sizeof *words), *w = NULL;
    size_t nw = 0, wl = 0;
    int inword = 0, nomem = !words;
    for (const char *p = s; !nomem; p++) {
        char c = *p;
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
            if (inword) {
                char **nws = realloc(words, (nw + 2) * sizeof *words);
                if (!nws || (!w && !(w = strdup("")))) {
                    if (nws) words = nws;
                    nomem = 1;
                    break;
                }
                words = nws;
                words[nw++] = w;
                words[nw] = NULL;
                w = NULL;
                wl = 0;
                inword = 0;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (!inword && c == '#') {
            snprintf(err, errlen, "it has a shell comment ('#' at offset %d)", (int)(p - s));
            goto fail;
        }
        inword = 1;
        if (c == '\'') {
            for (p++; *p && *p != '\'' && !nomem; p++)
                nomem = fs_word_put(&w, &wl, *p) != 0;
            if (!nomem && !*p) { snprintf(err, errlen, "it has an unterminated single quote"); goto fail; }
            nomem = nomem || (!w && !(w = strdup("")));
        } else if (c == '"') {
            for (p++; *p && *p != '"' && !nomem; p++) {
                if (*p == '$' || *p == '`') {
                    snprintf(err, errlen, "it has a shell expansion ('%c' at offset %d)", *p, (int)(p - s));
                    goto fail;
                }
                if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1]))
                    p++;
                nomem = fs_word_put(&w, &wl, *p) != 0;
            }
            if (!nomem && !*p) { snprintf(err, errlen, "it has an unterminated double quote"); goto fail; }
            nomem = nomem || (!w && !(w = strdup("")));
        } else if (c == '\\') {
            if (!p[1]) { snprintf(err, errlen, "it ends with a backslash"); goto fail; }
            p++;
            nomem = *p != '\n' && fs_word_put(&w, &wl, *p) != 0;
        } else if (strchr("|&;<>()$`*?[~{}", c)) {
            snprintf(err, errlen, "it has unquoted shell syntax ('%c' at offset %d)", c, (int)(p - s));
            goto fail;
        } else {
            nomem = fs_word_put(&w, &wl, c) != 0;
        }
    }
    if (nomem) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (count)
        *count = (int)nw;
    return words;
fail:
    free(w);
    fs_shell_free(words);
    return NULL;
}


static char fs_self_cmd[PATH_MAX * 2 + 8] = "faultstack";

static void fs_self_init(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return;
    self[n] = '\0';
    char *del = strstr(self, " (deleted)");  /* rebuilt while running: the path is still right */
    if (del && del[10] == '\0')
        *del = '\0';
    fs_self_cmd[0] = '\0';
    if (fs_shell_quote(fs_self_cmd, sizeof fs_self_cmd, self) != 0)
        snprintf(fs_self_cmd, sizeof fs_self_cmd, "faultstack");
}

const char *fs_self_command(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fs_self_init);
    return fs_self_cmd;
}
