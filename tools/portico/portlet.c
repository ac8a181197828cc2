/*
 * portlet.c - `portico portlet list|enable|disable`: an organisation's
 * portlet settings from the command line.
 *
 * The portlets are loaded from --plugins by the server's own loader, and
 * every change goes through pt_portlet_configure(), the function behind
 * PUT /api/v1/orgs/{org}/portlets/{id}: the CLI cannot store a setting the
 * API would refuse, and its changes are audited the same way.
 */
#include "app/app.h"
#include "base/common.h"
#include "cli.h"
#include "host/plugins.h"
#include "store/model.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORTLET_USAGE                                                                              \
    "usage: portico portlet list ORG [--json]\n"                                                   \
    "       portico portlet enable ORG ID [--config JSON | --config-file FILE]"                    \
    " [--place DASHBOARD:POSITION]...\n"                                                           \
    "       portico portlet disable ORG ID"

/*
 * A minimal server context: the store the CLI opened, a router for the
 * portlet routes the loader registers (never served), and the portlets.
 */
static int host_open(pt_app *app, cli *c)
{
    memset(app, 0, sizeof *app);
    int rc = cli_open(c, false);
    if (rc != 0)
        return rc;
    app->cfg = c->cfg;
    pt_strlcpy(app->cfg.data_dir, c->data_dir, sizeof app->cfg.data_dir);
    app->store = c->store;
    if (pt_router_new(&app->router) < 0)
        return cli_fail("out of memory");
    if (pt_plugins_load(app) < 0)
        return cli_fail("cannot load the portlets: %s", cli_detail());
    return 0;
}

/* The store stays open: main() closes it. */
static void host_close(pt_app *app)
{
    pt_plugins_unload(app);
    pt_router_free(app->router);
    app->router = NULL;
}

/* Why id is not among the loaded portlets, as helpfully as we can say. */
static int portlet_missing(const pt_app *app, const char *id)
{
    for (size_t i = 0; i < pt_plugins_refused_count(app->plugins); i++) {
        const char *file, *rid, *reason;
        pt_plugins_refused_at(app->plugins, i, &file, &rid, &reason);
        if (rid && strcmp(rid, id) == 0)
            return cli_fail("portlet %s (%s) was refused by the loader: %s", id, file, reason);
    }
    if (!app->cfg.plugins_dir[0])
        return cli_fail("no portlet %s: no plugins directory given (--plugins DIR)", id);
    return cli_fail("no portlet %s in %s", id, app->cfg.plugins_dir);
}

static int org_exists_txn(pt_txn *txn, void *arg)
{
    json_t *org = NULL;
    int err = pt_org_get(&org, txn, arg);
    json_decref(org);
    return err;
}

/* "employee:1,leaver:2", or "-" when there are none. */
static void placements_text(char *out, size_t size, const json_t *placements)
{
    size_t i, n = 0;
    const json_t *it;
    out[0] = '\0';
    json_array_foreach(placements, i, it)
    {
        const char *d = json_string_value(json_object_get(it, "dashboard"));
        json_int_t pos = json_integer_value(json_object_get(it, "position"));
        int w = snprintf(out + n, size - n, "%s%s:%lld", n ? "," : "", d ? d : "?", (long long)pos);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
    if (!out[0])
        pt_strlcpy(out, "-", size);
}

static int portlet_list(cli *c, const char *org, bool as_json)
{
    pt_app app;
    json_t *items = NULL;
    int rc = host_open(&app, c);
    if (rc != 0) {
        host_close(&app);
        return rc;
    }
    int err = pt_portlet_org_list(&items, &app, org);
    if (err == PT_ENOTFOUND) {
        rc = cli_fail("no organisation %s", org);
    } else if (err < 0) {
        rc = cli_fail("portlet list: %s", cli_detail());
    } else if (as_json) {
        char *text = json_dumps(items, JSON_INDENT(2));
        if (text) {
            printf("%s\n", text);
            free(text);
        } else {
            rc = cli_fail("out of memory");
        }
    } else {
        int width = 2;
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it)
        {
            int len = (int)strlen(json_string_value(json_object_get(it, "id")));
            width = len > width ? len : width;
        }
        json_array_foreach(items, i, it)
        {
            char pl[512];
            placements_text(pl, sizeof pl, json_object_get(it, "placements"));
            printf("%-*s  %-3s  %s\n", width, json_string_value(json_object_get(it, "id")),
                   json_is_true(json_object_get(it, "enabled")) ? "yes" : "no", pl);
        }
        if (pt_plugins_count(app.plugins) == 0)
            fprintf(stderr, "portico: no portlets loaded%s\n",
                    app.cfg.plugins_dir[0] ? "" : " (give --plugins DIR)");
    }
    json_decref(items);
    host_close(&app);
    return rc;
}

/*
 * Takes every "--place DASHBOARD:POSITION" out of argv (the shared parser
 * refuses an option given twice) into placements, copying the rest to
 * rest.  Values of --config and --config-file are skipped over, so a
 * config that happens to say "--place" stays a config.
 */
static int take_places(json_t *placements, char **rest, int *nrest, int argc, char **argv)
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if ((strcmp(a, "--config") == 0 || strcmp(a, "--config-file") == 0) && i + 1 < argc) {
            rest[(*nrest)++] = argv[i++];
            rest[(*nrest)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--place") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("option '--place' needs a value");
            v = argv[++i];
        } else if (strncmp(a, "--place=", 8) == 0) {
            v = a + 8;
        } else {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        const char *colon = strrchr(v, ':');
        long pos;
        if (!colon || colon == v || !cli_parse_long(colon + 1, LONG_MIN, LONG_MAX, &pos))
            return cli_usage_error("--place wants DASHBOARD:POSITION (like employee:1), not '%s'",
                                   v);
        json_t *d = json_stringn(v, (size_t)(colon - v));
        if (!d)
            return cli_usage_error("--place: the dashboard is not valid UTF-8");
        json_array_append_new(placements,
                              json_pack("{s:o, s:I}", "dashboard", d, "position", (json_int_t)pos));
    }
    return 0;
}

/* The config from --config or --config-file; NULL with an exit code in
 * *rc when it cannot be read or is not JSON.  Whether it is an object
 * that fits the schema is left to the validation. */
static json_t *config_read(const opt *text, const opt *file, int *rc)
{
    json_error_t jerr;
    json_t *j;
    if (text->seen) {
        j = json_loads(text->value, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!j)
            *rc = cli_fail("portlet enable: --config is not valid JSON: %s (column %d)", jerr.text,
                           jerr.column);
    } else {
        j = json_load_file(file->value, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!j && jerr.line > 0)
            *rc = cli_fail("portlet enable: %s is not valid JSON: %s (line %d)", file->value,
                           jerr.text, jerr.line);
        else if (!j)
            *rc = cli_fail("portlet enable: %s", jerr.text);
    }
    return j;
}

/* Builds the PUT body, then validates, stores and audits it as the API does. */
static int portlet_set(cli *c, const char *org, const char *id, bool enable, json_t *placements,
                       json_t *config)
{
    const char *verb = enable ? "enable" : "disable";
    pt_app app;
    json_t *stored = NULL, *errors = NULL;
    json_t *body = json_pack("{s:b}", "enabled", enable);
    int rc = host_open(&app, c);
    if (!body && rc == 0)
        rc = cli_fail("out of memory");
    if (rc != 0)
        goto out;
    if (placements)
        json_object_set(body, "placements", placements);
    if (config)
        json_object_set(body, "config", config);

    int err = pt_store_read(app.store, org_exists_txn, (void *)org);
    if (err == PT_ENOTFOUND) {
        rc = cli_fail("no organisation %s", org);
        goto out;
    }
    if (err < 0) {
        rc = cli_fail("portlet %s: %s", verb, cli_detail());
        goto out;
    }
    const pt_portlet *p = pt_plugins_find(app.plugins, id);
    if (!p) {
        rc = portlet_missing(&app, id);
        goto out;
    }
    err = pt_portlet_configure(&stored, &errors, &app, org, cli_actor(), p, body);
    if (err == PT_EINVAL && errors) {
        fprintf(stderr, "portico: portlet %s: invalid settings for %s:\n", verb, id);
        cli_print_errors(errors);
        rc = 1;
    } else if (err == PT_ENOTFOUND) {
        rc = cli_fail("no organisation %s", org); /* deleted meanwhile */
    } else if (err < 0) {
        rc = cli_fail("portlet %s: %s", verb, cli_detail());
    } else {
        char pl[512];
        placements_text(pl, sizeof pl, json_object_get(stored, "placements"));
        printf("%s %s in %s (placements %s)\n", enable ? "enabled" : "disabled", id, org, pl);
    }
out:
    json_decref(stored);
    json_decref(errors);
    json_decref(body);
    host_close(&app);
    return rc;
}

int cmd_portlet(cli *c, int argc, char **argv)
{
    enum { O_CONFIG, O_CONFIG_FILE, O_JSON };
    opt opts[] = {{"config", false, NULL, false},
                  {"config-file", false, NULL, false},
                  {"json", true, NULL, false},
                  {NULL, false, NULL, false}};
    const char *pos[3];
    int npos, nrest, rc;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    json_t *placements = json_array(), *config = NULL;

    if (!rest || !placements) {
        rc = cli_fail("out of memory");
        goto out;
    }
    if ((rc = take_places(placements, rest, &nrest, argc, argv)) != 0 ||
        (rc = cli_parse_args(nrest, rest, opts, pos, 3, &npos)) != 0)
        goto out;

    const char *sub = npos > 0 ? pos[0] : "";
    bool list = strcmp(sub, "list") == 0;
    bool enable = strcmp(sub, "enable") == 0;
    bool disable = strcmp(sub, "disable") == 0;
    bool any_place = json_array_size(placements) > 0;
    if ((list && (npos != 2 || opts[O_CONFIG].seen || opts[O_CONFIG_FILE].seen || any_place)) ||
        (enable && (npos != 3 || opts[O_JSON].seen)) ||
        (disable && (npos != 3 || opts[O_JSON].seen || opts[O_CONFIG].seen ||
                     opts[O_CONFIG_FILE].seen || any_place)) ||
        (!list && !enable && !disable)) {
        rc = cli_usage_error(PORTLET_USAGE);
        goto out;
    }
    if (opts[O_CONFIG].seen && opts[O_CONFIG_FILE].seen) {
        rc = cli_usage_error("give --config or --config-file, not both");
        goto out;
    }
    if (!pt_slug_valid(pos[1])) {
        rc = cli_usage_error("'%s' is not a valid organisation id", pos[1]);
        goto out;
    }
    if (list) {
        rc = portlet_list(c, pos[1], opts[O_JSON].seen);
        goto out;
    }
    if ((opts[O_CONFIG].seen || opts[O_CONFIG_FILE].seen) &&
        !(config = config_read(&opts[O_CONFIG], &opts[O_CONFIG_FILE], &rc)))
        goto out;
    rc = portlet_set(c, pos[1], pos[2], enable, any_place ? placements : NULL, config);
out:
    json_decref(config);
    json_decref(placements);
    free(rest);
    return rc;
}
