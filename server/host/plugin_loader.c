/*
 * plugin_loader.c - finds, checks and loads portlet shared objects.
 *
 * Every check that can be made on the descriptor is made before init()
 * runs and before any route is registered, because a route cannot be
 * taken back out of the router: a portlet is either fully in or fully
 * out.  Refusals are logged and remembered so a system admin can see them
 * in the catalogue.
 */
#include "host/plugins.h"

#include "base/crypto.h"
#include "base/log.h"
#include "http/cursor.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTE_SEGMENTS 32
#define MAX_ROUTE_PARAMS   8
#define PORTLET_ID_MAX     64

/* The least of a 2.x descriptor (everything up to its routes) and of a
 * route entry (method, path, handler): older 2.x portlets are at least
 * this big, newer ones may be bigger (see the version rule in portlet.h). */
#define DESC_MIN_SIZE  (offsetof(portico_portlet, route_count) + sizeof(size_t))
#define ROUTE_MIN_SIZE (offsetof(portico_route, handler) + sizeof(portico_handler_fn))

struct pt_portlet {
    char *file;
    void *dl;
    portico_portlet desc; /* the portlet's descriptor, zero past its struct_size */
    pt_schema *schema;
    void *state;
    bool inited;
    pt_route_binding *bindings;
};

typedef struct refusal {
    char *file;
    char *id;
    char *reason;
} refusal;

struct pt_plugins {
    pt_portlet **items;
    size_t n, cap;
    refusal *refused;
    size_t nref, capref;
    unsigned char cursor_secret[PT_CURSOR_SECRET_LEN];
};

const unsigned char *pt_plugins_cursor_secret(const pt_plugins *pl)
{
    return pl->cursor_secret;
}

/* One secret per installation, kept in the store: cursors survive a
 * restart and work on every node that shares the store. */
static int cursor_secret_txn(pt_txn *txn, void *arg)
{
    unsigned char *secret = arg;
    pt_val v;
    int err = pt_txn_get(txn, PT_T_META, PT_CURSOR_SECRET_META_KEY,
                         strlen(PT_CURSOR_SECRET_META_KEY), &v);
    if (err == 0 && v.len == PT_CURSOR_SECRET_LEN) {
        memcpy(secret, v.data, v.len);
        return 0;
    }
    if (err < 0 && err != PT_ENOTFOUND)
        return err;
    randombytes_buf(secret, PT_CURSOR_SECRET_LEN);
    return pt_txn_put(txn, PT_T_META, PT_CURSOR_SECRET_META_KEY, strlen(PT_CURSOR_SECRET_META_KEY),
                      secret, PT_CURSOR_SECRET_LEN);
}

/* ---- accessors ----------------------------------------------------------- */

size_t pt_plugins_count(const pt_plugins *pl)
{
    return pl ? pl->n : 0;
}

const pt_portlet *pt_plugins_at(const pt_plugins *pl, size_t i)
{
    return pl && i < pl->n ? pl->items[i] : NULL;
}

const pt_portlet *pt_plugins_find(const pt_plugins *pl, const char *id)
{
    if (!pl || !id)
        return NULL;
    for (size_t i = 0; i < pl->n; i++)
        if (strcmp(pl->items[i]->desc.id, id) == 0)
            return pl->items[i];
    return NULL;
}

size_t pt_plugins_refused_count(const pt_plugins *pl)
{
    return pl ? pl->nref : 0;
}

void pt_plugins_refused_at(const pt_plugins *pl, size_t i, const char **file, const char **id,
                           const char **reason)
{
    *file = *id = *reason = NULL;
    if (!pl || i >= pl->nref)
        return;
    *file = pl->refused[i].file;
    *id = pl->refused[i].id;
    *reason = pl->refused[i].reason;
}

const portico_portlet *pt_portlet_desc(const pt_portlet *p)
{
    return &p->desc;
}

const portico_route *pt_portlet_route_at(const pt_portlet *p, size_t i)
{
    return p->bindings && i < p->desc.route_count ? &p->bindings[i].route : NULL;
}

const pt_schema *pt_portlet_schema(const pt_portlet *p)
{
    return p->schema;
}

const char *pt_portlet_file(const pt_portlet *p)
{
    return p->file;
}

void *pt_portlet_state(const pt_portlet *p)
{
    return p->state;
}

bool pt_portlet_has_dashboard(const pt_portlet *p, const char *dashboard)
{
    if (!p->desc.dashboards)
        return false;
    for (const char *const *d = p->desc.dashboards; *d; d++)
        if (strcmp(*d, dashboard) == 0)
            return true;
    return false;
}

/* ---- refusals ------------------------------------------------------------ */

static int refuse(pt_plugins *pl, const char *file, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(pt_plugins *pl, const char *file, const char *id, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    pt_log_warn("plugins", "refused %s%s%s%s: %s", file, id ? " (id " : "", id ? id : "",
                id ? ")" : "", reason);
    if (pl->nref == pl->capref) {
        size_t cap = pl->capref ? pl->capref * 2 : 8;
        refusal *r = realloc(pl->refused, cap * sizeof(*r));
        if (!r)
            return PT_ENOMEM;
        pl->refused = r;
        pl->capref = cap;
    }
    refusal *r = &pl->refused[pl->nref];
    r->file = strdup(file);
    r->id = id ? strdup(id) : NULL;
    r->reason = strdup(reason);
    if (!r->file || !r->reason || (id && !r->id)) {
        free(r->file);
        free(r->id);
        free(r->reason);
        return PT_ENOMEM;
    }
    pl->nref++;
    return 0;
}

/* ---- checks -------------------------------------------------------------- */

static bool portlet_id_valid(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    }
    return n >= 1 && n <= PORTLET_ID_MAX;
}

static bool method_valid(const char *m)
{
    static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (strcmp(m, ok[i]) == 0)
            return true;
    return false;
}

/*
 * The same pattern rules the router enforces, checked up front so that a
 * registration can never fail half-way through a portlet's routes.  On
 * success `shape` gets the pattern with parameter names blanked out
 * ("{}"), which is what decides whether two routes collide.
 */
static bool route_path_valid(const char *path, const char *prefix, char *shape, size_t shape_n,
                             const char **why)
{
    size_t plen = strlen(prefix);
    if (strncmp(path, prefix, plen) != 0 || (path[plen] != '\0' && path[plen] != '/')) {
        *why = "is not under the portlet's own prefix";
        return false;
    }
    unsigned nseg = 0, nparams = 0;
    size_t o = 0;
    const char *p = path + 1;
    shape[o++] = '/';
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || ++nseg > MAX_ROUTE_SEGMENTS) {
            *why = "has an empty segment or too many segments";
            return false;
        }
        bool param = len >= 3 && p[0] == '{' && p[len - 1] == '}';
        if (param) {
            if (++nparams > MAX_ROUTE_PARAMS || memchr(p + 1, '{', len - 2) ||
                memchr(p + 1, '}', len - 2)) {
                *why = "has malformed or too many parameters";
                return false;
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c == '{' || c == '}' || c == '%' || c <= ' ' || c >= 0x7f || c == '?' ||
                    c == '#') {
                    *why = "has a bad character in a literal segment";
                    return false;
                }
            }
            if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
                *why = "has a dot segment";
                return false;
            }
        }
        const char *piece = param ? "{}" : p;
        size_t plen2 = param ? 2 : len;
        if (o + plen2 + 2 >= shape_n) {
            *why = "is too long";
            return false;
        }
        memcpy(shape + o, piece, plen2);
        o += plen2;
        if (!end)
            break;
        shape[o++] = '/';
        p = end + 1;
        if (!*p) {
            *why = "ends with '/'";
            return false;
        }
    }
    shape[o] = '\0';
    return true;
}

/* True if the bytes [from, to) of a portlet struct are all zero: the
 * portlet uses none of the fields this host does not know. */
static bool tail_zero(const void *base, size_t from, size_t to)
{
    const unsigned char *b = base;
    for (size_t i = from; i < to; i++)
        if (b[i])
            return false;
    return true;
}

/*
 * The version rule of portlet.h, applied to the descriptor's head: same
 * major; at least a 2.0 head; and, when the portlet's struct is larger
 * than this host's, nothing set in the part the host does not know.  On
 * success *copy is the descriptor as this host sees it (zero past the
 * portlet's struct_size), the only form the rest of the host reads.
 */
static bool abi_check(portico_portlet *copy, const portico_portlet *d, size_t symsize, char *why,
                      size_t why_n)
{
    const size_t head = offsetof(portico_portlet, struct_size) + sizeof(d->struct_size);
    memset(copy, 0, sizeof(*copy));
    if (symsize && symsize < head) {
        snprintf(why, why_n, "descriptor symbol is only %zu bytes", symsize);
        return false;
    }
    if (d->magic != PORTICO_PORTLET_MAGIC) {
        snprintf(why, why_n, "wrong magic 0x%08x (want 0x%08x)", (unsigned)d->magic,
                 (unsigned)PORTICO_PORTLET_MAGIC);
        return false;
    }
    if (d->abi_major != PORTICO_ABI_MAJOR) {
        snprintf(why, why_n,
                 "built for ABI %u.%u; this host serves ABI %u.x (%u.%u): rebuild it against "
                 "portico/portlet.h %u.x",
                 (unsigned)d->abi_major, (unsigned)d->abi_minor, (unsigned)PORTICO_ABI_MAJOR,
                 (unsigned)PORTICO_ABI_MAJOR, (unsigned)PORTICO_ABI_MINOR,
                 (unsigned)PORTICO_ABI_MAJOR);
        return false;
    }
    if (d->struct_size < DESC_MIN_SIZE) {
        snprintf(why, why_n, "struct_size %u is smaller than a %u.0 descriptor (%zu)",
                 (unsigned)d->struct_size, (unsigned)PORTICO_ABI_MAJOR, (size_t)DESC_MIN_SIZE);
        return false;
    }
    if (symsize && symsize < d->struct_size) {
        snprintf(why, why_n, "struct_size %u is larger than the exported symbol (%zu bytes)",
                 (unsigned)d->struct_size, symsize);
        return false;
    }
    if (d->struct_size > sizeof(*copy) && !tail_zero(d, sizeof(*copy), d->struct_size)) {
        snprintf(why, why_n,
                 "built for ABI %u.%u and sets portico_portlet fields this host (%u.%u) does not "
                 "know",
                 (unsigned)d->abi_major, (unsigned)d->abi_minor, (unsigned)PORTICO_ABI_MAJOR,
                 (unsigned)PORTICO_ABI_MINOR);
        return false;
    }
    memcpy(copy, d, d->struct_size < sizeof(*copy) ? d->struct_size : sizeof(*copy));
    if (copy->route_count && copy->route_size < ROUTE_MIN_SIZE) {
        snprintf(why, why_n, "route_size %u is smaller than a %u.0 route (%zu)",
                 (unsigned)copy->route_size, (unsigned)PORTICO_ABI_MAJOR, (size_t)ROUTE_MIN_SIZE);
        return false;
    }
    return true;
}

/* The i-th route as the portlet laid it out (its own stride). */
static const portico_route *route_raw(const portico_portlet *d, size_t i)
{
    return (const portico_route *)((const char *)d->routes + i * d->route_size);
}

/* The i-th route as this host sees it: zero past the portlet's route_size.
 * False when the portlet sets route fields this host does not know. */
static bool route_copy(portico_route *out, const portico_portlet *d, size_t i)
{
    const portico_route *r = route_raw(d, i);
    memset(out, 0, sizeof(*out));
    if (d->route_size > sizeof(*out) && !tail_zero(r, sizeof(*out), d->route_size))
        return false;
    memcpy(out, r, d->route_size < sizeof(*out) ? d->route_size : sizeof(*out));
    return true;
}

/*
 * Checks everything about a descriptor (already through abi_check) that
 * does not need init().
 */
static bool desc_check(const pt_plugins *pl, const portico_portlet *d, char *why, size_t why_n)
{
    if (!d->id || !portlet_id_valid(d->id)) {
        snprintf(why, why_n, "bad id (want 1..64 of [a-z0-9-])");
        return false;
    }
    if (pt_plugins_find(pl, d->id)) {
        snprintf(why, why_n, "duplicate id %s (already loaded from %s)", d->id,
                 pt_portlet_file(pt_plugins_find(pl, d->id)));
        return false;
    }
    if (!d->name || !*d->name || !d->version || !*d->version) {
        snprintf(why, why_n, "name and version are required");
        return false;
    }
    if (d->dashboards) {
        for (const char *const *b = d->dashboards; *b; b++) {
            if (strcmp(*b, "employee") && strcmp(*b, "leaver") && strcmp(*b, "applicant")) {
                snprintf(why, why_n, "unknown dashboard %.64s", *b);
                return false;
            }
        }
    }
    if (d->route_count && !d->routes) {
        snprintf(why, why_n, "route_count %zu but no routes", d->route_count);
        return false;
    }
    if (d->route_count > 256) {
        snprintf(why, why_n, "too many routes (%zu)", d->route_count);
        return false;
    }
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "/api/v1/portlets/%s", d->id);
    char(*shapes)[512] = calloc(d->route_count ? d->route_count : 1, sizeof(*shapes));
    portico_route *rs = calloc(d->route_count ? d->route_count : 1, sizeof(*rs));
    if (!shapes || !rs) {
        free(shapes);
        free(rs);
        snprintf(why, why_n, "out of memory");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < d->route_count; i++) {
        portico_route *r = &rs[i];
        const char *w = NULL;
        if (!route_copy(r, d, i)) {
            snprintf(why, why_n,
                     "route %zu sets portico_route fields this host (%u.%u) does not know", i,
                     (unsigned)PORTICO_ABI_MAJOR, (unsigned)PORTICO_ABI_MINOR);
            ok = false;
        } else if (!r->method || !method_valid(r->method)) {
            snprintf(why, why_n, "route %zu: unknown method %.16s", i,
                     r->method ? r->method : "(null)");
            ok = false;
        } else if (!r->path) {
            snprintf(why, why_n, "route %zu: no path", i);
            ok = false;
        } else if (!route_path_valid(r->path, prefix, shapes[i], sizeof(shapes[i]), &w)) {
            snprintf(why, why_n, "route %.16s %.160s %.64s (must be %.90s or under %.90s/)",
                     r->method, r->path, w, prefix, prefix);
            ok = false;
        } else if (!r->handler) {
            snprintf(why, why_n, "route %s %.200s has no handler", r->method, r->path);
            ok = false;
        } else if (r->flags & ~(unsigned)(PORTICO_ROUTE_RAW_BODY | PORTICO_ROUTE_MFA)) {
            snprintf(why, why_n, "route %s %.200s has unknown flags 0x%x", r->method, r->path,
                     r->flags);
            ok = false;
        }
        for (size_t j = 0; ok && j < i; j++) {
            if (strcmp(rs[j].method, r->method) == 0 && strcmp(shapes[j], shapes[i]) == 0) {
                snprintf(why, why_n, "route %s %.200s is declared twice", r->method, r->path);
                ok = false;
            }
        }
    }
    free(shapes);
    free(rs);
    return ok;
}

/* Parses and compiles a schema the portlet gave as text (NULL: `dflt`). */
static int schema_load(pt_schema **out, const char *text, const char *what, char *why, size_t why_n)
{
    json_error_t jerr;
    json_t *j;
    *out = NULL;
    if (!text) {
        j = json_pack("{s:s}", "type", "object");
    } else {
        j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
            snprintf(why, why_n, "%s is not valid JSON: %s (line %d)", what, jerr.text, jerr.line);
            return PT_EINVAL;
        }
    }
    int err = pt_schema_compile(out, j);
    json_decref(j);
    if (err) {
        snprintf(why, why_n, "%s is not a usable schema: %s", what, pt_error_last());
        return err;
    }
    return 0;
}

static void portlet_free(pt_portlet *p)
{
    if (!p)
        return;
    if (p->inited)
        pt_portlet_run_shutdown(p);
    pt_schema_free(p->schema);
    for (size_t i = 0; p->bindings && i < p->desc.route_count; i++)
        pt_schema_free(p->bindings[i].body_schema);
    free(p->bindings);
    if (p->dl)
        dlclose(p->dl);
    free(p->file);
    free(p);
}

/*
 * The host's copy of each route, with its body schema compiled; done
 * before init() so a bad schema refuses the portlet cleanly.
 */
static int routes_bind(pt_portlet *p, char *why, size_t why_n)
{
    const portico_portlet *d = &p->desc;
    p->bindings = calloc(d->route_count ? d->route_count : 1, sizeof(*p->bindings));
    if (!p->bindings) {
        snprintf(why, why_n, "out of memory");
        return PT_ENOMEM;
    }
    for (size_t i = 0; i < d->route_count; i++) {
        pt_route_binding *b = &p->bindings[i];
        b->portlet = p;
        route_copy(&b->route, d, i); /* checked by desc_check */
        if (b->route.body_schema) {
            char what[300];
            snprintf(what, sizeof(what), "body_schema of %s %.200s", b->route.method,
                     b->route.path);
            int err = schema_load(&b->body_schema, b->route.body_schema, what, why, why_n);
            if (err)
                return err;
        }
    }
    return 0;
}

/* Registers the bound routes.  Paths were checked by desc_check, so only
 * memory can fail here. */
static int routes_register(pt_app *app, pt_portlet *p, char *why, size_t why_n)
{
    for (size_t i = 0; i < p->desc.route_count; i++) {
        const portico_route *r = &p->bindings[i].route;
        int err = pt_router_add_limit(app->router, r->method, r->path, PT_ROUTE_SNAPSHOT,
                                      pt_portlet_route_handler, &p->bindings[i], r->body_max);
        if (err) {
            snprintf(why, why_n, "route %s %s: %s", r->method, r->path, pt_error_last());
            return err;
        }
    }
    return 0;
}

static size_t symbol_size(const void *sym)
{
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) && es)
        return (size_t)es->st_size;
    return 0;
}

static int list_append(pt_plugins *pl, pt_portlet *p)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 8;
        pt_portlet **items = realloc(pl->items, cap * sizeof(*items));
        if (!items)
            return PT_ENOMEM;
        pl->items = items;
        pl->cap = cap;
    }
    /* Keep id order so listings need no sort. */
    size_t at = pl->n;
    while (at > 0 && strcmp(pl->items[at - 1]->desc.id, p->desc.id) > 0)
        at--;
    memmove(pl->items + at + 1, pl->items + at, (pl->n - at) * sizeof(*pl->items));
    pl->items[at] = p;
    pl->n++;
    return 0;
}

/* Loads one file; a refusal is not an error (only running out of memory is). */
static int load_one(pt_app *app, pt_plugins *pl, const char *dir, const char *name)
{
    char path[2048], why[512] = "";
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return refuse(pl, name, NULL, "path too long");

    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        return refuse(pl, name, NULL, "dlopen failed: %s", e ? e : "unknown error");
    }
    dlerror();
    const portico_portlet *sym = dlsym(dl, PORTICO_PORTLET_SYMBOL);
    if (!sym) {
        dlclose(dl);
        return refuse(pl, name, NULL, "no %s symbol", PORTICO_PORTLET_SYMBOL);
    }
    portico_portlet copy;
    bool abi_ok = abi_check(&copy, sym, symbol_size(sym), why, sizeof(why));
    if (!abi_ok || !desc_check(pl, &copy, why, sizeof(why))) {
        /* The id is only trusted for display once the header checked out. */
        const char *id = NULL;
        char idbuf[PORTLET_ID_MAX + 1];
        if (abi_ok && copy.id && portlet_id_valid(copy.id)) {
            pt_strlcpy(idbuf, copy.id, sizeof(idbuf));
            id = idbuf;
        }
        dlclose(dl);
        return refuse(pl, name, id, "%s", why);
    }

    pt_portlet *p = calloc(1, sizeof(*p));
    if (!p || !(p->file = strdup(name))) {
        free(p);
        dlclose(dl);
        return PT_ENOMEM;
    }
    p->dl = dl;
    p->desc = copy;
    const portico_portlet *d = &p->desc;
    char id[PORTLET_ID_MAX + 1];
    pt_strlcpy(id, d->id, sizeof(id));

    if (schema_load(&p->schema, d->config_schema, "config_schema", why, sizeof(why)) != 0 ||
        routes_bind(p, why, sizeof(why)) != 0) {
        portlet_free(p);
        return refuse(pl, name, id, "%s", why);
    }
    int rc = pt_portlet_run_init(app, p, &p->state);
    if (rc != 0) {
        portlet_free(p); /* not inited: no shutdown() */
        return refuse(pl, name, id, "init() failed with %d", rc);
    }
    p->inited = true;
    if (routes_register(app, p, why, sizeof(why)) != 0) {
        /*
         * Routes already added stay in the router but point at bindings
         * that are gone with the portlet; that cannot be allowed, so this
         * is fatal for the host.
         */
        pt_log_error("plugins", "%s (%s): registering routes failed: %s", name, id, why);
        portlet_free(p);
        return PT_ERR;
    }
    int err = list_append(pl, p);
    if (err) {
        portlet_free(p);
        return err;
    }
    pt_log_info("plugins", "loaded %s %s %s (ABI %u.%u) from %s (%zu routes)", d->id, d->name,
                d->version, (unsigned)d->abi_major, (unsigned)d->abi_minor, name, d->route_count);
    return 0;
}

static bool is_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0 && name[0] != '.';
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pt_plugins_load(pt_app *app)
{
    pt_plugins *pl = calloc(1, sizeof(*pl));
    if (!pl)
        return PT_ENOMEM;
    app->plugins = pl;
    int serr = app->store ? pt_store_write(app->store, cursor_secret_txn, pl->cursor_secret) : 0;
    if (serr < 0) {
        pt_error_set("cannot keep the cursor secret: %s", pt_error_last());
        return serr;
    }
    const char *dir = app->cfg.plugins_dir;
    if (!dir[0])
        return 0;

    DIR *dh = opendir(dir);
    if (!dh) {
        /* A missing directory is a deployment slip, not a reason to take
         * the rest of the API down: serve without portlets, loudly. */
        pt_log_error("plugins", "cannot open plugins directory %s: no portlets loaded", dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int err = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (!is_so(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) {
                err = PT_ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            err = PT_ENOMEM;
            break;
        }
        n++;
    }
    closedir(dh);
    if (!err && n)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && !err; i++)
        err = load_one(app, pl, dir, names[i]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!err)
        pt_log_info("plugins", "%zu portlets loaded, %zu refused", pl->n, pl->nref);
    return err;
}

int pt_portlet_host_init(pt_app *app)
{
    int err = pt_routes_portlets(app);
    if (err < 0) {
        pt_error_set("cannot register the portlet routes: %s", pt_error_last());
        return err;
    }
    return pt_plugins_load(app);
}

void pt_plugins_unload(pt_app *app)
{
    pt_plugins *pl = app ? app->plugins : NULL;
    if (!pl)
        return;
    for (size_t i = pl->n; i > 0; i--)
        portlet_free(pl->items[i - 1]);
    for (size_t i = 0; i < pl->nref; i++) {
        free(pl->refused[i].file);
        free(pl->refused[i].id);
        free(pl->refused[i].reason);
    }
    free(pl->refused);
    free(pl->items);
    free(pl);
    app->plugins = NULL;
    pt_schema_cache_clear();
}
