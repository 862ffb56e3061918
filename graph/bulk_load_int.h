/*
 * graph/bulk_load_int.h - what graph/bulk_load.c (the rows: identity, merges,
 * claims, the end) and graph/bulk_write.c (their INSERTs, in line or on the
 * load's write thread, and every wait for that thread) share: the load's state
 * and its statements. Nobody else includes it.
 */
#ifndef DSGRAPH_GRAPH_BULK_LOAD_INT_H
#define DSGRAPH_GRAPH_BULK_LOAD_INT_H

#include "bulk_behind.h"
#include "bulk_load.h"
#include "bulk_map.h"
#include "store_internal.h"

#include <stdatomic.h>

#define BULK_MAX_DEFERRED 8
#define BULK_MAX_LABELS 64
#define BULK_MAX_TYPES 4096

/* The load's prepared statements (bulk_sql in bulk_load.c). */
enum {
    BS_NODE,
    BS_LABEL,
    BS_ALIAS,
    BS_FTS,
    BS_REL,
    BS_CLAIM_ALIAS,
    BS_LOAD_NAMES,
    BS_LOAD_ALIASES,
    BS_NODE_LABELS,
    BS_NODE_KEY,
    BS_NODE_ALIAS_KEYS,
    BS_REL_FIND,
    BS_PROBE_NAME,
    BS_PROBE_ALIAS,
    BS_NEXT_NODE_ID,
    BS_NEXT_REL_ID,
    BS_NODE_EXISTS,
    BS__COUNT
};

typedef graph_bulk_buf bulk_buf;

struct graph_bulk {
    graph_store *s;
    bool fresh_nodes, fresh_rels;   /* the table was empty at begin: nothing to look up there */
    char *deferred[BULK_MAX_DEFERRED];   /* CREATE INDEX statements to run at the end */
    size_t ndeferred;
    sqlite3_stmt *st[BS__COUNT];
    bulk_names names;     /* label \x1f name key -> node */
    bulk_names aliases;   /* label \x1f alias key -> node */
    bulk_ids claimed;     /* nodes this load matched and claimed (not the ones it created: memory) */
    gs_ids matched;       /* claims of matched nodes not written yet (bulk_flush_claims) */
    int64_t node_run[2], rel_run[2]; /* created ids lo..hi whose claims are not written yet (0: none) */
    bulk_rels rels;       /* (start, type, end) -> relationship created by this load */
    char **loaded;        /* labels whose stored nodes are in names/aliases */
    size_t nloaded;
    int64_t probes_left;  /* rows still resolved by index probes while labels are not loaded */
    char *types[BULK_MAX_TYPES];
    size_t ntypes;
    prov_counts saved;    /* the import's counts at begin, restored if the load is undone */
    gs_fts_saved fts_was;       /* node_fts's settings before the load (gs_fts_bulk_begin) */
    bulk_buf key, mk, text, fts_aliases, fts_body, akeys;
    int64_t first_new_id;                  /* nodes from here on were created by this load */
    int64_t ncreated, last_new_id;         /* nodes this load created, the last one's id */
    bool defer_search;                     /* past search_defer_nodes: search rows go to the backlog */
    sqlite3_stmt *props_of;                /* bulk_node_unchanged's read */
    bulk_memo unchanged;                   /* rows bulk_node_unchanged found changing nothing */
    bulk_recent recent;                    /* texts of the nodes created lately, while a write thread runs */
    bulk_buf row_text;                     /* a row's props as one text, the memo's key */
    int fk_was;                            /* foreign-key enforcement before the load (1: on) */
    /* The ids the next created node and relationship get: the load assigns
     * them (what SQLite would: one past the largest), so a row's INSERTs may
     * run later, on the write thread. Re-read (bulk_next_ids) after a merge
     * through graph_node_put / graph_rel_put that created the row. */
    int64_t next_node_id, next_rel_id;
    bulk_behind *behind;                   /* the write thread, once started (bulk_write) */
    size_t behind_bytes;                   /* its queue limit; 0: no write thread (or it could not start) */
    double behind_cpu;                     /* CPU seconds of write threads already stopped */
    unsigned long behind_waits;            /* times the load waited for stopped write threads */
    /* The id of the last node whose INSERT ran: written by the write thread
     * (OP_NODE), read by the load to tell whether a node it created can be
     * read yet (bulk_read_begin). Node INSERTs run in id order. */
    _Atomic int64_t written_node_id;
};

/* What bulk_write does: the INSERTs of a created row, the only statements the
 * write thread runs. */
enum { OP_NODE = 1, OP_LABEL, OP_FTS, OP_REL };

/* An op's fields: three integers and three strings (with lengths). */
typedef struct bulk_op {
    int kind;
    int64_t i[3];
    const char *s[3];
    uint32_t n[3];
} bulk_op;

/* Steps a write statement, resets it; GS_OK or the SQLite error. */
gs_status bulk_exec(graph_bulk *b, sqlite3_stmt *st, const char *what, gs_error *err);
/* Runs op now, or queues it for the write thread (started on first use). */
gs_status bulk_write(graph_bulk *b, const bulk_op *op, gs_error *err);
/* Waits until the write thread (if any) ran every queued op; its failure, if one. */
gs_status bulk_settle(graph_bulk *b, gs_error *err);
/* A short read while ops may be queued: waits for node id (if the load
 * created it; 0: none) to be written, holds the thread off until bulk_read_end. */
void bulk_read_begin(graph_bulk *b, int64_t id);
void bulk_read_end(graph_bulk *b);
/* Stops the write thread after it ran what is queued; its failure, if any. */
gs_status bulk_behind_end(graph_bulk *b, gs_error *err);
/* Re-reads the ids the next created node and relationship get (after a
 * merge that created one; the connection is the load's). */
gs_status bulk_next_ids(graph_bulk *b, gs_error *err);

#endif
