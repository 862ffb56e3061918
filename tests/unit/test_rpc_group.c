/*
 * tests/unit/test_rpc_group.c - group commit of a batch's writes (core/rpc.c,
 * rpc_plan_run): consecutive node.put/node.delete/rel.put/rel.delete of a
 * batch share one transaction, each call in a savepoint of its own. A failed
 * call changes nothing, the others are kept; a read in the batch sees the
 * writes before it; a failed shared commit turns every succeeded call of the
 * group into that error and stores nothing of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "store_fixture.h"

static int setup(void **state) { return fixture_open(state, NULL); }
static int teardown(void **state) { return fixture_close(state); }

/* Plans and runs one line on the fixture's store as a writer would; returns the parsed reply. */
static json_t *run(fixture *f, const char *line)
{
    rpc_plan plan;
    method_ctx ctx = {.store = f->s, .may_write = true, .peer = "test"};
    size_t len;
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    rpc_plan_run(&plan, &ctx);
    char *out = rpc_plan_reply(&plan, &len);
    rpc_plan_free(&plan);
    if (!out)
        return NULL;
    json_error_t e;
    json_t *v = json_loadb(out, len, 0, &e);
    free(out);
    assert_non_null(v);
    return v;
}

/* The error code of entry i of a batch reply, 0 when it is a result. */
static int code_of(json_t *reply, size_t i)
{
    json_t *err = json_object_get(json_array_get(reply, i), "error");
    return err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

#define PUT(id, name) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"node.put\",\"params\":" \
                      "{\"labels\":[\"Model\"],\"name\":\"" name "\"}}"

/* Counts commits. */
static int count_commit(void *arg)
{
    ++*(int *)arg;
    return 0;
}

static void writes_share_a_commit_each_all_or_nothing(void **state)
{
    fixture *f = *state;
    int commits = 0;
    sqlite3_commit_hook(graph_store_db(f->s), count_commit, &commits);
    json_decref(run(f, "[" PUT(1, "X") "," PUT(2, "Y") "," PUT(3, "Z") "]"));
    assert_int_equal(commits, 1);   /* one commit for the three */
    json_decref(run(f, PUT(1, "X")));
    assert_int_equal(commits, 2);   /* a single request: its own, as always */
    sqlite3_commit_hook(graph_store_db(f->s), NULL, NULL);
    json_decref(run(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.delete\",\"params\":{\"label\":\"Model\",\"name\":\"X\"}},"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.delete\",\"params\":{\"label\":\"Model\",\"name\":\"Y\"}},"
                       "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"node.delete\",\"params\":{\"label\":\"Model\",\"name\":\"Z\"}}]"));
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
    /* the second call is invalid (no labels): refused alone, the others kept */
    json_t *r = run(f, "[" PUT(1, "A") ","
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.put\",\"params\":{\"name\":\"B\"}},"
                       PUT(3, "C") ","
                       "{\"jsonrpc\":\"2.0\",\"method\":\"node.put\",\"params\":{\"labels\":[\"Model\"],\"name\":\"D\"}}]");
    assert_int_equal(json_array_size(r), 3);   /* the notification (D) gets no entry */
    assert_int_equal(code_of(r, 0), 0);
    assert_int_equal(code_of(r, 1), RPC_INVALID_PARAMS);
    assert_int_equal(code_of(r, 2), 0);
    json_decref(r);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 3);   /* A, C, D */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes WHERE name_key = 'b'"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_fts"), 3);   /* their search rows were written */
    /* a failing delete between two writes: A's relationship makes a plain delete fail */
    r = run(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rel.put\",\"params\":{\"start\":{\"label\":\"Model\","
               "\"name\":\"A\"},\"type\":\"BASED_ON\",\"end\":{\"label\":\"Model\",\"name\":\"C\"}}},"
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.delete\",\"params\":{\"label\":\"Model\",\"name\":\"A\"}},"
               PUT(3, "E") "]");
    assert_int_equal(code_of(r, 0), 0);
    assert_int_not_equal(code_of(r, 1), 0);
    assert_int_equal(code_of(r, 2), 0);
    json_decref(r);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 4);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rels"), 1);
    assert_true(sqlite3_get_autocommit(graph_store_db(f->s)));   /* nothing left open */
}

static void a_read_sees_the_writes_before_it(void **state)
{
    fixture *f = *state;
    int commits = 0;
    sqlite3_commit_hook(graph_store_db(f->s), count_commit, &commits);
    json_t *r = run(f, "[" PUT(1, "A") ","
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.get\",\"params\":{\"label\":\"Model\",\"name\":\"A\"}},"
                       PUT(3, "B") ","
                       "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"stats\"}]");
    assert_int_equal(code_of(r, 1), 0);
    json_t *stats = json_object_get(json_array_get(r, 3), "result");
    assert_int_equal(json_integer_value(json_object_get(stats, "nodes")), 2);
    json_decref(r);
    sqlite3_commit_hook(graph_store_db(f->s), NULL, NULL);
    assert_int_equal(commits, 2);   /* the read ended the first group: A, then B */
}

/* Refuses every commit: the shared COMMIT fails (SQLITE_CONSTRAINT_COMMITHOOK). */
static int refuse_commit(void *arg)
{
    (void)arg;
    return 1;
}

static void a_failed_commit_fails_every_call_of_the_group(void **state)
{
    fixture *f = *state;
    sqlite3_commit_hook(graph_store_db(f->s), refuse_commit, NULL);
    json_t *r = run(f, "[" PUT(1, "A") ","
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node.put\",\"params\":{\"name\":\"B\"}},"
                       PUT(3, "C") "]");
    sqlite3_commit_hook(graph_store_db(f->s), NULL, NULL);
    assert_int_equal(json_array_size(r), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_not_equal(code_of(r, i), 0);
    assert_int_equal(code_of(r, 1), RPC_INVALID_PARAMS);   /* its own error, not the commit's */
    const char *msg = json_string_value(json_object_get(json_object_get(json_array_get(r, 0), "error"), "message"));
    assert_non_null(strstr(msg, "node.put"));
    json_decref(r);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_fts"), 0);
    assert_true(sqlite3_get_autocommit(graph_store_db(f->s)));
    /* the store works on afterwards */
    r = run(f, "[" PUT(1, "A") "," PUT(2, "C") "]");
    assert_int_equal(code_of(r, 0), 0);
    assert_int_equal(code_of(r, 1), 0);
    json_decref(r);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 2);
}

static void without_permission_nothing_is_grouped(void **state)
{
    fixture *f = *state;
    rpc_plan plan;
    method_ctx ctx = {.store = f->s, .may_write = false, .peer = "test"};
    const char *line = "[" PUT(1, "A") "," PUT(2, "B") "]";
    assert_int_equal(rpc_plan_line(&plan, line, strlen(line)), 0);
    rpc_plan_run(&plan, &ctx);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(json_integer_value(json_object_get(json_object_get(plan.calls[i].reply, "error"), "code")),
                         RPC_PERMISSION_DENIED);
    rpc_plan_free(&plan);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_share_a_commit_each_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_read_sees_the_writes_before_it, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_commit_fails_every_call_of_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(without_permission_nothing_is_grouped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
