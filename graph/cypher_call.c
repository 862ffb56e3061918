/* graph/cypher_call.c - CALL of the built-in procedures: what the graph holds,
 * as rows, so clients (and `dsctl query`) can discover labels, relationship
 * types and property keys without knowing the schema tables.
 *
 *   CALL db.labels()                -> label             (distinct, sorted)
 *   CALL db.relationshipTypes()     -> relationshipType
 *   CALL db.propertyKeys()          -> propertyKey       (of nodes and relationships)
 *
 * A procedure is one SQL statement over the store's tables returning one text
 * column; adding one is one entry in `procs`. */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ST_CALL = CY_ST_FIRST_FREE + 11 };
_Static_assert(ST_CALL < CY_ST_SLOTS, "CY_ST_SLOTS too small");

typedef struct proc {
    const char *name;
    const char *field;        /* the one output field */
    const char *sql;
} proc;

static const proc procs[] = {
    {"db.labels", "label", "SELECT DISTINCT label FROM node_labels ORDER BY label"},
    {"db.relationshipTypes", "relationshipType", "SELECT DISTINCT type FROM rels ORDER BY type"},
    {"db.propertyKeys", "propertyKey",
     "SELECT key FROM nodes, json_each(nodes.props) UNION SELECT key FROM rels, json_each(rels.props) ORDER BY 1"},
};

/* The procedure called name (names are case-sensitive, as in Neo4j), or NULL. */
static const proc *find_proc(const char *name)
{
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (strcmp(procs[i].name, name) == 0)
            return &procs[i];
    return NULL;
}

/* CALL ns.name [( args )] [YIELD field [AS var], ... [WHERE pred]] (after CALL). */
int cy_parse_call(cy_parser *p, cy_clause *c)
{
    cy_buf name = {0};
    do {
        const char *part = cy_parse_name(p);
        if (!part) {
            free(name.p);
            return cy_syntax(p, "expected a procedure name");
        }
        cy_buf_printf(&name, "%s%s", name.len ? "." : "", part);
    } while (p->t[p->i].k == T_DOT && ++p->i);
    c->var = cy_strndup(&p->q->arena, name.p, name.len);
    free(name.p);
    if (p->t[p->i].k == T_LPAREN) {
        p->i++;
        cy_expr *args[16];
        while (p->t[p->i].k != T_RPAREN) {
            if (c->nexprs == 16)
                return cy_syntax(p, "too many procedure arguments");
            if (!(args[c->nexprs++] = cy_parse_expr(p)))
                return -1;
            if (p->t[p->i].k != T_COMMA)
                break;
            p->i++;
        }
        if (p->t[p->i].k != T_RPAREN)
            return cy_syntax(p, "expected ')'");
        p->i++;
        c->exprs = cy_alloc(&p->q->arena, (c->nexprs ? c->nexprs : 1) * sizeof *c->exprs);
        cy_memcpy(c->exprs, args, c->nexprs * sizeof *args);
    }
    if (!cy_tok_is_kw(&p->t[p->i], "YIELD"))
        return 0;
    p->i++;
    cy_item items[16];
    do {
        if (c->nitems == 16)
            return cy_syntax(p, "too many YIELD items");
        cy_expr *e = cy_expr_new(p, E_VAR, p->t[p->i].pos);
        if (!(e->name = cy_parse_name(p)))
            return cy_syntax(p, "expected a procedure output name after YIELD");
        e->end = p->t[p->i - 1].end;
        items[c->nitems] = (cy_item){.e = e, .alias = e->name};
        if (cy_tok_is_kw(&p->t[p->i], "AS")) {
            p->i++;
            if (!(items[c->nitems].alias = cy_parse_name(p)))
                return cy_syntax(p, "expected a name after AS");
            items[c->nitems].aliased = true;
        }
        c->nitems++;
    } while (p->t[p->i].k == T_COMMA && ++p->i);
    c->items = cy_alloc(&p->q->arena, c->nitems * sizeof *c->items);
    cy_memcpy(c->items, items, c->nitems * sizeof *items);
    if (cy_tok_is_kw(&p->t[p->i], "WHERE")) {
        p->i++;
        if (!(c->where = cy_parse_expr(p)))
            return -1;
    }
    return 0;
}

/* See cypher_int.h. */
int cy_call_check(cy_q *q, cy_clause *c)
{
    const proc *pr = find_proc(c->var);
    if (!pr)
        return cy_fail(q, c->pos, "ProcedureError", "ProcedureNotFound",
                       "there is no procedure %s (built in: db.labels, db.relationshipTypes, db.propertyKeys)", c->var);
    if (c->nexprs != 0)
        return cy_fail(q, c->exprs[0]->pos, "SyntaxError", "InvalidNumberOfArguments",
                       "procedure %s takes no arguments", c->var);
    if (c->nitems == 0) {   /* no YIELD: every output field under its own name */
        cy_expr *e = cy_alloc(&q->arena, sizeof *e);
        e->k = E_VAR;
        e->pos = c->pos;
        e->name = pr->field;
        c->items = cy_alloc(&q->arena, sizeof *c->items);
        c->items[0] = (cy_item){.e = e, .alias = pr->field};
        c->nitems = 1;
        return 0;
    }
    for (size_t i = 0; i < c->nitems; i++)
        if (strcmp(c->items[i].e->name, pr->field) != 0)
            return cy_fail(q, c->items[i].e->pos, "SyntaxError", "UndefinedVariable",
                           "procedure %s has no output `%s` (it yields `%s`)", c->var, c->items[i].e->name, pr->field);
    return 0;
}

/* See cypher_int.h: every input row joined with every row of the procedure. */
int cy_run_call(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    const proc *pr = find_proc(c->var);
    const char **yielded = cy_alloc(&q->arena, c->nitems * sizeof *yielded);
    for (size_t i = 0; i < c->nitems; i++)
        yielded[i] = c->items[i].alias;
    cy_rows_extend(q, in, yielded, c->nitems, out);
    /* the procedure's rows, once: they do not depend on the input row */
    sqlite3_stmt *st = cy_stmt_sql(q, ST_CALL, pr->sql);
    if (!st)
        return -1;
    cy_rows res = {.ncols = 1};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cy_value *v = cy_alloc(&q->arena, sizeof *v);
        *v = cy_str(&q->arena, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (cy_rows_add(q, &res, v))
            return -1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return cy_rt(q, c->pos, "InternalError", "", "%s: %s", c->var, sqlite3_errmsg(graph_store_db(q->store)));
    for (size_t r = 0; r < in->n; r++)
        for (size_t k = 0; k < res.n; k++) {
            cy_value *row = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *row);
            cy_memcpy(row, in->rows[r], in->ncols * sizeof *row);
            for (size_t i = 0; i < c->nitems; i++)
                row[in->ncols + i] = res.rows[k][0];
            if (c->where) {
                cy_env env = {.names = out->names, .vals = row, .n = out->ncols};
                int t = cy_eval_pred(q, c->where, &env);
                if (t == -2)
                    return -1;
                if (t != 1)
                    continue;
            }
            if (cy_rows_add(q, out, row) || cy_check_time(q))
                return -1;
        }
    return 0;
}
