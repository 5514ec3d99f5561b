/* fork_child_leak.c — a parent forks a worker; the worker leaks an fd.
 *
 * Usage: demo_fork_child_leak FILE exit|_exit
 *   prints the first line of FILE from the child, exit 0.
 *
 * Planted bug (leak, kind fd, func open, in the child only): the child's
 * read_first_line() opens FILE and returns without closing it; the child then
 * ends with exit(0) or _exit(0) (second argument). The parent opened FILE and
 * malloc'd a block before fork(); the child inherits both and never releases
 * them, but they are the parent's (verdict 'inherited' in the child), and the
 * parent releases them after waitpid(). Baseline bug: no --fail needed.
 *   faultstack run -- demo_fork_child_leak FILE exit
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_first_line(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY); /* FS-EXPECT: leak fd */
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        nl[1] = '\0';
    if (write(1, buf, strlen(buf)) < 0)
        return -1;
    return 0;                   /* BUG: fd is never closed */
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE exit|_exit\n", argv[0]);
        return 2;
    }
    int pfd = open(argv[1], O_RDONLY); /* FS-EXPECT: parent fd */
    char *pbuf = malloc(100); /* FS-EXPECT: parent memory */
    if (pfd < 0 || !pbuf) {
        perror(argv[1]);
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        int rc = read_first_line(argv[1]) == 0 ? 0 : 1;
        if (strcmp(argv[2], "_exit") == 0)
            _exit(rc);
        exit(rc);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: child failed\n", argv[0]);
        return 1;
    }
    free(pbuf);
    close(pfd);
    return 0;
}
