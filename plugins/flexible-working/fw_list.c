/*
 * fw_list.c - GET .../requests (scope mine, team or org; filter by status;
 * newest first, cursor-paginated by the host) and GET .../requests/{id}.
 */
#include "fw_host.h"

#include <stdio.h>
#include <string.h>

typedef struct list_walk {
    const portico_host *h;
    portico_txn *txn;
    const char *caller;
    bool team;          /* keep only requests whose requester reports to caller now */
    bool from_index;    /* values are {id} references, not requests */
    const char *status; /* NULL: any */
    int32_t today;
    json_t *items;
} list_walk;

/*
 * One visited entry: index entries are looked up; the team list keeps a
 * request only while its requester still reports to the caller (the index
 * remembers who the manager was when the request was last touched).
 */
static int list_visit(const char *key, const json_t *value, void *arg)
{
    (void)key;
    list_walk *w = arg;
    const portico_host *h = w->h;
    json_t *rec = NULL;
    const json_t *r = value;
    if (w->from_index) {
        int rc = fw_request_get(h, w->txn, json_string_value(json_object_get(value, "id")), &rec);
        if (rc == PORTICO_ENOTFOUND)
            return PORTICO_SKIP;
        if (rc != PORTICO_OK)
            return rc;
        r = rec;
    }
    int rc = PORTICO_OK;
    if (w->status != NULL && fw_request_state(r) != fw_state_parse(w->status))
        rc = PORTICO_SKIP;
    if (rc == PORTICO_OK && w->team) {
        char mgr[128];
        fw_manager_of(h, w->txn, json_string_value(json_object_get(r, "requester")), mgr,
                      sizeof(mgr));
        if (strcmp(mgr, w->caller) != 0)
            rc = PORTICO_SKIP;
    }
    if (rc == PORTICO_OK)
        json_array_append_new(w->items, fw_request_view(h, r, w->today, false));
    json_decref(rec);
    return rc;
}

typedef struct list_read {
    list_walk walk;
    char prefix[PORTICO_KEY_MAX + 1];
    json_t *next;
} list_read;

static int list_txn(portico_txn *txn, void *arg)
{
    list_read *l = arg;
    const portico_host *h = l->walk.h;
    json_decref(l->walk.items);
    json_decref(l->next);
    l->next = NULL;
    l->walk.items = json_array();
    l->walk.txn = txn;
    if (l->walk.items == NULL)
        return PORTICO_ENOMEM;
    return h->page(txn, l->prefix, true, list_visit, &l->walk, &l->next);
}

int fw_route_list(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    const char *scope = h->query(ctx, "scope");
    const char *status = h->query(ctx, "status");
    if (scope == NULL || *scope == '\0')
        scope = "mine";
    if (status != NULL && *status == '\0')
        status = NULL;
    if (status != NULL && fw_state_parse(status) == FW_STATE_NONE) {
        h->respond_problem(ctx, 400, "bad_request",
                           "status must be one of submitted, in_consultation, decided, "
                           "appealed, appeal_decided, withdrawn, treated_as_withdrawn");
        return PORTICO_OK;
    }
    list_read l = {
        .walk = {.h = h, .caller = who->username, .status = status, .today = h->today(ctx)}};
    int rc;
    if (strcmp(scope, "mine") == 0) {
        l.walk.from_index = true;
        rc = h->key(l.prefix, sizeof(l.prefix), "mine", who->username, "", NULL);
    } else if (strcmp(scope, "team") == 0) {
        l.walk.from_index = l.walk.team = true;
        rc = h->key(l.prefix, sizeof(l.prefix), "team", who->username, "", NULL);
    } else if (strcmp(scope, "org") == 0) {
        if (!(who->roles & PORTICO_ROLE_HR_ADMIN)) {
            h->respond_problem(ctx, 403, "forbidden",
                               "only an hr_admin sees the organisation's requests");
            return PORTICO_OK;
        }
        /* with a status, the status index holds exactly the matches */
        l.walk.from_index = status != NULL;
        l.walk.status = NULL;
        rc = status ? h->key(l.prefix, sizeof(l.prefix), "status", status, "", NULL)
                    : h->key(l.prefix, sizeof(l.prefix), "req", "", NULL);
    } else {
        h->respond_problem(ctx, 400, "bad_request", "scope must be mine, team or org");
        return PORTICO_OK;
    }
    if (rc == PORTICO_OK)
        rc = h->read(ctx, list_txn, &l);
    if (rc == PORTICO_OK) {
        json_t *out = json_pack("{s:o, s:o}", "items", l.walk.items, "next_cursor",
                                l.next ? l.next : json_null());
        l.walk.items = l.next = NULL;
        h->respond_json(ctx, 200, out);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(l.walk.items);
    json_decref(l.next);
    return PORTICO_OK;
}

typedef struct one_read {
    const portico_host *h;
    const char *id;
    const portico_caller *who;
    bool allowed;
    json_t *rec;
} one_read;

static int one_txn(portico_txn *txn, void *arg)
{
    one_read *o = arg;
    const portico_host *h = o->h;
    json_decref(o->rec);
    o->rec = NULL;
    int rc = fw_request_get(h, txn, o->id, &o->rec);
    if (rc == PORTICO_OK)
        o->allowed = fw_may_read(h, txn, o->rec, o->who->username, o->who->roles);
    return rc;
}

int fw_route_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    one_read o = {.h = h, .id = h->param(ctx, "id"), .who = ctx->caller};
    int rc = h->read(ctx, one_txn, &o);
    if (rc == PORTICO_ENOTFOUND) {
        h->respond_problem(ctx, 404, "not_found", "no such flexible working request");
    } else if (rc != PORTICO_OK) {
        h->respond_error(ctx, rc, NULL);
    } else if (!o.allowed) {
        h->respond_problem(ctx, 403, "forbidden",
                           "only the requester, their manager or an hr_admin may see a "
                           "request");
    } else {
        char etag[48];
        int32_t today = h->today(ctx);
        /* overdue changes with the date, so the date is part of the tag */
        snprintf(etag, sizeof(etag), "\"v%lld-%ld\"",
                 (long long)json_integer_value(json_object_get(o.rec, "version")), (long)today);
        if (!h->not_modified(ctx, etag))
            h->respond_json(ctx, 200, fw_request_view(h, o.rec, today, true));
    }
    json_decref(o.rec);
    return PORTICO_OK;
}
