/*
 * test_token.c - access tokens: round trip, and every way a token must be
 * refused (tampering, algorithm confusion, alg none, wrong iss/aud, time
 * claims, size and garbage).  The key is imported from a jwt-private.pem
 * into a fresh store, as an installation from before the store kept keys
 * is; the key set itself (rotation, reloads) is test_keys.c's.
 */
#include "auth/auth.h"
#include "base/crypto.h"
#include "store/store.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <sodium.h>

#define ISS "portico"
#define AUD "portico-api"
#define NOW 1800000000LL

static char dir[256];
static char kid[64]; /* the kid of the imported key */

static unsigned char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(65536);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static pt_token_claims base_claims(void)
{
    pt_token_claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.sub, "alice");
    strcpy(c.org, "demo-trust");
    strcpy(c.sid, "sid-123");
    strcpy(c.jti, "jti-456");
    c.roles = PT_ROLE_PORTAL_ADMIN | PT_ROLE_HR_ADMIN;
    c.mfa = true;
    c.iat = c.nbf = NOW;
    c.exp = NOW + 900;
    return c;
}

static int verify(pt_keys *k, const char *tok)
{
    pt_token_claims out;
    return pt_token_verify(&out, k, ISS, AUD, tok, NOW + 10);
}

static char *b64(const void *d, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *o = malloc(cap);
    sodium_bin2base64(o, cap, d, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return o;
}

/*
 * Sets the S of an ES256 token's signature to its low (want_high false)
 * or high form, in place; returns whether S was changed.  Done with
 * OpenSSL's bignums, independently of token.c's own arithmetic.
 */
static bool set_s(char *tok, bool want_high)
{
    char *dot = strrchr(tok, '.');
    unsigned char sig[80];
    size_t n = 0;
    bool changed = false;
    if (!dot ||
        sodium_base642bin(sig, sizeof sig, dot + 1, strlen(dot + 1), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != 64)
        return false;
    BIGNUM *order = NULL, *half = BN_new(), *sv = BN_bin2bn(sig + 32, 32, NULL);
    BN_hex2bn(&order, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    BN_rshift1(half, order);
    if ((BN_cmp(sv, half) > 0) != want_high && BN_sub(sv, order, sv) &&
        BN_bn2binpad(sv, sig + 32, 32) == 32) {
        char *enc = b64(sig, 64);
        memcpy(dot + 1, enc, strlen(enc));
        free(enc);
        changed = true;
    }
    BN_free(order);
    BN_free(half);
    BN_free(sv);
    return changed;
}

/* libjwt-built token (any alg) over a claims JSON text, naming the kid
 * of our key (so only the point under test can make it fail); ES256 ones
 * in the low-S form porticod accepts.  with_kid false leaves it out. */
static char *libjwt_token_kid(jwt_alg_t alg, const unsigned char *key, size_t keylen,
                              const char *claims, bool with_kid)
{
    jwt_t *jwt = NULL;
    char *t = NULL;
    if (jwt_new(&jwt) == 0 && jwt_set_alg(jwt, alg, key, (int)keylen) == 0 &&
        (!with_kid || jwt_add_header(jwt, "kid", kid) == 0) &&
        jwt_add_grants_json(jwt, claims) == 0)
        t = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (t && alg == JWT_ALG_ES256)
        set_s(t, false);
    return t;
}

static char *libjwt_token(jwt_alg_t alg, const unsigned char *key, size_t keylen,
                          const char *claims)
{
    return libjwt_token_kid(alg, key, keylen, claims, true);
}

/* Tokens are issued with low S only, and the high-S twin of a valid
 * token (the same signature, S replaced by n - S) is refused. */
static void test_low_s(pt_keys *k)
{
    pt_token_claims c = base_claims();
    int twins = 0;
    for (int i = 0; i < 32; i++) {
        char *tok = NULL;
        snprintf(c.jti, sizeof c.jti, "jti-%d", i);
        CHECK(pt_token_sign(&tok, k, ISS, AUD, &c) == 0 && tok);
        if (!tok)
            continue;
        CHECK(verify(k, tok) == 0);
        CHECK(!set_s(tok, false)); /* already low */
        CHECK(set_s(tok, true));
        CHECK(verify(k, tok) == PT_EINVAL);
        twins++;
        free(tok);
    }
    CHECK(twins == 32);
}

/* Claims JSON with one field replaced (for tokens signed by our real key). */
static char *claims_json(const char *extra_key, json_t *extra_val)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:[s], s:[s]}", "iss", ISS,
                          "aud", AUD, "sub", "alice", "sid", "sid-1", "jti", "jti-1", "iat",
                          (json_int_t)NOW, "nbf", (json_int_t)NOW, "exp", (json_int_t)(NOW + 900),
                          "roles", "portal_admin", "amr", "pwd");
    if (extra_key) {
        if (extra_val)
            json_object_set_new(o, extra_key, extra_val);
        else
            json_object_del(o, extra_key);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int verify_es256_claims(pt_keys *k, const unsigned char *priv, size_t privlen,
                               const char *key, json_t *val)
{
    char *claims = claims_json(key, val);
    char *tok = libjwt_token(JWT_ALG_ES256, priv, privlen, claims);
    int rc = tok ? verify(k, tok) : 999;
    free(claims);
    free(tok);
    return rc;
}

static void test_round_trip(pt_keys *k)
{
    pt_token_claims c = base_claims(), out;
    char *tok = NULL;
    CHECK(pt_token_sign(&tok, k, ISS, AUD, &c) == 0 && tok);
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW + 1) == 0);
    CHECK(strcmp(out.sub, "alice") == 0);
    CHECK(strcmp(out.org, "demo-trust") == 0);
    CHECK(strcmp(out.sid, "sid-123") == 0);
    CHECK(strcmp(out.jti, "jti-456") == 0);
    CHECK(out.roles == (PT_ROLE_PORTAL_ADMIN | PT_ROLE_HR_ADMIN));
    CHECK(out.mfa);
    CHECK(out.exp == NOW + 900 && out.iat == NOW && out.nbf == NOW);

    /* header is {alg: ES256, typ: JWT, kid} */
    const char *dot = strchr(tok, '.');
    unsigned char hdr[512];
    size_t hl = 0;
    CHECK(sodium_base642bin(hdr, sizeof hdr - 1, tok, (size_t)(dot - tok), NULL, &hl, NULL,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
    hdr[hl] = 0;
    json_t *h = json_loads((char *)hdr, 0, NULL);
    CHECK(h && strcmp(json_string_value(json_object_get(h, "alg")), "ES256") == 0);
    CHECK(h && strcmp(json_string_value(json_object_get(h, "typ")), "JWT") == 0);
    CHECK(h && json_is_string(json_object_get(h, "kid")) &&
          strcmp(json_string_value(json_object_get(h, "kid")), kid) == 0);
    json_decref(h);

    /* expiry: now == exp is expired */
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW + 900) == PT_ECONFLICT);
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW + 100000) == PT_ECONFLICT);
    /* wrong iss / aud */
    CHECK(pt_token_verify(&out, k, "other", AUD, tok, NOW + 1) == PT_EINVAL);
    CHECK(pt_token_verify(&out, k, ISS, "other-api", tok, NOW + 1) == PT_EINVAL);
    /* nbf more than the skew in the future */
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW - 31) == PT_EINVAL);
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW - 29) == 0);

    /* no org, no mfa */
    c.org[0] = 0;
    c.mfa = false;
    c.roles = PT_ROLE_SYSTEM_ADMIN;
    free(tok);
    CHECK(pt_token_sign(&tok, k, ISS, AUD, &c) == 0);
    CHECK(pt_token_verify(&out, k, ISS, AUD, tok, NOW + 1) == 0);
    CHECK(out.org[0] == 0 && !out.mfa && out.roles == PT_ROLE_SYSTEM_ADMIN);

    /* many signatures: r or s with leading zero bytes must still verify */
    for (int i = 0; i < 300; i++) {
        char *t = NULL;
        snprintf(c.jti, sizeof c.jti, "j%d", i);
        CHECK(pt_token_sign(&t, k, ISS, AUD, &c) == 0);
        if (pt_token_verify(&out, k, ISS, AUD, t, NOW + 1) != 0) {
            fprintf(stderr, "round trip %d failed\n", i);
            failures++;
        }
        free(t);
    }

    /* tampered payload: same signature, sub changed */
    const char *d2 = strrchr(tok, '.');
    char *evil_claims = claims_json("sub", json_string("mallory"));
    char *ep = b64(evil_claims, strlen(evil_claims));
    size_t cap = strlen(tok) + strlen(ep) + 8;
    char *tampered = malloc(cap);
    snprintf(tampered, cap, "%.*s.%s%s", (int)(dot - tok), tok, ep, d2);
    CHECK(verify(k, tampered) == PT_EINVAL);
    free(tampered);
    free(ep);
    free(evil_claims);

    /* tampered signature: first signature character changed */
    char *t2 = strdup(tok);
    char *s = strrchr(t2, '.') + 1;
    s[0] = s[0] == 'A' ? 'B' : 'A';
    CHECK(verify(k, t2) == PT_EINVAL);
    /* truncated signature */
    t2[strlen(t2) - 2] = 0;
    CHECK(verify(k, t2) == PT_EINVAL);
    free(t2);
    free(tok);
}

static void test_forged(pt_keys *k)
{
    size_t publen = 0, privlen = 0;
    unsigned char *pub = slurp("jwt-public.pem", &publen);
    unsigned char *priv = slurp("jwt-private.pem", &privlen);
    CHECK(pub && priv);
    if (!pub || !priv)
        return;
    char *claims = claims_json(NULL, NULL);

    /* sanity: a libjwt ES256 token with our key verifies */
    char *good = libjwt_token(JWT_ALG_ES256, priv, privlen, claims);
    CHECK(good && verify(k, good) == 0);
    free(good);
    /* ... but not without a kid: every token names its key */
    good = libjwt_token_kid(JWT_ALG_ES256, priv, privlen, claims, false);
    CHECK(good && verify(k, good) == PT_EINVAL);
    free(good);

    /* algorithm confusion: HS256 keyed with the public key */
    char *hs = libjwt_token(JWT_ALG_HS256, pub, publen, claims);
    CHECK(hs && verify(k, hs) == PT_EINVAL);
    free(hs);

    /* alg none, with and without a trailing signature part */
    char *none = libjwt_token(JWT_ALG_NONE, NULL, 0, claims);
    CHECK(none && verify(k, none) == PT_EINVAL);
    free(none);
    const char *hn = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *h64 = b64(hn, strlen(hn)), *c64 = b64(claims, strlen(claims));
    char buf[4096];
    snprintf(buf, sizeof buf, "%s.%s.", h64, c64);
    CHECK(verify(k, buf) == PT_EINVAL);
    snprintf(buf, sizeof buf, "%s.%s", h64, c64);
    CHECK(verify(k, buf) == PT_EINVAL);
    free(h64);

    /* header says ES256 but the signature is 64 bytes of HMAC junk */
    char he[256];
    snprintf(he, sizeof he, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    h64 = b64(he, strlen(he));
    unsigned char junk[64] = {1, 2, 3};
    char *j64 = b64(junk, sizeof junk);
    snprintf(buf, sizeof buf, "%s.%s.%s", h64, c64, j64);
    CHECK(verify(k, buf) == PT_EINVAL);
    free(j64);
    free(h64);

    /* wrong typ, unknown or bad kid, crit header (each %s is our kid) */
    const char *bad_headers[] = {
        "{\"alg\":\"ES256\",\"typ\":\"JOSE+JSON\",\"kid\":\"%s\"}",
        "{\"alg\":\"ES256\",\"kid\":\"nope\"}",
        "{\"alg\":\"ES256\",\"kid\":\"\"}",
        "{\"alg\":\"ES256\",\"kid\":7}",
        "{\"alg\":\"ES256\",\"kid\":[\"%s\"]}",
        "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"kid\":\"%s\"}",
        "{\"alg\":\"es256\",\"kid\":\"%s\"}",
        "{\"alg\":\"ES384\",\"kid\":\"%s\"}",
        "{\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "[\"ES256\"]",
        "{\"alg\":\"ES256\",\"alg\":\"ES256\",\"kid\":\"%s\"}",
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        /* a bad header is refused before the signature is looked at */
        char hb[256];
        snprintf(hb, sizeof hb, bad_headers[i], kid);
        h64 = b64(hb, strlen(hb));
        snprintf(buf, sizeof buf, "%s.%s.%s", h64, c64, "AAAA");
        CHECK(verify(k, buf) == PT_EINVAL);
        free(h64);
    }
    free(c64);

    /* claims checked after a good signature */
    CHECK(verify_es256_claims(k, priv, privlen, "iss", json_string("evil")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "iss", NULL) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "aud", json_string("x")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "aud", json_pack("[s,s]", "x", AUD)) == 0);
    CHECK(verify_es256_claims(k, priv, privlen, "aud", json_pack("[s]", "x")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "aud", json_integer(1)) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "exp", NULL) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "exp", json_string("soon")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "exp", json_integer(NOW - 1)) == PT_ECONFLICT);
    CHECK(verify_es256_claims(k, priv, privlen, "exp", json_real(NOW + 60.5)) == 0);
    CHECK(verify_es256_claims(k, priv, privlen, "nbf", json_integer(NOW + 3600)) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "iat", json_integer(NOW + 3600)) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "nbf", NULL) == 0);
    CHECK(verify_es256_claims(k, priv, privlen, "sub", NULL) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "sub", json_integer(5)) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "sid", NULL) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "jti", NULL) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "roles", json_string("x")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "roles", json_pack("[i]", 1)) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "amr", json_string("otp")) == PT_EINVAL);
    CHECK(verify_es256_claims(k, priv, privlen, "org", json_integer(3)) == PT_EINVAL);
    char longsub[200];
    memset(longsub, 'a', sizeof longsub - 1);
    longsub[sizeof longsub - 1] = 0;
    CHECK(verify_es256_claims(k, priv, privlen, "sub", json_string(longsub)) == PT_EINVAL);

    /* a validly signed token over 8 KiB is refused unread */
    char *pad = malloc(9000);
    memset(pad, 'x', 8999);
    pad[8999] = 0;
    CHECK(verify_es256_claims(k, priv, privlen, "pad", json_string(pad)) == PT_EINVAL);
    free(pad);

    free(claims);
    free(pub);
    free(priv);
}

static void test_garbage(pt_keys *k)
{
    const char *bad[] = {"",
                         ".",
                         "..",
                         "...",
                         "a",
                         "a.b",
                         "a.b.c",
                         "a.b.c.d",
                         "!!!.@@@.###",
                         "eyJhbGciOiJFUzI1NiJ9..",
                         "eyJhbGciOiJFUzI1NiJ9.e30.",
                         ".e30.AAAA",
                         "eyJhbGciOiJFUzI1NiJ9=.e30.AAAA",
                         "eyJ.eyJ.eyJ",
                         "\xff\xfe.\x01.\x02"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(verify(k, bad[i]) == PT_EINVAL);
    CHECK(verify(k, NULL) == PT_EINVAL);
    char *big = malloc(PT_TOKEN_MAX_LEN + 100);
    memset(big, 'A', PT_TOKEN_MAX_LEN + 99);
    big[PT_TOKEN_MAX_LEN + 99] = 0;
    big[10] = '.';
    big[20] = '.';
    CHECK(verify(k, big) == PT_EINVAL);
    free(big);

    /* random bytes shaped like a token */
    for (int i = 0; i < 2000; i++) {
        unsigned char r[120];
        char t[400];
        randombytes_buf(r, sizeof r);
        char *p1 = b64(r, 1 + r[0] % 40), *p2 = b64(r + 40, 1 + r[1] % 40),
             *p3 = b64(r + 80, 1 + r[2] % 40);
        snprintf(t, sizeof t, "%s.%s.%s", p1, p2, p3);
        CHECK(verify(k, t) == PT_EINVAL);
        free(p1);
        free(p2);
        free(p3);
    }
}

/*
 * The JWKS lists every key of the set with what a client needs (the
 * imported key, which signs, and the next one); the key from the file is
 * the one that signs.
 */
static void test_jwks(pt_keys *k)
{
    json_t *jwks = pt_keys_jwks(k);
    json_t *keys = json_object_get(jwks, "keys");
    CHECK(json_array_size(keys) == 2);
    bool signing_listed = false;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *key = json_array_get(keys, i);
        CHECK(strcmp(json_string_value(json_object_get(key, "kty")), "EC") == 0);
        CHECK(strcmp(json_string_value(json_object_get(key, "crv")), "P-256") == 0);
        CHECK(strcmp(json_string_value(json_object_get(key, "alg")), "ES256") == 0);
        CHECK(strcmp(json_string_value(json_object_get(key, "use")), "sig") == 0);
        CHECK(json_object_get(key, "d") == NULL && json_object_size(key) == 7);
        const char *coords[] = {"x", "y"};
        for (int j = 0; j < 2; j++) {
            const char *v = json_string_value(json_object_get(key, coords[j]));
            unsigned char bin[64];
            size_t n = 0;
            CHECK(v &&
                  sodium_base642bin(bin, sizeof bin, v, strlen(v), NULL, &n, NULL,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                  n == 32);
        }
        const char *id = json_string_value(json_object_get(key, "kid"));
        CHECK(id && strlen(id) == 22);
        if (id && strcmp(id, kid) == 0)
            signing_listed = true;
    }
    CHECK(signing_listed);
    json_decref(jwks);
}

/* Writes a fresh P-256 key as jwt-private.pem/jwt-public.pem into d, as
 * porticod did before the store kept keys. */
static int write_pem_pair(const char *d)
{
    char path[512];
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    snprintf(path, sizeof path, "%s/jwt-private.pem", d);
    FILE *f = fopen(path, "w");
    int ok = pk && f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/jwt-public.pem", d);
    f = ok ? fopen(path, "w") : NULL;
    ok = f && PEM_write_PUBKEY(f, pk) == 1;
    if (f)
        fclose(f);
    EVP_PKEY_free(pk);
    return ok ? 0 : -1;
}

int main(void)
{
    pt_keys *k = NULL;
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    if (pt_crypto_init() < 0)
        return 1;
    snprintf(dir, sizeof dir, "/tmp/pt-token-test-XXXXXX");
    if (!mkdtemp(dir) || write_pem_pair(dir) != 0) {
        perror("setup");
        return 1;
    }
    if (pt_store_open(&st, dir, &opts) != 0 || pt_keys_open(&k, st, dir) != 0 ||
        pt_keys_current_kid(kid, sizeof kid, k) != 0) {
        fprintf(stderr, "pt_keys_open: %s\n", pt_error_last());
        return 1;
    }
    test_round_trip(k);
    test_low_s(k);
    test_forged(k);
    test_garbage(k);
    test_jwks(k);
    pt_keys_free(k);
    pt_store_close(st);

    if (check_rm_tree(dir) != 0)
        failures++;
    return check_finish("test_token");
}
