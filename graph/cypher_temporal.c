/* graph/cypher_temporal.c - Cypher's temporal values (date, local time, time,
 * local datetime, datetime, duration): the stored form, comparison, ORDER BY
 * order, equivalence keys and arithmetic with durations. Their ISO 8601 text is
 * cypher_temporal_text.c's; constructors and fields cypher_temporal_fn.c's; the
 * namespaced functions (truncate, duration.between, ...) cypher_temporal_ops.c's;
 * day numbers calendar.h's.
 *
 * Invariants of a cy_temporal (cypher_int.h): for the five instant kinds `days` is
 * the proleptic Gregorian day number from 1970-01-01 and 0 <= nanos < CY_NS_PER_DAY
 * is the local wall-clock time of day; `offset` is seconds east of UTC and is set
 * only for TIME and DATETIME. A DATETIME may also name a zone (graph/tzdb.c): then
 * `offset` is the zone's offset at that wall-clock time (cy_temporal_resolve keeps
 * it so after every change of its fields); a TIME keeps only the offset a zone gave
 * it. A duration keeps months, days, secs and 0 <= nanos < 1e9 apart, as Cypher
 * does: a month is not a fixed number of days, nor a day of seconds.
 */
#include "calendar.h"
#include "cypher_int.h"
#include "tzdb.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Type names, also the keys of the stored form {"$date": "1985-05-06"}. */
static const char *const kind_names[] = {"Date", "LocalTime", "Time", "LocalDateTime", "DateTime", "Duration"};
static const char *const kind_tags[] = {"$date", "$localtime", "$time", "$localdatetime", "$datetime", "$duration"};

const char *cy_temporal_type_name(const cy_temporal *t) { return kind_names[t->kind]; }

/* The function that makes each kind, and the kind a function name starts with: up to
 * its first '.' ("datetime.truncate" is a DATETIME one); TK_DURATION when none. */
static const char *const kind_functions[] = {"date", "localtime", "time", "localdatetime", "datetime", "duration"};

const char *cy_temporal_kind_function(cy_tkind k) { return kind_functions[k]; }

cy_tkind cy_temporal_kind_named(const char *name)
{
    size_t n = strcspn(name, ".");
    for (int k = 0; k < TK_DURATION; k++)
        if (strlen(kind_functions[k]) == n && strncasecmp(kind_functions[k], name, n) == 0)
            return (cy_tkind)k;
    return TK_DURATION;
}

/* Stored form of a temporal property: a one-member object naming the type, whose
 * value is the ISO text (so SQL readers and node.get see what it is). */
json_t *cy_temporal_to_json(const cy_temporal *t)
{
    cy_buf b = {0};
    cy_temporal_text(&b, t);
    json_t *o = json_object();
    json_object_set_new(o, kind_tags[t->kind], json_stringn(b.p, b.len));
    free(b.p);
    return o;
}

/* Reads the stored form back: true and *out set when key is a temporal tag and the
 * text parses as that type; anything else stays an ordinary map. */
bool cy_temporal_from_tag(cy_arena *a, const char *key, const char *text, size_t len, cy_value *out)
{
    for (int k = 0; k <= TK_DURATION; k++)
        if (strcmp(key, kind_tags[k]) == 0)
            return cy_temporal_parse(a, (cy_tkind)k, text, len, out) == 0;
    return false;
}

cy_value cy_temporal_value(cy_arena *a, const cy_temporal *t)
{
    cy_temporal *c = cy_alloc(a, sizeof *c);
    *c = *t;
    if (c->kind != TK_DATETIME)
        c->zone = NULL;   /* a time keeps only the offset a zone gave it (no date, no rules) */
    return (cy_value){.t = CV_TEMPORAL, .u.tm = c};
}

/* ---- comparison ---- */

static int cmp64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* Within one kind: instants by their point on the UTC time line (a TIME by its
 * UTC time of day), then by offset so that only equal values compare 0. */
static int same_kind_cmp(const cy_temporal *a, const cy_temporal *b)
{
    int c;
    switch (a->kind) {
    case TK_DATE: return cmp64(a->days, b->days);
    case TK_LOCALTIME: return cmp64(a->nanos, b->nanos);
    case TK_TIME:
        if ((c = cmp64(a->nanos - a->offset * CY_NS_PER_SEC, b->nanos - b->offset * CY_NS_PER_SEC)))
            return c;
        return cmp64(b->offset, a->offset);
    case TK_LOCALDATETIME:
        return (c = cmp64(a->days, b->days)) ? c : cmp64(a->nanos, b->nanos);
    case TK_DATETIME: {
        int64_t sa = a->days * 86400 + a->nanos / CY_NS_PER_SEC - a->offset;
        int64_t sb = b->days * 86400 + b->nanos / CY_NS_PER_SEC - b->offset;
        if ((c = cmp64(sa, sb)) || (c = cmp64(a->nanos % CY_NS_PER_SEC, b->nanos % CY_NS_PER_SEC)))
            return c;
        return cmp64(b->offset, a->offset);
    }
    case TK_DURATION:
        if ((c = cmp64(a->months, b->months)) || (c = cmp64(a->days, b->days)) || (c = cmp64(a->secs, b->secs)))
            return c;
        return cmp64(a->nanos, b->nanos);
    }
    return 0;
}

/* = : same kind and same value (a TIME or DATETIME also the same offset and zone). */
int cy_temporal_equals(const cy_temporal *a, const cy_temporal *b)
{
    return a->kind == b->kind && same_kind_cmp(a, b) == 0 && a->zone == b->zone;
}

/* <, >: values of one instant kind; durations and mixed kinds are incomparable. */
bool cy_temporal_compare(const cy_temporal *a, const cy_temporal *b, int *cmp)
{
    if (a->kind != b->kind || a->kind == TK_DURATION)
        return false;
    *cmp = same_kind_cmp(a, b);
    return true;
}

/* ORDER BY: datetime < local datetime < date < time < local time < duration (the
 * ranks cypher_value.c places between paths and strings), then by value. */
int cy_temporal_rank(const cy_temporal *t)
{
    static const int rank[] = {[TK_DATETIME] = 0, [TK_LOCALDATETIME] = 1, [TK_DATE] = 2,
                               [TK_TIME] = 3, [TK_LOCALTIME] = 4, [TK_DURATION] = 5};
    return rank[t->kind];
}

int cy_temporal_order(const cy_temporal *a, const cy_temporal *b)
{
    int ra = cy_temporal_rank(a), rb = cy_temporal_rank(b);
    return ra != rb ? (ra < rb ? -1 : 1) : same_kind_cmp(a, b);
}

/* Equivalence key (DISTINCT, grouping): the kind and every field. */
void cy_temporal_key(cy_buf *b, const cy_temporal *t)
{
    cy_buf_printf(b, "t%d:%lld,%lld,%lld,%lld,%d,%s;", (int)t->kind, (long long)t->months, (long long)t->days,
                  (long long)t->secs, (long long)t->nanos, (int)t->offset, t->zone ? tzdb_zone_name(t->zone) : "");
}

/* See cypher_int.h. */
void cy_temporal_resolve(cy_temporal *t, const int32_t *prefer)
{
    if (t->kind != TK_DATETIME || !t->zone)
        return;
    int64_t shift;
    t->offset = tzdb_offset_for_local(t->zone, t->days * 86400 + t->nanos / CY_NS_PER_SEC, prefer, &shift);
    if (shift) {
        int64_t n = t->nanos + shift * CY_NS_PER_SEC;
        t->days += cal_floordiv(n, CY_NS_PER_DAY);
        t->nanos = cal_floormod(n, CY_NS_PER_DAY);
    }
}

/* ---- arithmetic ---- */

static int range_error(cy_q *q, int pos)
{
    return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "temporal value out of range (years -%lld to %lld)",
                 (long long)CAL_MAX_YEAR, (long long)CAL_MAX_YEAR);
}

/* date + months: the day is clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28/29). */
static int add_months(cy_q *q, int pos, int64_t *days, int64_t months)
{
    if (!months)
        return 0;
    int64_t y;
    int m, d;
    cal_civil_from_days(*days, &y, &m, &d);
    int64_t total;
    if (__builtin_mul_overflow(y, 12, &total) || __builtin_add_overflow(total, (int64_t)(m - 1), &total) ||
        __builtin_add_overflow(total, months, &total))
        return range_error(q, pos);
    y = cal_floordiv(total, 12);
    m = (int)cal_floormod(total, 12) + 1;
    if (y > CAL_MAX_YEAR || y < -CAL_MAX_YEAR)
        return range_error(q, pos);
    int dim = cal_days_in_month(y, m);
    *days = cal_days_from_civil(y, m, d > dim ? dim : d);
    return 0;
}

/* Checked days + n, within the supported years. */
static int add_days(cy_q *q, int pos, int64_t *days, int64_t n)
{
    if (__builtin_add_overflow(*days, n, days) || !cal_days_ok(*days))
        return range_error(q, pos);
    return 0;
}

/* t + sign * d for an instant t and a duration d. A date takes the months, then the
 * days, then whole days of the seconds; a time only the seconds and nanos, wrapping
 * at midnight; a datetime all of them in that order (in a named zone the offset
 * follows the zone's rules, else it stays). */
static int plus_duration(cy_q *q, int pos, const cy_temporal *t, const cy_temporal *d, int sign, cy_value *out)
{
    cy_temporal r = *t;
    int64_t months, dd;   /* negating INT64_MIN overflows */
    if (__builtin_mul_overflow(d->months, sign, &months) || __builtin_mul_overflow(d->days, sign, &dd))
        return range_error(q, pos);
    /* the duration's time part as signed nanoseconds, split into whole days and the rest */
    __int128 total = sign * ((__int128)d->secs * CY_NS_PER_SEC + d->nanos);
    __int128 whole = total / CY_NS_PER_DAY - (total % CY_NS_PER_DAY < 0);
    int64_t day_s = (int64_t)whole;                          /* |secs| / 86400 fits */
    int64_t rest_ns = (int64_t)(total - whole * CY_NS_PER_DAY);   /* [0, 1 day) */
    int64_t secs_days = (int64_t)(sign * (__int128)d->secs / 86400);   /* toward zero */
    switch (t->kind) {
    case TK_DATE:
        /* whole days of the seconds, truncated toward zero as the date has no time */
        if (add_months(q, pos, &r.days, months) || add_days(q, pos, &r.days, dd) ||
            add_days(q, pos, &r.days, secs_days))
            return -1;
        break;
    case TK_LOCALTIME:
    case TK_TIME:
        r.nanos = cal_floormod(t->nanos + rest_ns, CY_NS_PER_DAY);
        break;
    case TK_LOCALDATETIME:
    case TK_DATETIME: {
        if (add_months(q, pos, &r.days, months) || add_days(q, pos, &r.days, dd))
            return -1;
        /* in a named zone months and days move the wall clock (keeping the offset when it
         * still applies), seconds move the instant (the offset may change on the way) */
        cy_temporal_resolve(&r, &t->offset);
        int64_t off0 = r.offset;
        if (add_days(q, pos, &r.days, day_s))
            return -1;
        int64_t n = r.nanos + rest_ns;
        if (add_days(q, pos, &r.days, cal_floordiv(n, CY_NS_PER_DAY)))
            return -1;
        r.nanos = cal_floormod(n, CY_NS_PER_DAY);
        if (r.zone) {
            int64_t instant = r.days * 86400 + r.nanos / CY_NS_PER_SEC - off0;
            int32_t off = tzdb_offset_at(r.zone, instant);
            n = r.nanos + (int64_t)(off - off0) * CY_NS_PER_SEC;
            if (add_days(q, pos, &r.days, cal_floordiv(n, CY_NS_PER_DAY)))
                return -1;
            r.nanos = cal_floormod(n, CY_NS_PER_DAY);
            r.offset = off;
        }
        break;
    }
    case TK_DURATION: break;
    }
    *out = cy_temporal_value(&q->arena, &r);
    return 0;
}

/* A duration from possibly fractional parts: each fraction goes down to the next
 * unit (a month is 2629746 s on average, a day 86400 s), as Cypher's duration() does.
 * False when a part does not fit in 64 bits. */
bool cy_duration_build(double months, double days, double secs, double nanos, cy_temporal *out)
{
    double m = trunc(months);
    days += (months - m) * 2629746.0 / 86400.0;
    double d = trunc(days);
    secs += (days - d) * 86400.0;
    double s = trunc(secs);
    nanos += (secs - s) * 1e9;
    /* whole nanoseconds, truncated like the larger units; a result within rounding
     * noise of a whole number (0.3 s is 299999999.99999994 ns) is that number */
    double n = fabs(nanos - round(nanos)) < 1e-3 ? round(nanos) : trunc(nanos);
    if (!isfinite(m + d + s + n) || fabs(m) > 9.2e18 || fabs(d) > 9.2e18 || fabs(s) > 9.2e18 || fabs(n) > 9.2e18)
        return false;
    *out = (cy_temporal){.kind = TK_DURATION, .months = (int64_t)m, .days = (int64_t)d};
    int64_t ni = (int64_t)n;
    if (__builtin_add_overflow((int64_t)s, cal_floordiv(ni, CY_NS_PER_SEC), &out->secs))
        return false;
    out->nanos = cal_floormod(ni, CY_NS_PER_SEC);
    return true;
}

/* cy_duration_build as a value, or an ArgumentError. */
int cy_duration_approx(cy_q *q, int pos, double months, double days, double secs, double nanos, cy_value *out)
{
    cy_temporal r;
    if (!cy_duration_build(months, days, secs, nanos, &r))
        return range_error(q, pos);
    *out = cy_temporal_value(&q->arena, &r);
    return 0;
}

/* Exact duration arithmetic on integers: a ± b, or a * k. */
static int duration_exact(cy_q *q, int pos, const cy_temporal *a, const cy_temporal *b, int64_t k, cy_value *out)
{
    cy_temporal r = {.kind = TK_DURATION};
    bool ovf;
    if (b) {   /* a + k*b with k = ±1 */
        int64_t bm, bd, bs;
        ovf = __builtin_mul_overflow(b->months, k, &bm) || __builtin_mul_overflow(b->days, k, &bd) ||
              __builtin_mul_overflow(b->secs, k, &bs) || __builtin_add_overflow(a->months, bm, &r.months) ||
              __builtin_add_overflow(a->days, bd, &r.days) || __builtin_add_overflow(a->secs, bs, &r.secs);
        int64_t ns = a->nanos + k * b->nanos;
        ovf = ovf || __builtin_add_overflow(r.secs, cal_floordiv(ns, CY_NS_PER_SEC), &r.secs);
        r.nanos = cal_floormod(ns, CY_NS_PER_SEC);
    } else {   /* a * k */
        int64_t total_ns = 0;
        ovf = __builtin_mul_overflow(a->months, k, &r.months) || __builtin_mul_overflow(a->days, k, &r.days) ||
              __builtin_mul_overflow(a->secs, k, &r.secs) || __builtin_mul_overflow(a->nanos, k, &total_ns);
        ovf = ovf || __builtin_add_overflow(r.secs, cal_floordiv(total_ns, CY_NS_PER_SEC), &r.secs);
        r.nanos = cal_floormod(total_ns, CY_NS_PER_SEC);
    }
    if (ovf)
        return cy_rt(q, pos, "ArithmeticError", "IntegerOverflow", "duration arithmetic overflows");
    *out = cy_temporal_value(&q->arena, &r);
    return 0;
}

/* + - * / where at least one side is temporal (cy_arith has handled nulls). */
int cy_temporal_arith(cy_q *q, int op, const cy_value *a, const cy_value *b, int pos, cy_value *out)
{
    const cy_temporal *ta = a->t == CV_TEMPORAL ? a->u.tm : NULL, *tb = b->t == CV_TEMPORAL ? b->u.tm : NULL;
    bool da = ta && ta->kind == TK_DURATION, db = tb && tb->kind == TK_DURATION;
    bool nb = b->t == CV_INT || b->t == CV_FLOAT, na = a->t == CV_INT || a->t == CV_FLOAT;
    if (op == B_ADD && ta && !da && db)
        return plus_duration(q, pos, ta, tb, 1, out);
    if (op == B_ADD && da && tb && !db)
        return plus_duration(q, pos, tb, ta, 1, out);
    if (op == B_SUB && ta && !da && db)
        return plus_duration(q, pos, ta, tb, -1, out);
    if ((op == B_ADD || op == B_SUB) && da && db)
        return duration_exact(q, pos, ta, tb, op == B_ADD ? 1 : -1, out);
    if (op == B_MUL && ((da && nb) || (db && na))) {
        const cy_temporal *d = da ? ta : tb;
        const cy_value *k = da ? b : a;
        if (k->t == CV_INT)
            return duration_exact(q, pos, d, NULL, k->u.i, out);
        double f = k->u.f;
        return cy_duration_approx(q, pos, d->months * f, d->days * f, d->secs * f, d->nanos * f, out);
    }
    if (op == B_DIV && da && nb) {
        double f = b->t == CV_INT ? (double)b->u.i : b->u.f;
        if (f == 0)
            return cy_rt(q, pos, "ArithmeticError", "DivisionByZero", "division of a duration by zero");
        return cy_duration_approx(q, pos, ta->months / f, ta->days / f, ta->secs / f, ta->nanos / f, out);
    }
    static const char *opn[] = {[B_ADD] = "+", [B_SUB] = "-", [B_MUL] = "*", [B_DIV] = "/", [B_MOD] = "%", [B_POW] = "^"};
    return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "cannot apply %s to %s and %s", opn[op], cy_type_name(a),
                 cy_type_name(b));
}
