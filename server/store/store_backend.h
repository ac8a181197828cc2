/*
 * store_backend.h - the seam between store.c (the public store.h
 * functions, shared helpers) and a backend (store_lmdb.c, store_pg.c).
 *
 * Every backend's store and transaction structs begin with pt_store and
 * pt_txn below, so store.c can dispatch through ops without knowing the
 * rest.  Only files in server/store/ include this.
 */
#ifndef PT_STORE_BACKEND_H
#define PT_STORE_BACKEND_H

#include "store/store.h"

typedef struct pt_store_ops {
    const char *name; /* "lmdb", "postgres" */
    void (*close)(pt_store *store);
    int (*read)(pt_store *store, pt_txn_fn fn, void *ctx);
    int (*write)(pt_store *store, pt_txn_fn fn, void *ctx);
    int (*snapshot_begin)(pt_store *store, pt_txn **out);
    void (*snapshot_end)(pt_txn *txn);
    int (*stat)(pt_store *store, pt_store_stats *out);
    int (*backup)(pt_store *store, const char *dir);
    int (*ping)(pt_store *store);
    int (*get)(pt_txn *txn, pt_table t, const void *key, size_t klen, pt_val *out);
    /* no_overwrite: PT_EEXISTS if the key is present (pt_txn_insert). */
    int (*put)(pt_txn *txn, pt_table t, const void *key, size_t klen, const void *val, size_t vlen,
               bool no_overwrite);
    int (*del)(pt_txn *txn, pt_table t, const void *key, size_t klen);
    /* Optional (NULL: store.c calls put n times); keys all distinct. */
    int (*put_many)(pt_txn *txn, pt_table t, const pt_rec *recs, size_t n);
    int (*scan)(pt_txn *txn, pt_table t, const void *prefix, size_t plen, const void *after,
                size_t alen, bool reverse, pt_scan_fn cb, void *ctx);
    /* Optional.  *out = an id naming exactly the data a read transaction
     * sees: two read transactions with the same id see the same records
     * (LMDB: the id of the last transaction committed before it began).
     * Decoded records are then shared between them (store_cache.h).
     * NULL, or an error: no stable id, records are decoded per read. */
    int (*snapshot_id)(pt_txn *txn, uint64_t *out);
    /* pt_txn_prefetch; NULL when gets are cheap (LMDB). */
    int (*prefetch)(pt_txn *txn, pt_table t, const void *prefix, size_t plen);
    /* pt_txn_prefetch_keys; NULL when gets are cheap (LMDB). */
    int (*prefetch_keys)(pt_txn *txn, const pt_keyref *keys, size_t n);
} pt_store_ops;

struct pt_store {
    const pt_store_ops *ops;
    uint64_t gen; /* unique per store opened in this process (set by store.c) */
};

struct pt_txn {
    pt_store *store;
    bool write;
};

/*
 * Per-thread nesting of one store's transactions, the same rules on every
 * backend: reads nest (only the outermost is real), and a write may not
 * start inside another transaction callback of that store on the same
 * thread.  A thread can hold entries for PT_HELD_SLOTS stores at once.
 */
typedef struct pt_held {
    const pt_store *store;
    int depth;    /* open read transactions (LMDB: shared map_lock holds) */
    bool writing; /* this thread is inside pt_store_write() */
} pt_held;

#define PT_HELD_SLOTS 8

/* The entry for store on this thread, claiming a free one if create. */
pt_held *pt_held_get(const pt_store *store, bool create);
/* Gives the entry back once nothing is held. */
void pt_held_release(pt_held *h);
/* The checks a backend's write makes first; on 0 *out is marked writing. */
int pt_held_begin_write(const pt_store *store, pt_held **out);
/* Ends what pt_held_begin_write began. */
void pt_held_end_write(pt_held *h);

int pt_store_lmdb_open(pt_store **out, const char *dir, const pt_store_options *opts);
int pt_store_pg_open(pt_store **out, const char *url, const pt_store_options *opts);

/* The successor of prefix for range scans: prefix with its last non-0xff
 * byte incremented and what follows dropped; *slen 0 means "no upper
 * bound".  succ holds plen bytes. */
void pt_store_prefix_successor(const void *prefix, size_t plen, unsigned char *succ, size_t *slen);

#endif
