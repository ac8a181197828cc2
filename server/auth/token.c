/*
 * token.c - access tokens (JWTs), signed and verified with the key set of
 * the ring (keyring.c).
 *
 * Signing goes through libjwt, with the current key.  Verification does
 * not: libjwt re-parses the PEM key on every call and decodes onto the
 * stack sized by the token, so the hot path (every authenticated request)
 * is done here by hand against the key the header's kid names, whose
 * public key and verify context were set up once when the set was read,
 * with the algorithm pinned to ES256.
 */
#include "auth/keys.h"
#include "base/crypto.h"
#include "base/log.h"
#include "http/json_parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

/* ---- small helpers ------------------------------------------------------ */

static void b64url(char *out, size_t outlen, const unsigned char *bin, size_t len)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * Strict base64url (no padding, no stray bits) of exactly len chars into a
 * fresh buffer; NULL on any bad input.
 */
static unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen)
{
    size_t cap = len / 4 * 3 + 3;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    if (sodium_base642bin(buf, cap, in, len, NULL, outlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(buf);
        return NULL;
    }
    buf[*outlen] = 0;
    return buf;
}

/* ---- low-S signatures ------------------------------------------------------ */

/*
 * An ECDSA signature (r, s) is equally valid as (r, n - s), so every token
 * has a twin with a different signature: a cache or a deny-list keyed by
 * the token text could be side-stepped with it.  Only the low form
 * (s <= n/2) is issued and accepted.  Big-endian 32-byte arithmetic.
 */
static const unsigned char p256_n[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
static const unsigned char p256_half_n[32] = {
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8};

static bool s_is_high(const unsigned char s[32])
{
    return memcmp(s, p256_half_n, 32) > 0;
}

/* s = n - s */
static void s_negate(unsigned char s[32])
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)p256_n[i] - (int)s[i] - borrow;
        borrow = d < 0;
        s[i] = (unsigned char)(d + (borrow ? 256 : 0));
    }
}

/* Rewrites the signature part of a compact ES256 token to its low-S form
 * in place (same length: 64 bytes encode to 86 characters either way). */
static int token_low_s(char *token)
{
    char *dot = strrchr(token, '.');
    size_t n = 0;
    unsigned char *sig = dot ? b64url_decode(dot + 1, strlen(dot + 1), &n) : NULL;
    if (!sig || n != 64) {
        free(sig);
        pt_error_set("unexpected signature from the signer");
        return PT_ERR;
    }
    if (s_is_high(sig + 32)) {
        char enc[96];
        s_negate(sig + 32);
        b64url(enc, sizeof enc, sig, 64);
        if (strlen(enc) != strlen(dot + 1)) {
            free(sig);
            return PT_ERR;
        }
        memcpy(dot + 1, enc, strlen(enc));
    }
    free(sig);
    return 0;
}

/* ---- signing ------------------------------------------------------------ */

/*
 * Sign-time cost (libjwt parses the private PEM each call) is paid once per
 * login or refresh, which already pays for Argon2 or a store write.
 */
int pt_token_sign(char **out, pt_keys *keys, const char *iss, const char *aud,
                  const pt_token_claims *c)
{
    jwt_t *jwt = NULL;
    pt_keyset *set = NULL;
    char *grants = NULL;
    json_t *extra = NULL;
    int err = PT_ERR;

    *out = NULL;
    if (!keys || !iss || !aud || !c || !c->sub[0] || !c->sid[0] || !c->jti[0]) {
        pt_error_set("incomplete token claims");
        return PT_EINVAL;
    }
    extra = json_pack("{s:o, s:[s]}", "roles", pt_roles_to_json(c->roles), "amr", "pwd");
    if (!extra)
        return PT_ENOMEM;
    if (c->mfa)
        json_array_append_new(json_object_get(extra, "amr"), json_string("otp"));
    grants = json_dumps(extra, JSON_COMPACT);
    json_decref(extra);
    if (!grants)
        return PT_ENOMEM;

    if (jwt_new(&jwt) != 0) {
        free(grants);
        return PT_ENOMEM;
    }
    set = pt_keys_acquire(keys);
    const pt_signing_key *k = set->current;
    if (jwt_set_alg(jwt, JWT_ALG_ES256, k->priv_pem, (int)k->priv_len) != 0 ||
        jwt_add_header(jwt, "kid", k->kid) != 0 || jwt_add_grant(jwt, "iss", iss) != 0 ||
        jwt_add_grant(jwt, "aud", aud) != 0 || jwt_add_grant(jwt, "sub", c->sub) != 0 ||
        (c->org[0] && jwt_add_grant(jwt, "org", c->org) != 0) ||
        jwt_add_grant(jwt, "sid", c->sid) != 0 || jwt_add_grant(jwt, "jti", c->jti) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
        jwt_add_grant_int(jwt, "nbf", (long)c->nbf) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0 || jwt_add_grants_json(jwt, grants) != 0) {
        pt_error_set("cannot build the access token");
        goto done;
    }
    *out = jwt_encode_str(jwt);
    if (!*out) {
        pt_error_set("cannot sign the access token");
        goto done;
    }
    if ((err = token_low_s(*out)) < 0) {
        free(*out);
        *out = NULL;
        goto done;
    }
done:
    pt_keyset_release(set);
    jwt_free(jwt);
    free(grants);
    return err;
}

/* ---- verification ------------------------------------------------------- */

/* JSON object from one base64url part, duplicates rejected; NULL if bad. */
static json_t *decode_json_part(const char *p, size_t len)
{
    size_t n = 0;
    unsigned char *raw = b64url_decode(p, len, &n);
    if (!raw)
        return NULL;
    json_t *j = pt_json_parse_untrusted((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/*
 * JWS ES256 signatures are raw r||s (RFC 7518 3.4); OpenSSL verifies DER.
 * The key's verify context was initialised once (EVP_DigestVerifyInit
 * fetches the algorithms and sets up the key, several microseconds); each
 * call works on a copy of it, which costs a fraction of that and leaves
 * the shared template untouched for the other threads.  FINALISE tells
 * OpenSSL that the copy is not reused, so it does not copy it again.
 */
static bool es256_verify(const pt_signing_key *key, const char *signed_part, size_t signed_len,
                         const unsigned char sig[64])
{
    bool ok = false;
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        goto done;
    }
    int dlen = i2d_ECDSA_SIG(es, &der);
    if (dlen <= 0)
        goto done;
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_MD_CTX_copy_ex(ctx, key->verify_tmpl) != 1)
        goto done;
    EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
    ok = EVP_DigestVerify(ctx, der, (size_t)dlen, (const unsigned char *)signed_part, signed_len) ==
         1;
done:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return ok;
}

/* A NumericDate claim: integer or finite real.  false if present and bad. */
static bool numeric_date(const json_t *claims, const char *name, bool *present, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    *present = v != NULL;
    *out = 0;
    if (!v)
        return true;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d < -9.2e18 || d > 9.2e18)
            return false;
        *out = (int64_t)floor(d);
        return true;
    }
    return false;
}

static bool copy_claim(char *dst, size_t n, const json_t *claims, const char *name, bool required)
{
    json_t *v = json_object_get(claims, name);
    dst[0] = 0;
    if (!v)
        return !required;
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) >= n || strlen(s) != json_string_length(v))
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

static bool audience_ok(const json_t *claims, const char *aud)
{
    json_t *v = json_object_get(claims, "aud");
    if (json_is_string(v))
        return strcmp(json_string_value(v), aud) == 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it)
        {
            if (json_is_string(it) && strcmp(json_string_value(it), aud) == 0)
                return true;
        }
    }
    return false;
}

/* The header's checks; *kid gets the kid it names (required: each key
 * of the set is looked up by it). */
static bool header_ok(const json_t *h, const json_t **kid)
{
    const char *alg = json_string_value(json_object_get(h, "alg"));
    if (!alg || strcmp(alg, "ES256") != 0)
        return false;
    json_t *typ = json_object_get(h, "typ");
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0))
        return false;
    *kid = json_object_get(h, "kid");
    if (!json_is_string(*kid) || json_string_length(*kid) == 0 ||
        json_string_length(*kid) >= PT_KID_LEN)
        return false;
    /* We implement no JWS extensions, so any "crit" must be refused. */
    if (json_object_get(h, "crit"))
        return false;
    return true;
}

static int claims_fill(pt_token_claims *out, const json_t *claims, const char *iss, const char *aud,
                       int64_t now)
{
    const char *tiss = json_string_value(json_object_get(claims, "iss"));
    if (!tiss || strcmp(tiss, iss) != 0 || !audience_ok(claims, aud))
        return PT_EINVAL;
    if (!copy_claim(out->sub, sizeof out->sub, claims, "sub", true) ||
        !copy_claim(out->sid, sizeof out->sid, claims, "sid", true) ||
        !copy_claim(out->jti, sizeof out->jti, claims, "jti", true) ||
        !copy_claim(out->org, sizeof out->org, claims, "org", false))
        return PT_EINVAL;

    bool has_exp, has_nbf, has_iat;
    if (!numeric_date(claims, "exp", &has_exp, &out->exp) || !has_exp ||
        !numeric_date(claims, "nbf", &has_nbf, &out->nbf) ||
        !numeric_date(claims, "iat", &has_iat, &out->iat))
        return PT_EINVAL;
    if ((has_nbf && out->nbf > now + PT_TOKEN_SKEW) || (has_iat && out->iat > now + PT_TOKEN_SKEW))
        return PT_EINVAL;

    json_t *roles = json_object_get(claims, "roles");
    if (roles && !json_is_array(roles))
        return PT_EINVAL;
    size_t i;
    json_t *it;
    json_array_foreach(roles, i, it)
    {
        if (!json_is_string(it))
            return PT_EINVAL;
        out->roles |= pt_role_from_name(json_string_value(it));
    }
    json_t *amr = json_object_get(claims, "amr");
    if (amr && !json_is_array(amr))
        return PT_EINVAL;
    json_array_foreach(amr, i, it)
    {
        if (!json_is_string(it))
            return PT_EINVAL;
        if (strcmp(json_string_value(it), "otp") == 0)
            out->mfa = true;
    }
    if (now >= out->exp)
        return PT_ECONFLICT;
    return 0;
}

/*
 * Order matters: length cap, shape, header (algorithm pinned), signature,
 * and only then the claims, so nothing from an unverified payload is
 * ever parsed.  Expiry is reported only for tokens that are otherwise good.
 */
int pt_token_verify(pt_token_claims *out, pt_keys *keys, const char *iss, const char *aud,
                    const char *token, int64_t now)
{
    json_t *hdr = NULL, *claims = NULL;
    const json_t *kid = NULL;
    pt_keyset *set = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int err = PT_EINVAL;

    memset(out, 0, sizeof *out);
    if (!keys || !iss || !aud || !token)
        goto bad;
    size_t len = strnlen(token, PT_TOKEN_MAX_LEN + 1);
    if (len == 0 || len > PT_TOKEN_MAX_LEN)
        goto bad;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        goto bad;
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        goto bad;

    if (!(hdr = decode_json_part(token, hlen)) || !header_ok(hdr, &kid))
        goto bad;
    if (!(sig = b64url_decode(d2 + 1, slen, &siglen)) || siglen != 64 || s_is_high(sig + 32))
        goto bad;
    /* A kid naming no key of the set means the token is not ours. */
    set = pt_keys_acquire(keys);
    const pt_signing_key *key =
        pt_keys_lookup(keys, &set, json_string_value(kid), json_string_length(kid));
    if (!key || !es256_verify(key, token, (size_t)(d2 - token), sig))
        goto bad;
    if (!(claims = decode_json_part(d1 + 1, plen)))
        goto bad;
    err = claims_fill(out, claims, iss, aud, now);
    if (err == PT_ECONFLICT)
        pt_error_set("token expired");
    else if (err < 0)
        goto bad;
    goto done;
bad:
    err = PT_EINVAL;
    pt_error_set("invalid token");
done:
    if (err != 0) {
        int64_t exp = out->exp;
        memset(out, 0, sizeof *out);
        out->exp = exp;
    }
    pt_keyset_release(set);
    json_decref(hdr);
    json_decref(claims);
    free(sig);
    return err;
}
