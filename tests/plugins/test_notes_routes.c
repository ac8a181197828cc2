/*
 * test_notes_routes.c - the test portlet's route handlers: one small
 * handler per host feature, so each integration test in
 * tests/integration/test_portlets.py can watch one thing the host does.
 */
#include "test_notes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- notes ---------------------------------------------------------------- */

static int note_key(const portico_host *h, char *buf, const char *name)
{
    return name ? h->key(buf, TN_KEY_CAP, "note", name, NULL) : PORTICO_EINVAL;
}

static void rev_etag(char buf[32], json_int_t rev)
{
    snprintf(buf, 32, "\"%lld\"", (long long)rev);
}

static json_int_t rev_of(const json_t *rec)
{
    return json_integer_value(json_object_get(rec, "rev"));
}

typedef struct note_read {
    const portico_host *host;
    const char *key;
    json_t *rec;
} note_read;

static int note_read_txn(portico_txn *txn, void *arg)
{
    note_read *r = arg;
    json_decref(r->rec);
    r->rec = NULL;
    return r->host->get(txn, r->key, &r->rec);
}

json_t *tn_note_value(portico_ctx *ctx, const char *name)
{
    char key[TN_KEY_CAP];
    note_read r = {ctx->host, key, NULL};
    if (note_key(ctx->host, key, name) != PORTICO_OK ||
        ctx->host->read(ctx, note_read_txn, &r) != PORTICO_OK)
        return NULL;
    json_t *v = json_incref(json_object_get(r.rec, "value"));
    json_decref(r.rec);
    return v;
}

/* GET .../notes/{key}: the note, with its revision as the ETag (304 when
 * the client has it already). */
int tn_note_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    char key[TN_KEY_CAP], etag[32];
    if (note_key(h, key, h->param(ctx, "key")) != PORTICO_OK) {
        h->respond_error(ctx, PORTICO_EBADREQUEST, "bad key");
        return PORTICO_OK;
    }
    note_read r = {h, key, NULL};
    int rc = h->read(ctx, note_read_txn, &r);
    if (rc != PORTICO_OK) {
        h->respond_error(ctx, rc, rc == PORTICO_ENOTFOUND ? "no such note" : NULL);
        return PORTICO_OK;
    }
    rev_etag(etag, rev_of(r.rec));
    if (!h->not_modified(ctx, etag))
        h->respond_json(ctx, 200, json_deep_copy(r.rec));
    json_decref(r.rec);
    return PORTICO_OK;
}

typedef struct note_write {
    const portico_host *host;
    const char *key, *name;
    const json_t *value;
    bool checked;         /* If-Match was given: the revision must not move */
    json_int_t seen, rev; /* revision checked, revision written */
} note_write;

static int note_write_txn(portico_txn *txn, void *arg)
{
    note_write *w = arg;
    json_t *old = NULL;
    int rc = w->host->get(txn, w->key, &old);
    if (rc != PORTICO_OK && rc != PORTICO_ENOTFOUND)
        return rc;
    json_int_t cur = rev_of(old);
    json_decref(old);
    if (w->checked && cur != w->seen)
        return PORTICO_ECONFLICT;
    w->rev = cur + 1;
    json_t *rec = json_pack("{s:s, s:O, s:I}", "key", w->name, "value", w->value, "rev", w->rev);
    rc = rec ? w->host->put(txn, w->key, rec) : PORTICO_ENOMEM;
    json_decref(rec);
    return rc;
}

/* PUT .../notes/{key} {"value": any}: If-Match against the revision
 * (412 when it moved), and the new revision as the ETag. */
int tn_note_put(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *name = h->param(ctx, "key");
    char key[TN_KEY_CAP], etag[32];
    if (note_key(h, key, name) != PORTICO_OK) {
        h->respond_error(ctx, PORTICO_EBADREQUEST, "bad key");
        return PORTICO_OK;
    }
    note_read r = {h, key, NULL};
    int rc = h->read(ctx, note_read_txn, &r);
    json_int_t seen = rev_of(r.rec);
    json_decref(r.rec);
    if (rc != PORTICO_OK && rc != PORTICO_ENOTFOUND) {
        h->respond_error(ctx, rc, NULL);
        return PORTICO_OK;
    }
    rev_etag(etag, seen);
    if (!h->precondition(ctx, etag))
        return PORTICO_OK;
    note_write w = {
        h,    key, name, json_object_get(h->body(ctx), "value"), h->header(ctx, "If-Match") != NULL,
        seen, 0};
    rc = h->write(ctx, note_write_txn, &w);
    if (rc != PORTICO_OK) {
        h->respond_error(ctx, rc, rc == PORTICO_ECONFLICT ? "the note changed meanwhile" : NULL);
        return PORTICO_OK;
    }
    rev_etag(etag, w.rev);
    h->set_header(ctx, "ETag", etag);
    h->respond_json(ctx, 200,
                    json_pack("{s:s, s:O, s:I}", "key", name, "value", w.value, "rev", w.rev));
    return PORTICO_OK;
}

/* ---- paged lists ---------------------------------------------------------- */

typedef struct page_list {
    const portico_host *host;
    const char *prefix;
    bool reverse;
    const char *except; /* a note name left out of the page (PORTICO_SKIP) */
    json_t *items, *next;
} page_list;

static int page_item(const char *key, const json_t *value, void *arg)
{
    (void)key;
    page_list *l = arg;
    const char *name = json_string_value(json_object_get(value, "key"));
    if (l->except != NULL && name != NULL && strcmp(name, l->except) == 0)
        return PORTICO_SKIP;
    json_t *item = json_deep_copy(value);
    json_object_del(item, "rev");
    return json_array_append_new(l->items, item) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

static int page_txn(portico_txn *txn, void *arg)
{
    page_list *l = arg;
    json_array_clear(l->items);
    json_decref(l->next);
    l->next = NULL;
    return l->host->page(txn, l->prefix, l->reverse, page_item, l, &l->next);
}

/* One page of `prefix`; ?limit and ?cursor are read by the host. */
static int answer_page(portico_ctx *ctx, const char *prefix, bool reverse, const char *except)
{
    const portico_host *h = ctx->host;
    page_list l = {h, prefix, reverse, except, json_array(), NULL};
    int rc = l.items ? h->read(ctx, page_txn, &l) : PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 200,
                        json_pack("{s:O, s:O?}", "items", l.items, "next_cursor", l.next));
    else
        h->respond_error(ctx, rc, NULL);
    json_decref(l.items);
    json_decref(l.next);
    return PORTICO_OK;
}

/* GET .../notes[?order=desc][&except=name] */
int tn_notes_list(portico_ctx *ctx)
{
    const char *order = ctx->host->query(ctx, "order");
    bool reverse = order != NULL && strcmp(order, "desc") == 0;
    return answer_page(ctx, "note/", reverse, ctx->host->query(ctx, "except"));
}

/* GET .../events */
int tn_events_list(portico_ctx *ctx)
{
    return answer_page(ctx, "event/", false, NULL);
}

typedef struct count_arg {
    const portico_host *host;
    int n;
} count_arg;

static int count_cb(const char *key, const json_t *value, void *arg)
{
    (void)key;
    (void)value;
    ((count_arg *)arg)->n++;
    return PORTICO_OK;
}

static int count_txn(portico_txn *txn, void *arg)
{
    count_arg *c = arg;
    c->n = 0;
    return c->host->scan(txn, "note/", NULL, false, count_cb, c);
}

int tn_notes_count(portico_ctx *ctx, int *out)
{
    count_arg c = {ctx->host, 0};
    int rc = ctx->host->read(ctx, count_txn, &c);
    *out = c.n;
    return rc;
}

/* GET .../stats: an ETag computed by the host from the body. */
int tn_stats(portico_ctx *ctx)
{
    int n = 0;
    int rc = tn_notes_count(ctx, &n);
    if (rc == PORTICO_OK)
        ctx->host->respond_json_etag(ctx, json_pack("{s:i}", "notes", n));
    else
        ctx->host->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

/* ---- the caller and gates ------------------------------------------------- */

/* GET .../whoami: what the host says about the caller, the config, the
 * request and the organisation's today. */
int tn_whoami(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const portico_caller *c = ctx->caller;
    char today[11], ends[11] = "";
    h->date_format(today, h->today(ctx));
    if (c->access_ends >= 0)
        h->date_format(ends, c->access_ends);
    json_t *body = json_pack("{s:s, s:s, s:i, s:i, s:b, s:O, s:O?, s:I, s:s, s:s, s:s, s:s, s:s?}",
                             "username", c->username, "org", c->org, "roles", (int)c->roles,
                             "status", (int)c->status, "mfa", c->mfa, "config", h->config(ctx),
                             "person", c->person, "now_ms", (json_int_t)h->now_ms(), "today", today,
                             "method", h->method(ctx), "portlet_id", ctx->portlet_id, "request_id",
                             ctx->request_id, "access_ends", ends[0] ? ends : NULL);
    h->respond_json(ctx, 200, body);
    return PORTICO_OK;
}

/* Every gated route answers this once the host let the caller through. */
int tn_gate_ok(portico_ctx *ctx)
{
    ctx->host->respond_json(ctx, 200,
                            json_pack("{s:b, s:i, s:b}", "ok", 1, "status",
                                      (int)ctx->caller->status, "mfa", ctx->caller->mfa));
    return PORTICO_OK;
}

typedef struct person_arg {
    const portico_host *host;
    const char *username;
    json_t *person;
} person_arg;

static int person_txn(portico_txn *txn, void *arg)
{
    person_arg *p = arg;
    json_decref(p->person);
    p->person = NULL;
    return p->host->person_get(txn, p->username, &p->person);
}

/* GET .../people/{username}: person_get, confined to the caller's org. */
int tn_person_lookup(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    person_arg p = {h, h->param(ctx, "username"), NULL};
    int rc = h->read(ctx, person_txn, &p);
    if (rc == PORTICO_OK) {
        h->respond_json(ctx, 200, p.person);
        p.person = NULL;
    } else {
        h->respond_error(ctx, rc, rc == PORTICO_ENOTFOUND ? "no such person" : NULL);
    }
    json_decref(p.person);
    return PORTICO_OK;
}

/* ---- events ----------------------------------------------------------------- */

typedef struct event_arg {
    const portico_host *host;
    uint64_t seq;
    int people;
    int64_t employees;
} event_arg;

static int count_person(const json_t *person, void *arg)
{
    (void)person;
    ((event_arg *)arg)->people++;
    return PORTICO_OK;
}

static int event_txn(portico_txn *txn, void *arg)
{
    event_arg *e = arg;
    const portico_host *h = e->host;
    e->people = 0;
    char seq[24], key[TN_KEY_CAP];
    int rc = h->next_seq(txn, "events", &e->seq);
    if (rc != PORTICO_OK)
        return rc;
    snprintf(seq, sizeof(seq), "%010llu", (unsigned long long)e->seq);
    json_t *after = json_pack("{s:I}", "seq", (json_int_t)e->seq);
    rc = h->key(key, sizeof(key), "event", seq, NULL);
    if (rc == PORTICO_OK)
        rc = h->insert(txn, key, after);
    if (rc == PORTICO_OK)
        rc = h->audit(txn, "event.record", "events", NULL, after);
    json_decref(after);
    if (rc == PORTICO_OK)
        rc = h->people_each(txn, count_person, e);
    if (rc == PORTICO_OK)
        rc = h->people_count(txn, NULL, PORTICO_STATUS_EMPLOYEE, &e->employees);
    return rc;
}

/* POST .../events */
int tn_event_post(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    event_arg e = {h, 0, 0, 0};
    int rc = h->write(ctx, event_txn, &e);
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 201,
                        json_pack("{s:I, s:i, s:I}", "seq", (json_int_t)e.seq, "people", e.people,
                                  "employees", (json_int_t)e.employees));
    else
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

/* ---- bodies ----------------------------------------------------------------- */

/* POST .../shaped: the host checked the body against the route's schema
 * and size; the handler only echoes it. */
int tn_shaped(portico_ctx *ctx)
{
    const json_t *body = ctx->host->body(ctx);
    ctx->host->respond_json(ctx, 200, json_pack("{s:O?}", "got", body));
    return PORTICO_OK;
}

/* POST .../import (text/csv, raw): bytes and lines as received. */
int tn_import_csv(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    size_t len = 0;
    const char *data = h->body_raw(ctx, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    h->respond_json(ctx, 200,
                    json_pack("{s:I, s:I, s:b}", "bytes", (json_int_t)len, "lines",
                              (json_int_t)lines, "json_body", h->body(ctx) != NULL));
    return PORTICO_OK;
}

/* POST .../validate[?base=/pointer]: host->schema_validate against the
 * schema init() kept in the state. */
int tn_validate(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *base = h->query(ctx, "base");
    json_t *errors = json_array();
    int rc = h->schema_validate(ctx->state, h->body(ctx), base ? base : "", errors);
    if (rc == PORTICO_EINVAL) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    json_decref(errors);
    if (rc == PORTICO_OK)
        h->respond_bytes(ctx, 204, NULL, NULL, 0);
    else
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

/* ---- binary values ---------------------------------------------------------- */

typedef struct file_arg {
    const portico_host *host;
    const char *key;
    const char *content_type;
    const void *data;
    size_t len;
    char *copy; /* get: the bytes, copied out before the transaction ends */
    char type[128];
} file_arg;

static int file_put_txn(portico_txn *txn, void *arg)
{
    file_arg *f = arg;
    return f->host->put_bytes(txn, f->key, f->content_type, f->data, f->len);
}

/* PUT .../files/{name}: any body, stored as it came with its type. */
int tn_file_put(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    char key[TN_KEY_CAP];
    const char *name = h->param(ctx, "name");
    if (name == NULL || h->key(key, sizeof(key), "file", name, NULL) != PORTICO_OK) {
        h->respond_error(ctx, PORTICO_EBADREQUEST, "bad file name");
        return PORTICO_OK;
    }
    file_arg f = {.host = h, .key = key, .content_type = h->header(ctx, "Content-Type")};
    if (f.content_type == NULL)
        f.content_type = "application/octet-stream";
    f.data = h->body_raw(ctx, &f.len);
    int rc = h->write(ctx, file_put_txn, &f);
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 201,
                        json_pack("{s:s, s:I, s:s}", "name", name, "bytes", (json_int_t)f.len,
                                  "content_type", f.content_type));
    else
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

static int file_get_txn(portico_txn *txn, void *arg)
{
    file_arg *f = arg;
    const char *type = NULL;
    free(f->copy);
    f->copy = NULL;
    int rc = f->host->get_bytes(txn, f->key, &f->data, &f->len, &type);
    if (rc != PORTICO_OK)
        return rc;
    f->copy = malloc(f->len ? f->len : 1);
    if (f->copy == NULL)
        return PORTICO_ENOMEM;
    memcpy(f->copy, f->data, f->len);
    snprintf(f->type, sizeof(f->type), "%s", type ? type : "application/octet-stream");
    return PORTICO_OK;
}

/* The same key read as JSON: PORTICO_EINVAL, since it holds bytes. */
static int file_as_json_txn(portico_txn *txn, void *arg)
{
    file_arg *f = arg;
    json_t *v = NULL;
    int rc = f->host->get(txn, f->key, &v);
    json_decref(v);
    return rc;
}

static bool name_plain(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    }
    return true;
}

/* GET .../files/{name}: the bytes as an attachment; ?as=json reads the key
 * with get() instead and answers its result. */
int tn_file_get(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    char key[TN_KEY_CAP];
    const char *name = h->param(ctx, "name"), *as = h->query(ctx, "as");
    if (name == NULL || h->key(key, sizeof(key), "file", name, NULL) != PORTICO_OK) {
        h->respond_error(ctx, PORTICO_EBADREQUEST, "bad file name");
        return PORTICO_OK;
    }
    file_arg f = {.host = h, .key = key};
    if (as != NULL && strcmp(as, "json") == 0) {
        int rc = h->read(ctx, file_as_json_txn, &f);
        h->respond_json(ctx, 200, json_pack("{s:i}", "rc", rc));
        return PORTICO_OK;
    }
    int rc = h->read(ctx, file_get_txn, &f);
    if (rc == PORTICO_OK) {
        char disposition[160];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
                 name_plain(name) && strlen(name) < 100 ? name : "file");
        h->set_header(ctx, "Content-Disposition", disposition);
        h->respond_bytes(ctx, 200, f.type, f.copy, f.len);
    } else {
        h->respond_error(ctx, rc, rc == PORTICO_ENOTFOUND ? "no such file" : NULL);
    }
    free(f.copy);
    return PORTICO_OK;
}

/* ---- answers ------------------------------------------------------------------ */

/* GET .../headers?name=N&value=V: set_header's result, in the answer. */
int tn_set_header(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *name = h->query(ctx, "name"), *value = h->query(ctx, "value");
    int rc = h->set_header(ctx, name ? name : "", value ? value : "");
    h->respond_json(ctx, 200, json_pack("{s:i}", "rc", rc));
    return PORTICO_OK;
}

/* GET .../errors/{result}[?twice=1]: respond_error's mapping; with twice,
 * after an answer was sent already (it must do nothing). */
int tn_error(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *result = h->param(ctx, "result"), *twice = h->query(ctx, "twice");
    if (twice != NULL)
        h->respond_json(ctx, 200, json_pack("{s:b}", "first", 1));
    h->respond_error(ctx, result ? atoi(result) : PORTICO_ERR, "answered by respond_error");
    return PORTICO_OK;
}

/* GET .../fail: returns an error without answering (the host sends 500). */
int tn_fail(portico_ctx *ctx)
{
    (void)ctx;
    return PORTICO_ERR;
}

/* GET PREFIX: a non-JSON answer. */
int tn_text(portico_ctx *ctx)
{
    static const char msg[] = "plain text from " PORTLET_ID;
    ctx->host->respond_bytes(ctx, 200, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
    return PORTICO_OK;
}

/* A content type with CR/LF in it: the host must refuse to send it. */
int tn_text_injected(portico_ctx *ctx)
{
    ctx->host->respond_bytes(ctx, 200, "text/plain\r\nX-Injected: yes", "x", 1);
    return PORTICO_OK;
}

/* GET .../accepts?type=T: whether the request's Accept admits T. */
int tn_accepts(portico_ctx *ctx)
{
    const char *type = ctx->host->query(ctx, "type");
    ctx->host->respond_json(
        ctx, 200, json_pack("{s:b}", "accepts", type != NULL && ctx->host->accepts(ctx, type)));
    return PORTICO_OK;
}

/* ---- counters and keys ------------------------------------------------------- */

typedef struct counter_arg {
    const portico_host *host;
    const char *name;
    int64_t delta, value;
} counter_arg;

static int counter_add_txn(portico_txn *txn, void *arg)
{
    counter_arg *c = arg;
    return c->host->counter_add(txn, c->name, c->delta, &c->value);
}

static int counter_get_txn(portico_txn *txn, void *arg)
{
    counter_arg *c = arg;
    return c->host->counter_get(txn, c->name, &c->value);
}

static int counter_answer(portico_ctx *ctx, portico_txn_fn fn, bool write)
{
    const portico_host *h = ctx->host;
    char name[TN_KEY_CAP];
    const char *param = h->param(ctx, "name");
    if (param == NULL || h->key(name, sizeof(name), param, NULL) != PORTICO_OK) {
        h->respond_error(ctx, PORTICO_EBADREQUEST, "bad counter name");
        return PORTICO_OK;
    }
    counter_arg c = {h, name, json_integer_value(json_object_get(h->body(ctx), "delta")), 0};
    int rc = write ? h->write(ctx, fn, &c) : h->read(ctx, fn, &c);
    if (rc == PORTICO_OK)
        h->respond_json(ctx, 200, json_pack("{s:s, s:I}", "name", param, "value", c.value));
    else
        h->respond_error(ctx, rc, NULL);
    return PORTICO_OK;
}

/* POST .../counters/{name} {"delta": n} */
int tn_counter_add(portico_ctx *ctx)
{
    return counter_answer(ctx, counter_add_txn, true);
}

/* GET .../counters/{name} */
int tn_counter_get(portico_ctx *ctx)
{
    return counter_answer(ctx, counter_get_txn, false);
}

/* GET .../key?a=A&b=B: the key host->key() builds from ("k", A, B). */
int tn_key(portico_ctx *ctx)
{
    const portico_host *h = ctx->host;
    const char *a = h->query(ctx, "a"), *b = h->query(ctx, "b");
    char key[TN_KEY_CAP];
    int rc = h->key(key, sizeof(key), "k", a ? a : "", b ? b : "", NULL);
    h->respond_json(ctx, 200, json_pack("{s:i, s:s?}", "rc", rc, "key", rc == 0 ? key : NULL));
    return PORTICO_OK;
}
