/*
 * flu_site_routes.c - vaccination sites and their roving sessions:
 * PUT/DELETE /api/v1/portlets/flu-countdown/sites/{site} (oh_admin) and
 * GET .../sites (any member).
 */
#include "flu_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITES_LIMIT_DEFAULT 50
#define SITES_LIMIT_MAX     500

typedef struct site_write {
    const char *id;
    const json_t *site; /* the validated record, without timestamps */
    const char *now;
    bool created;
    bool in_use;
    json_t *stored; /* what was stored, for the answer */
} site_write;

/* Creates or replaces the site, keeping its created_at, and audits it with
 * the record before and after. */
int flu_host_site_put(portico_txn *txn, const char *id, const json_t *site, const char *now,
                      bool *created, json_t **stored)
{
    json_decref(*stored);
    *stored = json_deep_copy(site);
    if (*stored == NULL)
        return PORTICO_ENOMEM;
    json_t *before = NULL;
    int rc = flu_host_site_get(txn, id, &before);
    if (rc != PORTICO_OK && rc != PORTICO_ENOTFOUND)
        return rc;
    *created = rc == PORTICO_ENOTFOUND;
    const json_t *created_at = json_object_get(before, "created_at");
    json_object_set_new(*stored, "created_at",
                        json_is_string(created_at) ? json_copy((json_t *)created_at)
                                                   : json_string(now));
    json_object_set_new(*stored, "updated_at", json_string(now));
    char key[96];
    snprintf(key, sizeof(key), "site/%s", id);
    rc = flu_host->put(txn, key, *stored);
    if (rc == PORTICO_OK)
        rc = flu_host->audit(txn, *created ? "site.create" : "site.replace", id, before, *stored);
    json_decref(before);
    return rc;
}

static int site_put_txn(portico_txn *txn, void *arg)
{
    site_write *w = arg;
    return flu_host_site_put(txn, w->id, w->site, w->now, &w->created, &w->stored);
}

int flu_route_site_put(portico_ctx *ctx)
{
    const char *id = flu_host->param(ctx, "site");
    json_t *body = NULL;
    if (flu_host->body_json(ctx, &body) != PORTICO_OK)
        return PORTICO_OK;
    json_t *site = NULL, *errors = NULL;
    flu_site_build(&site, &errors, id ? id : "", body, &flu_host_clock);
    json_decref(body);
    if (errors != NULL) {
        json_decref(site);
        flu_host->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    char now[21];
    flu_host->time_format(now, flu_host->now_ms() / 1000);
    site_write w = {.id = id, .site = site, .now = now};
    int rc = flu_host->write(ctx, site_put_txn, &w);
    if (rc == PORTICO_OK) {
        flu_host->respond_json(ctx, w.created ? 201 : 200, w.stored);
        w.stored = NULL;
    } else {
        flu_host_store_error(ctx, rc);
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
    w->in_use = false;
    char key[96];
    json_t *before = NULL;
    int rc = flu_host_site_get(txn, w->id, &before);
    if (rc != PORTICO_OK)
        return rc;
    int64_t n = 0;
    snprintf(key, sizeof(key), "count/site/%s", w->id);
    rc = flu_host_counter_get(txn, key, &n);
    if (rc == PORTICO_OK && n > 0) {
        w->in_use = true;
        rc = PORTICO_EEXISTS;
    }
    if (rc == PORTICO_OK) {
        snprintf(key, sizeof(key), "site/%s", w->id);
        rc = flu_host->del(txn, key);
    }
    if (rc == PORTICO_OK)
        rc = flu_host->audit(txn, "site.delete", w->id, before, NULL);
    json_decref(before);
    return rc;
}

int flu_route_site_delete(portico_ctx *ctx)
{
    const char *id = flu_host->param(ctx, "site");
    if (!flu_site_id_valid(id)) {
        flu_host->respond_problem(ctx, 404, "not_found", "no such site");
        return PORTICO_OK;
    }
    site_write w = {.id = id};
    int rc = flu_host->write(ctx, site_delete_txn, &w);
    if (rc == PORTICO_OK)
        flu_host->respond_bytes(ctx, 204, NULL, NULL, 0);
    else if (w.in_use)
        flu_host->respond_problem(ctx, 409, "conflict",
                                  "vaccinations were recorded at this site; it cannot be deleted");
    else if (rc == PORTICO_ENOTFOUND)
        flu_host->respond_problem(ctx, 404, "not_found", "no such site");
    else
        flu_host_store_error(ctx, rc);
    return PORTICO_OK;
}

typedef struct site_page {
    size_t limit;
    json_t *items;
    bool more;
} site_page;

static int page_site(const char *key, const json_t *value, void *arg)
{
    site_page *p = arg;
    (void)key;
    if (json_array_size(p->items) == p->limit) {
        p->more = true;
        return PORTICO_ESTOP;
    }
    return json_array_append_new(p->items, json_deep_copy(value)) == 0 ? PORTICO_OK
                                                                       : PORTICO_ENOMEM;
}

typedef struct site_list {
    site_page page;
    const char *after; /* "site/<cursor>" or NULL */
} site_list;

static int sites_list_txn(portico_txn *txn, void *arg)
{
    site_list *l = arg;
    json_array_clear(l->page.items);
    l->page.more = false;
    int rc = flu_host->scan(txn, "site/", l->after, false, page_site, &l->page);
    return rc == PORTICO_ESTOP ? PORTICO_OK : rc;
}

/* limit 1..500 (default 50); false for anything else. */
static bool parse_limit(size_t *out, const char *s)
{
    *out = SITES_LIMIT_DEFAULT;
    if (s == NULL)
        return true;
    if (*s < '0' || *s > '9' || strlen(s) > 4)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < 1 || v > SITES_LIMIT_MAX)
        return false;
    *out = v;
    return true;
}

int flu_route_sites_list(portico_ctx *ctx)
{
    site_list l = {{0}, NULL};
    if (!parse_limit(&l.page.limit, flu_host->query(ctx, "limit"))) {
        flu_host->respond_problem(ctx, 400, "bad_request", "limit must be an integer 1..500");
        return PORTICO_OK;
    }
    const char *cursor = flu_host->query(ctx, "cursor");
    char after[96];
    if (cursor != NULL && cursor[0] != '\0') {
        if (!flu_site_id_valid(cursor)) {
            flu_host->respond_problem(ctx, 400, "bad_request", "cursor is not valid");
            return PORTICO_OK;
        }
        snprintf(after, sizeof(after), "site/%s", cursor);
        l.after = after;
    }
    l.page.items = json_array();
    int rc = l.page.items ? flu_host->read(ctx, sites_list_txn, &l) : PORTICO_ENOMEM;
    if (rc != PORTICO_OK) {
        json_decref(l.page.items);
        flu_host_store_error(ctx, rc);
        return PORTICO_OK;
    }
    json_t *last = json_array_get(l.page.items, json_array_size(l.page.items) - 1);
    json_t *next = l.page.more ? json_copy(json_object_get(last, "id")) : json_null();
    flu_host->respond_json(ctx, 200,
                           json_pack("{s:o, s:o}", "items", l.page.items, "next_cursor", next));
    return PORTICO_OK;
}
