/*
 * graph/export_page.h - whole entities a page at a time, for exporters
 * (core/plugin_export.c's ctx:nodes / ctx:rels iterators).
 *
 * A page is up to GRAPH_PAGE_MAX nodes or relationships after a given id, in
 * id order, each with what an exporter sees of it: labels, stored props text
 * and aliases (nodes), type and ends (relationships), and, when asked, every
 * claim on it (provenance.h). It is read with a handful of range statements
 * per page instead of several statements per entity, into plain C arrays: no
 * JSON trees, so turning a page into Lua values is one pass in the caller.
 *
 * Invariants:
 *   - entities are in ascending id order, all with id > after, and a page
 *     holds every such entity up to its last one (the next page starts
 *     after pg->ent[pg->n - 1].id); pg->done says no entity follows;
 *   - a page stops growing once its props text passes GRAPH_PAGE_BYTES
 *     (it always holds at least one entity), so memory is bounded by that
 *     or by one entity, however big the graph;
 *   - strings are NUL-terminated copies, valid until the next read or free;
 *     an entity's labels (aliases, claims of one list) are consecutive;
 *   - claims keep the order of the claim statements prov_claims_of uses:
 *     entity claims by import, property claims by key then oldest first,
 *     alias claims in alias order then by import.
 * Call inside one read snapshot (the exporter's), or pages may disagree.
 */
#ifndef DSGRAPH_GRAPH_EXPORT_PAGE_H
#define DSGRAPH_GRAPH_EXPORT_PAGE_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GRAPH_PAGE_MAX 256
#define GRAPH_PAGE_BYTES (8u << 20)

typedef enum { GRAPH_CLAIM_ENTITY, GRAPH_CLAIM_PROPERTY, GRAPH_CLAIM_ALIAS, GRAPH_CLAIM__LISTS } graph_claim_list;

/* One claim: who asserted the entity (effect "created"; "updated": the import changed
 * an entity that existed; "asserted": it named one that existed, unchanged), a property
 * value (per key, oldest first: the last is what reads show unless a direct write changed
 * it since), or an alias. */
typedef struct graph_page_claim {
    int64_t import;        /* 0: a direct write */
    const char *effect;    /* entity claims: "created", "updated" or "asserted" (static text) */
    uint32_t key, value;   /* property claims: string indexes (value: canonical JSON text) */
    uint32_t alias;        /* alias claims: string index */
} graph_page_claim;

typedef struct graph_page_ent {
    int64_t id;
    int64_t start, end;           /* relationships */
    uint32_t type;                /* relationships: string index */
    uint32_t props;               /* string index: the stored props text */
    uint32_t labels, nlabels;     /* nodes: the first label's string index, how many */
    uint32_t aliases, naliases;   /* nodes: the same for aliases, oldest first */
    uint32_t claims[GRAPH_CLAIM__LISTS], nclaims[GRAPH_CLAIM__LISTS];   /* index into pg->claims[list] */
} graph_page_ent;

typedef struct graph_page {
    graph_page_ent ent[GRAPH_PAGE_MAX];
    int n;
    bool done;                    /* no entity after ent[n - 1] */
    graph_page_claim *claims[GRAPH_CLAIM__LISTS];
    uint32_t nclaims[GRAPH_CLAIM__LISTS], cclaims[GRAPH_CLAIM__LISTS];
    uint32_t *str_off, *str_len;  /* string i is buf + str_off[i], str_len[i] bytes */
    uint32_t nstr, cstr;
    char *buf;
    size_t len, cap;
} graph_page;

/* Reads the page of nodes (rels false) or relationships after id `after`:
 * of label (type) filter when not NULL, with claims when asked. pg must be
 * zeroed before its first read; it is reused (and its strings replaced) by
 * each read. On error the page is empty. */
gs_status graph_page_read(graph_store *s, bool rels, const char *filter, int64_t after, bool claims, graph_page *pg,
                          gs_error *err);

/* String i of the page (NUL-terminated); len may be NULL. */
const char *graph_page_str(const graph_page *pg, uint32_t i, size_t *len);

/* Entity i's props as a JSON object, parsed as every store read parses them. */
json_t *graph_page_props(const graph_page *pg, int i, gs_error *err);

void graph_page_free(graph_page *pg);

#endif
