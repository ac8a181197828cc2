/*
 * portico.c - the admin command line.
 *
 * It works directly on a data directory through the same store and model
 * code as porticod (LMDB allows several processes on one environment), so
 * it can run beside a live server: what it writes is visible to the server
 * at the next request, and a backup is a consistent snapshot.
 *
 * Exit codes: 0 ok, 1 error (message on stderr), 2 usage.
 */
#include "app.h"
#include "auth.h"
#include "clock.h"
#include "common.h"
#include "config.h"
#include "log.h"
#include "model.h"
#include "people.h"
#include "session.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: portico [--data DIR] [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "Administers a Portico data directory (default ./data, or $PORTICO_DATA).\n"
    "It is safe to run beside a running porticod.\n"
    "\n"
    "commands:\n"
    "  org create ID NAME [--leaver-days N]\n"
    "      create an organisation (leaver access 0..90 days, default 90)\n"
    "  person create ORG USERNAME --name NAME --email EMAIL --status STATUS\n"
    "        [--roles R1,R2] [--staff-group G] [--start-date YYYY-MM-DD]\n"
    "        [--termination-date YYYY-MM-DD] [--manager USERNAME] [--password-stdin]\n"
    "      add a person (status applicant|employee); --password-stdin reads the\n"
    "      password of a new account from the first line of standard input\n"
    "  import ORG FILE.csv\n"
    "      bulk load people from CSV, all or nothing (same rules as the API)\n"
    "  token issue --user USERNAME [--org ORG] [--ttl SECONDS]\n"
    "      print an access token for an integration (default ttl 900)\n"
    "  demo\n"
    "      load the demo organisation (idempotent) and print the logins\n"
    "  check\n"
    "      verify every record of the store and print counts\n"
    "  backup DEST_DIR\n"
    "      consistent copy of the store (and the signing keys) into DEST_DIR\n"
    "\n"
    "options:\n"
    "  --data DIR      the data directory\n"
    "  --config FILE   porticod's JSON config (issuer, audience, password hashing)\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 ok, 1 error, 2 usage\n";

/* ---- small helpers ------------------------------------------------------ */

typedef struct cli {
    pt_config cfg;
    const char *data_dir;
    pt_store *store;
} cli;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("portico: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("portico: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'portico --help'.\n", stderr);
    return EXIT_USAGE;
}

/* The error detail of the model/store layer, or a generic text. */
static const char *detail(void)
{
    const char *d = pt_error_last();
    return d && *d ? d : "unknown error";
}

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

static int parse_args(int argc, char **argv, opt *opts, const char **pos, int max_pos, int *npos)
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*npos >= max_pos)
                return usage_error("unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        opt *o = NULL;
        for (opt *p = opts; p && p->name; p++)
            if (strlen(p->name) == nlen && strncmp(p->name, name, nlen) == 0)
                o = p;
        if (!o)
            return usage_error("unknown option '--%.*s'", (int)nlen, name);
        if (o->seen)
            return usage_error("option '--%s' given twice", o->name);
        o->seen = true;
        if (o->flag) {
            if (eq)
                return usage_error("option '--%s' takes no value", o->name);
            continue;
        }
        if (eq) {
            o->value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("option '--%s' needs a value", o->name);
            o->value = argv[++i];
        }
    }
    return 0;
}

/* Parses a whole decimal number in [min, max]. */
static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Who made a change, for the audit log: "cli:<login>". */
static const char *cli_actor(void)
{
    static char buf[PT_ID_MAX + 8];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(buf, sizeof buf, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    return buf;
}

static bool store_exists(const char *dir)
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
static int cli_open(cli *c, bool create)
{
    struct stat st;
    if (!create && !store_exists(c->data_dir))
        return fail("no store in %s (is --data right?)", c->data_dir);
    if (stat(c->data_dir, &st) != 0) {
        if (errno != ENOENT || mkdir(c->data_dir, 0700) != 0)
            return fail("cannot use data directory %s: %s", c->data_dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return fail("%s is not a directory", c->data_dir);
    }
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.map_size = c->cfg.map_size;
    o.map_size_max = c->cfg.map_size_max;
    if (pt_store_open(&c->store, c->data_dir, &o) < 0)
        return fail("cannot open the store in %s: %s", c->data_dir, detail());
    return 0;
}

/* ---- org create --------------------------------------------------------- */

typedef struct org_create_ctx {
    const char *id, *name;
    long leaver_days;
    const char *actor;
} org_create_ctx;

static int org_create_txn(pt_txn *txn, void *arg)
{
    org_create_ctx *x = arg;
    json_t *org = NULL;
    char now[32];
    int err;

    if (pt_org_get(&org, txn, x->id) == 0) {
        json_decref(org);
        pt_error_set("organisation %s already exists", x->id);
        return PT_EEXISTS;
    }
    pt_time_format(now, pt_clock_now());
    org = json_pack("{s:s, s:s, s:{s:I, s:{}, s:[]}, s:s, s:s}", "id", x->id, "name", x->name,
                    "settings", "leaver_access_days", (json_int_t)x->leaver_days, "branding",
                    "notices", "created_at", now, "updated_at", now);
    if (!org)
        return PT_ENOMEM;
    if ((err = pt_org_put(txn, org)) == 0)
        err = pt_audit_append(txn, x->id, x->actor, "org.create", x->id, NULL, org);
    json_decref(org);
    return err;
}

static int cmd_org(cli *c, int argc, char **argv)
{
    opt opts[] = {{"leaver-days", false, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[3];
    int npos, rc;
    long days = 90;

    if ((rc = parse_args(argc, argv, opts, pos, 3, &npos)) != 0)
        return rc;
    if (npos != 3 || strcmp(pos[0], "create") != 0)
        return usage_error("usage: portico org create ID NAME [--leaver-days N]");
    if (!pt_slug_valid(pos[1]))
        return usage_error("'%s' is not a valid organisation id (1..64 of a-z 0-9 . _ -)", pos[1]);
    size_t nlen = strlen(pos[2]);
    if (nlen < 1 || nlen > 200)
        return usage_error("NAME must be 1..200 bytes");
    if (opts[0].seen && !parse_long(opts[0].value, 0, 90, &days))
        return usage_error("--leaver-days must be a whole number 0..90");
    if ((rc = cli_open(c, true)) != 0)
        return rc;

    org_create_ctx x = {pos[1], pos[2], days, cli_actor()};
    int err = pt_store_write(c->store, org_create_txn, &x);
    if (err < 0)
        return fail("org create: %s", detail());
    printf("created organisation %s\n", x.id);
    return 0;
}

/* ---- person create ------------------------------------------------------ */

/* Reads the first line of stdin as a password (no echo concerns: it is a
 * pipe in scripted use).  The buffer is wiped by the caller. */
static int read_password(char *buf, size_t size)
{
    size_t n = 0;
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') {
        if (n + 1 >= size)
            return fail("password on stdin is too long");
        buf[n++] = (char)ch;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0)
        return fail("no password on stdin");
    return 0;
}

/* "a,b" -> ["a","b"]; empty items are kept so validation reports them. */
static json_t *split_roles(const char *s)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    if (!*s)
        return arr;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, len));
        if (!comma)
            break;
        p = comma + 1;
    }
    return arr;
}

typedef struct person_create_ctx {
    const char *org;
    const json_t *in;
    const char *password_hash;
    const char *actor;
    json_t *errors; /* validation errors, when any */
} person_create_ctx;

/*
 * The same validator and insert path as POST /orgs/{org}/people, so the
 * CLI cannot create a person the API would refuse.
 */
static int person_create_txn(pt_txn *txn, void *arg)
{
    person_create_ctx *x = arg;
    json_t *org = NULL, *rec = NULL;
    const char *pw = NULL;
    int err;

    json_decref(x->errors);
    x->errors = NULL;
    if ((err = pt_org_get(&org, txn, x->org)) < 0) {
        if (err == PT_ENOTFOUND)
            pt_error_set("no organisation %s", x->org);
        return err;
    }
    json_decref(org);

    pt_people_ctx pc = {txn, x->org};
    pt_verr *v = pt_verr_new();
    if (!v)
        return PT_ENOMEM;
    pt_person_validate(v, &rec, &pw, x->in, NULL, "", pt_people_exists, &pc);
    if (pt_verr_any(v)) {
        x->errors = pt_verr_take(v);
        pt_verr_free(v);
        json_decref(rec);
        pt_error_set("invalid person");
        return PT_EINVAL;
    }
    pt_verr_free(v);
    err = pt_people_insert(txn, x->org, rec, x->password_hash, x->actor);
    json_decref(rec);
    return err;
}

static void print_errors(const json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        json_t *row = json_object_get(e, "row");
        if (json_is_integer(row))
            fprintf(stderr, "  row %lld: %s: %s\n", (long long)json_integer_value(row),
                    ptr ? ptr : "", msg ? msg : "");
        else
            fprintf(stderr, "  %s: %s\n", ptr ? ptr : "", msg ? msg : "");
    }
}

static int cmd_person(cli *c, int argc, char **argv)
{
    enum { O_NAME, O_EMAIL, O_STATUS, O_ROLES, O_GROUP, O_START, O_TERM, O_MANAGER, O_PWSTDIN };
    opt opts[] = {
        {"name", false, NULL, false},
        {"email", false, NULL, false},
        {"status", false, NULL, false},
        {"roles", false, NULL, false},
        {"staff-group", false, NULL, false},
        {"start-date", false, NULL, false},
        {"termination-date", false, NULL, false},
        {"manager", false, NULL, false},
        {"password-stdin", true, NULL, false},
        {NULL, false, NULL, false},
    };
    static const char *const keys[] = {"display_name", "email",      "status",           NULL,
                                       "staff_group",  "start_date", "termination_date", "manager"};
    const char *pos[3];
    int npos, rc;
    char password[1100];
    char hash[128];

    if ((rc = parse_args(argc, argv, opts, pos, 3, &npos)) != 0)
        return rc;
    if (npos != 3 || strcmp(pos[0], "create") != 0 || !opts[O_NAME].seen || !opts[O_EMAIL].seen ||
        !opts[O_STATUS].seen)
        return usage_error("usage: portico person create ORG USERNAME --name NAME --email "
                           "EMAIL --status applicant|employee [options]");

    json_t *in = json_pack("{s:s}", "username", pos[2]);
    if (!in)
        return fail("out of memory");
    for (size_t i = 0; i < PT_ARRAY_LEN(keys); i++) {
        if (!keys[i] || !opts[i].seen)
            continue;
        json_t *s = json_string(opts[i].value);
        if (!s) {
            json_decref(in);
            return usage_error("--%s is not valid UTF-8", opts[i].name);
        }
        json_object_set_new(in, keys[i], s);
    }
    if (opts[O_ROLES].seen)
        json_object_set_new(in, "roles", split_roles(opts[O_ROLES].value));

    hash[0] = '\0';
    if (opts[O_PWSTDIN].seen) {
        if ((rc = read_password(password, sizeof password)) != 0) {
            sodium_memzero(password, sizeof password);
            json_decref(in);
            return rc;
        }
        /* Validated with the rest (8..1024 bytes); hashed only if valid
         * in length so a bad one costs nothing. */
        json_object_set_new(in, "password", json_string(password));
        size_t plen = strlen(password);
        if (plen >= 8 && plen <= 1024 &&
            pt_password_hash(hash, password, c->cfg.pwhash_ops, c->cfg.pwhash_mem) < 0) {
            sodium_memzero(password, sizeof password);
            json_decref(in);
            return fail("cannot hash the password: %s", detail());
        }
        sodium_memzero(password, sizeof password);
    }

    if ((rc = cli_open(c, true)) != 0) {
        json_decref(in);
        return rc;
    }
    person_create_ctx x = {pos[1], in, hash[0] ? hash : NULL, cli_actor(), NULL};
    int err = pt_store_write(c->store, person_create_txn, &x);
    sodium_memzero(hash, sizeof hash);
    json_t *pw = json_object_get(in, "password");
    if (pw)
        json_string_set(pw, "");
    json_decref(in);
    if (x.errors) {
        fprintf(stderr, "portico: person create: invalid fields:\n");
        print_errors(x.errors);
        json_decref(x.errors);
        return 1;
    }
    if (err < 0)
        return fail("person create: %s", detail());
    printf("created person %s in %s\n", pos[2], pos[1]);
    return 0;
}

/* ---- import ------------------------------------------------------------- */

/*
 * A progress bar on stderr, drawn only for a terminal so that logs and
 * pipes stay clean: "[#####.....] 120/500".
 */
typedef struct progress {
    bool tty;
    size_t last_drawn;
} progress;

static void progress_draw(void *arg, size_t done, size_t total)
{
    progress *p = arg;
    if (!p->tty || total == 0)
        return;
    if (done != total && done - p->last_drawn < 1 + total / 200 && p->last_drawn != 0)
        return;
    p->last_drawn = done;
    char bar[41];
    size_t width = sizeof bar - 1;
    size_t fill = done >= total ? width : done * width / total;
    memset(bar, '#', fill);
    memset(bar + fill, '.', width - fill);
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu", bar, done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int read_whole_file(char **out, size_t *len, const char *path, size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return fail("cannot open %s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return fail("%s is too big or out of memory", path);
    if (err) {
        free(buf);
        return fail("cannot read %s", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

static int cmd_import(cli *c, int argc, char **argv)
{
    const char *pos[2];
    int npos, rc;
    char *csv = NULL;
    size_t len = 0;

    if ((rc = parse_args(argc, argv, NULL, pos, 2, &npos)) != 0)
        return rc;
    if (npos != 2)
        return usage_error("usage: portico import ORG FILE.csv");
    if (!pt_slug_valid(pos[0]))
        return usage_error("'%s' is not a valid organisation id", pos[0]);
    if ((rc = read_whole_file(&csv, &len, pos[1], (size_t)1 << 30)) != 0)
        return rc;
    if ((rc = cli_open(c, true)) != 0) {
        free(csv);
        return rc;
    }

    progress p = {isatty(STDERR_FILENO) == 1, 0};
    json_t *errors = NULL;
    size_t imported = 0;
    int err = pt_people_import_csv(&imported, &errors, c->store, &c->cfg, pos[0], cli_actor(), csv,
                                   len, progress_draw, &p);
    free(csv);
    if (errors && json_array_size(errors) > 0) {
        fprintf(stderr, "portico: import: nothing imported; %zu problem(s):\n",
                json_array_size(errors));
        print_errors(errors);
        json_decref(errors);
        return 1;
    }
    json_decref(errors);
    if (err < 0)
        return fail("import: %s", detail());
    printf("imported %zu people into %s\n", imported, pos[0]);
    return 0;
}

/* ---- token issue -------------------------------------------------------- */

typedef struct token_ctx {
    pt_caller caller;
    int64_t now, ttl;
} token_ctx;

/*
 * The server checks on every request that a token's session is live, so
 * an integration token gets a session of its own (which logout or an
 * admin can revoke) rather than borrowing somebody's.
 */
static int token_txn(pt_txn *txn, void *arg)
{
    token_ctx *x = arg;
    int err = pt_membership_load(&x->caller, txn, pt_clock_today());
    if (err < 0) {
        if (err == PT_ENOTFOUND)
            pt_error_set("%s has no membership in %s", x->caller.username,
                         x->caller.org[0] ? x->caller.org : "any organisation");
        return err;
    }
    /* The refresh token is thrown away: an integration token is meant to
     * expire, and to be re-issued by whoever holds this CLI. */
    char *refresh = NULL;
    char sid[PT_SID_MAX];
    err = pt_session_create(&refresh, sid, txn, x->caller.username, x->caller.org, false, x->now,
                            x->ttl);
    if (refresh) {
        sodium_memzero(refresh, strlen(refresh));
        free(refresh);
    }
    if (err == 0)
        pt_strlcpy(x->caller.sid, sid, sizeof x->caller.sid);
    return err;
}

static int cmd_token(cli *c, int argc, char **argv)
{
    opt opts[] = {{"user", false, NULL, false},
                  {"org", false, NULL, false},
                  {"ttl", false, NULL, false},
                  {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc;
    long ttl = 900;

    if ((rc = parse_args(argc, argv, opts, pos, 1, &npos)) != 0)
        return rc;
    if (npos != 1 || strcmp(pos[0], "issue") != 0 || !opts[0].seen)
        return usage_error(
            "usage: portico token issue --user USERNAME [--org ORG] [--ttl SECONDS]");
    if (!pt_username_valid(opts[0].value))
        return usage_error("'%s' is not a valid username", opts[0].value);
    if (opts[1].seen && !pt_slug_valid(opts[1].value))
        return usage_error("'%s' is not a valid organisation id", opts[1].value);
    if (opts[2].seen && !parse_long(opts[2].value, 1, 366L * 86400, &ttl))
        return usage_error("--ttl must be 1..31622400 seconds");
    if ((rc = cli_open(c, false)) != 0)
        return rc;

    pt_keys *keys = NULL;
    if (pt_keys_load(&keys, c->data_dir) < 0)
        return fail("cannot load the signing key: %s", detail());

    token_ctx x;
    memset(&x, 0, sizeof x);
    pt_strlcpy(x.caller.username, opts[0].value, sizeof x.caller.username);
    if (opts[1].seen)
        pt_strlcpy(x.caller.org, opts[1].value, sizeof x.caller.org);
    int64_t now = pt_clock_now();
    x.now = now;
    x.ttl = ttl;
    int err = pt_store_write(c->store, token_txn, &x);
    if (err < 0) {
        pt_keys_free(keys);
        return fail("token issue: %s", detail());
    }

    pt_token_claims cl;
    memset(&cl, 0, sizeof cl);
    pt_strlcpy(cl.sub, x.caller.username, sizeof cl.sub);
    pt_strlcpy(cl.org, x.caller.org, sizeof cl.org);
    pt_strlcpy(cl.sid, x.caller.sid, sizeof cl.sid);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(cl.jti, sizeof cl.jti, rnd, sizeof rnd);
    cl.roles = x.caller.roles;
    cl.mfa = false;
    cl.iat = now;
    cl.nbf = now;
    cl.exp = now + ttl;

    char *tok = NULL;
    err = pt_token_sign(&tok, keys, c->cfg.issuer, c->cfg.audience, &cl);
    pt_keys_free(keys);
    if (err < 0)
        return fail("cannot sign the token: %s", detail());
    printf("%s\n", tok);
    sodium_memzero(tok, strlen(tok));
    free(tok);
    return 0;
}

/* ---- demo --------------------------------------------------------------- */

static int cmd_demo(cli *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage_error("usage: portico demo");
    int rc = cli_open(c, true);
    if (rc != 0)
        return rc;
    pt_app app;
    memset(&app, 0, sizeof app);
    app.cfg = c->cfg;
    pt_strlcpy(app.cfg.data_dir, c->data_dir, sizeof app.cfg.data_dir);
    app.store = c->store;
    if (pt_demo_load(&app) < 0)
        return fail("demo: %s", detail());
    return 0;
}

/* ---- check -------------------------------------------------------------- */

static const char *const table_names[PT_T__COUNT] = {
    [PT_T_META] = "meta",
    [PT_T_ACCOUNTS] = "accounts",
    [PT_T_ORGS] = "orgs",
    [PT_T_PEOPLE] = "people",
    [PT_T_SESSIONS] = "sessions",
    [PT_T_AUDIT] = "audit",
    [PT_T_PORTLET_CONF] = "portlet_conf",
    [PT_T_PORTLET_DATA] = "portlet_data",
};

typedef struct check_ctx {
    pt_txn *txn;
    pt_table table;
    size_t count[PT_T__COUNT];
    size_t problems;
} check_ctx;

/* Printable form of a key for messages: NUL separators shown as '/'. */
static void key_text(char *out, size_t size, const pt_val *k)
{
    size_t n = 0;
    const unsigned char *p = k->data;
    for (size_t i = 0; i < k->len && n + 5 < size; i++) {
        if (p[i] == 0)
            out[n++] = '/';
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            out[n++] = (char)p[i];
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", p[i]);
    }
    out[n] = '\0';
}

static void check_problem(check_ctx *x, const pt_val *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_problem(check_ctx *x, const pt_val *key, const char *fmt, ...)
{
    char kt[200];
    va_list ap;
    key_text(kt, sizeof kt, key);
    fprintf(stderr, "portico: check: %s[%s]: ", table_names[x->table], kt);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    x->problems++;
}

/*
 * Cross-references that the API keeps true: a person belongs to an
 * existing organisation and account, and the account lists that
 * membership.  A broken one means a bug or a hand edit, worth reporting.
 */
static void check_person(check_ctx *x, const pt_val *key, const json_t *rec)
{
    const char *k = key->data;
    size_t olen = strnlen(k, key->len);
    if (olen >= key->len || olen > PT_ID_MAX) {
        check_problem(x, key, "malformed key");
        return;
    }
    char org[PT_ID_MAX + 1];
    memcpy(org, k, olen);
    org[olen] = '\0';
    const char *user = json_string_value(json_object_get(rec, "username"));
    if (!user || strlen(user) != key->len - olen - 1 ||
        memcmp(user, k + olen + 1, key->len - olen - 1) != 0) {
        check_problem(x, key, "username does not match the key");
        return;
    }
    json_t *o = NULL, *acc = NULL;
    if (pt_org_get(&o, x->txn, org) < 0)
        check_problem(x, key, "organisation %s does not exist", org);
    json_decref(o);
    if (pt_account_get(&acc, x->txn, user) < 0) {
        check_problem(x, key, "account %s does not exist", user);
        return;
    }
    bool listed = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(acc, "orgs"), i, it)
    {
        const char *s = json_string_value(it);
        if (s && strcmp(s, org) == 0)
            listed = true;
    }
    if (!listed)
        check_problem(x, key, "account %s does not list membership of %s", user, org);
    json_decref(acc);
}

static int check_scan(const pt_val *key, const pt_val *val, void *arg)
{
    check_ctx *x = arg;
    x->count[x->table]++;
    /* META holds the installation's counters ("seq\0name" -> big-endian
     * u64), which are not JSON. */
    if (x->table == PT_T_META && key->len > 4 && memcmp(key->data, "seq", 4) == 0) {
        if (val->len != 8)
            check_problem(x, key, "counter is %zu bytes, not 8", val->len);
        return 0;
    }
    json_error_t jerr;
    json_t *v = json_loadb(val->data, val->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        check_problem(x, key, "value is not valid JSON: %s", jerr.text);
        return 0;
    }
    if (x->table != PT_T_PORTLET_DATA && x->table != PT_T_META && !json_is_object(v))
        check_problem(x, key, "value is not a JSON object");
    else if (x->table == PT_T_PEOPLE)
        check_person(x, key, v);
    json_decref(v);
    return 0;
}

static int check_txn(pt_txn *txn, void *arg)
{
    check_ctx *x = arg;
    x->txn = txn;
    x->problems = 0;
    memset(x->count, 0, sizeof x->count);
    for (int t = 0; t < PT_T__COUNT; t++) {
        x->table = (pt_table)t;
        int err = pt_txn_scan(txn, x->table, "", 0, NULL, 0, false, check_scan, x);
        if (err < 0) {
            fprintf(stderr, "portico: check: cannot read table %s: %s\n", table_names[t], detail());
            x->problems++;
        }
    }
    return 0;
}

static int cmd_check(cli *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage_error("usage: portico check");
    int rc = cli_open(c, false);
    if (rc != 0)
        return rc;
    check_ctx x;
    memset(&x, 0, sizeof x);
    if (pt_store_read(c->store, check_txn, &x) < 0)
        return fail("check: %s", detail());
    for (int t = 0; t < PT_T__COUNT; t++)
        printf("%-13s %zu\n", table_names[t], x.count[t]);
    pt_store_stats st;
    if (pt_store_stat(c->store, &st) == 0)
        printf("map_size      %zu bytes\nused          %zu bytes\n", st.map_size, st.used_bytes);
    if (x.problems) {
        printf("%zu problem(s)\n", x.problems);
        return 1;
    }
    printf("ok\n");
    return 0;
}

/* ---- backup ------------------------------------------------------------- */

/* Copies a key file with mode 0600, so that a restored backup keeps
 * issuing and accepting the same tokens. */
static int copy_secret_file(const char *from_dir, const char *to_dir, const char *name)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 0 : fail("cannot read %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return fail("cannot write %s: %s", to, strerror(errno));
    }
    char buf[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = fail("cannot write %s: %s", to, strerror(errno));
            break;
        }
    }
    if (n < 0)
        rc = fail("cannot read %s: %s", from, strerror(errno));
    if (rc == 0 && fsync(out) != 0)
        rc = fail("cannot sync %s: %s", to, strerror(errno));
    sodium_memzero(buf, sizeof buf);
    close(in);
    close(out);
    return rc;
}

static int cmd_backup(cli *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc;
    struct stat st;

    if ((rc = parse_args(argc, argv, NULL, pos, 1, &npos)) != 0)
        return rc;
    if (npos != 1)
        return usage_error("usage: portico backup DEST_DIR");
    const char *dest = pos[0];
    if (stat(dest, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return fail("%s is not a directory", dest);
        if (store_exists(dest))
            return fail("%s already holds a store; choose an empty directory", dest);
    } else if (errno != ENOENT || mkdir(dest, 0700) != 0) {
        return fail("cannot create %s: %s", dest, strerror(errno));
    }
    if ((rc = cli_open(c, false)) != 0)
        return rc;
    if (pt_store_backup(c->store, dest) < 0)
        return fail("backup: %s", detail());
    if ((rc = copy_secret_file(c->data_dir, dest, "jwt-private.pem")) != 0 ||
        (rc = copy_secret_file(c->data_dir, dest, "jwt-public.pem")) != 0)
        return rc;
    printf("backup written to %s\n", dest);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    cli c;
    int i = 1, rc;

    memset(&c, 0, sizeof c);
    pt_config_defaults(&c.cfg);
    pt_log_set_level(PT_LOG_WARN);
    c.data_dir = getenv("PORTICO_DATA");
    if (!c.data_dir || !*c.data_dir)
        c.data_dir = "./data";

    for (; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs a value", a);
            if (strcmp(a, "--data") == 0) {
                c.data_dir = argv[++i];
            } else if (pt_config_load_file(&c.cfg, argv[++i]) < 0) {
                return fail("cannot load config %s: %s", argv[i], detail());
            }
        } else if (strncmp(a, "--data=", 7) == 0) {
            c.data_dir = a + 7;
        } else if (strncmp(a, "--config=", 9) == 0) {
            if (pt_config_load_file(&c.cfg, a + 9) < 0)
                return fail("cannot load config %s: %s", a + 9, detail());
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (i >= argc)
        return usage_error("no command given");
    if (!*c.data_dir)
        return usage_error("--data needs a directory");
    if (sodium_init() < 0)
        return fail("libsodium failed to initialise");

    const char *cmd = argv[i++];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    } else if (strcmp(cmd, "org") == 0) {
        rc = cmd_org(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "person") == 0) {
        rc = cmd_person(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "import") == 0) {
        rc = cmd_import(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "token") == 0) {
        rc = cmd_token(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "demo") == 0) {
        rc = cmd_demo(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "check") == 0) {
        rc = cmd_check(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "backup") == 0) {
        rc = cmd_backup(&c, sub_argc, sub_argv);
    } else {
        rc = usage_error("unknown command '%s'", cmd);
    }
    if (c.store)
        pt_store_close(c.store);
    return rc;
}
