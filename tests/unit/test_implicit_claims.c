/*
 * tests/unit/test_implicit_claims.c - implicit property claims (schema
 * version 4): an entity a bulk load creates carries no prop_claim_rows rows,
 * only props_implicit = 1 on its claim, until its properties first change.
 *
 * The test is differential: two stores go through the same imports, one with
 * the first import through graph/bulk_load.h (implicit claims), the other
 * through graph_node_put / graph_rel_put (one stored row per claim), and after
 * every step everything a reader can see must be equal in both: properties,
 * node.get's claims (values, imports, which one is current, their order),
 * imports.show, and the prop_claims view itself (seq aside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "bulk_load.h"
#include "cypher.h"
#include "provenance.h"
#include "store.h"
#include "store_fixture.h"

typedef struct pair {
    char dir[64];
    graph_store *s[2];   /* 0: first import by bulk load, 1: by graph_node_put */
} pair;

static int setup(void **state) {
    pair *p = calloc(1, sizeof *p);
    if (!p) return -1;
    snprintf(p->dir, sizeof p->dir, "/tmp/dsgraph-test-XXXXXX");
    if (!mkdtemp(p->dir)) return -1;
    for (int i = 0; i < 2; i++) {
        char path[128];
        gs_error err = {{0}};
        snprintf(path, sizeof path, "%s/g%d.db", p->dir, i);
        /* no bulk write thread: run_import looks ends up by name (graph_node_find) in
         * the middle of a load, which only the load itself may do while INSERTs are
         * queued (graph/bulk_behind.h; test_bulk_behind.c covers the thread) */
        graph_store_options o = {.bulk_write_queue_bytes = -1};
        if (graph_store_open(path, GS_OPEN_CREATE, &o, &p->s[i], &err) != GS_OK) return -1;
    }
    *state = p;
    return 0;
}

static int teardown(void **state) {
    pair *p = *state;
    char cmd[128];
    for (int i = 0; i < 2; i++) graph_store_close(p->s[i]);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (system(cmd) != 0) return -1;
    free(p);
    return 0;
}

/* Every row of a query as one JSON array of arrays (text and integers). */
static json_t *sql_rows(graph_store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = json_array();
        for (int c = 0; c < sqlite3_column_count(st); c++)
            json_array_append_new(row, sqlite3_column_type(st, c) == SQLITE_INTEGER
                                           ? json_integer(sqlite3_column_int64(st, c))
                                           : sqlite3_column_type(st, c) == SQLITE_NULL
                                                 ? json_null()
                                                 : json_string((const char *)sqlite3_column_text(st, c)));
        json_array_append_new(rows, row);
    }
    sqlite3_finalize(st);
    return rows;
}

/* What one operation of an import does: a node (name, props as JSON text) or,
 * with rel set, a USES relationship from name to rel with props. */
typedef struct op {
    const char *name, *props, *rel;
} op;

/* The canonical text of each value of a JSON object, sorted by key, as bulk rows want them. */
static size_t bulk_props(json_t *obj, graph_bulk_prop *out, char **texts) {
    const char *keys[16];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) keys[n++] = k;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(keys[j], keys[i]) < 0) {
                const char *t = keys[i];
                keys[i] = keys[j];
                keys[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        texts[i] = json_dumps(json_object_get(obj, keys[i]),
                              JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        out[i] = (graph_bulk_prop){keys[i], texts[i], strlen(texts[i])};
    }
    return n;
}

/* The id of the Model named name. */
static int64_t id_of(graph_store *s, const char *name) {
    gs_error err = {{0}};
    int64_t id = 0;
    assert_int_equal(graph_node_find(s, "Model", name, &id, &err), GS_OK);
    return id;
}

/* Runs one import of ops on s, by bulk load or row by row; returns its id. */
static int64_t run_import(graph_store *s, const char *sha, const op *ops, size_t n, bool bulk) {
    gs_error err = {{0}};
    int64_t imp = 0;
    const char *labels[] = {"Model"};
    graph_bulk *b = NULL;
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "in.csv", sha, &imp, &err), GS_OK);
    if (bulk) assert_int_equal(graph_bulk_begin(s, &b, &err), GS_OK);
    for (size_t i = 0; i < n; i++) {
        json_t *props = json_loads(ops[i].props, 0, NULL);
        assert_non_null(props);
        int64_t id = 0;
        if (bulk) {
            graph_bulk_prop bp[16];
            char *texts[16];
            size_t np = bulk_props(props, bp, texts);
            if (ops[i].rel)
                assert_int_equal(graph_bulk_rel(b, id_of(s, ops[i].name), "USES", id_of(s, ops[i].rel), bp, np, &id, &err),
                                 GS_OK);
            else {
                graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = ops[i].name, .props = bp, .nprops = np};
                assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
            }
            for (size_t j = 0; j < np; j++) free(texts[j]);
        } else if (ops[i].rel) {
            assert_int_equal(graph_rel_put(s, id_of(s, ops[i].name), "USES", id_of(s, ops[i].rel), props, false, &id,
                                           NULL, &err), GS_OK);
        } else {
            assert_int_equal(graph_node_put(s, labels, 1, ops[i].name, props, NULL, &id, NULL, &err), GS_OK);
        }
        json_decref(props);
    }
    if (bulk) assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_counts c;
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
    return imp;
}

/* Asserts a and b are equal JSON, printing both otherwise. */
static void assert_same(json_t *a, json_t *b, const char *what) {
    if (!json_equal(a, b)) {
        char *ta = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS), *tb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "%s differs:\n  bulk: %s\n  rows: %s\n", what, ta, tb);
        free(ta);
        free(tb);
        fail();
    }
    json_decref(a);
    json_decref(b);
}

/* Everything a reader sees of the two stores must be equal. */
static void assert_stores_agree(pair *p, int64_t nimports) {
    gs_error err = {{0}};
    static const char *const views[] = {
        "SELECT id, props FROM nodes ORDER BY id",
        "SELECT id, type, start, \"end\", props FROM rels ORDER BY id",
        "SELECT node_id, import_id, created FROM node_claims ORDER BY 1, 2",
        "SELECT rel_id, import_id, created FROM rel_claims ORDER BY 1, 2",
        "SELECT kind, entity_id, key, value, import_id FROM prop_claims ORDER BY 1, 2, 3, 5",
        "SELECT id, nodes, relationships, properties, retracted_at IS NULL FROM imports ORDER BY id"};
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        assert_same(sql_rows(p->s[0], views[i]), sql_rows(p->s[1], views[i]), views[i]);
    for (int64_t imp = 1; imp <= nimports; imp++) {
        json_t *a = NULL, *b = NULL;
        assert_int_equal(prov_import_show(p->s[0], imp, 1000, &a, &err), GS_OK);
        assert_int_equal(prov_import_show(p->s[1], imp, 1000, &b, &err), GS_OK);
        json_object_del(json_object_get(a, "import"), "started_at");
        json_object_del(json_object_get(a, "import"), "finished_at");
        json_object_del(json_object_get(a, "import"), "retracted_at");
        json_object_del(json_object_get(b, "import"), "started_at");
        json_object_del(json_object_get(b, "import"), "finished_at");
        json_object_del(json_object_get(b, "import"), "retracted_at");
        assert_same(a, b, "imports.show");
    }
    json_t *ids = sql_rows(p->s[1], "SELECT 'node', id FROM nodes UNION ALL SELECT 'rel', id FROM rels");
    size_t i;
    json_t *row;
    json_array_foreach(ids, i, row) {
        const char *kind = json_string_value(json_array_get(row, 0));
        int64_t id = json_integer_value(json_array_get(row, 1));
        json_t *a = NULL, *b = NULL;
        assert_int_equal(prov_claims_of(p->s[0], kind, id, &a, &err), GS_OK);
        assert_int_equal(prov_claims_of(p->s[1], kind, id, &b, &err), GS_OK);
        assert_same(a, b, "claims of an entity");
    }
    json_decref(ids);
}

/* The creating import: values of every JSON type, a real that needs 17
 * digits, keys and strings that need escapes, a relationship with props. */
static const op creator[] = {
    {"M", "{\"a\":1,\"b\":\"x\",\"c\":[1.5,\"y\"],\"d\":0.30000000000000004,\"e\":{\"k\":\"v\"},"
          "\"q\\\"k\":\"line\\nbreak\",\"z\":false}", NULL},
    {"N", "{\"a\":7}", NULL},
    {"M", "{\"w\":2}", "N"},
};

/* Runs one import on both stores (the first one by bulk load on store 0). */
static void both(pair *p, const char *sha, const op *ops, size_t n, bool first) {
    assert_int_equal(run_import(p->s[0], sha, ops, n, first), run_import(p->s[1], sha, ops, n, false));
}

/* Retracts imp on both stores, store i with the retract shortcut set as
 * shortcut[i] (provenance.h); the replies (the counts) must be equal. */
static void retract_both_way(pair *p, int64_t imp, const bool shortcut[2]) {
    gs_error err = {{0}};
    json_t *res[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        prov_retract_set_shortcut(p->s[i], shortcut[i]);
        gs_status st = prov_retract(p->s[i], imp, &res[i], &err);
        prov_retract_set_shortcut(p->s[i], true);
        if (st != GS_OK) fail_msg("retract %d: %s", (int)imp, err.msg);
    }
    assert_same(res[0], res[1], "imports.retract's reply");
}

static void retract_both(pair *p, int64_t imp) {
    static const bool on[2] = {true, true};
    retract_both_way(p, imp, on);
}

/* The bulk store really stores no claim rows for what it created. */
static void bulk_writes_no_rows(void **state) {
    pair *p = *state;
    both(p, "a1", creator, 3, true);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM prop_claim_rows"), 0);
    assert_int_equal(sql_int(p->s[1], "SELECT count(*) FROM prop_claim_rows"), 9);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM prop_claims"), 9);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM node_claims WHERE props_implicit = 1"), 2);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM rel_claims WHERE props_implicit = 1"), 1);
    assert_stores_agree(p, 1);
}

/* Others assert the same values (nothing changes: still implicit), then a
 * change writes the creator's claims out as the oldest; retracts restore. */
static void later_imports_and_retracts(void **state) {
    pair *p = *state;
    both(p, "a1", creator, 3, true);
    static const op same[] = {{"M", "{\"a\":1,\"b\":\"x\"}", NULL}};
    both(p, "a2", same, 1, false);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM node_claims WHERE props_implicit = 1"), 2);
    assert_stores_agree(p, 2);
    static const op change[] = {{"M", "{\"a\":2,\"f\":true}", NULL}, {"M", "{\"w\":3}", "N"}};
    both(p, "a3", change, 2, false);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM node_claims WHERE props_implicit = 1 AND node_id = 1"), 0);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM prop_claim_rows WHERE import_id = 1 AND seq < 0"), 8);
    assert_stores_agree(p, 3);
    retract_both(p, 3);
    assert_stores_agree(p, 3);
    retract_both(p, 1);
    assert_stores_agree(p, 3);
}

/* The creator is retracted while its claims are still implicit. */
static void retract_creator_first(void **state) {
    pair *p = *state;
    both(p, "a1", creator, 3, true);
    static const op same[] = {{"M", "{\"a\":1}", NULL}, {"N", "{}", NULL}};
    both(p, "a2", same, 2, false);
    retract_both(p, 1);
    assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM nodes"), 2);
    assert_stores_agree(p, 2);
    retract_both(p, 2);
    assert_stores_agree(p, 2);
}

/* A load that creates a node and changes it in the same import. */
static void creator_changes_its_own(void **state) {
    pair *p = *state;
    static const op twice[] = {{"M", "{\"a\":1,\"b\":2}", NULL}, {"M", "{\"a\":3,\"c\":4}", NULL}};
    both(p, "a1", twice, 2, true);
    assert_stores_agree(p, 1);
    static const op other[] = {{"M", "{\"a\":5}", NULL}};
    both(p, "a2", other, 1, false);
    assert_stores_agree(p, 2);
    retract_both(p, 2);
    assert_stores_agree(p, 2);
}

/* Retract's shortcut for entities only the retracted import claims
 * (prov_retract.c, prov_find_sole) against undoing every claim: a node it
 * keeps (another import's relationship ends on it), nodes and relationships
 * it deletes, a node a Cypher SET changed (Cypher writes claim nothing, so its
 * changed value is no longer the one claimed) and a node another import also
 * claims (not sole: kept). Each way on each store, bulk and rows. */
static void retract_shortcut_matches(void **state) {
    pair *p = *state;
    for (int way = 0; way < 2; way++) {
        const bool shortcut[2] = {way == 0, way == 1};
        if (way == 1) {   /* a second round on the same stores: retract what the first left */
            for (int i = 0; i < 2; i++) {
                char *out = NULL;
                graph_query_error qe;
                assert_int_equal(graph_query(p->s[i], "MATCH (n) DETACH DELETE n", NULL, NULL, &out, &qe), GS_OK);
                free(out);
            }
        }
        char sha[3][8];
        for (int k = 0; k < 3; k++) snprintf(sha[k], sizeof sha[k], "w%dk%d", way, k);
        both(p, sha[0], creator, 3, true);   /* M, N, M-[USES]->N */
        static const op others[] = {{"P", "{\"p\":1}", NULL}, {"P", "{\"w\":9}", "M"}, {"Q", "{\"q\":\"x\"}", NULL}};
        both(p, sha[1], others, 3, false);   /* P-[USES]->M: M stays */
        static const op more[] = {{"R", "{\"r\":[1,2],\"s\":\"t\"}", NULL}, {"S", "{\"a\":1}", NULL}};
        both(p, sha[2], more, 2, true);
        static const op s_too[] = {{"S", "{\"a\":1}", NULL}};
        both(p, "s-too", s_too, 1, false);   /* S: claimed by two imports */
        for (int i = 0; i < 2; i++) {   /* R: a value nobody claims */
            char *out = NULL;
            graph_query_error qe;
            assert_int_equal(graph_query(p->s[i], "MATCH (n:Model {name: 'R'}) SET n.s = 'u'", NULL, NULL, &out, &qe),
                             GS_OK);
            free(out);
        }
        int64_t base = sql_int(p->s[1], "SELECT max(id) FROM imports") - 4;
        int64_t n0 = sql_int(p->s[0], "SELECT count(*) FROM imports");
        assert_stores_agree(p, n0);
        retract_both_way(p, base + 1, shortcut);   /* M kept, N and the relationship gone */
        assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM nodes WHERE name_key = 'm'"), 1);
        assert_stores_agree(p, n0);
        retract_both_way(p, base + 3, shortcut);   /* R gone though its s changed, S stays */
        assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM nodes WHERE name_key IN ('r', 's')"), 1);
        assert_stores_agree(p, n0);
        retract_both_way(p, base + 2, shortcut);   /* P, Q and P's relationship; now M is unconnected */
        assert_stores_agree(p, n0);
        assert_int_equal(sql_int(p->s[0], "SELECT count(*) FROM temp.sqlite_schema WHERE name = 'prov_sole'"), 0);
    }
}

/* dsg_props lists a props text's members: keys decoded, values as canonical text. */
static void props_function(void **state) {
    pair *p = *state;
    json_t *r = sql_rows(p->s[0], "SELECT key, value FROM dsg_props('{\"a\":[1,{\"b\":\"]\"}],\"q\\\"k\\u00e9\":\"x\\\\\",\"z\":null}')");
    json_t *want = json_pack("[[s,s],[s,s],[s,s]]", "a", "[1,{\"b\":\"]\"}]", "q\"k\xc3\xa9", "\"x\\\\\"", "z", "null");
    assert_same(r, want, "dsg_props");
    assert_same(sql_rows(p->s[0], "SELECT count(*) FROM dsg_props('{}') UNION ALL SELECT count(*) FROM dsg_props(NULL) "
                                  "UNION ALL SELECT count(*) FROM dsg_props('[1]')"),
                json_pack("[[i],[i],[i]]", 0, 0, 0), "dsg_props of nothing");
    /* the argument is required */
    sqlite3_stmt *st = NULL;
    assert_int_not_equal(sqlite3_prepare_v2(graph_store_db(p->s[0]), "SELECT * FROM dsg_props", -1, &st, NULL), SQLITE_OK);
    sqlite3_finalize(st);
}

/* A version 3 database (claims as rows, no view) migrates to the current
 * version with every claim kept and readable through the view. */
static void migrate_v3(void **state) {
    pair *p = *state;
    run_import(p->s[1], "a1", creator, 3, false);
    json_t *before = sql_rows(p->s[1], "SELECT seq, kind, entity_id, key, value, import_id FROM prop_claims ORDER BY seq");
    assert_int_equal(json_array_size(before), 9);
    char path[128];
    snprintf(path, sizeof path, "%s/v3.db", p->dir);
    fixture_copy_to_old(p->s[1], path, 3);
    graph_store_close(p->s[1]);
    p->s[1] = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open(path, 0, NULL, &p->s[1], &err), GS_OK);
    assert_int_equal(sql_int(p->s[1], "PRAGMA user_version"), GRAPH_SCHEMA_VERSION);
    json_t *after = sql_rows(p->s[1], "SELECT seq, kind, entity_id, key, value, import_id FROM prop_claims ORDER BY seq");
    assert_same(before, after, "claims across the migration");
    /* the triggers came with it: a change keeps the claims as they were */
    static const op change[] = {{"M", "{\"a\":2}", NULL}};
    run_import(p->s[1], "a2", change, 1, false);
    assert_int_equal(sql_int(p->s[1], "SELECT count(*) FROM prop_claim_rows"), 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bulk_writes_no_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(later_imports_and_retracts, setup, teardown),
        cmocka_unit_test_setup_teardown(retract_creator_first, setup, teardown),
        cmocka_unit_test_setup_teardown(creator_changes_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(retract_shortcut_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(props_function, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate_v3, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
