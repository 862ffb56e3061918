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

/* The statements a retract runs once per claim. Prepared on first use and kept
 * for the whole retract: preparing them per claim (a query over the
 * prop_claims view among them) was most of a large retract's time. */
enum {
    RS_PROP_DROP,
    RS_PROP_LATEST,
    RS_ALIAS_DROP,
    RS_ALIAS_OTHERS,
    RS_ALIAS_DELETE,
    RS_NODE_DROP,
    RS_NODE_OTHERS,
    RS_NODE_MOVE,
    RS_REL_DROP,
    RS_REL_OTHERS,
    RS_REL_MOVE,
    RS_ENTITY_CLAIMS,
    RS_ENTITY_ROWS,
    RS_WRITE_OUT,
    RS_NODE_UNFLAG,
    RS__COUNT
};

static const char *const retract_sql[RS__COUNT] = {
    [RS_PROP_DROP] = "DELETE FROM prop_claim_rows WHERE seq = ?1",
    [RS_PROP_LATEST] = "SELECT value FROM prop_claims WHERE kind = ?1 AND entity_id = ?2 AND key = ?3 "
                       "ORDER BY seq DESC LIMIT 1",
    [RS_ALIAS_DROP] = "DELETE FROM alias_claims WHERE node_id = ?1 AND import_id = ?2 AND alias_key = ?3",
    [RS_ALIAS_OTHERS] = "SELECT count(*) FROM alias_claims WHERE node_id = ?1 AND ?2 = ?2 AND alias_key = ?3",
    [RS_ALIAS_DELETE] = "DELETE FROM aliases WHERE node_id = ?1 AND ?2 = ?2 AND alias_key = ?3",
    [RS_NODE_DROP] = "DELETE FROM node_claims WHERE node_id = ?1 AND import_id = ?2",
    [RS_NODE_OTHERS] = "SELECT count(*) FROM node_claims WHERE node_id = ?1 AND ?2 = ?2",
    [RS_NODE_MOVE] = "UPDATE node_claims SET created = 1 WHERE node_id = ?1 AND ?2 = ?2 AND import_id = "
                     "(SELECT min(import_id) FROM node_claims WHERE node_id = ?1)",
    [RS_REL_DROP] = "DELETE FROM rel_claims WHERE rel_id = ?1 AND import_id = ?2",
    [RS_REL_OTHERS] = "SELECT count(*) FROM rel_claims WHERE rel_id = ?1 AND ?2 = ?2",
    [RS_REL_MOVE] = "UPDATE rel_claims SET created = 1 WHERE rel_id = ?1 AND ?2 = ?2 AND import_id = "
                    "(SELECT min(import_id) FROM rel_claims WHERE rel_id = ?1)",
    /* ?1 entity, ?2 import, ?3 kind: its claims through the view, then as stored rows */
    [RS_ENTITY_CLAIMS] = "SELECT key, value FROM prop_claims WHERE kind = ?3 AND entity_id = ?1 AND import_id = ?2",
    [RS_ENTITY_ROWS] = "SELECT seq, kind, entity_id, key, value FROM prop_claim_rows "
                       "WHERE kind = ?3 AND entity_id = ?1 AND import_id = ?2 ORDER BY seq",
    /* prov_materialize for one node (a kept one, prov_undo_node_props) */
    [RS_WRITE_OUT] = "INSERT OR IGNORE INTO prop_claim_rows(seq, kind, entity_id, key, value, import_id) "
                     "SELECT (SELECT min(0, coalesce(min(seq), 0)) FROM prop_claim_rows) - row_number() OVER (), "
                     "kind, entity_id, key, value, import_id FROM prop_claims "
                     "WHERE kind = ?3 AND entity_id = ?1 AND import_id = ?2 AND seq = 0",
    [RS_NODE_UNFLAG] = "UPDATE node_claims SET props_implicit = 0 WHERE node_id = ?1 AND import_id = ?2",
};

/* One retract in progress: its counts, its statements, and the entity whose
 * properties are being restored. Property claims come grouped by entity (an
 * import writes an entity's claims together, and prov_materialize numbers
 * them in entity order), so an entity's props are loaded once, changed in
 * memory claim by claim, and saved (with its search row) once, when the
 * claims move on to another entity: the same result as a load and save per
 * claim (see prov_props_flush for why the view may be read in between). */
typedef struct prov_run {
    graph_store *s;
    int64_t imp;
    prov_undo u;
    sqlite3_stmt *st[RS__COUNT];
    bool held, node, dirty, gone;   /* held: node/id/props/gone describe an entity */
    int64_t id;
    json_t *props;                  /* NULL when gone */
    int64_t after;                  /* the props step's batches resume after this seq */
} prov_run;

/* See provenance.h: tests compare both ways. */
void prov_retract_set_shortcut(graph_store *s, bool on) { s->retract_no_shortcut = !on; }

/* The statement for one step, reset and unbound, prepared on first use. */
static sqlite3_stmt *prov_stmt(prov_run *rr, int which, gs_error *err) {
    if (!rr->st[which]) rr->st[which] = gs_prov_prepare(rr->s, retract_sql[which], err);
    return rr->st[which];
}

/* Runs a step with up to two integer bindings and a text one; *count (if
 * given) gets the first column of a row it returns. */
static gs_status prov_exec(prov_run *rr, int which, int64_t a, int64_t b, const char *t, int64_t *count,
                           gs_error *err) {
    sqlite3_stmt *st = prov_stmt(rr, which, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    if (t) sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    if (count) *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) r = gs_sqlfail(rr->s, err, "retracting");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static void prov_run_free(prov_run *rr) {
    for (int i = 0; i < RS__COUNT; i++) sqlite3_finalize(rr->st[i]);
    json_decref(rr->props);
    rr->props = NULL;
    rr->held = false;
}

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

/* Saves the held entity's props if a claim changed them, and lets it go.
 * Until then the stored props are the ones from before the retract touched
 * the entity, which is what RS_PROP_LATEST must see: an implicit claim of
 * another import on it is read from the stored props through the view, and
 * the *_props_claims trigger writes those claims out from the stored (old)
 * props at the first save either way, with the same values. */
static gs_status prov_props_flush(prov_run *rr, gs_error *err) {
    gs_status r = GS_OK;
    if (rr->held && rr->dirty) r = prov_save_props(rr->s, rr->node, rr->id, rr->props, err);
    json_decref(rr->props);
    rr->props = NULL;
    rr->held = rr->dirty = rr->gone = false;
    return r;
}

/* Ends a step that held an entity: its props are saved if the step (r)
 * succeeded and changed them, dropped if it failed (all is rolled back). */
static gs_status prov_props_done(prov_run *rr, gs_status r, gs_error *err) {
    if (r != GS_OK) rr->dirty = false;
    gs_status f = prov_props_flush(rr, err);
    return r != GS_OK ? r : f;
}

/* Makes (node, id) the held entity, saving the previous one. */
static gs_status prov_props_hold(prov_run *rr, bool node, int64_t id, gs_error *err) {
    if (rr->held && rr->node == node && rr->id == id) return GS_OK;
    gs_status r = prov_props_flush(rr, err);
    if (r != GS_OK) return r;
    r = prov_load_props(rr->s, node, id, &rr->props, err);
    if (r != GS_OK && r != GS_NOT_FOUND) return r;
    rr->held = true;
    rr->node = node;
    rr->id = id;
    rr->gone = r == GS_NOT_FOUND;
    return GS_OK;
}

/* After a claim is dropped: if the value shown is the dropped one, show the
 * most recent remaining claim instead, or remove the property. */
static gs_status prov_restore_prop(prov_run *rr, const char *kind, int64_t id, const char *key, const char *value,
                                   gs_error *err) {
    bool node = strcmp(kind, "node") == 0;
    if (node && strcmp(key, "name") == 0) return GS_OK;   /* identity is never rewritten */
    gs_status r = prov_props_hold(rr, node, id, err);
    if (r != GS_OK || rr->gone) return r;
    json_t *cur = json_object_get(rr->props, key);
    char *cur_text = cur ? gs_prov_value_text(cur) : NULL;
    bool shown = cur_text && strcmp(cur_text, value) == 0;
    free(cur_text);
    if (!shown) return GS_OK;
    sqlite3_stmt *st = prov_stmt(rr, RS_PROP_LATEST, err);
    if (!st) return GS_IO;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *v = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!v) r = gs_fail(err, GS_IO, "a stored property claim is not JSON");
        else {
            json_object_set_new(rr->props, key, v);
            rr->u.props_restored++;
        }
    } else if (rc == SQLITE_DONE) {
        json_object_del(rr->props, key);
        rr->u.props_removed++;
    } else {
        r = gs_sqlfail(rr->s, err, "reading property claims");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == GS_OK) rr->dirty = true;
    return r;
}

/* One claim row being undone: its columns as JSON (integers and strings). */
typedef gs_status (*prov_row_fn)(prov_run *rr, json_t *row, void *ctx, gs_error *err);

/* The rows of a stepped statement, copied out as JSON arrays (integers and
 * strings), so the statement is finished before anything changes them. */
static gs_status prov_rows(prov_run *rr, sqlite3_stmt *st, const char *what, json_t **out, gs_error *err) {
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_array();
        for (int c = 0; c < sqlite3_column_count(st); c++)
            json_array_append_new(row, sqlite3_column_type(st, c) == SQLITE_INTEGER
                                           ? json_integer((json_int_t)sqlite3_column_int64(st, c))
                                           : json_string((const char *)sqlite3_column_text(st, c)));
        json_array_append_new(rows, row);
    }
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        return gs_sqlfail(rr->s, err, what);
    }
    *out = rows;
    return GS_OK;
}

/* The batch loop every undo step shares: read up to PROV_BATCH of the import's
 * claim rows with sel (?1 = import, ?2 = batch size, ?3 if used = rr->after),
 * copy them out (the handler deletes claims, so the statement must be
 * finished first), hand each to fn, and repeat until a batch comes back
 * empty. fn must delete the claim it is given (or move rr->after past it),
 * or the loop would see it again. */
static gs_status prov_batches(prov_run *rr, const char *sel, const char *what, prov_row_fn fn, void *ctx,
                              gs_error *err) {
    for (;;) {
        sqlite3_stmt *st = gs_prov_prepare(rr->s, sel, err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, rr->imp);
        sqlite3_bind_int(st, 2, PROV_BATCH);
        if (sqlite3_bind_parameter_count(st) >= 3) sqlite3_bind_int64(st, 3, rr->after);
        json_t *batch = NULL;
        gs_status r = prov_rows(rr, st, what, &batch, err);
        sqlite3_finalize(st);
        if (r != GS_OK) return r;
        size_t n = json_array_size(batch), i;
        json_t *row;
        json_array_foreach(batch, i, row) {
            if (r != GS_OK) break;
            r = fn(rr, row, ctx, err);
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
static gs_status undo_prop_claim(prov_run *rr, json_t *row, void *ctx, gs_error *err) {
    (void)ctx;
    rr->after = row_int(row, 0);
    gs_status r = prov_exec(rr, RS_PROP_DROP, row_int(row, 0), 0, NULL, NULL, err);
    if (r != GS_OK) return r;
    return prov_restore_prop(rr, row_str(row, 1), row_int(row, 2), row_str(row, 3), row_str(row, 4), err);
}

/* Runs each of n statements that take the import as ?1 and return no rows;
 * what names the step in an error. */
static gs_status prov_exec_each(graph_store *s, const char *const *sql, size_t n, int64_t imp, const char *what,
                                gs_error *err) {
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = gs_prov_prepare(s, sql[i], err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, imp);
        gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, what);
        sqlite3_finalize(st);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Entities the import created and no other source claims (no other node or
 * relationship claim, no other import's property claim) go to temp.prov_sole.
 * Their property claims are not undone one by one: every one the entity
 * still shows would be removed (nobody else claims a value to restore), and
 * the entity itself is deleted afterwards. So the entity step counts those
 * claims as removed and deletes the entity (all that can go at once in
 * prov_delete_sole, any left in prov_undo_sole), and only a node kept
 * because it still has relationships has its claims undone then
 * (prov_undo_node_props). Same graph, same counts as undoing them all first;
 * at 1M created nodes this skips writing out and deleting ~4M claims. The
 * claim's props_implicit comes along for prov_delete_sole's count. */
static gs_status prov_find_sole(prov_run *rr, gs_error *err) {
    static const char *const sql[] = {
        "INSERT INTO temp.prov_sole(kind, id, implicit) SELECT 'node', c.node_id, c.props_implicit FROM node_claims c "
        "WHERE c.import_id = ?1 AND c.created = 1 "
        "AND NOT EXISTS (SELECT 1 FROM node_claims o WHERE o.node_id = c.node_id AND o.import_id <> ?1) "
        "AND NOT EXISTS (SELECT 1 FROM prop_claim_rows p WHERE p.kind = 'node' AND p.entity_id = c.node_id "
        "AND p.import_id <> ?1)",
        "INSERT INTO temp.prov_sole(kind, id, implicit) SELECT 'rel', c.rel_id, c.props_implicit FROM rel_claims c "
        "WHERE c.import_id = ?1 AND c.created = 1 "
        "AND NOT EXISTS (SELECT 1 FROM rel_claims o WHERE o.rel_id = c.rel_id AND o.import_id <> ?1) "
        "AND NOT EXISTS (SELECT 1 FROM prop_claim_rows p WHERE p.kind = 'rel' AND p.entity_id = c.rel_id "
        "AND p.import_id <> ?1)"};
    gs_status r = gs_exec(rr->s,
                          "CREATE TEMP TABLE IF NOT EXISTS prov_sole(kind TEXT NOT NULL, id INTEGER NOT NULL, "
                          "implicit INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID",
                          err);
    if (r == GS_OK) r = gs_exec(rr->s, "DELETE FROM temp.prov_sole", err);
    if (r == GS_OK && !rr->s->retract_no_shortcut)
        r = prov_exec_each(rr->s, sql, sizeof sql / sizeof *sql, rr->imp, "finding what only the import claims", err);
    return r;
}

/* Writes the import's implicit property claims (schema version 4, graph/schema.c)
 * out as rows, older than every other claim on their entities, as the
 * *_props_claims triggers do when properties change: from here on undoing a
 * claim is the same for both kinds. Not those of temp.prov_sole's entities. */
static gs_status prov_materialize(graph_store *s, int64_t imp, gs_error *err) {
    static const char *const sql[] = {
        /* the prop_claims view's implicit claims (graph/schema.c), spelled out
         * so that an entity of temp.prov_sole is passed over before its props
         * are read: through the view every implicit claim of the import was
         * listed first and filtered after */
        "INSERT OR IGNORE INTO prop_claim_rows(seq, kind, entity_id, key, value, import_id) "
        "SELECT (SELECT min(0, coalesce(min(seq), 0)) FROM prop_claim_rows) - row_number() OVER (), "
        "kind, entity_id, key, value, import_id FROM ("
        "SELECT 'node' AS kind, c.node_id AS entity_id, j.key AS key, j.value AS value, c.import_id AS import_id "
        "FROM node_claims c JOIN nodes e ON e.id = c.node_id JOIN dsg_props(e.props) j "
        "WHERE c.import_id = ?1 AND c.props_implicit = 1 AND j.key <> 'name' AND j.value <> 'null' "
        "AND NOT EXISTS (SELECT 1 FROM temp.prov_sole o WHERE o.kind = 'node' AND o.id = c.node_id) "
        "UNION ALL SELECT 'rel', c.rel_id, j.key, j.value, c.import_id "
        "FROM rel_claims c JOIN rels e ON e.id = c.rel_id JOIN dsg_props(e.props) j "
        "WHERE c.import_id = ?1 AND c.props_implicit = 1 AND j.value <> 'null' "
        "AND NOT EXISTS (SELECT 1 FROM temp.prov_sole o WHERE o.kind = 'rel' AND o.id = c.rel_id))",
        "UPDATE node_claims SET props_implicit = 0 WHERE import_id = ?1 AND props_implicit = 1 "
        "AND NOT EXISTS (SELECT 1 FROM temp.prov_sole o WHERE o.kind = 'node' AND o.id = node_id)",
        "UPDATE rel_claims SET props_implicit = 0 WHERE import_id = ?1 AND props_implicit = 1 "
        "AND NOT EXISTS (SELECT 1 FROM temp.prov_sole o WHERE o.kind = 'rel' AND o.id = rel_id)"};
    return prov_exec_each(s, sql, sizeof sql / sizeof *sql, imp, "writing out implicit claims", err);
}

/* Drops the import's property claims, batch by batch, restoring values. Once
 * prov_materialize has run, all of them are rows: the batches read the table
 * (in seq order straight from its import_id index), not the view, which would
 * compute and sort every claim of the import for each batch. The claims of
 * temp.prov_sole's entities stay for the entity step (rr->after skips them). */
static gs_status prov_undo_props(prov_run *rr, gs_error *err) {
    gs_status r = prov_materialize(rr->s, rr->imp, err);
    rr->after = INT64_MIN;
    if (r == GS_OK)
        r = prov_batches(rr,
                         "SELECT seq, kind, entity_id, key, value FROM prop_claim_rows p WHERE import_id = ?1 "
                         "AND seq > ?3 AND NOT EXISTS (SELECT 1 FROM temp.prov_sole o "
                         "WHERE o.kind = p.kind AND o.id = p.entity_id) ORDER BY seq LIMIT ?2",
                         "reading property claims", undo_prop_claim, NULL, err);
    return prov_props_done(rr, r, err);   /* the last entity's props */
}

/* How many of the import's property claims on an entity it still shows: the
 * ones undoing would remove (prov_restore_prop's test, "name" aside). */
static gs_status prov_count_shown(prov_run *rr, bool node, int64_t id, int64_t *n, gs_error *err) {
    *n = 0;
    gs_status r = prov_props_hold(rr, node, id, err);
    sqlite3_stmt *st = r == GS_OK && !rr->gone ? prov_stmt(rr, RS_ENTITY_CLAIMS, err) : NULL;
    if (r == GS_OK && !rr->gone && !st) r = GS_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, rr->imp);
        sqlite3_bind_text(st, 3, node ? "node" : "rel", -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *key = (const char *)sqlite3_column_text(st, 0), *value = (const char *)sqlite3_column_text(st, 1);
            if (node && strcmp(key, "name") == 0) continue;
            json_t *cur = json_object_get(rr->props, key);
            char *cur_text = cur ? gs_prov_value_text(cur) : NULL;
            if (cur_text && strcmp(cur_text, value) == 0) (*n)++;
            free(cur_text);
        }
        if (rc != SQLITE_DONE) r = gs_sqlfail(rr->s, err, "reading property claims");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return prov_props_done(rr, r, err);   /* only read: nothing to save */
}

/* A node of temp.prov_sole kept because it has relationships: its property
 * claims are undone now, as prov_undo_props would have. */
static gs_status prov_undo_node_props(prov_run *rr, int64_t id, gs_error *err) {
    gs_status r = prov_exec(rr, RS_WRITE_OUT, id, rr->imp, "node", NULL, err);
    if (r == GS_OK) r = prov_exec(rr, RS_NODE_UNFLAG, id, rr->imp, NULL, NULL, err);
    sqlite3_stmt *st = r == GS_OK ? prov_stmt(rr, RS_ENTITY_ROWS, err) : NULL;
    if (r == GS_OK && !st) r = GS_IO;
    json_t *rows = NULL;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, rr->imp);
        sqlite3_bind_text(st, 3, "node", -1, SQLITE_STATIC);
        r = prov_rows(rr, st, "reading property claims", &rows, err);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (r != GS_OK) break;
        r = undo_prop_claim(rr, row, NULL, err);
    }
    json_decref(rows);
    return prov_props_done(rr, r, err);
}

/* An alias claim (node_id, alias_key): dropped; the alias goes when nobody else claims it. */
static gs_status undo_alias_claim(prov_run *rr, json_t *row, void *ctx, gs_error *err) {
    (void)ctx;
    int64_t node = row_int(row, 0), others = 0, gone = 0;
    const char *key = row_str(row, 1);
    gs_status r = prov_exec(rr, RS_ALIAS_DROP, node, rr->imp, key, NULL, err);
    if (r == GS_OK) r = prov_exec(rr, RS_ALIAS_OTHERS, node, 0, key, &others, err);
    if (r == GS_OK && others == 0) {
        r = prov_exec(rr, RS_ALIAS_DELETE, node, 0, key, NULL, err);
        gone = sqlite3_changes(rr->s->db);
    }
    if (r == GS_OK && gone > 0) {
        rr->u.aliases_removed++;
        r = gs_fts_refresh(rr->s, node, NULL, err);
    }
    return r;
}

/* Removes aliases that no other import claims. */
static gs_status prov_undo_aliases(prov_run *rr, gs_error *err) {
    return prov_batches(rr, "SELECT node_id, alias_key FROM alias_claims WHERE import_id = ?1 LIMIT ?2",
                        "reading alias claims", undo_alias_claim, NULL, err);
}

/* An entity of temp.prov_sole (see prov_find_sole): its shown claims count
 * as removed, and it is deleted (its claims go with it); a node that still
 * has relationships is kept, its claims undone now. */
static gs_status prov_undo_sole(prov_run *rr, bool node, int64_t id, gs_error *err) {
    int64_t shown = 0;
    gs_status r = prov_count_shown(rr, node, id, &shown, err);
    if (r != GS_OK) return r;
    gs_error derr;
    gs_status d = node ? graph_node_delete(rr->s, id, false, NULL, &derr) : graph_rel_delete(rr->s, id, &derr);
    if (d == GS_OK) {
        if (node) rr->u.nodes_deleted++;
        else rr->u.rels_deleted++;
        rr->u.props_removed += shown;
        return GS_OK;
    }
    if (d == GS_CONFLICT && node) {
        rr->u.nodes_kept++;   /* still connected: kept */
        r = prov_undo_node_props(rr, id, err);
    } else if (d != GS_NOT_FOUND) {
        return gs_fail(err, d, "%s", derr.msg);
    }
    return r == GS_OK ? prov_exec(rr, node ? RS_NODE_DROP : RS_REL_DROP, id, rr->imp, NULL, NULL, err) : r;
}

/* The entities of temp.prov_sole of one kind that can go now (every
 * relationship; a node once no relationship is left on it) are counted and
 * deleted by a few statements over the whole set, with the same graph and
 * counts as prov_undo_sole gives each. Why: inside the retract's transaction
 * every statement that fires a trigger keeps a statement journal of the
 * pages it changes, so deleting entity by entity journaled a leaf page again
 * for every row on it, and loaded and compared each entity's props to count
 * its shown claims. What is left in temp.prov_sole (nodes still connected)
 * goes through prov_undo_sole. */
static gs_status prov_delete_sole(prov_run *rr, bool node, gs_error *err) {
    static const char *const pick[2] = {
        "INSERT INTO temp.prov_gone(id, implicit) SELECT o.id, o.implicit FROM temp.prov_sole o "
        "JOIN rels r ON r.id = o.id WHERE o.kind = 'rel'",
        "INSERT INTO temp.prov_gone(id, implicit) SELECT o.id, o.implicit FROM temp.prov_sole o "
        "JOIN nodes n ON n.id = o.id WHERE o.kind = 'node' AND NOT EXISTS (SELECT 1 FROM rels WHERE start = o.id) "
        "AND NOT EXISTS (SELECT 1 FROM rels WHERE end = o.id)"};
    /* The shown claims (prov_count_shown's count, for all of them at once): an
     * implicit claim per stored member (the prop_claims view's rule), and each
     * claim row whose value is the member's (dsg_props spells values as claim
     * rows hold them). Nobody else claims these entities: only rows of ?1. */
    static const char *const count[2] = {
        "SELECT (SELECT count(*) FROM temp.prov_gone g JOIN rels e ON e.id = g.id JOIN dsg_props(e.props) j "
        "WHERE g.implicit = 1 AND j.value <> 'null') + "
        "(SELECT count(*) FROM temp.prov_gone g JOIN prop_claim_rows p ON p.kind = 'rel' AND p.entity_id = g.id "
        "AND p.import_id = ?1 JOIN rels e ON e.id = g.id JOIN dsg_props(e.props) j "
        "WHERE j.key = p.key AND j.value = p.value), (SELECT count(*) FROM temp.prov_gone)",
        "SELECT (SELECT count(*) FROM temp.prov_gone g JOIN nodes e ON e.id = g.id JOIN dsg_props(e.props) j "
        "WHERE g.implicit = 1 AND j.key <> 'name' AND j.value <> 'null') + "
        "(SELECT count(*) FROM temp.prov_gone g JOIN prop_claim_rows p ON p.kind = 'node' AND p.entity_id = g.id "
        "AND p.import_id = ?1 AND p.key <> 'name' JOIN nodes e ON e.id = g.id JOIN dsg_props(e.props) j "
        "WHERE j.key = p.key AND j.value = p.value), (SELECT count(*) FROM temp.prov_gone)"};
    /* The import's claim ranges that hold only ids going now go whole, before
     * the rows: the delete trigger would otherwise cut the first id off a
     * range once per deleted row. The rest (a range mixing kept and deleted
     * ids, the claim rows) the triggers take as before. A pending search-row
     * note (gs_fts_note) of a deleted node finds it gone at the flush. */
    static const char *const drop[2][4] = {
        {"DELETE FROM rel_claim_ranges WHERE import_id = ?1 "
         "AND (SELECT count(*) FROM temp.prov_gone g WHERE g.id BETWEEN lo AND hi) = hi - lo + 1",
         "DELETE FROM rels WHERE id IN (SELECT id FROM temp.prov_gone)"},
        {"DELETE FROM node_claim_ranges WHERE import_id = ?1 "
         "AND (SELECT count(*) FROM temp.prov_gone g WHERE g.id BETWEEN lo AND hi) = hi - lo + 1",
         "DELETE FROM node_labels WHERE node_id IN (SELECT id FROM temp.prov_gone)",
         "DELETE FROM aliases WHERE node_id IN (SELECT id FROM temp.prov_gone)",
         "DELETE FROM nodes WHERE id IN (SELECT id FROM temp.prov_gone)"}};
    gs_status r =
        gs_exec(rr->s, "CREATE TEMP TABLE IF NOT EXISTS prov_gone(id INTEGER PRIMARY KEY, implicit INTEGER NOT NULL)",
                err);
    if (r == GS_OK) r = gs_exec(rr->s, "DELETE FROM temp.prov_gone", err);
    if (r == GS_OK) r = prov_exec_each(rr->s, &pick[node], 1, rr->imp, "finding what the retract deletes", err);
    int64_t shown = 0, n = 0;
    sqlite3_stmt *st = r == GS_OK ? gs_prov_prepare(rr->s, count[node], err) : NULL;
    if (r == GS_OK && !st) r = GS_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, rr->imp);
        if (sqlite3_step(st) == SQLITE_ROW) {
            shown = sqlite3_column_int64(st, 0);
            n = sqlite3_column_int64(st, 1);
        } else {
            r = gs_sqlfail(rr->s, err, "counting what the retract removes");
        }
        sqlite3_finalize(st);
    }
    for (size_t i = 0; r == GS_OK && n > 0 && i < 4 && drop[node][i]; i++)
        r = prov_exec_each(rr->s, &drop[node][i], 1, rr->imp, node ? "deleting nodes" : "deleting relationships",
                           err);
    /* Their search rows, as a bulk load writes them (gs_fts_bulk_begin). */
    gs_fts_saved was;
    if (r == GS_OK && node && n > 0) r = gs_fts_bulk_begin(rr->s, &was, err);
    if (r == GS_OK && node && n > 0) {
        r = gs_exec(rr->s, "DELETE FROM node_fts WHERE rowid IN (SELECT id FROM temp.prov_gone)", err);
        if (r == GS_OK) r = gs_fts_bulk_end(rr->s, &was, err);
    }
    if (r != GS_OK) return r;
    if (node) rr->u.nodes_deleted += n;
    else rr->u.rels_deleted += n;
    rr->u.props_removed += shown;
    return GS_OK;
}

/* A node or relationship claim (id, created, sole): dropped; an entity this
 * import created goes when nobody else claims it (a node only if
 * unconnected), or the earliest other claimant inherits "created".
 * ctx: non-NULL for nodes. */
static gs_status undo_entity_claim(prov_run *rr, json_t *row, void *ctx, gs_error *err) {
    bool node = ctx != NULL;
    int64_t id = row_int(row, 0), others = 0;
    bool created = row_int(row, 1) == 1;
    if (row_int(row, 2)) return prov_undo_sole(rr, node, id, err);
    gs_status r = prov_exec(rr, node ? RS_NODE_DROP : RS_REL_DROP, id, rr->imp, NULL, NULL, err);
    if (r == GS_OK) r = prov_exec(rr, node ? RS_NODE_OTHERS : RS_REL_OTHERS, id, 0, NULL, &others, err);
    if (r != GS_OK || !created) return r;
    if (others > 0) return prov_exec(rr, node ? RS_NODE_MOVE : RS_REL_MOVE, id, 0, NULL, NULL, err);
    gs_error derr;
    gs_status d = node ? graph_node_delete(rr->s, id, false, NULL, &derr) : graph_rel_delete(rr->s, id, &derr);
    if (d == GS_OK) {
        if (node) rr->u.nodes_deleted++;
        else rr->u.rels_deleted++;
    } else if (d == GS_CONFLICT && node) {
        rr->u.nodes_kept++;   /* still connected: kept */
    } else if (d != GS_NOT_FOUND) {
        r = gs_fail(err, d, "%s", derr.msg);
    }
    return r;
}

/* Drops the import's claims on nodes or relationships and deletes what an
 * import created and nobody claims any more. Claims on entities the import
 * did not create (created 0 or 2) have nothing to undo but themselves
 * (undo_entity_claim only drops them), so they go first, one statement per
 * table: a relationship file's import claims every node it names, and one
 * view delete (and its trigger) per claim took 25 s of its retract at 1M. */
static gs_status prov_undo_entities(prov_run *rr, bool node, gs_error *err) {
    static const char *const drop[2][2] = {
        {"DELETE FROM rel_claim_rows WHERE import_id = ?1 AND created <> 1",
         "DELETE FROM rel_claim_ranges WHERE import_id = ?1 AND created <> 1"},
        {"DELETE FROM node_claim_rows WHERE import_id = ?1 AND created <> 1",
         "DELETE FROM node_claim_ranges WHERE import_id = ?1 AND created <> 1"}};
    gs_status r = prov_exec_each(rr->s, drop[node], 2, rr->imp, "dropping claims", err);
    if (r != GS_OK) return r;
    return prov_batches(rr,
                        node ? "SELECT node_id, created, EXISTS (SELECT 1 FROM temp.prov_sole o "
                               "WHERE o.kind = 'node' AND o.id = node_id) FROM node_claims WHERE import_id = ?1 LIMIT ?2"
                             : "SELECT rel_id, created, EXISTS (SELECT 1 FROM temp.prov_sole o "
                               "WHERE o.kind = 'rel' AND o.id = rel_id) FROM rel_claims WHERE import_id = ?1 LIMIT ?2",
                        "reading claims", undo_entity_claim, node ? (void *)rr : NULL, err);
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
    prov_run rr = {.s = s, .imp = id};
    r = prov_find_sole(&rr, err);
    if (r == GS_OK) r = prov_undo_props(&rr, err);
    if (r == GS_OK) r = prov_undo_aliases(&rr, err);
    if (r == GS_OK) r = prov_delete_sole(&rr, false, err);
    if (r == GS_OK) r = prov_undo_entities(&rr, false, err);
    if (r == GS_OK) r = prov_delete_sole(&rr, true, err);
    if (r == GS_OK) r = prov_undo_entities(&rr, true, err);
    prov_undo u = rr.u;
    prov_run_free(&rr);
    if (r == GS_OK) r = gs_exec(s, "DROP TABLE IF EXISTS temp.prov_sole", err);
    if (r == GS_OK) r = gs_exec(s, "DROP TABLE IF EXISTS temp.prov_gone", err);
    if (r == GS_OK) {
        st = gs_prov_prepare(s, "UPDATE imports SET retracted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
                             err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_int64(st, 1, id);
            r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "retracting");
            sqlite3_finalize(st);
        }
    }
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
