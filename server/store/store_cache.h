/*
 * store_cache.h - a small per-thread cache of decoded JSON records, valid
 * for one read snapshot of one store (internal to server/store/).
 *
 * A request reads the same few records several times (account, org,
 * person, portlet settings) and consecutive requests on a worker thread
 * read the same org and portlet records again; decoding them with jansson
 * was the largest cost of an authenticated request.  A read snapshot that
 * the backend names with a stable id (LMDB: the id of the last committed
 * transaction it sees) never changes, so a record decoded once can be
 * handed out again for as long as the thread reads that same snapshot.
 *
 * Entries are tagged with the store's generation (unique per open store in
 * the process) and the snapshot id; the first lookup with another tag
 * empties the cache.  Bounded: PT_JSON_CACHE_SLOTS entries and
 * PT_JSON_CACHE_BYTES of stored text per thread; a record whose text is
 * longer than PT_JSON_CACHE_ENTRY_MAX or whose key is long is not kept.
 *
 * The json_t values are shared: whoever gets one must not change it.
 */
#ifndef PT_STORE_CACHE_H
#define PT_STORE_CACHE_H

#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define PT_JSON_CACHE_SLOTS     128
#define PT_JSON_CACHE_BYTES     (48 * 1024)
#define PT_JSON_CACHE_ENTRY_MAX (8 * 1024)
#define PT_JSON_CACHE_KEY_MAX   160

/* Which store and which snapshot of it a cached record belongs to. */
typedef struct pt_json_cache_tag {
    uint64_t store_gen;
    uint64_t snapshot;
} pt_json_cache_tag;

/* The cached value (borrowed: json_incref to keep it) or NULL. */
json_t *pt_json_cache_find(const pt_json_cache_tag *tag, pt_table t, const void *key, size_t klen);
/* Keeps val (the cache takes its own reference) under tag; text_len is
 * the length of the stored text, the entry's cost against the budget.
 * Silently keeps nothing when the record is too big or memory is short. */
void pt_json_cache_add(const pt_json_cache_tag *tag, pt_table t, const void *key, size_t klen,
                       json_t *val, size_t text_len);
/* Empties this thread's cache if it holds records of store_gen (a store
 * being closed), and frees it, so nothing outlives the store on the
 * thread that closes it; other threads free theirs when they exit. */
void pt_json_cache_drop_store(uint64_t store_gen);

/* Calls fn for each record this thread holds under tag; stops at the
 * first non-zero result, which it returns. */
typedef int (*pt_json_cache_fn)(pt_table t, const void *key, size_t klen, const json_t *val,
                                void *ctx);
int pt_json_cache_each(const pt_json_cache_tag *tag, pt_json_cache_fn fn, void *ctx);

#endif
