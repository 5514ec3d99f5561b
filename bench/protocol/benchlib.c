/* benchlib.c — libbenchproto.so: a trivial acquire/release pair (a handle
 * counter), so the benchmark measures the wrapper, not the library. */
static int bp_next;
__attribute__((visibility("default"))) int bp_get(int x) { return (bp_next++ & 0x3fff) + x; }
__attribute__((visibility("default"))) int bp_put(int h) { return h < 0 ? -1 : 0; }
