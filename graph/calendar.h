/*
 * graph/calendar.h - the proleptic Gregorian calendar as day numbers (days since
 * 1970-01-01, year 0 = 1 BC), shared by Cypher's temporal values
 * (cypher_temporal*.c) and the tz database reader (tzdb.c). Header-only: small
 * pure functions the compiler should inline.
 */
#ifndef DSGRAPH_GRAPH_CALENDAR_H
#define DSGRAPH_GRAPH_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define CAL_MAX_YEAR INT64_C(999999999)   /* the years a temporal value may have: +-this */

/* Floor division and modulo (C's / truncates toward zero). */
static inline int64_t cal_floordiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }
static inline int64_t cal_floormod(int64_t a, int64_t b)   /* b > 0; no overflow near INT64_MIN */
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* Day number of a date. Years are counted in 400-year eras of 146097 days; March
 * is the first month of the computational year so that the leap day falls at its end. */
static inline int64_t cal_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of cal_days_from_civil. */
static inline void cal_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static inline bool cal_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static inline int cal_days_in_month(int64_t y, int m)
{
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && cal_leap_year(y) ? 29 : len[m - 1];
}

/* ISO day of the week: 1 Monday ... 7 Sunday (1970-01-01 was a Thursday). */
static inline int cal_day_of_week(int64_t days) { return (int)(((days % 7) + 7 + 3) % 7) + 1; }

/* Monday of ISO week 1 of week-year y: the week holding the year's first Thursday. */
static inline int64_t cal_week1_monday(int64_t y)
{
    int64_t jan4 = cal_days_from_civil(y, 1, 4);
    return jan4 - (cal_day_of_week(jan4) - 1);
}

static inline int cal_weeks_in_year(int64_t wy) { return (int)((cal_week1_monday(wy + 1) - cal_week1_monday(wy)) / 7); }

/* Whether a day number is within the years a temporal value may have:
 * -999999999-01-01 .. 999999999-12-31. */
static inline bool cal_days_ok(int64_t days) { return days >= INT64_C(-365243219162) && days <= INT64_C(365241780471); }

/* Checked dates: the calendar, ISO week and ordinal forms; false when out of range. */
static inline bool cal_date(int64_t y, int64_t m, int64_t d, int64_t *days)
{
    if (y < -CAL_MAX_YEAR || y > CAL_MAX_YEAR || m < 1 || m > 12 || d < 1 || d > cal_days_in_month(y, (int)m))
        return false;
    *days = cal_days_from_civil(y, (int)m, (int)d);
    return true;
}

static inline bool cal_week_date(int64_t wy, int64_t w, int64_t dow, int64_t *days)
{
    if (wy < -CAL_MAX_YEAR || wy > CAL_MAX_YEAR || w < 1 || w > cal_weeks_in_year(wy) || dow < 1 || dow > 7)
        return false;
    *days = cal_week1_monday(wy) + (w - 1) * 7 + dow - 1;
    return true;
}

static inline bool cal_ordinal_date(int64_t y, int64_t od, int64_t *days)
{
    if (y < -CAL_MAX_YEAR || y > CAL_MAX_YEAR || od < 1 || od > 365 + cal_leap_year(y))
        return false;
    *days = cal_days_from_civil(y, 1, 1) + od - 1;
    return true;
}

#endif
