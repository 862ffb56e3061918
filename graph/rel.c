/*
 * graph/rel.c - relationships: merge on (start, type, end) or create, read, find, delete.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Builds {"$rel":...} from a row (id, type, start, end, props) so callers share one shape. */
gs_status gs_rel_json_row(sqlite3_stmt *st, json_t **out, gs_error *err) {
    json_t *props = gs_props_load((const char *)sqlite3_column_text(st, 4), (size_t)sqlite3_column_bytes(st, 4), err);
    if (!props) return GS_IO;
    *out = json_pack("{s:{s:I,s:s,s:I,s:I,s:o}}", "$rel", "id", (json_int_t)sqlite3_column_int64(st, 0), "type",
                     (const char *)sqlite3_column_text(st, 1), "start", (json_int_t)sqlite3_column_int64(st, 2),
                     "end", (json_int_t)sqlite3_column_int64(st, 3), "properties", props);
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* {"$rel":...} for one id, or GS_NOT_FOUND. */
gs_status gs_rel_json(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_GET, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    gs_status r;
    if (rc == SQLITE_ROW) r = gs_rel_json_row(st, out, err);
    else if (rc == SQLITE_DONE) r = gs_fail(err, GS_NOT_FOUND, "relationship %" PRId64 " not found", id);
    else r = gs_sqlfail(s, err, "reading a relationship");
    sqlite3_reset(st);
    return r;
}

/* Relationship ends must exist; says which end is missing. */
static gs_status gs_rel_node_exists(graph_store *s, int64_t id, const char *which, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return GS_OK;
    if (rc == SQLITE_DONE) return gs_fail(err, GS_NOT_FOUND, "%s node %" PRId64 " not found", which, id);
    return gs_sqlfail(s, err, "reading a node");
}

/* Inserts a relationship; nulls in props are dropped. */
static gs_status gs_rel_insert(graph_store *s, int64_t start, const char *type, int64_t end, json_t *props,
                               int64_t *id, gs_error *err) {
    json_t *obj = json_object();
    gs_props_merge(obj, props, NULL);
    char *text = gs_props_dump(obj);
    json_decref(obj);
    if (!text) return gs_fail(err, GS_IO, "out of memory");
    sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_INSERT, err);
    gs_status r = st ? GS_OK : GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, start);
        sqlite3_bind_int64(st, 3, end);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        r = gs_exec_stmt(s, st, "inserting a relationship", err);
        if (r == GS_OK) *id = sqlite3_last_insert_rowid(s->db);
    }
    free(text);
    return r;
}

/* Merges props into relationship id whose current props text is cur_text. */
static gs_status gs_rel_merge(graph_store *s, int64_t id, const char *cur_text, size_t cur_len, json_t *props,
                              gs_error *err) {
    s->prov_changed = false;
    if (!props || json_object_size(props) == 0) return GS_OK;
    json_t *cur = gs_props_load(cur_text, cur_len, err);
    if (!cur) return GS_IO;
    gs_props_merge(cur, props, NULL);
    char *text = gs_props_dump(cur);
    json_decref(cur);
    if (!text) return gs_fail(err, GS_IO, "out of memory");
    gs_status r = GS_OK;
    s->prov_changed = strlen(text) != cur_len || memcmp(text, cur_text, cur_len) != 0;   /* provenance */
    if (s->prov_changed) {
        sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_SET_PROPS, err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
            r = gs_exec_stmt(s, st, "updating a relationship", err);
        }
    }
    free(text);
    return r;
}

/* rel.put: merge into the lowest-id (start, type, end) relationship, or create one. */
gs_status graph_rel_put(graph_store *s, int64_t start, const char *type, int64_t end, json_t *props, bool create,
                        int64_t *id_out, bool *created, gs_error *err) {
    if (!gs_utf8_ok(type)) return gs_fail(err, GS_INVALID, "type must be a non-empty UTF-8 string");
    gs_status r = gs_props_check(props, "properties", err);
    if (r != GS_OK) return r;
    r = gs_write_begin(s, err);
    if (r != GS_OK) return r;
    r = gs_rel_node_exists(s, start, "start", err);
    if (r == GS_OK) r = gs_rel_node_exists(s, end, "end", err);
    int64_t id = 0;
    bool is_new = true;
    if (r == GS_OK && !create) {
        sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_FIND, err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_int64(st, 1, start);
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, end);
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                is_new = false;
                id = sqlite3_column_int64(st, 0);
                /* copy: the merge runs other statements */
                size_t len = (size_t)sqlite3_column_bytes(st, 1);
                char *cur = malloc(len + 1);
                if (!cur) r = gs_fail(err, GS_IO, "out of memory");
                else {
                    memcpy(cur, sqlite3_column_text(st, 1), len);
                    cur[len] = '\0';
                }
                sqlite3_reset(st);
                if (r == GS_OK) r = gs_rel_merge(s, id, cur, len, props, err);
                free(cur);
            } else if (rc != SQLITE_DONE) {
                r = gs_sqlfail(s, err, "looking up a relationship");
            }
            sqlite3_reset(st);
        }
    }
    if (r == GS_OK && is_new) r = gs_rel_insert(s, start, type, end, props, &id, err);
    if (r == GS_OK) r = gs_prov_rel(s, id, is_new, props, err);   /* provenance claim */
    r = gs_write_end(s, r, err);
    if (r == GS_OK) {
        if (id_out) *id_out = id;
        if (created) *created = is_new;
    }
    return r;
}

/* rel.get by id. */
gs_status graph_rel_get(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    return gs_rel_json(s, id, out, err);
}

/* rel.delete by id. */
gs_status graph_rel_delete(graph_store *s, int64_t id, gs_error *err) {
    gs_status r = gs_write_begin(s, err);
    if (r != GS_OK) return r;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_DELETE, err);
    if (!st) r = GS_IO;
    else {
        sqlite3_bind_int64(st, 1, id);
        r = gs_exec_stmt(s, st, "deleting a relationship", err);
        if (r == GS_OK && sqlite3_changes(s->db) == 0)
            r = gs_fail(err, GS_NOT_FOUND, "relationship %" PRId64 " not found", id);
    }
    return gs_write_end(s, r, err);
}

/* Resolves (start, type, end) to the oldest such relationship. */
gs_status graph_rel_find(graph_store *s, int64_t start, const char *type, int64_t end, int64_t *id_out,
                         gs_error *err) {
    if (!gs_utf8_ok(type)) return gs_fail(err, GS_INVALID, "type must be a non-empty UTF-8 string");
    sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_FIND, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, start);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, end);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    if (rc == SQLITE_ROW) {
        if (id_out) *id_out = sqlite3_column_int64(st, 0);
    } else if (rc == SQLITE_DONE) {
        r = gs_fail(err, GS_NOT_FOUND, "no %.100s relationship from node %" PRId64 " to node %" PRId64, type, start,
                    end);
    } else {
        r = gs_sqlfail(s, err, "looking up a relationship");
    }
    sqlite3_reset(st);
    return r;
}
