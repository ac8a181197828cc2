/*
 * portlet_demo.c - example data of the loaded portlets for the demo
 * organisation (porticod --demo): each portlet writes its own data through
 * its demo callback and is enabled with the config it returns.
 */
#include "base/log.h"
#include "host/plugins.h"

#include <stdlib.h>
#include <string.h>

/* {enabled: true, placements: [{dashboard, position}...], config}: placed
 * on every dashboard it declares, after the portlets already set up. */
static json_t *demo_setting(const portico_portlet *d, json_t *config, int position)
{
    json_t *placements = json_array();
    for (const char *const *dash = d->dashboards; dash && *dash; dash++)
        json_array_append_new(placements,
                              json_pack("{s:s, s:i}", "dashboard", *dash, "position", position));
    return json_pack("{s:b, s:o, s:o}", "enabled", 1, "placements", placements, "config", config);
}

/*
 * A portlet's demo failing is logged and skipped: the demo organisation
 * is still useful without it, and the server keeps serving.
 */
int pt_plugins_demo_load(pt_app *app, const char *org)
{
    if (!app->plugins)
        return 0;
    int done = 0;
    size_t n = pt_plugins_count(app->plugins);
    for (size_t i = 0; i < n; i++) {
        const pt_portlet *p = pt_plugins_at(app->plugins, i);
        const portico_portlet *d = pt_portlet_desc(p);
        bool exists = false;
        int err = pt_portlet_conf_exists(&exists, app, org, d->id);
        if (err < 0)
            return err;
        if (exists)
            continue;
        json_t *config = NULL;
        if (pt_portlet_demo(&config, app, p, org) < 0) {
            pt_log_warn("demo", "%s", pt_error_last());
            continue;
        }
        if (!config)
            continue;
        json_t *body = demo_setting(d, config, (int)i + 1);
        json_t *stored = NULL, *errors = NULL;
        err =
            body ? pt_portlet_configure(&stored, &errors, app, org, "system", p, body) : PT_ENOMEM;
        if (err == PT_EINVAL) {
            char *text = errors ? json_dumps(errors, JSON_COMPACT) : NULL;
            pt_log_warn("demo", "%s: demo config refused: %s", d->id, text ? text : "?");
            free(text);
        } else if (err < 0) {
            pt_log_warn("demo", "%s: cannot store demo setting: %s", d->id, pt_error_last());
        } else {
            done++;
        }
        json_decref(stored);
        json_decref(errors);
        json_decref(body);
    }
    return done;
}
