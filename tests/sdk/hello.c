/*
 * hello.c - a complete minimal portlet: a message board for the staff of
 * an organisation.  It is the example of docs/portlets.md, and
 * tests/integration/test_sdk.py builds it OUTSIDE this tree against the
 * installed SDK and loads it:
 *
 *   cc -shared -fPIC -fvisibility=hidden hello.c \
 *      $(pkg-config --cflags --libs portico) -o hello-sdk.so
 *
 * GET  /api/v1/portlets/hello-sdk/messages  any member: newest first, paged
 * POST /api/v1/portlets/hello-sdk/messages  employees: {"text": "..."}
 * Dashboard card: the configured greeting and how many messages there are.
 */
#include <portico/portlet.h>

#include <stdio.h>

#define BASE "/api/v1/portlets/hello-sdk"

/* ---- GET .../messages: one page, newest first ------------------------------ */

typedef struct page {
    const portico_host *host; /* transaction callbacks get only (txn, arg) */
    json_t *items;
    json_t *next_cursor;
} page;

static int take_message(const char *key, const json_t *value, void *arg)
{
    (void)key;
    page *p = arg;
    /* value is borrowed until we return: keep a copy */
    return json_array_append_new(p->items, json_deep_copy(value)) ? PORTICO_ENOMEM : PORTICO_OK;
}

static int read_page(portico_txn *txn, void *arg)
{
    page *p = arg;
    /* the host reads ?limit and ?cursor, and signs the next cursor */
    return p->host->page(txn, "msg/", true, take_message, p, &p->next_cursor);
}

static int list_messages(portico_ctx *ctx)
{
    const portico_host *host = ctx->host;
    page p = {host, json_array(), NULL};
    int rc = host->read(ctx, read_page, &p);
    if (rc == PORTICO_OK)
        host->respond_json(ctx, 200,
                           json_pack("{s:O, s:O}", "items", p.items, "next_cursor", p.next_cursor));
    else
        host->respond_error(ctx, rc, NULL); /* a bad cursor: 400 bad_request */
    json_decref(p.items);
    json_decref(p.next_cursor);
    return PORTICO_OK;
}

/* ---- POST .../messages: employees post {"text"} ------------------------------ */

static const char message_schema[] =
    "{\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"text\"],"
    " \"properties\": {\"text\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200}}}";

typedef struct post {
    const portico_host *host;
    json_t *message; /* built from the body; gets its id in the transaction */
} post;

/* May run more than once (the host retries): it only writes through txn. */
static int store_message(portico_txn *txn, void *arg)
{
    post *p = arg;
    const portico_host *host = p->host;
    uint64_t seq;
    int rc = host->next_seq(txn, "message", &seq);
    if (rc != PORTICO_OK)
        return rc;
    char id[24], key[PORTICO_KEY_MAX + 1];
    snprintf(id, sizeof(id), "%020llu", (unsigned long long)seq); /* keys sort by number */
    rc = host->key(key, sizeof(key), "msg", id, NULL);            /* "msg/000...42" */
    if (rc != PORTICO_OK)
        return rc;
    json_object_set_new(p->message, "id", json_integer((json_int_t)seq));
    rc = host->insert(txn, key, p->message);
    if (rc == PORTICO_OK)
        rc = host->counter_add(txn, "messages", 1, NULL);
    return rc;
}

static int post_message(portico_ctx *ctx)
{
    const portico_host *host = ctx->host;
    /* the host has checked the body against message_schema: text is there */
    const json_t *text = json_object_get(host->body(ctx), "text");
    char at[21];
    host->time_format(at, host->now_ms() / 1000);
    post p = {host,
              json_pack("{s:s, s:O, s:s}", "from", ctx->caller->username, "text", text, "at", at)};
    int rc = p.message ? host->write(ctx, store_message, &p) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        host->respond_json(ctx, 201, json_incref(p.message));
    else
        host->respond_error(ctx, rc, NULL);
    json_decref(p.message);
    return PORTICO_OK;
}

/* ---- the dashboard card --------------------------------------------------------- */

typedef struct count {
    const portico_host *host;
    int64_t n;
} count;

static int read_count(portico_txn *txn, void *arg)
{
    count *c = arg;
    return c->host->counter_get(txn, "messages", &c->n);
}

static int summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    (void)dashboard;
    count c = {ctx->host, 0};
    int rc = ctx->host->read(ctx, read_count, &c);
    if (rc != PORTICO_OK)
        return rc;
    /* "greeting" has a default in the config schema: the host fills it in */
    *out = json_pack("{s:O, s:I}", "greeting", json_object_get(ctx->host->config(ctx), "greeting"),
                     "messages", (json_int_t)c.n);
    return *out ? PORTICO_OK : PORTICO_ENOMEM;
}

/* ---- the descriptor --------------------------------------------------------------- */

static const char *const dashboards[] = {"employee", NULL};

static const portico_route routes[] = {
    {.method = "GET", .path = BASE "/messages", .handler = list_messages},
    {.method = "POST",
     .path = BASE "/messages",
     .handler = post_message,
     .statuses = PORTICO_EMPLOYEES, /* others: 403 forbidden */
     .body_schema = message_schema},
};

PORTICO_DEFINE_PORTLET(hello_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = "hello-sdk",
    .name = "Hello (out-of-tree SDK build)",
    .version = "2.0.0",
    .description = "A message board for the staff of an organisation.",
    .dashboards = dashboards,
    .config_schema = "{\"type\": \"object\", \"additionalProperties\": false, \"properties\":"
                     " {\"greeting\": {\"type\": \"string\", \"maxLength\": 40,"
                     " \"default\": \"Hello\"}}}",
    .routes = routes,
    .route_count = sizeof(routes) / sizeof(routes[0]),
    .summary = summary,
};
