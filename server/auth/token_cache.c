/*
 * token_cache.c - access tokens that verified once, remembered until they
 * expire.
 *
 * Every authenticated request presents the same token many times over its
 * 15 minutes; an ECDSA P-256 verification per request is most of the CPU
 * an authenticated read costs.  A token is entered here only after
 * pt_token_verify() accepted it, keyed by a 256-bit BLAKE2b hash of the
 * whole token string (so a tampered token is a different key), and is
 * served from here only while now lies within its nbf..exp window.  The
 * session and membership checks still run on every request: revocation
 * and role changes take effect at once, as before.
 *
 * Direct-mapped slots behind striped locks: a collision just evicts, and
 * memory is fixed (slots * ~300 bytes).
 */
#include "auth/auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES    64
#define CLOCK_SKEW 30 /* seconds, as pt_token_verify allows for nbf/iat */

typedef struct slot {
    unsigned char key[crypto_generichash_BYTES];
    bool used;
    pt_token_claims claims;
} slot;

struct pt_token_cache {
    size_t mask;
    slot *slots;
    pthread_mutex_t locks[STRIPES];
    _Atomic uint64_t key_epoch; /* pt_keys_epoch the slots were filled under */
};

int pt_token_cache_new(pt_token_cache **out, size_t slots)
{
    *out = NULL;
    size_t n = 1;
    while (n < slots && n < ((size_t)1 << 24))
        n <<= 1;
    pt_token_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return PT_ENOMEM;
    c->slots = calloc(n, sizeof(slot));
    if (!c->slots) {
        free(c);
        return PT_ENOMEM;
    }
    c->mask = n - 1;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    *out = c;
    return 0;
}

void pt_token_cache_free(pt_token_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&c->locks[i]);
    sodium_memzero(c->slots, (c->mask + 1) * sizeof(slot));
    free(c->slots);
    free(c);
}

static size_t slot_of(const pt_token_cache *c, const unsigned char *key)
{
    uint64_t v;
    memcpy(&v, key, sizeof(v));
    return (size_t)v & c->mask;
}

static void token_key(unsigned char key[crypto_generichash_BYTES], const char *token)
{
    crypto_generichash(key, crypto_generichash_BYTES, (const unsigned char *)token, strlen(token),
                       NULL, 0);
}

bool pt_token_cache_get(pt_token_cache *c, const char *token, int64_t now, pt_token_claims *out)
{
    if (!c || !token)
        return false;
    unsigned char key[crypto_generichash_BYTES];
    token_key(key, token);
    size_t i = slot_of(c, key);
    pthread_mutex_t *lock = &c->locks[i % STRIPES];
    bool hit = false;
    pthread_mutex_lock(lock);
    const slot *s = &c->slots[i];
    if (s->used && sodium_memcmp(s->key, key, sizeof(key)) == 0 && now < s->claims.exp &&
        s->claims.nbf <= now + CLOCK_SKEW && s->claims.iat <= now + CLOCK_SKEW) {
        *out = s->claims;
        hit = true;
    }
    pthread_mutex_unlock(lock);
    return hit;
}

void pt_token_cache_put(pt_token_cache *c, const char *token, const pt_token_claims *claims)
{
    if (!c || !token || !claims)
        return;
    unsigned char key[crypto_generichash_BYTES];
    token_key(key, token);
    size_t i = slot_of(c, key);
    pthread_mutex_t *lock = &c->locks[i % STRIPES];
    pthread_mutex_lock(lock);
    slot *s = &c->slots[i];
    memcpy(s->key, key, sizeof(key));
    s->claims = *claims;
    s->used = true;
    pthread_mutex_unlock(lock);
}

/*
 * Clears every slot, stripe by stripe.  A request that verified with the
 * dropped key just before may put its token back after its stripe was
 * cleared; that token verified while the key was still in the set, and
 * the next drop clears it again.  Rare (a rotation with --force) and
 * bounded by the slot count.
 */
void pt_token_cache_sync(pt_token_cache *c, uint64_t key_epoch)
{
    if (!c)
        return;
    uint64_t seen = atomic_load(&c->key_epoch);
    if (seen == key_epoch || !atomic_compare_exchange_strong(&c->key_epoch, &seen, key_epoch))
        return;
    for (size_t i = 0; i <= c->mask; i++) {
        pthread_mutex_t *lock = &c->locks[i % STRIPES];
        pthread_mutex_lock(lock);
        sodium_memzero(&c->slots[i], sizeof(slot));
        pthread_mutex_unlock(lock);
    }
}
