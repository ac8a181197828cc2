/*
 * test_notes.c - the test portlet's descriptor and callbacks, for the
 * loader and host tests (tests/integration/test_portlets.py).
 *
 * Built several times (tests/plugins/CMakeLists.txt), by compile
 * definitions:
 *   test-notes       every route: one per host feature
 *   test-notes-two   PORTLET_ID: a second portlet, to show that two
 *                    portlets cannot see each other's keys
 *   test-notes-old   OLDER_PORTLET: built before check_config and
 *                    body_max existed (descriptor and routes shorter than
 *                    today's); loads, and nothing past its sizes is read
 *   test-notes-new   NEWER_PORTLET: built for minor + 1, with descriptor
 *                    and routes longer than the host's, all zero past the
 *                    host's sizes; loads
 *   x-*              each kind of descriptor the host must refuse
 */
#include "test_notes.h"

#include <stddef.h>
#include <string.h>

/* ---- callbacks ---------------------------------------------------------------- */

/* The dashboard card: the greeting from config and how many notes there
 * are; config can hide the card or make it fail. */
static int summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    const json_t *cfg = ctx->host->config(ctx);
    if (json_is_true(json_object_get(cfg, "hidden")))
        return PORTICO_HIDDEN;
    if (json_is_true(json_object_get(cfg, "fail_summary")))
        return PORTICO_ERR;
    int n = 0;
    int rc = tn_notes_count(ctx, &n);
    if (rc != PORTICO_OK)
        return rc;
    /* greeting has a default in the schema: the host fills it in */
    *out = json_pack("{s:O?, s:s, s:i}", "greeting", json_object_get(cfg, "greeting"), "dashboard",
                     dashboard, "notes", n);
    return *out ? PORTICO_OK : PORTICO_ENOMEM;
}

/* A notice on the employee dashboard while a note named "notice" exists. */
static int notices(portico_ctx *ctx, const char *dashboard, json_t *list)
{
    if (strcmp(dashboard, "employee") != 0)
        return PORTICO_OK;
    json_t *v = tn_note_value(ctx, "notice");
    if (v != NULL)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "code", "test_notice", "text",
                            json_is_string(v) ? json_string_value(v) : "a notice note exists"));
    json_decref(v);
    return PORTICO_OK;
}

#ifndef OLDER_PORTLET
/* The rule the schema cannot say: ends_at is not on a day before
 * starts_on (both optional). */
static int check_config(portico_ctx *ctx, const json_t *config, json_t *errors)
{
    const portico_host *h = ctx->host;
    const char *from = json_string_value(json_object_get(config, "starts_on"));
    const char *until = json_string_value(json_object_get(config, "ends_at"));
    int32_t day;
    int64_t at;
    if (from == NULL || until == NULL || !h->date_parse(from, &day) || !h->time_parse(until, &at))
        return PORTICO_OK;
    if ((at < 0 ? (at - 86399) / 86400 : at / 86400) >= day)
        return PORTICO_OK;
    h->invalid_add(errors, "/ends_at", "must not be before starts_on");
    return PORTICO_EINVAL;
}

#else
/* What test-notes-old declares past its struct_size: a host that read it
 * would refuse every config. */
static int refuse_every_config(portico_ctx *ctx, const json_t *config, json_t *errors)
{
    (void)config;
    ctx->host->invalid_add(errors, "", "read past the portlet's struct_size");
    return PORTICO_EINVAL;
}
#endif

static int init(portico_ctx *ctx, void **state)
{
#ifdef BROKEN_INIT
    (void)ctx;
    (void)state;
    return -1;
#else
    json_t *schema = json_loads("{\"type\":\"object\",\"required\":[\"n\"],"
                                "\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1}}}",
                                0, NULL);
    if (schema == NULL)
        return -1;
    *state = schema;
    ctx->host->log(ctx, PORTICO_LOG_INFO, "%s: ready", PORTLET_ID);
    return 0;
#endif
}

static void shutdown_portlet(portico_ctx *ctx)
{
    json_decref(ctx->state);
}

/* demo(): one note, "welcome", and a greeting in the config. */
static int demo_txn(portico_txn *txn, void *arg)
{
    const portico_host *h = arg;
    char key[TN_KEY_CAP];
    json_t *v =
        json_pack("{s:s, s:s, s:i}", "key", "welcome", "value", "hello from the demo", "rev", 1);
    int rc = h->key(key, sizeof(key), "note", "welcome", NULL);
    if (rc == PORTICO_OK)
        rc = h->put(txn, key, v);
    json_decref(v);
    return rc;
}

static int demo(portico_ctx *ctx, json_t **config)
{
    int rc = ctx->host->write(ctx, demo_txn, (void *)ctx->host);
    if (rc != PORTICO_OK)
        return rc;
    *config = json_pack("{s:s}", "greeting", "Hello demo");
    return *config ? PORTICO_OK : PORTICO_ENOMEM;
}

static const char *const dashboards[] = {"employee", "leaver", "applicant", NULL};

static const char schema[] =
#ifdef BROKEN_SCHEMA
    "{\"type\": \"object\", \"properties\": {";
#else
    "{\"type\": \"object\", \"additionalProperties\": false,"
    " \"properties\": {"
    "  \"greeting\": {\"type\": \"string\", \"minLength\": 2, \"maxLength\": 12,"
    "                 \"pattern\": \"^[A-Za-z ]+$\", \"default\": \"hello\"},"
    "  \"mode\": {\"enum\": [\"quiet\", \"loud\"]},"
    "  \"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10},"
    "  \"ratio\": {\"type\": \"number\", \"exclusiveMinimum\": 0},"
    "  \"starts_on\": {\"type\": \"string\", \"format\": \"date\"},"
    "  \"ends_at\": {\"type\": \"string\", \"format\": \"date-time\"},"
    "  \"tags\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3, \"uniqueItems\": true,"
    "             \"items\": {\"type\": \"string\"}},"
    "  \"hidden\": {\"type\": \"boolean\"},"
    "  \"fail_summary\": {\"type\": \"boolean\"},"
    "  \"label\": {\"type\": [\"string\", \"null\"]},"
    "  \"kind\": {\"const\": \"notes\"},"
    "  \"window\": {\"type\": \"object\", \"required\": [\"from\"],"
    "              \"additionalProperties\": {\"type\": \"string\"},"
    "              \"properties\": {\"from\": {\"type\": \"string\", \"format\": \"date\"}}}"
    " }}";
#endif

/* ---- body schemas ----------------------------------------------------------------- */

static const char note_schema[] = "{\"type\":\"object\",\"additionalProperties\":false,"
                                  "\"required\":[\"value\"],\"properties\":{\"value\":true}}";

static const char shaped_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"title\",\"items\"],"
    "\"properties\":{"
    "\"title\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":20},"
    "\"items\":{\"type\":\"array\",\"maxItems\":3,\"items\":{\"type\":\"object\","
    "\"required\":[\"n\"],\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1}}}}}}";

static const char n_schema[] = "{\"type\":\"object\",\"required\":[\"n\"],"
                               "\"properties\":{\"n\":{\"type\":\"integer\"}}}";

static const char delta_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"delta\"],"
    "\"properties\":{\"delta\":{\"type\":\"integer\",\"minimum\":-1000,\"maximum\":1000}}}";

/* ---- routes, in the stride this variant declares ------------------------------ */

#if defined(OLDER_PORTLET)
/* portico_route as it was before body_max. */
typedef struct route_t {
    const char *method;
    const char *path;
    portico_handler_fn handler;
    unsigned roles, statuses, mfa_statuses, flags;
    const char *body_schema;
    const char *body_types;
} route_t;
_Static_assert(sizeof(route_t) == offsetof(portico_route, body_max), "ends before body_max");
#define BODY_MAX(n) /* not in this route struct yet */
#define ROUTE(...)                                                                                 \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#elif defined(NEWER_PORTLET)
/* portico_route as a later minor might grow it. */
typedef struct route_t {
    portico_route base;
    const char *future_field;
} route_t;
#ifdef NEWER_NONZERO_ROUTE
#define FUTURE_ROUTE_FIELD "a field this host does not know"
#else
#define FUTURE_ROUTE_FIELD NULL
#endif
#define ROUTE(...)                                                                                 \
    {                                                                                              \
        .base = {__VA_ARGS__}, .future_field = FUTURE_ROUTE_FIELD                                  \
    }
#else
typedef portico_route route_t;
#define ROUTE(...)                                                                                 \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#endif

#ifndef BODY_MAX
#define BODY_MAX(n) , .body_max = (n)
#endif

/* R(method, path under PREFIX, handler, gates and body fields...) */
#define R(m, p, ...) ROUTE(.method = m, .path = PREFIX p, .handler = __VA_ARGS__)

static const route_t routes[] = {
    R("GET", "/notes", tn_notes_list),
    R("GET", "/notes/{key}", tn_note_get),
    R("PUT", "/notes/{key}", tn_note_put, .body_schema = note_schema),
    R("GET", "/stats", tn_stats),
    R("GET", "/whoami", tn_whoami),
    R("GET", "/admin", tn_gate_ok, .roles = PORTICO_ROLE_PORTAL_ADMIN | PORTICO_ROLE_HR_ADMIN),
    R("GET", "/gate/employees", tn_gate_ok, .statuses = PORTICO_EMPLOYEES),
    R("GET", "/gate/leavers-mfa", tn_gate_ok, .mfa_statuses = PORTICO_LEAVERS),
    R("GET", "/gate/mfa", tn_gate_ok, .flags = PORTICO_ROUTE_MFA),
    R("GET", "/gate/hr-or-applicants", tn_gate_ok, .roles = PORTICO_ROLE_HR_ADMIN,
      .statuses = PORTICO_APPLICANTS),
    R("POST", "/gate/ordered", tn_gate_ok, .statuses = PORTICO_EMPLOYEES,
      .flags = PORTICO_ROUTE_MFA, .body_schema = n_schema),
    R("POST", "/events", tn_event_post),
    R("GET", "/events", tn_events_list),
    R("GET", "/people/{username}", tn_person_lookup),
    R("POST", "/validate", tn_validate),
    R("POST", "/shaped", tn_shaped, .body_schema = shaped_schema BODY_MAX(512)),
    R("POST", "/import", tn_import_csv, .flags = PORTICO_ROUTE_RAW_BODY,
      .body_types = "text/csv" BODY_MAX(64)),
    R("PUT", "/files/{name}", tn_file_put, .flags = PORTICO_ROUTE_RAW_BODY BODY_MAX(65536)),
    R("GET", "/files/{name}", tn_file_get),
    R("GET", "/headers", tn_set_header),
    R("GET", "/errors/{result}", tn_error),
    R("GET", "/accepts", tn_accepts),
    R("POST", "/counters/{name}", tn_counter_add, .body_schema = delta_schema),
    R("GET", "/counters/{name}", tn_counter_get),
    R("GET", "/key", tn_key),
    R("GET", "/fail", tn_fail),
    R("GET", "", tn_text),
    R("GET", "/text-injected", tn_text_injected),
#ifdef BROKEN_ROUTE
    ROUTE(.method = "GET", .path = "/api/v1/orgs/{org}/people", .handler = tn_notes_list),
#endif
#ifdef BROKEN_METHOD
    R("FETCH", "/notes/{key}", tn_note_get),
#endif
#ifdef BROKEN_BODY_SCHEMA
    R("POST", "/bad-body", tn_shaped,
      .body_schema = "{\"type\":\"object\",\"properties\":"
                     "{\"n\":{\"type\":\"integr\"}}}"),
#endif
};

/* ---- the descriptor's head ---------------------------------------------------- */

#ifdef BROKEN_MAGIC
#define HEAD_MAGIC 0x0badf00du
#else
#define HEAD_MAGIC PORTICO_PORTLET_MAGIC
#endif

#if defined(ABI_1X) /* a portlet of the previous major: refused */
#define HEAD_MAJOR 1
#define HEAD_MINOR 1
#elif defined(BROKEN_ABI_MAJOR) /* a portlet of a major this host does not know */
#define HEAD_MAJOR (PORTICO_ABI_MAJOR + 1)
#define HEAD_MINOR 0
#elif defined(NEWER_PORTLET)
#define HEAD_MAJOR PORTICO_ABI_MAJOR
#define HEAD_MINOR (PORTICO_ABI_MINOR + 1)
#else
#define HEAD_MAJOR PORTICO_ABI_MAJOR
#define HEAD_MINOR PORTICO_ABI_MINOR
#endif

#if defined(NEWER_PORTLET)
/* portico_portlet as a later minor might grow it. */
struct newer_portlet {
    portico_portlet base;
    int (*future_callback)(portico_ctx *ctx);
    uint64_t future_flags;
};
#define HEAD_SIZE sizeof(struct newer_portlet)
#elif defined(OLDER_PORTLET)
#define HEAD_SIZE offsetof(portico_portlet, check_config)
#elif defined(BROKEN_SHORT_STRUCT)
#define HEAD_SIZE 24
#else
#define HEAD_SIZE sizeof(portico_portlet)
#endif

#ifdef BROKEN_SHORT_ROUTE
#define HEAD_ROUTE_SIZE 16 /* not even method, path and handler */
#else
#define HEAD_ROUTE_SIZE sizeof(route_t)
#endif

#ifdef OLDER_PORTLET
#define CHECK_CONFIG refuse_every_config /* past struct_size: never read */
#else
#define CHECK_CONFIG check_config
#endif

#define DESCRIPTOR                                                                                 \
    .magic = HEAD_MAGIC, .abi_major = HEAD_MAJOR, .abi_minor = HEAD_MINOR,                         \
    .struct_size = HEAD_SIZE, .route_size = HEAD_ROUTE_SIZE, .id = PORTLET_ID,                     \
    .name = "Test notes (" PORTLET_ID ")", .version = "2.0.0",                                     \
    .description = "Notes per organisation, for the portlet host tests.",                          \
    .dashboards = dashboards, .config_schema = schema, .routes = (const portico_route *)routes,    \
    .route_count = sizeof(routes) / sizeof(routes[0]), .init = init, .shutdown = shutdown_portlet, \
    .summary = summary, .notices = notices, .demo = demo, .check_config = CHECK_CONFIG

/* The exported name is "portico_portlet", which in C is also the type's
 * name, so the object gets another C name and the symbol an asm label. */
#ifdef BROKEN_NO_SYMBOL
#define SYMBOL_NAME "portico_portlet_v0"
#else
#define SYMBOL_NAME PORTICO_PORTLET_SYMBOL
#endif

#if defined(NEWER_PORTLET)
#ifdef NEWER_NONZERO_PORTLET
#define FUTURE_CALLBACK init_future
static int init_future(portico_ctx *ctx)
{
    (void)ctx;
    return 0;
}
#else
#define FUTURE_CALLBACK NULL
#endif
PORTICO_EXPORT const struct newer_portlet test_notes_portlet __asm__(SYMBOL_NAME) = {
    .base = {DESCRIPTOR},
    .future_callback = FUTURE_CALLBACK,
};
#else
PORTICO_EXPORT const portico_portlet test_notes_portlet __asm__(SYMBOL_NAME) = {DESCRIPTOR};
#endif
