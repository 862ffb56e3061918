/*
 * graph/store_internal.h - what the files of graph/ share and nobody else sees.
 *
 * The store keeps one SQLite connection and a cache of prepared statements
 * (one per gs_stmt_id, prepared lazily with SQLITE_PREPARE_PERSISTENT), so the
 * hot paths (node_put, node_find, node_get, rel_put) never re-prepare.
 */
#ifndef DSGRAPH_GRAPH_STORE_INTERNAL_H
#define DSGRAPH_GRAPH_STORE_INTERNAL_H

#include "store.h"
#include "provenance.h"

#include <sqlite3.h>

/* Every cached statement. gs_stmt_sql[] (store.c) holds the SQL, same order. */
typedef enum gs_stmt_id {
    GS_ST_BEGIN,
    GS_ST_BEGIN_READ,
    GS_ST_COMMIT,
    GS_ST_ROLLBACK,
    GS_ST_SAVEPOINT,
    GS_ST_RELEASE,
    GS_ST_ROLLBACK_TO,
    GS_ST_NODE_INSERT,
    GS_ST_NODE_SET_PROPS,
    GS_ST_NODE_PROPS,
    GS_ST_NODE_KEY,
    GS_ST_NODE_DELETE,
    GS_ST_LABELS_OF,
    GS_ST_LABEL_INSERT,
    GS_ST_LABELS_DELETE,
    GS_ST_FIRST_LABEL,
    GS_ST_ALIASES_OF,
    GS_ST_ALIAS_INSERT,
    GS_ST_ALIASES_DELETE,
    GS_ST_FIND_NAME,
    GS_ST_FIND_NAME_LABEL,
    GS_ST_FIND_ALIAS,
    GS_ST_FIND_ALIAS_LABEL,
    GS_ST_FTS_DELETE,
    GS_ST_FTS_INSERT,
    GS_ST_REL_INSERT,
    GS_ST_REL_GET,
    GS_ST_REL_FIND,
    GS_ST_REL_SET_PROPS,
    GS_ST_REL_DELETE,
    GS_ST_REL_OUT,
    GS_ST_REL_IN,
    GS_ST_REL_COUNT_NODE,
    GS_ST_REL_DELETE_NODE,
    GS_ST_REL_STEP_UP,
    GS_ST_REL_STEP_DOWN,
    GS_ST_SEARCH_FTS,
    GS_ST_SEARCH_SCAN,
    GS_ST_SEARCH_BACKLOG,
    GS_ST_SEARCH_BACKLOG_NODES,
    GS_ST_SEARCH_BACKLOG_SCAN,
    GS_ST_PROV_NODE_CLAIM,
    GS_ST_PROV_REL_CLAIM,
    GS_ST_PROV_ALIAS_CLAIM,
    GS_ST_PROV_PROP_GET,
    GS_ST_PROV_PROP_PUT,
    GS_ST_CLAIM_RANGE_NODE,
    GS_ST_CLAIM_RANGE_REL,
    GS_ST_CLAIMED_NODES_IN,
    GS_ST_PAGE_NODES,              /* export_page.c: ?1 after, ?2 limit, ?3 label or type */
    GS_ST_PAGE_NODES_LABEL,
    GS_ST_PAGE_RELS,
    GS_ST_PAGE_RELS_TYPE,
    GS_ST_PAGE_LABELS,             /* export_page.c: ?1..?2 an id range */
    GS_ST_PAGE_ALIASES,
    GS_ST_PAGE_NODE_CLAIMS,
    GS_ST_PAGE_REL_CLAIMS,
    GS_ST_PAGE_NODE_PROP_CLAIMS,
    GS_ST_PAGE_REL_PROP_CLAIMS,
    GS_ST_PAGE_ALIAS_CLAIMS,
    GS_ST_ALIAS_EXISTS,            /* provenance.c's replay, once per replayed alias claim */
    GS_ST_REPLAY_CLEAR_NODE,       /* the running import's claims on one entity (views: triggers) */
    GS_ST_REPLAY_CLEAR_NODE_PROPS,
    GS_ST_REPLAY_CLEAR_NODE_ALIASES,
    GS_ST_REPLAY_CLEAR_REL,
    GS_ST_REPLAY_CLEAR_REL_PROPS,
    GS_ST_REPLAY_CLEAR_NODE_ROWS,  /* the same claims when no id range holds them: the rows table only */
    GS_ST_REPLAY_CLEAR_REL_ROWS,
    GS_ST_REPLAY_NODE_IN_RANGE,    /* does an id range of the import hold the entity? */
    GS_ST_REPLAY_REL_IN_RANGE,
    GS_ST__COUNT
} gs_stmt_id;

/* A growable array of ids (store.c). Zero-initialised it is empty. */
typedef struct gs_ids {
    int64_t *v;
    size_t n, cap;
} gs_ids;
/* Appends id; false when out of memory (the array is unchanged). */
bool gs_ids_push(gs_ids *a, int64_t id);
/* A reader's lookup of name key `key` through the adjacency index's key
 * hashes (node.c; adjacency.h), instead of a descent of the nodes_name_key
 * index. True when settled: *id is the only node with that key in this
 * read's snapshot, and *has_label says whether it has `label` (true when
 * label is NULL). False: ask SQLite (not a reader, no usable index, no node
 * or several nodes with the key's hash, or a commit meanwhile). */
bool gs_name_key_sole(graph_store *s, const char *key, const char *label, int64_t *id, bool *has_label);
/* An array indexed by node id that grows on demand: returns arr grown (or
 * arr itself) so that index i exists, *cap counting elements of elem bytes,
 * doubling from 1024, new elements zero; NULL when out of memory (arr and
 * *cap unchanged). */
void *gs_cover(void *arr, size_t *cap, size_t i, size_t elem);
/* Sorts the ids in ascending order. */
void gs_ids_sort(gs_ids *a);
void gs_ids_free(gs_ids *a);
/* Installs the `sql` method's authorizer on a connection just opened, before
 * any statement is prepared (sqlro.c): it applies only while graph_sql runs. */
void gs_sql_gate_install(graph_store *s);

struct graph_store {
    sqlite3 *db;
    char *path;
    bool readonly;
    bool created;          /* this open created the schema */
    bool in_tx;            /* graph_store_begin() is in effect */
    int64_t sql_max_rows;
    struct gs_auth *sql_auth; /* the `sql` method's rules while graph_sql runs, else NULL (sqlro.c) */
    sqlite3_stmt *stmts[GS_ST__COUNT];
    int64_t prov_import;   /* the import writes are attributed to; 0 = direct writes */
    prov_counts prov;      /* what the current import changed (provenance.c) */
    bool prov_changed;     /* the last node/rel merge changed something (node.c, rel.c) */
    struct graph_adj *adj; /* shared adjacency index (adjacency.c), or NULL */
    bool adj_writer;       /* this connection keeps adj current */
    bool adj_snap_ok;      /* adj_snap_seq holds the index sequence noted before this read snapshot */
    uint64_t adj_snap_seq;
    struct cy_store_cache *cy_cache; /* Cypher plans and statements (cypher_plan_cache.c), or NULL */
    int64_t search_defer_nodes; /* bulk loads creating more nodes leave their search rows to the backlog */
    int64_t bulk_write_queue_bytes; /* a bulk load's write thread queue; <= 0: no thread (bulk_behind.h) */
    gs_ids fts_pending;    /* nodes whose search rows wait for the commit (search.c), unsorted */
    bool retract_no_shortcut; /* tests: prov_retract_set_shortcut (provenance.h) */
};

/* Noted nodes past this many get their search rows written at once, mid-transaction. */
#define GS_FTS_PENDING_MAX 65536

/* ---- cypher_plan_cache.c ---- */

/* Finalizes the Cypher statements and frees the plans; graph_store_close calls it. */
void cy_store_cache_free(graph_store *s);

/* ---- claim_ranges.c ---- */

/* Ids per claim range at most. Schema step 5 (schema.c) writes it into its SQL
 * as 4096 and 4095 (lookups by id search lo in [id - 4095, id]): never change it. */
#define GS_CLAIM_SPAN 4096

/* Claims ids lo..hi, none of which the import claims yet, as ranges
 * (*_claim_ranges): created and props_implicit as in a claim row. */
gs_status gs_claim_range_put(graph_store *s, bool node, int64_t lo, int64_t hi, int64_t import, int created,
                             bool props_implicit, gs_error *err);
/* Claims each of n sorted, distinct node ids for the import with created = 0,
 * skipping those it claims already; runs of consecutive ids become ranges. */
gs_status gs_claim_nodes_put(graph_store *s, const int64_t *ids, size_t n, int64_t import, gs_error *err);

/* ---- search.c ---- */

/* Records that nodes lo..hi may lack their search rows (a bulk load's, in its transaction). */
gs_status gs_search_backlog_add(graph_store *s, int64_t lo, int64_t hi, gs_error *err);

/* ---- schema.c ---- */

/* The migration steps: gs_schema_steps[v] takes a database from version v to v + 1. */
extern const char *const gs_schema_steps[GRAPH_SCHEMA_VERSION];

/* ---- store.c ---- */

/* Fills err (may be NULL) and returns st. */
gs_status gs_fail(gs_error *err, gs_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps the connection's last SQLite error to a status, with "what: sqlite message". */
gs_status gs_sqlfail(graph_store *s, gs_error *err, const char *what);
/* gs_status for an SQLite result code. */
gs_status gs_status_of_rc(int rc);
/* The cached statement id, reset and with bindings cleared; NULL + err on failure. */
sqlite3_stmt *gs_stmt(graph_store *s, gs_stmt_id id, gs_error *err);
/* Steps a statement that returns no rows (or whose rows are ignored) and resets it. */
gs_status gs_exec_stmt(graph_store *s, sqlite3_stmt *st, const char *what, gs_error *err);
/* Runs one uncached SQL text (schema, pragmas). */
gs_status gs_exec(graph_store *s, const char *sql, gs_error *err);

/* Every write call brackets itself with these: a transaction of its own, or a
 * savepoint inside graph_store_begin()'s, so a failed call changes nothing and
 * leaves an explicit transaction usable. gs_write_end() commits when st == GS_OK,
 * else rolls back, and returns the final status. */
gs_status gs_write_begin(graph_store *s, gs_error *err);
gs_status gs_write_end(graph_store *s, gs_status st, gs_error *err);

/* Multi-query reads (lineage, search, stats) see one snapshot: a deferred
 * transaction when none is open. *token tells gs_read_end() whether to end it. */
gs_status gs_read_begin(graph_store *s, bool *token, gs_error *err);
void gs_read_end(graph_store *s, bool token);

/* ---- props.c ---- */

/* Scanning stored canonical props text (see props.c). */
const char *gs_json_value_end(const char *p, const char *end);
const char *gs_json_find_key(const char *text, size_t len, const char *jkey, size_t jklen, const char **vend);

/* Checks that v is NULL or a JSON object with non-empty keys; what names it in errors. */
gs_status gs_props_check(const json_t *v, const char *what, gs_error *err);
/* Merges src into dst: later value wins, null removes. skip_key (may be NULL) is left alone. */
void gs_props_merge(json_t *dst, const json_t *src, const char *skip_key);
/* Canonical text of an object (sorted keys, compact, exact reals); malloc'd, NULL on OOM. */
char *gs_props_dump(const json_t *obj);
/* Parses stored props text; NULL + GS_IO on corrupt data. */
json_t *gs_props_load(const char *text, size_t len, gs_error *err);
/* The SQL table-valued function dsg_props(props) on db (graph/props.c); an SQLite result code. */
int gs_props_register_sql(sqlite3 *db);
/* True if s is valid UTF-8 and not empty. */
bool gs_utf8_ok(const char *s);

/* ---- node.c ---- */

/* {"$node":...} of id, reading the database. */
gs_status gs_node_json(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* Copies the node's first label (or "" if it has none) into buf of size n. */
void gs_node_first_label(graph_store *s, int64_t id, char *buf, size_t n);

/* ---- rel.c ---- */

/* {"$rel":...} of id. */
gs_status gs_rel_json(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* {"$rel":...} from the current row of st, columns id, type, start, end, props. */
gs_status gs_rel_json_row(sqlite3_stmt *st, json_t **out, gs_error *err);

/* ---- provenance.c ---- */

/* Called by node.put / rel.put / add_alias after a successful write, inside
 * their savepoint: records the claim of the current import (or the direct
 * source, import 0) and counts what changed. */
gs_status gs_prov_node(graph_store *s, int64_t id, bool created, json_t *props, json_t *aliases, gs_error *err);
gs_status gs_prov_rel(graph_store *s, int64_t id, bool created, json_t *props, gs_error *err);
gs_status gs_prov_alias(graph_store *s, int64_t id, const char *alias, gs_error *err);
/* Canonical JSON text of a claimed value (malloc'd). */
char *gs_prov_value_text(const json_t *v);
/* Prepares an uncached statement (caller finalizes); NULL + err on failure. */
sqlite3_stmt *gs_prov_prepare(graph_store *s, const char *sql, gs_error *err);

/* ---- search.c ---- */

/* Node id's row in node_fts must follow its props and stored aliases (props:
 * the node's current props, or NULL). Inside a transaction this only notes the
 * node: the row is written by gs_fts_flush, from the stored state then. */
gs_status gs_fts_refresh(graph_store *s, int64_t id, const json_t *props, gs_error *err);
/* Node id is gone: its row leaves node_fts (noted like gs_fts_refresh). */
gs_status gs_fts_delete(graph_store *s, int64_t id, gs_error *err);
/* Writes the rows of the noted nodes (each once, from its stored state: a node
 * that is gone loses its row). Before every commit and every search on the
 * writer connection; on failure the notes are kept, the caller rolls back. */
gs_status gs_fts_flush(graph_store *s, gs_error *err);
/* Drops the notes: the transaction that made them was rolled back. */
void gs_fts_forget(graph_store *s);
/* node_fts's settings before gs_fts_bulk_begin (-1: unset). */
typedef struct gs_fts_saved {
    int64_t hashsize, automerge;
} gs_fts_saved;
/* For one statement that adds or deletes many search rows (a bulk load's
 * rows, a retract's deletes): FTS5's pending-terms threshold becomes
 * GS_FTS_BULK_HASH and merging stops, so the rows make a few large segments
 * (which later writes merge incrementally) instead of hundreds of small ones
 * merged over and over inside one transaction. gs_fts_bulk_end sets back what
 * *saved holds. Both are writes of the caller's transaction. */
#define GS_FTS_BULK_HASH (32 << 20)
gs_status gs_fts_bulk_begin(graph_store *s, gs_fts_saved *saved, gs_error *err);
gs_status gs_fts_bulk_end(graph_store *s, const gs_fts_saved *saved, gs_error *err);

#endif
