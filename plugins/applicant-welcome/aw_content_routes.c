/*
 * aw_content_routes.c - the content administrator's draft: read it next
 * to the published version, save it (checked for plain text, https URLs,
 * alt text and WCAG contrast), and publish it as a new version.
 */
#include "aw_host.h"

#include <stdio.h>
#include <string.h>

typedef struct content_read {
    const portico_host *h;
    json_t *draft, *published;
} content_read;

static int content_read_txn(portico_txn *txn, void *arg)
{
    content_read *r = arg;
    return aw_store_content_read(r->h, txn, &r->draft, &r->published);
}

/*
 * If-Match against the draft revision and published version: two
 * administrators editing at once do not overwrite each other, and what is
 * published is what the publisher last saw.  Answers the request and
 * returns false when the precondition fails or the state cannot be read;
 * *etag gets the tag the write must still find.
 */
static bool precondition_ok(portico_ctx *ctx, char etag[64], bool *checked)
{
    const portico_host *h = ctx->host;
    *checked = h->header(ctx, "If-Match") != NULL;
    etag[0] = '\0';
    if (!*checked)
        return true;
    content_read r = {h, NULL, NULL};
    int rc = h->read(ctx, content_read_txn, &r);
    if (rc == PORTICO_OK)
        aw_store_etag(etag, r.draft, r.published);
    json_decref(r.draft);
    json_decref(r.published);
    if (rc != PORTICO_OK) {
        h->respond_error(ctx, rc, NULL);
        return false;
    }
    return h->precondition(ctx, etag);
}

static void respond_stale(portico_ctx *ctx)
{
    ctx->host->respond_problem(ctx, 412, "precondition_failed",
                               "the content changed since it was read: read it again");
}

int aw_route_content_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    content_read r = {h, NULL, NULL};
    int rc = h->read(ctx, content_read_txn, &r);
    if (rc == PORTICO_OK) {
        char etag[64];
        aw_store_etag(etag, r.draft, r.published);
        if (!h->not_modified(ctx, etag)) {
            json_t *body =
                json_pack("{s:o, s:o}", "draft", aw_draft_view(r.draft, r.published), "published",
                          r.published ? aw_version_view(r.published, true) : json_null());
            if (body != NULL)
                h->respond_json(ctx, 200, body);
            else
                rc = PORTICO_ENOMEM;
        }
    }
    json_decref(r.draft);
    json_decref(r.published);
    if (rc != PORTICO_OK)
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

/*
 * The draft and published content as stored, checked against the client's
 * If-Match inside the write's own transaction, so a save or publish never
 * lands on content that changed after the client read it (*stale, 409 ->
 * answered 412 by the route).
 */
static int content_read_current(const portico_host *h, portico_txn *txn, const char *expect_etag,
                                json_t **draft, json_t **published, bool *stale)
{
    *stale = false;
    int rc = aw_store_content_read(h, txn, draft, published);
    if (rc != PORTICO_OK)
        return rc;
    char etag[64];
    aw_store_etag(etag, *draft, *published);
    if (expect_etag != NULL && strcmp(etag, expect_etag) != 0) {
        *stale = true;
        return PORTICO_ECONFLICT;
    }
    return PORTICO_OK;
}

typedef struct draft_write {
    const portico_host *h;
    const json_t *content;
    const char *expect_etag; /* NULL: no If-Match */
    const char *now, *user;
    bool stale;
    json_t *draft, *published; /* as stored after the write */
} draft_write;

static int draft_txn(portico_txn *txn, void *arg)
{
    draft_write *w = arg;
    const portico_host *h = w->h;
    int rc = content_read_current(h, txn, w->expect_etag, &w->draft, &w->published, &w->stale);
    if (rc != PORTICO_OK)
        return rc;
    json_int_t before = json_integer_value(json_object_get(w->draft, "revision"));
    json_t *rec = aw_draft_record(w->content, before + 1, w->now, w->user, 0);
    if (rec == NULL)
        return PORTICO_ENOMEM;
    json_decref(w->draft);
    w->draft = rec;
    rc = h->put(txn, AW_KEY_DRAFT, rec);
    if (rc != PORTICO_OK)
        return rc;
    /* Revisions only: the content itself can be large and is in the
     * versions once published. */
    json_t *b = json_pack("{s:I}", "revision", before);
    json_t *a = json_pack("{s:I, s:O?}", "revision", before + 1, "headline",
                          json_object_get(w->content, "headline"));
    rc = h->audit(txn, "content.save", "content/draft", b, a);
    json_decref(b);
    json_decref(a);
    return rc;
}

int aw_route_content_put(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const json_t *body = h->body(ctx);
    aw_errors e = {h, json_array()};
    if (e.errors == NULL) {
        h->respond_error(ctx, PORTICO_ENOMEM, NULL);
        return PORTICO_OK;
    }
    if (aw_content_check(body, aw_errors_add, &e) > 0) {
        h->respond_invalid(ctx, e.errors);
        return PORTICO_OK;
    }
    json_decref(e.errors);
    char etag[64], now[21];
    bool checked;
    if (!precondition_ok(ctx, etag, &checked))
        return PORTICO_OK;
    aw_now(ctx, now);
    draft_write w = {h, body, checked ? etag : NULL, now, ctx->caller->username, false, NULL, NULL};
    int rc = h->write(ctx, draft_txn, &w);
    if (rc == PORTICO_OK) {
        aw_store_etag(etag, w.draft, w.published);
        h->set_header(ctx, "ETag", etag);
        json_t *view = aw_draft_view(w.draft, w.published);
        if (view != NULL)
            h->respond_json(ctx, 200, view);
        else
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
    } else if (w.stale) {
        respond_stale(ctx);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(w.draft);
    json_decref(w.published);
    return PORTICO_OK;
}

/* A fresh random stamp per publish: the cached applicant view of the
 * organisation is keyed by it, so no request ever renders an older
 * version (or, after a restore of the store, different content under a
 * version number seen before). */
static int stamp_put(const portico_host *h, portico_txn *txn, json_int_t version)
{
    unsigned char rnd[12];
    char hex[2 * sizeof rnd + 1];
    int rc = h->random_bytes(rnd, sizeof rnd);
    if (rc != PORTICO_OK)
        return rc;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    json_t *stamp = json_pack("{s:I, s:s}", "version", version, "stamp", hex);
    rc = stamp ? h->put(txn, AW_KEY_STAMP, stamp) : PORTICO_ENOMEM;
    json_decref(stamp);
    return rc;
}

/*
 * The next version: the content as it stands, who and when, and the date
 * it is due for review.  The previous versions stay as they were (restore
 * makes one the draft again); "published" and the interaction targets
 * follow the new version so the applicant view reads one key.
 */
int aw_publish_txn(const portico_host *h, portico_txn *txn, const json_t *draft_content,
                   json_int_t restored_from, const char *at, const char *by, const char *review_due,
                   json_t **version)
{
    json_decref(*version);
    *version = NULL;
    json_t *prev = NULL;
    int rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, &prev);
    if (rc != PORTICO_OK)
        return rc;
    json_int_t n = json_integer_value(json_object_get(prev, "version")) + 1;
    *version = aw_version_record(draft_content, n, at, by, review_due, restored_from);
    json_t *targets =
        json_pack("{s:I, s:o}", "version", n, "targets", aw_targets_build(draft_content));
    char key[PORTICO_KEY_MAX + 1];
    rc = *version && targets ? aw_store_version_key(h, key, sizeof key, n) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        rc = h->insert(txn, key, *version);
    if (rc == PORTICO_EEXISTS)
        rc = PORTICO_ECONFLICT;
    if (rc == PORTICO_OK)
        rc = h->put(txn, AW_KEY_PUBLISHED, *version);
    if (rc == PORTICO_OK)
        rc = h->put(txn, AW_KEY_TARGETS, targets);
    if (rc == PORTICO_OK)
        rc = stamp_put(h, txn, n);
    if (rc == PORTICO_OK) {
        char target[48];
        snprintf(target, sizeof target, "content/versions/%lld", (long long)n);
        json_t *b = prev ? json_pack("{s:O?, s:O?}", "version", json_object_get(prev, "version"),
                                     "review_due", json_object_get(prev, "review_due"))
                         : json_null();
        json_t *a = json_pack("{s:I, s:s, s:O?, s:O?}", "version", n, "review_due", review_due,
                              "restored_from", json_object_get(*version, "restored_from"),
                              "headline", json_object_get(draft_content, "headline"));
        rc = h->audit(txn, "content.publish", target, b, a);
        json_decref(b);
        json_decref(a);
    }
    json_decref(targets);
    json_decref(prev);
    return rc;
}

typedef struct publish_write {
    const portico_host *h;
    const char *expect_etag;
    const char *now, *user, *review_due;
    bool stale;
    json_t *draft, *published, *version;
} publish_write;

static int publish_txn(portico_txn *txn, void *arg)
{
    publish_write *w = arg;
    const portico_host *h = w->h;
    int rc = content_read_current(h, txn, w->expect_etag, &w->draft, &w->published, &w->stale);
    if (rc != PORTICO_OK)
        return rc;
    if (w->draft == NULL) {
        /* Nothing saved yet: the default draft is what GET showed and what
         * is published; keep it as the draft too. */
        json_t *content = aw_default_content();
        w->draft = content ? aw_draft_record(content, 1, w->now, w->user, 0) : NULL;
        json_decref(content);
        if (w->draft == NULL)
            return PORTICO_ENOMEM;
        rc = h->put(txn, AW_KEY_DRAFT, w->draft);
        if (rc != PORTICO_OK)
            return rc;
    }
    return aw_publish_txn(h, txn, json_object_get(w->draft, "content"),
                          json_integer_value(json_object_get(w->draft, "restored_from")), w->now,
                          w->user, w->review_due, &w->version);
}

int aw_route_content_publish(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    char etag[64], now[21], due[11];
    bool checked;
    if (!precondition_ok(ctx, etag, &checked))
        return PORTICO_OK;
    aw_now(ctx, now);
    h->date_format(due, h->today(ctx) + aw_config_review_days(ctx));
    publish_write w = {
        h, checked ? etag : NULL, now, ctx->caller->username, due, false, NULL, NULL, NULL};
    int rc = h->write(ctx, publish_txn, &w);
    if (rc == PORTICO_OK) {
        char location[96];
        snprintf(location, sizeof location, AW_BASE "/content/versions/%lld",
                 (long long)json_integer_value(json_object_get(w.version, "version")));
        h->set_header(ctx, "Location", location);
        aw_store_etag(etag, w.draft, w.version);
        h->set_header(ctx, "ETag", etag);
        json_t *view = aw_version_view(w.version, true);
        if (view != NULL)
            h->respond_json(ctx, 201, view);
        else
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
    } else if (w.stale) {
        respond_stale(ctx);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(w.draft);
    json_decref(w.published);
    json_decref(w.version);
    return PORTICO_OK;
}
