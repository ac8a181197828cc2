/*
 * lv_admin_routes.c - payroll_admin reads someone else's documents only
 * through these explicit routes, and every such read is written to the
 * organisation's audit log (who read whose what) in the same transaction
 * as the read, so there is no read without its audit entry.
 */
#include "lv_host.h"

#include <stdio.h>
#include <string.h>

typedef struct admin_read {
    portico_ctx *ctx;
    const char *username;
    enum lv_kind kind;
    const char *period;
    bool want_org;
    json_t *person;
    json_t *doc;
    json_t *org;
    json_t *items;
    json_t *next;
    bool no_person;
} admin_read;

static void admin_reset(admin_read *a)
{
    json_decref(a->person);
    json_decref(a->doc);
    json_decref(a->org);
    json_decref(a->next);
    a->person = a->doc = a->org = a->next = NULL;
    a->no_person = false;
    if (a->items)
        json_array_clear(a->items);
}

/* The person must be in the caller's organisation (person_get sees no
 * other); a missing person and a missing document are both 404. */
static int person_txn(portico_txn *txn, admin_read *a)
{
    int rc = a->ctx->host->person_get(txn, a->username, &a->person);
    if (rc == PORTICO_ENOTFOUND || rc == PORTICO_EINVAL) {
        a->no_person = true;
        rc = PORTICO_ENOTFOUND;
    }
    return rc;
}

static int get_txn(portico_txn *txn, void *arg)
{
    admin_read *a = arg;
    const portico_host *h = a->ctx->host;
    char key[PORTICO_KEY_MAX + 1];
    admin_reset(a);
    int rc = person_txn(txn, a);
    if (rc == PORTICO_OK)
        rc = lv_key_doc(a->ctx, key, sizeof(key), LV_DOC, a->username, a->kind, a->period);
    if (rc == PORTICO_EINVAL)
        rc = PORTICO_ENOTFOUND;
    if (rc == PORTICO_OK)
        rc = h->get(txn, key, &a->doc);
    if (rc == PORTICO_OK && a->want_org)
        rc = h->org_get(txn, &a->org);
    json_t *what = rc == PORTICO_OK
                       ? json_pack("{s:s, s:s, s:s}", "kind", lv_kind_name(a->kind), "period",
                                   a->period, "format", a->want_org ? "pdf" : "json")
                       : NULL;
    if (rc == PORTICO_OK)
        rc = what ? h->audit(txn, "document.read", a->username, NULL, what) : PORTICO_ENOMEM;
    json_decref(what);
    return rc;
}

static void respond_missing(portico_ctx *ctx, const admin_read *a)
{
    char detail[160];
    if (a->no_person)
        snprintf(detail, sizeof(detail), "%s is not a person of this organisation", a->username);
    else
        snprintf(detail, sizeof(detail), "%s has no %s for %s", a->username, lv_kind_title(a->kind),
                 a->period ? a->period : "that period");
    ctx->host->respond_problem(ctx, 404, "not_found", detail);
}

int lv_route_admin_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    admin_read a = {.ctx = ctx,
                    .username = h->param(ctx, "username"),
                    .kind = lv_kind_from_name(h->param(ctx, "kind")),
                    .period = h->param(ctx, "period"),
                    .want_org = lv_wants_pdf(ctx)};
    int rc = a.kind == LV_KIND_NONE || !a.period ? PORTICO_ENOTFOUND : h->write(ctx, get_txn, &a);
    if (rc == PORTICO_OK)
        lv_respond_document(ctx, a.doc, a.person, a.org);
    else if (rc == PORTICO_ENOTFOUND)
        respond_missing(ctx, &a);
    else
        h->respond_error(ctx, rc, NULL);
    admin_reset(&a);
    return PORTICO_OK;
}

static int list_item(const char *key, const json_t *value, void *arg)
{
    admin_read *a = arg;
    (void)key;
    return json_array_append_new(a->items, json_deep_copy(value)) == 0 ? PORTICO_OK
                                                                       : PORTICO_ENOMEM;
}

static int list_txn(portico_txn *txn, void *arg)
{
    admin_read *a = arg;
    const portico_host *h = a->ctx->host;
    char prefix[PORTICO_KEY_MAX + 1];
    admin_reset(a);
    int rc = person_txn(txn, a);
    if (rc == PORTICO_OK)
        rc = lv_key_prefix(a->ctx, prefix, sizeof(prefix), LV_ROW, a->username, LV_KIND_NONE);
    if (rc == PORTICO_OK)
        rc = h->page(txn, prefix, true, list_item, a, &a->next);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, "documents.list", a->username, NULL, NULL);
    return rc;
}

/* The person's documents (payslips newest first, then P60s and the P45:
 * reverse key order), paginated like every list. */
int lv_route_admin_list(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    admin_read a = {.ctx = ctx, .username = h->param(ctx, "username"), .items = json_array()};
    int rc = a.items ? h->write(ctx, list_txn, &a) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK) {
        json_t *body = json_pack("{s:s, s:O, s:O}", "username", a.username, "items", a.items,
                                 "next_cursor", a.next ? a.next : json_null());
        if (body)
            h->respond_json(ctx, 200, body);
        else
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
    } else if (rc == PORTICO_ENOTFOUND) {
        respond_missing(ctx, &a);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    admin_reset(&a);
    json_decref(a.items);
    return PORTICO_OK;
}
