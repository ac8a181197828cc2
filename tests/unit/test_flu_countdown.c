/*
 * test_flu_countdown.c - the flu-countdown portlet's pure logic: config
 * defaults, countdown arithmetic, percentage rounding, headcounts, site and
 * vaccination validation.  Linked with the portlet's pure sources (see
 * plugins/flu-countdown/CMakeLists.txt) and the core clock.
 */
#include "../../plugins/flu-countdown/flu.h"
#include "base/clock.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const flu_clock clk = {pt_time_parse, pt_time_format};

static int64_t t(const char *s)
{
    int64_t v = 0;
    if (!pt_time_parse(s, &v)) {
        fprintf(stderr, "bad time in test: %s\n", s);
        failures++;
    }
    return v;
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

static bool has_pointer(const json_t *errors, const char *pointer)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0)
            return true;
    }
    return false;
}

static void test_countdown(void)
{
    int64_t end = t("2026-12-01T00:00:00Z");
    flu_remaining r;

    flu_countdown_compute(&r, (end - 86400 - 1) * 1000, end);
    CHECK(!r.ended && r.days == 1 && r.hours == 0 && r.minutes == 0 && r.seconds == 1);
    CHECK(r.total_seconds == 86401);

    flu_countdown_compute(&r, (end - 1) * 1000, end);
    CHECK(!r.ended && r.days == 0 && r.hours == 0 && r.minutes == 0 && r.seconds == 1);

    flu_countdown_compute(&r, (end - 2 * 86400 - 3 * 3600 - 4 * 60 - 5) * 1000, end);
    CHECK(r.days == 2 && r.hours == 3 && r.minutes == 4 && r.seconds == 5);
    CHECK(r.total_seconds == 2 * 86400 + 3 * 3600 + 4 * 60 + 5);

    /* across midnight: 23:59:59 the day before to 00:00:00 */
    flu_countdown_compute(&r, (end - 86400) * 1000, end);
    CHECK(r.days == 1 && r.hours == 0 && r.minutes == 0 && r.seconds == 0);
    flu_countdown_compute(&r, (end - 86399) * 1000, end);
    CHECK(r.days == 0 && r.hours == 23 && r.minutes == 59 && r.seconds == 59);

    /* part seconds round up: never "0 left" while not ended */
    flu_countdown_compute(&r, end * 1000 - 1, end);
    CHECK(!r.ended && r.total_seconds == 1 && r.seconds == 1);
    flu_countdown_compute(&r, end * 1000 - 1500, end);
    CHECK(r.total_seconds == 2);

    flu_countdown_compute(&r, end * 1000, end);
    CHECK(r.ended && r.total_seconds == 0 && r.days == 0 && r.seconds == 0);
    flu_countdown_compute(&r, (end + 3600) * 1000, end);
    CHECK(r.ended && r.total_seconds == 0 && r.hours == 0);

    json_t *j = flu_countdown_json(&r);
    CHECK(json_integer_value(json_object_get(j, "total_seconds")) == 0);
    CHECK(json_object_size(j) == 5);
    json_decref(j);
}

static void check_pct(int64_t num, int64_t den, int64_t want)
{
    int64_t got = -1;
    bool ok = flu_percent_tenths(&got, num, den);
    if (!ok || got != want) {
        fprintf(stderr, "percent %lld/%lld: got %lld want %lld\n", (long long)num, (long long)den,
                (long long)got, (long long)want);
        failures++;
    }
}

static void test_percent(void)
{
    check_pct(1, 3, 333);
    check_pct(2, 3, 667);
    check_pct(1, 8, 125);
    check_pct(1, 6, 167);
    check_pct(1, 16, 63); /* 6.25 rounds half up */
    check_pct(1, 80, 13); /* 1.25 */
    check_pct(3, 80, 38); /* 3.75 */
    check_pct(0, 5, 0);
    check_pct(5, 5, 1000);
    check_pct(7, 5, 1400); /* more vaccinated than headcount is shown, not clamped */
    check_pct(INT64_MAX, 1, INT64_MAX);
    int64_t x;
    CHECK(!flu_percent_tenths(&x, 1, 0));
    CHECK(!flu_percent_tenths(&x, -1, 3));

    json_t *p = flu_percent_json(1, 3);
    CHECK(json_is_real(p) && fabs(json_real_value(p) - 33.3) < 1e-9);
    json_decref(p);
    p = flu_percent_json(0, 0);
    CHECK(json_is_null(p));
    json_decref(p);
}

static void test_config(void)
{
    flu_config c;
    const char *why;
    json_t *cfg = js("{}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_ABSENT);
    json_decref(cfg);
    CHECK(flu_config_read(&c, NULL, &clk, &why) == FLU_CONFIG_ABSENT);

    cfg = js("{\"campaign\":\"Flu 2026\",\"starts_at\":\"2026-10-01T00:00:00Z\","
             "\"ends_at\":\"2026-10-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_INVALID);
    CHECK(why != NULL && strstr(why, "after") != NULL);
    json_decref(cfg);

    cfg = js("{\"campaign\":\"Flu 2026\",\"starts_at\":\"2026-10-01T00:00:00Z\","
             "\"ends_at\":\"2027-02-28T23:59:59+00:00\"}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_OK);
    CHECK(strcmp(c.campaign, "Flu 2026") == 0);
    CHECK(c.show_countdown && c.show_uptake && c.show_signposting);
    CHECK(c.group_count == 4 && strcmp(c.groups[1], "qualified_nurses") == 0);
    CHECK(c.target_percent == 80.0);
    CHECK(c.ends_at == t("2027-02-28T23:59:59Z"));
    CHECK(flu_config_group_index(&c, "support_to_clinical") == 3);
    CHECK(flu_config_group_index(&c, "porters") == -1);
    json_decref(cfg);

    cfg = js("{\"campaign\":\"Survey\",\"starts_at\":\"2026-10-01T00:00:00Z\","
             "\"ends_at\":\"2026-11-01T00:00:00Z\",\"sections\":{\"uptake\":false},"
             "\"staff_groups\":[\"porters\",\"doctors\"],\"target_percent\":75.5,"
             "\"headcount_override\":{\"porters\":12}}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_OK);
    CHECK(c.show_countdown && !c.show_uptake && c.show_signposting);
    CHECK(c.group_count == 2 && c.target_percent == 75.5);
    int64_t n = 0;
    CHECK(flu_config_override(&c, "porters", &n) && n == 12);
    CHECK(!flu_config_override(&c, "doctors", &n));
    json_decref(cfg);

    cfg = js("{\"campaign\":\"X\",\"starts_at\":\"2026-10-01T00:00:00Z\","
             "\"ends_at\":\"2026-11-01T00:00:00Z\",\"staff_groups\":[\"a\",\"a\"]}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_INVALID);
    json_decref(cfg);
    cfg = js("{\"campaign\":\"X\",\"starts_at\":\"not a time\","
             "\"ends_at\":\"2026-11-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_INVALID);
    json_decref(cfg);
}

static void test_uptake(void)
{
    flu_config c;
    const char *why;
    json_t *cfg = js("{\"campaign\":\"Flu\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                     "\"ends_at\":\"2026-11-01T00:00:00Z\",\"staff_groups\":[\"doctors\","
                     "\"qualified_nurses\"],\"headcount_override\":{\"qualified_nurses\":8}}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_OK);
    flu_group_tally tallies[FLU_GROUPS_MAX];
    flu_uptake_init(tallies, &c);
    const char *people[] = {
        "{\"status\":\"employee\",\"staff_group\":\"doctors\"}",
        "{\"status\":\"employee\",\"staff_group\":\"doctors\"}",
        "{\"status\":\"employee\",\"staff_group\":\"doctors\"}",
        "{\"status\":\"leaver\",\"staff_group\":\"doctors\"}",
        "{\"status\":\"applicant\",\"staff_group\":\"doctors\"}",
        "{\"status\":\"employee\",\"staff_group\":\"porters\"}",
        "{\"status\":\"employee\",\"staff_group\":null}",
        "{\"status\":\"employee\",\"staff_group\":\"qualified_nurses\"}",
    };
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
        json_t *p = js(people[i]);
        flu_uptake_count_person(tallies, &c, p);
        json_decref(p);
    }
    CHECK(tallies[0].headcount == 3 && tallies[1].headcount == 1);
    flu_uptake_apply_overrides(tallies, &c);
    CHECK(tallies[0].headcount == 3 && tallies[1].headcount == 8);

    tallies[0].vaccinated = 1;
    tallies[1].vaccinated = 1;
    json_t *groups = flu_uptake_groups_json(tallies, &c);
    CHECK(json_array_size(groups) == 2);
    json_t *g0 = json_array_get(groups, 0);
    CHECK(strcmp(json_string_value(json_object_get(g0, "staff_group")), "doctors") == 0);
    CHECK(fabs(json_real_value(json_object_get(g0, "percent")) - 33.3) < 1e-9);
    CHECK(fabs(json_real_value(json_object_get(json_array_get(groups, 1), "percent")) - 12.5) <
          1e-9);
    json_decref(groups);

    json_t *all = flu_uptake_overall_json(tallies, &c);
    CHECK(json_integer_value(json_object_get(all, "vaccinated")) == 2);
    CHECK(json_integer_value(json_object_get(all, "headcount")) == 11);
    CHECK(fabs(json_real_value(json_object_get(all, "percent")) - 18.2) < 1e-9);
    CHECK(json_is_false(json_object_get(all, "target_met")));
    json_decref(all);

    /* exactly on target counts as met */
    tallies[0].vaccinated = 3;
    tallies[0].headcount = 5;
    tallies[1].vaccinated = 5;
    tallies[1].headcount = 5;
    all = flu_uptake_overall_json(tallies, &c);
    CHECK(json_is_true(json_object_get(all, "target_met")));
    json_decref(all);

    tallies[0].headcount = 0;
    tallies[1].headcount = 0;
    all = flu_uptake_overall_json(tallies, &c);
    CHECK(json_is_null(json_object_get(all, "percent")));
    CHECK(json_is_false(json_object_get(all, "target_met")));
    json_decref(all);
    json_decref(cfg);
}

static void test_sites(void)
{
    CHECK(flu_site_id_valid("main-hall"));
    CHECK(flu_site_id_valid("a"));
    CHECK(!flu_site_id_valid("-a"));
    CHECK(!flu_site_id_valid("Main"));
    CHECK(!flu_site_id_valid("a_b"));
    CHECK(!flu_site_id_valid(""));
    char long_id[70];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    CHECK(!flu_site_id_valid(long_id));
    long_id[64] = '\0';
    CHECK(flu_site_id_valid(long_id));

    json_t *out = NULL, *errors = NULL;
    json_t *body =
        js("{\"name\":\"Main hall\",\"location\":\"Level 1\",\"sessions\":["
           "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T12:00:00Z\","
           "\"notes\":\"b\"},"
           "{\"starts_at\":\"2026-10-02T09:00:00+01:00\",\"ends_at\":"
           "\"2026-10-02T10:00:00Z\"}]}");
    flu_site_build(&out, &errors, "main-hall", body, &clk);
    CHECK(errors == NULL && out != NULL);
    json_t *sessions = json_object_get(out, "sessions");
    CHECK(json_array_size(sessions) == 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(sessions, 0), "starts_at")),
                 "2026-10-02T08:00:00Z") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(sessions, 0), "notes")), "") ==
          0);
    CHECK(strcmp(json_string_value(json_object_get(out, "id")), "main-hall") == 0);
    json_decref(out);
    json_decref(body);

    body = js("{\"name\":\"\",\"location\":5,\"colour\":\"red\",\"sessions\":["
              "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T09:00:00Z\"},"
              "{\"starts_at\":\"yesterday\",\"ends_at\":\"2026-10-03T09:00:00Z\",\"x\":1},"
              "7]}");
    flu_site_build(&out, &errors, "Bad_Id", body, &clk);
    CHECK(out == NULL);
    CHECK(has_pointer(errors, "/site"));
    CHECK(has_pointer(errors, "/name"));
    CHECK(has_pointer(errors, "/location"));
    CHECK(has_pointer(errors, "/colour"));
    CHECK(has_pointer(errors, "/sessions/0/ends_at"));
    CHECK(has_pointer(errors, "/sessions/1/starts_at"));
    CHECK(has_pointer(errors, "/sessions/1/x"));
    CHECK(has_pointer(errors, "/sessions/2"));
    json_decref(errors);
    json_decref(body);

    errors = NULL;
    body = js("{\"location\":\"x\"}");
    flu_site_build(&out, &errors, "ok", body, &clk);
    CHECK(out == NULL && has_pointer(errors, "/name"));
    json_decref(errors);
    json_decref(body);
}

static void test_vaccination(void)
{
    flu_config c;
    const char *why;
    json_t *cfg = js("{\"campaign\":\"Flu\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                     "\"ends_at\":\"2026-11-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &clk, &why) == FLU_CONFIG_OK);
    int64_t now_ms = t("2026-10-15T12:00:00Z") * 1000;
    flu_vaccination v;
    json_t *errors = NULL;

    json_t *body = js("{\"staff_group\":\"doctors\",\"site\":\"main-hall\","
                      "\"vaccinated_at\":\"2026-10-15T12:00:00Z\"}");
    flu_vaccination_check(&v, &errors, body, &c, now_ms, &clk);
    CHECK(errors == NULL && strcmp(v.site, "main-hall") == 0);
    CHECK(v.vaccinated_at == now_ms / 1000);
    json_decref(body);

    struct {
        const char *body, *pointer;
    } bad[] = {
        {"{\"staff_group\":\"porters\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/staff_group"},
        {"{\"staff_group\":1,\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/staff_group"},
        {"{\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}", "/staff_group"},
        {"{\"staff_group\":\"doctors\",\"site\":\"A "
         "B\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/site"},
        {"{\"staff_group\":\"doctors\",\"site\":[],\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/site"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-09-30T23:59:59Z\"}",
         "/vaccinated_at"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-11-01T00:00:01Z\"}",
         "/vaccinated_at"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-15T12:00:01Z\"}",
         "/vaccinated_at"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-32T00:00:00Z\"}",
         "/vaccinated_at"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":20261002}",
         "/vaccinated_at"},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\","
         "\"extra\":true}",
         "/extra"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errors = NULL;
        body = js(bad[i].body);
        flu_vaccination_check(&v, &errors, body, &c, now_ms, &clk);
        if (!has_pointer(errors, bad[i].pointer)) {
            fprintf(stderr, "vaccination %s: no error at %s\n", bad[i].body, bad[i].pointer);
            failures++;
        }
        json_decref(errors);
        json_decref(body);
    }
    /* the first and last second of the campaign are inside it */
    errors = NULL;
    body = js("{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":"
              "\"2026-10-01T00:00:00Z\"}");
    flu_vaccination_check(&v, &errors, body, &c, now_ms, &clk);
    CHECK(errors == NULL);
    json_decref(body);
    json_decref(cfg);
}

/* The rule the schema cannot say: ends_at strictly after starts_at. */
static void test_config_check(void)
{
    json_t *errors = NULL;
    json_t *ok = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                    "\"ends_at\":\"2026-10-01T00:00:01Z\"}");
    flu_config_check(&errors, ok, &clk);
    CHECK(errors == NULL);
    json_t *same = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                      "\"ends_at\":\"2026-10-01T00:00:00Z\"}");
    flu_config_check(&errors, same, &clk);
    CHECK(has_pointer(errors, "/ends_at"));
    CHECK(json_array_size(errors) == 1);
    json_decref(errors);
    errors = NULL;
    json_t *before = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                        "\"ends_at\":\"2026-09-30T23:00:00-02:00\"}");
    flu_config_check(&errors, before, &clk); /* 2026-10-01T01:00Z: after the start */
    CHECK(errors == NULL);
    json_decref(ok);
    json_decref(same);
    json_decref(before);
}

int main(void)
{
    test_config_check();
    test_countdown();
    test_percent();
    test_config();
    test_uptake();
    test_sites();
    test_vaccination();
    return check_finish("test_flu_countdown");
}
