/*
 * test_flu_countdown.c - the flu-countdown portlet's pure logic: config
 * defaults (from its schema), countdown arithmetic, percentage rounding,
 * uptake, the body schemas and the checks they cannot say.  Linked with
 * the portlet's pure sources (see plugins/flu-countdown/CMakeLists.txt)
 * and the core's clock and JSON Schema validator, which the host uses.
 */
#include "../../plugins/flu-countdown/flu.h"
#include "base/clock.h"
#include "check.h"
#include "host/schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void errors_add(json_t *errors, const char *pointer, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", pointer, "message", message));
}

static const flu_env env = {pt_time_parse, pt_time_format, errors_add};

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

/* A config as the host hands it over: the schema's top-level defaults
 * filled in where the config leaves them out. */
static json_t *config(const char *text)
{
    json_t *cfg = js(text), *schema = js(flu_config_schema);
    const char *name;
    json_t *prop;
    json_object_foreach(json_object_get(schema, "properties"), name, prop)
    {
        json_t *def = json_object_get(prop, "default");
        if (def != NULL && json_object_get(cfg, name) == NULL)
            json_object_set_new(cfg, name, json_deep_copy(def));
    }
    json_decref(schema);
    return cfg;
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
    json_t *cfg = config("{}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_ABSENT);
    json_decref(cfg);
    CHECK(flu_config_read(&c, NULL, &env, &why) == FLU_CONFIG_ABSENT);

    cfg = config("{\"campaign\":\"Flu 2026\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                 "\"ends_at\":\"2026-10-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_INVALID);
    CHECK(why != NULL && strstr(why, "after") != NULL);
    json_decref(cfg);

    /* the defaults come from the schema: frontline groups, 80%, all shown */
    cfg = config("{\"campaign\":\"Flu 2026\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                 "\"ends_at\":\"2027-02-28T23:59:59+00:00\"}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_OK);
    CHECK(strcmp(c.campaign, "Flu 2026") == 0);
    CHECK(c.show_countdown && c.show_uptake && c.show_signposting);
    CHECK(c.group_count == 4 && strcmp(c.groups[1], "qualified_nurses") == 0);
    CHECK(c.target_percent == 80.0);
    CHECK(c.ends_at == t("2027-02-28T23:59:59Z"));
    CHECK(flu_config_group_index(&c, "support_to_clinical") == 3);
    CHECK(flu_config_group_index(&c, "porters") == -1);
    json_decref(cfg);

    /* a sections object naming some sections leaves the others on */
    cfg = config("{\"campaign\":\"Survey\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                 "\"ends_at\":\"2026-11-01T00:00:00Z\",\"sections\":{\"uptake\":false},"
                 "\"staff_groups\":[\"porters\",\"doctors\"],\"target_percent\":75.5,"
                 "\"headcount_override\":{\"porters\":12}}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_OK);
    CHECK(c.show_countdown && !c.show_uptake && c.show_signposting);
    CHECK(c.group_count == 2 && c.target_percent == 75.5);
    int64_t n = 0;
    CHECK(flu_config_override(&c, "porters", &n) && n == 12);
    CHECK(!flu_config_override(&c, "doctors", &n));
    json_decref(cfg);

    /* the fixed group table is never overrun, whatever is stored */
    cfg = config("{\"campaign\":\"X\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                 "\"ends_at\":\"2026-11-01T00:00:00Z\",\"staff_groups\":[]}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_INVALID);
    json_decref(cfg);
    cfg = config("{\"campaign\":\"X\",\"starts_at\":\"not a time\","
                 "\"ends_at\":\"2026-11-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_INVALID);
    json_decref(cfg);
}

static void test_uptake(void)
{
    flu_config c;
    const char *why;
    json_t *cfg = config("{\"campaign\":\"Flu\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                         "\"ends_at\":\"2026-11-01T00:00:00Z\",\"staff_groups\":[\"doctors\","
                         "\"qualified_nurses\"],\"headcount_override\":{\"qualified_nurses\":8}}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_OK);
    flu_group_tally tallies[FLU_GROUPS_MAX];
    flu_uptake_init(tallies, &c);
    CHECK(tallies[0].headcount == 0 && strcmp(tallies[1].group, "qualified_nurses") == 0);
    tallies[0].headcount = 3; /* the host's people counts */
    tallies[1].headcount = 1;
    CHECK(tallies[0].headcount == 3 && tallies[1].headcount == 1);
    flu_uptake_apply_overrides(tallies, &c);
    CHECK(tallies[0].headcount == 3 && tallies[1].headcount == 8);

    tallies[0].vaccinated = 1;
    tallies[1].vaccinated = 1;
    json_t *groups = flu_uptake_groups_json(tallies, &c, false);
    CHECK(json_array_size(groups) == 2);
    json_t *g0 = json_array_get(groups, 0);
    CHECK(strcmp(json_string_value(json_object_get(g0, "staff_group")), "doctors") == 0);
    CHECK(fabs(json_real_value(json_object_get(g0, "percent")) - 33.3) < 1e-9);
    CHECK(fabs(json_real_value(json_object_get(json_array_get(groups, 1), "percent")) - 12.5) <
          1e-9);
    json_decref(groups);

    json_t *all = flu_uptake_overall_json(tallies, &c, false);
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
    all = flu_uptake_overall_json(tallies, &c, false);
    CHECK(json_is_true(json_object_get(all, "target_met")));
    json_decref(all);

    tallies[0].headcount = 0;
    tallies[1].headcount = 0;
    all = flu_uptake_overall_json(tallies, &c, false);
    CHECK(json_is_null(json_object_get(all, "percent")));
    CHECK(json_is_false(json_object_get(all, "target_met")));
    json_decref(all);
    json_decref(cfg);
}

/* The pointers the host's schema check gives for body (compiled as the
 * host compiles a route's body_schema at load). */
static json_t *schema_errors(const char *schema_text, const char *body_text)
{
    json_t *schema = js(schema_text), *body = js(body_text), *errors = json_array();
    pt_schema *s = NULL;
    CHECK(pt_schema_compile(&s, schema) == 0);
    if (s != NULL)
        pt_schema_validate(s, body, "", errors);
    pt_schema_free(s);
    json_decref(schema);
    json_decref(body);
    return errors;
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

    const char *good =
        "{\"name\":\"Main hall\",\"location\":\"Level 1\",\"sessions\":["
        "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T12:00:00Z\","
        "\"notes\":\"b\"},"
        "{\"starts_at\":\"2026-10-02T09:00:00+01:00\",\"ends_at\":\"2026-10-02T10:00:00Z\"}]}";
    json_t *errors = schema_errors(flu_site_schema, good);
    CHECK(json_array_size(errors) == 0);
    json_decref(errors);

    json_t *out = NULL, *body = js(good);
    errors = json_array();
    flu_site_build(&out, errors, "main-hall", body, &env);
    CHECK(json_array_size(errors) == 0 && out != NULL);
    json_t *sessions = json_object_get(out, "sessions");
    CHECK(json_array_size(sessions) == 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(sessions, 0), "starts_at")),
                 "2026-10-02T08:00:00Z") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(sessions, 0), "notes")), "") ==
          0);
    CHECK(strcmp(json_string_value(json_object_get(out, "id")), "main-hall") == 0);
    CHECK(strcmp(json_string_value(json_object_get(out, "location")), "Level 1") == 0);
    json_decref(out);
    json_decref(body);
    json_decref(errors);

    /* what the schema says: fields, types, lengths, unknown fields */
    errors = schema_errors(
        flu_site_schema,
        "{\"name\":\"\",\"location\":5,\"colour\":\"red\",\"sessions\":["
        "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T09:00:00Z\"},"
        "{\"starts_at\":\"yesterday\",\"ends_at\":\"2026-10-03T09:00:00Z\",\"x\":1},"
        "7]}");
    CHECK(has_pointer(errors, "/name"));
    CHECK(has_pointer(errors, "/location"));
    CHECK(has_pointer(errors, "/colour"));
    CHECK(has_pointer(errors, "/sessions/1/starts_at"));
    CHECK(has_pointer(errors, "/sessions/1/x"));
    CHECK(has_pointer(errors, "/sessions/2"));
    CHECK(!has_pointer(errors, "/sessions/0/ends_at"));
    json_decref(errors);
    errors = schema_errors(flu_site_schema, "{\"location\":\"x\"}");
    CHECK(has_pointer(errors, "/name"));
    json_decref(errors);

    /* what it cannot: the id in the path, a session ending as it starts */
    body = js("{\"name\":\"x\",\"sessions\":["
              "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T09:00:00Z\"},"
              "{\"starts_at\":\"2026-10-03T09:00:00Z\",\"ends_at\":\"2026-10-03T10:00:00Z\"},"
              "{\"starts_at\":\"2026-10-03T10:00:00+02:00\",\"ends_at\":\"2026-10-03T08:00:00Z\"}"
              "]}");
    errors = json_array();
    flu_site_build(&out, errors, "Bad_Id", body, &env);
    CHECK(out == NULL);
    CHECK(has_pointer(errors, "/site"));
    CHECK(has_pointer(errors, "/sessions/0/ends_at"));
    CHECK(!has_pointer(errors, "/sessions/1/ends_at"));
    CHECK(has_pointer(errors, "/sessions/2/ends_at"));
    CHECK(json_array_size(errors) == 3);
    json_decref(errors);
    json_decref(body);
}

static void test_vaccination(void)
{
    flu_config c;
    const char *why;
    json_t *cfg = config("{\"campaign\":\"Flu\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                         "\"ends_at\":\"2026-11-01T00:00:00Z\"}");
    CHECK(flu_config_read(&c, cfg, &env, &why) == FLU_CONFIG_OK);
    int64_t now_ms = t("2026-10-15T12:00:00Z") * 1000;
    flu_vaccination v;

    const char *good = "{\"staff_group\":\"doctors\",\"site\":\"main-hall\","
                       "\"vaccinated_at\":\"2026-10-15T12:00:00Z\"}";
    json_t *errors = schema_errors(flu_vaccination_schema, good);
    CHECK(json_array_size(errors) == 0);
    json_decref(errors);
    json_t *body = js(good);
    errors = json_array();
    flu_vaccination_check(&v, errors, body, &c, now_ms, &env);
    CHECK(json_array_size(errors) == 0 && strcmp(v.site, "main-hall") == 0);
    CHECK(v.vaccinated_at == now_ms / 1000);
    json_decref(body);
    json_decref(errors);

    struct {
        const char *body, *pointer;
        bool schema; /* the host's schema check finds it, not the portlet */
    } bad[] = {
        {"{\"staff_group\":\"porters\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/staff_group", false},
        {"{\"staff_group\":1,\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/staff_group", true},
        {"{\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}", "/staff_group", true},
        {"{\"staff_group\":\"doctors\",\"site\":\"A "
         "B\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/site", true},
        {"{\"staff_group\":\"doctors\",\"site\":[],\"vaccinated_at\":\"2026-10-02T00:00:00Z\"}",
         "/site", true},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-09-30T23:59:59Z\"}",
         "/vaccinated_at", false},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-11-01T00:00:01Z\"}",
         "/vaccinated_at", false},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-15T12:00:01Z\"}",
         "/vaccinated_at", false},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-32T00:00:00Z\"}",
         "/vaccinated_at", true},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":20261002}",
         "/vaccinated_at", true},
        {"{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":\"2026-10-02T00:00:00Z\","
         "\"extra\":true}",
         "/extra", true},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errors = schema_errors(flu_vaccination_schema, bad[i].body);
        if (!bad[i].schema) {
            CHECK(json_array_size(errors) == 0);
            body = js(bad[i].body);
            flu_vaccination_check(&v, errors, body, &c, now_ms, &env);
            json_decref(body);
        }
        if (!has_pointer(errors, bad[i].pointer)) {
            fprintf(stderr, "vaccination %s: no error at %s\n", bad[i].body, bad[i].pointer);
            failures++;
        }
        json_decref(errors);
    }
    /* the first and last second of the campaign are inside it */
    errors = json_array();
    body = js("{\"staff_group\":\"doctors\",\"site\":\"a\",\"vaccinated_at\":"
              "\"2026-10-01T00:00:00Z\"}");
    flu_vaccination_check(&v, errors, body, &c, now_ms, &env);
    CHECK(json_array_size(errors) == 0);
    json_decref(body);
    json_decref(errors);
    json_decref(cfg);
}

/* The rule the schema cannot say: ends_at strictly after starts_at. */
static void test_config_check(void)
{
    json_t *errors = json_array();
    json_t *ok = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                    "\"ends_at\":\"2026-10-01T00:00:01Z\"}");
    CHECK(flu_config_check(ok, &env, errors));
    CHECK(json_array_size(errors) == 0);
    json_t *same = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                      "\"ends_at\":\"2026-10-01T00:00:00Z\"}");
    CHECK(!flu_config_check(same, &env, errors));
    CHECK(has_pointer(errors, "/ends_at"));
    CHECK(json_array_size(errors) == 1);
    json_decref(errors);
    errors = json_array();
    json_t *before = js("{\"campaign\":\"x\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                        "\"ends_at\":\"2026-09-30T23:00:00-02:00\"}");
    CHECK(flu_config_check(before, &env, errors)); /* 2026-10-01T01:00Z: after the start */
    CHECK(json_array_size(errors) == 0);
    json_decref(errors);
    json_decref(ok);
    json_decref(same);
    json_decref(before);
}

/* The config schema compiles in the host's subset, and the defaults it
 * carries are themselves valid. */
static void test_config_schema(void)
{
    json_t *cfg = config("{\"campaign\":\"Flu\",\"starts_at\":\"2026-10-01T00:00:00Z\","
                         "\"ends_at\":\"2026-11-01T00:00:00Z\"}");
    char *text = json_dumps(cfg, JSON_COMPACT);
    json_t *errors = schema_errors(flu_config_schema, text);
    CHECK(json_array_size(errors) == 0);
    json_decref(errors);
    free(text);
    json_decref(cfg);
    errors = schema_errors(flu_config_schema, "{\"campaign\":\"\",\"staff_groups\":[\"a\",\"a\"],"
                                              "\"target_percent\":101,\"colour\":1}");
    CHECK(has_pointer(errors, "/campaign") && has_pointer(errors, "/starts_at"));
    CHECK(has_pointer(errors, "/staff_groups/1") && has_pointer(errors, "/target_percent"));
    CHECK(has_pointer(errors, "/colour"));
    json_decref(errors);
}

int main(void)
{
    test_config_check();
    test_config_schema();
    test_countdown();
    test_percent();
    test_config();
    test_uptake();
    test_sites();
    test_vaccination();
    return check_finish("test_flu_countdown");
}
