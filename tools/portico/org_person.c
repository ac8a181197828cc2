/*
 * org_person.c - `portico org create` and `portico person create`.
 */
#include "admin/people.h"
#include "base/clock.h"
#include "base/common.h"
#include "cli.h"
#include "store/model.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

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

int cmd_org(cli *c, int argc, char **argv)
{
    opt opts[] = {{"leaver-days", false, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[3];
    int npos, rc;
    long days = PT_LEAVER_ACCESS_DAYS_DEFAULT;

    if ((rc = cli_parse_args(argc, argv, opts, pos, 3, &npos)) != 0)
        return rc;
    if (npos != 3 || strcmp(pos[0], "create") != 0)
        return cli_usage_error("usage: portico org create ID NAME [--leaver-days N]");
    if (!pt_slug_valid(pos[1]))
        return cli_usage_error("'%s' is not a valid organisation id (1..64 of a-z 0-9 . _ -)",
                               pos[1]);
    size_t nlen = strlen(pos[2]);
    if (nlen < 1 || nlen > 200)
        return cli_usage_error("NAME must be 1..200 bytes");
    if (opts[0].seen && !cli_parse_long(opts[0].value, 0, PT_LEAVER_ACCESS_DAYS_MAX, &days))
        return cli_usage_error("--leaver-days must be a whole number 0..%d",
                               PT_LEAVER_ACCESS_DAYS_MAX);
    if ((rc = cli_open(c, true)) != 0)
        return rc;

    org_create_ctx x = {pos[1], pos[2], days, cli_actor()};
    int err = pt_store_write(c->store, org_create_txn, &x);
    if (err < 0)
        return cli_fail("org create: %s", cli_detail());
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
            return cli_fail("password on stdin is too long");
        buf[n++] = (char)ch;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0)
        return cli_fail("no password on stdin");
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

typedef struct mfa_reset_ctx {
    const char *org, *user;
    bool was_enabled;
} mfa_reset_ctx;

static int mfa_reset_txn(pt_txn *txn, void *arg)
{
    mfa_reset_ctx *x = arg;
    return pt_person_mfa_reset(&x->was_enabled, txn, x->org, x->user, cli_actor());
}

/* portico person mfa-reset ORG USERNAME: the same rule and audit entry as
 * DELETE /api/v1/orgs/ORG/people/USERNAME/mfa. */
static int person_mfa_reset(cli *c, int argc, char **argv)
{
    const char *pos[3];
    int npos, rc;
    opt none[] = {{NULL, false, NULL, false}};
    if ((rc = cli_parse_args(argc, argv, none, pos, 3, &npos)) != 0)
        return rc;
    if (npos != 3)
        return cli_usage_error("usage: portico person mfa-reset ORG USERNAME");
    if ((rc = cli_open(c, false)) != 0)
        return rc;
    mfa_reset_ctx x = {pos[1], pos[2], false};
    int err = pt_store_write(c->store, mfa_reset_txn, &x);
    if (err < 0)
        return cli_fail("person mfa-reset: %s", cli_detail());
    printf("MFA %s for %s (audited in %s)\n", x.was_enabled ? "removed" : "was not enabled", pos[2],
           pos[1]);
    return 0;
}

int cmd_person(cli *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "mfa-reset") == 0)
        return person_mfa_reset(c, argc, argv);
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

    if ((rc = cli_parse_args(argc, argv, opts, pos, 3, &npos)) != 0)
        return rc;
    if (npos != 3 || strcmp(pos[0], "create") != 0 || !opts[O_NAME].seen || !opts[O_EMAIL].seen ||
        !opts[O_STATUS].seen)
        return cli_usage_error("usage: portico person create ORG USERNAME --name NAME --email "
                               "EMAIL --status applicant|employee [options]");

    json_t *in = json_pack("{s:s}", "username", pos[2]);
    if (!in)
        return cli_fail("out of memory");
    for (size_t i = 0; i < PT_ARRAY_LEN(keys); i++) {
        if (!keys[i] || !opts[i].seen)
            continue;
        json_t *s = json_string(opts[i].value);
        if (!s) {
            json_decref(in);
            return cli_usage_error("--%s is not valid UTF-8", opts[i].name);
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
            return cli_fail("cannot hash the password: %s", cli_detail());
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
        cli_print_errors(x.errors);
        json_decref(x.errors);
        return 1;
    }
    if (err < 0)
        return cli_fail("person create: %s", cli_detail());
    printf("created person %s in %s\n", pos[2], pos[1]);
    return 0;
}
