/*
 * test_notes.c - the test portlet for the loader and host tests.
 *
 * Built several times (tests/plugins/CMakeLists.txt): as "test-notes",
 * as "test-notes-two" (PORTLET_ID) to show that two portlets cannot see
 * each other's keys, and with BROKEN_* definitions as each kind of
 * descriptor the host must refuse.
 */
#include <portico/portlet.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef PORTLET_ID
#define PORTLET_ID "test-notes"
#endif
#define PREFIX "/api/v1/portlets/" PORTLET_ID

static const portico_host *host;

/* GET .../notes/{key} */
typedef struct get_arg {
    const char *key;
    json_t *value;
} get_arg;

static int note_get_txn(portico_txn *txn, void *arg)
{
    get_arg *a = arg;
    return host->get(txn, a->key, &a->value);
}

static int note_get(portico_ctx *ctx)
{
    get_arg a = {host->param(ctx, "key"), NULL};
    int rc = host->read(ctx, note_get_txn, &a);
    if (rc == PORTICO_ENOTFOUND) {
        host->respond_problem(ctx, 404, "not_found", "no such note");
        return 0;
    }
    if (rc < 0)
        return rc;
    host->respond_json(ctx, 200, json_pack("{s:s, s:o}", "key", a.key, "value", a.value));
    return 0;
}

/* PUT .../notes/{key} {"value": any} */
typedef struct put_arg {
    const char *key;
    const json_t *value;
} put_arg;

static int note_put_txn(portico_txn *txn, void *arg)
{
    put_arg *a = arg;
    return host->put(txn, a->key, a->value);
}

static int note_put(portico_ctx *ctx)
{
    json_t *body = NULL;
    if (host->body_json(ctx, &body) < 0)
        return 0; /* answered */
    const json_t *value = json_object_get(body, "value");
    if (!value) {
        json_t *errs = NULL;
        host->invalid_add(&errs, "/value", "is required");
        host->respond_invalid(ctx, errs);
        json_decref(body);
        return 0;
    }
    put_arg a = {host->param(ctx, "key"), value};
    int rc = host->write(ctx, note_put_txn, &a);
    if (rc == PORTICO_EINVAL) {
        host->respond_problem(ctx, 400, "bad_request", "bad key");
        json_decref(body);
        return 0;
    }
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    host->respond_json(ctx, 200, json_pack("{s:s, s:O}", "key", a.key, "value", value));
    json_decref(body);
    return 0;
}

/* GET .../notes: every key of this portlet in the caller's org. */
static int list_cb(const char *key, const json_t *value, void *arg)
{
    json_array_append_new(arg, json_pack("{s:s, s:O}", "key", key, "value", value));
    return 0;
}

static int note_list_txn(portico_txn *txn, void *arg)
{
    return host->scan(txn, "", NULL, false, list_cb, arg);
}

static int note_list(portico_ctx *ctx)
{
    json_t *items = json_array();
    int rc = host->read(ctx, note_list_txn, items);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    host->respond_json(ctx, 200, json_pack("{s:o}", "items", items));
    return 0;
}

/* GET .../whoami: what the host says about the caller and the config. */
static int whoami(portico_ctx *ctx)
{
    const portico_caller *c = host->caller(ctx);
    json_t *person = c->person ? json_deep_copy(c->person) : json_null();
    host->respond_json(ctx, 200,
                       json_pack("{s:s, s:s, s:i, s:i, s:b, s:O, s:o, s:I}", "username",
                                 c->username, "org", c->org, "roles", (int)c->roles, "status",
                                 (int)c->status, "mfa", c->mfa, "config", host->config(ctx),
                                 "person", person, "now_ms", (json_int_t)host->now_ms()));
    return 0;
}

/* GET .../admin: only portal admins (checked by the host). */
static int admin_only(portico_ctx *ctx)
{
    host->respond_json(ctx, 200, json_pack("{s:b}", "admin", 1));
    return 0;
}

/* POST .../events: a sequence number, an audit entry and a people count. */
typedef struct event_arg {
    uint64_t seq;
    int people;
} event_arg;

static int count_person(const json_t *person, void *arg)
{
    (void)person;
    ((event_arg *)arg)->people++;
    return 0;
}

static int event_txn(portico_txn *txn, void *arg)
{
    event_arg *e = arg;
    e->people = 0;
    int rc = host->next_seq(txn, "events", &e->seq);
    if (rc < 0)
        return rc;
    json_t *after = json_pack("{s:I}", "seq", (json_int_t)e->seq);
    rc = host->audit(txn, "event.record", "events", NULL, after);
    json_decref(after);
    if (rc < 0)
        return rc;
    return host->people_each(txn, count_person, e);
}

static int event_post(portico_ctx *ctx)
{
    event_arg e = {0, 0};
    int rc = host->write(ctx, event_txn, &e);
    if (rc < 0)
        return rc;
    host->respond_json(ctx, 201,
                       json_pack("{s:I, s:i}", "seq", (json_int_t)e.seq, "people", e.people));
    return 0;
}

/* GET .../people/{username}: person_get, confined to the caller's org. */
typedef struct person_arg {
    const char *username;
    json_t *person;
} person_arg;

static int person_txn(portico_txn *txn, void *arg)
{
    person_arg *p = arg;
    return host->person_get(txn, p->username, &p->person);
}

static int person_lookup(portico_ctx *ctx)
{
    person_arg p = {host->param(ctx, "username"), NULL};
    int rc = host->read(ctx, person_txn, &p);
    if (rc == PORTICO_ENOTFOUND) {
        host->respond_problem(ctx, 404, "not_found", "no such person");
        return 0;
    }
    if (rc < 0)
        return rc;
    host->respond_json(ctx, 200, p.person);
    return 0;
}

/* POST .../validate: host->schema_validate against a fixed schema. */
static int validate(portico_ctx *ctx)
{
    json_t *body = NULL;
    if (host->body_json(ctx, &body) < 0)
        return 0;
    json_t **s = host->state(ctx);
    json_t *errs = NULL;
    int rc = host->schema_validate(*s, body, &errs);
    json_decref(body);
    if (rc == PORTICO_EINVAL) {
        host->respond_invalid(ctx, errs);
        return 0;
    }
    if (rc < 0)
        return rc;
    host->respond_bytes(ctx, 204, NULL, NULL, 0);
    return 0;
}

/* GET .../fail: returns an error without answering (the host sends 500). */
static int fail(portico_ctx *ctx)
{
    (void)ctx;
    return PORTICO_ERR;
}

/* GET .../text: a non-JSON answer. */
static int text(portico_ctx *ctx)
{
    static const char msg[] = "plain text from " PORTLET_ID;
    host->respond_bytes(ctx, 200, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
    return 0;
}

/* A content type with CR/LF in it: the host must refuse to send it. */
static int text_injected(portico_ctx *ctx)
{
    host->respond_bytes(ctx, 200, "text/plain\r\nX-Injected: yes", "x", 1);
    return 0;
}

typedef struct count_arg {
    int n;
} count_arg;

static int count_cb(const char *key, const json_t *value, void *arg)
{
    (void)key;
    (void)value;
    ((count_arg *)arg)->n++;
    return 0;
}

static int count_txn(portico_txn *txn, void *arg)
{
    return host->scan(txn, "", NULL, false, count_cb, arg);
}

/* The dashboard card: the greeting from config and how many notes there
 * are; config can hide the card or make it fail. */
static int summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    const json_t *cfg = host->config(ctx);
    if (json_is_true(json_object_get(cfg, "hidden")))
        return PORTICO_HIDDEN;
    if (json_is_true(json_object_get(cfg, "fail_summary")))
        return PORTICO_ERR;
    count_arg c = {0};
    int rc = host->read(ctx, count_txn, &c);
    if (rc < 0)
        return rc;
    const char *greeting = json_string_value(json_object_get(cfg, "greeting"));
    *out = json_pack("{s:s, s:s, s:i}", "greeting", greeting ? greeting : "hello", "dashboard",
                     dashboard, "notes", c.n);
    return *out ? PORTICO_OK : PORTICO_ENOMEM;
}

static int init(const portico_host *h, void **state)
{
#ifdef BROKEN_INIT
    (void)h;
    (void)state;
    return -1;
#else
    static json_t *validate_schema;
    if (h->abi_major != PORTICO_ABI_MAJOR || !PORTICO_HOST_HAS(h, schema_validate))
        return -1;
    host = h;
    validate_schema = json_loads("{\"type\":\"object\",\"required\":[\"n\"],"
                                 "\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1}}}",
                                 0, NULL);
    if (!validate_schema)
        return -1;
    *state = &validate_schema;
    h->log(PORTICO_LOG_INFO, "%s: ready", PORTLET_ID);
    return 0;
#endif
}

static void shutdown_portlet(void *state)
{
    json_t **s = state;
    if (s) {
        json_decref(*s);
        *s = NULL;
    }
}

/* demo(): one note, "welcome", and a greeting in the config. */
static int demo_txn(portico_txn *txn, void *arg)
{
    (void)arg;
    json_t *v = json_string("hello from the demo");
    int rc = host->put(txn, "welcome", v);
    json_decref(v);
    return rc;
}

static int demo(portico_ctx *ctx, json_t **config)
{
    int rc = host->write(ctx, demo_txn, NULL);
    if (rc < 0)
        return rc;
    *config = json_pack("{s:s}", "greeting", "Hello demo");
    return *config ? 0 : PORTICO_ENOMEM;
}

static const char *const dashboards[] = {"employee", "leaver", "applicant", NULL};

static const char schema[] =
#ifdef BROKEN_SCHEMA
    "{\"type\": \"object\", \"properties\": {";
#else
    "{\"type\": \"object\", \"additionalProperties\": false,"
    " \"properties\": {"
    "  \"greeting\": {\"type\": \"string\", \"minLength\": 2, \"maxLength\": 12,"
    "                 \"pattern\": \"^[A-Za-z ]+$\"},"
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

static const portico_route routes[] = {
    {"GET", PREFIX "/notes", 0, note_list},
    {"GET", PREFIX "/notes/{key}", 0, note_get},
    {"PUT", PREFIX "/notes/{key}", 0, note_put},
    {"GET", PREFIX "/whoami", 0, whoami},
    {"GET", PREFIX "/admin", PORTICO_ROLE_PORTAL_ADMIN | PORTICO_ROLE_HR_ADMIN, admin_only},
    {"POST", PREFIX "/events", 0, event_post},
    {"GET", PREFIX "/people/{username}", 0, person_lookup},
    {"POST", PREFIX "/validate", 0, validate},
    {"GET", PREFIX "/fail", 0, fail},
    {"GET", PREFIX, 0, text},
    {"GET", PREFIX "/text-injected", 0, text_injected},
#ifdef BROKEN_ROUTE
    {"GET", "/api/v1/orgs/{org}/people", 0, note_list},
#endif
#ifdef BROKEN_METHOD
    {"FETCH", PREFIX "/notes/{key}", 0, note_get},
#endif
};

/* The exported name is "portico_portlet", which in C is also the type's
 * name, so the object gets another C name and the symbol an asm label. */
#ifdef BROKEN_NO_SYMBOL
#define SYMBOL_NAME "portico_portlet_v0"
#else
#define SYMBOL_NAME PORTICO_PORTLET_SYMBOL
#endif

#if defined(BROKEN_MAGIC) || defined(BROKEN_ABI_MAJOR) || defined(BROKEN_ABI_MINOR) ||             \
    defined(BROKEN_SHORT_STRUCT)
#define HEAD_MAGIC PORTICO_PORTLET_MAGIC
#define HEAD_MAJOR PORTICO_ABI_MAJOR
#define HEAD_MINOR PORTICO_ABI_MINOR
#define HEAD_SIZE  sizeof(portico_portlet)
#if defined(BROKEN_MAGIC)
#undef HEAD_MAGIC
#define HEAD_MAGIC 0x0badf00du
#elif defined(BROKEN_ABI_MAJOR)
#undef HEAD_MAJOR
#define HEAD_MAJOR 2
#elif defined(BROKEN_ABI_MINOR)
#undef HEAD_MINOR
#define HEAD_MINOR 99
#else
#undef HEAD_SIZE
#define HEAD_SIZE 24
#endif
#define HEAD                                                                                       \
    .magic = HEAD_MAGIC, .abi_major = HEAD_MAJOR, .abi_minor = HEAD_MINOR, .struct_size = HEAD_SIZE
#elif defined(ABI_1_0)
/* Built as a portlet of ABI 1.0 would be: minor 0 and the descriptor
 * ending at summary.  It must load, and the host must not read the demo
 * field (set below) that lies past its struct_size. */
#define HEAD                                                                                       \
    .magic = PORTICO_PORTLET_MAGIC, .abi_major = PORTICO_ABI_MAJOR, .abi_minor = 0,                \
    .struct_size = offsetof(portico_portlet, summary) + sizeof(void (*)(void))
#else
#define HEAD PORTICO_PORTLET_HEAD
#endif

PORTICO_EXPORT const portico_portlet test_notes_portlet __asm__(SYMBOL_NAME) = {
    HEAD,
    .id = PORTLET_ID,
    .name = "Test notes (" PORTLET_ID ")",
    .version = "1.0.0",
    .description = "Notes per organisation, for the portlet host tests.",
    .dashboards = dashboards,
    .config_schema = schema,
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .init = init,
    .shutdown = shutdown_portlet,
    .summary = summary,
    .demo = demo,
};
