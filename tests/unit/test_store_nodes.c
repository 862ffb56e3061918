/*
 * tests/unit/test_store_nodes.c - graph/ nodes and relationships: typed values,
 * merge rules, name normalisation, lookup ambiguity, delete, rel merge/create,
 * atomic writes and explicit transactions.
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
#include <utf8proc.h>

#include "store.h"
#include "store_fixture.h"

static int setup(void **state) { return fixture_open(state, NULL); }
static int teardown(void **state) { return fixture_close(state); }

/* node_put with one label and JSON text for props/aliases (NULL allowed). */
static gs_status put(graph_store *s, const char *label, const char *name, const char *props, const char *aliases,
                     int64_t *id, bool *created, gs_error *err) {
    json_t *p = props ? json_loads(props, JSON_DECODE_ANY, NULL) : NULL;
    json_t *a = aliases ? json_loads(aliases, JSON_DECODE_ANY, NULL) : NULL;
    if (props) assert_non_null(p);
    if (aliases) assert_non_null(a);
    const char *labels[] = {label};
    gs_status st = graph_node_put(s, labels, label ? 1 : 0, name, p, a, id, created, err);
    json_decref(p);
    json_decref(a);
    return st;
}

/* Must-succeed put returning the id. */
static int64_t put_ok(graph_store *s, const char *label, const char *name, const char *props, const char *aliases) {
    int64_t id = 0;
    bool created = false;
    gs_error err = {{0}};
    gs_status st = put(s, label, name, props, aliases, &id, &created, &err);
    if (st != GS_OK) fprintf(stderr, "put %s: %s\n", name ? name : "(null)", err.msg);
    assert_int_equal(st, GS_OK);
    assert_true(id > 0);
    return id;
}

/* properties object of node id (new reference). */
static json_t *props_of(graph_store *s, int64_t id) {
    json_t *n = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_node_get(s, id, &n, &err), GS_OK);
    json_t *p = json_object_get(json_object_get(n, "$node"), "properties");
    assert_non_null(p);
    json_incref(p);
    json_decref(n);
    return p;
}

/* A single integer from SQL, for looking at the tables directly. */
static void test_typed_values_round_trip(void **state) {
    fixture *f = *state;
    json_t *props = json_pack("{s:b,s:b,s:I,s:f,s:I,s:I,s:s,s:n}", "t", 1, "fa", 0, "i", (json_int_t)1, "f", 1.0,
                              "imin", (json_int_t)INT64_MIN, "imax", (json_int_t)INT64_MAX, "s",
                              "深度求索 DeepSeek 🚀🐳", "gone");
    json_object_set_new(props, "list", json_loads("[1, \"two\", null, [3.5, {\"x\": false}], 1.0]", 0, NULL));
    json_object_set_new(props, "map", json_loads("{\"k\": {\"x\": null, \"y\": [], \"z\": {}}, \"e\": 2e300}", 0, NULL));
    json_object_set_new(props, "tiny", json_real(0.1));
    const char *labels[] = {"Model"};
    int64_t id = 0;
    bool created = false;
    gs_error err = {{0}};
    assert_int_equal(graph_node_put(f->s, labels, 1, "Typed", props, NULL, &id, &created, &err), GS_OK);
    assert_true(created);

    /* reopen so the values really come from the file */
    graph_store_close(f->s);
    assert_int_equal(graph_store_open(f->path, 0, NULL, &f->s, &err), GS_OK);
    json_t *p = props_of(f->s, id);
    assert_true(json_is_true(json_object_get(p, "t")));
    assert_true(json_is_false(json_object_get(p, "fa")));
    assert_true(json_is_integer(json_object_get(p, "i")));
    assert_int_equal(json_integer_value(json_object_get(p, "i")), 1);
    assert_true(json_is_real(json_object_get(p, "f")));
    assert_true(json_real_value(json_object_get(p, "f")) == 1.0);
    assert_true(json_integer_value(json_object_get(p, "imin")) == INT64_MIN);
    assert_true(json_integer_value(json_object_get(p, "imax")) == INT64_MAX);
    assert_string_equal(json_string_value(json_object_get(p, "s")), "深度求索 DeepSeek 🚀🐳");
    assert_null(json_object_get(p, "gone"));   /* top-level null means "absent" */
    assert_true(json_equal(json_object_get(p, "list"), json_object_get(props, "list")));
    assert_true(json_is_real(json_array_get(json_object_get(p, "list"), 4)));
    assert_true(json_is_null(json_array_get(json_object_get(p, "list"), 2)));
    assert_true(json_equal(json_object_get(p, "map"), json_object_get(props, "map")));
    assert_true(json_real_value(json_object_get(p, "tiny")) == 0.1);   /* exact round trip */
    assert_string_equal(json_string_value(json_object_get(p, "name")), "Typed");
    /* the stored text keeps JSON types for SQL users */
    assert_int_equal(sql_int(f->s, "SELECT json_type(props, '$.f') = 'real' AND json_type(props, '$.i') = 'integer' "
                                   "AND json_extract(props, '$.imin') = -9223372036854775808 FROM nodes"), 1);
    json_decref(p);
    json_decref(props);
}

static void test_merge_semantics(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t id = 0, id2 = 0;
    bool created = false;
    assert_int_equal(put(f->s, "Model", "DeepSeek-V3", "{\"a\":1,\"b\":\"x\",\"keep\":[1]}", "[\"DSV3\"]", &id,
                         &created, &err), GS_OK);
    assert_true(created);
    const char *labels[] = {"Model", "LLM"};
    json_t *p = json_loads("{\"a\":2,\"b\":null,\"c\":true,\"name\":\"other spelling\"}", 0, NULL);
    json_t *a = json_loads("[\"V3\",\"dsv3\"]", 0, NULL);
    assert_int_equal(graph_node_put(f->s, labels, 2, "deepseek-v3", p, a, &id2, &created, &err), GS_OK);
    json_decref(p);
    json_decref(a);
    assert_false(created);
    assert_int_equal(id2, id);

    json_t *n = NULL;
    assert_int_equal(graph_node_get(f->s, id, &n, &err), GS_OK);
    json_t *node = json_object_get(n, "$node");
    json_t *want_labels = json_loads("[\"Model\",\"LLM\"]", 0, NULL);
    assert_true(json_equal(json_object_get(node, "labels"), want_labels));
    json_decref(want_labels);
    json_t *want = json_loads("{\"a\":2,\"c\":true,\"keep\":[1],\"name\":\"DeepSeek-V3\"}", 0, NULL);
    assert_true(json_equal(json_object_get(node, "properties"), want));
    json_decref(want);
    json_decref(n);

    json_t *al = NULL;
    assert_int_equal(graph_node_aliases(f->s, id, &al, &err), GS_OK);
    json_t *want_al = json_loads("[\"DSV3\",\"V3\"]", 0, NULL);   /* "dsv3" = DSV3: first spelling kept */
    assert_true(json_equal(al, want_al));
    json_decref(want_al);
    json_decref(al);

    /* labels added in order, existing ones not repeated */
    const char *more[] = {"Model", "Open", "LLM", "Chat"};
    assert_int_equal(graph_node_put(f->s, more, 4, "DEEPSEEK-V3", NULL, NULL, &id2, &created, &err), GS_OK);
    assert_int_equal(id2, id);
    assert_int_equal(graph_node_get(f->s, id, &n, &err), GS_OK);
    want_labels = json_loads("[\"Model\",\"LLM\",\"Open\",\"Chat\"]", 0, NULL);
    assert_true(json_equal(json_object_get(json_object_get(n, "$node"), "labels"), want_labels));
    json_decref(want_labels);
    json_decref(n);

    /* add_alias is idempotent by key */
    assert_int_equal(graph_node_add_alias(f->s, id, "DeepSeek V3 Chat", &err), GS_OK);
    assert_int_equal(graph_node_add_alias(f->s, id, "deepseek v3 chat", &err), GS_OK);
    assert_int_equal(graph_node_aliases(f->s, id, &al, &err), GS_OK);
    assert_int_equal(json_array_size(al), 3);
    json_decref(al);

    /* a different first label is a different identity */
    assert_int_equal(put(f->s, "Paper", "DeepSeek-V3", NULL, NULL, &id2, &created, &err), GS_OK);
    assert_true(created);
    assert_true(id2 != id);

    /* the name may come from properties.name; without a name every put creates */
    int64_t x = put_ok(f->s, "Dataset", NULL, "{\"name\":\"The Pile\"}", NULL);
    assert_int_equal(put_ok(f->s, "Dataset", "the pile", NULL, NULL), x);
    int64_t u1 = put_ok(f->s, "Note", NULL, "{\"text\":\"hi\"}", NULL);
    int64_t u2 = put_ok(f->s, "Note", NULL, "{\"text\":\"hi\"}", NULL);
    assert_true(u1 != u2);
    int64_t bare = put_ok(f->s, NULL, NULL, NULL, NULL);   /* no labels, no name: allowed */
    assert_int_equal(graph_node_get(f->s, bare, &n, &err), GS_OK);
    assert_int_equal(json_array_size(json_object_get(json_object_get(n, "$node"), "labels")), 0);
    json_decref(n);
}

static void test_invalid_arguments(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t id = 0;
    assert_int_equal(put(f->s, "Model", "X", "[1,2]", NULL, &id, NULL, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "properties must be an object"));
    assert_int_equal(put(f->s, "Model", "X", "{\"\":1}", NULL, &id, NULL, &err), GS_INVALID);
    assert_int_equal(put(f->s, "", "X", NULL, NULL, &id, NULL, &err), GS_INVALID);
    assert_int_equal(put(f->s, NULL, "X", NULL, NULL, &id, NULL, &err), GS_INVALID);   /* name needs a label */
    assert_int_equal(put(f->s, "Model", "X", NULL, "[\"ok\", 3]", &id, NULL, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "aliases[1]"));
    assert_int_equal(put(f->s, "Model", "X", NULL, "\"notarray\"", &id, NULL, &err), GS_INVALID);
    assert_int_equal(put(f->s, "Model", NULL, "{\"name\":42}", NULL, &id, NULL, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "name"));
    assert_int_equal(put(f->s, "Model", "   ", NULL, NULL, &id, NULL, &err), GS_INVALID);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 0);
    int64_t rid = 0;
    json_t *bad = json_string("x");
    int64_t a = put_ok(f->s, "Model", "A", NULL, NULL);
    assert_int_equal(graph_rel_put(f->s, a, "T", a, bad, false, &rid, NULL, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "properties must be an object"));
    json_decref(bad);
}

static void test_normalisation(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    char *k = graph_name_key("ＤｅｅｐＳｅｅｋ－Ｖ３", &err);
    assert_non_null(k);
    assert_string_equal(k, "deepseek-v3");
    free(k);
    k = graph_name_key("  \tDeepSeek-V3 \n", &err);
    assert_string_equal(k, "deepseek-v3");
    free(k);
    k = graph_name_key("Straße", &err);
    assert_string_equal(k, "strasse");
    free(k);
    /* ASCII keys skip utf8proc: the same key as utf8proc's NFKC + case fold + trim, for every
     * ASCII byte alone, between letters, and at both ends */
    for (int c = 1; c < 128; c++) {
        char in[3][8];
        snprintf(in[0], sizeof in[0], "%c", c);
        snprintf(in[1], sizeof in[1], "aB%cCd", c);
        snprintf(in[2], sizeof in[2], "%cXy%c", c, c);
        for (int v = 0; v < 3; v++) {
            utf8proc_uint8_t *ref = NULL;
            utf8proc_ssize_t rn = utf8proc_map((const utf8proc_uint8_t *)in[v], 0, &ref,
                                               UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                   UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
            assert_true(rn >= 0);
            const char *r = (const char *)ref;
            size_t a = 0, z = (size_t)rn;
            while (a < z && strchr(" \t\n\r\v\f", r[a])) a++;
            while (z > a && strchr(" \t\n\r\v\f", r[z - 1])) z--;
            k = graph_name_key(in[v], &err);
            assert_non_null(k);
            if (strlen(k) != z - a || memcmp(k, r + a, z - a) != 0)
                fail_msg("byte %d, form %d: key \"%s\", utf8proc \"%.*s\"", c, v, k, (int)(z - a), r + a);
            free(k);
            free(ref);
        }
    }

    int64_t id = put_ok(f->s, "Model", "DeepSeek-V3", NULL, NULL);
    bool created = true;
    int64_t id2 = 0;
    assert_int_equal(put(f->s, "Model", "ＤｅｅｐＳｅｅｋ－Ｖ３", NULL, NULL, &id2, &created, &err), GS_OK);
    assert_false(created);
    assert_int_equal(id2, id);
    assert_int_equal(put(f->s, "Model", "deepseek-v3", NULL, NULL, &id2, &created, &err), GS_OK);
    assert_int_equal(id2, id);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 1);
    int64_t found = 0;
    assert_int_equal(graph_node_find(f->s, NULL, "deepseek-v3", &found, &err), GS_OK);
    assert_int_equal(found, id);
    assert_int_equal(graph_node_find(f->s, "Model", " ＤＥＥＰＳＥＥＫ－Ｖ３ ", &found, &err), GS_OK);
    assert_int_equal(found, id);
    assert_int_equal(graph_node_find(f->s, "Paper", "DeepSeek-V3", &found, &err), GS_NOT_FOUND);
    assert_non_null(strstr(err.msg, "DeepSeek-V3"));

    int64_t mla = put_ok(f->s, "Technique", "Multi-head Latent Attention", "{\"abbr\":\"MLA\"}",
                         "[\"MLA\",\"多头潜在注意力\"]");
    assert_int_equal(graph_node_find(f->s, NULL, "mla", &found, &err), GS_OK);
    assert_int_equal(found, mla);
    assert_int_equal(graph_node_find(f->s, "Technique", "多头潜在注意力", &found, &err), GS_OK);
    assert_int_equal(found, mla);
    assert_int_equal(graph_node_find(f->s, NULL, "ＭＬＡ", &found, &err), GS_OK);
    assert_int_equal(found, mla);
    /* a put by an alias merges into the node */
    assert_int_equal(put(f->s, "Technique", "mla", "{\"year\":2024}", NULL, &id2, &created, &err), GS_OK);
    assert_false(created);
    assert_int_equal(id2, mla);

    /* invalid UTF-8 is refused everywhere */
    err.msg[0] = '\0';
    assert_null(graph_name_key("bad \xff\xfe", &err));
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(put(f->s, "Model", "bad \xc3\x28", NULL, NULL, &id2, NULL, &err), GS_INVALID);
    assert_int_equal(graph_node_find(f->s, NULL, "\xe4\xb8", &found, &err), GS_INVALID);
    assert_int_equal(put(f->s, "Bad\xff", "ok", NULL, NULL, &id2, NULL, &err), GS_INVALID);
    assert_int_equal(graph_node_add_alias(f->s, mla, "\xff", &err), GS_INVALID);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 2);
}

static void test_find_ambiguity(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t m = put_ok(f->s, "Model", "Mamba", NULL, NULL);
    int64_t p = put_ok(f->s, "Paper", "mamba", NULL, NULL);
    int64_t found = 0;
    assert_int_equal(graph_node_find(f->s, NULL, "MAMBA", &found, &err), GS_AMBIGUOUS);
    char want[128];
    snprintf(want, sizeof want, "%lld (Model), %lld (Paper)", (long long)m, (long long)p);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, "2 nodes"));
    assert_int_equal(graph_node_find(f->s, "Paper", "MAMBA", &found, &err), GS_OK);
    assert_int_equal(found, p);

    /* a unique name match beats alias matches */
    int64_t r1 = put_ok(f->s, "Model", "R1", NULL, NULL);
    put_ok(f->s, "Model", "DeepSeek-R1", NULL, "[\"r1\"]");
    assert_int_equal(graph_node_find(f->s, NULL, "r1", &found, &err), GS_OK);
    assert_int_equal(found, r1);

    /* two alias-only matches are ambiguous */
    put_ok(f->s, "Model", "A", NULL, "[\"shared\"]");
    put_ok(f->s, "Model", "B", NULL, "[\"Shared\"]");
    assert_int_equal(graph_node_find(f->s, NULL, "SHARED", &found, &err), GS_AMBIGUOUS);
    assert_non_null(strstr(err.msg, "alias"));

    /* CREATE makes duplicates; put then refuses to guess */
    const char *labels[] = {"Model"};
    json_t *props = json_pack("{s:s}", "name", "Dup");
    int64_t d1 = 0, d2 = 0;
    assert_int_equal(graph_node_create(f->s, labels, 1, props, &d1, &err), GS_OK);
    assert_int_equal(graph_node_create(f->s, labels, 1, props, &d2, &err), GS_OK);
    assert_true(d1 != d2);
    json_decref(props);
    assert_int_equal(graph_node_find(f->s, "Model", "dup", &found, &err), GS_AMBIGUOUS);
    int64_t id = 0;
    assert_int_equal(put(f->s, "Model", "Dup", "{\"x\":1}", NULL, &id, NULL, &err), GS_AMBIGUOUS);
    assert_int_equal(graph_node_find(f->s, NULL, "nothing-like-this", &found, &err), GS_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no node named \"nothing-like-this\""));
}

static void test_node_delete(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t a = put_ok(f->s, "Model", "Alpha", "{\"d\":\"alphabetical\"}", "[\"AL\"]");
    int64_t b = put_ok(f->s, "Model", "Beta", NULL, NULL);
    int64_t lone = put_ok(f->s, "Model", "Lone", NULL, NULL);
    int64_t rid = 0, n = -1;
    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", b, NULL, false, &rid, NULL, &err), GS_OK);
    assert_int_equal(graph_rel_put(f->s, a, "SELF", a, NULL, false, NULL, NULL, &err), GS_OK);
    assert_int_equal(graph_node_delete(f->s, a, false, &n, &err), GS_CONFLICT);
    char want[64];
    snprintf(want, sizeof want, "node %lld has 2 relationships; use detach", (long long)a);
    assert_string_equal(err.msg, want);
    assert_int_equal(n, 0);
    json_t *node = NULL;
    assert_int_equal(graph_node_get(f->s, a, &node, &err), GS_OK);
    json_decref(node);

    assert_int_equal(graph_node_delete(f->s, a, true, &n, &err), GS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(graph_node_get(f->s, a, &node, &err), GS_NOT_FOUND);
    snprintf(want, sizeof want, "node %lld not found", (long long)a);
    assert_string_equal(err.msg, want);
    assert_int_equal(graph_rel_get(f->s, rid, &node, &err), GS_NOT_FOUND);
    int64_t found = 0;
    assert_int_equal(graph_node_find(f->s, NULL, "al", &found, &err), GS_NOT_FOUND);
    assert_int_equal(sql_int(f->s, "SELECT (SELECT count(*) FROM node_labels) * 1000 + (SELECT count(*) FROM aliases)"
                                   " * 100 + (SELECT count(*) FROM rels) * 10 + (SELECT count(*) FROM node_fts)"),
                     2 * 1000 + 0 + 0 + 2);
    json_t *hits = NULL;
    assert_int_equal(graph_search(f->s, "alphabet", 10, &hits, &err), GS_OK);
    assert_int_equal(json_array_size(hits), 0);
    json_decref(hits);

    assert_int_equal(graph_node_delete(f->s, lone, false, &n, &err), GS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(graph_node_delete(f->s, lone, true, &n, &err), GS_NOT_FOUND);
    assert_int_equal(graph_node_delete(f->s, 999999, false, NULL, &err), GS_NOT_FOUND);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 1);
}

static void test_rel_merge_vs_create(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t a = put_ok(f->s, "Model", "A", NULL, NULL);
    int64_t b = put_ok(f->s, "Model", "B", NULL, NULL);
    json_t *p1 = json_loads("{\"w\":1,\"note\":\"x\"}", 0, NULL);
    json_t *p2 = json_loads("{\"w\":null,\"x\":2.5}", 0, NULL);
    int64_t r1 = 0, r2 = 0, r3 = 0, found = 0;
    bool created = false;
    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", b, p1, false, &r1, &created, &err), GS_OK);
    assert_true(created);
    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", b, p2, false, &r2, &created, &err), GS_OK);
    assert_false(created);
    assert_int_equal(r2, r1);
    json_t *rel = NULL;
    assert_int_equal(graph_rel_get(f->s, r1, &rel, &err), GS_OK);
    json_t *want = json_pack("{s:{s:I,s:s,s:I,s:I,s:{s:s,s:f}}}", "$rel", "id", (json_int_t)r1, "type", "BASED_ON", "start",
                             (json_int_t)a, "end", (json_int_t)b, "properties", "note", "x", "x", 2.5);
    assert_true(json_equal(rel, want));
    json_decref(want);
    json_decref(rel);

    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", b, p1, true, &r3, &created, &err), GS_OK);
    assert_true(created);
    assert_true(r3 != r1);
    assert_int_equal(graph_rel_find(f->s, a, "BASED_ON", b, &found, &err), GS_OK);
    assert_int_equal(found, r1);
    assert_int_equal(graph_rel_find(f->s, b, "BASED_ON", a, &found, &err), GS_NOT_FOUND);
    /* a different type is a different relationship */
    int64_t r4 = 0;
    assert_int_equal(graph_rel_put(f->s, b, "USES", a, NULL, false, &r4, &created, &err), GS_OK);
    assert_true(created);

    /* relationships of a: outgoing by id, then incoming */
    json_t *rels = NULL;
    assert_int_equal(graph_node_relationships(f->s, a, &rels, &err), GS_OK);
    assert_int_equal(json_array_size(rels), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(rels, 0), "$rel"), "id")), r1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(rels, 1), "$rel"), "id")), r3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(rels, 2), "$rel"), "id")), r4);
    json_decref(rels);

    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", 999, NULL, false, &r2, NULL, &err), GS_NOT_FOUND);
    assert_string_equal(err.msg, "end node 999 not found");
    assert_int_equal(graph_rel_put(f->s, 998, "BASED_ON", b, NULL, false, &r2, NULL, &err), GS_NOT_FOUND);
    assert_string_equal(err.msg, "start node 998 not found");
    assert_int_equal(graph_rel_put(f->s, a, "", b, NULL, false, &r2, NULL, &err), GS_INVALID);
    assert_int_equal(graph_rel_delete(f->s, r3, &err), GS_OK);
    assert_int_equal(graph_rel_delete(f->s, r3, &err), GS_NOT_FOUND);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM rels"), 2);
    json_decref(p1);
    json_decref(p2);
}

static void test_transactions(void **state) {
    fixture *f = *state;
    gs_error err = {{0}};
    int64_t found = 0;
    assert_int_equal(graph_store_begin(f->s, &err), GS_OK);
    assert_int_equal(graph_store_begin(f->s, &err), GS_INVALID);   /* no nesting */
    put_ok(f->s, "Model", "Temp", NULL, "[\"tmp\"]");
    graph_store_rollback(f->s);
    assert_int_equal(graph_node_find(f->s, NULL, "Temp", &found, &err), GS_NOT_FOUND);
    assert_int_equal(sql_int(f->s, "SELECT (SELECT count(*) FROM nodes) + (SELECT count(*) FROM node_fts)"
                                   " + (SELECT count(*) FROM aliases)"), 0);
    assert_int_equal(graph_store_commit(f->s, &err), GS_INVALID);   /* nothing open */

    /* a failed call inside a transaction leaves it usable */
    assert_int_equal(graph_store_begin(f->s, &err), GS_OK);
    int64_t a = put_ok(f->s, "Model", "Kept-A", NULL, NULL);
    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", 424242, NULL, false, NULL, NULL, &err), GS_NOT_FOUND);
    int64_t id = 0;
    assert_int_equal(put(f->s, "Model", "Half", NULL, "[\"fine\", \"   \"]", &id, NULL, &err), GS_INVALID);
    int64_t b = put_ok(f->s, "Model", "Kept-B", NULL, NULL);
    assert_int_equal(graph_rel_put(f->s, a, "BASED_ON", b, NULL, false, NULL, NULL, &err), GS_OK);
    assert_int_equal(graph_store_commit(f->s, &err), GS_OK);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM nodes"), 2);
    assert_int_equal(graph_node_find(f->s, NULL, "half", &found, &err), GS_NOT_FOUND);
    assert_int_equal(graph_node_find(f->s, NULL, "fine", &found, &err), GS_NOT_FOUND);

    /* outside a transaction, a call that fails half-way changes nothing */
    assert_int_equal(put(f->s, "Model", "Half", "{\"x\":1}", "[\"fine\", \" \"]", &id, NULL, &err), GS_INVALID);
    assert_int_equal(sql_int(f->s, "SELECT (SELECT count(*) FROM nodes) * 100 + (SELECT count(*) FROM aliases) * 10"
                                   " + (SELECT count(*) FROM node_fts)"), 200 + 0 + 2);
    /* and a merge that fails keeps the old properties */
    assert_int_equal(put(f->s, "Model", "Kept-A", "{\"x\":1}", "[\" \"]", &id, NULL, &err), GS_INVALID);
    json_t *p = props_of(f->s, a);
    assert_null(json_object_get(p, "x"));
    json_decref(p);
    assert_int_equal(sqlite3_get_autocommit(graph_store_db(f->s)), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_typed_values_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalisation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_ambiguity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rel_merge_vs_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
