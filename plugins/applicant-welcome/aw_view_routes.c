/*
 * aw_view_routes.c - what an applicant sees: the published content with
 * their own checklist progress (the first view is counted as "opened"),
 * and marking checklist items done or not done.  Administrators may
 * preview the same view; nobody sees a draft here, and progress is only
 * ever the caller's own.
 */
#include "aw_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct view_read {
    const portico_host *h;
    aw_view_cache *cache;
    const char *org, *user;
    bool applicant;
    bool published;
    aw_view_entry *entry;      /* the shared parts, from the cache */
    aw_view_static *uncached;  /* ... or built for this request only */
    json_t *progress, *opened; /* the applicant's own */
} view_read;

static void view_read_free(view_read *r)
{
    aw_view_cache_release(r->cache, r->entry);
    aw_view_static_free(r->uncached);
    json_decref(r->progress);
    json_decref(r->opened);
    r->entry = NULL;
    r->uncached = NULL;
    r->progress = r->opened = NULL;
    r->published = false;
}

static int user_key(const portico_host *h, char *buf, size_t cap, const char *what,
                    const char *user)
{
    return h->key(buf, cap, what, user, NULL);
}

/* The shared parts of the view for the published version: from the cache
 * when the stamp of the latest publish finds them, else built from the
 * version record (and kept). */
static int view_static_read(view_read *r, portico_txn *txn)
{
    const portico_host *h = r->h;
    json_t *stamp = NULL, *published = NULL;
    int rc = aw_store_get(h, txn, AW_KEY_STAMP, &stamp);
    const char *s = json_string_value(json_object_get(stamp, "stamp"));
    if (rc == PORTICO_OK && s != NULL && r->cache != NULL)
        r->entry = aw_view_cache_get(r->cache, r->org, s);
    if (rc == PORTICO_OK && r->entry == NULL)
        rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, &published);
    if (rc == PORTICO_OK && r->entry == NULL && published != NULL) {
        aw_view_static *built = aw_view_static_build(published);
        if (built == NULL)
            rc = PORTICO_ENOMEM;
        else if (s != NULL && r->cache != NULL)
            rc = (r->entry = aw_view_cache_put(r->cache, r->org, s, built)) ? PORTICO_OK
                                                                            : PORTICO_ENOMEM;
        else
            r->uncached = built;
    }
    r->published = r->entry != NULL || r->uncached != NULL;
    json_decref(published);
    json_decref(stamp);
    return rc;
}

static int view_txn(portico_txn *txn, void *arg)
{
    view_read *r = arg;
    const portico_host *h = r->h;
    view_read_free(r);
    int rc = view_static_read(r, txn);
    if (rc != PORTICO_OK || !r->published || !r->applicant)
        return rc;
    char key[PORTICO_KEY_MAX + 1];
    rc = user_key(h, key, sizeof key, "progress", r->user);
    if (rc == PORTICO_OK)
        rc = aw_store_get(h, txn, key, &r->progress);
    if (rc == PORTICO_OK)
        rc = user_key(h, key, sizeof key, "opened", r->user);
    if (rc == PORTICO_OK)
        rc = aw_store_get(h, txn, key, &r->opened);
    return rc;
}

typedef struct open_write {
    const portico_host *h;
    const char *user, *date, *at;
} open_write;

/* The marker makes the count exact under concurrent first views: only
 * the request whose insert succeeds adds to the day's counter. */
static int open_txn(portico_txn *txn, void *arg)
{
    open_write *w = arg;
    const portico_host *h = w->h;
    char key[PORTICO_KEY_MAX + 1];
    int rc = user_key(h, key, sizeof key, "opened", w->user);
    json_t *marker = json_pack("{s:s, s:s}", "date", w->date, "at", w->at);
    if (rc == PORTICO_OK)
        rc = marker ? h->insert(txn, key, marker) : PORTICO_ENOMEM;
    json_decref(marker);
    if (rc == PORTICO_EEXISTS)
        return PORTICO_OK;
    if (rc == PORTICO_OK)
        rc = h->key(key, sizeof key, "n", "o", w->date, NULL);
    if (rc == PORTICO_OK)
        rc = h->counter_add(txn, key, 1, NULL);
    return rc;
}

/* The body's own tag: FNV-1a over the bytes (an ETag need not be a
 * cryptographic hash, only change when the body does). */
static void body_etag(char out[24], const char *body, size_t len)
{
    uint64_t x = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        x ^= (unsigned char)body[i];
        x *= 0x100000001b3ull;
    }
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)x);
}

int aw_route_view(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    const aw_state *st = ctx->state;
    view_read r = {.h = h,
                   .cache = st ? st->views : NULL,
                   .org = who->org,
                   .user = who->username,
                   .applicant = who->status == PORTICO_STATUS_APPLICANT};
    int rc = h->read(ctx, view_txn, &r);
    if (rc == PORTICO_OK && !r.published) {
        h->respond_problem(ctx, 404, "not_found", "no welcome content has been published yet");
        view_read_free(&r);
        return PORTICO_OK;
    }
    if (rc == PORTICO_OK && r.applicant && r.opened == NULL) {
        char date[11], at[21];
        aw_today(ctx, date);
        aw_now(ctx, at);
        open_write w = {h, who->username, date, at};
        int wrc = h->write(ctx, open_txn, &w);
        if (wrc != PORTICO_OK) /* the next view counts it: still show the content */
            h->log(ctx, PORTICO_LOG_WARN, "recording the first view failed (%d)", wrc);
    }
    char *body = NULL;
    size_t len = 0;
    if (rc == PORTICO_OK) {
        const aw_view_static *s = r.entry ? aw_view_entry_static(r.entry) : r.uncached;
        const json_t *start = r.applicant ? json_object_get(who->person, "start_date") : NULL;
        if (aw_view_render(s, json_object_get(r.progress, "items"), start, !r.applicant, &body,
                           &len) != 0)
            rc = PORTICO_ENOMEM;
    }
    view_read_free(&r);
    if (rc == PORTICO_OK) {
        char etag[24];
        body_etag(etag, body, len);
        if (!h->not_modified(ctx, etag)) {
            h->set_header(ctx, "Cache-Control", "private, no-cache");
            h->respond_bytes(ctx, 200, "application/json; charset=utf-8", body, len);
        }
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    free(body);
    return PORTICO_OK;
}

int aw_progress_set(const portico_host *h, portico_txn *txn, const char *user, const json_t *item,
                    bool done, const char *date, const char *at, bool *changed, json_t **progress)
{
    *changed = false;
    json_decref(*progress);
    *progress = NULL;
    const char *id = json_string_value(json_object_get(item, "id"));
    char key[PORTICO_KEY_MAX + 1], ckey[PORTICO_KEY_MAX + 1];
    int rc = id ? user_key(h, key, sizeof key, "progress", user) : PORTICO_EINVAL;
    if (rc == PORTICO_OK)
        rc = aw_store_get(h, txn, key, progress);
    if (rc != PORTICO_OK)
        return rc;
    if (*progress == NULL)
        *progress = json_pack("{s:{}}", "items");
    json_t *items = json_object_get(*progress, "items");
    if (!json_is_object(items))
        return PORTICO_ENOMEM;
    json_t *existing = json_object_get(items, id);
    if (done == (existing != NULL))
        return PORTICO_OK;
    if (done) {
        json_object_set_new(items, id, json_pack("{s:s, s:s}", "completed_at", at, "date", date));
        rc = h->key(ckey, sizeof ckey, "n", "c", date, id, NULL);
        if (rc == PORTICO_OK)
            rc = h->counter_add(txn, ckey, 1, NULL);
        /* Remembered so analytics can name an item a later version dropped. */
        json_t *row = json_pack("{s:s, s:O?}", "id", id, "title", json_object_get(item, "title"));
        if (rc == PORTICO_OK)
            rc = h->key(ckey, sizeof ckey, "item", id, NULL);
        if (rc == PORTICO_OK)
            rc = row ? h->insert(txn, ckey, row) : PORTICO_ENOMEM;
        json_decref(row);
        if (rc == PORTICO_EEXISTS)
            rc = PORTICO_OK;
    } else {
        /* Undo takes the completion back from the day it was counted on. */
        const char *was = json_string_value(json_object_get(existing, "date"));
        rc = h->key(ckey, sizeof ckey, "n", "c", was ? was : date, id, NULL);
        if (rc == PORTICO_OK)
            rc = h->counter_add(txn, ckey, -1, NULL);
        json_object_del(items, id);
    }
    if (rc == PORTICO_OK)
        rc = h->put(txn, key, *progress);
    *changed = rc == PORTICO_OK;
    return rc;
}

typedef struct mark_write {
    const portico_host *h;
    const char *user, *date, *at;
    const json_t *item;
    bool done, changed;
    json_t *progress;
} mark_write;

static int mark_txn(portico_txn *txn, void *arg)
{
    mark_write *w = arg;
    return aw_progress_set(w->h, txn, w->user, w->item, w->done, w->date, w->at, &w->changed,
                           &w->progress);
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

static int checklist_mark(portico_ctx *ctx, bool done)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    const char *id = h->param(ctx, "item");
    published_read r = {h, NULL};
    int rc = h->read(ctx, published_txn, &r);
    const json_t *checklist = json_object_get(json_object_get(r.published, "content"), "checklist");
    const json_t *item = aw_checklist_find(checklist, id);
    if (rc != PORTICO_OK || item == NULL) {
        if (rc == PORTICO_OK)
            h->respond_problem(ctx, 404, "not_found",
                               "the published checklist has no item with this id");
        else
            h->respond_error(ctx, rc, NULL);
        json_decref(r.published);
        return PORTICO_OK;
    }
    char date[11], at[21];
    aw_today(ctx, date);
    aw_now(ctx, at);
    mark_write w = {h, who->username, date, at, item, done, false, NULL};
    rc = h->write(ctx, mark_txn, &w);
    if (rc == PORTICO_OK) {
        int n_done, total;
        const json_t *at_v = json_object_get(
            json_object_get(json_object_get(w.progress, "items"), id), "completed_at");
        json_t *rows =
            aw_checklist_view(checklist, json_object_get(w.progress, "items"), &n_done, &total);
        json_decref(rows);
        json_t *body = json_pack("{s:s, s:b, s:O?, s:o}", "id", id, "done", done, "completed_at",
                                 at_v, "progress", aw_progress_json(n_done, total));
        if (body != NULL)
            h->respond_json(ctx, 200, body);
        else
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(w.progress);
    json_decref(r.published);
    return PORTICO_OK;
}

int aw_route_checklist_complete(portico_ctx *ctx)
{
    return checklist_mark(ctx, true);
}

int aw_route_checklist_undo(portico_ctx *ctx)
{
    return checklist_mark(ctx, false);
}
