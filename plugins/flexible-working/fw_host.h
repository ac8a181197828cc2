/*
 * fw_host.h - the parts of the flexible-working portlet that talk to the
 * host: storage layout, the transaction bodies every route shares, and
 * the route handlers.
 *
 * Storage (all scoped by the host to this portlet and the organisation):
 *   req/<id>                   the request, with its history
 *   mine/<user>/<id>           {id, received}: a requester's requests
 *   team/<manager>/<id>        {id}: requests made while reporting to manager
 *   await/<manager>/<id>       {id, decision_due}: open requests, for the card
 *   status/<state>/<id>        {id}: every request, by its current state
 *   due/<decision_due>/<id>    {id, received}: open requests, by deadline
 *   open/<user>                {id}: the requester's request in progress
 *   day/<received>             the per-day aggregate the report reads
 * <id> is a zero-padded sequence number, so every list sorts by age.
 *
 * Every host call goes through ctx->host, or the host pointer a
 * transaction callback was handed in its argument: no global state.
 */
#ifndef FW_HOST_H
#define FW_HOST_H

#include "fw.h"

#include <portico/portlet.h>

#define FW_BASE   "/api/v1/portlets/" FW_ID
#define FW_ID_LEN 10

/* ---- keys and records (fw_store.c) ---------------------------------------- */

/* True if s is a request id as this portlet writes them (10 digits). */
bool fw_id_valid(const char *s);
int fw_request_get(const portico_host *h, portico_txn *txn, const char *id, json_t **rec);
int fw_request_put(const portico_host *h, portico_txn *txn, json_t *rec);
/* The request's state. */
fw_state fw_request_state(const json_t *rec);
/* days since the epoch of a stored "YYYY-MM-DD" field; -1 if absent. */
int32_t fw_date_field(const portico_host *h, const json_t *obj, const char *name);
/* The current manager of username (person record), "" if none; copied. */
void fw_manager_of(const portico_host *h, portico_txn *txn, const char *username, char *out,
                   size_t cap);

/* Per-day aggregate of the requests received on `received`. */
int fw_day_load(const portico_host *h, portico_txn *txn, int32_t received, json_t **agg);
int fw_day_store(const portico_host *h, portico_txn *txn, int32_t received, json_t *agg);

/* Keeps the indices of an open request (open/, await/, due/). */
int fw_open_index_put(const portico_host *h, portico_txn *txn, const json_t *rec);
int fw_open_index_del(const portico_host *h, portico_txn *txn, const json_t *rec);

/*
 * The one place a request changes state: moves rec from its current state
 * to `to` (possibly the same), keeps the status, open and deadline
 * indices and the day aggregate's status counts in step, appends
 * {event, from, to, at, by} plus the fields of `extra` (borrowed, may be
 * NULL) to its history and writes the audit entry "request.<event>".
 * The caller stores rec (fw_request_put) and agg afterwards.
 */
int fw_transition_apply(const portico_host *h, portico_txn *txn, json_t *rec, json_t *agg,
                        fw_event ev, fw_state to, const char *actor, int64_t now,
                        const json_t *extra);

/* ---- creating a request (fw_create.c) -------------------------------------- */

typedef struct fw_new {
    const portico_host *h;
    const json_t *body;   /* checked against the route's schema */
    const json_t *person; /* the requester's person record */
    const char *username;
    fw_policy policy;
    int64_t now; /* seconds */
    int32_t today;
    /* out */
    int http; /* a refusal to send (0: none) */
    const char *code;
    char detail[200];
    json_t *rec;
} fw_new;

/* The write transaction of POST /requests (also used by the demo). */
int fw_create_txn(portico_txn *txn, void *arg);

/* ---- acting on a request (fw_actions.c) ------------------------------------ */

typedef struct fw_act {
    const portico_host *h;
    fw_event event;
    const char *id;
    const json_t *body; /* checked against the route's schema; may be NULL */
    const char *actor;
    unsigned roles; /* PORTICO_ROLE_* of the actor */
    bool trusted;   /* the demo loader: no who-may-act checks */
    int64_t now;
    int32_t today;
    /* out */
    int http;
    const char *code;
    char detail[200];
    json_t *errors; /* 422 list */
    json_t *rec;
} fw_act;

int fw_act_txn(portico_txn *txn, void *arg);
/* May this caller read the request (requester, current manager, hr_admin)? */
bool fw_may_read(const portico_host *h, portico_txn *txn, const json_t *rec, const char *user,
                 unsigned roles);

/* ---- views (fw_view.c) ----------------------------------------------------- */

/* The request as the API shows it: full (with history) or as a list item.
 * New reference. */
json_t *fw_request_view(const portico_host *h, const json_t *rec, int32_t today, bool full);
bool fw_request_overdue(const portico_host *h, const json_t *rec, int32_t today);

/* ---- routes ---------------------------------------------------------------- */

int fw_route_create(portico_ctx *ctx);
int fw_route_list(portico_ctx *ctx);
int fw_route_get(portico_ctx *ctx);
int fw_route_meeting(portico_ctx *ctx);
int fw_route_decision(portico_ctx *ctx);
int fw_route_withdraw(portico_ctx *ctx);
int fw_route_appeal(portico_ctx *ctx);
int fw_route_appeal_decision(portico_ctx *ctx);
int fw_route_extension(portico_ctx *ctx);
int fw_route_extension_agree(portico_ctx *ctx);
int fw_route_treat_withdrawn(portico_ctx *ctx);
int fw_route_report(portico_ctx *ctx);

int fw_summary(portico_ctx *ctx, const char *dashboard, json_t **out);
int fw_demo(portico_ctx *ctx, json_t **config);

#endif
