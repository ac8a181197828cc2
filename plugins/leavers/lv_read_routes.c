/*
 * lv_read_routes.c - a person reads their own pay documents: payslips
 * (a list, newest first, and one period), the P45, P60s (a list and one
 * tax year), and the pack of everything as one PDF.
 *
 * The username is always the caller's own (never from the request), so
 * guessing another period or another person's name can only reach the
 * caller's own keys.  The host's gates have already refused applicants
 * (statuses), leavers past their window (at authentication) and leavers
 * without MFA (mfa_statuses).
 */
#include "lv_host.h"

#include <stdio.h>
#include <string.h>

typedef struct one_read {
    portico_ctx *ctx;
    enum lv_kind kind;
    const char *period; /* NULL: the newest */
    bool want_org;
    json_t *doc;
    json_t *org;
} one_read;

static int one_txn(portico_txn *txn, void *arg)
{
    one_read *r = arg;
    const portico_host *h = r->ctx->host;
    const char *me = r->ctx->caller->username;
    int rc;
    json_decref(r->doc);
    json_decref(r->org);
    r->doc = r->org = NULL;
    if (r->period) {
        char key[PORTICO_KEY_MAX + 1];
        rc = lv_key_doc(r->ctx, key, sizeof(key), LV_DOC, me, r->kind, r->period);
        if (rc == PORTICO_OK)
            rc = h->get(txn, key, &r->doc);
    } else {
        rc = lv_store_latest(r->ctx, txn, LV_DOC, me, r->kind, &r->doc);
    }
    if (rc == PORTICO_OK && r->want_org)
        rc = h->org_get(txn, &r->org);
    return rc;
}

/* One of the caller's documents as JSON or PDF; 404 when there is none
 * (also for a period that is not even well-formed: it cannot exist). */
static int read_one(portico_ctx *ctx, enum lv_kind kind, const char *period)
{
    const portico_host *h = ctx->host;
    one_read r = {ctx, kind, period, lv_wants_pdf(ctx), NULL, NULL};
    bool well_formed =
        !period || (kind == LV_PAYSLIP ? lv_month_valid(period) : lv_tax_year_valid(period));
    int rc = well_formed ? h->read(ctx, one_txn, &r) : PORTICO_ENOTFOUND;
    if (rc == PORTICO_OK) {
        lv_respond_document(ctx, r.doc, ctx->caller->person, r.org);
    } else if (rc == PORTICO_ENOTFOUND) {
        char detail[96];
        if (period)
            snprintf(detail, sizeof(detail), "you have no %s for %s", lv_kind_title(kind), period);
        else
            snprintf(detail, sizeof(detail), "you have no %s", lv_kind_title(kind));
        h->respond_problem(ctx, 404, "not_found", detail);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(r.doc);
    json_decref(r.org);
    return PORTICO_OK;
}

typedef struct list_read {
    portico_ctx *ctx;
    enum lv_kind kind;
    json_t *items;
    json_t *next;
} list_read;

static int list_item(const char *key, const json_t *value, void *arg)
{
    list_read *l = arg;
    (void)key;
    return json_array_append_new(l->items, json_deep_copy(value)) == 0 ? PORTICO_OK
                                                                       : PORTICO_ENOMEM;
}

static int list_txn(portico_txn *txn, void *arg)
{
    list_read *l = arg;
    char prefix[PORTICO_KEY_MAX + 1];
    json_array_clear(l->items);
    json_decref(l->next);
    l->next = NULL;
    int rc =
        lv_key_prefix(l->ctx, prefix, sizeof(prefix), LV_ROW, l->ctx->caller->username, l->kind);
    if (rc == PORTICO_OK)
        rc = l->ctx->host->page(txn, prefix, true, list_item, l, &l->next);
    return rc;
}

/* {items, next_cursor}: newest first, ?limit and ?cursor as every list. */
static int read_list(portico_ctx *ctx, enum lv_kind kind)
{
    const portico_host *h = ctx->host;
    list_read l = {ctx, kind, json_array(), NULL};
    int rc = l.items ? h->read(ctx, list_txn, &l) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK) {
        json_t *body =
            json_pack("{s:O, s:O}", "items", l.items, "next_cursor", l.next ? l.next : json_null());
        if (body)
            h->respond_json_etag(ctx, body);
        else
            rc = PORTICO_ENOMEM;
    }
    if (rc != PORTICO_OK)
        h->respond_error(ctx, rc, NULL);
    json_decref(l.items);
    json_decref(l.next);
    return PORTICO_OK;
}

int lv_route_payslips(portico_ctx *ctx)
{
    return read_list(ctx, LV_PAYSLIP);
}

int lv_route_payslip(portico_ctx *ctx)
{
    return read_one(ctx, LV_PAYSLIP, ctx->host->param(ctx, "period"));
}

int lv_route_p45(portico_ctx *ctx)
{
    return read_one(ctx, LV_P45, NULL);
}

int lv_route_p60s(portico_ctx *ctx)
{
    return read_list(ctx, LV_P60);
}

int lv_route_p60(portico_ctx *ctx)
{
    return read_one(ctx, LV_P60, ctx->host->param(ctx, "tax_year"));
}

typedef struct pack_read {
    portico_ctx *ctx;
    json_t *docs;
    json_t *org;
} pack_read;

static int pack_txn(portico_txn *txn, void *arg)
{
    pack_read *p = arg;
    json_decref(p->docs);
    json_decref(p->org);
    p->docs = p->org = NULL;
    int rc = lv_store_all(p->ctx, txn, p->ctx->caller->username, &p->docs);
    if (rc == PORTICO_OK)
        rc = p->ctx->host->org_get(txn, &p->org);
    return rc;
}

/* Everything the caller holds, one PDF: what a leaver saves in one click.
 * With no documents it is still a PDF (one page saying so). */
int lv_route_pack(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    pack_read p = {ctx, NULL, NULL};
    int rc = h->read(ctx, pack_txn, &p);
    if (rc == PORTICO_OK) {
        char today[11], name[128];
        h->date_format(today, h->today(ctx));
        snprintf(name, sizeof(name), "pay-documents-%s-%s", ctx->caller->username, today);
        lv_respond_pdf(ctx, p.docs, ctx->caller->person, p.org, true, name);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(p.docs);
    json_decref(p.org);
    return PORTICO_OK;
}
