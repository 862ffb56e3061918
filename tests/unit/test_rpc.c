/* Unit tests for core/rpc.c: parse errors, request validation, batches,
 * notifications, and error replies, without a store (ping needs none). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

/* Plans and runs one line without a store; returns the reply (or NULL). */
static json_t *run_line(const char *line)
{
    rpc_plan plan;
    method_ctx ctx = {0};
    size_t len;
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    if (!(plan.needs & METHOD_STORE))
        rpc_plan_run(&plan, &ctx);
    char *out = rpc_plan_reply(&plan, &len);
    rpc_plan_free(&plan);
    if (!out)
        return NULL;
    assert_int_equal(out[len - 1], '\n');
    assert_null(memchr(out, '\n', len - 1)); /* exactly one line */
    json_error_t e;
    json_t *v = json_loadb(out, len, 0, &e);
    free(out);
    assert_non_null(v);
    return v;
}

static int error_code(json_t *reply)
{
    return (int)json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static void ping_answers_with_version_and_same_id(void **st)
{
    json_t *r = run_line("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
    assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"), "version")), DSGRAPH_VERSION);
    json_decref(r);
}

static void parse_error_has_null_id_and_position(void **st)
{
    json_t *r = run_line("{\"jsonrpc\":\"2.0\",\"id\":1,");
    assert_int_equal(error_code(r), RPC_PARSE_ERROR);
    assert_true(json_is_null(json_object_get(r, "id")));
    const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    assert_non_null(strstr(msg, "byte"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "kind")), "parse_error");
    json_decref(r);
}

static void invalid_utf8_is_a_parse_error(void **st)
{
    json_t *r = run_line("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xff\"}");
    assert_int_equal(error_code(r), RPC_PARSE_ERROR);
    json_decref(r);
}

static void invalid_requests(void **st)
{
    const char *bad[] = {
        "{\"id\":1,\"method\":\"ping\"}",                        /* no jsonrpc */
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",    /* wrong version */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}",           /* method not a string */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":3}",
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",   /* id of a wrong type */
        "5",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = run_line(bad[i]);
        assert_non_null(r);
        assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
        json_decref(r);
    }
    /* the id is echoed when it is usable */
    json_t *r = run_line("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    json_decref(r);
}

static void unknown_method(void **st)
{
    json_t *r = run_line("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}");
    assert_int_equal(error_code(r), RPC_METHOD_NOT_FOUND);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "nope"));
    json_decref(r);
    /* a notification of an unknown method gets nothing */
    assert_null(run_line("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"));
}

static void notifications_get_no_reply(void **st)
{
    assert_null(run_line("{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}"));
    assert_null(run_line("[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]"));
}

static void batch_replies_in_order_without_notifications(void **st)
{
    json_t *r = run_line("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                         "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"},"
                         "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"},"
                         "1]");
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 1);
    assert_int_equal(error_code(json_array_get(r, 1)), RPC_METHOD_NOT_FOUND);
    assert_int_equal(error_code(json_array_get(r, 2)), RPC_INVALID_REQUEST);
    assert_true(json_is_null(json_object_get(json_array_get(r, 2), "id")));
    json_decref(r);
}

static void store_methods_are_flagged(void **st)
{
    rpc_plan plan;
    const char *line = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.get\",\"params\":{\"id\":1}},"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.put\",\"params\":{}}]";
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    assert_true(plan.needs & METHOD_STORE);
    assert_true(plan.needs & METHOD_WRITE);
    rpc_plan_free(&plan);
    line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"lineage\"}";
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    assert_true(plan.needs & METHOD_STORE);
    assert_false(plan.needs & METHOD_WRITE);
    rpc_plan_free(&plan);
}

static void write_without_permission_is_refused(void **st)
{
    rpc_plan plan;
    method_ctx ctx = {.may_write = false, .peer_uid = 65534, .peer = "test"};
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"node.put\",\"params\":{\"labels\":[\"A\"],\"name\":\"x\"}}";
    size_t len;
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    rpc_plan_run(&plan, &ctx); /* refused before the store is touched, so no store is needed */
    char *out = rpc_plan_reply(&plan, &len);
    rpc_plan_free(&plan);
    json_t *r = json_loads(out, 0, NULL);
    free(out);
    assert_int_equal(error_code(r), RPC_PERMISSION_DENIED);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "65534"));
    json_decref(r);
}

static void error_line_is_one_line(void **st)
{
    size_t n;
    char *s = rpc_error_line(RPC_LIMIT_EXCEEDED, "too long", &n);
    assert_non_null(s);
    assert_int_equal(s[n - 1], '\n');
    json_t *r = json_loadb(s, n, 0, NULL);
    assert_int_equal(error_code(r), RPC_LIMIT_EXCEEDED);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    free(s);
}

/* A message that is not valid UTF-8 (a plugin quoting a bad key, a cut at the
 * length limit) still makes a reply: the bad bytes are spelled \xHH. Without it
 * jansson refused the reply and the client waited forever. */
static void error_message_bytes_are_spelled(void **st)
{
    size_t n;
    char *s = rpc_error_line(RPC_INVALID_PARAMS, "props.\xff\xfe: key is not valid UTF-8; caf\xc3\xa9 \xc3", &n);
    assert_non_null(s);
    json_t *r = json_loadb(s, n, 0, NULL);
    assert_non_null(r);
    assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                        "props.\\xFF\\xFE: key is not valid UTF-8; caf\xc3\xa9 \\xC3");
    json_decref(r);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping_answers_with_version_and_same_id),
        cmocka_unit_test(parse_error_has_null_id_and_position),
        cmocka_unit_test(invalid_utf8_is_a_parse_error),
        cmocka_unit_test(invalid_requests),
        cmocka_unit_test(unknown_method),
        cmocka_unit_test(notifications_get_no_reply),
        cmocka_unit_test(batch_replies_in_order_without_notifications),
        cmocka_unit_test(store_methods_are_flagged),
        cmocka_unit_test(write_without_permission_is_refused),
        cmocka_unit_test(error_line_is_one_line),
        cmocka_unit_test(error_message_bytes_are_spelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
