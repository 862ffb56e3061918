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
 */
#include "store_internal.h"

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

/* Removes a node's search row (node delete, and before rewriting it). */
gs_status gs_fts_delete(graph_store *s, int64_t id, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_FTS_DELETE, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    return gs_exec_stmt(s, st, "updating the search index", err);
}

/* Loads props when the caller does not have them at hand. */
static gs_status gs_fts_load_props(graph_store *s, int64_t id, json_t **out, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    gs_status r = GS_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = gs_props_load((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
        if (!*out) r = GS_IO;
    } else {
        r = gs_sqlfail(s, err, "reading a node for the search index");
    }
    sqlite3_reset(st);
    return r;
}

/* Rewrites a node's search row so search always agrees with the node tables. */
gs_status gs_fts_refresh(graph_store *s, int64_t id, const json_t *props, gs_error *err) {
    json_t *owned = NULL;
    gs_status r = GS_OK;
    if (!props) {
        r = gs_fts_load_props(s, id, &owned, err);
        if (r != GS_OK) return r;
        props = owned;
    }
    gs_buf name = {0}, aliases = {0}, body = {0};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)props, k, v) {
        if (strcmp(k, "name") == 0 && json_is_string(v)) gs_buf_key(&name, json_string_value(v));
        else gs_collect_strings(&body, v);
    }
    sqlite3_stmt *st = gs_stmt(s, GS_ST_ALIASES_OF, err);
    if (!st) r = GS_IO;
    else {
        sqlite3_bind_int64(st, 1, id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) gs_buf_line(&aliases, (const char *)sqlite3_column_text(st, 1));
        if (rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading aliases");
        sqlite3_reset(st);
    }
    if (r == GS_OK && (name.oom || aliases.oom || body.oom)) r = gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK) r = gs_fts_delete(s, id, err);
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

/* search: best-first nodes whose name, aliases or string properties contain text. */
gs_status graph_search(graph_store *s, const char *text, int limit, json_t **out, gs_error *err) {
    *out = NULL;
    if (limit <= 0) limit = 20;
    char *key = graph_name_key(text, err);
    if (!key) return GS_INVALID;
    if (!*key) {
        free(key);
        return gs_fail(err, GS_INVALID, "search text is empty");
    }
    bool fts = gs_utf8_chars(key) >= 3;
    char *phrase = fts ? gs_fts_phrase(key) : NULL;
    gs_hit *hits = calloc((size_t)limit, sizeof *hits);
    size_t nhits = 0;
    bool token = false;
    gs_status r = (fts && !phrase) || !hits ? gs_fail(err, GS_IO, "out of memory") : gs_read_begin(s, &token, err);
    sqlite3_stmt *st = NULL;
    if (r == GS_OK && !(st = gs_stmt(s, fts ? GS_ST_SEARCH_FTS : GS_ST_SEARCH_SCAN, err))) r = GS_IO;
    if (r == GS_OK) {
        if (fts) sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, limit);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && nhits < (size_t)limit)
            hits[nhits++] = (gs_hit){sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1)};
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) r = gs_sqlfail(s, err, "search");
        sqlite3_reset(st);
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
