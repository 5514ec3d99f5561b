/* record_fmt.h — the one home of what the preload tells the supervisor: the
 * record files, the shared page and fork mode's list of children. The
 * preload's writers (record.c, finish.c, core.c, signal.c, forkmode.c,
 * wrap_proc.c) build lines with these tags, in this field order; the
 * supervisor's readers (ingest.c, sweep_plan.c, sweep_fork.c, verdict.c)
 * parse them with the FS_REC_*_SCAN formats below. Change a line here, in both, and bump
 * FS_RECORD_VERSION.
 *
 * ---- RUN_DIR/<pid>-<monotonic ns>.rec: one file per process image ----
 * Plain text, one item per line, appended by the image (no fd stays open).
 *   faultstack-record V                the format version (first line)
 *   image PID PPID NS EXE              a process image starts
 *   m ID BIAS PATH                     a module, before its first use (may follow it
 *                                      when threads race: readers take 'm' lines first)
 *   p ORD FUNC MOD OFF OCC INJ [CTX]   a fault point (capped at FAULTSTACK_MAX_POINTS);
 *                                      CTX: calling-context hash when computed
 *   c ORD MOD OFF [MOD OFF [MOD OFF]]  the callers of point ORD's function (site strategy)
 *   forked ORD                         fork-mode child of the sweep: it fails point ORD;
 *                                      points 1..ORD-1 ran in the trunk (not listed here)
 *   a ANOMALY KIND FUNC MOD OFF HANDLE ACQFUNC ACQMOD ACQOFF | DETAIL
 *   end HOW CODE SIG                   the image ended (exit, _exit, main, signal, exec)
 *   resume                             an exec that failed: the image goes on
 *   x SIG MOD OFF FRAMES               crash: signal, faulting site, stack as MOD:OFF,...
 *   X SIG MOD OFF FRAMES               the same, caught by the program's own handler (a
 *                                      crash unless the process then exits with status 0)
 *   r VERDICT[:WHY] KIND FUNC MOD OFF HANDLE SIZE [STACK]
 *                                      a resource at the end; WHY (held): frame, thread,
 *                                      signal, exec, global@MOD+0xOFF, reachable-ROOT
 *   s FUNC MOD OFF COUNT FIRST         per-site summary of fault points
 *   w MOD OFF                          a close() site that closed never-opened fds (a
 *                                      close-every-fd loop): its EBADFs are not double closes
 *   sum POINTS REACH_BLOCKS REACH_BYTES
 *   done                               the record is complete
 * Module 0 means "no site". Numbers are decimal, offsets and handles 0x hex
 * (fd handles decimal). FUNC and KIND are names (protocols' kinds too).
 *
 * ---- RUN_DIR/shared: one page every process of a run maps ----
 * struct fs_shared below; the supervisor reads ordinal and injected.
 *
 * ---- RUN_DIR/forks: fork mode's children, appended by the trunk ----
 *   ORD PID                            a child that fails point ORD
 *   stop ORD WHY                       fork mode ended at ORD (threads, a child...)
 *
 * Beside these, RUN_DIR/forked (empty) says some process of the run forked. */
#ifndef FS_RECORD_FMT_H
#define FS_RECORD_FMT_H

#include <stdint.h>

#define FS_RECORD_VERSION 2
#define FS_REC_STR_(x) #x
#define FS_REC_STR(x) FS_REC_STR_(x)
#define FS_REC_VERSION_LINE "faultstack-record " FS_REC_STR(FS_RECORD_VERSION) "\n"
#define FS_REC_VERSION_SCAN "faultstack-record %d"

/* Field sizes (with the NUL): writers truncate to them, readers scan them. */
#define FS_REC_FUNC_MAX 64
#define FS_REC_KIND_MAX 32
#define FS_REC_ANOMALY_MAX 32
#define FS_REC_VERDICT_MAX 128
#define FS_REC_HANDLE_MAX 40
#define FS_REC_HOW_MAX 16

/* Tags: a line starts with its tag and a space. */
#define FS_REC_IMAGE "image"
#define FS_REC_MODULE 'm'
#define FS_REC_POINT 'p'
#define FS_REC_CALLERS 'c'
#define FS_REC_FORKED "forked"
#define FS_REC_ANOMALY 'a'
#define FS_REC_END "end"
#define FS_REC_RESUME "resume"
#define FS_REC_CRASH 'x'
#define FS_REC_CRASH_CAUGHT 'X'
#define FS_REC_RESOURCE 'r'
#define FS_REC_SITE 's'
#define FS_REC_CLOSE_LOOP 'w'
#define FS_REC_SUM "sum"
#define FS_REC_DONE "done"

/* The readers' formats (the %Ns widths are the sizes above minus one). */
#define FS_REC_IMAGE_SCAN "image %d %d %llu %n"
#define FS_REC_MODULE_SCAN "m %ld %llx %n"
#define FS_REC_POINT_SCAN "p %lld %63s %ld %llx %lld %d %llx"
#define FS_REC_CALLERS_SCAN "c %lld %n"
#define FS_REC_RESOURCE_SCAN "r %127s %31s %63s %ld %llx %39s %lld"
#define FS_REC_ANOMALY_SCAN "a %31s %31s %63s %ld %llx %39s %63s %ld %llx"
#define FS_REC_CRASH_SCAN " %d %ld %llx %n"                /* after the tag character */
#define FS_REC_END_SCAN "end %15s %d %d"
#define FS_REC_CLOSE_LOOP_SCAN "w %ld %llx"
#define FS_REC_SITE_SCAN "s %63s %ld %llx %lld %lld"
#define FS_REC_SUM_SCAN "sum %lld %lld %lld"
#define FS_FORKS_CHILD_SCAN "%lld %d"
#define FS_FORKS_STOP_SCAN "stop %lld %n"

/* RUN_DIR/shared: one page shared by every process of a run. */
struct fs_shared {
    uint64_t ordinal;          /* fault points so far (after filters) */
    uint64_t injected;         /* failures injected so far */
    uint32_t persist_func;     /* persistent plan: function id + 1 once injected */
    uint32_t others;           /* fork mode: a process other than the trunk runs */
    uint64_t first_inj;        /* ordinal of the first injected failure (then=) */
    int32_t fork_kid;          /* fork mode: pid handed from the intermediate process */
    uint32_t fork_reaped;      /* fork mode, the trunk's page: forked runs the supervisor
                                * reaped, with FS_FORK_REAPED_ON; a futex it wakes */
};
#define FS_FORK_REAPED_ON 0x80000000u

#endif
