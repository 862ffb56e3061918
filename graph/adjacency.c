/*
 * graph/adjacency.c - the in-memory adjacency index (design and the snapshot
 * rule: adjacency.h). One graph_adj per database, shared by the writer
 * connection (which keeps it current) and the readers (which walk it under a
 * read lock). This file: the relationships (CSR base, overrides), the writer's
 * hooks and commits, snapshots; adjacency_nodes.c: node labels, names and name
 * keys; adjacency_int.h: the struct both share.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* pthread_rwlockattr_setkind_np: writers must not starve behind lineage readers */
#endif
/* sqlite3_preupdate_hook's declarations (Debian's libsqlite3 is built with it;
 * docs/dependencies.md): node_labels is WITHOUT ROWID, which the update hook skips. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include "adjacency_int.h"

#include <stdlib.h>
#include <string.h>

/* Mixes a key into a table index (cap is a power of two). */
static size_t adj_hash(int64_t k, size_t cap) {
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

/* Value for key, or ADJ_NONE. */
static uint32_t adj_map_get(const adj_map *m, int64_t key) {
    if (!m->len) return ADJ_NONE;
    for (size_t j = adj_hash(key, m->cap);; j = (j + 1) & (m->cap - 1)) {
        if (m->vals[j] == ADJ_NONE) return ADJ_NONE;
        if (m->keys[j] == key) return m->vals[j];
    }
}

/* Inserts or replaces; false on OOM. Keeps the load under one half. */
static bool adj_map_put(adj_map *m, int64_t key, uint32_t val) {
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 256;
        int64_t *nk = malloc(ncap * sizeof *nk);
        uint32_t *nv = malloc(ncap * sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return false;
        }
        memset(nv, 0xff, ncap * sizeof *nv);
        for (size_t i = 0; i < m->cap; i++) {
            if (m->vals[i] == ADJ_NONE) continue;
            size_t j = adj_hash(m->keys[i], ncap);
            while (nv[j] != ADJ_NONE) j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    size_t j = adj_hash(key, m->cap);
    while (m->vals[j] != ADJ_NONE && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    if (m->vals[j] == ADJ_NONE) m->len++;
    m->keys[j] = key;
    m->vals[j] = val;
    return true;
}

/* Releases a map's arrays. */
static void adj_map_free(adj_map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Frees the base arrays and every override (before a rebuild, and at the end). */
static void adj_clear(graph_adj *a) {
    adj_csr *dirs[2] = {&a->out, &a->in};
    for (int d = 0; d < 2; d++) {
        free(dirs[d]->off);
        free(dirs[d]->other);
        free(dirs[d]->rel);
        free(dirs[d]->type);
        memset(dirs[d], 0, sizeof *dirs[d]);
    }
    for (size_t i = 0; i < a->nlists; i++) free(a->lists[i].rels);
    free(a->lists);
    a->lists = NULL;
    a->nlists = a->clists = 0;
    free(a->ovr);
    a->ovr = NULL;
    a->novr = a->covr = a->live = 0;
    adj_map_free(&a->ovr_map);
    adj_map_free(&a->out_map);
    adj_map_free(&a->in_map);
    a->nbase = 0;
    a->nmax = 0;
}

/* An empty index; the read lock prefers writers so commits never starve. */
graph_adj *graph_adj_new(void) {
    graph_adj *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&a->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    atomic_init(&a->seq, 0);
    atomic_init(&a->usable, false);
    atomic_init(&a->stale, false);
    return a;
}

/* Frees everything (stores must be detached). */
void graph_adj_free(graph_adj *a) {
    if (!a) return;
    adj_clear(a);
    for (size_t i = 0; i < a->ntypes; i++) free(a->types[i]);
    free(a->types);
    for (size_t i = 0; i < a->nlnames; i++) free(a->lnames[i]);
    free(a->labels);
    free(a->name_at);
    free(a->npool);
    key_index_free(&a->keys);
    free(a->touched);
    free(a->ltouched);
    free(a->ntouched_nodes);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

/* Type id of name, adding it when new; -1 on OOM or too many types. */
static int adj_intern(graph_adj *a, const char *name) {
    for (size_t i = 0; i < a->ntypes; i++)
        if (strcmp(a->types[i], name) == 0) return (int)i;
    if (a->ntypes >= UINT16_MAX) return -1;
    char **nt = realloc(a->types, (a->ntypes + 1) * sizeof *nt);
    if (!nt) return -1;
    a->types = nt;
    if (!(nt[a->ntypes] = strdup(name))) return -1;
    return (int)a->ntypes++;
}

/* Fills one CSR direction from the rows: key[] picks the node, val[] the other end. */
static bool adj_fill(adj_csr *c, uint32_t nmax, size_t n, const uint32_t *key, const uint32_t *val,
                     const uint32_t *rel, const uint16_t *type) {
    c->off = calloc((size_t)nmax + 2, sizeof *c->off);
    c->other = malloc((n ? n : 1) * sizeof *c->other);
    c->rel = malloc((n ? n : 1) * sizeof *c->rel);
    c->type = malloc((n ? n : 1) * sizeof *c->type);
    if (!c->off || !c->other || !c->rel || !c->type) return false;
    for (size_t i = 0; i < n; i++) c->off[key[i] + 1]++;
    for (size_t i = 0; i <= nmax; i++) c->off[i + 1] += c->off[i];
    uint32_t *pos = malloc(((size_t)nmax + 1) * sizeof *pos);
    if (!pos) return false;
    memcpy(pos, c->off, ((size_t)nmax + 1) * sizeof *pos);
    for (size_t i = 0; i < n; i++) {   /* rows come in rel id order: each node's entries stay sorted */
        uint32_t p = pos[key[i]]++;
        c->other[p] = val[i];
        c->rel[p] = rel[i];
        c->type[p] = type[i];
    }
    free(pos);
    return true;
}

/* realloc that keeps the old block on failure. */
static bool adj_grow(void **p, size_t n, size_t size) {
    void *np = realloc(*p, n * size);
    if (!np) return false;
    *p = np;
    return true;
}

/* Reads every relationship through the writer connection into a fresh base.
 * Called with the write lock held (or before any reader can see the index). */
static gs_status adj_build(graph_adj *a, graph_store *w, gs_error *err) {
    adj_clear(a);
    sqlite3_stmt *st = NULL;
    uint32_t *rel = NULL, *start = NULL, *end = NULL;
    uint16_t *type = NULL;
    size_t n = 0, cap = 0;
    int64_t nmax = 0;
    gs_status r = GS_OK;
    if (sqlite3_prepare_v2(w->db, "SELECT id, type, start, end FROM rels ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return gs_sqlfail(w, err, "adjacency index: reading relationships");
    int rc;
    while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), s0 = sqlite3_column_int64(st, 2), e0 = sqlite3_column_int64(st, 3);
        if (id < 0 || id > ADJ_MAX_ID || s0 < 0 || s0 > ADJ_MAX_ID || e0 < 0 || e0 > ADJ_MAX_ID) {
            r = gs_fail(err, GS_LIMIT, "adjacency index: ids above 2^32 are not indexed");
            break;
        }
        int t = adj_intern(a, (const char *)sqlite3_column_text(st, 1));
        if (t >= 0 && n == cap) {
            cap = cap ? cap * 2 : 4096;
            if (!adj_grow((void **)&rel, cap, sizeof *rel) || !adj_grow((void **)&start, cap, sizeof *start) ||
                !adj_grow((void **)&end, cap, sizeof *end) || !adj_grow((void **)&type, cap, sizeof *type))
                t = -1;
        }
        if (t < 0) {
            r = gs_fail(err, GS_IO, "adjacency index: out of memory");
            break;
        }
        rel[n] = (uint32_t)id;
        start[n] = (uint32_t)s0;
        end[n] = (uint32_t)e0;
        type[n] = (uint16_t)t;
        n++;
        if (s0 > nmax) nmax = s0;
        if (e0 > nmax) nmax = e0;
    }
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(w, err, "adjacency index: reading relationships");
    sqlite3_finalize(st);
    if (r == GS_OK) {
        a->nmax = (uint32_t)nmax;
        a->nbase = n;
        if (!adj_fill(&a->out, a->nmax, n, start, end, rel, type) || !adj_fill(&a->in, a->nmax, n, end, start, rel, type))
            r = gs_fail(err, GS_IO, "adjacency index: out of memory");
    }
    free(rel);
    free(start);
    free(end);
    free(type);
    if (r != GS_OK) adj_clear(a);
    return r;
}

/* Appends to a touched-id list; on OOM notes it (the commit then leaves the
 * index unusable). See adjacency_int.h. */
void adj_touch(graph_adj *a, int64_t **list, size_t *n, size_t *cap, int64_t id) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        int64_t *nl = realloc(*list, ncap * sizeof *nl);
        if (!nl) {
            a->touch_oom = true;
            return;
        }
        *list = nl;
        *cap = ncap;
    }
    (*list)[(*n)++] = id;
}

/* Pre-update hook: remembers the nodes whose node_labels rows this transaction
 * touches (inserted, deleted, updated, removed by a cascade or a REPLACE).
 * node_labels is WITHOUT ROWID, so the update hook never sees it. This was
 * three TEMP triggers calling a C function; a trigger on a table makes every
 * INSERT into it open a statement journal, which inside a bulk load's
 * savepoint wrote one 4 KiB page to a temporary file per label row (5 GB of
 * writes for 1M nodes; docs/performance.md, session 16). Firing before a row
 * changes, it may note a node whose statement then fails: that node's labels
 * are merely re-read at commit. */
static void adj_on_preupdate(void *arg, sqlite3 *db, int op, const char *zdb, const char *table, sqlite3_int64 k1,
                             sqlite3_int64 k2) {
    (void)k1;
    (void)k2;
    graph_adj *a = arg;
    if (strcmp(table, "node_labels") != 0 || strcmp(zdb, "main") != 0) return;
    sqlite3_value *v = NULL;
    if (op != SQLITE_INSERT && sqlite3_preupdate_old(db, 0, &v) == SQLITE_OK && v)
        adj_touch(a, &a->ltouched, &a->nltouched, &a->cltouched, sqlite3_value_int64(v));
    v = NULL;
    if (op != SQLITE_DELETE && sqlite3_preupdate_new(db, 0, &v) == SQLITE_OK && v)
        adj_touch(a, &a->ltouched, &a->nltouched, &a->cltouched, sqlite3_value_int64(v));
}

/* Update hook: remembers which rels rows this transaction touched. */
static void adj_on_update(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid) {
    (void)op;
    graph_adj *a = arg;
    if (strcmp(db, "main") != 0) return;
    if (strcmp(table, "nodes") == 0) {
        adj_touch(a, &a->ntouched_nodes, &a->nntouched, &a->cntouched, rowid);
        return;
    }
    if (strcmp(table, "rels") != 0) return;
    if (a->ntouched == a->ctouched) {
        size_t ncap = a->ctouched ? a->ctouched * 2 : 64;
        int64_t *nt = realloc(a->touched, ncap * sizeof *nt);
        if (!nt) {
            a->touch_oom = true;
            return;
        }
        a->touched = nt;
        a->ctouched = ncap;
    }
    a->touched[a->ntouched++] = rowid;
}

/* Rollback hook: nothing of this transaction reached the database. */
static void adj_on_rollback(void *arg) {
    graph_adj *a = arg;
    a->ntouched = a->nltouched = a->nntouched = 0;
    a->touch_oom = false;
}

/* Commit hook: a commit that bypasses gs_adj_commit_* would leave the index
 * behind without a new sequence number, so readers stop trusting it until the
 * next wrapped commit catches up. */
static int adj_on_commit(void *arg) {
    graph_adj *a = arg;
    if (!a->in_commit && (a->ntouched || a->nltouched || a->nntouched)) atomic_store(&a->stale, true);
    return 0;
}

/* Builds the base from w and installs the hooks; see adjacency.h. */
gs_status graph_adj_attach_writer(graph_adj *a, graph_store *w, gs_error *err) {
    if (w->readonly) return gs_fail(err, GS_READONLY, "adjacency index: the writer must be writable");
    pthread_rwlock_wrlock(&a->lock);
    gs_status r = gs_exec(w, "BEGIN", err);
    if (r == GS_OK) {
        r = adj_build(a, w, err);
        if (r == GS_OK) r = adj_build_labels(a, w, err);
        if (r == GS_OK) r = adj_build_names(a, w, err);
        gs_exec(w, "COMMIT", NULL);
    }
    if (r == GS_OK && (sqlite3_prepare_v3(w->db, "SELECT type, start, end FROM rels WHERE id = ?1", -1,
                                          SQLITE_PREPARE_PERSISTENT, &a->get, NULL) != SQLITE_OK ||
                       sqlite3_prepare_v3(w->db, "SELECT label FROM node_labels WHERE node_id = ?1", -1,
                                          SQLITE_PREPARE_PERSISTENT, &a->lget, NULL) != SQLITE_OK ||
                       sqlite3_prepare_v3(w->db, "SELECT props, name_key FROM nodes WHERE id = ?1", -1,
                                          SQLITE_PREPARE_PERSISTENT, &a->nget, NULL) != SQLITE_OK))
        r = gs_sqlfail(w, err, "adjacency index: preparing");
    if (r == GS_OK) {
        a->writer = w;
        a->ntouched = a->nltouched = a->nntouched = 0;
        w->adj = a;
        w->adj_writer = true;
        sqlite3_update_hook(w->db, adj_on_update, a);
        sqlite3_preupdate_hook(w->db, adj_on_preupdate, a);
        sqlite3_rollback_hook(w->db, adj_on_rollback, a);
        sqlite3_commit_hook(w->db, adj_on_commit, a);
        atomic_store(&a->stale, false);
        atomic_fetch_add(&a->seq, 1);
        atomic_store(&a->usable, true);
    }
    pthread_rwlock_unlock(&a->lock);
    return r;
}

/* Readers only walk the index. */
void graph_adj_attach_reader(graph_adj *a, graph_store *r) {
    r->adj = a;
    r->adj_writer = false;
}

/* Unhooks s; a detached writer leaves the index unusable (nobody keeps it current). */
void graph_adj_detach(graph_store *s) {
    graph_adj *a = s->adj;
    if (!a) return;
    if (s->adj_writer) {
        pthread_rwlock_wrlock(&a->lock);
        sqlite3_update_hook(s->db, NULL, NULL);
        sqlite3_preupdate_hook(s->db, NULL, NULL);
        sqlite3_rollback_hook(s->db, NULL, NULL);
        sqlite3_commit_hook(s->db, NULL, NULL);
        sqlite3_finalize(a->get);
        sqlite3_finalize(a->lget);
        sqlite3_finalize(a->nget);
        a->get = a->lget = a->nget = NULL;
        a->writer = NULL;
        atomic_store(&a->usable, false);
        pthread_rwlock_unlock(&a->lock);
    }
    s->adj = NULL;
    s->adj_writer = false;
}

/* Removes rel from node's override list in map m (it is there at most once). */
static void adj_list_remove(graph_adj *a, adj_map *m, int64_t node, int64_t rel) {
    uint32_t li = adj_map_get(m, node);
    if (li == ADJ_NONE) return;
    adj_list *l = &a->lists[li];
    for (uint32_t i = 0; i < l->n; i++)
        if (l->rels[i] == rel) {
            l->rels[i] = l->rels[--l->n];
            return;
        }
}

/* Appends rel to node's override list in map m; false on OOM. */
static bool adj_list_add(graph_adj *a, adj_map *m, int64_t node, int64_t rel) {
    uint32_t li = adj_map_get(m, node);
    if (li == ADJ_NONE) {
        if (a->nlists == a->clists) {
            size_t ncap = a->clists ? a->clists * 2 : 64;
            adj_list *nl = realloc(a->lists, ncap * sizeof *nl);
            if (!nl) return false;
            a->lists = nl;
            a->clists = ncap;
        }
        li = (uint32_t)a->nlists;
        a->lists[a->nlists++] = (adj_list){0};
        if (!adj_map_put(m, node, li)) return false;
    }
    adj_list *l = &a->lists[li];
    if (l->n == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 4;
        int64_t *nr = realloc(l->rels, ncap * sizeof *nr);
        if (!nr) return false;
        l->rels = nr;
        l->cap = ncap;
    }
    l->rels[l->n++] = rel;
    return true;
}

/* Re-reads one touched relationship and makes its override say what is committed. */
static bool adj_apply_one(graph_adj *a, int64_t rel) {
    sqlite3_bind_int64(a->get, 1, rel);
    int rc = sqlite3_step(a->get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(a->get);
        return false;
    }
    bool present = rc == SQLITE_ROW;
    int t = present ? adj_intern(a, (const char *)sqlite3_column_text(a->get, 0)) : 0;
    int64_t s0 = present ? sqlite3_column_int64(a->get, 1) : 0, e0 = present ? sqlite3_column_int64(a->get, 2) : 0;
    sqlite3_reset(a->get);
    if (t < 0) return false;
    uint32_t oi = adj_map_get(&a->ovr_map, rel);
    if (oi == ADJ_NONE) {
        if (a->novr == a->covr) {
            size_t ncap = a->covr ? a->covr * 2 : 64;
            adj_ovr *no = realloc(a->ovr, ncap * sizeof *no);
            if (!no) return false;
            a->ovr = no;
            a->covr = ncap;
        }
        oi = (uint32_t)a->novr;
        a->ovr[a->novr++] = (adj_ovr){.rel = rel};
        if (!adj_map_put(&a->ovr_map, rel, oi)) return false;
    } else if (a->ovr[oi].present) {
        adj_list_remove(a, &a->out_map, a->ovr[oi].start, rel);
        adj_list_remove(a, &a->in_map, a->ovr[oi].end, rel);
        a->live--;
    }
    adj_ovr *o = &a->ovr[oi];
    *o = (adj_ovr){.rel = rel, .start = s0, .end = e0, .type = t, .present = present};
    if (!present) return true;
    a->live++;
    return adj_list_add(a, &a->out_map, s0, rel) && adj_list_add(a, &a->in_map, e0, rel);
}

/* Before the writer's COMMIT: readers must not start a snapshot in between. */
void gs_adj_commit_lock(graph_store *s) {
    if (!s->adj || !s->adj_writer) return;
    pthread_rwlock_wrlock(&s->adj->lock);
    s->adj->in_commit = true;
}

/* After the writer's COMMIT: apply what it changed, bump the sequence, unlock.
 * Any failure leaves the index unusable rather than wrong. */
void gs_adj_commit_done(graph_store *s, bool ok) {
    graph_adj *a = s->adj;
    if (!a || !s->adj_writer) return;
    a->in_commit = false;
    if (ok && (a->ntouched || a->nltouched || a->nntouched || atomic_load(&a->stale))) {
        bool good = !a->touch_oom;
        if (good && (a->nntouched > 65536 || a->npool_dead > 65536 + a->npool_len / 2)) {
            /* a bulk load, or a pool half of dead names: one scan of `nodes` */
            gs_error err;
            good = adj_build_names(a, s, &err) == GS_OK;
            a->nntouched = 0;
        }
        for (size_t i = 0; good && i < a->nntouched; i++) good = adj_apply_name(a, a->ntouched_nodes[i]);
        a->nntouched = 0;
        if (good && a->nltouched > 65536) {
            /* a bulk load: one scan of node_labels beats a re-read per touched node */
            gs_error err;
            good = adj_build_labels(a, s, &err) == GS_OK;
            a->nltouched = 0;
        }
        for (size_t i = 0; good && i < a->nltouched; i++) good = adj_apply_labels(a, a->ltouched[i]);
        a->nltouched = 0;
        if (good && a->ntouched > 65536 && a->ntouched > a->nbase / 4) {
            /* a bulk load (graph/bulk_load.c): one scan of `rels` beats a re-read per touched row */
            gs_error err;
            good = adj_build(a, s, &err) == GS_OK;
            a->ntouched = 0;
        }
        for (size_t i = 0; good && i < a->ntouched; i++) good = adj_apply_one(a, a->touched[i]);
        a->ntouched = 0;
        a->touch_oom = false;
        if (good && a->novr > 65536 && a->novr > a->nbase / 4) {   /* fold the overrides into a new base */
            gs_error err;
            good = adj_build(a, s, &err) == GS_OK;
        }
        if (!good) atomic_store(&a->usable, false);
        atomic_store(&a->stale, false);
        atomic_fetch_add(&a->seq, 1);
    }
    pthread_rwlock_unlock(&a->lock);
}

/* Before a read transaction starts on s. */
void gs_adj_note_snapshot(graph_store *s) {
    if (!s->adj) return;
    s->adj_snap_seq = atomic_load(&s->adj->seq);
    s->adj_snap_ok = true;
}

/* After it ended. */
void gs_adj_forget_snapshot(graph_store *s) { s->adj_snap_ok = false; }

/* Read lock, if the index is exactly s's snapshot (adjacency.h). */
bool graph_adj_begin(graph_store *s) {
    graph_adj *a = s->adj;
    if (!a || s->adj_writer || !s->adj_snap_ok || sqlite3_get_autocommit(s->db)) return false;
    pthread_rwlock_rdlock(&a->lock);
    if (atomic_load(&a->usable) && !atomic_load(&a->stale) && atomic_load(&a->seq) == s->adj_snap_seq) return true;
    pthread_rwlock_unlock(&a->lock);
    return false;
}

/* Drops the read lock taken by a successful graph_adj_begin(). */
void graph_adj_end(graph_store *s) { pthread_rwlock_unlock(&s->adj->lock); }

/* Type id of a name, or -1. */
int graph_adj_type_id(graph_store *s, const char *type) {
    graph_adj *a = s->adj;
    for (size_t i = 0; i < a->ntypes; i++)
        if (strcmp(a->types[i], type) == 0) return (int)i;
    return -1;
}

size_t graph_adj_type_count(graph_store *s) { return s->adj->ntypes; }
const char *graph_adj_type_name(graph_store *s, int type_id) { return s->adj->types[type_id]; }

/* True if t is one of the wanted type ids. */
static bool adj_type_in(int t, const int *ids, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == t) return true;
    return false;
}

/* Neighbours of node: base entries not overridden, then live overrides. */
int graph_adj_each(graph_store *s, int64_t node, graph_direction dir, const int *type_ids, size_t ntypes,
                   int (*fn)(void *arg, int64_t rel, int64_t other, int type_id), void *arg) {
    graph_adj *a = s->adj;
    const adj_csr *c = dir == GRAPH_UP ? &a->out : &a->in;
    int rc;
    if (c->off && node >= 0 && node <= (int64_t)a->nmax) {
        for (uint32_t k = c->off[node]; k < c->off[node + 1]; k++) {
            if (!adj_type_in(c->type[k], type_ids, ntypes)) continue;
            if (a->novr && adj_map_get(&a->ovr_map, c->rel[k]) != ADJ_NONE) continue;
            if ((rc = fn(arg, c->rel[k], c->other[k], c->type[k])) != 0) return rc;
        }
    }
    uint32_t li = adj_map_get(dir == GRAPH_UP ? &a->out_map : &a->in_map, node);
    if (li == ADJ_NONE) return 0;
    const adj_list *l = &a->lists[li];
    for (uint32_t i = 0; i < l->n; i++) {
        const adj_ovr *o = &a->ovr[adj_map_get(&a->ovr_map, l->rels[i])];
        if (!adj_type_in(o->type, type_ids, ntypes)) continue;
        if ((rc = fn(arg, o->rel, dir == GRAPH_UP ? o->end : o->start, o->type)) != 0) return rc;
    }
    return 0;
}

/* Live relationships: base entries not overridden plus present overrides. */
size_t graph_adj_count(graph_store *s) {
    graph_adj *a = s->adj;
    if (!a) return 0;
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->live;
    for (size_t k = 0; k < a->nbase; k++)
        if (adj_map_get(&a->ovr_map, a->out.rel[k]) == ADJ_NONE) n++;
    pthread_rwlock_unlock(&a->lock);
    return n;
}
