/*
 * tests/unit/test_rpc_chunk.c - rpc_parse_large (core/rpc_chunk.c) must give
 * exactly what json_loadb gives for every line: the same document, or the same
 * error at the same position. Checked on import.chunk lines of every shape the
 * fast path takes and refuses, and on thousands of randomly damaged copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rpc.h"

#define FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* Asserts rpc_parse_large(line) == json_loadb(line), documents or errors. */
static void same_as_jansson(const char *line, size_t len) {
    json_error_t e1, e2;
    json_t *want = json_loadb(line, len, FLAGS, &e1);
    json_t *got = rpc_parse_large(line, len, &e2);
    if (!want) {
        assert_null(got);
        assert_int_equal(e1.position, e2.position);
        assert_int_equal(e1.column, e2.column);
        assert_string_equal(e1.text, e2.text);
        return;
    }
    assert_non_null(got);
    assert_true(json_equal(want, got));
    json_decref(want);
    json_decref(got);
}

/* A line: head, then n bytes of base64-like filler (fill), then tail. */
static char *line_with(const char *head, size_t n, char fill, const char *tail, size_t *len) {
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + n + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    for (size_t i = 0; i < n; i++) s[h + i] = fill ? fill : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
    memcpy(s + h + n, tail, t + 1);
    *len = h + n + t;
    return s;
}

static void check(const char *head, size_t n, char fill, const char *tail) {
    size_t len;
    char *s = line_with(head, n, fill, tail, &len);
    same_as_jansson(s, len);
    free(s);
}

/* The shapes: taken, and each reason to refuse. */
static void shapes(void **state) {
    (void)state;
    const char *H = "{\"jsonrpc\":\"2.0\",\"method\":\"import.chunk\",\"id\":7,\"params\":{\"import\":\"t\",\"data\":\"";
    check(H, 100000, 0, "\"}}");                                  /* the common line */
    check(H, 100000, 0, "\",\"x\":[1,{\"a\":\"b\\\"\"}]}}");      /* members after it */
    check(H, 100000, 0, "\"}} ");                                 /* trailing space */
    check(H, 100, 0, "\"}}");                                     /* short: general path */
    check(H, 100000, 0, "\"}");                                   /* truncated */
    check(H, 100000, 0, "\",\"data\":\"x\"}}");                   /* duplicate key */
    check(H, 100000, 0, "\\n\"}}");                               /* an escape */
    check(H, 100000, 0, "\\\"\"}}");                              /* an escaped quote */
    check(H, 100000, '\x01', "\"}}");                             /* a control character */
    check(H, 100000, '\xc3', "\"}}");                             /* not UTF-8 */
    check(H, 100000, 0, "\xc3\xa9\"}}");                          /* UTF-8, not ASCII */
    check(H, 100000, 0, "\"}},");                                 /* garbage after */
    check("[{\"jsonrpc\":\"2.0\",\"method\":\"import.chunk\",\"id\":1,\"params\":{\"data\":\"", 100000, 0, "\"}}]");
    check("{\"params\":{\"x\":{\"data\":\"", 100000, 0, "\"}}}");  /* deeper */
    check("{\"x\":{\"data\":\"", 100000, 0, "\"}}");               /* not params */
    check("{\"params\":[\"", 100000, 0, "\"]}");                   /* params an array */
    check("{\"params\":{\"d\\u0061ta\":\"", 100000, 0, "\"}}");    /* escaped key */
    check("{\"params\":{\"data\":\"", 100000, 0, "\"},\"params\":{}}");   /* duplicate params */
    check("{\"params\":{\"data\":\"", 100000, 0, "\"}}}}}]]]");
    check("  \n{\"params\" : { \"data\" : \"", 100000, 0, "\" } } ");
}

/* Random damage: a byte changed, inserted or removed anywhere. */
static void damaged(void **state) {
    (void)state;
    const char *H = "{\"jsonrpc\":\"2.0\",\"method\":\"import.chunk\",\"id\":\"u\",\"params\":{\"import\":\"t\",\"data\":\"";
    size_t len;
    char *base = line_with(H, 5000, 0, "\",\"more\":[1,2.5,null,true,{\"k\":\"v\\\\\"}]}}", &len);
    static const char bytes[] = "\"\\{}[],: \x01\xc3\xa9" "a0/";
    uint64_t rng = 42;
    char *s = malloc(len + 2);
    assert_non_null(s);
    for (int i = 0; i < 4000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t at = (size_t)(rng >> 33) % len, n = len;
        char b = bytes[(rng >> 20) % (sizeof bytes - 1)];
        memcpy(s, base, len);
        switch ((rng >> 10) % 3) {
        case 0: s[at] = b; break;
        case 1: memmove(s + at + 1, s + at, len - at); s[at] = b; n++; break;
        default: memmove(s + at, s + at + 1, len - at - 1); n--; break;
        }
        same_as_jansson(s, n);
    }
    free(s);
    free(base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes),
        cmocka_unit_test(damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
