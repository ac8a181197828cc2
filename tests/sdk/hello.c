/*
 * hello.c - the smallest useful portlet, built by tests/integration/
 * test_sdk.py OUTSIDE this tree against the installed SDK:
 *
 *   cc -shared -fPIC hello.c $(pkg-config --cflags --libs portico) -o hello.so
 *
 * It only uses what the installed header offers: a route, the caller,
 * scoped storage and a dashboard summary.
 */
#include <portico/portlet.h>

static const portico_host *host;

typedef struct visit {
    uint64_t n;
} visit;

static int count_visit(portico_txn *txn, void *arg)
{
    visit *v = arg;
    json_t *cur = NULL;
    int rc = host->get(txn, "visits", &cur);
    if (rc < 0 && rc != PORTICO_ENOTFOUND)
        return rc;
    v->n = (uint64_t)(cur ? json_integer_value(cur) : 0) + 1;
    json_decref(cur);
    json_t *next = json_integer((json_int_t)v->n);
    rc = host->put(txn, "visits", next);
    json_decref(next);
    return rc;
}

/* GET /api/v1/portlets/hello-sdk: a greeting for the caller. */
static int hello(portico_ctx *ctx)
{
    const portico_caller *c = host->caller(ctx);
    visit v = {0};
    int rc = host->write(ctx, count_visit, &v);
    if (rc < 0)
        return rc;
    const char *greeting = json_string_value(json_object_get(host->config(ctx), "greeting"));
    host->respond_json(ctx, 200,
                       json_pack("{s:s, s:s, s:s, s:I}", "hello", c->username, "org", c->org,
                                 "greeting", greeting ? greeting : "Hello", "visits",
                                 (json_int_t)v.n));
    return 0;
}

static int summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    (void)ctx;
    *out = json_pack("{s:s}", "text", dashboard);
    return *out ? PORTICO_OK : PORTICO_ENOMEM;
}

static int init(const portico_host *h, void **state)
{
    (void)state;
    if (h->abi_major != PORTICO_ABI_MAJOR)
        return -1;
    host = h;
    return 0;
}

static const char *const dashboards[] = {"employee", NULL};

static const portico_route routes[] = {
    {"GET", "/api/v1/portlets/hello-sdk", 0, hello},
};

PORTICO_DEFINE_PORTLET(hello_portlet) = {
    PORTICO_PORTLET_HEAD,
    .id = "hello-sdk",
    .name = "Hello (out-of-tree SDK build)",
    .version = "0.0.1",
    .description = "Built against the installed portico.pc",
    .dashboards = dashboards,
    .config_schema = "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\"}},"
                     "\"additionalProperties\":false}",
    .routes = routes,
    .route_count = 1,
    .init = init,
    .summary = summary,
};
