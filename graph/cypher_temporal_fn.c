/* graph/cypher_temporal_fn.c - making temporal values: date(), localtime(), time(),
 * localdatetime(), datetime() and duration() from ISO 8601 text (read by
 * cypher_temporal_text.c), from a map of fields (optionally over a base value:
 * {date: d, week: 2}), from another temporal value, or from the clock; and reading
 * their fields (d.year, t.offset, dur.days). The values themselves and their
 * arithmetic are in cypher_temporal.c.
 */
#include "calendar.h"
#include "cypher_int.h"
#include "tzdb.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* date('2015-07-21') and the others: ArgumentError naming the text when it does not parse. */
static int parse_text(cy_q *q, const cy_expr *e, cy_tkind kind, const cy_value *s, cy_value *out)
{
    if (cy_temporal_parse(&q->arena, kind, s->u.s.p, s->u.s.len, out) == 0)
        return 0;
    return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "'%s' is not a valid %s", s->u.s.p, e->name);
}

/* ---- fields of a value ---- */

/* The calendar fields of a day number. */
typedef struct dfields { int64_t year, week_year; int month, day, week, dow, ordinal, quarter, day_of_quarter; } dfields;

static dfields date_fields(int64_t days)
{
    dfields f;
    cal_civil_from_days(days, &f.year, &f.month, &f.day);
    f.dow = cal_day_of_week(days);
    int64_t thursday = days - (f.dow - 1) + 3;   /* its week belongs to the year of its Thursday */
    int tm, td;
    cal_civil_from_days(thursday, &f.week_year, &tm, &td);
    f.week = (int)((days - cal_week1_monday(f.week_year)) / 7) + 1;
    f.ordinal = (int)(days - cal_days_from_civil(f.year, 1, 1)) + 1;
    f.quarter = (f.month - 1) / 3 + 1;
    f.day_of_quarter = (int)(days - cal_days_from_civil(f.year, f.quarter * 3 - 2, 1)) + 1;
    return f;
}

/* Seconds since 1970-01-01T00:00Z of a datetime. */
static int64_t epoch_seconds(const cy_temporal *t)
{
    return t->days * 86400 + t->nanos / CY_NS_PER_SEC - t->offset;
}

static cy_value offset_text(cy_q *q, int32_t off)
{
    cy_buf b = {0};
    cy_temporal t = {.kind = TK_TIME, .offset = off};
    cy_temporal_text(&b, &t);   /* "00:00+01:00": keep what follows the time */
    cy_value v = cy_str(&q->arena, b.p + 5, b.len - 5);
    free(b.p);
    return v;
}

/* d.year, t.hour, dt.offset, dur.days, ...: an unknown field is an error, as in Neo4j. */
int cy_temporal_property(cy_q *q, const cy_temporal *t, const char *key, int pos, cy_value *out)
{
    if (t->kind == TK_DURATION) {
        int64_t total_ns_of_sec = t->nanos;
        static const struct { const char *name; int what; } df[] = {
            {"years", 0}, {"quarters", 1}, {"months", 2}, {"weeks", 3}, {"days", 4}, {"hours", 5}, {"minutes", 6},
            {"seconds", 7}, {"milliseconds", 8}, {"microseconds", 9}, {"nanoseconds", 10}, {"quartersOfYear", 11},
            {"monthsOfQuarter", 12}, {"monthsOfYear", 13}, {"daysOfWeek", 14}, {"minutesOfHour", 15},
            {"secondsOfMinute", 16}, {"millisecondsOfSecond", 17}, {"microsecondsOfSecond", 18},
            {"nanosecondsOfSecond", 19}};
        for (size_t i = 0; i < sizeof df / sizeof df[0]; i++) {
            if (strcasecmp(df[i].name, key))
                continue;
            int64_t v = 0;
            __int128 wide = 0;   /* the totals in small units may not fit 64 bits */
            switch (df[i].what) {
            case 0: v = t->months / 12; break;
            case 1: v = t->months / 3; break;
            case 2: v = t->months; break;
            case 3: v = t->days / 7; break;
            case 4: v = t->days; break;
            case 5: v = t->secs / 3600; break;
            case 6: v = t->secs / 60; break;
            case 7: v = t->secs; break;
            case 8: wide = (__int128)t->secs * 1000 + total_ns_of_sec / 1000000; break;
            case 9: wide = (__int128)t->secs * 1000000 + total_ns_of_sec / 1000; break;
            case 10: wide = (__int128)t->secs * CY_NS_PER_SEC + total_ns_of_sec; break;
            case 11: v = t->months % 12 / 3; break;
            case 12: v = t->months % 3; break;
            case 13: v = t->months % 12; break;
            case 14: v = t->days % 7; break;
            case 15: v = t->secs / 60 % 60; break;
            case 16: v = t->secs % 60; break;
            case 17: v = total_ns_of_sec / 1000000; break;
            case 18: v = total_ns_of_sec / 1000; break;
            case 19: v = total_ns_of_sec; break;
            }
            if (df[i].what >= 8 && df[i].what <= 10) {
                if (wide > INT64_MAX || wide < INT64_MIN)
                    return cy_rt(q, pos, "ArithmeticError", "IntegerOverflow", "the duration's %s do not fit an Integer",
                                 df[i].name);
                v = (int64_t)wide;
            }
            *out = cy_int(v);
            return 0;
        }
        return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "a Duration has no field '%s'", key);
    }
    if (cy_tk_has_date(t->kind)) {
        dfields f = date_fields(t->days);
        static const char *const names[] = {"year", "quarter", "month", "week", "weekYear", "dayOfQuarter",
                                            "quarterDay", "day", "ordinalDay", "dayOfWeek", "weekDay"};
        const int64_t vals[] = {f.year, f.quarter, f.month, f.week, f.week_year, f.day_of_quarter,
                                f.day_of_quarter, f.day, f.ordinal, f.dow, f.dow};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp(names[i], key) == 0) {
                *out = cy_int(vals[i]);
                return 0;
            }
    }
    if (cy_tk_has_time(t->kind)) {
        int64_t s = t->nanos / CY_NS_PER_SEC, ns = t->nanos % CY_NS_PER_SEC;
        static const char *const names[] = {"hour", "minute", "second", "millisecond", "microsecond", "nanosecond"};
        const int64_t vals[] = {s / 3600, s / 60 % 60, s % 60, ns / 1000000, ns / 1000, ns};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp(names[i], key) == 0) {
                *out = cy_int(vals[i]);
                return 0;
            }
    }
    if (cy_tk_has_offset(t->kind)) {
        if (!strcasecmp(key, "timezone") && t->zone) {
            *out = cy_str0(&q->arena, tzdb_zone_name(t->zone));
            return 0;
        }
        if (!strcasecmp(key, "timezone") || !strcasecmp(key, "offset")) {
            *out = offset_text(q, t->offset);
            return 0;
        }
        if (!strcasecmp(key, "offsetMinutes") || !strcasecmp(key, "offsetSeconds")) {
            *out = cy_int(strcasecmp(key, "offsetMinutes") ? t->offset : t->offset / 60);
            return 0;
        }
    }
    if (t->kind == TK_DATETIME && (!strcasecmp(key, "epochSeconds") || !strcasecmp(key, "epochMillis"))) {
        int64_t s = epoch_seconds(t);   /* |days| < 4e11: fits; s * 1000 may not near the last years */
        __int128 ms = (__int128)s * 1000 + t->nanos % CY_NS_PER_SEC / 1000000;
        if (strcasecmp(key, "epochSeconds") && (ms > INT64_MAX || ms < INT64_MIN))
            return cy_rt(q, pos, "ArithmeticError", "IntegerOverflow", "epochMillis does not fit an Integer");
        *out = cy_int(strcasecmp(key, "epochSeconds") ? (int64_t)ms : s);
        return 0;
    }
    return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "a %s has no field '%s'", cy_temporal_type_name(t), key);
}

/* The current instant: one reading per query (Cypher's statement clock). */
static struct timespec query_clock(cy_q *q)
{
    if (!q->clock_read) {
        clock_gettime(CLOCK_REALTIME, &q->clock);
        q->clock_read = true;
    }
    return q->clock;
}

/* ---- from a map ---- */

/* The fields a map may name, and what they mean to which kinds. */
enum { F_YEAR, F_MONTH, F_DAY, F_WEEK, F_DOW, F_ORDINAL, F_QUARTER, F_DOQ, F_HOUR, F_MINUTE, F_SECOND, F_MS, F_US, F_NS,
       F_TZ, F_DATE, F_TIME, F_DATETIME, F_EPOCHS, F_EPOCHMS, F_N };
static const char *const field_names[F_N] = {
    "year", "month", "day", "week", "dayOfWeek", "ordinalDay", "quarter", "dayOfQuarter", "hour", "minute", "second",
    "millisecond", "microsecond", "nanosecond", "timezone", "date", "time", "datetime", "epochSeconds", "epochMillis"};

typedef struct fmap { const cy_value *v[F_N]; } fmap;

/* An integer field, range-checked; *v untouched when absent. -1 after an error. */
static int int_field(cy_q *q, int pos, const fmap *m, int f, int64_t lo, int64_t hi, int64_t *v)
{
    const cy_value *x = m->v[f];
    if (!x)
        return 0;
    if (x->t != CV_INT)
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "%s must be an Integer, not %s", field_names[f],
                     cy_type_name(x));
    if (x->u.i < lo || x->u.i > hi)
        return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "%s %lld is out of range (%lld to %lld)",
                     field_names[f], (long long)x->u.i, (long long)lo, (long long)hi);
    *v = x->u.i;
    return 0;
}

static int bad_date(cy_q *q, int pos, const char *what)
{
    return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "not a valid date: %s", what);
}

/* The date part: calendar, week, ordinal or quarter form; fields missing from the map
 * come from the base date when there is one, else are the first of their range. */
static int map_date(cy_q *q, int pos, const fmap *m, const cy_temporal *base, int64_t *days)
{
    dfields b = base ? date_fields(base->days) : (dfields){.month = 1, .day = 1, .week = 1, .dow = 1, .quarter = 1,
                                                           .day_of_quarter = 1, .ordinal = 1};
    if (!base && !m->v[F_YEAR])
        return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "a date needs a year");
    int64_t y = base ? b.year : 0;
    if (m->v[F_WEEK] || (base && m->v[F_DOW])) {
        int64_t wy = base ? b.week_year : 0, w = b.week, dow = b.dow;
        if (int_field(q, pos, m, F_YEAR, -CAL_MAX_YEAR, CAL_MAX_YEAR, &wy) || int_field(q, pos, m, F_WEEK, 1, 53, &w) ||
            int_field(q, pos, m, F_DOW, 1, 7, &dow))
            return -1;
        return cal_week_date(wy, w, dow, days) ? 0 : bad_date(q, pos, "that year has 52 weeks");
    }
    if (int_field(q, pos, m, F_YEAR, -CAL_MAX_YEAR, CAL_MAX_YEAR, &y))
        return -1;
    if (m->v[F_ORDINAL]) {
        int64_t od = 1;
        if (int_field(q, pos, m, F_ORDINAL, 1, 366, &od))
            return -1;
        return cal_ordinal_date(y, od, days) ? 0 : bad_date(q, pos, "that year has 365 days");
    }
    if (m->v[F_QUARTER] || m->v[F_DOQ]) {
        int64_t qt = b.quarter, dq = b.day_of_quarter;
        if (int_field(q, pos, m, F_QUARTER, 1, 4, &qt) || int_field(q, pos, m, F_DOQ, 1, 92, &dq))
            return -1;
        int64_t first = cal_days_from_civil(y, (int)qt * 3 - 2, 1);
        int64_t next = qt == 4 ? cal_days_from_civil(y + 1, 1, 1) : cal_days_from_civil(y, (int)qt * 3 + 1, 1);
        if (first + dq - 1 >= next)
            return bad_date(q, pos, "that quarter is shorter");
        *days = first + dq - 1;
        return 0;
    }
    int64_t mo = b.month, d = b.day;
    if (int_field(q, pos, m, F_MONTH, 1, 12, &mo) || int_field(q, pos, m, F_DAY, 1, 31, &d))
        return -1;
    if (m->v[F_DOW])
        return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "dayOfWeek needs week");
    return cal_date(y, mo, d, days) ? 0 : bad_date(q, pos, "that month is shorter");
}

/* The time of day: fields missing from the map come from the base time (base_nanos,
 * or -1 for none), else are 0. millisecond, microsecond and nanosecond each replace
 * their own part of the base's fraction; without a base (or beside neither of the
 * others) nanosecond may be the whole fraction. */
static int map_time(cy_q *q, int pos, const fmap *m, int64_t base_nanos, int64_t *nanos)
{
    bool base = base_nanos >= 0;
    if (!base)
        base_nanos = 0;
    int64_t s0 = base_nanos / CY_NS_PER_SEC, frac = base_nanos % CY_NS_PER_SEC;
    int64_t h = s0 / 3600, mi = s0 / 60 % 60, s = s0 % 60;
    if (int_field(q, pos, m, F_HOUR, 0, 23, &h) || int_field(q, pos, m, F_MINUTE, 0, 59, &mi) ||
        int_field(q, pos, m, F_SECOND, 0, 59, &s))
        return -1;
    if (m->v[F_MS] || m->v[F_US] || m->v[F_NS]) {
        int64_t ms = frac / 1000000, us = frac / 1000 % 1000, ns = frac % 1000;
        bool whole_ns = !m->v[F_MS] && !m->v[F_US] && (!base || (m->v[F_NS]->t == CV_INT && m->v[F_NS]->u.i > 999));
        if (whole_ns) {
            ms = us = 0;
            if (int_field(q, pos, m, F_NS, 0, 999999999, &ns))
                return -1;
        } else {
            bool us_alone = !m->v[F_MS] && !base;
            if (m->v[F_US] && us_alone)
                ms = 0;
            if (int_field(q, pos, m, F_MS, 0, 999, &ms) ||
                int_field(q, pos, m, F_US, 0, us_alone ? 999999 : 999, &us) || int_field(q, pos, m, F_NS, 0, 999, &ns))
                return -1;
        }
        frac = ms * 1000000 + us * 1000 + ns;
    }
    *nanos = ((h * 60 + mi) * 60 + s) * CY_NS_PER_SEC + frac;
    return 0;
}

/* The timezone field: an offset ('+01:00', 'Z') into *off, or a zone of the tz
 * database ('Europe/Stockholm') into *zone, whose offset depends on the date. */
static int map_tz(cy_q *q, int pos, const cy_value *tz, int32_t *off, const tzdb_zone **zone)
{
    if (tz->t != CV_STR)
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "timezone must be a String, not %s", cy_type_name(tz));
    *zone = NULL;
    if (cy_temporal_parse_offset(tz->u.s.p, tz->u.s.len, off))
        return 0;
    if (tz->u.s.len == 3 && !strcasecmp(tz->u.s.p, "UTC")) {
        *off = 0;
        return 0;
    }
    if ((*zone = tzdb_zone_get(tz->u.s.p, tz->u.s.len)) != NULL)
        return 0;
    return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue",
                 "timezone '%s' is neither a UTC offset ('+01:00', 'Z') nor a zone of the tz database "
                 "('Europe/Stockholm')", tz->u.s.p);
}

/* Seconds since the epoch of a base value's instant (a time alone: on the day of now). */
static int64_t base_instant(const cy_temporal *t, int64_t now)
{
    if (!cy_tk_has_date(t->kind))
        return cal_floordiv(now, 86400) * 86400 + t->nanos / CY_NS_PER_SEC - t->offset;
    return t->days * 86400 + t->nanos / CY_NS_PER_SEC - t->offset;
}

/* A base value of a map ({date: d}, {time: t}, {datetime: dt}) must be temporal. */
static int base_of(cy_q *q, int pos, const fmap *m, int f, const cy_temporal **out)
{
    const cy_value *x = m->v[f];
    if (!x)
        return 0;
    if (x->t != CV_TEMPORAL || x->u.tm->kind == TK_DURATION ||
        ((f == F_DATE || f == F_DATETIME) && !cy_tk_has_date(x->u.tm->kind)) || (f == F_TIME && !cy_tk_has_time(x->u.tm->kind)))
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "%s must be a temporal value with a %s, not %s",
                     field_names[f], f == F_TIME ? "time" : "date", cy_type_name(x));
    *out = x->u.tm;
    return 0;
}

/* date({...}), time({...}), ...: every key must mean something to the kind. base
 * (truncate's) stands for both {date: base} and {time: base}, and the timezone field
 * then sets the offset of the fields rather than moving the instant. */
int cy_temporal_from_map(cy_q *q, const cy_expr *e, cy_tkind kind, const cy_map *map, const cy_temporal *base,
                         cy_value *out)
{
    fmap m = {0};
    int pos = e->pos;
    for (size_t i = 0; i < map->n; i++) {
        int f = 0;
        while (f < F_N && strcasecmp(field_names[f], map->k[i]))
            f++;
        bool fits = f < F_N && (f <= F_DOQ    ? cy_tk_has_date(kind)
                                : f <= F_NS   ? cy_tk_has_time(kind)
                                : f == F_TZ   ? cy_tk_has_offset(kind)
                                : f == F_DATE ? cy_tk_has_date(kind)
                                : f == F_TIME ? cy_tk_has_time(kind)
                                : f == F_DATETIME ? true
                                              : kind == TK_DATETIME);
        if (!fits)
            return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "%s() does not take the field '%s'", e->name,
                         map->k[i]);
        if (map->v[i].t == CV_NULL)
            continue;   /* a null field is absent */
        m.v[f] = &map->v[i];
    }
    const cy_temporal *bdate = NULL, *btime = NULL, *bdt = NULL;
    if (base_of(q, pos, &m, F_DATE, &bdate) || base_of(q, pos, &m, F_TIME, &btime) ||
        base_of(q, pos, &m, F_DATETIME, &bdt))
        return -1;
    if (bdt) {
        if (!bdate && cy_tk_has_date(bdt->kind))
            bdate = bdt;
        if (!btime && cy_tk_has_time(bdt->kind))
            btime = bdt;
    }
    if (base) {
        bdate = cy_tk_has_date(base->kind) ? base : NULL;
        btime = base;   /* a date's time of day is midnight */
    }
    cy_temporal t = {.kind = kind};
    /* the offset: the timezone field, else the base time's, else UTC; a base with an
     * offset of its own is first moved to the new offset or zone (same instant) */
    const cy_temporal *zoned = btime && cy_tk_has_offset(btime->kind) ? btime : NULL;
    if (base && m.v[F_TZ])
        zoned = NULL;   /* truncate: the new zone applies to the truncated fields */
    if (cy_tk_has_offset(kind)) {
        if (m.v[F_TZ] && map_tz(q, pos, m.v[F_TZ], &t.offset, &t.zone))
            return -1;
        if (!m.v[F_TZ] && zoned) {
            t.offset = zoned->offset;
            t.zone = zoned->zone;
        } else if (t.zone) {   /* the zone's offset at the base's instant, or (first guess) now */
            int64_t now = (int64_t)query_clock(q).tv_sec;
            t.offset = tzdb_offset_at(t.zone, zoned ? base_instant(zoned, now) : now);
        }
    }
    int64_t shift_ns = zoned && cy_tk_has_offset(kind) ? (int64_t)(t.offset - zoned->offset) * CY_NS_PER_SEC : 0;
    cy_temporal bd = bdate ? *bdate : (cy_temporal){0}, bt = btime ? *btime : (cy_temporal){0};
    if (shift_ns && btime) {
        int64_t n = bt.nanos + shift_ns;   /* offsets differ by up to 36 h */
        int64_t carry = cal_floordiv(n, CY_NS_PER_DAY);
        bt.nanos = cal_floormod(n, CY_NS_PER_DAY);
        if (bdate == btime)   /* one datetime: the date moves with it */
            bd.days += carry;
    }
    if (m.v[F_EPOCHS] || m.v[F_EPOCHMS]) {
        int64_t s = 0, ms = 0, ns = 0;
        if (int_field(q, pos, &m, F_EPOCHS, INT64_MIN / 2, INT64_MAX / 2, &s) ||
            int_field(q, pos, &m, F_EPOCHMS, INT64_MIN / 2, INT64_MAX / 2, &ms) ||
            int_field(q, pos, &m, F_NS, 0, 999999999, &ns))
            return -1;
        if (t.zone)
            t.offset = tzdb_offset_at(t.zone, s + ms / 1000 - (ms % 1000 < 0));
        __int128 total = ((__int128)s * 1000 + ms) * 1000000 + ns + (__int128)t.offset * CY_NS_PER_SEC;
        __int128 day = total / CY_NS_PER_DAY - (total % CY_NS_PER_DAY < 0);
        if (day < INT64_MIN || day > INT64_MAX || !cal_days_ok((int64_t)day))
            return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "%s() out of range of the years allowed",
                         e->name);
        t.days = (int64_t)day;
        t.nanos = (int64_t)(total - day * CY_NS_PER_DAY);
    } else {
        if (cy_tk_has_date(kind) && map_date(q, pos, &m, bdate ? &bd : NULL, &t.days))
            return -1;
        if (cy_tk_has_time(kind) && map_time(q, pos, &m, btime ? bt.nanos : -1, &t.nanos))
            return -1;
        bool time_fields = m.v[F_MINUTE] || m.v[F_SECOND] || m.v[F_MS] || m.v[F_US] || m.v[F_NS];
        if (!btime && !m.v[F_HOUR] && (time_fields || kind == TK_LOCALTIME || kind == TK_TIME))
            return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "%s() needs an hour", e->name);
        cy_temporal_resolve(&t, &t.offset);   /* a zone's offset for these fields */
    }
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* duration({days: 14, hours: 16}): integers add up exactly; any fraction goes down
 * to the smaller units (cy_duration_approx). */
static int duration_from_map(cy_q *q, const cy_expr *e, const cy_map *map, cy_value *out)
{
    static const struct { const char *name; int unit; double scale; } units[] = {
        {"years", 0, 12}, {"quarters", 0, 3}, {"months", 0, 1}, {"weeks", 1, 7}, {"days", 1, 1},
        {"hours", 2, 3600}, {"minutes", 2, 60}, {"seconds", 2, 1}, {"milliseconds", 3, 1e6},
        {"microseconds", 3, 1e3}, {"nanoseconds", 3, 1}};
    double sum[4] = {0};
    int64_t isum[4] = {0};
    bool exact = true, ovf = false;
    for (size_t i = 0; i < map->n; i++) {
        size_t u = 0;
        while (u < sizeof units / sizeof units[0] && strcasecmp(units[u].name, map->k[i]))
            u++;
        if (u == sizeof units / sizeof units[0])
            return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "duration() does not take the field '%s'",
                         map->k[i]);
        const cy_value *v = &map->v[i];
        if (v->t == CV_NULL)
            continue;
        if (v->t != CV_INT && v->t != CV_FLOAT)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s must be a number, not %s", map->k[i],
                         cy_type_name(v));
        double x = v->t == CV_INT ? (double)v->u.i : v->u.f;
        sum[units[u].unit] += x * units[u].scale;
        if (v->t == CV_INT) {
            int64_t p;
            ovf = ovf || __builtin_mul_overflow(v->u.i, (int64_t)units[u].scale, &p) ||
                  __builtin_add_overflow(isum[units[u].unit], p, &isum[units[u].unit]);
        } else {
            exact = false;
        }
    }
    if (exact && !ovf) {
        cy_temporal t = {.kind = TK_DURATION, .months = isum[0], .days = isum[1]};
        if (__builtin_add_overflow(isum[2], cal_floordiv(isum[3], CY_NS_PER_SEC), &t.secs))
            return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "duration out of range");
        t.nanos = cal_floormod(isum[3], CY_NS_PER_SEC);
        *out = cy_temporal_value(&q->arena, &t);
        return 0;
    }
    return cy_duration_approx(q, e->pos, sum[0], sum[1], sum[2], sum[3], out);
}

/* ---- the functions ---- */

/* Projection of one instant kind onto another: date(datetime), localtime(dt), ... */
static int convert(cy_q *q, const cy_expr *e, cy_tkind kind, const cy_temporal *src, cy_value *out)
{
    if (src->kind == TK_DURATION || (cy_tk_has_date(kind) && !cy_tk_has_date(src->kind)))
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() cannot be made from a %s", e->name,
                     cy_temporal_type_name(src));
    cy_temporal t = {.kind = kind, .days = src->days, .nanos = cy_tk_has_time(src->kind) ? src->nanos : 0,
                     .offset = cy_tk_has_offset(kind) && cy_tk_has_offset(src->kind) ? src->offset : 0,
                     .zone = cy_tk_has_offset(kind) && cy_tk_has_offset(src->kind) ? src->zone : NULL};
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* date(), localtime(), time(), localdatetime(), datetime(), duration(): one entry
 * point for cypher_func.c's table; e->name says which. */
int cy_temporal_function(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    cy_tkind kind = cy_temporal_kind_named(e->name);
    if (n == 0) {
        if (kind == TK_DURATION)
            return cy_rt(q, e->pos, "SemanticError", "InvalidNumberOfArguments", "duration() needs an argument");
        struct timespec now = query_clock(q);
        __int128 total = (__int128)now.tv_sec * CY_NS_PER_SEC + now.tv_nsec;
        cy_temporal t = {.kind = kind, .days = (int64_t)(total / CY_NS_PER_DAY),
                         .nanos = (int64_t)(total % CY_NS_PER_DAY)};
        if (kind == TK_DATE)
            t.nanos = 0;
        *out = cy_temporal_value(&q->arena, &t);
        return 0;
    }
    switch (a[0].t) {
    case CV_STR: return parse_text(q, e, kind, &a[0], out);
    case CV_MAP:
        return kind == TK_DURATION ? duration_from_map(q, e, a[0].u.m, out)
                                   : cy_temporal_from_map(q, e, kind, a[0].u.m, NULL, out);
    case CV_TEMPORAL:
        if (kind == TK_DURATION) {
            if (a[0].u.tm->kind != TK_DURATION)
                break;
            *out = a[0];
            return 0;
        }
        return convert(q, e, kind, a[0].u.tm, out);
    default: break;
    }
    return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() takes a String or a Map, not %s", e->name,
                 cy_type_name(&a[0]));
}
