/*
 * portlet_storage.c - the storage half of the host table: transactions,
 * keys, JSON and binary values, scans, pages, counters, people and audit.
 *
 * Scoping is done here and only here.  Every key a portlet names becomes
 * (caller's org, portlet id, key) in PT_T_PORTLET_DATA; people, org and
 * audit go to the caller's org.  There is no argument through which a
 * portlet could reach another organisation or another portlet.
 *
 * Values: JSON is stored as compact JSON text; bytes as a NUL, the content
 * type, a NUL and the bytes (JSON text never starts with NUL).  Counters
 * live under the scope followed by an empty key part, which no portlet key
 * can spell (keys are at least one non-NUL byte).
 */
#include "http/cursor.h"
#include "host/portlet_ctx.h"

#include "admin/people.h"
#include "base/clock.h"
#include "store/model.h"
#include "store/people_counts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_NAME_MAX   128
#define ACTION_MAX     128
#define CTYPE_MAX      127
#define PAGE_LIMIT_MAX 500
#define PAGE_LIMIT_DEF 50
#define COUNTER_TAG    "c"

int pt_ph_result(int err)
{
    switch (err) {
    case PT_OK:
    case PT_ENOTFOUND:
    case PT_EEXISTS:
    case PT_EINVAL:
    case PT_ENOMEM:
    case PT_EIO:
    case PT_ECONFLICT:
    case PT_ESTOP:
    case PT_EDENIED: /* == PORTICO_EFORBIDDEN */
    case PORTICO_EBADREQUEST:
        return err;
    case PT_ETOOBIG:
        return PORTICO_EINVAL;
    default:
        return err > 0 ? err : PORTICO_ERR;
    }
}

/* ---- transactions ------------------------------------------------------------ */

typedef struct txn_call {
    pt_pctx *ctx;
    portico_txn_fn fn;
    void *arg;
    bool write;
    bool ran;
    int fn_rc; /* what the portlet's callback returned (last run) */
} txn_call;

static int txn_trampoline(pt_txn *txn, void *arg)
{
    txn_call *c = arg;
    portico_txn t = {txn, c->ctx, c->write};
    c->ran = true;
    c->fn_rc = c->fn(&t, c->arg);
    return c->fn_rc;
}

/* The portlet's own result comes back to it unchanged (its codes are its
 * business); only what the store said is mapped. */
static int txn_result(const txn_call *c, int rc)
{
    return c->ran && rc == c->fn_rc ? rc : pt_ph_result(rc);
}

int pt_ph_read(portico_ctx *pub, portico_txn_fn fn, void *arg)
{
    pt_pctx *c = pt_pctx_of(pub);
    if (!pub || !fn || !c->org)
        return PORTICO_EINVAL;
    txn_call call = {c, fn, arg, false, false, 0};
    return txn_result(&call, pt_pctx_read(c, txn_trampoline, &call));
}

/*
 * The request's read snapshot holds the store's shared lock, which a
 * writer on the same thread must not hold (growing the map needs it
 * exclusive), so the snapshot ends here and the next read begins a fresh
 * one that sees this write.
 */
int pt_ph_write(portico_ctx *pub, portico_txn_fn fn, void *arg)
{
    pt_pctx *c = pt_pctx_of(pub);
    if (!pub || !fn || !c->org || c->read_only)
        return PORTICO_EINVAL;
    if (c->own_snap) {
        pt_store_snapshot_end(c->snap);
        c->snap = NULL;
        c->own_snap = false;
    } else if (c->req_snap) {
        pt_req_snapshot_end(c->req);
        c->snap = NULL;
        c->req_snap = false;
    } else if (c->snap) {
        return PORTICO_EINVAL; /* inside someone else's read */
    }
    txn_call call = {c, fn, arg, true, false, 0};
    return txn_result(&call, pt_store_write(c->app->store, txn_trampoline, &call));
}

/* ---- keys ---------------------------------------------------------------------- */

/* '%' and '/' inside a part are escaped so parts never run together. */
int pt_ph_key(char *buf, size_t cap, const char *part, ...)
{
    va_list ap;
    size_t o = 0;
    bool first = true;
    int rc = 0;
    if (!buf || cap == 0)
        return PORTICO_EINVAL;
    va_start(ap, part);
    for (const char *p = part; p; p = va_arg(ap, const char *)) {
        if (!first) {
            if (o + 1 >= cap) {
                rc = PORTICO_EINVAL;
                break;
            }
            buf[o++] = '/';
        }
        first = false;
        for (; *p && rc == 0; p++) {
            bool esc = *p == '/' || *p == '%';
            size_t need = esc ? 3 : 1;
            if (o + need >= cap) {
                rc = PORTICO_EINVAL;
                break;
            }
            if (esc) {
                buf[o++] = '%';
                buf[o++] = '2';
                buf[o++] = *p == '/' ? 'F' : '5';
            } else {
                buf[o++] = *p;
            }
        }
        if (rc)
            break;
    }
    va_end(ap);
    buf[rc ? 0 : o] = '\0';
    if (rc == 0 && o > PORTICO_KEY_MAX) {
        buf[0] = '\0';
        rc = PORTICO_EINVAL;
    }
    return rc;
}

static bool user_key_valid(const char *key)
{
    if (!key)
        return false;
    size_t n = strnlen(key, PORTICO_KEY_MAX + 1);
    return n >= 1 && n <= PORTICO_KEY_MAX;
}

static const char *txn_portlet(const portico_txn *t)
{
    return t->ctx->pub.portlet_id;
}

/* (org, portlet, key): the only way a portlet key reaches the store. */
static int scoped_key(pt_key *k, const portico_txn *t, const char *key)
{
    if (!user_key_valid(key))
        return PORTICO_EINVAL;
    if (pt_key_build(k, t->ctx->org, txn_portlet(t), key, NULL) < 0)
        return PORTICO_EINVAL;
    return 0;
}

/* ---- JSON and binary values ------------------------------------------------------ */

static bool value_is_bytes(const pt_val *v)
{
    return v->len > 0 && ((const char *)v->data)[0] == '\0';
}

int pt_ph_get(portico_txn *t, const char *key, json_t **out)
{
    pt_key k;
    pt_val v;
    if (out)
        *out = NULL;
    if (!t || !out)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    if ((err = pt_txn_get(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, &v)) < 0)
        return pt_ph_result(err);
    if (value_is_bytes(&v))
        return PORTICO_EINVAL;
    *out = json_loadb(v.data, v.len, JSON_DECODE_ANY, NULL);
    return *out ? 0 : PORTICO_EIO;
}

static int put_raw(portico_txn *t, const char *key, const void *val, size_t len, bool insert)
{
    pt_key k;
    if (!t || !t->write)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    err = insert ? pt_txn_insert(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, val, len)
                 : pt_txn_put(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, val, len);
    return pt_ph_result(err);
}

static int put_json(portico_txn *t, const char *key, const json_t *value, bool insert)
{
    if (!t || !value)
        return PORTICO_EINVAL;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!text)
        return PORTICO_EINVAL;
    int err = put_raw(t, key, text, strlen(text), insert);
    free(text);
    return err;
}

int pt_ph_put(portico_txn *t, const char *key, const json_t *value)
{
    return put_json(t, key, value, false);
}

int pt_ph_insert(portico_txn *t, const char *key, const json_t *value)
{
    return put_json(t, key, value, true);
}

int pt_ph_del(portico_txn *t, const char *key)
{
    pt_key k;
    if (!t || !t->write)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    return pt_ph_result(pt_txn_del(t->txn, PT_T_PORTLET_DATA, k.buf, k.len));
}

static bool ctype_valid(const char *ct)
{
    size_t n = 0;
    for (const char *c = ct; c && *c; c++, n++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return ct && n >= 3 && n <= CTYPE_MAX && strchr(ct, '/');
}

int pt_ph_put_bytes(portico_txn *t, const char *key, const char *content_type, const void *data,
                    size_t len)
{
    if (!t || !ctype_valid(content_type) || (!data && len))
        return PORTICO_EINVAL;
    size_t clen = strlen(content_type);
    size_t total = 2 + clen + len;
    char *v = malloc(total);
    if (!v)
        return PORTICO_ENOMEM;
    v[0] = '\0';
    memcpy(v + 1, content_type, clen);
    v[1 + clen] = '\0';
    if (len)
        memcpy(v + 2 + clen, data, len);
    int err = put_raw(t, key, v, total, false);
    free(v);
    return err;
}

/* The bytes are LMDB's own pages: no copy, valid until the txn ends. */
int pt_ph_get_bytes(portico_txn *t, const char *key, const void **data, size_t *len,
                    const char **content_type)
{
    pt_key k;
    pt_val v;
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (content_type)
        *content_type = NULL;
    if (!t || !data || !len)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    if ((err = pt_txn_get(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, &v)) < 0)
        return pt_ph_result(err);
    if (!value_is_bytes(&v))
        return PORTICO_EINVAL;
    const char *p = v.data;
    const char *end = memchr(p + 1, '\0', v.len - 1);
    if (!end)
        return PORTICO_EIO;
    if (content_type)
        *content_type = p + 1;
    *data = end + 1;
    *len = v.len - (size_t)(end + 1 - p);
    return 0;
}

/*
 * What a PT_T_PORTLET_DATA record may hold, for `portico check`: a
 * counter (8 bytes, under an empty key part), bytes (NUL, content type,
 * NUL, data) or JSON text.  Knows the layout so the checker need not.
 */
bool pt_portlet_record_valid(const void *key, size_t klen, const void *val, size_t vlen,
                             const char **why)
{
    const char *k = key, *v = val;
    const char *sep1 = memchr(k, '\0', klen);
    const char *sep2 = sep1 ? memchr(sep1 + 1, '\0', klen - (size_t)(sep1 + 1 - k)) : NULL;
    *why = NULL;
    if (!sep2) {
        *why = "key is not org, portlet and key";
        return false;
    }
    if ((size_t)(sep2 + 1 - k) < klen && sep2[1] == '\0') {
        if (vlen != sizeof(int64_t))
            *why = "counter is not 8 bytes";
        return *why == NULL;
    }
    if (vlen > 0 && v[0] == '\0') {
        if (!memchr(v + 1, '\0', vlen - 1))
            *why = "binary value has no content type";
        return *why == NULL;
    }
    json_t *j = json_loadb(val, vlen, JSON_DECODE_ANY, NULL);
    if (!j)
        *why = "value is not valid JSON";
    json_decref(j);
    return j != NULL;
}

/* ---- scans and pages ------------------------------------------------------------ */

typedef struct scan_call {
    pt_txn *txn;
    size_t scope_len; /* bytes of "org\0portlet\0" to strip */
    portico_scan_fn fn;
    void *arg;
    int result;
} scan_call;

static int scan_trampoline(const pt_val *key, const pt_val *val, void *arg)
{
    scan_call *s = arg;
    char user[PORTICO_KEY_MAX + 1];
    if (key->len <= s->scope_len || key->len - s->scope_len > PORTICO_KEY_MAX)
        return 0; /* not a key this API could have written */
    size_t n = key->len - s->scope_len;
    memcpy(user, (const char *)key->data + s->scope_len, n);
    user[n] = '\0';
    if (user[0] == '\0' || value_is_bytes(val))
        return 0; /* counters and bytes are not part of a JSON walk */
    /* The callback gets a const value (borrowed): the store's shared copy. */
    json_t *v = NULL;
    int rc = pt_txn_json_of(s->txn, PT_T_PORTLET_DATA, key, val, &v);
    if (rc < 0)
        return rc;
    rc = s->fn(user, v, s->arg);
    json_decref(v);
    if (rc == PORTICO_ESTOP)
        return PT_ESTOP;
    if (rc < 0) {
        s->result = rc;
        return rc;
    }
    return 0;
}

int pt_ph_scan(portico_txn *t, const char *prefix, const char *after, bool reverse,
               portico_scan_fn fn, void *arg)
{
    pt_key scope, pfx, aft;
    if (!t || !fn)
        return PORTICO_EINVAL;
    if (pt_key_build(&scope, t->ctx->org, txn_portlet(t), "", NULL) < 0)
        return PORTICO_EINVAL;
    if (prefix && strnlen(prefix, PORTICO_KEY_MAX + 1) > PORTICO_KEY_MAX)
        return PORTICO_EINVAL;
    if (pt_key_build(&pfx, t->ctx->org, txn_portlet(t), prefix ? prefix : "", NULL) < 0)
        return PORTICO_EINVAL;
    bool has_after = after && *after;
    if (has_after) {
        if (!user_key_valid(after) ||
            pt_key_build(&aft, t->ctx->org, txn_portlet(t), after, NULL) < 0)
            return PORTICO_EINVAL;
    }
    scan_call s = {t->txn, scope.len, fn, arg, 0};
    int err = pt_txn_scan(t->txn, PT_T_PORTLET_DATA, pfx.buf, pfx.len, has_after ? aft.buf : NULL,
                          has_after ? aft.len : 0, reverse, scan_trampoline, &s);
    if (s.result)
        return s.result;
    return pt_ph_result(err);
}

typedef struct page_call {
    portico_scan_fn fn;
    void *arg;
    unsigned limit, taken;
    bool more;
    char last[PORTICO_KEY_MAX + 1];
} page_call;

/* One item past the page is looked at (not handed to fn) to know whether
 * a next page exists, so the last page carries next_cursor null. */
static int page_item(const char *key, const json_t *value, void *arg)
{
    page_call *p = arg;
    if (p->taken == p->limit) {
        p->more = true;
        return PORTICO_ESTOP;
    }
    int rc = p->fn(key, value, p->arg);
    if (rc == PORTICO_ESTOP || rc < 0)
        return rc;
    pt_strlcpy(p->last, key, sizeof(p->last));
    if (rc != PORTICO_SKIP)
        p->taken++;
    return 0;
}

static int page_refuse(pt_pctx *c, const char *why)
{
    pt_strlcpy(c->bad, why, sizeof(c->bad));
    return PORTICO_EBADREQUEST;
}

static int page_limit(pt_pctx *c, unsigned *out)
{
    const char *q = pt_req_query(c->req, "limit");
    *out = PAGE_LIMIT_DEF;
    if (!q)
        return 0;
    unsigned long v = 0;
    size_t n = 0;
    for (; q[n]; n++) {
        if (q[n] < '0' || q[n] > '9' || n > 6)
            return page_refuse(c, "limit must be a whole number from 1 to 500");
        v = v * 10 + (unsigned long)(q[n] - '0');
    }
    if (n == 0 || v < 1 || v > PAGE_LIMIT_MAX)
        return page_refuse(c, "limit must be a whole number from 1 to 500");
    *out = (unsigned)v;
    return 0;
}

int pt_ph_page(portico_txn *t, const char *prefix, bool reverse, portico_scan_fn fn, void *arg,
               json_t **next_cursor)
{
    if (next_cursor)
        *next_cursor = NULL;
    if (!t || !fn || !next_cursor || !t->ctx->req)
        return PORTICO_EINVAL;
    pt_pctx *c = t->ctx;
    page_call p = {fn, arg, 0, 0, false, ""};
    int err = page_limit(c, &p.limit);
    if (err)
        return err;
    const char *pfx = prefix ? prefix : "";
    pt_cursor_scope scope = {c->org, c->pub.portlet_id, pfx, strlen(pfx), reverse};
    const unsigned char *secret = pt_plugins_cursor_secret(c->app->plugins);
    char after[PORTICO_KEY_MAX + 1] = "";
    const char *cur = pt_req_query(c->req, "cursor");
    if (cur) {
        size_t n = 0;
        if (pt_cursor_open(after, PORTICO_KEY_MAX, &n, secret, &scope, cur) < 0 ||
            memchr(after, '\0', n))
            return page_refuse(c, "the cursor is not one this list handed out");
        after[n] = '\0';
    }
    err = pt_ph_scan(t, pfx, after[0] ? after : NULL, reverse, page_item, &p);
    if (err < 0)
        return err;
    if (p.more && p.last[0])
        return pt_ph_result(pt_cursor_seal(next_cursor, secret, &scope, p.last, strlen(p.last)));
    *next_cursor = json_null();
    return 0;
}

/* ---- counters ------------------------------------------------------------------ */

int pt_ph_next_seq(portico_txn *t, const char *name, uint64_t *out)
{
    char full[SEQ_NAME_MAX + 2 * PT_ID_MAX + 8];
    if (!t || !out || !t->write || !name || !*name || strlen(name) > SEQ_NAME_MAX)
        return PORTICO_EINVAL;
    snprintf(full, sizeof(full), "p:%s:%s:%s", t->ctx->org, txn_portlet(t), name);
    return pt_ph_result(pt_txn_next_seq(t->txn, full, out));
}

static int counter_key(pt_key *k, const portico_txn *t, const char *name)
{
    if (!name || !*name || strlen(name) > SEQ_NAME_MAX)
        return PORTICO_EINVAL;
    if (pt_key_build(k, t->ctx->org, txn_portlet(t), "", COUNTER_TAG, name, NULL) < 0)
        return PORTICO_EINVAL;
    return 0;
}

static int counter_read(pt_txn *txn, const pt_key *k, int64_t *out)
{
    pt_val v;
    *out = 0;
    int err = pt_txn_get(txn, PT_T_PORTLET_DATA, k->buf, k->len, &v);
    if (err == PT_ENOTFOUND)
        return 0;
    if (err < 0)
        return pt_ph_result(err);
    if (v.len != sizeof(*out))
        return PORTICO_EIO;
    memcpy(out, v.data, sizeof(*out));
    return 0;
}

int pt_ph_counter_add(portico_txn *t, const char *name, int64_t delta, int64_t *out)
{
    pt_key k;
    int64_t v;
    if (out)
        *out = 0;
    if (!t || !t->write)
        return PORTICO_EINVAL;
    int err = counter_key(&k, t, name);
    if (err || (err = counter_read(t->txn, &k, &v)) < 0)
        return err;
    if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta))
        return PORTICO_EINVAL;
    v += delta;
    if ((err = pt_txn_put(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, &v, sizeof(v))) < 0)
        return pt_ph_result(err);
    if (out)
        *out = v;
    return 0;
}

int pt_ph_counter_get(portico_txn *t, const char *name, int64_t *out)
{
    pt_key k;
    if (out)
        *out = 0;
    if (!t || !out)
        return PORTICO_EINVAL;
    int err = counter_key(&k, t, name);
    if (err)
        return err;
    return counter_read(t->txn, &k, out);
}

/* ---- people, org, audit ---------------------------------------------------------- */

typedef struct people_call {
    portico_person_fn fn;
    void *arg;
    int days;
    int32_t today;
    int result;
} people_call;

static int people_trampoline(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    people_call *p = arg;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec)
        return PT_EIO;
    json_t *view = pt_person_view(rec, p->days, p->today);
    json_decref(rec);
    if (!view)
        return PT_ENOMEM;
    int rc = p->fn(view, p->arg);
    json_decref(view);
    if (rc == PORTICO_ESTOP)
        return PT_ESTOP;
    if (rc < 0) {
        p->result = rc;
        return rc;
    }
    return 0;
}

int pt_ph_people_each(portico_txn *t, portico_person_fn fn, void *arg)
{
    pt_key pfx;
    if (!t || !fn)
        return PORTICO_EINVAL;
    people_call p = {fn, arg, PT_LEAVER_ACCESS_DAYS_DEFAULT, pt_pctx_today(t->ctx), 0};
    int err = pt_org_leaver_days_get(&p.days, t->txn, t->ctx->org);
    if (err < 0)
        return pt_ph_result(err);
    if (pt_key_build(&pfx, t->ctx->org, NULL) < 0 || pt_key_as_prefix(&pfx) < 0)
        return PORTICO_EINVAL;
    err = pt_txn_scan(t->txn, PT_T_PEOPLE, pfx.buf, pfx.len, NULL, 0, false, people_trampoline, &p);
    if (p.result)
        return p.result;
    return pt_ph_result(err);
}

int pt_ph_person_get(portico_txn *t, const char *username, json_t **out)
{
    if (out)
        *out = NULL;
    if (!t || !out)
        return PORTICO_EINVAL;
    if (!username || !pt_username_valid(username))
        return PORTICO_ENOTFOUND;
    int days = PT_LEAVER_ACCESS_DAYS_DEFAULT;
    int err = pt_org_leaver_days_get(&days, t->txn, t->ctx->org);
    if (err < 0)
        return pt_ph_result(err);
    json_t *rec = NULL;
    if ((err = pt_person_get(&rec, t->txn, t->ctx->org, username)) < 0)
        return pt_ph_result(err);
    *out = pt_person_view(rec, days, pt_pctx_today(t->ctx));
    json_decref(rec);
    return *out ? 0 : PORTICO_ENOMEM;
}

/* Headcounts without a scan per request: see people_counts.h. */
int pt_ph_people_count(portico_txn *t, const char *staff_group, enum portico_status status,
                       int64_t *out)
{
    if (out)
        *out = 0;
    if (!t || !out || (unsigned)status > PORTICO_STATUS_LEAVER)
        return PORTICO_EINVAL;
    return pt_ph_result(pt_people_count_on(out, t->txn, t->ctx->org, pt_pctx_today(t->ctx),
                                           staff_group, (pt_status)status));
}

int pt_ph_org_get(portico_txn *t, json_t **out)
{
    if (out)
        *out = NULL;
    if (!t || !out)
        return PORTICO_EINVAL;
    /* A new reference the portlet owns (and may change): a copy of what
     * the store shares between readers. */
    json_t *rec = NULL;
    int err = pt_org_get(&rec, t->txn, t->ctx->org);
    if (err == 0 && !(*out = json_deep_copy(rec)))
        err = PT_ENOMEM;
    json_decref(rec);
    return pt_ph_result(err);
}

int pt_ph_audit(portico_txn *t, const char *action, const char *target, const json_t *before,
                const json_t *after)
{
    char full[ACTION_MAX + PT_ID_MAX + 2];
    if (!t || !t->write || !action || !*action || strlen(action) > ACTION_MAX)
        return PORTICO_EINVAL;
    snprintf(full, sizeof(full), "%s.%s", txn_portlet(t), action);
    return pt_ph_result(
        pt_audit_append(t->txn, t->ctx->org, t->ctx->caller.username, full, target, before, after));
}
