/*
 * aw_portlet.c - the applicant-welcome portlet's descriptor: identity,
 * config and body schemas, routes with their gates, init.  The behaviour
 * lives in the other aw_*.c files.
 */
#include "aw_host.h"

#include <stddef.h>
#include <stdlib.h>

/* review_days: how long after publishing a version is due for review. */
static const char config_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"review_days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":730,\"default\":90}}}";

#define URL       "{\"type\":\"string\",\"minLength\":9,\"maxLength\":2048}"
#define COLOUR    "{\"type\":\"string\",\"pattern\":\"^#[0-9A-Fa-f]{6}$\"}"
#define TEXT(max) "{\"type\":\"string\",\"minLength\":1,\"maxLength\":" #max "}"

/* The shape and bounds of a draft; the rules a schema cannot say (plain
 * text, https URLs, alt text, contrast, unique names) are aw_content_check. */
static const char content_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"headline\":" TEXT(
        200) ","
             "\"welcome_video\":{\"type\":\"object\",\"additionalProperties\":false,"
             "\"required\":[\"url\",\"title\"],\"properties\":{"
             "\"url\":" URL ",\"title\":" TEXT(
                 200) ",\"captions_url\":" URL "}},"
                      "\"services\":{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":"
                      "\"object\","
                      "\"additionalProperties\":false,\"required\":[\"name\"],\"properties\":{"
                      "\"name\":" TEXT(
                          120) ",\"description\":{\"type\":\"string\",\"maxLength\":1000},"
                               "\"url\":" URL "}}},"
                               "\"area_map\":{\"type\":\"object\",\"additionalProperties\":false,"
                               "\"required\":[\"image_url\",\"alt_text\"],\"properties\":{"
                               "\"image_url\":" URL ",\"alt_text\":" TEXT(
                                   500) "}},"
                                        "\"branding\":{\"type\":\"object\","
                                        "\"additionalProperties\":false,"
                                        "\"required\":[\"primary_colour\",\"secondary_colour\","
                                        "\"text_colour\"],\"properties\":{"
                                        "\"primary_colour\":" COLOUR ",\"secondary_colour\":" COLOUR
                                        ",\"text_colour\":" COLOUR ","
                                        "\"logo_url\":" URL ",\"logo_alt_text\":" TEXT(
                                            200) "}},"
                                                 "\"checklist\":{\"type\":\"array\",\"maxItems\":"
                                                 "50,\"items\":{\"type\":\"object\","
                                                 "\"additionalProperties\":false,\"required\":["
                                                 "\"id\",\"title\",\"kind\"],\"properties\":{"
                                                 "\"id\":{\"type\":\"string\",\"pattern\":\"^[a-z0-"
                                                 "9][a-z0-9_-]{0,63}$\"},"
                                                 "\"title\":" TEXT(
                                                     200) ","
                                                          "\"kind\":{\"type\":\"string\",\"enum\":["
                                                          "\"training\",\"personal_info\","
                                                          "\"document\"]},"
                                                          "\"url\":" URL "}}}}}";

static const char interaction_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"target\",\"action\"],"
    "\"properties\":{\"target\":" TEXT(200) ","
                                            "\"action\":{\"type\":\"string\",\"enum\":[\"view\","
                                            "\"click\",\"open\",\"play\",\"pause\","
                                            "\"complete\",\"expand\",\"collapse\"]}}}";

static const char *const dashboards[] = {"applicant", "employee", NULL};

#define EDITORS (PORTICO_ROLE_CONTENT_ADMIN | PORTICO_ROLE_PORTAL_ADMIN)

static const portico_route routes[] = {
    /* Applicants see their view; editors may preview it. */
    {.method = "GET",
     .path = AW_BASE,
     .handler = aw_route_view,
     .roles = EDITORS,
     .statuses = PORTICO_APPLICANTS},
    {.method = "GET",
     .path = AW_BASE "/content",
     .handler = aw_route_content_get,
     .roles = EDITORS},
    {.method = "PUT",
     .path = AW_BASE "/content",
     .handler = aw_route_content_put,
     .roles = EDITORS,
     .body_schema = content_schema},
    {.method = "POST",
     .path = AW_BASE "/content/publish",
     .handler = aw_route_content_publish,
     .roles = EDITORS},
    {.method = "GET",
     .path = AW_BASE "/content/versions",
     .handler = aw_route_versions_list,
     .roles = EDITORS},
    {.method = "GET",
     .path = AW_BASE "/content/versions/{n}",
     .handler = aw_route_version_get,
     .roles = EDITORS},
    {.method = "POST",
     .path = AW_BASE "/content/versions/{n}/restore",
     .handler = aw_route_version_restore,
     .roles = EDITORS},
    {.method = "GET",
     .path = AW_BASE "/content/review",
     .handler = aw_route_review,
     .roles = EDITORS},
    {.method = "POST",
     .path = AW_BASE "/checklist/{item}/complete",
     .handler = aw_route_checklist_complete,
     .statuses = PORTICO_APPLICANTS},
    {.method = "DELETE",
     .path = AW_BASE "/checklist/{item}/complete",
     .handler = aw_route_checklist_undo,
     .statuses = PORTICO_APPLICANTS},
    {.method = "POST",
     .path = AW_BASE "/interactions",
     .handler = aw_route_interaction,
     .statuses = PORTICO_APPLICANTS,
     .body_schema = interaction_schema,
     .body_max = 4096},
    {.method = "GET",
     .path = AW_BASE "/analytics",
     .handler = aw_route_analytics,
     .roles = EDITORS},
};

/* Refuses a host of another major, or one whose table is too short to
 * hold everything this portlet calls (all of it is ABI 2.0).  The state
 * is the view cache. */
static int aw_init(portico_ctx *ctx, void **state)
{
    *state = NULL;
    const portico_host *h = ctx->host;
    if (h == NULL || h->abi_major != PORTICO_ABI_MAJOR || !PORTICO_HOST_HAS(h, schema_validate))
        return PORTICO_ERR;
    aw_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return PORTICO_ENOMEM;
    st->views = aw_view_cache_new();
    if (st->views == NULL) {
        free(st);
        return PORTICO_ENOMEM;
    }
    *state = st;
    return PORTICO_OK;
}

static void aw_shutdown(portico_ctx *ctx)
{
    aw_state *st = ctx->state;
    if (st == NULL)
        return;
    aw_view_cache_free(st->views);
    free(st);
}

PORTICO_DEFINE_PORTLET(applicant_welcome_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = AW_ID,
    .name = "Applicant welcome",
    .version = "1.0.0",
    .description = "A taste of the organisation before day one: the chief executive's welcome "
                   "video, services, a map of the area and the organisation's colours, with the "
                   "pre-start checklist, versioned publishing, review dates and analytics.",
    .dashboards = dashboards,
    .config_schema = config_schema,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .init = aw_init,
    .shutdown = aw_shutdown,
    .summary = aw_summary,
    .demo = aw_demo,
};
