/* socket_leak_ok.c — check that a local service socket can be set up; the
 * fixed twin of socket_leak.c.
 *
 * Usage: demo_socket_leak_ok       creates a temporary directory (under
 *                                  $TMPDIR, default /tmp), binds and listens
 *                                  on an AF_UNIX socket in it, prints its
 *                                  path, and removes both again.
 *
 * Same program as socket_leak.c, with the bug fixed: when bind() fails,
 * open_listener() closes the socket before returning.
 * Under the same fault (faultstack run --fail only=bind,nth=1) it must
 * produce no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Listen on DIR/sock, print the path, and tear it down.
 * Returns 0, or -1 after reporting the error on stderr. */
static int open_listener(const char *dir)
{
    struct sockaddr_un addr;
    int rc = -1;

    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", dir) >= (int)sizeof addr.sun_path) {
        fprintf(stderr, "%s/sock: path too long for a socket\n", dir);
        return -1;
    }
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) {
        perror("socket");
        return -1;
    }
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) { /* FS-FAULT */
        perror(addr.sun_path);
        close(s);               /* fixed */
        return -1;
    }
    if (listen(s, 4) != 0) {
        perror("listen");
        goto done;
    }
    printf("listening on %s\n", addr.sun_path);
    rc = 0;
done:
    close(s);
    unlink(addr.sun_path);
    return rc;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    int rc = 0;

    snprintf(dir, sizeof dir, "%s/demo_socket.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        return 1;
    }
    if (open_listener(dir) != 0) {
        fprintf(stderr, "demo_socket_leak_ok: cannot listen in %s\n", dir);
        rc = 1;
    }
    if (rmdir(dir) != 0) { perror(dir); rc = 1; }
    return rc;
}
