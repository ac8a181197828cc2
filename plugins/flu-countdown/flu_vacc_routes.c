/*
 * flu_vacc_routes.c - POST /api/v1/portlets/flu-countdown/vaccinations:
 * an oh_admin records one vaccination.  The host has checked the role and
 * the body against flu_vaccination_schema.
 */
#include "flu_host.h"

#include <stdio.h>

typedef struct vacc_write {
    const portico_host *host;
    const flu_vaccination *v;
    const char *actor;
    int64_t now_ms;
    json_t *record; /* the stored record, for the answer */
} vacc_write;

static int count_add(const portico_host *h, portico_txn *txn, const char *kind, const char *name)
{
    char counter[PORTICO_KEY_MAX + 1];
    int rc = h->key(counter, sizeof(counter), kind, name, NULL);
    return rc == PORTICO_OK ? h->counter_add(txn, counter, 1, NULL) : rc;
}

/*
 * The record, its audit entry and both counters go in one transaction, so
 * the counts GET reads can never disagree with the recorded vaccinations.
 * The host may re-run the transaction: this starts over each time and
 * keeps nothing but the last record.
 */
int flu_host_vaccination_record(const portico_host *h, portico_txn *txn, const flu_vaccination *v,
                                const char *actor, int64_t now_ms, json_t **record)
{
    json_decref(*record);
    *record = NULL;
    json_t *site = NULL;
    int rc = flu_host_site_get(h, txn, v->site, &site);
    json_decref(site);
    uint64_t seq = 0;
    if (rc == PORTICO_OK)
        rc = h->next_seq(txn, "vaccination", &seq);
    if (rc != PORTICO_OK)
        return rc;
    char id[24], padded[24], at[21], now[21], key[PORTICO_KEY_MAX + 1];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)seq);
    snprintf(padded, sizeof(padded), "%020llu", (unsigned long long)seq);
    h->time_format(at, v->vaccinated_at);
    h->time_format(now, now_ms / 1000);
    *record = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "staff_group", v->staff_group,
                        "site", v->site, "vaccinated_at", at, "recorded_by", actor ? actor : "",
                        "recorded_at", now);
    if (*record == NULL)
        return PORTICO_ENOMEM;
    rc = h->key(key, sizeof(key), "vacc", padded, NULL);
    if (rc == PORTICO_OK)
        rc = h->insert(txn, key, *record);
    if (rc == PORTICO_OK)
        rc = count_add(h, txn, "group", v->staff_group);
    if (rc == PORTICO_OK)
        rc = count_add(h, txn, "site", v->site);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, "vaccination.record", id, NULL, *record);
    return rc;
}

static int vacc_txn(portico_txn *txn, void *arg)
{
    vacc_write *w = arg;
    return flu_host_vaccination_record(w->host, txn, w->v, w->actor, w->now_ms, &w->record);
}

typedef struct site_check {
    const portico_host *host;
    const char *id;
} site_check;

static int site_exists_txn(portico_txn *txn, void *arg)
{
    site_check *c = arg;
    json_t *site = NULL;
    int rc = flu_host_site_get(c->host, txn, c->id, &site);
    json_decref(site);
    return rc;
}

int flu_route_vaccinate(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    flu_config cfg;
    if (flu_host_campaign(&cfg, ctx, true, 409) != FLU_CONFIG_OK)
        return PORTICO_OK;
    int64_t now_ms = h->now_ms();
    flu_env env = flu_host_env(h);
    flu_vaccination v;
    json_t *errors = json_array();
    if (errors == NULL)
        return PORTICO_ENOMEM;
    flu_vaccination_check(&v, errors, h->body(ctx), &cfg, now_ms, &env);
    /* An unknown site is reported with the other mistakes, so a client
     * sees them all at once; the write checks it again (a site may be
     * deleted in between). */
    site_check sc = {h, v.site};
    if (json_array_size(errors) > 0 && v.site != NULL &&
        h->read(ctx, site_exists_txn, &sc) == PORTICO_ENOTFOUND)
        h->invalid_add(errors, "/site", "is not a known site");
    if (json_array_size(errors) > 0) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    vacc_write w = {.host = h, .v = &v, .actor = ctx->caller->username, .now_ms = now_ms};
    int rc = h->write(ctx, vacc_txn, &w);
    if (rc == PORTICO_OK) {
        h->respond_json(ctx, 201, w.record);
        w.record = NULL;
    } else if (rc == PORTICO_ENOTFOUND) {
        h->invalid_add(errors, "/site", "is not a known site");
        h->respond_invalid(ctx, errors);
        errors = NULL;
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(errors);
    json_decref(w.record);
    return PORTICO_OK;
}
