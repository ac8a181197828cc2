/*
 * store.c - the public store.h functions: pick a backend at open (a
 * postgres:// or postgresql:// URL is PostgreSQL, anything else an LMDB
 * directory), dispatch through its ops, and the helpers every backend
 * shares (counters, JSON values, keys, table names), so both backends
 * have one set of semantics above get/put/del/scan.
 */
#include "store/store_backend.h"

#include "base/log.h"
#include "store/store_cache.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const table_names[PT_T__COUNT] = {
    [PT_T_META] = "meta",
    [PT_T_ACCOUNTS] = "accounts",
    [PT_T_ORGS] = "orgs",
    [PT_T_PEOPLE] = "people",
    [PT_T_SESSIONS] = "sessions",
    [PT_T_AUDIT] = "audit",
    [PT_T_PORTLET_CONF] = "portlet_conf",
    [PT_T_PORTLET_DATA] = "portlet_data",
};

/* One list of names, so the store and the admin tool's check agree. */
const char *pt_table_name(pt_table t)
{
    if ((unsigned)t >= PT_T__COUNT)
        return NULL;
    return table_names[t];
}

bool pt_store_is_url(const char *where)
{
    return where &&
           (strncmp(where, "postgres://", 11) == 0 || strncmp(where, "postgresql://", 13) == 0);
}

/* Generations name open stores for the record cache, which must never
 * take a store opened later at a freed store's address for the old one. */
static atomic_uint_fast64_t store_gen_next = 1;

int pt_store_open(pt_store **out, const char *where, const pt_store_options *opts)
{
    *out = NULL;
    if (where == NULL) {
        pt_error_set("store: no data directory");
        return PT_EINVAL;
    }
    int rc = pt_store_is_url(where) ? pt_store_pg_open(out, where, opts)
                                    : pt_store_lmdb_open(out, where, opts);
    if (rc == 0)
        (*out)->gen = atomic_fetch_add(&store_gen_next, 1);
    return rc;
}

void pt_store_close(pt_store *store)
{
    if (!store)
        return;
    pt_json_cache_drop_store(store->gen);
    store->ops->close(store);
}

const char *pt_store_backend(const pt_store *store)
{
    return store ? store->ops->name : NULL;
}

int pt_store_read(pt_store *store, pt_txn_fn fn, void *ctx)
{
    return store->ops->read(store, fn, ctx);
}

int pt_store_write(pt_store *store, pt_txn_fn fn, void *ctx)
{
    return store->ops->write(store, fn, ctx);
}

int pt_store_snapshot_begin(pt_store *store, pt_txn **out)
{
    return store->ops->snapshot_begin(store, out);
}

void pt_store_snapshot_end(pt_txn *txn)
{
    if (txn)
        txn->store->ops->snapshot_end(txn);
}

int pt_store_stat(pt_store *store, pt_store_stats *out)
{
    return store->ops->stat(store, out);
}

int pt_store_backup(pt_store *store, const char *dir)
{
    return store->ops->backup(store, dir);
}

int pt_store_ping(pt_store *store)
{
    return store->ops->ping(store);
}

int pt_txn_get(pt_txn *txn, pt_table t, const void *key, size_t klen, pt_val *out)
{
    return txn->store->ops->get(txn, t, key, klen, out);
}

int pt_txn_put(pt_txn *txn, pt_table t, const void *key, size_t klen, const void *val, size_t vlen)
{
    return txn->store->ops->put(txn, t, key, klen, val, vlen, false);
}

int pt_txn_insert(pt_txn *txn, pt_table t, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
    return txn->store->ops->put(txn, t, key, klen, val, vlen, true);
}

int pt_txn_del(pt_txn *txn, pt_table t, const void *key, size_t klen)
{
    return txn->store->ops->del(txn, t, key, klen);
}

int pt_txn_scan(pt_txn *txn, pt_table t, const void *prefix, size_t plen, const void *after,
                size_t alen, bool reverse, pt_scan_fn cb, void *ctx)
{
    return txn->store->ops->scan(txn, t, prefix, plen, after, alen, reverse, cb, ctx);
}

int pt_txn_put_many(pt_txn *txn, pt_table t, const pt_rec *recs, size_t n)
{
    if (n == 0)
        return 0;
    if (txn->store->ops->put_many)
        return txn->store->ops->put_many(txn, t, recs, n);
    for (size_t i = 0; i < n; i++) {
        int rc = pt_txn_put(txn, t, recs[i].key, recs[i].klen, recs[i].val, recs[i].vlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pt_txn_prefetch(pt_txn *txn, pt_table t, const void *prefix, size_t plen)
{
    if (!txn->store->ops->prefetch)
        return 0;
    return txn->store->ops->prefetch(txn, t, prefix, plen);
}

int pt_txn_prefetch_keys(pt_txn *txn, const pt_keyref *keys, size_t n)
{
    if (!txn->store->ops->prefetch_keys)
        return 0;
    return txn->store->ops->prefetch_keys(txn, keys, n);
}

static _Thread_local pt_held tl_held[PT_HELD_SLOTS];

pt_held *pt_held_get(const pt_store *store, bool create)
{
    pt_held *free_slot = NULL;
    for (size_t i = 0; i < PT_HELD_SLOTS; i++) {
        if (tl_held[i].store == store)
            return &tl_held[i];
        if (!free_slot && tl_held[i].depth == 0 && !tl_held[i].writing)
            free_slot = &tl_held[i];
    }
    if (!create || !free_slot)
        return NULL;
    free_slot->store = store;
    free_slot->depth = 0;
    free_slot->writing = false;
    return free_slot;
}

void pt_held_release(pt_held *h)
{
    if (h && h->depth == 0 && !h->writing)
        h->store = NULL;
}

/*
 * A write inside a write would deadlock on the backend's writer lock, and
 * one inside a read would wait for writers while holding what they need
 * (LMDB: the map lock a growing writer takes exclusive), so both are
 * refused before anything is locked.
 */
int pt_held_begin_write(const pt_store *store, pt_held **out)
{
    *out = NULL;
    pt_held *h = pt_held_get(store, true);
    if (!h) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    if (h->writing) {
        pt_error_set("store: nested write transaction");
        return PT_ECONFLICT;
    }
    if (h->depth > 0) {
        pt_error_set("store: write transaction inside a read transaction");
        return PT_ECONFLICT;
    }
    h->writing = true;
    *out = h;
    return 0;
}

void pt_held_end_write(pt_held *h)
{
    h->writing = false;
    pt_held_release(h);
}

void pt_store_prefix_successor(const void *prefix, size_t plen, unsigned char *succ, size_t *slen)
{
    size_t n = plen;
    if (plen)
        memcpy(succ, prefix, plen);
    while (n > 0 && succ[n - 1] == 0xff)
        n--;
    if (n > 0)
        succ[n - 1]++;
    *slen = n;
}

/* ---- copying a whole store ---------------------------------------------- */

/*
 * pt_store_copy reads the source in one snapshot (so the copy is
 * consistent even while the source is written) and writes the
 * destination in transactions of at most PT_COPY_BATCH records, so a big
 * store never needs one huge write transaction.
 */
#define PT_COPY_BATCH 512

typedef struct copy_rec {
    void *k, *v;
    size_t klen, vlen;
} copy_rec;

typedef struct copy_ctx {
    pt_store *src;
    pt_table t;
    copy_rec recs[PT_COPY_BATCH];
    size_t n;
    unsigned char *after;
    size_t alen;
    size_t copied;
} copy_ctx;

static void copy_free(copy_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->recs[i].k);
        free(c->recs[i].v);
    }
    c->n = 0;
}

static int copy_collect(const pt_val *key, const pt_val *val, void *ctx)
{
    copy_ctx *c = ctx;
    copy_rec *r = &c->recs[c->n];
    r->k = malloc(key->len ? key->len : 1);
    r->v = malloc(val->len ? val->len : 1);
    if (!r->k || !r->v) {
        free(r->k);
        free(r->v);
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    memcpy(r->k, key->data, key->len);
    if (val->len)
        memcpy(r->v, val->data, val->len);
    r->klen = key->len;
    r->vlen = val->len;
    return ++c->n == PT_COPY_BATCH ? PT_ESTOP : 0;
}

static int copy_write(pt_txn *txn, void *ctx)
{
    copy_ctx *c = ctx;
    for (size_t i = 0; i < c->n; i++) {
        int rc =
            pt_txn_put(txn, c->t, c->recs[i].k, c->recs[i].klen, c->recs[i].v, c->recs[i].vlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pt_store_copy(pt_store *dst, pt_store *src, size_t *copied)
{
    copy_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    pt_txn *snap = NULL;
    int rc = pt_store_snapshot_begin(src, &snap);
    for (int t = 0; t < PT_T__COUNT && rc == 0; t++) {
        c->t = (pt_table)t;
        free(c->after);
        c->after = NULL;
        c->alen = 0;
        for (;;) {
            copy_free(c);
            rc = pt_txn_scan(snap, c->t, NULL, 0, c->after, c->alen, false, copy_collect, c);
            if (rc != 0 || c->n == 0)
                break;
            rc = pt_store_write(dst, copy_write, c);
            if (rc != 0)
                break;
            c->copied += c->n;
            copy_rec *last = &c->recs[c->n - 1];
            free(c->after);
            c->after = last->k;
            c->alen = last->klen;
            last->k = NULL;
            bool more = c->n == PT_COPY_BATCH;
            copy_free(c);
            if (!more)
                break;
        }
    }
    pt_store_snapshot_end(snap);
    copy_free(c);
    free(c->after);
    if (copied)
        *copied = c->copied;
    free(c);
    return rc;
}

/* ---- counters, JSON and keys (the same over every backend) ------------- */

/* Decodes a counter value; shared by the reader and the incrementer so
 * both agree on what a corrupt counter is. */
static int seq_read(pt_txn *txn, const pt_key *k, const char *name, uint64_t *out)
{
    pt_val v = {NULL, 0};
    *out = 0;
    int rc = pt_txn_get(txn, PT_T_META, k->buf, k->len, &v);
    if (rc == PT_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.len != 8) {
        pt_error_set("store: counter %s is corrupt", name);
        return PT_EIO;
    }
    const unsigned char *b = v.data;
    uint64_t cur = 0;
    for (int i = 0; i < 8; i++)
        cur = (cur << 8) | b[i];
    *out = cur;
    return 0;
}

int pt_txn_get_seq(pt_txn *txn, const char *name, uint64_t *out)
{
    pt_key k;
    *out = 0;
    int rc = pt_key_build(&k, "seq", name, NULL);
    if (rc != 0)
        return rc;
    return seq_read(txn, &k, name, out);
}

bool pt_txn_is_write(const pt_txn *txn)
{
    return txn && txn->write;
}

int pt_txn_next_seq(pt_txn *txn, const char *name, uint64_t *out)
{
    pt_key k;
    int rc = pt_key_build(&k, "seq", name, NULL);
    if (rc != 0)
        return rc;
    uint64_t cur = 0;
    pt_val v = {NULL, 0};
    rc = pt_txn_get(txn, PT_T_META, k.buf, k.len, &v);
    if (rc == 0) {
        if (v.len != 8) {
            pt_error_set("store: counter %s is corrupt", name);
            return PT_EIO;
        }
        const unsigned char *b = v.data;
        for (int i = 0; i < 8; i++)
            cur = (cur << 8) | b[i];
    } else if (rc != PT_ENOTFOUND) {
        return rc;
    }
    cur++;
    unsigned char be[8];
    for (int i = 7; i >= 0; i--)
        be[i] = (unsigned char)(cur >> (8 * (7 - i)));
    rc = pt_txn_put(txn, PT_T_META, k.buf, k.len, be, sizeof(be));
    if (rc != 0)
        return rc;
    *out = cur;
    return 0;
}

/*
 * The cache tag of a read transaction whose backend names its snapshot;
 * false for a write (it must see its own changes and hand out records the
 * caller may change) and for a backend without stable snapshot ids.
 */
static bool txn_cache_tag(pt_txn *txn, pt_json_cache_tag *tag)
{
    const pt_store_ops *ops = txn->store->ops;
    if (txn->write || !ops->snapshot_id || ops->snapshot_id(txn, &tag->snapshot) != 0)
        return false;
    tag->store_gen = txn->store->gen;
    return true;
}

static int json_decode(json_t **out, const pt_val *v)
{
    json_error_t jerr;
    *out = json_loadb(v->data, v->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (*out == NULL) {
        pt_error_set("store: stored value is not JSON: %s", jerr.text);
        return PT_EIO;
    }
    return 0;
}

typedef struct verify_ctx {
    pt_txn *txn;
    size_t bad;
} verify_ctx;

/* One cached record against a fresh decode of the stored text. */
static int verify_entry(pt_table t, const void *key, size_t klen, const json_t *val, void *arg)
{
    verify_ctx *vc = arg;
    pt_val v = {NULL, 0};
    json_t *fresh = NULL;
    if (pt_txn_get(vc->txn, t, key, klen, &v) != 0 || json_decode(&fresh, &v) != 0 ||
        !json_equal(fresh, (json_t *)val)) {
        pt_log_error("store",
                     "a cached %s record was changed by a reader (shared records are "
                     "read-only)",
                     pt_table_name(t));
        vc->bad++;
    }
    json_decref(fresh);
    return 0;
}

int pt_store_cache_verify(pt_txn *txn, size_t *bad)
{
    pt_json_cache_tag tag;
    verify_ctx vc = {txn, 0};
    *bad = 0;
    if (!txn_cache_tag(txn, &tag))
        return 0;
    int rc = pt_json_cache_each(&tag, verify_entry, &vc);
    *bad = vc.bad;
    return rc;
}

/*
 * Read transactions share one decoded copy of each record per snapshot
 * and thread (store_cache.h): the result is then the cache's object with
 * a new reference, which the caller must not change.  Builds with
 * PT_STORE_CACHE_VERIFY (the sanitizer build) check every shared record
 * against the stored text when they hand it out again, and abort if a
 * caller changed it, so the test suite finds such a caller.
 */
/* The decoded record of key: this thread's shared copy for the snapshot,
 * else decoded from *known (its stored text, when the caller has it) or
 * from a get. */
static int json_shared(pt_txn *txn, pt_table t, const void *key, size_t klen, const pt_val *known,
                       json_t **out)
{
    pt_val v = {NULL, 0};
    pt_json_cache_tag tag;
    *out = NULL;
    bool cached = txn_cache_tag(txn, &tag);
    json_t *hit = cached ? pt_json_cache_find(&tag, t, key, klen) : NULL;
    if (hit) {
#ifdef PT_STORE_CACHE_VERIFY
        verify_ctx vc = {txn, 0};
        verify_entry(t, key, klen, hit, &vc);
        if (vc.bad)
            abort();
#endif
        *out = json_incref(hit);
        return 0;
    }
    int rc = 0;
    if (known)
        v = *known;
    else
        rc = pt_txn_get(txn, t, key, klen, &v);
    if (rc == 0)
        rc = json_decode(out, &v);
    if (rc == 0 && cached)
        pt_json_cache_add(&tag, t, key, klen, *out, v.len);
    return rc;
}

/*
 * Read transactions share one decoded copy of each record per snapshot
 * and thread (store_cache.h): the result is then the cache's object with
 * a new reference, which the caller must not change.  Builds with
 * PT_STORE_CACHE_VERIFY (the sanitizer build) check every shared record
 * against the stored text when they hand it out again, and abort if a
 * caller changed it, so the test suite finds such a caller.
 */
int pt_txn_get_json(pt_txn *txn, pt_table t, const void *key, size_t klen, json_t **out)
{
    return json_shared(txn, t, key, klen, NULL, out);
}

int pt_txn_json_of(pt_txn *txn, pt_table t, const pt_val *key, const pt_val *val, json_t **out)
{
    return json_shared(txn, t, key->data, key->len, val, out);
}

int pt_txn_put_json(pt_txn *txn, pt_table t, const void *key, size_t klen, const json_t *val)
{
    if (val == NULL) {
        pt_error_set("store: no JSON value");
        return PT_EINVAL;
    }
    char *text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (text == NULL) {
        pt_error_set("store: cannot encode JSON value");
        return PT_EINVAL;
    }
    int rc = pt_txn_put(txn, t, key, klen, text, strlen(text));
    free(text);
    return rc;
}

/* ---- keys ------------------------------------------------------------- */

static int key_add(pt_key *k, const void *data, size_t len, bool sep)
{
    size_t need = len + (sep ? 1 : 0);
    if (need > sizeof(k->buf) - k->len) {
        pt_error_set("store: key too long");
        return PT_ETOOBIG;
    }
    if (sep)
        k->buf[k->len++] = '\0';
    if (len)
        memcpy(k->buf + k->len, data, len);
    k->len += len;
    return 0;
}

int pt_key_build(pt_key *k, const char *part, ...)
{
    k->len = 0;
    va_list ap;
    va_start(ap, part);
    int rc = 0;
    bool first = true;
    for (const char *p = part; p != NULL; p = va_arg(ap, const char *)) {
        rc = key_add(k, p, strlen(p), !first);
        if (rc != 0)
            break;
        first = false;
    }
    va_end(ap);
    return rc;
}

int pt_key_append(pt_key *k, const void *data, size_t len)
{
    return key_add(k, data, len, k->len > 0);
}

int pt_key_as_prefix(pt_key *k)
{
    return key_add(k, NULL, 0, true);
}

int pt_key_append_u64(pt_key *k, uint64_t v)
{
    unsigned char be[8];
    for (int i = 7; i >= 0; i--) {
        be[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    return key_add(k, be, sizeof(be), k->len > 0);
}
