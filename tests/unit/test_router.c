/*
 * test_router.c - the segment-trie router: literal over parameter
 * precedence, parameter extraction and decoding, 404 vs 405 (with Allow),
 * duplicates, trailing slashes and bad escapes.
 *
 * Trailing slash rule: "/a/b/" does NOT match "/a/b" (empty segments never
 * match), and neither does "/a//b".
 */
#include "check.h"
#include "http/http.h"

#include <stdio.h>
#include <string.h>

static int tag_a, tag_b, tag_c, tag_d, tag_e, tag_f;

static void h(pt_req *req, pt_res *res, void *ud)
{
    (void)req;
    (void)res;
    (void)ud;
}

static const char *param(const pt_route_match *m, const char *name)
{
    for (unsigned i = 0; i < m->nparams; i++)
        if (strcmp(m->param_names[i], name) == 0)
            return m->param_values[i];
    return NULL;
}

static void count_cb(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)method;
    (void)pattern;
    (void)flags;
    (*(int *)ctx)++;
}

static void first_cb(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)flags;
    char *out = ctx;
    if (!*out)
        snprintf(out, 128, "%s %s", method, pattern);
}

int main(void)
{
    pt_router *r;
    CHECK(pt_router_new(&r) == 0);

    CHECK(pt_router_add(r, "GET", "/healthz", PT_ROUTE_PUBLIC, h, &tag_a) == 0);
    CHECK(pt_router_add(r, "GET", "/api/v1/orgs/{org}", 0, h, &tag_b) == 0);
    CHECK(pt_router_add(r, "PATCH", "/api/v1/orgs/{org}", 0, h, &tag_b) == 0);
    CHECK(pt_router_add(r, "GET", "/api/v1/orgs/{org}/people/{username}", 0, h, &tag_c) == 0);
    CHECK(pt_router_add(r, "POST", "/api/v1/orgs/{org}/people/import", 0, h, &tag_d) == 0);
    CHECK(pt_router_add(r, "GET", "/api/v1/orgs/special", 0, h, &tag_e) == 0);
    /* different parameter names at the same position share a node */
    CHECK(pt_router_add(r, "GET", "/api/v1/orgs/{id}/audit", 0, h, &tag_f) == 0);
    CHECK(pt_router_add(r, "GET", "/", PT_ROUTE_PUBLIC, h, &tag_a) == 0);

    /* duplicates and bad patterns */
    CHECK(pt_router_add(r, "GET", "/healthz", 0, h, NULL) == PT_EEXISTS);
    CHECK(pt_router_add(r, "GET", "/api/v1/orgs/{x}", 0, h, NULL) == PT_EEXISTS);
    CHECK(pt_router_add(r, "GET", "relative", 0, h, NULL) == PT_EINVAL);
    CHECK(pt_router_add(r, "GET", "/a//b", 0, h, NULL) == PT_EINVAL);
    CHECK(pt_router_add(r, "GET", "/a/b/", 0, h, NULL) == PT_EINVAL);
    CHECK(pt_router_add(r, "GET", "/a/{b", 0, h, NULL) == PT_EINVAL);
    CHECK(pt_router_add(r, "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", 0, h, NULL) == PT_EINVAL);

    pt_route_match m;

    /* literal match */
    CHECK(pt_router_find(r, "GET", "/healthz", &m) == 0);
    CHECK(m.ud == &tag_a && m.flags == PT_ROUTE_PUBLIC && m.nparams == 0);
    CHECK(strcmp(m.pattern, "/healthz") == 0);
    CHECK(pt_router_find(r, "GET", "/", &m) == 0 && m.ud == &tag_a);

    /* literal beats parameter; parameter still reachable */
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/special", &m) == 0 && m.ud == &tag_e);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/acme", &m) == 0 && m.ud == &tag_b);
    CHECK(m.nparams == 1 && strcmp(param(&m, "org"), "acme") == 0);
    CHECK(strcmp(m.pattern, "/api/v1/orgs/{org}") == 0);
    /* literal segment that only the param branch can complete: backtracks */
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/special/audit", &m) == 0 && m.ud == &tag_f);
    CHECK(strcmp(param(&m, "id"), "special") == 0);

    /* several params, decoded per segment (%2F stays inside its segment) */
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/acme/people/j%2Fdoe%40x.org", &m) == 0);
    CHECK(m.ud == &tag_c && m.nparams == 2);
    CHECK(strcmp(param(&m, "org"), "acme") == 0);
    CHECK(strcmp(param(&m, "username"), "j/doe@x.org") == 0);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a%20b", &m) == 0);
    CHECK(strcmp(param(&m, "org"), "a b") == 0);
    /* '+' is literal in paths */
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a+b", &m) == 0);
    CHECK(strcmp(param(&m, "org"), "a+b") == 0);
    /* an encoded literal still matches the literal */
    CHECK(pt_router_find(r, "GET", "/%68ealthz", &m) == 0 && m.ud == &tag_a);

    /* 404 vs 405 */
    CHECK(pt_router_find(r, "GET", "/nope", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/acme/people", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "DELETE", "/api/v1/orgs/acme", &m) == PT_EDENIED);
    CHECK(strcmp(m.allow, "GET, HEAD, PATCH") == 0);
    CHECK(pt_router_find(r, "POST", "/healthz", &m) == PT_EDENIED);
    CHECK(strcmp(m.allow, "GET, HEAD") == 0);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/acme/people/import", &m) == 0);
    CHECK(m.ud == &tag_c); /* GET falls through to the {username} route */
    CHECK(pt_router_find(r, "PUT", "/api/v1/orgs/acme/people/import", &m) == PT_EDENIED);
    CHECK(strstr(m.allow, "POST") && strstr(m.allow, "GET"));
    CHECK(pt_router_find(r, "POST", "/api/v1/orgs/acme/people/import", &m) == 0);
    CHECK(m.ud == &tag_d);

    /* trailing slash and empty segments do not match */
    CHECK(pt_router_find(r, "GET", "/healthz/", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1//orgs/acme", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "healthz", &m) == PT_ENOTFOUND);

    /* bad escapes and NUL are no match */
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a%00b", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a%zzb", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a%2", &m) == PT_ENOTFOUND);
    CHECK(pt_router_find(r, "GET", "/api/v1/orgs/a%", &m) == PT_ENOTFOUND);

    /* overlong paths are refused, not truncated */
    char longpath[4096];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    CHECK(pt_router_find(r, "GET", longpath, &m) == PT_ENOTFOUND);

    /* registration order */
    int n = 0;
    pt_router_each(r, count_cb, &n);
    CHECK(n == 8);
    char first[128] = "";
    pt_router_each(r, first_cb, first);
    CHECK(strcmp(first, "GET /healthz") == 0);

    pt_router_free(r);
    return check_finish("test_router");
}
