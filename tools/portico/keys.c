/*
 * keys.c - `portico keys list|rotate`: the signing key set kept in the
 * store, shared by every porticod on it.
 *
 * Nothing here prints a private key.  A rotation is picked up by running
 * nodes within their keys_refresh_secs (default 30), with no restart.
 */
#include "auth/auth.h"
#include "base/clock.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define KEYS_USAGE                                                                                 \
    "usage: portico keys list [--json]\n"                                                          \
    "       portico keys rotate [--force]"

static void print_time(const char *label, const json_t *v)
{
    if (!json_is_integer(v))
        return;
    time_t t = (time_t)json_integer_value(v);
    struct tm tm;
    char buf[32];
    if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        printf("  %s %s", label, buf);
}

/* One line per key, the signing key first: kid, state, times (UTC). */
static int keys_print(pt_store *store, bool as_json)
{
    json_t *list = NULL;
    int err = pt_keys_list(&list, store);
    if (err == PT_ENOTFOUND)
        return cli_fail("the store holds no signing keys yet (porticod makes them at start)");
    if (err < 0)
        return cli_fail("keys: %s", cli_detail());
    if (as_json) {
        json_dumpf(list, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(list, i, k)
        {
            printf("%-24s %-9s", json_string_value(json_object_get(k, "kid")),
                   json_string_value(json_object_get(k, "state")));
            print_time("created", json_object_get(k, "created_at"));
            print_time("signing since", json_object_get(k, "activated_at"));
            print_time("retired", json_object_get(k, "retired_at"));
            putchar('\n');
        }
    }
    json_decref(list);
    return 0;
}

/*
 * The previous key must outlive every access token it signed: a node may
 * go on signing with it for keys_refresh_secs after the rotation (until
 * it re-reads), and its tokens last access_ttl (both from --config) plus
 * the clock skew verifiers allow.  Tokens
 * from `portico token issue --ttl` may last longer; they stop verifying
 * when their key is dropped, at the second rotation after they were
 * issued.
 */
static int keys_rotate(cli *c, bool force)
{
    int64_t keep = (int64_t)c->cfg.keys_refresh_secs + c->cfg.access_ttl + PT_TOKEN_SKEW;
    int err = pt_keys_rotate(c->store, c->data_dir, pt_clock_now(), keep, force);
    if (err == PT_ECONFLICT)
        return cli_fail("not rotated: %s", cli_detail());
    if (err < 0)
        return cli_fail("keys rotate: %s", cli_detail());
    printf("rotated; running porticod nodes pick it up within %u s (keys_refresh_secs)\n",
           c->cfg.keys_refresh_secs);
    return keys_print(c->store, false);
}

int cmd_keys(cli *c, int argc, char **argv)
{
    opt opts[] = {
        {"json", true, NULL, false}, {"force", true, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc;

    if ((rc = cli_parse_args(argc, argv, opts, pos, 1, &npos)) != 0)
        return rc;
    bool list = npos == 1 && strcmp(pos[0], "list") == 0;
    bool rotate = npos == 1 && strcmp(pos[0], "rotate") == 0;
    if ((!list && !rotate) || (list && opts[1].seen) || (rotate && opts[0].seen))
        return cli_usage_error("%s", KEYS_USAGE);
    if ((rc = cli_open(c, false)) != 0)
        return rc;
    return list ? keys_print(c->store, opts[0].seen) : keys_rotate(c, opts[1].seen);
}
