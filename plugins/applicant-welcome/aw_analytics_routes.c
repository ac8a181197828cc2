/*
 * aw_analytics_routes.c - GET .../analytics?from=&to=: applicants who
 * opened the content, interactions by target and action, and checklist
 * completion per item, over the range and per organisation-local day,
 * with every group of fewer than five people suppressed.
 *
 * Everything comes from counters kept on write (one read per day and
 * series), never from a walk over the interactions; the only walk is over
 * the per-person-per-day markers of each pair, to count distinct people
 * over the whole range (one person on five days is still one person).
 */
#include "aw_host.h"

#include <stdlib.h>
#include <string.h>

#define RANGE_MAX_DAYS 366
#define PAIRS_MAX      1000
#define ITEMS_MAX      500

typedef struct series {
    char kind;     /* 'o' opened, 'i' interaction, 'c' checklist item */
    json_t *label; /* {target, action} / {item, title} */
    char hash[17];
    const char *action, *item;
    aw_cell total;
} series;

typedef struct analytics {
    const portico_host *h;
    int32_t from, to;
    char from_s[11], to_s[11];
    size_t days;
    series *s;
    size_t n, cap;
    aw_cell *cells;    /* n x days */
    json_t *everyone;  /* distinct people over all interactions in range */
    json_t *last_user; /* counting distinct people in one pair's markers */
    int64_t pair_people;
} analytics;

static void analytics_free(analytics *a)
{
    for (size_t i = 0; i < a->n; i++)
        json_decref(a->s[i].label);
    free(a->s);
    free(a->cells);
    json_decref(a->everyone);
    json_decref(a->last_user);
    memset(a, 0, sizeof *a);
}

static series *series_add(analytics *a, char kind, json_t *label)
{
    if (label == NULL)
        return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        series *s = realloc(a->s, cap * sizeof *s);
        if (s == NULL) {
            json_decref(label);
            return NULL;
        }
        a->s = s;
        a->cap = cap;
    }
    series *s = &a->s[a->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->label = label;
    return s;
}

static int pair_collect(const char *key, const json_t *value, void *arg)
{
    analytics *a = arg;
    (void)key;
    const char *target = json_string_value(json_object_get(value, "target"));
    const char *action = json_string_value(json_object_get(value, "action"));
    if (target == NULL || action == NULL)
        return PORTICO_OK;
    if (a->n >= PAIRS_MAX)
        return PORTICO_ESTOP;
    series *s = series_add(a, 'i', json_pack("{s:s, s:s}", "target", target, "action", action));
    if (s == NULL)
        return PORTICO_ENOMEM;
    aw_target_hash(s->hash, target);
    s->action = json_string_value(json_object_get(s->label, "action"));
    return PORTICO_OK;
}

static bool item_known(const analytics *a, const char *id)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->s[i].kind == 'c' && strcmp(a->s[i].item, id) == 0)
            return true;
    return false;
}

static int item_add(analytics *a, const char *id, const json_t *title)
{
    if (id == NULL || item_known(a, id))
        return PORTICO_OK;
    series *s = series_add(a, 'c', json_pack("{s:s, s:O?}", "item", id, "title", title));
    if (s == NULL)
        return PORTICO_ENOMEM;
    s->item = json_string_value(json_object_get(s->label, "item"));
    return PORTICO_OK;
}

static int item_collect(const char *key, const json_t *value, void *arg)
{
    analytics *a = arg;
    (void)key;
    if (a->n >= PAIRS_MAX + ITEMS_MAX)
        return PORTICO_ESTOP;
    return item_add(a, json_string_value(json_object_get(value, "id")),
                    json_object_get(value, "title"));
}

/* Markers of one pair are keyed person first, then day, so one person's
 * days are adjacent: count a person once, at their first day in range. */
static int marker_count(const char *key, const json_t *value, void *arg)
{
    analytics *a = arg;
    (void)key;
    const char *u = json_string_value(json_object_get(value, "u"));
    const char *d = json_string_value(json_object_get(value, "d"));
    if (u == NULL || d == NULL || strcmp(d, a->from_s) < 0 || strcmp(d, a->to_s) > 0)
        return PORTICO_OK;
    if (a->last_user != NULL && strcmp(json_string_value(a->last_user), u) == 0)
        return PORTICO_OK;
    json_decref(a->last_user);
    a->last_user = json_string(u);
    a->pair_people++;
    json_object_set_new(a->everyone, u, json_true());
    return PORTICO_OK;
}

static int counter_at(const portico_host *h, portico_txn *txn, int64_t *out, const char *a,
                      const char *b, const char *c, const char *d, const char *e)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof key, "n", a, b, c, d, e, NULL);
    *out = 0;
    return rc == PORTICO_OK ? h->counter_get(txn, key, out) : rc;
}

/* One series' day cells and range total from its counters. */
static int series_fill(analytics *a, portico_txn *txn, size_t idx)
{
    const portico_host *h = a->h;
    series *s = &a->s[idx];
    aw_cell *cells = &a->cells[idx * a->days];
    int rc = PORTICO_OK;
    for (size_t d = 0; rc == PORTICO_OK && d < a->days; d++) {
        char date[11];
        h->date_format(date, a->from + (int32_t)d);
        int64_t count = 0, people = 0;
        if (s->kind == 'o') {
            rc = counter_at(h, txn, &count, "o", date, NULL, NULL, NULL);
            people = count;
        } else if (s->kind == 'c') {
            rc = counter_at(h, txn, &count, "c", date, s->item, NULL, NULL);
            people = count;
        } else {
            rc = counter_at(h, txn, &count, "i", date, s->hash, s->action, NULL);
            if (rc == PORTICO_OK && count > 0)
                rc = counter_at(h, txn, &people, "p", date, s->hash, s->action, NULL);
        }
        cells[d] = (aw_cell){count, people, false};
        s->total.count += count;
        s->total.people += people;
    }
    if (rc != PORTICO_OK || s->kind != 'i' || s->total.count == 0)
        return rc;
    char prefix[PORTICO_KEY_MAX + 2];
    rc = h->key(prefix, sizeof prefix - 1, "pu", s->hash, s->action, NULL);
    if (rc != PORTICO_OK)
        return rc;
    strcat(prefix, "/");
    json_decref(a->last_user);
    a->last_user = NULL;
    a->pair_people = 0;
    rc = h->scan(txn, prefix, NULL, false, marker_count, a);
    s->total.people = a->pair_people;
    return rc;
}

static int analytics_txn(portico_txn *txn, void *arg)
{
    analytics *a = arg;
    const portico_host *h = a->h;
    series *o = series_add(a, 'o', json_object());
    int rc = o ? h->scan(txn, "pair/", NULL, false, pair_collect, a) : PORTICO_ENOMEM;
    json_t *published = NULL;
    if (rc == PORTICO_OK)
        rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, &published);
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(json_object_get(published, "content"), "checklist"), i, item)
    {
        if (rc == PORTICO_OK)
            rc = item_add(a, json_string_value(json_object_get(item, "id")),
                          json_object_get(item, "title"));
    }
    json_decref(published);
    if (rc == PORTICO_OK)
        rc = h->scan(txn, "item/", NULL, false, item_collect, a);
    if (rc == PORTICO_OK) {
        a->cells = calloc(a->n * a->days, sizeof *a->cells);
        rc = a->cells ? PORTICO_OK : PORTICO_ENOMEM;
    }
    for (i = 0; rc == PORTICO_OK && i < a->n; i++)
        rc = series_fill(a, txn, i);
    return rc;
}

static json_t *cell_json(const json_t *label, const aw_cell *c, bool people)
{
    json_t *obj = json_deep_copy(label);
    if (obj != NULL)
        aw_cell_set(obj, c, people);
    return obj;
}

static json_t *analytics_body(analytics *a)
{
    json_t *body = json_pack("{s:s, s:s, s:i}", "from", a->from_s, "to", a->to_s,
                             "suppressed_below", AW_SUPPRESS_BELOW);
    json_t *inter = json_array(), *items = json_array(), *days = json_array();
    aw_cell all = {0, (int64_t)json_object_size(a->everyone), false};
    for (size_t i = 0; i < a->n; i++) {
        series *s = &a->s[i];
        aw_suppress_series(&a->cells[i * a->days], a->days, &s->total);
        if (s->kind == 'o')
            json_object_set_new(body, "opened", cell_json(s->label, &s->total, false));
        else if (s->kind == 'c')
            json_array_append_new(items, cell_json(s->label, &s->total, false));
        else if (s->total.count > 0) {
            json_array_append_new(inter, cell_json(s->label, &s->total, true));
            all.count += s->total.count;
        }
    }
    all.suppressed = all.people < AW_SUPPRESS_BELOW;
    json_t *all_j = json_object();
    aw_cell_set(all_j, &all, true);
    for (size_t d = 0; d < a->days; d++) {
        char date[11];
        a->h->date_format(date, a->from + (int32_t)d);
        json_t *di = json_array(), *dc = json_array(), *day = json_pack("{s:s}", "date", date);
        for (size_t i = 0; i < a->n; i++) {
            series *s = &a->s[i];
            const aw_cell *c = &a->cells[i * a->days + d];
            if (s->kind == 'o')
                json_object_set_new(day, "opened", cell_json(s->label, c, false));
            else if (s->kind == 'c')
                json_array_append_new(dc, cell_json(s->label, c, false));
            else if (s->total.count > 0)
                json_array_append_new(di, cell_json(s->label, c, true));
        }
        json_object_set_new(day, "interactions", di);
        json_object_set_new(day, "checklist", dc);
        json_array_append_new(days, day);
    }
    json_object_set_new(body, "interactions_total", all_j);
    json_object_set_new(body, "interactions", inter);
    json_object_set_new(body, "checklist", items);
    json_object_set_new(body, "days", days);
    return body;
}

/* ?from=&to= (organisation-local dates): default the 30 days to today. */
static const char *range_read(portico_ctx *ctx, analytics *a)
{
    const portico_host *h = ctx->host;
    const char *from = h->query(ctx, "from"), *to = h->query(ctx, "to");
    a->to = h->today(ctx);
    if (to != NULL && !h->date_parse(to, &a->to))
        return "to must be a date (YYYY-MM-DD)";
    a->from = a->to - 29;
    if (from != NULL && !h->date_parse(from, &a->from))
        return "from must be a date (YYYY-MM-DD)";
    if (a->from > a->to)
        return "from must not be after to";
    if (a->to - a->from + 1 > RANGE_MAX_DAYS)
        return "the range may cover at most 366 days";
    a->days = (size_t)(a->to - a->from + 1);
    h->date_format(a->from_s, a->from);
    h->date_format(a->to_s, a->to);
    return NULL;
}

int aw_route_analytics(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    analytics a = {.h = h};
    const char *why = range_read(ctx, &a);
    if (why != NULL) {
        h->respond_problem(ctx, 400, "bad_request", why);
        return PORTICO_OK;
    }
    a.everyone = json_object();
    int rc = a.everyone ? h->read(ctx, analytics_txn, &a) : PORTICO_ENOMEM;
    json_t *body = rc == PORTICO_OK ? analytics_body(&a) : NULL;
    analytics_free(&a);
    if (body != NULL)
        h->respond_json(ctx, 200, body);
    else
        h->respond_error(ctx, rc != PORTICO_OK ? rc : PORTICO_ENOMEM, NULL);
    return PORTICO_OK;
}
