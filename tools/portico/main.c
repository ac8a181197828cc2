/*
 * main.c - the admin command line: global options and the command
 * dispatch.
 *
 * It works directly on a data directory through the same store and model
 * code as porticod (LMDB allows several processes on one environment), so
 * it can run beside a live server: what it writes is visible to the server
 * at the next request, and a backup is a consistent snapshot.
 *
 * Exit codes: 0 ok, 1 error (message on stderr), 2 usage.
 */
#include "base/common.h"
#include "base/crypto.h"
#include "base/log.h"
#include "cli.h"
#include "store/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

const char cli_usage_text[] =
    "usage: portico [--data DIR] [--store URL] [--config FILE] [--plugins DIR] COMMAND [ARGS]\n"
    "\n"
    "Administers a Portico store: LMDB in a data directory (default ./data, or\n"
    "$PORTICO_DATA), or PostgreSQL with --store URL (as porticod's --store).\n"
    "It is safe to run beside a running porticod.\n"
    "\n"
    "commands:\n"
    "  org create ID NAME [--leaver-days N]\n"
    "      create an organisation (leaver access 0..." STR(
        PT_LEAVER_ACCESS_DAYS_MAX) " days, "
                                   "default " STR(
                                       PT_LEAVER_ACCESS_DAYS_DEFAULT) ")\n"
                                                                      "  person create ORG "
                                                                      "USERNAME --name NAME "
                                                                      "--email EMAIL --status "
                                                                      "STATUS\n"
                                                                      "        [--roles R1,R2] "
                                                                      "[--staff-group G] "
                                                                      "[--start-date YYYY-MM-DD]\n"
                                                                      "        [--termination-date "
                                                                      "YYYY-MM-DD] [--manager "
                                                                      "USERNAME] "
                                                                      "[--password-stdin]\n"
                                                                      "      add a person (status "
                                                                      "applicant|employee); "
                                                                      "--password-stdin reads the\n"
                                                                      "      password of a new "
                                                                      "account from the first line "
                                                                      "of standard input\n"
                                                                      "  person mfa-reset ORG "
                                                                      "USERNAME\n"
                                                                      "      remove the MFA of an "
                                                                      "active member of ORG "
                                                                      "(audited)\n"
                                                                      "  import ORG FILE.csv\n"
                                                                      "      bulk load people from "
                                                                      "CSV, all or nothing (same "
                                                                      "rules as the API)\n"
                                                                      "  token issue --user "
                                                                      "USERNAME [--org ORG] [--ttl "
                                                                      "SECONDS]\n"
                                                                      "      print an access token "
                                                                      "for an integration (default "
                                                                      "ttl 900)\n"
                                                                      "  keys list [--json]\n"
                                                                      "      the signing keys: "
                                                                      "kid, "
                                                                      "state (current, next, "
                                                                      "previous), times\n"
                                                                      "  keys rotate [--force]\n"
                                                                      "      next key signs, "
                                                                      "current "
                                                                      "only verifies, a new next; "
                                                                      "nodes follow within "
                                                                      "keys_refresh_secs\n"
                                                                      "  demo\n"
                                                                      "      load the demo "
                                                                      "organisation (idempotent) "
                                                                      "and print the logins\n"
                                                                      "  check [--from DIR] "
                                                                      "[--against DIR|URL]\n"
                                                                      "      verify every record "
                                                                      "of the store (or of --from "
                                                                      "DIR) and print counts;\n"
                                                                      "      --against also "
                                                                      "compares it with another "
                                                                      "store: records and SHA-256 "
                                                                      "per table\n"
                                                                      "  migrate --from DIR --to "
                                                                      "URL\n"
                                                                      "      copy the LMDB store "
                                                                      "of DIR into an empty "
                                                                      "PostgreSQL database in one\n"
                                                                      "      transaction (refused "
                                                                      "if it holds any record), "
                                                                      "then compare both\n"
                                                                      "  backup DEST_DIR\n"
                                                                      "      consistent copy of "
                                                                      "the store (and the signing "
                                                                      "keys) into DEST_DIR\n"
                                                                      "  portlet list ORG "
                                                                      "[--json]\n"
                                                                      "      each portlet in "
                                                                      "--plugins: id, enabled "
                                                                      "yes/no, placements (--json: "
                                                                      "as\n"
                                                                      "      GET "
                                                                      "/api/v1/orgs/ORG/portlets "
                                                                      "lists them)\n"
                                                                      "  portlet enable ORG ID "
                                                                      "[--config JSON | "
                                                                      "--config-file FILE]\n"
                                                                      "        [--place "
                                                                      "DASHBOARD:POSITION]...\n"
                                                                      "      enable a portlet for "
                                                                      "ORG, validated like PUT "
                                                                      ".../portlets/ID; without\n"
                                                                      "      --config or --place "
                                                                      "the stored config or "
                                                                      "placements are kept\n"
                                                                      "  portlet disable ORG ID\n"
                                                                      "      disable a portlet for "
                                                                      "ORG (config and placements "
                                                                      "are kept)\n"
                                                                      "\n"
                                                                      "options:\n"
                                                                      "  --data DIR      the data "
                                                                      "directory (LMDB store, "
                                                                      "signing keys)\n"
                                                                      "  --store URL     work on "
                                                                      "the PostgreSQL store at URL "
                                                                      "(postgres://...)\n"
                                                                      "  --config FILE   "
                                                                      "porticod's JSON config "
                                                                      "(issuer, audience, password "
                                                                      "hashing)\n"
                                                                      "  --plugins DIR   the "
                                                                      "directory of portlet .so "
                                                                      "files (as porticod's "
                                                                      "--plugins)\n"
                                                                      "  -h, --help      this "
                                                                      "text\n"
                                                                      "\n"
                                                                      "exit status: 0 ok, 1 error, "
                                                                      "2 usage\n";

static const struct {
    const char *name;
    int (*run)(cli *c, int argc, char **argv);
} commands[] = {
    {"org", cmd_org},       {"person", cmd_person},   {"import", cmd_import},
    {"token", cmd_token},   {"demo", cmd_demo},       {"check", cmd_check},
    {"backup", cmd_backup}, {"portlet", cmd_portlet}, {"migrate", cmd_migrate},
    {"keys", cmd_keys},
};

int main(int argc, char **argv)
{
    cli c;
    int i = 1, rc;
    const char *plugins = NULL;

    memset(&c, 0, sizeof c);
    pt_config_defaults(&c.cfg);
    pt_log_set_level(PT_LOG_WARN);
    c.data_dir = getenv("PORTICO_DATA");
    if (!c.data_dir || !*c.data_dir)
        c.data_dir = "./data";

    for (; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
        const char *a = argv[i];
        int used = 0;
        if ((rc = cli_store_option(&c, a, i + 1 < argc ? argv[i + 1] : NULL, &used)) != 0)
            return rc;
        if (used) {
            i += used - 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cli_usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--config") == 0 ||
                   strcmp(a, "--plugins") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("option '%s' needs a value", a);
            if (strcmp(a, "--data") == 0) {
                c.data_dir = argv[++i];
            } else if (strcmp(a, "--plugins") == 0) {
                plugins = argv[++i];
            } else if (pt_config_load_file(&c.cfg, argv[++i]) < 0) {
                return cli_fail("cannot load config %s: %s", argv[i], cli_detail());
            }
        } else if (strncmp(a, "--data=", 7) == 0) {
            c.data_dir = a + 7;
        } else if (strncmp(a, "--plugins=", 10) == 0) {
            plugins = a + 10;
        } else if (strncmp(a, "--config=", 9) == 0) {
            if (pt_config_load_file(&c.cfg, a + 9) < 0)
                return cli_fail("cannot load config %s: %s", a + 9, cli_detail());
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if (i >= argc)
        return cli_usage_error("no command given");
    if (!*c.data_dir)
        return cli_usage_error("--data needs a directory");
    /* Applied after the loop so that --plugins wins over a config file's
     * plugins_dir whichever comes first. */
    if (plugins &&
        (!*plugins || pt_strlcpy(c.cfg.plugins_dir, plugins, sizeof c.cfg.plugins_dir) < 0))
        return cli_usage_error("--plugins needs a directory (at most %zu bytes)",
                               sizeof c.cfg.plugins_dir - 1);
    if (pt_crypto_init() < 0)
        return cli_fail("libsodium failed to initialise");

    const char *cmd = argv[i++];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "help") == 0) {
        fputs(cli_usage_text, stdout);
        return 0;
    }
    size_t k = 0;
    while (k < PT_ARRAY_LEN(commands) && strcmp(cmd, commands[k].name) != 0)
        k++;
    if (k == PT_ARRAY_LEN(commands))
        rc = cli_usage_error("unknown command '%s'", cmd);
    else
        rc = commands[k].run(&c, sub_argc, sub_argv);
    if (c.store)
        pt_store_close(c.store);
    return rc;
}
