/* Unit tests for rpc_fast_ping (core/rpc.c), the loop's shortcut for a plain
 * ping: for every line it accepts, its reply must be byte for byte the reply
 * of the general path (rpc_plan_line + rpc_plan_run + rpc_plan_reply), and it
 * must refuse (NULL) every line it cannot answer exactly, which the general
 * path then answers. uptime_ms may differ between two calls, so it is
 * normalised to 0 before comparing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

/* Replaces the digits after "uptime_ms": with a single 0 (in place). */
static void zero_uptime(char *s, size_t *len)
{
    char *p = strstr(s, "\"uptime_ms\":");
    if (!p)
        return;
    p += strlen("\"uptime_ms\":");
    char *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p)
        return;
    *p = '0';
    memmove(p + 1, q, strlen(q) + 1);
    *len = strlen(s);
}

/* The general path's reply to line (NULL when it sends nothing). */
static char *general_reply(const char *line, size_t n, size_t *len)
{
    rpc_plan plan;
    method_ctx ctx = {0};
    assert_int_equal(rpc_plan_line(&plan, line, n), 0);
    if (!(plan.needs & METHOD_STORE))
        rpc_plan_run(&plan, &ctx);
    char *out = rpc_plan_reply(&plan, len);
    rpc_plan_free(&plan);
    if (out)
        zero_uptime(out, len);
    return out;
}

/* The fast path must answer line, exactly as the general path does. */
static void expect_fast(const char *line)
{
    size_t flen = 0, glen = 0, n = strlen(line);
    char *fast = rpc_fast_ping(line, n, &flen);
    if (!fast)
        fail_msg("fast path refused %s", line);
    assert_int_equal(fast[flen - 1], '\n');
    assert_int_equal(strlen(fast), flen);
    zero_uptime(fast, &flen);
    char *gen = general_reply(line, n, &glen);
    assert_non_null(gen);
    if (flen != glen || memcmp(fast, gen, flen) != 0)
        fail_msg("line %s\n fast:    %s general: %s", line, fast, gen);
    free(fast);
    free(gen);
}

/* The fast path must leave line to the general path. */
static void expect_general(const char *line, size_t n)
{
    size_t flen = 0;
    char *fast = rpc_fast_ping(line, n, &flen);
    if (fast) {
        fail_msg("fast path answered %.*s with %s", (int)n, line, fast);
        free(fast);
    }
}

#define GENERAL(s) expect_general(s, sizeof(s) - 1)

static void plain_pings_match_the_general_path(void **st)
{
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":123456789012345678,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":-123456789012345678,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"a/b c~{}[]:,'!\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"ping\"}");
}

static void whitespace_and_member_order(void **st)
{
    expect_fast("  { \"jsonrpc\" : \"2.0\" , \"id\" : 7 , \"method\" : \"ping\" }  ");
    expect_fast("\t{\"jsonrpc\":\t\"2.0\",\r\n\"id\":7,\"method\":\"ping\"}\r");
    expect_fast("{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
    expect_fast("{\"id\":7,\"method\":\"ping\",\"jsonrpc\":\"2.0\"}");
    expect_fast("{\"method\":\"ping\",\"id\":\"x\",\"jsonrpc\":\"2.0\"}");
    expect_fast("{\"method\":\"ping\",\"jsonrpc\":\"2.0\",\"id\":null}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":-1}");
}

/* Ids the fast path cannot repeat byte for byte: jansson rewrites them (or rejects them). */
static void odd_ids_go_the_general_path(void **st)
{
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1234567890123456789,\"method\":\"ping\"}");   /* 19 digits */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"ping\"}");  /* overflow */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":+1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":-,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":nul,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":nullx,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\\b\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\\u00e9\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\\/\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\",\"method\":\"ping\"}");          /* UTF-8 é */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"ping\"}");              /* invalid UTF-8 */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\tb\",\"method\":\"ping\"}");              /* raw control char */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\x7f\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"ping\"}");               /* raw NUL */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"unterminated,\"method\":\"ping\"}");
}

static void anything_else_goes_the_general_path(void **st)
{
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pinG\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping \"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\\u0069ng\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{}}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":1}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");                          /* notification */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}");        /* duplicate */
    GENERAL("{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}x");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"");
    GENERAL("{\"jsonrpc\":\"2.0\" \"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\" 1,\"method\":\"ping\"}");
    GENERAL("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");               /* batch */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\0");
    GENERAL("\0{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    GENERAL("\f{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");               /* not JSON whitespace */
    GENERAL("");
    GENERAL("{");
    GENERAL("{}");
}

/* Every prefix of a good line is refused, and reading never runs past len. */
static void prefixes_are_refused(void **st)
{
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}";
    size_t n = strlen(line);
    for (size_t k = 0; k < n; k++) {
        char *copy = malloc(k ? k : 1);   /* exactly k bytes: ASan catches a read past them */
        assert_non_null(copy);
        memcpy(copy, line, k);
        expect_general(copy, k);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_pings_match_the_general_path),
        cmocka_unit_test(whitespace_and_member_order),
        cmocka_unit_test(odd_ids_go_the_general_path),
        cmocka_unit_test(anything_else_goes_the_general_path),
        cmocka_unit_test(prefixes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
