/* Unit tests for core/framing.c: lines split across reads, CRLF, the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

typedef struct { char lines[16][64]; int n; } sink;

static int collect(void *ud, char *line, size_t len)
{
    sink *s = ud;
    assert_int_equal(strlen(line), len); /* NUL-terminated at len */
    if (s->n < 16)
        snprintf(s->lines[s->n++], 64, "%s", line);
    return 0;
}

static void lines_split_across_reads(void **st)
{
    framer f;
    sink s = {0};
    framer_init(&f, 100);
    assert_int_equal(framer_feed(&f, "{\"a\"", 4, collect, &s), 0);
    assert_int_equal(s.n, 0);
    const char *more = ":1}\n{\"b\":2}\npartial";
    assert_int_equal(framer_feed(&f, more, strlen(more), collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.lines[0], "{\"a\":1}");
    assert_string_equal(s.lines[1], "{\"b\":2}");
    assert_int_equal(framer_feed(&f, "\r\n", 2, collect, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.lines[2], "partial"); /* the \r is stripped */
    framer_free(&f);
}

static void empty_lines_are_passed(void **st)
{
    framer f;
    sink s = {0};
    framer_init(&f, 10);
    assert_int_equal(framer_feed(&f, "\n\nx\n", 4, collect, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.lines[2], "x");
    framer_free(&f);
}

static void limit_is_exact(void **st)
{
    framer f;
    sink s = {0};
    framer_init(&f, 5);
    assert_int_equal(framer_feed(&f, "12345\n", 6, collect, &s), 0); /* exactly the limit */
    assert_int_equal(s.n, 1);
    assert_int_equal(framer_feed(&f, "123456\n", 7, collect, &s), FRAMER_TOO_LONG);
    assert_int_equal(s.n, 1);
    /* once failed, the stream stays failed: the rest of that line cannot be framed */
    assert_int_equal(framer_feed(&f, "ok\n", 3, collect, &s), FRAMER_TOO_LONG);
    framer_free(&f);
}

static void limit_detected_without_newline(void **st)
{
    framer f;
    sink s = {0};
    framer_init(&f, 8);
    assert_int_equal(framer_feed(&f, "1234", 4, collect, &s), 0);
    assert_int_equal(framer_feed(&f, "5678", 4, collect, &s), 0);
    /* the ninth byte of a line without its newline already passes the limit */
    assert_int_equal(framer_feed(&f, "9", 1, collect, &s), FRAMER_TOO_LONG);
    assert_true(f.cap <= 9); /* the buffer never grew past the limit */
    framer_free(&f);
}

static int stop_after_first(void *ud, char *line, size_t len)
{
    (*(int *)ud)++;
    return 7;
}

static void callback_can_stop(void **st)
{
    framer f;
    int calls = 0;
    framer_init(&f, 100);
    assert_int_equal(framer_feed(&f, "a\nb\n", 4, stop_after_first, &calls), 7);
    assert_int_equal(calls, 1);
    framer_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_split_across_reads),
        cmocka_unit_test(empty_lines_are_passed),
        cmocka_unit_test(limit_is_exact),
        cmocka_unit_test(limit_detected_without_newline),
        cmocka_unit_test(callback_can_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
