/*
 * test_clock.c - calendar parsing/formatting and the fixed test clock.
 */
#include "base/clock.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static void check_date_round_trip(const char *s, int32_t expect_days)
{
    int32_t days = -12345;
    char buf[11];
    bool ok = pt_date_parse(s, &days);
    if (!ok || days != expect_days) {
        fprintf(stderr, "date %s: ok=%d days=%d want %d\n", s, ok, days, expect_days);
        failures++;
        return;
    }
    pt_date_format(buf, days);
    if (strcmp(buf, s) != 0) {
        fprintf(stderr, "date %s formatted back as %s\n", s, buf);
        failures++;
    }
}

static void check_date_bad(const char *s)
{
    int32_t days;
    if (pt_date_parse(s, &days)) {
        fprintf(stderr, "date \"%s\" accepted, want rejected\n", s);
        failures++;
    }
}

static void check_time(const char *s, int64_t expect)
{
    int64_t t = -1;
    bool ok = pt_time_parse(s, &t);
    if (!ok || t != expect) {
        fprintf(stderr, "time %s: ok=%d t=%lld want %lld\n", s, ok, (long long)t,
                (long long)expect);
        failures++;
    }
}

static void check_time_bad(const char *s)
{
    int64_t t;
    if (pt_time_parse(s, &t)) {
        fprintf(stderr, "time \"%s\" accepted, want rejected\n", s);
        failures++;
    }
}

static void test_dates(void)
{
    check_date_round_trip("1970-01-01", 0);
    check_date_round_trip("1970-01-02", 1);
    check_date_round_trip("1969-12-31", -1);
    check_date_round_trip("2000-03-01", 11017);
    check_date_round_trip("2026-11-22", 20779);
    check_date_round_trip("2024-02-29", pt_days_from_civil(2024, 2, 29));
    check_date_round_trip("2000-02-29", pt_days_from_civil(2000, 2, 29));
    check_date_round_trip("0001-01-01", -719162);
    check_date_round_trip("9999-12-31", 2932896);
    CHECK(pt_days_from_civil(2024, 3, 1) - pt_days_from_civil(2024, 2, 28) == 2);
    CHECK(pt_days_from_civil(2023, 3, 1) - pt_days_from_civil(2023, 2, 28) == 1);
    CHECK(pt_days_from_civil(2100, 3, 1) - pt_days_from_civil(2100, 2, 28) == 1);

    /* Every day over a few centuries formats and parses back to itself. */
    for (int32_t d = pt_days_from_civil(1890, 1, 1); d < pt_days_from_civil(2110, 1, 1); d++) {
        char buf[11];
        int32_t back;
        pt_date_format(buf, d);
        if (!pt_date_parse(buf, &back) || back != d) {
            fprintf(stderr, "day %d -> %s did not round-trip\n", d, buf);
            failures++;
            break;
        }
    }

    check_date_bad("2023-02-29");
    check_date_bad("2100-02-29");
    check_date_bad("2026-02-30");
    check_date_bad("2026-04-31");
    check_date_bad("2026-13-01");
    check_date_bad("2026-00-10");
    check_date_bad("2026-01-00");
    check_date_bad("2026-1-01");
    check_date_bad("2026-01-1");
    check_date_bad("2026-01-01x");
    check_date_bad("2026-01-01 ");
    check_date_bad(" 2026-01-01");
    check_date_bad("2026/01/01");
    check_date_bad("+026-01-01");
    check_date_bad("2026-01-01T00:00:00Z");
    check_date_bad("");
    check_date_bad(NULL);
}

static void test_times(void)
{
    check_time("1970-01-01T00:00:00Z", 0);
    check_time("2026-11-22T10:00:00Z", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22t10:00:00z", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T11:00:00+01:00", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T05:30:00-04:30", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-23T00:30:00+14:30", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T10:00:00-00:00", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T10:00:00.5Z", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T10:00:00.123456789Z", (int64_t)20779 * 86400 + 36000);
    check_time("2026-11-22T11:00:00.999+01:00", (int64_t)20779 * 86400 + 36000);
    check_time("1969-12-31T23:59:59Z", -1);

    check_time_bad("");
    check_time_bad(NULL);
    check_time_bad("2026-11-22");
    check_time_bad("2026-11-22T10:00:00");
    check_time_bad("2026-11-22 10:00:00Z");
    check_time_bad("2026-11-22T10:00Z");
    check_time_bad("2026-11-22T24:00:00Z");
    check_time_bad("2026-11-22T10:60:00Z");
    check_time_bad("2026-11-22T10:00:61Z");
    check_time_bad("2026-11-22T10:00:00.Z");
    check_time_bad("2026-11-22T10:00:00Zx");
    check_time_bad("2026-11-22T10:00:00+0100");
    check_time_bad("2026-11-22T10:00:00+01");
    check_time_bad("2026-11-22T10:00:00+01:00 ");
    check_time_bad("2026-11-22T10:00:00+24:00");
    check_time_bad("2026-02-30T10:00:00Z");
    check_time_bad("2026-11-22T1:00:00Z");
    /* Found by fuzz_schema: offsets that leave the years 0000..9999 would
     * format back as a different (clamped) instant. */
    check_time_bad("0000-01-01T00:00:00+01:00");
    check_time_bad("9999-12-31T23:59:59-00:01");
    check_time("0000-01-01T01:00:00+01:00", (int64_t)-719528 * 86400);
    check_time("9999-12-31T23:59:59Z", (int64_t)2932896 * 86400 + 86399);

    char buf[21];
    pt_time_format(buf, 0);
    CHECK(strcmp(buf, "1970-01-01T00:00:00Z") == 0);
    pt_time_format(buf, (int64_t)20779 * 86400 + 36000 + 59);
    CHECK(strcmp(buf, "2026-11-22T10:00:59Z") == 0);
    pt_time_format(buf, -1);
    CHECK(strcmp(buf, "1969-12-31T23:59:59Z") == 0);
    int64_t back;
    pt_time_format(buf, 1234567890);
    CHECK(pt_time_parse(buf, &back) && back == 1234567890);
}

static void test_fixed_clock(void)
{
    int64_t real = pt_clock_now();
    CHECK(real > 1700000000);

    int64_t at = ((int64_t)20779 * 86400 + 36000) * 1000 + 250;
    pt_clock_set_fixed_ms(at);
    CHECK(pt_clock_now_ms() == at);
    CHECK(pt_clock_now() == at / 1000);
    CHECK(pt_clock_today() == 20779);

    pt_clock_set_fixed_ms((int64_t)20780 * 86400 * 1000 - 1); /* last ms of 2026-11-22 */
    CHECK(pt_clock_today() == 20779);
    pt_clock_set_fixed_ms((int64_t)20780 * 86400 * 1000);
    CHECK(pt_clock_today() == 20780);
    pt_clock_set_fixed_ms(0);
    CHECK(pt_clock_now_ms() == 0);
    CHECK(pt_clock_today() == 0);

    pt_clock_set_fixed_ms(-1);
    int64_t now = pt_clock_now();
    CHECK(now >= real && now < real + 60);
}

int main(void)
{
    test_dates();
    test_times();
    test_fixed_clock();
    return check_finish("test_clock");
}
