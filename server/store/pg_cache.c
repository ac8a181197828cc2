/*
 * pg_cache.c - the per-transaction key cache of the PostgreSQL backend
 * (see pg_cache.h for why it exists).
 */
#include "store/pg_cache.h"

#include "base/common.h"

#include <stdlib.h>
#include <string.h>

/* Blocks start small (most transactions touch a handful of keys, and a
 * malloc of 1 KiB or more makes glibc consolidate its free lists) and
 * double up to CACHE_BLOCK_MAX. */
#define CACHE_BLOCK_MIN 768
#define CACHE_BLOCK_MAX (64 * 1024)
#define CACHE_BUCKETS_0 64

struct pg_cache_block {
    pg_cache_block *next;
    size_t used, size;
    max_align_t data[];
};

/*
 * Bump allocation from blocks freed together at the end: a transaction's
 * entries and value copies all die at once, and nothing handed out may
 * move or be freed before then.
 */
static void *arena_alloc(pg_cache *c, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    pg_cache_block *b = c->blocks;
    if (!b || b->size - b->used < n) {
        size_t size = b ? b->size * 2 : CACHE_BLOCK_MIN;
        if (size > CACHE_BLOCK_MAX)
            size = CACHE_BLOCK_MAX;
        if (size < n)
            size = n;
        b = malloc(sizeof(*b) + size);
        if (!b) {
            pt_error_set("store: out of memory");
            return NULL;
        }
        b->used = 0;
        b->size = size;
        b->next = c->blocks;
        c->blocks = b;
    }
    void *p = (unsigned char *)b->data + b->used;
    b->used += n;
    return p;
}

void pg_cache_free(pg_cache *c)
{
    while (c->blocks) {
        pg_cache_block *next = c->blocks->next;
        free(c->blocks);
        c->blocks = next;
    }
    free(c->buckets);
    free(c->dirty);
    memset(c, 0, sizeof(*c));
}

/* FNV-1a over the table number and the key bytes. */
static uint32_t key_hash(int tbl, const void *key, size_t klen)
{
    uint32_t h = 2166136261u ^ (uint32_t)tbl;
    h *= 16777619u;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

pg_cache_entry *pg_cache_find(const pg_cache *c, int tbl, const void *key, size_t klen)
{
    if (!c->buckets)
        return NULL;
    uint32_t h = key_hash(tbl, key, klen);
    for (pg_cache_entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->next)
        if (e->hash == h && e->tbl == tbl && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

/* Doubles the bucket array when entries outnumber buckets, so lookups stay
 * O(1) however many keys one transaction touches (a bulk import). */
static int buckets_grow(pg_cache *c)
{
    if (c->buckets && c->n_entries < c->n_buckets)
        return 0;
    size_t n = c->buckets ? c->n_buckets * 2 : CACHE_BUCKETS_0;
    pg_cache_entry **b = calloc(n, sizeof(*b));
    if (!b) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    for (size_t i = 0; i < c->n_buckets; i++) {
        pg_cache_entry *e = c->buckets[i];
        while (e) {
            pg_cache_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
    return 0;
}

/* The entry for (tbl, key), created (absent, clean) when missing. */
static int entry_get(pg_cache *c, int tbl, const void *key, size_t klen, pg_cache_entry **out)
{
    pg_cache_entry *e = pg_cache_find(c, tbl, key, klen);
    if (!e) {
        if (buckets_grow(c) != 0)
            return PT_ENOMEM;
        e = arena_alloc(c, sizeof(*e) + klen);
        if (!e)
            return PT_ENOMEM;
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, klen);
        e->klen = klen;
        e->tbl = tbl;
        e->hash = key_hash(tbl, key, klen);
        e->next = c->buckets[e->hash & (c->n_buckets - 1)];
        c->buckets[e->hash & (c->n_buckets - 1)] = e;
        c->n_entries++;
    }
    *out = e;
    return 0;
}

int pg_cache_note(pg_cache *c, int tbl, const void *key, size_t klen, const void *val, size_t vlen,
                  pg_cache_entry **out)
{
    pg_cache_entry *e = NULL;
    int rc = entry_get(c, tbl, key, klen, &e);
    if (rc != 0)
        return rc;
    e->val = val;
    e->vlen = val ? vlen : 0;
    if (out)
        *out = e;
    return 0;
}

int pg_cache_write(pg_cache *c, int tbl, const void *key, size_t klen, const void *val, size_t vlen)
{
    pg_cache_entry *e = NULL;
    int rc = entry_get(c, tbl, key, klen, &e);
    if (rc != 0)
        return rc;
    void *copy = NULL;
    if (val) {
        copy = arena_alloc(c, vlen ? vlen : 1);
        if (!copy)
            return PT_ENOMEM;
        memcpy(copy, val, vlen);
    }
    if (!e->dirty) {
        if (c->n_dirty == c->cap_dirty) {
            size_t cap = c->cap_dirty ? c->cap_dirty * 2 : 64;
            pg_cache_entry **d = realloc(c->dirty, cap * sizeof(*d));
            if (!d) {
                pt_error_set("store: out of memory");
                return PT_ENOMEM;
            }
            c->dirty = d;
            c->cap_dirty = cap;
        }
        c->dirty[c->n_dirty++] = e;
        e->dirty = true;
        c->dirty_bytes += klen;
    } else {
        c->dirty_bytes -= e->vlen;
    }
    e->val = copy;
    e->vlen = val ? vlen : 0;
    c->dirty_bytes += e->vlen;
    return 0;
}

int pg_cache_note_range(pg_cache *c, int tbl, const void *prefix, size_t plen)
{
    pg_cache_range *r = arena_alloc(c, sizeof(*r) + plen);
    if (!r)
        return PT_ENOMEM;
    r->tbl = tbl;
    r->plen = plen;
    memcpy(r->prefix, prefix, plen);
    r->next = c->ranges;
    c->ranges = r;
    return 0;
}

bool pg_cache_known_absent(const pg_cache *c, int tbl, const void *key, size_t klen)
{
    for (const pg_cache_range *r = c->ranges; r; r = r->next)
        if (r->tbl == tbl && klen >= r->plen && memcmp(key, r->prefix, r->plen) == 0)
            return true;
    return false;
}

/* bytea order within a table, as the index and LMDB sort keys. */
static int entry_cmp(const void *a, const void *b)
{
    const pg_cache_entry *x = *(pg_cache_entry *const *)a, *y = *(pg_cache_entry *const *)b;
    if (x->tbl != y->tbl)
        return x->tbl < y->tbl ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int d = memcmp(x->key, y->key, n);
    if (d != 0)
        return d;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

void pg_cache_sort_dirty(pg_cache *c)
{
    if (c->n_dirty > 1)
        qsort(c->dirty, c->n_dirty, sizeof(*c->dirty), entry_cmp);
}

void pg_cache_mark_sent(pg_cache *c)
{
    for (size_t i = 0; i < c->n_dirty; i++)
        c->dirty[i]->dirty = false;
    c->n_dirty = 0;
    c->dirty_bytes = 0;
}
