/*
 * lv_store.c - where documents live: one JSON record per person, kind and
 * period under doc/<username>/<kind>/<period>, keys built by the host so
 * a username can never reach outside its own prefix.
 */
#include "lv_host.h"

#include <string.h>

int lv_key_doc(const portico_ctx *ctx, char *buf, size_t cap, const char *space, const char *user,
               enum lv_kind kind, const char *period)
{
    return ctx->host->key(buf, cap, space, user, lv_kind_name(kind), period, NULL);
}

/* An empty last part gives the trailing '/' (host key()), which keeps
 * "doc/ann/" from matching "doc/anne/...". */
int lv_key_prefix(const portico_ctx *ctx, char *buf, size_t cap, const char *space,
                  const char *user, enum lv_kind kind)
{
    return kind == LV_KIND_NONE
               ? ctx->host->key(buf, cap, space, user, "", NULL)
               : ctx->host->key(buf, cap, space, user, lv_kind_name(kind), "", NULL);
}

json_t *lv_record_new(const char *user, enum lv_kind kind, const char *period, const json_t *data,
                      const char *loaded_at, const char *loaded_by, int64_t revision)
{
    return json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:I}", "username", user, "kind",
                     lv_kind_name(kind), "period", period, "data", data, "loaded_at", loaded_at,
                     "loaded_by", loaded_by ? loaded_by : "", "revision", (json_int_t)revision);
}

static int take_first(const char *key, const json_t *value, void *arg)
{
    (void)key;
    *(json_t **)arg = json_deep_copy(value);
    return PORTICO_ESTOP;
}

int lv_store_put(const portico_ctx *ctx, portico_txn *txn, const json_t *rec)
{
    char key[PORTICO_KEY_MAX + 1];
    const char *user = json_string_value(json_object_get(rec, "username"));
    const char *period = json_string_value(json_object_get(rec, "period"));
    enum lv_kind kind = lv_kind_from_name(json_string_value(json_object_get(rec, "kind")));
    json_t *row = lv_view_list_item(rec);
    int rc = row ? lv_key_doc(ctx, key, sizeof(key), LV_DOC, user, kind, period) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        rc = ctx->host->put(txn, key, rec);
    if (rc == PORTICO_OK)
        rc = lv_key_doc(ctx, key, sizeof(key), LV_ROW, user, kind, period);
    if (rc == PORTICO_OK)
        rc = ctx->host->put(txn, key, row);
    json_decref(row);
    return rc;
}

int lv_store_latest(const portico_ctx *ctx, portico_txn *txn, const char *space, const char *user,
                    enum lv_kind kind, json_t **out)
{
    char prefix[PORTICO_KEY_MAX + 1];
    *out = NULL;
    int rc = lv_key_prefix(ctx, prefix, sizeof(prefix), space, user, kind);
    if (rc == PORTICO_OK)
        rc = ctx->host->scan(txn, prefix, NULL, true, take_first, out);
    if (rc == PORTICO_OK && !*out)
        rc = PORTICO_ENOTFOUND;
    return rc;
}

static int collect(const char *key, const json_t *value, void *arg)
{
    json_t *all = arg;
    (void)key;
    if (json_array_size(all) >= LV_PACK_MAX)
        return PORTICO_ESTOP;
    return json_array_append_new(all, json_deep_copy(value)) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

int lv_store_all(const portico_ctx *ctx, portico_txn *txn, const char *user, json_t **out)
{
    static const enum lv_kind order[] = {LV_P45, LV_P60, LV_PAYSLIP};
    json_t *all = json_array();
    int rc = all ? PORTICO_OK : PORTICO_ENOMEM;
    for (size_t i = 0; rc == PORTICO_OK && i < sizeof(order) / sizeof(order[0]); i++) {
        char prefix[PORTICO_KEY_MAX + 1];
        rc = lv_key_prefix(ctx, prefix, sizeof(prefix), LV_DOC, user, order[i]);
        if (rc == PORTICO_OK)
            rc = ctx->host->scan(txn, prefix, NULL, true, collect, all);
    }
    if (rc != PORTICO_OK) {
        json_decref(all);
        all = NULL;
    }
    *out = all;
    return rc;
}
