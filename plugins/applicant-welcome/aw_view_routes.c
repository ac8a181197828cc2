/*
 * aw_view_routes.c - what an applicant sees: the published content with
 * their own checklist progress (the first view is counted as "opened"),
 * and marking checklist items done or not done.  Administrators may
 * preview the same view; nobody sees a draft here, and progress is only
 * ever the caller's own.
 */
#include "aw_host.h"

#include <string.h>

typedef struct view_read {
    const portico_host *h;
    const char *user;
    bool applicant;
    json_t *published, *progress, *opened;
} view_read;

static void view_read_free(view_read *r)
{
    json_decref(r->published);
    json_decref(r->progress);
    json_decref(r->opened);
    r->published = r->progress = r->opened = NULL;
}

static int user_key(const portico_host *h, char *buf, size_t cap, const char *what,
                    const char *user)
{
    return h->key(buf, cap, what, user, NULL);
}

static int view_txn(portico_txn *txn, void *arg)
{
    view_read *r = arg;
    const portico_host *h = r->h;
    view_read_free(r);
    int rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, &r->published);
    if (rc != PORTICO_OK || r->published == NULL || !r->applicant)
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

static json_t *targets_list(const json_t *content)
{
    json_t *targets = aw_targets_build(content), *list = json_array();
    const char *t;
    json_t *kind;
    json_object_foreach(targets, t, kind) json_array_append_new(list, json_string(t));
    json_decref(targets);
    return list;
}

static json_t *actions_list(void)
{
    json_t *list = json_array();
    for (size_t i = 0; aw_actions[i] != NULL; i++)
        json_array_append_new(list, json_string(aw_actions[i]));
    return list;
}

static json_t *view_body(const view_read *r, const portico_caller *who)
{
    const json_t *content = json_object_get(r->published, "content");
    int done, total;
    json_t *checklist = aw_checklist_view(json_object_get(content, "checklist"),
                                          json_object_get(r->progress, "items"), &done, &total);
    json_t *start = r->applicant ? json_object_get(who->person, "start_date") : NULL;
    return json_pack("{s:O?, s:O?, s:O, s:o, s:o, s:o, s:O?, s:b, s:{s:o, s:o}}", "version",
                     json_object_get(r->published, "version"), "published_at",
                     json_object_get(r->published, "published_at"), "content", content, "contrast",
                     aw_contrast_json(json_object_get(content, "branding")), "checklist",
                     checklist ? checklist : json_array(), "progress",
                     aw_progress_json(done, total), "start_date",
                     json_is_string(start) ? start : NULL, "preview", !r->applicant, "interactions",
                     "targets", targets_list(content), "actions", actions_list());
}

int aw_route_view(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    view_read r = {h, who->username, who->status == PORTICO_STATUS_APPLICANT, NULL, NULL, NULL};
    int rc = h->read(ctx, view_txn, &r);
    if (rc == PORTICO_OK && r.published == NULL) {
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
    json_t *body = rc == PORTICO_OK ? view_body(&r, who) : NULL;
    view_read_free(&r);
    if (body != NULL)
        h->respond_json_etag(ctx, body);
    else
        h->respond_error(ctx, rc != PORTICO_OK ? rc : PORTICO_ENOMEM, NULL);
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

static int checklist_mark(portico_ctx *ctx, bool done)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    const char *id = h->param(ctx, "item");
    view_read r = {h, who->username, false, NULL, NULL, NULL};
    int rc = h->read(ctx, view_txn, &r);
    const json_t *checklist = json_object_get(json_object_get(r.published, "content"), "checklist");
    const json_t *item = aw_checklist_find(checklist, id);
    if (rc != PORTICO_OK || item == NULL) {
        if (rc == PORTICO_OK)
            h->respond_problem(ctx, 404, "not_found",
                               "the published checklist has no item with this id");
        else
            h->respond_error(ctx, rc, NULL);
        view_read_free(&r);
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
    view_read_free(&r);
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
