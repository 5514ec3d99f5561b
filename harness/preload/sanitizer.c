/* sanitizer.c — the end of a process that a sanitizer runtime kills.
 *
 * AddressSanitizer (and UBSan with halt_on_error, LeakSanitizer at exit)
 * print their report and end the process with a raw exit_group system call:
 * no exit(), no destructor, no signal, so the preload would write no end of
 * its record. The runtime calls the death callback set with
 * __sanitizer_set_death_callback just before that; ours writes the end of the
 * record. During the program's life the process ends 'sanitizer' (like a
 * crash: its resources are held, the report is the finding; the supervisor
 * reads the report from the run directory, where log_path puts it). When the
 * program was already ending (LeakSanitizer's check runs among the atexit
 * handlers, after main returned or exit() was called), it ends as it would
 * have: main or exit, with the preload's own leak verdict.
 *
 * The callback may run inside ASan's SEGV handler: the record is written as
 * from a signal handler (no lock the interrupted thread may hold). */
#define _GNU_SOURCE
#include "preload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fs_san_exitcode = 1;

/* exitcode=N in a sanitizer's options (the last one wins), else 1. */
static int fs_san_parse_exitcode(const char *opts)
{
    int code = -1;
    for (const char *p = opts; p && (p = strstr(p, "exitcode=")); p += 9)
        if (p == opts || strchr(" :,\t'\"", p[-1]))
            code = atoi(p + 9);
    return code;
}

static void fs_on_sanitizer_death(void)
{
    if (!fs_active || fs_end_st.finished)
        return;
    int saved = errno;
    if (fs_end_st.main_returned || fs_end_st.exit_called) {
        fs_finish(fs_end_st.exit_called ? "exit" : "main", fs_end_st.code, 0);
    } else {
        fs_record_in_signal(1);
        fs_finish("sanitizer", fs_san_exitcode, 0);
        fs_record_in_signal(0);
    }
    errno = saved;
}

/* Weak references, bound by the loader when the program carries a runtime
 * (libasan.so, or the runtime linked into the program): no dlsym, whose
 * failure in every other program would allocate its error message. */
extern void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));
extern void __asan_init(void) __attribute__((weak));

__attribute__((constructor(102)))
static void fs_sanitizer_init(void)
{
    if (!fs_active)
        return;
    int saved = errno;
    fs_sanpatch();                       /* the runtime linked into the program (sanpatch.c) */
    if (!__sanitizer_set_death_callback) {
        errno = saved;
        return;
    }
    int c = fs_san_parse_exitcode(getenv(__asan_init ? "ASAN_OPTIONS" : "UBSAN_OPTIONS"));
    if (c >= 0)
        fs_san_exitcode = c & 0xff;
    __sanitizer_set_death_callback(fs_on_sanitizer_death);
    errno = saved;
}
