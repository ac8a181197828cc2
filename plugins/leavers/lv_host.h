/*
 * lv_host.h - what the leavers portlet's route handlers share: the state
 * made in init(), storage keys, answering with a document as JSON or PDF,
 * and the handlers the descriptor lists.
 *
 * Storage (scoped by the host to this portlet and the organisation):
 *   doc/<username>/<kind>/<period>  the stored record (lv_store.c)
 *   row/<username>/<kind>/<period>  its list row (lv_view_list_item), so
 *                                   lists and cards parse ~150 bytes per
 *                                   document instead of the whole record
 * Periods sort as text in time order ("2026-10", "2025-26"), so a reverse
 * walk of doc/<username>/payslip/ is newest first.
 */
#ifndef LV_HOST_H
#define LV_HOST_H

#include "lv.h"

#include <portico/portlet.h>

#define LV_BASE "/api/v1/portlets/" LV_ID
/* Largest pack: documents of one person in one PDF. */
#define LV_PACK_MAX 1000
/* Bulk body limit asked of the host (capped by its bulk_body_max). */
#define LV_BULK_BODY_MAX (32u * 1024u * 1024u)

/* Made once in init(), read-only afterwards. */
typedef struct lv_state {
    json_t *data_schema[LV_KIND_COUNT]; /* parsed lv_schema_data */
} lv_state;

/* ---- storage (lv_store.c) ------------------------------------------------ */

/* The two key spaces: whole records and list rows. */
#define LV_DOC "doc"
#define LV_ROW "row"

/* <space>/<user>/<kind>/<period> */
int lv_key_doc(const portico_ctx *ctx, char *buf, size_t cap, const char *space, const char *user,
               enum lv_kind kind, const char *period);
/* <space>/<user>/<kind>/ (kind LV_KIND_NONE: <space>/<user>/) */
int lv_key_prefix(const portico_ctx *ctx, char *buf, size_t cap, const char *space,
                  const char *user, enum lv_kind kind);
/* Stores a record (lv_record_new) and its list row. */
int lv_store_put(const portico_ctx *ctx, portico_txn *txn, const json_t *rec);
/* The stored record of a document (the data is referenced, not copied). */
json_t *lv_record_new(const char *user, enum lv_kind kind, const char *period, const json_t *data,
                      const char *loaded_at, const char *loaded_by, int64_t revision);
/* The newest stored record (or row) of a kind; PORTICO_ENOTFOUND if none. */
int lv_store_latest(const portico_ctx *ctx, portico_txn *txn, const char *space, const char *user,
                    enum lv_kind kind, json_t **out);
/* Every document of a person, P45s first, then P60s and payslips, each
 * newest first; at most LV_PACK_MAX.  *out is a new array. */
int lv_store_all(const portico_ctx *ctx, portico_txn *txn, const char *user, json_t **out);

/* ---- answering (lv_respond.c) -------------------------------------------- */

/* True if the request asked for a PDF: ?format=pdf, or an Accept header
 * that names application/pdf (with q > 0).  ?format=json wins over Accept. */
bool lv_wants_pdf(portico_ctx *ctx);
/* Answers with one stored document: masked JSON with an ETag, or its PDF
 * (person = the owner's person record, org = the organisation record). */
void lv_respond_document(portico_ctx *ctx, const json_t *stored, const json_t *person,
                         const json_t *org);
/* Answers with a PDF of all of docs (pack: with a contents page). */
void lv_respond_pdf(portico_ctx *ctx, const json_t *docs, const json_t *person, const json_t *org,
                    bool pack, const char *filename);

/* ---- handlers --------------------------------------------------------------- */

int lv_route_load(portico_ctx *ctx);       /* POST .../documents */
int lv_route_bulk(portico_ctx *ctx);       /* POST .../documents/bulk */
int lv_route_payslips(portico_ctx *ctx);   /* GET  .../payslips */
int lv_route_payslip(portico_ctx *ctx);    /* GET  .../payslips/{period} */
int lv_route_p45(portico_ctx *ctx);        /* GET  .../p45 */
int lv_route_p60s(portico_ctx *ctx);       /* GET  .../p60 */
int lv_route_p60(portico_ctx *ctx);        /* GET  .../p60/{tax_year} */
int lv_route_pack(portico_ctx *ctx);       /* GET  .../pack */
int lv_route_admin_list(portico_ctx *ctx); /* GET  .../admin/people/{username}/documents */
int lv_route_admin_get(
    portico_ctx *ctx); /* GET  .../admin/people/{username}/documents/{kind}/{period} */

int lv_summary(portico_ctx *ctx, const char *dashboard, json_t **out);
int lv_notices(portico_ctx *ctx, const char *dashboard, json_t *notices);
int lv_demo(portico_ctx *ctx, json_t **config);

#endif
