/* graph/cypher_exec.c - runs a checked query: each clause maps a table of rows
 * (one value per variable in scope) to the next; UNION joins single queries.
 * Rows are materialised clause by clause (Cypher's write clauses need it),
 * except that a MATCH streams into a following WITH/RETURN, and stops when a
 * SKIP/LIMIT window is full. */
#include "cypher_int.h"
#include "cypher_agg.h"

#include <stdlib.h>
#include <string.h>

/* Appends a row; the row limit applies to every intermediate table. */
int cy_rows_add(cy_q *q, cy_rows *r, cy_value *row)
{
    if (q->max_rows > 0 && (int64_t)r->n >= q->max_rows)
        return cy_rt(q, -1, "LimitExceeded", "RowLimit", "the query produced more than %lld rows (query_max_rows)",
                     (long long)q->max_rows);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        cy_value **nv = cy_alloc(&q->arena, cap * sizeof *nv);
        if (r->n)
            cy_memcpy(nv, r->rows, r->n * sizeof *nv);
        r->rows = nv;
        r->cap = cap;
    }
    r->rows[r->n++] = row;
    return 0;
}

typedef struct match_ctx {
    const cy_clause *c;
    cy_rows *out;
    cy_proj *sink;            /* when set, rows go to an aggregating or windowed projection */
    cy_value *scratch;
    const cy_value *in_row;
    size_t nin;
    bool any;
} match_ctx;

/* One match: apply WHERE, then emit input row + new variables. */
static int match_cb(cy_q *q, void *arg, const cy_env *env)
{
    match_ctx *m = arg;
    if (m->c->where) {
        int t = cy_eval_pred(q, m->c->where, env);
        if (t == -2)
            return -1;
        if (t != 1)
            return 0;
    }
    cy_value *row = m->scratch ? m->scratch : cy_alloc(&q->arena, (m->out->ncols ? m->out->ncols : 1) * sizeof *row);
    cy_memcpy(row, m->in_row, m->nin * sizeof *row);
    for (size_t i = m->nin; i < m->out->ncols; i++) {
        const cy_value *v = cy_env_get(env, m->out->names[i]);
        row[i] = v ? *v : cy_null();
    }
    m->any = true;
    if (m->sink)
        return cy_proj_row(q, m->sink, row);   /* 1: a full window, the match stops */
    return cy_rows_add(q, m->out, row) ? -1 : 0;
}

/* The output columns of a clause that adds variables to the input's. */
void cy_rows_extend(cy_q *q, const cy_rows *in, const char *const *extra, size_t nextra, cy_rows *out)
{
    out->ncols = in->ncols + nextra;
    out->names = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *out->names);
    cy_memcpy(out->names, in->names, in->ncols * sizeof *in->names);
    cy_memcpy(out->names + in->ncols, extra, nextra * sizeof *extra);
}

/* The output columns of MATCH, CREATE or MERGE: the input's plus the pattern's
 * new variables. */
void cy_rows_extend_pattern(cy_q *q, const cy_rows *in, const cy_pattern *pat, cy_rows *out)
{
    cy_value *dummy = cy_alloc(&q->arena, (in->ncols ? in->ncols : 1) * sizeof *dummy);
    cy_env names_env = {.names = in->names, .vals = dummy, .n = in->ncols};
    const char **extra;
    size_t nextra = cy_pattern_vars(&q->arena, pat, &names_env, &extra);
    cy_rows_extend(q, in, extra, nextra, out);
}

/* MATCH; with next (the WITH/RETURN after it) its rows stream into the
 * projection and *out receives the projection's result instead: the match rows
 * are never a table of their own, and a projection reads the properties of a
 * scanned node while its scan page is current (cypher_prefetch.c). A windowed
 * one that is full ends the match: `MATCH (m:Model) RETURN m LIMIT 3` matches
 * three rows, not every Model. */
static int run_match(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out, const cy_clause *next)
{
    cy_rows_extend_pattern(q, in, &c->pat, out);
    cy_proj *sink = next ? cy_proj_begin(q, next, out->names, out->ncols) : NULL;
    bool reach = sink && cy_proj_duplicate_free(sink) && cy_match_reach_ok(&c->pat);
    /* a sink that copies what it keeps (cy_proj_copies_rows) is given scratch memory; a plain window keeps the row */
    cy_value *scratch = sink && cy_proj_copies_rows(sink)
                            ? cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *scratch) : NULL;
    for (size_t r = 0; r < in->n; r++) {
        cy_env env = {.names = in->names, .vals = in->rows[r], .n = in->ncols};
        match_ctx m = {.c = c, .out = out, .sink = sink, .scratch = scratch, .in_row = in->rows[r], .nin = in->ncols};
        int rc = cy_match_ex(q, &c->pat, &env, reach, match_cb, &m);
        if (rc == 0 && !m.any && c->optional) {
            cy_value *row = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *row);
            cy_memcpy(row, in->rows[r], in->ncols * sizeof *row);
            rc = sink ? cy_proj_row(q, sink, row) : cy_rows_add(q, out, row);
        }
        if (rc < 0) {
            if (sink)
                cy_proj_abort(sink);
            return -1;
        }
        if (rc > 0)
            break;   /* only a full window stops a match */
    }
    if (sink) {
        *out = (cy_rows){0};
        return cy_proj_end(q, sink, out);
    }
    return 0;
}

/* Is c a WITH/RETURN that aggregates (so its input need not be materialised)? */
static bool aggregating(const cy_clause *c)
{
    if (c->k != C_WITH && c->k != C_RETURN)
        return false;
    for (size_t i = 0; i < c->nitems; i++)
        if (cy_expr_has_agg(c->items[i].e))
            return true;
    return false;
}

/* UNWIND: one row per list element (null gives none, a scalar one). */
static int run_unwind(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    cy_rows_extend(q, in, &c->var, 1, out);
    for (size_t r = 0; r < in->n; r++) {
        cy_env env = {.names = in->names, .vals = in->rows[r], .n = in->ncols};
        cy_value v;
        if (cy_eval(q, c->expr, &env, &v))
            return -1;
        size_t n = v.t == CV_LIST ? v.u.l->n : v.t == CV_NULL ? 0 : 1;
        for (size_t i = 0; i < n; i++) {
            cy_value *row = cy_alloc(&q->arena, out->ncols * sizeof *row);
            cy_memcpy(row, in->rows[r], in->ncols * sizeof *row);
            row[in->ncols] = v.t == CV_LIST ? v.u.l->v[i] : v;
            if (cy_rows_add(q, out, row))
                return -1;
        }
        if (cy_check_time(q))
            return -1;
    }
    return 0;
}

static int run_clauses(cy_q *q, const cy_single *s, cy_rows cur, cy_rows *result, bool *returned);

/* FOREACH (x IN list | clauses): for each row, the body runs once per element
 * on a one-row table (the row and x), in list order, so each element's writes
 * are seen by the next (MERGE); the rows go on unchanged. A null list runs
 * nothing; anything else that is not a list is a TypeError. */
static int run_foreach(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    *out = *in;
    cy_rows one = {0};
    cy_rows_extend(q, in, &c->var, 1, &one);
    cy_buf *prof = q->prof;
    q->prof = NULL;   /* PROFILE shows FOREACH as one step */
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < in->n; r++) {
        cy_env env = {.names = in->names, .vals = in->rows[r], .n = in->ncols};
        cy_value list;
        if ((rc = cy_eval(q, c->expr, &env, &list)))
            break;
        if (list.t == CV_NULL)
            continue;
        if (list.t != CV_LIST) {
            rc = cy_rt(q, c->expr->pos, "TypeError", "InvalidArgumentType", "FOREACH needs a list");
            break;
        }
        for (size_t i = 0; rc == 0 && i < list.u.l->n; i++) {
            cy_value *row = cy_alloc(&q->arena, one.ncols * sizeof *row);
            cy_memcpy(row, in->rows[r], in->ncols * sizeof *row);
            row[in->ncols] = list.u.l->v[i];
            cy_rows cur = {.names = one.names, .ncols = one.ncols};
            cy_rows done;
            bool returned;
            rc = cy_rows_add(q, &cur, row) || run_clauses(q, c->body, cur, &done, &returned) || cy_check_time(q) ? -1 : 0;
        }
    }
    q->prof = prof;
    return rc;
}

/* CALL { body }: the body runs once per row, in order (so it sees the writes
 * made for the rows before), from that row when it starts with WITH (the
 * importing WITH projects what it needs) and from an empty row otherwise or
 * for CALL () (sema keeps the outer names out of it). Each row it returns extends the
 * input row; a body without RETURN passes the row on unchanged. */
static int run_call_subquery(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    const cy_clause *end = &c->body->cl[c->body->n - 1];
    bool unit = end->k != C_RETURN, imports = c->body->cl[0].k == C_WITH && !c->no_import;
    if (unit) {
        *out = *in;
    } else {
        const char **extra = cy_alloc(&q->arena, (end->nitems ? end->nitems : 1) * sizeof *extra);
        for (size_t j = 0; j < end->nitems; j++)
            extra[j] = end->items[j].alias;
        cy_rows_extend(q, in, extra, end->nitems, out);
    }
    cy_buf *prof = q->prof;
    q->prof = NULL;   /* PROFILE shows the CALL as one step */
    int rc = 0;
    cy_value *empty = cy_alloc(&q->arena, sizeof *empty);
    for (size_t r = 0; rc == 0 && r < in->n; r++) {
        cy_rows start = {0}, res;
        bool returned;
        if (imports) {
            start.names = in->names;
            start.ncols = in->ncols;
        }
        rc = cy_rows_add(q, &start, imports ? in->rows[r] : empty) || run_clauses(q, c->body, start, &res, &returned)
                 ? -1 : 0;
        for (size_t k = 0; rc == 0 && !unit && k < res.n; k++) {
            cy_value *row = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *row);
            cy_memcpy(row, in->rows[r], in->ncols * sizeof *row);
            cy_memcpy(row + in->ncols, res.rows[k], end->nitems * sizeof *row);
            rc = cy_rows_add(q, out, row);
        }
        if (rc == 0)
            rc = cy_check_time(q);
    }
    q->prof = prof;
    return rc;
}

/* Runs the clauses of one single query in order, from the rows in cur. */
static int run_clauses(cy_q *q, const cy_single *s, cy_rows cur, cy_rows *result, bool *returned)
{
    *returned = false;
    for (size_t i = 0; i < s->n; i++) {
        const cy_clause *c = &s->cl[i];
        cy_rows next = {0};
        int rc;
        struct timespec t0, t1;
        const cy_clause *first = c; /* c moves on when a MATCH feeds its projection */
        if (q->prof)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        switch (c->k) {
        case C_MATCH: {
            const cy_clause *nx = i + 1 < s->n ? &s->cl[i + 1] : NULL;
            const cy_clause *proj = nx && (nx->k == C_WITH || nx->k == C_RETURN) ? nx : NULL;
            rc = run_match(q, c, &cur, &next, proj);
            if (proj) {
                c = proj; /* the projection ran too */
                i++;
            }
            break;
        }
        case C_UNWIND: rc = run_unwind(q, c, &cur, &next); break;
        case C_FOREACH: rc = run_foreach(q, c, &cur, &next); break;
        case C_CALL: rc = c->body ? run_call_subquery(q, c, &cur, &next) : cy_run_call(q, c, &cur, &next); break;
        case C_WITH:
        case C_RETURN: rc = cy_project(q, c, &cur, &next); break;
        default: rc = cy_write_clause(q, c, &cur, &next); break;
        }
        if (rc)
            return -1;
        if (q->prof) {
            static const char *names[] = CY_CLAUSE_NAMES;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
            cy_buf_printf(q->prof, "%s[\"%s%s%s\",%zu,", q->prof->len ? "," : "", first->optional ? "Optional" : "",
                          names[first->k],
                          c == first ? "" : aggregating(c) ? "+Aggregate" : c->k == C_WITH ? "+With" : "+Return", next.n);
            cy_out_float(q->prof, ms);
            cy_buf_puts(q->prof, "]");
        }
        cur = next;
        if (c->k == C_RETURN)
            *returned = true;
        if (c->k == C_CALL && !c->body && i + 1 == s->n) {
            /* a CALL that ends the query returns its yielded columns only */
            size_t skip = cur.ncols - c->nitems;
            cur.names += skip;
            cur.ncols = c->nitems;
            for (size_t r = 0; r < cur.n; r++)
                cur.rows[r] += skip;
            *returned = true;
        }
        if (cy_check_time(q))
            return -1;
    }
    *result = cur;
    return 0;
}

/* Runs one single query from one empty row. */
static int run_single(cy_q *q, const cy_single *s, cy_rows *result, bool *returned)
{
    cy_rows cur = {0};
    cy_value *empty = cy_alloc(&q->arena, sizeof *empty);
    if (cy_rows_add(q, &cur, empty))
        return -1;
    return run_clauses(q, s, cur, result, returned);
}

/* See cypher_int.h. The subquery starts from one row holding every variable
 * of env (the innermost binding of a name wins); it keeps the enclosing
 * projection's aggregate values and stays out of PROFILE's steps. */
int cy_run_subquery(cy_q *q, const cy_single *s, const cy_env *env, int64_t *rows)
{
    size_t n = 0;
    for (const cy_env *e = env; e; e = e->up)
        n += e->n;
    cy_rows cur = {.names = cy_alloc(&q->arena, (n ? n : 1) * sizeof *cur.names)};
    cy_value *row = cy_alloc(&q->arena, (n ? n : 1) * sizeof *row);
    for (const cy_env *e = env; e; e = e->up)
        for (size_t i = 0; i < e->n; i++) {
            size_t j;
            for (j = 0; j < cur.ncols && strcmp(cur.names[j], e->names[i]) != 0; j++)
                ;
            if (j < cur.ncols)
                continue;
            cur.names[cur.ncols] = e->names[i];
            row[cur.ncols++] = e->vals[i];
        }
    const cy_value *aggs = q->agg_results;
    cy_buf *prof = q->prof;
    q->prof = NULL;
    cy_rows result;
    bool returned;
    int rc = cy_rows_add(q, &cur, row) ? -1 : run_clauses(q, s, cur, &result, &returned);
    q->agg_results = aggs;
    q->prof = prof;
    *rows = rc == 0 ? (int64_t)result.n : 0;
    return rc;
}

/* Runs every part; UNION removes duplicate rows, UNION ALL keeps them. */
int cy_run_query(cy_q *q, cy_query *qu, cy_rows *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < qu->n; i++) {
        cy_rows part;
        bool returned;
        if (run_single(q, &qu->parts[i], &part, &returned))
            return -1;
        if (!returned) {
            part.n = 0;
            part.ncols = 0;
        }
        if (i == 0) {
            out->names = part.names;
            out->ncols = part.ncols;
        }
        for (size_t r = 0; r < part.n; r++)
            if (cy_rows_add(q, out, part.rows[r]))
                return -1;
    }
    if (qu->n > 1 && !qu->union_all) {
        /* DISTINCT over the union, first occurrence kept (hashed: linear in rows) */
        cy_hset seen = {0};
        size_t w = 0;
        for (size_t r = 0; r < out->n; r++)
            if (cy_hset_row_fresh(q, &seen, out->rows[r], out->ncols))
                out->rows[w++] = out->rows[r];
        cy_hset_free(&seen);
        out->n = w;
    }
    return 0;
}
