/*
 * graph/lineage_int.h - what graph/lineage.c (the reply) needs from
 * graph/lineage_walk.c (the walk). Internal to graph/.
 */
#ifndef DSGRAPH_GRAPH_LINEAGE_INT_H
#define DSGRAPH_GRAPH_LINEAGE_INT_H

#include "store_internal.h"
#include "lineage.h"

/* A node the walk reached, at its smallest depth (the root: 0). */
typedef struct gs_visit {
    int64_t id;
    int depth;
} gs_visit;

/* A relationship the walk traversed, as stored: its type is types[type] of
 * the walk's types (the stored text is exactly that string). */
typedef struct gs_step {
    int64_t rel, start, end;
    int type;
} gs_step;

/* Breadth-first from root along the given relationship types (deduplicated,
 * at least one) in direction o->dir, at most o->max_depth steps: through the
 * in-memory adjacency index when it matches the caller's read snapshot, else
 * over SQLite's rels_start / rels_end indexes. *visits gets the reached nodes,
 * root first, each once; *steps every traversed relationship, once each
 * (malloc'd, in walk order). With o->max_nodes (the loop thread's bound),
 * GS_LIMIT once the walk outgrows it, and at once when the index cannot serve. */
gs_status gs_lineage_walk(graph_store *s, int64_t root, const graph_lineage_opts *o, const char *const *types,
                          size_t ntypes, gs_visit **visits, size_t *nvisits, gs_step **steps, size_t *nsteps,
                          gs_error *err);

#endif
