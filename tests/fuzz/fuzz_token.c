/*
 * fuzz_token.c - access-token verification and untrusted JSON parsing.
 *
 * A random token almost never gets past the signature, so the first byte
 * picks a mode: raw bytes as the Authorization token, or "header\nclaims"
 * JSON texts that are base64url-encoded and signed here with the real key
 * (a header that is a JSON object gets the key's kid put in), so the claim
 * checks behind the signature are reached too.  Both modes
 * also feed the bytes to pt_json_parse_untrusted and check that nothing it
 * accepts nests deeper than PT_JSON_MAX_DEPTH.
 */
#include "auth/auth.h"
#include "http/json_parse.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ISS "portico"
#define AUD "portico-api"
#define NOW 1800000000

static pt_keys *keys;
static pt_store *store;
static EVP_PKEY *priv;
static char kid[64];
static char dir[] = "/tmp/pt_fuzz_token_XXXXXX";

static void cleanup(void)
{
    const char *names[] = {"jwt-private.pem", "data.mdb", "lock.mdb"};
    char path[128];
    pt_keys_free(keys);
    pt_store_close(store);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[128];
    pt_store_options so = PT_STORE_OPTIONS_INIT;
    priv = EVP_EC_gen("P-256");
    if (!priv || !mkdtemp(dir))
        abort();
    /* the key is imported from the file, as an older installation's is */
    snprintf(path, sizeof path, "%s/jwt-private.pem", dir);
    FILE *f = fopen(path, "w");
    if (!f || PEM_write_PrivateKey(f, priv, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    fclose(f);
    if (pt_store_open(&store, dir, &so) != 0 || pt_keys_open(&keys, store, dir) != 0 ||
        pt_keys_current_kid(kid, sizeof kid, keys) != 0) {
        fprintf(stderr, "fuzz_token: setup failed: %s\n", pt_error_last());
        abort();
    }
    atexit(cleanup);
    return 0;
}

static int depth_of(const json_t *v)
{
    int d = 0, sub;
    size_t i;
    const char *k;
    json_t *it;
    if (json_is_array(v)) {
        json_array_foreach(v, i, it)
        {
            if ((sub = depth_of(it)) > d)
                d = sub;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, it)
        {
            if ((sub = depth_of(it)) > d)
                d = sub;
        }
        return d + 1;
    }
    return 0;
}

static void check_json(const uint8_t *data, size_t size)
{
    json_error_t e;
    size_t flags = (size && (data[0] & 1)) ? JSON_DECODE_ANY : 0;
    json_t *j = pt_json_parse_untrusted((const char *)data, size, flags, &e);
    if (j && depth_of(j) > PT_JSON_MAX_DEPTH) {
        fprintf(stderr, "accepted JSON nested %d deep\n", depth_of(j));
        abort();
    }
    json_decref(j);
}

/* Appends base64url(data) to out at *o. */
static void put_b64(char *out, size_t *o, const void *data, size_t len)
{
    sodium_bin2base64(out + *o, sodium_base64_ENCODED_LEN(len, 7), data, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *o += strlen(out + *o);
}

/* Builds header.claims.sig signed with the real key; NULL if too long. */
static char *sign_token(const char *hdr, size_t hlen, const char *claims, size_t clen)
{
    size_t cap = (hlen + clen) * 4 / 3 + 200;
    char *tok = malloc(cap);
    size_t o = 0;
    put_b64(tok, &o, hdr, hlen);
    tok[o++] = '.';
    put_b64(tok, &o, claims, clen);

    unsigned char der[80], raw[64];
    size_t dlen = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, priv) != 1 ||
        EVP_DigestSign(ctx, der, &dlen, (unsigned char *)tok, o) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    if (!sig || BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) != 32)
        abort();
    ECDSA_SIG_free(sig);
    tok[o++] = '.';
    put_b64(tok, &o, raw, 64);
    return tok;
}

static void check_claims(int err, const pt_token_claims *c)
{
    if (err == 0 && (!c->sub[0] || !c->sid[0] || !c->jti[0] || c->exp <= NOW))
        abort(); /* accepted without its required claims */
    if (err != 0 && err != PT_EINVAL && err != PT_ECONFLICT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    check_json(data, size);

    pt_token_claims c;
    if (mode & 1) {
        const char *nl = memchr(data, '\n', size);
        if (!nl || size > 16384)
            return 0;
        size_t hlen = (size_t)((const uint8_t *)nl - data);
        json_t *h = json_loadb((const char *)data, hlen, 0, NULL);
        char *htext = NULL;
        if (json_is_object(h)) {
            json_object_set_new(h, "kid", json_string(kid));
            htext = json_dumps(h, JSON_COMPACT);
        }
        json_decref(h);
        char *tok = htext ? sign_token(htext, strlen(htext), nl + 1, size - hlen - 1)
                          : sign_token((const char *)data, hlen, nl + 1, size - hlen - 1);
        free(htext);
        int err = pt_token_verify(&c, keys, ISS, AUD, tok, NOW);
        check_claims(err, &c);
        free(tok);
        return 0;
    }
    char *tok = malloc(size + 1);
    memcpy(tok, data, size);
    tok[size] = '\0';
    int err = pt_token_verify(&c, keys, ISS, AUD, tok, NOW);
    check_claims(err, &c);
    free(tok);
    return 0;
}
