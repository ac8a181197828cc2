/*
 * lv_period.c - pay periods ("2026-10"), tax years ("2025-26") and the
 * tax year a date falls in.
 */
#include "lv.h"

#include <stdio.h>
#include <string.h>

#define LV_YEAR_MIN 1990
#define LV_YEAR_MAX 2199

/* Reads exactly n decimal digits. */
static bool digits(const char *s, int n, int *out)
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

/* "YYYY-NN": the year and the two digits after the dash. */
static bool year_dash_two(const char *s, int *year, int *two)
{
    if (!s || strlen(s) != 7 || s[4] != '-' || !digits(s, 4, year) || !digits(s + 5, 2, two))
        return false;
    return *year >= LV_YEAR_MIN && *year <= LV_YEAR_MAX;
}

bool lv_month_valid(const char *s)
{
    int y, m;
    return year_dash_two(s, &y, &m) && m >= 1 && m <= 12;
}

bool lv_tax_year_valid(const char *s)
{
    int y, yy;
    return year_dash_two(s, &y, &yy) && yy == (y + 1) % 100;
}

/* The tax year starts on 6 April. */
bool lv_tax_year_of(char out[LV_PERIOD_LEN], const char *date)
{
    int y, m, d;
    if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-' || !digits(date, 4, &y) ||
        !digits(date + 5, 2, &m) || !digits(date + 8, 2, &d))
        return false;
    int start = (m > 4 || (m == 4 && d >= 6)) ? y : y - 1;
    if (start < 0 || start > 9998)
        return false;
    snprintf(out, LV_PERIOD_LEN, "%04d-%02d", start, (start + 1) % 100);
    return true;
}

void lv_period_label(char *buf, size_t cap, enum lv_kind kind, const char *period)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    int y, m;
    if (kind == LV_PAYSLIP && year_dash_two(period, &y, &m) && m >= 1 && m <= 12)
        snprintf(buf, cap, "%s %d", months[m - 1], y);
    else
        snprintf(buf, cap, "Tax year %s", period ? period : "");
}
