/*
 * graph/adjacency_nodes.c - the node half of the adjacency index (design:
 * adjacency.h): each node's labels as a bit set, its "name" value as stored
 * and the hash of its name_key (key_index.h), built from SQLite and re-read
 * for the nodes a commit touched (adjacency.c calls the adj_* functions
 * here from its attach and commit paths, under the write lock); the
 * graph_adj_* readers of them run under the read lock.
 */
#include "adjacency_int.h"

#include <stdlib.h>
#include <string.h>

/* Bit of a label name, adding it when new; -1 when all ADJ_MAX_LABELS bits are
 * taken (that label is then not indexed) or on OOM. */
static int adj_label_bit(graph_adj *a, const char *name) {
    for (size_t i = 0; i < a->nlnames; i++)
        if (strcmp(a->lnames[i], name) == 0) return (int)i;
    if (a->nlnames == ADJ_MAX_LABELS || !(a->lnames[a->nlnames] = strdup(name))) {
        a->lnames_full = true;
        return -1;
    }
    return (int)a->nlnames++;
}

/* Makes labels[] cover node id n (new entries: no labels); false on OOM. */
static bool adj_labels_cover(graph_adj *a, int64_t n) {
    uint64_t *nl = gs_cover(a->labels, &a->nlabels_cap, (size_t)n, sizeof *nl);
    if (!nl) return false;
    a->labels = nl;
    return true;
}

/* Reads every node's labels into fresh bit sets (write lock held, or before any
 * reader can see the index). */
gs_status adj_build_labels(graph_adj *a, graph_store *w, gs_error *err) {
    if (a->labels) memset(a->labels, 0, a->nlabels_cap * sizeof *a->labels);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT node_id, label FROM node_labels", -1, &st, NULL) != SQLITE_OK)
        return gs_sqlfail(w, err, "adjacency index: reading labels");
    int rc;
    gs_status r = GS_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        if (n < 0 || n > ADJ_MAX_ID) {
            r = gs_fail(err, GS_LIMIT, "adjacency index: ids above 2^32 are not indexed");
            break;
        }
        int bit = adj_label_bit(a, (const char *)sqlite3_column_text(st, 1));
        if (!adj_labels_cover(a, n)) {
            r = gs_fail(err, GS_IO, "adjacency index: out of memory");
            break;
        }
        if (bit >= 0) a->labels[n] |= (uint64_t)1 << bit;
    }
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(w, err, "adjacency index: reading labels");
    sqlite3_finalize(st);
    return r;
}

/* Re-reads the labels of one touched node. */
bool adj_apply_labels(graph_adj *a, int64_t n) {
    if (n < 0 || n > ADJ_MAX_ID || !adj_labels_cover(a, n)) return false;
    uint64_t bits = 0;
    sqlite3_bind_int64(a->lget, 1, n);
    int rc;
    while ((rc = sqlite3_step(a->lget)) == SQLITE_ROW) {
        int bit = adj_label_bit(a, (const char *)sqlite3_column_text(a->lget, 0));
        if (bit >= 0) bits |= (uint64_t)1 << bit;
    }
    sqlite3_reset(a->lget);
    a->labels[n] = bits;
    return rc == SQLITE_DONE;
}

/* Sets node n's name from its props text and its name key (both NULL: the
 * node is gone); false on OOM. The old text stays in the pool as dead bytes
 * until the next compaction. */
static bool adj_set_name(graph_adj *a, int64_t n, const char *props, size_t plen, const char *key, size_t klen) {
    if (n < 0 || n > ADJ_MAX_ID) return false;
    if (!key_index_set(&a->keys, (uint32_t)n, key, klen)) return false;
    uint32_t *na = gs_cover(a->name_at, &a->nnames_cap, (size_t)n, sizeof *na);
    if (!na) return false;
    a->name_at = na;
    if (a->name_at[n]) {
        uint32_t old;
        memcpy(&old, a->npool + a->name_at[n] - 1, sizeof old);
        a->npool_dead += sizeof old + old;
        a->name_at[n] = 0;
    }
    const char *ve, *v = props ? gs_json_find_key(props, plen, "\"name\"", 6, &ve) : NULL;
    if (!v) return true;
    uint32_t len = (uint32_t)(ve - v);
    size_t need = a->npool_len + sizeof len + len;
    if (need >= UINT32_MAX - 1) return false;
    if (need > a->npool_cap) {
        size_t ncap = a->npool_cap ? a->npool_cap : 65536;
        while (ncap < need) ncap *= 2;
        char *np = realloc(a->npool, ncap);
        if (!np) return false;
        a->npool = np;
        a->npool_cap = ncap;
    }
    memcpy(a->npool + a->npool_len, &len, sizeof len);
    memcpy(a->npool + a->npool_len + sizeof len, v, len);
    a->name_at[n] = (uint32_t)a->npool_len + 1;
    a->npool_len = need;
    return true;
}

/* Reads every node's name into a fresh pool (write lock held, or before any
 * reader can see the index). */
gs_status adj_build_names(graph_adj *a, graph_store *w, gs_error *err) {
    a->names_ok = false;
    if (a->name_at) memset(a->name_at, 0, a->nnames_cap * sizeof *a->name_at);
    a->npool_len = a->npool_dead = 0;
    key_index_clear(&a->keys);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT id, props, name_key FROM nodes", -1, &st, NULL) != SQLITE_OK)
        return gs_sqlfail(w, err, "adjacency index: reading names");
    int rc;
    gs_status r = GS_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (!adj_set_name(a, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                          (size_t)sqlite3_column_bytes(st, 1), (const char *)sqlite3_column_text(st, 2),
                          (size_t)sqlite3_column_bytes(st, 2))) {
            r = gs_fail(err, GS_IO, "adjacency index: out of memory (or ids above 2^32) for names");
            break;
        }
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(w, err, "adjacency index: reading names");
    sqlite3_finalize(st);
    a->names_ok = r == GS_OK;
    return r;
}

/* Re-reads the name of one touched node. */
bool adj_apply_name(graph_adj *a, int64_t n) {
    sqlite3_bind_int64(a->nget, 1, n);
    int rc = sqlite3_step(a->nget);
    bool ok = rc == SQLITE_ROW ? adj_set_name(a, n, (const char *)sqlite3_column_text(a->nget, 0),
                                               (size_t)sqlite3_column_bytes(a->nget, 0),
                                               (const char *)sqlite3_column_text(a->nget, 1),
                                               (size_t)sqlite3_column_bytes(a->nget, 1))
                               : rc == SQLITE_DONE && adj_set_name(a, n, NULL, 0, NULL, 0);
    sqlite3_reset(a->nget);
    return ok;
}

/* Bit of a label for graph_adj_node_labels(); see adjacency.h. Between begin and end. */
int graph_adj_label_bit(graph_store *s, const char *label) {
    graph_adj *a = s->adj;
    for (size_t i = 0; i < a->nlnames; i++)
        if (strcmp(a->lnames[i], label) == 0) return (int)i;
    return a->lnames_full ? GRAPH_ADJ_LABEL_UNINDEXED : GRAPH_ADJ_LABEL_NONE;
}

/* The label bits of a node (0 for a node without labels or unknown). Between begin and end. */
uint64_t graph_adj_node_labels(graph_store *s, int64_t node) {
    graph_adj *a = s->adj;
    return node >= 0 && node < (int64_t)a->nlabels_cap ? a->labels[node] : 0;
}

/* A node's name as the canonical JSON text of its "name" property; see
 * adjacency.h. Between begin and end. */
bool graph_adj_node_name(graph_store *s, int64_t node, const char **text, size_t *len) {
    graph_adj *a = s->adj;
    if (!a->names_ok) return false;
    *text = NULL;
    *len = 0;
    if (node >= 0 && node < (int64_t)a->nnames_cap && a->name_at[node]) {
        uint32_t n;
        memcpy(&n, a->npool + a->name_at[node] - 1, sizeof n);
        *text = a->npool + a->name_at[node] - 1 + sizeof n;
        *len = n;
    }
    return true;
}

/* Which node has name key `key`, from the keys kept with the names; see
 * adjacency.h. Between begin and end. */
int graph_adj_find_key(graph_store *s, const char *key, int64_t *node) {
    graph_adj *a = s->adj;
    if (!a->names_ok) return GRAPH_ADJ_KEY_UNSURE;
    uint32_t n = 0;
    switch (key_index_find(&a->keys, key, strlen(key), &n)) {
    case KEY_INDEX_NONE:
        return GRAPH_ADJ_KEY_NONE;
    case KEY_INDEX_ONE:
        *node = n;
        return GRAPH_ADJ_KEY_CANDIDATE;
    default:
        return GRAPH_ADJ_KEY_UNSURE;
    }
}

/* A node's labels when they are known in order: at most one, and every label
 * name has a bit; see adjacency.h. Between begin and end. */
int graph_adj_sole_label(graph_store *s, int64_t node, const char **label) {
    graph_adj *a = s->adj;
    if (a->lnames_full) return -1;
    uint64_t bits = node >= 0 && node < (int64_t)a->nlabels_cap ? a->labels[node] : 0;
    if (!bits) return 0;
    if (bits & (bits - 1)) return -1;   /* two or more: their order lives in node_labels.pos */
    *label = a->lnames[__builtin_ctzll(bits)];
    return 1;
}
