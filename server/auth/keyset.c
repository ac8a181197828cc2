/*
 * keyset.c - one generation of the signing key set as an immutable,
 * reference-counted snapshot: public keys parsed once, a verify context
 * initialised once per key, the JWKS rendered once.  Built from the
 * store's record (keys_store.c), swapped in by the ring (keyring.c).
 */
#include "auth/keys.h"
#include "base/crypto.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

static const char *const state_names[] = {"next", "current", "previous"};

const char *pt_key_state_name(pt_key_state s)
{
    return (unsigned)s < PT_ARRAY_LEN(state_names) ? state_names[s] : "unknown";
}

static int state_parse(pt_key_state *out, const char *name)
{
    for (size_t i = 0; name && i < PT_ARRAY_LEN(state_names); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (pt_key_state)i;
            return 0;
        }
    }
    return PT_EINVAL;
}

static EVP_PKEY *parse_private(const char *pem, size_t len)
{
    if (len == 0 || len > PT_KEYS_PEM_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return k;
}

static bool is_p256(EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
        return false;
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/*
 * The public half as its own EVP_PKEY (through SubjectPublicKeyInfo DER),
 * so that what verifiers hold carries no private scalar at all.
 */
static EVP_PKEY *public_of(EVP_PKEY *priv)
{
    unsigned char *der = NULL;
    int dlen = i2d_PUBKEY(priv, &der);
    if (dlen <= 0)
        return NULL;
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, dlen);
    OPENSSL_free(der);
    return pub;
}

/* kid = base64url(SHA-256(SubjectPublicKeyInfo DER)[0..16]): the same
 * key always gets the same kid, on every node and across imports. */
static int kid_of(char kid[PT_KID_LEN], EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int dlen = i2d_PUBKEY(k, &der);
    if (dlen <= 0)
        return PT_ERR;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, der, (unsigned long long)dlen);
    OPENSSL_free(der);
    sodium_bin2base64(kid, PT_KID_LEN, h, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

static int coords_of(pt_signing_key *k)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char bx[32], by[32];
    int ok = EVP_PKEY_get_bn_param(k->pub, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
             EVP_PKEY_get_bn_param(k->pub, OSSL_PKEY_PARAM_EC_PUB_Y, &y) &&
             BN_bn2binpad(x, bx, 32) == 32 && BN_bn2binpad(y, by, 32) == 32;
    BN_free(x);
    BN_free(y);
    if (!ok)
        return PT_ERR;
    sodium_bin2base64(k->x, sizeof k->x, bx, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(k->y, sizeof k->y, by, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int pt_signing_key_generate(char **pem, size_t *len)
{
    *pem = NULL;
    *len = 0;
    if (pt_crypto_init() < 0)
        return PT_ERR;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    BIO *bio = k ? BIO_new(BIO_s_mem()) : NULL;
    char *data = NULL;
    long n = 0;
    int err = PT_ERR;
    if (bio && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0 && (size_t)n <= PT_KEYS_PEM_MAX) {
        *pem = malloc((size_t)n + 1);
        if (*pem) {
            memcpy(*pem, data, (size_t)n);
            (*pem)[n] = 0;
            *len = (size_t)n;
            err = 0;
        } else {
            err = PT_ENOMEM;
        }
    }
    if (data && n > 0)
        OPENSSL_cleanse(data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(k);
    if (err == PT_ERR)
        pt_error_set("cannot generate a P-256 signing key");
    return err;
}

int pt_signing_key_kid(char kid[PT_KID_LEN], const char *pem, size_t len)
{
    EVP_PKEY *k = parse_private(pem, len);
    int err = k && is_p256(k) ? kid_of(kid, k) : PT_EINVAL;
    EVP_PKEY_free(k);
    if (err < 0)
        pt_error_set("not a P-256 private key");
    return err;
}

/*
 * One key of the record.  The kid is recomputed from the key and must
 * match the stored one: a record whose kid and key disagree would sign
 * tokens that every other node looks up under the wrong key.
 */
static int key_fill(pt_signing_key *k, const json_t *j)
{
    const char *kid = json_string_value(json_object_get(j, "kid"));
    const char *pem = json_string_value(json_object_get(j, "private_pem"));
    json_t *created = json_object_get(j, "created_at");
    if (!kid || !pem || !json_is_integer(created) ||
        state_parse(&k->state, json_string_value(json_object_get(j, "state"))) < 0)
        return PT_EINVAL;
    k->created_at = (int64_t)json_integer_value(created);
    k->activated_at = (int64_t)json_integer_value(json_object_get(j, "activated_at"));
    k->retired_at = (int64_t)json_integer_value(json_object_get(j, "retired_at"));

    size_t plen = json_string_length(json_object_get(j, "private_pem"));
    EVP_PKEY *priv = parse_private(pem, plen);
    int err = PT_EINVAL;
    if (!priv || !is_p256(priv) || !(k->pub = public_of(priv)) || kid_of(k->kid, k->pub) < 0 ||
        strcmp(k->kid, kid) != 0 || coords_of(k) < 0)
        goto done;
    if (!(k->verify_tmpl = EVP_MD_CTX_new()) ||
        EVP_DigestVerifyInit(k->verify_tmpl, NULL, EVP_sha256(), NULL, k->pub) != 1) {
        err = PT_ERR;
        goto done;
    }
    if (k->state == PT_KEY_CURRENT) {
        if (!(k->priv_pem = malloc(plen + 1))) {
            err = PT_ENOMEM;
            goto done;
        }
        memcpy(k->priv_pem, pem, plen + 1);
        k->priv_len = plen;
    }
    err = 0;
done:
    EVP_PKEY_free(priv);
    return err;
}

static void key_clear(pt_signing_key *k)
{
    EVP_PKEY_free(k->pub);
    EVP_MD_CTX_free(k->verify_tmpl);
    if (k->priv_pem) {
        OPENSSL_cleanse(k->priv_pem, k->priv_len);
        free(k->priv_pem);
    }
    memset(k, 0, sizeof *k);
}

static int jwks_render(pt_keyset *s)
{
    json_t *keys = json_array();
    for (size_t i = 0; keys && i < s->n; i++) {
        const pt_signing_key *k = &s->keys[i];
        json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC",
                                              "crv", "P-256", "x", k->x, "y", k->y, "kid", k->kid,
                                              "alg", "ES256", "use", "sig"));
    }
    json_t *doc = keys ? json_pack("{s:o}", "keys", keys) : NULL;
    s->jwks_text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s->jwks_text)
        return PT_ENOMEM;
    s->jwks_len = strlen(s->jwks_text);
    return 0;
}

int pt_keyset_build(pt_keyset **out, const json_t *record)
{
    *out = NULL;
    json_t *keys = json_object_get(record, "keys");
    json_t *gen = json_object_get(record, "generation");
    if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > PT_KEYS_MAX ||
        !json_is_integer(gen)) {
        pt_error_set("the stored signing key set is malformed");
        return PT_EINVAL;
    }
    pt_keyset *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    atomic_init(&s->refs, 1);
    s->generation = (uint64_t)json_integer_value(gen);
    unsigned seen = 0;
    int err = 0;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        pt_signing_key *k = &s->keys[s->n];
        if ((err = key_fill(k, json_array_get(keys, i))) < 0 || (seen & (1u << k->state))) {
            key_clear(k);
            pt_error_set("the stored signing key set has a bad or repeated key (entry %zu)", i);
            err = PT_EINVAL;
            goto fail;
        }
        seen |= 1u << k->state;
        if (k->state == PT_KEY_CURRENT)
            s->current = k;
        s->n++;
    }
    if (!s->current) {
        pt_error_set("the stored signing key set has no current key");
        err = PT_EINVAL;
        goto fail;
    }
    if ((err = jwks_render(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    pt_keyset_release(s);
    return err;
}

void pt_keyset_release(pt_keyset *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        key_clear(&s->keys[i]);
    free(s->jwks_text);
    free(s);
}

const pt_signing_key *pt_keyset_find(const pt_keyset *s, const char *kid, size_t kid_len)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (strlen(s->keys[i].kid) == kid_len && memcmp(s->keys[i].kid, kid, kid_len) == 0)
            return &s->keys[i];
    }
    return NULL;
}
