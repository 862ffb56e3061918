/*
 * tests/unit/test_export_page.c - graph/export_page.h, the pages ctx:nodes and
 * ctx:rels hand to exporters.
 *
 * Differential: every page of every kind of read (nodes, relationships, with
 * and without a label or type filter, dense and sparse, with and without
 * claims) is checked entity by entity against one-entity SQL reads of the same
 * tables and views, on a graph with what makes pages differ: a bulk import
 * (implicit property claims, claim ranges), a row-by-row import that updates
 * some of its nodes and adds labels and aliases, a direct write, a deleted
 * node and relationship (gaps in the ids), nodes with two labels in either
 * order. Then the byte cap: pages of big props stop early and lose nothing.
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
#include "export_page.h"
#include "provenance.h"
#include "store.h"
#include "store_fixture.h"

#define NMODELS 700

static int setup(void **state) { return fixture_open(state, NULL); }
static int teardown(void **state) { return fixture_close(state); }

/* A growable text the expected and seen descriptions of an entity are written into. */
typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    while (t->cap - t->len < (size_t)n + 1) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Appends every row of sql (bound to id) as "c0:c1:...;" to t. */
static void sql_rows(graph_store *s, text *t, const char *sql, int64_t id) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++)
            text_add(t, "%s%s", c ? ":" : "", (const char *)sqlite3_column_text(st, c));
        text_add(t, ";");
    }
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
}

/* What one-entity reads say of entity id, in the shape describe_page writes. */
static void describe_sql(graph_store *s, bool rels, int64_t id, bool claims, text *t) {
    text_add(t, "#%lld ", (long long)id);
    if (rels) {
        sql_rows(s, t, "SELECT type, start, end, props FROM rels WHERE id = ?1", id);
    } else {
        sql_rows(s, t, "SELECT props FROM nodes WHERE id = ?1", id);
        text_add(t, " L=");
        sql_rows(s, t, "SELECT label FROM node_labels WHERE node_id = ?1 ORDER BY pos", id);
        text_add(t, " A=");
        sql_rows(s, t, "SELECT alias FROM aliases WHERE node_id = ?1 ORDER BY rowid", id);
    }
    if (claims) {
        text_add(t, " E=");
        sql_rows(s, t, rels ? "SELECT import_id, CASE created WHEN 1 THEN 'created' WHEN 2 THEN 'updated' "
                              "ELSE 'asserted' END FROM rel_claims WHERE rel_id = ?1 ORDER BY import_id"
                            : "SELECT import_id, CASE created WHEN 1 THEN 'created' WHEN 2 THEN 'updated' "
                              "ELSE 'asserted' END FROM node_claims WHERE node_id = ?1 ORDER BY import_id", id);
        text_add(t, " P=");
        sql_rows(s, t, rels ? "SELECT import_id, key, value FROM prop_claims WHERE kind = 'rel' AND entity_id = ?1 "
                              "ORDER BY key, seq"
                            : "SELECT import_id, key, value FROM prop_claims WHERE kind = 'node' AND entity_id = ?1 "
                              "ORDER BY key, seq", id);
        if (!rels) {
            text_add(t, " C=");
            sql_rows(s, t, "SELECT c.import_id, a.alias FROM alias_claims c JOIN aliases a ON a.node_id = c.node_id "
                           "AND a.alias_key = c.alias_key WHERE c.node_id = ?1 ORDER BY a.rowid, c.import_id", id);
        }
    }
    text_add(t, "\n");
}

/* Page entity k in describe_sql's shape. */
static void describe_page(const graph_page *pg, bool rels, int k, bool claims, text *t) {
    const graph_page_ent *e = &pg->ent[k];
    text_add(t, "#%lld ", (long long)e->id);
    if (rels)
        text_add(t, "%s:%lld:%lld:%s;", graph_page_str(pg, e->type, NULL), (long long)e->start, (long long)e->end,
                 graph_page_str(pg, e->props, NULL));
    else {
        text_add(t, "%s; L=", graph_page_str(pg, e->props, NULL));
        for (uint32_t i = 0; i < e->nlabels; i++) text_add(t, "%s;", graph_page_str(pg, e->labels + i, NULL));
        text_add(t, " A=");
        for (uint32_t i = 0; i < e->naliases; i++) text_add(t, "%s;", graph_page_str(pg, e->aliases + i, NULL));
    }
    if (claims) {
        const graph_page_claim *c;
        text_add(t, " E=");
        for (uint32_t i = 0; i < e->nclaims[GRAPH_CLAIM_ENTITY]; i++) {
            c = &pg->claims[GRAPH_CLAIM_ENTITY][e->claims[GRAPH_CLAIM_ENTITY] + i];
            text_add(t, "%lld:%s;", (long long)c->import, c->effect);
        }
        text_add(t, " P=");
        for (uint32_t i = 0; i < e->nclaims[GRAPH_CLAIM_PROPERTY]; i++) {
            c = &pg->claims[GRAPH_CLAIM_PROPERTY][e->claims[GRAPH_CLAIM_PROPERTY] + i];
            text_add(t, "%lld:%s:%s;", (long long)c->import, graph_page_str(pg, c->key, NULL),
                     graph_page_str(pg, c->value, NULL));
        }
        if (!rels) {
            text_add(t, " C=");
            for (uint32_t i = 0; i < e->nclaims[GRAPH_CLAIM_ALIAS]; i++) {
                c = &pg->claims[GRAPH_CLAIM_ALIAS][e->claims[GRAPH_CLAIM_ALIAS] + i];
                text_add(t, "%lld:%s;", (long long)c->import, graph_page_str(pg, c->alias, NULL));
            }
        } else {
            assert_int_equal(e->nclaims[GRAPH_CLAIM_ALIAS], 0);
        }
    }
    text_add(t, "\n");
}

/* Reads every page of one kind of read and checks it against the one-entity reads;
 * returns how many entities it saw (and how many pages through *npages). */
static int check_pages(graph_store *s, bool rels, const char *filter, bool claims, int *npages) {
    char sql[200];
    if (rels)
        snprintf(sql, sizeof sql, "SELECT id FROM rels %s ORDER BY id", filter ? "WHERE type = ?1" : "");
    else
        snprintf(sql, sizeof sql, filter ? "SELECT node_id FROM node_labels WHERE label = ?1 ORDER BY node_id"
                                         : "SELECT id FROM nodes ORDER BY id");
    text want = {0}, seen = {0};
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (filter) sqlite3_bind_text(st, 1, filter, -1, SQLITE_STATIC);
    int nwant = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        describe_sql(s, rels, sqlite3_column_int64(st, 0), claims, &want);
        nwant++;
    }
    sqlite3_finalize(st);

    graph_page *pg = calloc(1, sizeof *pg);
    assert_non_null(pg);
    gs_error err = {{0}};
    int64_t after = 0;
    int nseen = 0;
    *npages = 0;
    for (;;) {
        assert_int_equal(graph_page_read(s, rels, filter, after, claims, pg, &err), GS_OK);
        assert_true(pg->n <= GRAPH_PAGE_MAX);
        if (pg->n == 0) {
            assert_true(pg->done);
            break;
        }
        (*npages)++;
        for (int k = 0; k < pg->n; k++) {
            assert_true(pg->ent[k].id > after);
            after = pg->ent[k].id;
            describe_page(pg, rels, k, claims, &seen);
            nseen++;
        }
        if (pg->done) break;
    }
    graph_page_free(pg);
    free(pg);
    if (nseen != nwant || strcmp(want.p ? want.p : "", seen.p ? seen.p : "") != 0)
        fprintf(stderr, "%s %s claims=%d:\n--- one-entity reads\n%s--- pages\n%s", rels ? "rels" : "nodes",
                filter ? filter : "(all)", claims, want.p ? want.p : "", seen.p ? seen.p : "");
    assert_int_equal(nseen, nwant);
    assert_string_equal(want.p ? want.p : "", seen.p ? seen.p : "");
    free(want.p);
    free(seen.p);
    return nseen;
}

/* The graph described atop this file. */
static void build_graph(graph_store *s) {
    gs_error err = {{0}};
    int64_t imp = 0, id = 0;
    prov_counts c;
    char name[32], alias[32], val[32];
    /* import 1, a bulk load: models, every other one also Even (second label), some aliases,
     * a BASED_ON tree */
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "bulk.csv", "sha-1", &imp, &err), GS_OK);
    graph_bulk *b = NULL;
    assert_int_equal(graph_bulk_begin(s, &b, &err), GS_OK);
    int64_t ids[NMODELS + 1];
    for (int i = 1; i <= NMODELS; i++) {
        const char *labels[] = {"Model", "Even"};
        snprintf(name, sizeof name, "m%d", i);
        snprintf(alias, sizeof alias, "alias-%d", i);
        snprintf(val, sizeof val, "%d", i);
        const char *aliases[] = {alias};
        graph_bulk_prop props[] = {{"n", val, strlen(val)}, {"s", "\"x\"", 3}};
        graph_bulk_node_row row = {.labels = labels, .nlabels = i % 2 == 0 ? 2 : 1, .name = name, .props = props,
                                   .nprops = 2, .aliases = aliases, .naliases = i % 7 == 0 ? 1 : 0};
        assert_int_equal(graph_bulk_node(b, &row, &ids[i], &err), GS_OK);
    }
    graph_bulk_prop rp[] = {{"relation", "\"finetune\"", 10}};
    for (int i = 2; i <= NMODELS; i++)
        assert_int_equal(graph_bulk_rel(b, ids[i], "BASED_ON", ids[i / 2], rp, 1, NULL, &err), GS_OK);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);

    /* import 2, row by row: updates (a second property claim, "updated"), names that are
     * already there (asserted), a sparse label, aliases, papers citing models */
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "rows.jsonl", "sha-2", &imp, &err), GS_OK);
    for (int i = 10; i <= 40; i++) {
        const char *labels[] = {"Model"};
        snprintf(name, sizeof name, "m%d", i);
        json_t *props = json_pack("{s:i,s:s}", "n", i * 10, "t", "new");
        json_t *aliases = i % 3 == 0 ? json_pack("[s,s]", "second", "third") : NULL;
        assert_int_equal(graph_node_put(s, labels, 1, name, props, aliases, &id, NULL, &err), GS_OK);
        json_decref(props);
        json_decref(aliases);
    }
    for (int i = 50; i <= 52; i++) {   /* the values they have: asserted, not updated */
        const char *labels[] = {"Model"};
        snprintf(name, sizeof name, "m%d", i);
        json_t *props = json_pack("{s:i}", "n", i);
        assert_int_equal(graph_node_put(s, labels, 1, name, props, NULL, &id, NULL, &err), GS_OK);
        json_decref(props);
    }
    for (int i = 1; i <= NMODELS; i += 233) {   /* Rare: 4 nodes hundreds of ids apart, Rare first */
        const char *labels[] = {"Model", "Rare"};
        snprintf(name, sizeof name, "m%d", i);
        assert_int_equal(graph_node_put(s, labels, 2, name, NULL, NULL, &id, NULL, &err), GS_OK);
    }
    for (int i = 1; i <= 300; i++) {
        const char *labels[] = {"Paper"};
        snprintf(name, sizeof name, "p%d", i);
        json_t *props = json_pack("{s:s,s:[i,s,n]}", "title", "Ü \"quoted\"\n", "list", i, "x");
        assert_int_equal(graph_node_put(s, labels, 1, name, props, NULL, &id, NULL, &err), GS_OK);
        json_decref(props);
        json_t *rprops = json_pack("{s:i}", "year", 2020 + i % 5);
        assert_int_equal(graph_rel_put(s, id, "CITES", ids[1 + i % NMODELS], rprops, false, NULL, NULL, &err), GS_OK);
        json_decref(rprops);
    }
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);

    /* a direct write (import 0), a deleted node with its relationships, a deleted relationship */
    const char *labels[] = {"Rare", "Model"};
    json_t *props = json_pack("{s:b}", "direct", 1);
    assert_int_equal(graph_node_put(s, labels, 2, "direct-1", props, NULL, &id, NULL, &err), GS_OK);
    json_decref(props);
    int64_t gone = 0;
    assert_int_equal(graph_node_delete(s, ids[300], true, &gone, &err), GS_OK);
    assert_true(gone >= 2);
    int64_t rid = 0;
    assert_int_equal(graph_rel_find(s, ids[501], "BASED_ON", ids[250], &rid, &err), GS_OK);
    assert_int_equal(graph_rel_delete(s, rid, &err), GS_OK);
}

/* Every kind of read, with and without claims, against the one-entity reads. */
static void pages_match_entity_reads(void **state) {
    graph_store *s = ((fixture *)*state)->s;
    build_graph(s);
    gs_error err = {{0}};
    assert_int_equal(graph_store_begin(s, &err), GS_OK);   /* one snapshot, as an export has */
    int pages = 0;
    for (int claims = 0; claims < 2; claims++) {
        assert_int_equal(check_pages(s, false, NULL, claims, &pages), NMODELS - 1 + 300 + 1);
        assert_int_equal(pages, 4);
        assert_int_equal(check_pages(s, false, "Model", claims, &pages), NMODELS - 1 + 1);
        assert_int_equal(check_pages(s, false, "Even", claims, &pages), NMODELS / 2 - 1);   /* dense: ranges */
        assert_int_equal(pages, 2);
        assert_int_equal(check_pages(s, false, "Rare", claims, &pages), 4 + 1);   /* sparse: one node at a time */
        assert_int_equal(check_pages(s, false, "Paper", claims, &pages), 300);
        assert_int_equal(check_pages(s, false, "Nothing", claims, &pages), 0);
        assert_int_equal(pages, 0);
        /* m300 took 3 BASED_ON and p299's CITES with it; one BASED_ON was deleted */
        assert_int_equal(check_pages(s, true, NULL, claims, &pages), NMODELS - 1 - 3 - 1 + 299);
        assert_int_equal(check_pages(s, true, "CITES", claims, &pages), 299);
        assert_int_equal(check_pages(s, true, "NONE", claims, &pages), 0);
    }
    /* the graph has every case the comparison is meant to cover */
    assert_true(sql_int(s, "SELECT count(*) FROM prop_claim_rows") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM node_claims WHERE props_implicit = 1") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM node_claims WHERE created = 2") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM node_claims WHERE created = 0") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM node_claims WHERE import_id = 0") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM alias_claims WHERE import_id = 2") > 0);
    assert_true(sql_int(s, "SELECT count(*) FROM node_labels WHERE label = 'Rare' AND pos = 0") > 0);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
}

/* Big props: a page stops once its text passes GRAPH_PAGE_BYTES, and the next one
 * goes on from there; nothing is skipped or handed out twice. */
static void big_props_split_pages(void **state) {
    graph_store *s = ((fixture *)*state)->s;
    gs_error err = {{0}};
    size_t big = 1u << 20;
    char *v = malloc(big + 1);
    assert_non_null(v);
    const char *labels[] = {"Blob"};
    for (int i = 0; i < 20; i++) {
        memset(v, 'a' + i, big);
        v[big] = '\0';
        json_t *props = json_pack("{s:s}", "v", v);
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        assert_int_equal(graph_node_put(s, labels, 1, name, props, NULL, NULL, NULL, &err), GS_OK);
        json_decref(props);
    }
    free(v);
    int pages = 0;
    assert_int_equal(check_pages(s, false, NULL, true, &pages), 20);
    assert_int_equal(pages, 3);   /* 8 + 8 + 4: the ninth MiB would pass the cap */
    graph_page *pg = calloc(1, sizeof *pg);
    assert_int_equal(graph_page_read(s, false, "Blob", 0, false, pg, &err), GS_OK);
    assert_int_equal(pg->n, 8);
    assert_false(pg->done);
    assert_true(pg->len > GRAPH_PAGE_BYTES && pg->len < GRAPH_PAGE_BYTES + (2u << 20));
    json_t *props = graph_page_props(pg, 7, &err);
    assert_non_null(props);
    assert_int_equal(json_string_length(json_object_get(props, "v")), big);
    assert_int_equal(json_string_value(json_object_get(props, "v"))[0], 'a' + 7);
    json_decref(props);
    graph_page_free(pg);
    free(pg);
}

/* An empty graph has one empty, final page of each kind. */
static void empty_graph_has_no_pages(void **state) {
    graph_store *s = ((fixture *)*state)->s;
    gs_error err = {{0}};
    graph_page pg = {0};
    for (int rels = 0; rels < 2; rels++) {
        pg.done = false;
        assert_int_equal(graph_page_read(s, rels, NULL, 0, true, &pg, &err), GS_OK);
        assert_int_equal(pg.n, 0);
        assert_true(pg.done);
    }
    graph_page_free(&pg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pages_match_entity_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(big_props_split_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_graph_has_no_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
