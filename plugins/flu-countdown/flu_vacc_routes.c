/*
 * flu_vacc_routes.c - POST /api/v1/portlets/flu-countdown/vaccinations:
 * an oh_admin records one vaccination.
 */
#include "flu_host.h"

#include <stdio.h>
#include <string.h>

typedef struct vacc_write {
    const flu_vaccination *v;
    const char *actor;
    int64_t now_ms;
    bool unknown_site;
    json_t *record; /* the stored record, for the answer */
} vacc_write;

/*
 * The record, its audit entry and both counters go in one transaction, so
 * the counters GET reads can never disagree with the recorded
 * vaccinations.  The host may re-run the transaction: this starts over
 * each time and keeps nothing but the last record.
 */
int flu_host_vaccination_record(portico_txn *txn, const flu_vaccination *v, const char *actor,
                                int64_t now_ms, json_t **record)
{
    json_decref(*record);
    *record = NULL;
    json_t *site = NULL;
    int rc = flu_host_site_get(txn, v->site, &site);
    json_decref(site);
    if (rc != PORTICO_OK)
        return rc;

    uint64_t seq;
    rc = flu_host->next_seq(txn, "vaccination", &seq);
    if (rc != PORTICO_OK)
        return rc;
    char id[24], at[21], now[21], key[96];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)seq);
    flu_host->time_format(at, v->vaccinated_at);
    flu_host->time_format(now, now_ms / 1000);
    *record = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "staff_group", v->staff_group,
                        "site", v->site, "vaccinated_at", at, "recorded_by", actor ? actor : "",
                        "recorded_at", now);
    if (*record == NULL)
        return PORTICO_ENOMEM;
    snprintf(key, sizeof(key), "vacc/%020llu", (unsigned long long)seq);
    rc = flu_host->insert(txn, key, *record);
    if (rc == PORTICO_OK) {
        snprintf(key, sizeof(key), "count/group/%s", v->staff_group);
        rc = flu_host_counter_add(txn, key, 1);
    }
    if (rc == PORTICO_OK) {
        snprintf(key, sizeof(key), "count/site/%s", v->site);
        rc = flu_host_counter_add(txn, key, 1);
    }
    if (rc == PORTICO_OK)
        rc = flu_host->audit(txn, "vaccination.record", id, NULL, *record);
    return rc;
}

static int vacc_txn(portico_txn *txn, void *arg)
{
    vacc_write *w = arg;
    int rc = flu_host_vaccination_record(txn, w->v, w->actor, w->now_ms, &w->record);
    w->unknown_site = rc == PORTICO_ENOTFOUND;
    return rc;
}

static int site_exists_txn(portico_txn *txn, void *arg)
{
    json_t *site = NULL;
    int rc = flu_host_site_get(txn, arg, &site);
    json_decref(site);
    return rc;
}

int flu_route_vaccinate(portico_ctx *ctx)
{
    json_t *body = NULL;
    if (flu_host->body_json(ctx, &body) != PORTICO_OK)
        return PORTICO_OK; /* the host has answered */
    flu_config cfg;
    if (flu_host_campaign(&cfg, ctx, true, 409) != FLU_CONFIG_OK) {
        json_decref(body);
        return PORTICO_OK;
    }
    int64_t now_ms = flu_host->now_ms();
    flu_vaccination v;
    json_t *errors = NULL;
    flu_vaccination_check(&v, &errors, body, &cfg, now_ms, &flu_host_clock);
    /* An unknown site is reported with the other mistakes, so a client
     * sees them all at once; the write checks it again (a site may be
     * deleted in between). */
    if (errors != NULL && v.site != NULL && flu_site_id_valid(v.site) &&
        flu_host->read(ctx, site_exists_txn, (void *)v.site) == PORTICO_ENOTFOUND)
        flu_host->invalid_add(&errors, "/site", "is not a known site");
    if (errors != NULL) {
        flu_host->respond_invalid(ctx, errors);
        json_decref(body);
        return PORTICO_OK;
    }
    const portico_caller *who = flu_host->caller(ctx);
    vacc_write w = {.v = &v, .actor = who ? who->username : NULL, .now_ms = now_ms};
    int rc = flu_host->write(ctx, vacc_txn, &w);
    if (rc == PORTICO_OK) {
        flu_host->respond_json(ctx, 201, w.record);
        w.record = NULL;
    } else if (w.unknown_site) {
        flu_host->invalid_add(&errors, "/site", "is not a known site");
        flu_host->respond_invalid(ctx, errors);
    } else {
        flu_host_store_error(ctx, rc);
    }
    json_decref(w.record);
    json_decref(body);
    return PORTICO_OK;
}
