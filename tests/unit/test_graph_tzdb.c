/*
 * tests/unit/test_graph_tzdb.c - graph/tzdb.c, the tz database reader: offsets
 * from a zone's transitions and from its POSIX rule past the last one (both
 * hemispheres), wall-clock times in an overlap and in a gap, zone names that
 * are not paths inside the database, and files that are not TZif.
 * Uses the system's tzdata (historic facts that do not change) and a temporary
 * directory for the malformed files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tzdb.h"

static const tzdb_zone *zone(const char *name) { return tzdb_zone_get(name, strlen(name)); }

/* 2017-10-29T01:00Z: Sweden left summer time (+02:00 -> +01:00). */
#define STOCKHOLM_DST_END INT64_C(1509238800)

static void offsets_from_transitions(void **st)
{
    (void)st;
    const tzdb_zone *z = zone("Europe/Stockholm");
    assert_non_null(z);
    assert_string_equal(tzdb_zone_name(z), "Europe/Stockholm");
    assert_ptr_equal(zone("Europe/Stockholm"), z);   /* loaded once */
    assert_int_equal(tzdb_offset_at(z, STOCKHOLM_DST_END - 1), 7200);
    assert_int_equal(tzdb_offset_at(z, STOCKHOLM_DST_END), 3600);
    const tzdb_zone *h = zone("Pacific/Honolulu");
    assert_non_null(h);
    assert_int_equal(tzdb_offset_at(h, 0), -36000);
    assert_int_equal(tzdb_offset_at(h, INT64_C(3000000000)), -36000);   /* 2065, past the transitions */
}

/* Past the last transition (2037) the POSIX rule decides, south as well as north. */
static void offsets_from_the_rule(void **st)
{
    (void)st;
    const int64_t jan_2061 = INT64_C(2871763200), jul_2061 = INT64_C(2887401600);   /* 1 Jan, 1 Jul 2061 UTC */
    const tzdb_zone *ny = zone("America/New_York"), *syd = zone("Australia/Sydney");
    assert_non_null(ny);
    assert_non_null(syd);
    assert_int_equal(tzdb_offset_at(ny, jan_2061), -5 * 3600);
    assert_int_equal(tzdb_offset_at(ny, jul_2061), -4 * 3600);
    assert_int_equal(tzdb_offset_at(syd, jan_2061), 11 * 3600);
    assert_int_equal(tzdb_offset_at(syd, jul_2061), 10 * 3600);
}

/* 02:30 on 2017-10-29 happened twice in Stockholm; 02:30 on 2017-03-26 never did. */
static void local_times_in_overlaps_and_gaps(void **st)
{
    (void)st;
    const tzdb_zone *z = zone("Europe/Stockholm");
    int64_t shift = -1;
    int64_t overlap = INT64_C(1509244200);   /* 2017-10-29T02:30 as local seconds */
    assert_int_equal(tzdb_offset_for_local(z, overlap, NULL, &shift), 7200);   /* the earlier */
    assert_int_equal(shift, 0);
    int32_t prefer = 3600;
    assert_int_equal(tzdb_offset_for_local(z, overlap, &prefer, &shift), 3600);
    prefer = 0;   /* not one of the two: the earlier */
    assert_int_equal(tzdb_offset_for_local(z, overlap, &prefer, &shift), 7200);
    int64_t gap = INT64_C(1490495400);   /* 2017-03-26T02:30 local */
    assert_int_equal(tzdb_offset_for_local(z, gap, NULL, &shift), 7200);
    assert_int_equal(shift, 3600);
    int64_t plain = INT64_C(1500000000);
    assert_int_equal(tzdb_offset_for_local(z, plain, NULL, &shift), 7200);
    assert_int_equal(shift, 0);
}

static void names_outside_the_database(void **st)
{
    (void)st;
    static const char *const bad[] = {"../../etc/passwd", "/etc/localtime", "Europe//Stockholm", "Europe/",
                                      "-Europe", "Europe/Stock holm", "Mars/Olympus_Mons", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(zone(bad[i]));
    assert_null(tzdb_zone_get("Europe/Stockholm", 6));   /* "Europe": a directory, not a zone */
}

/* Files that are not TZif, or are cut short, are no zone (and no crash). */
static void malformed_files(void **st)
{
    (void)st;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/dsgraph-tzdb-%d", (int)getpid());
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[128];
    FILE *src = fopen("/usr/share/zoneinfo/Europe/Stockholm", "rb");
    assert_non_null(src);
    unsigned char real[4096];
    size_t n = fread(real, 1, sizeof real, src);
    fclose(src);
    assert_true(n > 100);
    struct { const char *name; const void *data; size_t len; } files[] = {
        {"Text", "not a zone\n", 11}, {"Empty", "", 0}, {"Cut", real, 60}, {"Half", real, n / 2}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(files[i].data, 1, files[i].len, f);
        fclose(f);
    }
    setenv("TZDIR", dir, 1);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_null(zone(files[i].name));
    unsetenv("TZDIR");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offsets_from_transitions),
        cmocka_unit_test(offsets_from_the_rule),
        cmocka_unit_test(local_times_in_overlaps_and_gaps),
        cmocka_unit_test(names_outside_the_database),
        cmocka_unit_test(malformed_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
