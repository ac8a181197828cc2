/*
 * clock.c - "now" (real or fixed by a test) and civil-calendar arithmetic
 * for YYYY-MM-DD dates and RFC 3339 UTC times.
 */
#include "base/clock.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Fixed clock in epoch milliseconds; any negative value means real time. */
static _Atomic int64_t g_fixed_ms = -1;

/* Bounds of what the text formats can carry: 0000-01-01 .. 9999-12-31. */
#define PT_DAYS_MIN (-719528)
#define PT_DAYS_MAX 2932896

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t pt_clock_now_ms(void)
{
    int64_t fixed = atomic_load(&g_fixed_ms);
    if (fixed >= 0)
        return fixed;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pt_clock_now(void)
{
    return floor_div(pt_clock_now_ms(), 1000);
}

int32_t pt_clock_today(void)
{
    return (int32_t)floor_div(pt_clock_now(), 86400);
}

void pt_clock_set_fixed_ms(int64_t epoch_ms)
{
    atomic_store(&g_fixed_ms, epoch_ms < 0 ? -1 : epoch_ms);
}

/*
 * Counts days in 400-year eras that start on 1 March, so the leap day is
 * the last day of the "year" and month lengths follow a fixed pattern
 * (153 days per 5 months).  Proleptic Gregorian, valid for any int year.
 */
int32_t pt_days_from_civil(int y, unsigned m, unsigned d)
{
    int64_t yy = (int64_t)y - (m <= 2 ? 1 : 0);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;                         /* [0, 399] */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
    return (int32_t)(era * 146097 + doe - 719468);
}

/* The inverse of pt_days_from_civil, on the same March-based eras. */
static void civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2 ? 1 : 0));
}

/* Writes v as exactly n decimal digits (v is already in range). */
static void put_digits(char *dst, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return dim[m - 1];
}

/* Reads exactly n ASCII digits; no signs, no spaces. */
static bool read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses the 10-byte "YYYY-MM-DD" at s (no terminator check). */
static bool parse_date10(const char *s, int32_t *out_days)
{
    int y, m, d;
    if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &m) || s[7] != '-' ||
        !read_digits(s + 8, 2, &d))
        return false;
    if (m < 1 || m > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)m))
        return false;
    *out_days = pt_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

bool pt_date_parse(const char *s, int32_t *out_days)
{
    if (s == NULL || strnlen(s, 11) != 10)
        return false;
    int32_t days;
    if (!parse_date10(s, &days))
        return false;
    if (out_days)
        *out_days = days;
    return true;
}

void pt_date_format(char *buf, int32_t days)
{
    int y;
    unsigned m, d;
    if (days < PT_DAYS_MIN)
        days = PT_DAYS_MIN;
    if (days > PT_DAYS_MAX)
        days = PT_DAYS_MAX;
    civil_from_days(days, &y, &m, &d);
    put_digits(buf, (unsigned)y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = '\0';
}

/*
 * Strict RFC 3339 date-time: a full date, 'T', HH:MM:SS, an optional
 * fraction (dropped: the API works in whole seconds) and a mandatory zone.
 * The result is UTC, so "+01:00" moves the instant back an hour.
 */
bool pt_time_parse(const char *s, int64_t *out_epoch)
{
    if (s == NULL || strnlen(s, 20) < 20)
        return false;
    int32_t days;
    if (!parse_date10(s, &days))
        return false;
    if (s[10] != 'T' && s[10] != 't')
        return false;
    int hh, mi, ss;
    if (!read_digits(s + 11, 2, &hh) || s[13] != ':' || !read_digits(s + 14, 2, &mi) ||
        s[16] != ':' || !read_digits(s + 17, 2, &ss))
        return false;
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!read_digits(p + 1, 2, &oh) || p[3] != ':' || !read_digits(p + 4, 2, &om))
            return false;
        if (oh > 23 || om > 59)
            return false;
        offset = (int64_t)oh * 3600 + om * 60;
        if (*p == '-')
            offset = -offset;
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    /* An offset can move 0000-01-01 or 9999-12-31 out of the range that
     * pt_time_format writes, which would then clamp it to another instant:
     * refuse those rather than hand out a time that cannot round-trip. */
    int64_t t = (int64_t)days * 86400 + hh * 3600 + mi * 60 + ss - offset;
    if (t < (int64_t)PT_DAYS_MIN * 86400 || t > (int64_t)PT_DAYS_MAX * 86400 + 86399)
        return false;
    if (out_epoch)
        *out_epoch = t;
    return true;
}

void pt_time_format(char *buf, int64_t epoch)
{
    int64_t days = floor_div(epoch, 86400);
    int64_t secs = epoch - days * 86400;
    if (days < PT_DAYS_MIN) {
        days = PT_DAYS_MIN;
        secs = 0;
    } else if (days > PT_DAYS_MAX) {
        days = PT_DAYS_MAX;
        secs = 86399;
    }
    pt_date_format(buf, (int32_t)days);
    buf[10] = 'T';
    put_digits(buf + 11, (unsigned)(secs / 3600), 2);
    buf[13] = ':';
    put_digits(buf + 14, (unsigned)(secs / 60 % 60), 2);
    buf[16] = ':';
    put_digits(buf + 17, (unsigned)(secs % 60), 2);
    buf[19] = 'Z';
    buf[20] = '\0';
}
