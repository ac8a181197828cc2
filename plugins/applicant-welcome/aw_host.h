/*
 * aw_host.h - what the applicant-welcome route handlers share: storage
 * keys, small storage helpers over the host table, and the handlers the
 * descriptor lists.  Every function takes the host from ctx->host (or the
 * host pointer passed down into a transaction).
 *
 * Keys (all scoped by the host to this portlet and the organisation):
 *   draft, published, version/<%010d>   the content (aw_records.h)
 *   stamp                                {version, stamp}: a random stamp per publish
 *                                        (keys the cached applicant view, aw_view.h)
 *   targets                              {version, targets} of the published content
 *   progress/<user>                      {items: {id: {completed_at, date}}}
 *   opened/<user>                        {date, at}: first view, counted once
 *   item/<id>                            {id, title}: items ever completed (analytics rows)
 *   pair/<hash>/<action>                 {target, action}: pairs ever recorded
 *   pu/<hash>/<action>/<user>/<date>     {u, d}: one per person, pair and day
 * Counters (per organisation-local date):
 *   n/o/<date>                    applicants who first opened the view that day
 *   n/i/<date>/<hash>/<action>    interactions with a target
 *   n/p/<date>/<hash>/<action>    distinct people behind them that day
 *   n/c/<date>/<id>               checklist completions made that day (undo subtracts)
 */
#ifndef AW_HOST_H
#define AW_HOST_H

#include "aw_records.h"
#include "aw_view.h"

#include <portico/portlet.h>

#define AW_BASE "/api/v1/portlets/" AW_ID

#define AW_KEY_DRAFT     "draft"
#define AW_KEY_PUBLISHED "published"
#define AW_KEY_TARGETS   "targets"
#define AW_KEY_STAMP     "stamp"

/* What init() keeps (ctx->state): the cache of applicant views. */
typedef struct aw_state {
    aw_view_cache *views;
} aw_state;

/* get() that treats a missing key as *out = NULL and PORTICO_OK. */
int aw_store_get(const portico_host *h, portico_txn *txn, const char *key, json_t **out);
/* "version/<%010d>" into buf (PORTICO_KEY_MAX + 1 bytes). */
int aw_store_version_key(const portico_host *h, char *buf, size_t cap, json_int_t version);
/* The draft and published records (NULL when absent), in one transaction. */
int aw_store_content_read(const portico_host *h, portico_txn *txn, json_t **draft,
                          json_t **published);
/* The weak entity tag of the editable state: draft revision and published
 * version ("\"aw-d3-v2\""). */
void aw_store_etag(char out[64], const json_t *draft, const json_t *published);

/* The organisation's review period from the config (default 90). */
int aw_config_review_days(portico_ctx *ctx);

/* A validation error sink over host->invalid_add for aw_content_check. */
typedef struct aw_errors {
    const portico_host *h;
    json_t *errors;
} aw_errors;
void aw_errors_add(void *arg, const char *pointer, const char *message);

/* Today's organisation-local date as "YYYY-MM-DD", and the time now. */
void aw_today(portico_ctx *ctx, char out[11]);
void aw_now(portico_ctx *ctx, char out[21]);

/* Records the completion (or undo) of a checklist item in the caller's
 * progress, with its counters, in a write transaction: the one path the
 * route and the demo data share.  *changed says whether anything moved. */
int aw_progress_set(const portico_host *h, portico_txn *txn, const char *user, const json_t *item,
                    bool done, const char *date, const char *at, bool *changed, json_t **progress);

/* Publishes content as the next version (draft kept), audited; *version
 * gets the stored record.  Shared by the route and the demo. */
int aw_publish_txn(const portico_host *h, portico_txn *txn, const json_t *draft_content,
                   json_int_t restored_from, const char *at, const char *by, const char *review_due,
                   json_t **version);

int aw_route_view(portico_ctx *ctx);               /* GET    .../applicant-welcome */
int aw_route_content_get(portico_ctx *ctx);        /* GET    .../content */
int aw_route_content_put(portico_ctx *ctx);        /* PUT    .../content */
int aw_route_content_publish(portico_ctx *ctx);    /* POST   .../content/publish */
int aw_route_versions_list(portico_ctx *ctx);      /* GET    .../content/versions */
int aw_route_version_get(portico_ctx *ctx);        /* GET    .../content/versions/{n} */
int aw_route_version_restore(portico_ctx *ctx);    /* POST   .../content/versions/{n}/restore */
int aw_route_review(portico_ctx *ctx);             /* GET    .../content/review */
int aw_route_checklist_complete(portico_ctx *ctx); /* POST   .../checklist/{item}/complete */
int aw_route_checklist_undo(portico_ctx *ctx);     /* DELETE .../checklist/{item}/complete */
int aw_route_interaction(portico_ctx *ctx);        /* POST   .../interactions */
int aw_route_analytics(portico_ctx *ctx);          /* GET    .../analytics */

int aw_summary(portico_ctx *ctx, const char *dashboard, json_t **out);
int aw_demo(portico_ctx *ctx, json_t **config);

#endif
