/*
 * aw_interaction_routes.c - POST .../interactions: an applicant's client
 * reports what they did with the content ({target, action}).  Nothing per
 * event is kept, only what analytics shows: a counter per day, target and
 * action, and one marker per person, target, action and day so distinct
 * people can be counted (and small groups suppressed).
 */
#include "aw_host.h"

#include <string.h>

typedef struct targets_read {
    const portico_host *h;
    json_t *targets;
} targets_read;

static int targets_txn(portico_txn *txn, void *arg)
{
    targets_read *r = arg;
    json_decref(r->targets);
    return aw_store_get(r->h, txn, AW_KEY_TARGETS, &r->targets);
}

typedef struct interaction_write {
    const portico_host *h;
    const char *user, *target, *action, *date;
    char hash[17];
} interaction_write;

/* The event counter always moves; the people counter and the pair
 * registry only when this person's marker for the day is new (an insert
 * that finds the marker means they were counted already).  The host
 * commits concurrent writes together (one sync for many requests). */
static int interaction_txn(portico_txn *txn, void *arg)
{
    interaction_write *w = arg;
    const portico_host *h = w->h;
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof key, "n", "i", w->date, w->hash, w->action, NULL);
    if (rc == PORTICO_OK)
        rc = h->counter_add(txn, key, 1, NULL);
    if (rc == PORTICO_OK)
        rc = h->key(key, sizeof key, "pu", w->hash, w->action, w->user, w->date, NULL);
    json_t *marker = json_pack("{s:s, s:s}", "u", w->user, "d", w->date);
    if (rc == PORTICO_OK)
        rc = marker ? h->insert(txn, key, marker) : PORTICO_ENOMEM;
    json_decref(marker);
    if (rc == PORTICO_EEXISTS)
        return PORTICO_OK;
    if (rc == PORTICO_OK)
        rc = h->key(key, sizeof key, "n", "p", w->date, w->hash, w->action, NULL);
    if (rc == PORTICO_OK)
        rc = h->counter_add(txn, key, 1, NULL);
    if (rc == PORTICO_OK)
        rc = h->key(key, sizeof key, "pair", w->hash, w->action, NULL);
    json_t *pair = json_pack("{s:s, s:s}", "target", w->target, "action", w->action);
    if (rc == PORTICO_OK)
        rc = pair ? h->insert(txn, key, pair) : PORTICO_ENOMEM;
    json_decref(pair);
    return rc == PORTICO_EEXISTS ? PORTICO_OK : rc;
}

int aw_route_interaction(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const json_t *body = h->body(ctx);
    const char *target = json_string_value(json_object_get(body, "target"));
    const char *action = json_string_value(json_object_get(body, "action"));
    targets_read r = {h, NULL};
    int rc = h->read(ctx, targets_txn, &r);
    json_t *errors = json_array();
    if (rc == PORTICO_OK && errors != NULL) {
        if (target == NULL ||
            json_object_get(json_object_get(r.targets, "targets"), target) == NULL)
            h->invalid_add(errors, "/target", "is not a target of the published content");
        if (!aw_action_valid(action))
            h->invalid_add(errors, "/action", "is not one of the recorded actions");
    }
    json_decref(r.targets);
    if (rc != PORTICO_OK || errors == NULL) {
        json_decref(errors);
        h->respond_error(ctx, rc != PORTICO_OK ? rc : PORTICO_ENOMEM, NULL);
        return PORTICO_OK;
    }
    if (json_array_size(errors) > 0) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    json_decref(errors);
    char date[11], at[21];
    aw_today(ctx, date);
    aw_now(ctx, at);
    interaction_write w = {h, ctx->caller->username, target, action, date, {0}};
    aw_target_hash(w.hash, target);
    rc = h->write(ctx, interaction_txn, &w);
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 201,
                        json_pack("{s:s, s:s, s:s, s:s}", "target", target, "action", action,
                                  "date", date, "recorded_at", at));
    else
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}
