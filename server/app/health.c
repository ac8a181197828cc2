/*
 * health.c - liveness, readiness, metrics, the OpenAPI document and (only
 * with --test-clock) the test clock control.  All public but /metrics,
 * which needs a system admin's token.
 */
#include "app/app.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void get_healthz(pt_req *req, pt_res *res, void *ud)
{
    (void)req;
    (void)ud;
    pt_res_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static int ready_probe(pt_txn *txn, void *ctx)
{
    (void)ctx;
    pt_val v;
    int rc = pt_txn_get(txn, PT_T_META, "schema_version", strlen("schema_version"), &v);
    return rc == PT_ENOTFOUND ? 0 : rc;
}

/* Ready means the store answers a read transaction right now. */
static void get_readyz(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    if (!app->store || pt_store_read(app->store, ready_probe, NULL) != 0) {
        pt_res_json(res, 503, json_pack("{s:s}", "status", "unavailable"));
        return;
    }
    pt_res_json(res, 200, json_pack("{s:s}", "status", "ready"));
}

/* The LMDB gauges, appended to what pt_metrics_render wrote; NULL on OOM. */
static char *append_store_gauges(char *text, size_t *len, pt_store *store)
{
    pt_store_stats st;
    if (!store || pt_store_stat(store, &st) != 0)
        return text;
    char *out = NULL;
    int n = asprintf(&out,
                     "%s"
                     "# HELP portico_lmdb_map_size_bytes Size of the LMDB memory map.\n"
                     "# TYPE portico_lmdb_map_size_bytes gauge\n"
                     "portico_lmdb_map_size_bytes %zu\n"
                     "# HELP portico_lmdb_used_bytes Bytes of the map in use.\n"
                     "# TYPE portico_lmdb_used_bytes gauge\n"
                     "portico_lmdb_used_bytes %zu\n"
                     "# HELP portico_lmdb_readers_used LMDB reader slots in use.\n"
                     "# TYPE portico_lmdb_readers_used gauge\n"
                     "portico_lmdb_readers_used %u\n"
                     "# HELP portico_lmdb_readers_max LMDB reader slots available.\n"
                     "# TYPE portico_lmdb_readers_max gauge\n"
                     "portico_lmdb_readers_max %u\n",
                     text, st.map_size, st.used_bytes, st.readers_used, st.readers_max);
    free(text);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return out;
}

/* Metrics name every route, status and store size: operational detail for
 * the installation's operators (a system admin's token, e.g. one from
 * `portico token issue --user admin --ttl ...` for the scraper), not for
 * anyone who can reach the port. */
static void get_metrics(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    if (!pt_caller_has(pt_req_caller(req), PT_ROLE_SYSTEM_ADMIN)) {
        pt_res_problem(res, 403, "forbidden", "metrics are for system administrators");
        return;
    }
    size_t len = 0;
    char *text = pt_metrics_render(app->metrics, &len);
    if (text)
        text = append_store_gauges(text, &len, app->store);
    if (!text) {
        pt_res_problem(res, 500, "internal_error", "could not render metrics");
        return;
    }
    pt_res_bytes(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void get_openapi(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    if (!app->openapi_json) {
        pt_res_problem(res, 404, "not_found", "no API description is embedded");
        return;
    }
    pt_res_bytes(res, 200, "application/json; charset=utf-8", app->openapi_json, app->openapi_len);
}

/* Lets integration tests move time (token expiry, leaver dates) without
 * sleeping; only registered when porticod runs with --test-clock. */
static void put_test_clock(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    static const char *const allowed[] = {"now", NULL};
    pt_v_no_unknown(v, body, "", allowed);
    json_t *now = json_object_get(body, "now");
    int64_t epoch = -1;
    if (!now)
        pt_verr_add(v, "/now", "is required");
    else if (!json_is_null(now) && pt_v_time(v, body, "now", "/now", true, &epoch) && epoch < 0)
        pt_verr_add(v, "/now", "must not be before 1970"); /* < 0 means "real time" */
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
    } else {
        pt_clock_set_fixed_ms(json_is_null(now) ? -1 : epoch * 1000);
        pt_res_empty(res, 204);
    }
    pt_verr_free(v);
    json_decref(body);
}

int pt_routes_health(pt_app *app)
{
    int rc = 0;
    rc =
        rc ? rc : pt_router_add(app->router, "GET", "/healthz", PT_ROUTE_PUBLIC, get_healthz, NULL);
    rc = rc ? rc : pt_router_add(app->router, "GET", "/readyz", PT_ROUTE_PUBLIC, get_readyz, NULL);
    rc = rc ? rc : pt_router_add(app->router, "GET", "/metrics", 0, get_metrics, NULL);
    rc = rc ? rc
            : pt_router_add(app->router, "GET", "/api/v1/openapi.json", PT_ROUTE_PUBLIC,
                            get_openapi, NULL);
    if (!rc && app->cfg.test_clock)
        rc = pt_router_add(app->router, "PUT", "/api/v1/_test/clock", PT_ROUTE_PUBLIC,
                           put_test_clock, NULL);
    return rc;
}
