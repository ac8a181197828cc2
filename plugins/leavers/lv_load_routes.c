/*
 * lv_load_routes.c - payroll loads documents: one at a time
 * (POST .../documents) or a whole pay run (POST .../documents/bulk).
 *
 * Both go through one loader, all or nothing: the host has checked the
 * envelope (body_schema); here each document's data is checked against
 * its kind's schema, then the arithmetic, then (in one read snapshot)
 * that every person belongs to the organisation and that no document
 * appears twice.  Any error and nothing is stored: 422 with a pointer per
 * error (/documents/N/... in a pay run).  Otherwise one write transaction
 * stores every document and audits each load or replacement (who, kind,
 * period; never the document's body).
 */
#include "lv_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load_item {
    size_t index;
    const json_t *doc;
    const char *username;
    enum lv_kind kind;
    char period[LV_PERIOD_LEN];
    char key[PORTICO_KEY_MAX + 1];
    bool ok; /* passed the checks that need no storage */
} load_item;

typedef struct loader {
    portico_ctx *ctx;
    bool bulk;
    load_item *items;
    size_t n;
    json_t *errors;
    /* results of the write (reset when the host re-runs it) */
    int64_t revision;
    size_t created, replaced;
    json_t *first; /* the stored record of a single load */
} loader;

static void pointer_base(const loader *l, size_t i, char *buf, size_t cap)
{
    if (l->bulk)
        snprintf(buf, cap, "/documents/%zu", i);
    else
        buf[0] = '\0';
}

/* Schema of the kind's data, then the rules lv_document_check knows. */
static void check_item(loader *l, load_item *it)
{
    const portico_host *h = l->ctx->host;
    const lv_state *st = l->ctx->state;
    char base[48], data_base[64];
    pointer_base(l, it->index, base, sizeof(base));
    snprintf(data_base, sizeof(data_base), "%s/data", base);
    it->username = json_string_value(json_object_get(it->doc, "username"));
    it->kind = lv_kind_from_name(json_string_value(json_object_get(it->doc, "kind")));
    if (it->kind == LV_KIND_NONE)
        return; /* the body schema already refused it */
    int rc = h->schema_validate(st->data_schema[it->kind], json_object_get(it->doc, "data"),
                                data_base, l->errors);
    if (rc != PORTICO_OK)
        return;
    if (!lv_document_check(it->doc, base, it->period, l->errors, h->invalid_add))
        return;
    if (lv_key_doc(l->ctx, it->key, sizeof(it->key), LV_DOC, it->username, it->kind, it->period) !=
        PORTICO_OK) {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "%s/username", base);
        h->invalid_add(l->errors, ptr, "is too long");
        return;
    }
    it->ok = true;
}

static int by_key(const void *a, const void *b)
{
    const load_item *x = *(const load_item *const *)a, *y = *(const load_item *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The same person, kind and period twice in one pay run is a mistake in
 * the run, not a replacement: the later one is reported. */
static int check_duplicates(loader *l)
{
    load_item **sorted = malloc(l->n * sizeof(*sorted));
    size_t m = 0;
    if (!sorted)
        return PORTICO_ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].ok)
            sorted[m++] = &l->items[i];
    qsort(sorted, m, sizeof(*sorted), by_key);
    for (size_t i = 1; i < m; i++) {
        if (strcmp(sorted[i]->key, sorted[i - 1]->key) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && strcmp(sorted[first - 1]->key, sorted[i]->key) == 0)
            first--;
        char ptr[48], msg[96];
        snprintf(ptr, sizeof(ptr), "/documents/%zu", sorted[i]->index);
        snprintf(msg, sizeof(msg),
                 "repeats /documents/%zu (the same person, kind and period in one run)",
                 sorted[first]->index);
        l->ctx->host->invalid_add(l->errors, ptr, msg);
        sorted[i]->ok = false;
    }
    free(sorted);
    return PORTICO_OK;
}

/* Every named person must be in the caller's organisation (person_get
 * only sees that organisation).  Each distinct name is looked up once. */
static int people_txn(portico_txn *txn, void *arg)
{
    loader *l = arg;
    const portico_host *h = l->ctx->host;
    const char *last_known = NULL;
    for (size_t i = 0; i < l->n; i++) {
        load_item *it = &l->items[i];
        if (!it->username)
            continue;
        if (last_known && strcmp(last_known, it->username) == 0)
            continue;
        json_t *person = NULL;
        int rc = h->person_get(txn, it->username, &person);
        json_decref(person);
        if (rc == PORTICO_OK) {
            last_known = it->username;
            continue;
        }
        if (rc != PORTICO_ENOTFOUND && rc != PORTICO_EINVAL)
            return rc;
        char base[48], ptr[64];
        pointer_base(l, it->index, base, sizeof(base));
        snprintf(ptr, sizeof(ptr), "%s/username", base);
        h->invalid_add(l->errors, ptr, "is not a person of this organisation");
        it->ok = false;
    }
    return PORTICO_OK;
}

/* Stores one document and audits it as a load or a replacement. */
static int store_item(portico_txn *txn, loader *l, const load_item *it, const char *now)
{
    const portico_host *h = l->ctx->host;
    json_t *old = NULL;
    int rc = h->get(txn, it->key, &old);
    if (rc != PORTICO_OK && rc != PORTICO_ENOTFOUND)
        return rc;
    bool replacing = rc == PORTICO_OK;
    json_t *before = replacing
                         ? json_pack("{s:s, s:s, s:O?}", "kind", lv_kind_name(it->kind), "period",
                                     it->period, "revision", json_object_get(old, "revision"))
                         : NULL;
    json_decref(old);
    json_t *rec =
        lv_record_new(it->username, it->kind, it->period, json_object_get(it->doc, "data"), now,
                      l->ctx->caller->username, l->revision);
    json_t *after = json_pack("{s:s, s:s, s:I}", "kind", lv_kind_name(it->kind), "period",
                              it->period, "revision", (json_int_t)l->revision);
    rc = rec && after && (!replacing || before) ? PORTICO_OK : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        rc = lv_store_put(l->ctx, txn, rec);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, replacing ? "document.replace" : "document.load", it->username, before,
                      after);
    json_decref(before);
    json_decref(after);
    if (rc == PORTICO_OK) {
        replacing ? l->replaced++ : l->created++;
        if (!l->bulk) {
            json_decref(l->first);
            l->first = rec;
            rec = NULL;
        }
    }
    json_decref(rec);
    return rc;
}

static int store_txn(portico_txn *txn, void *arg)
{
    loader *l = arg;
    const portico_host *h = l->ctx->host;
    uint64_t rev = 0;
    char now[21];
    l->created = l->replaced = 0;
    int rc = h->next_seq(txn, "revision", &rev);
    if (rc != PORTICO_OK)
        return rc;
    l->revision = (int64_t)rev;
    h->time_format(now, h->now_ms() / 1000);
    for (size_t i = 0; rc == PORTICO_OK && i < l->n; i++)
        rc = store_item(txn, l, &l->items[i], now);
    return rc;
}

static void respond_loaded(loader *l)
{
    const portico_host *h = l->ctx->host;
    if (l->bulk) {
        h->respond_json(l->ctx, 200,
                        json_pack("{s:I, s:I, s:I, s:I}", "loaded", (json_int_t)l->n, "created",
                                  (json_int_t)l->created, "replaced", (json_int_t)l->replaced,
                                  "revision", (json_int_t)l->revision));
        return;
    }
    /* Usernames are [a-z0-9._@-] (the envelope's pattern): path-safe. */
    const load_item *it = &l->items[0];
    char loc[256];
    snprintf(loc, sizeof(loc), LV_BASE "/admin/people/%s/documents/%s/%s", it->username,
             lv_kind_name(it->kind), it->period);
    h->set_header(l->ctx, "Location", loc);
    h->respond_json(l->ctx, l->created ? 201 : 200, lv_view_document(l->first));
}

static int load(portico_ctx *ctx, const json_t *docs, bool bulk)
{
    const portico_host *h = ctx->host;
    loader l = {.ctx = ctx, .bulk = bulk, .n = json_array_size(docs)};
    l.items = calloc(l.n ? l.n : 1, sizeof(*l.items));
    l.errors = json_array();
    int rc = l.items && l.errors ? PORTICO_OK : PORTICO_ENOMEM;
    for (size_t i = 0; rc == PORTICO_OK && i < l.n; i++) {
        l.items[i].index = i;
        l.items[i].doc = json_array_get(docs, i);
        check_item(&l, &l.items[i]);
    }
    if (rc == PORTICO_OK && bulk)
        rc = check_duplicates(&l);
    if (rc == PORTICO_OK)
        rc = h->read(ctx, people_txn, &l);
    bool all_ok = true;
    for (size_t i = 0; i < l.n && l.items; i++)
        all_ok = all_ok && l.items[i].ok;
    if (rc == PORTICO_OK && json_array_size(l.errors) > 0) {
        h->respond_invalid(ctx, l.errors);
        l.errors = NULL;
    } else if (rc == PORTICO_OK && !all_ok) {
        /* refused without a reason: a schema the host could not use */
        h->log(ctx, PORTICO_LOG_ERROR, "a document failed a check that gave no error");
        rc = PORTICO_ERR;
    } else if (rc == PORTICO_OK) {
        rc = h->write(ctx, store_txn, &l);
        if (rc == PORTICO_OK)
            respond_loaded(&l);
    }
    if (rc != PORTICO_OK)
        h->respond_error(ctx, rc, NULL);
    json_decref(l.errors);
    json_decref(l.first);
    free(l.items);
    return PORTICO_OK;
}

int lv_route_load(portico_ctx *ctx)
{
    json_t *one = json_pack("[O]", ctx->host->body(ctx));
    if (!one) {
        ctx->host->respond_error(ctx, PORTICO_ENOMEM, NULL);
        return PORTICO_OK;
    }
    int rc = load(ctx, one, false);
    json_decref(one);
    return rc;
}

int lv_route_bulk(portico_ctx *ctx)
{
    return load(ctx, json_object_get(ctx->host->body(ctx), "documents"), true);
}
