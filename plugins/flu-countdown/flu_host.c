/*
 * flu_host.c - small helpers over the host table shared by the handlers:
 * the campaign config, site records, vaccination counts and group
 * tallies.
 */
#include "flu_host.h"

#include <stdio.h>

flu_env flu_host_env(const portico_host *h)
{
    return (flu_env){h->time_parse, h->time_format, h->invalid_add};
}

enum flu_config_result flu_host_campaign(flu_config *out, portico_ctx *ctx, bool answer,
                                         int absent_status)
{
    const portico_host *h = ctx->host;
    const char *why = NULL;
    flu_env env = flu_host_env(h);
    enum flu_config_result r = flu_config_read(out, h->config(ctx), &env, &why);
    if (r == FLU_CONFIG_OK || !answer)
        return r;
    if (r == FLU_CONFIG_ABSENT && absent_status == 404) {
        h->respond_error(ctx, PORTICO_ENOTFOUND, "no campaign is configured");
    } else {
        char detail[160];
        snprintf(detail, sizeof(detail), "the campaign configuration is not usable: %s", why);
        h->respond_error(ctx, PORTICO_ECONFLICT, detail);
    }
    return r;
}

/* One place that knows a site's key, for the routes that read one. */
int flu_host_site_get(const portico_host *h, portico_txn *txn, const char *id, json_t **out)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), "site", id, NULL);
    return rc == PORTICO_OK ? h->get(txn, key, out) : rc;
}

int flu_host_count_get(const portico_host *h, portico_txn *txn, const char *kind, const char *name,
                       int64_t *out)
{
    char counter[PORTICO_KEY_MAX + 1];
    int rc = h->key(counter, sizeof(counter), kind, name, NULL);
    return rc == PORTICO_OK ? h->counter_get(txn, counter, out) : rc;
}

/*
 * Headcounts are the host's kept counts of the organisation's employees
 * by staff group, vaccinated numbers the counters kept with each
 * vaccination, so no request walks every person or every vaccination.
 */
int flu_host_tally_groups(const portico_host *h, portico_txn *txn, flu_group_tally *tallies,
                          const flu_config *cfg)
{
    flu_uptake_init(tallies, cfg);
    for (size_t i = 0; i < cfg->group_count; i++) {
        int rc = flu_host_count_get(h, txn, "group", cfg->groups[i], &tallies[i].vaccinated);
        if (rc == PORTICO_OK)
            rc = h->people_count(txn, cfg->groups[i], PORTICO_STATUS_EMPLOYEE,
                                 &tallies[i].headcount);
        if (rc != PORTICO_OK)
            return rc;
    }
    flu_uptake_apply_overrides(tallies, cfg);
    return PORTICO_OK;
}
