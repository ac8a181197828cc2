/*
 * fw_actions.c - everything that happens to a request after it is made:
 * consultation meetings, the decision, an appeal and its decision,
 * withdrawal, treated-as-withdrawn and deadline extensions.  One
 * transaction body checks who may act, asks the state table whether the
 * event may happen now, applies the event's own rule and records the
 * transition.
 */
#include "fw_host.h"

#include <stdio.h>
#include <string.h>

static int refuse(fw_act *a, int http, const char *code, const char *fmt, const char *arg)
{
    a->http = http;
    a->code = code;
    snprintf(a->detail, sizeof(a->detail), fmt, arg ? arg : "");
    return http == 404 ? PORTICO_ENOTFOUND : http == 403 ? PORTICO_EFORBIDDEN : PORTICO_ECONFLICT;
}

static int invalid(fw_act *a, const char *pointer, const char *message)
{
    const portico_host *h = a->h;
    if (a->errors == NULL)
        a->errors = json_array();
    h->invalid_add(a->errors, pointer, message);
    a->http = 422;
    return PORTICO_EINVAL;
}

static const char *str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

bool fw_may_read(const portico_host *h, portico_txn *txn, const json_t *rec, const char *user,
                 unsigned roles)
{
    const char *requester = str(rec, "requester");
    if ((roles & PORTICO_ROLE_HR_ADMIN) || (requester && strcmp(requester, user) == 0))
        return true;
    char mgr[128];
    fw_manager_of(h, txn, requester, mgr, sizeof(mgr));
    return mgr[0] != '\0' && strcmp(mgr, user) == 0;
}

/*
 * The requester acts on their own request; a decider is the requester's
 * manager as the person record says now, or an hr_admin, and never the
 * requester (nobody decides their own request, whatever their role).
 */
static int authorize(fw_act *a, const json_t *rec, const char *manager)
{
    const char *requester = str(rec, "requester");
    bool self = requester != NULL && strcmp(requester, a->actor) == 0;
    if (fw_event_actor(a->event) == FW_ACTOR_REQUESTER) {
        if (!self)
            return refuse(a, 403, "forbidden", "only the requester (%s) may do this", requester);
        return PORTICO_OK;
    }
    if (self)
        return refuse(a, 403, "forbidden", "nobody decides or manages their own request%s", NULL);
    if (!(a->roles & PORTICO_ROLE_HR_ADMIN) && strcmp(manager, a->actor) != 0)
        return refuse(a, 403, "forbidden",
                      "only the requester's manager or an hr_admin may do this%s", NULL);
    return PORTICO_OK;
}

/*
 * The manager named on the request follows the person record: when it
 * changed since the request was made, the team and awaiting-decision
 * indices move to the new manager at the next event.
 */
static int manager_sync(const portico_host *h, portico_txn *txn, json_t *rec, const char *manager)
{
    const char *old = str(rec, "manager");
    if ((old == NULL && manager[0] == '\0') || (old != NULL && strcmp(old, manager) == 0))
        return PORTICO_OK;
    char key[PORTICO_KEY_MAX + 1];
    const char *id = str(rec, "id");
    bool open = fw_state_open(fw_request_state(rec));
    int rc = open ? fw_open_index_del(h, txn, rec) : PORTICO_OK;
    if (rc == PORTICO_OK && old != NULL &&
        h->key(key, sizeof(key), "team", old, id, NULL) == PORTICO_OK) {
        rc = h->del(txn, key);
        rc = rc == PORTICO_ENOTFOUND ? PORTICO_OK : rc;
    }
    json_object_set_new(rec, "manager", manager[0] ? json_string(manager) : json_null());
    if (rc == PORTICO_OK && manager[0] != '\0') {
        json_t *ref = json_pack("{s:s}", "id", id);
        rc = h->key(key, sizeof(key), "team", manager, id, NULL);
        if (rc == PORTICO_OK)
            rc = ref ? h->put(txn, key, ref) : PORTICO_ENOMEM;
        json_decref(ref);
    }
    if (rc == PORTICO_OK && open)
        rc = fw_open_index_put(h, txn, rec);
    return rc;
}

static const char *body_str(const fw_act *a, const char *name)
{
    return str(a->body, name);
}

static json_t *body_text(const fw_act *a, const char *name)
{
    const char *s = body_str(a, name);
    return s != NULL ? json_string(s) : json_null();
}

static int meeting_apply(fw_act *a, json_t *rec)
{
    const portico_host *h = a->h;
    json_t *meetings = json_object_get(rec, "meetings");
    if (json_array_size(meetings) >= FW_MEETINGS_MAX)
        return refuse(a, 409, "conflict", "a request holds at most 20 meetings%s", NULL);
    int64_t held, received;
    if (!h->time_parse(body_str(a, "held_at"), &held))
        return invalid(a, "/held_at", "must be an RFC 3339 date-time");
    if (held > a->now)
        return invalid(a, "/held_at", "is in the future; record a meeting once it was held");
    if (h->time_parse(str(rec, "received_at"), &received) && held < received)
        return invalid(a, "/held_at", "is before the request was received");
    char held_at[21], at[21];
    h->time_format(held_at, held);
    h->time_format(at, a->now);
    bool attended = json_is_true(json_object_get(a->body, "attended"));
    json_t *m =
        json_pack("{s:s, s:b, s:b, s:o, s:s, s:s}", "held_at", held_at, "attended", attended,
                  "good_reason", !attended && json_is_true(json_object_get(a->body, "good_reason")),
                  "notes", body_text(a, "notes"), "recorded_by", a->actor, "recorded_at", at);
    if (!json_is_array(meetings)) {
        meetings = json_array();
        json_object_set_new(rec, "meetings", meetings);
    }
    return m != NULL && json_array_append_new(meetings, m) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

/* Whole days from receipt to the decision, for the report's median. */
static int duration_add(fw_act *a, const json_t *rec, json_t *agg)
{
    const portico_host *h = a->h;
    int32_t received = fw_date_field(h, rec, "received");
    long days = received >= 0 && a->today > received ? (long)(a->today - received) : 0;
    char name[16];
    snprintf(name, sizeof(name), "%ld", days > FW_DURATION_MAX ? (long)FW_DURATION_MAX : days);
    return fw_agg_add(agg, "dur", name, 1) == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

static int decide_apply(fw_act *a, json_t *rec, json_t *agg)
{
    const portico_host *h = a->h;
    const char *outcome = body_str(a, "outcome");
    bool rejected = strcmp(outcome, "rejected") == 0;
    if (rejected && !fw_consultation_held(json_object_get(rec, "meetings")))
        return refuse(a, 409, "consultation_required",
                      "a request can be rejected only after a consultation meeting the employee "
                      "attended%s",
                      NULL);
    char at[21], on[11];
    h->time_format(at, a->now);
    h->date_format(on, a->today);
    const json_t *reasons = json_object_get(a->body, "business_reasons");
    json_t *d = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s}", "outcome", outcome, "business_reasons",
                          rejected && reasons ? json_deep_copy(reasons) : json_array(),
                          "explanation", body_text(a, "explanation"), "decided_by", a->actor,
                          "decided_at", at, "decided_on", on);
    if (d == NULL)
        return PORTICO_ENOMEM;
    json_object_set_new(rec, "decision", d);
    json_object_set_new(rec, "outcome", json_string(outcome));
    int rc = fw_agg_add(agg, "outcome", outcome, 1) |
             fw_agg_add(agg, "final", rejected ? "rejected" : "approved", 1);
    return rc == 0 ? duration_add(a, rec, agg) : PORTICO_ENOMEM;
}

/*
 * An appeal reopens the request, so it counts as in progress again: it is
 * refused while the employee has another request in progress, which keeps
 * "one at a time" true.
 */
static int appeal_apply(portico_txn *txn, fw_act *a, json_t *rec, json_t *agg)
{
    const portico_host *h = a->h;
    if (strcmp(str(rec, "outcome") ? str(rec, "outcome") : "", "rejected") != 0)
        return refuse(a, 409, "conflict",
                      "the request is decided (%s): only a rejected request can be appealed",
                      str(rec, "outcome"));
    char key[PORTICO_KEY_MAX + 1];
    json_t *open = NULL;
    int rc = h->key(key, sizeof(key), "open", str(rec, "requester"), NULL);
    if (rc == PORTICO_OK && h->get(txn, key, &open) == PORTICO_OK) {
        rc = refuse(a, 409, "conflict", "request %s is in progress; appeal once it is concluded",
                    str(open, "id"));
        json_decref(open);
        return rc;
    }
    char at[21];
    h->time_format(at, a->now);
    json_t *ap = json_pack("{s:o, s:s, s:n, s:n, s:n, s:n}", "grounds", body_text(a, "grounds"),
                           "appealed_at", at, "outcome", "explanation", "decided_by", "decided_at");
    if (ap == NULL)
        return PORTICO_ENOMEM;
    json_object_set_new(rec, "appeal", ap);
    return fw_agg_add(agg, "final", "rejected", -1) == 0 ? rc : PORTICO_ENOMEM;
}

static int appeal_decide_apply(fw_act *a, json_t *rec, json_t *agg)
{
    const portico_host *h = a->h;
    json_t *ap = json_object_get(rec, "appeal");
    const char *first = str(json_object_get(rec, "decision"), "decided_by");
    if (!a->trusted && first != NULL && strcmp(first, a->actor) == 0)
        return refuse(a, 403, "forbidden",
                      "the appeal must be decided by someone other than %s, who made the first "
                      "decision",
                      first);
    const char *outcome = body_str(a, "outcome");
    char at[21];
    h->time_format(at, a->now);
    json_object_set_new(ap, "outcome", json_string(outcome));
    json_object_set_new(ap, "explanation", body_text(a, "explanation"));
    json_object_set_new(ap, "decided_by", json_string(a->actor));
    json_object_set_new(ap, "decided_at", json_string(at));
    bool upheld = strcmp(outcome, "upheld") == 0;
    int rc = fw_agg_add(agg, "appeal", outcome, 1) |
             fw_agg_add(agg, "final", upheld ? "approved" : "rejected", 1);
    return rc == 0 ? PORTICO_OK : PORTICO_ENOMEM;
}

/* Withdrawing (or being treated as having withdrawn) an appeal leaves the
 * first decision standing. */
static int end_apply(fw_act *a, json_t *rec, json_t *agg, const char *note_field)
{
    const portico_host *h = a->h;
    char at[21];
    h->time_format(at, a->now);
    json_t *w = json_pack("{s:s, s:s, s:o, s:s}", "kind",
                          a->event == FW_EV_WITHDRAW ? "withdrawn" : "treated_as_withdrawn", "at",
                          at, "notes", body_text(a, note_field), "by", a->actor);
    if (w == NULL)
        return PORTICO_ENOMEM;
    json_object_set_new(rec, "withdrawal", w);
    if (fw_request_state(rec) == FW_APPEALED && fw_agg_add(agg, "final", "rejected", 1) != 0)
        return PORTICO_ENOMEM;
    return PORTICO_OK;
}

static int treat_apply(fw_act *a, json_t *rec, json_t *agg)
{
    int missed = fw_missed_meetings(json_object_get(rec, "meetings"));
    if (missed < 2) {
        char n[16];
        snprintf(n, sizeof(n), "%d", missed);
        return refuse(a, 409, "conflict",
                      "a request is treated as withdrawn only after two meetings missed without "
                      "good reason; %s recorded",
                      n);
    }
    return end_apply(a, rec, agg, "notes");
}

static int extension_propose_apply(fw_act *a, json_t *rec)
{
    const portico_host *h = a->h;
    json_t *ext = json_object_get(rec, "extension");
    json_int_t proposals = json_integer_value(json_object_get(ext, "proposals"));
    if (proposals >= FW_EXTENSIONS_MAX)
        return refuse(a, 409, "conflict", "a request takes at most 10 extension proposals%s", NULL);
    int32_t due = fw_date_field(h, rec, "decision_due"), want;
    if (!h->date_parse(body_str(a, "decision_due"), &want))
        return invalid(a, "/decision_due", "must be a date YYYY-MM-DD");
    if (want <= due)
        return invalid(a, "/decision_due", "must be later than the current decision_due");
    if (want > fw_add_months(fw_date_field(h, rec, "received"), 12))
        return invalid(a, "/decision_due", "must be within 12 months of the date received");
    char at[21], d[11];
    h->time_format(at, a->now);
    h->date_format(d, want);
    json_t *e =
        json_pack("{s:s, s:o, s:s, s:s, s:n, s:O, s:I}", "proposed_due", d, "reason",
                  body_text(a, "reason"), "proposed_by", a->actor, "proposed_at", at, "agreed_at",
                  "previous_due", json_object_get(rec, "decision_due"), "proposals", proposals + 1);
    if (e == NULL)
        return PORTICO_ENOMEM;
    json_object_set_new(rec, "extension", e);
    return PORTICO_OK;
}

/* The employee's agreement moves the deadline and its index entries. */
static int extension_agree_apply(portico_txn *txn, fw_act *a, json_t *rec)
{
    const portico_host *h = a->h;
    json_t *ext = json_object_get(rec, "extension");
    if (!json_is_object(ext) || !json_is_null(json_object_get(ext, "agreed_at")))
        return refuse(a, 409, "conflict", "no extension is waiting for your agreement%s", NULL);
    int rc = fw_open_index_del(h, txn, rec);
    char at[21];
    h->time_format(at, a->now);
    json_object_set_new(ext, "agreed_at", json_string(at));
    json_object_set(ext, "previous_due", json_object_get(rec, "decision_due"));
    json_object_set(rec, "decision_due", json_object_get(ext, "proposed_due"));
    return rc == PORTICO_OK ? fw_open_index_put(h, txn, rec) : rc;
}

static int event_apply(portico_txn *txn, fw_act *a, json_t *rec, json_t *agg)
{
    switch (a->event) {
    case FW_EV_MEETING:
        return meeting_apply(a, rec);
    case FW_EV_DECIDE:
        return decide_apply(a, rec, agg);
    case FW_EV_APPEAL:
        return appeal_apply(txn, a, rec, agg);
    case FW_EV_APPEAL_DECIDE:
        return appeal_decide_apply(a, rec, agg);
    case FW_EV_WITHDRAW:
        return end_apply(a, rec, agg, "reason");
    case FW_EV_TREAT_WITHDRAWN:
        return treat_apply(a, rec, agg);
    case FW_EV_EXTENSION_PROPOSE:
        return extension_propose_apply(a, rec);
    case FW_EV_EXTENSION_AGREE:
        return extension_agree_apply(txn, a, rec);
    default:
        return PORTICO_EINVAL;
    }
}

/* History entries carry what the event decided, for the request's story. */
static json_t *history_extra(const fw_act *a)
{
    json_t *x = json_object();
    static const char *const fields[] = {"outcome", "decision_due", "held_at", NULL};
    for (size_t i = 0; x != NULL && a->body != NULL && fields[i] != NULL; i++) {
        json_t *v = json_object_get(a->body, fields[i]);
        if (v != NULL)
            json_object_set(x, fields[i], v);
    }
    if (x != NULL && a->event == FW_EV_MEETING)
        json_object_set(x, "attended", json_object_get(a->body, "attended"));
    return x;
}

int fw_act_txn(portico_txn *txn, void *arg)
{
    fw_act *a = arg;
    const portico_host *h = a->h;
    json_decref(a->rec);
    json_decref(a->errors);
    a->rec = NULL;
    a->errors = NULL;
    a->http = 0;
    json_t *agg = NULL;
    int rc = fw_request_get(h, txn, a->id, &a->rec);
    if (rc == PORTICO_ENOTFOUND)
        return refuse(a, 404, "not_found", "no flexible working request %s", a->id);
    if (rc != PORTICO_OK)
        return rc;
    char manager[128];
    fw_manager_of(h, txn, str(a->rec, "requester"), manager, sizeof(manager));
    if (!a->trusted && (rc = authorize(a, a->rec, manager)) != PORTICO_OK)
        return rc;
    fw_state from = fw_request_state(a->rec);
    fw_state to = fw_transition_next(from, a->event);
    if (to == FW_STATE_NONE) {
        a->http = 409;
        a->code = "conflict";
        snprintf(a->detail, sizeof(a->detail), "the request is %s: %s is not possible now",
                 fw_state_name(from), fw_event_name(a->event));
        return PORTICO_ECONFLICT;
    }
    if ((rc = manager_sync(h, txn, a->rec, manager)) != PORTICO_OK)
        return rc;
    if ((rc = fw_day_load(h, txn, fw_date_field(h, a->rec, "received"), &agg)) != PORTICO_OK)
        return rc;
    json_t *extra = history_extra(a);
    rc = event_apply(txn, a, a->rec, agg);
    if (rc == PORTICO_OK)
        rc = fw_transition_apply(h, txn, a->rec, agg, a->event, to, a->actor, a->now, extra);
    if (rc == PORTICO_OK)
        rc = fw_day_store(h, txn, fw_date_field(h, a->rec, "received"), agg);
    if (rc == PORTICO_OK)
        rc = fw_request_put(h, txn, a->rec);
    json_decref(extra);
    json_decref(agg);
    return rc;
}

/* Fields each event needs; the route's schema requires them too, so this
 * only guards against a request that arrives with no body at all. */
static const char *const *required_fields(fw_event ev)
{
    static const char *const meeting[] = {"held_at", "attended", NULL};
    static const char *const decide[] = {"outcome", NULL};
    static const char *const appeal[] = {"grounds", NULL};
    static const char *const appeal_decide[] = {"outcome", "explanation", NULL};
    static const char *const extension[] = {"decision_due", NULL};
    static const char *const none[] = {NULL};
    switch (ev) {
    case FW_EV_MEETING:
        return meeting;
    case FW_EV_DECIDE:
        return decide;
    case FW_EV_APPEAL:
        return appeal;
    case FW_EV_APPEAL_DECIDE:
        return appeal_decide;
    case FW_EV_EXTENSION_PROPOSE:
        return extension;
    default:
        return none;
    }
}

/* The body rules of a decision come before any state: a client learns
 * what is wrong with what it sent even on a request it may not decide. */
static json_t *body_check(const portico_host *h, fw_event ev, const json_t *body)
{
    json_t *errors = json_array();
    const char *const *required = required_fields(ev);
    char pointer[40];
    for (size_t i = 0; errors != NULL && required[i] != NULL; i++) {
        if (json_object_get(body, required[i]) == NULL) {
            snprintf(pointer, sizeof(pointer), "/%s", required[i]);
            h->invalid_add(errors, pointer, "is required");
        }
    }
    if (json_array_size(errors) > 0)
        return errors;
    json_decref(errors);
    errors = NULL;
    if (ev == FW_EV_DECIDE)
        fw_decision_check(body, &errors);
    else if (ev == FW_EV_APPEAL && fw_text_blank(str(body, "grounds")))
        h->invalid_add(errors = json_array(), "/grounds", "say why you appeal");
    else if (ev == FW_EV_APPEAL_DECIDE && fw_text_blank(str(body, "explanation")))
        h->invalid_add(errors = json_array(), "/explanation", "explain the appeal decision");
    return errors;
}

static int act_route(portico_ctx *ctx, fw_event ev, int ok_status)
{
    const portico_host *h = ctx->host;
    const portico_caller *who = ctx->caller;
    const json_t *body = h->body(ctx);
    json_t *errors = body_check(h, ev, body);
    if (errors != NULL) {
        h->respond_invalid(ctx, errors);
        return PORTICO_OK;
    }
    fw_act a = {
        .h = h,
        .event = ev,
        .id = h->param(ctx, "id"),
        .body = body,
        .actor = who->username,
        .roles = who->roles,
        .now = h->now_ms() / 1000,
        .today = h->today(ctx),
    };
    int rc = h->write(ctx, fw_act_txn, &a);
    if (rc == PORTICO_OK) {
        h->respond_json(ctx, ok_status, fw_request_view(h, a.rec, a.today, true));
    } else if (a.http == 422) {
        h->respond_invalid(ctx, a.errors);
        a.errors = NULL;
    } else if (a.http != 0) {
        h->respond_problem(ctx, a.http, a.code, a.detail);
    } else {
        h->respond_error(ctx, rc, NULL);
    }
    json_decref(a.rec);
    json_decref(a.errors);
    return PORTICO_OK;
}

int fw_route_meeting(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_MEETING, 201);
}

int fw_route_decision(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_DECIDE, 200);
}

int fw_route_withdraw(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_WITHDRAW, 200);
}

int fw_route_appeal(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_APPEAL, 200);
}

int fw_route_appeal_decision(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_APPEAL_DECIDE, 200);
}

int fw_route_extension(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_EXTENSION_PROPOSE, 200);
}

int fw_route_extension_agree(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_EXTENSION_AGREE, 200);
}

int fw_route_treat_withdrawn(portico_ctx *ctx)
{
    return act_route(ctx, FW_EV_TREAT_WITHDRAWN, 200);
}
