/*
 * test_keys.c - the signing key set kept in the store: created once even
 * when several processes start at once, rotated (next signs, current only
 * verifies, previous dropped), picked up by other rings through the
 * periodic and the unknown-kid re-reads, listed without private keys, and
 * swapped under concurrent verifiers safely (run it under ASan).
 */
#include "auth/auth.h"
#include "base/crypto.h"
#include "check.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define ISS  "portico"
#define AUD  "portico-api"
#define NOW  1800000000LL
#define KEEP (900 + PT_TOKEN_SKEW)

static pt_token_claims claims(void)
{
    pt_token_claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.sub, "alice");
    strcpy(c.org, "demo-trust");
    strcpy(c.sid, "sid-1");
    strcpy(c.jti, "jti-1");
    c.iat = c.nbf = NOW;
    c.exp = NOW + 900;
    return c;
}

static char *sign(pt_keys *k)
{
    pt_token_claims c = claims();
    char *tok = NULL;
    CHECK(pt_token_sign(&tok, k, ISS, AUD, &c) == 0 && tok);
    return tok;
}

static int verify(pt_keys *k, const char *tok)
{
    pt_token_claims out;
    return tok ? pt_token_verify(&out, k, ISS, AUD, tok, NOW + 10) : 999;
}

/* The kid a token's header names (into out). */
static void token_kid(char *out, size_t n, const char *tok)
{
    unsigned char hdr[512];
    size_t hl = 0;
    out[0] = 0;
    const char *dot = tok ? strchr(tok, '.') : NULL;
    if (!dot || sodium_base642bin(hdr, sizeof hdr - 1, tok, (size_t)(dot - tok), NULL, &hl, NULL,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return;
    hdr[hl] = 0;
    json_t *h = json_loads((char *)hdr, 0, NULL);
    const char *k = json_string_value(json_object_get(h, "kid"));
    snprintf(out, n, "%s", k ? k : "");
    json_decref(h);
}

/* The kid of the key in `state` per pt_keys_list (empty if none). */
static void state_kid(char *out, size_t n, pt_store *st, const char *state)
{
    json_t *list = NULL;
    out[0] = 0;
    CHECK(pt_keys_list(&list, st) == 0);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "state")), state) == 0)
            snprintf(out, n, "%s", json_string_value(json_object_get(e, "kid")));
    }
    json_decref(list);
}

static size_t jwks_count(pt_keys *k, const char *kid)
{
    json_t *j = pt_keys_jwks(k);
    size_t i, n = 0, hit = 0;
    json_t *e;
    json_array_foreach(json_object_get(j, "keys"), i, e)
    {
        n++;
        if (kid && strcmp(json_string_value(json_object_get(e, "kid")), kid) == 0)
            hit++;
    }
    json_decref(j);
    return kid ? hit : n;
}

static pt_store *open_store(char *dir)
{
    pt_store *st = NULL;
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    CHECK(mkdtemp(dir) != NULL);
    CHECK(pt_store_open(&st, dir, &o) == 0);
    return st;
}

/* ---- several processes starting at once ------------------------------------ */

typedef struct ensure_arg {
    pt_store *st;
    int rc;
    char kid[64];
} ensure_arg;

static void *ensure_thread(void *p)
{
    ensure_arg *a = p;
    pt_keys *k = NULL;
    a->rc = pt_keys_open(&k, a->st, NULL);
    if (a->rc == 0)
        pt_keys_current_kid(a->kid, sizeof a->kid, k);
    pt_keys_free(k);
    return NULL;
}

static void test_first_start_race(void)
{
    char dir[] = "/tmp/pt-keys-race-XXXXXX";
    pt_store *st = open_store(dir);
    if (!st)
        return;
    ensure_arg a[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].st = st;
        pthread_create(&t[i], NULL, ensure_thread, &a[i]);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 6; i++) {
        CHECK(a[i].rc == 0);
        CHECK(strlen(a[i].kid) == 22 && strcmp(a[i].kid, a[0].kid) == 0);
    }
    json_t *list = NULL;
    CHECK(pt_keys_list(&list, st) == 0 && json_array_size(list) == 2);
    json_decref(list);
    pt_store_close(st);
    CHECK(check_rm_tree(dir) == 0);
}

/* ---- rotation ----------------------------------------------------------------- */

static void test_rotation(void)
{
    char dir[] = "/tmp/pt-keys-rot-XXXXXX";
    pt_store *st = open_store(dir);
    pt_keys *a = NULL, *b = NULL;
    if (!st)
        return;
    /* no key set yet: list says so, the CLI reports it */
    json_t *list = NULL;
    CHECK(pt_keys_list(&list, st) == PT_ENOTFOUND && !list);
    CHECK(pt_keys_open(&a, st, dir) == 0 && pt_keys_open(&b, st, dir) == 0);
    if (!a || !b)
        goto out;
    /* b re-reads only when told to (or for an unknown kid) */
    pt_keys_set_intervals(b, 3600, 0);

    char k1[64], k2[64], k3[64], k4[64], got[64];
    state_kid(k1, sizeof k1, st, "current");
    state_kid(k2, sizeof k2, st, "next");
    CHECK(k1[0] && k2[0] && strcmp(k1, k2) != 0);
    CHECK(jwks_count(a, NULL) == 2 && jwks_count(a, k1) == 1 && jwks_count(a, k2) == 1);

    /* the listing never carries a private key */
    CHECK(pt_keys_list(&list, st) == 0);
    char *text = json_dumps(list, 0);
    CHECK(text && !strstr(text, "PRIVATE") && !strstr(text, "private_pem"));
    free(text);
    json_decref(list);

    char *t1 = sign(a);
    token_kid(got, sizeof got, t1);
    CHECK(strcmp(got, k1) == 0);

    /* rotate: next signs, current becomes previous */
    CHECK(pt_keys_rotate(st, dir, NOW, KEEP, false) == 0);
    state_kid(got, sizeof got, st, "current");
    CHECK(strcmp(got, k2) == 0);
    state_kid(got, sizeof got, st, "previous");
    CHECK(strcmp(got, k1) == 0);
    state_kid(k3, sizeof k3, st, "next");
    CHECK(k3[0] && strcmp(k3, k1) != 0 && strcmp(k3, k2) != 0);

    /* a signs with the old key until it re-reads; its tokens still verify */
    uint64_t epoch = pt_keys_epoch(a);
    CHECK(pt_keys_reload(a) == 0);
    CHECK(pt_keys_epoch(a) == epoch); /* nothing was dropped */
    char *t2 = sign(a);
    token_kid(got, sizeof got, t2);
    CHECK(strcmp(got, k2) == 0);
    CHECK(verify(a, t1) == 0 && verify(a, t2) == 0);
    CHECK(jwks_count(a, NULL) == 3 && jwks_count(a, k1) == 1 && jwks_count(a, k3) == 1);
    /* b never re-read, but k2 was its `next`: it verifies at once */
    CHECK(verify(b, t1) == 0 && verify(b, t2) == 0);

    /* rotating again so soon would drop k1 while its tokens live */
    CHECK(pt_keys_rotate(st, dir, NOW + 60, KEEP, false) == PT_ECONFLICT);
    state_kid(got, sizeof got, st, "current");
    CHECK(strcmp(got, k2) == 0);
    /* once they have expired it goes */
    CHECK(pt_keys_rotate(st, dir, NOW + KEEP + 1, KEEP, false) == 0);
    state_kid(got, sizeof got, st, "current");
    CHECK(strcmp(got, k3) == 0);
    state_kid(k4, sizeof k4, st, "next");
    /* t1 verified before and sits in a token cache */
    pt_token_cache *cache = NULL;
    pt_token_claims cl;
    CHECK(pt_token_cache_new(&cache, 64) == 0);
    CHECK(pt_token_verify(&cl, a, ISS, AUD, t1, NOW + 10) == 0);
    pt_token_cache_put(cache, t1, &cl);
    pt_token_cache_sync(cache, pt_keys_epoch(a));
    CHECK(pt_token_cache_get(cache, t1, NOW + 10, &cl));
    CHECK(pt_keys_reload(a) == 0);
    CHECK(pt_keys_epoch(a) == epoch + 1); /* k1 was dropped */
    CHECK(jwks_count(a, NULL) == 3 && jwks_count(a, k1) == 0);
    CHECK(verify(a, t1) == PT_EINVAL); /* its key was dropped */
    /* ... and so the cache lets go of it too */
    pt_token_cache_sync(cache, pt_keys_epoch(a));
    CHECK(!pt_token_cache_get(cache, t1, NOW + 10, &cl));
    pt_token_cache_free(cache);
    CHECK(verify(a, t2) == 0); /* k2 is previous now */
    char *t3 = sign(a);
    token_kid(got, sizeof got, t3);
    CHECK(strcmp(got, k3) == 0);

    /* b still holds generation 1, where k3 did not exist: the unknown
     * kid makes it re-read once, and then it verifies */
    CHECK(verify(b, t3) == 0);
    /* with the unknown-kid re-read rate-limited, a kid made since is
     * refused until b re-reads */
    pt_keys_set_intervals(b, 3600, 3600 * 1000);
    CHECK(pt_keys_rotate(st, dir, NOW + 2 * KEEP + 2, KEEP, true) == 0);
    CHECK(pt_keys_rotate(st, dir, NOW + 2 * KEEP + 3, KEEP, true) == 0); /* --force */
    CHECK(pt_keys_reload(a) == 0);
    char *t5 = sign(a);
    token_kid(got, sizeof got, t5);
    CHECK(got[0] && strcmp(got, k4) != 0 && strcmp(got, k3) != 0);
    CHECK(verify(b, t5) == PT_EINVAL);
    /* the periodic re-read brings it in without a reload call */
    pt_keys_set_intervals(b, 0, 3600 * 1000);
    CHECK(verify(b, t5) == 0);
    char *t6 = sign(b);
    token_kid(got, sizeof got, t6);
    char cur[64];
    state_kid(cur, sizeof cur, st, "current");
    CHECK(strcmp(got, cur) == 0);

    free(t1);
    free(t2);
    free(t3);
    free(t5);
    free(t6);
out:
    pt_keys_free(a);
    pt_keys_free(b);
    pt_store_close(st);
    CHECK(check_rm_tree(dir) == 0);
}

/* ---- other stores, broken imports ----------------------------------------------- */

static int get_record_txn(pt_txn *txn, void *out)
{
    return pt_txn_get_json(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), out);
}

static void test_foreign_and_broken(void)
{
    char d1[] = "/tmp/pt-keys-f1-XXXXXX", d2[] = "/tmp/pt-keys-f2-XXXXXX";
    char d3[] = "/tmp/pt-keys-f3-XXXXXX";
    pt_store *s1 = open_store(d1), *s2 = open_store(d2), *s3 = open_store(d3);
    pt_keys *k1 = NULL, *k2 = NULL, *k3 = NULL;
    CHECK(pt_keys_open(&k1, s1, NULL) == 0 && pt_keys_open(&k2, s2, NULL) == 0);
    if (k1 && k2) {
        /* another installation's token names a kid this one never had */
        char *t = sign(k1);
        CHECK(verify(k1, t) == 0 && verify(k2, t) == PT_EINVAL);
        free(t);
    }
    /* portico check's view of the stored record */
    json_t *rec = NULL;
    CHECK(pt_store_read(s1, get_record_txn, &rec) == 0 && rec);
    if (rec) {
        char *text = json_dumps(rec, JSON_COMPACT);
        CHECK(text && pt_keys_record_check(text, strlen(text)) == 0);
        free(text);
        json_t *k0 = json_array_get(json_object_get(rec, "keys"), 0);
        json_object_set_new(k0, "kid", json_string("AAAAAAAAAAAAAAAAAAAAAA"));
        text = json_dumps(rec, JSON_COMPACT);
        CHECK(text && pt_keys_record_check(text, strlen(text)) == PT_EINVAL);
        free(text);
        json_object_set_new(rec, "keys", json_array());
        text = json_dumps(rec, JSON_COMPACT);
        CHECK(text && pt_keys_record_check(text, strlen(text)) == PT_EINVAL);
        free(text);
        CHECK(pt_keys_record_check("[]", 2) == PT_EINVAL);
        CHECK(pt_keys_record_check("{", 1) == PT_EINVAL);
        json_decref(rec);
    }
    /* a broken jwt-private.pem is an error at start, not a crash, and
     * no key set is stored from it */
    char path[128];
    snprintf(path, sizeof path, "%s/jwt-private.pem", d3);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
        fclose(f);
    }
    CHECK(pt_keys_open(&k3, s3, d3) < 0 && k3 == NULL);
    json_t *list = NULL;
    CHECK(pt_keys_list(&list, s3) == PT_ENOTFOUND);
    pt_keys_free(k1);
    pt_keys_free(k2);
    pt_store_close(s1);
    pt_store_close(s2);
    pt_store_close(s3);
    CHECK(check_rm_tree(d1) == 0 && check_rm_tree(d2) == 0 && check_rm_tree(d3) == 0);
}

/* ---- reloads under concurrent verifiers ------------------------------------------ */

typedef struct verifier {
    pt_keys *k;
    const char *tok;
    int bad;
} verifier;

static void *verify_loop(void *p)
{
    verifier *v = p;
    for (int i = 0; i < 400; i++) {
        if (verify(v->k, v->tok) != 0)
            v->bad++;
        char *t = sign(v->k);
        if (verify(v->k, t) != 0)
            v->bad++;
        free(t);
    }
    return NULL;
}

/* Rewrites the stored set with the same keys under the next generation,
 * so every re-read builds and swaps in a new snapshot. */
static int bump_txn(pt_txn *txn, void *unused)
{
    (void)unused;
    json_t *rec = NULL;
    int err = pt_txn_get_json(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), &rec);
    if (err < 0)
        return err;
    json_object_set_new(rec, "generation",
                        json_integer(json_integer_value(json_object_get(rec, "generation")) + 1));
    err = pt_txn_put_json(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), rec);
    json_decref(rec);
    return err;
}

/*
 * Threads sign and verify while the set is rotated and re-read under
 * them, each re-read swapping in a new snapshot.  A token signed by a key that stays in the set
 * (the previous one is never dropped here: rotations are spaced) and tokens they sign themselves
 * must always verify; under ASan this also shows that no snapshot is freed while a verifier still
 * uses it.
 */
static void test_concurrent_reload(void)
{
    char dir[] = "/tmp/pt-keys-conc-XXXXXX";
    pt_store *st = open_store(dir);
    pt_keys *k = NULL;
    CHECK(pt_keys_open(&k, st, NULL) == 0);
    if (!k)
        goto out;
    pt_keys_set_intervals(k, 0, 0); /* re-read at every use as well */
    verifier v[4];
    pthread_t t[4];
    char *tok = sign(k);
    for (int i = 0; i < 4; i++) {
        v[i] = (verifier){k, tok, 0};
        pthread_create(&t[i], NULL, verify_loop, &v[i]);
    }
    /* one rotation: tok's key becomes previous and stays */
    CHECK(pt_keys_rotate(st, NULL, NOW, KEEP, false) == 0);
    for (int i = 0; i < 50; i++)
        CHECK(pt_store_write(st, bump_txn, NULL) == 0 && pt_keys_reload(k) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(v[i].bad == 0);
    }
    free(tok);
out:
    pt_keys_free(k);
    pt_store_close(st);
    CHECK(check_rm_tree(dir) == 0);
}

int main(void)
{
    if (pt_crypto_init() < 0)
        return 1;
    test_first_start_race();
    test_rotation();
    test_foreign_and_broken();
    test_concurrent_reload();
    return check_finish("test_keys");
}
