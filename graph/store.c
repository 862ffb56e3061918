/*
 * graph/store.c - opening a store: version check, migrations (the steps are in schema.c), pragmas; transactions;
 * the prepared-statement cache; errors.
 */
#include "store_internal.h"
#include "adjacency.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does an id range of import ?2 hold entity ?1? (kind "node" or "rel"; lookups by
 * id search lo in [id - 4095, id]: graph/schema.c, step 5) */
#define GS_RANGE_HOLDS(kind) \
    "SELECT 1 FROM " kind "_claim_ranges WHERE lo BETWEEN ?1 - 4095 AND ?1 AND hi >= ?1 AND import_id = ?2"

/* SQL of every cached statement, indexed by gs_stmt_id. */
static const char *const gs_stmt_sql[GS_ST__COUNT] = {
    [GS_ST_BEGIN] = "BEGIN IMMEDIATE",
    [GS_ST_BEGIN_READ] = "BEGIN",
    [GS_ST_COMMIT] = "COMMIT",
    [GS_ST_ROLLBACK] = "ROLLBACK",
    [GS_ST_SAVEPOINT] = "SAVEPOINT gs_call",
    [GS_ST_RELEASE] = "RELEASE gs_call",
    [GS_ST_ROLLBACK_TO] = "ROLLBACK TO gs_call",
    [GS_ST_NODE_INSERT] = "INSERT INTO nodes(name_key, props) VALUES (?1, ?2)",
    [GS_ST_NODE_SET_PROPS] = "UPDATE nodes SET props = ?2 WHERE id = ?1",
    [GS_ST_NODE_PROPS] = "SELECT props FROM nodes WHERE id = ?1",
    [GS_ST_NODE_KEY] = "SELECT name_key FROM nodes WHERE id = ?1",
    [GS_ST_NODE_DELETE] = "DELETE FROM nodes WHERE id = ?1",
    [GS_ST_LABELS_OF] = "SELECT label FROM node_labels WHERE node_id = ?1 ORDER BY pos",
    [GS_ST_LABEL_INSERT] = "INSERT OR IGNORE INTO node_labels(node_id, pos, label) VALUES (?1, ?2, ?3)",
    [GS_ST_LABELS_DELETE] = "DELETE FROM node_labels WHERE node_id = ?1",
    [GS_ST_FIRST_LABEL] = "SELECT label FROM node_labels WHERE node_id = ?1 ORDER BY pos LIMIT 1",
    [GS_ST_ALIASES_OF] = "SELECT alias, alias_key FROM aliases WHERE node_id = ?1 ORDER BY rowid",
    [GS_ST_ALIAS_INSERT] = "INSERT OR IGNORE INTO aliases(node_id, alias, alias_key) VALUES (?1, ?2, ?3)",
    [GS_ST_ALIASES_DELETE] = "DELETE FROM aliases WHERE node_id = ?1",
    [GS_ST_FIND_NAME] = "SELECT id FROM nodes WHERE name_key = ?1 ORDER BY id LIMIT ?2",
    [GS_ST_FIND_NAME_LABEL] =
        "SELECT n.id FROM nodes n WHERE n.name_key = ?1 AND EXISTS "
        "(SELECT 1 FROM node_labels l WHERE l.node_id = n.id AND l.label = ?3) ORDER BY n.id LIMIT ?2",
    [GS_ST_FIND_ALIAS] =
        "SELECT DISTINCT node_id FROM aliases WHERE alias_key = ?1 ORDER BY node_id LIMIT ?2",
    [GS_ST_FIND_ALIAS_LABEL] =
        "SELECT DISTINCT a.node_id FROM aliases a WHERE a.alias_key = ?1 AND EXISTS "
        "(SELECT 1 FROM node_labels l WHERE l.node_id = a.node_id AND l.label = ?3) "
        "ORDER BY a.node_id LIMIT ?2",
    [GS_ST_FTS_DELETE] = "DELETE FROM node_fts WHERE rowid = ?1",
    [GS_ST_FTS_INSERT] = "INSERT INTO node_fts(rowid, name, aliases, body) VALUES (?1, ?2, ?3, ?4)",
    [GS_ST_REL_INSERT] = "INSERT INTO rels(type, start, end, props) VALUES (?1, ?2, ?3, ?4)",
    [GS_ST_REL_GET] = "SELECT id, type, start, end, props FROM rels WHERE id = ?1",
    [GS_ST_REL_FIND] =
        "SELECT id, props FROM rels WHERE start = ?1 AND type = ?2 AND end = ?3 ORDER BY id LIMIT 1",
    [GS_ST_REL_SET_PROPS] = "UPDATE rels SET props = ?2 WHERE id = ?1",
    [GS_ST_REL_DELETE] = "DELETE FROM rels WHERE id = ?1",
    [GS_ST_REL_OUT] = "SELECT id, type, start, end, props FROM rels WHERE start = ?1 ORDER BY id",
    [GS_ST_REL_IN] =
        "SELECT id, type, start, end, props FROM rels WHERE end = ?1 AND start <> ?1 ORDER BY id",
    [GS_ST_REL_COUNT_NODE] =
        "SELECT (SELECT count(*) FROM rels WHERE start = ?1) + "
        "(SELECT count(*) FROM rels WHERE end = ?1 AND start <> ?1)",
    [GS_ST_REL_DELETE_NODE] = "DELETE FROM rels WHERE start = ?1 OR end = ?1",
    [GS_ST_REL_STEP_UP] = "SELECT id, end FROM rels WHERE start = ?1 AND type = ?2",
    [GS_ST_REL_STEP_DOWN] = "SELECT id, start FROM rels WHERE end = ?1 AND type = ?2",
    /* ?1 FTS5 phrase, ?2 query key, ?3 limit. Columns hold name keys (see search.c). */
    [GS_ST_SEARCH_FTS] =
        "SELECT rowid, -bm25(node_fts, 10.0, 5.0, 1.0)"
        " + CASE WHEN name = ?2 THEN 100.0 WHEN instr(name, ?2) > 0 THEN 20.0 ELSE 0.0 END"
        " + CASE WHEN instr(char(10) || aliases || char(10), char(10) || ?2 || char(10)) > 0 THEN 50.0"
        "        WHEN instr(aliases, ?2) > 0 THEN 10.0 ELSE 0.0 END AS score"
        " FROM node_fts WHERE node_fts MATCH ?1 ORDER BY score DESC, rowid LIMIT ?3",
    /* Queries under 3 characters: trigrams cannot index them, so scan. ?1 unused. */
    [GS_ST_SEARCH_SCAN] =
        "SELECT rowid, 1.0"
        " + CASE WHEN name = ?2 THEN 100.0 WHEN instr(name, ?2) > 0 THEN 20.0 ELSE 0.0 END"
        " + CASE WHEN instr(char(10) || aliases || char(10), char(10) || ?2 || char(10)) > 0 THEN 50.0"
        "        WHEN instr(aliases, ?2) > 0 THEN 10.0 ELSE 0.0 END"
        " + CASE WHEN instr(body, ?2) > 0 THEN 1.0 ELSE 0.0 END AS score"
        " FROM node_fts WHERE instr(name, ?2) > 0 OR instr(aliases, ?2) > 0 OR instr(body, ?2) > 0"
        " ORDER BY score DESC, rowid LIMIT ?3",
    /* the search backlog (search.c): ranges, then the nodes of one range */
    [GS_ST_SEARCH_BACKLOG] = "SELECT lo, hi FROM search_backlog ORDER BY lo",
    [GS_ST_SEARCH_BACKLOG_NODES] = "SELECT id, props FROM nodes WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    [GS_ST_SEARCH_BACKLOG_SCAN] = "SELECT n.id, n.props FROM search_backlog b JOIN nodes n ON n.id BETWEEN b.lo AND b.hi",
    /* provenance (provenance.c): claims made by imports and by direct writes (import 0) */
    /* into the rows unless a range has the claim already (schema step 5) */
    [GS_ST_PROV_NODE_CLAIM] =
        "INSERT OR IGNORE INTO node_claim_rows(node_id, import_id, created) SELECT ?1, ?2, ?3 WHERE NOT EXISTS "
        "(" GS_RANGE_HOLDS("node") ")",
    [GS_ST_PROV_REL_CLAIM] =
        "INSERT OR IGNORE INTO rel_claim_rows(rel_id, import_id, created) SELECT ?1, ?2, ?3 WHERE NOT EXISTS "
        "(" GS_RANGE_HOLDS("rel") ")",
    [GS_ST_PROV_ALIAS_CLAIM] = "INSERT OR IGNORE INTO alias_claims(node_id, alias_key, import_id) VALUES (?1, ?2, ?3)",
    [GS_ST_PROV_PROP_GET] =
        "SELECT value FROM prop_claims WHERE kind = ?1 AND entity_id = ?2 AND key = ?3 AND import_id = ?4",
    [GS_ST_PROV_PROP_PUT] =
        "INSERT OR REPLACE INTO prop_claim_rows(kind, entity_id, key, value, import_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* claim_ranges.c */
    [GS_ST_CLAIM_RANGE_NODE] =
        "INSERT INTO node_claim_ranges(lo, hi, import_id, created, props_implicit) VALUES (?1, ?2, ?3, ?4, ?5)",
    [GS_ST_CLAIM_RANGE_REL] =
        "INSERT INTO rel_claim_ranges(lo, hi, import_id, created, props_implicit) VALUES (?1, ?2, ?3, ?4, ?5)",
    [GS_ST_CLAIMED_NODES_IN] =
        "SELECT node_id FROM node_claims WHERE import_id = ?1 AND node_id BETWEEN ?2 AND ?3 ORDER BY node_id",
    /* export_page.c: a page of entities after ?1 (at most ?2, of label/type ?3), then its
     * labels, aliases and claims by id range; rows of one entity together, in read order */
    [GS_ST_PAGE_NODES] = "SELECT id, props FROM nodes WHERE id > ?1 ORDER BY id LIMIT ?2",
    [GS_ST_PAGE_NODES_LABEL] = "SELECT l.node_id, n.props FROM node_labels l JOIN nodes n ON n.id = l.node_id "
                               "WHERE l.label = ?3 AND l.node_id > ?1 ORDER BY l.node_id LIMIT ?2",
    [GS_ST_PAGE_RELS] = "SELECT id, type, start, end, props FROM rels WHERE id > ?1 ORDER BY id LIMIT ?2",
    [GS_ST_PAGE_RELS_TYPE] =
        "SELECT id, type, start, end, props FROM rels WHERE type = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    [GS_ST_PAGE_LABELS] = "SELECT node_id, label FROM node_labels WHERE node_id BETWEEN ?1 AND ?2 ORDER BY node_id, pos",
    [GS_ST_PAGE_ALIASES] = "SELECT node_id, alias FROM aliases WHERE node_id BETWEEN ?1 AND ?2 ORDER BY node_id, rowid",
    [GS_ST_PAGE_NODE_CLAIMS] = "SELECT node_id, import_id, created FROM node_claims WHERE node_id BETWEEN ?1 AND ?2 "
                               "ORDER BY node_id, import_id",
    [GS_ST_PAGE_REL_CLAIMS] = "SELECT rel_id, import_id, created FROM rel_claims WHERE rel_id BETWEEN ?1 AND ?2 "
                              "ORDER BY rel_id, import_id",
    [GS_ST_PAGE_NODE_PROP_CLAIMS] = "SELECT entity_id, import_id, key, value FROM prop_claims WHERE kind = 'node' "
                                    "AND entity_id BETWEEN ?1 AND ?2 ORDER BY entity_id, key, seq",
    [GS_ST_PAGE_REL_PROP_CLAIMS] = "SELECT entity_id, import_id, key, value FROM prop_claims WHERE kind = 'rel' "
                                   "AND entity_id BETWEEN ?1 AND ?2 ORDER BY entity_id, key, seq",
    [GS_ST_PAGE_ALIAS_CLAIMS] = "SELECT c.node_id, c.import_id, a.alias FROM alias_claims c JOIN aliases a "
                                "ON a.node_id = c.node_id AND a.alias_key = c.alias_key "
                                "WHERE c.node_id BETWEEN ?1 AND ?2 ORDER BY c.node_id, a.rowid, c.import_id",
    /* provenance.c's replay of recorded claims: ?1 the entity, ?2 the running import (a
     * DELETE on a view compiles its INSTEAD OF trigger: prepared once, not per entity) */
    [GS_ST_ALIAS_EXISTS] = "SELECT 1 FROM aliases WHERE node_id = ?1 AND alias_key = ?2",
    [GS_ST_REPLAY_CLEAR_NODE] = "DELETE FROM node_claims WHERE node_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_NODE_PROPS] = "DELETE FROM prop_claim_rows WHERE kind = 'node' AND entity_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_NODE_ALIASES] = "DELETE FROM alias_claims WHERE node_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_REL] = "DELETE FROM rel_claims WHERE rel_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_REL_PROPS] = "DELETE FROM prop_claim_rows WHERE kind = 'rel' AND entity_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_NODE_ROWS] = "DELETE FROM node_claim_rows WHERE node_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_CLEAR_REL_ROWS] = "DELETE FROM rel_claim_rows WHERE rel_id = ?1 AND import_id = ?2",
    [GS_ST_REPLAY_NODE_IN_RANGE] = GS_RANGE_HOLDS("node"),
    [GS_ST_REPLAY_REL_IN_RANGE] = GS_RANGE_HOLDS("rel"),
};

/* Records an error message; err may be NULL when the caller does not care. */
gs_status gs_fail(gs_error *err, gs_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* One place decides which SQLite failures are "busy", "read only" or plain I/O. */
gs_status gs_status_of_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return GS_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return GS_BUSY;
    case SQLITE_READONLY: return GS_READONLY;
    case SQLITE_CONSTRAINT: return GS_CONFLICT;
    case SQLITE_AUTH: return GS_READONLY;
    default: return GS_IO;
    }
}

/* Turns the connection's last error into a status and a message naming the step. */
gs_status gs_sqlfail(graph_store *s, gs_error *err, const char *what) {
    int rc = sqlite3_extended_errcode(s->db);
    if (rc == SQLITE_OK) rc = SQLITE_ERROR;
    return gs_fail(err, gs_status_of_rc(rc), "%s: %s", what, sqlite3_errmsg(s->db));
}

/* Hands out a cached statement, preparing it on first use, ready to bind. */
sqlite3_stmt *gs_stmt(graph_store *s, gs_stmt_id id, gs_error *err) {
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        int rc = sqlite3_prepare_v3(s->db, gs_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            gs_sqlfail(s, err, "preparing a statement");
            sqlite3_finalize(st);
            return NULL;
        }
        s->stmts[id] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

/* Runs a statement to completion and resets it, so no read snapshot stays open. */
gs_status gs_exec_stmt(graph_store *s, sqlite3_stmt *st, const char *what, gs_error *err) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
    gs_status r = GS_OK;
    if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, what);
    sqlite3_reset(st);
    return r;
}

/* For one-off SQL (schema, pragmas) that is not worth caching. */
gs_status gs_exec(graph_store *s, const char *sql, gs_error *err) {
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return GS_OK;
    gs_status st = gs_fail(err, gs_status_of_rc(rc), "database %s: %s: %s", s->path, sql,
                           msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return st;
}

/* Runs one of the transaction-control statements from the cache. */
static gs_status gs_tx_stmt(graph_store *s, gs_stmt_id id, const char *what, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, id, err);
    if (!st) return GS_IO;
    return gs_exec_stmt(s, st, what, err);
}

/* Makes one write call atomic: its own transaction, or a savepoint inside the caller's. */
gs_status gs_write_begin(graph_store *s, gs_error *err) {
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    if (s->in_tx && sqlite3_get_autocommit(s->db)) {
        /* SQLite already rolled the caller's transaction back (e.g. after an I/O error);
         * a savepoint now would start and then commit a transaction of its own. */
        return gs_fail(err, GS_IO, "the open transaction was rolled back by SQLite; roll back and retry");
    }
    if (s->in_tx) return gs_tx_stmt(s, GS_ST_SAVEPOINT, "savepoint", err);
    return gs_tx_stmt(s, GS_ST_BEGIN, "begin transaction", err);
}

/* Ends what gs_write_begin() started: keeps the work on success, undoes it on failure. */
gs_status gs_write_end(graph_store *s, gs_status st, gs_error *err) {
    if (s->in_tx) {
        if (st != GS_OK) {
            gs_tx_stmt(s, GS_ST_ROLLBACK_TO, "rollback to savepoint", NULL);
        }
        gs_status r = gs_tx_stmt(s, GS_ST_RELEASE, "release savepoint", st == GS_OK ? err : NULL);
        if (sqlite3_get_autocommit(s->db)) {   /* SQLite gave up the transaction */
            s->in_tx = false;
            gs_fts_forget(s);
        }
        return st != GS_OK ? st : r;
    }
    if (st == GS_OK) st = gs_fts_flush(s, err);   /* the search rows it changed */
    if (st == GS_OK) {
        gs_adj_commit_lock(s);   /* the adjacency index follows the commit atomically */
        st = gs_tx_stmt(s, GS_ST_COMMIT, "commit", err);
        gs_adj_commit_done(s, st == GS_OK);
        if (st == GS_OK) return GS_OK;
    }
    if (!sqlite3_get_autocommit(s->db)) gs_tx_stmt(s, GS_ST_ROLLBACK, "rollback", NULL);
    gs_fts_forget(s);
    return st;
}

/* Opens a read snapshot unless a transaction is already open. */
gs_status gs_read_begin(graph_store *s, bool *token, gs_error *err) {
    *token = false;
    if (!sqlite3_get_autocommit(s->db)) return GS_OK;
    gs_adj_note_snapshot(s);
    gs_status st = gs_tx_stmt(s, GS_ST_BEGIN_READ, "begin read", err);
    *token = st == GS_OK;
    return st;
}

/* Ends the snapshot gs_read_begin() opened (reads cannot fail to commit in a way that matters). */
void gs_read_end(graph_store *s, bool token) {
    if (!token) return;
    if (!sqlite3_get_autocommit(s->db)) gs_tx_stmt(s, GS_ST_COMMIT, "end read", NULL);
    gs_adj_forget_snapshot(s);
}

/* Reads PRAGMA user_version; the only thing done to a file before we know we may touch it. */
static gs_status gs_read_version(graph_store *s, int *version, gs_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return gs_fail(err, gs_status_of_rc(sqlite3_errcode(s->db)), "database %s: cannot read its version: %s",
                       s->path, sqlite3_errmsg(s->db));
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        gs_status r = gs_fail(err, gs_status_of_rc(rc), "database %s: cannot read its version: %s", s->path,
                              sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return r;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return GS_OK;
}

/* True if the database has no schema objects at all (a new or empty file). */
static gs_status gs_is_empty(graph_store *s, bool *empty, gs_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) != SQLITE_OK)
        return gs_sqlfail(s, err, "reading the schema");
    int rc = sqlite3_step(st);
    *empty = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? GS_OK : gs_sqlfail(s, err, "reading the schema");
}

/* Brings a writable database to GRAPH_SCHEMA_VERSION in one transaction. */
static gs_status gs_migrate(graph_store *s, int flags, gs_error *err) {
    gs_status st = gs_exec(s, "BEGIN IMMEDIATE", err);
    if (st != GS_OK) return st;
    int version = 0;
    st = gs_read_version(s, &version, err);   /* again: another process may have migrated */
    if (st == GS_OK && version > GRAPH_SCHEMA_VERSION)
        st = gs_fail(err, GS_SCHEMA_NEWER,
                     "database %s was written by dsgraph schema version %d; this dsgraphd understands up to %d; "
                     "it was not modified", s->path, version, GRAPH_SCHEMA_VERSION);
    if (st == GS_OK && version == 0) {
        bool empty = false;
        st = gs_is_empty(s, &empty, err);
        if (st == GS_OK && !empty)
            st = gs_fail(err, GS_INVALID, "database %s has tables but no dsgraph schema version; "
                         "it is not a dsgraph database and was not modified", s->path);
        if (st == GS_OK && !(flags & GS_OPEN_CREATE))
            st = gs_fail(err, GS_INVALID, "database %s has no dsgraph schema (open it with create)", s->path);
        if (st == GS_OK) s->created = true;
    }
    for (int v = version; st == GS_OK && v < GRAPH_SCHEMA_VERSION; v++) {
        st = gs_exec(s, gs_schema_steps[v], err);
    }
    if (st == GS_OK && version < GRAPH_SCHEMA_VERSION) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", GRAPH_SCHEMA_VERSION);
        st = gs_exec(s, sql, err);
    }
    if (st == GS_OK) st = gs_exec(s, "COMMIT", err);
    if (st != GS_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->created = false;
    }
    return st;
}

/* SQLite's process-wide settings, applied once before its first use. Memory
 * statistics are off: with them on, every allocation SQLite makes takes a
 * global mutex (~4% of a bulk import's CPU, docs/performance-history.md), and nothing
 * here reads them (no soft heap limit, no sqlite3_memory_used). If SQLite was
 * already initialised by the embedding program, the call fails harmlessly. */
static void gs_sqlite_configure(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* Opens, version-checks, then (writable only) configures and migrates. */
gs_status graph_store_open(const char *path, int flags, const graph_store_options *opts,
                           graph_store **out, gs_error *err) {
    if (out) *out = NULL;
    if (!path || !*path || !out) return gs_fail(err, GS_INVALID, "graph_store_open: no database path");
    graph_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return gs_fail(err, GS_IO, "out of memory");
    }
    s->readonly = (flags & GS_OPEN_READONLY) != 0;
    s->sql_max_rows = opts && opts->sql_max_rows > 0 ? opts->sql_max_rows : 100000;
    s->search_defer_nodes = opts && opts->search_defer_nodes ? opts->search_defer_nodes : GS_SEARCH_DEFER_NODES;
    s->bulk_write_queue_bytes =
        opts && opts->bulk_write_queue_bytes ? opts->bulk_write_queue_bytes : GS_BULK_WRITE_QUEUE_BYTES;
    int busy_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000;

    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, gs_sqlite_configure);
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (s->readonly) oflags |= SQLITE_OPEN_READONLY;
    else oflags |= SQLITE_OPEN_READWRITE | ((flags & GS_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    gs_status st = GS_OK;
    int rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        st = gs_fail(err, GS_IO, "cannot open database %s%s: %s", path, s->readonly ? " read-only" : "",
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, busy_ms);
    sqlite3_extended_result_codes(s->db, 1);
    gs_sql_gate_install(s);
    if (gs_props_register_sql(s->db) != SQLITE_OK) {   /* the prop_claims view reads it */
        st = gs_fail(err, GS_IO, "cannot open database %s: registering dsg_props failed", path);
        goto fail;
    }

    int version = 0;
    st = gs_read_version(s, &version, err);
    if (st != GS_OK) goto fail;
    if (version > GRAPH_SCHEMA_VERSION) {
        st = gs_fail(err, GS_SCHEMA_NEWER,
                     "database %s was written by dsgraph schema version %d; this dsgraphd understands up to %d; "
                     "it was not modified", path, version, GRAPH_SCHEMA_VERSION);
        goto fail;
    }
    if (s->readonly) {
        if (version < GRAPH_SCHEMA_VERSION) {
            st = gs_fail(err, GS_INVALID, version == 0
                             ? "database %s has no dsgraph schema (version %d); a read-only open cannot create it"
                             : "database %s has dsgraph schema version %d and needs a migration; "
                               "a read-only open cannot migrate it", path, version);
            goto fail;
        }
        st = gs_exec(s, "PRAGMA query_only = ON", err);
        /* SQLite parses the schema (every table, view and trigger) at the first statement
         * that names a table: done here, at open, not in a reader's first request. The
         * loop's first lookup would otherwise run slow enough to take the loop out of
         * lookups for a second (LOOP_INLINE_SLOW_NS, core/server_jobs.c). */
        if (st == GS_OK) st = gs_exec(s, "SELECT 1 FROM nodes LIMIT 0", err);
        /* With mmap_bytes > 0 readers map the file: pages come straight from the OS
         * page cache instead of pread() into a private cache, but every mapped page
         * counts in the daemon's RSS once per reader (read_mmap_bytes, etc/dsgraph.conf). */
        if (st == GS_OK && opts && opts->mmap_bytes > 0) {
            char pragma[64];
            snprintf(pragma, sizeof pragma, "PRAGMA mmap_size = %lld", (long long)opts->mmap_bytes);
            st = gs_exec(s, pragma, err);
        }
        /* A reader's private page cache: pages it holds cost no pread() and no copy
         * out of the OS page cache, and every byte of it counts in the RSS once per
         * reader (read_cache_bytes, etc/dsgraph.conf). */
        if (st == GS_OK && opts && opts->cache_bytes > 0) {
            char pragma[64];
            long long kib = (long long)(opts->cache_bytes / 1024);
            snprintf(pragma, sizeof pragma, "PRAGMA cache_size = %lld", kib > 0 ? -kib : -1);
            st = gs_exec(s, pragma, err);
        }
        if (st != GS_OK) goto fail;
    } else {
        if (version == 0) {   /* still read-only checks: refuse foreign files before touching them */
            bool empty = false;
            st = gs_is_empty(s, &empty, err);
            if (st == GS_OK && !empty)
                st = gs_fail(err, GS_INVALID, "database %s has tables but no dsgraph schema version; "
                             "it is not a dsgraph database and was not modified", path);
            if (st == GS_OK && !(flags & GS_OPEN_CREATE))
                st = gs_fail(err, GS_INVALID, "database %s has no dsgraph schema (open it with create)", path);
            if (st != GS_OK) goto fail;
        }
        st = gs_exec(s, "PRAGMA journal_mode = WAL", err);
        if (st == GS_OK) st = gs_exec(s, "PRAGMA foreign_keys = ON", err);
        if (st == GS_OK) st = gs_exec(s, "PRAGMA synchronous = NORMAL", err);
        /* big batches (seeding, 1M-node loads) spill less with a larger page cache; it grows lazily */
        if (st == GS_OK) st = gs_exec(s, "PRAGMA cache_size = -65536", err);
        if (st == GS_OK && version < GRAPH_SCHEMA_VERSION) st = gs_migrate(s, flags, err);
        if (st != GS_OK) goto fail;
    }
    *out = s;
    return GS_OK;
fail:
    graph_store_close(s);
    return st;
}

/* The daemon seeds a new database only once; this tells it whether now is the time. */
bool graph_store_was_created(const graph_store *s) {
    return s && s->created;
}

/* Finalizes the cached statements before closing so SQLite can really close. */
void graph_store_close(graph_store *s) {
    if (!s) return;
    graph_adj_detach(s);
    cy_store_cache_free(s);
    for (int i = 0; i < GS_ST__COUNT; i++) sqlite3_finalize(s->stmts[i]);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(s->db);
    }
    gs_ids_free(&s->fts_pending);
    free(s->path);
    free(s);
}

/* Folds the WAL into the main file so a cleanly stopped database is one file. */
gs_status graph_store_checkpoint(graph_store *s, gs_error *err) {
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK) return gs_sqlfail(s, err, "checkpoint");
    return GS_OK;
}

/* For graph/ internals and tests that need to look under the hood. */
struct sqlite3 *graph_store_db(graph_store *s) {
    return s ? s->db : NULL;
}

/* Lets a caller group many writes into one atomic, fast transaction. */
gs_status graph_store_begin(graph_store *s, gs_error *err) {
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    if (s->in_tx) return gs_fail(err, GS_INVALID, "a transaction is already open (nesting is not supported)");
    gs_status st = gs_tx_stmt(s, GS_ST_BEGIN, "begin transaction", err);
    if (st == GS_OK) s->in_tx = true;
    return st;
}

/* Commits the explicit transaction; on failure it stays open for rollback. */
gs_status graph_store_commit(graph_store *s, gs_error *err) {
    if (!s->in_tx) return gs_fail(err, GS_INVALID, "commit: no transaction is open");
    gs_status st = gs_fts_flush(s, err);   /* the search rows it changed */
    if (st != GS_OK) return st;
    gs_adj_commit_lock(s);   /* the adjacency index follows the commit atomically */
    st = gs_tx_stmt(s, GS_ST_COMMIT, "commit", err);
    gs_adj_commit_done(s, st == GS_OK);
    if (st == GS_OK || sqlite3_get_autocommit(s->db)) s->in_tx = false;
    if (sqlite3_get_autocommit(s->db)) gs_fts_forget(s);
    return st;
}

/* See store.h. gs_write_begin/gs_write_end are savepoints inside a transaction. */
gs_status graph_store_savepoint(graph_store *s, gs_error *err) {
    if (!s->in_tx) return gs_fail(err, GS_INVALID, "savepoint: no transaction is open");
    return gs_write_begin(s, err);
}

/* See store.h. Undoing cannot fail usefully: SQLite's own rollback is the fallback. */
gs_status graph_store_savepoint_end(graph_store *s, bool keep, gs_error *err) {
    if (!s->in_tx) return gs_fail(err, GS_INVALID, "savepoint: no transaction is open");
    if (keep) return gs_write_end(s, GS_OK, err);
    gs_write_end(s, GS_CONFLICT, NULL);   /* any failure status: ROLLBACK TO, RELEASE */
    return GS_OK;
}

/* Public read snapshot for multi-statement reads (core/rpc.c): the cached
 * BEGIN/COMMIT statements instead of sqlite3_exec, which re-parses each call. */
gs_status graph_store_read_begin(graph_store *s, gs_error *err) {
    gs_adj_note_snapshot(s);   /* before the snapshot exists: see adjacency.h */
    return gs_tx_stmt(s, GS_ST_BEGIN_READ, "begin", err);
}

/* Ends graph_store_read_begin()'s snapshot, if SQLite still has it open. */
void graph_store_read_end(graph_store *s) {
    if (!s) return;
    if (!sqlite3_get_autocommit(s->db)) gs_tx_stmt(s, GS_ST_COMMIT, "end read", NULL);
    gs_adj_forget_snapshot(s);
}

/* Abandons the explicit transaction (no-op without one). */
void graph_store_rollback(graph_store *s) {
    if (!s) return;
    if (!sqlite3_get_autocommit(s->db)) gs_tx_stmt(s, GS_ST_ROLLBACK, "rollback", NULL);
    s->in_tx = false;
    gs_fts_forget(s);
}

/* See store_internal.h. */
void *gs_cover(void *arr, size_t *cap, size_t i, size_t elem) {
    if (i < *cap) return arr;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap <= i) ncap *= 2;
    char *na = realloc(arr, ncap * elem);
    if (!na) return NULL;
    memset(na + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return na;
}

/* See store_internal.h; grows by doubling. */
bool gs_ids_push(gs_ids *a, int64_t id) {
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 256;
        int64_t *nv = realloc(a->v, ncap * sizeof *nv);
        if (!nv) return false;
        a->v = nv;
        a->cap = ncap;
    }
    a->v[a->n++] = id;
    return true;
}

static int gs_id_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void gs_ids_sort(gs_ids *a) {
    if (a->n > 1) qsort(a->v, a->n, sizeof *a->v, gs_id_cmp);
}

void gs_ids_free(gs_ids *a) {
    free(a->v);
    *a = (gs_ids){0};
}

/* Short English names, for logs and the protocol's error kinds. */
const char *gs_status_name(gs_status st) {
    switch (st) {
    case GS_OK: return "ok";
    case GS_NOT_FOUND: return "not found";
    case GS_AMBIGUOUS: return "ambiguous";
    case GS_INVALID: return "invalid";
    case GS_CONFLICT: return "conflict";
    case GS_READONLY: return "read only";
    case GS_SCHEMA_NEWER: return "schema newer";
    case GS_LIMIT: return "limit exceeded";
    case GS_BUSY: return "busy";
    case GS_IO: return "I/O error";
    }
    return "unknown status";
}
