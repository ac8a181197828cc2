/*
 * open.c - opening the data directory's store, and the audit actor.
 */
#include "base/common.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Who made a change, for the audit log: "cli:<login>". */
const char *cli_actor(void)
{
    static char buf[PT_ID_MAX + 8];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(buf, sizeof buf, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    return buf;
}

bool cli_store_exists(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return false;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * --store URL / --store=URL among the global options.  It lives here
 * rather than in main.c's loop so that main.c stays a dispatch table;
 * the URL is checked at once so a typo is a usage error, not an attempt
 * to open a directory called "postgress://...".
 */
int cli_store_option(cli *c, const char *a, const char *next, int *used)
{
    const char *v = NULL;
    *used = 0;
    if (strcmp(a, "--store") == 0) {
        if (!next)
            return cli_usage_error("option '--store' needs a value");
        v = next;
        *used = 2;
    } else if (strncmp(a, "--store=", 8) == 0) {
        v = a + 8;
        *used = 1;
    } else {
        return 0;
    }
    if (!pt_store_is_url(v))
        return cli_usage_error("--store needs a postgres:// or postgresql:// URL");
    c->store_url = v;
    return 0;
}

int cli_open_at(pt_store **out, const char *where, const pt_config *cfg)
{
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.map_size = cfg->map_size;
    o.map_size_max = cfg->map_size_max;
    o.used_marker = PT_STORE_USED_MARKER; /* as porticod */
    if (pt_store_open(out, where, &o) < 0)
        return pt_store_is_url(where)
                   ? cli_fail("cannot open the PostgreSQL store: %s", cli_detail())
                   : cli_fail("cannot open the store in %s: %s", where, cli_detail());
    return 0;
}

/*
 * Opens the store the command works on, chosen as porticod chooses it:
 * --store (or the config file's "store") names a PostgreSQL database,
 * otherwise the data directory holds LMDB.  Commands that only read
 * (check, backup, token) refuse a directory without a store rather than
 * silently creating an empty one there; a PostgreSQL database always has
 * the schema after opening (porticod creates it the same way).
 */
int cli_open(cli *c, bool create)
{
    struct stat st;
    if (!c->store_url && c->cfg.store[0]) {
        if (!pt_store_is_url(c->cfg.store))
            return cli_fail("the config's \"store\" must be a postgres:// or postgresql:// URL");
        c->store_url = c->cfg.store;
    }
    if (c->store_url)
        return cli_open_at(&c->store, c->store_url, &c->cfg);
    if (!create && !cli_store_exists(c->data_dir))
        return cli_fail("no store in %s (is --data right?)", c->data_dir);
    if (stat(c->data_dir, &st) != 0) {
        if (errno != ENOENT || mkdir(c->data_dir, 0700) != 0)
            return cli_fail("cannot use data directory %s: %s", c->data_dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return cli_fail("%s is not a directory", c->data_dir);
    }
    return cli_open_at(&c->store, c->data_dir, &c->cfg);
}
