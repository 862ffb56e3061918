/*
 * tests/unit/test_store_provenance.c - graph/ provenance: imports claim what
 * they write, conflicting claims are both kept and the latest is shown,
 * retract undoes exactly one import, re-imports are found, and a v1 database
 * migrates to the current version.
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

#include "provenance.h"
#include "store.h"
#include "store_fixture.h"

static int setup(void **state) { return fixture_open(state, NULL); }
static int teardown(void **state) { return fixture_close(state); }

/* One import in one transaction: put the nodes named in props_json (Model
 * label), with props; plus a USES rel from the first to the second if given. */
static int64_t import(graph_store *s, const char *sha, const char *a, const char *a_props, const char *b,
                      const char *alias) {
    gs_error err = {{0}};
    int64_t imp = 0, ida = 0, idb = 0;
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "input.txt", sha, &imp, &err), GS_OK);
    const char *labels[] = {"Model"};
    json_t *props = a_props ? json_loads(a_props, 0, NULL) : NULL;
    json_t *aliases = alias ? json_pack("[s]", alias) : NULL;
    assert_int_equal(graph_node_put(s, labels, 1, a, props, aliases, &ida, NULL, &err), GS_OK);
    json_decref(props);
    json_decref(aliases);
    if (b) {
        assert_int_equal(graph_node_put(s, labels, 1, b, NULL, NULL, &idb, NULL, &err), GS_OK);
        assert_int_equal(graph_rel_put(s, ida, "USES", idb, NULL, false, NULL, NULL, &err), GS_OK);
    }
    prov_counts c;
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
    return imp;
}

/* The value of property key of the Model named name, as JSON text (malloc'd), or NULL. */
static char *prop_of(graph_store *s, const char *name, const char *key) {
    gs_error err = {{0}};
    int64_t id;
    if (graph_node_find(s, "Model", name, &id, &err) != GS_OK) return NULL;
    json_t *n = NULL;
    assert_int_equal(graph_node_get(s, id, &n, &err), GS_OK);
    json_t *v = json_object_get(json_object_get(json_object_get(n, "$node"), "properties"), key);
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    json_decref(n);
    return text;
}

static void assert_prop(graph_store *s, const char *name, const char *key, const char *expected) {
    char *got = prop_of(s, name, key);
    if (!expected) assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, expected);
    }
    free(got);
}

static void test_claims_recorded(void **state) {
    fixture *f = *state;
    int64_t imp = import(f->s, "aa", "V3", "{\"params\":671}", "MLA", "DeepSeek V3");
    assert_true(imp > 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE import_id = 1"), 2);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE import_id = 1 AND created = 1"), 2);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rel_claims WHERE import_id = 1"), 1);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM alias_claims WHERE import_id = 1"), 1);
    /* params of V3 (a name passed as the name argument is identity, not a claimed property) */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims WHERE import_id = 1"), 1);
    assert_int_equal(sql_int(f->s, "SELECT nodes FROM imports WHERE id = 1"), 2);
    assert_int_equal(sql_int(f->s, "SELECT relationships FROM imports WHERE id = 1"), 1);
    gs_error err = {{0}};
    json_t *show = NULL;
    assert_int_equal(prov_import_show(f->s, imp, 100, &show, &err), GS_OK);
    assert_int_equal(json_array_size(json_object_get(show, "nodes")), 2);
    assert_int_equal(json_array_size(json_object_get(show, "relationships")), 1);
    assert_int_equal(json_array_size(json_object_get(show, "aliases")), 1);
    json_decref(show);
    assert_int_equal(prov_import_show(f->s, 99, 100, &show, &err), GS_NOT_FOUND);
    /* a direct write claims with import 0 */
    const char *labels[] = {"Model"};
    int64_t id;
    assert_int_equal(graph_node_put(f->s, labels, 1, "Direct", NULL, NULL, &id, NULL, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims WHERE import_id = 0"), 1);
}

static void test_conflict_latest_shown_retract_restores(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t a = import(f->s, "aa", "V3", "{\"params\":671,\"ctx\":128}", NULL, NULL);
    int64_t b = import(f->s, "bb", "V3", "{\"params\":685}", NULL, NULL);
    assert_prop(f->s, "V3", "params", "685");            /* most recent wins */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims WHERE key = 'params'"), 2);  /* both kept */
    json_t *claims = NULL;
    int64_t id;
    assert_int_equal(graph_node_find(f->s, "Model", "V3", &id, &err), GS_OK);
    assert_int_equal(prov_claims_of(f->s, "node", id, &claims, &err), GS_OK);
    assert_int_equal(json_array_size(json_object_get(claims, "imports")), 2);
    json_decref(claims);
    /* retract b: params back to a's value; the node stays (a claims it) */
    json_t *res = NULL;
    assert_int_equal(prov_retract(f->s, b, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "properties_restored")), 1);
    json_decref(res);
    assert_prop(f->s, "V3", "params", "671");
    assert_prop(f->s, "V3", "ctx", "128");
    assert_int_equal(prov_retract(f->s, b, &res, &err), GS_CONFLICT);
    /* retract a: the node was created by a and nobody claims it: gone */
    if (prov_retract(f->s, a, &res, &err) != GS_OK) fail_msg("retract: %s", err.msg);
    assert_int_equal(json_integer_value(json_object_get(res, "nodes_deleted")), 1);
    json_decref(res);
    assert_int_equal(graph_node_find(f->s, "Model", "V3", &id, &err), GS_NOT_FOUND);
    assert_int_equal(prov_retract(f->s, 77, &res, &err), GS_NOT_FOUND);
}

static void test_retract_keeps_others_facts(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t a = import(f->s, "aa", "V3", "{\"x\":1}", "MLA", "Dee");
    import(f->s, "bb", "R1", "{\"y\":2}", "MLA", NULL);
    /* a direct write to V3 after the import: V3 must survive the retract */
    const char *labels[] = {"Model"};
    json_t *p = json_pack("{s:i}", "x", 5);
    assert_int_equal(graph_node_put(f->s, labels, 1, "V3", p, NULL, NULL, NULL, &err), GS_OK);
    json_decref(p);
    json_t *res = NULL;
    assert_int_equal(prov_retract(f->s, a, &res, &err), GS_OK);
    json_decref(res);
    int64_t id;
    assert_int_equal(graph_node_find(f->s, "Model", "MLA", &id, &err), GS_OK);   /* b claims it */
    assert_int_equal(graph_node_find(f->s, "Model", "R1", &id, &err), GS_OK);
    assert_int_equal(graph_node_find(f->s, "Model", "V3", &id, &err), GS_OK);    /* direct claim */
    assert_prop(f->s, "V3", "x", "5");                                            /* not a's value: kept */
    assert_int_equal(graph_node_find(f->s, "Model", "Dee", &id, &err), GS_NOT_FOUND);   /* a's alias is gone */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM aliases"), 0);          /* alias only a claimed */
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rels"), 1);             /* R1 -> MLA */
}

/* Hits of a search on the store's own connection. */
static size_t search_hits(graph_store *s, const char *text) {
    json_t *res = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_search(s, text, 10, &res, &err), GS_OK);
    size_t n = json_array_size(res);
    json_decref(res);
    return n;
}

/* Retract restores an entity's properties together (prov_retract.c keeps one
 * entity's props in memory while its claims are undone): several keys of
 * one node, claims of the retracted import on three nodes in turn, the last
 * one's changes saved too, and the search rows follow the restored values. */
static void test_retract_restores_per_entity(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    import(f->s, "aa", "V3", "{\"params\":671,\"ctx\":128,\"license\":\"mit\"}", NULL, NULL);
    import(f->s, "a2", "V2", "{\"params\":236}", NULL, NULL);
    int64_t b = 0;
    assert_int_equal(graph_store_begin(f->s, &err), GS_OK);
    assert_int_equal(prov_import_begin(f->s, "test", "b.txt", "bb", &b, &err), GS_OK);
    const char *labels[] = {"Model"};
    const char *puts[][2] = {{"V3", "{\"params\":685,\"ctx\":256,\"arch\":\"moe\"}"},
                             {"R1", "{\"arch\":\"grpo\"}"},
                             {"V2", "{\"params\":999,\"note\":\"zzfoo\"}"}};   /* V2 last: its save ends the step */
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_loads(puts[i][1], 0, NULL);
        assert_int_equal(graph_node_put(f->s, labels, 1, puts[i][0], p, NULL, NULL, NULL, &err), GS_OK);
        json_decref(p);
    }
    prov_counts c;
    assert_int_equal(prov_import_finish(f->s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(f->s, &err), GS_OK);
    assert_int_equal(search_hits(f->s, "moe"), 1);
    assert_int_equal(search_hits(f->s, "zzfoo"), 1);
    json_t *res = NULL;
    if (prov_retract(f->s, b, &res, &err) != GS_OK) fail_msg("retract: %s", err.msg);
    assert_int_equal(json_integer_value(json_object_get(res, "properties_restored")), 3);   /* V3 x2, V2 */
    assert_int_equal(json_integer_value(json_object_get(res, "properties_removed")), 3);    /* arch, note, R1's */
    assert_int_equal(json_integer_value(json_object_get(res, "nodes_deleted")), 1);         /* R1 */
    json_decref(res);
    assert_prop(f->s, "V3", "params", "671");
    assert_prop(f->s, "V3", "ctx", "128");
    assert_prop(f->s, "V3", "license", "\"mit\"");
    assert_prop(f->s, "V3", "arch", NULL);
    assert_prop(f->s, "V2", "params", "236");
    assert_prop(f->s, "V2", "note", NULL);
    assert_int_equal(search_hits(f->s, "moe"), 0);
    assert_int_equal(search_hits(f->s, "zzfoo"), 0);
    assert_int_equal(search_hits(f->s, "grpo"), 0);
    assert_int_equal(search_hits(f->s, "mit"), 1);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_fts"), 2);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims WHERE import_id = 3"), 0);
}

static void test_reimport_found(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t a = import(f->s, "aa", "V3", "{\"x\":1}", NULL, NULL);
    int64_t found = 0;
    assert_int_equal(prov_import_find(f->s, "test", "aa", &found, &err), GS_OK);
    assert_int_equal(found, a);
    assert_int_equal(prov_import_find(f->s, "other", "aa", &found, &err), GS_OK);
    assert_int_equal(found, 0);
    /* the same facts again in a new import add claims for it only, no duplicates */
    int64_t claims = sql_int(f->s, "SELECT count(*) FROM prop_claims");
    import(f->s, "cc", "V3", "{\"x\":1}", NULL, NULL);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM prop_claims"), claims * 2);
    assert_int_equal(sql_int(f->s, "SELECT nodes FROM imports WHERE id = 2"), 0);   /* nothing changed */
    json_t *res = NULL;
    assert_int_equal(prov_retract(f->s, a, &res, &err), GS_OK);
    json_decref(res);
    assert_int_equal(prov_import_find(f->s, "test", "aa", &found, &err), GS_OK);
    assert_int_equal(found, 0);   /* retracted imports do not count */
    json_t *list = NULL;
    assert_int_equal(prov_imports_list(f->s, &list, &err), GS_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_true(json_is_string(json_object_get(json_array_get(list, 0), "retracted_at")));
    json_decref(list);
}

static void test_rollback_leaves_nothing(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t imp;
    assert_int_equal(graph_store_begin(f->s, &err), GS_OK);
    assert_int_equal(prov_import_begin(f->s, "test", "x", "dd", &imp, &err), GS_OK);
    const char *labels[] = {"Model"};
    assert_int_equal(graph_node_put(f->s, labels, 1, "Gone", NULL, NULL, NULL, NULL, &err), GS_OK);
    prov_import_stop(f->s);
    graph_store_rollback(f->s);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM imports"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM node_claims"), 0);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
}

/* A v1 database (no provenance tables) migrates to the current version with its data. */
static void test_migrate_v1(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    const char *labels[] = {"Model"};
    assert_int_equal(graph_node_put(f->s, labels, 1, "Old", NULL, NULL, NULL, NULL, &err), GS_OK);
    char path[160];
    snprintf(path, sizeof path, "%s/v1.db", f->dir);
    fixture_copy_to_old(f->s, path, 1);
    graph_store_close(f->s);
    f->s = NULL;
    unlink(f->path);
    assert_int_equal(rename(path, f->path), 0);
    /* a read-only open refuses to work on an old schema */
    graph_store *ro = NULL;
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, NULL, &ro, &err), GS_INVALID);
    assert_int_equal(graph_store_open(f->path, 0, NULL, &f->s, &err), GS_OK);
    assert_false(graph_store_was_created(f->s));
    assert_int_equal(sql_int(f->s, "PRAGMA user_version"), GRAPH_SCHEMA_VERSION);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM imports"), 0);
    int64_t id;
    assert_int_equal(graph_node_find(f->s, "Model", "Old", &id, &err), GS_OK);
    /* an old node has no claims; an import that merges it does not own it */
    int64_t imp = import(f->s, "aa", "Old", "{\"x\":1}", NULL, NULL);
    json_t *res = NULL;
    assert_int_equal(prov_retract(f->s, imp, &res, &err), GS_OK);
    json_decref(res);
    assert_int_equal(graph_node_find(f->s, "Model", "Old", &id, &err), GS_OK);
    assert_prop(f->s, "Old", "x", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_latest_shown_retract_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retract_keeps_others_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retract_restores_per_entity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reimport_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
