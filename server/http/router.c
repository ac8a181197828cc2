/*
 * router.c - maps "METHOD /path" to a handler through a segment trie.
 *
 * Routes are added at start-up only; afterwards the trie is read-only, so
 * lookups from many worker threads need no lock.  Each trie node has literal
 * children and at most one parameter child; a lookup tries literals first
 * and backtracks into the parameter child, so "/orgs/new" beats
 * "/orgs/{org}" wherever both could match.
 *
 * Paths arrive raw (percent-encoded).  They are split on '/' first and each
 * segment is decoded afterwards, so an encoded "%2F" stays inside its
 * segment.  Empty segments never match: "/a/b/" (trailing slash) and
 * "/a//b" are not "/a/b".  A segment with an invalid escape or %00 makes the
 * whole path a non-match (404).
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 32
#define MAX_PARAMS   8

typedef struct route {
    char *method;
    char *pattern;
    unsigned flags;
    pt_handler_fn fn;
    void *ud;
    size_t body_max;
    unsigned nparams;
    char *param_names[MAX_PARAMS];
} route;

typedef struct rnode {
    char *literal; /* NULL for the root and for parameter nodes */
    struct rnode **kids;
    size_t nkids;
    struct rnode *param;
    route **routes; /* routes ending here, one per method */
    size_t nroutes;
} rnode;

struct pt_router {
    rnode *root;
    route **all; /* registration order, for pt_router_each */
    size_t nall, capall;
};

static void node_free(rnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    node_free(n->param);
    free(n->kids);
    free(n->routes);
    free(n->literal);
    free(n);
}

static void route_free(route *rt)
{
    if (!rt)
        return;
    for (unsigned i = 0; i < rt->nparams; i++)
        free(rt->param_names[i]);
    free(rt->method);
    free(rt->pattern);
    free(rt);
}

int pt_router_new(pt_router **out)
{
    pt_router *r = calloc(1, sizeof(*r));
    if (!r)
        return PT_ENOMEM;
    r->root = calloc(1, sizeof(rnode));
    if (!r->root) {
        free(r);
        return PT_ENOMEM;
    }
    *out = r;
    return 0;
}

void pt_router_free(pt_router *r)
{
    if (!r)
        return;
    node_free(r->root);
    for (size_t i = 0; i < r->nall; i++)
        route_free(r->all[i]);
    free(r->all);
    free(r);
}

static bool is_param_segment(const char *s, size_t len)
{
    return len >= 3 && s[0] == '{' && s[len - 1] == '}';
}

static rnode *node_child(rnode *n, const char *seg, size_t len, bool param, bool create)
{
    if (param) {
        if (!n->param && create)
            n->param = calloc(1, sizeof(rnode));
        return n->param;
    }
    for (size_t i = 0; i < n->nkids; i++)
        if (strlen(n->kids[i]->literal) == len && memcmp(n->kids[i]->literal, seg, len) == 0)
            return n->kids[i];
    if (!create)
        return NULL;
    rnode **kids = realloc(n->kids, (n->nkids + 1) * sizeof(*kids));
    if (!kids)
        return NULL;
    n->kids = kids;
    rnode *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->literal = strndup(seg, len);
    if (!c->literal) {
        free(c);
        return NULL;
    }
    n->kids[n->nkids++] = c;
    return c;
}

/*
 * Registration validates the pattern strictly (absolute, no empty
 * segments, well-formed parameters, at most MAX_PARAMS) because a typo in a
 * route table should fail start-up loudly rather than silently never match.
 */
int pt_router_add(pt_router *r, const char *method, const char *pattern, unsigned flags,
                  pt_handler_fn fn, void *ud)
{
    return pt_router_add_limit(r, method, pattern, flags, fn, ud, 0);
}

int pt_router_add_limit(pt_router *r, const char *method, const char *pattern, unsigned flags,
                        pt_handler_fn fn, void *ud, size_t body_max)
{
    if (!r || !method || !*method || !pattern || pattern[0] != '/' || !fn) {
        pt_error_set("router: bad route arguments");
        return PT_EINVAL;
    }
    if (strlen(method) > 15) {
        pt_error_set("router: method too long");
        return PT_EINVAL;
    }
    route *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return PT_ENOMEM;
    rt->method = strdup(method);
    rt->pattern = strdup(pattern);
    rt->flags = flags;
    rt->fn = fn;
    rt->ud = ud;
    rt->body_max = body_max;
    if (!rt->method || !rt->pattern) {
        route_free(rt);
        return PT_ENOMEM;
    }

    rnode *n = r->root;
    const char *p = pattern + 1;
    unsigned nseg = 0;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || ++nseg > MAX_SEGMENTS) {
            pt_error_set("router: bad pattern %s", pattern);
            route_free(rt);
            return PT_EINVAL;
        }
        bool param = is_param_segment(p, len);
        if (param) {
            if (rt->nparams >= MAX_PARAMS || memchr(p + 1, '{', len - 2) ||
                memchr(p + 1, '}', len - 2)) {
                pt_error_set("router: bad parameters in %s", pattern);
                route_free(rt);
                return PT_EINVAL;
            }
            rt->param_names[rt->nparams] = strndup(p + 1, len - 2);
            if (!rt->param_names[rt->nparams]) {
                route_free(rt);
                return PT_ENOMEM;
            }
            rt->nparams++;
        } else if (memchr(p, '{', len) || memchr(p, '}', len) || memchr(p, '%', len)) {
            pt_error_set("router: bad literal segment in %s", pattern);
            route_free(rt);
            return PT_EINVAL;
        }
        n = node_child(n, p, len, param, true);
        if (!n) {
            route_free(rt);
            return PT_ENOMEM;
        }
        if (!end)
            break;
        p = end + 1;
        if (!*p) { /* trailing slash in a pattern */
            pt_error_set("router: pattern %s ends with '/'", pattern);
            route_free(rt);
            return PT_EINVAL;
        }
    }

    for (size_t i = 0; i < n->nroutes; i++) {
        if (strcmp(n->routes[i]->method, method) == 0) {
            pt_error_set("router: duplicate route %s %s", method, pattern);
            route_free(rt);
            return PT_EEXISTS;
        }
    }
    route **rs = realloc(n->routes, (n->nroutes + 1) * sizeof(*rs));
    if (!rs) {
        route_free(rt);
        return PT_ENOMEM;
    }
    n->routes = rs;
    if (r->nall == r->capall) {
        size_t cap = r->capall ? r->capall * 2 : 32;
        route **all = realloc(r->all, cap * sizeof(*all));
        if (!all) {
            route_free(rt);
            return PT_ENOMEM;
        }
        r->all = all;
        r->capall = cap;
    }
    n->routes[n->nroutes++] = rt;
    r->all[r->nall++] = rt;
    return 0;
}

typedef struct find_ctx {
    const char *method;
    char *segs[MAX_SEGMENTS];
    size_t nsegs;
    const char *values[MAX_PARAMS];
    unsigned nvalues;
    route *found;
    const char *found_values[MAX_PARAMS];
    bool path_matched;
    char allow[64];
} find_ctx;

static void allow_add(find_ctx *fc, const char *method)
{
    /* The set is tiny; a substring test on ", "-delimited names suffices. */
    size_t mlen = strlen(method);
    const char *a = fc->allow;
    while (*a) {
        const char *comma = strchr(a, ',');
        size_t l = comma ? (size_t)(comma - a) : strlen(a);
        if (l == mlen && memcmp(a, method, l) == 0)
            return;
        if (!comma)
            break;
        a = comma + 2;
    }
    size_t used = strlen(fc->allow);
    if (used + mlen + 3 > sizeof(fc->allow))
        return;
    if (used)
        memcpy(fc->allow + used, ", ", 2), used += 2;
    memcpy(fc->allow + used, method, mlen + 1);
}

/* Depth-first, literal children before the parameter child.  Returns true
 * once a route for the method is found; otherwise keeps collecting the
 * methods of every route the path matches (for the Allow header). */
static bool find_in(const rnode *n, size_t i, find_ctx *fc)
{
    if (i == fc->nsegs) {
        for (size_t k = 0; k < n->nroutes; k++) {
            if (strcmp(n->routes[k]->method, fc->method) == 0) {
                fc->found = n->routes[k];
                memcpy(fc->found_values, fc->values, sizeof(fc->values));
                return true;
            }
        }
        for (size_t k = 0; k < n->nroutes; k++) {
            fc->path_matched = true;
            allow_add(fc, n->routes[k]->method);
            /* A GET route answers HEAD too (see pt_router_find). */
            if (strcmp(n->routes[k]->method, "GET") == 0)
                allow_add(fc, "HEAD");
        }
        return false;
    }
    const char *seg = fc->segs[i];
    if (!*seg)
        return false;
    for (size_t k = 0; k < n->nkids; k++)
        if (strcmp(n->kids[k]->literal, seg) == 0) {
            if (find_in(n->kids[k], i + 1, fc))
                return true;
            break;
        }
    if (n->param && fc->nvalues < MAX_PARAMS) {
        fc->values[fc->nvalues++] = seg;
        if (find_in(n->param, i + 1, fc))
            return true;
        fc->nvalues--;
    }
    return false;
}

int pt_router_find(const pt_router *r, const char *method, const char *path, pt_route_match *out)
{
    memset(out, 0, offsetof(pt_route_match, buf));
    out->buf[0] = '\0';
    out->allow[0] = '\0';
    if (!r || !method || !path || path[0] != '/')
        return PT_ENOTFOUND;

    find_ctx fc;
    memset(&fc, 0, sizeof(fc));
    /* RFC 9110: every GET resource answers HEAD; http.c drops the body. */
    fc.method = strcmp(method, "HEAD") == 0 ? "GET" : method;

    /* Split and decode into out->buf; each segment plus its NUL never
     * exceeds its encoded length plus one. */
    size_t plen = strlen(path);
    if (plen >= sizeof(out->buf))
        return PT_ENOTFOUND;
    char *w = out->buf;
    const char *p = path + 1;
    if (*p) {
        for (;;) {
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (fc.nsegs == MAX_SEGMENTS)
                return PT_ENOTFOUND;
            if (pt_url_decode(w, p, len, false) < 0)
                return PT_ENOTFOUND;
            fc.segs[fc.nsegs++] = w;
            w += strlen(w) + 1;
            if (!end)
                break;
            p = end + 1;
        }
    }

    if (find_in(r->root, 0, &fc)) {
        route *rt = fc.found;
        out->fn = rt->fn;
        out->ud = rt->ud;
        out->flags = rt->flags;
        out->body_max = rt->body_max;
        out->pattern = rt->pattern;
        out->nparams = rt->nparams;
        for (unsigned i = 0; i < rt->nparams; i++) {
            out->param_names[i] = rt->param_names[i];
            out->param_values[i] = fc.found_values[i];
        }
        return 0;
    }
    if (fc.path_matched) {
        memcpy(out->allow, fc.allow, sizeof(out->allow));
        return PT_EDENIED;
    }
    return PT_ENOTFOUND;
}

void pt_router_each(const pt_router *r,
                    void (*cb)(const char *method, const char *pattern, unsigned flags, void *ctx),
                    void *ctx)
{
    if (!r || !cb)
        return;
    for (size_t i = 0; i < r->nall; i++)
        cb(r->all[i]->method, r->all[i]->pattern, r->all[i]->flags, ctx);
}
