/*
 * clock.h - the one source of "now" for the server and its portlets, and
 * the calendar arithmetic the brief needs (RFC 3339 UTC times, YYYY-MM-DD
 * dates).
 *
 * The clock is real time unless a test fixed or offset it (porticod
 * --test-clock enables PUT /api/v1/_test/clock); tokens, leaver dates and
 * portlets all read this clock, so tests can move time consistently.
 */
#ifndef PT_CLOCK_H
#define PT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch, per the (possibly fixed) clock. */
int64_t pt_clock_now_ms(void);
/* Seconds since the Unix epoch. */
int64_t pt_clock_now(void);
/* Today's date as days since 1970-01-01 (UTC). */
int32_t pt_clock_today(void);

/* Test control: fix the clock at epoch_ms (pass < 0 to return to real time). */
void pt_clock_set_fixed_ms(int64_t epoch_ms);

/* "YYYY-MM-DD" -> days since epoch. Rejects impossible dates (2026-02-30). */
bool pt_date_parse(const char *s, int32_t *out_days);
/* days -> "YYYY-MM-DD"; buf must hold 11 bytes. */
void pt_date_format(char *buf, int32_t days);

/* RFC 3339 date-time ("2026-11-22T10:00:00Z", offsets and fractions
 * accepted) -> seconds since epoch, UTC. */
bool pt_time_parse(const char *s, int64_t *out_epoch);
/* seconds -> "YYYY-MM-DDTHH:MM:SSZ"; buf must hold 21 bytes. */
void pt_time_format(char *buf, int64_t epoch);

/* Days since epoch for a (year, month 1-12, day 1-31) civil date. */
int32_t pt_days_from_civil(int y, unsigned m, unsigned d);

#endif
