/*
 * tests/unit/test_bulk_load.c - graph/bulk_load.c on its own: the props text
 * it writes is the store's canonical text (every escape, non-ASCII), the maps
 * resolve names and aliases like graph_node_put, an undone load leaves every
 * table, index and count as it was, ambiguous names are refused, foreign keys
 * are enforced again after a load however it ends, a row remembered as
 * changing nothing is forgotten once the node changes, and rows
 * resolved by index probes get the answers the maps give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "bulk_load.h"
#include "bulk_map.h"
#include "provenance.h"
#include "bulk_fixture.h"

/* One integer from SQL (counts). */
/* The props text of node id as stored. */
static char *node_props(graph_store *s, int64_t id)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), "SELECT props FROM nodes WHERE id = ?1", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return text;
}

/* The stored text equals jansson's canonical dump of the same object, escapes included. */
static void props_text_is_canonical(void **state)
{
    fixture *f = *state;
    graph_bulk *b = bulk_start(f->s);
    char all[40];
    for (int i = 0; i < 31; i++) all[i] = (char)(i + 1);   /* every control character */
    all[31] = '"';
    all[32] = '\\';
    all[33] = '/';
    strcpy(all + 34, "\x7f\xc3\xa9");
    graph_bulk_prop props[] = {{"a\"key", "1", 1}, {"b", "[1.5,\"x\"]", 9}, {"z", "true", 4}};
    const char *labels[] = {"Model"};
    graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = all, .props = props, .nprops = 3};
    int64_t id = 0;
    gs_error err;
    assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    char *stored = node_props(f->s, id);
    json_t *obj = json_loads(stored, 0, NULL);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "name")), all);
    char *canon = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    assert_string_equal(stored, canon);
    free(canon);
    json_decref(obj);
    free(stored);
    /* claims: every property but the name, with the import's counts */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims WHERE kind = 'node'"), 3);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims WHERE key = 'b' AND value = '[1.5,\"x\"]'"), 1);
    prov_counts c;
    assert_int_equal(prov_import_finish(f->s, 0, &c, &err), GS_OK);
    assert_int_equal(c.nodes_created, 1);
    assert_int_equal(c.props_set, 3);
    assert_int_equal(graph_store_commit(f->s, &err), GS_OK);
}

/* Names and aliases resolve like node.put (case, NFKC); an undone load leaves nothing behind. */
static void identity_and_undo(void **state)
{
    fixture *f = *state;
    graph_bulk *b = bulk_start(f->s);
    gs_error err;
    const char *labels[] = {"Model"};
    const char *alias[] = {"v3-id"};
    graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = "DeepSeek-V3", .aliases = alias, .naliases = 1};
    int64_t a = 0, b2 = 0, c2 = 0, d = 0;
    assert_int_equal(graph_bulk_node(b, &row, &a, &err), GS_OK);
    graph_bulk_node_row by_case = {.labels = labels, .nlabels = 1, .name = "ＤＥＥＰＳＥＥＫ-v3"};
    assert_int_equal(graph_bulk_node(b, &by_case, &b2, &err), GS_OK);
    graph_bulk_node_row by_alias = {.labels = labels, .nlabels = 1, .name = " V3-ID "};
    assert_int_equal(graph_bulk_node(b, &by_alias, &c2, &err), GS_OK);
    assert_int_equal(a, b2);
    assert_int_equal(a, c2);
    const char *paper[] = {"Paper"};
    graph_bulk_node_row other_label = {.labels = paper, .nlabels = 1, .name = "DeepSeek-V3"};
    assert_int_equal(graph_bulk_node(b, &other_label, &d, &err), GS_OK);
    assert_true(d != a);
    assert_int_equal(graph_bulk_rel(b, a, "BASED_ON", d, NULL, 0, NULL, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 2);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM sqlite_schema WHERE name = 'rels_start'"), 0);   /* deferred */
    assert_int_equal(graph_bulk_end(b, false, &err), GS_OK);   /* undo */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_fts"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                   "('rels_start', 'rels_end', 'nodes_name_key', 'aliases_key', 'node_labels_label')"),
                     5);
    prov_counts c;
    assert_int_equal(prov_import_finish(f->s, 0, &c, &err), GS_OK);
    assert_int_equal(c.nodes_created, 0);   /* the undone load's counts are gone too */
    assert_int_equal(c.rels_created, 0);
    graph_store_rollback(f->s);
}

/* The connection's foreign-key enforcement (1 on, 0 off). */
static int fk_enforced(graph_store *s)
{
    int on = -1;
    assert_int_equal(sqlite3_db_config(graph_store_db(s), SQLITE_DBCONFIG_ENABLE_FKEY, -1, &on), SQLITE_OK);
    return on;
}

/* Tries a relationship whose end is not a node with plain SQL: SQLITE_CONSTRAINT while enforcement is on. */
static int dangling_rel_rc(graph_store *s)
{
    return sqlite3_exec(graph_store_db(s), "INSERT INTO rels(type, start, end) VALUES ('X', 999999, 999998)", NULL,
                        NULL, NULL) & 0xff;   /* the store turns on extended codes */
}

/* A load does not enforce foreign keys (its rows name nodes it knows exist) and
 * turns enforcement back on however it ends; what it wrote passes the check. */
static void foreign_keys_off_only_during_a_load(void **state)
{
    fixture *f = *state;
    gs_error err;
    const char *labels[] = {"Model"};
    const char *alias[] = {"b-alias"};
    assert_int_equal(fk_enforced(f->s), 1);
    for (int keep = 0; keep < 2; keep++) {
        graph_bulk *b = bulk_start(f->s);
        assert_int_equal(fk_enforced(f->s), 0);
        graph_bulk_node_row ra = {.labels = labels, .nlabels = 1, .name = "A"};
        graph_bulk_node_row rb = {.labels = labels, .nlabels = 1, .name = "B", .aliases = alias, .naliases = 1};
        int64_t a = 0, b2 = 0;
        assert_int_equal(graph_bulk_node(b, &ra, &a, &err), GS_OK);
        assert_int_equal(graph_bulk_node(b, &rb, &b2, &err), GS_OK);
        assert_int_equal(graph_bulk_rel(b, a, "BASED_ON", b2, NULL, 0, NULL, &err), GS_OK);
#ifndef NDEBUG
        /* debug builds check the caller's promise that both ends are nodes */
        assert_int_equal(graph_bulk_rel(b, a, "BASED_ON", b2 + 100, NULL, 0, NULL, &err), GS_INVALID);
        assert_non_null(strstr(err.msg, "is not a node"));
#endif
        assert_int_equal(graph_bulk_end(b, keep, &err), GS_OK);
        assert_int_equal(fk_enforced(f->s), 1);
        assert_int_equal(dangling_rel_rc(f->s), SQLITE_CONSTRAINT);
        assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rels"), keep);
        assert_int_equal(sql_int(f->s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
        prov_import_stop(f->s);
        if (keep) assert_int_equal(graph_store_commit(f->s, &err), GS_OK);
        else graph_store_rollback(f->s);
    }
    /* a load that fails to start leaves enforcement on too (no import running) */
    graph_bulk *none = NULL;
    assert_int_equal(graph_store_begin(f->s, &err), GS_OK);
    assert_int_equal(graph_bulk_begin(f->s, &none, &err), GS_INVALID);
    assert_int_equal(fk_enforced(f->s), 1);
    graph_store_rollback(f->s);
}

/* One property of node id as stored (json_extract's text), for the memo test. */
static int64_t node_prop_int(graph_store *s, int64_t id, const char *key)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT json_extract(props, '$.%s') FROM nodes WHERE id = %lld", key, (long long)id);
    return sql_int(s, sql);
}

/* A row found changing nothing is remembered per node (no read the next time),
 * and forgotten when a later row changes the node: the same row then changes
 * it back, as graph_node_put would. */
static void unchanged_rows_are_remembered_until_the_node_changes(void **state)
{
    fixture *f = *state;
    graph_bulk *b = bulk_start(f->s);
    gs_error err;
    const char *labels[] = {"Model"};
    graph_bulk_prop one[] = {{"x", "1", 1}}, two[] = {{"x", "2", 1}};
    graph_bulk_node_row r1 = {.labels = labels, .nlabels = 1, .name = "M", .props = one, .nprops = 1};
    graph_bulk_node_row r2 = {.labels = labels, .nlabels = 1, .name = "M", .props = two, .nprops = 1};
    int64_t id = 0, again = 0;
    assert_int_equal(graph_bulk_node(b, &r1, &id, &err), GS_OK);       /* created */
    for (int i = 0; i < 2; i++) {                                       /* read, then remembered */
        assert_int_equal(graph_bulk_node(b, &r1, &again, &err), GS_OK);
        assert_int_equal(again, id);
        assert_int_equal(node_prop_int(f->s, id, "x"), 1);
    }
    assert_int_equal(graph_bulk_node(b, &r2, &again, &err), GS_OK);    /* changes the node */
    assert_int_equal(node_prop_int(f->s, id, "x"), 2);
    assert_int_equal(graph_bulk_node(b, &r1, &again, &err), GS_OK);    /* not "unchanged" from memory */
    assert_int_equal(node_prop_int(f->s, id, "x"), 1);
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_import_stop(f->s);
    graph_store_rollback(f->s);
}

/* The memo on its own: per id from its base, exact texts, forget, and a full arena remembers nothing more. */
static void memo_keeps_exact_texts_within_its_cap(void **state)
{
    (void)state;
    bulk_memo m = {.base = 100};
    bulk_memo_set(&m, 99, "a", 1);   /* below the base: ignored */
    assert_false(bulk_memo_has(&m, 99, "a", 1));
    bulk_memo_set(&m, 100, "x\0001", 3);
    bulk_memo_set(&m, 5000, "y", 1);
    assert_true(bulk_memo_has(&m, 100, "x\0001", 3));
    assert_false(bulk_memo_has(&m, 100, "x\0002", 3));
    assert_false(bulk_memo_has(&m, 100, "x", 1));
    assert_true(bulk_memo_has(&m, 5000, "y", 1));
    assert_false(bulk_memo_has(&m, 4999, "y", 1));
    bulk_memo_forget(&m, 5000);
    assert_false(bulk_memo_has(&m, 5000, "y", 1));
    static char big[1 << 20];
    memset(big, 'z', sizeof big);
    int64_t id = 200;
    while (m.len + sizeof(uint32_t) + sizeof big <= BULK_MEMO_MAX_BYTES) bulk_memo_set(&m, id++, big, sizeof big);
    assert_true(bulk_memo_has(&m, id - 1, big, sizeof big));
    bulk_memo_set(&m, id, big, sizeof big);   /* past the cap: not remembered */
    assert_false(bulk_memo_has(&m, id, big, sizeof big));
    assert_true(m.len <= BULK_MEMO_MAX_BYTES);
    bulk_memo_free(&m);
}

/* Two nodes sharing an alias: a row naming it is refused, as node.put refuses it. */
static void ambiguous_alias_is_refused(void **state)
{
    fixture *f = *state;
    graph_bulk *b = bulk_start(f->s);
    gs_error err;
    const char *labels[] = {"Model"};
    const char *alias[] = {"x"};
    graph_bulk_node_row one = {.labels = labels, .nlabels = 1, .name = "A", .aliases = alias, .naliases = 1};
    graph_bulk_node_row two = {.labels = labels, .nlabels = 1, .name = "B", .aliases = alias, .naliases = 1};
    graph_bulk_node_row ref = {.labels = labels, .nlabels = 1, .name = "X"};
    int64_t id = 0;
    assert_int_equal(graph_bulk_node(b, &one, &id, &err), GS_OK);
    assert_int_equal(graph_bulk_node(b, &two, &id, &err), GS_OK);
    assert_int_equal(graph_bulk_node(b, &ref, &id, &err), GS_AMBIGUOUS);
    assert_non_null(strstr(err.msg, "matches 2 nodes by alias"));
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM aliases WHERE alias_key = 'x'"), 2);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM alias_claims"), 2);
    graph_store_rollback(f->s);
}

/* The search columns of every node, in id order, as one text (to compare two stores). */
static char *fts_dump(graph_store *s)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s),
                                        "SELECT group_concat(rowid || ':' || name || '|' || aliases || '|' || body, ';') "
                                        "FROM (SELECT rowid, * FROM node_fts ORDER BY rowid)", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    return text;
}

/* Orders ids for qsort. */
static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The ids search finds for text as "1,2,3": in the order found, or sorted. */
static void search_ids_as(graph_store *s, const char *text, bool sorted, char *buf, size_t n)
{
    json_t *hits = NULL;
    gs_error err;
    assert_int_equal(graph_search(s, text, 50, &hits, &err), GS_OK);
    int64_t ids[64];
    size_t k = 0, i;
    json_t *h;
    json_array_foreach(hits, i, h) {
        if (k < 64) ids[k++] = json_integer_value(json_object_get(json_object_get(h, "$node"), "id"));
    }
    json_decref(hits);
    if (sorted) qsort(ids, k, sizeof *ids, id_cmp);
    buf[0] = '\0';
    for (i = 0; i < k; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%lld", i ? "," : "", (long long)ids[i]);
    }
}

static void search_ids(graph_store *s, const char *text, char *buf, size_t n) { search_ids_as(s, text, false, buf, n); }

/* Loads 40 models (one with an alias) into s in one import. */
static void load_models(graph_store *s)
{
    graph_bulk *b = bulk_start(s);
    gs_error err;
    const char *labels[] = {"Model"};
    const char *alias[] = {"Tiny Alias"};
    char name[32], tag[40], json[48];
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof name, "org/Model-%02d", i);
        snprintf(tag, sizeof tag, i % 10 == 0 ? "round-%d" : "tag-%d", i);
        snprintf(json, sizeof json, "\"%s\"", tag);
        const char *strings[] = {tag};
        graph_bulk_prop props[] = {{"tag", json, strlen(json)}};
        graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = name, .props = props, .nprops = 1,
                                   .strings = strings, .nstrings = 1, .aliases = i == 7 ? alias : NULL,
                                   .naliases = i == 7 ? 1 : 0};
        int64_t id;
        assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
    }
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_counts c;
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
}

/* A load past search_defer_nodes writes no search rows; it records its ids in the
 * backlog. Search gives the same answers before the rows are filled (it scans
 * the backlog's nodes), the filling writes exactly the rows an immediate load
 * writes, a change or a delete meanwhile is honoured, and an undone load leaves
 * no backlog. */
static void search_backlog(void **state)
{
    fixture *f = *state;
    graph_store_options deferred = {.search_defer_nodes = 10};
    fixture *g = NULL;
    assert_int_equal(fixture_open((void **)&g, &deferred), 0);
    load_models(f->s);   /* the default: 40 nodes are written with their rows */
    load_models(g->s);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM search_backlog"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_fts"), 40);
    assert_int_equal(sql_int(g->s, "SELECT count(*) FROM node_fts"), 0);
    assert_int_equal(sql_int(g->s, "SELECT count(*) FROM search_backlog WHERE lo = 1 AND hi = 40"), 1);
    /* the same nodes from the index and from the backlog's scan (the order of equally good
     * hits may differ: the scan has no bm25); exact names and aliases first either way */
    const char *queries[] = {"model-07", "tiny alias", "round", "tag-3", "org/", "7", "no such text"};
    char a[512], b[512];
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        search_ids_as(f->s, queries[i], true, a, sizeof a);
        search_ids_as(g->s, queries[i], true, b, sizeof b);
        if (strcmp(a, b) != 0) fail_msg("search %s: indexed %s, backlog %s", queries[i], a, b);
    }
    search_ids(g->s, "model-07", b, sizeof b);
    assert_string_equal(b, "7");
    search_ids(g->s, "tiny alias", b, sizeof b);
    assert_string_equal(b, "7");
    search_ids(g->s, "org/model-1", b, sizeof b);
    assert_string_equal(b, "10,11,12,13,14,15,16,17,18,19");
    search_ids(g->s, "org/model-10", b, sizeof b);   /* the exact name before the names holding it */
    assert_string_equal(b, "10");
    search_ids(g->s, "round", b, sizeof b);
    assert_string_equal(b, "10,20,30,40");
    /* a change and a delete while the rows are missing */
    gs_error err;
    const char *labels[] = {"Model"};
    json_t *props = json_pack("{s:s}", "tag", "renamed-tag");
    assert_int_equal(graph_node_put(g->s, labels, 1, "org/Model-05", props, NULL, NULL, NULL, &err), GS_OK);
    assert_int_equal(graph_node_put(f->s, labels, 1, "org/Model-05", props, NULL, NULL, NULL, &err), GS_OK);
    json_decref(props);
    assert_int_equal(graph_node_delete(g->s, 6, true, NULL, &err), GS_OK);
    assert_int_equal(graph_node_delete(f->s, 6, true, NULL, &err), GS_OK);
    search_ids(g->s, "renamed", b, sizeof b);
    assert_string_equal(b, "5");
    search_ids(g->s, "model-06", b, sizeof b);
    assert_string_equal(b, "");
    /* filling, 15 ids a step */
    int64_t left = -1, done = 0, total = 0;
    int steps = 0;
    do {
        assert_int_equal(graph_search_backlog_step(g->s, 15, &done, &left, &err), GS_OK);
        total += done;
        steps++;
    } while (left > 0 && steps < 10);
    assert_int_equal(steps, 3);
    assert_int_equal(total, 40);
    assert_int_equal(sql_int(g->s, "SELECT count(*) FROM search_backlog"), 0);
    char *fa = fts_dump(f->s), *fb = fts_dump(g->s);
    assert_string_equal(fa, fb);
    free(fa);
    free(fb);
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {   /* now the same order too */
        search_ids(f->s, queries[i], a, sizeof a);
        search_ids(g->s, queries[i], b, sizeof b);
        if (strcmp(a, b) != 0) fail_msg("search %s after filling: %s against %s", queries[i], b, a);
    }
    assert_int_equal(graph_search_backlog_step(g->s, 15, &done, &left, &err), GS_OK);   /* nothing to do */
    assert_int_equal(left, 0);
    assert_int_equal(done, 0);
    /* an undone load records no backlog */
    graph_bulk *bl = bulk_start(g->s);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "undone-%d", i);
        graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = name};
        int64_t id;
        assert_int_equal(graph_bulk_node(bl, &row, &id, &err), GS_OK);
    }
    assert_int_equal(graph_bulk_end(bl, false, &err), GS_OK);
    graph_store_rollback(g->s);
    assert_int_equal(sql_int(g->s, "SELECT count(*) FROM search_backlog"), 0);
    void *gs = g;
    fixture_close(&gs);
}

/* Every table a load writes, for tables_dump (test_bulk_load's view of the imports row: with warnings). */
static const char *const load_tables[] = {"nodes", "node_labels", "aliases", "rels", "node_claims",
                                          "node_claim_ranges", "alias_claims", "prop_claims", "node_fts",
                                          "(SELECT id, nodes, relationships, properties, warnings FROM imports)"};

/* One row of the script probes_and_maps_agree runs. */
typedef struct script_row {
    const char *labels[2];
    const char *name, *alias, *prop;   /* alias, prop (a JSON value for key "x") may be NULL */
} script_row;

/* Runs the script in one load on s with `probes` rows resolved by index probes
 * (graph_bulk_set_probe_rows), writes "status:id" per row into got, the tables
 * into *dump, and undoes everything. */
static void run_script(graph_store *s, const script_row *rows, size_t nrows, int64_t probes, char *got, size_t n,
                       char **dump)
{
    graph_bulk *b = bulk_start(s);
    graph_bulk_set_probe_rows(b, probes);
    got[0] = '\0';
    for (size_t i = 0; i < nrows; i++) {
        const script_row *r = &rows[i];
        graph_bulk_prop prop = {"x", r->prop, r->prop ? strlen(r->prop) : 0};
        graph_bulk_node_row row = {.labels = r->labels, .nlabels = r->labels[1] ? 2 : 1, .name = r->name,
                                   .props = r->prop ? &prop : NULL, .nprops = r->prop ? 1 : 0,
                                   .aliases = r->alias ? &r->alias : NULL, .naliases = r->alias ? 1 : 0};
        int64_t id = 0;
        gs_error err;
        gs_status st = graph_bulk_node(b, &row, &id, &err);
        size_t used = strlen(got);
        snprintf(got + used, n - used, "%s%d:%lld", i ? " " : "", (int)st, st == GS_OK ? (long long)id : 0LL);
    }
    gs_error err;
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_counts c;
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    *dump = tables_dump(s, load_tables, sizeof load_tables / sizeof *load_tables);
    graph_store_rollback(s);
}

/* A load on a graph that was not empty resolves its first rows with index
 * probes, then reads the labels into its maps: every row gets the same answer
 * (node, creation, ambiguity) and the tables end the same whether a row is
 * resolved by probe, by map, or the load switches in the middle. */
static void probes_and_maps_agree(void **state)
{
    fixture *f = *state;
    /* the stored graph: an alias two models share, a name two nodes with label
     * Model share (one's identity label is Paper), a node with two labels */
    graph_bulk *b = bulk_start(f->s);
    gs_error err;
    const script_row stored[] = {
        {{"Model"}, "A", "shared", NULL},      {{"Model"}, "B", "shared", NULL}, {{"Model"}, "C", "c-alias", NULL},
        {{"Paper"}, "A", NULL, NULL},          {{"Model", "Base"}, "D", NULL, NULL}, {{"Model"}, "Q", NULL, NULL},
        {{"Paper", "Model"}, "Q", NULL, NULL}, {{"Model"}, "\xef\xbc\xa5-wide", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof stored / sizeof *stored; i++) {
        const script_row *r = &stored[i];
        graph_bulk_node_row row = {.labels = r->labels, .nlabels = r->labels[1] ? 2 : 1, .name = r->name,
                                   .aliases = r->alias ? &r->alias : NULL, .naliases = r->alias ? 1 : 0};
        int64_t id;
        assert_int_equal(graph_bulk_node(b, &row, &id, &err), GS_OK);
        assert_int_equal(id, (int64_t)i + 1);
    }
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_counts c;
    assert_int_equal(prov_import_finish(f->s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(f->s, &err), GS_OK);

    const script_row script[] = {
        {{"Model"}, " a ", NULL, NULL},          /* 1: by name, case and spaces */
        {{"Model"}, "SHARED", NULL, NULL},       /* 2: an alias of two nodes: ambiguous */
        {{"Model"}, "c-alias", NULL, NULL},      /* 3: by alias */
        {{"Paper"}, "a", NULL, NULL},            /* 4: the other label's A */
        {{"Base"}, "d", NULL, NULL},             /* 5: by its second label */
        {{"Model"}, "q", NULL, NULL},            /* 6: a name two Model nodes share: ambiguous */
        {{"Model"}, "E-WIDE", NULL, NULL},       /* 7: NFKC of the stored full-width name */
        {{"Model"}, "New", "n-alias", NULL},     /* 8: created */
        {{"Model"}, "N-ALIAS", NULL, NULL},      /* 9: the created node, by its alias */
        {{"Model"}, "B2", "c-alias", NULL},      /* 10: created, sharing C's alias */
        {{"Model"}, "c-alias", NULL, NULL},      /* 11: now ambiguous */
        {{"Model"}, "A", NULL, "1"},             /* 12: a change of a stored node (graph_node_put) */
        {{"Tag", "Model"}, "new", NULL, NULL},   /* 13: a Tag named like the created Model, Model label too */
        {{"Model"}, "new", NULL, NULL},          /* 14: two Model nodes named new now: ambiguous */
        {{"Tag"}, "NEW", NULL, "2"},             /* 15: the Tag, changed */
        {{"Base"}, "D", NULL, NULL},             /* 16: D again (claimed once) */
    };
    const size_t nrows = sizeof script / sizeof *script;
    char probed[512], mapped[512], switched[512];
    char *dump_probed = NULL, *dump_mapped = NULL, *dump_switched = NULL;
    run_script(f->s, script, nrows, 1000, probed, sizeof probed, &dump_probed);
    run_script(f->s, script, nrows, 0, mapped, sizeof mapped, &dump_mapped);
    assert_string_equal(probed,
                        "0:1 2:0 0:3 0:4 0:5 2:0 0:8 0:9 0:9 0:10 2:0 0:1 0:11 2:0 0:11 0:5");
    assert_string_equal(mapped, probed);
    assert_string_equal(dump_mapped, dump_probed);
    for (int64_t k = 1; k < (int64_t)nrows; k++) {   /* the switch after every row in turn */
        run_script(f->s, script, nrows, k, switched, sizeof switched, &dump_switched);
        if (strcmp(switched, probed) != 0) fail_msg("switching after %lld rows: %s", (long long)k, switched);
        assert_string_equal(dump_switched, dump_probed);
        free(dump_switched);
    }
    free(dump_probed);
    free(dump_mapped);
}

static int setup(void **state) { return fixture_open(state, NULL); }
/* No write thread: for tests that read the tables in the middle of a load,
 * which only the load itself may do while INSERTs are queued (test_bulk_behind.c
 * runs the same paths with the thread). */
static int setup_inline(void **state)
{
    graph_store_options o = {.bulk_write_queue_bytes = -1};
    return fixture_open(state, &o);
}
static int teardown(void **state) { return fixture_close(state); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(props_text_is_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(identity_and_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(ambiguous_alias_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_keys_off_only_during_a_load, setup, teardown),
        cmocka_unit_test_setup_teardown(unchanged_rows_are_remembered_until_the_node_changes, setup_inline, teardown),
        cmocka_unit_test(memo_keeps_exact_texts_within_its_cap),
        cmocka_unit_test_setup_teardown(search_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(probes_and_maps_agree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
