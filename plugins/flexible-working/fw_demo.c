/*
 * fw_demo.c - the demo organisation's flexible working requests, placed
 * relative to today so the demo never looks stale: one in consultation
 * and overdue (emp.eddie), one rejected and appealed (doc.dev), one
 * approved with changes (nurse.nia), one just submitted by someone with no
 * manager, for hr.admin to decide (hca.holly), and one withdrawn
 * (physio.pete).  They go through the same transactions as the routes.
 */
#include "fw_host.h"

#include <string.h>

#define DAY 86400

typedef struct demo_write {
    const portico_host *h;
    int64_t now;
    int32_t today;
    json_t *scratch[2];
} demo_write;

static int demo_create(portico_txn *txn, demo_write *w, const char *user, int days_ago,
                       json_t *body, char id[FW_ID_LEN + 1])
{
    const portico_host *h = w->h;
    json_t *person = NULL;
    int rc = h->person_get(txn, user, &person);
    if (rc == PORTICO_OK) {
        fw_new n = {.h = h,
                    .body = body,
                    .person = person,
                    .username = user,
                    .policy = FW_POLICY_STATUTORY,
                    .now = w->now - (int64_t)days_ago * DAY,
                    .today = w->today - days_ago,
                    .rec = w->scratch[0]};
        rc = fw_create_txn(txn, &n);
        w->scratch[0] = n.rec;
        if (rc == PORTICO_OK)
            memcpy(id, json_string_value(json_object_get(n.rec, "id")), FW_ID_LEN + 1);
    }
    json_decref(person);
    json_decref(body);
    return rc;
}

static int demo_act(portico_txn *txn, demo_write *w, const char *id, fw_event ev, const char *actor,
                    int days_ago, json_t *body)
{
    fw_act a = {.h = w->h,
                .event = ev,
                .id = id,
                .body = body,
                .actor = actor,
                .roles = PORTICO_ROLE_HR_ADMIN,
                .trusted = true,
                .now = w->now - (int64_t)days_ago * DAY,
                .today = w->today - days_ago,
                .rec = w->scratch[1]};
    int rc = fw_act_txn(txn, &a);
    w->scratch[1] = a.rec;
    json_decref(a.errors);
    json_decref(body);
    return rc;
}

static json_t *request_body(const char *change, int start_in_days, const demo_write *w,
                            int days_ago, const char *current, const char *requested)
{
    const portico_host *h = w->h;
    char start[11];
    h->date_format(start, w->today - days_ago + start_in_days);
    return json_pack("{s:[s], s:s, s:s, s:s, s:s, s:b}", "change_types", change, "proposed_start",
                     start, "current_pattern", current, "requested_pattern", requested,
                     "description", "Demo request", "previous_request", 0);
}

static json_t *meeting(const demo_write *w, int days_ago, bool attended)
{
    const portico_host *h = w->h;
    char at[21];
    h->time_format(at, w->now - (int64_t)days_ago * DAY);
    return json_pack("{s:s, s:b, s:s}", "held_at", at, "attended", attended, "notes",
                     "Talked through cover for the team");
}

static int demo_txn(portico_txn *txn, void *arg)
{
    demo_write *w = arg;
    char eddie[FW_ID_LEN + 1], dev[FW_ID_LEN + 1], nia[FW_ID_LEN + 1], holly[FW_ID_LEN + 1],
        pete[FW_ID_LEN + 1];
    int rc = demo_create(
        txn, w, "emp.eddie", 75,
        request_body("compressed_hours", 60, w, 75, "5 x 7.5h, Mon-Fri", "4 x 9.4h, Mon-Thu"),
        eddie);
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, eddie, FW_EV_MEETING, "manager.mary", 60, meeting(w, 60, true));
    if (rc == PORTICO_OK)
        rc = demo_create(txn, w, "doc.dev", 50,
                         request_body("part_time", 40, w, 50, "Full time, 40h", "0.6 WTE, 24h"),
                         dev);
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, dev, FW_EV_MEETING, "manager.mary", 40, meeting(w, 40, true));
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, dev, FW_EV_DECIDE, "manager.mary", 30,
                      json_pack("{s:s, s:[s,s], s:s}", "outcome", "rejected", "business_reasons",
                                "recruit_staff", "customer_demand", "explanation",
                                "The rota cannot cover the clinic without a second registrar"));
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, dev, FW_EV_APPEAL, "doc.dev", 25,
                      json_pack("{s:s}", "grounds", "A locum is already funded for two sessions"));
    if (rc == PORTICO_OK)
        rc = demo_create(
            txn, w, "nurse.nia", 120,
            request_body("self_rostering", 30, w, 120, "Fixed long days", "Self-rostered shifts"),
            nia);
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, nia, FW_EV_MEETING, "manager.mary", 110, meeting(w, 110, true));
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, nia, FW_EV_DECIDE, "manager.mary", 100,
                      json_pack("{s:s, s:s}", "outcome", "approved_with_changes", "explanation",
                                "Self-rostering within the ward's core hours"));
    if (rc == PORTICO_OK)
        rc = demo_create(txn, w, "hca.holly", 3,
                         request_body("remote_or_hybrid", 45, w, 3, "On site 5 days",
                                      "Admin day at home on Fridays"),
                         holly);
    if (rc == PORTICO_OK)
        rc = demo_create(txn, w, "physio.pete", 200,
                         request_body("term_time", 60, w, 200, "All year", "Term time only"), pete);
    if (rc == PORTICO_OK)
        rc = demo_act(txn, w, pete, FW_EV_WITHDRAW, "physio.pete", 190, json_object());
    (void)holly;
    return rc;
}

int fw_demo(portico_ctx *ctx, json_t **config)
{
    const portico_host *h = ctx->host;
    demo_write w = {.h = h, .now = h->now_ms() / 1000, .today = h->today(ctx)};
    int rc = h->write(ctx, demo_txn, &w);
    json_decref(w.scratch[0]);
    json_decref(w.scratch[1]);
    if (rc != PORTICO_OK)
        return rc;
    *config = json_pack("{s:s}", "policy", "statutory");
    return *config ? PORTICO_OK : PORTICO_ENOMEM;
}
