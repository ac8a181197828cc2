/*
 * lv_dashboard.c - the dashboard card and the leaver's notice.
 *
 * Leaver dashboard: how many documents the leaver holds, the last day of
 * access and where the one-click pack is.  Employee dashboard: the latest
 * payslip's period, pay date and net pay.  Cards hold dates, never
 * per-second values, so dashboards keep their ETag.
 */
#include "lv_host.h"

#include <stdio.h>
#include <string.h>

typedef struct card_read {
    portico_ctx *ctx;
    int64_t counts[LV_KIND_COUNT];
    json_t *latest;
} card_read;

static int count_one(const char *key, const json_t *value, void *arg)
{
    (void)key;
    (void)value;
    (*(int64_t *)arg)++;
    return PORTICO_OK;
}

static int counts_txn(portico_txn *txn, void *arg)
{
    card_read *c = arg;
    const char *me = c->ctx->caller->username;
    int rc = PORTICO_OK;
    for (int k = 0; rc == PORTICO_OK && k < LV_KIND_COUNT; k++) {
        char prefix[PORTICO_KEY_MAX + 1];
        c->counts[k] = 0;
        rc = lv_key_prefix(c->ctx, prefix, sizeof(prefix), LV_ROW, me, (enum lv_kind)k);
        if (rc == PORTICO_OK)
            rc = c->ctx->host->scan(txn, prefix, NULL, false, count_one, &c->counts[k]);
    }
    return rc;
}

static int latest_txn(portico_txn *txn, void *arg)
{
    card_read *c = arg;
    json_decref(c->latest);
    c->latest = NULL;
    int rc = lv_store_latest(c->ctx, txn, LV_ROW, c->ctx->caller->username, LV_PAYSLIP, &c->latest);
    return rc == PORTICO_ENOTFOUND ? PORTICO_OK : rc;
}

/* "Save your pay documents before 2027-01-08" names the first day
 * without access: access lasts through access_ends, inclusive. */
static void save_before(const portico_ctx *ctx, char last[11], char before[11])
{
    ctx->host->date_format(last, ctx->caller->access_ends);
    ctx->host->date_format(before, ctx->caller->access_ends + 1);
}

static json_t *leaver_card(portico_ctx *ctx)
{
    card_read c = {.ctx = ctx};
    if (ctx->host->read(ctx, counts_txn, &c) != PORTICO_OK)
        return NULL;
    json_t *card = json_pack(
        "{s:{s:I, s:I, s:I, s:I}, s:s}", "documents", "payslips", (json_int_t)c.counts[LV_PAYSLIP],
        "p45", (json_int_t)c.counts[LV_P45], "p60", (json_int_t)c.counts[LV_P60], "total",
        (json_int_t)(c.counts[0] + c.counts[1] + c.counts[2]), "pack_url", LV_BASE "/pack");
    if (card && ctx->caller->status == PORTICO_STATUS_LEAVER && ctx->caller->access_ends >= 0) {
        char last[11], before[11];
        save_before(ctx, last, before);
        json_object_set_new(card, "access_ends", json_string(last));
        json_object_set_new(card, "save_before", json_string(before));
    } else if (card) {
        json_object_set_new(card, "access_ends", json_null());
        json_object_set_new(card, "save_before", json_null());
    }
    return card;
}

static json_t *employee_card(portico_ctx *ctx)
{
    card_read c = {.ctx = ctx};
    if (ctx->host->read(ctx, latest_txn, &c) != PORTICO_OK)
        return NULL;
    json_t *card = json_pack("{s:s}", "payslips_url", LV_BASE "/payslips");
    if (card && c.latest) {
        const json_t *row = c.latest;
        json_t *latest = json_pack("{s:O?, s:O?}", "period", json_object_get(row, "period"),
                                   "pay_date", json_object_get(row, "pay_date"));
        if (latest && json_is_true(json_object_get(ctx->host->config(ctx), "show_net_pay")))
            json_object_set(latest, "net", json_object_get(row, "net"));
        json_object_set_new(card, "latest_payslip", latest);
    } else if (card) {
        json_object_set_new(card, "latest_payslip", json_null());
    }
    json_decref(c.latest);
    return card;
}

int lv_summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    *out = NULL;
    if (!ctx->caller || !ctx->caller->username)
        return PORTICO_HIDDEN;
    if (strcmp(dashboard, "leaver") == 0)
        *out = leaver_card(ctx);
    else if (strcmp(dashboard, "employee") == 0)
        *out = employee_card(ctx);
    else
        return PORTICO_HIDDEN;
    return *out ? PORTICO_OK : PORTICO_ERR;
}

int lv_notices(portico_ctx *ctx, const char *dashboard, json_t *notices)
{
    (void)dashboard;
    const portico_caller *c = ctx->caller;
    if (!c || c->status != PORTICO_STATUS_LEAVER || c->access_ends < 0)
        return PORTICO_OK;
    char last[11], before[11], text[200];
    save_before(ctx, last, before);
    snprintf(text, sizeof(text),
             "Save your pay documents before %s: download them all as one PDF from " LV_BASE
             "/pack",
             before);
    json_t *n = json_pack("{s:s, s:s, s:s, s:s}", "code", "save_documents", "text", text, "date",
                          before, "access_ends", last);
    return n && json_array_append_new(notices, n) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}
