/*
 * test_validate.c - pt_v_* collect every bad field with the right pointer,
 * cursors round-trip, and bad ?limit / ?cursor give 400 bad_request.
 * Also drives pt_req_json_object through an in-process request.
 */
#include "check.h"
#include "http/app.h"
#include "http/http.h"

#include <stdio.h>
#include <string.h>

/* True if errors has an entry with this pointer. */
static bool has_pointer(const json_t *errors, const char *pointer)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0)
            return json_is_string(json_object_get(e, "message"));
    }
    return false;
}

static void test_fields(void)
{
    json_error_t err;
    json_t *o = json_loads("{\"name\":\"Acme\",\"short\":\"\",\"long\":\"abcdef\",\"num\":5,"
                           "\"big\":900,\"real\":1.5,\"flag\":true,\"notbool\":1,"
                           "\"date\":\"2026-11-22\",\"baddate\":\"2026-02-30\","
                           "\"time\":\"2026-11-22T10:00:00Z\",\"badtime\":\"yesterday\","
                           "\"nul\":null,\"a/b~c\":1}",
                           0, &err);
    CHECK(o != NULL);
    pt_verr *v = pt_verr_new();
    CHECK(!pt_verr_any(v));

    const char *s = pt_v_string(v, o, "name", "/name", true, 1, 200);
    CHECK(s && strcmp(s, "Acme") == 0);
    CHECK(!pt_verr_any(v));
    CHECK(pt_v_string(v, o, "missing", "/missing", true, 1, 10) == NULL);
    CHECK(pt_v_string(v, o, "missing_opt", "/missing_opt", false, 1, 10) == NULL);
    CHECK(pt_v_string(v, o, "nul", "/nul", false, 1, 10) == NULL); /* null = absent */
    CHECK(pt_v_string(v, o, "short", "/short", true, 1, 10) == NULL);
    CHECK(pt_v_string(v, o, "long", "/long", true, 1, 5) == NULL);
    CHECK(pt_v_string(v, o, "num", "/num_as_string", true, 1, 5) == NULL);

    int64_t n = -1;
    CHECK(pt_v_int(v, o, "num", "/num", true, 0, 10, &n) && n == 5);
    CHECK(!pt_v_int(v, o, "big", "/big", true, 0, 90, &n));
    CHECK(!pt_v_int(v, o, "real", "/real", true, 0, 90, &n));
    CHECK(!pt_v_int(v, o, "name", "/name_as_int", false, 0, 90, &n));

    bool b = false;
    CHECK(pt_v_bool(v, o, "flag", "/flag", true, &b) && b);
    CHECK(!pt_v_bool(v, o, "notbool", "/notbool", true, &b));
    CHECK(!pt_v_bool(v, o, "nope", "/nope", false, &b));

    int32_t d = 0;
    CHECK(pt_v_date(v, o, "date", "/date", true, &d) && d > 20000);
    CHECK(!pt_v_date(v, o, "baddate", "/baddate", true, &d));
    int64_t t = 0;
    CHECK(pt_v_time(v, o, "time", "/time", true, &t) && t == 1795341600);
    CHECK(!pt_v_time(v, o, "badtime", "/badtime", true, &t));

    static const char *const allowed[] = {"name", "short",   "long",    "num",  "big",
                                          "real", "flag",    "notbool", "date", "baddate",
                                          "time", "badtime", "nul",     NULL};
    pt_v_no_unknown(v, o, "", allowed);
    pt_verr_add(v, "/extra", "custom %d", 42);

    CHECK(pt_verr_any(v));
    json_t *errors = pt_verr_take(v);
    CHECK(!pt_verr_any(v));
    const char *expect[] = {"/missing", "/short",   "/long",        "/num_as_string",
                            "/big",     "/real",    "/name_as_int", "/notbool",
                            "/baddate", "/badtime", "/a~1b~0c",     "/extra"};
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        if (!has_pointer(errors, expect[i])) {
            fprintf(stderr, "missing error for %s\n", expect[i]);
            failures++;
        }
    }
    CHECK(json_array_size(errors) == sizeof(expect) / sizeof(expect[0]));
    CHECK(!has_pointer(errors, "/missing_opt") && !has_pointer(errors, "/nul"));
    json_decref(errors);
    pt_verr_free(v);
    json_decref(o);
}

static int problem_status(pt_res *res, const char *code)
{
    size_t len;
    const char *body = pt_res_body(res, &len);
    json_t *p = json_loadb(body, len, 0, NULL);
    int st = -1;
    if (p && strcmp(json_string_value(json_object_get(p, "code")), code) == 0 &&
        json_integer_value(json_object_get(p, "status")) == pt_res_status(res))
        st = pt_res_status(res);
    json_decref(p);
    return st;
}

static pt_app page_app; /* only its cursor secret is used */

static bool page_ok_at(const char *path, const char *query, pt_page *page)
{
    pt_req *req = pt_req_new_fake(&page_app, "GET", path, query, NULL, NULL, 0);
    pt_res *res = pt_res_new_fake();
    bool ok = pt_page_from_query(req, res, page);
    if (!ok) {
        CHECK(problem_status(res, "bad_request") == 400);
        CHECK(strcmp(pt_res_get_header(res, "Content-Type"), "application/problem+json") == 0);
    }
    pt_res_free_fake(res);
    pt_req_free_fake(req);
    return ok;
}

static bool page_ok(const char *query, pt_page *page)
{
    return page_ok_at("/x", query, page);
}

static json_t *page_seal(const char *path, const void *key, size_t len)
{
    pt_req *req = pt_req_new_fake(&page_app, "GET", path, NULL, NULL, NULL, 0);
    json_t *c = pt_page_cursor(req, key, len);
    pt_req_free_fake(req);
    return c;
}

static void test_pages(void)
{
    memset(page_app.cursor_secret, 7, sizeof(page_app.cursor_secret));
    page_app.cursor_secret_set = true;
    pt_page page;
    CHECK(page_ok(NULL, &page) && page.limit == 50 && page.after_len == 0);
    CHECK(page_ok("limit=1", &page) && page.limit == 1);
    CHECK(page_ok("other=x&limit=500", &page) && page.limit == 500);
    CHECK(!page_ok("limit=0", &page));
    CHECK(!page_ok("limit=501", &page));
    CHECK(!page_ok("limit=abc", &page));
    CHECK(!page_ok("limit=-1", &page));
    CHECK(!page_ok("limit=", &page));
    CHECK(!page_ok("limit=99999999999999999999", &page));

    /* round trip, including NUL bytes as in composite keys */
    const char key[] = "acme\0j.doe";
    json_t *c = page_seal("/x", key, sizeof(key) - 1);
    CHECK(json_is_string(c));
    char q[256];
    snprintf(q, sizeof(q), "limit=2&cursor=%s", json_string_value(c));
    CHECK(page_ok(q, &page) && page.limit == 2);
    CHECK(page.after_len == sizeof(key) - 1 && memcmp(page.after, key, page.after_len) == 0);
    json_decref(c);
    CHECK(json_is_null(c = page_seal("/x", NULL, 0)));
    json_decref(c);

    /* sealed: another list, an edited cursor, a made-up one are refused */
    c = page_seal("/x", key, sizeof(key) - 1);
    snprintf(q, sizeof(q), "cursor=%s", json_string_value(c));
    CHECK(!page_ok_at("/y", q, &page));
    q[7] = q[7] == 'A' ? 'B' : 'A';
    CHECK(!page_ok(q, &page));
    json_decref(c);
    CHECK(!page_ok("cursor=AAAA", &page));
    CHECK(!page_ok("cursor=null", &page));

    CHECK(!page_ok("cursor=!!!", &page));
    CHECK(!page_ok("cursor=YWJj%3D", &page)); /* padding is not URL-safe no-padding */
    CHECK(!page_ok("cursor=a", &page));       /* impossible length */
    char big[1200] = "cursor=";
    memset(big + 7, 'A', 1100);
    big[1107] = '\0';
    CHECK(!page_ok(big, &page)); /* longer than any key */
    CHECK(page_ok("cursor=", &page) && page.after_len == 0);
}

static int json_body(const char *ctype, const char *body, json_t **out, pt_res **res)
{
    char hdr[128];
    const char *headers[] = {hdr, NULL};
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype ? ctype : "");
    pt_req *req = pt_req_new_fake(NULL, "POST", "/x", NULL, ctype ? headers : NULL, body,
                                  body ? strlen(body) : 0);
    *res = pt_res_new_fake();
    int rc = pt_req_json_object(req, *res, out);
    pt_req_free_fake(req);
    return rc;
}

static void test_json_body(void)
{
    json_t *o = NULL;
    pt_res *res;
    CHECK(json_body(NULL, "{\"a\":1}", &o, &res) == 0 && json_is_object(o));
    json_decref(o);
    pt_res_free_fake(res);
    CHECK(json_body("application/json; charset=utf-8", "{}", &o, &res) == 0);
    json_decref(o);
    pt_res_free_fake(res);
    CHECK(json_body("Application/JSON", "{}", &o, &res) == 0);
    json_decref(o);
    pt_res_free_fake(res);

    CHECK(json_body("text/plain", "{}", &o, &res) < 0 && o == NULL);
    CHECK(problem_status(res, "unsupported_media_type") == 415);
    pt_res_free_fake(res);
    CHECK(json_body(NULL, "{\"a\":", &o, &res) < 0);
    CHECK(problem_status(res, "bad_request") == 400);
    pt_res_free_fake(res);
    CHECK(json_body(NULL, "{\"a\":\"\xff\xfe\"}", &o, &res) < 0);
    CHECK(problem_status(res, "bad_request") == 400);
    pt_res_free_fake(res);
    CHECK(json_body(NULL, "{\"a\":1,\"a\":2}", &o, &res) < 0);
    CHECK(problem_status(res, "bad_request") == 400);
    pt_res_free_fake(res);
    CHECK(json_body(NULL, NULL, &o, &res) < 0);
    CHECK(problem_status(res, "bad_request") == 400);
    pt_res_free_fake(res);
    CHECK(json_body(NULL, "[1,2]", &o, &res) < 0);
    CHECK(problem_status(res, "validation_failed") == 422);
    size_t len;
    const char *body = pt_res_body(res, &len);
    json_t *p = json_loadb(body, len, 0, NULL);
    CHECK(p && has_pointer(json_object_get(p, "errors"), ""));
    json_decref(p);
    pt_res_free_fake(res);
}

static void test_etag(void)
{
    pt_req *req = pt_req_new_fake(NULL, "GET", "/x", NULL, NULL, NULL, 0);
    pt_res *res = pt_res_new_fake();
    CHECK(!pt_res_json_etag(req, res, json_pack("{s:i}", "a", 1)));
    CHECK(pt_res_status(res) == 200);
    const char *etag = pt_res_get_header(res, "ETag");
    CHECK(etag && etag[0] == '"' && strlen(etag) > 10);
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"zzz\", W/%s", etag ? etag : "");
    const char *headers[] = {hdr, NULL};
    pt_req *req2 = pt_req_new_fake(NULL, "GET", "/x", NULL, headers, NULL, 0);
    pt_res *res2 = pt_res_new_fake();
    CHECK(pt_res_json_etag(req2, res2, json_pack("{s:i}", "a", 1)));
    CHECK(pt_res_status(res2) == 304);
    CHECK(etag && strcmp(pt_res_get_header(res2, "ETag"), etag) == 0);
    pt_res_free_fake(res2);
    res2 = pt_res_new_fake();
    CHECK(!pt_res_json_etag(req2, res2, json_pack("{s:i}", "a", 2)));
    CHECK(pt_res_status(res2) == 200);
    pt_res_free_fake(res2);
    pt_req_free_fake(req2);
    pt_res_free_fake(res);
    pt_req_free_fake(req);

    /* error mapping */
    res = pt_res_new_fake();
    pt_error_set("no such org");
    pt_res_error(res, PT_ENOTFOUND);
    CHECK(problem_status(res, "not_found") == 404);
    pt_res_error(res, PT_EEXISTS);
    CHECK(problem_status(res, "conflict") == 409);
    pt_res_error(res, PT_EINVAL);
    CHECK(problem_status(res, "validation_failed") == 422);
    pt_res_error(res, PT_EDENIED);
    CHECK(problem_status(res, "forbidden") == 403);
    pt_res_error(res, PT_ETOOBIG);
    CHECK(problem_status(res, "payload_too_large") == 413);
    pt_error_set("secret internals");
    pt_res_error(res, PT_ERR);
    CHECK(problem_status(res, "internal_error") == 500);
    CHECK(strstr(pt_res_body(res, NULL), "secret internals") == NULL);
    /* the store out of reach (a database restart): 503, try again, and
     * the database's error text stays in the log */
    pt_error_set("store: postgres: connection lost: secret internals");
    pt_res_error(res, PT_EIO);
    CHECK(problem_status(res, "unavailable") == 503);
    CHECK(strcmp(pt_res_get_header(res, "Retry-After"), "1") == 0);
    CHECK(strstr(pt_res_body(res, NULL), "secret internals") == NULL);
    pt_res_problem(res, 401, "unauthorized", "no");
    CHECK(strcmp(pt_res_get_header(res, "WWW-Authenticate"), "Bearer") == 0);
    pt_res_free_fake(res);
}

static void test_query(void)
{
    pt_req *req = pt_req_new_fake(NULL, "GET", "/x", "a=1&b=x%20y+z&c&d=%zz&e=%41", NULL, NULL, 0);
    CHECK(strcmp(pt_req_query(req, "a"), "1") == 0);
    CHECK(strcmp(pt_req_query(req, "b"), "x y z") == 0);
    CHECK(strcmp(pt_req_query(req, "c"), "") == 0);
    CHECK(strcmp(pt_req_query(req, "d"), "%zz") == 0); /* raw when undecodable */
    CHECK(strcmp(pt_req_query(req, "e"), "A") == 0);
    CHECK(pt_req_query(req, "f") == NULL);
    pt_req_free_fake(req);
}

int main(void)
{
    test_fields();
    test_pages();
    test_json_body();
    test_etag();
    test_query();
    return check_finish("test_validate");
}
