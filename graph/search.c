/*
 * graph/search.c - full-text search over names, aliases and string properties.
 *
 * node_fts (FTS5, trigram tokenizer) has one row per node, rowid = node id,
 * written by this file on every node write. Its three columns hold name keys
 * (NFKC + case fold, see normalize.c), not the original text, so search has the
 * same notion of "same text" as node lookup (full-width, case):
 *   name    - key of properties.name
 *   aliases - alias keys, one per line
 *   body    - keys of every other string in the properties (nested too), one per line
 * Queries of 3+ characters use MATCH (substring semantics with trigrams) ranked
 * by bm25 plus bonuses for exact and partial name/alias hits; shorter queries,
 * which trigrams cannot index, scan the table with instr().
 *
 * The search backlog: a big bulk load (graph/bulk_load.c) does not write its
 * nodes' search rows; it records their id range in search_backlog, in the
 * same transaction, and the writer thread fills the rows afterwards in small
 * transactions (graph_search_backlog_step). Invariant: a node outside every
 * backlog range has a current search row; one inside may have none (or a
 * current one, written by a later change). While a range is pending, search
 * also scans its nodes, computing their columns from the node rows exactly
 * as a search row would hold them, so results do not depend on the filling.
 *
 * Search rows wait for the commit: inside a write transaction gs_fts_refresh
 * and gs_fts_delete only note the node (s->fts_pending); gs_fts_flush writes
 * the noted nodes' rows from their stored state just before the transaction
 * commits (gs_write_end, graph_store_commit), before a search on the writer
 * connection, and whenever GS_FTS_PENDING_MAX nodes are noted; a rollback
 * forgets them (gs_fts_forget). Why: FTS5 writes its pending terms out as a
 * new segment at every savepoint, and SQLite opens one for every statement
 * that fires a trigger (UPDATE nodes, DELETE FROM nodes, every node.put's
 * SAVEPOINT). Written row by row between such statements, each node's row
 * became a segment of its own that FTS5 then had to merge: a retract spent
 * three quarters of its time there. Written together at the end, they are
 * one segment per transaction.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gs_buf {
    char *p;
    size_t len, cap;
    bool oom;
} gs_buf;

/* Appends text (and a newline separator before it when the buffer is not empty). */
static void gs_buf_line(gs_buf *b, const char *text) {
    size_t n = strlen(text), need = b->len + n + 2;
    if (b->oom) return;
    if (need > b->cap) {
        size_t ncap = b->cap ? b->cap : 128;
        while (ncap < need) ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    if (b->len) b->p[b->len++] = '\n';
    memcpy(b->p + b->len, text, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends the key of one string; strings that cannot be normalised are skipped. */
static void gs_buf_key(gs_buf *b, const char *text) {
    char *key = graph_name_key(text, NULL);
    if (key && *key) gs_buf_line(b, key);
    free(key);
}

/* Collects every string inside a property value, however deeply nested. */
static void gs_collect_strings(gs_buf *b, const json_t *v) {
    if (json_is_string(v)) {
        gs_buf_key(b, json_string_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)v, i, e) gs_collect_strings(b, e);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) gs_collect_strings(b, e);
    }
}

/* Removes a node's search row now. */
static gs_status gs_fts_delete_now(graph_store *s, int64_t id, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_FTS_DELETE, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    return gs_exec_stmt(s, st, "updating the search index", err);
}

/* Loads a node's props for its search row; GS_NOT_FOUND if the node is gone. */
static gs_status gs_fts_load_props(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    gs_status r = GS_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = gs_props_load((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
        if (!*out) r = GS_IO;
    } else if (rc == SQLITE_DONE) {
        r = GS_NOT_FOUND;
    } else {
        r = gs_sqlfail(s, err, "reading a node for the search index");
    }
    sqlite3_reset(st);
    return r;
}

/* The three search columns of node id (props: its properties). The caller frees them. */
static gs_status gs_fts_columns(graph_store *s, int64_t id, const json_t *props, gs_buf *name, gs_buf *aliases,
                                gs_buf *body, gs_error *err) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)props, k, v) {
        if (strcmp(k, "name") == 0 && json_is_string(v)) gs_buf_key(name, json_string_value(v));
        else gs_collect_strings(body, v);
    }
    gs_status r = GS_OK;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_ALIASES_OF, err);
    if (!st) r = GS_IO;
    else {
        sqlite3_bind_int64(st, 1, id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) gs_buf_line(aliases, (const char *)sqlite3_column_text(st, 1));
        if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading aliases");
        sqlite3_reset(st);
    }
    if (r == GS_OK && (name->oom || aliases->oom || body->oom)) r = gs_fail(err, GS_IO, "out of memory");
    return r;
}

/* Writes a node's search row now from props, or from its stored state when
 * props is NULL (no row at all if the node is gone). */
static gs_status gs_fts_write(graph_store *s, int64_t id, const json_t *props, gs_error *err) {
    json_t *owned = NULL;
    gs_status r = GS_OK;
    if (!props) {
        r = gs_fts_load_props(s, id, &owned, err);
        if (r == GS_NOT_FOUND) return gs_fts_delete_now(s, id, err);
        if (r != GS_OK) return r;
        props = owned;
    }
    gs_buf name = {0}, aliases = {0}, body = {0};
    sqlite3_stmt *st = NULL;
    r = gs_fts_columns(s, id, props, &name, &aliases, &body, err);
    if (r == GS_OK) r = gs_fts_delete_now(s, id, err);
    if (r == GS_OK && !(st = gs_stmt(s, GS_ST_FTS_INSERT, err))) r = GS_IO;
    if (r == GS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, name.p ? name.p : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, aliases.p ? aliases.p : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, body.p ? body.p : "", -1, SQLITE_STATIC);
        r = gs_exec_stmt(s, st, "updating the search index", err);
    }
    free(name.p);
    free(aliases.p);
    free(body.p);
    json_decref(owned);
    return r;
}

/* Notes that node id's search row must be rewritten before the commit. */
static gs_status gs_fts_note(graph_store *s, int64_t id, gs_error *err) {
    if (!gs_ids_push(&s->fts_pending, id)) return gs_fail(err, GS_IO, "out of memory");
    return s->fts_pending.n >= GS_FTS_PENDING_MAX ? gs_fts_flush(s, err) : GS_OK;
}

/* See store_internal.h. Outside a transaction (no commit to wait for) the row
 * is written at once, from props if given. */
gs_status gs_fts_refresh(graph_store *s, int64_t id, const json_t *props, gs_error *err) {
    if (sqlite3_get_autocommit(s->db)) return gs_fts_write(s, id, props, err);
    return gs_fts_note(s, id, err);
}

/* See store_internal.h. */
gs_status gs_fts_delete(graph_store *s, int64_t id, gs_error *err) {
    if (sqlite3_get_autocommit(s->db)) return gs_fts_delete_now(s, id, err);
    return gs_fts_note(s, id, err);
}

/* See store_internal.h: each noted node once, in id order, from its stored state. */
gs_status gs_fts_flush(graph_store *s, gs_error *err) {
    gs_ids *p = &s->fts_pending;
    if (p->n == 0) return GS_OK;
    gs_ids_sort(p);
    gs_status r = GS_OK;
    for (size_t i = 0; r == GS_OK && i < p->n; i++)
        if (i == 0 || p->v[i] != p->v[i - 1]) r = gs_fts_write(s, p->v[i], NULL, err);
    if (r == GS_OK) p->n = 0;
    return r;
}

/* See store_internal.h. */
void gs_fts_forget(graph_store *s) {
    s->fts_pending.n = 0;
}

/* One FTS5 setting of node_fts: *was (if given) gets its stored value (-1:
 * unset), then it becomes value. */
static gs_status gs_fts_set(graph_store *s, const char *key, int64_t value, int64_t *was, gs_error *err) {
    char sql[160];
    if (was) {
        snprintf(sql, sizeof sql, "SELECT v FROM node_fts_config WHERE k = '%s'", key);
        sqlite3_stmt *st = gs_prov_prepare(s, sql, err);
        if (!st) return GS_IO;
        *was = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
    }
    snprintf(sql, sizeof sql, "INSERT INTO node_fts(node_fts, rank) VALUES ('%s', %lld)", key, (long long)value);
    return gs_exec(s, sql, err);
}

/* See store_internal.h. */
gs_status gs_fts_bulk_begin(graph_store *s, gs_fts_saved *saved, gs_error *err) {
    gs_status r = gs_fts_set(s, "hashsize", GS_FTS_BULK_HASH, &saved->hashsize, err);
    return r == GS_OK ? gs_fts_set(s, "automerge", 0, &saved->automerge, err) : r;
}

/* See store_internal.h: FTS5's defaults (1 MiB, 4) where nothing was set. */
gs_status gs_fts_bulk_end(graph_store *s, const gs_fts_saved *saved, gs_error *err) {
    gs_status r = gs_fts_set(s, "hashsize", saved->hashsize >= 0 ? saved->hashsize : 1048576, NULL, err);
    return r == GS_OK ? gs_fts_set(s, "automerge", saved->automerge >= 0 ? saved->automerge : 4, NULL, err) : r;
}

/* Counts code points, to choose between MATCH (3+) and a scan. */
static size_t gs_utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* The query as one FTS5 string token: "..." with inner quotes doubled. */
static char *gs_fts_phrase(const char *key) {
    size_t n = strlen(key), q = 0;
    for (size_t i = 0; i < n; i++) q += key[i] == '"';
    char *p = malloc(n + q + 3), *o = p;
    if (!p) return NULL;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (key[i] == '"') *o++ = '"';
        *o++ = key[i];
    }
    *o++ = '"';
    *o = '\0';
    return p;
}

typedef struct gs_hit {
    int64_t id;
    double score;
} gs_hit;

/* Best first, then by id: the order of the search statements' ORDER BY score DESC, rowid. */
static int gs_hit_cmp(const void *a, const void *b) {
    const gs_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* True if text holds key as one whole line (an alias key among the aliases column). */
static bool gs_has_line(const char *text, const char *key) {
    size_t n = strlen(key);
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key))
        if ((p == text || p[-1] == '\n') && (p[n] == '\0' || p[n] == '\n')) return true;
    return false;
}

/* A backlog node's score, as GS_ST_SEARCH_SCAN computes it from a search row; 0 if no
 * column holds key. */
static double gs_scan_score(const char *key, const gs_buf *name, const gs_buf *aliases, const gs_buf *body) {
    const char *n = name->p ? name->p : "", *a = aliases->p ? aliases->p : "", *b = body->p ? body->p : "";
    bool in_name = strstr(n, key) != NULL, in_aliases = strstr(a, key) != NULL, in_body = strstr(b, key) != NULL;
    if (!in_name && !in_aliases && !in_body) return 0;
    return 1.0 + (strcmp(n, key) == 0 ? 100.0 : in_name ? 20.0 : 0.0) +
           (gs_has_line(a, key) ? 50.0 : in_aliases ? 10.0 : 0.0) + (in_body ? 1.0 : 0.0);
}

/* Appends a hit, growing the array; false on OOM. */
static bool gs_hit_add(gs_hit **hits, size_t *n, size_t *cap, int64_t id, double score) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        gs_hit *nh = realloc(*hits, ncap * sizeof *nh);
        if (!nh) return false;
        *hits = nh;
        *cap = ncap;
    }
    (*hits)[(*n)++] = (gs_hit){id, score};
    return true;
}

/* The nodes of the search backlog that hold key, scored like the scan: their search rows
 * may not exist yet, so their columns are computed from the node rows (gs_fts_columns). */
static gs_status gs_search_backlog_scan(graph_store *s, const char *key, gs_hit **hits, size_t *nhits, size_t *cap,
                                        gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_SEARCH_BACKLOG_SCAN, err);
    if (!st) return GS_IO;
    gs_status r = GS_OK;
    int rc;
    /* a node in two overlapping ranges comes twice: graph_search keeps it once */
    while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        json_t *props = gs_props_load((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1), err);
        if (!props) {
            r = GS_IO;
            break;
        }
        gs_buf name = {0}, aliases = {0}, body = {0};
        r = gs_fts_columns(s, id, props, &name, &aliases, &body, err);   /* aliases: another statement */
        double score = r == GS_OK ? gs_scan_score(key, &name, &aliases, &body) : 0;
        if (score > 0 && !gs_hit_add(hits, nhits, cap, id, score)) r = gs_fail(err, GS_IO, "out of memory");
        free(name.p);
        free(aliases.p);
        free(body.p);
        json_decref(props);
    }
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "search: reading the backlog's nodes");
    sqlite3_reset(st);
    return r;
}

/* search: best-first nodes whose name, aliases or string properties contain text. */
gs_status graph_search(graph_store *s, const char *text, int limit, json_t **out, gs_error *err) {
    *out = NULL;
    gs_status fr = gs_fts_flush(s, err);   /* this transaction's own changes first */
    if (fr != GS_OK) return fr;
    if (limit <= 0) limit = 20;
    char *key = graph_name_key(text, err);
    if (!key) return GS_INVALID;
    if (!*key) {
        free(key);
        return gs_fail(err, GS_INVALID, "search text is empty");
    }
    bool fts = gs_utf8_chars(key) >= 3;
    char *phrase = fts ? gs_fts_phrase(key) : NULL;
    gs_hit *hits = NULL;
    size_t nhits = 0, cap = 0;
    bool token = false;
    gs_status r = fts && !phrase ? gs_fail(err, GS_IO, "out of memory") : gs_read_begin(s, &token, err);
    sqlite3_stmt *st = NULL;
    if (r == GS_OK && !(st = gs_stmt(s, fts ? GS_ST_SEARCH_FTS : GS_ST_SEARCH_SCAN, err))) r = GS_IO;
    if (r == GS_OK) {
        if (fts) sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, limit);
        int rc;
        while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW && nhits < (size_t)limit)
            if (!gs_hit_add(&hits, &nhits, &cap, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1)))
                r = gs_fail(err, GS_IO, "out of memory");
        if (r == GS_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) r = gs_sqlfail(s, err, "search");
        sqlite3_reset(st);
    }
    size_t nindexed = nhits;
    if (r == GS_OK) r = gs_search_backlog_scan(s, key, &hits, &nhits, &cap, err);
    if (r == GS_OK && nhits > nindexed) {
        /* merge: best first; a node both indexed and in the backlog counts once, at its best */
        qsort(hits, nhits, sizeof *hits, gs_hit_cmp);
        size_t w = 0;
        for (size_t i = 0; i < nhits && w < (size_t)limit; i++) {
            bool seen = false;
            for (size_t k = 0; k < w && !seen; k++) seen = hits[k].id == hits[i].id;
            if (!seen) hits[w++] = hits[i];
        }
        nhits = w;
    }
    json_t *arr = json_array();
    for (size_t i = 0; r == GS_OK && i < nhits; i++) {
        json_t *n = NULL;
        r = gs_node_json(s, hits[i].id, &n, err);
        if (r == GS_OK) {
            json_object_set_new(n, "score", json_real(hits[i].score));
            json_array_append_new(arr, n);
        }
    }
    gs_read_end(s, token);
    free(hits);
    free(phrase);
    free(key);
    if (r != GS_OK) {
        json_decref(arr);
        return r;
    }
    *out = arr;
    return GS_OK;
}

/* See store_internal.h. A range that touches or overlaps one already recorded is merged with it. */
gs_status gs_search_backlog_add(graph_store *s, int64_t lo, int64_t hi, gs_error *err) {
    if (hi < lo) return GS_OK;
    sqlite3_stmt *st = gs_prov_prepare(s, "INSERT INTO search_backlog(lo, hi) VALUES (?1, ?2) "
                                          "ON CONFLICT(lo) DO UPDATE SET hi = max(hi, excluded.hi)", err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    gs_status r = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "recording the search backlog");
    sqlite3_finalize(st);
    return r;
}

/* See store.h: the lowest range first, its nodes in id order, each written as gs_fts_refresh
 * writes a changed node's row; the range shrinks in the same transaction. */
gs_status graph_search_backlog_step(graph_store *s, int64_t max_nodes, int64_t *done, int64_t *left, gs_error *err) {
    *done = *left = 0;
    if (s->readonly) return gs_fail(err, GS_READONLY, "database %s is open read-only", s->path);
    if (max_nodes < 1) max_nodes = 1;
    /* The writer asks after every write: an empty backlog is one read, without the write
     * transaction (and the adjacency index's commit lock) a step takes. */
    sqlite3_stmt *ranges = gs_stmt(s, GS_ST_SEARCH_BACKLOG, err);
    if (!ranges) return GS_IO;
    int first = sqlite3_step(ranges);
    sqlite3_reset(ranges);
    if (first == SQLITE_DONE) return GS_OK;
    if (first != SQLITE_ROW) return gs_sqlfail(s, err, "reading the search backlog");
    gs_status r = graph_store_begin(s, err);
    if (r != GS_OK) return r;
    ranges = gs_stmt(s, GS_ST_SEARCH_BACKLOG, err);
    if (!ranges) r = GS_IO;
    int64_t lo = 0, hi = -1;
    if (r == GS_OK) {
        int rc = sqlite3_step(ranges);
        if (rc == SQLITE_ROW) {
            lo = sqlite3_column_int64(ranges, 0);
            hi = sqlite3_column_int64(ranges, 1);
        } else if (rc != SQLITE_DONE) {
            r = gs_sqlfail(s, err, "reading the search backlog");
        }
        sqlite3_reset(ranges);
    }
    int64_t upto = hi;
    if (r == GS_OK && hi >= lo) {
        upto = hi - lo >= max_nodes ? lo + max_nodes - 1 : hi;
        sqlite3_stmt *st = gs_stmt(s, GS_ST_SEARCH_BACKLOG_NODES, err);
        if (!st) r = GS_IO;
        gs_ids ids = {0};
        if (r == GS_OK) {   /* the ids first: gs_fts_refresh uses cached statements of its own */
            sqlite3_bind_int64(st, 1, lo);
            sqlite3_bind_int64(st, 2, upto);
            int rc;
            while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
                if (!gs_ids_push(&ids, sqlite3_column_int64(st, 0))) r = gs_fail(err, GS_IO, "out of memory");
            if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading the search backlog's nodes");
            sqlite3_reset(st);
        }
        for (size_t i = 0; r == GS_OK && i < ids.n; i++) r = gs_fts_refresh(s, ids.v[i], NULL, err);
        gs_ids_free(&ids);
        char sql[160];
        if (upto == hi)
            snprintf(sql, sizeof sql, "DELETE FROM search_backlog WHERE lo = %lld", (long long)lo);
        else
            snprintf(sql, sizeof sql, "UPDATE search_backlog SET lo = %lld WHERE lo = %lld", (long long)(upto + 1),
                     (long long)lo);
        if (r == GS_OK) r = gs_exec(s, sql, err);
        if (r == GS_OK) *done = upto - lo + 1;
    }
    if (r == GS_OK) {
        sqlite3_stmt *q = gs_prov_prepare(s, "SELECT coalesce(sum(hi - lo + 1), 0) FROM search_backlog", err);
        if (!q) r = GS_IO;
        else {
            if (sqlite3_step(q) == SQLITE_ROW) *left = sqlite3_column_int64(q, 0);
            else r = gs_sqlfail(s, err, "reading the search backlog");
            sqlite3_finalize(q);
        }
    }
    if (r == GS_OK && (r = graph_store_commit(s, err)) == GS_OK) return GS_OK;
    graph_store_rollback(s);
    *done = 0;
    return r;
}
