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

/* Marks an existing entity as changed by this import, once; true the first time.
 * The claim may sit in a range: the update goes through the view, whose trigger
 * moves it out first, and a view's update counts no changes, so the claim is
 * read before. */
static gs_status gs_prov_mark_updated(graph_store *s, const char *table, const char *col, int64_t id, bool *first,
                                      gs_error *err) {
    char sql[160];
    *first = false;
    snprintf(sql, sizeof sql, "SELECT created = 0 FROM %s WHERE %s = ?1 AND import_id = ?2", table, col);
    sqlite3_stmt *st = gs_prov_prepare(s, sql, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, s->prov_import);
    int rc = sqlite3_step(st);
    bool unmarked = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    gs_status r = rc == SQLITE_ROW || rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "reading a claim");
    sqlite3_finalize(st);
    if (r != GS_OK || !unmarked) return r;
    snprintf(sql, sizeof sql, "UPDATE %s SET created = 2 WHERE %s = ?1 AND import_id = ?2", table, col);
    st = gs_prov_prepare(s, sql, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, s->prov_import);
    r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "marking a claim");
    sqlite3_finalize(st);
    *first = r == GS_OK;
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

/* ---- replaying recorded history (ctx:replay_import / ctx:replay_claims, plugin_import.c) ----
 * An import that restores an export (json_graph reading json_export's provenance) recreates the
 * historical imports as rows of their own and attributes each claim to its original import, so
 * the graph's provenance is the one that was exported. */

/* Why: an optional string field of a replayed import row (NULL when absent or null). */
static const char *prov_replay_str(const json_t *rec, const char *key) {
    return json_string_value(json_object_get(rec, key));
}

/* Recreates one historical import row (or reuses the identical one already there: same plugin,
 * input, sha256 and started_at), so restoring an export twice, or into the daemon it came from,
 * adds no rows. Why a separate row per import: retract, imports.show and checks keep working
 * on the restored history exactly as on the original. */
gs_status prov_replay_import(graph_store *s, const json_t *rec, int64_t *id_out, bool *reused, gs_error *err) {
    *id_out = 0;
    *reused = false;
    if (!s->prov_import) return gs_fail(err, GS_INVALID, "history can only be replayed by an import");
    static const char *const need[] = {"plugin", "input", "sha256", "started_at"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        const char *v = prov_replay_str(rec, need[i]);
        if (!v || !*v) return gs_fail(err, GS_INVALID, "a replayed import needs a non-empty string %s", need[i]);
    }
    static const char *const opt_str[] = {"finished_at", "retracted_at"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(rec, opt_str[i]);
        if (v && !json_is_null(v) && !json_is_string(v))
            return gs_fail(err, GS_INVALID, "a replayed import's %s must be a string or null", opt_str[i]);
    }
    static const char *const counts[] = {"nodes", "relationships", "properties", "warnings"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(rec, counts[i]);
        if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
            return gs_fail(err, GS_INVALID, "a replayed import's %s must be a non-negative integer", counts[i]);
    }
    sqlite3_stmt *st = gs_prov_prepare(s,
        "SELECT id FROM imports WHERE plugin = ?1 AND input_name = ?2 AND sha256 = ?3 AND started_at = ?4 "
        "AND id <> ?5 ORDER BY id LIMIT 1", err);
    if (!st) return GS_IO;
    for (int i = 0; i < 4; i++) sqlite3_bind_text(st, i + 1, prov_replay_str(rec, need[i]), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, s->prov_import);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id_out = sqlite3_column_int64(st, 0);
        *reused = true;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return GS_OK;
    if (rc != SQLITE_DONE) return gs_sqlfail(s, err, "looking up a replayed import");
    st = gs_prov_prepare(s,
        "INSERT INTO imports(plugin, input_name, sha256, started_at, finished_at, retracted_at, nodes, "
        "relationships, properties, warnings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", err);
    if (!st) return GS_IO;
    for (int i = 0; i < 4; i++) sqlite3_bind_text(st, i + 1, prov_replay_str(rec, need[i]), -1, SQLITE_STATIC);
    for (int i = 0; i < 2; i++) {
        const char *v = prov_replay_str(rec, opt_str[i]);
        if (v) sqlite3_bind_text(st, i + 5, v, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, i + 5);
    }
    for (int i = 0; i < 4; i++) sqlite3_bind_int64(st, i + 7, json_integer_value(json_object_get(rec, counts[i])));
    gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "recording a replayed import");
    sqlite3_finalize(st);
    if (r == GS_OK) *id_out = sqlite3_last_insert_rowid(s->db);
    return r;
}

/* Why: the running import's own claims on an entity make way for the replayed ones. */
static gs_status prov_replay_clear(graph_store *s, bool node, int64_t id, gs_error *err) {
    /* The entity claim: a DELETE on the claims view copies the matching view rows
     * into a temporary b-tree and runs its INSTEAD OF trigger per row, which is
     * only needed to split an id range (bulk loads); the claims a row-by-row
     * import wrote are plain rows. So the view only when a range holds the entity
     * (in a 50,000-model restore the view's temporary b-trees, opened and closed
     * per call, were most of this function). Same result either way. */
    sqlite3_stmt *st = gs_stmt(s, node ? GS_ST_REPLAY_NODE_IN_RANGE : GS_ST_REPLAY_REL_IN_RANGE, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, s->prov_import);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gs_sqlfail(s, err, "replacing claims");
    gs_stmt_id first = rc == SQLITE_ROW ? (node ? GS_ST_REPLAY_CLEAR_NODE : GS_ST_REPLAY_CLEAR_REL)
                                        : (node ? GS_ST_REPLAY_CLEAR_NODE_ROWS : GS_ST_REPLAY_CLEAR_REL_ROWS);
    const gs_stmt_id sids[2][3] = {{first, GS_ST_REPLAY_CLEAR_REL_PROPS, GS_ST__COUNT},
                                   {first, GS_ST_REPLAY_CLEAR_NODE_PROPS, GS_ST_REPLAY_CLEAR_NODE_ALIASES}};
    for (int i = 0; i < 3 && sids[node][i] != GS_ST__COUNT; i++) {
        st = gs_stmt(s, sids[node][i], err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, s->prov_import);
        gs_status r = gs_exec_stmt(s, st, "replacing claims", err);
        if (r == GS_OK && i == 1) s->prov.props_set -= sqlite3_changes(s->db);   /* no longer this run's */
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Why: one replayed property claim; an identical claim already there keeps its place (seq). */
static gs_status prov_replay_prop(graph_store *s, const char *kind, int64_t id, const json_t *c, gs_error *err) {
    const char *key = json_string_value(json_object_get(c, "key"));
    json_t *val = json_object_get(c, "value");
    int64_t imp = json_integer_value(json_object_get(c, "import"));
    if (!key || !*key || !val || json_is_null(val))
        return gs_fail(err, GS_INVALID, "a property claim needs a key and a non-null value");
    if (kind[0] == 'n' && strcmp(key, "name") == 0)
        return gs_fail(err, GS_INVALID, "a node's name is its identity and is never claimed");
    if (imp == 0) return gs_fail(err, GS_INVALID, "direct writes (import 0) claim no property values");
    int64_t saved = s->prov_import;
    s->prov_import = imp;   /* GS_ST_PROV_PROP_GET/PUT read the import id from here */
    bool changed = false;
    gs_status r = gs_prov_prop(s, kind, id, key, val, false, &changed, err);
    s->prov_import = saved;   /* a new replayed claim counts in props_set, an identical one does not */
    return r;
}

/* Why: one replayed alias claim, of an alias the node has. */
static gs_status prov_replay_alias(graph_store *s, int64_t id, const json_t *c, gs_error *err) {
    const char *alias = json_string_value(json_object_get(c, "alias"));
    int64_t imp = json_integer_value(json_object_get(c, "import"));
    if (!alias) return gs_fail(err, GS_INVALID, "an alias claim needs an alias");
    if (imp == 0) return gs_fail(err, GS_INVALID, "direct writes (import 0) claim no aliases");
    char *key = graph_name_key(alias, err);
    if (!key) return GS_INVALID;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_ALIAS_EXISTS, err);
    gs_status r = st ? GS_OK : GS_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) r = gs_fail(err, GS_INVALID, "\"%s\" is not an alias of node %" PRId64, alias, id);
        else if (rc != SQLITE_ROW) r = gs_sqlfail(s, err, "reading an alias");
        sqlite3_reset(st);
    }
    if (r == GS_OK) {
        st = gs_stmt(s, GS_ST_PROV_ALIAS_CLAIM, err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, imp);
            r = gs_exec_stmt(s, st, "recording an alias claim", err);
        }
    }
    free(key);
    return r;
}

/* Replaces the running import's claims on one entity with recorded ones (see provenance.h). */
gs_status prov_replay_claims(graph_store *s, const char *kind, int64_t id, const json_t *claims, gs_error *err) {
    bool node = strcmp(kind, "node") == 0;
    if (!node && strcmp(kind, "rel") != 0) return gs_fail(err, GS_INVALID, "kind must be \"node\" or \"rel\"");
    if (!s->prov_import) return gs_fail(err, GS_INVALID, "history can only be replayed by an import");
    /* the statements every existence check in the store uses (gs_node_exists) */
    sqlite3_stmt *st = gs_stmt(s, node ? GS_ST_NODE_PROPS : GS_ST_REL_GET, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return gs_fail(err, GS_NOT_FOUND, "no %s with id %" PRId64, node ? "node" : "relationship", id);
    if (rc != SQLITE_ROW) return gs_sqlfail(s, err, "replaying claims");
    gs_status r = prov_replay_clear(s, node, id, err);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(claims, "entity"), i, c) {
        if (r != GS_OK) break;
        const char *effect = json_string_value(json_object_get(c, "effect"));
        int created = !effect ? -1 : strcmp(effect, "created") == 0 ? 1 : strcmp(effect, "updated") == 0 ? 2
                                   : strcmp(effect, "asserted") == 0 ? 0 : -1;
        if (created < 0) {
            r = gs_fail(err, GS_INVALID, "an entity claim's effect must be \"created\", \"updated\" or \"asserted\"");
            break;
        }
        st = gs_stmt(s, node ? GS_ST_PROV_NODE_CLAIM : GS_ST_PROV_REL_CLAIM, err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(c, "import")));
        sqlite3_bind_int(st, 3, created);
        r = gs_exec_stmt(s, st, "recording a claim", err);
    }
    json_array_foreach(json_object_get(claims, "properties"), i, c) {
        if (r != GS_OK) break;
        r = prov_replay_prop(s, node ? "node" : "rel", id, c, err);
    }
    json_t *aliases = json_object_get(claims, "aliases");
    if (r == GS_OK && !node && json_array_size(aliases) > 0)
        return gs_fail(err, GS_INVALID, "a relationship has no aliases");
    json_array_foreach(aliases, i, c) {
        if (r != GS_OK) break;
        r = prov_replay_alias(s, id, c, err);
    }
    return r;
}

/* Removes a finished import's row when it claims nothing (see provenance.h). */
gs_status prov_import_drop_unclaimed(graph_store *s, int64_t id, bool *dropped, gs_error *err) {
    *dropped = false;
    sqlite3_stmt *st = gs_prov_prepare(s,
        "SELECT EXISTS (SELECT 1 FROM node_claims WHERE import_id = ?1) OR "
        "EXISTS (SELECT 1 FROM rel_claims WHERE import_id = ?1) OR "
        "EXISTS (SELECT 1 FROM alias_claims WHERE import_id = ?1) OR "
        "EXISTS (SELECT 1 FROM prop_claims WHERE import_id = ?1)", err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    bool claims = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return gs_sqlfail(s, err, "looking for an import's claims");
    if (claims) return GS_OK;
    st = gs_prov_prepare(s, "DELETE FROM imports WHERE id = ?1", err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "removing an import");
    sqlite3_finalize(st);
    *dropped = r == GS_OK;
    return r;
}
