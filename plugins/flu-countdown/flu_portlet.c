/*
 * flu_portlet.c - the flu-countdown portlet's descriptor: identity, config
 * schema, routes, init and shutdown.  The behaviour lives in the other
 * flu_*.c files.
 */
#include "flu_host.h"

#include <stddef.h>

const portico_host *flu_host;
flu_clock flu_host_clock;

#define BASE "/api/v1/portlets/" FLU_ID

/* The JSON Schema subset the host validates configs with.  Defaults are
 * annotations only: flu_config_read() applies them. */
static const char config_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"campaign\",\"starts_at\",\"ends_at\"],"
    "\"properties\":{"
    "\"campaign\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":120},"
    "\"starts_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"ends_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"sections\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"countdown\":{\"type\":\"boolean\",\"default\":true},"
    "\"uptake\":{\"type\":\"boolean\",\"default\":true},"
    "\"signposting\":{\"type\":\"boolean\",\"default\":true}}},"
    "\"staff_groups\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,\"uniqueItems\":true,"
    "\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9_]{1,40}$\"},"
    "\"default\":[\"doctors\",\"qualified_nurses\",\"other_clinical\",\"support_to_clinical\"]},"
    "\"target_percent\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100,\"default\":80},"
    "\"headcount_override\":{\"type\":\"object\",\"additionalProperties\":"
    "{\"type\":\"integer\",\"minimum\":0,\"maximum\":10000000}}}}";

static const char *const dashboards[] = {"employee", NULL};

static const portico_route routes[] = {
    {"GET", BASE, 0, flu_route_status},
    {"POST", BASE "/vaccinations", PORTICO_ROLE_OH_ADMIN, flu_route_vaccinate},
    {"GET", BASE "/sites", 0, flu_route_sites_list},
    {"PUT", BASE "/sites/{site}", PORTICO_ROLE_OH_ADMIN, flu_route_site_put},
    {"DELETE", BASE "/sites/{site}", PORTICO_ROLE_OH_ADMIN, flu_route_site_delete},
};

/*
 * Refuses a host table too old to hold the functions we call, so a
 * mismatch is reported at load time instead of crashing on a request.
 */
static int flu_init(const portico_host *host, void **state)
{
    *state = NULL;
    if (host == NULL || !PORTICO_HOST_HAS(host, schema_validate) || host->time_parse == NULL ||
        host->time_format == NULL)
        return -1;
    flu_host = host;
    flu_host_clock.parse = host->time_parse;
    flu_host_clock.format = host->time_format;
    return 0;
}

int flu_check_config(const json_t *config, json_t **errors)
{
    flu_config_check(errors, config, &flu_host_clock);
    return *errors ? PORTICO_EINVAL : PORTICO_OK;
}

static void flu_shutdown(void *state)
{
    (void)state;
}

/* The exported object must be named "portico_portlet", which in C is also
 * the descriptor's typedef name; the assembler label gives the symbol that
 * name while the C identifier stays distinct. */
PORTICO_DEFINE_PORTLET(flu_countdown_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = FLU_ID,
    .name = "Flu campaign countdown",
    .version = "1.0.0",
    .description = "Countdown to the end of a time-limited campaign (flu vaccination, staff "
                   "survey), uptake by staff group and site, and where to get the jab.",
    .dashboards = dashboards,
    .config_schema = config_schema,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .init = flu_init,
    .shutdown = flu_shutdown,
    .summary = flu_summary,
    .demo = flu_demo,
    .check_config = flu_check_config,
};
