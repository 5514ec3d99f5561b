/* mallocheavy.c — a malloc-heavy "real-ish" workload: a chained hash map of
 * string keys and string values under random insert/delete traffic, so that
 * ~STEPS allocations happen while ~KEYSPACE/2 entries (3 blocks each) stay live,
 * and the table grows by realloc. The map is left live (reachable from a global)
 * at exit, as many programs do, so an end-of-process reachability scan has a
 * realistic heap to walk.
 *
 * Usage: mallocheavy [STEPS [KEYSPACE]]   (defaults 6500000 and 200000:
 *        ~10M allocations, ~100k live entries = ~300k live blocks)
 * Prints: mallocheavy steps=.. allocs=.. live=.. elapsed_s=.. checksum=..
 * elapsed_s covers main's work only; run.sh times the whole process too. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
    struct node *next;
    char *key;
    char *val;
    uint64_t hash;
};

struct map {
    struct node **b;
    size_t nb, n;
};

static struct map the_map;             /* a root: reachable at exit */
static unsigned long n_allocs;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static char *dupstr(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) { perror("malloc"); exit(1); }
    n_allocs++;
    memcpy(p, s, n + 1);
    return p;
}

static void grow(struct map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 1024;
    struct node **b = calloc(nb, sizeof *b);
    if (!b) { perror("calloc"); exit(1); }
    n_allocs++;
    for (size_t i = 0; i < m->nb; i++)
        for (struct node *x = m->b[i], *nx; x; x = nx) {
            nx = x->next;
            x->next = b[x->hash & (nb - 1)];
            b[x->hash & (nb - 1)] = x;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

/* Insert the key, or remove it when present. Returns the value length touched. */
static size_t toggle(struct map *m, const char *key, size_t klen, uint64_t r)
{
    uint64_t h = hash_str(key);
    if (m->n + 1 > m->nb)
        grow(m);
    struct node **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next) {
        struct node *x = *pp;
        if (x->hash == h && strcmp(x->key, key) == 0) {
            size_t vl = strlen(x->val);
            *pp = x->next;
            free(x->key);
            free(x->val);
            free(x);
            m->n--;
            return vl;
        }
    }
    struct node *x = malloc(sizeof *x);
    if (!x) { perror("malloc"); exit(1); }
    n_allocs++;
    char val[96];
    size_t vl = (size_t)snprintf(val, sizeof val, "value-%llu-%.*s",
                                 (unsigned long long)r, (int)(r % 48),
                                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV");
    x->key = dupstr(key, klen);
    x->val = dupstr(val, vl);
    x->hash = h;
    x->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = x;
    m->n++;
    return vl;
}

int main(int argc, char **argv)
{
    long steps = argc > 1 ? atol(argv[1]) : 6500000;
    long keyspace = argc > 2 ? atol(argv[2]) : 200000;
    if (steps <= 0 || keyspace <= 0) {
        fprintf(stderr, "usage: mallocheavy [STEPS>0 [KEYSPACE>0]]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t rng = 0x2545F4914F6CDD1Dull, sum = 0;
    char key[64];
    for (long i = 0; i < steps; i++) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        int kl = snprintf(key, sizeof key, "key:%lu", (unsigned long)(rng % (uint64_t)keyspace));
        sum += toggle(&the_map, key, (size_t)kl, rng >> 20);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("mallocheavy steps=%ld allocs=%lu live=%zu elapsed_s=%.3f checksum=%llu\n",
           steps, n_allocs, the_map.n, el, (unsigned long long)sum);
    return 0;
}
