/*
 * forge_token - prints a JWT for the integration tests, including ones the
 * server must refuse:
 *
 *   forge_token --key PEM_FILE --alg ES256|HS256|none --claims JSON [--header JSON]
 *
 * ES256 signs with the private key in PEM_FILE; HS256 uses the file's bytes
 * as the HMAC secret (pass the server's PUBLIC key to forge the algorithm
 * confusion attack); none prints "header.payload.".  Without --header,
 * libjwt builds the token; with --header (or alg none) the token is built
 * by hand so the header can say anything the test wants.
 */
#include "base/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sodium.h>

static int usage(void)
{
    fprintf(stderr, "usage: forge_token --key PEM_FILE --alg ES256|HS256|none --claims JSON "
                    "[--header JSON]\n");
    return 2;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(65536);
    *len = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf)
        buf[*len] = 0;
    return buf;
}

static char *b64url(const void *data, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* Compact JSON text of a JSON argument (validates it). */
static char *compact(const char *json)
{
    json_error_t e;
    json_t *j = json_loads(json, 0, &e);
    if (!j) {
        fprintf(stderr, "forge_token: bad JSON: %s\n", e.text);
        return NULL;
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static int sign_es256(unsigned char out[64], const unsigned char *pem, size_t pemlen,
                      const char *msg)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pemlen);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!k)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t dlen = sizeof der;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    if (!ok)
        return -1;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    if (!sig)
        return -1;
    ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

static char *by_hand(const char *alg, const char *header, const char *claims,
                     const unsigned char *key, size_t keylen)
{
    char defhdr[128];
    if (!header) {
        snprintf(defhdr, sizeof defhdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
        header = defhdr;
    }
    char *h = b64url(header, strlen(header)), *c = b64url(claims, strlen(claims));
    size_t cap = strlen(h) + strlen(c) + 200;
    char *tok = malloc(cap);
    snprintf(tok, cap, "%s.%s", h, c);
    free(h);
    free(c);

    unsigned char sig[64];
    unsigned int siglen = 0;
    if (strcmp(alg, "ES256") == 0) {
        if (sign_es256(sig, key, keylen, tok) != 0) {
            fprintf(stderr, "forge_token: cannot sign with that key\n");
            free(tok);
            return NULL;
        }
        siglen = 64;
    } else if (strcmp(alg, "HS256") == 0) {
        HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)tok, strlen(tok), sig, &siglen);
    }
    char *s = siglen ? b64url(sig, siglen) : strdup("");
    strcat(tok, ".");
    strcat(tok, s);
    free(s);
    return tok;
}

/*
 * Porticod issues and accepts only low-S ECDSA signatures (s <= n/2), so a
 * forged token is brought to that form too, the way a careful signer
 * would: otherwise half of them would be refused for their S alone.
 */
static void low_s(char *tok)
{
    char *dot = strrchr(tok, '.');
    unsigned char sig[80];
    size_t n = 0;
    if (!dot ||
        sodium_base642bin(sig, sizeof sig, dot + 1, strlen(dot + 1), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != 64)
        return;
    BIGNUM *order = NULL, *half = BN_new(), *sv = BN_bin2bn(sig + 32, 32, NULL);
    BN_hex2bn(&order, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    if (order && half && sv && BN_rshift1(half, order) && BN_cmp(sv, half) > 0 &&
        BN_sub(sv, order, sv) && BN_bn2binpad(sv, sig + 32, 32) == 32) {
        char *enc = b64url((const char *)sig, 64);
        if (enc && strlen(enc) == strlen(dot + 1))
            memcpy(dot + 1, enc, strlen(enc));
        free(enc);
    }
    BN_free(order);
    BN_free(half);
    BN_free(sv);
}

static char *with_libjwt(const char *alg, const char *claims, const unsigned char *key,
                         size_t keylen)
{
    jwt_t *jwt = NULL;
    char *tok = NULL;
    jwt_alg_t a = strcmp(alg, "ES256") == 0 ? JWT_ALG_ES256 : JWT_ALG_HS256;
    if (jwt_new(&jwt) == 0 && jwt_set_alg(jwt, a, key, (int)keylen) == 0 &&
        jwt_add_grants_json(jwt, claims) == 0)
        tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    return tok;
}

int main(int argc, char **argv)
{
    const char *keyfile = NULL, *alg = NULL, *claims_arg = NULL, *header_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--key") == 0)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--alg") == 0)
            alg = argv[++i];
        else if (strcmp(argv[i], "--claims") == 0)
            claims_arg = argv[++i];
        else if (strcmp(argv[i], "--header") == 0)
            header_arg = argv[++i];
        else
            return usage();
    }
    if (!alg || !claims_arg ||
        (strcmp(alg, "ES256") != 0 && strcmp(alg, "HS256") != 0 && strcmp(alg, "none") != 0))
        return usage();
    if (pt_crypto_init() < 0)
        return 1;

    size_t keylen = 0;
    unsigned char *key = NULL;
    if (strcmp(alg, "none") != 0) {
        if (!keyfile || !(key = slurp(keyfile, &keylen)) || keylen == 0) {
            fprintf(stderr, "forge_token: cannot read key file\n");
            free(key);
            return 1;
        }
    }
    char *claims = compact(claims_arg);
    char *header = header_arg ? compact(header_arg) : NULL;
    if (!claims || (header_arg && !header)) {
        free(claims);
        free(header);
        free(key);
        return 1;
    }

    char *tok = NULL;
    if (!header && strcmp(alg, "none") != 0)
        tok = with_libjwt(alg, claims, key, keylen);
    if (!tok)
        tok = by_hand(alg, header, claims, key, keylen);
    if (tok && strcmp(alg, "ES256") == 0)
        low_s(tok);
    int rc = 1;
    if (tok) {
        printf("%s\n", tok);
        rc = 0;
    }
    free(tok);
    free(claims);
    free(header);
    free(key);
    return rc;
}
