/* wrap_proc.c — interposers of the calls that start and end a process image:
 * __libc_start_main (so that a return from main is known for certain), exit,
 * quick_exit, _exit, _Exit, the exec family (the preload follows into the new
 * image), and vfork (made a fork). Each notes how the program ended (finish.c)
 * and lets fs_finish write the verdicts.
 *
 * Ends that bypass every wrapper — error(), errx(), verr(), error_at_line()
 * and the rest reach libc's exit without the PLT — are caught by an on_exit
 * handler registered just before main runs: the exit status is its argument,
 * and unless main returned, the program's frames are still live (finish.c,
 * fs_note_exit_inside_libc). */
#define _GNU_SOURCE
#include "preload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------- exit, _exit ---------------- */

/* The stack pointer of the calling wrapper after spilling every callee-saved
 * register into its frame: the live roots of the program start there. */
#define FS_TAKE_EXIT_SP()                                  \
    do {                                                   \
        __builtin_unwind_init();                           \
        uintptr_t sp_;                                     \
        __asm__ volatile("mov %%rsp, %0" : "=r"(sp_));     \
        fs_end_st.sp = sp_;                                  \
    } while (0)

FS_EXPORT void exit(int code)
{
    FS_REAL(exit);
    if (fs_active && !fs_guard) {
        FS_TAKE_EXIT_SP();
        fs_guard++;
        fs_note_exit_stack();
        fs_end_st.code = code & 0xff;
        fs_guard--;
    }
    real_fn(code);
    __builtin_unreachable();
}

FS_EXPORT void _exit(int code)
{
    FS_REAL(_exit);
    if (fs_active && !fs_guard) {
        FS_TAKE_EXIT_SP();
        fs_guard++;
        fs_note_exit_stack();
        fs_guard--;
        fs_finish("_exit", code & 0xff, 0);
    }
    real_fn(code);
    __builtin_unreachable();
}

FS_EXPORT void _Exit(int code)
{
    _exit(code);
}

/* quick_exit runs the at_quick_exit handlers, then ends without exit handlers
 * or destructors: the process is finished by a handler of ours that runs after
 * the program's own (registered before main), or here when main was not seen. */
static int fs_quick_registered;

static void fs_on_quick_exit(void)
{
    fs_finish("exit", fs_end_st.code, 0);
}

FS_EXPORT void quick_exit(int code)
{
    FS_REAL(quick_exit);
    if (fs_active && !fs_guard) {
        FS_TAKE_EXIT_SP();
        fs_guard++;
        fs_note_exit_stack();
        fs_end_st.code = code & 0xff;
        fs_guard--;
        if (!fs_quick_registered)
            fs_finish("exit", code & 0xff, 0);
    }
    real_fn(code);
    __builtin_unreachable();
}

/* ---------------- main: known to have returned, or not ---------------- */

typedef int (*fs_main_fn)(int, char **, char **);
static fs_main_fn fs_real_main;

/* Registered with on_exit just before main: runs inside exit (from the exit()
 * wrapper, from main's return, or from libc's internal exit), before the
 * loader's destructors. */
static void fs_on_exit(int status, void *arg)
{
    (void)arg;
    if (!fs_active || fs_end_st.finished || fs_end_st.pid != fs_getpid())
        return;                              /* a child of a raw clone(): not this image's end */
    if (fs_end_st.code < 0)
        fs_end_st.code = status & 0xff;
    if (!fs_end_st.main_returned && !fs_end_st.exit_called) {
        fs_guard++;
        fs_note_exit_inside_libc();
        fs_guard--;
    }
}

static int fs_main(int argc, char **argv, char **envp)
{
    if (fs_active) {
        fs_guard++;                          /* libc's own allocations: not the program's */
        fs_end_st.pid = fs_getpid();
        on_exit(fs_on_exit, NULL);
        fs_quick_registered = at_quick_exit(fs_on_quick_exit) == 0;
        fs_thread_register_self();           /* main's stack: a root when another thread ends the process */
        fs_guard--;
    }
    int r = fs_real_main(argc, argv, envp);
    fs_end_st.main_returned = 1;
    return r;
}

int __libc_start_main(fs_main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);

FS_EXPORT int __libc_start_main(fs_main_fn main, int argc, char **argv, void (*init)(void),
                                void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    FS_REAL(__libc_start_main);
    fs_real_main = main;
    return real_fn(fs_main, argc, argv, init, fini, rtld_fini, stack_end);
}


/* ---------------- exec: the image ends; keep the preload in the new one ---------------- */

extern char **environ;
static const char *const fs_env_keys[] = { "LD_PRELOAD=", "FAULTSTACK_RUN_DIR=", "FAULTSTACK_PLAN=",
                                           "FAULTSTACK_MAX_POINTS=", "FAULTSTACK_STACK_SITES=",
                                           "FAULTSTACK_CTX=", "FAULTSTACK_CALLERS=", "FAULTSTACK_INERT_EXE=",
                                           /* a sanitizer build exec'd with an environment of
                                              its own must start too (harness/cli/sanitizer.c) */
                                           "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "TSAN_OPTIONS=", NULL };

/* `faultstack run --valgrind` names memcheck's report files after
 * FAULTSTACK_VG_IMAGE (valgrind's %q{...}): every exec gets a new value, so the
 * new image's files (same pid) do not overwrite the old image's. */
static char *fs_vg_image_kv(void)
{
    if (!getenv("FAULTSTACK_VG_IMAGE"))
        return NULL;
    static const char key[] = "FAULTSTACK_VG_IMAGE=";
    char *kv = fs_alloc(sizeof key + 48);
    if (!kv)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    size_t n = sizeof key - 1;
    memcpy(kv, key, n);
    n += fs_fmt_u64(kv + n, (uint64_t)fs_getpid());
    kv[n++] = '-';
    n += fs_fmt_u64(kv + n, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    kv[n] = '\0';
    return kv;
}

/* envp plus our variables where it lacks them; allocated with fs_alloc. */
static char *const *fs_fix_env(char *const envp[])
{
    if (!fs_active)
        return envp;
    size_t n = 0;
    while (envp && envp[n]) n++;
    char **out = fs_alloc((n + 2 + sizeof fs_env_keys / sizeof fs_env_keys[0]) * sizeof *out);
    if (!out)
        return envp;
    size_t k = 0;
    char *image = fs_vg_image_kv();
    for (size_t i = 0; i < n; i++)
        if (!image || strncmp(envp[i], "FAULTSTACK_VG_IMAGE=", 20) != 0)
            out[k++] = envp[i];
    if (image)
        out[k++] = image;
    for (int j = 0; fs_env_keys[j]; j++) {
        size_t kl = strlen(fs_env_keys[j]);
        int have = 0;
        for (size_t i = 0; i < n; i++)
            if (strncmp(envp[i], fs_env_keys[j], kl) == 0) have = 1;
        if (have)
            continue;
        char name[64];
        memcpy(name, fs_env_keys[j], kl - 1);
        name[kl - 1] = '\0';
        const char *v = getenv(name);
        if (!v)
            continue;
        char *kv = fs_alloc(kl + strlen(v) + 1);
        if (!kv)
            continue;
        memcpy(kv, fs_env_keys[j], kl);
        strcpy(kv + kl, v);
        out[k++] = kv;
    }
    out[k] = NULL;
    return out;
}

static void fs_before_exec(void)
{
    if (!fs_active || fs_guard)
        return;
    fs_finish("exec", -1, 0);
}

static void fs_after_failed_exec(void)
{
    if (!fs_active)
        return;
    fs_end_st.finished = 0;
    fs_record_raw(FS_REC_RESUME "\n", sizeof FS_REC_RESUME);
}

FS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    FS_REAL(execve);
    fs_before_exec();
    int r = real_fn(path, argv, fs_fix_env(envp));
    int e = errno;
    fs_after_failed_exec();
    errno = e;
    return r;
}

FS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    FS_REAL(execvpe);
    fs_before_exec();
    int r = real_fn(file, argv, fs_fix_env(envp));
    int e = errno;
    fs_after_failed_exec();
    errno = e;
    return r;
}

FS_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

FS_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

static char **fs_va_argv(const char *arg0, va_list ap, char ***envp_out)
{
    va_list cp;
    va_copy(cp, ap);
    size_t n = 1;
    while (va_arg(cp, char *)) n++;
    va_end(cp);
    char **argv = fs_alloc((n + 1) * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);        /* the last one read is the NULL */
    if (envp_out)
        *envp_out = va_arg(ap, char **);
    return argv;
}

FS_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, NULL);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execve(path, argv, environ);
}

FS_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, NULL);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execvpe(file, argv, environ);
}

FS_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char **envp = NULL;
    va_start(ap, arg);
    char **argv = fs_va_argv(arg, ap, &envp);
    va_end(ap);
    if (!argv) { errno = ENOMEM; return -1; }
    return execve(path, argv, envp);
}

/* vfork shares the parent's memory, which the preload's bookkeeping would
 * corrupt; fork gives the same semantics to a conforming program. */
FS_EXPORT pid_t vfork(void)
{
    return fork();
}
