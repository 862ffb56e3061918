/* graph/cypher_project.c - WITH and RETURN: projection, grouping and
 * aggregation, DISTINCT, ORDER BY, SKIP, LIMIT and WITH ... WHERE. */
#include "cypher_agg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Collects the aggregate calls of e (not descending into them), assigning slots. */
static void collect_aggs(const cy_expr *e, cy_expr ***list, size_t *n, size_t *cap)
{
    if (!e)
        return;
    if (e->is_agg) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            cy_expr **nv = realloc(*list, *cap * sizeof *nv);
            if (!nv)
                abort();
            *list = nv;
        }
        ((cy_expr *)e)->agg_slot = (int)*n;
        (*list)[(*n)++] = (cy_expr *)e;
        return;
    }
    collect_aggs(e->a, list, n, cap);
    collect_aggs(e->b, list, n, cap);
    collect_aggs(e->c, list, n, cap);
    for (size_t i = 0; i < e->nargs; i++)
        collect_aggs(e->args[i], list, n, cap);
}

/* Input columns that an aggregating item reads outside its aggregate calls
 * (`{k: a.x, v: collect(b)}` reads `a`): openCypher groups by them implicitly. */
static void collect_free_cols(const cy_expr *e, const char **names, size_t ncols, bool *used)
{
    if (!e || e->is_agg)
        return;
    if (e->k == E_VAR && e->name)
        for (size_t i = 0; i < ncols; i++)
            if (strcmp(names[i], e->name) == 0)
                used[i] = true;
    collect_free_cols(e->a, names, ncols, used);
    collect_free_cols(e->b, names, ncols, used);
    collect_free_cols(e->c, names, ncols, used);
    for (size_t i = 0; i < e->nargs; i++)
        collect_free_cols(e->args[i], names, ncols, used);
}

/* One output row with what ORDER BY and WHERE need to see. */
typedef struct prow {
    cy_value *vals;          /* projected columns */
    cy_value *src;           /* input row (or the group's first row) */
    cy_value *aggs;          /* the group's aggregate results, or NULL */
    cy_value *keys;          /* sort keys */
    size_t idx;              /* input order: ties keep it (a stable sort) */
} prow;

/* qsort_r comparator; ctx is the clause (no globals: queries run on several threads). */
static int prow_cmp(const void *x, const void *y, void *ctx)
{
    const cy_clause *sc = ctx;
    const prow *a = x, *b = y;
    for (size_t i = 0; i < sc->nsorts; i++) {
        int c = cy_order(&a->keys[i], &b->keys[i]);
        if (c)
            return sc->sorts[i].desc ? -c : c;
    }
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* SKIP/LIMIT: a constant non-negative integer. A parameter of the wrong type or
 * sign is a SyntaxError raised at run time, as the TCK classes it. */
static int count_arg(cy_q *q, const cy_expr *e, const char *what, int64_t *out)
{
    cy_value v;
    if (cy_eval(q, e, NULL, &v))
        return -1;
    if (v.t != CV_INT)
        return cy_rt(q, e->pos, "SyntaxError", "InvalidArgumentType", "%s must be an Integer, got %s", what, cy_type_name(&v));
    if (v.u.i < 0)
        return cy_rt(q, e->pos, "SyntaxError", "NegativeIntegerArgument", "%s must not be negative", what);
    *out = v.u.i;
    return 0;
}

/* Item list of the clause, with `*` expanded to the input's variables (sorted). */
static size_t expand_items(cy_q *q, const cy_clause *c, const cy_rows *in, cy_item **out)
{
    size_t n = c->nitems + (c->star ? in->ncols : 0), k = 0;
    cy_item *items = cy_alloc(&q->arena, (n ? n : 1) * sizeof *items);
    if (c->star) {
        for (size_t i = 0; i < in->ncols; i++) {
            if (in->names[i][0] == ' ')
                continue; /* hidden internal column */
            cy_expr *e = cy_alloc(&q->arena, sizeof *e);
            e->k = E_VAR;
            e->name = in->names[i];
            size_t j = k;
            while (j > 0 && strcmp(items[j - 1].alias, e->name) > 0) {
                items[j] = items[j - 1];
                j--;
            }
            items[j] = (cy_item){.e = e, .alias = e->name};
            k++;
        }
    }
    for (size_t i = 0; i < c->nitems; i++)
        items[k++] = c->items[i];
    *out = items;
    return k;
}

/* The state of one WITH/RETURN while rows stream in (cy_proj_begin/row/end). */
struct cy_proj {
    const cy_clause *c;
    cy_rows in;               /* names only (rows are not kept unless needed) */
    cy_item *items;
    size_t ni;
    cy_expr **aggs;
    size_t nagg, capagg;
    bool grouping;
    prow *rows;
    size_t nrows, caprows;
    cy_hset groups;
    cy_agg *states;
    size_t capstates;
    cy_value *keyvals;
    size_t *implicit;         /* input columns grouped on implicitly (collect_free_cols) */
    size_t nimplicit;
    /* A window (cy_proj_windowed): SKIP/LIMIT applied as rows arrive, so rows
     * outside it are never evaluated and the producer may stop once it is full. */
    bool window;
    bool window_set;          /* skip and limit evaluated (at the first row; also a top-k's) */
    int64_t skip, limit;      /* limit -1: none */
    int64_t seen;             /* input rows offered so far (with DISTINCT: new rows) */
    cy_hset distinct_seen;    /* a DISTINCT window's rows so far (distinct_window_row) */
    /* Every aggregate keeps numbers only (count, sum, avg, not DISTINCT), so a
     * row that adds to an existing group leaves nothing behind in the arena:
     * `RETURN m.tag, count(*)` over a million rows keeps a row per group. */
    bool forgets_rows;
    /* A top-k (topk_row): ORDER BY with LIMIT and no grouping or DISTINCT
     * keeps only the SKIP + LIMIT best rows, in a heap whose root is the worst. */
    bool topk;
    const char **out_names;   /* the items' aliases: what ORDER BY sees first */
};

/* Appends an empty output row to the projection state. */
static prow *push_prow(cy_proj *st)
{
    if (st->nrows == st->caprows) {
        st->caprows = st->caprows ? st->caprows * 2 : 64;
        prow *nv = realloc(st->rows, st->caprows * sizeof *nv);
        if (!nv)
            abort();
        st->rows = nv;
    }
    prow *p = &st->rows[st->nrows++];
    memset(p, 0, sizeof *p);
    return p;
}

/* Appends an output row (grouped or not) with room for its values. */
static prow *new_prow(cy_q *q, cy_proj *st)
{
    prow *p = push_prow(st);
    p->vals = cy_alloc(&q->arena, (st->ni ? st->ni : 1) * sizeof *p->vals);
    return p;
}

/* Starts a projection over rows with the given columns. */
cy_proj *cy_proj_begin(cy_q *q, const cy_clause *c, const char **names, size_t ncols)
{
    cy_proj *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    st->c = c;
    st->in.names = names;
    st->in.ncols = ncols;
    st->ni = expand_items(q, c, &st->in, &st->items);
    for (size_t i = 0; i < st->ni; i++)
        collect_aggs(st->items[i].e, &st->aggs, &st->nagg, &st->capagg);
    st->grouping = st->nagg > 0;
    st->window = cy_proj_windowed(c) && !c->nsorts;
    st->topk = cy_proj_windowed(c) && c->nsorts;
    st->out_names = cy_alloc(&q->arena, (st->ni ? st->ni : 1) * sizeof *st->out_names);
    for (size_t i = 0; i < st->ni; i++)
        st->out_names[i] = st->items[i].alias;
    if (st->grouping)
        for (size_t i = 0; i < c->nsorts; i++)
            collect_aggs(c->sorts[i].e, &st->aggs, &st->nagg, &st->capagg);
    st->forgets_rows = true;
    for (size_t a = 0; a < st->nagg; a++) {
        const cy_expr *e = st->aggs[a];
        if (e->k != E_COUNTSTAR && (e->distinct || (strcasecmp(e->name, "count") != 0 &&
                                                    strcasecmp(e->name, "sum") != 0 && strcasecmp(e->name, "avg") != 0)))
            st->forgets_rows = false;
    }
    st->keyvals = cy_alloc(&q->arena, (st->ni ? st->ni : 1) * sizeof *st->keyvals);
    if (st->grouping && ncols) {
        bool *used = cy_alloc(&q->arena, ncols * sizeof *used);
        for (size_t i = 0; i < st->ni; i++)
            if (cy_expr_has_agg(st->items[i].e))
                collect_free_cols(st->items[i].e, names, ncols, used);
        st->implicit = cy_alloc(&q->arena, ncols * sizeof *st->implicit);
        for (size_t i = 0; i < ncols; i++)
            if (used[i])
                st->implicit[st->nimplicit++] = i;
    }
    return st;
}

bool cy_proj_aggregates(const cy_proj *st) { return st->grouping; }

bool cy_proj_copies_rows(const cy_proj *st) { return st->grouping || st->topk || (st->window && st->c->distinct); }

/* A window's SKIP and LIMIT, evaluated at its first row. */
static int window_init(cy_q *q, cy_proj *st)
{
    if (st->window_set)
        return 0;
    st->limit = -1;
    if ((st->c->skip && count_arg(q, st->c->skip, "SKIP", &st->skip)) ||
        (st->c->limit && count_arg(q, st->c->limit, "LIMIT", &st->limit)))
        return -1;
    st->window_set = true;
    return 0;
}

/* The projected columns of an input row, into vals. */
static int eval_items(cy_q *q, const cy_proj *st, cy_value *row, cy_value *vals)
{
    cy_env env = {.names = st->in.names, .vals = row, .n = st->in.ncols};
    for (size_t i = 0; i < st->ni; i++)
        if (cy_eval(q, st->items[i].e, &env, &vals[i]))
            return -1;
    return 0;
}

/* A copy of an input row in the arena (the producer's may be scratch memory). */
static cy_value *copy_row(cy_q *q, const cy_proj *st, const cy_value *row)
{
    cy_value *c = cy_alloc(&q->arena, (st->in.ncols ? st->in.ncols : 1) * sizeof *c);
    cy_memcpy(c, row, st->in.ncols * sizeof *row);
    return c;
}

/* cy_proj_row for a DISTINCT window: row may be scratch memory (copied when
 * kept); a row seen before gives back what its evaluation took. */
static int distinct_window_row(cy_q *q, cy_proj *st, cy_value *row)
{
    if (window_init(q, st))
        return -1;
    if (st->limit >= 0 && st->seen - st->skip >= st->limit)
        return 1;
    cy_arena_mark mark = cy_arena_mark_now(&q->arena);
    cy_value *vals = cy_alloc(&q->arena, (st->ni ? st->ni : 1) * sizeof *vals);
    if (eval_items(q, st, row, vals))
        return -1;
    if (!cy_hset_row_fresh(q, &st->distinct_seen, vals, st->ni)) {
        cy_arena_release(&q->arena, mark);   /* the set keeps nothing of a row it had */
        return 0;
    }
    if (st->seen++ < st->skip)
        return 0;
    prow *p = push_prow(st);
    p->vals = vals;
    p->src = copy_row(q, st, row);
    return st->limit >= 0 && st->seen - st->skip >= st->limit ? 1 : 0;
}

/* The ORDER BY keys of an output row. Keys see the projected columns first, then
 * the input row; an ORDER BY expression written like a projected one uses its
 * column. */
static int prow_keys(cy_q *q, const cy_proj *st, prow *p)
{
    const cy_clause *c = st->c;
    cy_env src = {.names = st->in.names, .vals = p->src, .n = p->src && !c->distinct ? st->in.ncols : 0};
    cy_env env = {.names = st->out_names, .vals = p->vals, .n = st->ni, .up = &src};
    p->keys = cy_alloc(&q->arena, c->nsorts * sizeof *p->keys);
    q->agg_results = p->aggs;
    for (size_t s = 0; s < c->nsorts; s++) {
        const cy_expr *se = c->sorts[s].e;
        size_t i;
        for (i = 0; i < st->ni; i++)
            if (st->items[i].e->end - st->items[i].e->pos == se->end - se->pos && se->end > se->pos &&
                memcmp(q->text + st->items[i].e->pos, q->text + se->pos, (size_t)(se->end - se->pos)) == 0)
                break;
        if (i < st->ni)
            p->keys[s] = p->vals[i];
        else if (cy_eval(q, se, &env, &p->keys[s])) {
            q->agg_results = NULL;
            return -1;
        }
    }
    q->agg_results = NULL;
    return 0;
}

/* Moves heap entry i down to its place (the root is the worst row kept). */
static void heap_down(prow *h, size_t n, size_t i, const cy_clause *c)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && prow_cmp(&h[l], &h[w], (void *)c) > 0)
            w = l;
        if (r < n && prow_cmp(&h[r], &h[w], (void *)c) > 0)
            w = r;
        if (w == i)
            return;
        prow t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* cy_proj_row for a top-k: row may be scratch memory (copied when kept). A row
 * that does not make the SKIP + LIMIT best gives back what its evaluation took. */
static int topk_row(cy_q *q, cy_proj *st, cy_value *row)
{
    if (window_init(q, st))   /* a top-k always has a LIMIT */
        return -1;
    int64_t k = st->limit > INT64_MAX - st->skip ? INT64_MAX : st->skip + st->limit;
    if (k == 0)
        return 1;   /* LIMIT 0 keeps nothing, whatever the order */
    cy_arena_mark mark = cy_arena_mark_now(&q->arena);
    prow p = {.src = row, .idx = (size_t)st->seen++};
    p.vals = cy_alloc(&q->arena, (st->ni ? st->ni : 1) * sizeof *p.vals);
    if (eval_items(q, st, row, p.vals) || prow_keys(q, st, &p))
        return -1;
    bool full = (int64_t)st->nrows >= k;
    if (full && prow_cmp(&p, &st->rows[0], (void *)st->c) >= 0) {
        cy_arena_release(&q->arena, mark);   /* not among the best: forget it */
        return 0;
    }
    p.src = copy_row(q, st, row);
    if (full) {
        st->rows[0] = p;
        heap_down(st->rows, st->nrows, 0, st->c);
        return 0;
    }
    *push_prow(st) = p;
    for (size_t i = st->nrows - 1; i > 0;) {   /* up to its place */
        size_t parent = (i - 1) / 2;
        if (prow_cmp(&st->rows[i], &st->rows[parent], (void *)st->c) <= 0)
            break;
        prow t = st->rows[i];
        st->rows[i] = st->rows[parent];
        st->rows[parent] = t;
        i = parent;
    }
    return 0;
}

/* See cypher_int.h. Without grouping or ORDER BY, the rows a SKIP/LIMIT keeps
 * are the first ones (the first new ones, with DISTINCT) in arrival order, so
 * they can be picked on arrival;
 * with ORDER BY and a LIMIT they are the SKIP + LIMIT first in sort order, so a
 * heap of that many is enough (topk_row). (WITH ... WHERE filters what LIMIT
 * kept, in cy_proj_end, so it does not matter.) */
bool cy_proj_windowed(const cy_clause *c)
{
    if ((c->k != C_WITH && c->k != C_RETURN) || (!c->skip && !c->limit) || (c->nsorts && (!c->limit || c->distinct)))
        return false;
    for (size_t i = 0; i < c->nitems; i++)
        if (cy_expr_has_agg(c->items[i].e))
            return false;
    return true;
}

/* See cypher_int.h: lets MATCH drop duplicate rows. */
bool cy_proj_duplicate_free(const cy_proj *st)
{
    for (size_t a = 0; a < st->nagg; a++) {
        const cy_expr *e = st->aggs[a];
        if (e->k == E_COUNTSTAR)
            return false;
        if (!e->distinct && strcasecmp(e->name, "min") != 0 && strcasecmp(e->name, "max") != 0)
            return false;
    }
    return st->grouping;
}

/* Adds one input row. When aggregating, row may be scratch memory: only the
 * first row of each group is copied (it is the group's representative). */
int cy_proj_row(cy_q *q, cy_proj *st, cy_value *row)
{
    if (cy_check_time(q))
        return -1;
    if (st->topk)
        return topk_row(q, st, row);
    cy_env env = {.names = st->in.names, .vals = row, .n = st->in.ncols};
    if (!st->grouping) {
        if (st->window && st->c->distinct)
            return distinct_window_row(q, st, row);
        if (st->window) {
            if (window_init(q, st))
                return -1;
            int64_t at = st->seen++;
            if (st->limit >= 0 && at - st->skip >= st->limit)
                return 1;   /* LIMIT 0, or a producer that went on */
            if (at < st->skip)
                return 0;
        }
        prow *p = new_prow(q, st);
        p->src = row;
        if (eval_items(q, st, row, p->vals))
            return -1;
        return st->window && st->limit >= 0 && st->seen - st->skip >= st->limit ? 1 : 0;
    }
    cy_arena_mark mark = cy_arena_mark_now(&q->arena);
    cy_buf key = {0};
    for (size_t i = 0; i < st->ni; i++) {
        if (cy_expr_has_agg(st->items[i].e))
            continue;
        if (cy_eval(q, st->items[i].e, &env, &st->keyvals[i])) {
            free(key.p);
            return -1;
        }
        cy_key(&key, &st->keyvals[i]);
        cy_buf_add(&key, "|", 1);
    }
    for (size_t i = 0; i < st->nimplicit; i++) {
        cy_key(&key, &row[st->implicit[i]]);
        cy_buf_add(&key, "|", 1);
    }
    bool fresh;
    size_t g = cy_hset_put(q, &st->groups, key.p ? key.p : "", key.len, &fresh);
    free(key.p);
    size_t nagg = st->nagg;
    if (fresh) {
        prow *p = new_prow(q, st);
        p->src = copy_row(q, st, row);
        cy_memcpy(p->vals, st->keyvals, st->ni * sizeof *st->keyvals);
        if ((g + 1) * nagg > st->capstates) {
            size_t nc = st->capstates ? st->capstates * 2 : 64;
            while (nc < (g + 1) * nagg)
                nc *= 2;
            cy_agg *ns = realloc(st->states, nc * sizeof *ns);
            if (!ns)
                abort();
            memset(ns + st->capstates, 0, (nc - st->capstates) * sizeof *ns);
            st->states = ns;
            st->capstates = nc;
        }
    }
    for (size_t a = 0; a < nagg; a++) {
        cy_value args[2] = {cy_null(), cy_null()};
        for (size_t k = 0; k < st->aggs[a]->nargs && k < 2; k++)
            if (cy_eval(q, st->aggs[a]->args[k], &env, &args[k]))
                return -1;
        if (cy_agg_step(q, st->aggs[a], &st->states[g * nagg + a], args))
            return -1;
    }
    if (!fresh && st->forgets_rows)
        cy_arena_release(&q->arena, mark);   /* nothing of this row was kept */
    return 0;
}

/* Frees a projection state (its values live in the arena). */
static void proj_free(cy_proj *st)
{
    if (st->states)
        for (size_t i = 0; i < st->capstates; i++)
            cy_agg_free(&st->states[i]);
    free(st->states);
    free(st->rows);
    free(st->aggs);
    cy_hset_free(&st->groups);
    cy_hset_free(&st->distinct_seen);
    free(st);
}

/* Projection of a materialised table (WITH/RETURN not fed by a stream). */
int cy_project(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    cy_proj *st = cy_proj_begin(q, c, in->names, in->ncols);
    for (size_t r = 0; r < in->n; r++) {
        int rc = cy_proj_row(q, st, in->rows[r]);
        if (rc < 0) {
            cy_proj_abort(st);
            return -1;
        }
        if (rc > 0)
            break;   /* the window is full */
    }
    return cy_proj_end(q, st, out);
}

void cy_proj_abort(cy_proj *st) { proj_free(st); }

/* Finishes: aggregate values, DISTINCT, ORDER BY, SKIP/LIMIT, WHERE. Frees st. */
int cy_proj_end(cy_q *q, cy_proj *st, cy_rows *out)
{
    const cy_clause *c = st->c;
    cy_rows *in = &st->in;
    cy_item *items = st->items;
    size_t ni = st->ni, nagg = st->nagg;
    cy_expr **aggs = st->aggs;
    int rc = -1;
    out->ncols = ni;
    out->names = cy_alloc(&q->arena, (ni ? ni : 1) * sizeof *out->names);
    for (size_t i = 0; i < ni; i++)
        out->names[i] = items[i].alias;
    if (st->grouping) {
        bool has_keys = st->nimplicit > 0;
        for (size_t i = 0; i < ni; i++)
            has_keys |= !cy_expr_has_agg(items[i].e);
        if (st->nrows == 0 && !has_keys) {
            /* aggregation over no rows gives one row (count 0, collect []) */
            new_prow(q, st);
            st->states = calloc(nagg ? nagg : 1, sizeof *st->states);
            st->capstates = nagg;
        }
        for (size_t g = 0; g < st->nrows; g++) {
            prow *p = &st->rows[g];
            p->aggs = cy_alloc(&q->arena, (nagg ? nagg : 1) * sizeof *p->aggs);
            for (size_t a = 0; a < nagg; a++)
                p->aggs[a] = cy_agg_result(q, aggs[a], &st->states[g * nagg + a]);
            q->agg_results = p->aggs;
            cy_env env = {.names = in->names, .vals = p->src, .n = p->src ? in->ncols : 0};
            for (size_t i = 0; i < ni; i++)
                if (cy_expr_has_agg(items[i].e) && cy_eval(q, items[i].e, &env, &p->vals[i])) {
                    q->agg_results = NULL;
                    goto done;
                }
            q->agg_results = NULL;
        }
    }
    prow *rows = st->rows;
    size_t nrows = st->nrows;
    /* DISTINCT */
    if (c->distinct) {
        cy_hset seen = {0};
        size_t w = 0;
        for (size_t r = 0; r < nrows; r++)
            if (cy_hset_row_fresh(q, &seen, rows[r].vals, ni))
                rows[w++] = rows[r];
        cy_hset_free(&seen);
        nrows = w;
    }
    /* ORDER BY (a top-k has its keys and input order already) */
    if (c->nsorts) {
        for (size_t r = 0; r < nrows && !st->topk; r++) {
            if (prow_keys(q, st, &rows[r]))
                goto done;
            rows[r].idx = r;
        }
        if (nrows > 1)
            qsort_r(rows, nrows, sizeof *rows, prow_cmp, (void *)c);
    }
    int64_t skip = 0, limit = -1;
    if (st->topk && st->window_set) {   /* the best SKIP + LIMIT rows, sorted: apply both */
        skip = st->skip;
        limit = st->limit;
    } else if (!st->window_set) {   /* when set, the rows kept are the window already */
        if (c->skip && count_arg(q, c->skip, "SKIP", &skip))
            goto done;
        if (c->limit && count_arg(q, c->limit, "LIMIT", &limit))
            goto done;
    }
    int64_t taken = 0;
    for (size_t r = (size_t)(skip < (int64_t)nrows ? skip : (int64_t)nrows); r < nrows; r++) {
        if (limit >= 0 && taken >= limit)
            break;
        taken++;
        if (c->where) {
            cy_env src = {.names = in->names, .vals = rows[r].src, .n = rows[r].src ? in->ncols : 0};
            cy_env env = {.names = out->names, .vals = rows[r].vals, .n = ni, .up = &src};
            int t = cy_eval_pred(q, c->where, &env);
            if (t == -2)
                goto done;
            if (t != 1)
                continue;
        }
        if (cy_rows_add(q, out, rows[r].vals))
            goto done;
    }
    rc = 0;
done:
    q->agg_results = NULL;
    proj_free(st);
    return rc;
}
