/*
 * graph/node.c - nodes: merge by identity (first label + name key), create,
 * find by name or alias, read, aliases, delete.
 */
#include "adjacency.h"
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GS_FIND_MAX 10   /* candidates named in an "ambiguous" message */

/* True if node id exists; used to turn missing ids into clear "not found" errors. */
static gs_status gs_node_exists(graph_store *s, int64_t id, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return GS_OK;
    if (rc == SQLITE_DONE) return gs_fail(err, GS_NOT_FOUND, "node %" PRId64 " not found", id);
    return gs_sqlfail(s, err, "reading a node");
}

/* Loads a node's property object (new reference) or reports it missing. */
static gs_status gs_node_props(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    gs_status r = GS_OK;
    if (rc == SQLITE_ROW) {
        *out = gs_props_load((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
        if (!*out) r = GS_IO;
    } else if (rc == SQLITE_DONE) {
        r = gs_fail(err, GS_NOT_FOUND, "node %" PRId64 " not found", id);
    } else {
        r = gs_sqlfail(s, err, "reading a node");
    }
    sqlite3_reset(st);
    return r;
}

/* Builds the protocol's {"$node":{...}} from the three tables. */
gs_status gs_node_json(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    json_t *props = NULL;
    gs_status r = gs_node_props(s, id, &props, err);
    if (r != GS_OK) return r;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_LABELS_OF, err);
    if (!st) {
        json_decref(props);
        return GS_IO;
    }
    json_t *labels = json_array();
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(labels, json_string((const char *)sqlite3_column_text(st, 0)));
    if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading labels");
    sqlite3_reset(st);
    if (r != GS_OK) {
        json_decref(props);
        json_decref(labels);
        return r;
    }
    *out = json_pack("{s:{s:I,s:o,s:o}}", "$node", "id", (json_int_t)id, "labels", labels, "properties", props);
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* For messages that must tell candidates apart ("3 (Model), 9 (Paper)"). */
void gs_node_first_label(graph_store *s, int64_t id, char *buf, size_t n) {
    buf[0] = '\0';
    sqlite3_stmt *st = gs_stmt(s, GS_ST_FIRST_LABEL, NULL);
    if (!st) return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

/* Collects up to GS_FIND_MAX + 1 ids from one of the FIND statements. */
static gs_status gs_find_ids(graph_store *s, gs_stmt_id sid, const char *key, const char *label,
                             int64_t *ids, int *n, gs_error *err) {
    *n = 0;
    sqlite3_stmt *st = gs_stmt(s, sid, err);
    if (!st) return GS_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, GS_FIND_MAX + 1);
    if (label) sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < GS_FIND_MAX + 1) ids[(*n)++] = sqlite3_column_int64(st, 0);
    gs_status r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? GS_OK : gs_sqlfail(s, err, "looking up a name");
    sqlite3_reset(st);
    return r;
}

/* The "ambiguous" message: which nodes matched, with their identity labels. */
static gs_status gs_ambiguous(graph_store *s, const char *name, const char *how, const int64_t *ids, int n,
                              gs_error *err) {
    char list[400] = "";
    size_t used = 0;
    for (int i = 0; i < n && i < GS_FIND_MAX; i++) {
        char label[64];
        gs_node_first_label(s, ids[i], label, sizeof label);
        int w = snprintf(list + used, sizeof list - used, "%s%" PRId64 " (%s)", i ? ", " : "", ids[i],
                         label[0] ? label : "no label");
        if (w < 0 || (size_t)w >= sizeof list - used) break;
        used += (size_t)w;
    }
    return gs_fail(err, GS_AMBIGUOUS, "name \"%.60s\" matches %s%d nodes%s: %s", name, n > GS_FIND_MAX ? "more than " : "",
                   n > GS_FIND_MAX ? GS_FIND_MAX : n, how, list);
}

/* See store_internal.h. Settled only when exactly one node may have the key
 * (adjacency.h) and its stored name_key is the key. That row is read after the
 * index's lock is dropped (no SQL under it), so the index is asked again
 * whether it still is this read's snapshot: a commit in between means "ask
 * SQLite". */
bool gs_name_key_sole(graph_store *s, const char *key, const char *label, int64_t *id, bool *has_label) {
    if (!graph_adj_begin(s)) return false;
    int64_t cand = 0;
    int found = graph_adj_find_key(s, key, &cand);
    int bit = label ? graph_adj_label_bit(s, label) : 0;
    uint64_t labels = found == GRAPH_ADJ_KEY_CANDIDATE ? graph_adj_node_labels(s, cand) : 0;
    graph_adj_end(s);
    if (found != GRAPH_ADJ_KEY_CANDIDATE || bit == GRAPH_ADJ_LABEL_UNINDEXED) return false;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_KEY, NULL);
    if (!st) return false;
    sqlite3_bind_int64(st, 1, cand);
    const char *stored = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool same = stored && strcmp(stored, key) == 0;
    sqlite3_reset(st);
    if (!same || !graph_adj_begin(s)) return false;   /* a hash shared with another key, or a commit since */
    graph_adj_end(s);
    *has_label = !label || (bit != GRAPH_ADJ_LABEL_NONE && (labels & (1ULL << bit)));
    *id = cand;
    return true;
}

/* Identity lookup by key: a unique name match wins, else a unique alias match. */
static gs_status gs_find_key(graph_store *s, const char *label, const char *key, const char *name, int64_t *id,
                             gs_error *err) {
    int64_t ids[GS_FIND_MAX + 1];
    int n = 0;
    bool has_label = false;
    gs_status r = GS_OK;
    if (gs_name_key_sole(s, key, label, &ids[0], &has_label))   /* readers: no name-index descent */
        n = has_label ? 1 : 0;
    else
        r = gs_find_ids(s, label ? GS_ST_FIND_NAME_LABEL : GS_ST_FIND_NAME, key, label, ids, &n, err);
    if (r != GS_OK) return r;
    if (n == 1) {
        *id = ids[0];
        return GS_OK;
    }
    if (n > 1) return gs_ambiguous(s, name, " by name", ids, n, err);
    r = gs_find_ids(s, label ? GS_ST_FIND_ALIAS_LABEL : GS_ST_FIND_ALIAS, key, label, ids, &n, err);
    if (r != GS_OK) return r;
    if (n == 1) {
        *id = ids[0];
        return GS_OK;
    }
    if (n > 1) return gs_ambiguous(s, name, " by alias", ids, n, err);
    if (label) return gs_fail(err, GS_NOT_FOUND, "no %.100s node named \"%.200s\"", label, name);
    return gs_fail(err, GS_NOT_FOUND, "no node named \"%.200s\"", name);
}

/* Public lookup: validates and normalises the name, then gs_find_key(). */
gs_status graph_node_find(graph_store *s, const char *label, const char *name, int64_t *id_out, gs_error *err) {
    if (label && !gs_utf8_ok(label)) return gs_fail(err, GS_INVALID, "label must be a non-empty UTF-8 string");
    char *key = graph_name_key(name, err);
    if (!key) return GS_INVALID;
    gs_status r = *key ? gs_find_key(s, label, key, name, id_out, err) : gs_fail(err, GS_INVALID, "name is empty");
    free(key);
    return r;
}

/* Checks labels, props, the name property and aliases before any write. */
static gs_status gs_check_node_args(const char *const *labels, size_t nlabels, json_t *props, json_t *aliases,
                                    gs_error *err) {
    if (nlabels > 0 && !labels) return gs_fail(err, GS_INVALID, "labels missing");
    for (size_t i = 0; i < nlabels; i++)
        if (!gs_utf8_ok(labels[i]))
            return gs_fail(err, GS_INVALID, "labels[%zu] must be a non-empty UTF-8 string", i);
    gs_status r = gs_props_check(props, "properties", err);
    if (r != GS_OK) return r;
    json_t *pn = props ? json_object_get(props, "name") : NULL;
    if (pn && !json_is_string(pn) && !json_is_null(pn))
        return gs_fail(err, GS_INVALID, "properties.\"name\" must be a string");
    if (aliases && !json_is_array(aliases)) return gs_fail(err, GS_INVALID, "aliases must be an array of strings");
    size_t i;
    json_t *a;
    json_array_foreach(aliases, i, a) {
        if (!json_is_string(a) || !gs_utf8_ok(json_string_value(a)))
            return gs_fail(err, GS_INVALID, "aliases[%zu] must be a non-empty UTF-8 string", i);
    }
    return GS_OK;
}

/* Adds labels after the existing ones, skipping those the node already has. */
static gs_status gs_add_labels(graph_store *s, int64_t id, int64_t first_pos, const char *const *labels,
                               size_t nlabels, bool *changed, gs_error *err) {
    for (size_t i = 0; i < nlabels; i++) {
        sqlite3_stmt *st = gs_stmt(s, GS_ST_LABEL_INSERT, err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, first_pos + (int64_t)i);
        sqlite3_bind_text(st, 3, labels[i], -1, SQLITE_STATIC);
        gs_status r = gs_exec_stmt(s, st, "adding a label", err);
        if (r != GS_OK) return r;
        if (sqlite3_changes(s->db) > 0 && changed) *changed = true;
    }
    return GS_OK;
}

/* Adds one alias by key; a second spelling of a known alias changes nothing. */
static gs_status gs_add_alias(graph_store *s, int64_t id, const char *alias, bool *changed, gs_error *err) {
    char *key = graph_name_key(alias, err);
    if (!key) return GS_INVALID;
    gs_status r = GS_OK;
    if (!*key) r = gs_fail(err, GS_INVALID, "alias \"%.100s\" is empty after normalisation", alias);
    sqlite3_stmt *st = r == GS_OK ? gs_stmt(s, GS_ST_ALIAS_INSERT, err) : NULL;
    if (r == GS_OK && !st) r = GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
        r = gs_exec_stmt(s, st, "adding an alias", err);
        if (r == GS_OK && sqlite3_changes(s->db) > 0 && changed) *changed = true;
    }
    free(key);
    return r;
}

/* Adds every alias of an array (already checked to hold strings). */
static gs_status gs_add_aliases(graph_store *s, int64_t id, json_t *aliases, bool *changed, gs_error *err) {
    size_t i;
    json_t *a;
    json_array_foreach(aliases, i, a) {
        gs_status r = gs_add_alias(s, id, json_string_value(a), changed, err);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Inserts a node row plus its labels; nulls in props are dropped (null means "absent"). */
static gs_status gs_node_insert(graph_store *s, const char *const *labels, size_t nlabels, const char *name,
                                const char *key, json_t *props, json_t *aliases, int64_t *id, gs_error *err) {
    json_t *obj = json_object();
    gs_props_merge(obj, props, NULL);
    if (name) json_object_set_new(obj, "name", json_string(name));
    char *text = gs_props_dump(obj);
    sqlite3_stmt *st = text ? gs_stmt(s, GS_ST_NODE_INSERT, err) : NULL;
    gs_status r = text ? (st ? GS_OK : GS_IO) : gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK) {
        if (key) sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
        r = gs_exec_stmt(s, st, "inserting a node", err);
    }
    free(text);
    if (r == GS_OK) {
        *id = sqlite3_last_insert_rowid(s->db);
        r = gs_add_labels(s, *id, 0, labels, nlabels, NULL, err);
    }
    if (r == GS_OK) r = gs_add_aliases(s, *id, aliases, NULL, err);
    if (r == GS_OK) r = gs_fts_refresh(s, *id, obj, err);
    json_decref(obj);
    return r;
}

/* Counts a node's labels so new ones go after them (pos keeps insertion order). */
static gs_status gs_label_count(graph_store *s, int64_t id, int64_t *count, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_LABELS_OF, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) (*count)++;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "reading labels");
}

/* Merges into an existing node: labels added, props merged (name kept), aliases added. */
static gs_status gs_node_merge(graph_store *s, int64_t id, const char *const *labels, size_t nlabels,
                               json_t *props, json_t *aliases, gs_error *err) {
    json_t *cur = NULL;
    gs_status r = gs_node_props(s, id, &cur, err);
    if (r != GS_OK) return r;
    bool changed = false;
    s->prov_changed = false;
    if (props && json_object_size(props) > 0) {
        char *before = gs_props_dump(cur);
        gs_props_merge(cur, props, "name");
        char *after = gs_props_dump(cur);
        if (!before || !after) r = gs_fail(err, GS_IO, "out of memory");
        if (r == GS_OK && strcmp(before, after) != 0) {
            sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_SET_PROPS, err);
            if (!st) r = GS_IO;
            else {
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
                r = gs_exec_stmt(s, st, "updating a node", err);
                changed = true;
            }
        }
        free(before);
        free(after);
    }
    int64_t nexisting = 0;
    if (r == GS_OK && nlabels > 0) r = gs_label_count(s, id, &nexisting, err);
    if (r == GS_OK) r = gs_add_labels(s, id, nexisting, labels, nlabels, NULL, err);
    if (r == GS_OK) r = gs_add_aliases(s, id, aliases, &changed, err);
    if (r == GS_OK && changed) r = gs_fts_refresh(s, id, cur, err);
    s->prov_changed = changed;   /* for provenance's "updated" count */
    json_decref(cur);
    return r;
}

/* node.put: merge by identity, or create when there is no name or no match. */
gs_status graph_node_put(graph_store *s, const char *const *labels, size_t nlabels, const char *name, json_t *props,
                         json_t *aliases, int64_t *id_out, bool *created, gs_error *err) {
    gs_status r = gs_check_node_args(labels, nlabels, props, aliases, err);
    if (r != GS_OK) return r;
    if (!name && props && json_is_string(json_object_get(props, "name")))
        name = json_string_value(json_object_get(props, "name"));
    if (name && nlabels == 0) return gs_fail(err, GS_INVALID, "a node with a name needs at least one label");
    char *key = NULL;
    if (name) {
        key = graph_name_key(name, err);
        if (!key) return GS_INVALID;
        if (!*key) {
            free(key);
            return gs_fail(err, GS_INVALID, "name is empty");
        }
    }
    r = gs_write_begin(s, err);
    if (r != GS_OK) {
        free(key);
        return r;
    }
    int64_t id = 0;
    bool is_new = true;
    if (key) {
        r = gs_find_key(s, labels[0], key, name, &id, err);
        if (r == GS_OK) is_new = false;
        else if (r == GS_NOT_FOUND) r = GS_OK;
    }
    if (r == GS_OK) {
        if (is_new) r = gs_node_insert(s, labels, nlabels, name, key, props, aliases, &id, err);
        else r = gs_node_merge(s, id, labels, nlabels, props, aliases, err);
    }
    if (r == GS_OK) r = gs_prov_node(s, id, is_new, props, aliases, err);   /* provenance claim */
    free(key);
    r = gs_write_end(s, r, err);
    if (r == GS_OK) {
        if (id_out) *id_out = id;
        if (created) *created = is_new;
    }
    return r;
}

/* Cypher CREATE: a new node every time, even if one with the same name exists. */
gs_status graph_node_create(graph_store *s, const char *const *labels, size_t nlabels, json_t *props,
                            int64_t *id_out, gs_error *err) {
    gs_status r = gs_check_node_args(labels, nlabels, props, NULL, err);
    if (r != GS_OK) return r;
    const char *name = props ? json_string_value(json_object_get(props, "name")) : NULL;
    char *key = NULL;
    if (name) {
        key = graph_name_key(name, err);
        if (!key) return GS_INVALID;
    }
    r = gs_write_begin(s, err);
    int64_t id = 0;
    if (r == GS_OK) {
        r = gs_node_insert(s, labels, nlabels, name, key && *key ? key : NULL, props, NULL, &id, err);
        r = gs_write_end(s, r, err);
    }
    free(key);
    if (r == GS_OK && id_out) *id_out = id;
    return r;
}

/* node.get by id. */
gs_status graph_node_get(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    return gs_node_json(s, id, out, err);
}

/* The aliases as written, oldest first. */
gs_status graph_node_aliases(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    gs_status r = gs_node_exists(s, id, err);
    if (r != GS_OK) return r;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_ALIASES_OF, err);
    if (!st) return GS_IO;
    json_t *arr = json_array();
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return gs_sqlfail(s, err, "reading aliases");
    }
    *out = arr;
    return GS_OK;
}

/* Adds one alias to an existing node and refreshes its search row. */
gs_status graph_node_add_alias(graph_store *s, int64_t id, const char *alias, gs_error *err) {
    if (!gs_utf8_ok(alias)) return gs_fail(err, GS_INVALID, "alias must be a non-empty UTF-8 string");
    gs_status r = gs_write_begin(s, err);
    if (r != GS_OK) return r;
    r = gs_node_exists(s, id, err);
    bool changed = false;
    if (r == GS_OK) r = gs_add_alias(s, id, alias, &changed, err);
    if (r == GS_OK && changed) r = gs_fts_refresh(s, id, NULL, err);
    if (r == GS_OK) r = gs_prov_alias(s, id, alias, err);   /* provenance claim */
    return gs_write_end(s, r, err);
}

/* Appends the rows of a REL_OUT/REL_IN statement as {"$rel":...}. */
static gs_status gs_append_rels(graph_store *s, gs_stmt_id sid, int64_t id, json_t *arr, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, sid, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    gs_status r = GS_OK;
    while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *rel = NULL;
        r = gs_rel_json_row(st, &rel, err);
        if (r == GS_OK) json_array_append_new(arr, rel);
    }
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading relationships");
    sqlite3_reset(st);
    return r;
}

/* Every relationship touching a node: outgoing by id, then incoming by id (self-loops once). */
gs_status graph_node_relationships(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    *out = NULL;
    gs_status r = gs_node_exists(s, id, err);
    if (r != GS_OK) return r;
    json_t *arr = json_array();
    r = gs_append_rels(s, GS_ST_REL_OUT, id, arr, err);
    if (r == GS_OK) r = gs_append_rels(s, GS_ST_REL_IN, id, arr, err);
    if (r != GS_OK) {
        json_decref(arr);
        return r;
    }
    *out = arr;
    return GS_OK;
}

/* Deletes a node with its labels, aliases, search row and (with detach) relationships. */
gs_status graph_node_delete(graph_store *s, int64_t id, bool detach, int64_t *rels_deleted, gs_error *err) {
    if (rels_deleted) *rels_deleted = 0;
    gs_status r = gs_write_begin(s, err);
    if (r != GS_OK) return r;
    r = gs_node_exists(s, id, err);
    int64_t nrels = 0;
    if (r == GS_OK) {
        sqlite3_stmt *st = gs_stmt(s, GS_ST_REL_COUNT_NODE, err);
        if (!st) r = GS_IO;
        else {
            sqlite3_bind_int64(st, 1, id);
            if (sqlite3_step(st) == SQLITE_ROW) nrels = sqlite3_column_int64(st, 0);
            else r = gs_sqlfail(s, err, "counting relationships");
            sqlite3_reset(st);
        }
    }
    if (r == GS_OK && nrels > 0 && !detach)
        r = gs_fail(err, GS_CONFLICT, "node %" PRId64 " has %" PRId64 " relationship%s; use detach", id, nrels,
                    nrels == 1 ? "" : "s");
    static const gs_stmt_id steps[] = {GS_ST_REL_DELETE_NODE, GS_ST_LABELS_DELETE, GS_ST_ALIASES_DELETE,
                                       GS_ST_NODE_DELETE};
    for (size_t i = 0; r == GS_OK && i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *st = gs_stmt(s, steps[i], err);
        if (!st) {
            r = GS_IO;
            break;
        }
        sqlite3_bind_int64(st, 1, id);
        r = gs_exec_stmt(s, st, "deleting a node", err);
        if (r == GS_OK && steps[i] == GS_ST_REL_DELETE_NODE && rels_deleted) *rels_deleted = sqlite3_changes(s->db);
    }
    if (r == GS_OK) r = gs_fts_delete(s, id, err);
    r = gs_write_end(s, r, err);
    if (r != GS_OK && rels_deleted) *rels_deleted = 0;
    return r;
}
