/*
 * flu_site_routes.c - vaccination sites and their roving sessions:
 * PUT/DELETE /api/v1/portlets/flu-countdown/sites/{site} (oh_admin) and
 * GET .../sites (any member).
 */
#include "flu_host.h"

typedef struct site_write {
    const portico_host *host;
    const char *id;
    const json_t *site; /* the validated record, without timestamps */
    const char *now;
    bool created;
    json_t *stored; /* what was stored, for the answer */
} site_write;

/* Creates or replaces the site, keeping its created_at, and audits it with
 * the record before and after. */
int flu_host_site_put(const portico_host *h, portico_txn *txn, const char *id, const json_t *site,
                      const char *now, bool *created, json_t **stored)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), "site", id, NULL);
    if (rc != PORTICO_OK)
        return rc;
    json_decref(*stored);
    *stored = json_deep_copy(site);
    if (*stored == NULL)
        return PORTICO_ENOMEM;
    json_t *before = NULL;
    rc = h->get(txn, key, &before);
    if (rc != PORTICO_OK && rc != PORTICO_ENOTFOUND)
        return rc;
    *created = rc == PORTICO_ENOTFOUND;
    const json_t *created_at = json_object_get(before, "created_at");
    json_object_set_new(*stored, "created_at",
                        json_is_string(created_at) ? json_copy((json_t *)created_at)
                                                   : json_string(now));
    json_object_set_new(*stored, "updated_at", json_string(now));
    rc = h->put(txn, key, *stored);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, *created ? "site.create" : "site.replace", id, before, *stored);
    json_decref(before);
    return rc;
}

static int site_put_txn(portico_txn *txn, void *arg)
{
    site_write *w = arg;
    return flu_host_site_put(w->host, txn, w->id, w->site, w->now, &w->created, &w->stored);
}

int flu_route_site_put(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *id = h->param(ctx, "site");
    flu_env env = flu_host_env(h);
    json_t *site = NULL, *errors = json_array();
    if (errors == NULL)
        return PORTICO_ENOMEM;
    flu_site_build(&site, errors, id ? id : "", h->body(ctx), &env);
    if (site == NULL && json_array_size(errors) == 0) {
        json_decref(errors);
        return PORTICO_ENOMEM;
    }
    if (site == NULL) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    json_decref(errors);
    char now[21];
    h->time_format(now, h->now_ms() / 1000);
    site_write w = {.host = h, .id = id, .site = site, .now = now};
    int rc = h->write(ctx, site_put_txn, &w);
    if (rc == PORTICO_OK) {
        h->respond_json(ctx, w.created ? 201 : 200, w.stored);
        w.stored = NULL;
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(w.stored);
    json_decref(site);
    return PORTICO_OK;
}

/*
 * A site that vaccinations were recorded at is kept: deleting it would
 * leave uptake-by-site counts that name no site.  Its sessions can be
 * emptied with PUT instead.
 */
static int site_delete_txn(portico_txn *txn, void *arg)
{
    site_write *w = arg;
    const portico_host *h = w->host;
    json_t *before = NULL;
    int64_t n = 0;
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), "site", w->id, NULL);
    if (rc == PORTICO_OK)
        rc = h->get(txn, key, &before);
    if (rc == PORTICO_OK)
        rc = flu_host_count_get(h, txn, "site", w->id, &n);
    if (rc == PORTICO_OK && n > 0)
        rc = PORTICO_ECONFLICT;
    if (rc == PORTICO_OK)
        rc = h->del(txn, key);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, "site.delete", w->id, before, NULL);
    json_decref(before);
    return rc;
}

int flu_route_site_delete(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    site_write w = {.host = h, .id = h->param(ctx, "site")};
    int rc = flu_site_id_valid(w.id) ? h->write(ctx, site_delete_txn, &w) : PORTICO_ENOTFOUND;
    if (rc == PORTICO_OK)
        h->respond_bytes(ctx, 204, NULL, NULL, 0);
    else if (rc == PORTICO_ECONFLICT)
        h->respond_error(ctx, rc, "vaccinations were recorded at this site; it cannot be deleted");
    else
        h->respond_error(ctx, rc, rc == PORTICO_ENOTFOUND ? "no such site" : NULL);
    return PORTICO_OK;
}

typedef struct site_list {
    const portico_host *host;
    json_t *items;
    json_t *next_cursor;
} site_list;

static int page_site(const char *key, const json_t *value, void *arg)
{
    (void)key;
    site_list *l = arg;
    return json_array_append_new(l->items, json_deep_copy(value)) == 0 ? PORTICO_OK
                                                                       : PORTICO_ENOMEM;
}

static int sites_page_txn(portico_txn *txn, void *arg)
{
    site_list *l = arg;
    json_array_clear(l->items);
    json_decref(l->next_cursor);
    l->next_cursor = NULL;
    return l->host->page(txn, FLU_SITE_PREFIX, false, page_site, l, &l->next_cursor);
}

/* ?limit and ?cursor are the host's: page() reads and checks them. */
int flu_route_sites_list(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    site_list l = {.host = h, .items = json_array()};
    int rc = l.items ? h->read(ctx, sites_page_txn, &l) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 200,
                        json_pack("{s:O, s:O?}", "items", l.items, "next_cursor", l.next_cursor));
    else
        h->respond_error(ctx, rc, NULL);
    json_decref(l.items);
    json_decref(l.next_cursor);
    return PORTICO_OK;
}
