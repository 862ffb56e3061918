/*
 * tests/unit/test_store_query.c - graph/ queries: lineage (merges, cycles,
 * depth, direction, types), full-text search, read-only SQL, stats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"

static int setup(void **state) { return fixture_open(state, NULL); }
static int setup_small_rows(void **state)
{
    graph_store_options opts = {.sql_max_rows = 5};
    return fixture_open(state, &opts);
}
static int teardown(void **state) { return fixture_close(state); }

static int64_t node(graph_store *s, const char *label, const char *name, const char *props, const char *aliases) {
    json_t *p = props ? json_loads(props, 0, NULL) : NULL;
    json_t *a = aliases ? json_loads(aliases, 0, NULL) : NULL;
    const char *labels[] = {label};
    int64_t id = 0;
    gs_error err = {{0}};
    gs_status st = graph_node_put(s, labels, 1, name, p, a, &id, NULL, &err);
    if (st != GS_OK) fprintf(stderr, "put %s: %s\n", name, err.msg);
    assert_int_equal(st, GS_OK);
    json_decref(p);
    json_decref(a);
    return id;
}

static int64_t rel(graph_store *s, int64_t a, const char *type, int64_t b) {
    int64_t id = 0;
    gs_error err = {{0}};
    assert_int_equal(graph_rel_put(s, a, type, b, NULL, false, &id, NULL, &err), GS_OK);
    return id;
}

/* "id:depth,id:depth,..." of a lineage result's nodes, for compact comparisons. */
static void lineage_nodes(json_t *res, char *buf, size_t n) {
    buf[0] = '\0';
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res, "nodes"), i, e) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%lld:%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(json_object_get(e, "$node"), "id")),
                 (long long)json_integer_value(json_object_get(e, "depth")));
    }
}

/* "id,id,..." of a lineage result's relationships. */
static void lineage_rels(json_t *res, char *buf, size_t n) {
    buf[0] = '\0';
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res, "relationships"), i, e) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(json_object_get(e, "$rel"), "id")));
    }
}

static void expect_lineage(graph_store *s, int64_t root, graph_direction dir, const char *const *types, size_t nt,
                           int depth, const char *want_nodes, const char *want_rels) {
    json_t *res = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_lineage(s, root, dir, types, nt, depth, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(res, "root"), "$node"), "id")),
                     root);
    char got[512];
    lineage_nodes(res, got, sizeof got);
    assert_string_equal(got, want_nodes);
    lineage_rels(res, got, sizeof got);
    assert_string_equal(got, want_rels);
    json_decref(res);
}

static void test_lineage(void **state) {
    fixture *f = *state;
    graph_store *s = f->s;
    /* ids are 1.. in creation order */
    int64_t v3base = node(s, "Model", "DeepSeek-V3-Base", NULL, NULL);        /* 1 */
    int64_t v3 = node(s, "Model", "DeepSeek-V3", NULL, NULL);                 /* 2 */
    int64_t r1 = node(s, "Model", "DeepSeek-R1", NULL, NULL);                 /* 3 */
    int64_t qwenbase = node(s, "Model", "Qwen2.5-Math-7B", NULL, NULL);       /* 4 */
    int64_t distill = node(s, "Model", "DeepSeek-R1-Distill-Qwen-7B", NULL, NULL); /* 5 */
    int64_t tech = node(s, "Technique", "MLA", NULL, NULL);                   /* 6 */
    assert_int_equal(v3base, 1);
    assert_int_equal(distill, 5);
    int64_t e1 = rel(s, v3, "BASED_ON", v3base);            /* 1 */
    int64_t e2 = rel(s, r1, "BASED_ON", v3base);            /* 2 */
    int64_t e3 = rel(s, distill, "DISTILLED_FROM", r1);     /* 3 */
    int64_t e4 = rel(s, distill, "BASED_ON", qwenbase);     /* 4 */
    int64_t e5 = rel(s, v3, "USES", tech);                  /* 5: not a lineage type */
    assert_int_equal(e1 + e2 + e3 + e4 + e5, 15);

    /* a node with two parents; the grandparent reached once */
    expect_lineage(s, distill, GRAPH_UP, NULL, 0, 0, "3:1,4:1,1:2", "2,3,4");
    /* sorted by depth then id */
    int64_t other = node(s, "Model", "Another", NULL, NULL); /* 7 */
    rel(s, distill, "BASED_ON", other);                      /* 6 */
    expect_lineage(s, distill, GRAPH_UP, NULL, 0, 0, "3:1,4:1,7:1,1:2", "2,3,4,6");
    /* depth limit */
    expect_lineage(s, distill, GRAPH_UP, NULL, 0, 1, "3:1,4:1,7:1", "3,4,6");
    /* type filter */
    const char *distilled[] = {"DISTILLED_FROM"};
    expect_lineage(s, distill, GRAPH_UP, distilled, 1, 0, "3:1", "3");
    const char *uses[] = {"USES", "USES"};
    expect_lineage(s, v3, GRAPH_UP, uses, 2, 0, "6:1", "5");
    /* descendants */
    expect_lineage(s, v3base, GRAPH_DOWN, NULL, 0, 0, "2:1,3:1,5:2", "1,2,3");
    expect_lineage(s, v3base, GRAPH_DOWN, NULL, 0, 1, "2:1,3:1", "1,2");
    /* a leaf has no ancestors */
    expect_lineage(s, v3base, GRAPH_UP, NULL, 0, 0, "", "");

    /* a diamond: both paths' relationships, the bottom once at depth 2 */
    int64_t m = node(s, "Model", "M", NULL, NULL);   /* 8 */
    int64_t a = node(s, "Model", "A", NULL, NULL);   /* 9 */
    int64_t b = node(s, "Model", "B", NULL, NULL);   /* 10 */
    int64_t c = node(s, "Model", "C", NULL, NULL);   /* 11 */
    rel(s, m, "BASED_ON", a);                        /* 7 */
    rel(s, m, "BASED_ON", b);                        /* 8 */
    rel(s, a, "BASED_ON", c);                        /* 9 */
    rel(s, b, "DISTILLED_FROM", c);                  /* 10 */
    expect_lineage(s, m, GRAPH_UP, NULL, 0, 0, "9:1,10:1,11:2", "7,8,9,10");

    /* a cycle terminates; the back edge to the root is reported */
    int64_t x = node(s, "Model", "X", NULL, NULL);   /* 12 */
    int64_t y = node(s, "Model", "Y", NULL, NULL);   /* 13 */
    int64_t z = node(s, "Model", "Z", NULL, NULL);   /* 14 */
    rel(s, x, "BASED_ON", y);                        /* 11 */
    rel(s, y, "BASED_ON", z);                        /* 12 */
    rel(s, z, "BASED_ON", x);                        /* 13 */
    rel(s, z, "BASED_ON", z);                        /* 14: self loop */
    expect_lineage(s, x, GRAPH_UP, NULL, 0, 0, "13:1,14:2", "11,12,13,14");
    expect_lineage(s, x, GRAPH_DOWN, NULL, 0, 0, "14:1,13:2", "11,12,13,14");
    expect_lineage(s, x, GRAPH_UP, NULL, 0, 1, "13:1", "11");

    json_t *res = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_lineage(s, 4242, GRAPH_UP, NULL, 0, 0, &res, &err), GS_NOT_FOUND);
    assert_string_equal(err.msg, "node 4242 not found");
    const char *empty[] = {""};
    assert_int_equal(graph_lineage(s, x, GRAPH_UP, empty, 1, 0, &res, &err), GS_INVALID);
    /* full entities in the result */
    assert_int_equal(graph_lineage(s, r1, GRAPH_UP, NULL, 0, 0, &res, &err), GS_OK);
    json_t *n0 = json_object_get(json_array_get(json_object_get(res, "nodes"), 0), "$node");
    assert_string_equal(json_string_value(json_object_get(json_object_get(n0, "properties"), "name")),
                        "DeepSeek-V3-Base");
    json_t *r0 = json_object_get(json_array_get(json_object_get(res, "relationships"), 0), "$rel");
    assert_string_equal(json_string_value(json_object_get(r0, "type")), "BASED_ON");
    assert_int_equal(json_integer_value(json_object_get(r0, "start")), r1);
    json_decref(res);
}

/* Ids of a search result, in order, as "id,id". */
static void search_ids(graph_store *s, const char *q, int limit, char *buf, size_t n) {
    json_t *res = NULL;
    gs_error err = {{0}};
    gs_status st = graph_search(s, q, limit, &res, &err);
    if (st != GS_OK) fprintf(stderr, "search %s: %s\n", q, err.msg);
    assert_int_equal(st, GS_OK);
    buf[0] = '\0';
    double prev = 1e300;
    size_t i;
    json_t *e;
    json_array_foreach(res, i, e) {
        double score = json_real_value(json_object_get(e, "score"));
        assert_true(json_is_real(json_object_get(e, "score")));
        assert_true(score > 0);
        assert_true(score <= prev);   /* best first */
        prev = score;
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(json_object_get(e, "$node"), "id")));
    }
    json_decref(res);
}

static void test_search(void **state) {
    fixture *f = *state;
    graph_store *s = f->s;
    int64_t zeta = node(s, "Model", "Zeta", "{\"description\":\"attention attention attention, with attention\"}",
                        NULL);                                                                  /* 1 */
    int64_t mla = node(s, "Technique", "Multi-head Latent Attention",
                       "{\"abbr\":\"MLA\",\"notes\":[\"压缩 KV 缓存\"]}", "[\"MLA\",\"多头潜在注意力\"]"); /* 2 */
    int64_t sink = node(s, "Technique", "Attention", NULL, NULL);                           /* 3 */
    int64_t v3 = node(s, "Model", "DeepSeek-V3", "{\"description\":\"uses multi-head latent attention\"}",
                      NULL);                                                                    /* 4 */
    char got[256];
    char want[64];
    /* English substring; exact name first, then names containing it, then bodies */
    search_ids(s, "attention", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld,%lld,", (long long)sink, (long long)mla);
    assert_memory_equal(got, want, strlen(want));
    assert_non_null(strstr(got, "1"));
    assert_non_null(strstr(got, "4"));
    search_ids(s, "latent atten", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld,%lld", (long long)mla, (long long)v3);
    assert_string_equal(got, want);
    /* Chinese: 3+ characters through FTS, 2 through the scan */
    search_ids(s, "潜在注意力", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)mla);
    assert_string_equal(got, want);
    search_ids(s, "注意", 10, got, sizeof got);
    assert_string_equal(got, want);
    search_ids(s, "缓存", 10, got, sizeof got);   /* nested string property */
    assert_string_equal(got, want);
    /* alias, case and width folded */
    search_ids(s, "ＭＬＡ", 10, got, sizeof got);
    assert_memory_equal(got, want, strlen(want));
    search_ids(s, "v3", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)v3);
    assert_string_equal(got, want);
    search_ids(s, "Z", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)zeta);
    assert_string_equal(got, want);
    /* limit, no match, odd characters */
    search_ids(s, "attention", 2, got, sizeof got);
    snprintf(want, sizeof want, "%lld,%lld", (long long)sink, (long long)mla);
    assert_string_equal(got, want);
    search_ids(s, "nothing like it", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "say \"hi\" OR *", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "%", 10, got, sizeof got);
    assert_string_equal(got, "");
    json_t *res = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_search(s, "   ", 10, &res, &err), GS_INVALID);
    assert_int_equal(graph_search(s, "\xff\xfe\xfd", 10, &res, &err), GS_INVALID);
    /* the index follows writes */
    assert_int_equal(graph_node_add_alias(s, zeta, "Transformer Zeta", &err), GS_OK);
    search_ids(s, "transformer", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)zeta);
    assert_string_equal(got, want);
    node(s, "Model", "zeta", "{\"description\":null}", NULL);   /* merge removes the body text */
    search_ids(s, "attention", 10, got, sizeof got);
    assert_null(strstr(got, "1"));
    assert_int_equal(graph_node_delete(s, mla, true, NULL, &err), GS_OK);
    search_ids(s, "多头", 10, got, sizeof got);
    assert_string_equal(got, "");
}

/* Search rows wait for the commit (graph/search.c, "Search rows wait for the
 * commit"): a search inside the transaction still sees its own writes, the
 * last of several changes to a node is what its row holds, a rollback leaves
 * nothing behind, and past GS_FTS_PENDING_MAX (65,536) noted nodes the rows
 * are written mid-transaction and still come out right. */
static void test_search_rows_follow_transactions(void **state) {
    fixture *f = *state;
    graph_store *s = f->s;
    gs_error err = {{0}};
    char got[256], want[64];
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    int64_t a = node(s, "Model", "Alpha", "{\"description\":\"quokka\"}", NULL);
    snprintf(want, sizeof want, "%lld", (long long)a);
    search_ids(s, "quokka", 10, got, sizeof got);   /* before the commit, same connection */
    assert_string_equal(got, want);
    node(s, "Model", "Alpha", "{\"description\":\"wombat\"}", NULL);
    node(s, "Model", "Alpha", "{\"description\":\"numbat\"}", NULL);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
    search_ids(s, "quokka", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "wombat", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "numbat", 10, got, sizeof got);
    assert_string_equal(got, want);
    /* rolled back: neither the new node nor the change reaches the index */
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    node(s, "Model", "Beta", "{\"description\":\"platypus\"}", NULL);
    node(s, "Model", "Alpha", "{\"description\":\"echidna\"}", NULL);
    assert_int_equal(graph_node_add_alias(s, a, "Dunnart", &err), GS_OK);
    graph_store_rollback(s);
    search_ids(s, "platypus", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "echidna", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "dunnart", 10, got, sizeof got);
    assert_string_equal(got, "");
    search_ids(s, "numbat", 10, got, sizeof got);
    assert_string_equal(got, want);
    /* a write outside an explicit transaction commits with its row */
    int64_t b = node(s, "Model", "Gamma", "{\"description\":\"bilby\"}", NULL);
    snprintf(want, sizeof want, "%lld", (long long)b);
    search_ids(s, "bilby", 10, got, sizeof got);
    assert_string_equal(got, want);
    /* deleted inside a transaction: gone from search at once and after the commit */
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(graph_node_delete(s, a, true, NULL, &err), GS_OK);
    search_ids(s, "numbat", 10, got, sizeof got);
    assert_string_equal(got, "");
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
    search_ids(s, "numbat", 10, got, sizeof got);
    assert_string_equal(got, "");
    /* more nodes than are noted at most: the first rows are written mid-transaction */
    enum { MANY = 65536 + 100 };
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    for (int i = 0; i < MANY; i++) {
        char name[32];
        snprintf(name, sizeof name, "bulk-%05d", i);
        node(s, "Item", name, i == 0 || i == MANY - 1 ? "{\"description\":\"marsupial\"}" : NULL, NULL);
    }
    node(s, "Item", "bulk-00000", "{\"description\":\"kangaroo\"}", NULL);   /* changed after its row was written */
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
    search_ids(s, "marsupial", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)sql_int(s, "SELECT id FROM nodes WHERE name_key = 'bulk-65635'"));
    assert_string_equal(got, want);
    search_ids(s, "kangaroo", 10, got, sizeof got);
    snprintf(want, sizeof want, "%lld", (long long)sql_int(s, "SELECT id FROM nodes WHERE name_key = 'bulk-00000'"));
    assert_string_equal(got, want);
    /* one search row per node, none for a node that is gone */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM node_fts"), MANY + 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM nodes"), MANY + 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM node_fts WHERE rowid NOT IN (SELECT id FROM nodes)"), 0);
}

/* Fingerprint of everything a refused statement might have changed. */
static char *fingerprint(graph_store *s) {
    json_t *res = NULL;
    gs_error err = {{0}};
    gs_status st = graph_sql(s,
                               "SELECT (SELECT count(*) FROM nodes), (SELECT group_concat(props) FROM nodes), "
                               "(SELECT count(*) FROM rels), (SELECT count(*) FROM sqlite_schema), "
                               "(SELECT user_version FROM pragma_user_version), "
                               "(SELECT journal_mode FROM pragma_journal_mode), "
                               "(SELECT count(*) FROM pragma_database_list), "
                               "(SELECT foreign_keys FROM pragma_foreign_keys)",
                               NULL, &res, &err);
    if (st != GS_OK) fprintf(stderr, "fingerprint: %s\n", err.msg);
    assert_int_equal(st, GS_OK);
    char *t = json_dumps(res, JSON_SORT_KEYS);
    json_decref(res);
    return t;
}

static void test_sql(void **state) {
    fixture *f = *state;
    graph_store *s = f->s;
    int64_t a = node(s, "Model", "DeepSeek-V3", "{\"params\":671000000000,\"ratio\":1.0}", NULL);
    int64_t b = node(s, "Model", "DeepSeek-R1", NULL, NULL);
    rel(s, b, "BASED_ON", a);
    json_t *res = NULL;
    gs_error err = {{0}};
    json_t *params = json_pack("[I]", (json_int_t)a);
    assert_int_equal(graph_sql(s, "SELECT id, json_extract(props, '$.name') AS name, json_extract(props, '$.params') AS p"
                                  " FROM nodes WHERE id = ?",
                               params, &res, &err), GS_OK);
    json_decref(params);
    json_t *want = json_pack("{s:[s,s,s],s:[[I,s,I]]}", "columns", "id", "name", "p", "rows", (json_int_t)a,
                             "DeepSeek-V3", (json_int_t)671000000000LL);
    assert_true(json_equal(res, want));
    json_decref(want);
    json_decref(res);

    /* value types */
    params = json_loads("[\"中文\", 2.5, true, null]", 0, NULL);
    assert_int_equal(graph_sql(s, "SELECT 1, 1.0, ?1, NULL, x'00ff', ?2, ?3, ?4, CAST(x'ff' AS TEXT);;", params, &res,
                               &err), GS_OK);
    json_decref(params);
    json_t *row = json_array_get(json_object_get(res, "rows"), 0);
    assert_true(json_is_integer(json_array_get(row, 0)));
    assert_true(json_is_real(json_array_get(row, 1)));
    assert_string_equal(json_string_value(json_array_get(row, 2)), "中文");
    assert_true(json_is_null(json_array_get(row, 3)));
    assert_string_equal(json_string_value(json_object_get(json_array_get(row, 4), "$blob")), "00ff");
    assert_true(json_real_value(json_array_get(row, 5)) == 2.5);
    assert_int_equal(json_integer_value(json_array_get(row, 6)), 1);
    assert_true(json_is_null(json_array_get(row, 7)));
    assert_string_equal(json_string_value(json_object_get(json_array_get(row, 8), "$blob")), "ff");
    json_decref(res);

    /* reading pragmas is fine */
    assert_int_equal(graph_sql(s, "PRAGMA table_info(nodes)", NULL, &res, &err), GS_OK);
    assert_int_equal(json_array_size(json_object_get(res, "rows")), 3);
    json_decref(res);
    assert_int_equal(graph_sql(s, "PRAGMA user_version", NULL, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(res, "rows"), 0), 0)),
                     GRAPH_SCHEMA_VERSION);
    json_decref(res);

    /* writes are refused and change nothing */
    char *before = fingerprint(s);
    char attach_path[200];
    snprintf(attach_path, sizeof attach_path, "ATTACH DATABASE '%s/other.db' AS other", f->dir);
    const char *refused[] = {
        "INSERT INTO nodes(props) VALUES ('{}')",
        "UPDATE nodes SET props = '{}'",
        "DELETE FROM nodes",
        "CREATE TABLE t(x)",
        "DROP TABLE rels",
        "DROP INDEX nodes_name_key",
        attach_path,
        "DETACH DATABASE main",
        "PRAGMA user_version=5",
        "PRAGMA journal_mode=delete",
        "PRAGMA journal_mode",
        "PRAGMA foreign_keys = OFF",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA optimize",
        "VACUUM",
        "BEGIN",
        "SAVEPOINT x",
        "ANALYZE",
        "REINDEX",
        "CREATE TEMP TABLE t(x)",
        "WITH x AS (SELECT 1) INSERT INTO rels(type, start, end) SELECT 'T', 1, 1 FROM x",
        "INSERT INTO node_fts(node_fts) VALUES ('delete-all')",
        "ALTER TABLE nodes ADD COLUMN y",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        err.msg[0] = '\0';
        res = NULL;
        gs_status st = graph_sql(s, refused[i], NULL, &res, &err);
        if (st != GS_READONLY) fprintf(stderr, "not refused: %s -> %d %s\n", refused[i], st, err.msg);
        assert_int_equal(st, GS_READONLY);
        assert_null(res);
        assert_true(strlen(err.msg) > 0);
    }
    char *after = fingerprint(s);
    assert_string_equal(before, after);
    free(before);
    free(after);
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    struct stat sb;
    assert_int_not_equal(stat(other, &sb), 0);
    assert_int_equal(graph_sql(s, "PRAGMA user_version=5", NULL, &res, &err), GS_READONLY);
    assert_non_null(strstr(err.msg, "user_version"));

    /* one statement only; bad SQL and params */
    assert_int_equal(graph_sql(s, "SELECT 1; SELECT 2", NULL, &res, &err), GS_INVALID);
    assert_int_equal(graph_sql(s, "SELECT 1; DROP TABLE nodes", NULL, &res, &err), GS_INVALID);
    assert_int_equal(graph_sql(s, "SELECT 1 -- trailing comment", NULL, &res, &err), GS_OK);
    json_decref(res);
    assert_int_equal(graph_sql(s, "SELEC 1", NULL, &res, &err), GS_INVALID);
    assert_int_equal(graph_sql(s, "  ", NULL, &res, &err), GS_INVALID);
    params = json_loads("[[1]]", 0, NULL);
    assert_int_equal(graph_sql(s, "SELECT ?", params, &res, &err), GS_INVALID);
    json_decref(params);
    params = json_loads("[1, 2]", 0, NULL);
    assert_int_equal(graph_sql(s, "SELECT ?", params, &res, &err), GS_INVALID);
    json_decref(params);
    assert_int_equal(sqlite3_get_autocommit(graph_store_db(s)), 1);

    /* the store still writes normally afterwards */
    int64_t c = node(s, "Model", "After", NULL, NULL);
    assert_true(c > b);
}

/* A `sql` call on a reader leaves the connection's prepared statements as they
 * were: none is expired and re-prepared (installing an authorizer per call did
 * that to every cached statement), and the rules still hold on the next call. */
static void test_sql_keeps_statements(void **state) {
    fixture *f = *state;
    node(f->s, "Model", "DeepSeek-V3", NULL, NULL);
    graph_store *r = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, NULL, &r, &err), GS_OK);
    sqlite3_stmt *mine = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(r), "SELECT count(*) FROM nodes", -1, &mine, NULL), SQLITE_OK);
    for (int call = 0; call < 3; call++) {
        assert_int_equal(sqlite3_step(mine), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(mine, 0), 1);
        sqlite3_reset(mine);
        json_t *res = NULL;
        assert_int_equal(graph_sql(r, "SELECT count(*) FROM rels", NULL, &res, &err), GS_OK);
        json_decref(res);
        assert_int_equal(graph_sql(r, "DELETE FROM nodes", NULL, &res, &err), GS_READONLY);
        assert_null(res);
    }
    assert_int_equal(sqlite3_step(mine), SQLITE_ROW);
    assert_int_equal(sqlite3_stmt_status(mine, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
    sqlite3_finalize(mine);
    /* the store's own statements still run (the rules apply only inside graph_sql) */
    int64_t id = 0;
    assert_int_equal(graph_node_find(r, "Model", "DeepSeek-V3", &id, &err), GS_OK);
    graph_store_close(r);
}

static void test_sql_row_limit(void **state) {
    fixture *f = *state;
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "N%d", i);
        node(f->s, "Model", name, NULL, NULL);
    }
    json_t *res = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_sql(f->s, "SELECT id FROM nodes", NULL, &res, &err), GS_LIMIT);
    assert_null(res);
    assert_non_null(strstr(err.msg, "5"));
    assert_int_equal(graph_sql(f->s, "SELECT id FROM nodes LIMIT 5", NULL, &res, &err), GS_OK);
    assert_int_equal(json_array_size(json_object_get(res, "rows")), 5);
    json_decref(res);
}

static void test_stats(void **state) {
    fixture *f = *state;
    graph_store *s = f->s;
    json_t *st = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_stats(s, &st, &err), GS_OK);
    json_t *want = json_loads("{\"nodes\":0,\"relationships\":0,\"labels\":0,\"types\":0,\"by_label\":{},\"by_type\":{}}",
                              0, NULL);
    assert_true(json_equal(st, want));
    json_decref(want);
    json_decref(st);
    int64_t a = node(s, "Model", "A", NULL, NULL);
    int64_t b = node(s, "Model", "B", NULL, NULL);
    int64_t t = node(s, "Technique", "T", NULL, NULL);
    const char *two[] = {"Model", "Open"};
    assert_int_equal(graph_node_put(s, two, 2, "A", NULL, NULL, NULL, NULL, &err), GS_OK);
    rel(s, a, "BASED_ON", b);
    rel(s, a, "USES", t);
    rel(s, b, "USES", t);
    assert_int_equal(graph_stats(s, &st, &err), GS_OK);
    want = json_loads("{\"nodes\":3,\"relationships\":3,\"labels\":3,\"types\":2,"
                      "\"by_label\":{\"Model\":2,\"Open\":1,\"Technique\":1},\"by_type\":{\"BASED_ON\":1,\"USES\":2}}",
                      0, NULL);
    assert_true(json_equal(st, want));
    json_decref(want);
    json_decref(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_rows_follow_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_keeps_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_row_limit, setup_small_rows, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
