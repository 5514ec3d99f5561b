/* shell.h — POSIX shell words for the command lines faultstack stores and
 * prints (session.command, run.command, findings.repro): shell.c. */
#ifndef FS_SHELL_H
#define FS_SHELL_H

#include <stddef.h>

/* Append s to buf (capacity cap) quoted for a POSIX shell. Returns 0, or -1
 * when it does not fit (buf is then truncated but NUL-terminated). */
int fs_shell_quote(char *buf, size_t cap, const char *s);

/* The shell-quoted command line of argv. */
void fs_shell_join(char *buf, size_t cap, char *const *argv);

/* Split a POSIX shell command line (as fs_shell_join writes them: words,
 * single and double quotes, backslashes) into words. Refuses (NULL, reason in
 * err) anything a shell would expand or redirect: $, `, globs, |, ;, &, <, >.
 * Returns a malloc'd NULL-terminated array of malloc'd words (count in *count
 * when not NULL); free it with fs_shell_free. */
char **fs_shell_split(const char *s, int *count, char *err, size_t errlen);
void fs_shell_free(char **words);

/* The first word of the commands faultstack prints for people to run (repro
 * commands): the faultstack binary running now by its absolute path
 * (/proc/self/exe; the installed one when it runs from its install prefix),
 * shell-quoted, so that the command runs as printed without faultstack on
 * PATH. "faultstack" when /proc is not mounted. Thread-safe; never NULL. */
const char *fs_self_command(void);

#endif
