/* tests/unit/test_graph_cypher_api.c - graph/cypher.h beyond single cases:
 * the write detector, error positions, transactions (own and the caller's),
 * read-only stores, the limits and the plan cache. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cypher.h"
#include "store.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cypher-api-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static graph_store *open_store(int flags)
{
    graph_store *s = NULL;
    gs_error e;
    assert_int_equal(graph_store_open(path, flags, NULL, &s, &e), GS_OK);
    return s;
}

/* Runs a query that must succeed; returns the result text (caller frees). */
static char *ok(graph_store *s, const char *text)
{
    char *out = NULL;
    graph_query_error qe;
    gs_status st = graph_query(s, text, NULL, NULL, &out, &qe);
    if (st != GS_OK)
        fail_msg("%s: %s %s %s", text, qe.type, qe.code, qe.message);
    return out;
}

static void test_writes_detector(void **state)
{
    (void)state;
    assert_true(graph_query_writes("CREATE (n)"));
    assert_true(graph_query_writes("match (n) detach delete n"));
    assert_true(graph_query_writes("MATCH (n) SET n.x = 1"));
    assert_true(graph_query_writes("MERGE (n:A)"));
    assert_true(graph_query_writes("MATCH (n) REMOVE n:A"));
    assert_false(graph_query_writes("MATCH (n) RETURN n"));
    assert_false(graph_query_writes("RETURN 'CREATE' AS x"));
    assert_false(graph_query_writes("MATCH (n) RETURN n.set, n.`delete` // create"));
    assert_false(graph_query_writes("MATCH (n:Create) /* merge */ RETURN $remove"));
    assert_false(graph_query_writes("MATCH (n) WHERE n.created_at > 1 RETURN n"));
}

static void test_error_positions(void **state)
{
    (void)state;
    graph_store *s = open_store(GS_OPEN_CREATE);
    char *out = NULL;
    graph_query_error qe;
    assert_int_equal(graph_query(s, "MATCH (n)\n  RETURN m", NULL, NULL, &out, &qe), GS_INVALID);
    assert_string_equal(qe.type, "SyntaxError");
    assert_string_equal(qe.code, "UndefinedVariable");
    assert_string_equal(qe.phase, "compile");
    assert_int_equal(qe.line, 2);
    assert_int_equal(qe.column, 10);
    assert_null(out);
    /* columns count characters, not bytes */
    assert_int_equal(graph_query(s, "RETURN '深度' + x", NULL, NULL, &out, &qe), GS_INVALID);
    assert_int_equal(qe.line, 1);
    assert_int_equal(qe.column, 15);
    assert_int_equal(graph_query(s, "RETURN 1 / 0 AS x", NULL, NULL, &out, &qe), GS_INVALID);
    assert_string_equal(qe.phase, "runtime");
    assert_string_equal(qe.type, "ArithmeticError");
    graph_store_close(s);
}

static void test_transactions(void **state)
{
    (void)state;
    graph_store *s = open_store(GS_OPEN_CREATE);
    free(ok(s, "CREATE (:A {v: 1})"));
    /* own transaction: a failing write leaves nothing behind */
    char *out = NULL;
    graph_query_error qe;
    assert_int_not_equal(graph_query(s, "MATCH (n:A) SET n.v = 2 CREATE (:B) WITH n RETURN n.v / 0 AS x", NULL, NULL,
                                     &out, &qe), GS_OK);
    out = ok(s, "MATCH (n) RETURN n.v AS v");
    assert_non_null(strstr(out, "\"rows\":[[1]]"));
    free(out);
    /* the caller's transaction: the query joins it and the caller decides */
    gs_error e;
    assert_int_equal(graph_store_begin(s, &e), GS_OK);
    free(ok(s, "CREATE (:C)"));
    graph_store_rollback(s);
    out = ok(s, "MATCH (n) RETURN count(n) AS c");
    assert_non_null(strstr(out, "\"rows\":[[1]]"));
    free(out);
    graph_store_close(s);
    /* a read-only store refuses writes and answers reads */
    s = open_store(GS_OPEN_READONLY);
    assert_int_equal(graph_query(s, "CREATE (:D)", NULL, NULL, &out, &qe), GS_READONLY);
    out = ok(s, "MATCH (n:A) RETURN n.v AS v");
    assert_non_null(strstr(out, "[[1]]"));
    free(out);
    graph_store_close(s);
}

/* sqlite3_trace_v2 callback: counts statement runs. */
static int count_runs(unsigned type, void *arg, void *p, void *x)
{
    (void)type;
    (void)p;
    (void)x;
    (*(int *)arg)++;
    return 0;
}

/* Statements a query runs on s (each first step after a reset counts once). */
static int runs_of(graph_store *s, const char *text, const char *want)
{
    int runs = 0;
    sqlite3_trace_v2(graph_store_db(s), SQLITE_TRACE_STMT, count_runs, &runs);
    char *out = ok(s, text);
    sqlite3_trace_v2(graph_store_db(s), 0, NULL, NULL);
    if (!strstr(out, want))
        fail_msg("%s: %s lacks %s", text, out, want);
    free(out);
    return runs;
}

/* A part written from a scanned start to a named (or bound) end is matched from
 * that end: the statements run do not grow with the label. The rows are checked
 * by the cases in tests/cypher/match.txt. */
static void test_match_from_named_end(void **state)
{
    (void)state;
    graph_store *s = open_store(GS_OPEN_CREATE);
    free(ok(s, "UNWIND range(1, 300) AS i CREATE (:M {name: 'm' + i})"));
    free(ok(s, "CREATE (r:M {name: 'r'}) WITH r UNWIND range(1, 3) AS i CREATE (:M {name: 'c' + i})-[:B]->(r)"));
    int named = runs_of(s, "MATCH (d:M)-[:B]->(:M {name: 'r'}) RETURN count(d) AS n", "[[3]]");
    int bound = runs_of(s, "MATCH (r:M {name: 'r'}) MATCH (d:M)-[:B]->(r) RETURN count(d) AS n", "[[3]]");
    int two = runs_of(s, "MATCH (d:M)-[:B]->()-[:B]->(:M {name: 'r'}) RETURN count(d) AS n", "[[0]]");
    int reach = runs_of(s, "MATCH (d:M)-[:B*]->(:M {name: 'r'}) RETURN count(DISTINCT d) AS n", "[[3]]");
    free(ok(s, "MATCH (r:M {name: 'r'}) UNWIND range(1, 300) AS i MATCH (m:M {name: 'm' + i}) CREATE (m)-[:B]->(r)"));
    /* both ends named: from the one with fewer relationships (c2's one, not r's 303) */
    int fewer = runs_of(s, "MATCH (r:M {name: 'r'})<-[:B]-(c:M {name: 'c2'}) RETURN count(c) AS n", "[[1]]");
    int fewer_back = runs_of(s, "MATCH (c:M {name: 'c2'})-[:B]->(r:M {name: 'r'}) RETURN count(c) AS n", "[[1]]");
    int scan = runs_of(s, "MATCH (d:M)-[:B]->(x:M) WHERE x.name = 'r' RETURN count(d) AS n", "[[303]]");
    /* a MATCH feeding a LIMIT reads the props of the rows it keeps, not of the label */
    int limited = runs_of(s, "MATCH (m:M) RETURN m.name AS n LIMIT 2", "[[\"m1\"],[\"m2\"]]");
    /* the scanned nodes' labels are not checked again, and their names are read a scan
     * page at a time (cypher_prefetch.c): 3 pages (64, 256, 1,024) and a column each;
     * the end nodes' names (`scan`) are still read one node at a time */
    int all = runs_of(s, "MATCH (m:M) RETURN m.name AS n", "\"r\"");
    int filtered = runs_of(s, "MATCH (m:M) WHERE m.name ENDS WITH '99' RETURN m.name AS n", "[[\"m99\"],[\"m199\"],[\"m299\"]]");
    /* the 303 relationships' properties come in id order: read ahead, not two statements each
     * (what is left is one expansion statement per node: this store has no adjacency index) */
    int relprops = runs_of(s, "MATCH (m:M)-[b:B]->() RETURN count(b.w) AS n", "[[0]]");
    if (named > 40 || bound > 40 || two > 40 || reach > 40 || fewer > 40 || fewer_back > 40 || scan < 300 ||
        limited > 10 || all > 10 || filtered > 10 || relprops > 330)
        fail_msg("statements run: named end %d, bound end %d, two hops %d, reachability %d, both named %d and %d, "
                 "a LIMIT 2 %d, all 304 names %d, filtered by name %d (each at most 40, the last three 10); "
                 "a scan of the 304 nodes %d (at least 300); a property of their 303 relationships %d (at most 330)",
                 named, bound, two, reach, fewer, fewer_back, limited, all, filtered, scan, relprops);
    graph_store_close(s);
}

static void test_limits(void **state)
{
    (void)state;
    graph_store *s = open_store(GS_OPEN_CREATE);
    graph_query_limits lim = {.max_rows = 10};
    char *out = NULL;
    graph_query_error qe;
    assert_int_equal(graph_query(s, "UNWIND range(1, 11) AS x RETURN x", NULL, &lim, &out, &qe), GS_LIMIT);
    assert_string_equal(qe.type, "LimitExceeded");
    assert_int_equal(graph_query(s, "UNWIND range(1, 10) AS x RETURN x", NULL, &lim, &out, &qe), GS_OK);
    free(out);
    /* an aggregation consumes MATCH rows as they come: no intermediate table */
    free(ok(s, "UNWIND range(1, 30) AS i CREATE (:N {i: i})"));
    assert_int_equal(graph_query(s, "MATCH (n:N) RETURN count(n) AS c, sum(n.i) AS s", NULL, &lim, &out, &qe), GS_OK);
    assert_non_null(strstr(out, "[[30,465]]"));
    free(out);
    assert_int_equal(graph_query(s, "MATCH (n:N) RETURN n.i AS i", NULL, &lim, &out, &qe), GS_LIMIT);
    /* nor does a MATCH feeding a LIMIT: it stops once the window is full */
    assert_int_equal(graph_query(s, "MATCH (a:N), (b:N) RETURN a.i AS i SKIP 5 LIMIT 4", NULL, &lim, &out, &qe), GS_OK);
    assert_non_null(strstr(out, "\"rows\":[[1],[1],[1],[1]]"));
    free(out);
    assert_int_equal(graph_query(s, "MATCH (a:N) MATCH (b:N) WITH b LIMIT 10 RETURN count(b) AS c", NULL, &lim, &out, &qe),
                     GS_LIMIT);   /* the first MATCH still materialises its 30 rows */
    /* nor a DISTINCT window: it stops at enough new rows */
    assert_int_equal(graph_query(s, "MATCH (a:N), (b:N) RETURN DISTINCT a.i % 3 AS k LIMIT 2", NULL, &lim, &out, &qe),
                     GS_OK);
    assert_non_null(strstr(out, "\"rows\":[[1],[2]]"));
    free(out);
    /* nor a MATCH feeding ORDER BY ... LIMIT: it keeps the best rows only */
    assert_int_equal(graph_query(s, "MATCH (n:N) RETURN n.i AS i ORDER BY i DESC SKIP 1 LIMIT 3", NULL, &lim, &out, &qe),
                     GS_OK);
    assert_non_null(strstr(out, "\"rows\":[[29],[28],[27]]"));
    free(out);
    lim = (graph_query_limits){.timeout_ms = 50};
    assert_int_equal(graph_query(s, "RETURN size([x IN range(1, 5000) | size([y IN range(1, 5000) WHERE y = x])]) AS n",
                                 NULL, &lim, &out, &qe), GS_LIMIT);
    assert_string_equal(qe.code, "Timeout");
    json_t *params = json_pack("{s:i}", "x", 41);
    assert_int_equal(graph_query(s, "RETURN $x + 1 AS y", params, NULL, &out, &qe), GS_OK);
    assert_non_null(strstr(out, "[[42]]"));
    free(out);
    json_decref(params);
    graph_store_close(s);
}

/* Runs text with params (JSON text or NULL); returns the status, fills *hit
 * with whether the connection's plan cache served it. */
static gs_status run_counted(graph_store *s, const char *text, const char *params, char **out, graph_query_error *qe,
                             bool *hit)
{
    uint64_t h0, h1, m;
    graph_query_cache_counts(s, &h0, &m);
    json_t *p = params ? json_loads(params, 0, NULL) : NULL;
    gs_status st = graph_query(s, text, p, NULL, out, qe);
    json_decref(p);
    graph_query_cache_counts(s, &h1, &m);
    *hit = h1 == h0 + 1;
    return st;
}

/* The plan cache: a repeated text is served from it with new parameter values;
 * a missing parameter still fails (the plan is not used); a text that failed to
 * compile is never kept; the least recently used of 33 texts is evicted. */
static void test_plan_cache(void **state)
{
    (void)state;
    graph_store *s = open_store(GS_OPEN_CREATE);
    char *out = NULL;
    graph_query_error qe;
    bool hit;
    assert_int_equal(run_counted(s, "RETURN $x AS v", "{\"x\": 1}", &out, &qe, &hit), GS_OK);
    assert_false(hit);
    assert_non_null(strstr(out, "[[1]]"));
    free(out);
    assert_int_equal(run_counted(s, "RETURN $x AS v", "{\"x\": \"two\"}", &out, &qe, &hit), GS_OK);
    assert_true(hit);
    assert_non_null(strstr(out, "[[\"two\"]]"));
    free(out);
    out = NULL;
    assert_int_not_equal(run_counted(s, "RETURN $x AS v", NULL, &out, &qe, &hit), GS_OK);
    assert_false(hit);
    assert_string_equal(qe.code, "MissingParameter");
    assert_null(out);
    for (int i = 0; i < 2; i++) {   /* a compile error is reported the same way twice, never cached */
        assert_int_not_equal(run_counted(s, "RETURN nope AS v", NULL, &out, &qe, &hit), GS_OK);
        assert_false(hit);
        assert_string_equal(qe.code, "UndefinedVariable");
    }
    /* 32 plans are kept: the first of 33 texts is gone, the last is there */
    for (int i = 0; i < 33; i++) {
        char text[64];
        snprintf(text, sizeof text, "RETURN %d AS v", i);
        assert_int_equal(run_counted(s, text, NULL, &out, &qe, &hit), GS_OK);
        free(out);
    }
    assert_int_equal(run_counted(s, "RETURN 32 AS v", NULL, &out, &qe, &hit), GS_OK);
    assert_true(hit);
    free(out);
    assert_int_equal(run_counted(s, "RETURN 0 AS v", NULL, &out, &qe, &hit), GS_OK);
    assert_false(hit);
    assert_non_null(strstr(out, "[[0]]"));
    free(out);
    graph_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_detector),
        cmocka_unit_test_setup_teardown(test_error_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_from_named_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
