/*
 * lv_portlet.c - the leavers portlet's descriptor: identity, config
 * schema, routes with their gates, init and shutdown.  The behaviour
 * lives in the other lv_*.c files.
 */
#include "lv_host.h"

#include <stdlib.h>

static const char *const dashboards[] = {"leaver", "employee", NULL};

/* Self-service: employees and leavers (applicants get 403 from the host),
 * leavers only with MFA.  The leaver window itself is the host's, at
 * authentication, for every route. */
#define LV_SELF    .statuses = PORTICO_EMPLOYEES | PORTICO_LEAVERS, .mfa_statuses = PORTICO_LEAVERS
#define LV_PAYROLL .roles = PORTICO_ROLE_PAYROLL_ADMIN, .mfa_statuses = PORTICO_LEAVERS

static const portico_route routes[] = {
    {"POST", LV_BASE "/documents", lv_route_load, LV_PAYROLL, .body_schema = lv_schema_document},
    {"POST", LV_BASE "/documents/bulk", lv_route_bulk, LV_PAYROLL, .body_schema = lv_schema_bulk,
     .body_max = LV_BULK_BODY_MAX},
    {"GET", LV_BASE "/payslips", lv_route_payslips, LV_SELF},
    {"GET", LV_BASE "/payslips/{period}", lv_route_payslip, LV_SELF},
    {"GET", LV_BASE "/p45", lv_route_p45, LV_SELF},
    {"GET", LV_BASE "/p60", lv_route_p60s, LV_SELF},
    {"GET", LV_BASE "/p60/{tax_year}", lv_route_p60, LV_SELF},
    {"GET", LV_BASE "/pack", lv_route_pack, LV_SELF},
    {"GET", LV_BASE "/admin/people/{username}/documents", lv_route_admin_list, LV_PAYROLL},
    {"GET", LV_BASE "/admin/people/{username}/documents/{kind}/{period}", lv_route_admin_get,
     LV_PAYROLL},
};

static void state_free(lv_state *st)
{
    if (!st)
        return;
    for (int k = 0; k < LV_KIND_COUNT; k++)
        json_decref(st->data_schema[k]);
    free(st);
}

/*
 * Parses the data schemas once (the host compiles a schema object once
 * and caches it by address, so they must live as long as the portlet),
 * and refuses a host without the functions the routes call.
 */
static int lv_init(portico_ctx *ctx, void **state)
{
    const portico_host *h = ctx->host;
    *state = NULL;
    if (!PORTICO_HOST_HAS(h, schema_validate) || !PORTICO_HOST_HAS(h, accepts) ||
        !PORTICO_HOST_HAS(h, page) || !PORTICO_HOST_HAS(h, person_get))
        return PORTICO_ERR;
    lv_state *st = calloc(1, sizeof(*st));
    if (!st)
        return PORTICO_ENOMEM;
    for (int k = 0; k < LV_KIND_COUNT; k++) {
        st->data_schema[k] = json_loads(lv_schema_data[k], 0, NULL);
        if (!st->data_schema[k]) {
            h->log(ctx, PORTICO_LOG_ERROR, "data schema of %s does not parse",
                   lv_kind_name((enum lv_kind)k));
            state_free(st);
            return PORTICO_ERR;
        }
    }
    *state = st;
    return PORTICO_OK;
}

static void lv_shutdown(portico_ctx *ctx)
{
    state_free(ctx->state);
}

PORTICO_DEFINE_PORTLET(leavers_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = LV_ID,
    .name = "My Payslip, My P45, My P60",
    .version = "1.0.0",
    .description = "Payslips, P45 and P60s for employees and, for a limited time after they "
                   "leave, leavers: JSON or PDF, everything in one PDF, and payday bulk loading "
                   "for payroll.",
    .dashboards = dashboards,
    .config_schema = lv_schema_config,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .init = lv_init,
    .shutdown = lv_shutdown,
    .summary = lv_summary,
    .notices = lv_notices,
    .demo = lv_demo,
};
