/*
 * demo.c - porticod --demo: an example trust with a person for every role
 * and status, loaded idempotently (existing records are left alone, so a
 * restart keeps what was changed while trying the API).
 */
#include "admin/people.h"
#include "base/clock.h"
#include "base/log.h"
#include "host/plugins.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_ORG      "demo-trust"
#define DEMO_PASSWORD "portico-demo"

typedef struct demo_person {
    const char *username, *display_name, *staff_group, *status, *manager, *role;
    int start_offset;       /* days from today */
    int termination_offset; /* days from today; 0 = none */
} demo_person;

/* Managers come before their reports so the manager check passes. */
static const demo_person demo_people[] = {
    {"portal.admin", "Priya Patel", "support_to_clinical", "employee", NULL, "portal_admin", -1500,
     0},
    {"content.admin", "Connor Walsh", "support_to_clinical", "employee", NULL, "content_admin",
     -900, 0},
    {"payroll.admin", "Paula Green", "support_to_clinical", "employee", NULL, "payroll_admin",
     -2000, 0},
    {"oh.admin", "Olu Adeyemi", "qualified_nurses", "employee", NULL, "oh_admin", -1200, 0},
    {"hr.admin", "Hannah Reid", "support_to_clinical", "employee", NULL, "hr_admin", -1800, 0},
    {"manager.mary", "Mary Manning", "doctors", "employee", NULL, NULL, -3000, 0},
    {"emp.eddie", "Eddie Evans", "qualified_nurses", "employee", "manager.mary", NULL, -700, 0},
    {"doc.dev", "Dev Sharma", "doctors", "employee", "manager.mary", NULL, -400, 0},
    {"nurse.nia", "Nia Roberts", "qualified_nurses", "employee", "manager.mary", NULL, -1000, 0},
    {"physio.pete", "Pete Okafor", "other_clinical", "employee", NULL, NULL, -600, 0},
    {"hca.holly", "Holly Brown", "support_to_clinical", "employee", NULL, NULL, -300, 0},
    {"leaver.lucy", "Lucy Lane", "qualified_nurses", "employee", "manager.mary", NULL, -1100, -20},
    {"app.alex", "Alex Kim", "doctors", "applicant", NULL, NULL, 30, 0},
};

static json_t *demo_input(const demo_person *d, int32_t today)
{
    char email[128], date[16];
    snprintf(email, sizeof email, "%s@demo-trust.example", d->username);
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[]}", "username", d->username,
                           "display_name", d->display_name, "email", email, "staff_group",
                           d->staff_group, "status", d->status, "roles");
    if (!in)
        return NULL;
    if (d->role)
        json_array_append_new(json_object_get(in, "roles"), json_string(d->role));
    if (d->manager)
        json_object_set_new(in, "manager", json_string(d->manager));
    pt_date_format(date, today + d->start_offset);
    json_object_set_new(in, "start_date", json_string(date));
    if (d->termination_offset) {
        pt_date_format(date, today + d->termination_offset);
        json_object_set_new(in, "termination_date", json_string(date));
    }
    return in;
}

typedef struct demo_load {
    const char *hash;
    int32_t today;
    int created;
} demo_load;

static int demo_org_ensure(pt_txn *txn)
{
    json_t *org = NULL;
    int err = pt_org_get(&org, txn, DEMO_ORG);
    json_decref(org);
    if (err != PT_ENOTFOUND)
        return err;
    char now[32];
    pt_time_format(now, pt_clock_now());
    org =
        json_pack("{s:s, s:s, s:{s:i, s:{s:s, s:s, s:s}, s:[]}, s:s, s:s}", "id", DEMO_ORG, "name",
                  "Demo NHS Foundation Trust", "settings", "leaver_access_days",
                  PT_LEAVER_ACCESS_DAYS_DEFAULT, "branding", "primary_colour", "#005EB8",
                  "secondary_colour", "#003087", "logo_url", "https://demo-trust.example/logo.svg",
                  "notices", "created_at", now, "updated_at", now);
    if (!org)
        return PT_ENOMEM;
    if ((err = pt_org_put(txn, org)) == 0)
        err = pt_audit_append(txn, DEMO_ORG, "system", "org.create", DEMO_ORG, NULL, org);
    json_decref(org);
    return err;
}

/*
 * Demo people go through the same validator and insert path as the API,
 * so the demo cannot hold a record the API would refuse.
 */
static int demo_load_txn(pt_txn *txn, void *ctx)
{
    demo_load *d = ctx;
    d->created = 0;
    int err = demo_org_ensure(txn);
    if (err < 0)
        return err;
    pt_people_ctx pc = {txn, DEMO_ORG};
    for (size_t i = 0; i < PT_ARRAY_LEN(demo_people); i++) {
        if (pt_people_exists(&pc, demo_people[i].username))
            continue;
        json_t *in = demo_input(&demo_people[i], d->today), *rec = NULL;
        pt_verr *v = pt_verr_new();
        pt_person_validate(v, &rec, NULL, in, NULL, "", pt_people_exists, &pc);
        pt_verr_free(v);
        json_decref(in);
        if (!rec) {
            pt_error_set("demo person %s is invalid", demo_people[i].username);
            return PT_ERR;
        }
        err = pt_people_insert(txn, DEMO_ORG, rec, d->hash, "system");
        json_decref(rec);
        if (err < 0)
            return err;
        d->created++;
    }
    return 0;
}

static int admin_exists_txn(pt_txn *txn, void *ctx)
{
    json_t *acc = NULL;
    int err = pt_account_get(&acc, txn, "admin");
    *(bool *)ctx = err == 0;
    json_decref(acc);
    return err == PT_ENOTFOUND ? 0 : err;
}

static int admin_create_txn(pt_txn *txn, void *ctx)
{
    return pt_account_ensure(txn, "admin", ctx, NULL, true);
}

static int demo_admin_ensure(pt_app *app)
{
    bool exists = false;
    int err = pt_store_read(app->store, admin_exists_txn, &exists);
    if (err < 0 || exists)
        return err;
    const char *env = getenv("PORTICO_ADMIN_PASSWORD");
    bool from_env = env && *env;
    char hash[128];
    err = pt_password_hash(hash, from_env ? env : "portico-admin", app->cfg.pwhash_ops,
                           app->cfg.pwhash_mem);
    if (err == 0)
        err = pt_store_write(app->store, admin_create_txn, hash);
    sodium_memzero(hash, sizeof hash);
    if (err < 0)
        return err;
    if (from_env)
        printf("Created system administrator \"admin\" with the password from "
               "PORTICO_ADMIN_PASSWORD.\n");
    else
        printf("Created system administrator \"admin\" with the demo password "
               "\"portico-admin\" (set PORTICO_ADMIN_PASSWORD to choose one).\n");
    return 0;
}

static void demo_print(const pt_app *app)
{
    char base[160];
    const char *l = app->cfg.listen;
    size_t n = strlen(l);
    if (n && !(n >= 2 && strcmp(l + n - 2, ":0") == 0))
        snprintf(base, sizeof base, "http://%s", l);
    else
        snprintf(base, sizeof base, "http://HOST:PORT");
    printf("Demo organisation " DEMO_ORG " loaded. Log in:\n"
           "  curl -s -X POST %s/api/v1/auth/login -H 'Content-Type: application/json' "
           "-d '{\"username\":\"emp.eddie\",\"password\":\"" DEMO_PASSWORD "\"}'\n"
           "Demo users (password \"" DEMO_PASSWORD "\"):\n",
           base);
    for (size_t i = 0; i < PT_ARRAY_LEN(demo_people); i++) {
        const demo_person *d = &demo_people[i];
        char what[128];
        if (d->role)
            snprintf(what, sizeof what, "%s", d->role);
        else if (d->termination_offset)
            snprintf(what, sizeof what, "leaver (%s)", d->staff_group);
        else if (strcmp(d->username, "manager.mary") == 0)
            snprintf(what, sizeof what, "employee, manager (%s)", d->staff_group);
        else
            snprintf(what, sizeof what, "%s (%s)%s%s", d->status, d->staff_group,
                     d->manager ? ", reports to " : "", d->manager ? d->manager : "");
        printf("  %-14s %s\n", d->username, what);
    }
    printf("  %-14s system_admin (not a member of " DEMO_ORG ")\n", "admin");
    fflush(stdout);
}

int pt_demo_load(pt_app *app)
{
    int err = demo_admin_ensure(app);
    if (err < 0)
        return err;
    char hash[128];
    if ((err = pt_password_hash(hash, DEMO_PASSWORD, app->cfg.pwhash_ops, app->cfg.pwhash_mem)) < 0)
        return err;
    demo_load d = {hash, pt_clock_today(), 0};
    err = pt_store_write(app->store, demo_load_txn, &d);
    sodium_memzero(hash, sizeof hash);
    if (err < 0) {
        pt_log_error("demo", "loading demo data failed: %s", pt_error_last());
        return err;
    }
    pt_log_info("demo", "demo organisation %s: %d people created", DEMO_ORG, d.created);
    /* Each loaded portlet brings its own example data (ABI 1.1 demo()). */
    int portlets = pt_plugins_demo_load(app, DEMO_ORG);
    if (portlets < 0)
        return portlets;
    pt_log_info("demo", "demo organisation %s: %d portlets set up", DEMO_ORG, portlets);
    demo_print(app);
    return 0;
}
