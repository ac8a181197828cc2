/*
 * fw_create.c - POST /api/v1/portlets/flexible-working/requests: an
 * employee makes a statutory flexible working request.
 */
#include "fw_host.h"

#include <stdio.h>
#include <string.h>

typedef struct limit_scan {
    char window_start[11]; /* received strictly after this date counts */
    int in_window;
} limit_scan;

static int count_in_window(const char *key, const json_t *value, void *arg)
{
    (void)key;
    limit_scan *s = arg;
    const char *received = json_string_value(json_object_get(value, "received"));
    if (received != NULL && strcmp(received, s->window_start) > 0)
        s->in_window++;
    return PORTICO_OK;
}

/*
 * The two limits of s80F(4) and the NHS terms: nothing new while one is
 * in progress (open/<user> answers in one read), and under the statutory
 * policy no more than two received in any 12 months, withdrawn ones
 * included (mine/<user>/ holds every request the employee made).
 */
static int limits_check(const portico_host *h, portico_txn *txn, fw_new *n)
{
    char key[PORTICO_KEY_MAX + 1];
    json_t *open = NULL;
    int rc = h->key(key, sizeof(key), "open", n->username, NULL);
    if (rc != PORTICO_OK)
        return rc;
    rc = h->get(txn, key, &open);
    if (rc == PORTICO_OK) {
        n->http = 422;
        n->code = "request_limit_reached";
        snprintf(n->detail, sizeof(n->detail),
                 "request %s is still in progress; a new request can be made once it is decided "
                 "or withdrawn",
                 json_string_value(json_object_get(open, "id")));
        json_decref(open);
        return PORTICO_ECONFLICT;
    }
    if (rc != PORTICO_ENOTFOUND)
        return rc;
    int limit = fw_policy_yearly_limit(n->policy);
    if (limit < 0)
        return PORTICO_OK;
    limit_scan s = {.in_window = 0};
    h->date_format(s.window_start, fw_window_start(n->today));
    rc = h->key(key, sizeof(key), "mine", n->username, NULL);
    if (rc == PORTICO_OK && strlen(key) + 2 > sizeof(key))
        rc = PORTICO_EINVAL;
    if (rc != PORTICO_OK)
        return rc;
    strcat(key, "/");
    rc = h->scan(txn, key, NULL, true, count_in_window, &s);
    if (rc != PORTICO_OK)
        return rc;
    if (s.in_window >= limit) {
        n->http = 422;
        n->code = "request_limit_reached";
        snprintf(n->detail, sizeof(n->detail),
                 "%d requests were received in the 12 months up to today (withdrawn ones count); "
                 "the statutory limit is %d",
                 s.in_window, limit);
        return PORTICO_ECONFLICT;
    }
    return PORTICO_OK;
}

static json_t *opt_string(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_incref((json_t *)v) : json_null();
}

/* The stored request: the body's fields, who asked and the deadline. */
static json_t *request_build(const portico_host *h, const fw_new *n, const char *id)
{
    char received[11], due[11], at[21];
    int32_t due_day = fw_decision_due(n->today);
    h->date_format(received, n->today);
    h->date_format(due, due_day);
    h->time_format(at, n->now);
    const json_t *b = n->body;
    const json_t *prev = json_object_get(b, "previous_request");
    const json_t *prev_date = json_object_get(b, "previous_request_date");
    bool previous = json_is_true(prev) || json_is_string(prev_date);
    const char *description = json_string_value(json_object_get(b, "description"));
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:O, s:O, s:O, s:O, s:s, s:b, s:o, s:s, s:s, s:n, s:s, s:s, "
        "s:s, s:n, s:[], s:n, s:n, s:n, s:n, s:i, s:[]}",
        "id", id, "requester", n->username, "requester_name", opt_string(n->person, "display_name"),
        "manager", opt_string(n->person, "manager"), "staff_group",
        opt_string(n->person, "staff_group"), "change_types", json_object_get(b, "change_types"),
        "proposed_start", json_object_get(b, "proposed_start"), "current_pattern",
        json_object_get(b, "current_pattern"), "requested_pattern",
        json_object_get(b, "requested_pattern"), "description", description ? description : "",
        "previous_request", previous, "previous_request_date",
        json_is_string(prev_date) ? json_incref((json_t *)prev_date) : json_null(), "policy",
        n->policy == FW_POLICY_NHS ? "nhs" : "statutory", "status", "submitted", "outcome",
        "received", received, "received_at", at, "decision_due", due, "extension", "meetings",
        "decision", "appeal", "withdrawal", "concluded_at", "version", 0, "history");
}

static int index_entry(const portico_host *h, portico_txn *txn, const char *a, const char *b,
                       const char *id, const json_t *value)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), a, b, id, NULL);
    return rc == PORTICO_OK ? h->insert(txn, key, value) : rc;
}

/* Counts of the new request in its day's aggregate, for the report. */
static int aggregate_add(json_t *agg, const json_t *rec)
{
    size_t i;
    const json_t *t;
    const char *group = json_string_value(json_object_get(rec, "staff_group"));
    int rc = fw_agg_add(agg, "received", NULL, 1);
    json_array_foreach(json_object_get(rec, "change_types"), i, t) rc |=
        fw_agg_add(agg, "change", json_string_value(t), 1);
    rc |= fw_agg_add(agg, "group", group ? group : "unassigned", 1);
    return rc == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

/*
 * Everything a request needs goes in one transaction: the limits are
 * checked against what is committed, so two parallel requests of one
 * employee cannot both pass.  The host may re-run this: it starts over.
 */
int fw_create_txn(portico_txn *txn, void *arg)
{
    fw_new *n = arg;
    const portico_host *h = n->h;
    json_decref(n->rec);
    n->rec = NULL;
    n->http = 0;
    int rc = limits_check(h, txn, n);
    if (rc != PORTICO_OK)
        return rc;
    uint64_t seq;
    if ((rc = h->next_seq(txn, "request", &seq)) != PORTICO_OK)
        return rc;
    char id[FW_ID_LEN + 8];
    snprintf(id, sizeof(id), "%0*llu", FW_ID_LEN, (unsigned long long)seq);
    if (strlen(id) != FW_ID_LEN)
        return PORTICO_ERR;
    n->rec = request_build(h, n, id);
    json_t *ref = json_pack("{s:s}", "id", id);
    json_t *mine =
        json_pack("{s:s, s:O}", "id", id, "received", json_object_get(n->rec, "received"));
    json_t *agg = NULL;
    if (n->rec == NULL || ref == NULL || mine == NULL)
        rc = PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        rc = fw_day_load(h, txn, n->today, &agg);
    if (rc == PORTICO_OK)
        rc = index_entry(h, txn, "mine", n->username, id, mine);
    const char *mgr = json_string_value(json_object_get(n->rec, "manager"));
    if (rc == PORTICO_OK && mgr != NULL)
        rc = index_entry(h, txn, "team", mgr, id, ref);
    if (rc == PORTICO_OK)
        rc = aggregate_add(agg, n->rec);
    if (rc == PORTICO_OK)
        rc = fw_transition_apply(h, txn, n->rec, agg, FW_EV_SUBMIT, FW_SUBMITTED, n->username,
                                 n->now, NULL);
    if (rc == PORTICO_OK)
        rc = fw_day_store(h, txn, n->today, agg);
    if (rc == PORTICO_OK) {
        char key[PORTICO_KEY_MAX + 1];
        rc = h->key(key, sizeof(key), "req", id, NULL);
        if (rc == PORTICO_OK)
            rc = h->insert(txn, key, n->rec);
    }
    json_decref(agg);
    json_decref(ref);
    json_decref(mine);
    return rc;
}

/*
 * The proposed start and an earlier request's date are checked against
 * the organisation's today; the shape of the body was checked by the host.
 */
static json_t *dates_check(const portico_host *h, const json_t *body, int32_t today)
{
    json_t *errors = json_array();
    int32_t d;
    const char *start = json_string_value(json_object_get(body, "proposed_start"));
    if (start != NULL && h->date_parse(start, &d) && d < today)
        h->invalid_add(errors, "/proposed_start", "must not be before today");
    const char *prev = json_string_value(json_object_get(body, "previous_request_date"));
    if (prev != NULL && h->date_parse(prev, &d) && d > today)
        h->invalid_add(errors, "/previous_request_date", "must not be in the future");
    if (prev != NULL && json_is_false(json_object_get(body, "previous_request")))
        h->invalid_add(errors, "/previous_request_date", "given while previous_request is false");
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        errors = NULL;
    }
    return errors;
}

int fw_route_create(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const json_t *body = h->body(ctx);
    const portico_caller *who = ctx->caller;
    if (who == NULL || who->person == NULL) {
        h->respond_problem(ctx, 403, "forbidden", "only a person of the organisation may ask");
        return PORTICO_OK;
    }
    if (body == NULL) {
        h->respond_problem(ctx, 400, "bad_request", "a JSON request body is required");
        return PORTICO_OK;
    }
    int32_t today = h->today(ctx);
    json_t *errors = dates_check(h, body, today);
    if (errors != NULL) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    const json_t *cfg = h->config(ctx);
    fw_new n = {
        .h = h,
        .body = body,
        .person = who->person,
        .username = who->username,
        .policy = fw_policy_parse(json_string_value(json_object_get(cfg, "policy"))),
        .now = h->now_ms() / 1000,
        .today = today,
    };
    int rc = h->write(ctx, fw_create_txn, &n);
    if (rc == PORTICO_OK) {
        char location[128];
        snprintf(location, sizeof(location), FW_BASE "/requests/%s",
                 json_string_value(json_object_get(n.rec, "id")));
        h->set_header(ctx, "Location", location);
        h->respond_json(ctx, 201, fw_request_view(h, n.rec, today, true));
    } else if (n.http != 0) {
        h->respond_problem(ctx, n.http, n.code, n.detail);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(n.rec);
    return PORTICO_OK;
}
