/*
 * fw_summary.c - the employee dashboard card: the caller's own request in
 * progress with its decision_due, and for a manager the requests waiting
 * for their decision, overdue first.  Only dates, so the dashboard keeps
 * its ETag through the day.
 */
#include "fw_host.h"

#include <stdlib.h>
#include <string.h>

typedef struct card_read {
    const portico_host *h;
    const char *user;
    int32_t today;
    portico_txn *txn;
    json_t *mine;    /* the open request or NULL */
    json_t *waiting; /* list items */
} card_read;

static int waiting_visit(const char *key, const json_t *value, void *arg)
{
    (void)key;
    card_read *c = arg;
    const portico_host *h = c->h;
    json_t *rec = NULL;
    int rc = fw_request_get(h, c->txn, json_string_value(json_object_get(value, "id")), &rec);
    if (rc == PORTICO_ENOTFOUND)
        return PORTICO_OK;
    if (rc != PORTICO_OK)
        return rc;
    char mgr[128];
    fw_manager_of(h, c->txn, json_string_value(json_object_get(rec, "requester")), mgr,
                  sizeof(mgr));
    if (strcmp(mgr, c->user) == 0 && fw_state_open(fw_request_state(rec)))
        json_array_append_new(c->waiting, fw_request_view(h, rec, c->today, false));
    json_decref(rec);
    return PORTICO_OK;
}

static int card_txn(portico_txn *txn, void *arg)
{
    card_read *c = arg;
    const portico_host *h = c->h;
    char key[PORTICO_KEY_MAX + 1];
    json_t *open = NULL;
    json_decref(c->mine);
    json_decref(c->waiting);
    c->mine = NULL;
    c->txn = txn;
    c->waiting = json_array();
    if (c->waiting == NULL)
        return PORTICO_ENOMEM;
    int rc = h->key(key, sizeof(key), "open", c->user, NULL);
    if (rc == PORTICO_OK && h->get(txn, key, &open) == PORTICO_OK) {
        json_t *rec = NULL;
        if (fw_request_get(h, txn, json_string_value(json_object_get(open, "id")), &rec) ==
            PORTICO_OK)
            c->mine = fw_request_view(h, rec, c->today, false);
        json_decref(rec);
    }
    json_decref(open);
    if (rc == PORTICO_OK)
        rc = h->key(key, sizeof(key), "await", c->user, NULL);
    if (rc == PORTICO_OK && strlen(key) + 1 < PORTICO_KEY_MAX) {
        strcat(key, "/");
        rc = h->scan(txn, key, NULL, false, waiting_visit, c);
    }
    return rc;
}

/* Overdue first, then the nearest deadline, then the oldest request. */
static int waiting_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int ox = json_is_true(json_object_get(x, "overdue"));
    int oy = json_is_true(json_object_get(y, "overdue"));
    if (ox != oy)
        return oy - ox;
    int c = strcmp(json_string_value(json_object_get(x, "decision_due")),
                   json_string_value(json_object_get(y, "decision_due")));
    return c ? c
             : strcmp(json_string_value(json_object_get(x, "id")),
                      json_string_value(json_object_get(y, "id")));
}

static json_t *waiting_json(json_t *items)
{
    size_t n = json_array_size(items), overdue = 0;
    json_t **v = calloc(n + 1, sizeof(*v));
    json_t *out = json_array();
    if (v == NULL || out == NULL) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = json_array_get(items, i);
        overdue += json_is_true(json_object_get(v[i], "overdue"));
    }
    qsort(v, n, sizeof(*v), waiting_cmp);
    for (size_t i = 0; i < n && i < FW_CARD_ITEMS_MAX; i++)
        json_array_append(out, v[i]);
    free(v);
    return json_pack("{s:I, s:I, s:o}", "count", (json_int_t)n, "overdue", (json_int_t)overdue,
                     "items", out);
}

int fw_summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    const portico_host *h = ctx->host;
    (void)dashboard;
    if (ctx->caller == NULL || ctx->caller->username == NULL)
        return PORTICO_HIDDEN;
    card_read c = {.h = h, .user = ctx->caller->username, .today = h->today(ctx)};
    int rc = h->read(ctx, card_txn, &c);
    if (rc == PORTICO_OK) {
        json_t *waiting = waiting_json(c.waiting);
        const char *policy = json_string_value(json_object_get(h->config(ctx), "policy"));
        *out = json_pack("{s:s, s:o, s:o}", "policy", policy ? policy : "statutory", "my_request",
                         c.mine ? c.mine : json_null(), "awaiting_my_decision",
                         waiting ? waiting : json_null());
        c.mine = NULL;
        rc = *out ? PORTICO_OK : PORTICO_ENOMEM;
    }
    json_decref(c.mine);
    json_decref(c.waiting);
    return rc;
}
