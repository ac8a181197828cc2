/*
 * check.c - `portico check`: verify every record of the store.
 */
#include "base/common.h"
#include "auth/auth.h"
#include "cli.h"
#include "host/plugins.h"
#include "http/cursor.h"
#include "store/model.h"
#include "store/people_counts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    fprintf(stderr, "portico: check: %s[%s]: ", pt_table_name(x->table), kt);
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
    /* Kept headcounts and their transitions index: binary values, checked
     * against a recount of the people per organisation (check_counts). */
    if (x->table == PT_T_META && pt_people_counts_meta_key(key->data, key->len))
        return 0;
    /* The secrets that seal list cursors (portlets', core lists'): 32 raw
     * bytes each. */
    if (x->table == PT_T_META && ((key->len == strlen(PT_CURSOR_SECRET_META_KEY) &&
                                   memcmp(key->data, PT_CURSOR_SECRET_META_KEY, key->len) == 0) ||
                                  (key->len == strlen(PT_CURSOR_CORE_META_KEY) &&
                                   memcmp(key->data, PT_CURSOR_CORE_META_KEY, key->len) == 0))) {
        if (val->len != 32)
            check_problem(x, key, "cursor secret is %zu bytes, not 32", val->len);
        return 0;
    }
    /* The signing key set: every key parses and matches its kid. */
    if (x->table == PT_T_META && key->len == strlen(PT_KEYS_META_KEY) &&
        memcmp(key->data, PT_KEYS_META_KEY, key->len) == 0) {
        if (pt_keys_record_check(val->data, val->len) < 0)
            check_problem(x, key, "%s", pt_error_last());
        return 0;
    }
    if (x->table == PT_T_PORTLET_DATA) {
        const char *why = NULL;
        if (!pt_portlet_record_valid(key->data, key->len, val->data, val->len, &why))
            check_problem(x, key, "%s", why);
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

static void count_problem(void *ctx, const char *org, const char *what)
{
    check_ctx *x = ctx;
    fprintf(stderr, "portico: check: headcounts of %s: %s\n", org, what);
    x->problems++;
}

/* Every organisation's kept headcounts must equal a full recount of its
 * people (and its transitions index must list exactly the people whose
 * status changes with a date). */
static int check_org_counts(const pt_val *key, const pt_val *val, void *arg)
{
    (void)val;
    check_ctx *x = arg;
    char org[PT_ID_MAX + 1];
    size_t mismatches;
    if (key->len > PT_ID_MAX)
        return 0; /* reported by the record checks */
    memcpy(org, key->data, key->len);
    org[key->len] = '\0';
    if (pt_people_counts_verify(&mismatches, x->txn, org, count_problem, x) < 0) {
        fprintf(stderr, "portico: check: headcounts of %s: %s\n", org, cli_detail());
        x->problems++;
    }
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
            fprintf(stderr, "portico: check: cannot read table %s: %s\n",
                    pt_table_name((pt_table)t), cli_detail());
            x->problems++;
        }
    }
    if (pt_txn_scan(txn, PT_T_ORGS, "", 0, NULL, 0, false, check_org_counts, x) < 0) {
        fprintf(stderr, "portico: check: cannot read organisations: %s\n", cli_detail());
        x->problems++;
    }
    return 0;
}

/*
 * `portico check [--from DIR] [--against WHERE]`: verifies the store the
 * global options name (or --from DIR), the same way on either backend,
 * and with --against (a directory or a postgres:// URL) also compares it
 * record by record with that other store, as after `portico migrate`.
 */
int cmd_check(cli *c, int argc, char **argv)
{
    opt opts[] = {{"from", false, NULL, false}, {"against", false, NULL, false}, {NULL, 0, 0, 0}};
    const char *pos[1];
    int npos;
    int rc = cli_parse_args(argc, argv, opts, pos, 0, &npos);
    if (rc != 0)
        return rc;
    if ((opts[0].value && !*opts[0].value) || (opts[1].value && !*opts[1].value))
        return cli_usage_error("usage: portico check [--from DIR] [--against DIR|URL]");
    const char *from = opts[0].value;
    if (from && !pt_store_is_url(from) && !cli_store_exists(from))
        return cli_fail("check: no store in %s (is --from right?)", from);
    rc = from ? cli_open_at(&c->store, from, &c->cfg) : cli_open(c, false);
    if (rc != 0)
        return rc;
    check_ctx x;
    memset(&x, 0, sizeof x);
    if (pt_store_read(c->store, check_txn, &x) < 0)
        return cli_fail("check: %s", cli_detail());
    for (int t = 0; t < PT_T__COUNT; t++)
        printf("%-13s %zu\n", pt_table_name((pt_table)t), x.count[t]);
    pt_store_stats st;
    bool pg = strcmp(pt_store_backend(c->store), "postgres") == 0;
    if (pt_store_stat(c->store, &st) == 0) {
        if (pg)
            printf("database      %zu bytes\nkv table      %zu bytes\n", st.map_size,
                   st.used_bytes);
        else
            printf("map_size      %zu bytes\nused          %zu bytes\n", st.map_size,
                   st.used_bytes);
    }
    int differ = 0;
    if (opts[1].value) {
        const char *other = opts[1].value;
        if (!pt_store_is_url(other) && !cli_store_exists(other))
            return cli_fail("check: no store in %s (is --against right?)", other);
        pt_store *b = NULL;
        if ((rc = cli_open_at(&b, other, &c->cfg)) != 0)
            return rc;
        differ = cli_compare_stores(c->store, pt_store_backend(c->store), b, pt_store_backend(b));
        pt_store_close(b);
        if (differ < 0)
            return 1;
        if (differ > 0)
            printf("%d table(s) differ from %s\n", differ,
                   pt_store_is_url(other) ? "--against" : other);
    }
    if (x.problems) {
        printf("%zu problem(s)\n", x.problems);
        return 1;
    }
    if (differ)
        return 1;
    printf("ok\n");
    return 0;
}
