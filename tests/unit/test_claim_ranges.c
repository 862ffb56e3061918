/*
 * tests/unit/test_claim_ranges.c - claim ranges (schema version 5,
 * graph/claim_ranges.c): a bulk load stores its node and relationship claims
 * as runs of ids, and the node_claims / rel_claims views show exactly the
 * claims rows would. Checked here: loads write ranges and no rows, of at most
 * GS_CLAIM_SPAN ids; deleting an entity splits its ranges, so a reused id is
 * not claimed by accident; a claim that changes leaves its range; a node
 * matched twice by one import is claimed once; retracts in either order; a
 * version 4 database migrates with every claim; the views refuse nonsense;
 * replayed claims replace the running import's claim from a range or a row;
 * imports.show's paged property list is the view's, for every page size.
 * (test_implicit_claims.c and the bulk import tests compare whole stores
 * loaded with and without bulk loads.)
 */
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

#include "bulk_load.h"
#include "provenance.h"
#include "store_fixture.h"

static int setup(void **state) { return fixture_open(state, NULL); }
static int teardown(void **state) { return fixture_close(state); }

static const char *const model[] = {"Model"};

/* Opens a transaction and an import (sha names it). */
static int64_t import_begin(graph_store *s, const char *sha) {
    gs_error err = {{0}};
    int64_t imp = 0;
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "in", sha, &imp, &err), GS_OK);
    return imp;
}

/* Finishes the import and commits; its counts go to *c if given. */
static void import_end(graph_store *s, prov_counts *c) {
    gs_error err = {{0}};
    prov_counts mine;
    assert_int_equal(prov_import_finish(s, 0, c ? c : &mine, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
}

/* In a bulk load: the node m<i> (created with {"x": i}, or only named when bare). */
static int64_t bulk_model(graph_bulk *b, int i, bool bare) {
    char name[32], x[32];
    snprintf(name, sizeof name, "m%d", i);
    int n = snprintf(x, sizeof x, "%d", i);
    graph_bulk_prop p = {"x", x, (size_t)n};
    graph_bulk_node_row row = {.labels = model, .nlabels = 1, .name = name, .props = &p, .nprops = bare ? 0 : 1};
    int64_t id = 0;
    gs_error err = {{0}};
    assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
    return id;
}

/* One import, one bulk load: models m<first> .. m<last>, created or named. */
static int64_t load_models(graph_store *s, const char *sha, int first, int last, bool bare) {
    gs_error err = {{0}};
    int64_t imp = import_begin(s, sha);
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(s, &b, &err), GS_OK);
    for (int i = first; i <= last; i++) bulk_model(b, i, bare);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    import_end(s, NULL);
    return imp;
}

/* One import, one bulk load: m<i> -BASED_ON-> m<i-1> for i in 2..n, naming
 * the ends as a relationship file does (every node a known one). */
static int64_t load_chain(graph_store *s, const char *sha, int n) {
    gs_error err = {{0}};
    int64_t imp = import_begin(s, sha);
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(s, &b, &err), GS_OK);
    for (int i = 2; i <= n; i++) {
        int64_t a = bulk_model(b, i, true), c = bulk_model(b, i - 1, true);
        assert_int_equal(graph_bulk_rel(b, a, "BASED_ON", c, NULL, 0, NULL, &err), GS_OK);
    }
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    import_end(s, NULL);
    return imp;
}

/* Runs SQL that must succeed. */
static void exec_ok(graph_store *s, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(graph_store_db(s), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* One text value from SQL ("" for NULL). */
static char *sql_text(graph_store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(t ? t : "");
    sqlite3_finalize(st);
    return out;
}

static void assert_sql_text(graph_store *s, const char *sql, const char *want) {
    char *got = sql_text(s, sql);
    if (strcmp(got, want) != 0) fprintf(stderr, "%s\n  got:  %s\n  want: %s\n", sql, got, want);
    assert_string_equal(got, want);
    free(got);
}

/* A load of 10,000 models and a chain of relationships over them writes
 * ranges only, none longer than GS_CLAIM_SPAN, and the views show one claim
 * per entity and import, as rows would. */
static void loads_write_ranges(void **state) {
    fixture *f = *state;
    int64_t nodes = load_models(f->s, "aa", 1, 10000, false), rels = load_chain(f->s, "bb", 10000);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_rows"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claim_rows"), 0);
    /* 10,000 ids in runs of at most 4096: 3 ranges per import */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_ranges"), 6);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claim_ranges"), 3);
    assert_int_equal(sql_int(f->s, "SELECT max(hi - lo + 1) FROM node_claim_ranges"), 4096);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ' ' || count(DISTINCT node_id) || ' ' || min(node_id) || ' ' || max(node_id) || ' ' "
             "|| sum(created) || ' ' || sum(props_implicit) FROM node_claims WHERE import_id = %lld",
             (long long)nodes);
    assert_sql_text(f->s, sql, "10000 10000 1 10000 10000 10000");
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ' ' || count(DISTINCT node_id) || ' ' || sum(created) || ' ' || sum(props_implicit) "
             "FROM node_claims WHERE import_id = %lld", (long long)rels);
    assert_sql_text(f->s, sql, "10000 10000 0 0");
    assert_sql_text(f->s,
                    "SELECT count(*) || ' ' || count(DISTINCT rel_id) || ' ' || min(rel_id) || ' ' || max(rel_id) || ' ' "
                    "|| sum(created) FROM rel_claims",
                    "9999 9999 1 9999 9999");
    /* by id, as node.get and the exporter ask */
    assert_sql_text(f->s, "SELECT group_concat(import_id || ':' || created) FROM "
                          "(SELECT * FROM node_claims WHERE node_id = 4097 ORDER BY import_id)", "1:1,2:0");
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE node_id BETWEEN 4000 AND 4200"), 402);
    /* the implicit property claims come through the range */
    assert_sql_text(f->s, "SELECT key || '=' || value || '@' || import_id FROM prop_claims "
                          "WHERE kind = 'node' AND entity_id = 8193", "x=8193@1");
}

/* Replaying recorded claims replaces the running import's own claim on an
 * entity whether a range holds it (a bulk load of the same import: the range
 * is split) or a row (a row-by-row write), and leaves every other claim. */
static void replay_replaces_range_and_row_claims(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t older = load_models(f->s, "aa", 1, 20, false);
    int64_t imp = import_begin(f->s, "bb");
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    for (int i = 21; i <= 30; i++) bulk_model(b, i, false);   /* claimed by a range of imp */
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    int64_t row_node = 0;
    assert_int_equal(graph_node_put(f->s, model, 1, "solo", NULL, NULL, &row_node, NULL, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_ranges WHERE import_id = 2"), 1);
    char rec[96];
    snprintf(rec, sizeof rec, "{\"entity\": [{\"import\": %lld, \"effect\": \"asserted\"}]}", (long long)older);
    json_t *claims = json_loads(rec, 0, NULL);
    assert_non_null(claims);
    assert_int_equal(prov_replay_claims(f->s, "node", 25, claims, &err), GS_OK);        /* in the range */
    assert_int_equal(prov_replay_claims(f->s, "node", row_node, claims, &err), GS_OK);  /* a row */
    json_decref(claims);
    import_end(f->s, NULL);
    (void)imp;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT group_concat(node_id || ':' || import_id || ':' || created) FROM "
                              "(SELECT * FROM node_claims WHERE node_id IN (24, 25, 26, %lld) ORDER BY node_id, import_id)",
             (long long)row_node);
    char want[120];
    snprintf(want, sizeof want, "24:2:1,25:1:0,26:2:1,%lld:1:0", (long long)row_node);
    assert_sql_text(f->s, sql, want);
    /* the range was split around 25: 21..24 and 26..30 */
    assert_sql_text(f->s, "SELECT group_concat(lo || '-' || hi) FROM (SELECT * FROM node_claim_ranges "
                          "WHERE import_id = 2 ORDER BY lo)", "21-24,26-30");
}

/* Deleting an entity takes it out of its range (first, middle, last id), so
 * when SQLite hands a deleted top id to a new node, no import claims it. */
static void deletes_split_ranges(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    load_models(f->s, "aa", 1, 5000, false);
    const int64_t gone[] = {2500, 1, 4096, 4097, 5000};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        assert_int_equal(graph_node_delete(f->s, gone[i], false, NULL, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims"), 4995);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE node_id IN (1, 2500, 4096, 4097, 5000)"), 0);
    assert_sql_text(f->s, "SELECT group_concat(lo || '-' || hi) FROM (SELECT * FROM node_claim_ranges ORDER BY lo)",
                    "2-2499,2501-4095,4098-4999");
    /* the top id comes back for a new node: claimed by its own writer only */
    int64_t id = 0;
    assert_int_equal(graph_node_put(f->s, model, 1, "new", NULL, NULL, &id, NULL, &err), GS_OK);
    assert_int_equal(id, 5000);
    assert_sql_text(f->s, "SELECT group_concat(import_id || ':' || created) FROM node_claims WHERE node_id = 5000",
                    "0:1");
    /* relationships too */
    load_chain(f->s, "bb", 40);
    assert_int_equal(graph_rel_delete(f->s, 20, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claims"), 38);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claims WHERE rel_id = 20"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claim_ranges"), 2);
}

/* A claim that changes is moved out of its range into a row: when another
 * import changes a property (the implicit claims are written out), and when
 * the import that holds a node as a known one changes it (created = 2, and
 * counted once as updated). */
static void changed_claims_leave_ranges(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    load_models(f->s, "aa", 1, 100, false);
    int64_t imp = import_begin(f->s, "bb");
    json_t *props = json_pack("{s:i}", "x", 5000);
    assert_int_equal(graph_node_put(f->s, model, 1, "m50", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    import_end(f->s, NULL);
    assert_sql_text(f->s, "SELECT group_concat(node_id || ':' || import_id || ':' || created || ':' || props_implicit) "
                          "FROM (SELECT * FROM node_claim_rows ORDER BY 1, 2)", "50:1:1:0,50:2:2:0");
    assert_sql_text(f->s, "SELECT group_concat(lo || '-' || hi) FROM (SELECT * FROM node_claim_ranges ORDER BY lo)",
                    "1-49,51-100");
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE import_id = 1"), 100);
    assert_sql_text(f->s, "SELECT group_concat(value || '@' || import_id) FROM "
                          "(SELECT * FROM prop_claims WHERE kind = 'node' AND entity_id = 50 ORDER BY seq)",
                    "50@1,5000@2");
    /* imports.show marks which of an import's claims are still the latest */
    for (int64_t which = 1; which <= 2; which++) {
        json_t *show = NULL;
        assert_int_equal(prov_import_show(f->s, which, 1000, &show, &err), GS_OK);
        size_t i, seen = 0;
        json_t *p;
        json_array_foreach(json_object_get(show, "properties"), i, p) {
            int64_t id = json_integer_value(json_object_get(p, "id"));
            if (id != 50 && id != 51) continue;
            seen++;
            assert_null(json_object_get(p, "seq"));
            assert_int_equal(json_is_true(json_object_get(p, "current")), which == 2 || id == 51);
        }
        assert_int_equal(seen, which == 1 ? 2 : 1);
        json_decref(show);
    }
    json_t *res = NULL;
    assert_int_equal(prov_retract(f->s, imp, &res, &err), GS_OK);
    json_decref(res);
    assert_sql_text(f->s, "SELECT json_extract(props, '$.x') FROM nodes WHERE id = 50", "50");

    /* a known node of a bulk load (created = 0, in a range), then changed by the same import */
    imp = import_begin(f->s, "cc");
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    for (int i = 55; i <= 65; i++) bulk_model(b, i, true);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    props = json_pack("{s:i}", "y", 1);
    assert_int_equal(graph_node_put(f->s, model, 1, "m60", props, NULL, NULL, NULL, &err), GS_OK);
    assert_int_equal(graph_node_put(f->s, model, 1, "m60", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    prov_counts c;
    import_end(f->s, &c);
    assert_int_equal(c.nodes_updated, 1);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT group_concat(node_id || ':' || created) FROM "
             "(SELECT * FROM node_claims WHERE import_id = %lld ORDER BY node_id)", (long long)imp);
    assert_sql_text(f->s, sql, "55:0,56:0,57:0,58:0,59:0,60:2,61:0,62:0,63:0,64:0,65:0");
}

/* imports.show's property page, as the prop_claims view lists it: (kind, id, key,
 * value) of the first limit claims of import imp in (kind, id, key) order, one per
 * line, and whether there are more. */
static char *view_page(graph_store *s, int64_t imp, int64_t limit, bool *more) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s),
                                        "SELECT kind || ' ' || entity_id || ' ' || key || ' ' || value FROM prop_claims "
                                        "WHERE import_id = ?1 ORDER BY kind, entity_id, key LIMIT ?2", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, imp);
    sqlite3_bind_int64(st, 2, limit + 1);
    char *out = calloc(1, 1);
    size_t len = 0;
    int64_t n = 0;
    *more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        const char *t = (const char *)sqlite3_column_text(st, 0);
        out = realloc(out, len + strlen(t) + 2);
        len += (size_t)sprintf(out + len, "%s\n", t);
    }
    sqlite3_finalize(st);
    return out;
}

/* The same page from prov_import_show. */
static char *show_page(graph_store *s, int64_t imp, int64_t limit, bool *more) {
    gs_error err = {{0}};
    json_t *show = NULL;
    assert_int_equal(prov_import_show(s, imp, limit, &show, &err), GS_OK);
    char *out = calloc(1, 1);
    size_t len = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(show, "properties"), i, p) {
        char *v = json_dumps(json_object_get(p, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
        out = realloc(out, len + strlen(v) + 200);
        len += (size_t)sprintf(out + len, "%s %lld %s %s\n", json_string_value(json_object_get(p, "kind")),
                               (long long)json_integer_value(json_object_get(p, "id")),
                               json_string_value(json_object_get(p, "key")), v);
        free(v);
    }
    *more = json_is_true(json_object_get(show, "truncated"));
    json_decref(show);
    return out;
}

/* imports.show reads an import's implicit property claims page by page (graph/
 * prov_query.c) instead of through the prop_claims view: for every page size it
 * must list what the view lists. The imports mix claims in ranges and in rows
 * (one moved out by an update of the view), entities without properties, a range
 * split by a delete, claims written out by a later change, and relationship props;
 * in the last, the page of 3 holds every node but not every claim ("truncated"). */
static void show_pages_match_the_view(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t imp = import_begin(f->s, "aa");
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    int64_t ids[61];
    for (int i = 1; i <= 60; i++) ids[i] = bulk_model(b, i, i % 7 == 0 || (i > 20 && i < 30));
    for (int i = 2; i <= 60; i += 3) {
        char w[16];
        int n = snprintf(w, sizeof w, "%d", i);
        graph_bulk_prop p[2] = {{"relation", "\"finetune\"", 10}, {"w", w, (size_t)n}};
        assert_int_equal(graph_bulk_rel(b, ids[i], "BASED_ON", ids[i - 1], i % 2 ? p : NULL, i % 2 ? 2 : 0, NULL, &err),
                         GS_OK);
    }
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    import_end(f->s, NULL);
    exec_ok(f->s, "UPDATE node_claims SET created = 1 WHERE node_id = 40 AND import_id = 1");   /* out to a row */
    exec_ok(f->s, "DELETE FROM nodes WHERE id = 12");                                           /* splits a range */
    int64_t other = import_begin(f->s, "bb");
    json_t *props = json_pack("{s:i}", "x", 5000);
    assert_int_equal(graph_node_put(f->s, model, 1, "m33", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    import_end(f->s, NULL);
    assert_true(sql_int(f->s, "SELECT count(*) FROM node_claim_rows WHERE props_implicit = 1") >= 1);
    assert_true(sql_int(f->s, "SELECT count(*) FROM prop_claim_rows WHERE import_id = 1") >= 1);
    (void)other;
    /* two nodes of three properties: the node list fits a page of 3, the six claims do not */
    int64_t last = import_begin(f->s, "cc");
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    for (int i = 0; i < 2; i++) {
        graph_bulk_prop p[3] = {{"a", "1", 1}, {"b", "2", 1}, {"c", "3", 1}};
        graph_bulk_node_row row = {.labels = model, .nlabels = 1, .name = i ? "three2" : "three1", .props = p,
                                   .nprops = 3};
        int64_t id = 0;
        assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
    }
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    import_end(f->s, NULL);
    for (int64_t which = imp; which <= last; which++)
        for (int64_t limit = 1; limit <= 140; limit += limit < 12 ? 1 : 9) {
            bool more_view, more_show;
            char *want = view_page(f->s, which, limit, &more_view), *got = show_page(f->s, which, limit, &more_show);
            if (strcmp(want, got) != 0 || more_view != more_show)
                fprintf(stderr, "import %lld, limit %lld\nwant (%d):\n%sgot (%d):\n%s", (long long)which,
                        (long long)limit, more_view, want, more_show, got);
            assert_string_equal(got, want);
            assert_int_equal(more_show, more_view);
            free(want);
            free(got);
        }
}

/* An import that names known nodes in several loads, and claimed one of
 * them before by node.put, claims each node once. */
static void matched_nodes_claimed_once(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    load_models(f->s, "aa", 1, 20, false);
    int64_t imp = import_begin(f->s, "bb");
    assert_int_equal(graph_node_put(f->s, model, 1, "m5", NULL, NULL, NULL, NULL, &err), GS_OK);
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    for (int i = 10; i >= 1; i--) bulk_model(b, i, true);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    assert_int_equal(graph_bulk_begin(f->s, &b, &err), GS_OK);
    for (int i = 8; i <= 20; i++) bulk_model(b, i, true);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    import_end(f->s, NULL);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) || ' ' || count(DISTINCT node_id) || ' ' || sum(created) "
             "FROM node_claims WHERE import_id = %lld", (long long)imp);
    assert_sql_text(f->s, sql, "20 20 0");
    assert_sql_text(f->s, "SELECT group_concat(lo || '-' || hi) FROM "
                          "(SELECT * FROM node_claim_ranges WHERE import_id = 2 ORDER BY lo)", "1-4,6-10,11-20");
}

/* Retracting a relationship file's import and then the nodes' empties the
 * graph; the other order moves "created" to the import still holding them. */
static void retracts_in_both_orders(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    json_t *res = NULL;
    int64_t nodes = load_models(f->s, "aa", 1, 5000, false), rels = load_chain(f->s, "bb", 5000);
    assert_int_equal(prov_retract(f->s, nodes, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "nodes_deleted")), 0);
    json_decref(res);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) || ' ' || sum(created) FROM node_claims WHERE import_id = %lld",
             (long long)rels);
    assert_sql_text(f->s, sql, "5000 5000");
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims"), 5000);
    assert_int_equal(prov_retract(f->s, rels, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "nodes_deleted")), 5000);
    assert_int_equal(json_integer_value(json_object_get(res, "relationships_deleted")), 4999);
    json_decref(res);
    assert_sql_text(f->s, "SELECT (SELECT count(*) FROM nodes) || (SELECT count(*) FROM rels) || "
                          "(SELECT count(*) FROM node_claim_ranges) || (SELECT count(*) FROM rel_claim_ranges) || "
                          "(SELECT count(*) FROM node_claim_rows) || (SELECT count(*) FROM rel_claim_rows)", "000000");

    nodes = load_models(f->s, "cc", 1, 5000, false);
    rels = load_chain(f->s, "dd", 5000);
    assert_int_equal(prov_retract(f->s, rels, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "relationships_deleted")), 4999);
    json_decref(res);
    assert_int_equal(prov_retract(f->s, nodes, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "nodes_deleted")), 5000);
    json_decref(res);
    assert_sql_text(f->s, "SELECT (SELECT count(*) FROM nodes) || (SELECT count(*) FROM node_claims) || "
                          "(SELECT count(*) FROM node_claim_ranges) || (SELECT count(*) FROM rel_claim_ranges)", "0000");
}

/* The claims of a store as text, one line per claim. */
static char *all_claims(graph_store *s) {
    return sql_text(s, "SELECT group_concat(c, char(10)) FROM ("
                       "SELECT 'n ' || node_id || ' ' || import_id || ' ' || created || ' ' || props_implicit AS c "
                       "FROM node_claims UNION ALL "
                       "SELECT 'r ' || rel_id || ' ' || import_id || ' ' || created || ' ' || props_implicit "
                       "FROM rel_claims UNION ALL "
                       "SELECT 'p ' || kind || ' ' || entity_id || ' ' || key || ' ' || value || ' ' || import_id "
                       "FROM prop_claims ORDER BY 1)");
}

/* A version 4 database (claims as rows, implicit ones among them) migrates
 * with every claim, and the triggers work on it. */
static void migrate_v4(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    load_models(f->s, "aa", 1, 300, false);
    load_chain(f->s, "bb", 300);
    import_begin(f->s, "cc");
    json_t *props = json_pack("{s:i}", "x", -1);
    assert_int_equal(graph_node_put(f->s, model, 1, "m7", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    import_end(f->s, NULL);
    char *before = all_claims(f->s);
    char path[160];
    snprintf(path, sizeof path, "%s/v4.db", f->dir);
    fixture_copy_to_old(f->s, path, 4);
    graph_store_close(f->s);
    f->s = NULL;
    assert_int_equal(graph_store_open(path, 0, NULL, &f->s, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "PRAGMA user_version"), GRAPH_SCHEMA_VERSION);
    char *after = all_claims(f->s);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_ranges"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_rows WHERE props_implicit = 1"), 299);
    /* a change writes the implicit claims out; a delete takes the claims with it */
    import_begin(f->s, "dd");
    props = json_pack("{s:i}", "x", -2);
    assert_int_equal(graph_node_put(f->s, model, 1, "m8", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    import_end(f->s, NULL);
    assert_sql_text(f->s, "SELECT group_concat(value || '@' || import_id) FROM "
                          "(SELECT * FROM prop_claims WHERE kind = 'node' AND entity_id = 8 ORDER BY seq)", "8@1,-2@4");
    assert_int_equal(graph_node_delete(f->s, 300, true, NULL, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE node_id = 300"), 0);
    /* a new bulk load on the migrated store writes ranges */
    load_models(f->s, "ee", 301, 310, false);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claim_ranges"), 1);
}

/* The views take the changes the code makes (created, props_implicit) and refuse others. */
static void views_refuse_other_changes(void **state) {
    fixture *f = *state;
    load_models(f->s, "aa", 1, 10, false);
    sqlite3 *db = graph_store_db(f->s);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE node_claims SET node_id = 11 WHERE node_id = 3", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE node_claims SET import_id = 9 WHERE node_id = 3", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO node_claims VALUES (3, 9, 0, 0)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO rel_claims VALUES (3, 9, 0, 0)", NULL, NULL, NULL), SQLITE_OK);
    /* no range is longer than the span lookups rely on */
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO node_claim_ranges VALUES (1, 5000, 1, 1, 1)", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims"), 10);
    exec_ok(f->s, "UPDATE node_claims SET created = 2 WHERE node_id = 3");
    exec_ok(f->s, "DELETE FROM node_claims WHERE node_id = 4");
    assert_sql_text(f->s, "SELECT group_concat(node_id || ':' || created) FROM "
                          "(SELECT * FROM node_claims ORDER BY node_id)", "1:1,2:1,3:2,5:1,6:1,7:1,8:1,9:1,10:1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loads_write_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(deletes_split_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_replaces_range_and_row_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(changed_claims_leave_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(matched_nodes_claimed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(show_pages_match_the_view, setup, teardown),
        cmocka_unit_test_setup_teardown(retracts_in_both_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(views_refuse_other_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
