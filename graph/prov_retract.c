/*
 * graph/prov_retract.c - undoing one import: exactly the facts only it
 * asserted (rules in provenance.h), in one transaction.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROV_BATCH 512

typedef struct prov_undo {
    int64_t props_restored, props_removed, aliases_removed, rels_deleted, nodes_deleted, nodes_kept;
} prov_undo;

/* Loads the props object of a node or relationship; GS_NOT_FOUND if it is gone. */
static gs_status prov_load_props(graph_store *s, bool node, int64_t id, json_t **out, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, node ? GS_ST_NODE_PROPS : GS_ST_REL_GET, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    int col = node ? 0 : 4;
    if (rc == SQLITE_ROW) {
        *out = gs_props_load((const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col), err);
        if (!*out) r = GS_IO;
    } else if (rc == SQLITE_DONE) {
        r = GS_NOT_FOUND;
    } else {
        r = gs_sqlfail(s, err, "reading properties");
    }
    sqlite3_reset(st);
    return r;
}

/* Writes back a props object (and the search row of a node). */
static gs_status prov_save_props(graph_store *s, bool node, int64_t id, json_t *props, gs_error *err) {
    char *text = gs_props_dump(props);
    if (!text) return gs_fail(err, GS_IO, "out of memory");
    sqlite3_stmt *st = gs_stmt(s, node ? GS_ST_NODE_SET_PROPS : GS_ST_REL_SET_PROPS, err);
    gs_status r = st ? GS_OK : GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
        r = gs_exec_stmt(s, st, "restoring properties", err);
    }
    free(text);
    if (r == GS_OK && node) r = gs_fts_refresh(s, id, props, err);
    return r;
}

/* After a claim is dropped: if the value shown is the dropped one, show the
 * most recent remaining claim instead, or remove the property. */
static gs_status prov_restore_prop(graph_store *s, const char *kind, int64_t id, const char *key, const char *value,
                                   prov_undo *u, gs_error *err) {
    bool node = strcmp(kind, "node") == 0;
    if (node && strcmp(key, "name") == 0) return GS_OK;   /* identity is never rewritten */
    json_t *props = NULL;
    gs_status r = prov_load_props(s, node, id, &props, err);
    if (r == GS_NOT_FOUND) return GS_OK;
    if (r != GS_OK) return r;
    json_t *cur = json_object_get(props, key);
    char *cur_text = cur ? gs_prov_value_text(cur) : NULL;
    bool shown = cur_text && strcmp(cur_text, value) == 0;
    free(cur_text);
    if (shown) {
        sqlite3_stmt *st = gs_prov_prepare(s,
            "SELECT value FROM prop_claims WHERE kind = ?1 AND entity_id = ?2 AND key = ?3 ORDER BY seq DESC LIMIT 1",
            err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, id);
            sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                json_t *v = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                if (!v) r = gs_fail(err, GS_IO, "a stored property claim is not JSON");
                else {
                    json_object_set_new(props, key, v);
                    u->props_restored++;
                }
            } else if (rc == SQLITE_DONE) {
                json_object_del(props, key);
                u->props_removed++;
            } else {
                r = gs_sqlfail(s, err, "reading property claims");
            }
            sqlite3_finalize(st);
        }
        if (r == GS_OK) r = prov_save_props(s, node, id, props, err);
    }
    json_decref(props);
    return r;
}

/* One claim row being undone: its columns as JSON (integers and strings). */
typedef gs_status (*prov_row_fn)(graph_store *s, int64_t imp, json_t *row, void *ctx, prov_undo *u, gs_error *err);

/* The batch loop every undo step shares: read up to PROV_BATCH of the import's
 * claim rows with sel (?1 = import, ?2 = batch size), copy them out (the handler
 * deletes claims, so the statement must be finished first), hand each to fn,
 * and repeat until a batch comes back empty. fn must delete the claim it is
 * given, or the loop would see it again. */
static gs_status prov_batches(graph_store *s, int64_t imp, const char *sel, const char *what, prov_row_fn fn,
                              void *ctx, prov_undo *u, gs_error *err) {
    for (;;) {
        sqlite3_stmt *st = gs_prov_prepare(s, sel, err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, imp);
        sqlite3_bind_int(st, 2, PROV_BATCH);
        json_t *batch = json_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *row = json_array();
            for (int c = 0; c < sqlite3_column_count(st); c++)
                json_array_append_new(row, sqlite3_column_type(st, c) == SQLITE_INTEGER
                                               ? json_integer((json_int_t)sqlite3_column_int64(st, c))
                                               : json_string((const char *)sqlite3_column_text(st, c)));
            json_array_append_new(batch, row);
        }
        gs_status r = rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, what);
        sqlite3_finalize(st);
        size_t n = json_array_size(batch), i;
        json_t *row;
        json_array_foreach(batch, i, row) {
            if (r != GS_OK) break;
            r = fn(s, imp, row, ctx, u, err);
        }
        json_decref(batch);
        if (r != GS_OK) return r;
        if (n == 0) return GS_OK;
    }
}

/* Column i of a claim row. */
static int64_t row_int(json_t *row, size_t i) { return json_integer_value(json_array_get(row, i)); }
static const char *row_str(json_t *row, size_t i) { return json_string_value(json_array_get(row, i)); }

/* A property claim (seq, kind, entity_id, key, value): dropped, the value restored. */
static gs_status undo_prop_claim(graph_store *s, int64_t imp, json_t *row, void *ctx, prov_undo *u, gs_error *err) {
    (void)imp;
    (void)ctx;
    sqlite3_stmt *del = gs_prov_prepare(s, "DELETE FROM prop_claim_rows WHERE seq = ?1", err);
    if (!del) return GS_IO;
    sqlite3_bind_int64(del, 1, row_int(row, 0));
    gs_status r = sqlite3_step(del) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "dropping a property claim");
    sqlite3_finalize(del);
    if (r != GS_OK) return r;
    return prov_restore_prop(s, row_str(row, 1), row_int(row, 2), row_str(row, 3), row_str(row, 4), u, err);
}

/* Writes the import's implicit property claims (schema version 4, graph/store.c)
 * out as rows, older than every other claim on their entities, as the
 * *_props_claims triggers do when properties change: from here on undoing a
 * claim is the same for both kinds. */
static gs_status prov_materialize(graph_store *s, int64_t imp, gs_error *err) {
    static const char *const sql[] = {
        "INSERT OR IGNORE INTO prop_claim_rows(seq, kind, entity_id, key, value, import_id) "
        "SELECT (SELECT min(0, coalesce(min(seq), 0)) FROM prop_claim_rows) - row_number() OVER (), "
        "kind, entity_id, key, value, import_id FROM prop_claims WHERE import_id = ?1 AND seq = 0",
        "UPDATE node_claims SET props_implicit = 0 WHERE import_id = ?1 AND props_implicit = 1",
        "UPDATE rel_claims SET props_implicit = 0 WHERE import_id = ?1 AND props_implicit = 1"};
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st = gs_prov_prepare(s, sql[i], err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, imp);
        gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "writing out implicit claims");
        sqlite3_finalize(st);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Drops the import's property claims, batch by batch, restoring values. Once
 * prov_materialize has run, all of them are rows: the batches read the table
 * (in seq order straight from its import_id index), not the view, which would
 * compute and sort every claim of the import for each batch. */
static gs_status prov_undo_props(graph_store *s, int64_t imp, prov_undo *u, gs_error *err) {
    gs_status r = prov_materialize(s, imp, err);
    if (r != GS_OK) return r;
    return prov_batches(s, imp,
                        "SELECT seq, kind, entity_id, key, value FROM prop_claim_rows WHERE import_id = ?1 "
                        "ORDER BY seq LIMIT ?2",
                        "reading property claims", undo_prop_claim, NULL, u, err);
}

/* Runs a statement with up to two integer/text bindings and returns changes(). */
static gs_status prov_exec(graph_store *s, const char *sql, int64_t a, int64_t b, const char *t, int64_t *changes,
                           gs_error *err) {
    sqlite3_stmt *st = gs_prov_prepare(s, sql, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    if (t) sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    if (changes) *changes = 0;
    if (rc == SQLITE_ROW && changes) *changes = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE && changes) *changes = sqlite3_changes(s->db);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "retracting");
    sqlite3_finalize(st);
    return r;
}

/* An alias claim (node_id, alias_key): dropped; the alias goes when nobody else claims it. */
static gs_status undo_alias_claim(graph_store *s, int64_t imp, json_t *row, void *ctx, prov_undo *u, gs_error *err) {
    (void)ctx;
    int64_t node = row_int(row, 0), others = 0, gone = 0;
    const char *key = row_str(row, 1);
    gs_status r = prov_exec(s, "DELETE FROM alias_claims WHERE node_id = ?1 AND import_id = ?2 AND alias_key = ?3",
                            node, imp, key, NULL, err);
    if (r == GS_OK)
        r = prov_exec(s, "SELECT count(*) FROM alias_claims WHERE node_id = ?1 AND ?2 = ?2 AND alias_key = ?3",
                      node, 0, key, &others, err);
    if (r == GS_OK && others == 0)
        r = prov_exec(s, "DELETE FROM aliases WHERE node_id = ?1 AND ?2 = ?2 AND alias_key = ?3", node, 0, key,
                      &gone, err);
    if (r == GS_OK && gone > 0) {
        u->aliases_removed++;
        r = gs_fts_refresh(s, node, NULL, err);
    }
    return r;
}

/* Removes aliases that no other import claims. */
static gs_status prov_undo_aliases(graph_store *s, int64_t imp, prov_undo *u, gs_error *err) {
    return prov_batches(s, imp, "SELECT node_id, alias_key FROM alias_claims WHERE import_id = ?1 LIMIT ?2",
                        "reading alias claims", undo_alias_claim, NULL, u, err);
}

/* The statements of one entity kind's undo step. */
typedef struct undo_entity_sql {
    bool node;
    char del[160], cnt[160], move[260];
} undo_entity_sql;

/* A node or relationship claim (id, created): dropped; an entity this import
 * created goes when nobody else claims it (a node only if unconnected), or the
 * earliest other claimant inherits "created". */
static gs_status undo_entity_claim(graph_store *s, int64_t imp, json_t *row, void *ctx, prov_undo *u, gs_error *err) {
    const undo_entity_sql *q = ctx;
    int64_t id = row_int(row, 0), others = 0;
    bool created = row_int(row, 1) == 1;
    gs_status r = prov_exec(s, q->del, id, imp, NULL, NULL, err);
    if (r == GS_OK) r = prov_exec(s, q->cnt, id, 0, NULL, &others, err);
    if (r != GS_OK || !created) return r;
    if (others > 0) return prov_exec(s, q->move, id, 0, NULL, NULL, err);
    gs_error derr;
    gs_status d = q->node ? graph_node_delete(s, id, false, NULL, &derr) : graph_rel_delete(s, id, &derr);
    if (d == GS_OK) {
        if (q->node) u->nodes_deleted++;
        else u->rels_deleted++;
    } else if (d == GS_CONFLICT && q->node) {
        u->nodes_kept++;   /* still connected: kept */
    } else if (d != GS_NOT_FOUND) {
        r = gs_fail(err, d, "%s", derr.msg);
    }
    return r;
}

/* Drops the import's claims on nodes or relationships and deletes what an
 * import created and nobody claims any more. */
static gs_status prov_undo_entities(graph_store *s, bool node, int64_t imp, prov_undo *u, gs_error *err) {
    const char *tab = node ? "node_claims" : "rel_claims", *col = node ? "node_id" : "rel_id";
    undo_entity_sql q = {.node = node};
    char sel[160];
    snprintf(sel, sizeof sel, "SELECT %s, created FROM %s WHERE import_id = ?1 LIMIT ?2", col, tab);
    snprintf(q.del, sizeof q.del, "DELETE FROM %s WHERE %s = ?1 AND import_id = ?2", tab, col);
    snprintf(q.cnt, sizeof q.cnt, "SELECT count(*) FROM %s WHERE %s = ?1 AND ?2 = ?2", tab, col);
    snprintf(q.move, sizeof q.move,
             "UPDATE %s SET created = 1 WHERE %s = ?1 AND ?2 = ?2 AND import_id = "
             "(SELECT min(import_id) FROM %s WHERE %s = ?1)", tab, col, tab, col);
    return prov_batches(s, imp, sel, "reading claims", undo_entity_claim, &q, u, err);
}

/* imports.retract: everything above, then the import is marked retracted. */
gs_status prov_retract(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    sqlite3_stmt *st = gs_prov_prepare(s, "SELECT retracted_at IS NOT NULL FROM imports WHERE id = ?1", err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int retracted = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return gs_fail(err, GS_NOT_FOUND, "import %" PRId64 " not found", id);
    if (rc != SQLITE_ROW) return gs_sqlfail(s, err, "reading an import");
    if (retracted) return gs_fail(err, GS_CONFLICT, "import %" PRId64 " was already retracted", id);
    /* graph_node_delete/graph_rel_delete join an explicit transaction only, so
     * without the caller's we open one (not a bare BEGIN) for them to join. */
    bool own = !s->in_tx;
    gs_status r = own ? graph_store_begin(s, err) : gs_write_begin(s, err);
    if (r != GS_OK) return r;
    prov_undo u = {0};
    r = prov_undo_props(s, id, &u, err);
    if (r == GS_OK) r = prov_undo_aliases(s, id, &u, err);
    if (r == GS_OK) r = prov_undo_entities(s, false, id, &u, err);
    if (r == GS_OK) r = prov_undo_entities(s, true, id, &u, err);
    if (r == GS_OK)
        r = prov_exec(s, "UPDATE imports SET retracted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                         "WHERE id = ?1 AND ?2 = ?2", id, 0, NULL, NULL, err);
    if (!own) r = gs_write_end(s, r, err);
    else if (r == GS_OK && (r = graph_store_commit(s, err)) != GS_OK) graph_store_rollback(s);
    else if (r != GS_OK) graph_store_rollback(s);
    if (r != GS_OK) return r;
    *out = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "import", (json_int_t)id, "nodes_deleted",
                     (json_int_t)u.nodes_deleted, "nodes_kept", (json_int_t)u.nodes_kept, "relationships_deleted",
                     (json_int_t)u.rels_deleted, "properties_restored", (json_int_t)u.props_restored,
                     "properties_removed", (json_int_t)u.props_removed, "aliases_removed",
                     (json_int_t)u.aliases_removed);
    return GS_OK;
}
