/* graph/cypher_parse.c - the clause-level parser: a query is [EXPLAIN|PROFILE]
 * single queries joined by UNION [ALL]; a single query is a list of clauses. */
#include "cypher_int.h"

#include <string.h>
#include <strings.h>

#define CUR(p) (&(p)->t[(p)->i])
#define PEEK(p, k) (&(p)->t[(p)->i + (k) < (p)->n ? (p)->i + (k) : (p)->n - 1])

/* Consumes keyword k (case-insensitive) if it is next. */
static bool kw(cy_parser *p, const char *k)
{
    if (cy_tok_is_kw(CUR(p), k)) {
        p->i++;
        return true;
    }
    return false;
}

/* Consumes a token of kind k if it is next. */
static bool tok(cy_parser *p, cy_tok_kind k)
{
    if (CUR(p)->k == k) {
        p->i++;
        return true;
    }
    return false;
}

/* Arena array growth for clause-level lists. */
static void *grow(cy_q *q, void *old, size_t n, size_t size)
{
    void *v = cy_alloc(&q->arena, (n + 1) * size);
    if (n)
        cy_memcpy(v, old, n * size);
    return v;
}

/* Comma-separated pattern parts. */
static int parse_pattern(cy_parser *p, cy_pattern *pat)
{
    memset(pat, 0, sizeof *pat);
    do {
        pat->parts = grow(p->q, pat->parts, pat->n, sizeof *pat->parts);
        if (cy_parse_pattern_part(p, &pat->parts[pat->n], true))
            return -1;
        pat->n++;
    } while (tok(p, T_COMMA));
    return 0;
}

/* [DISTINCT] items [ORDER BY ...] [SKIP e] [LIMIT e] */
static int parse_projection(cy_parser *p, cy_clause *c)
{
    c->distinct = kw(p, "DISTINCT");
    if (tok(p, T_STAR)) {
        c->star = true;
        if (!tok(p, T_COMMA))
            goto tail;
    }
    do {
        int start = CUR(p)->pos;
        cy_expr *e = cy_parse_expr(p);
        if (!e)
            return -1;
        int end = p->t[p->i - 1].end;
        c->items = grow(p->q, c->items, c->nitems, sizeof *c->items);
        cy_item *it = &c->items[c->nitems++];
        it->e = e;
        if (kw(p, "AS")) {
            if (!(it->alias = cy_parse_name(p)))
                return cy_syntax(p, "expected a name after AS");
            it->aliased = true;
        } else {
            /* the column is the item's text as written, outer parentheses included: `(n:Foo)` */
            it->alias = e->k == E_VAR ? e->name : cy_strndup(&p->q->arena, p->q->text + start, (size_t)(end - start));
        }
    } while (tok(p, T_COMMA));
tail:
    if (cy_tok_is_kw(CUR(p), "ORDER")) {
        p->i++;
        if (!kw(p, "BY"))
            return cy_syntax(p, "expected BY");
        do {
            cy_expr *e = cy_parse_expr(p);
            if (!e)
                return -1;
            c->sorts = grow(p->q, c->sorts, c->nsorts, sizeof *c->sorts);
            c->sorts[c->nsorts].e = e;
            if (kw(p, "DESC") || kw(p, "DESCENDING"))
                c->sorts[c->nsorts].desc = true;
            else if (!kw(p, "ASC"))
                kw(p, "ASCENDING");
            c->nsorts++;
        } while (tok(p, T_COMMA));
    }
    if (kw(p, "SKIP") && !(c->skip = cy_parse_expr(p)))
        return -1;
    if (kw(p, "LIMIT") && !(c->limit = cy_parse_expr(p)))
        return -1;
    return 0;
}

/* A SET/REMOVE target: name(.key)* */
static cy_expr *parse_target(cy_parser *p)
{
    int pos = CUR(p)->pos;
    cy_expr *e;
    if (tok(p, T_LPAREN)) {
        e = cy_parse_expr(p);
        if (!e || !tok(p, T_RPAREN)) {
            if (e)
                cy_syntax(p, "expected ')'");
            return NULL;
        }
    } else {
        const char *n = cy_parse_name(p);
        if (!n) {
            cy_syntax(p, "expected a variable");
            return NULL;
        }
        e = cy_expr_new(p, E_VAR, pos);
        e->name = n;
        e->end = p->t[p->i - 1].end;
    }
    while (CUR(p)->k == T_DOT) {
        p->i++;
        cy_expr *x = cy_expr_new(p, E_PROP, pos);
        x->a = e;
        if (!(x->name = cy_parse_name(p))) {
            cy_syntax(p, "expected a property key");
            return NULL;
        }
        x->end = p->t[p->i - 1].end;
        e = x;
    }
    return e;
}

/* :A:B of a SET/REMOVE item. */
static int parse_labels(cy_parser *p, cy_set_item *it)
{
    const char *labels[64];
    while (it->nlabels < 64 && tok(p, T_COLON))
        if (!(labels[it->nlabels++] = cy_parse_name(p)))
            return cy_syntax(p, "expected a label name");
    it->labels = cy_alloc(&p->q->arena, it->nlabels * sizeof *it->labels);
    cy_memcpy(it->labels, labels, it->nlabels * sizeof *labels);
    return 0;
}

/* Items of SET, REMOVE, ON CREATE SET, ON MATCH SET. */
static int parse_set_items(cy_parser *p, bool remove, cy_set_item **items, size_t *n)
{
    do {
        *items = grow(p->q, *items, *n, sizeof **items);
        cy_set_item *it = &(*items)[*n];
        it->pos = CUR(p)->pos;
        if (!(it->target = parse_target(p)))
            return -1;
        if (CUR(p)->k == T_COLON) {
            it->k = remove ? RI_LABELS : SI_LABELS;
            if (parse_labels(p, it))
                return -1;
        } else if (remove) {
            if (it->target->k != E_PROP)
                return cy_syntax(p, "expected a property or labels to remove");
            it->k = RI_PROP;
        } else {
            if (tok(p, T_EQ))
                it->k = it->target->k == E_PROP ? SI_PROP : SI_REPLACE;
            else if (tok(p, T_PLUSEQ)) {
                it->k = SI_MERGE;
                if (it->target->k == E_PROP)
                    return cy_syntax(p, "'+=' needs a variable on the left");
            } else
                return cy_syntax(p, "expected '=', '+=' or a label");
            if (!(it->value = cy_parse_expr(p)))
                return -1;
        }
        (*n)++;
    } while (tok(p, T_COMMA));
    return 0;
}

static int parse_clause(cy_parser *p, cy_clause *c);
static bool at_clause_end(cy_parser *p);

/* See cypher_int.h. */
int cy_refuse_update(cy_parser *p)
{
    static const char *const updating[] = {"CREATE", "MERGE", "SET", "REMOVE", "DELETE", "DETACH", "FOREACH"};
    for (size_t i = 0; i < sizeof updating / sizeof updating[0]; i++)
        if (cy_tok_is_kw(CUR(p), updating[i]))
            return cy_fail(p->q, CUR(p)->pos, "SyntaxError", "InvalidClauseComposition",
                           "an EXISTS { } or COUNT { } subquery cannot update the graph (%s)", updating[i]);
    return 0;
}

/* What a body of clauses may hold: anything (CALL { }), only reads (EXISTS,
 * COUNT: a predicate never writes), only updates (FOREACH, as in Neo4j). */
typedef enum { BODY_ANY, BODY_READS, BODY_UPDATES } body_kind;

/* The clauses of a subquery or FOREACH body, up to `close` (not consumed).
 * BODY_READS refuses an updating clause by its keyword, before parsing it, as
 * the TCK expects (InvalidClauseComposition), and a CALL { } that writes. */
static int parse_body(cy_parser *p, cy_single *s, cy_tok_kind close, body_kind kind)
{
    memset(s, 0, sizeof *s);
    do {
        int pos = CUR(p)->pos;
        if (kind == BODY_READS && cy_refuse_update(p))
            return -1;
        s->cl = grow(p->q, s->cl, s->n, sizeof *s->cl);
        if (parse_clause(p, &s->cl[s->n]))
            return -1;
        const cy_clause *c = &s->cl[s->n];
        if (kind == BODY_READS && c->k == C_CALL && c->body && cy_single_writes(c->body))
            return cy_fail(p->q, pos, "SyntaxError", "InvalidClauseComposition",
                           "an EXISTS { } or COUNT { } subquery cannot update the graph (CALL { } that writes)");
        if (kind == BODY_UPDATES && c->k < C_CREATE)
            return cy_fail(p->q, pos, "SyntaxError", "InvalidClauseComposition",
                           "FOREACH may only contain updating clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH)");
        s->n++;
    } while (CUR(p)->k != close && !at_clause_end(p));
    return 0;
}

/* c->body: parse_body, then the closing token, or the syntax error `missing`. */
static int parse_closed_body(cy_parser *p, cy_clause *c, cy_tok_kind close, body_kind kind, const char *missing)
{
    cy_single *body = cy_alloc(&p->q->arena, sizeof *body);
    if (parse_body(p, body, close, kind))
        return -1;
    if (!tok(p, close))
        return cy_syntax(p, "%s", missing);
    c->body = body;
    return 0;
}

/* FOREACH (var IN list | clause ...): the body's clauses must all update the
 * graph (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH), as in Neo4j. */
static int parse_foreach(cy_parser *p, cy_clause *c)
{
    if (!tok(p, T_LPAREN))
        return cy_syntax(p, "expected '(' after FOREACH");
    if (!(c->var = cy_parse_name(p)))
        return cy_syntax(p, "expected a variable name");
    if (!kw(p, "IN"))
        return cy_syntax(p, "expected IN");
    if (!(c->expr = cy_parse_expr(p)))
        return -1;
    if (!tok(p, T_PIPE))
        return cy_syntax(p, "expected '|' before the clauses of FOREACH");
    return parse_closed_body(p, c, T_RPAREN, BODY_UPDATES, "expected ')' closing FOREACH");
}

static int parse_projection(cy_parser *p, cy_clause *c);

/* CALL [(variables | * | )] { clauses }: a subquery run once per row (after
 * CALL). Neo4j 5's scope clause `(a, b)` imports those variables (`*`: all,
 * `()`: none); it is kept as the importing WITH it means, first in the body. */
static int parse_call_subquery(cy_parser *p, cy_clause *c)
{
    cy_clause scope = {.k = C_WITH, .pos = CUR(p)->pos};
    bool scoped = tok(p, T_LPAREN), importing = false;
    if (scoped && !tok(p, T_RPAREN)) {
        if (parse_projection(p, &scope))
            return -1;
        for (size_t i = 0; i < scope.nitems; i++)
            if (scope.items[i].e->k != E_VAR || scope.items[i].aliased)
                return cy_fail(p->q, scope.items[i].e->pos, "SyntaxError", "InvalidArgumentType",
                               "the scope of CALL ( ... ) { } lists variables (or *)");
        if (!tok(p, T_RPAREN))
            return cy_syntax(p, "expected ')' closing the variables of CALL ( ... )");
        importing = true;
    }
    if (!tok(p, T_LBRACE))
        return cy_syntax(p, "expected '{' after CALL ( ... )");
    if (parse_closed_body(p, c, T_RBRACE, BODY_ANY, "expected '}' closing CALL { ... } (no UNION inside)"))
        return -1;
    if (importing) {   /* the scope's WITH goes first */
        cy_single *b = c->body;
        cy_clause *cl = cy_alloc(&p->q->arena, (b->n + 1) * sizeof *cl);
        cl[0] = scope;
        cy_memcpy(cl + 1, b->cl, b->n * sizeof *cl);
        b->cl = cl;
        b->n++;
    } else {
        c->no_import = scoped;
    }
    return 0;
}

/* One clause, by its leading keyword. */
static int parse_clause(cy_parser *p, cy_clause *c)
{
    memset(c, 0, sizeof *c);
    c->pos = CUR(p)->pos;
    if (kw(p, "OPTIONAL")) {
        if (!cy_tok_is_kw(CUR(p), "MATCH"))
            return cy_syntax(p, "expected MATCH after OPTIONAL");
        c->optional = true;
    }
    if (kw(p, "MATCH")) {
        c->k = C_MATCH;
        if (parse_pattern(p, &c->pat))
            return -1;
        if (kw(p, "WHERE") && !(c->where = cy_parse_expr(p)))
            return -1;
        return 0;
    }
    if (kw(p, "CALL")) {
        c->k = C_CALL;
        return CUR(p)->k == T_LBRACE || CUR(p)->k == T_LPAREN ? parse_call_subquery(p, c) : cy_parse_call(p, c);
    }
    if (kw(p, "UNWIND")) {
        c->k = C_UNWIND;
        if (!(c->expr = cy_parse_expr(p)))
            return -1;
        if (!kw(p, "AS"))
            return cy_syntax(p, "expected AS");
        if (!(c->var = cy_parse_name(p)))
            return cy_syntax(p, "expected a variable name");
        return 0;
    }
    if (kw(p, "WITH")) {
        c->k = C_WITH;
        if (parse_projection(p, c))
            return -1;
        if (kw(p, "WHERE") && !(c->where = cy_parse_expr(p)))
            return -1;
        return 0;
    }
    if (kw(p, "RETURN")) {
        c->k = C_RETURN;
        return parse_projection(p, c);
    }
    if (kw(p, "CREATE")) {
        c->k = C_CREATE;
        return parse_pattern(p, &c->pat);
    }
    if (kw(p, "MERGE")) {
        c->k = C_MERGE;
        c->pat.n = 1;
        c->pat.parts = cy_alloc(&p->q->arena, sizeof *c->pat.parts);
        if (cy_parse_pattern_part(p, c->pat.parts, true))
            return -1;
        while (cy_tok_is_kw(CUR(p), "ON")) {
            p->i++;
            bool create = kw(p, "CREATE");
            if (!create && !kw(p, "MATCH"))
                return cy_syntax(p, "expected CREATE or MATCH after ON");
            if (!kw(p, "SET"))
                return cy_syntax(p, "expected SET");
            if (parse_set_items(p, false, create ? &c->on_create : &c->on_match,
                                create ? &c->non_create : &c->non_match))
                return -1;
        }
        return 0;
    }
    if (kw(p, "SET")) {
        c->k = C_SET;
        return parse_set_items(p, false, &c->sets, &c->nsets);
    }
    if (kw(p, "REMOVE")) {
        c->k = C_REMOVE;
        return parse_set_items(p, true, &c->sets, &c->nsets);
    }
    if (kw(p, "FOREACH")) {
        c->k = C_FOREACH;
        return parse_foreach(p, c);
    }
    if (cy_tok_is_kw(CUR(p), "DETACH") || cy_tok_is_kw(CUR(p), "DELETE")) {
        c->detach = kw(p, "DETACH");
        if (!kw(p, "DELETE"))
            return cy_syntax(p, "expected DELETE");
        c->k = C_DELETE;
        do {
            cy_expr *e = cy_parse_expr(p);
            if (!e)
                return -1;
            c->exprs = grow(p->q, c->exprs, c->nexprs, sizeof *c->exprs);
            c->exprs[c->nexprs++] = e;
        } while (tok(p, T_COMMA));
        return 0;
    }
    return cy_syntax(p, "expected a clause (MATCH, RETURN, CREATE, ...)");
}

/* Does a single query end here? */
static bool at_clause_end(cy_parser *p)
{
    return CUR(p)->k == T_EOF || CUR(p)->k == T_SEMI || cy_tok_is_kw(CUR(p), "UNION");
}

/* The clauses of one single query. */
static int parse_single(cy_parser *p, cy_single *s)
{
    memset(s, 0, sizeof *s);
    do {
        s->cl = grow(p->q, s->cl, s->n, sizeof *s->cl);
        if (parse_clause(p, &s->cl[s->n]))
            return -1;
        s->n++;
    } while (!at_clause_end(p));
    return 0;
}

/* See cypher_int.h. */
bool cy_single_writes(const cy_single *s)
{
    for (size_t j = 0; j < s->n; j++)
        if (s->cl[j].k >= C_CREATE || (s->cl[j].k == C_CALL && s->cl[j].body && cy_single_writes(s->cl[j].body)))
            return true;
    return false;
}

/* See cypher_int.h. */
int cy_parse_subquery(cy_parser *p, cy_single *s)
{
    return parse_body(p, s, T_RBRACE, BODY_READS);
}

/* Whole query; trailing ';' allowed. */
int cy_parse(cy_q *q, const cy_tok *toks, size_t ntoks, cy_query **out)
{
    cy_parser p = {.q = q, .t = toks, .n = ntoks};
    cy_query *qu = cy_alloc(&q->arena, sizeof *qu);
    if (kw(&p, "EXPLAIN"))
        qu->explain = 1;
    else if (kw(&p, "PROFILE"))
        qu->explain = 2;
    if (CUR(&p)->k == T_EOF)
        return cy_syntax(&p, "empty query");
    bool seen_union = false;
    for (;;) {
        qu->parts = grow(q, qu->parts, qu->n, sizeof *qu->parts);
        if (parse_single(&p, &qu->parts[qu->n]))
            return -1;
        qu->n++;
        if (!cy_tok_is_kw(CUR(&p), "UNION"))
            break;
        int upos = CUR(&p)->pos;
        p.i++;
        bool all = kw(&p, "ALL");
        if (seen_union && all != qu->union_all)
            return cy_fail(q, upos, "SyntaxError", "InvalidClauseComposition", "cannot mix UNION and UNION ALL");
        seen_union = true;
        qu->union_all = all;
    }
    while (tok(&p, T_SEMI))
        ;
    if (CUR(&p)->k != T_EOF)
        return cy_syntax(&p, "unexpected text after the query");
    *out = qu;
    return 0;
}
