/*
 * store.h - the narrow storage interface the rest of porticod uses.
 *
 * Two backends sit behind it with one set of semantics: one LMDB
 * environment in the data directory (the default, store_lmdb.c) or a
 * PostgreSQL database named by a postgres:// URL (store_pg.c), where
 * several porticod nodes may share one database.
 *
 * Data lives in a fixed set of named tables (pt_table).  Keys are byte
 * strings; everything that belongs to an organisation is keyed with the
 * organisation id first (see pt_key_*), so isolation is structural: a scan
 * of one organisation's prefix cannot return another's records.
 *
 * Transactions are run as callbacks.  A write callback may be run more than
 * once: when the LMDB map is full the store aborts, grows the map (with no
 * transaction open) and runs the callback again; PostgreSQL runs it again
 * after a serialization failure (another node wrote the same rows).  So a write callback must
 * not have side effects outside the transaction that it cannot repeat
 * (allocate into ctx freshly, or reset ctx at the top of the callback).
 * When pt_store_write() returns 0 the data is committed and synced to disk.
 *
 * Values handed out by pt_txn_get/scan point into the store and are valid
 * only until the callback returns.  Thread-safe: many readers and one
 * writer at a time, from any thread.
 */
#ifndef PT_STORE_H
#define PT_STORE_H

#include "base/common.h"

#include <jansson.h>

typedef struct pt_store pt_store;
typedef struct pt_txn pt_txn;

typedef enum pt_table {
    PT_T_META = 0,     /* installation: schema version, sequence counters */
    PT_T_ACCOUNTS,     /* username -> account JSON */
    PT_T_ORGS,         /* org -> org JSON */
    PT_T_PEOPLE,       /* org \0 username -> person JSON */
    PT_T_SESSIONS,     /* sid -> session JSON */
    PT_T_AUDIT,        /* org \0 be64(seq) -> audit entry JSON */
    PT_T_PORTLET_CONF, /* org \0 portlet -> {enabled, placements, config} */
    PT_T_PORTLET_DATA, /* org \0 portlet \0 key -> portlet value */
    PT_T__COUNT
} pt_table;

typedef struct pt_store_options {
    unsigned version;     /* PT_STORE_OPTIONS_VERSION */
    size_t map_size;      /* initial map size in bytes (0: 64 MiB) */
    size_t map_size_max;  /* growth ceiling (0: 64 GiB) */
    unsigned max_readers; /* LMDB reader slots (0: 126) */
    /* A file name in dir whose presence means the directory has been used
     * before (porticod and the CLI pass PT_STORE_USED_MARKER): a missing
     * or empty data.mdb beside it is refused instead of starting an empty
     * store.  Created after every successful open.  NULL: no such check. */
    const char *used_marker;
} pt_store_options;
#define PT_STORE_OPTIONS_VERSION 1
/* The marker porticod and the CLI use (see used_marker). */
#define PT_STORE_USED_MARKER "store-used"
#define PT_STORE_OPTIONS_INIT                                                                      \
    {                                                                                              \
        PT_STORE_OPTIONS_VERSION, 0, 0, 0, NULL                                                    \
    }

typedef struct pt_val {
    const void *data;
    size_t len;
} pt_val;

typedef struct pt_store_stats {
    size_t map_size;   /* bytes mapped */
    size_t used_bytes; /* pages in use * page size */
    unsigned readers_max;
    unsigned readers_used;
} pt_store_stats;

/* Opens (creating if needed) the store in dir; clears stale readers.
 * dir may instead be a postgres:// or postgresql:// URL (libpq syntax):
 * the schema is created or migrated there, and the LMDB-only options
 * (map sizes, readers, used_marker) are ignored.
 * Refuses (PT_EIO, with what to do in pt_error_last) a data.mdb shorter
 * than its own meta pages say, one that is not an LMDB file, and a missing
 * or empty one beside opts->used_marker: see pt_store_file_check. */
int pt_store_open(pt_store **out, const char *dir, const pt_store_options *opts);
void pt_store_close(pt_store *store);
/* The checks pt_store_open makes before LMDB maps the file, on their own
 * (portico check reports them too).  0 when the file is sound or absent in
 * a fresh directory. */
int pt_store_file_check(const char *dir, const char *used_marker);

typedef int (*pt_txn_fn)(pt_txn *txn, void *ctx);

/* Runs fn in a read-only transaction; returns fn's result (or a store error). */
int pt_store_read(pt_store *store, pt_txn_fn fn, void *ctx);
/* Runs fn in a write transaction; commits if fn returns 0, aborts otherwise
 * and returns fn's result.  Grows the map and retries on a full map. */
int pt_store_write(pt_store *store, pt_txn_fn fn, void *ctx);

/*
 * A read snapshot outside a callback, for a request that reads in several
 * places and wants them all to agree (the portlet host).  It holds the
 * same shared lock as pt_store_read, so the thread must end it before it
 * writes (pt_store_write refuses otherwise).  *out is freed by _end.
 */
int pt_store_snapshot_begin(pt_store *store, pt_txn **out);
void pt_store_snapshot_end(pt_txn *txn);

int pt_store_stat(pt_store *store, pt_store_stats *out);
/* Consistent online copy of the environment into dir (compacted).  For
 * PostgreSQL, dir gets an LMDB store holding one snapshot of every table. */
int pt_store_backup(pt_store *store, const char *dir);
/* 0 when the store can be reached now; PT_EIO (detail in pt_error_last)
 * when its database server cannot (readyz answers 503 then). */
int pt_store_ping(pt_store *store);
/* True when where names a PostgreSQL database rather than a directory. */
bool pt_store_is_url(const char *where);
/* "lmdb" or "postgres". */
const char *pt_store_backend(const pt_store *store);
/* Copies every record of every table of src (one snapshot) into dst, in
 * batches of write transactions; *copied (may be NULL) counts records. */
int pt_store_copy(pt_store *dst, pt_store *src, size_t *copied);

/* 0, or PT_ENOTFOUND. */
int pt_txn_get(pt_txn *txn, pt_table t, const void *key, size_t klen, pt_val *out);
int pt_txn_put(pt_txn *txn, pt_table t, const void *key, size_t klen, const void *val, size_t vlen);
/* Like put, but PT_EEXISTS if the key is present. */
int pt_txn_insert(pt_txn *txn, pt_table t, const void *key, size_t klen, const void *val,
                  size_t vlen);
/* 0, or PT_ENOTFOUND. */
int pt_txn_del(pt_txn *txn, pt_table t, const void *key, size_t klen);

/* One record for pt_txn_put_many. */
typedef struct pt_rec {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
} pt_rec;
/* Puts n records into t (overwriting), as n pt_txn_put calls would, for
 * bulk copies: PostgreSQL sends them in one statement.  The keys of one
 * call must differ from each other. */
int pt_txn_put_many(pt_txn *txn, pt_table t, const pt_rec *recs, size_t n);
/* A hint that the caller is about to get several keys beginning with
 * prefix (one organisation's portlet settings): a backend whose reads are
 * round trips (PostgreSQL) reads up to a few hundred of them at once, so
 * the gets that follow are answered from memory.  What the transaction
 * reads never changes.  0, or a store error (PT_EIO). */
int pt_txn_prefetch(pt_txn *txn, pt_table t, const void *prefix, size_t plen);

/* One key of a pt_txn_prefetch_keys hint. */
typedef struct pt_keyref {
    pt_table t;
    const void *key;
    size_t klen;
} pt_keyref;

/* A hint that the caller is about to get each of keys[0..n) (a request's
 * session, account, membership and organisation): PostgreSQL reads them
 * all in one round trip instead of one each.  What the transaction reads
 * never changes.  0, or a store error (PT_EIO). */
int pt_txn_prefetch_keys(pt_txn *txn, const pt_keyref *keys, size_t n);

/* Calls cb for each key beginning with prefix, in key order, starting
 * strictly after `after` when it is given (for cursor pagination).
 * cb returns 0 to go on, PT_ESTOP to stop (scan then returns 0), or an
 * error that the scan returns.  reverse walks from the end backwards. */
typedef int (*pt_scan_fn)(const pt_val *key, const pt_val *val, void *ctx);
int pt_txn_scan(pt_txn *txn, pt_table t, const void *prefix, size_t plen, const void *after,
                size_t alen, bool reverse, pt_scan_fn cb, void *ctx);

/* Next value of a named 64-bit counter in PT_T_META (starts at 1). */
int pt_txn_next_seq(pt_txn *txn, const char *name, uint64_t *out);

/*
 * JSON convenience: get/put a value stored as compact JSON text.
 * In a read transaction *out may be shared (the same decoded record is
 * handed to every read of that snapshot on this thread): it is a new
 * reference to release with json_decref, but it must not be changed --
 * json_deep_copy it first.  In a write transaction it is the caller's own.
 */
int pt_txn_get_json(pt_txn *txn, pt_table t, const void *key, size_t klen, json_t **out);
int pt_txn_put_json(pt_txn *txn, pt_table t, const void *key, size_t klen, const json_t *val);
/* The decoded value of a record a scan of t handed over (key, val), shared
 * like pt_txn_get_json's: never changed, released with json_decref. */
int pt_txn_json_of(pt_txn *txn, pt_table t, const pt_val *key, const pt_val *val, json_t **out);

/*
 * Keys.  A key is built into a caller buffer; parts are joined with a NUL
 * byte, which no id may contain, so "a"+"bc" and "ab"+"c" never collide.
 */
typedef struct pt_key {
    char buf[512];
    size_t len;
} pt_key;

/* Resets k and appends each non-NULL part followed by a \0 separator,
 * except after the last part.  Returns PT_ETOOBIG if it does not fit. */
int pt_key_build(pt_key *k, const char *part, ...) __attribute__((sentinel));
/* Appends raw bytes (with a \0 separator first if k is not empty). */
int pt_key_append(pt_key *k, const void *data, size_t len);
/* Appends a separator so the key is a prefix of all keys under it. */
int pt_key_as_prefix(pt_key *k);
/* Appends a big-endian u64 (sorts numerically), with separator. */
int pt_key_append_u64(pt_key *k, uint64_t v);

/* The LMDB name of table t ("people", ...), or NULL if t is out of range. */
const char *pt_table_name(pt_table t);

/* Current value of a named counter without advancing it (0 if it was
 * never advanced), for readers that compare it with a remembered value. */
int pt_txn_get_seq(pt_txn *txn, const char *name, uint64_t *out);
/* Checks every record this thread shares for txn's snapshot (see
 * pt_txn_get_json) against the stored text; *bad = how many a reader
 * changed (each is logged).  For tests and the sanitizer build. */
int pt_store_cache_verify(pt_txn *txn, size_t *bad);
/* True for a transaction run by pt_store_write(). */
bool pt_txn_is_write(const pt_txn *txn);

#endif
