/*
 * fw_report_route.c - GET .../report?from=&to= (hr_admin): the compliance
 * report over requests received from `from` to `to` (inclusive, the
 * organisation's local dates).  It reads one aggregate per day in the
 * range (kept on write) and the deadline index of open requests, never
 * every request.
 */
#include "fw_host.h"

#include <stdio.h>
#include <string.h>

typedef struct report_read {
    const portico_host *h;
    char from[11], to[11], today[11];
    char after[PORTICO_KEY_MAX + 1]; /* day/<from - 1> */
    char last[PORTICO_KEY_MAX + 1];  /* day/<to> */
    portico_txn *txn;
    json_t *agg;
    json_t *overdue;
    int64_t overdue_count;
    int32_t now_day;
} report_read;

static int day_visit(const char *key, const json_t *value, void *arg)
{
    report_read *r = arg;
    if (strcmp(key, r->last) > 0)
        return PORTICO_ESTOP;
    return fw_agg_merge(r->agg, value) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

/*
 * due/<date>/<id> sorts by deadline, so the overdue requests are the walk
 * up to yesterday; those received outside the range are left out like
 * every other figure.  The list is bounded, the count is not.
 */
static int due_visit(const char *key, const json_t *value, void *arg)
{
    report_read *r = arg;
    const portico_host *h = r->h;
    const char *due = key + strlen("due/");
    if (strncmp(due, r->today, 10) >= 0)
        return PORTICO_ESTOP;
    const char *received = json_string_value(json_object_get(value, "received"));
    if (received == NULL || strcmp(received, r->from) < 0 || strcmp(received, r->to) > 0)
        return PORTICO_OK;
    r->overdue_count++;
    if (json_array_size(r->overdue) >= FW_REPORT_OVERDUE_MAX)
        return PORTICO_OK;
    json_t *rec = NULL;
    int rc = fw_request_get(h, r->txn, json_string_value(json_object_get(value, "id")), &rec);
    if (rc == PORTICO_ENOTFOUND)
        return PORTICO_OK;
    if (rc != PORTICO_OK)
        return rc;
    json_t *item = fw_request_view(h, rec, r->now_day, false);
    int32_t d = fw_date_field(h, rec, "decision_due");
    if (item != NULL)
        json_object_set_new(item, "days_overdue", json_integer(r->now_day - d));
    json_array_append_new(r->overdue, item);
    json_decref(rec);
    return PORTICO_OK;
}

static int report_txn(portico_txn *txn, void *arg)
{
    report_read *r = arg;
    const portico_host *h = r->h;
    json_decref(r->agg);
    json_decref(r->overdue);
    r->agg = json_object();
    r->overdue = json_array();
    r->overdue_count = 0;
    r->txn = txn;
    if (r->agg == NULL || r->overdue == NULL)
        return PORTICO_ENOMEM;
    int rc = h->scan(txn, "day/", r->after, false, day_visit, r);
    if (rc == PORTICO_OK)
        rc = h->scan(txn, "due/", NULL, false, due_visit, r);
    return rc;
}

/* A date query parameter, or the default when it is absent. */
static bool date_param(portico_ctx *ctx, const char *name, int32_t dflt, int32_t *out)
{
    const portico_host *h = ctx->host;
    const char *s = h->query(ctx, name);
    if (s == NULL || *s == '\0') {
        *out = dflt;
        return true;
    }
    return h->date_parse(s, out);
}

int fw_route_report(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    int32_t today = h->today(ctx), from, to;
    if (!date_param(ctx, "to", today, &to) ||
        !date_param(ctx, "from", fw_add_months(to, -12) + 1, &from)) {
        h->respond_problem(ctx, 400, "bad_request", "from and to must be dates YYYY-MM-DD");
        return PORTICO_OK;
    }
    if (from > to || to - from >= FW_REPORT_DAYS_MAX) {
        h->respond_problem(ctx, 400, "bad_request",
                           "from must not be after to, and the range is at most 3660 days");
        return PORTICO_OK;
    }
    report_read r = {.h = h, .now_day = today};
    char before[11];
    h->date_format(r.from, from);
    h->date_format(r.to, to);
    h->date_format(r.today, today);
    h->date_format(before, from - 1);
    int rc = h->key(r.after, sizeof(r.after), "day", before, NULL);
    if (rc == PORTICO_OK)
        rc = h->key(r.last, sizeof(r.last), "day", r.to, NULL);
    if (rc == PORTICO_OK)
        rc = h->read(ctx, report_txn, &r);
    json_t *out = rc == PORTICO_OK ? fw_report_json(r.agg) : NULL;
    if (rc == PORTICO_OK && out == NULL)
        rc = PORTICO_ENOMEM;
    if (rc == PORTICO_OK) {
        json_object_set_new(out, "from", json_string(r.from));
        json_object_set_new(out, "to", json_string(r.to));
        json_object_set_new(out, "suppressed_below", json_integer(FW_SUPPRESS_BELOW));
        json_object_set_new(
            out, "overdue",
            json_pack("{s:I, s:O}", "count", (json_int_t)r.overdue_count, "items", r.overdue));
        h->respond_json(ctx, 200, out);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(r.agg);
    json_decref(r.overdue);
    return PORTICO_OK;
}
