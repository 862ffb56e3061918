/* graph/cypher_match_order.c - which end a pattern part is matched from. The
 * matcher (cypher_match.c) begins a part at its first node; when the last node
 * is found by a bound variable or the name index and the first only by a scan,
 * it matches the part written the other way round, built here. */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>

/* True when e can be evaluated now: every variable it names is bound, and it
 * holds no pattern or subquery (those are not looked into). */
static bool expr_ready(const cy_expr *e, const cy_part_probe *p)
{
    if (!e)
        return true;
    if (e->k == E_PATTERN || e->k == E_PATCOMP || e->k == E_EXISTS || e->k == E_LISTCOMP || e->k == E_QUANT ||
        e->k == E_REDUCE || e->k == E_MAPPROJ)
        return false;
    if (e->k == E_VAR && !p->bound(p->arg, e->name))
        return false;
    if (!expr_ready(e->a, p) || !expr_ready(e->b, p) || !expr_ready(e->c, p))
        return false;
    for (size_t i = 0; i < e->nargs; i++)
        if (!expr_ready(e->args[i], p))
            return false;
    return true;
}

/* How start_nodes would find a part's end node now: 0 a bound variable (one
 * node), 1 the name index ({name: v}, v computable now), 2 a label scan, 3 every node. */
static int start_rank(const cy_node_pat *np, const cy_part_probe *p)
{
    if (np->var && p->bound(p->arg, np->var))
        return 0;
    if (np->props && np->props->k == E_MAP)
        for (size_t i = 0; i < np->props->nkeys; i++)
            if (strcmp(np->props->keys[i], "name") == 0)
                return expr_ready(np->props->args[i], p) ? 1 : 2 + !np->nlabels;
    return np->nlabels ? 2 : 3;
}

/* Counting stops here: past it, either end is "many". */
#define CY_DEGREE_CAP 4096

/* Both ends of a one-relationship part are one lookup away (bound or named):
 * true when the last has fewer candidate relationships than the first, so
 * `MATCH (r:Model {name: $root})<-[:BASED_ON]-(c:Model {name: $child})` or a
 * MERGE of (parent)<-[:BASED_ON]-(child) between bound nodes expands the
 * child's one or two relationships, not the root's thousands. */
static bool fewer_from_last(const cy_pattern_part *pp, const cy_part_probe *p)
{
    if (pp->nrels != 1 || pp->rels[0].varlen)
        return false;
    const cy_rel_pat *rp = &pp->rels[0];
    cy_dir back = rp->dir == DIR_OUT ? DIR_IN : rp->dir == DIR_IN ? DIR_OUT : DIR_BOTH;
    int64_t from_first = p->degree(p->arg, &pp->nodes[0], rp, rp->dir, CY_DEGREE_CAP);
    if (from_first <= 0)
        return false;
    int64_t from_last = p->degree(p->arg, &pp->nodes[1], rp, back, from_first);
    return from_last >= 0 && from_last < from_first;
}

/* See cypher_int.h. The part written from its other end, when that
 * end is found by a bound variable or a name and the written start only by a
 * scan: `MATCH (d:Model)-[:BASED_ON]->(:Model {name: $n})` then expands the
 * named model's relationships instead of every Model's (12.8 s -> under 10 ms
 * for 543 children in the 1M-model benchmark graph). The matches are the same; only a part whose
 * order shows is kept as written: a path variable, shortestPath, and a
 * variable-length relationship with a variable (its list is in path order).
 * The matcher's reachability walk (one variable-length step) reports each
 * (start, end) pair once either way round, which is all its DISTINCT, min and
 * max aggregates see. Between two ends found alike, fewer_from_last decides. */
cy_pattern_part *cy_part_reversed(const cy_pattern_part *pp, const cy_part_probe *probe)
{
    if (!pp->nrels || pp->pathvar || pp->shortest)
        return NULL;
    for (size_t i = 0; i < pp->nrels; i++)
        if (pp->rels[i].varlen && pp->rels[i].var)
            return NULL;
    int first = start_rank(&pp->nodes[0], probe), last = start_rank(&pp->nodes[pp->nrels], probe);
    if (last > 1)
        return NULL;
    if (last >= first && !(first <= 1 && fewer_from_last(pp, probe)))
        return NULL;
    size_t nn = pp->nrels + 1;
    cy_pattern_part *r = malloc(sizeof *r + nn * sizeof *r->nodes + pp->nrels * sizeof *r->rels);
    if (!r)
        abort();
    *r = *pp;
    r->nodes = (cy_node_pat *)(r + 1);
    r->rels = (cy_rel_pat *)(r->nodes + nn);
    for (size_t i = 0; i < nn; i++)
        r->nodes[i] = pp->nodes[nn - 1 - i];
    for (size_t i = 0; i < pp->nrels; i++) {
        r->rels[i] = pp->rels[pp->nrels - 1 - i];
        r->rels[i].dir = r->rels[i].dir == DIR_OUT ? DIR_IN : r->rels[i].dir == DIR_IN ? DIR_OUT : DIR_BOTH;
    }
    return r;
}
