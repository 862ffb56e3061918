/*
 * graph/adjacency.h - an in-memory adjacency index of the `rels` table, shared
 * by the daemon's connections to one database, so lineage (and, later, Cypher
 * variable-length patterns) walk arrays instead of running one SQLite query
 * per visited node.
 *
 * It also holds each node's labels as a 64-bit set (the first 64 label names),
 * so label tests of Cypher reads (`(d:Model)` on 60,000 reached nodes) need no
 * SQLite lookup either, and each node's "name" value as stored (canonical JSON
 * text in one pool), so `lineage` with `fields:["name"]` reads no row at all
 * (~40 MiB at 1M models), and the hash of each node's name_key (key_index.h,
 * ~12 MiB), so a reader's lookup by name reads one row instead of descending
 * the nodes_name_key index.
 *
 * Shape: a CSR base (both directions: per node, its (other end, rel id, type)
 * entries) built from `rels`, plus overrides: rel id -> its current
 * (type, start, end) or "gone", for relationships changed since the base was
 * built. Overrides mask base entries with the same rel id; when they grow past
 * a quarter of the base the writer rebuilds the base.
 *
 * Kept current by the writer connection: an SQLite update hook records the
 * ids of touched `rels` rows; after each COMMIT (graph_store_commit or a
 * single call's own transaction) the writer re-reads exactly those rows and
 * applies them, under the index's write lock, with COMMIT itself inside the
 * same lock. Re-reading instead of replaying makes savepoint rollbacks, rolled
 * back transactions and rowid reuse all come out right: the index holds what
 * is committed, nothing else.
 *
 * Snapshots: the index advances a sequence number with every applied commit.
 * A reader records the sequence before its read transaction starts
 * (graph_store_read_begin / the store's own read snapshots); when it later
 * takes the read lock and the sequence is unchanged, no commit that changed
 * relationships happened in between, so the index is exactly its snapshot.
 * Otherwise (a racing write) graph_adj_begin() says no and the caller falls
 * back to SQLite. Ids above 2^32 - 2 in the base also disable the index.
 */
#ifndef DSGRAPH_GRAPH_ADJACENCY_H
#define DSGRAPH_GRAPH_ADJACENCY_H

#include <stdint.h>

#include "store.h"

typedef struct graph_adj graph_adj;

/* An empty, unusable index (graph_adj_attach_writer builds it). NULL on OOM. */
graph_adj *graph_adj_new(void);
/* Frees it; every store attached to it must be closed or detached first. */
void graph_adj_free(graph_adj *a);

/* Makes w the index's writer: builds the base from w's `rels` and installs the
 * hooks that keep it current. Call on the thread that owns w, with no
 * transaction open. On failure the index stays unusable (readers use SQLite). */
gs_status graph_adj_attach_writer(graph_adj *a, graph_store *w, gs_error *err);
/* Lets reader connection r use the index (read-only). */
void graph_adj_attach_reader(graph_adj *a, graph_store *r);
/* Removes the writer hooks from s (if any) and forgets the index. */
void graph_adj_detach(graph_store *s);

/* ---- walking (lineage; the Cypher engine may use it for [:T*] patterns) ---- */

/* Takes the read lock if s has an index that matches s's current read
 * snapshot; then true, and graph_adj_end() must follow. False: use SQLite. */
bool graph_adj_begin(graph_store *s);
void graph_adj_end(graph_store *s);
/* Type ids for type names (-1 for a type the index has never seen). Between begin and end. */
int graph_adj_type_id(graph_store *s, const char *type);
/* The type ids are 0 .. graph_adj_type_count() - 1; a name stays valid until
 * graph_adj_end. Between begin and end. */
size_t graph_adj_type_count(graph_store *s);
const char *graph_adj_type_name(graph_store *s, int type_id);
/* Calls fn(arg, rel_id, other_end, type_id) for every relationship of one of
 * the ntypes type ids leaving node (UP: node is start) or entering it (DOWN:
 * node is end). Between begin and end. fn returns non-zero to stop; that value is returned. */
int graph_adj_each(graph_store *s, int64_t node, graph_direction dir, const int *type_ids, size_t ntypes,
                   int (*fn)(void *arg, int64_t rel, int64_t other, int type_id), void *arg);
/* Node labels, kept the same way (the writer's pre-update hook records the
 * nodes whose node_labels rows change; their labels are re-read after COMMIT). The first 64
 * label names get a bit. graph_adj_label_bit: the bit of a label, or
 * GRAPH_ADJ_LABEL_NONE when no node has ever had it, or GRAPH_ADJ_LABEL_UNINDEXED
 * when it has no bit (ask SQLite). Between begin and end. */
#define GRAPH_ADJ_LABEL_NONE (-1)
#define GRAPH_ADJ_LABEL_UNINDEXED (-2)
int graph_adj_label_bit(graph_store *s, const char *label);
uint64_t graph_adj_node_labels(graph_store *s, int64_t node);
/* Node names, kept the same way (the update hook notes touched `nodes` rows, whose
 * "name" is re-read after COMMIT): false when the names are not available (then ask
 * SQLite); else *text is the canonical JSON text of the node's "name" property as
 * stored (not NUL-terminated), or NULL when it has none. Between begin and end. */
bool graph_adj_node_name(graph_store *s, int64_t node, const char **text, size_t *len);
/* Node name keys (nodes.name_key), kept with the names, as hashes
 * (key_index.h): which node has this key? GRAPH_ADJ_KEY_NONE: none does.
 * GRAPH_ADJ_KEY_CANDIDATE: *node is the only node that may have it; the
 * caller compares its stored name_key, and if equal no other node has the key.
 * GRAPH_ADJ_KEY_UNSURE: ask SQLite (names not available, or several nodes
 * share the key's hash). key is a graph_name_key() result. The caller's read
 * snapshot must match the index when it acts on the answer: it reads the
 * candidate's row after graph_adj_end() and checks with graph_adj_begin()
 * again that the index is still its snapshot. Between begin and end. */
#define GRAPH_ADJ_KEY_NONE 0
#define GRAPH_ADJ_KEY_CANDIDATE 1
#define GRAPH_ADJ_KEY_UNSURE 2
int graph_adj_find_key(graph_store *s, const char *key, int64_t *node);
/* A node's labels in their order, when the index knows it: 0 (no labels), 1
 * (*label, valid until graph_adj_end), or -1 (two or more labels, whose order
 * only node_labels.pos has, or label names without a bit: ask SQLite). The
 * node must exist in the caller's snapshot. Between begin and end. */
int graph_adj_sole_label(graph_store *s, int64_t node, const char **label);
/* Number of relationships in the index (base + live overrides); for tests and stats. */
size_t graph_adj_count(graph_store *s);

/* ---- store.c's hooks (not for other callers) ---- */

/* Before a read transaction starts: remember the index's sequence. */
void gs_adj_note_snapshot(graph_store *s);
/* The read transaction ended: the remembered sequence no longer applies. */
void gs_adj_forget_snapshot(graph_store *s);
/* Around the writer's COMMIT: lock; then apply the touched rows (ok) and unlock. */
void gs_adj_commit_lock(graph_store *s);
void gs_adj_commit_done(graph_store *s, bool ok);

#endif
