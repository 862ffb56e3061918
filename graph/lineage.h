/*
 * graph/lineage.h - lineage (ancestors/descendants) with its reply built as
 * JSON text directly, and result modes that skip what the caller did not ask for.
 *
 * graph_lineage() (store.h) is the jansson form of the FULL mode; the daemon uses
 * graph_lineage_text(), which copies each node's stored canonical property text
 * into the reply instead of parsing it and encoding it again.
 */
#ifndef DSGRAPH_GRAPH_LINEAGE_H
#define DSGRAPH_GRAPH_LINEAGE_H

#include "store.h"

typedef enum graph_lineage_mode {
    GRAPH_LINEAGE_FULL = 0,   /* {"root":{"$node"},"nodes":[{"$node",depth}],"relationships":[{"$rel"}]} */
    GRAPH_LINEAGE_COUNT,      /* {"root":{"$node"},"count":N,"relationships":M} */
    GRAPH_LINEAGE_FIELDS      /* {"root":{"$node"},"count":N,"nodes":[{"id","depth","properties":{picked}}]} */
} graph_lineage_mode;

typedef struct graph_lineage_opts {
    graph_direction dir;
    const char *const *types;   /* NULL/0: BASED_ON, DISTILLED_FROM */
    size_t ntypes;
    int max_depth;              /* <= 0: unlimited */
    graph_lineage_mode mode;
    const char *const *fields;  /* FIELDS mode: property keys to copy (missing ones are left out) */
    size_t nfields;
    size_t max_nodes;           /* > 0: a walk that reaches more nodes than this (the root too), or
                                 * more than twice as many relationships, stops with GS_LIMIT and no
                                 * text, and so does one the in-memory index cannot serve (the loop
                                 * thread's bound, core/server_jobs.c); 0: none */
} graph_lineage_opts;

/* Runs the BFS in one read snapshot and returns the result object as compact
 * JSON text (malloc'd, NUL-terminated; *len without the NUL). */
gs_status graph_lineage_text(graph_store *s, int64_t root, const graph_lineage_opts *o, char **out, size_t *len,
                             gs_error *err);

/* One node as {"$node":{"id":..,"labels":[..],"properties":{..}}} text (malloc'd,
 * NUL-terminated), built from the stored canonical property text: node.get's
 * result without a jansson round trip. GS_NOT_FOUND if there is no such node. */
gs_status graph_node_text(graph_store *s, int64_t id, char **out, size_t *len, gs_error *err);

#endif
