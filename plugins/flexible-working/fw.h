/*
 * fw.h - the pure logic of the flexible-working portlet: the request state
 * machine (one table of states, events and transitions), calendar
 * arithmetic for deadlines and the 12-month window, the rules a decision
 * must meet, and the compliance report's figures (per-day aggregates,
 * median, approval rate, small-group suppression).
 *
 * Nothing here calls the host, so all of it is unit-tested without a
 * server (tests/unit/test_flexible_working.c).  Dates are whole days since
 * 1970-01-01 (the host's representation of an organisation-local date).
 */
#ifndef FW_H
#define FW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_ID "flexible-working"

/* Bounds that keep every stored request and every answer small. */
#define FW_MEETINGS_MAX       20 /* consultation meetings per request */
#define FW_EXTENSIONS_MAX     10 /* extension proposals per request */
#define FW_SUPPRESS_BELOW     5  /* report groups of 1..4 requests are not shown */
#define FW_REPORT_DAYS_MAX    3660
#define FW_REPORT_OVERDUE_MAX 200
#define FW_DURATION_MAX       4000 /* days; longer decisions count in the last bucket */
#define FW_CARD_ITEMS_MAX     5

/* ---- the state machine (fw_states.c) -------------------------------------- */

typedef enum fw_state {
    FW_SUBMITTED = 0,
    FW_IN_CONSULTATION,
    FW_DECIDED,
    FW_APPEALED,
    FW_APPEAL_DECIDED,
    FW_WITHDRAWN,
    FW_TREATED_AS_WITHDRAWN,
    FW_STATE_COUNT,
    FW_STATE_NONE = -1
} fw_state;

typedef enum fw_event {
    FW_EV_SUBMIT = 0,        /* (none) -> submitted: the employee asks */
    FW_EV_MEETING,           /* a consultation meeting is recorded */
    FW_EV_DECIDE,            /* approved, approved_with_changes or rejected */
    FW_EV_APPEAL,            /* the employee appeals a rejection */
    FW_EV_APPEAL_DECIDE,     /* upheld or dismissed */
    FW_EV_WITHDRAW,          /* the employee withdraws */
    FW_EV_TREAT_WITHDRAWN,   /* two missed meetings without good reason */
    FW_EV_EXTENSION_PROPOSE, /* the decider proposes a later decision_due */
    FW_EV_EXTENSION_AGREE,   /* the employee agrees it */
    FW_EVENT_COUNT
} fw_event;

/* Who may cause an event. */
typedef enum fw_actor {
    FW_ACTOR_REQUESTER, /* the person who made the request */
    FW_ACTOR_DECIDER,   /* the requester's manager or an hr_admin, never the requester */
} fw_actor;

typedef struct fw_transition {
    fw_event event;
    fw_state from;
    fw_state to;
} fw_transition;

/* The one table of allowed transitions (FW_EV_SUBMIT has from NONE). */
extern const fw_transition fw_transitions[];
extern const size_t fw_transition_count;

const char *fw_state_name(fw_state s);
fw_state fw_state_parse(const char *name); /* FW_STATE_NONE if unknown */
/* In progress: submitted, in consultation or appealed (counts for the
 * one-at-a-time rule, can be withdrawn, can be overdue). */
bool fw_state_open(fw_state s);
const char *fw_event_name(fw_event e); /* "meeting", "decide", ... */
fw_actor fw_event_actor(fw_event e);
/* The state event leads to from `from`, or FW_STATE_NONE if the table has
 * no such transition (an illegal transition: 409 conflict). */
fw_state fw_transition_next(fw_state from, fw_event e);

/* ---- dates (fw_dates.c) ----------------------------------------------------- */

bool fw_leap_year(int64_t y);
int fw_month_days(int64_t y, int m); /* m 1..12 */
int32_t fw_days_from_civil(int64_t y, int m, int d);
void fw_civil_from_days(int32_t days, int64_t *y, int *m, int *d);
/* The same day-of-month n calendar months later (n may be negative),
 * clamped to the month's last day: 31 Dec + 2 = 28/29 Feb. */
int32_t fw_add_months(int32_t days, int n);
/* decision_due: the date received plus two calendar months. */
int32_t fw_decision_due(int32_t received);
/* The 12-month window ending today: requests received strictly after
 * this day count toward the yearly limit. */
int32_t fw_window_start(int32_t today);

/* ---- rules (fw_rules.c) ------------------------------------------------------ */

/* The eight statutory business grounds (ERA 1996 s80G(1)(b)). */
extern const char *const fw_business_reasons[];
extern const char *const fw_change_types[];
extern const char *const fw_outcomes[];        /* approved, approved_with_changes, rejected */
extern const char *const fw_appeal_outcomes[]; /* upheld, dismissed */
bool fw_name_in(const char *const *list, const char *name);

typedef enum fw_policy {
    FW_POLICY_STATUTORY = 0, /* two requests in any 12 months */
    FW_POLICY_NHS,           /* no yearly limit */
} fw_policy;
fw_policy fw_policy_parse(const char *name); /* unknown: statutory */
/* How many requests received in the window the policy allows (-1: no limit). */
int fw_policy_yearly_limit(fw_policy p);

/* True if s is NULL or holds only white space. */
bool fw_text_blank(const char *s);

/* Checks a decision body ({outcome, business_reasons, explanation}, which
 * passed its schema) for the rules its schema cannot say; appends
 * {pointer, message} to *errors (created on first use). */
void fw_decision_check(const json_t *body, json_t **errors);
/* Consultation: a meeting the employee attended. */
bool fw_consultation_held(const json_t *meetings);
/* Meetings the employee missed without good reason. */
int fw_missed_meetings(const json_t *meetings);

/* ---- the report (fw_report.c) ------------------------------------------------ */

/*
 * Per-day aggregate of the requests received that day, kept on write:
 *   {"received": n, "status": {state: n}, "outcome": {outcome: n},
 *    "appeal": {upheld|dismissed: n}, "final": {approved|rejected: n},
 *    "change": {type: n}, "group": {staff_group: n}, "dur": {days: n}}
 * A count that falls to 0 is removed, so an aggregate stays small.
 */
int fw_agg_add(json_t *agg, const char *section, const char *name, int64_t delta);
/* Adds every count of src into dst (the same shape). */
int fw_agg_merge(json_t *dst, const json_t *src);

/* The median of a histogram {"days": count} (mean of the middle two for
 * an even total); false when it is empty. */
bool fw_hist_median(const json_t *hist, double *out);
/* One decimal place, rounded half up; JSON null when den is 0. */
json_t *fw_percent_json(int64_t num, int64_t den);
/* {staff_group, count, suppressed}: counts 1..4 become null, suppressed. */
json_t *fw_group_count_json(const char *group, int64_t count);
/* The report body from a merged aggregate (overdue is added by the
 * caller): totals by status, outcome, appeal, change type and staff group,
 * approval rate and median days to decision. */
json_t *fw_report_json(const json_t *agg);

#endif
