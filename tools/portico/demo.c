/*
 * demo.c - `portico demo`: load the demo organisation.
 */
#include "app/app.h"
#include "base/common.h"
#include "cli.h"

#include <string.h>

int cmd_demo(cli *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return cli_usage_error("usage: portico demo");
    int rc = cli_open(c, true);
    if (rc != 0)
        return rc;
    pt_app app;
    memset(&app, 0, sizeof app);
    app.cfg = c->cfg;
    pt_strlcpy(app.cfg.data_dir, c->data_dir, sizeof app.cfg.data_dir);
    app.store = c->store;
    if (pt_demo_load(&app) < 0)
        return cli_fail("demo: %s", cli_detail());
    return 0;
}
