/*
 * graph/adjacency_int.h - what adjacency.c and adjacency_nodes.c share: the
 * index's state and the writer-side steps each calls in the other. Internal
 * to those two files (everyone else uses adjacency.h).
 */
#ifndef DSGRAPH_ADJACENCY_INT_H
#define DSGRAPH_ADJACENCY_INT_H

#include "adjacency.h"
#include "key_index.h"
#include "store_internal.h"

#include <pthread.h>
#include <stdatomic.h>

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

/* adjacency.c: appends id to a touched-id list; on OOM sets touch_oom. */
void adj_touch(graph_adj *a, int64_t **list, size_t *n, size_t *cap, int64_t id);

/* adjacency_nodes.c, writer side (write lock held, or before readers see the
 * index). Builds read every row; applies re-read one touched node. */
gs_status adj_build_labels(graph_adj *a, graph_store *w, gs_error *err);
bool adj_apply_labels(graph_adj *a, int64_t n);
gs_status adj_build_names(graph_adj *a, graph_store *w, gs_error *err);
bool adj_apply_name(graph_adj *a, int64_t n);

#endif
