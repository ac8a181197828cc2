/*
 * backup.c - `portico backup`: a consistent copy of the store and keys.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies a key file with mode 0600, so that a restored backup keeps
 * issuing and accepting the same tokens. */
static int copy_secret_file(const char *from_dir, const char *to_dir, const char *name)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 0 : cli_fail("cannot read %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return cli_fail("cannot write %s: %s", to, strerror(errno));
    }
    char buf[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = cli_fail("cannot write %s: %s", to, strerror(errno));
            break;
        }
    }
    if (n < 0)
        rc = cli_fail("cannot read %s: %s", from, strerror(errno));
    if (rc == 0 && fsync(out) != 0)
        rc = cli_fail("cannot sync %s: %s", to, strerror(errno));
    sodium_memzero(buf, sizeof buf);
    close(in);
    close(out);
    return rc;
}

int cmd_backup(cli *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc;
    struct stat st;

    if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, &npos)) != 0)
        return rc;
    if (npos != 1)
        return cli_usage_error("usage: portico backup DEST_DIR");
    const char *dest = pos[0];
    if (stat(dest, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return cli_fail("%s is not a directory", dest);
        if (cli_store_exists(dest))
            return cli_fail("%s already holds a store; choose an empty directory", dest);
    } else if (errno != ENOENT || mkdir(dest, 0700) != 0) {
        return cli_fail("cannot create %s: %s", dest, strerror(errno));
    }
    if ((rc = cli_open(c, false)) != 0)
        return rc;
    if (pt_store_backup(c->store, dest) < 0)
        return cli_fail("backup: %s", cli_detail());
    if ((rc = copy_secret_file(c->data_dir, dest, "jwt-private.pem")) != 0 ||
        (rc = copy_secret_file(c->data_dir, dest, "jwt-public.pem")) != 0)
        return rc;
    printf("backup written to %s\n", dest);
    return 0;
}
