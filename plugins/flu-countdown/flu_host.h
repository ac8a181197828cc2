/*
 * flu_host.h - what the flu-countdown handlers share: the campaign as the
 * request's organisation has it configured, the store layout (sites,
 * vaccinations, counters) and the callbacks the descriptor lists.  Every
 * host call goes through ctx->host (or the host pointer a transaction
 * callback was handed): the portlet keeps no global state.
 *
 * Store layout, keys built with host->key():
 *   site/<id>          a site and its sessions
 *   vacc/<seq, %020>   one recorded vaccination
 * Counters: group/<staff group> and site/<id>, vaccinations recorded.
 */
#ifndef FLU_HOST_H
#define FLU_HOST_H

#include "flu.h"

#include <portico/portlet.h>

#define FLU_SITE_PREFIX "site/"

/* The host functions the pure logic borrows. */
flu_env flu_host_env(const portico_host *h);

/*
 * Reads the organisation's campaign.  On failure answers the request
 * (when answer is true) and returns the config result: 404 not_found when
 * nothing is configured (`absent_status` may make it 409 for writes), 409
 * conflict when the stored config is unusable.
 */
enum flu_config_result flu_host_campaign(flu_config *out, portico_ctx *ctx, bool answer,
                                         int absent_status);

/* Reads the site record; PORTICO_ENOTFOUND if there is none. */
int flu_host_site_get(const portico_host *h, portico_txn *txn, const char *id, json_t **out);

/* Vaccinations counted so far for a staff group ("group") or a site. */
int flu_host_count_get(const portico_host *h, portico_txn *txn, const char *kind, const char *name,
                       int64_t *out);

/* Per-group tallies (vaccinated from counters, headcount from the host's
 * people counts and the overrides) for the configured groups. */
int flu_host_tally_groups(const portico_host *h, portico_txn *txn, flu_group_tally *tallies,
                          const flu_config *cfg);

/* Stores a validated site (from flu_site_build) with its created_at and
 * updated_at, audited; *created tells which it was. */
int flu_host_site_put(const portico_host *h, portico_txn *txn, const char *id, const json_t *site,
                      const char *now, bool *created, json_t **stored);
/* Records a checked vaccination: the record, both counters and the audit
 * entry.  PORTICO_ENOTFOUND when its site does not exist. */
int flu_host_vaccination_record(const portico_host *h, portico_txn *txn, const flu_vaccination *v,
                                const char *actor, int64_t now_ms, json_t **record);

int flu_check_config(portico_ctx *ctx, const json_t *config, json_t *errors);
int flu_demo(portico_ctx *ctx, json_t **config);
int flu_summary(portico_ctx *ctx, const char *dashboard, json_t **out);

int flu_route_status(portico_ctx *ctx);      /* GET    /api/v1/portlets/flu-countdown */
int flu_route_vaccinate(portico_ctx *ctx);   /* POST   .../vaccinations */
int flu_route_site_put(portico_ctx *ctx);    /* PUT    .../sites/{site} */
int flu_route_site_delete(portico_ctx *ctx); /* DELETE .../sites/{site} */
int flu_route_sites_list(portico_ctx *ctx);  /* GET    .../sites */

#endif
