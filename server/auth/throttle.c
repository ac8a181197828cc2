/*
 * throttle.c - login failure counts per username, in memory.
 *
 * A fixed, set-associative table: each username hashes (SipHash with a key
 * drawn at start, so nobody can aim many names at one bucket) to a bucket
 * of a few slots; a new name takes a free slot or evicts the slot whose
 * last failure is oldest.  Memory is bounded whatever an attacker sends,
 * and usernames themselves are never kept.
 *
 * A window opens at the first attempt; max failures inside it lock the
 * name out until the window ends.  An attempt counts as a failure from
 * the moment it is reserved (before the password is checked) until the
 * caller releases it (not a failure after all) or resets the name
 * (a successful login).  Counts are lost on restart, which is
 * acceptable for a brake on online guessing.
 */
#include "auth/auth.h"
#include "base/crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define TH_BUCKETS 4096u
#define TH_WAYS    8u

typedef struct th_entry {
    uint64_t key; /* 0 = free */
    int64_t window_start;
    int64_t last;
    uint32_t failures;
} th_entry;

struct pt_throttle {
    pthread_mutex_t lock;
    unsigned max_failures;
    unsigned window_secs;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    th_entry slots[TH_BUCKETS][TH_WAYS];
};

int pt_throttle_new(pt_throttle **out, unsigned max_failures, unsigned window_secs)
{
    *out = NULL;
    if (pt_crypto_init() < 0)
        return PT_ERR;
    pt_throttle *t = calloc(1, sizeof *t);
    if (!t)
        return PT_ENOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return PT_ERR;
    }
    t->max_failures = max_failures;
    t->window_secs = window_secs;
    randombytes_buf(t->hkey, sizeof t->hkey);
    *out = t;
    return 0;
}

void pt_throttle_free(pt_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static uint64_t name_key(const pt_throttle *t, const char *username)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t k;
    crypto_shorthash(h, (const unsigned char *)username, strlen(username), t->hkey);
    memcpy(&k, h, sizeof k);
    return k ? k : 1;
}

/* The live entry for key, or NULL; clears entries whose window has passed. */
static th_entry *find(pt_throttle *t, uint64_t key, int64_t now)
{
    th_entry *b = t->slots[key % TH_BUCKETS];
    for (unsigned i = 0; i < TH_WAYS; i++) {
        if (b[i].key != key)
            continue;
        if (now - b[i].window_start >= (int64_t)t->window_secs) {
            memset(&b[i], 0, sizeof b[i]);
            return NULL;
        }
        return &b[i];
    }
    return NULL;
}

static bool is_blocked(const pt_throttle *t, const th_entry *e)
{
    return e && t->max_failures > 0 && e->failures >= t->max_failures;
}

/* Seconds left in a blocked entry's window (at least 1). */
static int64_t seconds_left(const pt_throttle *t, const th_entry *e, int64_t now)
{
    int64_t left = e->window_start + (int64_t)t->window_secs - now;
    return left < 1 ? 1 : left;
}

int64_t pt_throttle_retry_after(pt_throttle *t, const char *username, int64_t now)
{
    if (!t || !username)
        return 0;
    uint64_t key = name_key(t, username);
    int64_t left = 0;
    pthread_mutex_lock(&t->lock);
    th_entry *e = find(t, key, now);
    if (is_blocked(t, e))
        left = seconds_left(t, e, now);
    pthread_mutex_unlock(&t->lock);
    return left;
}

/* The entry for key, taking a free slot or evicting the slot whose last
 * attempt is oldest when the name has none. */
static th_entry *find_or_add(pt_throttle *t, uint64_t key, int64_t now)
{
    th_entry *e = find(t, key, now);
    if (e)
        return e;
    th_entry *b = t->slots[key % TH_BUCKETS];
    e = &b[0];
    for (unsigned i = 0; i < TH_WAYS; i++) {
        if (b[i].key == 0) {
            e = &b[i];
            break;
        }
        if (b[i].last < e->last)
            e = &b[i];
    }
    e->key = key;
    e->window_start = now;
    e->last = now;
    e->failures = 0;
    return e;
}

/*
 * The check and the count happen under one lock: with a separate "blocked?"
 * question and a later "failed" report, every request already in flight
 * passed the check before any of them was counted, so parallel guesses all
 * reached the password verify.  Counting the attempt up front (as a
 * failure until the caller releases or resets it) closes that gap.
 */
int64_t pt_throttle_reserve(pt_throttle *t, const char *username, int64_t now)
{
    if (!t || !username)
        return 0;
    uint64_t key = name_key(t, username);
    int64_t left = 0;
    pthread_mutex_lock(&t->lock);
    th_entry *e = find_or_add(t, key, now);
    if (is_blocked(t, e)) {
        left = seconds_left(t, e, now);
    } else {
        if (e->failures < UINT32_MAX)
            e->failures++;
        e->last = now;
    }
    pthread_mutex_unlock(&t->lock);
    return left;
}

void pt_throttle_release(pt_throttle *t, const char *username, int64_t now)
{
    if (!t || !username)
        return;
    uint64_t key = name_key(t, username);
    pthread_mutex_lock(&t->lock);
    th_entry *e = find(t, key, now);
    if (e && e->failures > 0)
        e->failures--;
    pthread_mutex_unlock(&t->lock);
}

void pt_throttle_reset(pt_throttle *t, const char *username)
{
    if (!t || !username)
        return;
    uint64_t key = name_key(t, username);
    pthread_mutex_lock(&t->lock);
    th_entry *b = t->slots[key % TH_BUCKETS];
    for (unsigned i = 0; i < TH_WAYS; i++)
        if (b[i].key == key)
            memset(&b[i], 0, sizeof b[i]);
    pthread_mutex_unlock(&t->lock);
}

/*
 * The same table doubles as a bounded, expiring set (the known clients of
 * login_guard.c): remembering a key opens a fresh window for it, and the
 * key is known until that window ends or the slot is evicted.
 */
void pt_throttle_remember(pt_throttle *t, const char *key, int64_t now)
{
    if (!t || !key)
        return;
    uint64_t k = name_key(t, key);
    pthread_mutex_lock(&t->lock);
    th_entry *e = find_or_add(t, k, now);
    e->window_start = now;
    e->last = now;
    pthread_mutex_unlock(&t->lock);
}

bool pt_throttle_known(pt_throttle *t, const char *key, int64_t now)
{
    if (!t || !key)
        return false;
    uint64_t k = name_key(t, key);
    pthread_mutex_lock(&t->lock);
    bool known = find(t, k, now) != NULL;
    pthread_mutex_unlock(&t->lock);
    return known;
}
