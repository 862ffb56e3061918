/* graph/cypher_match.c - pattern matching: depth-first search over the store's
 * indexes (name key, label, rels(start,type,end) / rels(end,type,start)).
 * Invariant: within one cy_match call a relationship is used at most once
 * (relationship isomorphism, as openCypher requires for one MATCH). */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct matcher {
    cy_q *q;
    const cy_pattern *pat;
    const cy_env *outer;
    cy_env local;             /* new variables; vals valid where bound[i] */
    bool *bound;
    cy_match_cb cb;
    void *arg;
    int64_t *used;            /* relationship ids in use (stack) */
    size_t nused, capused;
    /* trail of the current part, for named paths */
    int64_t *tnodes;
    cy_rel *trels;
    size_t ntrail, captrail;
    int shortest_len;         /* exact length for shortestPath search, or -1 */
    bool reach;               /* variable-length: each reachable end node once (cy_match_reach) */
    bool found;               /* a shortest path of the current length was found */
    const cy_node_pat *labels_done; /* its labels were checked already (cy_reach_index) */
    const cy_node_pat *scanned;     /* the start node of a label scan: its first label holds */
} matcher;

static int part_step(matcher *m, size_t pi, size_t ri, int64_t cur);
static int next_part(matcher *m, size_t pi);

/* A variable's current value: the local (new) ones when bound, else the outer env. */
static const cy_value *lookup(matcher *m, const char *name, size_t *local_idx)
{
    for (size_t i = 0; i < m->local.n; i++)
        if (strcmp(m->local.names[i], name) == 0) {
            *local_idx = i;
            return m->bound[i] ? &m->local.vals[i] : NULL;
        }
    *local_idx = (size_t)-1;
    return cy_env_get(m->outer, name);
}

/* The env expressions see during matching: only bound locals are visible. */
static cy_env eval_env(matcher *m, const char **names, cy_value *vals)
{
    size_t k = 0;
    for (size_t i = 0; i < m->local.n; i++)
        if (m->bound[i]) {
            names[k] = m->local.names[i];
            vals[k++] = m->local.vals[i];
        }
    return (cy_env){.names = names, .vals = vals, .n = k, .up = m->outer};
}

/* Does the entity's property map satisfy the pattern's {k: v} (by equality)? */
static int props_match(matcher *m, const cy_expr *props, const cy_value *entity, bool *ok)
{
    *ok = true;
    if (!props)
        return 0;
    const char *names[256];
    cy_value vals[256];
    cy_env env = eval_env(m, names, vals);
    cy_value want, have;
    if (cy_eval(m->q, props, &env, &want))
        return -1;
    if (want.t == CV_NULL)
        return 0;
    if (want.t != CV_MAP)
        return cy_rt(m->q, props->pos, "TypeError", "InvalidArgumentType", "pattern properties must be a Map");
    for (size_t i = 0; i < want.u.m->n; i++) {
        const char *k = want.u.m->k[i];
        if (entity->t == CV_NODE ? cy_node_prop(m->q, entity->u.node, k, &have)
                                 : cy_rel_prop(m->q, entity->u.rel->id, k, &have))
            return -1;
        if (cy_equals(&have, &want.u.m->v[i]) != 1) {   /* absent (null) never equals */
            *ok = false;
            return 0;
        }
    }
    return 0;
}

/* props_match for a candidate: what a rejected one read (its property values,
 * the evaluated pattern map) is released, so a scan of a label per row keeps
 * the matches' values, not every candidate's. (The props cache holds its own
 * documents, not arena memory: it stays valid.) */
static int candidate_props_ok(matcher *m, const cy_expr *props, const cy_value *entity, bool *ok)
{
    *ok = true;
    if (!props)
        return 0;
    cy_arena_mark mark = cy_arena_mark_now(&m->q->arena);
    int rc = props_match(m, props, entity, ok);
    if (rc == 0 && !*ok)
        cy_arena_release(&m->q->arena, mark);
    return rc;
}

/* Labels and properties of a node pattern, checked against node id. */
static int node_ok(matcher *m, const cy_node_pat *np, int64_t id, bool *ok)
{
    *ok = true;
    for (size_t i = np == m->scanned; i < np->nlabels && *ok && np != m->labels_done; i++)
        if (cy_node_has_label(m->q, id, np->labels[i], ok))
            return -1;
    if (!*ok)
        return 0;
    cy_value v = cy_node(id);
    return candidate_props_ok(m, np->props, &v, ok);
}

/* Binds (or checks) a node variable, runs k, unbinds. */
static int with_node(matcher *m, const cy_node_pat *np, int64_t id, size_t pi, size_t ri)
{
    bool ok;
    size_t li = (size_t)-1;
    if (np->var) {
        const cy_value *v = lookup(m, np->var, &li);
        if (v) {
            if (v->t != CV_NODE || v->u.node != id)
                return 0;
            li = (size_t)-1; /* already bound: nothing to bind */
        }
    }
    if (node_ok(m, np, id, &ok))
        return -1;
    if (!ok)
        return 0;
    if (li != (size_t)-1) {
        m->local.vals[li] = cy_node(id);
        m->bound[li] = true;
    }
    m->tnodes[ri] = id;
    int rc = part_step(m, pi, ri, id);
    if (li != (size_t)-1)
        m->bound[li] = false;
    return rc;
}

/* Relationship isomorphism: is id already used by this match? */
static bool rel_used(matcher *m, int64_t id)
{
    for (size_t i = 0; i < m->nused; i++)
        if (m->used[i] == id)
            return true;
    return false;
}

/* Marks a relationship as used by the current partial match. */
static void push_used(matcher *m, int64_t id)
{
    if (m->nused == m->capused) {
        m->capused = m->capused ? m->capused * 2 : 16;
        int64_t *nv = cy_alloc(&m->q->arena, m->capused * sizeof *nv);
        if (m->nused)
            cy_memcpy(nv, m->used, m->nused * sizeof *nv);
        m->used = nv;
    }
    m->used[m->nused++] = id;
}

/* Several types [:A|B] are filtered here (one type is filtered in SQL). */
static bool type_ok(const cy_rel_pat *rp, const cy_rel *r)
{
    if (rp->ntypes <= 1)
        return true; /* filtered by SQL */
    for (size_t i = 0; i < rp->ntypes; i++)
        if (strcmp(rp->types[i], r->type) == 0)
            return true;
    return false;
}

/* Candidate relationships from cur for rp, not yet used, with matching props. */
static int candidates(matcher *m, const cy_rel_pat *rp, int64_t cur, cy_rel **rels, size_t *n)
{
    if (cy_expand(m->q, cur, rp->dir, rp->ntypes == 1 ? rp->types[0] : NULL, rels, n))
        return -1;
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        cy_rel *r = &(*rels)[i];
        if (rel_used(m, r->id) || !type_ok(rp, r))
            continue;
        bool ok = true;
        cy_value rv = {.t = CV_REL, .u.rel = r};
        if (candidate_props_ok(m, rp->props, &rv, &ok))
            return -1;
        if (ok)
            (*rels)[w++] = *r;
    }
    *n = w;
    return 0;
}

/* Makes room for trail entry idx (the trail grows with variable-length depth). */
static void ensure_trail(matcher *m, size_t idx)
{
    if (idx < m->captrail)
        return;
    size_t cap = m->captrail * 2 > idx + 1 ? m->captrail * 2 : idx + 16;
    cy_rel *nv = cy_alloc(&m->q->arena, cap * sizeof *nv);
    cy_memcpy(nv, m->trels, m->captrail * sizeof *nv);
    m->trels = nv;
    m->captrail = cap;
}

static int64_t other_end(const cy_rel *r, int64_t cur) { return r->start == cur ? r->end : r->start; }

/* Reachability form of a variable-length step (min <= 1, no variables on the
 * relationship or path): breadth-first, each end node once. A node is reachable
 * by a trail of length <= max iff its shortest walk is that short, and a
 * shortest walk repeats no relationship, so the set of end nodes is exactly the
 * one the depth-first search finds; only duplicates are dropped. */
static int varlen_reach(matcher *m, size_t pi, size_t ri, int64_t start)
{
    const cy_pattern_part *pp = &m->pat->parts[pi];
    const cy_rel_pat *rp = &pp->rels[ri];
    int64_t *emit = NULL;
    size_t nemit = 0;
    bool labels_done = false;
    int via = m->nused ? 1 : cy_reach_index(m->q, rp, &pp->nodes[ri + 1], start, &emit, &nemit, &labels_done);
    if (via <= 0) {
        const cy_node_pat *saved = m->labels_done;
        if (labels_done)
            m->labels_done = &pp->nodes[ri + 1];
        for (size_t i = 0; via == 0 && i < nemit; i++)
            via = with_node(m, &pp->nodes[ri + 1], emit[i], pi, ri + 1);
        m->labels_done = saved;
        free(emit);
        return via;
    }
    cy_idset seen = {0};
    size_t qcap = 1024, qhead = 0, qtail = 0;
    int64_t *queue = malloc(qcap * sizeof *queue), *depth = malloc(qcap * sizeof *depth);
    if (!queue || !depth)
        abort();
    int rc = 0;
    bool start_done = false;
    if (rp->min == 0) {
        start_done = true;
        rc = with_node(m, &pp->nodes[ri + 1], start, pi, ri + 1);
    }
    cy_idset_add(&seen, start);
    queue[qtail] = start;
    depth[qtail++] = 0;
    while (rc == 0 && qhead < qtail) {
        int64_t cur = queue[qhead], d = depth[qhead++];
        if (rp->max >= 0 && d >= rp->max)
            continue;
        if ((rc = cy_check_time(m->q)))
            break;
        cy_rel *rels;
        size_t n;
        if ((rc = candidates(m, rp, cur, &rels, &n)))
            break;
        for (size_t i = 0; i < n && rc == 0; i++) {
            int64_t next = other_end(&rels[i], cur);
            if (next == start && !start_done) {
                start_done = true;
                rc = with_node(m, &pp->nodes[ri + 1], start, pi, ri + 1);
                continue;
            }
            if (!cy_idset_add(&seen, next))
                continue;
            if (qtail == qcap) {
                qcap *= 2;
                int64_t *nq = realloc(queue, qcap * sizeof *nq), *nd = nq ? realloc(depth, qcap * sizeof *nd) : NULL;
                if (!nq || !nd)
                    abort();
                queue = nq;
                depth = nd;
            }
            queue[qtail] = next;
            depth[qtail++] = d + 1;
            rc = with_node(m, &pp->nodes[ri + 1], next, pi, ri + 1);
        }
    }
    free(queue);
    free(depth);
    free(seen.v);
    return rc;
}

/* Variable-length expansion: depth d rels so far in m->trels[base..]. */
static int varlen(matcher *m, size_t pi, size_t ri, int64_t cur, size_t depth, size_t base)
{
    const cy_pattern_part *pp = &m->pat->parts[pi];
    const cy_rel_pat *rp = &pp->rels[ri];
    int64_t min = m->shortest_len >= 0 ? m->shortest_len : rp->min;
    int64_t max = m->shortest_len >= 0 ? m->shortest_len : rp->max;
    if ((int64_t)depth >= min) {
        /* bind the relationship list and continue with the next node */
        size_t li = (size_t)-1;
        const cy_value *bv = rp->var ? lookup(m, rp->var, &li) : NULL;
        cy_value list = cy_null();
        if (rp->var) { /* the list is built only when a variable holds it */
            list = cy_list_new(&m->q->arena, depth);
            for (size_t i = 0; i < depth; i++) {
                cy_rel *r = cy_alloc(&m->q->arena, sizeof *r);
                *r = m->trels[base + i];
                list.u.l->v[i] = (cy_value){.t = CV_REL, .u.rel = r};
            }
        }
        if (!bv || cy_equals(bv, &list) == 1) {
            if (bv)
                li = (size_t)-1;
            if (li != (size_t)-1) {
                m->local.vals[li] = list;
                m->bound[li] = true;
            }
            size_t save = m->ntrail;
            m->ntrail = base + depth;
            int rc = with_node(m, &pp->nodes[ri + 1], cur, pi, ri + 1);
            m->ntrail = save;
            if (li != (size_t)-1)
                m->bound[li] = false;
            if (rc)
                return rc;
        }
    }
    if (max >= 0 && (int64_t)depth >= max)
        return 0;
    if (cy_check_time(m->q))
        return -1;
    if (depth >= CY_MAX_PATH)
        return cy_rt(m->q, rp->pos, "LimitExceeded", "PathTooLong",
                     "a variable-length path longer than %d relationships", CY_MAX_PATH);
    cy_rel *rels;
    size_t n;
    if (candidates(m, rp, cur, &rels, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        ensure_trail(m, base + depth);
        m->trels[base + depth] = rels[i];
        push_used(m, rels[i].id);
        int rc = varlen(m, pi, ri, other_end(&rels[i], cur), depth + 1, base);
        m->nused--;
        if (rc)
            return rc;
    }
    return 0;
}

/* After node ri of part pi is bound to cur: follow relationship ri, or finish the part. */
static int part_step(matcher *m, size_t pi, size_t ri, int64_t cur)
{
    const cy_pattern_part *pp = &m->pat->parts[pi];
    if (ri == pp->nrels) {
        /* the part is complete: bind its path variable */
        size_t li = (size_t)-1;
        if (pp->pathvar && lookup(m, pp->pathvar, &li) == NULL && li != (size_t)-1) {
            cy_value pv = {.t = CV_PATH};
            pv.u.path = cy_alloc(&m->q->arena, sizeof *pv.u.path);
            /* trail: tnodes[k] is pattern node k; trels holds every traversed rel in order */
            size_t nr = m->ntrail;
            pv.u.path->nrels = nr;
            pv.u.path->nodes = cy_alloc(&m->q->arena, (nr + 1) * sizeof(int64_t));
            pv.u.path->rels = cy_alloc(&m->q->arena, (nr ? nr : 1) * sizeof(cy_rel));
            int64_t at = m->tnodes[0];
            pv.u.path->nodes[0] = at;
            for (size_t i = 0; i < nr; i++) {
                pv.u.path->rels[i] = m->trels[i];
                at = other_end(&m->trels[i], at);
                pv.u.path->nodes[i + 1] = at;
            }
            m->local.vals[li] = pv;
            m->bound[li] = true;
            int rc = next_part(m, pi + 1);
            m->bound[li] = false;
            return rc;
        }
        return next_part(m, pi + 1);
    }
    const cy_rel_pat *rp = &pp->rels[ri];
    if (m->reach && rp->varlen && m->shortest_len < 0)
        return varlen_reach(m, pi, ri, cur);
    if (rp->varlen || m->shortest_len >= 0)
        return varlen(m, pi, ri, cur, 0, m->ntrail);
    cy_rel *rels;
    size_t n;
    if (candidates(m, rp, cur, &rels, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t li = (size_t)-1;
        cy_value rv = {.t = CV_REL, .u.rel = &rels[i]};
        if (rp->var) {
            const cy_value *bv = lookup(m, rp->var, &li);
            if (bv) {
                if (bv->t != CV_REL || bv->u.rel->id != rels[i].id)
                    continue;
                li = (size_t)-1;
            }
        }
        if (li != (size_t)-1) {
            m->local.vals[li] = rv;
            m->bound[li] = true;
        }
        push_used(m, rels[i].id);
        size_t save = m->ntrail;
        ensure_trail(m, m->ntrail);
        m->trels[m->ntrail++] = rels[i];
        int rc = with_node(m, &pp->nodes[ri + 1], other_end(&rels[i], cur), pi, ri + 1);
        m->ntrail = save;
        m->nused--;
        if (li != (size_t)-1)
            m->bound[li] = false;
        if (rc)
            return rc;
    }
    return 0;
}

/* The node pattern np by one lookup: its bound variable, or the name index
 * for a {name: v} whose v is a string. 1: found that way (*ids malloc'd, maybe
 * empty: freed by the caller, also after an error); 0: it needs a scan; -1: error. */
static int lookup_nodes(matcher *m, const cy_node_pat *np, int64_t **ids, size_t *n)
{
    size_t li;
    const cy_value *v = np->var ? lookup(m, np->var, &li) : NULL;
    *ids = NULL;
    *n = 0;
    if (v) {
        if (!(*ids = malloc(sizeof **ids)))
            abort();
        if (v->t == CV_NODE)
            (*ids)[(*n)++] = v->u.node;
        else if (v->t != CV_NULL)
            return cy_rt(m->q, np->pos, "TypeError", "VariableTypeConflict", "variable `%s` is not a node", np->var);
        return 1;
    }
    if (np->props && np->props->k == E_MAP) {
        for (size_t i = 0; i < np->props->nkeys; i++)
            if (strcmp(np->props->keys[i], "name") == 0) {
                const char *names[256];
                cy_value vals[256], name;
                cy_env env = eval_env(m, names, vals);
                if (cy_eval(m->q, np->props->args[i], &env, &name))
                    return -1;
                if (name.t == CV_STR)
                    return cy_scan_name(m->q, name.u.s.p, ids, n) ? -1 : 1;
                break;
            }
    }
    return 0;
}

/* The first and the largest page of a label (or all-nodes) scan: a match that
 * stops at its first rows reads 64 ids, a full scan one statement per 4,096. */
#define SCAN_FIRST_PAGE 64
#define SCAN_MAX_PAGE 4096

/* Start nodes of a part: a bound variable, the name index, a label, or all.
 * *ids is malloc'd (cy_scan_nodes), freed by the caller, also after an error.
 * *page is 0 when *ids is every start node, else the size of the scan page
 * *ids is (fewer ids than that: the last page). */
static int start_nodes(matcher *m, const cy_node_pat *np, int64_t **ids, size_t *n, size_t *page)
{
    *page = 0;
    int rc = lookup_nodes(m, np, ids, n);
    if (rc)
        return rc < 0 ? -1 : 0;
    *page = SCAN_FIRST_PAGE;
    return cy_scan_nodes(m->q, np->nlabels ? np->labels[0] : NULL, INT64_MIN, *page, ids, n);
}

/* cy_part_reversed's view of the matcher: is this variable bound now? */
static bool var_bound(void *arg, const char *name)
{
    size_t li;
    return lookup(arg, name, &li) != NULL;
}

/* end_degree's count (-1: unknown, possibly with an error raised). */
static int64_t probe_degree(matcher *m, const cy_node_pat *np, const cy_rel_pat *rp, cy_dir dir, int64_t cap)
{
    int64_t *ids, total = 0;
    size_t n;
    if (lookup_nodes(m, np, &ids, &n) != 1) {
        free(ids);
        return -1;
    }
    const char *type = rp->ntypes == 1 ? rp->types[0] : NULL;
    for (size_t i = 0; i < n && total < cap; i++) {
        int64_t d;
        if (cy_degree(m->q, ids[i], dir, type, cap, &d)) {
            total = -1;
            break;
        }
        total += d;
    }
    free(ids);
    return total;
}

/* cy_part_reversed's other question (cypher_int.h, cy_part_probe): the
 * relationships rp could take from the node np finds by its bound variable or
 * its name, counted up to cap; -1 when that cannot be told. A probe that
 * fails (the name's expression raises, say) leaves no error behind: the query
 * then goes as written and raises it only if matching evaluates it. */
static int64_t end_degree(void *arg, const cy_node_pat *np, const cy_rel_pat *rp, cy_dir dir, int64_t cap)
{
    matcher *m = arg;
    bool failed_before = m->q->failed;
    int64_t total = probe_degree(m, np, rp, dir, cap);
    if (total < 0 && !failed_before)
        m->q->failed = false;
    return total;
}

static int match_part_as(matcher *m, size_t pi);

/* Matches pattern part pi, from whichever end cy_part_reversed picks: a
 * reversed part is matched through a copy of the pattern (freed after). */
static int match_part(matcher *m, size_t pi)
{
    cy_part_probe probe = {.bound = var_bound, .degree = end_degree, .arg = m};
    cy_pattern_part *rev = cy_part_reversed(&m->pat->parts[pi], &probe);
    if (!rev)
        return match_part_as(m, pi);
    const cy_pattern *orig = m->pat;
    cy_pattern_part *parts = malloc(orig->n * sizeof *parts);
    if (!parts)
        abort();
    memcpy(parts, orig->parts, orig->n * sizeof *parts);
    parts[pi] = *rev;
    cy_pattern copy = {orig->n, parts};
    m->pat = &copy;
    int rc = match_part_as(m, pi);
    m->pat = orig;
    free(parts);
    free(rev);
    return rc;
}

/* Matches pattern part pi from one start node. */
static int match_part_from(matcher *m, size_t pi, int64_t start)
{
    const cy_pattern_part *pp = &m->pat->parts[pi];
    if (!pp->shortest)
        return with_node(m, &pp->nodes[0], start, pi, 0);
    /* iterative deepening: the first length with a match wins */
    const cy_rel_pat *rp = &pp->rels[0];
    int64_t max = rp->max < 0 ? 64 : rp->max;
    int rc = 0;
    for (int64_t len = rp->varlen ? rp->min : 1; len <= max && !rc; len++) {
        m->shortest_len = (int)len;
        m->found = false;
        rc = with_node(m, &pp->nodes[0], start, pi, 0);
        if (m->found)
            break;
    }
    m->shortest_len = -1;
    return rc == 2 ? 0 : rc;
}

/* Matches pattern part pi from each of its start nodes, a scan page at a time. */
static int match_part_as(matcher *m, size_t pi)
{
    const cy_pattern_part *pp = &m->pat->parts[pi];
    const char *label = pp->nodes[0].nlabels ? pp->nodes[0].labels[0] : NULL;
    int64_t *ids = NULL;
    size_t n, page;
    if (start_nodes(m, &pp->nodes[0], &ids, &n, &page)) {
        free(ids);
        return -1;
    }
    cy_scan_page outer = m->q->scan;   /* a scan inside a scan gives the page back after */
    if (page && n)
        cy_scan_page_set(m->q, label, ids[n - 1]);
    const cy_node_pat *outer_scanned = m->scanned;
    m->scanned = page && label ? &pp->nodes[0] : NULL;
    m->tnodes = cy_alloc(&m->q->arena, (pp->nrels + 1) * sizeof *m->tnodes);
    m->captrail = pp->nrels + 16;
    m->trels = cy_alloc(&m->q->arena, m->captrail * sizeof *m->trels);
    m->ntrail = 0;
    int rc = 0;
    for (;;) {
        for (size_t i = 0; i < n && !rc; i++) {
            m->q->scan.cur = ids[i];
            rc = cy_check_time(m->q) ? -1 : match_part_from(m, pi, ids[i]);
        }
        if (rc || !page || n < page)
            break;
        int64_t after = ids[n - 1];   /* a full page: there may be more */
        free(ids);
        page = page * 4 < SCAN_MAX_PAGE ? page * 4 : SCAN_MAX_PAGE;
        if (cy_scan_nodes(m->q, label, after, page, &ids, &n)) {
            rc = -1;
            break;
        }
        if (n)
            cy_scan_page_set(m->q, label, ids[n - 1]);
    }
    m->q->scan = outer;
    m->scanned = outer_scanned;
    free(ids);
    return rc;
}

/* Moves to the next part, or reports a complete match to the callback. */
static int next_part(matcher *m, size_t pi)
{
    if (pi < m->pat->n) {
        /* each part has its own trail; save the current one */
        int64_t *tn = m->tnodes;
        cy_rel *tr = m->trels;
        size_t nt = m->ntrail, ct = m->captrail;
        int sl = m->shortest_len;
        m->shortest_len = -1;
        int rc = match_part(m, pi);
        m->tnodes = tn;
        m->trels = tr;
        m->ntrail = nt;
        m->captrail = ct;
        m->shortest_len = sl;
        return rc;
    }
    if (m->shortest_len >= 0) {
        bool all = m->pat->parts[0].shortest == 2;
        if (m->found && !all)
            return 2;
        m->found = true;
    }
    const char *names[256];
    cy_value vals[256];
    cy_env env = eval_env(m, names, vals);
    int rc = m->cb(m->q, m->arg, &env);
    if (rc == 0 && m->shortest_len >= 0 && m->pat->parts[0].shortest == 1)
        return 2; /* shortestPath: one path per start node */
    return rc;
}

/* New variables of pat relative to env, in order of appearance. */
size_t cy_pattern_vars(cy_arena *a, const cy_pattern *pat, const cy_env *env, const char ***out)
{
    size_t cap = 8, n = 0;
    const char **v = cy_alloc(a, cap * sizeof *v);
    for (size_t p = 0; p < pat->n; p++) {
        const cy_pattern_part *pp = &pat->parts[p];
        for (size_t i = 0; i <= 2 * pp->nrels + 1; i++) {
            const char *name = i == 2 * pp->nrels + 1 ? pp->pathvar : (i % 2 == 0 ? pp->nodes[i / 2].var : pp->rels[i / 2].var);
            if (!name || cy_env_get(env, name))
                continue;
            size_t k;
            for (k = 0; k < n && strcmp(v[k], name) != 0; k++)
                ;
            if (k < n)
                continue;
            if (n == cap) {
                const char **nv = cy_alloc(a, cap * 2 * sizeof *nv);
                cy_memcpy(nv, v, n * sizeof *nv);
                v = nv;
                cap *= 2;
            }
            v[n++] = name;
        }
    }
    *out = v;
    return n;
}

/* Can pat be matched by reachability (each end node once) when duplicates of
 * its rows do not matter? One part, one variable-length relationship with
 * min <= 1 and no variable on it or on the path. */
bool cy_match_reach_ok(const cy_pattern *pat)
{
    if (pat->n != 1)
        return false;
    const cy_pattern_part *pp = &pat->parts[0];
    return pp->nrels == 1 && pp->rels[0].varlen && !pp->rels[0].var && !pp->pathvar && !pp->shortest &&
           pp->rels[0].min <= 1;
}

/* Returns 0 when done, 1 when the callback asked to stop, -1 on error. With
 * reach, duplicate rows of a variable-length step are dropped (see varlen_reach). */
int cy_match_ex(cy_q *q, const cy_pattern *pat, const cy_env *env, bool reach, cy_match_cb cb, void *arg)
{
    matcher m = {.q = q, .pat = pat, .outer = env, .cb = cb, .arg = arg, .shortest_len = -1, .reach = reach};
    m.local.n = cy_pattern_vars(&q->arena, pat, env, &m.local.names);
    if (m.local.n > 200)
        return cy_rt(q, -1, "SemanticError", "PatternTooLarge", "too many variables in a pattern");
    m.local.vals = cy_alloc(&q->arena, (m.local.n + 1) * sizeof *m.local.vals);
    m.bound = cy_alloc(&q->arena, m.local.n + 1);
    int rc = next_part(&m, 0);
    return rc < 0 ? -1 : rc == 1 ? 1 : 0;
}

/* Plain matching (every row, duplicates included). */
int cy_match(cy_q *q, const cy_pattern *pat, const cy_env *env, cy_match_cb cb, void *arg)
{
    return cy_match_ex(q, pat, env, false, cb, arg);
}
