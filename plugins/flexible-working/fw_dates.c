/*
 * fw_dates.c - calendar arithmetic for deadlines: whole days since
 * 1970-01-01 to and from (year, month, day) in the proleptic Gregorian
 * calendar, and "the same date n months later" clamped to the month's end.
 */
#include "fw.h"

bool fw_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int fw_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && fw_leap_year(y) ? 29 : days[m - 1];
}

/*
 * Howard Hinnant's days_from_civil: counts in 400-year eras starting on
 * 1 March, so the leap day is the last day of its "year" and needs no
 * special case.
 */
int32_t fw_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void fw_civil_from_days(int32_t days, int64_t *y, int *m, int *d)
{
    const int64_t z = (int64_t)days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/*
 * "Two months after 31 December" is the last day of February: the law
 * counts calendar months, and a day the target month lacks becomes that
 * month's last day (28 or 29 February, 30 April ...).
 */
int32_t fw_add_months(int32_t days, int n)
{
    int64_t y;
    int m, d;
    fw_civil_from_days(days, &y, &m, &d);
    int64_t months = y * 12 + (m - 1) + n;
    int64_t ny = months >= 0 ? months / 12 : (months - 11) / 12;
    int nm = (int)(months - ny * 12) + 1;
    int last = fw_month_days(ny, nm);
    return fw_days_from_civil(ny, nm, d > last ? last : d);
}

int32_t fw_decision_due(int32_t received)
{
    return fw_add_months(received, 2);
}

/* "Any period of 12 months" ending today starts the day after the same
 * date a year ago: a request of 15 January 2026 no longer counts on 15
 * January 2027. */
int32_t fw_window_start(int32_t today)
{
    return fw_add_months(today, -12);
}
