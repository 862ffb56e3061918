/*
 * graph/tzdb.c - named time zones from the tz database (see tzdb.h).
 *
 * A TZif file (RFC 8536) lists a zone's transitions: instants at which its offset
 * changes, each with the local time type (offset, DST flag) in force from then on.
 * Version 2+ files repeat the data with 64-bit times and end with a POSIX TZ
 * string ("CET-1CEST,M3.5.0,M10.5.0/3") that gives the rule for instants after the
 * last transition. Instants before the first transition use time type 0.
 *
 * Why not libc's localtime_r with setenv("TZ"): the zone is process-global state
 * and queries run on several threads; reading the files ourselves is small.
 */
#include "calendar.h"
#include "tzdb.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZDB_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZDB_MAX_FILE (1 << 20)
#define TZDB_MAX_NAME 128

/* A POSIX TZ rule: std offset, and when DST applies its offset and the local
 * times of its start and end each year. */
typedef struct tz_rule_date { char kind; int m, w, d, n; int32_t time; } tz_rule_date; /* kind 'M', 'J' or 'n' */
typedef struct tz_rule {
    bool valid, has_dst;
    int32_t std_off, dst_off;
    tz_rule_date start, end;
} tz_rule;

struct tzdb_zone {
    char *name;
    size_t n;            /* transitions */
    int64_t *at;         /* their instants, ascending */
    int32_t *off;        /* the offset from each on */
    int32_t first_off;   /* time type 0: before the first transition */
    tz_rule rule;        /* after the last transition (if valid) */
    tzdb_zone *next;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static tzdb_zone *tz_zones;

/* ---- the POSIX TZ string ---- */

/* A zone abbreviation: letters, or anything in <...>. */
static bool rule_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        while (*s && *s != '>')
            s++;
        if (*s != '>')
            return false;
        *p = s + 1;
        return true;
    }
    while (isalpha((unsigned char)*s))
        s++;
    if (s - *p < 3)
        return false;
    *p = s;
    return true;
}

/* [+-]hh[:mm[:ss]] as seconds. */
static bool rule_time(const char **p, int32_t *secs)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s))
        return false;
    long v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i && *s != ':')
            break;
        if (i)
            s++;
        char *e;
        v[i] = strtol(s, &e, 10);
        if (e == s)
            return false;
        s = e;
    }
    *secs = (int32_t)(sign * (v[0] * 3600 + v[1] * 60 + v[2]));
    *p = s;
    return true;
}

/* Mm.w.d, Jn or n, then an optional /time (default 02:00). */
static bool rule_date(const char **p, tz_rule_date *d)
{
    const char *s = *p;
    char *e;
    *d = (tz_rule_date){.time = 7200};
    if (*s == 'M') {
        d->kind = 'M';
        d->m = (int)strtol(s + 1, &e, 10);
        if (*e != '.')
            return false;
        d->w = (int)strtol(e + 1, &e, 10);
        if (*e != '.')
            return false;
        d->d = (int)strtol(e + 1, &e, 10);
        if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6)
            return false;
    } else {
        d->kind = *s == 'J' ? 'J' : 'n';
        d->n = (int)strtol(s + (*s == 'J'), &e, 10);
        if (e == s + (*s == 'J'))
            return false;
    }
    s = e;
    if (*s == '/') {
        s++;
        if (!rule_time(&s, &d->time))
            return false;
    }
    *p = s;
    return true;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": the offsets are west of UTC in the string. */
static tz_rule rule_parse(const char *s)
{
    tz_rule r = {0};
    int32_t t;
    if (!rule_name(&s) || !rule_time(&s, &t))
        return r;
    r.std_off = -t;
    r.valid = true;
    if (!*s)
        return r;
    if (!rule_name(&s))
        return (tz_rule){0};
    r.dst_off = r.std_off + 3600;
    if (*s && *s != ',') {
        if (!rule_time(&s, &t))
            return (tz_rule){0};
        r.dst_off = -t;
    }
    if (*s++ != ',' || !rule_date(&s, &r.start) || *s++ != ',' || !rule_date(&s, &r.end) || *s)
        return (tz_rule){0};
    r.has_dst = true;
    return r;
}

/* Local seconds (in the offset the rule date is written in) of a rule date in year y. */
static int64_t rule_local(const tz_rule_date *d, int64_t y)
{
    int64_t day;
    if (d->kind == 'J')   /* 1..365, February 29 never counted */
        day = cal_days_from_civil(y, 1, 1) + d->n - 1 + (cal_leap_year(y) && d->n >= 60);
    else if (d->kind == 'n')   /* 0..365 */
        day = cal_days_from_civil(y, 1, 1) + d->n;
    else {                     /* day d of week w (5: the last) of month m */
        int64_t first = cal_days_from_civil(y, d->m, 1);
        int dow = cal_day_of_week(first) % 7;   /* 0 Sunday, as the rule counts */
        day = first + (d->d - dow + 7) % 7 + (int64_t)(d->w - 1) * 7;
        int dim = cal_days_in_month(y, d->m);
        while (day >= first + dim)
            day -= 7;
    }
    return day * 86400 + d->time;
}

static int32_t rule_offset_at(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    int m, d;
    cal_civil_from_days(cal_floordiv(t + r->std_off, 86400), &y, &m, &d);
    int64_t start = rule_local(&r->start, y) - r->std_off;   /* written in standard time */
    int64_t end = rule_local(&r->end, y) - r->dst_off;       /* written in daylight time */
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* Parses a whole TZif file into z (name set by the caller); false if malformed. */
static bool tzif_parse(tzdb_zone *z, const unsigned char *b, size_t len)
{
    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return false;
    bool v2 = b[4] >= '2';
    size_t pos = 0, tsize = 4;
    for (int pass = 0; pass < (v2 ? 2 : 1); pass++) {
        if (pos + 44 > len || memcmp(b + pos, "TZif", 4) != 0)
            return false;
        uint32_t isut = be32(b + pos + 20), isstd = be32(b + pos + 24), leapcnt = be32(b + pos + 28);
        uint32_t timecnt = be32(b + pos + 32), typecnt = be32(b + pos + 36), charcnt = be32(b + pos + 40);
        if (timecnt > 100000 || typecnt == 0 || typecnt > 256)
            return false;
        size_t body = (size_t)timecnt * tsize + timecnt + (size_t)typecnt * 6 + charcnt +
                      (size_t)leapcnt * (tsize + 4) + isstd + isut;
        if (pos + 44 + body > len)
            return false;
        if (v2 && pass == 0) {   /* skip the 32-bit data */
            pos += 44 + body;
            tsize = 8;
            continue;
        }
        const unsigned char *t = b + pos + 44, *idx = t + (size_t)timecnt * tsize, *types = idx + timecnt;
        z->n = timecnt;
        z->at = malloc((timecnt ? timecnt : 1) * sizeof *z->at);
        z->off = malloc((timecnt ? timecnt : 1) * sizeof *z->off);
        if (!z->at || !z->off)
            return false;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (idx[i] >= typecnt)
                return false;
            z->at[i] = tsize == 8 ? be64(t + 8 * i) : (int32_t)be32(t + 4 * i);
            z->off[i] = (int32_t)be32(types + 6 * idx[i]);
        }
        z->first_off = (int32_t)be32(types);
        pos += 44 + body;
    }
    /* the footer: "\n" TZ string "\n" */
    if (v2 && pos < len && b[pos] == '\n') {
        const unsigned char *nl = memchr(b + pos + 1, '\n', len - pos - 1);
        if (nl && nl - (b + pos) < 256) {
            char tz[256];
            size_t n = (size_t)(nl - (b + pos + 1));
            memcpy(tz, b + pos + 1, n);
            tz[n] = 0;
            z->rule = rule_parse(tz);
        }
    }
    return true;
}

/* A zone name must be a relative path inside the database: letters, digits and
 * "_+-/", no empty or dot component. */
static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= TZDB_MAX_NAME || s[0] == '/' || s[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '+' && c != '-' && c != '/')
            return false;
        if (c == '/' && s[i + 1] == '/')
            return false;
        if ((i == 0 || s[i - 1] == '/') && c == '-')
            return false;
    }
    return true;
}

/* Reads and parses one zone file; NULL if there is none or it is malformed. */
static tzdb_zone *zone_load(const char *name)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : TZDB_DEFAULT_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(TZDB_MAX_FILE);
    size_t len = buf ? fread(buf, 1, TZDB_MAX_FILE, f) : 0;
    fclose(f);
    tzdb_zone *z = calloc(1, sizeof *z);
    if (!buf || !z || !tzif_parse(z, buf, len) || !(z->name = strdup(name))) {
        if (z) {
            free(z->at);
            free(z->off);
        }
        free(z);
        z = NULL;
    }
    free(buf);
    return z;
}

const tzdb_zone *tzdb_zone_get(const char *name, size_t len)
{
    if (!name_ok(name, len))
        return NULL;
    char key[TZDB_MAX_NAME];
    memcpy(key, name, len);
    key[len] = 0;
    pthread_mutex_lock(&tz_lock);
    tzdb_zone *z = tz_zones;
    while (z && strcmp(z->name, key) != 0)
        z = z->next;
    if (!z && (z = zone_load(key)) != NULL) {
        z->next = tz_zones;
        tz_zones = z;
    }
    pthread_mutex_unlock(&tz_lock);
    return z;
}

const char *tzdb_zone_name(const tzdb_zone *z) { return z->name; }

int32_t tzdb_offset_at(const tzdb_zone *z, int64_t t)
{
    if (z->n == 0 || t < z->at[0])
        return z->n == 0 && z->rule.valid ? rule_offset_at(&z->rule, t) : z->first_off;
    if (t >= z->at[z->n - 1] && z->rule.valid)
        return rule_offset_at(&z->rule, t);
    size_t lo = 0, hi = z->n - 1;   /* the last transition at or before t */
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->off[lo];
}

int32_t tzdb_offset_for_local(const tzdb_zone *z, int64_t local, const int32_t *prefer, int64_t *shift)
{
    /* the offsets a day before and after bound every candidate (one transition at most) */
    int32_t before = tzdb_offset_at(z, local - 86400), after = tzdb_offset_at(z, local + 86400);
    bool b_ok = tzdb_offset_at(z, local - before) == before, a_ok = tzdb_offset_at(z, local - after) == after;
    *shift = 0;
    if (b_ok && a_ok && before != after)   /* an overlap */
        return prefer && *prefer == after ? after : before;
    if (b_ok)
        return before;
    if (a_ok)
        return after;
    *shift = (int64_t)after - before;   /* a gap: move later by its length */
    return after;
}
