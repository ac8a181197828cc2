/*
 * fw_store.c - the storage layout of flexible working requests (see
 * fw_host.h) and the one function that moves a request between states
 * while keeping every index, the day aggregate, the history and the
 * audit log in step.
 */
#include "fw_host.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool fw_id_valid(const char *s)
{
    size_t n = 0;
    for (; s != NULL && s[n] != '\0'; n++)
        if (!isdigit((unsigned char)s[n]))
            return false;
    return n == FW_ID_LEN;
}

int fw_request_get(const portico_host *h, portico_txn *txn, const char *id, json_t **rec)
{
    char key[PORTICO_KEY_MAX + 1];
    *rec = NULL;
    if (!fw_id_valid(id))
        return PORTICO_ENOTFOUND;
    int rc = h->key(key, sizeof(key), "req", id, NULL);
    return rc == PORTICO_OK ? h->get(txn, key, rec) : rc;
}

int fw_request_put(const portico_host *h, portico_txn *txn, json_t *rec)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), "req", json_string_value(json_object_get(rec, "id")), NULL);
    return rc == PORTICO_OK ? h->put(txn, key, rec) : rc;
}

fw_state fw_request_state(const json_t *rec)
{
    return fw_state_parse(json_string_value(json_object_get(rec, "status")));
}

int32_t fw_date_field(const portico_host *h, const json_t *obj, const char *name)
{
    int32_t d;
    const char *s = json_string_value(json_object_get(obj, name));
    return s != NULL && h->date_parse(s, &d) ? d : -1;
}

void fw_manager_of(const portico_host *h, portico_txn *txn, const char *username, char *out,
                   size_t cap)
{
    json_t *p = NULL;
    out[0] = '\0';
    if (h->person_get(txn, username, &p) == PORTICO_OK) {
        const char *m = json_string_value(json_object_get(p, "manager"));
        if (m != NULL)
            snprintf(out, cap, "%s", m);
    }
    json_decref(p);
}

static int day_key(const portico_host *h, char *key, size_t cap, int32_t day)
{
    char d[11];
    h->date_format(d, day);
    return h->key(key, cap, "day", d, NULL);
}

int fw_day_load(const portico_host *h, portico_txn *txn, int32_t received, json_t **agg)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = day_key(h, key, sizeof(key), received);
    if (rc != PORTICO_OK)
        return rc;
    rc = h->get(txn, key, agg);
    if (rc == PORTICO_ENOTFOUND) {
        *agg = json_object();
        rc = *agg ? PORTICO_OK : PORTICO_ENOMEM;
    }
    return rc;
}

int fw_day_store(const portico_host *h, portico_txn *txn, int32_t received, json_t *agg)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = day_key(h, key, sizeof(key), received);
    return rc == PORTICO_OK ? h->put(txn, key, agg) : rc;
}

/* An index entry {id[, name: value]} under part1/part2/id. */
static int index_put(const portico_host *h, portico_txn *txn, const char *part1, const char *part2,
                     const char *id, const char *name, const char *value)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), part1, part2, id, NULL);
    if (rc != PORTICO_OK)
        return rc;
    json_t *v =
        name ? json_pack("{s:s, s:s}", "id", id, name, value) : json_pack("{s:s}", "id", id);
    if (v == NULL)
        return PORTICO_ENOMEM;
    rc = h->put(txn, key, v);
    json_decref(v);
    return rc;
}

static int index_del(const portico_host *h, portico_txn *txn, const char *part1, const char *part2,
                     const char *id)
{
    char key[PORTICO_KEY_MAX + 1];
    int rc = h->key(key, sizeof(key), part1, part2, id, NULL);
    if (rc == PORTICO_OK)
        rc = h->del(txn, key);
    return rc == PORTICO_ENOTFOUND ? PORTICO_OK : rc;
}

static const char *str(const json_t *rec, const char *name)
{
    return json_string_value(json_object_get(rec, name));
}

/*
 * open/<user> says "this employee has a request in progress" in one read,
 * await/<manager>/ feeds the manager's card and due/<date>/ the overdue
 * list; all three hold only open requests, so they stay as small as the
 * number of employees.
 */
int fw_open_index_put(const portico_host *h, portico_txn *txn, const json_t *rec)
{
    char key[PORTICO_KEY_MAX + 1];
    const char *id = str(rec, "id"), *user = str(rec, "requester"), *mgr = str(rec, "manager");
    const char *due = str(rec, "decision_due"), *received = str(rec, "received");
    int rc = h->key(key, sizeof(key), "open", user, NULL);
    json_t *v = json_pack("{s:s}", "id", id);
    if (v == NULL)
        rc = PORTICO_ENOMEM;
    if (rc == PORTICO_OK)
        rc = h->put(txn, key, v);
    json_decref(v);
    if (rc == PORTICO_OK && mgr != NULL)
        rc = index_put(h, txn, "await", mgr, id, "decision_due", due);
    if (rc == PORTICO_OK)
        rc = index_put(h, txn, "due", due, id, "received", received);
    return rc;
}

int fw_open_index_del(const portico_host *h, portico_txn *txn, const json_t *rec)
{
    char key[PORTICO_KEY_MAX + 1];
    const char *id = str(rec, "id"), *user = str(rec, "requester"), *mgr = str(rec, "manager");
    json_t *open = NULL;
    int rc = h->key(key, sizeof(key), "open", user, NULL);
    if (rc == PORTICO_OK && h->get(txn, key, &open) == PORTICO_OK &&
        json_equal(json_object_get(open, "id"), json_object_get(rec, "id")))
        rc = h->del(txn, key);
    json_decref(open);
    if (rc == PORTICO_OK && mgr != NULL)
        rc = index_del(h, txn, "await", mgr, id);
    if (rc == PORTICO_OK)
        rc = index_del(h, txn, "due", str(rec, "decision_due"), id);
    return rc;
}

/* What the audit log keeps of a request: its state, never its text. */
static json_t *audit_view(const json_t *rec)
{
    json_t *v = json_object();
    static const char *const fields[] = {"status", "outcome", "decision_due", NULL};
    for (size_t i = 0; v != NULL && fields[i] != NULL; i++) {
        json_t *f = json_object_get(rec, fields[i]);
        json_object_set_new(v, fields[i], f ? json_incref(f) : json_null());
    }
    return v;
}

static int history_add(const portico_host *h, json_t *rec, fw_event ev, fw_state from, fw_state to,
                       const char *actor, int64_t now, const json_t *extra)
{
    char at[21];
    h->time_format(at, now);
    json_t *history = json_object_get(rec, "history");
    if (!json_is_array(history)) {
        history = json_array();
        if (history == NULL || json_object_set_new(rec, "history", history) != 0)
            return PORTICO_ENOMEM;
    }
    json_t *e = json_pack("{s:s, s:o, s:s, s:s, s:s}", "event", fw_event_name(ev), "from",
                          from == FW_STATE_NONE ? json_null() : json_string(fw_state_name(from)),
                          "to", fw_state_name(to), "at", at, "by", actor);
    if (e == NULL)
        return PORTICO_ENOMEM;
    if (extra != NULL)
        json_object_update_missing(e, (json_t *)extra);
    json_object_set_new(rec, "updated_at", json_string(at));
    return json_array_append_new(history, e) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

int fw_transition_apply(const portico_host *h, portico_txn *txn, json_t *rec, json_t *agg,
                        fw_event ev, fw_state to, const char *actor, int64_t now,
                        const json_t *extra)
{
    const char *id = str(rec, "id");
    fw_state from = ev == FW_EV_SUBMIT ? FW_STATE_NONE : fw_request_state(rec);
    json_t *before = from == FW_STATE_NONE ? NULL : audit_view(rec);
    int rc = PORTICO_OK;
    if (from != to) {
        if (from != FW_STATE_NONE)
            rc = index_del(h, txn, "status", fw_state_name(from), id);
        if (rc == PORTICO_OK)
            rc = index_put(h, txn, "status", fw_state_name(to), id, NULL, NULL);
        if (rc == PORTICO_OK && from != FW_STATE_NONE)
            rc = fw_agg_add(agg, "status", fw_state_name(from), -1) == 0 ? PORTICO_OK
                                                                         : PORTICO_ENOMEM;
        if (rc == PORTICO_OK)
            rc = fw_agg_add(agg, "status", fw_state_name(to), 1) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
        json_object_set_new(rec, "status", json_string(fw_state_name(to)));
        bool was_open = from != FW_STATE_NONE && fw_state_open(from);
        if (rc == PORTICO_OK && was_open && !fw_state_open(to))
            rc = fw_open_index_del(h, txn, rec);
        else if (rc == PORTICO_OK && !was_open && fw_state_open(to))
            rc = fw_open_index_put(h, txn, rec);
        if (rc == PORTICO_OK && !fw_state_open(to)) {
            char at[21];
            h->time_format(at, now);
            json_object_set_new(rec, "concluded_at", json_string(at));
        } else if (rc == PORTICO_OK) {
            json_object_set_new(rec, "concluded_at", json_null());
        }
    }
    if (rc == PORTICO_OK)
        rc = history_add(h, rec, ev, from, to, actor, now, extra);
    json_int_t version = json_integer_value(json_object_get(rec, "version")) + 1;
    json_object_set_new(rec, "version", json_integer(version));
    json_t *after = audit_view(rec);
    if (rc == PORTICO_OK) {
        char action[64];
        snprintf(action, sizeof(action), "request.%s", fw_event_name(ev));
        rc = h->audit(txn, action, id, before, after);
    }
    json_decref(before);
    json_decref(after);
    return rc;
}
