/*
 * graph/cypher_agg.h - aggregation state and the hash set used for grouping
 * and DISTINCT (keys are cy_key() equivalence strings).
 */
#ifndef DSGRAPH_GRAPH_CYPHER_AGG_H
#define DSGRAPH_GRAPH_CYPHER_AGG_H

#include "cypher_int.h"

typedef struct cy_hslot { const char *key; size_t len; uint64_t hash; size_t index; } cy_hslot;
typedef struct cy_hset { cy_hslot *slots; size_t cap, count; } cy_hset;

size_t cy_hset_put(cy_q *q, cy_hset *h, const char *key, size_t len, bool *fresh);
void cy_hset_free(cy_hset *h);
/* True the first time a row of these n values is put in h (DISTINCT, UNION):
 * rows are the same when every value has the same cy_key(). */
bool cy_hset_row_fresh(cy_q *q, cy_hset *h, const cy_value *vals, size_t n);

/* One aggregate of one group. */
typedef struct cy_agg {
    int64_t count, isum;
    double fsum, dsum, pct;
    bool is_float, has;
    cy_value best;
    cy_value *vals;
    size_t nvals, capvals;
    cy_hset seen;             /* DISTINCT */
} cy_agg;

int cy_agg_step(cy_q *q, const cy_expr *e, cy_agg *a, const cy_value *args);
cy_value cy_agg_result(cy_q *q, const cy_expr *e, cy_agg *a);
void cy_agg_free(cy_agg *a);

#endif
