/* graph/cypher_temporal_ops.c - the namespaced temporal functions: X.truncate(unit,
 * value[, map]) for X in date, localtime, time, localdatetime, datetime;
 * duration.between / inMonths / inDays / inSeconds; datetime.fromepoch and
 * fromepochmillis; X.transaction / statement / realtime (the query's clock).
 * Values and arithmetic: cypher_temporal.c; text: cypher_temporal_text.c;
 * constructors: cypher_temporal_fn.c.
 */
#include "calendar.h"
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>



/* An instant argument (not a duration), or a TypeError naming the function. */
static const cy_temporal *instant_arg(cy_q *q, const cy_expr *e, const cy_value *v)
{
    if (v->t == CV_TEMPORAL && v->u.tm->kind != TK_DURATION)
        return v->u.tm;
    cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() takes a date, time or datetime, not %s", e->name,
          cy_type_name(v));
    return NULL;
}

/* ---- truncate ---- */

/* X.truncate(unit, value[, map]): value cut down to the start of its unit (millennium
 * ... microsecond), as kind X, then the map's fields set over it. */
static int truncate_fn(cy_q *q, const cy_expr *e, cy_tkind kind, cy_value *a, size_t n, cy_value *out)
{
    static const char *const units[] = {"millennium", "century", "decade", "year", "weekYear", "quarter", "month",
                                        "week", "day", "hour", "minute", "second", "millisecond", "microsecond"};
    enum { U_DAY = 8 };
    if (a[0].t != CV_STR)
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s(): the unit must be a String", e->name);
    int u = 0;
    while (u < (int)(sizeof units / sizeof units[0]) && strcasecmp(units[u], a[0].u.s.p))
        u++;
    if (u == (int)(sizeof units / sizeof units[0]))
        return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "%s(): unknown unit '%s'", e->name, a[0].u.s.p);
    const cy_temporal *src = instant_arg(q, e, &a[1]);
    if (!src)
        return -1;
    if ((cy_tk_has_date(kind) && !cy_tk_has_date(src->kind)) || (!cy_tk_has_date(kind) && u < U_DAY) ||
        (!cy_tk_has_time(kind) && u > U_DAY))
        return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "%s() cannot truncate a %s to the %s",
                     e->name, cy_temporal_type_name(src), units[u]);
    if (n > 2 && a[2].t != CV_MAP)
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s(): the fields must be a Map", e->name);
    cy_temporal t = {.kind = kind, .days = cy_tk_has_date(src->kind) ? src->days : 0,
                     .nanos = cy_tk_has_time(src->kind) ? src->nanos : 0, .offset = cy_tk_has_offset(src->kind) ? src->offset : 0,
                     .zone = cy_tk_has_offset(kind) && cy_tk_has_offset(src->kind) ? src->zone : NULL};
    if (u <= U_DAY) {
        int64_t y;
        int m, d;
        cal_civil_from_days(t.days, &y, &m, &d);
        static const int64_t span[] = {1000, 100, 10, 1};
        if (u <= 3)
            t.days = cal_days_from_civil(cal_floordiv(y, span[u]) * span[u], 1, 1);
        else if (u == 4) {   /* weekYear: Monday of week 1 of the date's week-based year */
            int64_t thursday = t.days - (cal_day_of_week(t.days) - 1) + 3, wy;
            cal_civil_from_days(thursday, &wy, &m, &d);
            t.days = cal_week1_monday(wy);
        } else if (u == 5)
            t.days = cal_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
        else if (u == 6)
            t.days = cal_days_from_civil(y, m, 1);
        else if (u == 7)
            t.days -= cal_day_of_week(t.days) - 1;
        t.nanos = 0;
    } else {
        static const int64_t step[] = {3600 * CY_NS_PER_SEC, 60 * CY_NS_PER_SEC, CY_NS_PER_SEC, 1000000, 1000};
        t.nanos -= t.nanos % step[u - U_DAY - 1];
    }
    if (n > 2 && a[2].u.m->n)
        return cy_temporal_from_map(q, e, kind, a[2].u.m, &t, out);
    if (!cy_tk_has_offset(kind))
        t.offset = 0;
    cy_temporal_resolve(&t, &t.offset);   /* the truncated wall clock may have another offset */
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* ---- duration.between and its three single-unit forms ---- */

enum { BETWEEN, IN_MONTHS, IN_DAYS, IN_SECONDS };

/* A duration of secs+nanos (signed total in ns), months and days. */
static int duration_of(cy_q *q, const cy_expr *e, int64_t months, int64_t days, __int128 ns, cy_value *out)
{
    __int128 secs = ns / CY_NS_PER_SEC, rest = ns % CY_NS_PER_SEC;
    if (rest < 0) {
        rest += CY_NS_PER_SEC;
        secs -= 1;
    }
    if (secs > INT64_MAX || secs < INT64_MIN)
        return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "%s(): duration out of range", e->name);
    cy_temporal t = {.kind = TK_DURATION, .months = months, .days = days, .secs = (int64_t)secs, .nanos = (int64_t)rest};
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* From a to b: whole months first (a month counts only once b's day and time of day
 * reach a's), then whole days, then the time; each part carries the sign. When both
 * have an offset, b is first moved to a's. Without two dates only the times of day
 * count, and the month and day forms are zero. */
static int between_fn(cy_q *q, const cy_expr *e, int mode, cy_value *a, cy_value *out)
{
    const cy_temporal *x = instant_arg(q, e, &a[0]), *y = x ? instant_arg(q, e, &a[1]) : NULL;
    if (!y)
        return -1;
    int64_t ad = x->days, an = cy_tk_has_time(x->kind) ? x->nanos : 0, bd = y->days, bn = cy_tk_has_time(y->kind) ? y->nanos : 0;
    /* a value without an offset is read in the other's offset, or zone (so a local time
     * across a DST change counts the hour the clocks moved) */
    int32_t xo = x->offset, yo = y->offset;
    if (cy_tk_has_offset(x->kind) != cy_tk_has_offset(y->kind)) {
        const cy_temporal *zoned = cy_tk_has_offset(x->kind) ? x : y, *local = zoned == x ? y : x;
        cy_temporal as = {.kind = TK_DATETIME, .offset = zoned->offset, .zone = zoned->zone,
                          .days = cy_tk_has_date(local->kind) ? local->days : zoned->days,
                          .nanos = cy_tk_has_time(local->kind) ? local->nanos : 0};
        if (cy_tk_has_date(zoned->kind))
            cy_temporal_resolve(&as, &as.offset);
        *(zoned == x ? &yo : &xo) = as.offset;
    }
    if (cy_tk_has_offset(x->kind) || cy_tk_has_offset(y->kind)) {
        bn += (int64_t)(xo - yo) * CY_NS_PER_SEC;
        if (cy_tk_has_date(y->kind)) {
            bd += cal_floordiv(bn, CY_NS_PER_DAY);
            bn = cal_floormod(bn, CY_NS_PER_DAY);
        }
    }
    if (!cy_tk_has_date(x->kind) || !cy_tk_has_date(y->kind)) {
        if (mode == IN_MONTHS || mode == IN_DAYS)
            return duration_of(q, e, 0, 0, 0, out);
        return duration_of(q, e, 0, 0, (__int128)bn - an, out);
    }
    __int128 total = ((__int128)bd - ad) * CY_NS_PER_DAY + (bn - an);
    if (mode == IN_SECONDS)
        return duration_of(q, e, 0, 0, total, out);
    if (mode == IN_DAYS)
        return duration_of(q, e, 0, (int64_t)(total / CY_NS_PER_DAY), 0, out);
    int64_t ay, by;
    int am, aday, bm, bday;
    cal_civil_from_days(ad, &ay, &am, &aday);
    cal_civil_from_days(bd, &by, &bm, &bday);
    int64_t months = (by * 12 + bm) - (ay * 12 + am);
    int later = bday != aday ? (bday > aday ? 1 : -1) : (bn > an) - (bn < an);   /* b's day+time vs a's */
    if (months > 0 && later < 0)
        months--;
    else if (months < 0 && later > 0)
        months++;
    if (mode == IN_MONTHS)
        return duration_of(q, e, months, 0, 0, out);
    /* a + months, its day clamped to the month's length */
    int64_t mt = ay * 12 + (am - 1) + months, my = cal_floordiv(mt, 12);
    int mm = (int)(mt - my * 12) + 1, dim = cal_days_in_month(my, mm);
    int64_t mid = cal_days_from_civil(my, mm, aday > dim ? dim : aday);
    __int128 rest = ((__int128)bd - mid) * CY_NS_PER_DAY + (bn - an);
    int64_t days = (int64_t)(rest / CY_NS_PER_DAY);
    return duration_of(q, e, months, days, rest - (__int128)days * CY_NS_PER_DAY, out);
}

/* ---- the clock and the epoch ---- */

/* X.transaction([tz]), X.statement([tz]), X.realtime([tz]): the query's one clock
 * reading (cypher_temporal_fn.c reads it), shown in the offset tz when given. */
static int clock_fn(cy_q *q, const cy_expr *e, cy_tkind kind, cy_value *a, size_t n, cy_value *out)
{
    if (kind == TK_DURATION)
        return cy_rt(q, e->pos, "SemanticError", "UnknownFunction", "unknown function '%s'", e->name);
    cy_value now;
    cy_expr plain = *e;
    plain.name = cy_temporal_kind_function(kind);
    if (cy_temporal_function(q, &plain, NULL, 0, &now))
        return -1;
    if (n == 0) {
        *out = now;
        return 0;
    }
    /* the same instant elsewhere: {datetime: now(UTC), timezone: tz} moves it there */
    cy_value utc;
    plain.name = "datetime";
    if (cy_temporal_function(q, &plain, NULL, 0, &utc))
        return -1;
    cy_value m = cy_map_new(&q->arena, 2);
    m.u.m->k[0] = "datetime";
    m.u.m->v[0] = utc;
    m.u.m->k[1] = "timezone";
    m.u.m->v[1] = a[0];
    cy_value moved;
    plain.name = "datetime";
    if (cy_temporal_from_map(q, &plain, TK_DATETIME, m.u.m, NULL, &moved))
        return -1;
    cy_temporal t = *moved.u.tm;
    t.kind = kind;
    if (!cy_tk_has_offset(kind))
        t.offset = 0;
    if (!cy_tk_has_time(kind))
        t.nanos = 0;
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* datetime.fromepoch(seconds, nanoseconds), datetime.fromepochmillis(ms): in UTC. */
static int epoch_fn(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].t != CV_INT)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() takes Integers, not %s", e->name,
                         cy_type_name(&a[i]));
    __int128 ns = n == 2 ? (__int128)a[0].u.i * CY_NS_PER_SEC + a[1].u.i : (__int128)a[0].u.i * 1000000;
    __int128 day = ns / CY_NS_PER_DAY - (ns % CY_NS_PER_DAY < 0);
    if (day < INT64_MIN || day > INT64_MAX || !cal_days_ok((int64_t)day))
        return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentValue", "%s() out of range of the years allowed",
                     e->name);
    cy_temporal t = {.kind = TK_DATETIME, .days = (int64_t)day, .nanos = (int64_t)(ns - day * CY_NS_PER_DAY)};
    *out = cy_temporal_value(&q->arena, &t);
    return 0;
}

/* The entry point of cypher_func.c's table for every "kind.name" function. */
int cy_temporal_ops_function(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    const char *dot = strchr(e->name, '.');
    const char *op = dot ? dot + 1 : "";
    cy_tkind kind = cy_temporal_kind_named(e->name);
    if (!strcasecmp(op, "truncate"))
        return truncate_fn(q, e, kind, a, n, out);
    if (!strcasecmp(op, "between"))
        return between_fn(q, e, BETWEEN, a, out);
    if (!strcasecmp(op, "inMonths"))
        return between_fn(q, e, IN_MONTHS, a, out);
    if (!strcasecmp(op, "inDays"))
        return between_fn(q, e, IN_DAYS, a, out);
    if (!strcasecmp(op, "inSeconds"))
        return between_fn(q, e, IN_SECONDS, a, out);
    if (!strcasecmp(op, "fromepoch") || !strcasecmp(op, "fromepochmillis"))
        return epoch_fn(q, e, a, n, out);
    return clock_fn(q, e, kind, a, n, out);
}
