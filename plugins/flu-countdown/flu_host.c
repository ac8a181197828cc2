/*
 * flu_host.c - small helpers over the host table shared by the handlers:
 * the campaign config, site records, counters, group tallies and storage
 * errors.
 */
#include "flu_host.h"

#include <stdio.h>

enum flu_config_result flu_host_campaign(flu_config *out, portico_ctx *ctx, bool answer,
                                         int absent_status)
{
    const char *why = NULL;
    enum flu_config_result r = flu_config_read(out, flu_host->config(ctx), &flu_host_clock, &why);
    if (r == FLU_CONFIG_OK || !answer)
        return r;
    if (r == FLU_CONFIG_ABSENT && absent_status == 404) {
        flu_host->respond_problem(ctx, 404, "not_found", "no campaign is configured");
    } else {
        char detail[160];
        snprintf(detail, sizeof(detail), "the campaign configuration is not usable: %s", why);
        flu_host->respond_problem(ctx, 409, "conflict", detail);
    }
    return r;
}

void flu_host_store_error(portico_ctx *ctx, int rc)
{
    flu_host->log(PORTICO_LOG_ERROR, "flu-countdown: storage failure %d", rc);
    flu_host->respond_problem(ctx, rc == PORTICO_ENOMEM ? 503 : 500,
                              rc == PORTICO_ENOMEM ? "unavailable" : "internal_error",
                              "the store could not complete the request");
}

/* One place that knows a site's key, for the three routes that read one. */
int flu_host_site_get(portico_txn *txn, const char *id, json_t **out)
{
    char key[96];
    snprintf(key, sizeof(key), "site/%s", id);
    return flu_host->get(txn, key, out);
}

int flu_host_counter_get(portico_txn *txn, const char *key, int64_t *out)
{
    json_t *v = NULL;
    *out = 0;
    int rc = flu_host->get(txn, key, &v);
    if (rc == PORTICO_ENOTFOUND)
        return PORTICO_OK;
    if (rc != PORTICO_OK)
        return rc;
    json_int_t n = json_integer_value(json_object_get(v, "count"));
    *out = n > 0 ? n : 0;
    json_decref(v);
    return PORTICO_OK;
}

int flu_host_counter_add(portico_txn *txn, const char *key, int64_t delta)
{
    int64_t n;
    int rc = flu_host_counter_get(txn, key, &n);
    if (rc != PORTICO_OK)
        return rc;
    json_t *v = json_pack("{s:I}", "count", (json_int_t)(n + delta));
    if (v == NULL)
        return PORTICO_ENOMEM;
    rc = flu_host->put(txn, key, v);
    json_decref(v);
    return rc;
}

typedef struct people_arg {
    flu_group_tally *tallies;
    const flu_config *cfg;
} people_arg;

static int count_person(const json_t *person, void *arg)
{
    people_arg *a = arg;
    flu_uptake_count_person(a->tallies, a->cfg, person);
    return PORTICO_OK;
}

/*
 * A host of ABI 1.1 keeps the counts itself (cached, kept current with
 * every person write), which spares a walk over every person of a large
 * organisation on each status read and dashboard card; an older host
 * only offers the walk.  Either way the rule is the same: people whose
 * effective status today is employee, by staff group.
 */
static int flu_host_headcounts(portico_txn *txn, flu_group_tally *tallies, const flu_config *cfg)
{
    if (!PORTICO_HOST_HAS(flu_host, people_count)) {
        people_arg a = {tallies, cfg};
        return flu_host->people_each(txn, count_person, &a);
    }
    for (size_t i = 0; i < cfg->group_count; i++) {
        /* A group listed twice is counted once, as people_each would. */
        if (flu_config_group_index(cfg, cfg->groups[i]) != (int)i)
            continue;
        int rc = flu_host->people_count(txn, cfg->groups[i], PORTICO_STATUS_EMPLOYEE,
                                        &tallies[i].headcount);
        if (rc != PORTICO_OK)
            return rc;
    }
    return PORTICO_OK;
}

/*
 * Headcounts come from the organisation's own people (the host scopes
 * people_each to the caller's organisation), vaccinated numbers from the
 * counters kept with each vaccination, so no request scans every
 * vaccination ever recorded.
 */
int flu_host_tally_groups(portico_txn *txn, flu_group_tally *tallies, const flu_config *cfg)
{
    flu_uptake_init(tallies, cfg);
    for (size_t i = 0; i < cfg->group_count; i++) {
        char key[80];
        snprintf(key, sizeof(key), "count/group/%s", cfg->groups[i]);
        int rc = flu_host_counter_get(txn, key, &tallies[i].vaccinated);
        if (rc != PORTICO_OK)
            return rc;
    }
    int rc = flu_host_headcounts(txn, tallies, cfg);
    if (rc != PORTICO_OK)
        return rc;
    flu_uptake_apply_overrides(tallies, cfg);
    return PORTICO_OK;
}
