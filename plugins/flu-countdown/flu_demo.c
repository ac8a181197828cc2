/*
 * flu_demo.c - the demo organisation's flu campaign (porticod --demo): a
 * campaign that started a month ago and ends in two months, a hub and a
 * roving team with sessions in the coming days, and a few vaccinations so
 * that uptake shows groups above and below the target.
 */
#include "flu_host.h"

#define DAY 86400

typedef struct demo_write {
    const portico_host *host;
    int64_t now;      /* seconds */
    json_t *sites[2]; /* built site records */
    const char *ids[2];
    json_t *scratch; /* last stored record, released by the caller */
} demo_write;

/* Sessions are placed relative to today so the demo never looks stale. */
static json_t *session(const portico_host *h, int64_t day_start, int from_h, int to_h,
                       const char *notes)
{
    char a[21], b[21];
    h->time_format(a, day_start + from_h * 3600);
    h->time_format(b, day_start + to_h * 3600);
    return json_pack("{s:s, s:s, s:s}", "starts_at", a, "ends_at", b, "notes", notes);
}

static json_t *demo_sites_body(const portico_host *h, int64_t today_start, int which)
{
    if (which == 0)
        return json_pack(
            "{s:s, s:s, s:[o,o,o]}", "name", "Main atrium hub", "location",
            "Royal Infirmary, ground floor atrium", "sessions",
            session(h, today_start + DAY, 8, 16, "Walk-in, no appointment needed"),
            session(h, today_start + 2 * DAY, 8, 16, "Walk-in, no appointment needed"),
            session(h, today_start + 3 * DAY, 12, 20, "Late clinic for the day shift"));
    return json_pack("{s:s, s:s, s:[o,o]}", "name", "Roving vaccinators", "location",
                     "Wards and departments", "sessions",
                     session(h, today_start + DAY, 20, 23, "Night round: wards 1-12"),
                     session(h, today_start + 4 * DAY, 9, 12, "Theatres and recovery"));
}

/* Staff group, site, days ago: enough for uptake above and below 80%. */
static const struct {
    const char *group;
    int site;
    int days_ago;
} demo_vaccinations[] = {
    {"doctors", 0, 20},
    {"qualified_nurses", 0, 12},
    {"other_clinical", 1, 5},
    {"qualified_nurses", 1, 2},
};

static int demo_txn(portico_txn *txn, void *arg)
{
    demo_write *w = arg;
    const portico_host *h = w->host;
    char now[21];
    h->time_format(now, w->now);
    for (int i = 0; i < 2; i++) {
        bool created = false;
        int rc = flu_host_site_put(h, txn, w->ids[i], w->sites[i], now, &created, &w->scratch);
        if (rc != PORTICO_OK)
            return rc;
    }
    for (size_t i = 0; i < sizeof(demo_vaccinations) / sizeof(demo_vaccinations[0]); i++) {
        flu_vaccination v = {demo_vaccinations[i].group, w->ids[demo_vaccinations[i].site],
                             w->now - demo_vaccinations[i].days_ago * DAY};
        int rc = flu_host_vaccination_record(h, txn, &v, "system", w->now * 1000, &w->scratch);
        if (rc != PORTICO_OK)
            return rc;
    }
    return PORTICO_OK;
}

int flu_demo(portico_ctx *ctx, json_t **config)
{
    const portico_host *h = ctx->host;
    demo_write w = {.host = h, .now = h->now_ms() / 1000, .ids = {"main-atrium", "roving-team"}};
    /* Midnight UTC of the organisation's today. */
    int64_t today_start = (int64_t)h->today(ctx) * DAY;
    flu_env env = flu_host_env(h);
    int rc = PORTICO_OK;
    for (int i = 0; i < 2 && rc == PORTICO_OK; i++) {
        json_t *body = demo_sites_body(h, today_start, i), *errors = json_array();
        flu_site_build(&w.sites[i], errors, w.ids[i], body, &env);
        if (w.sites[i] == NULL)
            rc = PORTICO_EINVAL;
        json_decref(errors);
        json_decref(body);
    }
    if (rc == PORTICO_OK)
        rc = h->write(ctx, demo_txn, &w);
    json_decref(w.scratch);
    json_decref(w.sites[0]);
    json_decref(w.sites[1]);
    if (rc != PORTICO_OK)
        return rc;

    char starts[21], ends[21];
    h->time_format(starts, today_start - 30 * DAY + 8 * 3600);
    h->time_format(ends, today_start + 60 * DAY + 18 * 3600);
    *config = json_pack("{s:s, s:s, s:s, s:i}", "campaign", "Flu vaccination 2026/27", "starts_at",
                        starts, "ends_at", ends, "target_percent", 80);
    return *config ? PORTICO_OK : PORTICO_ENOMEM;
}
