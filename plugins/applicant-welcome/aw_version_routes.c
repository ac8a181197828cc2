/*
 * aw_version_routes.c - the published versions: list them, read one,
 * restore one as the draft, and list what is due for review.
 */
#include "aw_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The {n} of a version path: 1..9 digits without a leading zero. */
static bool version_param(portico_ctx *ctx, json_int_t *out)
{
    const char *s = ctx->host->param(ctx, "n");
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > 9 || s[0] == '0' || strspn(s, "0123456789") != len)
        return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

typedef struct list_read {
    json_t *items;
    json_t *next;
} list_read;

static int list_item(const char *key, const json_t *value, void *arg)
{
    list_read *r = arg;
    (void)key;
    return json_array_append_new(r->items, aw_version_view(value, false)) == 0 ? PORTICO_OK
                                                                               : PORTICO_ENOMEM;
}

typedef struct list_txn_arg {
    const portico_host *h;
    list_read *r;
} list_txn_arg;

static int list_txn(portico_txn *txn, void *arg)
{
    list_txn_arg *a = arg;
    json_array_clear(a->r->items);
    json_decref(a->r->next);
    a->r->next = NULL;
    return a->h->page(txn, "version/", true, list_item, a->r, &a->r->next);
}

int aw_route_versions_list(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    list_read r = {json_array(), NULL};
    list_txn_arg a = {h, &r};
    int rc = r.items ? h->read(ctx, list_txn, &a) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK) {
        json_t *body = json_pack("{s:O, s:O?}", "items", r.items, "next_cursor", r.next);
        if (body != NULL)
            h->respond_json(ctx, 200, body);
        else
            rc = PORTICO_ENOMEM;
    }
    json_decref(r.items);
    json_decref(r.next);
    if (rc != PORTICO_OK)
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

typedef struct version_read {
    const portico_host *h;
    json_int_t n;
    json_t *version;
} version_read;

static int version_txn(portico_txn *txn, void *arg)
{
    version_read *r = arg;
    char key[PORTICO_KEY_MAX + 1];
    json_decref(r->version);
    r->version = NULL;
    int rc = aw_store_version_key(r->h, key, sizeof key, r->n);
    return rc == PORTICO_OK ? r->h->get(txn, key, &r->version) : rc;
}

int aw_route_version_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    version_read r = {h, 0, NULL};
    if (!version_param(ctx, &r.n)) {
        h->respond_problem(ctx, 404, "not_found", "no such version");
        return PORTICO_OK;
    }
    int rc = h->read(ctx, version_txn, &r);
    if (rc == PORTICO_OK) {
        json_t *view = aw_version_view(r.version, true);
        if (view != NULL)
            h->respond_json_etag(ctx, view);
        else
            rc = PORTICO_ENOMEM;
    }
    json_decref(r.version);
    if (rc == PORTICO_ENOTFOUND)
        h->respond_problem(ctx, 404, "not_found", "no such version");
    else if (rc != PORTICO_OK)
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

typedef struct restore_write {
    version_read v;
    const char *now, *user;
    json_t *draft, *published;
} restore_write;

/* The version's content becomes the draft (a new revision that remembers
 * where it came from); publishing it is a separate, audited step. */
static int restore_txn(portico_txn *txn, void *arg)
{
    restore_write *w = arg;
    const portico_host *h = w->v.h;
    int rc = version_txn(txn, &w->v);
    if (rc == PORTICO_OK)
        rc = aw_store_content_read(h, txn, &w->draft, &w->published);
    if (rc != PORTICO_OK)
        return rc;
    json_int_t before = json_integer_value(json_object_get(w->draft, "revision"));
    json_t *rec = aw_draft_record(json_object_get(w->v.version, "content"), before + 1, w->now,
                                  w->user, w->v.n);
    if (rec == NULL)
        return PORTICO_ENOMEM;
    json_decref(w->draft);
    w->draft = rec;
    rc = h->put(txn, AW_KEY_DRAFT, rec);
    if (rc != PORTICO_OK)
        return rc;
    char target[48];
    snprintf(target, sizeof target, "content/versions/%lld", (long long)w->v.n);
    json_t *b = json_pack("{s:I}", "revision", before);
    json_t *a =
        json_pack("{s:I, s:I}", "revision", before + 1, "restored_from", (json_int_t)w->v.n);
    rc = h->audit(txn, "content.restore", target, b, a);
    json_decref(b);
    json_decref(a);
    return rc;
}

int aw_route_version_restore(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    char now[21];
    aw_now(ctx, now);
    restore_write w = {{h, 0, NULL}, now, ctx->caller->username, NULL, NULL};
    if (!version_param(ctx, &w.v.n)) {
        h->respond_problem(ctx, 404, "not_found", "no such version");
        return PORTICO_OK;
    }
    int rc = h->write(ctx, restore_txn, &w);
    if (rc == PORTICO_OK) {
        char etag[64];
        aw_store_etag(etag, w.draft, w.published);
        h->set_header(ctx, "ETag", etag);
        json_t *view = aw_draft_view(w.draft, w.published);
        if (view != NULL)
            h->respond_json(ctx, 200, view);
        else
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
    } else if (rc == PORTICO_ENOTFOUND) {
        h->respond_problem(ctx, 404, "not_found", "no such version");
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(w.v.version);
    json_decref(w.draft);
    json_decref(w.published);
    return PORTICO_OK;
}

typedef struct published_read {
    const portico_host *h;
    json_t *published;
} published_read;

static int published_txn(portico_txn *txn, void *arg)
{
    published_read *r = arg;
    json_decref(r->published);
    return aw_store_get(r->h, txn, AW_KEY_PUBLISHED, &r->published);
}

/*
 * Only the live (latest) version can be stale: older versions were
 * reviewed by being replaced.  It is listed from its review_due date on
 * (days_overdue 0 on the day), until a new version is published.
 * Republishing unchanged content is how a reviewer says "still right".
 */
int aw_route_review(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    published_read r = {h, NULL};
    int rc = h->read(ctx, published_txn, &r);
    json_t *items = json_array();
    int32_t today = h->today(ctx), due;
    const char *due_s = json_string_value(json_object_get(r.published, "review_due"));
    if (rc == PORTICO_OK && items != NULL && due_s != NULL && h->date_parse(due_s, &due) &&
        due <= today) {
        json_t *item = aw_version_view(r.published, false);
        if (item != NULL)
            json_object_set_new(item, "days_overdue", json_integer(today - due));
        json_array_append_new(items, item);
    }
    json_decref(r.published);
    if (rc == PORTICO_OK && items != NULL) {
        char today_s[11];
        h->date_format(today_s, today);
        h->respond_json(
            ctx, 200,
            json_pack("{s:s, s:o, s:n}", "today", today_s, "items", items, "next_cursor"));
        return PORTICO_OK;
    }
    json_decref(items);
    h->respond_error(ctx, rc != PORTICO_OK ? rc : PORTICO_ENOMEM, NULL);
    return PORTICO_OK;
}
