/*
 * fw_portlet.c - the flexible-working portlet's descriptor: identity,
 * config schema, routes with their gates and body schemas, and init.  The
 * behaviour lives in the other fw_*.c files.
 */
#include "fw_host.h"

#include <stddef.h>

#define CHANGE_TYPES                                                                               \
    "[\"part_time\",\"compressed_hours\",\"term_time\",\"annualised_hours\",\"job_share\","        \
    "\"flexitime\",\"self_rostering\",\"remote_or_hybrid\",\"phased_retirement\",\"other\"]"
#define REASONS                                                                                    \
    "[\"extra_costs\",\"customer_demand\",\"reorganise_work\",\"recruit_staff\",\"quality\","      \
    "\"performance\",\"insufficient_work\",\"structural_changes\"]"
#define TEXT(max)     "{\"type\":\"string\",\"maxLength\":" #max "}"
#define TEXT_REQ(max) "{\"type\":\"string\",\"minLength\":1,\"maxLength\":" #max "}"

static const char config_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"policy\":{\"enum\":[\"statutory\",\"nhs\"],\"default\":\"statutory\","
    "\"description\":\"statutory: two requests in any 12 months; nhs: no yearly limit. Both: one "
    "request in progress at a time.\"}}}";

static const char create_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"change_types\",\"proposed_start\",\"current_pattern\",\"requested_pattern\"],"
    "\"properties\":{"
    "\"change_types\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":10,\"uniqueItems\":true,"
    "\"items\":{\"enum\":" CHANGE_TYPES "}},"
    "\"proposed_start\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"current_pattern\":" TEXT_REQ(
        2000) ","
              "\"requested_pattern\":" TEXT_REQ(
                  2000) ","
                        "\"description\":" TEXT(
                            4000) ","
                                  "\"previous_request\":{\"type\":\"boolean\"},"
                                  "\"previous_request_date\":{\"anyOf\":[{\"type\":\"null\"},"
                                  "{\"type\":\"string\",\"format\":\"date\"}]}}}";

static const char meeting_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"held_at\",\"attended\"],"
    "\"properties\":{\"held_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"attended\":{\"type\":\"boolean\"},\"good_reason\":{\"type\":\"boolean\"},"
    "\"notes\":" TEXT(4000) "}}";

static const char decision_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"outcome\"],"
    "\"properties\":{\"outcome\":{\"enum\":[\"approved\",\"approved_with_changes\",\"rejected\"]},"
    "\"business_reasons\":{\"type\":\"array\",\"maxItems\":8,\"uniqueItems\":true,"
    "\"items\":{\"enum\":" REASONS "}},"
    "\"explanation\":" TEXT(4000) "}}";

static const char withdraw_schema[] = "{\"type\":\"object\",\"additionalProperties\":false,"
                                      "\"properties\":{\"reason\":" TEXT(2000) "}}";

static const char treat_schema[] = "{\"type\":\"object\",\"additionalProperties\":false,"
                                   "\"properties\":{\"notes\":" TEXT(2000) "}}";

static const char appeal_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"grounds\"],"
    "\"properties\":{\"grounds\":" TEXT_REQ(4000) "}}";

static const char appeal_decision_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"outcome\","
    "\"explanation\"],\"properties\":{\"outcome\":{\"enum\":[\"upheld\",\"dismissed\"]},"
    "\"explanation\":" TEXT_REQ(4000) "}}";

static const char extension_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"decision_due\"],"
    "\"properties\":{\"decision_due\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"reason\":" TEXT(2000) "}}";

static const char empty_schema[] = "{\"type\":\"object\",\"additionalProperties\":false}";

static const char *const dashboards[] = {"employee", NULL};

#define REQ FW_BASE "/requests/{id}"

/* Deciders are checked by the handlers (the requester's manager comes from
 * the person record), so those routes are open to every member. */
static const portico_route routes[] = {
    {.method = "POST",
     .path = FW_BASE "/requests",
     .handler = fw_route_create,
     .statuses = PORTICO_EMPLOYEES,
     .body_schema = create_schema,
     .body_max = 65536},
    {.method = "GET",
     .path = FW_BASE "/requests",
     .handler = fw_route_list,
     .mfa_statuses = PORTICO_LEAVERS},
    {.method = "GET", .path = REQ, .handler = fw_route_get, .mfa_statuses = PORTICO_LEAVERS},
    {.method = "POST",
     .path = REQ "/meetings",
     .handler = fw_route_meeting,
     .body_schema = meeting_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/decision",
     .handler = fw_route_decision,
     .body_schema = decision_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/withdraw",
     .handler = fw_route_withdraw,
     .mfa_statuses = PORTICO_LEAVERS,
     .body_schema = withdraw_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/appeal",
     .handler = fw_route_appeal,
     .mfa_statuses = PORTICO_LEAVERS,
     .body_schema = appeal_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/appeal/decision",
     .handler = fw_route_appeal_decision,
     .body_schema = appeal_decision_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/extension",
     .handler = fw_route_extension,
     .body_schema = extension_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/extension/agree",
     .handler = fw_route_extension_agree,
     .mfa_statuses = PORTICO_LEAVERS,
     .body_schema = empty_schema,
     .body_max = 65536},
    {.method = "POST",
     .path = REQ "/treated-as-withdrawn",
     .handler = fw_route_treat_withdrawn,
     .body_schema = treat_schema,
     .body_max = 65536},
    {.method = "GET",
     .path = FW_BASE "/report",
     .handler = fw_route_report,
     .roles = PORTICO_ROLE_HR_ADMIN},
};

/*
 * Every host function this portlet calls is part of ABI 2.0, so a 2.x
 * host has them all; the check turns a broken table into a refusal at
 * load time instead of a crash on the first request.
 */
static int fw_init(portico_ctx *ctx, void **state)
{
    const portico_host *h = ctx->host;
    *state = NULL;
    if (h == NULL || h->abi_major != PORTICO_ABI_MAJOR || !PORTICO_HOST_HAS(h, schema_validate))
        return -1;
    return 0;
}

static void fw_shutdown(portico_ctx *ctx)
{
    (void)ctx;
}

PORTICO_DEFINE_PORTLET(flexible_working_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = FW_ID,
    .name = "Flexible working",
    .version = "1.0.0",
    .description = "Statutory flexible working requests from request to decision and appeal, "
                   "with deadlines, consultation, the eight business reasons and a compliance "
                   "report (Employment Rights Act 1996 s80F-80G as amended in 2024; NHS terms).",
    .dashboards = dashboards,
    .config_schema = config_schema,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .init = fw_init,
    .shutdown = fw_shutdown,
    .summary = fw_summary,
    .demo = fw_demo,
};
