/*
 * graph/provenance.c - recording imports and the claims they make (see
 * provenance.h). The hooks gs_prov_node/rel/alias run inside node.put,
 * rel.put and add_alias, so every write path is attributed in one place.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Canonical JSON text of one property value, so claims compare by text. */
char *gs_prov_value_text(const json_t *v) {
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

/* One uncached statement (claims bookkeeping that is not on a hot path). */
sqlite3_stmt *gs_prov_prepare(graph_store *s, const char *sql, gs_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        gs_sqlfail(s, err, "provenance");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Claims one property value for the running import; counts it if new or changed. */
static gs_status gs_prov_prop(graph_store *s, const char *kind, int64_t id, const char *key, const json_t *val,
                              bool fresh, bool *changed, gs_error *err) {
    char *text = gs_prov_value_text(val);
    if (!text) return gs_fail(err, GS_IO, "out of memory");
    sqlite3_stmt *st = fresh ? NULL : gs_stmt(s, GS_ST_PROV_PROP_GET, err);
    gs_status r = st || fresh ? GS_OK : GS_IO;
    bool same = false;
    if (r == GS_OK && !fresh) {   /* an entity created just now has no claims to compare with */
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, s->prov_import);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) same = strcmp((const char *)sqlite3_column_text(st, 0), text) == 0;
        else if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading a property claim");
        sqlite3_reset(st);
    }
    if (r == GS_OK && !same) {
        st = gs_stmt(s, GS_ST_PROV_PROP_PUT, err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, id);
            sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, s->prov_import);
            r = gs_exec_stmt(s, st, "recording a property claim", err);
        }
        if (r == GS_OK) {
            s->prov.props_set++;
            *changed = true;
        }
    }
    free(text);
    return r;
}

/* Claims every non-null property of props for entity (kind, id); fresh: it was just created. */
static gs_status gs_prov_props(graph_store *s, const char *kind, int64_t id, json_t *props, bool fresh, bool *changed,
                               gs_error *err) {
    const char *key;
    json_t *val;
    bool node = kind[0] == 'n';
    json_object_foreach(props, key, val) {
        if (json_is_null(val)) continue;
        if (node && strcmp(key, "name") == 0) continue;   /* identity: never changed, never retracted */
        gs_status r = gs_prov_prop(s, kind, id, key, val, fresh, changed, err);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Inserts the (entity, import) claim row; *is_new tells whether it was not there yet. */
static gs_status gs_prov_claim(graph_store *s, gs_stmt_id sid, int64_t id, bool created, bool *is_new,
                               gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, sid, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, s->prov_import);
    sqlite3_bind_int(st, 3, created ? 1 : 0);
    gs_status r = gs_exec_stmt(s, st, "recording a claim", err);
    if (is_new) *is_new = r == GS_OK && sqlite3_changes(s->db) > 0;
    return r;
}

/* Marks an existing entity as changed by this import, once; true the first time. */
static gs_status gs_prov_mark_updated(graph_store *s, const char *table, const char *col, int64_t id, bool *first,
                                      gs_error *err) {
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE %s SET created = 2 WHERE %s = ?1 AND import_id = ?2 AND created = 0", table,
             col);
    sqlite3_stmt *st = gs_prov_prepare(s, sql, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, s->prov_import);
    int rc = sqlite3_step(st);
    *first = rc == SQLITE_DONE && sqlite3_changes(s->db) > 0;
    gs_status r = rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "marking a claim");
    sqlite3_finalize(st);
    return r;
}

/* node.put hook: the direct source claims the node; an import claims it, its
 * property values and its aliases, and counts what it created or changed. */
gs_status gs_prov_node(graph_store *s, int64_t id, bool created, json_t *props, json_t *aliases, gs_error *err) {
    gs_status r = gs_prov_claim(s, GS_ST_PROV_NODE_CLAIM, id, created, NULL, err);
    if (r != GS_OK || s->prov_import == 0) return r;
    if (created) s->prov.nodes_created++;
    bool changed = false;
    if (props) r = gs_prov_props(s, "node", id, props, created, &changed, err);
    size_t i;
    json_t *a;
    json_array_foreach(aliases, i, a) {
        if (r != GS_OK) break;
        r = gs_prov_alias(s, id, json_string_value(a), err);
    }
    (void)changed;
    bool really = s->prov_changed;   /* the merge changed the stored node */
    s->prov_changed = false;
    if (r == GS_OK && really && !created) {
        bool first = false;
        r = gs_prov_mark_updated(s, "node_claims", "node_id", id, &first, err);
        if (first) s->prov.nodes_updated++;
    }
    return r;
}

/* rel.put hook: as gs_prov_node for relationships. */
gs_status gs_prov_rel(graph_store *s, int64_t id, bool created, json_t *props, gs_error *err) {
    gs_status r = gs_prov_claim(s, GS_ST_PROV_REL_CLAIM, id, created, NULL, err);
    if (r != GS_OK || s->prov_import == 0) return r;
    if (created) s->prov.rels_created++;
    bool changed = false;
    if (props) r = gs_prov_props(s, "rel", id, props, created, &changed, err);
    (void)changed;
    bool really = s->prov_changed;
    s->prov_changed = false;
    if (r == GS_OK && really && !created) {
        bool first = false;
        r = gs_prov_mark_updated(s, "rel_claims", "rel_id", id, &first, err);
        if (first) s->prov.rels_updated++;
    }
    return r;
}

/* Alias hook: only imports claim aliases (direct aliases are not tracked). */
gs_status gs_prov_alias(graph_store *s, int64_t id, const char *alias, gs_error *err) {
    if (s->prov_import == 0) return GS_OK;
    char *key = graph_name_key(alias, err);
    if (!key) return GS_INVALID;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_PROV_ALIAS_CLAIM, err);
    gs_status r = st ? GS_OK : GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, s->prov_import);
        r = gs_exec_stmt(s, st, "recording an alias claim", err);
        if (r == GS_OK && sqlite3_changes(s->db) > 0) s->prov.aliases_added++;
    }
    free(key);
    return r;
}

/* Re-imports are no-ops: finds the live import of the same plugin + content. */
gs_status prov_import_find(graph_store *s, const char *plugin, const char *sha256, int64_t *id_out, gs_error *err) {
    *id_out = 0;
    sqlite3_stmt *st = gs_prov_prepare(s,
        "SELECT id FROM imports WHERE sha256 = ?1 AND plugin = ?2 AND finished_at IS NOT NULL "
        "AND retracted_at IS NULL ORDER BY id LIMIT 1", err);
    if (!st) return GS_IO;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, plugin, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    if (rc == SQLITE_ROW) *id_out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, "looking up an import");
    sqlite3_finalize(st);
    return r;
}

/* Opens the imports row and points the hooks at it. */
gs_status prov_import_begin(graph_store *s, const char *plugin, const char *input_name, const char *sha256,
                            int64_t *id_out, gs_error *err) {
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    if (s->prov_import) return gs_fail(err, GS_INVALID, "an import is already running on this connection");
    sqlite3_stmt *st = gs_prov_prepare(s,
        "INSERT INTO imports(plugin, input_name, sha256, started_at) "
        "VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", err);
    if (!st) return GS_IO;
    sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, input_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sha256, -1, SQLITE_STATIC);
    gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "recording an import");
    sqlite3_finalize(st);
    if (r != GS_OK) return r;
    s->prov_import = sqlite3_last_insert_rowid(s->db);
    memset(&s->prov, 0, sizeof s->prov);
    if (id_out) *id_out = s->prov_import;
    return GS_OK;
}

/* Closes the imports row with its counts; writes are direct again afterwards. */
gs_status prov_import_finish(graph_store *s, int64_t warnings, prov_counts *out, gs_error *err) {
    if (!s->prov_import) return gs_fail(err, GS_INVALID, "no import is running");
    sqlite3_stmt *st = gs_prov_prepare(s,
        "UPDATE imports SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), nodes = ?2, "
        "relationships = ?3, properties = ?4, warnings = ?5 WHERE id = ?1", err);
    gs_status r = st ? GS_OK : GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, s->prov_import);
        sqlite3_bind_int64(st, 2, s->prov.nodes_created + s->prov.nodes_updated);
        sqlite3_bind_int64(st, 3, s->prov.rels_created + s->prov.rels_updated);
        sqlite3_bind_int64(st, 4, s->prov.props_set);
        sqlite3_bind_int64(st, 5, warnings);
        r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "finishing an import");
        sqlite3_finalize(st);
    }
    if (out) *out = s->prov;
    prov_import_stop(s);
    return r;
}

/* Error paths: forget the running import (its rows go with the rollback). */
void prov_import_stop(graph_store *s) {
    s->prov_import = 0;
}

/* Counts so far, for progress and dry runs. */
prov_counts prov_current(const graph_store *s) {
    return s->prov;
}
