/*
 * flu_status.c - GET /api/v1/portlets/flu-countdown and the dashboard
 * card: the campaign as the caller's organisation sees it right now.
 */
#include "flu_host.h"

typedef struct status_read {
    const portico_host *host;
    const flu_config *cfg;
    flu_group_tally tallies[FLU_GROUPS_MAX];
    json_t *sites;       /* stored site records, in id order */
    json_t *site_counts; /* [count per site], parallel to sites */
    int64_t total;       /* vaccinations over all sites */
} status_read;

static int collect_site(const char *key, const json_t *value, void *arg)
{
    status_read *s = arg;
    (void)key;
    return json_array_append_new(s->sites, json_deep_copy(value)) == 0 ? PORTICO_OK
                                                                       : PORTICO_ENOMEM;
}

/*
 * One read transaction, so the groups, sites and shares agree.  A site
 * with vaccinations cannot be deleted, so the sites' counts add up to
 * every vaccination recorded.
 */
static int status_txn(portico_txn *txn, void *arg)
{
    status_read *s = arg;
    const portico_host *h = s->host;
    json_array_clear(s->sites);
    json_array_clear(s->site_counts);
    s->total = 0;
    const flu_config *cfg = s->cfg;
    int rc = PORTICO_OK;
    if (cfg->show_uptake)
        rc = flu_host_tally_groups(h, txn, s->tallies, cfg);
    if (rc == PORTICO_OK && (cfg->show_uptake || cfg->show_signposting))
        rc = h->scan(txn, FLU_SITE_PREFIX, NULL, false, collect_site, s);
    for (size_t i = 0; cfg->show_uptake && rc == PORTICO_OK && i < json_array_size(s->sites); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(s->sites, i), "id"));
        int64_t n = 0;
        rc = flu_host_count_get(h, txn, "site", id ? id : "", &n);
        s->total += n;
        json_array_append_new(s->site_counts, json_integer(n));
    }
    return rc;
}

static json_t *uptake_sites_json(const status_read *s, bool suppress)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < json_array_size(s->sites); i++) {
        const json_t *site = json_array_get(s->sites, i);
        int64_t n = json_integer_value(json_array_get(s->site_counts, i));
        json_t *item = json_pack("{s:O?, s:O?}", "site", json_object_get(site, "id"), "name",
                                 json_object_get(site, "name"));
        if (item && flu_uptake_suppressed(n, 0, suppress)) {
            json_object_set_new(item, "vaccinated", json_null());
            json_object_set_new(item, "share_percent", json_null());
            json_object_set_new(item, "suppressed", json_true());
        } else if (item) {
            json_object_set_new(item, "vaccinated", json_integer((json_int_t)n));
            json_object_set_new(item, "share_percent", flu_percent_json(n, s->total));
        }
        json_array_append_new(arr, item);
    }
    return arr;
}

/* The campaign's admins see every count; everyone else small ones
 * suppressed. */
static bool flu_suppress_for(const portico_ctx *ctx)
{
    return !(ctx->caller->roles & (PORTICO_ROLE_OH_ADMIN | PORTICO_ROLE_PORTAL_ADMIN));
}

static json_t *signposting_json(const status_read *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < json_array_size(s->sites); i++) {
        const json_t *site = json_array_get(s->sites, i);
        json_t *sessions = json_deep_copy(json_object_get(site, "sessions"));
        if (!json_is_array(sessions)) {
            json_decref(sessions);
            sessions = json_array();
        }
        flu_sessions_sort(sessions);
        json_array_append_new(
            arr, json_pack("{s:O?, s:O?, s:O?, s:o}", "id", json_object_get(site, "id"), "name",
                           json_object_get(site, "name"), "location",
                           json_object_get(site, "location"), "sessions", sessions));
    }
    return json_pack("{s:o}", "sites", arr);
}

static json_t *status_body(const portico_host *h, const flu_config *cfg, const status_read *s,
                           int64_t now_ms, bool suppress)
{
    char now[21], starts[21], ends[21];
    h->time_format(now, now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000);
    h->time_format(starts, cfg->starts_at);
    h->time_format(ends, cfg->ends_at);
    flu_remaining r;
    flu_countdown_compute(&r, now_ms, cfg->ends_at);

    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:b}", "campaign", cfg->campaign, "server_time",
                             now, "starts_at", starts, "ends_at", ends, "ended", r.ended);
    if (body == NULL)
        return NULL;
    if (cfg->show_countdown)
        json_object_set_new(body, "remaining", flu_countdown_json(&r));
    if (cfg->show_uptake) {
        json_object_set_new(body, "uptake",
                            json_pack("{s:f, s:o, s:o, s:o}", "target_percent", cfg->target_percent,
                                      "groups", flu_uptake_groups_json(s->tallies, cfg, suppress),
                                      "overall", flu_uptake_overall_json(s->tallies, cfg, suppress),
                                      "sites", uptake_sites_json(s, suppress)));
    }
    if (cfg->show_signposting)
        json_object_set_new(body, "signposting", signposting_json(s));
    return body;
}

int flu_route_status(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    flu_config cfg;
    if (flu_host_campaign(&cfg, ctx, true, 404) != FLU_CONFIG_OK)
        return PORTICO_OK;
    status_read s = {.host = h, .cfg = &cfg, .sites = json_array(), .site_counts = json_array()};
    int rc = s.sites && s.site_counts ? h->read(ctx, status_txn, &s) : PORTICO_ENOMEM;
    json_t *body =
        rc == PORTICO_OK ? status_body(h, &cfg, &s, h->now_ms(), flu_suppress_for(ctx)) : NULL;
    if (body != NULL)
        h->respond_json(ctx, 200, body);
    else
        h->respond_error(ctx, rc == PORTICO_OK ? PORTICO_ENOMEM : rc, NULL);
    json_decref(s.sites);
    json_decref(s.site_counts);
    return PORTICO_OK;
}

typedef struct summary_read {
    const portico_host *host;
    const flu_config *cfg;
    flu_group_tally tallies[FLU_GROUPS_MAX];
} summary_read;

static int summary_txn(portico_txn *txn, void *arg)
{
    summary_read *s = arg;
    return flu_host_tally_groups(s->host, txn, s->tallies, s->cfg);
}

/*
 * The card carries nothing that changes by the second (a client ticks the
 * countdown from ends_at), so the dashboard's ETag only moves when the
 * campaign or its uptake does.  The card leaves the dashboard once the
 * campaign has ended, or while there is no usable campaign.
 */
int flu_summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    (void)dashboard;
    const portico_host *h = ctx->host;
    *out = NULL;
    flu_config cfg;
    if (flu_host_campaign(&cfg, ctx, false, 404) != FLU_CONFIG_OK)
        return PORTICO_HIDDEN;
    if (h->now_ms() >= cfg.ends_at * 1000)
        return PORTICO_HIDDEN;
    /* The card is the status in brief: a section switched off is left out
     * here too (no end time to tick without the countdown). */
    json_t *card = json_pack("{s:s}", "campaign", cfg.campaign);
    if (card == NULL)
        return PORTICO_ENOMEM;
    if (cfg.show_countdown) {
        char starts[21], ends[21];
        h->time_format(starts, cfg.starts_at);
        h->time_format(ends, cfg.ends_at);
        json_object_set_new(card, "starts_at", json_string(starts));
        json_object_set_new(card, "ends_at", json_string(ends));
        json_object_set_new(card, "ended", json_false());
    }
    if (cfg.show_uptake) {
        json_object_set_new(card, "target_percent", json_real(cfg.target_percent));
        summary_read s = {.host = h, .cfg = &cfg};
        int rc = h->read(ctx, summary_txn, &s);
        if (rc != PORTICO_OK) {
            json_decref(card);
            return rc < 0 ? rc : PORTICO_ERR;
        }
        json_t *overall = flu_uptake_overall_json(s.tallies, &cfg, flu_suppress_for(ctx));
        json_object_set(card, "uptake_percent", json_object_get(overall, "percent"));
        json_object_set(card, "target_met", json_object_get(overall, "target_met"));
        json_decref(overall);
    }
    *out = card;
    return PORTICO_OK;
}
