/*
 * cli.h - what the files of the portico admin command line share: the
 * command context, argument parsing, messages, opening the store, and one
 * entry point per command.  Internal to tools/portico/.
 */
#ifndef PORTICO_CLI_H
#define PORTICO_CLI_H

#include "base/config.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

#define EXIT_USAGE 2

extern const char cli_usage_text[];

typedef struct cli {
    pt_config cfg;
    const char *data_dir;  /* the data directory: LMDB store and signing keys */
    const char *store_url; /* --store (or config "store"): PostgreSQL, NULL: LMDB */
    pt_store *store;
} cli;

/* "portico: <message>" on stderr; returns 1 (the error exit code). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error detail of the model/store layer, or a generic text. */
const char *cli_detail(void);

/*
 * Options of a subcommand: "--name value", "--name=value" or a flag, in
 * any order among the positional arguments, so that `person create` reads
 * naturally however it is typed.
 */
typedef struct opt {
    const char *name; /* without the leading "--" */
    bool flag;        /* takes no value */
    const char *value;
    bool seen;
} opt;

/* Splits argv into options (opts ends with a NULL name; may be NULL) and
 * at most max_pos positional arguments.  Returns 0 or a usage exit code. */
int cli_parse_args(int argc, char **argv, opt *opts, const char **pos, int max_pos, int *npos);
/* Parses a whole decimal number in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* Prints validation errors (pointer, message, row) to stderr. */
void cli_print_errors(const json_t *errors);

/* Who made a change, for the audit log: "cli:<login>". */
const char *cli_actor(void);
/* Whether dir already holds a store (data.mdb). */
bool cli_store_exists(const char *dir);
/* Opens the store: c->store_url when set (PostgreSQL, as porticod
 * --store), else the LMDB store of c->data_dir; without create, refuses a
 * directory that has none.  Returns 0 or an exit code (message printed). */
int cli_open(cli *c, bool create);
/* Opens the store at where (a directory or a postgres:// URL) into *out,
 * without the directory checks of cli_open.  0 or an exit code. */
int cli_open_at(pt_store **out, const char *where, const pt_config *cfg);
/* Handles the global option a (and its value in next) when it is
 * --store: *used is 1 or 2 arguments consumed, 0 if a is not --store.
 * Returns 0 or a usage exit code. */
int cli_store_option(cli *c, const char *a, const char *next, int *used);

/* Compares two stores table by table (count and SHA-256 of every record in
 * key order) and prints one line per table; returns how many tables
 * differ, or -1 if one cannot be read (message printed). */
int cli_compare_stores(pt_store *a, const char *a_name, pt_store *b, const char *b_name);

/* The commands: argc/argv are what follows the command name. */
int cmd_org(cli *c, int argc, char **argv);
int cmd_person(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_token(cli *c, int argc, char **argv);
int cmd_demo(cli *c, int argc, char **argv);
int cmd_check(cli *c, int argc, char **argv);
int cmd_backup(cli *c, int argc, char **argv);
int cmd_portlet(cli *c, int argc, char **argv);
int cmd_migrate(cli *c, int argc, char **argv);
int cmd_keys(cli *c, int argc, char **argv);

#endif
