/*
 * keyring.c - the key set a process signs and verifies with, kept fresh
 * from the store without a restart.
 *
 * The ring holds a pointer to an immutable snapshot (keyset.c).  A user
 * takes a reference under `lock` (a pointer copy and an atomic increment)
 * and drops it when done; a reload builds the next snapshot with no lock
 * held, swaps the pointer under `lock` and drops the ring's reference to
 * the old one, which is freed by whichever user lets go of it last.  So a
 * verify that started on the old set finishes on it, safely.
 *
 * When to re-read (both checked by whoever takes a snapshot, no thread of
 * its own):
 *   - every refresh_secs (PT_KEYS_REFRESH_SECS): a rotation reaches every
 *     node within that time, and a node that only signs switches to the
 *     new current key;
 *   - when a token names a kid the ring does not know, at most once per
 *     unknown_kid_ms (PT_KEYS_UNKNOWN_KID_MS), so made-up kids cannot
 *     turn into a store read per request.
 * Only one thread reloads at a time (trylock); the others carry on with
 * the snapshot they have.  A failed reload (store away) keeps the old set
 * and is retried at the next period.
 */
#include "auth/keys.h"
#include "base/clock.h"
#include "base/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pt_keys {
    pthread_mutex_t lock; /* guards set (the pointer) */
    pt_keyset *set;
    pt_store *store;
    pthread_mutex_t reload_lock; /* one reloader at a time */
    _Atomic int64_t last_reload_ms, last_unknown_ms;
    _Atomic uint64_t epoch; /* drops seen: see pt_keys_epoch */
    unsigned refresh_secs, unknown_kid_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Swaps in s (taking over its reference); the old set goes when unused.
 * A key of the old set missing from s was dropped: the epoch moves on. */
static void ring_swap(pt_keys *k, pt_keyset *s)
{
    pthread_mutex_lock(&k->lock);
    pt_keyset *old = k->set;
    k->set = s;
    pthread_mutex_unlock(&k->lock);
    for (size_t i = 0; old && i < old->n; i++) {
        if (!pt_keyset_find(s, old->keys[i].kid, strlen(old->keys[i].kid))) {
            atomic_fetch_add(&k->epoch, 1);
            break;
        }
    }
    pt_keyset_release(old);
}

/*
 * Reads the record and, when its generation differs from the one held,
 * builds and swaps in the new snapshot.  The record itself carries the
 * private keys, so it is cleansed here before it is freed.
 */
static int ring_reload(pt_keys *k)
{
    json_t *rec = NULL;
    int err = pt_keys_record_read(&rec, k->store);
    if (err < 0)
        return err;
    /* Only reloaders (one at a time) change k->set, so reading it here
     * needs no lock. */
    json_t *gen = json_object_get(rec, "generation");
    if (!k->set || !json_is_integer(gen) ||
        (uint64_t)json_integer_value(gen) != k->set->generation) {
        pt_keyset *s = NULL;
        err = pt_keyset_build(&s, rec);
        if (err == 0) {
            if (k->set)
                pt_log_info("auth", "signing keys reloaded: generation %llu, %s signs",
                            (unsigned long long)s->generation, s->current->kid);
            ring_swap(k, s);
        }
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rec, "keys"), i, e)
    {
        json_t *pem = json_object_get(e, "private_pem");
        if (json_is_string(pem))
            OPENSSL_cleanse((void *)json_string_value(pem), json_string_length(pem));
    }
    json_decref(rec);
    return err;
}

/* A reload by this thread unless another is already doing one. */
static void ring_try_reload(pt_keys *k)
{
    if (pthread_mutex_trylock(&k->reload_lock) != 0)
        return;
    atomic_store(&k->last_reload_ms, mono_ms());
    if (ring_reload(k) < 0)
        pt_log_warn("auth", "cannot re-read the signing keys (keeping the ones held): %s",
                    pt_error_last());
    pthread_mutex_unlock(&k->reload_lock);
}

/* A re-read when the period has passed (a clock read otherwise). */
static void ring_maybe_reload(pt_keys *k)
{
    if (k->store && mono_ms() - atomic_load(&k->last_reload_ms) >= (int64_t)k->refresh_secs * 1000)
        ring_try_reload(k);
}

/* The snapshot to use now (a reference: release it), re-read first when
 * the period has passed. */
static pt_keyset *ring_acquire(pt_keys *k)
{
    ring_maybe_reload(k);
    pthread_mutex_lock(&k->lock);
    pt_keyset *s = k->set;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&k->lock);
    return s;
}

int pt_keys_open(pt_keys **out, pt_store *store, const char *data_dir)
{
    *out = NULL;
    int err = pt_keys_ensure(store, data_dir, pt_clock_now());
    if (err < 0)
        return err;
    pt_keys *k = calloc(1, sizeof *k);
    if (!k)
        return PT_ENOMEM;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->reload_lock, NULL);
    k->store = store;
    k->refresh_secs = PT_KEYS_REFRESH_SECS;
    k->unknown_kid_ms = PT_KEYS_UNKNOWN_KID_MS;
    atomic_init(&k->last_reload_ms, mono_ms());
    atomic_init(&k->last_unknown_ms, 0);
    atomic_init(&k->epoch, 0);
    if ((err = ring_reload(k)) < 0) {
        pt_keys_free(k);
        return err;
    }
    pt_log_info("auth", "signing keys: generation %llu, %zu key(s), %s signs",
                (unsigned long long)k->set->generation, k->set->n, k->set->current->kid);
    *out = k;
    return 0;
}

void pt_keys_free(pt_keys *k)
{
    if (!k)
        return;
    pt_keyset_release(k->set);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->reload_lock);
    free(k);
}

/* Called for every authenticated request, cached token or not, so this
 * is also where a node that serves only cached tokens re-reads. */
uint64_t pt_keys_epoch(pt_keys *k)
{
    if (!k)
        return 0;
    ring_maybe_reload(k);
    return atomic_load_explicit(&k->epoch, memory_order_acquire);
}

int pt_keys_reload(pt_keys *k)
{
    pthread_mutex_lock(&k->reload_lock);
    atomic_store(&k->last_reload_ms, mono_ms());
    int err = ring_reload(k);
    pthread_mutex_unlock(&k->reload_lock);
    return err;
}

void pt_keys_set_intervals(pt_keys *k, unsigned refresh_secs, unsigned unknown_kid_ms)
{
    k->refresh_secs = refresh_secs;
    k->unknown_kid_ms = unknown_kid_ms;
}

int pt_keys_jwks_text(char **out, size_t *len, pt_keys *k)
{
    pt_keyset *s = ring_acquire(k);
    *out = malloc(s->jwks_len + 1);
    if (*out) {
        memcpy(*out, s->jwks_text, s->jwks_len + 1);
        *len = s->jwks_len;
    }
    pt_keyset_release(s);
    return *out ? 0 : PT_ENOMEM;
}

json_t *pt_keys_jwks(pt_keys *k)
{
    pt_keyset *s = ring_acquire(k);
    json_t *j = json_loadb(s->jwks_text, s->jwks_len, 0, NULL);
    pt_keyset_release(s);
    return j;
}

int pt_keys_current_kid(char *out, size_t n, pt_keys *k)
{
    pt_keyset *s = ring_acquire(k);
    int err = pt_strlcpy(out, s->current->kid, n);
    pt_keyset_release(s);
    return err;
}

/* ---- for token.c ------------------------------------------------------------ */

pt_keyset *pt_keys_acquire(pt_keys *k)
{
    return ring_acquire(k);
}

/*
 * The key a token's kid names.  An unknown kid may be a key made by a
 * rotation on another node since the last read, so the set is re-read
 * once (rate-limited across all threads) before the kid is refused.
 * *s is replaced by the newer snapshot when that happens.
 */
const pt_signing_key *pt_keys_lookup(pt_keys *k, pt_keyset **s, const char *kid, size_t kid_len)
{
    const pt_signing_key *key = pt_keyset_find(*s, kid, kid_len);
    if (key || !k->store)
        return key;
    int64_t now = mono_ms(), last = atomic_load(&k->last_unknown_ms);
    if (now - last < (int64_t)k->unknown_kid_ms ||
        !atomic_compare_exchange_strong(&k->last_unknown_ms, &last, now))
        return NULL;
    pthread_mutex_lock(&k->reload_lock);
    atomic_store(&k->last_reload_ms, mono_ms());
    if (ring_reload(k) < 0)
        pt_log_warn("auth", "cannot re-read the signing keys for an unknown kid: %s",
                    pt_error_last());
    pthread_mutex_unlock(&k->reload_lock);
    pt_keyset_release(*s);
    pthread_mutex_lock(&k->lock);
    *s = k->set;
    atomic_fetch_add_explicit(&(*s)->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&k->lock);
    return pt_keyset_find(*s, kid, kid_len);
}
