/* graph/cypher_reach.c - the breadth-first walk behind a reachability step
 * (`[:T*]` matched each end node once, cypher_match.c's varlen_reach) over the
 * daemon's in-memory adjacency index (adjacency.h), and the id set both walks
 * (this one and the SQLite one) keep their visited nodes in. */
#include "cypher_int.h"
#include "adjacency.h"

#include <stdlib.h>

/* Adds id to the set; false when it was already there. */
bool cy_idset_add(cy_idset *s, int64_t id)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *nv = malloc(cap * sizeof *nv);
        if (!nv)
            abort();
        for (size_t i = 0; i < cap; i++)
            nv[i] = INT64_MIN;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i] != INT64_MIN) {
                size_t j = (size_t)((uint64_t)s->v[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
                while (nv[j] != INT64_MIN)
                    j = (j + 1) & (cap - 1);
                nv[j] = s->v[i];
            }
        free(s->v);
        s->v = nv;
        s->cap = cap;
    }
    size_t j = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->v[j] != INT64_MIN) {
        if (s->v[j] == id)
            return false;
        j = (j + 1) & (s->cap - 1);
    }
    s->v[j] = id;
    s->n++;
    return true;
}

/* Breadth-first state of varlen_reach over the adjacency index: the queue
 * (node, depth) and, in order, the end nodes to report (each once). */
typedef struct adj_bfs {
    cy_idset seen;
    int64_t *node, *depth;
    size_t qhead, qtail, qcap;
    int64_t *emit;
    size_t nemit, cemit;
    int64_t start, d;
    bool start_done;
} adj_bfs;

/* Appends to a malloc'd int64 array, doubling it (aborts on OOM like idset). */
static void push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        int64_t *nv = realloc(*v, *cap * sizeof *nv);
        if (!nv)
            abort();
        *v = nv;
    }
    (*v)[(*n)++] = x;
}

/* Appends (node, depth) to the queue; both arrays grow together. */
static void bfs_enqueue(adj_bfs *b, int64_t node, int64_t depth)
{
    if (b->qtail == b->qcap) {
        b->qcap = b->qcap ? b->qcap * 2 : 1024;
        int64_t *nn = realloc(b->node, b->qcap * sizeof *nn);
        if (nn)
            b->node = nn;
        int64_t *nd = nn ? realloc(b->depth, b->qcap * sizeof *nd) : NULL;
        if (!nd)
            abort();
        b->depth = nd;
    }
    b->node[b->qtail] = node;
    b->depth[b->qtail++] = depth;
}

/* graph_adj_each callback: the same discovery rule as the SQLite loop of
 * varlen_reach (the start node is reported once when a cycle reaches it). */
static int adj_bfs_visit(void *arg, int64_t rel, int64_t other, int type_id)
{
    (void)rel;
    adj_bfs *b = arg;
    if (other == b->start) {
        if (!b->start_done) {
            b->start_done = true;
            push_i64(&b->emit, &b->nemit, &b->cemit, other);
        }
        return 0;
    }
    if (!cy_idset_add(&b->seen, other))
        return 0;
    bfs_enqueue(b, other, b->d + 1);
    push_i64(&b->emit, &b->nemit, &b->cemit, other);
    return 0;
}

/* See cypher_int.h. The whole reachable set is collected under the index's
 * read lock and handed back after graph_adj_end, so no SQL or nested match
 * runs while the lock is held. */
int cy_reach_index(cy_q *q, const cy_rel_pat *rp, const cy_node_pat *end, int64_t start, int64_t **emit, size_t *nemit,
                   bool *labels_done)
{
    graph_store *s = q->store;
    *labels_done = false;
    if (rp->ntypes == 0 || rp->props || rp->ntypes > 64 || !graph_adj_begin(s))
        return 1;
    int tids[64];
    size_t nt = 0;
    for (size_t i = 0; i < rp->ntypes; i++) {
        int t = graph_adj_type_id(s, rp->types[i]);
        if (t >= 0)
            tids[nt++] = t;
    }
    adj_bfs b = {.start = start, .start_done = rp->min == 0};
    if (rp->min == 0)
        push_i64(&b.emit, &b.nemit, &b.cemit, start);
    cy_idset_add(&b.seen, start);
    bfs_enqueue(&b, start, 0);
    int rc = 0;
    while (nt && b.qhead < b.qtail) {
        int64_t cur = b.node[b.qhead];
        b.d = b.depth[b.qhead++];
        if (rp->max >= 0 && b.d >= rp->max)
            continue;
        if ((rc = cy_check_time(q)))
            break;
        if (rp->dir != DIR_IN)
            graph_adj_each(s, cur, GRAPH_UP, tids, nt, adj_bfs_visit, &b);
        if (rp->dir != DIR_OUT)
            graph_adj_each(s, cur, GRAPH_DOWN, tids, nt, adj_bfs_visit, &b);
    }
    /* the end node's labels, under the same lock: `(d:Model)` on every reached node */
    uint64_t want = 0;
    bool none = false;
    *labels_done = rc == 0;
    for (size_t i = 0; i < end->nlabels && *labels_done; i++) {
        int bit = graph_adj_label_bit(s, end->labels[i]);
        if (bit == GRAPH_ADJ_LABEL_UNINDEXED)
            *labels_done = false;
        else if (bit == GRAPH_ADJ_LABEL_NONE)
            none = true;
        else
            want |= (uint64_t)1 << bit;
    }
    if (*labels_done && end->nlabels) {
        size_t w = 0;
        for (size_t i = 0; i < b.nemit && !none; i++)
            if ((graph_adj_node_labels(s, b.emit[i]) & want) == want)
                b.emit[w++] = b.emit[i];
        b.nemit = w;
    }
    graph_adj_end(s);
    free(b.node);
    free(b.depth);
    free(b.seen.v);
    if (rc) {
        free(b.emit);
        return -1;
    }
    *emit = b.emit;
    *nemit = b.nemit;
    return 0;
}
