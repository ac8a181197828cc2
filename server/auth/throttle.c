/*
 * throttle.c - login failure counts, kept in the store so that every
 * porticod node sharing it sees the same counts.
 *
 * With the counts in one node's memory, two nodes behind a proxy gave an
 * attacker twice the guesses and a lock-out on one node meant nothing on
 * the other.  Now each name has one small record in PT_T_META:
 *
 *   "th\0" <kind> "\0" <32 hex digits>  ->  {"start":S,"until":U,"n":N}
 *
 * kind is one letter per family of counts (login_guard.c: username,
 * address, known client, and the set of known clients); the hex digits are
 * a keyed BLAKE2b hash of the name, keyed with a random secret kept in
 * the store (so every node hashes alike).  Hashing keeps keys short and
 * fixed whatever was typed, and keeps out of the store the names people
 * type -- sometimes a password typed into the username box.
 *
 * A window opens at the first attempt and ends at U (S + window);
 * max failures inside it lock the name out until U.  An attempt counts as
 * a failure from the moment it is reserved (before the password is
 * checked) until the caller releases it (not a failure after all) or
 * resets the name (a successful login).  Every operation runs in the
 * caller's transaction: on LMDB the single writer, on PostgreSQL a
 * SERIALIZABLE transaction, makes each reserve an atomic check-and-count
 * across every node.
 *
 * Bounded: a record past U counts as absent, is overwritten by the next
 * attempt for its name, and is deleted by pt_throttle_prune_some, which
 * login_guard.c runs often enough to delete records faster than attempts
 * make them.
 */
#include "auth/auth.h"
#include "base/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define TH_PREFIX     "th"
#define TH_HASH_BYTES 16
#define TH_SECRET_KEY "throttle-secret"

struct pt_throttle {
    char kind;
    unsigned max_failures;
    unsigned window_secs;
    unsigned char secret[PT_THROTTLE_SECRET_LEN];
};

typedef struct th_entry {
    int64_t start, until;
    int64_t failures;
} th_entry;

int pt_throttle_new(pt_throttle **out, char kind, unsigned max_failures, unsigned window_secs,
                    const unsigned char secret[PT_THROTTLE_SECRET_LEN])
{
    *out = NULL;
    pt_throttle *t = calloc(1, sizeof *t);
    if (!t)
        return PT_ENOMEM;
    t->kind = kind;
    t->max_failures = max_failures;
    t->window_secs = window_secs;
    memcpy(t->secret, secret, PT_THROTTLE_SECRET_LEN);
    *out = t;
    return 0;
}

void pt_throttle_free(pt_throttle *t)
{
    if (t)
        sodium_memzero(t, sizeof *t);
    free(t);
}

/* The record's key for name: "th", kind, hex of the keyed hash. */
static int name_key(pt_key *k, const pt_throttle *t, const char *name)
{
    unsigned char h[TH_HASH_BYTES];
    char hex[2 * TH_HASH_BYTES + 1], kind[2] = {t->kind, 0};
    crypto_generichash(h, sizeof h, (const unsigned char *)name, strlen(name), t->secret,
                       sizeof t->secret);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return pt_key_build(k, TH_PREFIX, kind, hex, NULL);
}

/*
 * The live record of name into *e: PT_ENOTFOUND when there is none or its
 * window has ended (an ended record is as good as absent; pruning or the
 * next write replaces it).
 */
static int entry_get(th_entry *e, pt_txn *txn, const pt_key *k, int64_t now)
{
    json_t *v = NULL;
    int err = pt_txn_get_json(txn, PT_T_META, k->buf, k->len, &v);
    if (err < 0)
        return err;
    e->start = json_integer_value(json_object_get(v, "start"));
    e->until = json_integer_value(json_object_get(v, "until"));
    e->failures = json_integer_value(json_object_get(v, "n"));
    json_decref(v);
    return now >= e->until ? PT_ENOTFOUND : 0;
}

static int entry_put(pt_txn *txn, const pt_key *k, const th_entry *e)
{
    json_t *v = json_pack("{s:I,s:I,s:I}", "start", (json_int_t)e->start, "until",
                          (json_int_t)e->until, "n", (json_int_t)e->failures);
    if (!v)
        return PT_ENOMEM;
    int err = pt_txn_put_json(txn, PT_T_META, k->buf, k->len, v);
    json_decref(v);
    return err;
}

static bool is_blocked(const pt_throttle *t, const th_entry *e)
{
    return t->max_failures > 0 && e->failures >= (int64_t)t->max_failures;
}

/* Seconds left in a blocked record's window (at least 1). */
static int64_t seconds_left(const th_entry *e, int64_t now)
{
    int64_t left = e->until - now;
    return left < 1 ? 1 : left;
}

int pt_throttle_retry_after(int64_t *secs, pt_throttle *t, pt_txn *txn, const char *name,
                            int64_t now)
{
    pt_key k;
    th_entry e;
    *secs = 0;
    int err = name_key(&k, t, name);
    if (err == 0)
        err = entry_get(&e, txn, &k, now);
    if (err == PT_ENOTFOUND)
        return 0;
    if (err == 0 && is_blocked(t, &e))
        *secs = seconds_left(&e, now);
    return err;
}

/*
 * The check and the count are one read and one write in the caller's
 * transaction: with a separate "blocked?" question and a later "failed"
 * report, every request already in flight (on any node) passed the check
 * before any of them was counted, so parallel guesses all reached the
 * password verify.  Counting the attempt up front (as a failure until the
 * caller releases or resets it) closes that gap.
 */
int pt_throttle_reserve(int64_t *wait, pt_throttle *t, pt_txn *txn, const char *name, int64_t now)
{
    pt_key k;
    th_entry e;
    *wait = 0;
    int err = name_key(&k, t, name);
    if (err == 0)
        err = entry_get(&e, txn, &k, now);
    if (err == PT_ENOTFOUND) {
        e = (th_entry){now, now + (int64_t)t->window_secs, 0};
        err = 0;
    }
    if (err < 0)
        return err;
    if (is_blocked(t, &e)) {
        *wait = seconds_left(&e, now);
        return 0;
    }
    e.failures++;
    return entry_put(txn, &k, &e);
}

int pt_throttle_release(pt_throttle *t, pt_txn *txn, const char *name, int64_t now)
{
    pt_key k;
    th_entry e;
    int err = name_key(&k, t, name);
    if (err == 0)
        err = entry_get(&e, txn, &k, now);
    if (err == PT_ENOTFOUND || (err == 0 && e.failures == 0))
        return 0; /* nothing to give back: harmless */
    if (err < 0)
        return err;
    e.failures--;
    return entry_put(txn, &k, &e);
}

int pt_throttle_reset(pt_throttle *t, pt_txn *txn, const char *name)
{
    pt_key k;
    int err = name_key(&k, t, name);
    if (err == 0)
        err = pt_txn_del(txn, PT_T_META, k.buf, k.len);
    return err == PT_ENOTFOUND ? 0 : err;
}

/*
 * The same records double as a bounded, expiring set (the known clients
 * of login_guard.c): remembering a name opens a fresh window for it, and
 * the name is known until that window ends.
 */
int pt_throttle_remember(pt_throttle *t, pt_txn *txn, const char *name, int64_t now)
{
    pt_key k;
    int err = name_key(&k, t, name);
    th_entry e = {now, now + (int64_t)t->window_secs, 0};
    return err < 0 ? err : entry_put(txn, &k, &e);
}

int pt_throttle_known(bool *known, pt_throttle *t, pt_txn *txn, const char *name, int64_t now)
{
    pt_key k;
    th_entry e;
    *known = false;
    int err = name_key(&k, t, name);
    if (err == 0)
        err = entry_get(&e, txn, &k, now);
    if (err == PT_ENOTFOUND)
        return 0;
    *known = err == 0;
    return err;
}

/* ---- the hashing secret ------------------------------------------------ */

static int secret_txn(pt_txn *txn, void *arg)
{
    unsigned char *secret = arg;
    char hex[2 * PT_THROTTLE_SECRET_LEN + 1];
    json_t *v = NULL;
    size_t n = 0;
    int err = pt_txn_get_json(txn, PT_T_META, TH_SECRET_KEY, strlen(TH_SECRET_KEY), &v);
    if (err == 0) {
        const char *s = json_string_value(v);
        bool ok =
            s &&
            sodium_hex2bin(secret, PT_THROTTLE_SECRET_LEN, s, strlen(s), NULL, &n, NULL) == 0 &&
            n == PT_THROTTLE_SECRET_LEN;
        json_decref(v);
        if (ok)
            return 0;
    } else if (err != PT_ENOTFOUND) {
        return err;
    }
    randombytes_buf(secret, PT_THROTTLE_SECRET_LEN);
    sodium_bin2hex(hex, sizeof hex, secret, PT_THROTTLE_SECRET_LEN);
    v = json_string(hex);
    err = v ? pt_txn_put_json(txn, PT_T_META, TH_SECRET_KEY, strlen(TH_SECRET_KEY), v) : PT_ENOMEM;
    json_decref(v);
    return err;
}

/*
 * One secret for the installation, made by whichever node starts first:
 * every node must hash a name to the same record.  Kept as a JSON string
 * of hex digits, like every other non-counter META value.
 */
int pt_throttle_secret_load(unsigned char secret[PT_THROTTLE_SECRET_LEN], pt_store *store)
{
    return pt_store_write(store, secret_txn, secret);
}

/* ---- pruning ----------------------------------------------------------- */

typedef struct prune_ctx {
    int64_t now;
    unsigned examine, seen, n, deleted;
    const void *stop;
    size_t stop_len;
    pt_key *keys; /* up to examine keys of ended records */
} prune_ctx;

static int prune_cb(const pt_val *key, const pt_val *val, void *arg)
{
    prune_ctx *c = arg;
    if (c->stop && key->len >= c->stop_len && memcmp(key->data, c->stop, c->stop_len) >= 0)
        return PT_ESTOP;
    if (c->seen++ >= c->examine)
        return PT_ESTOP;
    json_t *v = json_loadb(val->data, val->len, 0, NULL);
    int64_t until = json_integer_value(json_object_get(v, "until"));
    json_decref(v);
    if (c->now >= until && key->len <= sizeof c->keys[0].buf) {
        memcpy(c->keys[c->n].buf, key->data, key->len);
        c->keys[c->n++].len = key->len;
    }
    return 0;
}

static int prune_delete_txn(pt_txn *txn, void *arg)
{
    prune_ctx *c = arg;
    unsigned deleted = 0;
    for (unsigned i = 0; i < c->n; i++) {
        th_entry e;
        /* another node may have opened a new window since the scan */
        int err = entry_get(&e, txn, &c->keys[i], c->now);
        if (err == 0)
            continue;
        if (err != PT_ENOTFOUND)
            return err;
        err = pt_txn_del(txn, PT_T_META, c->keys[i].buf, c->keys[i].len);
        if (err < 0 && err != PT_ENOTFOUND)
            return err;
        deleted += err == 0;
    }
    c->deleted = deleted;
    return 0;
}

typedef struct prune_scan {
    prune_ctx *c;
    const char *start;
    size_t start_len;
} prune_scan;

/* From a random place in the records, wrapping round to the beginning. */
static int prune_scan_txn(pt_txn *txn, void *arg)
{
    prune_scan *s = arg;
    prune_ctx *c = s->c;
    pt_key pfx;
    c->n = c->seen = 0;
    c->stop = NULL;
    int err = pt_key_build(&pfx, TH_PREFIX, NULL);
    if (err == 0)
        err = pt_key_as_prefix(&pfx);
    if (err == 0)
        err = pt_txn_scan(txn, PT_T_META, pfx.buf, pfx.len, s->start, s->start_len, false, prune_cb,
                          c);
    if (err == 0 && c->seen < c->examine) {
        c->stop = s->start;
        c->stop_len = s->start_len;
        err = pt_txn_scan(txn, PT_T_META, pfx.buf, pfx.len, NULL, 0, false, prune_cb, c);
    }
    return err;
}

/*
 * Looks at no more than `examine` records from a random place (so the
 * cost of a call does not grow with the number of live records) in a read
 * transaction, then deletes the ended ones in one short write that checks
 * each again.  The scan stays out of the write: on PostgreSQL a range read
 * inside a SERIALIZABLE write would conflict with every login counting a
 * new name in that range.
 */
int pt_throttle_prune_some(unsigned *deleted, pt_store *store, int64_t now, unsigned examine)
{
    static const char kinds[] = PT_THROTTLE_KINDS;
    unsigned char raw[TH_HASH_BYTES];
    char hex[2 * TH_HASH_BYTES + 1], kind[2] = {0, 0};
    pt_key start;
    prune_ctx c = {.now = now, .examine = examine};

    *deleted = 0;
    if (examine == 0)
        return 0;
    c.keys = calloc(examine, sizeof *c.keys);
    if (!c.keys)
        return PT_ENOMEM;
    randombytes_buf(raw, sizeof raw);
    kind[0] = kinds[raw[0] % (sizeof kinds - 1)];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    int err = pt_key_build(&start, TH_PREFIX, kind, hex, NULL);
    prune_scan s = {&c, start.buf, start.len};
    if (err == 0)
        err = pt_store_read(store, prune_scan_txn, &s);
    if (err == 0 && c.n > 0) {
        err = pt_store_write(store, prune_delete_txn, &c);
        if (err == 0)
            *deleted = c.deleted;
    }
    free(c.keys);
    return err;
}
