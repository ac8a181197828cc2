/*
 * keys_store.c - the signing key set as one record in the store
 * (PT_T_META, PT_KEYS_META_KEY; format in keys.h): creating it on first
 * start, rotating it, listing it.
 *
 * One record for the whole set, changed only in write transactions that
 * read it first, makes every change atomic on both backends: LMDB has one
 * writer at a time and PostgreSQL runs writes SERIALIZABLE, so two nodes
 * starting together, or two rotations at once, cannot both win.  Key
 * generation happens before the transaction, because a write callback may
 * run more than once.
 *
 * The private keys are stored as plain PEM: the store has no secret to
 * encrypt them with that is not itself in the store or the data
 * directory, so the store must be protected like the data directory.
 */
#include "auth/keys.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

int pt_keys_record_get(json_t **out, pt_txn *txn)
{
    pt_val v;
    *out = NULL;
    int err = pt_txn_get(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), &v);
    if (err < 0)
        return err;
    *out = json_loadb(v.data, v.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        pt_error_set("the stored signing key set is not a JSON object");
        return PT_EINVAL;
    }
    return 0;
}

static int record_get_txn(pt_txn *txn, void *ctx)
{
    return pt_keys_record_get(ctx, txn);
}

int pt_keys_record_read(json_t **out, pt_store *store)
{
    *out = NULL;
    return pt_store_read(store, record_get_txn, out);
}

/* Zeroes the PEM strings of a record before it is freed. */
static void record_free(json_t *record)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(record, "keys"), i, k)
    {
        json_t *pem = json_object_get(k, "private_pem");
        if (json_is_string(pem))
            OPENSSL_cleanse((void *)json_string_value(pem), json_string_length(pem));
    }
    json_decref(record);
}

static json_t *key_entry(const char *pem, size_t len, pt_key_state state, int64_t now)
{
    char kid[PT_KID_LEN];
    if (pt_signing_key_kid(kid, pem, len) < 0)
        return NULL;
    json_t *e = json_pack("{s:s, s:s, s:I, s:s%}", "kid", kid, "state", pt_key_state_name(state),
                          "created_at", (json_int_t)now, "private_pem", pem, len);
    if (e && state == PT_KEY_CURRENT)
        json_object_set_new(e, "activated_at", json_integer(now));
    return e;
}

static json_t *fresh_entry(pt_key_state state, int64_t now)
{
    char *pem = NULL;
    size_t len = 0;
    if (pt_signing_key_generate(&pem, &len) < 0)
        return NULL;
    json_t *e = key_entry(pem, len, state, now);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return e;
}

/*
 * The key of an installation from before the store kept keys, so the
 * tokens it issued stay valid.  A missing file is no error; an unreadable
 * or malformed one is (it was meant to be the key).
 */
static int import_file(json_t **out, const char *data_dir, int64_t now, bool importing)
{
    char path[1200];
    *out = NULL;
    if (!data_dir)
        return 0;
    if (snprintf(path, sizeof path, "%s/%s", data_dir, PT_KEYS_PRIVATE_PEM_FILE) >=
        (int)sizeof path) {
        pt_error_set("data directory path too long");
        return PT_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        pt_error_set("%s: %s", path, strerror(errno));
        return PT_EIO;
    }
    char buf[PT_KEYS_PEM_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    int bad = ferror(f) || n == 0 || n > PT_KEYS_PEM_MAX;
    fclose(f);
    if (!bad)
        *out = key_entry(buf, n, PT_KEY_CURRENT, now);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!*out) {
        pt_error_set("%s: not a P-256 private key (or unreadable)", path);
        return PT_EINVAL;
    }
    if (importing)
        pt_log_info("auth", "importing the signing key %s from %s into the store",
                    json_string_value(json_object_get(*out, "kid")), path);
    return 0;
}

typedef struct put_ctx {
    const json_t *record;
} put_ctx;

static int insert_txn(pt_txn *txn, void *vctx)
{
    put_ctx *c = vctx;
    char *text = json_dumps(c->record, JSON_COMPACT);
    if (!text)
        return PT_ENOMEM;
    size_t len = strlen(text);
    int err = pt_txn_insert(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), text, len);
    OPENSSL_cleanse(text, len);
    free(text);
    return err;
}

/*
 * A jwt-private.pem beside a store that already has a key set is not
 * used; say so when it is not even in the set (rotated out, or copied
 * from another installation), so nobody trusts the file by mistake.
 */
static void warn_stray_file(const json_t *record, const char *data_dir, int64_t now)
{
    json_t *file = NULL;
    int err = import_file(&file, data_dir, now, false);
    if (err < 0)
        pt_log_warn("auth", "%s (not used: the store has a key set)", pt_error_last());
    if (err < 0 || !file)
        return;
    const char *kid = json_string_value(json_object_get(file, "kid"));
    size_t i;
    json_t *k;
    bool known = false;
    json_array_foreach(json_object_get(record, "keys"), i, k)
    {
        const char *have = json_string_value(json_object_get(k, "kid"));
        known = known || (have && kid && strcmp(have, kid) == 0);
    }
    if (!known)
        pt_log_warn("auth",
                    "%s/%s (key %s) is not in the store's signing key set and is not used; "
                    "the store's keys sign (see README, Signing keys and rotation)",
                    data_dir, PT_KEYS_PRIVATE_PEM_FILE, kid);
    record_free(file);
}

int pt_keys_ensure(pt_store *store, const char *data_dir, int64_t now)
{
    json_t *have = NULL;
    int err = pt_keys_record_read(&have, store);
    if (err == 0 && data_dir)
        warn_stray_file(have, data_dir, now);
    record_free(have);
    if (err != PT_ENOTFOUND)
        return err;

    json_t *current = NULL;
    if ((err = import_file(&current, data_dir, now, true)) < 0)
        return err;
    if (!current && !(current = fresh_entry(PT_KEY_CURRENT, now)))
        return PT_ERR;
    json_t *next = fresh_entry(PT_KEY_NEXT, now);
    json_t *record =
        next ? json_pack("{s:I, s:[o,o]}", "generation", (json_int_t)1, "keys", current, next)
             : NULL;
    if (!record) {
        record_free(current);
        return PT_ENOMEM;
    }
    put_ctx c = {record};
    err = pt_store_write(store, insert_txn, &c);
    if (err == 0)
        pt_log_info("auth", "created the signing key set in the store (current %s, next %s)",
                    json_string_value(json_object_get(current, "kid")),
                    json_string_value(json_object_get(next, "kid")));
    record_free(record);
    /* Another node (or process) stored its set first: that one is used. */
    return err == PT_EEXISTS ? 0 : err;
}

/* ---- rotation ------------------------------------------------------------ */

typedef struct rotate_ctx {
    const json_t *fresh_next;
    int64_t now, min_previous_secs;
    bool force;
    char new_current[PT_KID_LEN];
} rotate_ctx;

static json_t *entry_in_state(json_t *keys, const char *state)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *s = json_string_value(json_object_get(k, "state"));
        if (s && strcmp(s, state) == 0)
            return k;
    }
    return NULL;
}

static int rotate_txn(pt_txn *txn, void *vctx)
{
    rotate_ctx *c = vctx;
    json_t *rec = NULL;
    int err = pt_keys_record_get(&rec, txn);
    if (err < 0)
        return err;
    json_t *keys = json_object_get(rec, "keys");
    json_t *cur = entry_in_state(keys, "current");
    json_t *next = entry_in_state(keys, "next");
    json_t *prev = entry_in_state(keys, "previous");
    if (!cur || !next) {
        pt_error_set("the stored signing key set has no current or no next key");
        err = PT_EINVAL;
        goto done;
    }
    if (prev && !c->force) {
        int64_t until =
            json_integer_value(json_object_get(prev, "retired_at")) + c->min_previous_secs;
        if (c->now < until) {
            pt_error_set("the previous key %s may still verify live tokens for %lld s; "
                         "rotating now would drop it (--force does it anyway)",
                         json_string_value(json_object_get(prev, "kid")),
                         (long long)(until - c->now));
            err = PT_ECONFLICT;
            goto done;
        }
    }
    json_t *out = json_array();
    json_object_set_new(cur, "state", json_string("previous"));
    json_object_set_new(cur, "retired_at", json_integer(c->now));
    json_object_set_new(next, "state", json_string("current"));
    json_object_set_new(next, "activated_at", json_integer(c->now));
    pt_strlcpy(c->new_current, json_string_value(json_object_get(next, "kid")),
               sizeof c->new_current);
    json_array_append(out, next);
    json_array_append(out, cur);
    json_array_append(out, (json_t *)c->fresh_next);
    json_t *gen = json_integer(json_integer_value(json_object_get(rec, "generation")) + 1);
    json_t *nrec = json_pack("{s:o, s:o}", "generation", gen, "keys", out);
    char *text = nrec ? json_dumps(nrec, JSON_COMPACT) : NULL;
    json_decref(nrec);
    if (!text) {
        err = PT_ENOMEM;
        goto done;
    }
    size_t len = strlen(text);
    err = pt_txn_put(txn, PT_T_META, PT_KEYS_META_KEY, strlen(PT_KEYS_META_KEY), text, len);
    OPENSSL_cleanse(text, len);
    free(text);
done:
    record_free(rec);
    return err;
}

int pt_keys_rotate(pt_store *store, const char *data_dir, int64_t now, int64_t min_previous_secs,
                   bool force)
{
    int err = pt_keys_ensure(store, data_dir, now);
    if (err < 0)
        return err;
    json_t *fresh = fresh_entry(PT_KEY_NEXT, now);
    if (!fresh)
        return PT_ERR;
    rotate_ctx c = {fresh, now, min_previous_secs, force, {0}};
    err = pt_store_write(store, rotate_txn, &c);
    record_free(fresh);
    if (err == 0)
        pt_log_info("auth", "rotated the signing keys: %s signs now", c.new_current);
    return err;
}

/* ---- listing -------------------------------------------------------------- */

int pt_keys_list(json_t **out, pt_store *store)
{
    static const char *const order[] = {"current", "next", "previous"};
    json_t *rec = NULL;
    *out = NULL;
    int err = pt_keys_record_read(&rec, store);
    if (err < 0)
        return err;
    json_t *list = json_array();
    json_t *keys = json_object_get(rec, "keys");
    for (size_t o = 0; list && o < PT_ARRAY_LEN(order); o++) {
        json_t *k = entry_in_state(keys, order[o]);
        if (!k)
            continue;
        json_t *e =
            json_pack("{s:O, s:O, s:O}", "kid", json_object_get(k, "kid"), "state",
                      json_object_get(k, "state"), "created_at", json_object_get(k, "created_at"));
        const char *opt[] = {"activated_at", "retired_at"};
        for (size_t i = 0; e && i < 2; i++) {
            if (json_object_get(k, opt[i]))
                json_object_set(e, opt[i], json_object_get(k, opt[i]));
        }
        if (!e || json_array_append_new(list, e) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    record_free(rec);
    if (!list)
        return PT_ENOMEM;
    *out = list;
    return 0;
}

/* The check porticod makes when it reads the record, on its own. */
int pt_keys_record_check(const void *val, size_t len)
{
    json_t *rec = json_loadb(val, len, JSON_REJECT_DUPLICATES, NULL);
    pt_keyset *s = NULL;
    int err = PT_EINVAL;
    if (!json_is_object(rec))
        pt_error_set("the signing key set is not a JSON object");
    else
        err = pt_keyset_build(&s, rec);
    pt_keyset_release(s);
    record_free(rec);
    return err;
}
