/*
 * graph/store.h - the property-graph store on SQLite.
 *
 * One graph_store is one SQLite connection to one database file. The daemon
 * opens one read-write store (owned by the writer thread) and one read-only
 * store per reader thread; a store is never shared between threads.
 *
 * Model:
 *   - nodes have zero or more labels (ordered; the first is the "identity
 *     label"), a JSON object of properties, and zero or more aliases;
 *   - relationships have one type, a start node, an end node and properties;
 *   - property values keep their JSON type exactly: null, true/false, 64-bit
 *     integer, double (1 and 1.0 stay different), string, array, object.
 *
 * Entities are returned in the protocol's shape (docs/protocol.md):
 *   {"$node":{"id":N,"labels":[...],"properties":{...}}}
 *   {"$rel":{"id":N,"type":"T","start":N,"end":N,"properties":{...}}}
 *
 * Identity: a node's name is its "name" property. name_key = casefold(NFKC(name)).
 * graph_node_find() matches a name or an alias by that key. Identity is an index,
 * not a constraint: several nodes may share label + name (Cypher CREATE makes them).
 *
 * Errors: every function returns a gs_status; on failure err->msg says what
 * and where (never NULL-terminated garbage; always a C string).
 * Transactions: single calls that write are atomic on their own (each opens and
 * commits its own transaction) unless the caller has opened one with
 * graph_store_begin(), in which case they join it.
 */
#ifndef DSGRAPH_GRAPH_STORE_H
#define DSGRAPH_GRAPH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define GRAPH_SCHEMA_VERSION 5   /* 2: provenance (imports and claims, graph/provenance.h);
                                    3: the search backlog (graph/search.c);
                                    4: implicit property claims (prop_claims is a view);
                                    5: claim ranges (node_claims, rel_claims are views) */

typedef struct graph_store graph_store;

typedef enum gs_status {
    GS_OK = 0,
    GS_NOT_FOUND,      /* no such node/relationship */
    GS_AMBIGUOUS,      /* a name matched several nodes; err->msg lists candidates */
    GS_INVALID,        /* bad argument from the caller (wrong type, empty label, ...) */
    GS_CONFLICT,       /* e.g. deleting a node that still has relationships */
    GS_READONLY,       /* a write on a read-only store, or an SQL statement that could write */
    GS_SCHEMA_NEWER,   /* database written by a newer dsgraph; it was not modified */
    GS_LIMIT,          /* a configured limit (rows, depth) was exceeded */
    GS_BUSY,           /* SQLITE_BUSY after the busy timeout */
    GS_IO              /* any other SQLite/system failure */
} gs_status;

typedef struct gs_error {
    char msg[512];
} gs_error;

/* Flags for graph_store_open(). */
enum {
    GS_OPEN_READONLY = 1 << 0,   /* SQLITE_OPEN_READONLY; schema must already exist */
    GS_OPEN_CREATE   = 1 << 1    /* create the file and schema if missing */
};

typedef struct graph_store_options {
    int busy_timeout_ms;   /* default 5000 when 0 */
    int64_t sql_max_rows;  /* graph_sql row cap; default 100000 when 0 */
    int64_t mmap_bytes;    /* read-only stores: PRAGMA mmap_size (0: read with pread into the OS
                              page cache, which is then not counted in the daemon's RSS) */
    int64_t cache_bytes;   /* read-only stores: their own page cache (PRAGMA cache_size = -KiB);
                              0: SQLite's default (2,048,000 bytes) */
    int64_t search_defer_nodes; /* a bulk load creating more nodes than this leaves their search
                                   rows to the backlog (graph_search_backlog_step); 0: the
                                   default GS_SEARCH_DEFER_NODES, < 0: never */
    int64_t bulk_write_queue_bytes; /* a bulk load's INSERTs run on a write thread with at most
                                       this many bytes of rows queued (graph/bulk_behind.h);
                                       0: the default GS_BULK_WRITE_QUEUE_BYTES, < 0: no thread */
} graph_store_options;

#define GS_SEARCH_DEFER_NODES 65536
#define GS_BULK_WRITE_QUEUE_BYTES ((int64_t)4 << 20)

/* Opens (and for a writable store, creates/migrates) the database at path.
 * Before touching the file it reads PRAGMA user_version: a version newer than
 * GRAPH_SCHEMA_VERSION gives GS_SCHEMA_NEWER and the file is left untouched.
 * Writable stores set WAL mode, foreign_keys=ON, synchronous=NORMAL. */
gs_status graph_store_open(const char *path, int flags, const graph_store_options *opts,
                           graph_store **out, gs_error *err);
/* Tests only: creates a database at an older schema version (1 .. GRAPH_SCHEMA_VERSION - 1)
 * by running the first migration steps, so a test can fill it as that version would and
 * check that opening it migrates what it holds. */
gs_status graph_store_create_at(const char *path, int version, gs_error *err);
/* True if this open created the schema (an empty new database): the daemon seeds it. */
bool graph_store_was_created(const graph_store *s);
void graph_store_close(graph_store *s);
/* Checkpoints the WAL into the main file (used at clean shutdown). */
gs_status graph_store_checkpoint(graph_store *s, gs_error *err);
/* True if the n bytes at s are valid UTF-8 (what jansson accepts in a string); importers
 * check cells and labels with it before handing them to the store. */
bool graph_utf8_valid(const char *s, size_t n);
/* The raw connection, for code in graph/ and tests; not for core/. */
struct sqlite3 *graph_store_db(graph_store *s);

/* Explicit transactions (BEGIN IMMEDIATE / COMMIT / ROLLBACK). Nesting is an error. */
gs_status graph_store_begin(graph_store *s, gs_error *err);
gs_status graph_store_commit(graph_store *s, gs_error *err);
void graph_store_rollback(graph_store *s);
/* A savepoint inside the explicit transaction, and its end: keep its writes,
 * or undo them. Lets several independent writes share one commit while each
 * stays all or nothing (core/rpc.c's group commit). */
gs_status graph_store_savepoint(graph_store *s, gs_error *err);
gs_status graph_store_savepoint_end(graph_store *s, bool keep, gs_error *err);
/* A read snapshot (deferred BEGIN / COMMIT, cached statements) for a request
 * made of several reads; the caller must not have a transaction open. */
gs_status graph_store_read_begin(graph_store *s, gs_error *err);
void graph_store_read_end(graph_store *s);

/* name_key of a UTF-8 string: NFKC + case folding + stripping of surrounding
 * white space (utf8proc). Returns a malloc'd string, or NULL with GS_INVALID
 * in err for invalid UTF-8. */
char *graph_name_key(const char *name, gs_error *err);

/* ---- nodes ---- */

/* Merges a node: looks it up by labels[0] + name (name or alias, by name_key);
 * if found, adds missing labels (keeping order), merges props (later value wins;
 * a JSON null value removes the property) and adds aliases; otherwise creates it.
 * name may be NULL: then a new node is always created. props may be NULL or an
 * object; aliases NULL or an array of strings. If props has "name" and name is
 * NULL, props.name is used as the name. The name of an existing node keeps its
 * first spelling. On success *id_out is the node id, *created tells whether it is new.
 * nlabels may be 0 only when name is NULL. */
gs_status graph_node_put(graph_store *s, const char *const *labels, size_t nlabels,
                         const char *name, json_t *props, json_t *aliases,
                         int64_t *id_out, bool *created, gs_error *err);

/* Always creates a new node (no identity lookup). */
gs_status graph_node_create(graph_store *s, const char *const *labels, size_t nlabels,
                            json_t *props, int64_t *id_out, gs_error *err);

/* Finds one node by name or alias (by name_key). label may be NULL (any label).
 * Several matches: GS_AMBIGUOUS, err->msg names them ("... ids 3 (Model), 9 (Paper)").
 * Name matches win over alias matches: if exactly one node matches by name, it is
 * returned even if others match by alias. */
gs_status graph_node_find(graph_store *s, const char *label, const char *name,
                          int64_t *id_out, gs_error *err);

/* {"$node":{...}} for one id; GS_NOT_FOUND if absent. */
gs_status graph_node_get(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* Array of the node's aliases (strings, in insertion order). */
gs_status graph_node_aliases(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* Adds one alias (idempotent). */
gs_status graph_node_add_alias(graph_store *s, int64_t id, const char *alias, gs_error *err);
/* Array of {"$rel":...} for every relationship touching the node (out then in, by id). */
gs_status graph_node_relationships(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* Deletes a node. With relationships and !detach: GS_CONFLICT ("node 5 has 3
 * relationships; use detach"). *rels_deleted counts detached relationships. */
gs_status graph_node_delete(graph_store *s, int64_t id, bool detach,
                            int64_t *rels_deleted, gs_error *err);

/* ---- relationships ---- */

/* Merges on (start, type, end) unless create: if one exists, merges props into
 * it (later wins, null removes); else creates. Both nodes must exist (GS_NOT_FOUND). */
gs_status graph_rel_put(graph_store *s, int64_t start, const char *type, int64_t end,
                        json_t *props, bool create, int64_t *id_out, bool *created,
                        gs_error *err);
gs_status graph_rel_get(graph_store *s, int64_t id, json_t **out, gs_error *err);
gs_status graph_rel_delete(graph_store *s, int64_t id, gs_error *err);
/* Finds the lowest-id relationship (start, type, end); GS_NOT_FOUND if none. */
gs_status graph_rel_find(graph_store *s, int64_t start, const char *type, int64_t end,
                         int64_t *id_out, gs_error *err);

/* ---- queries ---- */

typedef enum { GRAPH_UP = 0, GRAPH_DOWN = 1 } graph_direction;

/* Lineage: UP follows relationships from start to end (child -[:BASED_ON]-> parent
 * gives ancestors), DOWN from end to start (descendants). types NULL/ntypes 0 means
 * {"BASED_ON","DISTILLED_FROM"}. max_depth <= 0 means unlimited. Cycles and merges
 * (several parents) are handled: each node appears once, at its smallest depth.
 * Result: {"root":{"$node":...},
 *          "nodes":[{"$node":...,"depth":D},...]   (root excluded; by depth, then id)
 *          "relationships":[{"$rel":...},...]}     (every traversed relationship among
 *                                                   root+nodes, by id) */
gs_status graph_lineage(graph_store *s, int64_t root, graph_direction dir,
                        const char *const *types, size_t ntypes, int max_depth,
                        json_t **out, gs_error *err);

/* Full-text search (FTS5, trigram tokenizer) over names, aliases and string
 * properties. Queries shorter than 3 characters fall back to a substring scan.
 * Result: array of {"$node":...,"score":S} best first, at most limit (default 20). */
gs_status graph_search(graph_store *s, const char *text, int limit, json_t **out, gs_error *err);
/* Fills the search rows of up to max_nodes nodes of the search backlog (graph/search.c) in one
 * transaction of its own; *done gets how many node ids it covered, *left how many the backlog
 * still covers (0: finished). For the writer thread, between writes. */
gs_status graph_search_backlog_step(graph_store *s, int64_t max_nodes, int64_t *done, int64_t *left, gs_error *err);

/* Read-only SQL: refuses anything that could write (sqlite3_stmt_readonly plus an
 * authorizer that denies ATTACH/DETACH, writing PRAGMAs, and every write action),
 * GS_READONLY with a message naming the reason. params: NULL or array of
 * JSON scalars bound as ?1.. Result {"columns":[...],"rows":[[...],...]}; more than
 * sql_max_rows rows gives GS_LIMIT. Integers stay integers, reals reals, blobs are
 * {"$blob":"<hex>"}. Only one statement; trailing text other than spaces/';' is GS_INVALID. */
gs_status graph_sql(graph_store *s, const char *sql, json_t *params, json_t **out, gs_error *err);

/* {"nodes":N,"relationships":N,"labels":N,"types":N,
 *  "by_label":{"Model":12,...},"by_type":{"BASED_ON":3,...}} */
gs_status graph_stats(graph_store *s, json_t **out, gs_error *err);

/* A short English name for a status ("not found", ...). */
const char *gs_status_name(gs_status st);

#endif
