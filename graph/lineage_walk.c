/*
 * graph/lineage_walk.c - the walk behind `lineage`: a breadth-first search in
 * C over the in-memory adjacency index (graph/adjacency.c) or, when the index
 * does not match the reader's snapshot, over the rels_start / rels_end
 * indexes. BFS visits each node once at its smallest depth, so merges (several
 * parents) and cycles need no special case. The reply is graph/lineage.c's.
 */
#include "lineage_int.h"
#include "adjacency.h"

#include <stdlib.h>
#include <string.h>

/* Open-addressing set of node ids. Slots hold id + 1 so 0 can mean "empty";
 * the one id that maps to 0 (-1) is kept in a flag. */
typedef struct gs_idset {
    uint64_t *keys;
    size_t cap, len;
    bool has_minus_one;
} gs_idset;

/* Mixes an id into a table index. */
static size_t gs_hash(uint64_t k, size_t cap) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

/* Inserts id; returns 1 if new, 0 if present, -1 on OOM. */
static int gs_idset_add(gs_idset *set, int64_t id) {
    if (id == -1) {
        bool was = set->has_minus_one;
        set->has_minus_one = true;
        return was ? 0 : 1;
    }
    if ((set->len + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 64;
        uint64_t *nk = calloc(ncap, sizeof *nk);
        if (!nk) return -1;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->keys[i]) continue;
            size_t j = gs_hash(set->keys[i], ncap);
            while (nk[j]) j = (j + 1) & (ncap - 1);
            nk[j] = set->keys[i];
        }
        free(set->keys);
        set->keys = nk;
        set->cap = ncap;
    }
    uint64_t k = (uint64_t)id + 1;
    size_t j = gs_hash(k, set->cap);
    while (set->keys[j]) {
        if (set->keys[j] == k) return 0;
        j = (j + 1) & (set->cap - 1);
    }
    set->keys[j] = k;
    set->len++;
    return 1;
}

/* Membership test. */
static bool gs_idset_has(const gs_idset *set, int64_t id) {
    if (id == -1) return set->has_minus_one;
    if (!set->cap) return false;
    uint64_t k = (uint64_t)id + 1;
    size_t j = gs_hash(k, set->cap);
    while (set->keys[j]) {
        if (set->keys[j] == k) return true;
        j = (j + 1) & (set->cap - 1);
    }
    return false;
}

/* Grows an array to hold one more element. */
static bool gs_grow(void **arr, size_t *cap, size_t len, size_t size) {
    if (len < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 32;
    void *n = realloc(*arr, ncap * size);
    if (!n) return false;
    *arr = n;
    *cap = ncap;
    return true;
}

/* The index of type (n bytes) among the requested types, or -1. */
static int gs_type_index(const char *const *types, size_t ntypes, const char *type, size_t n) {
    for (size_t t = 0; t < ntypes; t++)
        if (strlen(types[t]) == n && memcmp(types[t], type, n) == 0) return (int)t;
    return -1;
}

/* The BFS itself: fills visits (root first) and the traversed relationship ids.
 * One step statement per visited node (all types, filtered here; the
 * rels_start/rels_end indexes cover it), prepared once per call: half the
 * statement runs of one query per type for the default two types. */
static gs_status gs_bfs(graph_store *s, int64_t root, graph_direction dir, const char *const *types,
                        size_t ntypes, int max_depth, gs_visit **visits_out, size_t *nvisits_out,
                        gs_step **rels_out, size_t *nrels_out, gs_error *err) {
    gs_idset seen = {0};
    gs_visit *visits = NULL;
    size_t nvisits = 0, cvisits = 0;
    gs_step *rels = NULL;
    size_t nrels = 0, crels = 0;
    gs_status r = GS_OK;
    sqlite3_stmt *st = NULL;
    const char *sql = dir == GRAPH_UP ? "SELECT id, end, type FROM rels WHERE start = ?1"
                                      : "SELECT id, start, type FROM rels WHERE end = ?1";
    if (sqlite3_prepare_v3(s->db, sql, -1, 0, &st, NULL) != SQLITE_OK)
        r = gs_sqlfail(s, err, "preparing the lineage step");
    else if (gs_idset_add(&seen, root) < 0 || !gs_grow((void **)&visits, &cvisits, 0, sizeof *visits))
        r = gs_fail(err, GS_IO, "out of memory");
    else visits[nvisits++] = (gs_visit){root, 0};
    for (size_t q = 0; r == GS_OK && q < nvisits; q++) {
        gs_visit cur = visits[q];
        bool may_add = max_depth <= 0 || cur.depth < max_depth;
        sqlite3_bind_int64(st, 1, cur.id);
        int rc;
        while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            int type = gs_type_index(types, ntypes, (const char *)sqlite3_column_text(st, 2),
                                     (size_t)sqlite3_column_bytes(st, 2));
            if (type < 0) continue;
            int64_t rel = sqlite3_column_int64(st, 0), other = sqlite3_column_int64(st, 1);
            if (!gs_idset_has(&seen, other)) {
                if (!may_add) continue;   /* beyond the depth limit */
                if (gs_idset_add(&seen, other) < 0 ||
                    !gs_grow((void **)&visits, &cvisits, nvisits, sizeof *visits)) {
                    r = gs_fail(err, GS_IO, "out of memory");
                    break;
                }
                visits[nvisits++] = (gs_visit){other, cur.depth + 1};
            }
            if (!gs_grow((void **)&rels, &crels, nrels, sizeof *rels)) {
                r = gs_fail(err, GS_IO, "out of memory");
                break;
            }
            rels[nrels++] = dir == GRAPH_UP ? (gs_step){rel, cur.id, other, type} : (gs_step){rel, other, cur.id, type};
        }
        if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "following relationships");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(seen.keys);
    if (r != GS_OK) {
        free(visits);
        free(rels);
        return r;
    }
    *visits_out = visits;
    *nvisits_out = nvisits;
    *rels_out = rels;
    *nrels_out = nrels;
    return GS_OK;
}

/* State of a BFS over the adjacency index, for its per-neighbour callback. */
typedef struct gs_adj_bfs {
    gs_idset seen;
    gs_visit *visits;
    size_t nvisits, cvisits;
    gs_step *rels;
    size_t nrels, crels;
    int64_t cur;    /* the node being expanded */
    int depth;      /* its depth */
    bool may_add;
    graph_direction dir;
    const int *tids;  /* the index's type ids of the walk's types, in their order */
    size_t ntypes;
    size_t max_nodes; /* > 0: stop past this many visits, or twice as many relationships */
} gs_adj_bfs;

/* gs_adj_visit's result when the walk outgrew max_nodes. */
#define GS_ADJ_TOO_MANY (-2)

/* One neighbour: queue it if new (within the depth limit), record the relationship. */
static int gs_adj_visit(void *arg, int64_t rel, int64_t other, int type_id) {
    gs_adj_bfs *b = arg;
    if (!gs_idset_has(&b->seen, other)) {
        if (!b->may_add) return 0;
        if (b->max_nodes && b->nvisits >= b->max_nodes) return GS_ADJ_TOO_MANY;
        if (gs_idset_add(&b->seen, other) < 0 || !gs_grow((void **)&b->visits, &b->cvisits, b->nvisits, sizeof *b->visits))
            return -1;
        b->visits[b->nvisits++] = (gs_visit){other, b->depth + 1};
    }
    if (b->max_nodes && b->nrels >= 2 * b->max_nodes) return GS_ADJ_TOO_MANY;   /* many parallel relationships */
    if (!gs_grow((void **)&b->rels, &b->crels, b->nrels, sizeof *b->rels)) return -1;
    int type = 0;
    while ((size_t)type < b->ntypes && b->tids[type] != type_id) type++;   /* graph_adj_each found it there */
    b->rels[b->nrels++] = b->dir == GRAPH_UP ? (gs_step){rel, b->cur, other, type} : (gs_step){rel, other, b->cur, type};
    return 0;
}

/* The same BFS as gs_bfs over the in-memory index (graph_adj_begin held);
 * GS_LIMIT when it reaches more than max_nodes (> 0) nodes. */
static gs_status gs_bfs_adj(graph_store *s, int64_t root, graph_direction dir, const char *const *types,
                            size_t ntypes, int max_depth, size_t max_nodes, gs_visit **visits_out,
                            size_t *nvisits_out, gs_step **rels_out, size_t *nrels_out, gs_error *err) {
    gs_adj_bfs b = {.max_nodes = max_nodes, .dir = dir, .ntypes = ntypes};
    int *tids = calloc(ntypes ? ntypes : 1, sizeof *tids);
    int rc = tids ? 0 : -1;
    for (size_t t = 0; rc == 0 && t < ntypes; t++) tids[t] = graph_adj_type_id(s, types[t]);
    b.tids = tids;
    if (rc == 0 && (gs_idset_add(&b.seen, root) < 0 || !gs_grow((void **)&b.visits, &b.cvisits, 0, sizeof *b.visits)))
        rc = -1;
    if (rc == 0) b.visits[b.nvisits++] = (gs_visit){root, 0};
    for (size_t q = 0; rc == 0 && q < b.nvisits; q++) {
        b.cur = b.visits[q].id;
        b.depth = b.visits[q].depth;
        b.may_add = max_depth <= 0 || b.depth < max_depth;
        rc = graph_adj_each(s, b.visits[q].id, dir, tids, ntypes, gs_adj_visit, &b);
    }
    free(tids);
    free(b.seen.keys);
    if (rc != 0) {
        free(b.visits);
        free(b.rels);
        if (rc == GS_ADJ_TOO_MANY) return gs_fail(err, GS_LIMIT, "the walk reaches more than %zu nodes", max_nodes);
        return gs_fail(err, GS_IO, "out of memory");
    }
    *visits_out = b.visits;
    *nvisits_out = b.nvisits;
    *rels_out = b.rels;
    *nrels_out = b.nrels;
    return GS_OK;
}

/* See lineage_int.h. */
gs_status gs_lineage_walk(graph_store *s, int64_t root, const graph_lineage_opts *o, const char *const *types,
                          size_t ntypes, gs_visit **visits, size_t *nvisits, gs_step **rels, size_t *nrels,
                          gs_error *err) {
    if (graph_adj_begin(s)) {   /* the index matches this snapshot: no SQLite per step */
        gs_status r = gs_bfs_adj(s, root, o->dir, types, ntypes, o->max_depth, o->max_nodes, visits, nvisits, rels,
                                 nrels, err);
        graph_adj_end(s);
        return r;
    }
    if (o->max_nodes)   /* a walk over SQLite has no cheap bound */
        return gs_fail(err, GS_LIMIT, "the in-memory index does not serve this read");
    return gs_bfs(s, root, o->dir, types, ntypes, o->max_depth, visits, nvisits, rels, nrels, err);
}
