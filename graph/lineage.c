/*
 * graph/lineage.c - ancestors and descendants: a breadth-first search in C
 * over the rels_start / rels_end indexes. BFS visits each node once at its
 * smallest depth, so merges (several parents) and cycles need no special case.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct gs_visit {
    int64_t id;
    int depth;
} gs_visit;

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

/* Result order for nodes: by depth, then id. */
static int gs_cmp_visit(const void *a, const void *b) {
    const gs_visit *x = a, *y = b;
    if (x->depth != y->depth) return x->depth < y->depth ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Result order for relationships: by id. */
static int gs_cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
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

/* The BFS itself: fills visits (root first) and the traversed relationship ids. */
static gs_status gs_bfs(graph_store *s, int64_t root, graph_direction dir, const char *const *types,
                        size_t ntypes, int max_depth, gs_visit **visits_out, size_t *nvisits_out,
                        int64_t **rels_out, size_t *nrels_out, gs_error *err) {
    gs_idset seen = {0};
    gs_visit *visits = NULL;
    size_t nvisits = 0, cvisits = 0;
    int64_t *rels = NULL;
    size_t nrels = 0, crels = 0;
    gs_status r = GS_OK;
    if (gs_idset_add(&seen, root) < 0 || !gs_grow((void **)&visits, &cvisits, 0, sizeof *visits))
        r = gs_fail(err, GS_IO, "out of memory");
    else visits[nvisits++] = (gs_visit){root, 0};
    gs_stmt_id sid = dir == GRAPH_UP ? GS_ST_REL_STEP_UP : GS_ST_REL_STEP_DOWN;
    for (size_t q = 0; r == GS_OK && q < nvisits; q++) {
        gs_visit cur = visits[q];
        bool may_add = max_depth <= 0 || cur.depth < max_depth;
        for (size_t t = 0; r == GS_OK && t < ntypes; t++) {
            sqlite3_stmt *st = gs_stmt(s, sid, err);
            if (!st) {
                r = GS_IO;
                break;
            }
            sqlite3_bind_int64(st, 1, cur.id);
            sqlite3_bind_text(st, 2, types[t], -1, SQLITE_STATIC);
            int rc;
            while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
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
                rels[nrels++] = rel;
            }
            if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "following relationships");
            sqlite3_reset(st);
        }
    }
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

/* Turns the BFS result into the protocol's {"root","nodes","relationships"}. */
static gs_status gs_lineage_json(graph_store *s, gs_visit *visits, size_t nvisits, int64_t *rels, size_t nrels,
                                 json_t **out, gs_error *err) {
    json_t *root = NULL;
    gs_status r = gs_node_json(s, visits[0].id, &root, err);
    if (r != GS_OK) return r;
    json_t *nodes = json_array(), *jrels = json_array();
    if (nvisits > 2) qsort(visits + 1, nvisits - 1, sizeof *visits, gs_cmp_visit);
    for (size_t i = 1; r == GS_OK && i < nvisits; i++) {
        json_t *n = NULL;
        r = gs_node_json(s, visits[i].id, &n, err);
        if (r == GS_OK) {
            json_object_set_new(n, "depth", json_integer(visits[i].depth));
            json_array_append_new(nodes, n);
        }
    }
    if (nrels > 1) qsort(rels, nrels, sizeof *rels, gs_cmp_id);
    for (size_t i = 0; r == GS_OK && i < nrels; i++) {
        json_t *rel = NULL;
        r = gs_rel_json(s, rels[i], &rel, err);
        if (r == GS_OK) json_array_append_new(jrels, rel);
    }
    if (r != GS_OK) {
        json_decref(root);
        json_decref(nodes);
        json_decref(jrels);
        return r;
    }
    *out = json_pack("{s:o,s:o,s:o}", "root", root, "nodes", nodes, "relationships", jrels);
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* lineage: ancestors (UP) or descendants (DOWN) of root over the given types. */
gs_status graph_lineage(graph_store *s, int64_t root, graph_direction dir, const char *const *types, size_t ntypes,
                        int max_depth, json_t **out, gs_error *err) {
    static const char *const default_types[] = {"BASED_ON", "DISTILLED_FROM"};
    *out = NULL;
    if (dir != GRAPH_UP && dir != GRAPH_DOWN) return gs_fail(err, GS_INVALID, "direction must be up or down");
    if (!types || ntypes == 0) {
        types = default_types;
        ntypes = 2;
    }
    /* deduplicated copy, so each relationship is found once */
    const char **uniq = calloc(ntypes, sizeof *uniq);
    if (!uniq) return gs_fail(err, GS_IO, "out of memory");
    size_t nuniq = 0;
    for (size_t i = 0; i < ntypes; i++) {
        if (!gs_utf8_ok(types[i])) {
            free(uniq);
            return gs_fail(err, GS_INVALID, "types[%zu] must be a non-empty UTF-8 string", i);
        }
        bool dup = false;
        for (size_t j = 0; j < nuniq && !dup; j++) dup = strcmp(uniq[j], types[i]) == 0;
        if (!dup) uniq[nuniq++] = types[i];
    }
    bool token = false;
    gs_status r = gs_read_begin(s, &token, err);
    gs_visit *visits = NULL;
    size_t nvisits = 0, nrels = 0;
    int64_t *rels = NULL;
    if (r == GS_OK) {
        json_t *probe = NULL;
        r = gs_node_json(s, root, &probe, err);   /* "node 42 not found" before any traversal */
        json_decref(probe);
    }
    if (r == GS_OK) r = gs_bfs(s, root, dir, uniq, nuniq, max_depth, &visits, &nvisits, &rels, &nrels, err);
    if (r == GS_OK) r = gs_lineage_json(s, visits, nvisits, rels, nrels, out, err);
    gs_read_end(s, token);
    free(visits);
    free(rels);
    free(uniq);
    return r;
}
