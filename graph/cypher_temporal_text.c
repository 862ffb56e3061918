/* graph/cypher_temporal_text.c - the ISO 8601 text of temporal values, both ways:
 * written for output, toString() and storage (cy_temporal_text), read for date('...')
 * and the others and for stored values (cy_temporal_parse). Values and arithmetic:
 * cypher_temporal.c; constructors: cypher_temporal_fn.c.
 */
#include "calendar.h"
#include "cypher_int.h"
#include "tzdb.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- writing ---- */

static void put_date(cy_buf *b, int64_t days)
{
    int64_t y;
    int m, d;
    cal_civil_from_days(days, &y, &m, &d);
    if (y > 9999)
        cy_buf_printf(b, "+%lld", (long long)y);
    else if (y < 0)
        cy_buf_printf(b, "-%04lld", (long long)-y);
    else
        cy_buf_printf(b, "%04lld", (long long)y);
    cy_buf_printf(b, "-%02d-%02d", m, d);
}

/* A fraction of a second as 3, 6 or 9 digits, the fewest that hold it (as Java prints). */
static void put_fraction(cy_buf *b, int64_t ns)
{
    if (ns % 1000000 == 0)
        cy_buf_printf(b, ".%03lld", (long long)(ns / 1000000));
    else if (ns % 1000 == 0)
        cy_buf_printf(b, ".%06lld", (long long)(ns / 1000));
    else
        cy_buf_printf(b, ".%09lld", (long long)ns);
}

/* HH:MM, then :SS and the fraction only when they are not zero. */
static void put_time(cy_buf *b, int64_t nanos)
{
    int64_t s = nanos / CY_NS_PER_SEC, ns = nanos % CY_NS_PER_SEC;
    cy_buf_printf(b, "%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
    if (s % 60 || ns)
        cy_buf_printf(b, ":%02d", (int)(s % 60));
    if (ns)
        put_fraction(b, ns);
}

static void put_offset(cy_buf *b, int32_t off)
{
    if (!off) {
        cy_buf_puts(b, "Z");
        return;
    }
    int32_t a = off < 0 ? -off : off;
    cy_buf_printf(b, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
    if (a % 60)
        cy_buf_printf(b, ":%02d", (int)(a % 60));
}

/* n and its unit letter, when n is not zero. */
static void put_unit(cy_buf *b, int64_t n, char unit)
{
    if (n)
        cy_buf_printf(b, "%lld%c", (long long)n, unit);
}

/* P[nY][nM][nD][T[nH][nM][n.fS]]; "PT0S" for zero. Months split into years; the
 * time part (seconds and nanos as one signed amount) into hours, minutes and seconds,
 * each carrying the sign (PT-1M-30.5S). */
static void put_duration(cy_buf *b, const cy_temporal *t)
{
    if (!t->months && !t->days && !t->secs && !t->nanos) {
        cy_buf_puts(b, "PT0S");
        return;
    }
    cy_buf_puts(b, "P");
    put_unit(b, t->months / 12, 'Y');
    put_unit(b, t->months % 12, 'M');
    put_unit(b, t->days, 'D');
    if (!t->secs && !t->nanos)
        return;
    cy_buf_puts(b, "T");
    __int128 total = (__int128)t->secs * CY_NS_PER_SEC + t->nanos;
    const char *sign = total < 0 ? "-" : "";
    unsigned __int128 mag = total < 0 ? -(unsigned __int128)total : (unsigned __int128)total;
    unsigned __int128 secs = mag / CY_NS_PER_SEC;
    int64_t ns = (int64_t)(mag % CY_NS_PER_SEC);
    if (secs >= 3600)
        cy_buf_printf(b, "%s%lluH", sign, (unsigned long long)(secs / 3600));
    if (secs / 60 % 60)
        cy_buf_printf(b, "%s%lluM", sign, (unsigned long long)(secs / 60 % 60));
    if (secs % 60 || ns) {
        cy_buf_printf(b, "%s%llu", sign, (unsigned long long)(secs % 60));
        if (ns) {
            char frac[16];
            snprintf(frac, sizeof frac, "%09lld", (long long)ns);
            size_t n = 9;
            while (frac[n - 1] == '0')
                n--;
            cy_buf_puts(b, ".");
            cy_buf_add(b, frac, n);
        }
        cy_buf_puts(b, "S");
    }
}

/* The ISO 8601 text of a temporal value. */
void cy_temporal_text(cy_buf *b, const cy_temporal *t)
{
    switch (t->kind) {
    case TK_DATE: put_date(b, t->days); break;
    case TK_LOCALTIME: put_time(b, t->nanos); break;
    case TK_TIME:
        put_time(b, t->nanos);
        put_offset(b, t->offset);
        break;
    case TK_LOCALDATETIME:
        put_date(b, t->days);
        cy_buf_puts(b, "T");
        put_time(b, t->nanos);
        break;
    case TK_DATETIME:
        put_date(b, t->days);
        cy_buf_puts(b, "T");
        put_time(b, t->nanos);
        put_offset(b, t->offset);
        if (t->zone)
            cy_buf_printf(b, "[%s]", tzdb_zone_name(t->zone));
        break;
    case TK_DURATION: put_duration(b, t); break;
    }
}

/* ---- reading ---- */

typedef struct tcur { const char *p, *e; } tcur;

static bool at(const tcur *c, char ch) { return c->p < c->e && *c->p == ch; }
static bool eat(tcur *c, char ch)
{
    if (!at(c, ch))
        return false;
    c->p++;
    return true;
}

/* Number of ASCII digits from the cursor. */
static int run_of_digits(const tcur *c)
{
    int n = 0;
    while (c->p + n < c->e && isdigit((unsigned char)c->p[n]))
        n++;
    return n;
}

/* Exactly n digits as a number. */
static bool digits(tcur *c, int n, int64_t *v)
{
    if (run_of_digits(c) < n)
        return false;
    *v = 0;
    for (int i = 0; i < n; i++)
        *v = *v * 10 + (*c->p++ - '0');
    return true;
}

/* YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD, YYYY-Www[-D], YYYYWww[D], YYYY-DDD, YYYYDDD;
 * a year beyond 9999 or before 0 has a sign and all its digits: +10000-01-01. */
static bool parse_date(tcur *c, int64_t *days)
{
    int64_t y, m = 1, d = 1, w, dow = 1, od;
    bool neg = eat(c, '-'), signed_year = neg || eat(c, '+');
    int ny = signed_year ? run_of_digits(c) : 4;
    if (ny < 4 || ny > 9 || !digits(c, ny, &y))
        return false;
    if (neg)
        y = -y;
    bool dash = eat(c, '-');
    if (eat(c, 'W')) {                                   /* week date */
        if (!digits(c, 2, &w))
            return false;
        if (dash ? eat(c, '-') : run_of_digits(c) > 0)
            if (!digits(c, 1, &dow))
                return false;
        return cal_week_date(y, w, dow, days);
    }
    int n = run_of_digits(c);
    if (n == 3)                                          /* ordinal date */
        return digits(c, 3, &od) && cal_ordinal_date(y, od, days);
    if (dash) {                                          /* YYYY-MM[-DD] */
        if (!digits(c, 2, &m) || (eat(c, '-') && !digits(c, 2, &d)))
            return false;
    } else if (n == 4 || n == 2) {                       /* YYYYMMDD, YYYYMM */
        digits(c, 2, &m);
        if (n == 4)
            digits(c, 2, &d);
    } else if (n) {
        return false;
    }
    return cal_date(y, m, d, days);
}

/* HH, then MM and SS when they follow, with ':' between all of them or none: the
 * fields of a time of day and of an offset. How many were read (1-3), 0 if none. */
static int clock_fields(tcur *c, int64_t *h, int64_t *m, int64_t *s)
{
    *m = *s = 0;
    if (!digits(c, 2, h))
        return 0;
    bool colon = eat(c, ':');
    if (!colon && run_of_digits(c) < 2)
        return 1;
    if (!digits(c, 2, m))
        return 0;
    if (!(colon ? eat(c, ':') : run_of_digits(c) >= 2))
        return 2;
    return digits(c, 2, s) ? 3 : 0;
}

/* The 1-9 digits of a decimal fraction as billionths (".5" is 500000000). */
static bool fraction(tcur *c, int64_t *billionths)
{
    int n = run_of_digits(c);
    if (n < 1 || n > 9)
        return false;
    digits(c, n, billionths);
    for (int i = n; i < 9; i++)
        *billionths *= 10;
    return true;
}

/* HH[:MM[:SS[.fffffffff]]] or HH[MM[SS[.f]]] into nanoseconds of the day. */
static bool parse_time(tcur *c, int64_t *nanos)
{
    int64_t h, m, s, f = 0;
    int n = clock_fields(c, &h, &m, &s);
    if (!n || (n == 3 && (eat(c, '.') || eat(c, ',')) && !fraction(c, &f)))
        return false;
    if (h > 23 || m > 59 || s > 59)
        return false;
    *nanos = ((h * 60 + m) * 60 + s) * CY_NS_PER_SEC + f;
    return true;
}

/* Z, +HH, +HHMM, +HH:MM (also with :SS): seconds east of UTC. */
static bool parse_offset(tcur *c, int32_t *off)
{
    if (eat(c, 'Z') || eat(c, 'z')) {
        *off = 0;
        return true;
    }
    bool neg = at(c, '-');
    if (!eat(c, '+') && !eat(c, '-'))
        return false;
    int64_t h, m, s;
    if (!clock_fields(c, &h, &m, &s))
        return false;
    if (h > 18 || m > 59 || s > 59 || (h == 18 && (m || s)))
        return false;
    *off = (int32_t)((h * 60 + m) * 60 + s) * (neg ? -1 : 1);
    return true;
}

/* A number with an optional sign and fraction ("-1.5", "2,25"), for durations: its
 * whole part, and its fraction in billionths (exact to 9 digits), both signed. */
static bool duration_number(tcur *c, int64_t *whole, int64_t *billionths)
{
    bool neg = eat(c, '-');
    if (!neg)
        eat(c, '+');
    int n = run_of_digits(c);
    if (!n || n > 18)
        return false;
    digits(c, n, whole);
    *billionths = 0;
    if ((eat(c, '.') || eat(c, ',')) && !fraction(c, billionths))
        return false;
    if (neg) {
        *whole = -*whole;
        *billionths = -*billionths;
    }
    return true;
}

/* P[nY][nM][nW][nD][T[nH][nM][nS]] (any part may be signed or fractional), or the
 * alternative form PYYYY-MM-DDTHH:MM:SS[.f]; a leading '-' negates the whole. */
static bool parse_duration(tcur *c, cy_temporal *out)
{
    double sign = eat(c, '-') ? -1 : 1;
    if (!eat(c, 'P'))
        return false;
    if (run_of_digits(c) == 4 && c->p + 4 < c->e && c->p[4] == '-') {   /* alternative form */
        int64_t y, m, d, h, mi, s, f = 0, ns = 0;
        if (!digits(c, 4, &y) || !eat(c, '-') || !digits(c, 2, &m) || !eat(c, '-') || !digits(c, 2, &d))
            return false;
        if (eat(c, 'T')) {
            if (!digits(c, 2, &h) || !eat(c, ':') || !digits(c, 2, &mi) || !eat(c, ':') || !digits(c, 2, &s))
                return false;
            if (eat(c, '.') && !fraction(c, &f))
                return false;
            ns = ((h * 60 + mi) * 60 + s) * CY_NS_PER_SEC + f;
        }
        return c->p == c->e &&
               cy_duration_build(sign * (double)(y * 12 + m), sign * (double)d, 0, sign * (double)ns, out);
    }
    /* whole parts add up exactly; a fraction of a second is exact nanoseconds; a
     * fraction of a larger unit goes down through cy_duration_build */
    int64_t months = 0, days = 0, secs = 0, nanos = 0;
    double fmonths = 0, fdays = 0, fsecs = 0;
    bool time = false, any = false, ovf = false;
    static const char date_units[] = "YMWD", time_units[] = "HMS";
    int last = -1;   /* index of the last unit read: units come in order, once each */
    while (c->p < c->e) {
        if (!time && eat(c, 'T')) {
            time = true;
            last = -1;
            if (c->p == c->e)
                return false;
            continue;
        }
        int64_t v = 0, f = 0, p;
        if (!duration_number(c, &v, &f) || c->p == c->e)
            return false;
        const char *units = time ? time_units : date_units, *u = strchr(units, *c->p);
        if (!u || (int)(u - units) <= last)
            return false;
        last = (int)(u - units);
        c->p++;
        any = true;
        char unit = time && *u == 'M' ? 'm' : *u;   /* m: minutes */
        static const struct { char unit; int64_t scale; int field; } table[] = {
            {'Y', 12, 0}, {'M', 1, 0}, {'W', 7, 1}, {'D', 1, 1}, {'H', 3600, 2}, {'m', 60, 2}, {'S', 1, 2}};
        size_t k = 0;
        while (table[k].unit != unit)
            k++;
        int64_t *dst = table[k].field == 0 ? &months : table[k].field == 1 ? &days : &secs;
        ovf = ovf || __builtin_mul_overflow(v, table[k].scale, &p) || __builtin_add_overflow(*dst, p, dst);
        if (unit == 'S')
            nanos += f;
        else if (f)
            *(table[k].field == 0 ? &fmonths : table[k].field == 1 ? &fdays : &fsecs) += f / 1e9 * table[k].scale;
    }
    cy_temporal frac;
    if (!any || ovf || !cy_duration_build(fmonths, fdays, fsecs, (double)nanos, &frac))
        return false;
    /* exact parts + the fractions' share, then the sign of the whole */
    int64_t sg = sign < 0 ? -1 : 1;
    __int128 ns = sg * (((__int128)secs + frac.secs) * CY_NS_PER_SEC + frac.nanos);
    __int128 total_s = ns / CY_NS_PER_SEC - (ns % CY_NS_PER_SEC < 0);
    __int128 mo = sg * ((__int128)months + frac.months), dy = sg * ((__int128)days + frac.days);
    if (total_s > INT64_MAX || total_s < INT64_MIN || mo > INT64_MAX || mo < INT64_MIN || dy > INT64_MAX ||
        dy < INT64_MIN)
        return false;
    *out = (cy_temporal){.kind = TK_DURATION, .months = (int64_t)mo, .days = (int64_t)dy};
    out->secs = (int64_t)total_s;
    out->nanos = (int64_t)(ns - total_s * CY_NS_PER_SEC);
    return true;
}

/* Text of one kind (kind decides the form; trailing text is an error). 0 or -1. */
int cy_temporal_parse(cy_arena *a, cy_tkind kind, const char *text, size_t len, cy_value *out)
{
    tcur c = {text, text + len};
    cy_temporal t = {.kind = kind};
    if (kind == TK_DURATION) {
        if (!parse_duration(&c, &t))
            return -1;
        *out = cy_temporal_value(a, &t);
        return 0;
    }
    if (cy_tk_has_date(kind) && !parse_date(&c, &t.days))
        return -1;
    if (cy_tk_has_date(kind) && cy_tk_has_time(kind)) {
        if (eat(&c, 'T') || eat(&c, 't')) {
            if (!parse_time(&c, &t.nanos))
                return -1;
        }
    } else if (cy_tk_has_time(kind) && !parse_time(&c, &t.nanos)) {
        return -1;
    }
    bool has_off = false;
    if (cy_tk_has_offset(kind) && c.p < c.e && c.p[0] != '[') {
        if (!parse_offset(&c, &t.offset))
            return -1;
        has_off = true;
    }
    if (cy_tk_has_offset(kind) && eat(&c, '[')) {   /* a named zone: ...+01:00[Europe/Stockholm] */
        const char *name = c.p;
        while (c.p < c.e && *c.p != ']')
            c.p++;
        if (!(t.zone = tzdb_zone_get(name, (size_t)(c.p - name))) || !eat(&c, ']'))
            return -1;
        if (kind == TK_DATETIME)
            cy_temporal_resolve(&t, has_off ? &t.offset : NULL);   /* the written offset if it applies */
        else if (!has_off)
            t.offset = tzdb_offset_at(t.zone, (int64_t)time(NULL));   /* a time has no date: today's */
    }
    if (c.p != c.e)
        return -1;
    *out = cy_temporal_value(a, &t);
    return 0;
}

/* See cypher_int.h: an offset alone ('+01:00', 'Z'), the whole text. */
bool cy_temporal_parse_offset(const char *s, size_t n, int32_t *off)
{
    tcur c = {s, s + n};
    return parse_offset(&c, off) && c.p == c.e;
}
