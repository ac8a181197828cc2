/*
 * portlet_ctx.h - the host's side of a portico_ctx: what one request (or
 * one summary, notice, demo or config check) carries while portlet code
 * runs.  Internal to server/host/.
 *
 * The public head (portico_ctx) comes first, so the host turns the
 * portlet's ctx pointer back into this struct with a cast; a portlet only
 * ever reads the head.
 */
#ifndef PT_PORTLET_CTX_H
#define PT_PORTLET_CTX_H

#include "host/plugins.h"

typedef struct pt_pctx {
    portico_ctx pub;
    portico_caller caller;
    pt_app *app;
    const pt_portlet *portlet;
    const pt_route_binding *binding; /* NULL outside a route */
    pt_req *req;                     /* NULL outside a request */
    pt_res *res;
    const char *org; /* the caller's active organisation, or NULL */
    json_t *config;  /* owned: the org's config with defaults */
    json_t *body;    /* owned: the validated JSON body, or NULL */
    json_t *person;  /* owned: the caller's person view, or NULL */
    pt_txn *snap;    /* the read snapshot reads use, or NULL */
    bool own_snap;   /* snap was begun for this ctx (and is ended by it) */
    bool req_snap;   /* snap is the request's (pt_req_snapshot) */
    bool read_only;  /* summary/notices: write() is refused */
    bool answered;   /* a respond_* went out */
    int32_t today;   /* the org's local date, once known; INT32_MIN before */
    char bad[160];   /* why page() refused the query, for respond_error */
} pt_pctx;

static inline pt_pctx *pt_pctx_of(const portico_ctx *ctx)
{
    return (pt_pctx *)ctx;
}

/* Fills the head for portlet p (no caller, no request). */
void pt_pctx_init(pt_pctx *c, pt_app *app, const pt_portlet *p);
/* Sets the caller the portlet sees (c->caller points into pc). */
void pt_pctx_set_caller(pt_pctx *c, const pt_caller *pc);
/* Ends an owned snapshot and drops everything owned. */
void pt_pctx_release(pt_pctx *c);

/* Runs fn in the ctx's snapshot, beginning one if there is none yet (and
 * keeping it for the next read of the same ctx). */
int pt_pctx_read(pt_pctx *c, pt_txn_fn fn, void *arg);
/* The org's local date, read once per ctx. */
int32_t pt_pctx_today(pt_pctx *c);

/* ---- the storage half of the host table (portlet_storage.c) ------------- */

struct portico_txn {
    pt_txn *txn;
    pt_pctx *ctx;
    bool write;
};

int pt_ph_read(portico_ctx *ctx, portico_txn_fn fn, void *arg);
int pt_ph_write(portico_ctx *ctx, portico_txn_fn fn, void *arg);
int pt_ph_key(char *buf, size_t cap, const char *part, ...) __attribute__((sentinel));
int pt_ph_get(portico_txn *txn, const char *key, json_t **out);
int pt_ph_put(portico_txn *txn, const char *key, const json_t *value);
int pt_ph_insert(portico_txn *txn, const char *key, const json_t *value);
int pt_ph_del(portico_txn *txn, const char *key);
int pt_ph_put_bytes(portico_txn *txn, const char *key, const char *content_type, const void *data,
                    size_t len);
int pt_ph_get_bytes(portico_txn *txn, const char *key, const void **data, size_t *len,
                    const char **content_type);
int pt_ph_scan(portico_txn *txn, const char *prefix, const char *after, bool reverse,
               portico_scan_fn fn, void *arg);
int pt_ph_page(portico_txn *txn, const char *prefix, bool reverse, portico_scan_fn fn, void *arg,
               json_t **next_cursor);
int pt_ph_next_seq(portico_txn *txn, const char *name, uint64_t *out);
int pt_ph_counter_add(portico_txn *txn, const char *name, int64_t delta, int64_t *out);
int pt_ph_counter_get(portico_txn *txn, const char *name, int64_t *out);
int pt_ph_people_each(portico_txn *txn, portico_person_fn fn, void *arg);
int pt_ph_person_get(portico_txn *txn, const char *username, json_t **out);
int pt_ph_people_count(portico_txn *txn, const char *staff_group, enum portico_status status,
                       int64_t *out);
int pt_ph_org_get(portico_txn *txn, json_t **out);
int pt_ph_audit(portico_txn *txn, const char *action, const char *target, const json_t *before,
                const json_t *after);

/* Store errors a portlet may see are its own result codes; the rest fold
 * into PORTICO_ERR. */
int pt_ph_result(int err);

#endif
