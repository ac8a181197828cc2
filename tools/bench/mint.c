/*
 * mint.c - signs JWT signing inputs with porticod's ES256 private key, for
 * the benchmark's never-seen-token scenario: each stdin line is
 * "base64url(header).base64url(payload)" and is printed back with
 * ".base64url(r||s)" appended.  The claims (a fresh jti on a real
 * session) are written by seed.py; this only does the ECDSA.
 *
 *   cc -O2 mint.c -o mint -lcrypto
 *   ./mint DATA_DIR/jwt-private.pem < inputs > tokens
 */
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = t[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = t[v & 63];
    }
    out[o] = 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mint PRIVATE_KEY_PEM < signing-inputs\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    EVP_PKEY *pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!pkey) {
        fprintf(stderr, "mint: cannot read %s\n", argv[1]);
        return 1;
    }
    /* The P-256 group order n and n/2. */
    BIGNUM *order = NULL, *half = BN_new();
    BN_hex2bn(&order, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    if (!order || !half || !BN_rshift1(half, order))
        return 1;
    static char line[16384];
    while (fgets(line, sizeof(line), stdin)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (!len)
            continue;
        unsigned char der[128], raw[64] = {0};
        size_t derlen = sizeof(der);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
            EVP_DigestSign(md, der, &derlen, (unsigned char *)line, len) != 1) {
            fprintf(stderr, "mint: signing failed\n");
            return 1;
        }
        EVP_MD_CTX_free(md);
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
        if (!sig)
            return 1;
        /* porticod accepts only low-S signatures (s <= n/2), as it issues:
         * a high s becomes n - s, the same signature's other form. */
        BIGNUM *s = BN_dup(ECDSA_SIG_get0_s(sig));
        if (!s || BN_cmp(s, half) > 0)
            BN_sub(s, order, s);
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
        BN_bn2binpad(s, raw + 32, 32);
        BN_free(s);
        ECDSA_SIG_free(sig);
        char enc[100];
        b64url(raw, 64, enc);
        printf("%s.%s\n", line, enc);
    }
    BN_free(order);
    BN_free(half);
    EVP_PKEY_free(pkey);
    return 0;
}
