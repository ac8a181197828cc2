/*
 * store_cache.c - the per-thread decoded-record cache (store_cache.h).
 *
 * One open-addressed table per thread, allocated on first use and freed
 * by a pthread key destructor when the thread exits.  A lookup probes at
 * most PROBE slots from the key's home slot; an insert that finds them all
 * taken replaces the one after the last replaced (a cheap round robin), so
 * nothing ever has to be removed from the middle of a probe chain.  A
 * change of store or snapshot, or a full byte budget, empties the table:
 * records are small and the next request refills what it needs.
 */
#include "store/store_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8

typedef struct cache_entry {
    json_t *val; /* NULL: free slot */
    uint32_t hash;
    uint16_t klen;
    uint8_t table;
    size_t cost;
    unsigned char key[PT_JSON_CACHE_KEY_MAX];
} cache_entry;

typedef struct json_cache {
    pt_json_cache_tag tag;
    size_t bytes;
    unsigned next_victim;
    cache_entry slots[PT_JSON_CACHE_SLOTS];
} json_cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static _Thread_local json_cache *tl_cache;

static void cache_clear(json_cache *c)
{
    for (size_t i = 0; i < PT_JSON_CACHE_SLOTS; i++) {
        json_decref(c->slots[i].val);
        c->slots[i].val = NULL;
    }
    c->bytes = 0;
}

static void cache_destroy(void *p)
{
    json_cache *c = p;
    if (!c)
        return;
    cache_clear(c);
    free(c);
    if (tl_cache == c)
        tl_cache = NULL;
}

static void cache_key_create(void)
{
    (void)pthread_key_create(&cache_key, cache_destroy);
}

/* This thread's cache, created on first use; NULL when out of memory. */
static json_cache *cache_get(bool create)
{
    if (tl_cache || !create)
        return tl_cache;
    pthread_once(&cache_once, cache_key_create);
    json_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (pthread_setspecific(cache_key, c) != 0) {
        free(c);
        return NULL;
    }
    tl_cache = c;
    return c;
}

static uint32_t key_hash(pt_table t, const void *key, size_t klen)
{
    uint32_t h = 2166136261u ^ (uint32_t)t;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static bool tag_equal(const pt_json_cache_tag *a, const pt_json_cache_tag *b)
{
    return a->store_gen == b->store_gen && a->snapshot == b->snapshot;
}

/* The cache for tag, emptied first if it held another snapshot. */
static json_cache *cache_for(const pt_json_cache_tag *tag, bool create)
{
    json_cache *c = cache_get(create);
    if (c && !tag_equal(&c->tag, tag)) {
        cache_clear(c);
        c->tag = *tag;
    }
    return c;
}

static bool entry_is(const cache_entry *e, uint32_t h, pt_table t, const void *key, size_t klen)
{
    return e->val && e->hash == h && e->table == (uint8_t)t && e->klen == klen &&
           memcmp(e->key, key, klen) == 0;
}

json_t *pt_json_cache_find(const pt_json_cache_tag *tag, pt_table t, const void *key, size_t klen)
{
    if (klen > PT_JSON_CACHE_KEY_MAX)
        return NULL;
    json_cache *c = cache_for(tag, false);
    if (!c)
        return NULL;
    uint32_t h = key_hash(t, key, klen);
    for (unsigned i = 0; i < PROBE; i++) {
        cache_entry *e = &c->slots[(h + i) % PT_JSON_CACHE_SLOTS];
        if (entry_is(e, h, t, key, klen))
            return e->val;
    }
    return NULL;
}

void pt_json_cache_add(const pt_json_cache_tag *tag, pt_table t, const void *key, size_t klen,
                       json_t *val, size_t text_len)
{
    if (!val || klen > PT_JSON_CACHE_KEY_MAX || text_len > PT_JSON_CACHE_ENTRY_MAX)
        return;
    json_cache *c = cache_for(tag, true);
    if (!c)
        return;
    if (c->bytes + text_len > PT_JSON_CACHE_BYTES)
        cache_clear(c);
    uint32_t h = key_hash(t, key, klen);
    cache_entry *slot = NULL;
    for (unsigned i = 0; i < PROBE && !slot; i++) {
        cache_entry *e = &c->slots[(h + i) % PT_JSON_CACHE_SLOTS];
        if (!e->val || entry_is(e, h, t, key, klen))
            slot = e;
    }
    if (!slot) {
        slot = &c->slots[(h + c->next_victim) % PT_JSON_CACHE_SLOTS];
        c->next_victim = (c->next_victim + 1) % PROBE;
    }
    if (slot->val) {
        c->bytes -= slot->cost;
        json_decref(slot->val);
    }
    slot->val = json_incref(val);
    slot->hash = h;
    slot->table = (uint8_t)t;
    slot->klen = (uint16_t)klen;
    slot->cost = text_len;
    memcpy(slot->key, key, klen);
    c->bytes += text_len;
}

void pt_json_cache_drop_store(uint64_t store_gen)
{
    json_cache *c = cache_get(false);
    if (!c || c->tag.store_gen != store_gen)
        return;
    (void)pthread_setspecific(cache_key, NULL);
    cache_destroy(c);
}

int pt_json_cache_each(const pt_json_cache_tag *tag, pt_json_cache_fn fn, void *ctx)
{
    json_cache *c = cache_get(false);
    if (!c || !tag_equal(&c->tag, tag))
        return 0;
    for (size_t i = 0; i < PT_JSON_CACHE_SLOTS; i++) {
        const cache_entry *e = &c->slots[i];
        if (!e->val)
            continue;
        int rc = fn((pt_table)e->table, e->key, e->klen, e->val, ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}
