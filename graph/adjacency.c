/*
 * graph/adjacency.c - the in-memory adjacency index (design and the snapshot
 * rule: adjacency.h). One graph_adj per database, shared by the writer
 * connection (which keeps it current) and the readers (which walk it under a
 * read lock).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* pthread_rwlockattr_setkind_np: writers must not starve behind lineage readers */
#endif
#include "adjacency.h"
#include "key_index.h"
#include "store_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ADJ_NONE UINT32_MAX
#define ADJ_MAX_LABELS 64
#define ADJ_MAX_ID ((int64_t)UINT32_MAX - 2)

/* One direction of the base: entries of node n are [off[n], off[n+1]). */
typedef struct adj_csr {
    uint32_t *off, *other, *rel;
    uint16_t *type;
} adj_csr;

/* A relationship changed since the base was built: its current state. */
typedef struct adj_ovr {
    int64_t rel, start, end;
    int type;
    bool present;
} adj_ovr;

/* int64 -> uint32 open-addressing map (vals[i] == ADJ_NONE: empty slot). */
typedef struct adj_map {
    int64_t *keys;
    uint32_t *vals;
    size_t cap, len;
} adj_map;

/* The override rel ids touching one node in one direction. */
typedef struct adj_list {
    int64_t *rels;
    uint32_t n, cap;
} adj_list;

struct graph_adj {
    pthread_rwlock_t lock;
    atomic_uint_fast64_t seq;     /* applied commits that changed rels */
    atomic_bool usable;           /* base built and writer attached */
    atomic_bool stale;            /* a commit bypassed gs_adj_commit_*: wait for the next one */
    char **types;                 /* type id -> name */
    size_t ntypes;
    uint32_t nmax;                /* base covers node ids 0..nmax */
    size_t nbase;
    adj_csr out, in;              /* out: by start (UP); in: by end (DOWN) */
    adj_ovr *ovr;
    size_t novr, covr, live;
    adj_map ovr_map;              /* rel id -> index in ovr */
    adj_map out_map, in_map;      /* node id -> index in lists */
    adj_list *lists;
    size_t nlists, clists;
    /* node labels: bit i of labels[n] says node n has label lnames[i]; the first
     * ADJ_MAX_LABELS label names get a bit, later ones are "not indexed" */
    uint64_t *labels;
    size_t nlabels_cap;           /* node ids 0..nlabels_cap-1 have an entry */
    char *lnames[ADJ_MAX_LABELS];
    size_t nlnames;
    bool lnames_full;             /* a label name got no bit */
    /* node names: name_at[n] is 0 (no "name" property) or 1 + the offset in npool of
     * a uint32 length and the value's canonical JSON text, as stored in props */
    uint32_t *name_at;
    size_t nnames_cap;
    char *npool;
    size_t npool_len, npool_cap, npool_dead;
    key_index keys;               /* nodes.name_key hashes -> node ids (key_index.h), kept with the names */
    bool names_ok;                /* names and keys built, and every write since applied */
    /* writer side: only the writer thread touches these */
    graph_store *writer;
    sqlite3_stmt *get, *lget, *nget;
    int64_t *touched, *ltouched, *ntouched_nodes;  /* rels rows / label nodes / nodes rows this transaction touched */
    size_t ntouched, ctouched, nltouched, cltouched, nntouched, cntouched;
    bool touch_oom, in_commit;
};

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
static gs_status adj_build_labels(graph_adj *a, graph_store *w, gs_error *err) {
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
static bool adj_apply_labels(graph_adj *a, int64_t n) {
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

/* SQL function the writer's TEMP triggers on node_labels call: remembers the
 * node whose labels this transaction touched (WITHOUT ROWID tables get no
 * update hook). */
static void adj_label_touch(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    graph_adj *a = sqlite3_user_data(ctx);
    if (a->nltouched == a->cltouched) {
        size_t ncap = a->cltouched ? a->cltouched * 2 : 64;
        int64_t *nt = realloc(a->ltouched, ncap * sizeof *nt);
        if (!nt) {
            a->touch_oom = true;
            return;
        }
        a->ltouched = nt;
        a->cltouched = ncap;
    }
    a->ltouched[a->nltouched++] = sqlite3_value_int64(argv[0]);
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
static gs_status adj_build_names(graph_adj *a, graph_store *w, gs_error *err) {
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
static bool adj_apply_name(graph_adj *a, int64_t n) {
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

/* Appends to a touched-id list; false (and oom noted) when memory is short. */
static void adj_touch(graph_adj *a, int64_t **list, size_t *n, size_t *cap, int64_t id) {
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

static const char adj_label_triggers[] =
    "CREATE TEMP TRIGGER IF NOT EXISTS dsg_adj_nl_ins AFTER INSERT ON main.node_labels "
    "BEGIN SELECT dsg_adj_label_touch(NEW.node_id); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS dsg_adj_nl_del AFTER DELETE ON main.node_labels "
    "BEGIN SELECT dsg_adj_label_touch(OLD.node_id); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS dsg_adj_nl_upd AFTER UPDATE ON main.node_labels "
    "BEGIN SELECT dsg_adj_label_touch(OLD.node_id); SELECT dsg_adj_label_touch(NEW.node_id); END;";

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
    if (r == GS_OK && sqlite3_create_function(w->db, "dsg_adj_label_touch", 1, SQLITE_UTF8, a, adj_label_touch,
                                              NULL, NULL) != SQLITE_OK)
        r = gs_sqlfail(w, err, "adjacency index: registering the label hook");
    if (r == GS_OK) r = gs_exec(w, adj_label_triggers, err);
    if (r == GS_OK) {
        a->writer = w;
        a->ntouched = a->nltouched = a->nntouched = 0;
        w->adj = a;
        w->adj_writer = true;
        sqlite3_update_hook(w->db, adj_on_update, a);
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
        sqlite3_rollback_hook(s->db, NULL, NULL);
        sqlite3_commit_hook(s->db, NULL, NULL);
        sqlite3_exec(s->db, "DROP TRIGGER IF EXISTS temp.dsg_adj_nl_ins; DROP TRIGGER IF EXISTS temp.dsg_adj_nl_del;"
                            "DROP TRIGGER IF EXISTS temp.dsg_adj_nl_upd;", NULL, NULL, NULL);
        sqlite3_create_function(s->db, "dsg_adj_label_touch", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
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

/* True if t is one of the wanted type ids. */
static bool adj_type_in(int t, const int *ids, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == t) return true;
    return false;
}

/* Neighbours of node: base entries not overridden, then live overrides. */
int graph_adj_each(graph_store *s, int64_t node, graph_direction dir, const int *type_ids, size_t ntypes,
                   int (*fn)(void *arg, int64_t rel, int64_t other), void *arg) {
    graph_adj *a = s->adj;
    const adj_csr *c = dir == GRAPH_UP ? &a->out : &a->in;
    int rc;
    if (c->off && node >= 0 && node <= (int64_t)a->nmax) {
        for (uint32_t k = c->off[node]; k < c->off[node + 1]; k++) {
            if (!adj_type_in(c->type[k], type_ids, ntypes)) continue;
            if (a->novr && adj_map_get(&a->ovr_map, c->rel[k]) != ADJ_NONE) continue;
            if ((rc = fn(arg, c->rel[k], c->other[k])) != 0) return rc;
        }
    }
    uint32_t li = adj_map_get(dir == GRAPH_UP ? &a->out_map : &a->in_map, node);
    if (li == ADJ_NONE) return 0;
    const adj_list *l = &a->lists[li];
    for (uint32_t i = 0; i < l->n; i++) {
        const adj_ovr *o = &a->ovr[adj_map_get(&a->ovr_map, l->rels[i])];
        if (!adj_type_in(o->type, type_ids, ntypes)) continue;
        if ((rc = fn(arg, o->rel, dir == GRAPH_UP ? o->end : o->start)) != 0) return rc;
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
