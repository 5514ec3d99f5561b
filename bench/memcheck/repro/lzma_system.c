/* lzma_system.c — liblzma is a "system" library to the preload
 * (fs_system_prefixes in harness/preload/core.c, from the time the preload
 * used libunwind, which links liblzma): no call liblzma makes is a fault
 * point, and what it allocates is attributed to the program's call into it
 * (bench/RESULTS.md, "Memcheck agreement", faultstack's own gaps).
 *
 * This program's only allocations are liblzma's (lzma_easy_encoder's
 * encoder state); it then loses them. faultstack finds the 12 lost blocks
 * (named by line 26, the call into liblzma), but the run lists no fault
 * point at all, so `--fail only=malloc,nth=1` injects nothing and the
 * LZMA_MEM_ERROR path is never tested; `xz -dc` likewise has no malloc
 * fault point (all of xz's memory is liblzma's), and libxml2's xzread has
 * none inside liblzma.
 *
 *   cc -g -O0 -o /tmp/lzma_system bench/memcheck/repro/lzma_system.c -llzma
 *   build/bin/faultstack run --db /tmp/l.db --fail only=malloc,nth=1 -- /tmp/lzma_system
 *   sqlite3 /tmp/l.db "SELECT injected, points_total FROM runs; SELECT count(*) FROM fault_points"
 *   (0 injected, 0 points)
 */
#include <lzma.h>
#include <stdio.h>

int main(void)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r = lzma_easy_encoder(&s, 6, LZMA_CHECK_CRC64);
    if (r != LZMA_OK) {
        fprintf(stderr, "lzma_easy_encoder: error %d\n", (int)r);
        return 1;
    }
    s.internal = NULL;                  /* lzma_end(&s) forgotten, the state lost */
    return 0;
}
