/* sites.c — call sites: the per-site fault-point counts (occurrence index,
 * first ordinal) behind a striped hash table, their summary lines at process
 * end, the close() sites of close-every-fd loops, and the sites whose acquire
 * stacks a confirmation run wants (FAULTSTACK_STACK_SITES). */
#define _GNU_SOURCE
#include "preload.h"

#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

/* ---------------- sites whose stacks are wanted ---------------- */

#define FS_MAX_STACK_SITES 64
static struct { char base[128]; uint64_t off; } fs_ss[FS_MAX_STACK_SITES];
int fs_nss;

void fs_stack_sites_parse(const char *s)
{
    while (s && *s && fs_nss < FS_MAX_STACK_SITES) {
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *plus = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == '+') plus = s + i;
        if (plus && (size_t)(plus - s) < sizeof fs_ss[0].base) {
            memcpy(fs_ss[fs_nss].base, s, (size_t)(plus - s));
            fs_ss[fs_nss].base[plus - s] = '\0';
            fs_ss[fs_nss].off = strtoull(plus + 1, NULL, 16);
            fs_nss++;
        }
        s = end ? end + 1 : NULL;
    }
}

int fs_stack_site_slow(int mod, uint64_t off)
{
    struct fs_module *m = fs_module_by_id(mod);
    for (int i = 0; m && i < fs_nss; i++)
        if (fs_ss[i].off == off && strcmp(fs_ss[i].base, m->base) == 0)
            return 1;
    return 0;
}

/* ---------------- call sites ---------------- */

#define FS_SITE_STRIPES 64
static struct fs_site *fs_sites[FS_SITE_BUCKETS];
static fs_lock_t fs_site_locks[FS_SITE_STRIPES];

/* Find or create the site; returns it with its stripe locked in *lk. */
struct fs_site *fs_site_get(int func, int mod, uint64_t off, fs_lock_t **lk)
{
    unsigned b = fs_site_hash(func, mod, off);
    *lk = &fs_site_locks[b % FS_SITE_STRIPES];
    fs_lock(*lk);
    for (struct fs_site *s = fs_sites[b]; s; s = s->next)
        if (s->off == off && s->mod == mod && s->func == func)
            return s;
    struct fs_site *s = fs_alloc(sizeof *s);
    if (!s) {
        fs_unlock(*lk);
        return NULL;
    }
    s->off = off; s->mod = (uint16_t)mod; s->func = (uint16_t)func;
    s->next = fs_sites[b];
    fs_sites[b] = s;
    return s;
}

FS_TLS struct fs_site *fs_site_cache[FS_SITE_CACHE];      /* preload.h */

uint64_t fs_site_point_slow(int func, int mod, uint64_t off, uint64_t ordinal)
{
    fs_lock_t *lk;
    struct fs_site *s = fs_site_get(func, mod, off, &lk);
    if (!s)
        return 0;
    fs_unlock(lk);
    fs_site_cache[fs_site_hash(func, mod, off) % FS_SITE_CACHE] = s;
    return fs_site_count(s, ordinal);
}

unsigned fs_site_note_ebadf(const struct fs_call *c)
{
    fs_lock_t *lk;
    unsigned n = 0;
    struct fs_site *s = fs_site_get(c->id, c->mod, c->off, &lk);
    if (s) {
        n = ++s->ebadf;
        fs_unlock(lk);
    }
    return n;
}

/* A fork child inherits its parent's counts; the occurrence indices go on
 * from them (a site's #K counts every call of the run's process tree up to
 * the fork, as fault plans expect) but the child's 's' lines count only the
 * calls it made, or the parent's calls before the fork would be counted twice
 * in the run's fault_sites. */
void fs_sites_forked(void)
{
    for (int b = 0; b < FS_SITE_BUCKETS; b++)
        for (struct fs_site *s = fs_sites[b]; s; s = s->next)
            s->base = s->count;
}

/* Emit the per-site summary ('s' lines): every distinct fault-point site. */
void fs_sites_emit(void)
{
    char line[256];
    for (int b = 0; b < FS_SITE_BUCKETS; b++) {
        for (struct fs_site *s = fs_sites[b]; s; s = s->next) {
            if (s->count == s->base && !s->ebadf)
                continue;
            size_t n = 0;
            line[n++] = FS_REC_SITE; line[n++] = ' ';
            const char *fn = fs_fn(s->func)->name;
            size_t fl = strlen(fn);
            memcpy(line + n, fn, fl); n += fl; line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->mod); line[n++] = ' ';
            n += fs_fmt_hex(line + n, s->off); line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->count - s->base); line[n++] = ' ';
            n += fs_fmt_u64(line + n, s->first); line[n++] = '\n';
            fs_record_module(fs_module_by_id(s->mod));
            fs_record_raw(line, n);
            if (s->func == FS_F_close && s->ebadf >= 3) {
                /* 'w MOD OFF': a close-every-fd loop; its EBADFs are not double closes */
                n = 0;
                line[n++] = FS_REC_CLOSE_LOOP; line[n++] = ' ';
                n += fs_fmt_u64(line + n, s->mod); line[n++] = ' ';
                n += fs_fmt_hex(line + n, s->off); line[n++] = '\n';
                fs_record_raw(line, n);
            }
        }
    }
}

