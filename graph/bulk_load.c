/*
 * graph/bulk_load.c - many nodes and relationships per call, for importers
 * (see bulk_load.h for the contract). The fast paths write exactly the rows
 * graph_node_put / graph_rel_put would write for a new node or relationship
 * (row, labels, aliases, search row, claims, counts); every other case is
 * handed to those functions.
 */
#include "bulk_load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Node rows (a relationship row names two) a load on a non-empty graph
 * resolves with index probes before it reads the labels it meets into its
 * maps (bulk_resolve): a handful of rows into a
 * million-node graph then costs milliseconds, not the 0.8 s of reading a
 * label's million keys, and a big load pays at most this many probes (a few
 * milliseconds) before it switches to the maps. */
#define BULK_PROBE_ROWS 4096

static const char *const bulk_sql[BS__COUNT] = {
    [BS_NODE] = "INSERT INTO nodes(id, name_key, props) VALUES (?3, ?1, ?2)",
    [BS_LABEL] = "INSERT OR IGNORE INTO node_labels(node_id, pos, label) VALUES (?1, ?2, ?3)",
    [BS_ALIAS] = "INSERT OR IGNORE INTO aliases(node_id, alias, alias_key) VALUES (?1, ?2, ?3)",
    [BS_FTS] = "INSERT INTO temp.gs_bulk_fts(id, name, aliases, body) VALUES (?1, ?2, ?3, ?4)",
    [BS_REL] = "INSERT INTO rels(id, type, start, end, props) VALUES (?5, ?1, ?2, ?3, ?4)",
    [BS_CLAIM_ALIAS] = "INSERT OR IGNORE INTO alias_claims(node_id, alias_key, import_id) VALUES (?1, ?2, ?3)",
    [BS_LOAD_NAMES] = "SELECT n.id, n.name_key FROM node_labels l JOIN nodes n ON n.id = l.node_id "
                      "WHERE l.label = ?1 AND n.name_key IS NOT NULL",
    [BS_LOAD_ALIASES] = "SELECT a.node_id, a.alias_key FROM node_labels l JOIN aliases a ON a.node_id = l.node_id "
                        "WHERE l.label = ?1",
    [BS_NODE_LABELS] = "SELECT label FROM node_labels WHERE node_id = ?1",
    [BS_NODE_KEY] = "SELECT name_key FROM nodes WHERE id = ?1",
    [BS_NODE_ALIAS_KEYS] = "SELECT alias_key FROM aliases WHERE node_id = ?1",
    [BS_REL_FIND] = "SELECT id FROM rels WHERE start = ?1 AND type = ?2 AND end = ?3 LIMIT 1",
    /* CROSS JOIN keeps the name (alias) index outermost: the label's index would scan the label */
    [BS_PROBE_NAME] = "SELECT n.id FROM nodes n CROSS JOIN node_labels l "
                      "WHERE n.name_key = ?2 AND l.node_id = n.id AND l.label = ?1 LIMIT 2",
    [BS_PROBE_ALIAS] = "SELECT DISTINCT a.node_id FROM aliases a CROSS JOIN node_labels l "
                       "WHERE a.alias_key = ?2 AND l.node_id = a.node_id AND l.label = ?1 LIMIT 2",
    [BS_NEXT_NODE_ID] = "SELECT coalesce(max(id), 0) + 1 FROM nodes",
    [BS_NEXT_REL_ID] = "SELECT coalesce(max(id), 0) + 1 FROM rels",
    [BS_NODE_EXISTS] = "SELECT 1 FROM nodes WHERE id = ?1",
};

/* Indexes built once at the end when their table was empty at the start. */
static const char *const bulk_node_indexes[] = {"nodes_name_key", "aliases_key", "node_labels_label"};
static const char *const bulk_rel_indexes[] = {"rels_start", "rels_end"};

/* Makes room for n more bytes (+ a NUL); false on OOM. */
static bool buf_room(bulk_buf *b, size_t n) {
    if (b->len + n + 1 <= b->cap) return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + n + 1) ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) return false;
    b->p = np;
    b->cap = ncap;
    return true;
}

/* See bulk_load.h. */
bool graph_bulk_buf_add(graph_bulk_buf *b, const char *s, size_t n) {
    if (!buf_room(b, n)) return false;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

/* The short name this file uses. */
static bool buf_add(bulk_buf *b, const char *s, size_t n) { return graph_bulk_buf_add(b, s, n); }

/* Appends a line to a newline-separated list (the search index's columns). */
static bool buf_line(bulk_buf *b, const char *s, size_t n) {
    if (b->len && !buf_add(b, "\n", 1)) return false;
    return buf_add(b, s, n);
}

/* See bulk_load.h. */
size_t graph_bulk_quote(char *out, const char *s, size_t n) {
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default: o += sprintf(o, "u%04X", c); break;
        }
    }
    *o++ = '"';
    *o = '\0';
    return (size_t)(o - out);
}

/* See bulk_load.h. */
bool graph_bulk_buf_quote(graph_bulk_buf *b, const char *s, size_t n) {
    if (!buf_room(b, 6 * n + 3)) return false;
    b->len += graph_bulk_quote(b->p + b->len, s, n);
    return true;
}

/* Appends the NUL-terminated s as a JSON string (graph_bulk_buf_quote). */
static bool buf_quote(bulk_buf *b, const char *s) { return graph_bulk_buf_quote(b, s, strlen(s)); }

/* The name key of s into b (replacing its content): ASCII text is trimmed and
 * lower-cased here (what NFKC + case folding do to it), the rest goes through
 * graph_name_key. */
static gs_status bulk_key(bulk_buf *b, const char *s, gs_error *err) {
    b->len = 0;
    const unsigned char *p = (const unsigned char *)s;
    bool ascii = true;
    size_t n = 0;
    for (; p[n]; n++)
        if (p[n] >= 0x80) {
            ascii = false;
            break;
        }
    if (ascii) {
        size_t a = 0, z = n;
        while (a < z && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r'))) a++;
        while (z > a && (s[z - 1] == ' ' || (s[z - 1] >= '\t' && s[z - 1] <= '\r'))) z--;
        if (!buf_room(b, z - a)) return gs_fail(err, GS_IO, "out of memory");
        for (size_t i = a; i < z; i++) b->p[b->len++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        b->p[b->len] = '\0';
        return GS_OK;
    }
    char *k = graph_name_key(s, err);
    if (!k) return GS_INVALID;
    bool ok = buf_add(b, k, strlen(k));
    free(k);
    return ok ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* The map key label \x1f key into b->mk. */
static bool bulk_map_key(graph_bulk *b, const char *label, const char *key, size_t klen) {
    b->mk.len = 0;
    return buf_add(&b->mk, label, strlen(label)) && buf_add(&b->mk, "\x1f", 1) && buf_add(&b->mk, key, klen);
}

/* Drops an index whose table is empty, remembering how to build it again. */
static gs_status bulk_defer_index(graph_bulk *b, const char *name, gs_error *err) {
    sqlite3_stmt *st = gs_prov_prepare(b->s, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1", err);
    if (!st) return GS_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    char *sql = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) sql = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (!sql || b->ndeferred == BULK_MAX_DEFERRED) {
        free(sql);
        return GS_OK;   /* not there (or no room): nothing to defer */
    }
    char drop[128];
    snprintf(drop, sizeof drop, "DROP INDEX \"%s\"", name);
    gs_status r = gs_exec(b->s, drop, err);
    if (r != GS_OK) free(sql);
    else b->deferred[b->ndeferred++] = sql;
    return r;
}

/* Builds the deferred indexes (at the end, or before a row needs them). */
static gs_status bulk_undefer(graph_bulk *b, gs_error *err) {
    gs_status r = GS_OK;
    for (size_t i = 0; i < b->ndeferred; i++) {
        if (r == GS_OK) r = gs_exec(b->s, b->deferred[i], err);
        free(b->deferred[i]);
    }
    b->ndeferred = 0;
    return r;
}

/* Frees everything b holds (statements, maps, buffers) and b. */
static void bulk_free(graph_bulk *b) {
    for (int i = 0; i < BS__COUNT; i++) sqlite3_finalize(b->st[i]);
    for (size_t i = 0; i < b->ndeferred; i++) free(b->deferred[i]);
    for (size_t i = 0; i < b->nloaded; i++) free(b->loaded[i]);
    free(b->loaded);
    for (size_t i = 0; i < b->ntypes; i++) free(b->types[i]);
    bulk_names_free(&b->names);
    bulk_names_free(&b->aliases);
    bulk_ids_free(&b->claimed);
    gs_ids_free(&b->matched);
    bulk_rels_free(&b->rels);
    sqlite3_finalize(b->props_of);
    bulk_memo_free(&b->unchanged);
    bulk_recent_free(&b->recent);
    bulk_buf *bufs[] = {&b->key, &b->mk, &b->text, &b->fts_aliases, &b->fts_body, &b->akeys, &b->row_text};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]->p);
    free(b);
}

/* Moves the staged search rows into node_fts, in id order, in one statement.
 * Staging keeps FTS5's work (tokenising, segment writes and merges) out of the
 * row loop, where it competed with every other table for the page cache. */
static gs_status bulk_fts_flush(graph_bulk *b, gs_error *err) {
    gs_status r = gs_exec(b->s, "INSERT INTO node_fts(rowid, name, aliases, body) "
                                "SELECT id, name, aliases, body FROM temp.gs_bulk_fts ORDER BY id", err);
    return r == GS_OK ? gs_exec(b->s, "DELETE FROM temp.gs_bulk_fts", err) : r;
}

/* True if the table has no rows. */
static bool bulk_table_empty(graph_store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    bool empty = false;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) empty = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return empty;
}

/* Every node the load creates gets an id past the largest one at its start (rowids grow). */
static gs_status bulk_first_new_id(graph_bulk *b, gs_error *err) {
    sqlite3_stmt *st = gs_prov_prepare(b->s, "SELECT coalesce(max(id), 0) + 1 FROM nodes", err);
    if (!st) return GS_IO;
    gs_status r = sqlite3_step(st) == SQLITE_ROW ? GS_OK : gs_sqlfail(b->s, err, "bulk load: reading node ids");
    if (r == GS_OK) b->first_new_id = b->unchanged.base = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r;
}

/* See bulk_load.h: the savepoint, the deferred indexes, the statements. */
gs_status graph_bulk_begin(graph_store *s, graph_bulk **out, gs_error *err) {
    *out = NULL;
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    if (!s->in_tx || !s->prov_import) return gs_fail(err, GS_INVALID, "a bulk load needs a running import");
    graph_bulk *b = calloc(1, sizeof *b);
    if (!b) return gs_fail(err, GS_IO, "out of memory");
    b->s = s;
    b->saved = s->prov;
    gs_status r = gs_exec(s, "SAVEPOINT gs_bulk", err);
    if (r != GS_OK) {
        free(b);
        return r;
    }
    /* Foreign keys are not enforced while the load runs. Every row it writes
     * that references a node (node_labels, aliases, rels.start/end) names one
     * that exists: a node the load just created or resolved, or, for
     * graph_bulk_rel, ends its caller checked (bulk_load.h; bulk_check_ends
     * checks it again in debug builds), and nothing is deleted between begin
     * and end, so no cascade is missed. SQLite's own check was a rowid probe
     * into `nodes` per reference: 3.0 s of the 6.3 s of a 1M-row rels.csv.
     * PRAGMA foreign_keys is a no-op inside a transaction; the connection
     * flag is not, and it is set back in graph_bulk_end on every path. */
    b->fk_was = -1;   /* the int* gets the setting after the call: read it first */
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &b->fk_was) != SQLITE_OK ||
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, NULL) != SQLITE_OK)
        b->fk_was = -1;
    /* While the staged rows go in (bulk_fts_flush): a few large segments. */
    r = gs_fts_bulk_begin(s, &b->fts_was, err);
    if (r == GS_OK)
        r = gs_exec(s, "CREATE TEMP TABLE IF NOT EXISTS gs_bulk_fts(id INTEGER PRIMARY KEY, name, aliases, body)", err);
    b->fresh_nodes = r == GS_OK && bulk_table_empty(s, "SELECT 1 FROM nodes LIMIT 1");
    b->fresh_rels = bulk_table_empty(s, "SELECT 1 FROM rels LIMIT 1");
    if (r == GS_OK) r = bulk_first_new_id(b, err);
    graph_bulk_set_probe_rows(b, BULK_PROBE_ROWS);
    for (size_t i = 0; r == GS_OK && b->fresh_nodes && i < sizeof bulk_node_indexes / sizeof *bulk_node_indexes; i++)
        r = bulk_defer_index(b, bulk_node_indexes[i], err);
    for (size_t i = 0; r == GS_OK && b->fresh_rels && i < sizeof bulk_rel_indexes / sizeof *bulk_rel_indexes; i++)
        r = bulk_defer_index(b, bulk_rel_indexes[i], err);
    for (int i = 0; r == GS_OK && i < BS__COUNT; i++)
        if (sqlite3_prepare_v3(s->db, bulk_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL) != SQLITE_OK)
            r = gs_sqlfail(s, err, "bulk load: preparing");
    if (r == GS_OK) r = bulk_next_ids(b, err);
    b->behind_bytes = s->bulk_write_queue_bytes > 0 ? (size_t)s->bulk_write_queue_bytes : 0;
    if (r != GS_OK) {
        graph_bulk_end(b, false, NULL);
        return r;
    }
    *out = b;
    return GS_OK;
}

/* True if the maps hold every node of label: the graph was empty at begin (the
 * maps get every node the load creates or changes), or bulk_load_label read it. */
static bool bulk_label_in_maps(const graph_bulk *b, const char *label) {
    if (b->fresh_nodes) return true;
    for (size_t i = 0; i < b->nloaded; i++)
        if (strcmp(b->loaded[i], label) == 0) return true;
    return false;
}

/* Puts the stored nodes of label (names and aliases) into the maps, once per
 * label; on a graph that was empty there is nothing to read. */
static gs_status bulk_load_label(graph_bulk *b, const char *label, gs_error *err) {
    if (bulk_label_in_maps(b, label)) return GS_OK;
    gs_status sr = bulk_settle(b, err);
    if (sr != GS_OK) return sr;
    char **nl = realloc(b->loaded, (b->nloaded + 1) * sizeof *nl);
    if (!nl) return gs_fail(err, GS_IO, "out of memory");
    b->loaded = nl;
    if (!(b->loaded[b->nloaded] = strdup(label))) return gs_fail(err, GS_IO, "out of memory");
    b->nloaded++;
    for (int which = 0; which < 2; which++) {
        sqlite3_stmt *st = b->st[which ? BS_LOAD_ALIASES : BS_LOAD_NAMES];
        bulk_names *m = which ? &b->aliases : &b->names;
        sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
        int rc;
        gs_status r = GS_OK;
        while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 1);
            if (!bulk_map_key(b, label, k, (size_t)sqlite3_column_bytes(st, 1)) ||
                !bulk_names_add(m, b->mk.p, b->mk.len, sqlite3_column_int64(st, 0)))
                r = gs_fail(err, GS_IO, "out of memory");
        }
        if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(b->s, err, "bulk load: reading names");
        sqlite3_reset(st);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* Adds (label, key) -> id to a map; the key is in bulk_buf k. */
static gs_status bulk_map_add(graph_bulk *b, bulk_names *m, const char *label, const char *key, size_t klen,
                              int64_t id, gs_error *err) {
    if (!bulk_map_key(b, label, key, klen) || !bulk_names_add(m, b->mk.p, b->mk.len, id))
        return gs_fail(err, GS_IO, "out of memory");
    return GS_OK;
}

/* After graph_node_put changed node id: its labels, name and aliases as stored go into the maps. */
static gs_status bulk_sync_node(graph_bulk *b, int64_t id, gs_error *err) {
    char *labels[BULK_MAX_LABELS];
    size_t nlabels = 0;
    gs_status r = GS_OK;
    sqlite3_stmt *st = b->st[BS_NODE_LABELS];
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW && nlabels < BULK_MAX_LABELS)
        if (!(labels[nlabels++] = strdup((const char *)sqlite3_column_text(st, 0)))) r = gs_fail(err, GS_IO, "out of memory");
    sqlite3_reset(st);
    for (int which = 0; r == GS_OK && which < 2; which++) {
        st = b->st[which ? BS_NODE_ALIAS_KEYS : BS_NODE_KEY];
        sqlite3_bind_int64(st, 1, id);
        while (r == GS_OK && sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            size_t klen = (size_t)sqlite3_column_bytes(st, 0);
            for (size_t i = 0; k && r == GS_OK && i < nlabels; i++)
                r = bulk_map_add(b, which ? &b->aliases : &b->names, labels[i], k, klen, id, err);
        }
        sqlite3_reset(st);
    }
    for (size_t i = 0; i < nlabels; i++) free(labels[i]);
    return r;
}

/* Writes the claims of a run of ids this load created: created = 1, and
 * implicit property claims when an import made them (schema step 4). */
static gs_status bulk_flush_run(graph_bulk *b, bool node, gs_error *err) {
    int64_t *run = node ? b->node_run : b->rel_run;
    if (run[0] == 0) return GS_OK;
    gs_status r = bulk_settle(b, err);
    if (r == GS_OK) r = gs_claim_range_put(b->s, node, run[0], run[1], b->s->prov_import, 1, b->s->prov_import != 0, err);
    run[0] = run[1] = 0;
    return r;
}

/* Notes the claim of an entity this load created: ids come in runs (rowids
 * grow), written as claim ranges (graph/claim_ranges.c) when a run ends. */
static gs_status bulk_claim_created(graph_bulk *b, bool node, int64_t id, gs_error *err) {
    int64_t *run = node ? b->node_run : b->rel_run;
    if (run[0] != 0 && id == run[1] + 1) {
        run[1] = id;
        return GS_OK;
    }
    gs_status r = bulk_flush_run(b, node, err);
    run[0] = run[1] = id;
    return r;
}

/* Writes the claims noted so far: the created runs, then the matched nodes
 * in id order, as ranges (a relationship file names its ends in no
 * particular order; sorted, they are runs too). Must run before anything
 * reads node_claims or rel_claims (graph_node_put / graph_rel_put) and at
 * the end. */
static gs_status bulk_flush_claims(graph_bulk *b, gs_error *err) {
    gs_status r = bulk_settle(b, err);
    if (r == GS_OK) r = bulk_flush_run(b, true, err);
    if (r == GS_OK) r = bulk_flush_run(b, false, err);
    gs_ids_sort(&b->matched);
    if (r == GS_OK) r = gs_claim_nodes_put(b->s, b->matched.v, b->matched.n, b->s->prov_import, err);
    b->matched.n = 0;
    return r;
}

/* Claims node id for the import with created = 0, once per load (queued:
 * bulk_flush_claims). Nodes created during the load are claimed already. */
static gs_status bulk_claim_match(graph_bulk *b, int64_t id, gs_error *err) {
    if (id >= b->first_new_id || bulk_ids_has(&b->claimed, id)) return GS_OK;
    if (!gs_ids_push(&b->matched, id) || !bulk_ids_add(&b->claimed, id)) return gs_fail(err, GS_IO, "out of memory");
    return GS_OK;
}

/* Counts the property values a new entity's implicit claim covers (as
 * graph_node_put counts the claims it writes): no rows are written for them. */
static void bulk_count_props(graph_bulk *b, size_t nprops) {
    b->s->prov.props_set += (int64_t)nprops;
}

/* The props text of a new node: props with "name" in its sorted place. */
static bool bulk_node_text(graph_bulk *b, const graph_bulk_node_row *row) {
    bulk_buf *t = &b->text;
    t->len = 0;
    bool named = false, ok = buf_add(t, "{", 1);
    for (size_t i = 0; ok && i <= row->nprops; i++) {
        if (!named && (i == row->nprops || strcmp(row->props[i].key, "name") > 0)) {
            ok = (t->len > 1 ? buf_add(t, ",", 1) : true) && buf_add(t, "\"name\":", 7) && buf_quote(t, row->name);
            named = true;
        }
        if (!ok || i == row->nprops) break;
        ok = (t->len > 1 ? buf_add(t, ",", 1) : true) && buf_quote(t, row->props[i].key) && buf_add(t, ":", 1) &&
             buf_add(t, row->props[i].json, row->props[i].json_len);
    }
    return ok && buf_add(t, "}", 1);
}

/* From here on this load writes no search rows: the staged ones are dropped and,
 * at graph_bulk_end, the ids of every node it created go to the search backlog
 * (graph/search.c), filled by the writer after the commit. Tokenising a big
 * load's rows into FTS5 was a third of its time (about 8 s per million nodes);
 * search stays exact meanwhile (it scans the backlog's nodes). */
static gs_status bulk_defer_search(graph_bulk *b, gs_error *err) {
    b->defer_search = true;
    gs_status r = bulk_settle(b, err);   /* the staged rows queued so far go in first */
    return r == GS_OK ? gs_exec(b->s, "DELETE FROM temp.gs_bulk_fts", err) : r;
}

/* Inserts a new node with everything graph_node_put would write for it. key is b->key. */
static gs_status bulk_node_create(graph_bulk *b, const graph_bulk_node_row *row, int64_t *id_out, gs_error *err) {
    graph_store *s = b->s;
    if (!bulk_node_text(b, row)) return gs_fail(err, GS_IO, "out of memory");
    int64_t id = b->next_node_id;
    bulk_op op = {.kind = OP_NODE, .i = {id}, .s = {b->key.p, b->text.p}, .n = {(uint32_t)b->key.len, (uint32_t)b->text.len}};
    gs_status r = bulk_write(b, &op, err);
    if (r != GS_OK) return r;
    b->next_node_id++;
    if (b->behind) bulk_recent_put(&b->recent, id, b->text.p, b->text.len);
    for (size_t i = 0; r == GS_OK && i < row->nlabels; i++) {
        op = (bulk_op){.kind = OP_LABEL, .i = {id, (int64_t)i}, .s = {row->labels[i]}, .n = {(uint32_t)strlen(row->labels[i])}};
        r = bulk_write(b, &op, err);
        if (r == GS_OK) r = bulk_map_add(b, &b->names, row->labels[i], b->key.p, b->key.len, id, err);
    }
    /* aliases: rows, claims, the search column (keys, first spelling wins);
     * written in line (a repeated key is told by sqlite3_changes) */
    b->fts_aliases.len = 0;
    b->akeys.len = 0;
    if (r == GS_OK && row->naliases) r = bulk_settle(b, err);
    sqlite3_stmt *st;
    for (size_t i = 0; r == GS_OK && i < row->naliases; i++) {
        r = bulk_key(&b->akeys, row->aliases[i], err);
        if (r == GS_OK && b->akeys.len == 0)
            r = gs_fail(err, GS_INVALID, "alias \"%.100s\" is empty after normalisation", row->aliases[i]);
        if (r != GS_OK) break;
        st = b->st[BS_ALIAS];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, row->aliases[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, b->akeys.p, (int)b->akeys.len, SQLITE_STATIC);
        r = bulk_exec(b, st, "adding an alias", err);
        if (r != GS_OK || sqlite3_changes(s->db) == 0) continue;
        if (!buf_line(&b->fts_aliases, b->akeys.p, b->akeys.len)) r = gs_fail(err, GS_IO, "out of memory");
        st = b->st[BS_CLAIM_ALIAS];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, b->akeys.p, (int)b->akeys.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, s->prov_import);
        if (r == GS_OK) r = bulk_exec(b, st, "recording an alias claim", err);
        if (r == GS_OK && sqlite3_changes(s->db) > 0) s->prov.aliases_added++;
        for (size_t l = 0; r == GS_OK && l < row->nlabels; l++)
            r = bulk_map_add(b, &b->aliases, row->labels[l], b->akeys.p, b->akeys.len, id, err);
    }
    /* the search row: name key, alias keys, keys of the other strings; none once the
     * load is big enough to leave its search rows to the backlog (bulk_defer_search) */
    b->fts_body.len = 0;
    for (size_t i = 0; r == GS_OK && !b->defer_search && i < row->nstrings; i++) {
        r = bulk_key(&b->akeys, row->strings[i], NULL);
        if (r != GS_OK) {
            r = GS_OK;   /* as search.c: a string that cannot be normalised is left out */
            continue;
        }
        if (b->akeys.len && !buf_line(&b->fts_body, b->akeys.p, b->akeys.len)) r = gs_fail(err, GS_IO, "out of memory");
    }
    if (r == GS_OK && !b->defer_search) {
        op = (bulk_op){.kind = OP_FTS, .i = {id}, .s = {b->key.p, b->fts_aliases.p, b->fts_body.p},
                       .n = {(uint32_t)b->key.len, (uint32_t)b->fts_aliases.len, (uint32_t)b->fts_body.len}};
        r = bulk_write(b, &op, err);
    }
    if (r == GS_OK) r = bulk_claim_created(b, true, id, err);
    if (r == GS_OK) {
        bulk_count_props(b, row->nprops);
        s->prov.nodes_created++;
        *id_out = id;
        b->ncreated++;
        b->last_new_id = id;
        if (!b->defer_search && s->search_defer_nodes > 0 && b->ncreated > s->search_defer_nodes)
            r = bulk_defer_search(b, err);
    }
    return r;
}

/* JSON objects for graph_node_put / graph_rel_put from a row's property texts. */
static gs_status bulk_props_json(const graph_bulk_prop *props, size_t nprops, json_t **out, gs_error *err) {
    *out = json_object();
    for (size_t i = 0; *out && i < nprops; i++) {
        json_t *v = json_loadb(props[i].json, props[i].json_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!v || json_object_set_new(*out, props[i].key, v) != 0) {
            json_decref(*out);
            *out = NULL;
            return gs_fail(err, GS_INVALID, "property \"%.100s\": not a JSON value", props[i].key);
        }
    }
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* See bulk_load.h: the general case, graph_node_put with the deferred indexes back, then the maps follow. */
gs_status graph_bulk_node_put(graph_bulk *b, const char *const *labels, size_t nlabels, const char *name,
                              json_t *props, json_t *aliases, int64_t *id_out, gs_error *err) {
    gs_status r = bulk_settle(b, err);
    for (size_t i = 0; r == GS_OK && b->probes_left == 0 && i < nlabels && nlabels <= BULK_MAX_LABELS; i++)
        if (gs_utf8_ok(labels[i])) r = bulk_load_label(b, labels[i], err);   /* bad ones: graph_node_put says so */
    if (r == GS_OK) r = bulk_flush_claims(b, err);
    if (r == GS_OK) r = bulk_fts_flush(b, err);   /* graph_node_put rewrites the node's search row */
    if (r == GS_OK) r = bulk_undefer(b, err);
    bool created = false;
    if (r == GS_OK) r = graph_node_put(b->s, labels, nlabels, name, props, aliases, id_out, &created, err);
    if (r == GS_OK && created) r = bulk_next_ids(b, err);
    if (r == GS_OK) r = bulk_sync_node(b, *id_out, err);
    if (r == GS_OK) bulk_memo_forget(&b->unchanged, *id_out);   /* the node may have changed */
    if (r == GS_OK) bulk_recent_forget(&b->recent, *id_out);
    if (r == GS_OK && !bulk_ids_add(&b->claimed, *id_out)) r = gs_fail(err, GS_IO, "out of memory");
    return r;
}

/* graph_bulk_node_put for a row of bulk properties. */
static gs_status bulk_node_put(graph_bulk *b, const graph_bulk_node_row *row, int64_t *id_out, gs_error *err) {
    json_t *props = NULL, *aliases = json_array();
    gs_status r = bulk_props_json(row->props, row->nprops, &props, err);
    for (size_t i = 0; r == GS_OK && i < row->naliases; i++) json_array_append_new(aliases, json_string(row->aliases[i]));
    if (r == GS_OK)
        r = graph_bulk_node_put(b, row->labels, row->nlabels, row->name, props, row->naliases ? aliases : NULL, id_out,
                                err);
    json_decref(props);
    json_decref(aliases);
    return r;
}

/* The row's props as one text (key NUL value NUL ...): the memo's key. */
static bool bulk_row_text(graph_bulk *b, const graph_bulk_node_row *row) {
    bulk_buf *t = &b->row_text;
    t->len = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < row->nprops; i++)
        ok = buf_add(t, row->props[i].key, strlen(row->props[i].key) + 1) &&
             buf_add(t, row->props[i].json, row->props[i].json_len) && buf_add(t, "", 1);
    return ok;
}

/* True if the props text (len bytes, a stored node's) has every property of
 * the row with the row's value. */
static bool bulk_props_hold(graph_bulk *b, const char *text, size_t len, const graph_bulk_node_row *row) {
    for (size_t i = 0; i < row->nprops; i++) {
        b->akeys.len = 0;
        const char *vend = NULL, *v = buf_quote(&b->akeys, row->props[i].key)
                                          ? gs_json_find_key(text, len, b->akeys.p, b->akeys.len, &vend) : NULL;
        if (!v || (size_t)(vend - v) != row->props[i].json_len || memcmp(v, row->props[i].json, row->props[i].json_len) != 0)
            return false;
    }
    return true;
}

/* A row naming a node this load created that would change nothing on it: one
 * label (the node has it: that is how the row found it), no aliases, and every
 * property already stored with that value. graph_node_put would write nothing
 * (each stored value of such a node is this import's latest claim on its key),
 * so the row costs one read instead of a merge, and no read when the same row
 * was found changing nothing on the node before: b->unchanged remembers that
 * until graph_bulk_node_put writes the node (the only way a load changes the
 * props of a node it created). In an HF import every model names its base
 * as {hf_id = ...}, so a base with k children was read k times: 12-15% of
 * the import. */
static bool bulk_node_unchanged(graph_bulk *b, int64_t id, const graph_bulk_node_row *row) {
    if (id < b->first_new_id || row->nlabels != 1 || row->naliases != 0) return false;
    bool keyed = bulk_row_text(b, row);
    if (keyed && bulk_memo_has(&b->unchanged, id, b->row_text.p, b->row_text.len)) return true;
    size_t len = 0;
    const char *text = bulk_recent_get(&b->recent, id, &len);   /* created lately: maybe not written yet */
    bool same;
    if (text) {
        same = bulk_props_hold(b, text, len, row);
    } else {
        if (!b->props_of && sqlite3_prepare_v3(b->s->db, "SELECT props FROM nodes WHERE id = ?1", -1,
                                               SQLITE_PREPARE_PERSISTENT, &b->props_of, NULL) != SQLITE_OK)
            return false;
        bulk_read_begin(b, id);   /* no row (an INSERT failed): the merge it falls to reports why */
        sqlite3_bind_int64(b->props_of, 1, id);
        same = sqlite3_step(b->props_of) == SQLITE_ROW;
        text = same ? (const char *)sqlite3_column_text(b->props_of, 0) : NULL;
        len = same ? (size_t)sqlite3_column_bytes(b->props_of, 0) : 0;
        same = text && bulk_props_hold(b, text, len, row);
        sqlite3_reset(b->props_of);
        bulk_read_end(b);
    }
    if (same && keyed) bulk_memo_set(&b->unchanged, id, b->row_text.p, b->row_text.len);
    return same;
}

/* One probe (BS_PROBE_NAME or BS_PROBE_ALIAS) for label and the name key in
 * b->key: *id = 0 (none), the node, or BULK_AMBIGUOUS (two nodes), as the maps say. */
static gs_status bulk_probe(graph_bulk *b, int which, const char *label, int64_t *id, gs_error *err) {
    sqlite3_stmt *st = b->st[which];
    *id = 0;
    gs_status sr = bulk_settle(b, err);
    if (sr != GS_OK) return sr;
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->key.p, (int)b->key.len, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t found = sqlite3_column_int64(st, 0);
        *id = *id == 0 || *id == found ? found : BULK_AMBIGUOUS;
    }
    gs_status r = rc == SQLITE_DONE ? GS_OK : gs_sqlfail(b->s, err, "bulk load: looking up a name");
    sqlite3_reset(st);
    return r;
}

/* The node a row names under its identity label (labels[0]; the name key is in
 * b->key): by name key, else by alias key; *id = 0 if none, BULK_AMBIGUOUS if
 * two nodes share the key. Invariant: both ways give the same answer. The maps
 * hold every node of a label once it is in them (bulk_label_in_maps); until
 * then, for the first BULK_PROBE_ROWS rows of the load, index probes read the
 * tables, which hold every row the load wrote (same connection, same
 * transaction); after that the row's labels are read into the maps. */
static gs_status bulk_resolve(graph_bulk *b, const graph_bulk_node_row *row, int64_t *id, gs_error *err) {
    const char *label = row->labels[0];
    gs_status r = GS_OK;
    if (!bulk_label_in_maps(b, label) && b->probes_left > 0) {
        b->probes_left--;
        r = bulk_probe(b, BS_PROBE_NAME, label, id, err);
        if (r == GS_OK && *id == 0) r = bulk_probe(b, BS_PROBE_ALIAS, label, id, err);
        return r;
    }
    for (size_t i = 0; r == GS_OK && i < row->nlabels; i++) r = bulk_load_label(b, row->labels[i], err);
    if (r != GS_OK) return r;
    if (!bulk_map_key(b, label, b->key.p, b->key.len)) return gs_fail(err, GS_IO, "out of memory");
    *id = bulk_names_get(&b->names, b->mk.p, b->mk.len);
    if (*id == 0) *id = bulk_names_get(&b->aliases, b->mk.p, b->mk.len);
    return GS_OK;
}

/* See bulk_load.h. */
void graph_bulk_set_probe_rows(graph_bulk *b, int64_t rows) { b->probes_left = b->fresh_nodes || rows < 0 ? 0 : rows; }

/* See bulk_load.h: resolves the row's identity (bulk_resolve), then creates, claims or merges. */
gs_status graph_bulk_node(graph_bulk *b, const graph_bulk_node_row *row, int64_t *id_out, gs_error *err) {
    if (row->nlabels == 0 || !row->name) return gs_fail(err, GS_INVALID, "a bulk node needs a label and a name");
    if (row->nlabels > BULK_MAX_LABELS) return gs_fail(err, GS_INVALID, "more than %d labels", BULK_MAX_LABELS);
    gs_status r = bulk_key(&b->key, row->name, err);
    if (r != GS_OK) return r;
    if (b->key.len == 0) return gs_fail(err, GS_INVALID, "name is empty");
    int64_t id = 0;
    if ((r = bulk_resolve(b, row, &id, err)) != GS_OK) return r;
    if (id == 0) return bulk_node_create(b, row, id_out, err);
    if (id > 0 && row->nlabels == 1 && row->nprops == 0 && row->naliases == 0) {
        *id_out = id;   /* a reference to a known node (a relationship's end): only the claim */
        return bulk_claim_match(b, id, err);
    }
    if (id > 0 && bulk_node_unchanged(b, id, row)) {
        *id_out = id;   /* created by this load, which claimed it already */
        return GS_OK;
    }
    return bulk_node_put(b, row, id_out, err);   /* changes a known node, or an ambiguous name */
}

/* The interned id of a relationship type, -1 + err if it is not valid or too many. */
static int32_t bulk_type(graph_bulk *b, const char *type, gs_error *err) {
    for (size_t i = b->ntypes; i-- > 0;)
        if (strcmp(b->types[i], type) == 0) return (int32_t)i;
    if (!gs_utf8_ok(type)) return gs_fail(err, GS_INVALID, "type must be a non-empty UTF-8 string"), -1;
    if (b->ntypes == BULK_MAX_TYPES) return gs_fail(err, GS_INVALID, "more than %d relationship types", BULK_MAX_TYPES), -1;
    if (!(b->types[b->ntypes] = strdup(type))) return gs_fail(err, GS_IO, "out of memory"), -1;
    return (int32_t)b->ntypes++;
}

/* Props text of a new relationship: the sorted props as one object. */
static bool bulk_rel_text(graph_bulk *b, const graph_bulk_prop *props, size_t nprops) {
    bulk_buf *t = &b->text;
    t->len = 0;
    bool ok = buf_add(t, "{", 1);
    for (size_t i = 0; ok && i < nprops; i++)
        ok = (i ? buf_add(t, ",", 1) : true) && buf_quote(t, props[i].key) && buf_add(t, ":", 1) &&
             buf_add(t, props[i].json, props[i].json_len);
    return ok && buf_add(t, "}", 1);
}

#ifndef NDEBUG
/* Debug builds: both ends are nodes, as graph_bulk_rel's callers promise (the
 * load does not enforce foreign keys: graph_bulk_begin). Release builds trust
 * the caller: this probe is the cost the load avoids. */
static gs_status bulk_check_ends(graph_bulk *b, int64_t start, int64_t end, gs_error *err) {
    for (int i = 0; i < 2; i++) {
        int64_t id = i ? end : start;
        if (!graph_bulk_node_exists(b, id))
            return gs_fail(err, GS_INVALID, "bulk load: relationship %s %" PRId64 " is not a node (caller bug)",
                           i ? "end" : "start", id);
    }
    return GS_OK;
}
#endif

/* See bulk_load.h: creates the relationship unless (start, type, end) exists, else merges. */
gs_status graph_bulk_rel(graph_bulk *b, int64_t start, const char *type, int64_t end, const graph_bulk_prop *props,
                         size_t nprops, int64_t *id_out, gs_error *err) {
#ifndef NDEBUG
    if (bulk_check_ends(b, start, end, err) != GS_OK) return GS_INVALID;
#endif
    int32_t t = bulk_type(b, type, err);
    if (t < 0) return GS_INVALID;
    int64_t id = bulk_rels_get(&b->rels, start, t, end);
    gs_status r = GS_OK;
    if (id == 0 && !b->fresh_rels) {   /* relationships from before the load: one index probe */
        bulk_read_begin(b, 0);   /* rows from before the load: nothing to wait for */
        sqlite3_stmt *st = b->st[BS_REL_FIND];
        sqlite3_bind_int64(st, 1, start);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, end);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE) r = gs_sqlfail(b->s, err, "looking up a relationship");
        sqlite3_reset(st);
        bulk_read_end(b);
        if (r != GS_OK) return r;
    }
    if (id != 0) {   /* exists: graph_rel_put's merge, with the indexes back */
        json_t *pj = NULL;
        bool created = false;
        r = bulk_flush_claims(b, err);
        if (r == GS_OK) r = bulk_undefer(b, err);
        if (r == GS_OK) r = bulk_props_json(props, nprops, &pj, err);
        if (r == GS_OK) r = graph_rel_put(b->s, start, type, end, pj, false, &id, &created, err);
        json_decref(pj);
        if (r == GS_OK && !bulk_rels_add(&b->rels, start, t, end, id))
            r = gs_fail(err, GS_IO, "out of memory");
        if (r == GS_OK && id_out) *id_out = id;
        return r;
    }
    if (!bulk_rel_text(b, props, nprops)) return gs_fail(err, GS_IO, "out of memory");
    id = b->next_rel_id;
    bulk_op op = {.kind = OP_REL, .i = {id, start, end}, .s = {type, b->text.p},
                  .n = {(uint32_t)strlen(type), (uint32_t)b->text.len}};
    r = bulk_write(b, &op, err);
    if (r != GS_OK) return r;
    b->next_rel_id++;
    r = bulk_claim_created(b, false, id, err);
    if (r == GS_OK) bulk_count_props(b, nprops);
    if (r == GS_OK && !bulk_rels_add(&b->rels, start, t, end, id)) r = gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK) {
        b->s->prov.rels_created++;
        if (id_out) *id_out = id;
    }
    return r;
}

/* See bulk_load.h: graph_rel_put with the deferred indexes back, then the map follows. */
gs_status graph_bulk_rel_put(graph_bulk *b, int64_t start, const char *type, int64_t end, json_t *props,
                             int64_t *id_out, gs_error *err) {
    gs_status r = bulk_flush_claims(b, err);
    if (r == GS_OK) r = bulk_undefer(b, err);
    int64_t id = 0;
    bool created = false;
    if (r == GS_OK) r = graph_rel_put(b->s, start, type, end, props, false, &id, &created, err);
    if (r == GS_OK && created) r = bulk_next_ids(b, err);
    int32_t t = r == GS_OK ? bulk_type(b, type, err) : 0;
    if (r == GS_OK && t < 0) r = GS_INVALID;
    if (r == GS_OK && !bulk_rels_add(&b->rels, start, t, end, id)) r = gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK && id_out) *id_out = id;
    return r;
}

/* See bulk_load.h: pending claims, indexes, search rows and FTS5 settings, then release or undo. */
gs_status graph_bulk_end(graph_bulk *b, bool keep, gs_error *err) {
    if (!b) return GS_OK;
    gs_status r = bulk_behind_end(b, keep ? err : NULL);   /* the connection is the load's alone from here */
    if (r == GS_OK && keep) r = bulk_flush_claims(b, err);
    for (int i = 0; i < BS__COUNT; i++) {
        sqlite3_finalize(b->st[i]);
        b->st[i] = NULL;
    }
    if (keep && r == GS_OK) r = bulk_undefer(b, err);
    if (keep && r == GS_OK)
        r = b->defer_search ? gs_search_backlog_add(b->s, b->first_new_id, b->last_new_id, err) : bulk_fts_flush(b, err);
    if (keep && r == GS_OK) r = gs_fts_bulk_end(b->s, &b->fts_was, err);
    if (keep && r == GS_OK) r = gs_exec(b->s, "RELEASE gs_bulk", err);
    if (!keep || r != GS_OK) {
        gs_exec(b->s, "ROLLBACK TO gs_bulk", NULL);
        gs_exec(b->s, "RELEASE gs_bulk", NULL);
        b->s->prov = b->saved;
    }
    gs_exec(b->s, "DROP TABLE IF EXISTS temp.gs_bulk_fts", NULL);
    if (b->fk_was > 0) sqlite3_db_config(b->s->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, NULL);
    bulk_free(b);
    return r;
}
