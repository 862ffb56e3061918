/* Unit tests for jobs_next_backoff (core/server_jobs.c): how long the event
 * loop leaves lookups to the pool after one of its own took longer than 1 ms.
 * A one-off (a preempted loop thread) costs the shortest back-off; slow
 * lookups that keep coming (a cold cache) grow it 4 times per back-off to the
 * full second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server_int.h"

#define MS (1000ull * 1000)

static void a_first_slow_lookup_costs_the_shortest_back_off(void **st)
{
    assert_int_equal(jobs_next_backoff(0, 0), 4 * MS);
    assert_int_equal(jobs_next_backoff(0, 123456 * MS), 4 * MS);
}

static void slow_lookups_in_a_row_grow_it_to_one_second(void **st)
{
    uint64_t b = 0;
    const uint64_t want[] = {4 * MS, 16 * MS, 64 * MS, 256 * MS, 1000 * MS, 1000 * MS};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        /* slow again right after the back-off ended (plus the lookup's 2 ms) */
        b = jobs_next_backoff(b, b + 2 * MS);
        assert_int_equal(b, want[i]);
    }
    /* still within 100 ms after the last back-off ended: stays at the top */
    assert_int_equal(jobs_next_backoff(1000 * MS, 1099 * MS), 1000 * MS);
}

static void a_quiet_spell_resets_it(void **st)
{
    assert_int_equal(jobs_next_backoff(4 * MS, 103 * MS), 16 * MS);    /* 99 ms after it ended */
    assert_int_equal(jobs_next_backoff(4 * MS, 104 * MS), 4 * MS);     /* 100 ms after */
    assert_int_equal(jobs_next_backoff(1000 * MS, 1100 * MS), 4 * MS);
    assert_int_equal(jobs_next_backoff(256 * MS, 5000 * MS), 4 * MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_first_slow_lookup_costs_the_shortest_back_off),
        cmocka_unit_test(slow_lookups_in_a_row_grow_it_to_one_second),
        cmocka_unit_test(a_quiet_spell_resets_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
