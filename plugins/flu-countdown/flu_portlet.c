/*
 * flu_portlet.c - the flu-countdown portlet's descriptor: identity, config
 * schema, routes with their gates and body schemas, and the config rule
 * the schema cannot say.  The behaviour lives in the other flu_*.c files.
 */
#include "flu_host.h"

#define BASE "/api/v1/portlets/" FLU_ID

static const char *const dashboards[] = {"employee", NULL};

/* The host checks who may call and the body before a handler runs. */
static const portico_route routes[] = {
    {.method = "GET", .path = BASE, .handler = flu_route_status},
    {.method = "POST",
     .path = BASE "/vaccinations",
     .handler = flu_route_vaccinate,
     .roles = PORTICO_ROLE_OH_ADMIN,
     .body_schema = flu_vaccination_schema},
    {.method = "GET", .path = BASE "/sites", .handler = flu_route_sites_list},
    {.method = "PUT",
     .path = BASE "/sites/{site}",
     .handler = flu_route_site_put,
     .roles = PORTICO_ROLE_OH_ADMIN,
     .body_schema = flu_site_schema},
    {.method = "DELETE",
     .path = BASE "/sites/{site}",
     .handler = flu_route_site_delete,
     .roles = PORTICO_ROLE_OH_ADMIN},
};

int flu_check_config(portico_ctx *ctx, const json_t *config, json_t *errors)
{
    flu_env env = flu_host_env(ctx->host);
    return flu_config_check(config, &env, errors) ? PORTICO_OK : PORTICO_EINVAL;
}

PORTICO_DEFINE_PORTLET(flu_countdown_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = FLU_ID,
    .name = "Flu campaign countdown",
    .version = "2.0.0",
    .description = "Countdown to the end of a time-limited campaign (flu vaccination, staff "
                   "survey), uptake by staff group and site, and where to get the jab.",
    .dashboards = dashboards,
    .config_schema = flu_config_schema,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .summary = flu_summary,
    .demo = flu_demo,
    .check_config = flu_check_config,
};
