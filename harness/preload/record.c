/* record.c — the record file a process image writes for the supervisor.
 *
 * One file per process image: RUN_DIR/<pid>-<monotonic ns>.rec, plain text, one
 * item per line, appended through a 64 KiB buffer with open/write/close (no fd
 * stays open, so programs that close every fd cannot break it). Its lines,
 * and every other thing the supervisor reads from the run directory, are
 * described in one place: harness/common/record_fmt.h. */
#define _GNU_SOURCE
#include "preload.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FS_BUF 65536

static char fs_buf[FS_BUF];
static size_t fs_buf_len;
static fs_lock_t fs_rec_lock;
static char fs_rec_path[600];
static uint64_t fs_points_written;
static uint64_t fs_max_points = 200000;

size_t fs_fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t fs_fmt_hex(char *out, uint64_t v)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[20];
    size_t n = 0;
    do { tmp[n++] = hx[v & 15]; v >>= 4; } while (v);
    out[0] = '0'; out[1] = 'x';
    for (size_t i = 0; i < n; i++)
        out[2 + i] = tmp[n - 1 - i];
    return n + 2;
}

/* Copy s (at most max bytes); newlines always, spaces unless keep_spaces, become '_'. */
static size_t fs_fmt_text(char *out, const char *s, size_t max, int keep_spaces)
{
    size_t n = 0;
    for (; s && s[n] && n < max; n++)
        out[n] = (s[n] == '\n' || (s[n] == ' ' && !keep_spaces)) ? '_' : s[n];
    return n;
}
#define fs_fmt_str(out, s, max) fs_fmt_text(out, s, max, 0)

/* Bytes of fs_buf already written by a flush that a signal interrupted. */
static size_t fs_buf_done;
/* The lock discipline in a signal handler (async-signal-safety): this thread
 * may have been interrupted while it held fs_rec_lock (it must not wait for
 * itself), and another thread holding it may never run again (the process
 * dies). */
static FS_TLS volatile int fs_rec_held_here;   /* this thread holds (or is taking) the lock */
static FS_TLS int fs_rec_in_signal;

void fs_record_in_signal(int on)
{
    fs_rec_in_signal = on;
}

static void fs_flush_locked(void)
{
    if (fs_buf_len <= fs_buf_done || !fs_rec_path[0]) {
        fs_buf_len = fs_buf_done = 0;
        return;
    }
    int fd = (int)syscall(SYS_openat, AT_FDCWD, fs_rec_path,
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        while (fs_buf_done < fs_buf_len) {
            long w = syscall(SYS_write, fd, fs_buf + fs_buf_done, fs_buf_len - fs_buf_done);
            if (w <= 0)
                break;                   /* disk full: the supervisor sees no 'done' */
            fs_buf_done += (size_t)w;
        }
        syscall(SYS_close, fd);
    }
    fs_buf_len = fs_buf_done = 0;
}

/* Take the record lock; 0 when it must not be waited for (a signal handler
 * interrupting its holder, or a holder that does not let go within ~1 s):
 * the caller then goes on without it — in a dying process, better a record
 * whose last lines may interleave than a process that hangs. */
static int fs_rec_lock_take(void)
{
    if (!fs_rec_in_signal) {
        fs_rec_held_here = 1;               /* before the lock: a handler must not wait even
                                               when it lands between the two */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        fs_lock(&fs_rec_lock);
        return 1;
    }
    if (fs_rec_held_here)
        return 0;
    for (int i = 0; i < 100000; i++) {
        if (fs_trylock(&fs_rec_lock)) {
            fs_rec_held_here = 1;
            return 1;
        }
        if (i > 100) {
            struct timespec ts = { 0, 10000 };
            syscall(SYS_nanosleep, &ts, NULL);
        }
    }
    return 0;
}

static void fs_rec_lock_drop(int taken)
{
    if (taken) {
        fs_unlock(&fs_rec_lock);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        fs_rec_held_here = 0;
    }
}

void fs_record_flush(void)
{
    int t = fs_rec_lock_take();
    fs_flush_locked();
    fs_rec_lock_drop(t);
}

void fs_record_raw(const char *line, size_t len)
{
    int t = fs_rec_lock_take();
    if (fs_buf_len + len > FS_BUF)
        fs_flush_locked();
    if (len <= FS_BUF) {
        memcpy(fs_buf + fs_buf_len, line, len);
        fs_buf_len += len;
    }
    fs_rec_lock_drop(t);
}

void fs_record_module(struct fs_module *m)
{
    if (!m || m->emitted)
        return;
    char line[600];
    size_t n = 0;
    line[n++] = FS_REC_MODULE; line[n++] = ' ';
    n += fs_fmt_u64(line + n, (uint64_t)m->id); line[n++] = ' ';
    n += fs_fmt_hex(line + n, m->bias); line[n++] = ' ';
    size_t pl = strlen(m->path);
    memcpy(line + n, m->path, pl); n += pl;
    line[n++] = '\n';
    m->emitted = 1;
    fs_record_raw(line, n);
}

void fs_record_start_image(void)
{
    const char *mx = getenv("FAULTSTACK_MAX_POINTS");
    if (mx && *mx)
        fs_max_points = strtoull(mx, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    pid_t pid = (pid_t)syscall(SYS_getpid);
    size_t n = strlen(fs_run_dir);
    memcpy(fs_rec_path, fs_run_dir, n);
    fs_rec_path[n++] = '/';
    n += fs_fmt_u64(fs_rec_path + n, (uint64_t)pid);
    fs_rec_path[n++] = '-';
    n += fs_fmt_u64(fs_rec_path + n, ns);
    memcpy(fs_rec_path + n, ".rec", 5);

    fs_buf_len = fs_buf_done = 0;
    fs_points_written = 0;
    for (int id = 1; fs_module_by_id(id); id++)
        fs_module_by_id(id)->emitted = 0;

    fs_record_raw(FS_REC_VERSION_LINE, sizeof FS_REC_VERSION_LINE - 1);
    char line[700], exe[512];
    long el = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = '\0';
    size_t k = 0;
    memcpy(line, FS_REC_IMAGE " ", sizeof FS_REC_IMAGE); k = sizeof FS_REC_IMAGE;
    k += fs_fmt_u64(line + k, (uint64_t)pid); line[k++] = ' ';
    k += fs_fmt_u64(line + k, (uint64_t)syscall(SYS_getppid)); line[k++] = ' ';
    k += fs_fmt_u64(line + k, ns); line[k++] = ' ';
    k += fs_fmt_text(line + k, exe, 500, 1);
    line[k++] = '\n';
    fs_record_raw(line, k);
    fs_record_flush();
}

/* The first fork of this process leaves RUN_DIR/forked, before fork()
 * returns in the parent: a run without it started no process that could
 * outlive its first one, and the supervisor need not look for orphans. */
void fs_record_forked(void)
{
    static int done;
    if (done || !fs_run_dir[0])
        return;
    done = 1;
    char path[600];
    size_t n = strlen(fs_run_dir);
    memcpy(path, fs_run_dir, n);
    memcpy(path + n, "/forked", 8);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        syscall(SYS_close, fd);
}

void fs_record_point(const struct fs_call *c, uint64_t occ)
{
    if (!c->inject && __atomic_add_fetch(&fs_points_written, 1, __ATOMIC_RELAXED) > fs_max_points)
        return;
    char line[256];
    size_t n = 0;
    line[n++] = FS_REC_POINT; line[n++] = ' ';
    n += fs_fmt_u64(line + n, c->ordinal); line[n++] = ' ';
    const char *fn = fs_fn(c->id)->name;
    size_t fl = strlen(fn);
    memcpy(line + n, fn, fl); n += fl; line[n++] = ' ';
    n += fs_fmt_u64(line + n, (uint64_t)c->mod); line[n++] = ' ';
    n += fs_fmt_hex(line + n, c->off); line[n++] = ' ';
    n += fs_fmt_u64(line + n, occ); line[n++] = ' ';
    line[n++] = c->inject ? '1' : '0';
    if (c->ctx) {
        line[n++] = ' ';
        n += fs_fmt_hex(line + n, c->ctx);
    }
    line[n++] = '\n';
    fs_record_module(fs_module_by_id(c->mod));
    fs_record_raw(line, n);
}

void fs_anomaly(const struct fs_call *c, const char *anomaly, int kind, uint64_t handle,
                const struct fs_res *acq, const char *detail)
{
    char line[512];
    size_t n = 0;
    line[n++] = FS_REC_ANOMALY; line[n++] = ' ';
    n += fs_fmt_str(line + n, anomaly, FS_REC_ANOMALY_MAX - 1); line[n++] = ' ';
    n += fs_fmt_str(line + n, fs_kind_name(kind), FS_REC_KIND_MAX - 1); line[n++] = ' ';
    n += fs_fmt_str(line + n, fs_fn(c->id)->name, FS_REC_FUNC_MAX - 1); line[n++] = ' ';
    n += fs_fmt_u64(line + n, (uint64_t)c->mod); line[n++] = ' ';
    n += fs_fmt_hex(line + n, c->off); line[n++] = ' ';
    n += fs_fmt_hex(line + n, handle); line[n++] = ' ';
    if (acq) {
        n += fs_fmt_str(line + n, fs_fn(acq->func)->name, FS_REC_FUNC_MAX - 1); line[n++] = ' ';
        n += fs_fmt_u64(line + n, acq->mod); line[n++] = ' ';
        n += fs_fmt_hex(line + n, acq->off);
    } else {
        memcpy(line + n, "- 0 0x0", 7); n += 7;
    }
    line[n++] = ' '; line[n++] = '|'; line[n++] = ' ';
    n += fs_fmt_text(line + n, detail ? detail : "", 300, 1);
    line[n++] = '\n';
    fs_record_module(fs_module_by_id(c->mod));
    if (acq)
        fs_record_module(fs_module_by_id(acq->mod));
    fs_record_raw(line, n);
    fs_record_flush();                 /* a hang or crash may follow: keep it */
}
