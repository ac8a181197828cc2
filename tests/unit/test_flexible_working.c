/*
 * test_flexible_working.c - the flexible-working portlet's pure logic: the
 * state table (every allowed and refused transition), calendar arithmetic
 * on month ends and leap years, the decision rules and the report's
 * figures on a known data set.  Linked with the portlet's pure sources
 * (see plugins/flexible-working/CMakeLists.txt).
 */
#include "check.h"
#include "../../plugins/flexible-working/fw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int32_t day(int y, int m, int d)
{
    return fw_days_from_civil(y, m, d);
}

static void ymd(char buf[11], int32_t days)
{
    int64_t y;
    int m, d;
    fw_civil_from_days(days, &y, &m, &d);
    snprintf(buf, 11, "%04d-%02d-%02d", (int)y, m, d);
}

static json_t *js(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (v == NULL) {
        fprintf(stderr, "bad JSON in test: %s (%s)\n", text, err.text);
        failures++;
    }
    return v;
}

#define CHECK_DATE(days, want)                                                                     \
    do {                                                                                           \
        char got_[11];                                                                             \
        ymd(got_, (days));                                                                         \
        CHECK_MSG(strcmp(got_, (want)) == 0, "%s: got %s, want %s", #days, got_, (want));          \
    } while (0)

/* ---- the state machine -------------------------------------------------- */

static void test_state_names(void)
{
    for (int s = 0; s < FW_STATE_COUNT; s++)
        CHECK(fw_state_parse(fw_state_name((fw_state)s)) == s);
    CHECK(fw_state_parse("approved") == FW_STATE_NONE);
    CHECK(fw_state_parse(NULL) == FW_STATE_NONE);
    CHECK(fw_state_open(FW_SUBMITTED) && fw_state_open(FW_IN_CONSULTATION) &&
          fw_state_open(FW_APPEALED));
    CHECK(!fw_state_open(FW_DECIDED) && !fw_state_open(FW_APPEAL_DECIDED) &&
          !fw_state_open(FW_WITHDRAWN) && !fw_state_open(FW_TREATED_AS_WITHDRAWN));
    CHECK(strcmp(fw_event_name(FW_EV_APPEAL_DECIDE), "appeal_decide") == 0);
}

/* The whole table, written out the other way: (from, event) -> to, with
 * NONE for every pair that must be refused. */
static void test_every_transition(void)
{
    const fw_state N = FW_STATE_NONE;
    static const fw_state want[FW_STATE_COUNT][FW_EVENT_COUNT] = {
        /*                 submit meeting decide appeal appeal_decide withdraw treat ext_prop
           ext_agree */
        [FW_SUBMITTED] = {N, FW_IN_CONSULTATION, FW_DECIDED, N, N, FW_WITHDRAWN,
                          FW_TREATED_AS_WITHDRAWN, FW_SUBMITTED, FW_SUBMITTED},
        [FW_IN_CONSULTATION] = {N, FW_IN_CONSULTATION, FW_DECIDED, N, N, FW_WITHDRAWN,
                                FW_TREATED_AS_WITHDRAWN, FW_IN_CONSULTATION, FW_IN_CONSULTATION},
        [FW_DECIDED] = {N, N, N, FW_APPEALED, N, N, N, N, N},
        [FW_APPEALED] = {N, FW_APPEALED, N, N, FW_APPEAL_DECIDED, FW_WITHDRAWN,
                         FW_TREATED_AS_WITHDRAWN, FW_APPEALED, FW_APPEALED},
        [FW_APPEAL_DECIDED] = {N, N, N, N, N, N, N, N, N},
        [FW_WITHDRAWN] = {N, N, N, N, N, N, N, N, N},
        [FW_TREATED_AS_WITHDRAWN] = {N, N, N, N, N, N, N, N, N},
    };
    for (int s = 0; s < FW_STATE_COUNT; s++)
        for (int e = 0; e < FW_EVENT_COUNT; e++) {
            fw_state got = fw_transition_next((fw_state)s, (fw_event)e);
            CHECK_MSG(got == want[s][e], "%s --%s--> %s, want %s", fw_state_name((fw_state)s),
                      fw_event_name((fw_event)e), fw_state_name(got), fw_state_name(want[s][e]));
        }
    CHECK(fw_transition_next(FW_STATE_NONE, FW_EV_SUBMIT) == FW_SUBMITTED);
    CHECK(fw_transition_next(FW_STATE_NONE, FW_EV_DECIDE) == FW_STATE_NONE);
}

static void test_event_actors(void)
{
    CHECK(fw_event_actor(FW_EV_SUBMIT) == FW_ACTOR_REQUESTER);
    CHECK(fw_event_actor(FW_EV_WITHDRAW) == FW_ACTOR_REQUESTER);
    CHECK(fw_event_actor(FW_EV_APPEAL) == FW_ACTOR_REQUESTER);
    CHECK(fw_event_actor(FW_EV_EXTENSION_AGREE) == FW_ACTOR_REQUESTER);
    CHECK(fw_event_actor(FW_EV_MEETING) == FW_ACTOR_DECIDER);
    CHECK(fw_event_actor(FW_EV_DECIDE) == FW_ACTOR_DECIDER);
    CHECK(fw_event_actor(FW_EV_APPEAL_DECIDE) == FW_ACTOR_DECIDER);
    CHECK(fw_event_actor(FW_EV_TREAT_WITHDRAWN) == FW_ACTOR_DECIDER);
    CHECK(fw_event_actor(FW_EV_EXTENSION_PROPOSE) == FW_ACTOR_DECIDER);
}

/* ---- dates ------------------------------------------------------------------ */

static void test_civil_round_trip(void)
{
    CHECK(day(1970, 1, 1) == 0);
    CHECK(day(2000, 3, 1) == 11017);
    CHECK_DATE(day(2026, 11, 30), "2026-11-30");
    for (int32_t d = day(1899, 12, 1); d < day(2101, 3, 1); d += 1) {
        int64_t y;
        int m, dd;
        fw_civil_from_days(d, &y, &m, &dd);
        if (day((int)y, m, dd) != d || dd < 1 || dd > fw_month_days(y, m)) {
            CHECK_MSG(0, "round trip of day %d", (int)d);
            break;
        }
    }
}

static void test_leap_years(void)
{
    CHECK(fw_leap_year(2024) && fw_leap_year(2028) && fw_leap_year(2000) && fw_leap_year(2400));
    CHECK(!fw_leap_year(2026) && !fw_leap_year(1900) && !fw_leap_year(2100));
    CHECK(fw_month_days(2028, 2) == 29 && fw_month_days(2027, 2) == 28);
    CHECK(fw_month_days(2026, 4) == 30 && fw_month_days(2026, 12) == 31);
    CHECK(fw_month_days(2026, 13) == 0);
}

static void test_decision_due(void)
{
    /* the examples, and every month end around them */
    CHECK_DATE(fw_decision_due(day(2026, 12, 31)), "2027-02-28");
    CHECK_DATE(fw_decision_due(day(2027, 12, 31)), "2028-02-29");
    CHECK_DATE(fw_decision_due(day(2026, 8, 30)), "2026-10-30");
    CHECK_DATE(fw_decision_due(day(2026, 8, 31)), "2026-10-31");
    CHECK_DATE(fw_decision_due(day(2026, 12, 30)), "2027-02-28");
    CHECK_DATE(fw_decision_due(day(2027, 12, 29)), "2028-02-29");
    CHECK_DATE(fw_decision_due(day(2027, 12, 28)), "2028-02-28");
    CHECK_DATE(fw_decision_due(day(2026, 12, 29)), "2027-02-28");
    CHECK_DATE(fw_decision_due(day(2026, 11, 30)), "2027-01-30");
    CHECK_DATE(fw_decision_due(day(2026, 7, 31)), "2026-09-30");
    CHECK_DATE(fw_decision_due(day(2027, 1, 31)), "2027-03-31");
    CHECK_DATE(fw_decision_due(day(2028, 2, 29)), "2028-04-29");
    CHECK_DATE(fw_decision_due(day(2026, 1, 15)), "2026-03-15");
    CHECK_DATE(fw_decision_due(day(2099, 12, 31)), "2100-02-28"); /* 2100 is no leap year */
    CHECK_DATE(fw_decision_due(day(1999, 12, 31)), "2000-02-29"); /* 2000 is */
}

static void test_add_months(void)
{
    CHECK_DATE(fw_add_months(day(2027, 1, 31), 1), "2027-02-28");
    CHECK_DATE(fw_add_months(day(2028, 1, 31), 1), "2028-02-29");
    CHECK_DATE(fw_add_months(day(2026, 3, 31), 1), "2026-04-30");
    CHECK_DATE(fw_add_months(day(2026, 5, 15), 0), "2026-05-15");
    CHECK_DATE(fw_add_months(day(2026, 11, 30), 14), "2028-01-30");
    CHECK_DATE(fw_add_months(day(2027, 3, 31), -1), "2027-02-28");
    CHECK_DATE(fw_add_months(day(2028, 2, 29), -12), "2027-02-28");
    CHECK_DATE(fw_add_months(day(2027, 1, 15), -12), "2026-01-15");
    CHECK_DATE(fw_add_months(day(1970, 1, 31), -1), "1969-12-31");
    CHECK_DATE(fw_add_months(day(2026, 1, 1), -25), "2023-12-01");
}

static void test_window(void)
{
    /* requests received strictly after the window start count */
    CHECK_DATE(fw_window_start(day(2027, 1, 15)), "2026-01-15");
    CHECK_DATE(fw_window_start(day(2028, 2, 29)), "2027-02-28");
    CHECK_DATE(fw_window_start(day(2027, 3, 1)), "2026-03-01");
}

/* ---- rules ------------------------------------------------------------------ */

static int errors_at(const json_t *errors, const char *pointer)
{
    size_t i;
    const json_t *e;
    int n = 0;
    json_array_foreach(errors, i, e) n +=
        strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0;
    return n;
}

static void decision(const char *body, const char *p1, const char *p2)
{
    json_t *b = js(body), *errors = NULL;
    fw_decision_check(b, &errors);
    size_t want = (p1 != NULL) + (p2 != NULL);
    CHECK_MSG(json_array_size(errors) == want, "%s: %zu errors, want %zu", body,
              json_array_size(errors), want);
    if (p1)
        CHECK_MSG(errors_at(errors, p1) == 1, "%s: no error at %s", body, p1);
    if (p2)
        CHECK_MSG(errors_at(errors, p2) == 1, "%s: no error at %s", body, p2);
    json_decref(errors);
    json_decref(b);
}

static void test_decision_rules(void)
{
    decision("{\"outcome\":\"approved\"}", NULL, NULL);
    decision("{\"outcome\":\"approved\",\"business_reasons\":[]}", NULL, NULL);
    decision("{\"outcome\":\"approved\",\"business_reasons\":[\"quality\"]}", "/business_reasons",
             NULL);
    decision("{\"outcome\":\"approved_with_changes\"}", "/explanation", NULL);
    decision("{\"outcome\":\"approved_with_changes\",\"explanation\":\"Mon-Thu not Tue-Fri\"}",
             NULL, NULL);
    decision("{\"outcome\":\"rejected\"}", "/business_reasons", "/explanation");
    decision("{\"outcome\":\"rejected\",\"business_reasons\":[],\"explanation\":\"x\"}",
             "/business_reasons", NULL);
    decision("{\"outcome\":\"rejected\",\"business_reasons\":[\"quality\"],\"explanation\":\" "
             "\\n\"}",
             "/explanation", NULL);
    decision("{\"outcome\":\"rejected\",\"business_reasons\":[\"quality\",\"extra_costs\"],"
             "\"explanation\":\"Ward cover\"}",
             NULL, NULL);
    size_t n = 0;
    while (fw_business_reasons[n] != NULL)
        n++;
    CHECK(n == 8);
    CHECK(fw_name_in(fw_business_reasons, "structural_changes"));
    CHECK(!fw_name_in(fw_business_reasons, "dislike"));
    CHECK(fw_name_in(fw_change_types, "remote_or_hybrid"));
    CHECK(fw_text_blank(NULL) && fw_text_blank("  \t") && !fw_text_blank(" a "));
}

static void test_policy(void)
{
    CHECK(fw_policy_parse("nhs") == FW_POLICY_NHS);
    CHECK(fw_policy_parse("statutory") == FW_POLICY_STATUTORY);
    CHECK(fw_policy_parse(NULL) == FW_POLICY_STATUTORY);
    CHECK(fw_policy_yearly_limit(FW_POLICY_STATUTORY) == 2);
    CHECK(fw_policy_yearly_limit(FW_POLICY_NHS) < 0);
}

static void test_meetings(void)
{
    json_t *none = js("[]");
    json_t *missed = js("[{\"attended\":false},{\"attended\":false,\"good_reason\":true},"
                        "{\"attended\":false,\"good_reason\":false}]");
    json_t *held = js("[{\"attended\":false},{\"attended\":true}]");
    CHECK(!fw_consultation_held(none) && fw_missed_meetings(none) == 0);
    CHECK(!fw_consultation_held(missed) && fw_missed_meetings(missed) == 2);
    CHECK(fw_consultation_held(held) && fw_missed_meetings(held) == 1);
    json_decref(none);
    json_decref(missed);
    json_decref(held);
}

/* ---- the report ---------------------------------------------------------------- */

static void test_aggregates(void)
{
    json_t *a = json_object(), *b = json_object();
    CHECK(fw_agg_add(a, "received", NULL, 2) == 0);
    CHECK(fw_agg_add(a, "status", "submitted", 2) == 0);
    CHECK(fw_agg_add(a, "status", "submitted", -1) == 0);
    CHECK(fw_agg_add(a, "status", "decided", 1) == 0);
    CHECK(fw_agg_add(b, "status", "decided", 1) == 0);
    CHECK(fw_agg_add(b, "received", NULL, 1) == 0);
    CHECK(fw_agg_merge(a, b) == 0);
    CHECK(json_integer_value(json_object_get(a, "received")) == 3);
    CHECK(json_integer_value(json_object_get(json_object_get(a, "status"), "decided")) == 2);
    /* counts that reach zero disappear, and so do empty sections */
    CHECK(fw_agg_add(a, "status", "submitted", -1) == 0);
    CHECK(json_object_get(json_object_get(a, "status"), "submitted") == NULL);
    CHECK(fw_agg_add(a, "status", "decided", -2) == 0);
    CHECK(json_object_get(a, "status") == NULL);
    json_decref(a);
    json_decref(b);
}

static void test_median(void)
{
    double m = -1;
    json_t *h = js("{}");
    CHECK(!fw_hist_median(h, &m));
    json_decref(h);
    h = js("{\"10\":1}");
    CHECK(fw_hist_median(h, &m) && m == 10);
    json_decref(h);
    h = js("{\"30\":1,\"4\":2,\"12\":1}"); /* 4 4 12 30 */
    CHECK(fw_hist_median(h, &m) && m == 8);
    json_decref(h);
    h = js("{\"30\":2,\"4\":2,\"12\":1}"); /* 4 4 12 30 30 */
    CHECK(fw_hist_median(h, &m) && m == 12);
    json_decref(h);
    h = js("{\"0\":1,\"1\":1}");
    CHECK(fw_hist_median(h, &m) && m == 0.5);
    json_decref(h);
}

static void test_percent_and_suppression(void)
{
    json_t *p = fw_percent_json(1, 8);
    CHECK(fabs(json_real_value(p) - 12.5) < 1e-9);
    json_decref(p);
    p = fw_percent_json(2, 3);
    CHECK(fabs(json_real_value(p) - 66.7) < 1e-9);
    json_decref(p);
    p = fw_percent_json(0, 0);
    CHECK(json_is_null(p));
    json_decref(p);

    for (int n = 0; n <= 6; n++) {
        json_t *g = fw_group_count_json("doctors", n);
        bool hidden = n >= 1 && n <= 4;
        CHECK_MSG(json_is_true(json_object_get(g, "suppressed")) == hidden, "suppressed %d", n);
        if (hidden)
            CHECK(json_is_null(json_object_get(g, "count")));
        else
            CHECK(json_integer_value(json_object_get(g, "count")) == n);
        json_decref(g);
    }
}

/* A known data set: ten requests, five nurses, four doctors, one with no
 * staff group; six decided (three approved, one with changes, two
 * rejected, of which one appealed and upheld). */
static void test_report_figures(void)
{
    json_t *d1 = js("{\"received\":6,\"status\":{\"decided\":3,\"submitted\":2,\"withdrawn\":1},"
                    "\"outcome\":{\"approved\":2,\"rejected\":1},\"final\":{\"approved\":2,"
                    "\"rejected\":1},\"change\":{\"part_time\":4,\"flexitime\":3},"
                    "\"group\":{\"qualified_nurses\":5,\"unassigned\":1},\"dur\":{\"10\":1,"
                    "\"20\":1,\"40\":1}}");
    json_t *d2 = js("{\"received\":4,\"status\":{\"decided\":1,\"appeal_decided\":1,"
                    "\"in_consultation\":2},\"outcome\":{\"approved_with_changes\":1,"
                    "\"rejected\":1},\"appeal\":{\"upheld\":1},\"final\":{\"approved\":2},"
                    "\"change\":{\"remote_or_hybrid\":4},\"group\":{\"doctors\":4},"
                    "\"dur\":{\"30\":1,\"50\":1}}");
    json_t *agg = json_object();
    CHECK(fw_agg_merge(agg, d1) == 0 && fw_agg_merge(agg, d2) == 0);
    json_t *r = fw_report_json(agg);
    CHECK(r != NULL);
    CHECK(json_integer_value(json_object_get(r, "total")) == 10);
    const json_t *st = json_object_get(r, "by_status");
    CHECK(json_object_size(st) == FW_STATE_COUNT);
    CHECK(json_integer_value(json_object_get(st, "decided")) == 4);
    CHECK(json_integer_value(json_object_get(st, "appealed")) == 0);
    CHECK(json_integer_value(json_object_get(st, "in_consultation")) == 2);
    const json_t *oc = json_object_get(r, "by_outcome");
    CHECK(json_integer_value(json_object_get(oc, "approved")) == 2);
    CHECK(json_integer_value(json_object_get(oc, "approved_with_changes")) == 1);
    CHECK(json_integer_value(json_object_get(oc, "rejected")) == 2);
    CHECK(json_integer_value(json_object_get(r, "decided")) == 5);
    CHECK(json_integer_value(json_object_get(json_object_get(r, "appeals"), "upheld")) == 1);
    const json_t *ct = json_object_get(r, "by_change_type");
    CHECK(json_object_size(ct) == 10);
    CHECK(json_integer_value(json_object_get(ct, "part_time")) == 4);
    CHECK(json_integer_value(json_object_get(ct, "remote_or_hybrid")) == 4);
    CHECK(json_integer_value(json_object_get(ct, "job_share")) == 0);
    /* approved 4 of 5 final outcomes */
    CHECK(fabs(json_real_value(json_object_get(r, "approval_rate_percent")) - 80.0) < 1e-9);
    /* durations 10 20 30 40 50 */
    CHECK(fabs(json_real_value(json_object_get(r, "median_days_to_decision")) - 30.0) < 1e-9);
    const json_t *g = json_object_get(r, "by_staff_group");
    CHECK(json_array_size(g) == 3);
    /* name order: doctors (4, suppressed), qualified_nurses (5), unassigned (1, suppressed) */
    const json_t *g0 = json_array_get(g, 0), *g1 = json_array_get(g, 1), *g2 = json_array_get(g, 2);
    CHECK(strcmp(json_string_value(json_object_get(g0, "staff_group")), "doctors") == 0);
    CHECK(json_is_null(json_object_get(g0, "count")) &&
          json_is_true(json_object_get(g0, "suppressed")));
    CHECK(json_integer_value(json_object_get(g1, "count")) == 5 &&
          json_is_false(json_object_get(g1, "suppressed")));
    CHECK(json_is_true(json_object_get(g2, "suppressed")));
    json_decref(r);

    /* nothing received: zeros and nulls, no crash */
    json_t *empty = json_object();
    r = fw_report_json(empty);
    CHECK(r != NULL && json_integer_value(json_object_get(r, "total")) == 0);
    CHECK(json_is_null(json_object_get(r, "approval_rate_percent")));
    CHECK(json_is_null(json_object_get(r, "median_days_to_decision")));
    json_decref(r);
    json_decref(empty);
    json_decref(agg);
    json_decref(d1);
    json_decref(d2);
}

int main(void)
{
    test_state_names();
    test_every_transition();
    test_event_actors();
    test_civil_round_trip();
    test_leap_years();
    test_decision_due();
    test_add_months();
    test_window();
    test_decision_rules();
    test_policy();
    test_meetings();
    test_aggregates();
    test_median();
    test_percent_and_suppression();
    test_report_figures();
    return check_finish("test_flexible_working");
}
