/*
 * graph/bulk_load.h - loading many nodes and relationships in one go, for
 * importers (the C loop of core/bulk_csv.c): the same merge rules, claims and
 * counts as graph_node_put / graph_rel_put inside an import, at a fraction of
 * their cost per row:
 *
 *   - identity is resolved in memory: the name and alias keys of the labels a
 *     load meets are read once (nothing to read on an empty graph) and kept,
 *     with every node the load creates, in hash tables; relationships created
 *     by the load are found by (start, type, end) the same way. On a graph
 *     that was not empty, the first rows (BULK_PROBE_ROWS in bulk_load.c) are
 *     resolved with index probes instead, so that a small load into a big
 *     graph does not read every key of the labels it meets;
 *   - a row that creates a node or relationship is a few prepared INSERTs
 *     (row, labels, aliases, search row, claims) with no re-read and no JSON
 *     tree: properties arrive as canonical JSON text per value;
 *   - on an empty `nodes` (or `rels`) table the secondary indexes of the
 *     table are dropped at graph_bulk_begin and built once at graph_bulk_end
 *     (sorted build instead of random inserts);
 *   - relationships that were there before the load are found with one
 *     index probe per row (none when `rels` was empty);
 *   - the INSERTs of created rows run on a write thread of the load
 *     (graph/bulk_behind.h) while the next rows are resolved: the load
 *     assigns their ids itself. Every other use of the connection (a read, a
 *     merge, claim rows, the end) first waits for the thread's queue to run,
 *     and a failed INSERT fails the load at the next such point or at
 *     graph_bulk_end, which then undoes it. The queue holds at most the
 *     store's bulk_write_queue_bytes (0: no thread, rows written in line);
 *   - anything else (a row that changes an existing node, a relationship
 *     that exists already, an ambiguous name) goes through graph_node_put /
 *     graph_rel_put unchanged, after the deferred indexes are back, so the
 *     result is always the one those calls would give.
 *
 * A load runs inside a running import (prov_import_begin) and the caller's
 * transaction, in a savepoint of its own: graph_bulk_end(b, false) undoes
 * everything the load did. One load at a time per store; no other writes to
 * the store between begin and end. Foreign keys are not enforced between begin
 * and end (the rows the load writes reference nodes it knows exist; nothing is
 * deleted), and enforcement is back on after graph_bulk_end, however it ends.
 */
#ifndef DSGRAPH_GRAPH_BULK_LOAD_H
#define DSGRAPH_GRAPH_BULK_LOAD_H

#include "store.h"

typedef struct graph_bulk graph_bulk;

/* One property of a row: key (non-empty UTF-8) and the value as canonical JSON
 * text (gs_props_dump's spelling; never null). A row's props are sorted by key
 * (strcmp) with no key twice. */
typedef struct graph_bulk_prop {
    const char *key;
    const char *json;
    size_t json_len;
} graph_bulk_prop;

/* One node row: labels[0] is the identity label; name is required; props must
 * not contain "name" (the node's name is `name`); strings are the raw string
 * values among props (array elements too), for the search index; aliases may
 * be NULL. */
typedef struct graph_bulk_node_row {
    const char *const *labels;
    size_t nlabels;
    const char *name;
    const graph_bulk_prop *props;
    size_t nprops;
    const char *const *strings;
    size_t nstrings;
    const char *const *aliases;
    size_t naliases;
} graph_bulk_node_row;

/* A growable byte buffer with a NUL after its len bytes (for building rows); {0} is empty. */
typedef struct graph_bulk_buf {
    char *p;
    size_t len, cap;
} graph_bulk_buf;

/* Appends n bytes; false on OOM. */
bool graph_bulk_buf_add(graph_bulk_buf *b, const char *s, size_t n);
/* Appends s (n bytes) as a JSON string spelled as graph_bulk_quote spells it; false on OOM. */
bool graph_bulk_buf_quote(graph_bulk_buf *b, const char *s, size_t n);

/* Writes s (n bytes) as a JSON string exactly as jansson spells it
 * (gs_props_dump: \" \\ \b \f \n \r \t, other control characters as \u00XX,
 * the rest as is) and a NUL; out needs 6 * n + 3 bytes. Returns the length. */
size_t graph_bulk_quote(char *out, const char *s, size_t n);

/* Starts a load on s (an import must be running, inside graph_store_begin). */
gs_status graph_bulk_begin(graph_store *s, graph_bulk **out, gs_error *err);
/* How many more rows to resolve with index probes before reading the labels
 * they meet into the maps (default BULK_PROBE_ROWS; 0: read them now). The
 * result never depends on it: tests run the same rows both ways. */
void graph_bulk_set_probe_rows(graph_bulk *b, int64_t rows);
/* Merges one node like graph_node_put; *id_out gets its id. */
gs_status graph_bulk_node(graph_bulk *b, const graph_bulk_node_row *row, int64_t *id_out, gs_error *err);
/* Merges one relationship like graph_rel_put(create=false); both ends must be
 * nodes of the store, and the caller makes sure of it (ids from graph_bulk_node,
 * or checked): the load does not enforce foreign keys, and only debug builds
 * check the ends again. *id_out (may be NULL) gets its id. */
gs_status graph_bulk_rel(graph_bulk *b, int64_t start, const char *type, int64_t end, const graph_bulk_prop *props,
                         size_t nprops, int64_t *id_out, gs_error *err);
/* Merges one node with graph_node_put's own arguments, checks and messages (no
 * name, a "name" or null property, no label...), for rows graph_bulk_node cannot
 * express (ctx:bulk in core/bulk_lua.c). *id_out gets its id. */
gs_status graph_bulk_node_put(graph_bulk *b, const char *const *labels, size_t nlabels, const char *name,
                              json_t *props, json_t *aliases, int64_t *id_out, gs_error *err);
/* Merges one relationship with graph_rel_put's own arguments, checks and
 * messages (null properties, ends that may not exist). *id_out may be NULL. */
gs_status graph_bulk_rel_put(graph_bulk *b, int64_t start, const char *type, int64_t end, json_t *props,
                             int64_t *id_out, gs_error *err);
/* True if node id exists (a relationship's end that bulk_load did not hand
 * out): one rowid probe, after the write thread wrote the node if the load
 * created it (a node it did not create waits for nothing). */
bool graph_bulk_node_exists(graph_bulk *b, int64_t id);
/* CPU seconds the load's write thread used (0 without one) and how many
 * times the load waited for it, after it ran what is queued: for the
 * caller's timing line, just before graph_bulk_end. */
void graph_bulk_write_stats(graph_bulk *b, double *cpu_s, unsigned long *waits);
/* Ends the load: with keep, builds the deferred indexes and keeps the rows;
 * without, rolls everything back. Frees b either way. */
gs_status graph_bulk_end(graph_bulk *b, bool keep, gs_error *err);

#endif
