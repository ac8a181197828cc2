/*
 * cursor.c - sealing and opening list cursors (see cursor.h).
 */
#include "http/cursor.h"

#include <sodium.h>
#include <string.h>

#define MAC_LEN 16

static void cursor_mac(unsigned char mac[MAC_LEN], const unsigned char *secret,
                       const pt_cursor_scope *s, const void *key, size_t len)
{
    crypto_generichash_state st;
    unsigned char dir = s->reverse ? 1 : 0;
    uint64_t lens[3] = {strlen(s->org), strlen(s->list), s->prefix_len};
    crypto_generichash_init(&st, secret, PT_CURSOR_SECRET_LEN, MAC_LEN);
    /* Lengths first, so no two scopes hash the same bytes. */
    crypto_generichash_update(&st, (const unsigned char *)"portico-cursor-v1", 17);
    crypto_generichash_update(&st, (const unsigned char *)lens, sizeof(lens));
    crypto_generichash_update(&st, (const unsigned char *)s->org, lens[0]);
    crypto_generichash_update(&st, (const unsigned char *)s->list, lens[1]);
    crypto_generichash_update(&st, s->prefix, s->prefix_len);
    crypto_generichash_update(&st, &dir, 1);
    crypto_generichash_update(&st, key, len);
    crypto_generichash_final(&st, mac, MAC_LEN);
}

int pt_cursor_seal(json_t **out, const unsigned char secret[PT_CURSOR_SECRET_LEN],
                   const pt_cursor_scope *scope, const void *key, size_t len)
{
    unsigned char raw[PT_CURSOR_KEY_MAX + MAC_LEN];
    char text[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    *out = NULL;
    if (len > PT_CURSOR_KEY_MAX)
        return PT_EINVAL;
    memcpy(raw, key, len);
    cursor_mac(raw + len, secret, scope, key, len);
    sodium_bin2base64(text, sizeof(text), raw, len + MAC_LEN,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *out = json_string(text);
    return *out ? 0 : PT_ENOMEM;
}

int pt_cursor_open(void *key, size_t cap, size_t *len,
                   const unsigned char secret[PT_CURSOR_SECRET_LEN], const pt_cursor_scope *scope,
                   const char *text)
{
    unsigned char raw[PT_CURSOR_KEY_MAX + MAC_LEN], mac[MAC_LEN];
    size_t n = 0;
    *len = 0;
    if (!text || strlen(text) > sodium_base64_ENCODED_LEN(sizeof(raw),
                                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return PT_EINVAL;
    if (sodium_base642bin(raw, sizeof(raw), text, strlen(text), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n <= MAC_LEN || n - MAC_LEN > cap)
        return PT_EINVAL;
    n -= MAC_LEN;
    cursor_mac(mac, secret, scope, raw, n);
    if (sodium_memcmp(mac, raw + n, MAC_LEN) != 0)
        return PT_EINVAL;
    memcpy(key, raw, n);
    *len = n;
    return 0;
}

typedef struct secret_arg {
    unsigned char *secret;
    const char *key;
} secret_arg;

static int secret_txn(pt_txn *txn, void *arg)
{
    secret_arg *a = arg;
    pt_val v;
    int err = pt_txn_get(txn, PT_T_META, a->key, strlen(a->key), &v);
    if (err == 0 && v.len == PT_CURSOR_SECRET_LEN) {
        memcpy(a->secret, v.data, v.len);
        return 0;
    }
    if (err < 0 && err != PT_ENOTFOUND)
        return err;
    randombytes_buf(a->secret, PT_CURSOR_SECRET_LEN);
    return pt_txn_put(txn, PT_T_META, a->key, strlen(a->key), a->secret, PT_CURSOR_SECRET_LEN);
}

int pt_cursor_secret_load(unsigned char secret[PT_CURSOR_SECRET_LEN], pt_store *store,
                          const char *meta_key)
{
    secret_arg a = {secret, meta_key};
    return pt_store_write(store, secret_txn, &a);
}
