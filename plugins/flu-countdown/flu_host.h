/*
 * flu_host.h - what the flu-countdown route handlers share: the host table
 * handed to init(), the campaign as this request's organisation has it
 * configured, and the handlers the descriptor lists.
 */
#ifndef FLU_HOST_H
#define FLU_HOST_H

#include "flu.h"

#include <portico/portlet.h>

/* Set once by init() before any request; read-only afterwards. */
extern const portico_host *flu_host;
extern flu_clock flu_host_clock;

/*
 * Reads the organisation's campaign.  On failure answers the request
 * (when answer is true) and returns the config result: 404 not_found when
 * nothing is configured, 409 conflict when the stored config is unusable
 * (`absent_status` overrides the 404, e.g. 409 for writes).
 */
enum flu_config_result flu_host_campaign(flu_config *out, portico_ctx *ctx, bool answer,
                                         int absent_status);

/* Answers a storage failure that is not the caller's fault. */
void flu_host_store_error(portico_ctx *ctx, int rc);

/* Reads the site record "site/<id>"; PORTICO_ENOTFOUND if there is none. */
int flu_host_site_get(portico_txn *txn, const char *id, json_t **out);

/* Reads a counter ("count/group/<g>", "count/site/<s>"); 0 if absent. */
int flu_host_counter_get(portico_txn *txn, const char *key, int64_t *out);
/* Adds delta to a counter in the write transaction. */
int flu_host_counter_add(portico_txn *txn, const char *key, int64_t delta);

/* Per-group tallies (vaccinated from counters, headcount from people and
 * overrides) for the configured groups, in a read transaction. */
int flu_host_tally_groups(portico_txn *txn, flu_group_tally *tallies, const flu_config *cfg);

/* Stores a validated site (from flu_site_build) under "site/<id>" with its
 * created_at/updated_at, audited; *created tells which it was. */
int flu_host_site_put(portico_txn *txn, const char *id, const json_t *site, const char *now,
                      bool *created, json_t **stored);
/* Records a validated vaccination: the record, both counters and the audit
 * entry.  PORTICO_ENOTFOUND when its site does not exist. */
int flu_host_vaccination_record(portico_txn *txn, const flu_vaccination *v, const char *actor,
                                int64_t now_ms, json_t **record);

int flu_check_config(const json_t *config, json_t **errors);
int flu_demo(portico_ctx *ctx, json_t **config);

int flu_route_status(portico_ctx *ctx);      /* GET    /api/v1/portlets/flu-countdown */
int flu_route_vaccinate(portico_ctx *ctx);   /* POST   .../vaccinations */
int flu_route_site_put(portico_ctx *ctx);    /* PUT    .../sites/{site} */
int flu_route_site_delete(portico_ctx *ctx); /* DELETE .../sites/{site} */
int flu_route_sites_list(portico_ctx *ctx);  /* GET    .../sites */
int flu_summary(portico_ctx *ctx, const char *dashboard, json_t **out);

#endif
