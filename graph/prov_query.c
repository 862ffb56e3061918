/*
 * graph/prov_query.c - reading provenance: the list of imports, what one
 * import asserted, and every claim on one entity.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROV_IMPORT_COLS \
    "id, plugin, input_name, sha256, started_at, finished_at, retracted_at, nodes, relationships, properties, warnings"

/* One imports row (columns PROV_IMPORT_COLS) as an object. */
static json_t *prov_import_row(sqlite3_stmt *st) {
    json_t *o = json_object();
    static const char *const names[] = {"id", "plugin", "input", "sha256", "started_at", "finished_at",
                                        "retracted_at", "nodes", "relationships", "properties", "warnings"};
    for (int i = 0; i < 11; i++) {
        int t = sqlite3_column_type(st, i);
        json_t *v = t == SQLITE_NULL      ? json_null()
                    : t == SQLITE_INTEGER ? json_integer(sqlite3_column_int64(st, i))
                                          : json_string((const char *)sqlite3_column_text(st, i));
        json_object_set_new(o, names[i], v ? v : json_null());
    }
    return o;
}

/* imports.list. */
gs_status prov_imports_list(graph_store *s, json_t **out, gs_error *err) {
    *out = NULL;
    sqlite3_stmt *st = gs_prov_prepare(s, "SELECT " PROV_IMPORT_COLS " FROM imports ORDER BY id", err);
    if (!st) return GS_IO;
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, prov_import_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return gs_sqlfail(s, err, "listing imports");
    }
    *out = arr;
    return GS_OK;
}

/* Runs a query bound to (id, limit + 1) and turns each row into an object via
 * the column names; sets *truncated when more than limit rows exist. */
static gs_status prov_rows(graph_store *s, const char *sql, int64_t id, int64_t limit, json_t **out,
                           bool *truncated, gs_error *err) {
    sqlite3_stmt *st = gs_prov_prepare(s, sql, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, limit + 1);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((int64_t)json_array_size(arr) >= limit) {
            *truncated = true;
            continue;
        }
        json_t *o = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            json_t *v;
            if (strcmp(name, "value") == 0) {   /* claimed values are JSON text */
                v = json_loads((const char *)sqlite3_column_text(st, i), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            } else if (strcmp(name, "created") == 0 || strcmp(name, "current") == 0) {
                v = json_boolean(sqlite3_column_int(st, i) == 1);
            } else if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
                v = json_integer(sqlite3_column_int64(st, i));
            } else if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                v = json_null();
            } else {
                v = json_string((const char *)sqlite3_column_text(st, i));
            }
            json_object_set_new(o, name, v ? v : json_null());
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return gs_sqlfail(s, err, "reading claims");
    }
    *out = arr;
    return GS_OK;
}

/* The property claim is what reads show: the newest claim on that key. */

/* Replaces each page row's "seq" by "current": whether it is the latest claim
 * on its entity and key. One bound statement per row: as a correlated
 * subquery over the page, SQLite could not narrow the claim views by kind
 * and entity, and a page of a 1M-relationship import took 15 s. */
static gs_status prov_mark_current(graph_store *s, json_t *rows, gs_error *err) {
    sqlite3_stmt *st =
        gs_prov_prepare(s, "SELECT max(seq) FROM prop_claims WHERE kind = ?1 AND entity_id = ?2 AND key = ?3", err);
    if (!st) return GS_IO;
    gs_status r = GS_OK;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(row, "kind")), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(row, "id")));
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(row, "key")), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            r = gs_sqlfail(s, err, "reading claims");
            break;
        }
        bool current = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                       sqlite3_column_int64(st, 0) == json_integer_value(json_object_get(row, "seq"));
        sqlite3_reset(st);
        json_object_set_new(row, "current", json_boolean(current));
        json_object_del(row, "seq");
    }
    sqlite3_finalize(st);
    return r;
}

/* (kind, entity id, key) order of imports.show's property page, as SQL's ORDER BY
 * kind, entity_id, key would give it ('node' < 'rel'; keys by bytes). */
static int prov_claim_cmp(const void *pa, const void *pb) {
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int c = strcmp(json_string_value(json_object_get(a, "kind")), json_string_value(json_object_get(b, "kind")));
    if (c) return c;
    json_int_t x = json_integer_value(json_object_get(a, "id")), y = json_integer_value(json_object_get(b, "id"));
    if (x != y) return x < y ? -1 : 1;
    return strcmp(json_string_value(json_object_get(a, "key")), json_string_value(json_object_get(b, "key")));
}

/* The ids one import claims with props_implicit = 1, ascending: a merge of its claim
 * rows and its claim ranges, read through their (import_id, id) indexes. (The
 * node_claims view, asked the same, probed the ranges once per entity of the whole
 * table when the import had none: 0.48 s at 1M.) Every id inside a range is a live
 * entity (schema step 5), so ranges are expanded without reading the entities. */
typedef struct prov_idwalk {
    sqlite3_stmt *rows, *ranges;
    bool rows_done, ranges_done, have_row;
    int64_t row, lo, hi;   /* next row id; the current range's unread part lo..hi (empty when lo > hi) */
} prov_idwalk;

static gs_status prov_idwalk_open(graph_store *s, prov_idwalk *w, bool node, int64_t import, gs_error *err) {
    *w = (prov_idwalk){.lo = 1, .hi = 0};
    w->rows = gs_prov_prepare(s, node
        ? "SELECT node_id FROM node_claim_rows WHERE import_id = ?1 AND props_implicit = 1 ORDER BY node_id"
        : "SELECT rel_id FROM rel_claim_rows WHERE import_id = ?1 AND props_implicit = 1 ORDER BY rel_id", err);
    w->ranges = w->rows ? gs_prov_prepare(s, node
        ? "SELECT lo, hi FROM node_claim_ranges WHERE import_id = ?1 AND props_implicit = 1 ORDER BY lo"
        : "SELECT lo, hi FROM rel_claim_ranges WHERE import_id = ?1 AND props_implicit = 1 ORDER BY lo", err) : NULL;
    if (!w->ranges) {
        sqlite3_finalize(w->rows);
        return GS_IO;
    }
    sqlite3_bind_int64(w->rows, 1, import);
    sqlite3_bind_int64(w->ranges, 1, import);
    return GS_OK;
}

/* The next id into *id: 1, 0 at the end, -1 on an SQLite error. */
static int prov_idwalk_next(prov_idwalk *w, int64_t *id) {
    if (!w->have_row && !w->rows_done) {
        int rc = sqlite3_step(w->rows);
        if (rc == SQLITE_ROW) {
            w->row = sqlite3_column_int64(w->rows, 0);
            w->have_row = true;
        } else if (rc == SQLITE_DONE) {
            w->rows_done = true;
        } else {
            return -1;
        }
    }
    if (w->lo > w->hi && !w->ranges_done) {
        int rc = sqlite3_step(w->ranges);
        if (rc == SQLITE_ROW) {
            w->lo = sqlite3_column_int64(w->ranges, 0);
            w->hi = sqlite3_column_int64(w->ranges, 1);
        } else if (rc == SQLITE_DONE) {
            w->ranges_done = true;
        } else {
            return -1;
        }
    }
    bool range = w->lo <= w->hi;
    if (!w->have_row && !range) return 0;
    if (w->have_row && (!range || w->row < w->lo)) {   /* a claim is a row or in a range, never both */
        *id = w->row;
        w->have_row = false;
    } else {
        *id = w->lo++;
    }
    return 1;
}

static void prov_idwalk_close(prov_idwalk *w) {
    sqlite3_finalize(w->rows);
    sqlite3_finalize(w->ranges);
}

/* Appends the first `want` implicit property claims of one kind of an import (the
 * properties of entities its bulk load created, props_implicit) in (id, key) order,
 * reading entities only until the page is full: the prop_claims view would list and
 * sort every implicit claim of the import (4M of them, 1.1 s, for a 1M-node CSV). */
static gs_status prov_implicit_claims(graph_store *s, bool node, int64_t import, int64_t want, json_t *out,
                                      gs_error *err) {
    prov_idwalk w;
    if (prov_idwalk_open(s, &w, node, import, err) != GS_OK) return GS_IO;
    sqlite3_stmt *props = gs_prov_prepare(s, node
        ? "SELECT j.key, j.value FROM nodes n JOIN dsg_props(n.props) j "
          "WHERE n.id = ?1 AND j.key <> 'name' AND j.value <> 'null' ORDER BY j.key"
        : "SELECT j.key, j.value FROM rels r JOIN dsg_props(r.props) j "
          "WHERE r.id = ?1 AND j.value <> 'null' ORDER BY j.key", err);
    if (!props) {
        prov_idwalk_close(&w);
        return GS_IO;
    }
    int64_t start = (int64_t)json_array_size(out), id;
    int more = 1, rc = SQLITE_DONE;
    while ((int64_t)json_array_size(out) - start < want && (more = prov_idwalk_next(&w, &id)) == 1) {
        sqlite3_bind_int64(props, 1, id);
        while ((rc = sqlite3_step(props)) == SQLITE_ROW) {
            json_t *v = json_loads((const char *)sqlite3_column_text(props, 1), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            json_array_append_new(out, json_pack("{s:I,s:s,s:I,s:s,s:o}", "seq", (json_int_t)0, "kind",
                                                 node ? "node" : "rel", "id", (json_int_t)id, "key",
                                                 (const char *)sqlite3_column_text(props, 0), "value",
                                                 v ? v : json_null()));
        }
        sqlite3_reset(props);
        if (rc != SQLITE_DONE) break;
    }
    gs_status r = more >= 0 && rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "reading claims");
    sqlite3_finalize(props);
    prov_idwalk_close(&w);
    return r;
}

/* imports.show's property page: the first limit claims in (kind, id, key) order from
 * the stored claim rows and both kinds of implicit claims, each read only as far as
 * the page can reach; *truncated when there are more. */
static gs_status prov_prop_page(graph_store *s, int64_t id, int64_t limit, json_t **out, bool *truncated,
                                gs_error *err) {
    json_t *all = NULL;
    gs_status r = prov_rows(s,
        "SELECT seq, kind, entity_id AS id, key, value FROM prop_claim_rows WHERE import_id = ?1 "
        "ORDER BY kind, entity_id, key LIMIT ?2", id, limit + 1, &all, truncated, err);
    if (r == GS_OK) r = prov_implicit_claims(s, true, id, limit + 1, all, err);
    if (r == GS_OK) r = prov_implicit_claims(s, false, id, limit + 1, all, err);
    if (r != GS_OK) {
        json_decref(all);
        return r;
    }
    size_t n = json_array_size(all);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) abort();
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(all, i));
    qsort(v, n, sizeof *v, prov_claim_cmp);
    json_decref(all);
    *out = json_array();
    for (size_t i = 0; i < n; i++) {
        if ((int64_t)i < limit) json_array_append(*out, v[i]);
        json_decref(v[i]);
    }
    if ((int64_t)n > limit) *truncated = true;
    free(v);
    return GS_OK;
}

/* imports.show: the import row and what it claimed (at most limit of each kind). */
gs_status prov_import_show(graph_store *s, int64_t id, int64_t limit, json_t **out, gs_error *err) {
    *out = NULL;
    sqlite3_stmt *st = gs_prov_prepare(s, "SELECT " PROV_IMPORT_COLS " FROM imports WHERE id = ?1", err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    json_t *row = rc == SQLITE_ROW ? prov_import_row(st) : NULL;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return gs_fail(err, GS_NOT_FOUND, "import %" PRId64 " not found", id);
    if (rc != SQLITE_ROW) return gs_sqlfail(s, err, "reading an import");
    bool trunc = false;
    json_t *nodes = NULL, *rels = NULL, *aliases = NULL, *props = NULL;
    gs_status r = prov_rows(s,
        "SELECT node_id AS id, created = 1 AS created FROM node_claims WHERE import_id = ?1 ORDER BY node_id LIMIT ?2",
        id, limit, &nodes, &trunc, err);
    if (r == GS_OK)
        r = prov_rows(s,
            /* the claims first: joined to rels, the view's range arm was sorted whole (120 ms at 1M) */
            "SELECT c.rel_id AS id, r.type AS type, r.start AS start, r.\"end\" AS \"end\", c.created = 1 AS created "
            "FROM (SELECT rel_id, created FROM rel_claims WHERE import_id = ?1 ORDER BY rel_id LIMIT ?2) c "
            "JOIN rels r ON r.id = c.rel_id ORDER BY c.rel_id",
            id, limit, &rels, &trunc, err);
    if (r == GS_OK)
        r = prov_rows(s,
            "SELECT c.node_id AS node, a.alias AS alias FROM alias_claims c JOIN aliases a "
            "ON a.node_id = c.node_id AND a.alias_key = c.alias_key WHERE c.import_id = ?1 "
            "ORDER BY c.node_id, a.rowid LIMIT ?2", id, limit, &aliases, &trunc, err);
    /* the page first, then "current" for its rows only (prov_mark_current) */
    if (r == GS_OK) r = prov_prop_page(s, id, limit, &props, &trunc, err);
    if (r == GS_OK) r = prov_mark_current(s, props, err);
    if (r != GS_OK) {
        json_decref(row);
        json_decref(nodes);
        json_decref(rels);
        json_decref(aliases);
        json_decref(props);
        return r;
    }
    *out = json_pack("{s:o,s:o,s:o,s:o,s:o,s:b}", "import", row, "nodes", nodes, "relationships", rels, "aliases",
                     aliases, "properties", props, "truncated", trunc);
    return GS_OK;
}

/* Every claim of one entity, sorted by key and newest first: replaces each
 * row's "seq" by "current", true for the newest of its key (as a correlated
 * max(seq) per row, this took 3-15 s per entity at 1M). */
static void prov_mark_latest(json_t *rows) {
    const char *key = NULL;
    json_int_t latest = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *k = json_string_value(json_object_get(row, "key"));
        json_int_t seq = json_integer_value(json_object_get(row, "seq"));
        if (!key || !k || strcmp(k, key) != 0) latest = seq;
        key = k;
        json_object_set_new(row, "current", json_boolean(seq == latest));
        json_object_del(row, "seq");
    }
}

/* node.get {"claims":true}: who asserted the entity and each property value. */
gs_status prov_claims_of(graph_store *s, const char *kind, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    bool node = strcmp(kind, "node") == 0, trunc = false;
    if (!node && strcmp(kind, "rel") != 0) return gs_fail(err, GS_INVALID, "kind must be \"node\" or \"rel\"");
    json_t *imports = NULL, *props = NULL;
    gs_status r = prov_rows(s, node
        ? "SELECT import_id AS import, created = 1 AS created FROM node_claims WHERE node_id = ?1 ORDER BY import_id LIMIT ?2"
        : "SELECT import_id AS import, created = 1 AS created FROM rel_claims WHERE rel_id = ?1 ORDER BY import_id LIMIT ?2",
        id, 100000, &imports, &trunc, err);
    if (r == GS_OK)
        r = prov_rows(s, node
            ? "SELECT key, value, import_id AS import, seq FROM prop_claims "
              "WHERE kind = 'node' AND entity_id = ?1 ORDER BY key, seq DESC LIMIT ?2"
            : "SELECT key, value, import_id AS import, seq FROM prop_claims "
              "WHERE kind = 'rel' AND entity_id = ?1 ORDER BY key, seq DESC LIMIT ?2",
            id, 100000, &props, &trunc, err);
    if (r == GS_OK) prov_mark_latest(props);
    if (r != GS_OK) {
        json_decref(imports);
        json_decref(props);
        return r;
    }
    *out = json_pack("{s:o,s:o}", "imports", imports, "properties", props);
    return GS_OK;
}
