/*
 * session.c - refresh sessions and refresh-token rotation (see session.h).
 */
#include "auth/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SID_BYTES    16
#define SECRET_BYTES 32
#define HASH_HEX     (crypto_generichash_BYTES * 2 + 1)
#define PREV_KEEP    16 /* spent generations we can still recognise as reuse */

static void b64url(char *out, size_t outlen, const unsigned char *bin, size_t len)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void secret_hash(char out[HASH_HEX], const char *secret)
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_bin2hex(out, HASH_HEX, h, sizeof h);
}

static bool hash_equal(const char *a, const char *b)
{
    if (!a || !b || strlen(a) != HASH_HEX - 1 || strlen(b) != HASH_HEX - 1)
        return false;
    return sodium_memcmp(a, b, HASH_HEX - 1) == 0;
}

/* New secret, its hash, and the token text "<sid>.<gen>.<secret>". */
static int new_secret(char **out_refresh, char hash[HASH_HEX], const char *sid, uint64_t gen)
{
    unsigned char raw[SECRET_BYTES];
    char secret[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    b64url(secret, sizeof secret, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    secret_hash(hash, secret);
    size_t cap = strlen(sid) + strlen(secret) + 24;
    *out_refresh = malloc(cap);
    if (!*out_refresh) {
        sodium_memzero(secret, sizeof secret);
        return PT_ENOMEM;
    }
    snprintf(*out_refresh, cap, "%s.%llu.%s", sid, (unsigned long long)gen, secret);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

static int64_t jint(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void session_from_json(pt_session *s, const json_t *j)
{
    memset(s, 0, sizeof *s);
    pt_strlcpy(s->sid, jstr(j, "sid"), sizeof s->sid);
    pt_strlcpy(s->username, jstr(j, "username"), sizeof s->username);
    pt_strlcpy(s->org, jstr(j, "org"), sizeof s->org);
    s->mfa = json_is_true(json_object_get(j, "mfa"));
    s->generation = (uint64_t)jint(j, "generation");
    s->created_at = jint(j, "created_at");
    s->expires_at = jint(j, "expires_at");
    s->revoked = json_is_true(json_object_get(j, "revoked"));
}

int pt_session_create(char **out_refresh, char out_sid[PT_SID_MAX], pt_txn *txn,
                      const char *username, const char *org, bool mfa, int64_t now, int64_t ttl)
{
    unsigned char raw[SID_BYTES];
    char sid[PT_SID_MAX], hash[HASH_HEX];
    int err;

    *out_refresh = NULL;
    out_sid[0] = 0;
    if (!username || !*username || ttl <= 0) {
        pt_error_set("bad session parameters");
        return PT_EINVAL;
    }
    randombytes_buf(raw, sizeof raw);
    b64url(sid, sizeof sid, raw, sizeof raw);
    if ((err = new_secret(out_refresh, hash, sid, 1)) < 0)
        return err;

    json_t *rec =
        json_pack("{s:s, s:s, s:s?, s:b, s:I, s:s, s:[], s:I, s:I, s:b}", "sid", sid, "username",
                  username, "org", (org && *org) ? org : NULL, "mfa", mfa, "generation",
                  (json_int_t)1, "secret_hash", hash, "prev_hashes", "created_at", (json_int_t)now,
                  "expires_at", (json_int_t)(now + ttl), "revoked", 0);
    if (!rec) {
        err = PT_ENOMEM;
        goto fail;
    }
    char *txt = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (!txt) {
        err = PT_ENOMEM;
        goto fail;
    }
    err = pt_txn_insert(txn, PT_T_SESSIONS, sid, strlen(sid), txt, strlen(txt));
    free(txt);
    if (err < 0)
        goto fail;
    memcpy(out_sid, sid, strlen(sid) + 1);
    return 0;
fail:
    free(*out_refresh);
    *out_refresh = NULL;
    return err;
}

/* Splits "<sid>.<gen>.<secret>"; false on any malformed part. */
static bool parse_refresh(const char *tok, char sid[PT_SID_MAX], uint64_t *gen, const char **secret)
{
    size_t len = strnlen(tok, PT_REFRESH_MAX + 1);
    if (len == 0 || len > PT_REFRESH_MAX)
        return false;
    const char *d1 = strchr(tok, '.');
    if (!d1 || d1 == tok || (size_t)(d1 - tok) >= PT_SID_MAX)
        return false;
    const char *d2 = strchr(d1 + 1, '.');
    if (!d2 || d2 == d1 + 1 || d2 - d1 - 1 > 20 || strchr(d2 + 1, '.') || !d2[1])
        return false;
    for (const char *p = tok; p < d1; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    if (d1[1] == '0')
        return false;
    uint64_t g = 0;
    for (const char *p = d1 + 1; p < d2; p++) {
        if (*p < '0' || *p > '9' || g > (UINT64_MAX - 9) / 10)
            return false;
        g = g * 10 + (uint64_t)(*p - '0');
    }
    memcpy(sid, tok, (size_t)(d1 - tok));
    sid[d1 - tok] = 0;
    *gen = g;
    *secret = d2 + 1;
    return true;
}

static int mark_revoked(pt_txn *txn, const char *sid, json_t *rec)
{
    if (json_object_set_new(rec, "revoked", json_true()) < 0)
        return PT_ENOMEM;
    return pt_txn_put_json(txn, PT_T_SESSIONS, sid, strlen(sid), rec);
}

/*
 * Reuse is only declared when the presented secret really is the spent
 * secret of that generation: the sid alone travels inside every access
 * token, and must not be enough for a third party to kill a session.
 */
int pt_session_rotate(char **out_refresh, pt_session *out, pt_txn *txn, const char *refresh,
                      int64_t now)
{
    char sid[PT_SID_MAX], hash[HASH_HEX], next_hash[HASH_HEX];
    const char *secret = NULL;
    uint64_t gen = 0;
    json_t *rec = NULL;
    int err;

    *out_refresh = NULL;
    memset(out, 0, sizeof *out);
    if (!refresh || !parse_refresh(refresh, sid, &gen, &secret))
        goto invalid;
    if (pt_txn_get_json(txn, PT_T_SESSIONS, sid, strlen(sid), &rec) < 0 || !json_is_object(rec))
        goto invalid;
    pt_session s;
    session_from_json(&s, rec);
    if (s.revoked || now >= s.expires_at)
        goto invalid;
    secret_hash(hash, secret);

    if (gen < s.generation) {
        json_t *prev = json_object_get(rec, "prev_hashes");
        uint64_t idx = s.generation - gen - 1;
        if (idx >= json_array_size(prev) ||
            !hash_equal(json_string_value(json_array_get(prev, (size_t)idx)), hash))
            goto invalid;
        if ((err = mark_revoked(txn, sid, rec)) < 0)
            goto fail;
        json_decref(rec);
        pt_error_set("reuse");
        return PT_EDENIED;
    }
    if (gen != s.generation ||
        !hash_equal(json_string_value(json_object_get(rec, "secret_hash")), hash))
        goto invalid;

    /* Spend it: the old hash moves to the front of prev_hashes. */
    json_t *prev = json_object_get(rec, "prev_hashes");
    if (!json_is_array(prev)) {
        prev = json_array();
        json_object_set_new(rec, "prev_hashes", prev);
    }
    if (!prev || json_array_insert_new(prev, 0, json_string(hash)) < 0) {
        err = PT_ENOMEM;
        goto fail;
    }
    while (json_array_size(prev) > PREV_KEEP)
        json_array_remove(prev, json_array_size(prev) - 1);
    if ((err = new_secret(out_refresh, next_hash, sid, gen + 1)) < 0)
        goto fail;
    if (json_object_set_new(rec, "generation", json_integer((json_int_t)(gen + 1))) < 0 ||
        json_object_set_new(rec, "secret_hash", json_string(next_hash)) < 0) {
        err = PT_ENOMEM;
        goto fail;
    }
    if ((err = pt_txn_put_json(txn, PT_T_SESSIONS, sid, strlen(sid), rec)) < 0)
        goto fail;
    s.generation = gen + 1;
    *out = s;
    json_decref(rec);
    return 0;

invalid:
    err = PT_EINVAL;
    pt_error_set("unknown or spent refresh token");
fail:
    json_decref(rec);
    free(*out_refresh);
    *out_refresh = NULL;
    return err;
}

int pt_session_revoke(pt_txn *txn, const char *sid)
{
    json_t *rec = NULL;
    if (!sid || !*sid)
        return PT_ENOTFOUND;
    int err = pt_txn_get_json(txn, PT_T_SESSIONS, sid, strlen(sid), &rec);
    if (err < 0)
        return err;
    err = mark_revoked(txn, sid, rec);
    json_decref(rec);
    return err;
}

int pt_session_get(pt_session *out, pt_txn *txn, const char *sid)
{
    json_t *rec = NULL;
    memset(out, 0, sizeof *out);
    if (!sid || !*sid || strlen(sid) >= PT_SID_MAX)
        return PT_ENOTFOUND;
    int err = pt_txn_get_json(txn, PT_T_SESSIONS, sid, strlen(sid), &rec);
    if (err < 0)
        return err;
    if (!json_is_object(rec)) {
        json_decref(rec);
        return PT_ENOTFOUND;
    }
    session_from_json(out, rec);
    json_decref(rec);
    return 0;
}

int pt_session_live(pt_txn *txn, const char *sid, int64_t now)
{
    pt_session s;
    int err = pt_session_get(&s, txn, sid);
    if (err < 0)
        return err == PT_ENOTFOUND ? PT_ENOTFOUND : err;
    if (s.revoked || now >= s.expires_at) {
        pt_error_set("session ended");
        return PT_ENOTFOUND;
    }
    return 0;
}

typedef struct prune_ctx {
    int64_t now;
    unsigned max;     /* most sessions to delete */
    unsigned examine; /* most records to look at; 0 = no limit */
    unsigned seen;
    const char *stop; /* stop at the first key >= stop (NULL: none) */
    size_t stop_len;
    unsigned n;
    char (*keys)[PT_SID_MAX];
} prune_ctx;

static int key_cmp(const pt_val *key, const char *b, size_t blen)
{
    size_t n = key->len < blen ? key->len : blen;
    int c = memcmp(key->data, b, n);
    if (c)
        return c;
    return key->len < blen ? -1 : key->len > blen;
}

static int prune_cb(const pt_val *key, const pt_val *val, void *vctx)
{
    prune_ctx *c = vctx;
    if (c->stop && key_cmp(key, c->stop, c->stop_len) >= 0)
        return PT_ESTOP;
    if (c->examine && c->seen >= c->examine)
        return PT_ESTOP;
    c->seen++;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    bool dead = !rec || jint(rec, "expires_at") <= c->now;
    json_decref(rec);
    if (dead && key->len < PT_SID_MAX) {
        memcpy(c->keys[c->n], key->data, key->len);
        c->keys[c->n][key->len] = 0;
        if (++c->n >= c->max)
            return PT_ESTOP;
    }
    return 0;
}

/* Deletes the keys a scan collected. */
static int prune_delete(pt_txn *txn, prune_ctx *c, unsigned *deleted)
{
    for (unsigned i = 0; i < c->n; i++) {
        int e = pt_txn_del(txn, PT_T_SESSIONS, c->keys[i], strlen(c->keys[i]));
        if (e < 0 && e != PT_ENOTFOUND)
            return e;
    }
    *deleted = c->n;
    return 0;
}

int pt_session_prune(pt_txn *txn, int64_t now, unsigned max, unsigned *deleted)
{
    prune_ctx c = {.now = now, .max = max};
    *deleted = 0;
    if (max == 0)
        return 0;
    c.keys = calloc(max, sizeof *c.keys);
    if (!c.keys)
        return PT_ENOMEM;
    int err = pt_txn_scan(txn, PT_T_SESSIONS, "", 0, NULL, 0, false, prune_cb, &c);
    if (err == 0)
        err = prune_delete(txn, &c, deleted);
    free(c.keys);
    return err;
}

/*
 * Session ids are random, so a scan that starts at a random key and wraps
 * round looks at a fair sample of the table.  Bounding the records looked
 * at (not only those deleted) keeps the cost of each call fixed however
 * many live sessions there are, which matters inside a login's write
 * transaction; called on every login it still deletes expired sessions
 * faster than they build up.
 */
int pt_session_prune_some(pt_txn *txn, int64_t now, unsigned max, unsigned examine,
                          unsigned *deleted)
{
    unsigned char raw[SID_BYTES];
    char start[PT_SID_MAX];
    prune_ctx c = {.now = now, .max = max, .examine = examine};

    *deleted = 0;
    if (max == 0 || examine == 0)
        return 0;
    c.keys = calloc(max, sizeof *c.keys);
    if (!c.keys)
        return PT_ENOMEM;
    randombytes_buf(raw, sizeof raw);
    b64url(start, sizeof start, raw, sizeof raw);
    int err = pt_txn_scan(txn, PT_T_SESSIONS, "", 0, start, strlen(start), false, prune_cb, &c);
    if (err == 0 && c.n < c.max && c.seen < c.examine) {
        /* wrap round to the beginning, up to where the first part began */
        c.stop = start;
        c.stop_len = strlen(start);
        err = pt_txn_scan(txn, PT_T_SESSIONS, "", 0, NULL, 0, false, prune_cb, &c);
    }
    if (err == 0)
        err = prune_delete(txn, &c, deleted);
    free(c.keys);
    return err;
}
