/*
 * totp.c - RFC 6238 one-time passwords (HMAC-SHA1, 30 s steps, 6 digits)
 * via liboath, the parameters every authenticator app defaults to.
 */
#include "auth/auth.h"
#include "base/crypto.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#define TOTP_STEP         30
#define TOTP_DIGITS       6
#define TOTP_SECRET_BYTES 20

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ok;

static void oath_start(void)
{
    oath_ok = oath_init() == OATH_OK && pt_crypto_init() == 0;
}

int pt_totp_new_secret(char out[64])
{
    unsigned char raw[TOTP_SECRET_BYTES];
    char *b32 = NULL;
    size_t n = 0;

    pthread_once(&oath_once, oath_start);
    out[0] = 0;
    if (!oath_ok)
        return PT_ERR;
    randombytes_buf(raw, sizeof raw);
    int rc = oath_base32_encode((const char *)raw, sizeof raw, &b32, &n);
    sodium_memzero(raw, sizeof raw);
    if (rc != OATH_OK || !b32)
        return PT_ENOMEM;
    while (n > 0 && b32[n - 1] == '=')
        n--;
    int err = 0;
    if (n >= 64)
        err = PT_ERR;
    else {
        memcpy(out, b32, n);
        out[n] = 0;
    }
    sodium_memzero(b32, strlen(b32));
    free(b32);
    return err;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static void url_encode(char *dst, const char *src)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *dst++ = (char)*p;
        } else {
            *dst++ = '%';
            *dst++ = hex[*p >> 4];
            *dst++ = hex[*p & 15];
        }
    }
    *dst = 0;
}

char *pt_totp_uri(const char *issuer, const char *username, const char *secret_b32)
{
    if (!issuer || !username || !secret_b32)
        return NULL;
    size_t il = strlen(issuer), ul = strlen(username), sl = strlen(secret_b32);
    if (il > 256 || ul > 256 || sl > 128)
        return NULL;
    char ei[3 * 256 + 1], eu[3 * 256 + 1], es[3 * 128 + 1];
    url_encode(ei, issuer);
    url_encode(eu, username);
    url_encode(es, secret_b32);
    size_t cap = strlen(ei) * 2 + strlen(eu) + strlen(es) + 128;
    char *uri = malloc(cap);
    if (!uri)
        return NULL;
    snprintf(uri, cap,
             "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", ei, eu,
             es, ei, TOTP_DIGITS, TOTP_STEP);
    return uri;
}

/*
 * Every step in the window is computed and compared in constant time, with
 * no early exit, so timing says nothing about which step (if any) matched.
 * Steps at or before last_step are refused so a seen code cannot be
 * replayed; when the code matches more than one step of the window, the
 * latest is taken, so recording it also rules out the others.
 */
bool pt_totp_check(int64_t *out_step, const char *secret_b32, const char *otp, int64_t now,
                   int64_t last_step)
{
    char *key = NULL;
    size_t keylen = 0;

    if (out_step)
        *out_step = 0;
    pthread_once(&oath_once, oath_start);
    if (!oath_ok || !secret_b32 || !*secret_b32 || !otp || now < TOTP_STEP)
        return false;
    if (strlen(otp) != TOTP_DIGITS)
        return false;
    for (int i = 0; i < TOTP_DIGITS; i++)
        if (otp[i] < '0' || otp[i] > '9')
            return false;
    if (strlen(secret_b32) > 128 ||
        oath_base32_decode(secret_b32, strlen(secret_b32), &key, &keylen) != OATH_OK || !key)
        return false;
    if (keylen == 0) {
        free(key);
        return false;
    }

    int64_t matched = 0;
    for (int d = -1; d <= 1; d++) {
        char code[TOTP_DIGITS + 1];
        int64_t step = now / TOTP_STEP + d;
        if (oath_totp_generate(key, keylen, (time_t)(step * TOTP_STEP), TOTP_STEP, 0, TOTP_DIGITS,
                               code) != OATH_OK)
            continue;
        int hit = (sodium_memcmp(code, otp, TOTP_DIGITS) == 0) & (step > last_step);
        int64_t mask = -(int64_t)hit;
        matched = (matched & ~mask) | (step & mask);
        sodium_memzero(code, sizeof code);
    }
    sodium_memzero(key, keylen);
    free(key);
    if (matched == 0)
        return false;
    if (out_step)
        *out_step = matched;
    return true;
}
