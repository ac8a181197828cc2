/*
 * pg_cache.h - what one PostgreSQL transaction already knows about keys:
 * the values it has read and the writes it has not sent yet.
 *
 * A read or write transaction sees one snapshot, so a key read once reads
 * the same until the transaction itself writes it; the cache answers the
 * second get without a round trip.  Writes are recorded here (dirty) and
 * sent to the server in one pipeline before anything that needs the
 * server's view of a range (a scan) and at commit, so a transaction that
 * writes a thousand rows pays for a few round trips, not a thousand, and a
 * key written many times (a counter) is sent once.
 *
 * Keys, entries and copies of written values live in an arena freed only
 * by pg_cache_free, so a value handed out stays valid until the
 * transaction ends even when the key is written again.  Only store_pg.c
 * uses this.
 */
#ifndef PT_PG_CACHE_H
#define PT_PG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pg_cache_entry {
    struct pg_cache_entry *next; /* hash chain */
    const void *val;             /* NULL when the key is absent */
    size_t vlen;
    size_t klen;
    uint32_t hash;
    int tbl;
    bool dirty; /* written in this transaction and not sent yet */
    unsigned char key[];
} pg_cache_entry;

typedef struct pg_cache_block pg_cache_block;

/* A key prefix every key of which is in the cache (pg_cache_note_range). */
typedef struct pg_cache_range {
    struct pg_cache_range *next;
    int tbl;
    size_t plen;
    unsigned char prefix[];
} pg_cache_range;

typedef struct pg_cache {
    pg_cache_entry **buckets;
    size_t n_buckets, n_entries;
    pg_cache_entry **dirty; /* entries to send, in no particular order */
    size_t n_dirty, cap_dirty;
    size_t dirty_bytes; /* keys and values waiting to be sent */
    pg_cache_block *blocks;
    pg_cache_range *ranges;
} pg_cache;

/* A zeroed pg_cache is empty and ready; this frees everything in it. */
void pg_cache_free(pg_cache *c);

/* The entry for (tbl, key), or NULL when this transaction knows nothing of it. */
pg_cache_entry *pg_cache_find(const pg_cache *c, int tbl, const void *key, size_t klen);

/* Records what the server holds for (tbl, key): val NULL when absent.  val
 * is not copied: it must stay valid until pg_cache_free (it points into a
 * result the transaction keeps). */
int pg_cache_note(pg_cache *c, int tbl, const void *key, size_t klen, const void *val, size_t vlen,
                  pg_cache_entry **out);

/* Records that every key of tbl beginning with prefix that the server
 * holds has been noted, so a key in that range missing from the cache is
 * absent (pg_cache_known_absent). */
int pg_cache_note_range(pg_cache *c, int tbl, const void *prefix, size_t plen);

/* True when (tbl, key) is not in the cache but lies in a noted range. */
bool pg_cache_known_absent(const pg_cache *c, int tbl, const void *key, size_t klen);

/* Records a write by this transaction (val NULL: a delete), copying val,
 * and marks the key dirty. */
int pg_cache_write(pg_cache *c, int tbl, const void *key, size_t klen, const void *val,
                   size_t vlen);

/* Orders the dirty entries by (tbl, key), so every node sends its writes
 * in one order and two flushes cannot wait for each other's rows. */
void pg_cache_sort_dirty(pg_cache *c);

/* The dirty entries were sent: they are now what the server holds. */
void pg_cache_mark_sent(pg_cache *c);

#endif
