/*
 * tests/unit/test_store_adjacency.c - graph/adjacency.c: the in-memory index
 * follows committed writes only (inserts, deletes, rolled-back transactions and
 * savepoints, rowid reuse, commits that bypass the store), node labels too;
 * readers use it only when it matches their snapshot, and lineage gives the
 * same answer with and without it (graph/lineage.h modes included).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "adjacency.h"
#include "cypher.h"
#include "key_index.h"
#include "lineage.h"
#include "store.h"
#include "store_fixture.h"

typedef struct adj_fix {
    fixture *f;
    graph_adj *adj;
    graph_store *r;   /* a read-only connection, like a daemon reader */
} adj_fix;

/* A Model node named name (merge by name). */
static int64_t node(graph_store *s, const char *name) {
    const char *labels[] = {"Model"};
    int64_t id = 0;
    gs_error err = {{0}};
    assert_int_equal(graph_node_put(s, labels, 1, name, NULL, NULL, &id, NULL, &err), GS_OK);
    return id;
}

/* A new relationship (create, never merge), so ids are predictable. */
static int64_t rel(graph_store *s, int64_t a, const char *type, int64_t b) {
    int64_t id = 0;
    gs_error err = {{0}};
    assert_int_equal(graph_rel_put(s, a, type, b, NULL, true, &id, NULL, &err), GS_OK);
    return id;
}

/* Nodes 1..6: 2,3 BASED_ON 1; 4 BASED_ON 2; 5 DISTILLED_FROM 4; 6 OTHER 1. */
static int setup(void **state) {
    fixture *f;
    if (fixture_open((void **)&f, NULL) != 0) return -1;
    for (int i = 1; i <= 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        node(f->s, name);
    }
    rel(f->s, 2, "BASED_ON", 1);
    rel(f->s, 3, "BASED_ON", 1);
    rel(f->s, 4, "BASED_ON", 2);
    rel(f->s, 5, "DISTILLED_FROM", 4);
    rel(f->s, 6, "OTHER", 1);
    adj_fix *x = calloc(1, sizeof *x);
    x->f = f;
    x->adj = graph_adj_new();
    gs_error err = {{0}};
    assert_int_equal(graph_adj_attach_writer(x->adj, f->s, &err), GS_OK);
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, NULL, &x->r, &err), GS_OK);
    graph_adj_attach_reader(x->adj, x->r);
    *state = x;
    return 0;
}

/* Reader first, then the writer (which detaches), then the index. */
static int teardown(void **state) {
    adj_fix *x = *state;
    graph_store_close(x->r);
    void *f = x->f;
    fixture_close(&f);   /* closes (and so detaches) the writer */
    graph_adj_free(x->adj);
    free(x);
    return 0;
}

typedef struct pairs {
    int64_t v[32][2];
    int n;
} pairs;

/* graph_adj_each callback: gathers (rel, other) pairs. */
static int collect(void *arg, int64_t rel_id, int64_t other, int type_id) {
    (void)type_id;
    pairs *p = arg;
    assert_true(p->n < 32);
    p->v[p->n][0] = rel_id;
    p->v[p->n][1] = other;
    p->n++;
    return 0;
}

/* Pairs by rel id, for a stable text form. */
static int cmp_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* "rel>other,..." of node's BASED_ON/DISTILLED_FROM neighbours through the
 * reader's index in a fresh snapshot; "nope" if the index was not usable. */
static void neighbours(adj_fix *x, int64_t n, graph_direction dir, char *buf) {
    buf[0] = '\0';
    gs_error err = {{0}};
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_exec(graph_store_db(x->r), "SELECT count(*) FROM nodes", NULL, NULL, NULL);   /* the snapshot starts */
    if (!graph_adj_begin(x->r)) {
        strcpy(buf, "nope");
    } else {
        int t[2] = {graph_adj_type_id(x->r, "BASED_ON"), graph_adj_type_id(x->r, "DISTILLED_FROM")};
        pairs p = {.n = 0};
        graph_adj_each(x->r, n, dir, t, 2, collect, &p);
        graph_adj_end(x->r);
        qsort(p.v, (size_t)p.n, sizeof p.v[0], cmp_pair);   /* base entries come before overrides */
        for (int i = 0; i < p.n; i++) {
            size_t used = strlen(buf);
            snprintf(buf + used, 256 - used, "%s%lld>%lld", i ? "," : "", (long long)p.v[i][0], (long long)p.v[i][1]);
        }
    }
    graph_store_read_end(x->r);
}

/* What SQLite says, to compare with graph_adj_count(). */
static int64_t sql_count(graph_store *s) {
    sqlite3_stmt *st;
    sqlite3_prepare_v2(graph_store_db(s), "SELECT count(*) FROM rels", -1, &st, NULL);
    sqlite3_step(st);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Built at attach; inserts, deletes and detach-deletes show up after commit. */
static void test_built_and_kept_current(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    char buf[256];
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3");
    neighbours(x, 4, GRAPH_UP, buf);
    assert_string_equal(buf, "3>2");
    int64_t r6 = rel(w, 5, "BASED_ON", 1);   /* insert, own transaction */
    assert_int_equal(r6, 6);
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3,6>5");
    gs_error err = {{0}};
    assert_int_equal(graph_rel_delete(w, 2, &err), GS_OK);   /* delete of a base entry */
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,6>5");
    int64_t dummy = 0;
    assert_int_equal(graph_node_delete(w, 5, true, &dummy, &err), GS_OK);   /* detach deletes 4 and 6 */
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2");
    neighbours(x, 4, GRAPH_DOWN, buf);
    assert_string_equal(buf, "");
    assert_int_equal((int64_t)graph_adj_count(w), sql_count(w));
}

/* Rolled-back transactions and savepoints leave nothing; rowid reuse is followed. */
static void test_rollbacks_leave_nothing(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    sqlite3 *db = graph_store_db(w);
    gs_error err = {{0}};
    char buf[256];
    /* a whole transaction rolled back */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    rel(w, 6, "BASED_ON", 1);
    assert_int_equal(graph_rel_delete(w, 1, &err), GS_OK);
    graph_store_rollback(w);
    node(w, "after");   /* a later commit must not pick the rolled-back rows up */
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3");
    /* a savepoint rolled back inside a committed transaction */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(db, "SAVEPOINT t; DELETE FROM rels WHERE id = 1; "
                                      "INSERT INTO rels(type, start, end) VALUES ('BASED_ON', 6, 1); "
                                      "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL), SQLITE_OK);
    rel(w, 4, "BASED_ON", 1);   /* id 6 */
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3,6>4");
    /* rowid reuse: delete the newest and insert another with the same id */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(graph_rel_delete(w, 6, &err), GS_OK);
    assert_int_equal(rel(w, 3, "BASED_ON", 2), 6);
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3");
    neighbours(x, 2, GRAPH_DOWN, buf);
    assert_string_equal(buf, "3>4,6>3");
    assert_int_equal((int64_t)graph_adj_count(w), sql_count(w));
}

/* "label:yes/no,..." for node n through the reader's index in a fresh
 * snapshot ("?" for a label the index does not cover); "nope" if unusable. */
static void labels_of(adj_fix *x, int64_t n, char *buf) {
    static const char *names[] = {"Model", "Org", "Gone", "Never"};
    buf[0] = '\0';
    gs_error err = {{0}};
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_exec(graph_store_db(x->r), "SELECT count(*) FROM nodes", NULL, NULL, NULL);
    if (!graph_adj_begin(x->r)) {
        strcpy(buf, "nope");
    } else {
        for (int i = 0; i < 4; i++) {
            int bit = graph_adj_label_bit(x->r, names[i]);
            const char *v = bit == GRAPH_ADJ_LABEL_UNINDEXED ? "?"
                            : bit >= 0 && (graph_adj_node_labels(x->r, n) >> bit & 1) ? "yes" : "no";
            size_t used = strlen(buf);
            snprintf(buf + used, 256 - used, "%s%s:%s", i ? "," : "", names[i], v);
        }
        graph_adj_end(x->r);
    }
    graph_store_read_end(x->r);
}

/* Runs sql in a transaction of the store's own (so its commit hooks run) and commits it. */
static void commit_sql(graph_store *w, const char *sql) {
    gs_error err = {{0}};
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(graph_store_db(w), sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
}

/* Node labels follow committed writes the same way: added, removed, rolled
 * back (whole transactions and savepoints), deleted with their node, moved
 * to another node, replaced; a label past the 64 indexed ones is reported as
 * not indexed. */
static void test_labels_kept_current(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    sqlite3 *db = graph_store_db(w);
    gs_error err = {{0}};
    char buf[256];
    labels_of(x, 2, buf);
    assert_string_equal(buf, "Model:yes,Org:no,Gone:no,Never:no");
    assert_int_equal(sqlite3_exec(db, "INSERT INTO node_labels(node_id, pos, label) VALUES (2, 1, 'Org'), "
                                      "(3, 1, 'Gone')", NULL, NULL, NULL), SQLITE_OK);   /* a bypassing commit */
    labels_of(x, 2, buf);
    assert_string_equal(buf, "nope");   /* stale until a wrapped commit catches up */
    node(w, "m7");
    labels_of(x, 2, buf);
    assert_string_equal(buf, "Model:yes,Org:yes,Gone:no,Never:no");
    labels_of(x, 3, buf);
    assert_string_equal(buf, "Model:yes,Org:no,Gone:yes,Never:no");
    /* rolled back: whole transaction, then a savepoint inside a committed one */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM node_labels WHERE node_id = 2", NULL, NULL, NULL), SQLITE_OK);
    graph_store_rollback(w);
    commit_sql(w, "SAVEPOINT t; DELETE FROM node_labels WHERE node_id = 2; ROLLBACK TO t; "
                  "RELEASE t; DELETE FROM node_labels WHERE node_id = 3 AND label = 'Gone'");
    labels_of(x, 2, buf);
    assert_string_equal(buf, "Model:yes,Org:yes,Gone:no,Never:no");
    labels_of(x, 3, buf);
    assert_string_equal(buf, "Model:yes,Org:no,Gone:no,Never:no");
    /* a deleted node's labels go with it (cascade); a new node past the array is covered */
    int64_t dummy = 0;
    assert_int_equal(graph_node_delete(w, 2, true, &dummy, &err), GS_OK);
    labels_of(x, 2, buf);
    assert_string_equal(buf, "Model:no,Org:no,Gone:no,Never:no");
    commit_sql(w, "INSERT INTO nodes(id, props) VALUES (5000, '{}'); "
                  "INSERT INTO node_labels(node_id, pos, label) VALUES (5000, 0, 'Org')");
    labels_of(x, 5000, buf);
    assert_string_equal(buf, "Model:no,Org:yes,Gone:no,Never:no");
    /* a row moved from one node to another changes both; a REPLACE's delete is seen too */
    commit_sql(w, "UPDATE node_labels SET node_id = 3 WHERE node_id = 5000 AND label = 'Org'; "
                  "INSERT OR REPLACE INTO node_labels(node_id, pos, label) VALUES (5000, 0, 'Gone')");
    labels_of(x, 3, buf);
    assert_string_equal(buf, "Model:yes,Org:yes,Gone:no,Never:no");
    labels_of(x, 5000, buf);
    assert_string_equal(buf, "Model:no,Org:no,Gone:yes,Never:no");
    commit_sql(w, "INSERT OR REPLACE INTO node_labels(node_id, pos, label) VALUES (3, 9, 'Org')");   /* same key */
    labels_of(x, 3, buf);
    assert_string_equal(buf, "Model:yes,Org:yes,Gone:no,Never:no");
    /* 70 label names: the first 64 get bits, the rest are not indexed */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    for (int i = 0; i < 70; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO node_labels(node_id, pos, label) VALUES (1, %d, 'L%02d')", i + 1, i);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    labels_of(x, 1, buf);
    assert_string_equal(buf, "Model:yes,Org:no,Gone:no,Never:?");
}

/* Readers use the index only when it is exactly their snapshot. */
static void test_snapshots(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    gs_error err = {{0}};
    char buf[256];
    /* a reader whose snapshot predates a commit does not use the index */
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_exec(graph_store_db(x->r), "SELECT count(*) FROM rels", NULL, NULL, NULL);
    rel(w, 6, "BASED_ON", 1);
    assert_false(graph_adj_begin(x->r));
    graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = GRAPH_LINEAGE_COUNT};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_OK);
    assert_non_null(strstr(text, "\"count\":4,"));   /* 2, 3, 4, 5: its snapshot, without 6 */
    free(text);
    graph_store_read_end(x->r);
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "1>2,2>3,6>6");
    /* a commit that bypasses the store's COMMIT makes the index stale until the next one */
    assert_int_equal(sqlite3_exec(graph_store_db(w), "INSERT INTO rels(type, start, end) VALUES ('BASED_ON', 6, 2)",
                                  NULL, NULL, NULL), SQLITE_OK);
    neighbours(x, 1, GRAPH_DOWN, buf);
    assert_string_equal(buf, "nope");
    node(w, "catch-up");
    neighbours(x, 2, GRAPH_DOWN, buf);
    assert_string_equal(buf, "3>4,7>6");
}

/* The same lineage text from the reader (index) and the writer (SQLite BFS). */
static void same_lineage(adj_fix *x, int64_t root, graph_direction dir, graph_lineage_mode mode) {
    const char *fields[] = {"name"};
    graph_lineage_opts o = {.dir = dir, .mode = mode, .fields = fields, .nfields = 1};
    char *a = NULL, *b = NULL;
    size_t la, lb;
    gs_error err = {{0}};
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_lineage_text(x->r, root, &o, &a, &la, &err), GS_OK);
    graph_store_read_end(x->r);
    assert_int_equal(graph_lineage_text(x->f->s, root, &o, &b, &lb, &err), GS_OK);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Index and SQLite BFS agree in every mode; COUNT and FIELDS shapes. */
static void test_lineage_modes(void **state) {
    adj_fix *x = *state;
    rel(x->f->s, 1, "BASED_ON", 5);   /* a cycle through an override */
    for (int64_t n = 1; n <= 6; n++)
        for (int m = GRAPH_LINEAGE_FULL; m <= GRAPH_LINEAGE_FIELDS; m++) {
            same_lineage(x, n, GRAPH_DOWN, (graph_lineage_mode)m);
            same_lineage(x, n, GRAPH_UP, (graph_lineage_mode)m);
        }
    graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = GRAPH_LINEAGE_FIELDS, .fields = (const char *[]){"name", "x"},
                            .nfields = 2, .max_depth = 1};
    char *text = NULL;
    size_t len;
    gs_error err = {{0}};
    assert_int_equal(graph_lineage_text(x->r, 2, &o, &text, &len, &err), GS_OK);
    assert_string_equal(text, "{\"root\":{\"$node\":{\"id\":2,\"labels\":[\"Model\"],\"properties\":{\"name\":\"m2\"}}},"
                              "\"count\":1,\"nodes\":[{\"id\":4,\"depth\":1,\"properties\":{\"name\":\"m4\"}}]}");
    free(text);
    o.mode = GRAPH_LINEAGE_COUNT;
    assert_int_equal(graph_lineage_text(x->r, 2, &o, &text, &len, &err), GS_OK);
    assert_string_equal(text, "{\"root\":{\"$node\":{\"id\":2,\"labels\":[\"Model\"],\"properties\":{\"name\":\"m2\"}}},"
                              "\"count\":1,\"relationships\":1}");
    free(text);
}

/* A full reply's relationships come from the walk (id, type, ends) and the
 * stored props text; each must equal its row, through the index and without. */
static void test_lineage_relationships_as_stored(void **state) {
    adj_fix *x = *state;
    gs_error err = {{0}};
    json_t *props = json_pack("{s:s,s:[i,f],s:s}", "relation", "finetune", "w", 1, 0.5, "q", "a\"b\u00e9");
    int64_t id = 0;
    assert_int_equal(graph_rel_put(x->f->s, 6, "DISTILLED_FROM", 2, props, true, &id, NULL, &err), GS_OK);
    json_decref(props);
    for (int via_index = 0; via_index < 2; via_index++) {
        graph_store *s = via_index ? x->r : x->f->s;
        const char *types[] = {"DISTILLED_FROM", "BASED_ON"};
        graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = GRAPH_LINEAGE_FULL, .types = types, .ntypes = 2};
        char *text = NULL;
        size_t len = 0;
        if (via_index) assert_int_equal(graph_store_read_begin(s, &err), GS_OK);
        assert_int_equal(graph_lineage_text(s, 1, &o, &text, &len, &err), GS_OK);
        if (via_index) graph_store_read_end(s);
        json_t *reply = json_loads(text, 0, NULL);
        assert_non_null(reply);
        json_t *rels = json_object_get(reply, "relationships");
        assert_int_equal(json_array_size(rels), 5);   /* 2>1, 3>1, 4>2, 5>4 (DISTILLED_FROM), 6>2 */
        int64_t last = 0;
        for (size_t i = 0; i < json_array_size(rels); i++) {
            json_t *r = json_object_get(json_array_get(rels, i), "$rel");
            int64_t rid = json_integer_value(json_object_get(r, "id"));
            assert_true(rid > last);   /* in id order */
            last = rid;
            sqlite3_stmt *st;
            assert_int_equal(sqlite3_prepare_v2(graph_store_db(x->f->s), "SELECT type, start, end, props FROM rels "
                                                "WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
            sqlite3_bind_int64(st, 1, rid);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            assert_string_equal(json_string_value(json_object_get(r, "type")), (const char *)sqlite3_column_text(st, 0));
            assert_int_equal(json_integer_value(json_object_get(r, "start")), sqlite3_column_int64(st, 1));
            assert_int_equal(json_integer_value(json_object_get(r, "end")), sqlite3_column_int64(st, 2));
            char *p = json_dumps(json_object_get(r, "properties"), JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
            json_t *stored = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
            char *q = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
            assert_string_equal(p, q);
            assert_non_null(strstr(text, (const char *)sqlite3_column_text(st, 3)));   /* copied verbatim */
            free(p);
            free(q);
            json_decref(stored);
            sqlite3_finalize(st);
        }
        json_decref(reply);
        free(text);
    }
}

/* Nodes by (depth, id) and relationships by id in a reply of 600 nodes whose
 * ids need two bytes and were created out of walk order (the radix path of the
 * sorts; a dozen nodes take the insertion path, which the tests above cover). */
static void test_lineage_order_large(void **state) {
    adj_fix *x = *state;
    for (int i = 7; i <= 606; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        assert_int_equal(node(x->f->s, name), i);
    }
    for (int i = 606; i >= 507; i--) rel(x->f->s, i, "BASED_ON", 1);   /* depth 1: high ids, rel ids rising as they fall */
    uint32_t seed = 12345;
    for (int k = 0; k < 500; k++) {   /* depth 2: 7..506 in a scrambled order, under a scrambled parent */
        int child = 7 + (int)((k * 263u) % 500u);
        seed = seed * 1103515245u + 12345u;
        rel(x->f->s, child, "BASED_ON", 507 + (int)((seed >> 8) % 100u));
    }
    const graph_lineage_mode modes[] = {GRAPH_LINEAGE_FULL, GRAPH_LINEAGE_FIELDS};
    for (int via_index = 0; via_index < 2; via_index++)
        for (int mi = 0; mi < 2; mi++) {
            graph_lineage_mode m = modes[mi];
            graph_store *s = via_index ? x->r : x->f->s;
            const char *fields[] = {"name"};
            graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = m, .fields = fields, .nfields = 1};
            char *text = NULL;
            size_t len = 0;
            gs_error err = {{0}};
            if (via_index) assert_int_equal(graph_store_read_begin(s, &err), GS_OK);
            assert_int_equal(graph_lineage_text(s, 1, &o, &text, &len, &err), GS_OK);
            if (via_index) graph_store_read_end(s);
            json_t *reply = json_loads(text, 0, NULL);
            assert_non_null(reply);
            json_t *nodes = json_object_get(reply, "nodes");
            assert_int_equal(json_array_size(nodes), 604);   /* 2, 3, 4, 5 (DISTILLED_FROM 4) and the 600 */
            int64_t last_depth = 0, last_id = 0;
            for (size_t i = 0; i < json_array_size(nodes); i++) {
                json_t *e = json_array_get(nodes, i), *n = json_object_get(e, "$node");
                int64_t id = json_integer_value(json_object_get(n ? n : e, "id"));
                int64_t depth = json_integer_value(json_object_get(e, "depth"));
                assert_true(depth > last_depth || (depth == last_depth && id > last_id));
                char want[16];
                snprintf(want, sizeof want, "m%" PRId64, id);   /* each node with its own props */
                json_t *props = n ? json_object_get(n, "properties") : json_object_get(e, "properties");
                assert_string_equal(json_string_value(json_object_get(props, "name")), want);
                last_depth = depth;
                last_id = id;
            }
            assert_int_equal(last_depth, 3);   /* 5 */
            json_t *rels = json_object_get(reply, "relationships");
            if (m == GRAPH_LINEAGE_FULL) {
                assert_int_equal(json_array_size(rels), 604);
                int64_t last = 0;
                for (size_t i = 0; i < json_array_size(rels); i++) {
                    int64_t rid = json_integer_value(json_object_get(json_object_get(json_array_get(rels, i), "$rel"), "id"));
                    assert_true(rid > last);
                    last = rid;
                }
            }
            json_decref(reply);
            free(text);
        }
}

/* graph_lineage_text with max_nodes (the loop thread's bound): a walk of at most
 * that many nodes (the root too) gives the unbounded text; one more node, or
 * more than twice as many relationships, gives GS_LIMIT and no text; so does a
 * snapshot the index cannot serve, where the unbounded walk still answers. */
static void test_lineage_max_nodes(void **state) {
    adj_fix *x = *state;
    gs_error err = {{0}};
    for (int m = GRAPH_LINEAGE_FULL; m <= GRAPH_LINEAGE_FIELDS; m++) {
        const char *fields[] = {"name"};
        graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = (graph_lineage_mode)m, .fields = fields, .nfields = 1};
        char *all = NULL, *text = NULL;
        size_t len = 0;
        assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
        assert_int_equal(graph_lineage_text(x->r, 1, &o, &all, &len, &err), GS_OK);   /* 1, 2, 3, 4, 5 */
        o.max_nodes = 5;
        assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_OK);
        assert_string_equal(text, all);
        free(text);
        text = NULL;
        o.max_nodes = 4;
        assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_LIMIT);
        assert_null(text);
        assert_non_null(strstr(err.msg, "more than 4 nodes"));
        o.max_nodes = 1;   /* the root alone fits: a leaf's walk */
        o.dir = GRAPH_DOWN;
        assert_int_equal(graph_lineage_text(x->r, 5, &o, &text, &len, &err), GS_OK);
        free(text);
        graph_store_read_end(x->r);
        free(all);
    }
    /* 2 -> 1 three more times: node 2's walk up is 2 nodes and 4 relationships */
    for (int i = 0; i < 3; i++) rel(x->f->s, 2, "BASED_ON", 1);
    graph_lineage_opts o = {.dir = GRAPH_UP, .mode = GRAPH_LINEAGE_COUNT, .max_nodes = 2};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_lineage_text(x->r, 2, &o, &text, &len, &err), GS_OK);
    assert_non_null(strstr(text, "\"count\":1,\"relationships\":4}"));
    free(text);
    text = NULL;
    rel(x->f->s, 2, "BASED_ON", 1);   /* 5 > 2 * 2: too many, whatever the node count */
    graph_store_read_end(x->r);
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_lineage_text(x->r, 2, &o, &text, &len, &err), GS_LIMIT);
    assert_null(text);
    graph_store_read_end(x->r);
    /* a reader whose snapshot predates a commit cannot use the index: bounded walks decline */
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_exec(graph_store_db(x->r), "SELECT count(*) FROM rels", NULL, NULL, NULL);
    rel(x->f->s, 6, "BASED_ON", 1);
    o.dir = GRAPH_DOWN;
    o.max_nodes = 100;
    assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_LIMIT);
    assert_null(text);
    o.max_nodes = 0;
    assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_OK);
    assert_non_null(strstr(text, "\"count\":4,"));   /* its snapshot: 2, 3, 4, 5 */
    free(text);
    graph_store_read_end(x->r);
}

/* The names the index keeps for `fields:["name"]` follow committed writes:
 * renamed (also to a non-string and with escapes), name removed, node deleted,
 * rolled back, bulk-sized; the reader's index answer equals the writer's
 * SQLite answer for every node after each step. */
static void test_names_kept_current(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    sqlite3 *db = graph_store_db(w);
    gs_error err = {{0}};
    static const char *steps[] = {
        "UPDATE nodes SET props = json_set(props, '$.name', 'renamed \"two\"') WHERE id = 2",
        "UPDATE nodes SET props = json_set(props, '$.name', 5) WHERE id = 3",
        "UPDATE nodes SET props = json_remove(props, '$.name') WHERE id = 4",
        "DELETE FROM rels WHERE start = 5 OR end = 5; DELETE FROM nodes WHERE id = 5",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        assert_int_equal(graph_store_begin(w, &err), GS_OK);
        assert_int_equal(sqlite3_exec(db, steps[i], NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(graph_store_commit(w, &err), GS_OK);
        for (int64_t n = 1; n <= 6; n++) {
            if (n == 5)
                continue;   /* deleted by the last step */
            same_lineage(x, n, GRAPH_DOWN, GRAPH_LINEAGE_FIELDS);
            same_lineage(x, n, GRAPH_UP, GRAPH_LINEAGE_FIELDS);
        }
    }
    /* rolled back: the index keeps the committed name */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE nodes SET props = json_set(props, '$.name', 'gone') WHERE id = 2",
                                  NULL, NULL, NULL), SQLITE_OK);
    graph_store_rollback(w);
    node(w, "after");
    same_lineage(x, 1, GRAPH_DOWN, GRAPH_LINEAGE_FIELDS);
    /* many renames in one commit (the rebuild path) */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    for (int i = 0; i < 70000; i++)
        assert_int_equal(sqlite3_exec(db, i % 2 ? "UPDATE nodes SET props = json_set(props, '$.name', 'odd') WHERE id = 4"
                                                : "UPDATE nodes SET props = json_set(props, '$.name', 'even') WHERE id = 4",
                                      NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    same_lineage(x, 1, GRAPH_DOWN, GRAPH_LINEAGE_FIELDS);
    char *text = NULL;
    size_t len;
    const char *fields[] = {"name"};
    graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = GRAPH_LINEAGE_FIELDS, .fields = fields, .nfields = 1};
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_lineage_text(x->r, 1, &o, &text, &len, &err), GS_OK);
    graph_store_read_end(x->r);
    assert_non_null(strstr(text, "{\"id\":2,\"depth\":1,\"properties\":{\"name\":\"renamed \\\"two\\\"\"}}"));
    assert_non_null(strstr(text, "{\"id\":3,\"depth\":1,\"properties\":{\"name\":5}}"));
    assert_non_null(strstr(text, "{\"id\":4,\"depth\":2,\"properties\":{\"name\":\"odd\"}}"));
    free(text);
}

/* FIELDS copies stored values verbatim: nested values, escapes, reals, absent keys. */
static void test_fields_scanner(void **state) {
    adj_fix *x = *state;
    const char *labels[] = {"Model"};
    json_t *props = json_loads("{\"a\":{\"x\":[1,\"}\",{\"y\":null}]},\"b\\\"q\":\"v\\\\,\",\"z\":1.5,\"e\":[]}", 0, NULL);
    assert_non_null(props);
    int64_t id = 0, rid = 0;
    gs_error err = {{0}};
    assert_int_equal(graph_node_put(x->f->s, labels, 1, "kid", props, NULL, &id, NULL, &err), GS_OK);
    json_decref(props);
    assert_int_equal(graph_rel_put(x->f->s, id, "BASED_ON", 3, NULL, false, &rid, NULL, &err), GS_OK);
    const char *fields[] = {"z", "b\"q", "missing", "a", "e"};
    graph_lineage_opts o = {.dir = GRAPH_DOWN, .mode = GRAPH_LINEAGE_FIELDS, .fields = fields, .nfields = 5};
    char *text = NULL;
    size_t len;
    assert_int_equal(graph_lineage_text(x->r, 3, &o, &text, &len, &err), GS_OK);
    assert_non_null(strstr(text, "\"properties\":{\"z\":1.5,\"b\\\"q\":\"v\\\\,\",\"a\":{\"x\":[1,\"}\",{\"y\":null}]},\"e\":[]}}"));
    free(text);
}

/* sqlite3_trace_v2 callback: counts statements that look a name up in the
 * nodes_name_key index (FIND_NAME, FIND_NAME_LABEL). */
static int count_name_sql(unsigned type, void *arg, void *p, void *x) {
    (void)p;
    if (type == SQLITE_TRACE_STMT && strstr((const char *)x, "n.name_key = ?1")) ++*(int *)arg;
    if (type == SQLITE_TRACE_STMT && strstr((const char *)x, "WHERE name_key = ?1")) ++*(int *)arg;
    return 0;
}

/* graph_node_find on the reader (in a fresh read, like a daemon request) and
 * on the writer (SQLite only) must agree; the id, "not found" or "ambiguous" in buf.
 * *sql_lookups: how many nodes_name_key lookups the reader ran. */
static void find_both(adj_fix *x, const char *label, const char *name, char *buf, int *sql_lookups) {
    gs_error err = {{0}}, werr = {{0}};
    int64_t id = 0, wid = 0;
    *sql_lookups = 0;
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_trace_v2(graph_store_db(x->r), SQLITE_TRACE_STMT, count_name_sql, sql_lookups);
    gs_status r = graph_node_find(x->r, label, name, &id, &err);
    sqlite3_trace_v2(graph_store_db(x->r), 0, NULL, NULL);
    graph_store_read_end(x->r);
    gs_status w = graph_node_find(x->f->s, label, name, &wid, &werr);
    assert_int_equal(r, w);
    if (r == GS_OK) {
        assert_int_equal(id, wid);
        snprintf(buf, 64, "%lld", (long long)id);
    } else {
        assert_string_equal(err.msg, werr.msg);
        snprintf(buf, 64, "%s", r == GS_NOT_FOUND ? "not found" : r == GS_AMBIGUOUS ? "ambiguous" : "other error");
    }
}

/* A Cypher MATCH by name on the reader (in a fresh read) and on the writer:
 * the same result text; *sql_lookups as for find_both. */
static void query_both(adj_fix *x, const char *query, const char *want_rows, int *sql_lookups) {
    gs_error err = {{0}};
    graph_query_error qerr;
    char *a = NULL, *b = NULL;
    *sql_lookups = 0;
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_trace_v2(graph_store_db(x->r), SQLITE_TRACE_STMT, count_name_sql, sql_lookups);
    assert_int_equal(graph_query(x->r, query, NULL, NULL, &a, &qerr), GS_OK);
    sqlite3_trace_v2(graph_store_db(x->r), 0, NULL, NULL);
    graph_store_read_end(x->r);
    assert_int_equal(graph_query(x->f->s, query, NULL, NULL, &b, &qerr), GS_OK);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, want_rows));
    free(a);
    free(b);
}

/* Lookups by name on readers go through the index's name keys when one node
 * may have the key, and still answer exactly as SQLite does after renames,
 * a second node with the same name (ambiguous), deletes, rollbacks, a bulk
 * rewrite and commits racing a read; a label narrows the match. */
static void test_name_keys(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    sqlite3 *db = graph_store_db(w);
    gs_error err = {{0}};
    char buf[64];
    int sql = 0;
    find_both(x, NULL, " M3 ", buf, &sql);   /* the same key as "m3" */
    assert_string_equal(buf, "3");
    assert_int_equal(sql, 0);   /* answered from the index and the row's stored key */
    find_both(x, "Model", "m3", buf, &sql);
    assert_string_equal(buf, "3");
    assert_int_equal(sql, 0);
    query_both(x, "MATCH (n {name: 'm3'}) RETURN id(n), n.name", "\"rows\":[[3,\"m3\"]]", &sql);   /* Cypher's candidates too */
    assert_int_equal(sql, 0);
    query_both(x, "MATCH (n {name: 'M3'}) RETURN id(n)", "\"rows\":[]", &sql);   /* same key, other value: no row */
    find_both(x, "Paper", "m3", buf, &sql);   /* nobody has the label: not found (after the aliases) */
    assert_string_equal(buf, "not found");
    find_both(x, NULL, "nobody", buf, &sql);
    assert_string_equal(buf, "not found");
    /* a second node named m3 (another first label, so not merged): ambiguous */
    const char *paper[] = {"Paper"};
    int64_t p7 = 0;
    assert_int_equal(graph_node_put(w, paper, 1, "m3", NULL, NULL, &p7, NULL, &err), GS_OK);
    find_both(x, NULL, "m3", buf, &sql);
    assert_string_equal(buf, "ambiguous");
    assert_true(sql > 0);   /* two nodes share the hash: SQLite decides */
    query_both(x, "MATCH (n {name: 'm3'}) RETURN id(n) ORDER BY id(n)", "\"rows\":[[3],[7]]", &sql);
    assert_true(sql > 0);
    find_both(x, "Paper", "m3", buf, &sql);
    assert_string_equal(buf, "7");
    /* renamed by raw SQL in a store transaction; then the second m3 deleted */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE nodes SET props = json_set(props, '$.name', 'zed'), name_key = 'zed' "
                                      "WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    find_both(x, NULL, "ZED", buf, &sql);
    assert_string_equal(buf, "2");
    assert_int_equal(sql, 0);
    find_both(x, NULL, "m2", buf, &sql);
    assert_string_equal(buf, "not found");
    int64_t dummy = 0;
    assert_int_equal(graph_node_delete(w, p7, true, &dummy, &err), GS_OK);
    find_both(x, NULL, "m3", buf, &sql);
    assert_string_equal(buf, "3");
    assert_int_equal(sql, 0);
    /* rolled back: the committed key stays */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE nodes SET name_key = 'tmp' WHERE id = 3", NULL, NULL, NULL), SQLITE_OK);
    graph_store_rollback(w);
    node(w, "m8");
    find_both(x, NULL, "m3", buf, &sql);
    assert_string_equal(buf, "3");
    find_both(x, NULL, "tmp", buf, &sql);
    assert_string_equal(buf, "not found");
    /* many writes in one commit (the rebuild path), ending with node 4 named m1 too */
    assert_int_equal(graph_store_begin(w, &err), GS_OK);
    for (int i = 0; i < 70001; i++)
        assert_int_equal(sqlite3_exec(db, i % 2 ? "UPDATE nodes SET name_key = 'odd' WHERE id = 4"
                                                : "UPDATE nodes SET name_key = 'm1' WHERE id = 4",
                                      NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(graph_store_commit(w, &err), GS_OK);
    find_both(x, NULL, "m1", buf, &sql);
    assert_string_equal(buf, "ambiguous");
    find_both(x, NULL, "odd", buf, &sql);
    assert_string_equal(buf, "not found");
    /* a commit after the reader's snapshot began: the reader answers from its snapshot */
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    sqlite3_exec(graph_store_db(x->r), "SELECT count(*) FROM nodes", NULL, NULL, NULL);   /* the snapshot starts */
    assert_int_equal(graph_node_put(w, paper, 1, "m5", NULL, NULL, &p7, NULL, &err), GS_OK);
    int64_t id = 0;
    assert_int_equal(graph_node_find(x->r, NULL, "m5", &id, &err), GS_OK);
    assert_int_equal(id, 5);
    graph_store_read_end(x->r);
    /* a commit between BEGIN and the first read: the reader sees it whole */
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_node_put(w, paper, 1, "m6", NULL, NULL, &p7, NULL, &err), GS_OK);
    assert_int_equal(graph_node_find(x->r, NULL, "m6", &id, &err), GS_AMBIGUOUS);
    graph_store_read_end(x->r);
}

/* Two names whose keys (already normalised: "c<number>") share a key_index
 * hash, found by a birthday search. */
typedef struct hashed {
    uint32_t h;
    int i;
} hashed;
static int cmp_hashed(const void *a, const void *b) {
    const hashed *x = a, *y = b;
    return x->h != y->h ? (x->h > y->h) - (x->h < y->h) : x->i - y->i;
}
static void colliding_names(char *a, char *b) {
    enum { N = 300000 };
    hashed *v = malloc(N * sizeof *v);
    char k[32];
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "c%d", i);
        v[i] = (hashed){key_index_hash(k, strlen(k)), i};
    }
    qsort(v, N, sizeof *v, cmp_hashed);
    int i = 1;
    while (i < N && v[i].h != v[i - 1].h) i++;
    assert_true(i < N);   /* ~20 pairs expected among 300,000 31-bit hashes */
    snprintf(a, 32, "c%d", v[i - 1].i);
    snprintf(b, 32, "c%d", v[i].i);
    free(v);
}

/* A name whose key only shares its hash with another node's key is not that
 * node: the stored key decides. Both present: SQLite decides. */
static void test_name_key_collision(void **state) {
    adj_fix *x = *state;
    char a[32], b[32], buf[64];
    int sql = 0;
    colliding_names(a, b);
    int64_t ida = node(x->f->s, a);
    find_both(x, NULL, b, buf, &sql);
    assert_string_equal(buf, "not found");
    find_both(x, NULL, a, buf, &sql);
    assert_int_equal(strtoll(buf, NULL, 10), ida);
    assert_int_equal(sql, 0);
    int64_t idb = node(x->f->s, b);
    find_both(x, NULL, b, buf, &sql);
    assert_int_equal(strtoll(buf, NULL, 10), idb);
    assert_true(sql > 0);
}

/* graph_node_text on a reader (labels from the index when it knows their
 * order) equals the writer's (node_labels): one label, none, two whose pos
 * order differs from their bit order, and a label past the 64 indexed names. */
static void test_node_text_labels(void **state) {
    adj_fix *x = *state;
    graph_store *w = x->f->s;
    gs_error err = {{0}};
    const char *two[] = {"Paper", "Model"};   /* Model got its bit first */
    int64_t both = 0, bare = 0;
    assert_int_equal(graph_node_put(w, two, 2, "both", NULL, NULL, &both, NULL, &err), GS_OK);
    assert_int_equal(graph_node_create(w, NULL, 0, NULL, &bare, &err), GS_OK);
    char *t = NULL, *u = NULL;
    size_t tl, ul;
    int64_t ids[] = {1, both, bare, 0};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; ids[i]; i++) {
            assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
            assert_int_equal(graph_node_text(x->r, ids[i], &t, &tl, &err), GS_OK);
            graph_store_read_end(x->r);
            assert_int_equal(graph_node_text(w, ids[i], &u, &ul, &err), GS_OK);
            assert_string_equal(t, u);
            free(t);
            free(u);
        }
        if (pass == 1) break;
        /* then 70 label names, so later ones have no bit; node 1 gets only an unindexed one */
        sqlite3 *db = graph_store_db(w);
        assert_int_equal(graph_store_begin(w, &err), GS_OK);
        for (int i = 0; i < 70; i++) {
            char sql[160];
            snprintf(sql, sizeof sql, "INSERT INTO node_labels(node_id, pos, label) VALUES (%lld, %d, 'L%02d')",
                     (long long)bare, i, i);
            assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        }
        assert_int_equal(sqlite3_exec(db, "DELETE FROM node_labels WHERE node_id = 1; INSERT INTO "
                                          "node_labels(node_id, pos, label) VALUES (1, 0, 'L69')", NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(graph_store_commit(w, &err), GS_OK);
    }
    assert_int_equal(graph_store_read_begin(x->r, &err), GS_OK);
    assert_int_equal(graph_node_text(x->r, 1, &t, &tl, &err), GS_OK);
    graph_store_read_end(x->r);
    assert_non_null(strstr(t, "\"labels\":[\"L69\"]"));
    free(t);
}

/* cmocka entry point. */
int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_built_and_kept_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollbacks_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_kept_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_kept_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineage_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineage_max_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineage_order_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineage_relationships_as_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_scanner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_key_collision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_text_labels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
