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
 * Opens the store of the data directory.  Commands that only read (check,
 * backup, token) refuse a directory without a store rather than silently
 * creating an empty one there.
 */
int cli_open(cli *c, bool create)
{
    struct stat st;
    if (!create && !cli_store_exists(c->data_dir))
        return cli_fail("no store in %s (is --data right?)", c->data_dir);
    if (stat(c->data_dir, &st) != 0) {
        if (errno != ENOENT || mkdir(c->data_dir, 0700) != 0)
            return cli_fail("cannot use data directory %s: %s", c->data_dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return cli_fail("%s is not a directory", c->data_dir);
    }
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.map_size = c->cfg.map_size;
    o.map_size_max = c->cfg.map_size_max;
    o.used_marker = PT_STORE_USED_MARKER; /* as porticod */
    if (pt_store_open(&c->store, c->data_dir, &o) < 0)
        return cli_fail("cannot open the store in %s: %s", c->data_dir, cli_detail());
    return 0;
}
