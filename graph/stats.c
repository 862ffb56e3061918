/*
 * graph/stats.c - the `stats` method: counts of nodes, relationships, labels, types.
 */
#include "store_internal.h"

/* Runs a single-value count query. */
static gs_status gs_count(graph_store *s, const char *sql, json_int_t *n, gs_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return gs_sqlfail(s, err, "stats");
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? GS_OK : gs_sqlfail(s, err, "stats");
}

/* Fills obj with name -> count from a GROUP BY query; *distinct gets the number of groups. */
static gs_status gs_group(graph_store *s, const char *sql, json_t *obj, json_int_t *distinct, gs_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return gs_sqlfail(s, err, "stats");
    int rc;
    *distinct = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_set_new(obj, (const char *)sqlite3_column_text(st, 0), json_integer(sqlite3_column_int64(st, 1)));
        (*distinct)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "stats");
}

/* stats: one snapshot of the graph's size for the operator and for tests. */
gs_status graph_stats(graph_store *s, json_t **out, gs_error *err) {
    *out = NULL;
    bool token = false;
    gs_status r = gs_read_begin(s, &token, err);
    if (r != GS_OK) return r;
    json_int_t nodes = 0, rels = 0, labels = 0, types = 0;
    json_t *by_label = json_object(), *by_type = json_object();
    r = gs_count(s, "SELECT count(*) FROM nodes", &nodes, err);
    if (r == GS_OK) r = gs_count(s, "SELECT count(*) FROM rels", &rels, err);
    if (r == GS_OK)
        r = gs_group(s, "SELECT label, count(*) FROM node_labels GROUP BY label ORDER BY label", by_label, &labels, err);
    if (r == GS_OK) r = gs_group(s, "SELECT type, count(*) FROM rels GROUP BY type ORDER BY type", by_type, &types, err);
    gs_read_end(s, token);
    if (r != GS_OK) {
        json_decref(by_label);
        json_decref(by_type);
        return r;
    }
    *out = json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "nodes", nodes, "relationships", rels, "labels", labels, "types",
                     types, "by_label", by_label, "by_type", by_type);
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}
