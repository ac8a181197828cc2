/*
 * aw_store.c - small helpers over the host's storage, config and clock
 * that every route of the portlet uses.
 */
#include "aw_host.h"

#include <stdio.h>

int aw_store_get(const portico_host *h, portico_txn *txn, const char *key, json_t **out)
{
    *out = NULL;
    int rc = h->get(txn, key, out);
    if (rc == PORTICO_ENOTFOUND) {
        *out = NULL;
        return PORTICO_OK;
    }
    return rc;
}

int aw_store_version_key(const portico_host *h, char *buf, size_t cap, json_int_t version)
{
    char n[24];
    snprintf(n, sizeof n, "%010lld", (long long)version);
    return h->key(buf, cap, "version", n, NULL);
}

int aw_store_content_read(const portico_host *h, portico_txn *txn, json_t **draft,
                          json_t **published)
{
    json_decref(*draft);
    json_decref(*published);
    *draft = *published = NULL;
    int rc = aw_store_get(h, txn, AW_KEY_DRAFT, draft);
    if (rc == PORTICO_OK)
        rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, published);
    return rc;
}

void aw_store_etag(char out[64], const json_t *draft, const json_t *published)
{
    snprintf(out, 64, "\"aw-d%lld-v%lld\"",
             (long long)json_integer_value(json_object_get(draft, "revision")),
             (long long)json_integer_value(json_object_get(published, "version")));
}

int aw_config_review_days(portico_ctx *ctx)
{
    json_int_t d = json_integer_value(json_object_get(ctx->host->config(ctx), "review_days"));
    return d > 0 ? (int)d : 90;
}

void aw_errors_add(void *arg, const char *pointer, const char *message)
{
    aw_errors *e = arg;
    e->h->invalid_add(e->errors, pointer, message);
}

void aw_today(portico_ctx *ctx, char out[11])
{
    ctx->host->date_format(out, ctx->host->today(ctx));
}

void aw_now(portico_ctx *ctx, char out[21])
{
    int64_t ms = ctx->host->now_ms();
    ctx->host->time_format(out, ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
}
