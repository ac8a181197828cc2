/*
 * test_tz.c - offsets and local dates from TZif files: London's summer
 * time and its switch instants (from the table and, beyond it, from the
 * POSIX footer rule), zones without DST, the southern hemisphere, UTC,
 * names that must be refused, and many threads at once.
 */
#include "base/clock.h"
#include "base/tz.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t at(const char *rfc3339)
{
    int64_t t = 0;
    if (!pt_time_parse(rfc3339, &t))
        check_fail(__FILE__, __LINE__, "bad time %s", rfc3339);
    return t;
}

static void expect_off(const char *zone, const char *when, int32_t want)
{
    int32_t off = -1;
    int rc = pt_tz_offset(&off, zone, at(when));
    CHECK_MSG(rc == 0 && off == want, "%s at %s: rc %d offset %d, want %d", zone, when, rc,
              (int)off, (int)want);
}

static void expect_date(const char *zone, const char *when, const char *want)
{
    int32_t days = 0;
    char got[11];
    int rc = pt_tz_date(&days, zone, at(when));
    pt_date_format(got, days);
    CHECK_MSG(rc == 0 && strcmp(got, want) == 0, "%s at %s: %s, want %s", zone, when, got, want);
}

/* London's switches: last Sunday of March 01:00 UTC, of October 01:00 UTC. */
static void london_switches(const char *zone, int year, int mar, int oct)
{
    char t[32];
    snprintf(t, sizeof t, "%d-03-%02dT00:59:59Z", year, mar);
    expect_off(zone, t, 0);
    snprintf(t, sizeof t, "%d-03-%02dT01:00:00Z", year, mar);
    expect_off(zone, t, 3600);
    snprintf(t, sizeof t, "%d-10-%02dT00:59:59Z", year, oct);
    expect_off(zone, t, 3600);
    snprintf(t, sizeof t, "%d-10-%02dT01:00:00Z", year, oct);
    expect_off(zone, t, 0);
    snprintf(t, sizeof t, "%d-07-08T22:30:00Z", year);
    expect_off(zone, t, 3600);
    snprintf(t, sizeof t, "%d-01-08T22:30:00Z", year);
    expect_off(zone, t, 0);
}

static void test_london(void)
{
    expect_off("Europe/London", "2026-01-15T12:00:00Z", 0);
    expect_off("Europe/London", "2026-07-08T12:00:00Z", 3600);
    london_switches("Europe/London", 2026, 29, 25);
    london_switches("Europe/London", 2033, 27, 30);
    london_switches("Europe/London", 2038, 28, 31); /* past 32-bit time */
    london_switches("Europe/London", 2040, 25, 28);
    /* The leaver example of the brief: 23:30 BST is still 8 July. */
    expect_date("Europe/London", "2026-07-08T22:30:00Z", "2026-07-08");
    expect_date("Europe/London", "2026-07-08T22:59:59Z", "2026-07-08");
    expect_date("Europe/London", "2026-07-08T23:00:00Z", "2026-07-09");
    expect_date("Europe/London", "2026-07-08T23:30:00Z", "2026-07-09");
    expect_date("Europe/London", "2026-02-08T23:59:59Z", "2026-02-08");
    expect_date("Europe/London", "2026-02-09T00:00:00Z", "2026-02-09");
    /* Historic: British Standard Time, 1968-71, was UTC+1 all winter. */
    expect_off("Europe/London", "1970-01-15T12:00:00Z", 3600);
}

/* A zone with no transitions at all, only the footer rule, so every answer
 * comes from the POSIX TZ string. */
static void write_footer_only_zone(const char *dir, const char *rule)
{
    unsigned char hdr[44] = "TZif2";
    /* counts: isut 0, isstd 0, leap 0, time 0, type 1, char 4 */
    hdr[20 + 4 * 4 + 3] = 1;
    hdr[20 + 5 * 4 + 3] = 4;
    static const unsigned char data[] = {0, 0, 0, 0, 0, 0, 'G', 'M', 'T', 0};
    char path[512];
    snprintf(path, sizeof path, "%s/Test", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/Test/Footer", dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        CHECK(f != NULL);
        return;
    }
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(data, 1, sizeof data, f);
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(data, 1, sizeof data, f);
    fprintf(f, "\n%s\n", rule);
    fclose(f);
}

static void test_footer_rule(void)
{
    char dir[] = "/tmp/portico-tz-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    write_footer_only_zone(dir, "GMT0BST,M3.5.0/1,M10.5.0");
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZDIR", dir, 1); /* before any thread; read at load */
    for (int y = 2026; y <= 2040; y++) {
        /* last Sundays, computed independently of tz.c */
        int mar = 31, oct = 31;
        while ((pt_days_from_civil(y, 3, (unsigned)mar) % 7 + 7 + 4) % 7 != 0)
            mar--;
        while ((pt_days_from_civil(y, 10, (unsigned)oct) % 7 + 7 + 4) % 7 != 0)
            oct--;
        london_switches("Test/Footer", y, mar, oct);
    }
    if (saved) {
        setenv("TZDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TZDIR");
    }
    char path[512];
    snprintf(path, sizeof path, "%s/Test/Footer", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_other_zones(void)
{
    expect_off("Asia/Kolkata", "2026-01-15T12:00:00Z", 19800);
    expect_off("Asia/Kolkata", "2026-07-15T12:00:00Z", 19800);
    expect_off("Asia/Kolkata", "2040-07-15T12:00:00Z", 19800);
    expect_date("Asia/Kolkata", "2026-07-08T18:29:59Z", "2026-07-08");
    expect_date("Asia/Kolkata", "2026-07-08T18:30:00Z", "2026-07-09");
    expect_off("UTC", "2026-07-15T12:00:00Z", 0);
    expect_off("Etc/UTC", "2040-01-01T00:00:00Z", 0);
    expect_date("UTC", "2026-07-08T23:59:59Z", "2026-07-08");
    expect_off("America/New_York", "2026-07-15T12:00:00Z", -14400);
    expect_off("America/New_York", "2026-01-15T12:00:00Z", -18000);
    expect_date("America/New_York", "2026-07-09T03:59:59Z", "2026-07-08");
    /* Southern hemisphere: summer time across the new year. */
    expect_off("Australia/Sydney", "2026-01-15T12:00:00Z", 39600);
    expect_off("Australia/Sydney", "2026-07-15T12:00:00Z", 36000);
    expect_off("Australia/Sydney", "2040-01-15T12:00:00Z", 39600);
    expect_off("Australia/Sydney", "2040-07-15T12:00:00Z", 36000);
}

static void test_names(void)
{
    CHECK(pt_tz_valid("Europe/London"));
    CHECK(pt_tz_valid("UTC"));
    CHECK(pt_tz_valid("America/Argentina/Buenos_Aires"));
    CHECK(pt_tz_valid("Etc/GMT+5"));
    static const char *const bad[] = {
        "",
        "../../etc/passwd",
        "/etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/../UTC",
        "Europe//London",
        "Europe/London/",
        "Europe/London ",
        "Europe\\London",
        "Nowhere/City",
        "Europe",
        "right/UTC",
        "Europe/London\n",
        "zone.tab",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        NULL};
    for (const char *const *b = bad; *b; b++)
        CHECK_MSG(!pt_tz_valid(*b), "accepted %s", *b);
    CHECK(!pt_tz_valid(NULL));
    int32_t off;
    CHECK(pt_tz_offset(&off, "../x", 0) == PT_EINVAL);
    CHECK(pt_tz_offset(&off, "Nowhere/City", 0) == PT_ENOTFOUND);
}

static void *worker(void *arg)
{
    (void)arg;
    static const char *const zones[] = {"Europe/London",    "Asia/Kolkata",     "UTC",
                                        "Australia/Sydney", "America/New_York", "Europe/Paris"};
    int64_t t = at("2026-03-29T00:30:00Z");
    for (int i = 0; i < 2000; i++) {
        int32_t off;
        const char *z = zones[i % 6];
        if (pt_tz_offset(&off, z, t) != 0)
            return (void *)1;
        if (strcmp(z, "Europe/London") == 0 && off != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }
}

int main(void)
{
    test_footer_rule();
    test_london();
    test_other_zones();
    test_names();
    test_threads();
    return check_finish("test_tz");
}
